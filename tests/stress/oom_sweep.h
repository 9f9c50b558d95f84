/* The out-of-memory sweep's shared state: see oom_sweep.c. */
#ifndef DAL_TEST_OOM_SWEEP_H
#define DAL_TEST_OOM_SWEEP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <dal/dal.h>

#include "stress/oom_alloc.h"

#define OOM_MAX_ID (1 << 16)
/* No call of the scenario makes this many allocations: reaching it means a runaway loop. */
#define OOM_MAX_N 200000

extern const dal_model oom_users;
extern const dal_model oom_plain;

/* One row of oom_users as the database must hold it. */
typedef struct urow {
	bool present, deleted;
	char name[48];
	int64_t score;
	int64_t naudit;   /* its audit rows */
} urow;

/* Aggregates that change with any row of the tables, read with one query each. */
typedef struct fingerprint {
	int64_t users, live, id_sum, score_sum, name_len, audit, plain, plain_sum;
} fingerprint;

typedef struct figures {
	long calls, injections, enomem, engine_other, ok_after_failure, stood, doomed;
	long wrong_ok, half_written, wrong_code, poisoned, broken, leaks;
} figures;

typedef struct sweep {
	const char *engine;
	char url[1100];
	char dir[256];          /* temporary folder of file engines */
	char admin_url[1100];   /* PostgreSQL: the server's URL, to drop the sweep's database */
	dal_config cfg;
	dal_db *db;
	dal_repo *users;        /* DAL_AUDIT | DAL_CACHE */
	dal_repo *plain;        /* no audit: single statements in autocommit */
	long stride;            /* fail-once at every stride-th n */
	long always_stride;     /* fail-always at every always_stride-th n (1: every n) */
	bool check_chain;       /* dal_audit_verify after every call */

	/* The mirror. */
	urow rows[OOM_MAX_ID];
	int64_t max_id, audit_rows, plain_rows, plain_sum;

	/* The step running. */
	const char *step;
	int step_no;
	long n;
	oom_mode mode;
	bool need_prep;
	bool hit;               /* the call reached n */
	long longest;
	int64_t target;         /* the row the step works on; checked through the cache */
	int64_t seq;            /* for unique names */
	int printed;

	/* Outputs of the call, checked then freed. */
	dal_row *row;
	dal_rows *list;
	dal_result *res;
	dal_audit_logs *logs;
	char *text;
	int64_t ids[16];
	int64_t count;
	bool flag;
	dal_page page;
	dal_audit_report report;

	figures fig;
} sweep;

enum {
	STEP_NO_VERIFY = 1u << 0,   /* the tables may not exist yet */
	STEP_MAY_STAND = 1u << 1,   /* documented: an error may come after the whole effect was stored */
	STEP_PREP_ALWAYS = 1u << 2, /* run prep before every attempt, not only after a success */
	STEP_CHECK_ERROR = 1u << 3  /* an error may leave a documented part: check and apply it as after DAL_OK */
};

typedef struct step {
	const char *name;
	int (*prep)(sweep *s);            /* uninjected setup */
	int (*call)(sweep *s);            /* the public call, injected */
	void (*apply)(sweep *s);          /* the call's effect on the mirror */
	int (*check)(sweep *s);           /* after DAL_OK: are the outputs right? 0 if so */
	bool (*outputs_null)(sweep *s);   /* after an error: nothing handed out? */
	void (*cleanup)(sweep *s);        /* free the outputs */
	unsigned flags;
} step;

void oom_fail(sweep *s, long *figure, const char *fmt, ...);
void mirror_add(sweep *s, int64_t id, const char *name, int64_t score);
int oom_read_fingerprint(sweep *s, fingerprint *f);
int oom_compare(sweep *s, bool quiet);
void oom_resync(sweep *s);
void oom_run_step(sweep *s, const step *st);

/* oom_steps.c */
int oom_busy_db(sweep *s);
void oom_run_steps(sweep *s, const char **names, int cap);
void oom_run_late_steps(sweep *s);
int64_t oom_make_user(sweep *s, dal_repo *repo);
void oom_run_list(sweep *s, const step *list, size_t n);

/* oom_migrate.c */
void oom_run_migrate_steps(sweep *s);

/* oom_units.c */
void oom_run_units(sweep *s);

/* oom_sweep.c: the engine's database. */
int oom_setup_engine(sweep *s, const char *given_url);
void oom_reset_database(sweep *s);
void oom_cleanup_engine(sweep *s);

#endif
