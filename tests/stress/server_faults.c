/*
 * Server faults: four threads run units of work through dal_run_tx (each
 * inserts one row with a key of its own and reads it back), with a single
 * repository create and a health check now and then, while the PostgreSQL
 * server is restarted (-m immediate, then -m fast and left down 3 s) and
 * frozen (SIGSTOP to the postmaster and all its processes, 4 s, then SIGCONT;
 * a health check meanwhile must report unhealthy within its bound).
 * Afterwards:
 *
 *   lost          a call reported success and its row is missing
 *   duplicated    a key present more than once (the key is unique, as the docs
 *                 ask of a key that resolves DAL_ECOMMIT_UNKNOWN: this checks it)
 *   unreported    a row present whose call returned an error other than
 *                 DAL_ECOMMIT_UNKNOWN
 *   unclassified  an error that is not one of the codes documented for a
 *                 server fault: DAL_ECONN, DAL_ETIMEOUT, DAL_ECOMMIT_UNKNOWN
 *   over_bound    a call that took longer than its configured bound
 *
 * must all be 0. A DAL_ECOMMIT_UNKNOWN is resolved as docs/units-of-work.md
 * says: look the key up once the server answers; absent, run the call again
 * with the same key, where DAL_ECONSTRAINT means the first run committed after
 * all. That happens here: a frozen server holds the COMMIT unread in its socket,
 * and once thawed, the lookup on a new connection may run before the old
 * session reads it. The bound of each kind of call is computed from the
 * config as docs/operations.md states it; the longest call while the server
 * was frozen is printed beside its bound.
 *
 * The server is the test's own (a durable one: DAL_PG_DURABLE=1), so the tests
 * sharing the fixture's server are not disturbed.
 *
 *   server_faults <pg-test-server.sh> <server dir> [cycles, default 1]
 *
 * One cycle is about 25 s; `make stress` runs more.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#include "stress/pg_server.h"

#define THREADS 4
#define KEY_BASE 100000000LL
#define CREATE_EVERY 5        /* every 5th call of a thread is a single repository create */
#define HEALTH_EVERY 13       /* every 13th a health check */
#define RESOLVE_S 30          /* how long a DAL_ECOMMIT_UNKNOWN may take to resolve */
#define SLACK_MS 1000         /* scheduling on a loaded machine, on top of every bound */
#define MARGIN_MS 1000        /* the socket's wait past statement_timeout_ms (docs/engines.md) */
#define NCODES 64

/* The settings under test, and the bounds they give (docs/operations.md). */
#define STMT_MS 1000
#define CONNECT_S 2
#define POOL_WAIT_MS 2000
#define TX_ATTEMPTS 3

enum kind { UNIT, CREATE, HEALTH, NKINDS };
static const char *const kind_name[NKINDS] = { "dal_run_tx", "dal_repo_create", "dal_health_check" };

static pg_server server;
static atomic_int stop_work, finished;
static atomic_llong freeze_from, freeze_to;   /* monotonic us; freeze_to 0 while frozen */
static int64_t bound_ms[NKINDS];
static int cycles = 1;

static const dal_column item_cols[] = {
	DAL_COL_ID(), DAL_COL("k", DAL_TYPE_INT, DAL_NOT_NULL | DAL_UNIQUE, 0),
};
static const dal_model item_model = DAL_MODEL("fault_items", item_cols);

/* A thread's i-th call wrote key (thread + 1) * KEY_BASE + i: calls[i]. */
typedef struct call {
	int kind;
	int rc;      /* 0, or the DAL_E* it ended with after resolving */
	bool seen;   /* its key was found in its table */
} call;

typedef struct worker {
	dal_db *db;
	dal_repo *items;
	int id;
	call *calls;
	size_t ncalls, cap;
	int n[NKINDS], errors[NKINDS];
	int unknown, resolved_present, resolved_rerun, resolved_late, unresolved, unhealthy, unclassified, over_bound;
	int64_t longest_ms[NKINDS], longest_frozen_ms[NKINDS];
	int codes[NCODES];
	char last_unclassified[256];
} worker;

typedef struct unit {
	dal_db *db;
	int64_t key;
} unit;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * A checkout waits at most the pool wait, a ping and a connect window (attempts
 * stop once connect_timeout_s has passed since the first; the last may run its
 * whole timeout; backoff from 100 ms between). A statement waits its bound plus
 * the margin. A call fails at the first statement left unanswered; dal_run_tx
 * tries again (from a new checkout) only on DAL_ECONN, at most tx_max_attempts.
 */
static void compute_bounds(void)
{
	int64_t stmt = STMT_MS + MARGIN_MS, ping = STMT_MS < CONNECT_S * 1000 ? STMT_MS : CONNECT_S * 1000;
	int64_t connect = 2 * CONNECT_S * 1000 + 450, checkout = POOL_WAIT_MS + ping + connect;
	/* dal_run_tx's backoff before attempt n is at most 5 ms << (n - 2). */
	int64_t backoff = 5 + 10;

	bound_ms[CREATE] = checkout + stmt + SLACK_MS;
	bound_ms[HEALTH] = checkout + ping + stmt + SLACK_MS;
	bound_ms[UNIT] = TX_ATTEMPTS * (checkout + stmt) + backoff + SLACK_MS;
}

static int insert_unit(dal_uow *uow, void *payload)
{
	const unit *u = payload;
	dal_value p = dal_int(u->key);
	dal_result *res = NULL;
	int rc;

	(void)uow;
	if ((rc = dal_exec(NULL, u->db, "INSERT INTO fault_rows (k) VALUES (?)", &p, 1)) != 0)
		return rc;
	/* A second round trip in the unit, so faults also land between statements. */
	if ((rc = dal_query(&res, u->db, "SELECT COUNT(*) FROM fault_rows WHERE k = ?", &p, 1)) != 0)
		return rc;
	rc = dal_result_get(res, 0, 0)->v.i == 1 ? 0 : DAL_ERROR;
	dal_result_free(res);
	return rc;
}

/* Rows with this key in `table`, asked until the server answers or the deadline; negative: no answer. */
static int64_t lookup(dal_db *db, const char *table, int64_t key, int64_t deadline)
{
	char sql[96];
	dal_result *res = NULL;
	dal_value p = dal_int(key);
	int64_t n;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE k = ?", table);
	for (;;) {
		if ((rc = dal_query(&res, db, sql, &p, 1)) == 0) {
			n = dal_result_get(res, 0, 0)->v.i;
			dal_result_free(res);
			return n;
		}
		if (now_us() > deadline)
			return rc;
		sleep_ms(100);
	}
}

static bool fault_code(int rc)
{
	return rc == DAL_ECONN || rc == DAL_ETIMEOUT || rc == DAL_ECOMMIT_UNKNOWN;
}

/* One call's time against its bound, and against the freeze if it overlapped one. */
static void timed(worker *w, int kind, int64_t t0, int64_t t1)
{
	int64_t ms = (t1 - t0) / 1000, from = atomic_load(&freeze_from), to = atomic_load(&freeze_to);

	if (ms > w->longest_ms[kind])
		w->longest_ms[kind] = ms;
	if (from && t0 < (to ? to : t1) && t1 > from && ms > w->longest_frozen_ms[kind])
		w->longest_frozen_ms[kind] = ms;
	if (ms > bound_ms[kind]) {
		w->over_bound++;
		fprintf(stderr, "server_faults: thread %d: %s took %lld ms, bound %lld ms\n", w->id, kind_name[kind],
			(long long)ms, (long long)bound_ms[kind]);
	}
}

static void count_error(worker *w, int kind, int rc)
{
	w->errors[kind]++;
	w->codes[rc < 0 && -rc < NCODES ? -rc : 0]++;
	if (!fault_code(rc)) {
		w->unclassified++;
		snprintf(w->last_unclassified, sizeof(w->last_unclassified), "%s: %d %s", kind_name[kind], rc,
			dal_error_last()->message);
	}
}

static int once(worker *w, int kind, int64_t key)
{
	unit u = { w->db, key };
	dal_field f[1];
	int64_t t0 = now_us();
	int rc;

	if (kind == UNIT) {
		rc = dal_run_tx(w->db, NULL, insert_unit, &u);
	} else {
		f[0] = (dal_field)DAL_FIELD("k", dal_int(key));
		rc = dal_repo_create(NULL, w->items, f, 1);
	}
	timed(w, kind, t0, now_us());
	return rc;
}

/*
 * A write call. Once a run has ended in DAL_ECOMMIT_UNKNOWN, the call is run
 * again (same key) until its outcome is known: found by the lookup, committed
 * by the re-run, or refused by the unique key (the first run committed late).
 */
static int write_call(worker *w, int kind, int64_t key)
{
	const char *table = kind == UNIT ? "fault_rows" : "fault_items";
	int64_t deadline = now_us() + (int64_t)RESOLVE_S * 1000000, n;
	int rc;
	bool unknown = false;

	for (;;) {
		rc = once(w, kind, key);
		if (unknown && rc == DAL_ECONSTRAINT) {
			w->resolved_late++;
			return 0;
		}
		if (!unknown && rc != DAL_ECOMMIT_UNKNOWN)
			return rc;
		if (rc == 0)
			return 0;
		if (rc == DAL_ECOMMIT_UNKNOWN) {
			unknown = true;
			w->unknown++;
			if ((n = lookup(w->db, table, key, deadline)) > 0) {
				w->resolved_present++;
				return 0;
			}
		}
		if (now_us() > deadline) {
			w->unresolved++;
			return DAL_ECOMMIT_UNKNOWN;
		}
		w->resolved_rerun++;
		if (rc != DAL_ECOMMIT_UNKNOWN)
			sleep_ms(100);
	}
}

static void health(worker *w)
{
	dal_health h = DAL_HEALTH_INIT;
	int64_t t0 = now_us();
	int rc = dal_health_check(&h, w->db);

	timed(w, HEALTH, t0, now_us());
	w->n[HEALTH]++;
	if (rc != 0) {
		count_error(w, HEALTH, rc);
	} else if (!h.healthy) {
		w->unhealthy++;
		if (!fault_code(h.error_code))
			count_error(w, HEALTH, h.error_code);
	}
}

static int record(worker *w, int kind, int rc)
{
	if (w->ncalls == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		call *p = realloc(w->calls, cap * sizeof(*p));
		if (!p)
			return -1;
		w->calls = p;
		w->cap = cap;
	}
	w->calls[w->ncalls++] = (call){ kind, rc, false };
	return 0;
}

static void *work(void *arg)
{
	worker *w = arg;
	int64_t i;
	int rc, kind;

	for (i = 0; !atomic_load(&stop_work); i++) {
		if (i % HEALTH_EVERY == HEALTH_EVERY - 1) {
			health(w);
			if (record(w, HEALTH, 0) < 0)
				break;
			continue;
		}
		kind = i % CREATE_EVERY == CREATE_EVERY - 1 ? CREATE : UNIT;
		w->n[kind]++;
		rc = write_call(w, kind, (w->id + 1) * KEY_BASE + i);
		if (rc != 0)
			count_error(w, kind, rc);
		if (record(w, kind, rc) < 0)
			break;
		/* A server that refuses at once must not turn the loop into a spin. */
		if (rc != 0)
			sleep_ms(20);
	}
	return NULL;
}

/* A hung run must not leave its server frozen or running. */
static void *watchdog(void *arg)
{
	int64_t end = now_us() + (int64_t)(60 + 40 * cycles) * 1000000;

	(void)arg;
	while (!atomic_load(&finished)) {
		if (now_us() > end) {
			fprintf(stderr, "server_faults: not done in time: thawing and stopping the server\n");
			pg_server_thaw(&server);
			pg_server_run(&server, "stop", NULL);
			_exit(1);
		}
		sleep_ms(100);
	}
	return NULL;
}

static int exec_sql(dal_db *db, const char *sql)
{
	int rc = dal_exec(NULL, db, sql, NULL, 0);

	if (rc != 0)
		fprintf(stderr, "server_faults: %s: %s\n", sql, dal_error_last()->message);
	return rc;
}

static int restart(const char *mode, double *took)
{
	int64_t t0 = now_us();
	int rc = pg_server_run(&server, "restart", mode);

	*took = (double)(now_us() - t0) / 1e6;
	if (rc != 0)
		fprintf(stderr, "server_faults: restart -m %s failed\n", mode);
	return rc;
}

/* A health check while the server is frozen: an unhealthy report with a fault code, within its bound. */
static int frozen_health(dal_db *db)
{
	dal_health h = DAL_HEALTH_INIT;
	int64_t t0 = now_us(), ms;

	if (dal_health_check(&h, db) != 0)
		return -1;
	ms = (now_us() - t0) / 1000;
	printf("server_faults: health check while frozen: %lld ms (bound %lld ms), healthy=%d, %s: %s\n",
		(long long)ms, (long long)bound_ms[HEALTH], h.healthy, dal_strerror(h.error_code), h.error);
	return !h.healthy && fault_code(h.error_code) && ms <= bound_ms[HEALTH] ? 0 : -1;
}

static int freeze(dal_db *db, int ms, int *nprocs)
{
	int rc;

	atomic_store(&freeze_to, 0);
	atomic_store(&freeze_from, now_us());
	if ((*nprocs = pg_server_freeze(&server)) < 0)
		return -1;
	sleep_ms(500);
	rc = frozen_health(db);
	sleep_ms(ms - 500);
	pg_server_thaw(&server);
	atomic_store(&freeze_to, now_us());
	return rc;
}

/* One cycle of faults, with work running between them. */
static int fault_cycle(dal_db *db, int cycle)
{
	double t_imm, t_fast;
	int nprocs = 0;

	sleep_ms(2000);
	if (restart("immediate 0", &t_imm) != 0)
		return -1;
	sleep_ms(2000);
	if (restart("fast 3", &t_fast) != 0)
		return -1;
	sleep_ms(2000);
	if (freeze(db, 4000, &nprocs) != 0)
		return -1;
	sleep_ms(3000);
	printf("server_faults: cycle %d: restart -m immediate took %.2f s; -m fast + 3 s down %.2f s; "
		"froze %d processes for 4 s\n", cycle + 1, t_imm, t_fast, nprocs);
	return 0;
}

static int setup(dal_db **db, worker *w)
{
	const dal_model *models[1] = { &item_model };
	dal_config cfg = DAL_CONFIG_INIT;
	char url[1024];
	int i;

	cfg.statement_timeout_ms = STMT_MS;
	cfg.connect_timeout_s = CONNECT_S;
	cfg.pool_timeout_ms = POOL_WAIT_MS;
	cfg.tx_max_attempts = TX_ATTEMPTS;
	if (pg_server_url(&server, url, sizeof(url)) < 0)
		return -1;
	if (dal_open(db, url, &cfg) != 0) {
		fprintf(stderr, "server_faults: %s\n", dal_error_last()->message);
		return -1;
	}
	if (exec_sql(*db, "CREATE TABLE fault_rows (k BIGINT NOT NULL UNIQUE)") != 0 ||
	    dal_init_database(*db, models, 1, DAL_AUTO_MIGRATE) != 0)
		return -1;
	for (i = 0; i < THREADS; i++) {
		w[i].db = *db;
		w[i].id = i;
		if (dal_repo_open(&w[i].items, *db, &item_model, 0) != 0) {
			fprintf(stderr, "server_faults: %s\n", dal_error_last()->message);
			return -1;
		}
	}
	return 0;
}

/* Per key, rows present against what the call reported. */
typedef struct tally {
	int64_t lost, duplicated, unreported, strangers;
} tally;

static int check_table(dal_db *db, const char *table, int kind, worker *w, tally *t)
{
	char sql[96];
	dal_result *res = NULL;
	size_t r, i;
	int th;

	snprintf(sql, sizeof(sql), "SELECT k, COUNT(*) FROM %s GROUP BY k", table);
	if (dal_query(&res, db, sql, NULL, 0) != 0) {
		fprintf(stderr, "server_faults: %s\n", dal_error_last()->message);
		return -1;
	}
	for (r = 0; r < dal_result_rows(res); r++) {
		int64_t key = dal_result_get(res, r, 0)->v.i, n = dal_result_get(res, r, 1)->v.i;
		size_t idx = (size_t)(key % KEY_BASE);
		call *c;

		th = (int)(key / KEY_BASE) - 1;
		if (th < 0 || th >= THREADS || idx >= w[th].ncalls || w[th].calls[idx].kind != kind) {
			t->strangers++;
			continue;
		}
		c = &w[th].calls[idx];
		c->seen = true;
		t->duplicated += n > 1;
		if (c->rc != 0 && c->rc != DAL_ECOMMIT_UNKNOWN) {
			t->unreported++;
			fprintf(stderr, "server_faults: %s key %lld is in %s, but the call returned %s\n",
				kind_name[kind], (long long)key, table, dal_strerror(c->rc));
		}
	}
	dal_result_free(res);
	for (th = 0; th < THREADS; th++)
		for (i = 0; i < w[th].ncalls; i++)
			t->lost += w[th].calls[i].kind == kind && w[th].calls[i].rc == 0 && !w[th].calls[i].seen;
	return 0;
}

/* After the faults the same dal_db serves: a unit commits, the health check passes. */
static int serves_again(dal_db *db)
{
	dal_health h = DAL_HEALTH_INIT;
	unit u = { db, 1 };

	if (dal_run_tx(db, NULL, insert_unit, &u) != 0) {
		fprintf(stderr, "server_faults: a unit after the faults failed: %s\n", dal_error_last()->message);
		return -1;
	}
	if (dal_health_check(&h, db) != 0 || !h.healthy) {
		fprintf(stderr, "server_faults: unhealthy after the faults: %s\n", h.error);
		return -1;
	}
	return 0;
}

static void report_worker(const worker *w)
{
	int k;

	printf("server_faults: thread %d: units %d (errors %d), creates %d (errors %d), health checks %d "
		"(unhealthy %d); DAL_ECOMMIT_UNKNOWN %d: %d found committed, %d runs again (%d of them refused by "
		"the key: committed late), %d unresolved\n",
		w->id, w->n[UNIT], w->errors[UNIT], w->n[CREATE], w->errors[CREATE], w->n[HEALTH], w->unhealthy,
		w->unknown, w->resolved_present, w->resolved_rerun, w->resolved_late, w->unresolved);
	for (k = 0; k < NCODES; k++)
		if (w->codes[k])
			printf("server_faults:   %d x %s\n", w->codes[k], dal_strerror(-k));
	if (w->unclassified)
		printf("server_faults:   last unclassified error: %s\n", w->last_unclassified);
}

static int report(dal_db *db, worker *w)
{
	dal_metrics m = DAL_METRICS_INIT;
	tally t = { 0, 0, 0, 0 };
	int64_t longest[NKINDS] = { 0 }, frozen[NKINDS] = { 0 };
	int i, k, unclassified = 0, over = 0, ok = 0;

	if (check_table(db, "fault_rows", UNIT, w, &t) < 0 || check_table(db, "fault_items", CREATE, w, &t) < 0)
		return -1;
	t.strangers--;   /* serves_again()'s unit, key 1 */
	for (i = 0; i < THREADS; i++) {
		report_worker(&w[i]);
		unclassified += w[i].unclassified;
		over += w[i].over_bound;
		ok += w[i].n[UNIT] - w[i].errors[UNIT];
		for (k = 0; k < NKINDS; k++) {
			longest[k] = w[i].longest_ms[k] > longest[k] ? w[i].longest_ms[k] : longest[k];
			frozen[k] = w[i].longest_frozen_ms[k] > frozen[k] ? w[i].longest_frozen_ms[k] : frozen[k];
		}
	}
	for (k = 0; k < NKINDS; k++)
		printf("server_faults: %s: longest %lld ms, longest while frozen %lld ms, bound %lld ms\n",
			kind_name[k], (long long)longest[k], (long long)frozen[k], (long long)bound_ms[k]);
	if (dal_metrics_get(&m, db) == 0)
		printf("server_faults: pool: created %llu, broken %llu, closed %llu; dal_run_tx retries %llu\n",
			(unsigned long long)m.pool_created, (unsigned long long)m.pool_broken,
			(unsigned long long)m.pool_closed, (unsigned long long)m.retries);
	printf("server_faults: statement_timeout_ms=%d connect_timeout_s=%d: lost=%lld duplicated=%lld "
		"unreported=%lld unclassified=%d over_bound=%d longest_frozen_ms=%lld bound_ms=%lld "
		"(one statement's bound %d ms)\n", STMT_MS, CONNECT_S, (long long)t.lost, (long long)t.duplicated,
		(long long)(t.unreported + t.strangers), unclassified, over, (long long)frozen[UNIT],
		(long long)bound_ms[UNIT], STMT_MS + MARGIN_MS);
	if (t.lost || t.duplicated || t.unreported || t.strangers || unclassified || over)
		return -1;
	/* A run in which nothing committed, or the freeze touched no call, proves nothing. */
	if (ok < 100 || frozen[UNIT] == 0) {
		fprintf(stderr, "server_faults: %d units committed, longest frozen unit %lld ms: too little to judge\n",
			ok, (long long)frozen[UNIT]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	dal_db *db = NULL;
	worker w[THREADS];
	pthread_t t[THREADS], dog;
	int64_t t_all = now_us();
	int i, c, failed = 0, started = 0;

	if (argc < 3 || (argc > 3 && (cycles = atoi(argv[3])) < 1)) {
		fprintf(stderr, "usage: %s <pg-test-server.sh> <server dir> [cycles >= 1]\n", argv[0]);
		return 2;
	}
	server.script = argv[1];
	server.dir = argv[2];
	memset(w, 0, sizeof(w));
	compute_bounds();
	if (pg_server_run(&server, "start", NULL) != 0) {
		fprintf(stderr, "server_faults: cannot start a PostgreSQL server in %s\n", server.dir);
		return 1;
	}
	pthread_create(&dog, NULL, watchdog, NULL);
	if (setup(&db, w) != 0)
		goto fail;
	for (; started < THREADS; started++)
		pthread_create(&t[started], NULL, work, &w[started]);
	for (c = 0; c < cycles; c++)
		if (fault_cycle(db, c) != 0)
			goto fail;
	goto done;
fail:
	failed = 1;
done:
	atomic_store(&stop_work, 1);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	pg_server_thaw(&server);
	if (!failed && (serves_again(db) != 0 || report(db, w) != 0))
		failed = 1;
	for (i = 0; i < THREADS; i++) {
		dal_repo_close(w[i].items);
		free(w[i].calls);
	}
	dal_close(db);
	atomic_store(&finished, 1);
	pthread_join(dog, NULL);
	pg_server_run(&server, "stop", NULL);
	printf("server_faults: %s in %.1f s\n", failed ? "FAILED" : "passed", (double)(now_us() - t_all) / 1e6);
	return failed;
}
