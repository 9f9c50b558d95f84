/* Statement timing and counters: every statement passes here once. Internal. */
#ifndef DAL_METRICS_INTERNAL_H
#define DAL_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dal/config.h"
#include "dal/metrics.h"
#include "dal/value.h"

/* Fine buckets: the R10 series (1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8) from 1 us
 * to 100 s, then +Inf. The public histogram is the 1-2.5-5 subset. */
#define DAL__HIST_FINITE 81
#define DAL__HIST_N (DAL__HIST_FINITE + 1)
#define DAL__SLOW_RING DAL_METRICS_SLOW_MAX
/* Per-statement table: open addressing, at most half full; beyond that,
 * statements count under one "(other statements)" entry. */
#define DAL__STMT_SLOTS 512
#define DAL__STMT_KEYS 256

typedef struct dal__stmt_stat {
	uint64_t hash;      /* 0: free slot */
	char *sql;
	uint64_t count, errors, total_us;
	int64_t max_us;
} dal__stmt_stat;

typedef struct dal__slow_entry {
	char sql[DAL_METRICS_SQL_MAX];
	int64_t us;
	int64_t at_us;
} dal__slow_entry;

typedef struct dal_metrics_state {
	pthread_mutex_t mu;
	uint64_t queries;
	uint64_t errors;
	uint64_t slow;
	uint64_t total_us;
	uint64_t retries;      /* dal_run_tx attempts after the first */
	int64_t max_us;
	int64_t since_us;
	uint64_t hist[DAL__HIST_N];
	dal__slow_entry *slow_ring;   /* DAL__SLOW_RING entries */
	unsigned slow_next;           /* next to write; entries written = min(slow, ring) */
	unsigned slow_kept;
	dal__stmt_stat *stmts;        /* DAL__STMT_SLOTS */
	size_t nstmts;
	dal__stmt_stat other;
	int slow_us;
	bool echo;
	bool echo_params;
	bool enabled;
} dal_metrics_state;

int dal__metrics_init(dal_metrics_state *m, const dal_config *cfg);
void dal__metrics_dispose(dal_metrics_state *m);
/* The key of a statement's totals: a hash of its SQL text (never 0). */
uint64_t dal__metrics_hash(const char *sql);
/* Count one statement: its SQL (no parameter values), the hash of that text
 * (0: computed here), duration and outcome. */
void dal__metrics_record(dal_metrics_state *m, const char *sql, uint64_t hash, int64_t us, int error);
/* With echo and echo_params: log the values about to be bound, those flagged in
 * `redact` (NULL: none) as DAL__REDACTED. */
void dal__metrics_echo_params(dal_metrics_state *m, const dal_value *params, size_t n, const bool *redact);
/* Count one dal_run_tx retry. */
void dal__metrics_retry(dal_metrics_state *m);
/* Whether statements are timed at all (metrics or echo on). */
static inline bool dal__metrics_timed(const dal_metrics_state *m)
{
	return m->enabled || m->echo;
}

struct json_t;
struct dal_db;
/* The pool as health and metrics reports give it, `open` beside the configured
 * size (a jansson object, new reference). */
struct json_t *dal__pool_status_json(const dal_pool_status *p, int open);
/* Dump and free `o` (NULL: DAL_ENOMEM) into text owned by the caller. */
int dal__json_dump(char **out, struct json_t *o);

/* Bucket index of a duration (exposed for unit tests). */
int dal__metrics_bucket(int64_t us);
/* Upper bound of fine bucket i in microseconds (+Inf for the last). */
double dal__metrics_bound_us(int i);

#endif
