/*
 * The crash-consistency probe (crash_kill.c): what its writer child and its
 * checking parent share.
 *
 * The child writes through dal and tells the parent, on a pipe, what each
 * operation will change before it calls dal (an intent), and that it returned
 * success after (an acknowledgement). One line each:
 *
 *   I <op> <n>        an intent of n effects, one per line:
 *   C <key> <batch>   a row created (its batch is the op)
 *   U <key> <v>       a row's v set to this
 *   D <key>           a row soft-deleted
 *   A <op>            the op returned success
 *
 * An op touches each key at most once. Effects of a nested unit that rolls
 * back (or of any unit inside one) are not in the intent: the rows it creates
 * carry doomed = 1 and its updates set v past CK_MARK_V, so the parent sees
 * them if they survive.
 */
#ifndef CRASH_KILL_H
#define CRASH_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dal/dal.h>

/* Keys and ops of generation g (one child's life) are g * CK_GEN_SPAN + a sequence. */
#define CK_GEN_SPAN 1000000
/* v of a row updated in a unit that rolls back: never a value a surviving update writes. */
#define CK_MARK_V 1000000

extern const dal_model ck_model;

/* The writer: opens @p url, then writes until it is killed. Returns only on an
 * error (after printing it to stderr), with the exit status for the child. */
int ck_child_run(const char *url, int fd, uint64_t seed, int gen);

/* One effect of an intent. */
typedef struct ck_effect {
	char kind;       /* 'C', 'U' or 'D' */
	int64_t key;
	int64_t arg;     /* C: the batch; U: the new v */
} ck_effect;

/* What the acknowledged ops left in the database, by key. */
typedef struct ck_expect ck_expect;

ck_expect *ck_expect_new(void);
void ck_expect_free(ck_expect *e);
int ck_expect_apply(ck_expect *e, const ck_effect *eff, size_t n);

/* What one check after a kill found. */
typedef struct ck_figures {
	int64_t rows;            /* rows the acknowledged ops left */
	int64_t present;         /* of them, found as they must be */
	int64_t lost;            /* an acknowledged row or change not found */
	int64_t partial;         /* the op in flight half there, or rolled-back work there */
	int64_t duplicated;      /* a key stored twice */
	int64_t unexpected;      /* a row or change no op made */
	int64_t audit_rows;
	int64_t audit_missing;   /* a change present without its audit row */
	int64_t audit_orphans;   /* an audit row without its change */
	bool verify_ok;          /* dal_audit_verify() found the chain intact, every row walked */
	bool integrity_ok;       /* the engine's own check passed, every query answered */
	char why[512];           /* the first fault */
} ck_figures;

/* The op a writer had in flight at the kill (an intent without its acknowledgement). */
typedef struct ck_pending {
	const ck_effect *eff;
	size_t n;
	bool committed;          /* set by ck_check(): found all there */
} ck_pending;

/*
 * Compare the database with @p e, each op in flight all there or not at all;
 * one found committed joins @p e. Then the audit rows against the rows
 * present, dal_audit_verify() and the engine's integrity check.
 */
void ck_check(ck_figures *out, dal_db *db, ck_expect *e, ck_pending *pending, size_t npending);

/* xorshift64*: the same sequence for the same seed, so a failing run replays. */
static inline uint64_t ck_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Uniform in [lo, hi]. */
static inline int64_t ck_between(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(ck_rand(s) % (uint64_t)(hi - lo + 1));
}

#endif
