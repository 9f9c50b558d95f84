/*
 * Restart storm: two threads run units of work through dal_run_tx, each unit
 * inserting one row with a key of its own, while the PostgreSQL server is
 * restarted with pg_ctl -m fast, -m immediate (down 2 s) and -m fast again
 * (down 0.5 s). Afterwards
 * the same dal_db must serve again, and every unit must have committed exactly
 * once or returned an error:
 *
 *   lost         a unit reported success and its row is missing
 *   duplicated   a key present more than once (the table has no unique key,
 *                so a commit applied twice would show)
 *   unreported   a row present whose unit returned an error other than
 *                DAL_ECOMMIT_UNKNOWN
 *
 * A DAL_ECOMMIT_UNKNOWN is resolved as docs/uow.md tells applications to:
 * look the key up once the server answers; if the row is absent, run the unit
 * again with the same key. A unit that still fails (DAL_ECONN once dal_run_tx's
 * attempts are spent) is an error, counted, not a loss.
 *
 * The test runs a server of its own, so that the tests sharing the fixture's
 * server are not disturbed; scripts/pg-test-server.sh starts, restarts (same
 * port) and stops it:
 *
 *   restart_storm <pg-test-server.sh> <server dir> [units per thread, default 2000]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#include "stress/pg_server.h"

#define THREADS 2
#define RESTARTS 3
#define KEY_BASE 1000000
/* The whole run, restarts included, ends well before ctest's timeout. */
#define DEADLINE_S 150
/* How long one unit may spend resolving a DAL_ECOMMIT_UNKNOWN (lookups, re-runs). */
#define RESOLVE_S 20
#define NCODES 64

static pg_server server;   /* the server of its own (tests/stress/pg_server.c) */
static int per_thread = 2000;

static atomic_int units_done;            /* units ended, whatever the outcome */
static atomic_llong last_commit_us;      /* when a unit last committed (monotonic) */
static atomic_int finished;

static const char sql_insert[] = "INSERT INTO storm_rows (k) VALUES (?)";
static const char sql_lookup[] = "SELECT COUNT(*) FROM storm_rows WHERE k = ?";

typedef struct worker {
	dal_db *db;
	int id;
	int *outcome;            /* per unit: 0 committed, else the DAL_E* it ended with */
	int ok, errors, unknown, resolved_present, resolved_rerun, unresolved;
	int codes[NCODES];       /* final errors, by -code */
	char last_error[256];
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

static int insert_row(dal_uow *uow, void *payload)
{
	const unit *u = payload;
	dal_value p[1];

	(void)uow;
	p[0] = dal_int(u->key);
	/* dal_exec on a thread with an open unit of work runs in it. */
	return dal_exec(NULL, u->db, sql_insert, p, 1);
}

/* Rows with this key (0, 1, or more if a commit were applied twice), asked
 * until the server answers or the deadline passes; negative: no answer. */
static int64_t lookup(dal_db *db, int64_t key, int64_t deadline)
{
	dal_result *res = NULL;
	dal_value p[1];
	int64_t n;
	int rc;

	p[0] = dal_int(key);
	for (;;) {
		if ((rc = dal_query(&res, db, sql_lookup, p, 1)) == 0) {
			n = dal_result_get(res, 0, 0)->v.i;
			dal_result_free(res);
			return n;
		}
		if (now_us() > deadline)
			return rc;
		sleep_ms(50);
	}
}

static void *work(void *arg)
{
	worker *w = arg;
	unit u;
	int i, rc;

	u.db = w->db;
	for (i = 0; i < per_thread; i++) {
		int64_t deadline = now_us() + (int64_t)RESOLVE_S * 1000000;

		u.key = (int64_t)(w->id + 1) * KEY_BASE + i;
		for (;;) {
			int64_t n;

			if ((rc = dal_run_tx(w->db, NULL, insert_row, &u)) == 0) {
				w->ok++;
				atomic_store(&last_commit_us, now_us());
				break;
			}
			if (rc != DAL_ECOMMIT_UNKNOWN) {
				w->errors++;
				w->codes[-rc < NCODES && rc < 0 ? -rc : 0]++;
				snprintf(w->last_error, sizeof(w->last_error), "%s", dal_error_last()->message);
				break;
			}
			w->unknown++;
			if ((n = lookup(w->db, u.key, deadline)) > 0) {
				w->resolved_present++;
				rc = 0;
				break;
			}
			if (n < 0 || now_us() > deadline) {
				w->unresolved++;
				break;
			}
			/* Not committed: the unit runs again, with the same key. */
			w->resolved_rerun++;
		}
		w->outcome[i] = rc;
		atomic_fetch_add(&units_done, 1);
	}
	return NULL;
}

/* A hung storm must not leave its server behind. */
static void *watchdog(void *arg)
{
	int64_t end = now_us() + (int64_t)DEADLINE_S * 1000000;

	(void)arg;
	while (!atomic_load(&finished)) {
		if (now_us() > end) {
			fprintf(stderr, "restart_storm: not done after %d s (%d of %d units ended): stopping\n",
				DEADLINE_S, atomic_load(&units_done), THREADS * per_thread);
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
		fprintf(stderr, "restart_storm: %s: %s\n", sql, dal_error_last()->message);
	return rc;
}

/*
 * The test server runs with synchronous_commit off, which is a fair trade for
 * tests but not across an immediate shutdown: a commit acknowledged before the
 * WAL writer flushed it dies with the server's shared memory, and would show
 * here as "lost" although dal did nothing wrong. This server gets it on.
 */
static int durable_commits(dal_db *db)
{
	dal_result *res = NULL;
	int i;

	if (exec_sql(db, "ALTER SYSTEM SET synchronous_commit = on") != 0 ||
	    exec_sql(db, "SELECT pg_reload_conf()") != 0)
		return -1;
	/* The reload is asynchronous: wait until a session sees it. */
	for (i = 0; i < 100; i++) {
		bool on;

		if (dal_query(&res, db, "SHOW synchronous_commit", NULL, 0) != 0)
			return -1;
		on = strcmp(dal_result_get(res, 0, 0)->v.s, "on") == 0;
		dal_result_free(res);
		if (on)
			return 0;
		sleep_ms(20);
	}
	fprintf(stderr, "restart_storm: synchronous_commit did not turn on\n");
	return -1;
}

int main(int argc, char **argv)
{
	/* pg_ctl mode and seconds down: the 2 s outage outlasts dal_run_tx's attempts
	 * (connect retries included), so some units end in DAL_ECONN. */
	static const char *modes[RESTARTS] = { "fast 0", "immediate 2", "fast 0.5" };
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	dal_result *res = NULL;
	dal_metrics m = DAL_METRICS_INIT;
	dal_health h = DAL_HEALTH_INIT;
	worker w[THREADS];
	pthread_t t[THREADS], dog;
	char url[1024];
	double restart_s[RESTARTS] = { 0 }, back_s[RESTARTS] = { 0 };
	int64_t t0, t_all, *counts = NULL;
	int64_t lost = 0, duplicated = 0, unreported = 0, strangers = 0, after_last = 0;
	int i, k, rc, failed = 0, total, started = 0;
	unit probe;
	size_t r;

	if (argc < 3 || (argc > 3 && (per_thread = atoi(argv[3])) < 100)) {
		fprintf(stderr, "usage: %s <pg-test-server.sh> <server dir> [units per thread >= 100]\n", argv[0]);
		return 2;
	}
	server.script = argv[1];
	server.dir = argv[2];
	total = THREADS * per_thread;
	memset(w, 0, sizeof(w));

	t_all = now_us();
	if (pg_server_run(&server, "start", NULL) != 0) {
		fprintf(stderr, "restart_storm: cannot start a PostgreSQL server in %s\n", server.dir);
		return 1;
	}
	pthread_create(&dog, NULL, watchdog, NULL);
	if (pg_server_url(&server, url, sizeof(url)) < 0)
		goto fail;
	if (dal_open(&db, url, &cfg) != 0) {
		fprintf(stderr, "restart_storm: %s\n", dal_error_last()->message);
		goto fail;
	}
	if (durable_commits(db) != 0 || exec_sql(db, "CREATE TABLE storm_rows (k BIGINT NOT NULL)") != 0)
		goto fail;

	t0 = now_us();
	for (i = 0; i < THREADS; i++) {
		w[i].db = db;
		w[i].id = i;
		if (!(w[i].outcome = calloc((size_t)per_thread, sizeof(int))))
			goto fail;
	}
	for (i = 0; i < THREADS; i++, started++)
		pthread_create(&t[i], NULL, work, &w[i]);

	/* Restarts at a quarter, half and three quarters of the work: units are in flight each time. */
	for (k = 0; k < RESTARTS; k++) {
		int64_t a, b;

		while (atomic_load(&units_done) < total * (k + 1) / (RESTARTS + 1))
			sleep_ms(1);
		if (atomic_load(&units_done) >= total) {
			fprintf(stderr, "restart_storm: the work ended before restart %d\n", k + 1);
			failed = 1;
			break;
		}
		a = now_us();
		rc = pg_server_run(&server, "restart", modes[k]);
		b = now_us();
		restart_s[k] = (double)(b - a) / 1e6;
		if (rc != 0) {
			fprintf(stderr, "restart_storm: restart %d (-m %s s) failed\n", k + 1, modes[k]);
			goto fail;
		}
		/* Serving again: a unit commits after the server is back. */
		while (atomic_load(&last_commit_us) < b && atomic_load(&units_done) < total && now_us() - b < 30000000)
			sleep_ms(1);
		back_s[k] = atomic_load(&last_commit_us) >= b ? (double)(atomic_load(&last_commit_us) - b) / 1e6 : -1;
		if (k == RESTARTS - 1)
			after_last = atomic_load(&units_done);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	started = 0;
	printf("restart_storm: %d units in %.2f s; restarts (-m fast, immediate + 2 s down, fast + 0.5 s down) "
		"took %.2f, %.2f, %.2f s; first commit after each %.3f, %.3f, %.3f s later\n",
		total, (double)(now_us() - t0) / 1e6, restart_s[0], restart_s[1], restart_s[2],
		back_s[0], back_s[1], back_s[2]);

	/* The same dal_db serves again: a new unit commits, the health check passes. */
	probe.db = db;
	probe.key = 1;
	if ((rc = dal_run_tx(db, NULL, insert_row, &probe)) != 0) {
		fprintf(stderr, "restart_storm: a unit after the storm failed: %s\n", dal_error_last()->message);
		failed = 1;
	}
	if (dal_health_check(&h, db) != 0 || !h.healthy) {
		fprintf(stderr, "restart_storm: unhealthy after the storm: %s\n", h.error);
		failed = 1;
	}

	/* Every key's row count, against what its unit reported. */
	if (!(counts = calloc((size_t)total, sizeof(*counts))))
		goto fail;
	if (dal_query(&res, db, "SELECT k, COUNT(*) FROM storm_rows GROUP BY k", NULL, 0) != 0) {
		fprintf(stderr, "restart_storm: %s\n", dal_error_last()->message);
		goto fail;
	}
	for (r = 0; r < dal_result_rows(res); r++) {
		int64_t key = dal_result_get(res, r, 0)->v.i, n = dal_result_get(res, r, 1)->v.i;
		int64_t th = key / KEY_BASE - 1, idx = key % KEY_BASE;

		if (key == probe.key)
			continue;
		if (th < 0 || th >= THREADS || idx >= per_thread) {
			strangers++;
			continue;
		}
		counts[th * per_thread + idx] = n;
	}
	dal_result_free(res);
	for (i = 0; i < THREADS; i++)
		for (k = 0; k < per_thread; k++) {
			int64_t n = counts[i * per_thread + k];
			int out = w[i].outcome[k];

			if (n > 1)
				duplicated++;
			if (out == 0 && n == 0)
				lost++;
			else if (out != 0 && out != DAL_ECOMMIT_UNKNOWN && n > 0)
				unreported++;
		}
	unreported += strangers;

	for (i = 0; i < THREADS; i++) {
		printf("restart_storm: thread %d: committed %d (%d of them after resolving DAL_ECOMMIT_UNKNOWN by "
			"lookup; %d re-run after the lookup found nothing), errors %d, unresolved %d\n", i,
			w[i].ok + w[i].resolved_present, w[i].resolved_present, w[i].resolved_rerun, w[i].errors,
			w[i].unresolved);
		for (k = 0; k < NCODES; k++)
			if (w[i].codes[k])
				printf("restart_storm:   %d x %s\n", w[i].codes[k], dal_strerror(-k));
		if (w[i].errors)
			printf("restart_storm:   last error: %s\n", w[i].last_error);
	}
	if (dal_metrics_get(&m, db) == 0)
		printf("restart_storm: pool: created %llu, broken %llu, closed %llu; dal_run_tx retries %llu; "
			"%d units after the last restart\n",
			(unsigned long long)m.pool_created, (unsigned long long)m.pool_broken,
			(unsigned long long)m.pool_closed, (unsigned long long)m.retries, total - (int)after_last);
	printf("lost=%lld duplicated=%lld unreported=%lld\n", (long long)lost, (long long)duplicated,
		(long long)unreported);
	if (lost || duplicated || unreported)
		failed = 1;
	/* A storm in which every unit failed would prove nothing. */
	if (w[0].ok + w[1].ok < total / 2) {
		fprintf(stderr, "restart_storm: only %d of %d units committed\n", w[0].ok + w[1].ok, total);
		failed = 1;
	}
	goto done;
fail:
	failed = 1;
done:
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	dal_close(db);
	for (i = 0; i < THREADS; i++)
		free(w[i].outcome);
	free(counts);
	atomic_store(&finished, 1);
	pthread_join(dog, NULL);
	pg_server_run(&server, "stop", NULL);
	printf("restart_storm: %s in %.1f s\n", failed ? "FAILED" : "passed", (double)(now_us() - t_all) / 1e6);
	return failed;
}
