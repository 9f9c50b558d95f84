/*
 * The pool against a real PostgreSQL: usage: pool_stress @URLFILE|URL
 * 8 threads never open more than pool_size + max_overflow backends (counted in
 * pg_stat_activity), overflow is closed on return, DAL_ETIMEOUT names the
 * holders, short recycle_s recycles, a backend terminated while idle is never
 * handed out, a held connection is reported once as a leak.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dal/dal.h>

#include "db.h"

#define APP "dal_pool_stress"
#define THREADS 8
#define POOL 2
#define OVERFLOW 3

static char url[1024], app_url[1200];
static atomic_int failures;
static atomic_int stop;
static int max_seen;

#define EXPECT(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int64_t scalar(dal_db *db, const char *sql)
{
	dal_result *res = NULL;
	const dal_value *v;
	int64_t n = -1;

	if (dal_query(&res, db, sql, NULL, 0) != 0) {
		fprintf(stderr, "query failed: %s: %s\n", sql, dal_error_last()->message);
		return -1;
	}
	if ((v = dal_result_get(res, 0, 0)) != NULL && v->type == DAL_TYPE_INT)
		n = v->v.i;
	dal_result_free(res);
	return n;
}

static int64_t backends(dal_db *mon)
{
	return scalar(mon, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
		"AND application_name = '" APP "'");
}

static void *worker(void *arg)
{
	dal_db *db = arg;
	int i;

	for (i = 0; i < 40; i++)
		if (dal_exec(NULL, db, "SELECT pg_sleep(0.005)", NULL, 0) != 0)
			EXPECT(0, "worker: %s", dal_error_last()->message);
	return NULL;
}

static void *monitor(void *arg)
{
	dal_db *mon = arg;

	while (!stop) {
		int64_t n = backends(mon);
		if (n > max_seen)
			max_seen = (int)n;
		sleep_ms(2);
	}
	return NULL;
}

static void test_cap_and_overflow(dal_db *mon)
{
	dal_config cfg = DAL_CONFIG_INIT;
	pthread_t t[THREADS], m;
	dal_pool_status st;
	dal_db *db = NULL;
	int i;
	int64_t n = -1;

	cfg.pool_size = POOL;
	cfg.max_overflow = OVERFLOW;
	if (dal_open(&db, app_url, &cfg) != 0) {
		EXPECT(0, "open: %s", dal_error_last()->message);
		return;
	}
	stop = 0;
	pthread_create(&m, NULL, monitor, mon);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, db);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	stop = 1;
	pthread_join(m, NULL);
	printf("pool_stress: max backends seen %d (limit %d)\n", max_seen, POOL + OVERFLOW);
	EXPECT(max_seen <= POOL + OVERFLOW, "pool exceeded its limit: %d backends", max_seen);
	EXPECT(max_seen > POOL, "8 threads never needed overflow (%d backends): the test proves nothing", max_seen);
	dal_pool_status_get(&st, db);
	EXPECT(st.checked_in + st.checked_out == POOL && st.overflow == 0, "after the load: open %d overflow %d",
	       st.checked_in + st.checked_out, st.overflow);
	/* The server sees the overflow backends go. */
	for (i = 0; i < 100 && (n = backends(mon)) != POOL; i++)
		sleep_ms(20);
	EXPECT(n == POOL, "%lld backends after return, expected %d", (long long)n, POOL);
	dal_close(db);
}

static void test_timeout_names_holders(void)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_conn *a = NULL, *b = NULL, *c = NULL;
	dal_db *db = NULL;
	int rc;

	cfg.pool_size = 1;
	cfg.max_overflow = 1;
	cfg.pool_timeout_ms = 200;
	if (dal_open(&db, app_url, &cfg) != 0)
		{ EXPECT(0, "open: %s", dal_error_last()->message); return; }
	dal__pool_acquire(&a, db);
	dal__pool_acquire(&b, db);
	rc = dal__pool_acquire(&c, db);
	EXPECT(rc == DAL_ETIMEOUT, "exhausted pool gave %d", rc);
	EXPECT(strstr(dal_error_last()->message, "2 lent out") && strstr(dal_error_last()->message, "pool_stress.c:"),
		"message does not name the holders: %s", dal_error_last()->message);
	printf("pool_stress: %s\n", dal_error_last()->message);
	dal__pool_release(db, a);
	dal__pool_release(db, b);
	dal_close(db);
}

static void test_recycle(void)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_metrics m = DAL_METRICS_INIT;
	dal_db *db = NULL;
	int64_t pid1, pid2;

	cfg.pool_size = 1;
	cfg.recycle_s = 1;
	if (dal_open(&db, app_url, &cfg) != 0)
		{ EXPECT(0, "open: %s", dal_error_last()->message); return; }
	pid1 = scalar(db, "SELECT pg_backend_pid()");
	sleep_ms(1100);
	pid2 = scalar(db, "SELECT pg_backend_pid()");
	dal_metrics_get(&m, db);
	EXPECT(pid1 != pid2 && pid2 > 0, "not recycled: backend %lld then %lld", (long long)pid1, (long long)pid2);
	EXPECT(m.pool_recycled == 1, "recycled counter %llu", (unsigned long long)m.pool_recycled);
	dal_close(db);
}

static void test_terminated_idle(dal_db *mon)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_metrics m = DAL_METRICS_INIT;
	dal_db *db = NULL;
	dal_value p;
	int64_t pid, pid2, k;
	int i;

	cfg.pool_size = 2;
	if (dal_open(&db, app_url, &cfg) != 0)
		{ EXPECT(0, "open: %s", dal_error_last()->message); return; }
	for (i = 0; i < 3; i++) {
		pid = scalar(db, "SELECT pg_backend_pid()");
		p = dal_int(pid);
		/* Killed while it sits idle in the pool. */
		k = 0;
		{
			dal_result *res = NULL;
			if (dal_query(&res, mon, "SELECT pg_terminate_backend(?::int)::int", &p, 1) == 0) {
				k = dal_result_get(res, 0, 0)->v.i;
				dal_result_free(res);
			}
		}
		EXPECT(k == 1, "terminate failed");
		sleep_ms(50);
		pid2 = scalar(db, "SELECT pg_backend_pid()");
		EXPECT(pid2 > 0 && pid2 != pid, "round %d: the next call after a terminated backend failed or reused it", i);
	}
	dal_metrics_get(&m, db);
	EXPECT(m.pool_broken == 3, "broken counter %llu, expected 3", (unsigned long long)m.pool_broken);
	EXPECT(m.error_count == 0, "%llu statement errors: a dead connection was handed out",
		(unsigned long long)m.error_count);
	dal_close(db);
}

static int nleaks;
static char leak_msg[512];

static void on_log(dal_log_level level, const char *message, void *payload)
{
	(void)level;
	(void)payload;
	if (strstr(message, "connection leak")) {
		nleaks++;
		snprintf(leak_msg, sizeof(leak_msg), "%s", message);
	}
}

static void test_leak(void)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	dal_conn *held = NULL;
	char where[64];
	int line, i;

	cfg.leak_threshold_ms = 100;
	if (dal_open(&db, app_url, &cfg) != 0)
		{ EXPECT(0, "open: %s", dal_error_last()->message); return; }
	dal_log_set_handler(on_log, NULL);
	dal__pool_acquire(&held, db); line = __LINE__;
	/* Other work goes on while it is held: each checkout may scan. */
	for (i = 0; i < 30; i++) {
		scalar(db, "SELECT 1");
		sleep_ms(10);
	}
	dal__pool_release(db, held);
	dal_log_set_handler(NULL, NULL);
	snprintf(where, sizeof(where), "pool_stress.c:%d", line);
	EXPECT(nleaks == 1, "%d leak reports, expected 1", nleaks);
	EXPECT(strstr(leak_msg, where) != NULL, "leak report does not name %s: %s", where, leak_msg);
	printf("pool_stress: %s\n", leak_msg);
	dal_close(db);
}

int main(int argc, char **argv)
{
	dal_db *mon = NULL;
	const char *q;

	if (argc < 2) {
		fprintf(stderr, "usage: %s @URLFILE|URL\n", argv[0]);
		return 2;
	}
	if (argv[1][0] == '@') {
		FILE *f = fopen(argv[1] + 1, "r");
		if (!f || !fgets(url, sizeof(url), f)) {
			fprintf(stderr, "cannot read %s\n", argv[1] + 1);
			return 1;
		}
		fclose(f);
		url[strcspn(url, "\r\n")] = '\0';
	} else {
		snprintf(url, sizeof(url), "%s", argv[1]);
	}
	q = strchr(url, '?');
	snprintf(app_url, sizeof(app_url), "%s%capplication_name=" APP, url, q ? '&' : '?');
	if (dal_open(&mon, url, NULL) != 0) {
		fprintf(stderr, "cannot open %s\n", dal_error_last()->message);
		return 1;
	}
	test_cap_and_overflow(mon);
	test_timeout_names_holders();
	test_recycle();
	test_terminated_idle(mon);
	test_leak();
	dal_close(mon);
	printf("pool_stress: %s (%d failure(s))\n", atomic_load(&failures) ? "FAILED" : "ok", atomic_load(&failures));
	return atomic_load(&failures) ? 1 : 0;
}
