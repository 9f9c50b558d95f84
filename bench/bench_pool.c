/*
 * Pool checkout + return (uncontended) per engine, and the cost of metrics on
 * an SQLite point read (metrics on vs off). BENCH_QUICK=1 for a smoke run;
 * PostgreSQL runs when DAL_BENCH_PG_URL is set.
 *
 *   bench <engine> pool_checkout dal=<ops/s> raw=target:1000000 ratio=<dal/target>
 *   bench sqlite metrics_overhead dal=<ops/s metrics on> raw=<ops/s metrics off> ratio=<on/off>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#include "db.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pool_checkout(const char *engine, const char *url, long n)
{
	dal_db *db = NULL;
	dal_conn *c = NULL;
	double t0, best = 0;
	long i;
	int round;

	if (dal_open(&db, url, NULL) != 0) {
		printf("bench %s pool_checkout skipped: %s\n", engine, dal_error_last()->message);
		return;
	}
	for (round = 0; round < 3; round++) {
		t0 = now_s();
		for (i = 0; i < n; i++) {
			if (dal__pool_acquire(&c, db) != 0) {
				printf("bench %s pool_checkout failed: %s\n", engine, dal_error_last()->message);
				dal_close(db);
				return;
			}
			dal__pool_release(db, c);
		}
		if ((double)n / (now_s() - t0) > best)
			best = (double)n / (now_s() - t0);
	}
	printf("bench %s pool_checkout dal=%.0f raw=target:1000000 ratio=%.2f\n", engine, best, best / 1e6);
	dal_close(db);
}

static double point_reads(dal_db *db, long n)
{
	dal_result *res = NULL;
	double t0 = now_s();
	long i;

	for (i = 0; i < n; i++) {
		dal_value p = dal_int(1 + i % 1000);
		if (dal_query(&res, db, "SELECT id, name FROM pt WHERE id = ?", &p, 1) != 0) {
			fprintf(stderr, "point read: %s\n", dal_error_last()->message);
			exit(1);
		}
		dal_result_free(res);
	}
	return (double)n / (now_s() - t0);
}

static void metrics_overhead(const char *dir, long n)
{
	dal_config on = DAL_CONFIG_INIT, off = DAL_CONFIG_INIT;
	dal_db *a = NULL, *b = NULL;
	char url[600];
	double best_on = 0, best_off = 0, r;
	int round, i;

	off.metrics = false;
	snprintf(url, sizeof(url), "sqlite:///%s/metrics.db", dir);
	if (dal_open(&a, url, &on) != 0 || dal_open(&b, url, &off) != 0) {
		printf("bench sqlite metrics_overhead skipped: %s\n", dal_error_last()->message);
		dal_close(a);
		return;
	}
	dal_exec(NULL, a, "CREATE TABLE pt (id INTEGER PRIMARY KEY, name TEXT)", NULL, 0);
	dal_exec(NULL, a, "BEGIN", NULL, 0);
	for (i = 1; i <= 1000; i++) {
		dal_value p[2] = { dal_int(i), dal_text("some name") };
		dal_exec(NULL, a, "INSERT INTO pt (id, name) VALUES (?, ?)", p, 2);
	}
	dal_exec(NULL, a, "COMMIT", NULL, 0);
	point_reads(a, n / 10);
	point_reads(b, n / 10);
	/* Interleaved rounds, best of each: the machine's noise hits both. */
	for (round = 0; round < 5; round++) {
		if ((r = point_reads(a, n)) > best_on)
			best_on = r;
		if ((r = point_reads(b, n)) > best_off)
			best_off = r;
	}
	printf("bench sqlite metrics_overhead dal=%.0f raw=%.0f ratio=%.3f\n", best_on, best_off, best_on / best_off);
	dal_close(a);
	dal_close(b);
}

int main(void)
{
	const char *pg = getenv("DAL_BENCH_PG_URL");
	int quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "0") != 0;
	long n = quick ? 20000 : 1000000;
	char dir[] = "/tmp/dal-bench-pool-XXXXXX", url[600];

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(url, sizeof(url), "sqlite:///%s/pool.db", dir);
	pool_checkout("sqlite", url, n);
#ifdef DAL_WITH_DUCKDB
	snprintf(url, sizeof(url), "duckdb:///%s/pool.duckdb", dir);
	pool_checkout("duckdb", url, n);
#endif
	if (pg)
		pool_checkout("postgresql", pg, n);
	else
		printf("bench postgresql pool_checkout skipped: DAL_BENCH_PG_URL is not set (make bench sets it)\n");
	metrics_overhead(dir, quick ? 5000 : 100000);
	if (system("rm -rf /tmp/dal-bench-pool-??????") != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return 0;
}
