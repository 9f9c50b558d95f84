/*
 * Stress: two threads increment one counter row under SERIALIZABLE through
 * dal_run_tx, N times each. Every lost update would be a serialization bug;
 * every conflict must be retried. The final value must be exactly 2N.
 *
 *   uow_counter <url-or-@file> [N]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dal/dal.h>

#include "db.h"

typedef struct worker {
	dal_db *db;
	const char *table;
	int n;
	int done;
	int calls;
	int rc;
	char err[512];
} worker;

static char sql_read[128], sql_write[128];

static int increment(dal_uow *uow, void *payload)
{
	worker *w = payload;
	dal_result *res = NULL;
	dal_value p[1];
	int64_t v;
	int rc;

	(void)uow;
	w->calls++;
	/* Read, then write what was read plus one: a lost update unless serialized. */
	if ((rc = dal_query(&res, w->db, sql_read, NULL, 0)) < 0)
		return rc;
	v = dal_result_get(res, 0, 0)->v.i;
	dal_result_free(res);
	p[0] = dal_int(v + 1);
	return dal_exec(NULL, w->db, sql_write, p, 1);
}

static void *run(void *arg)
{
	worker *w = arg;
	dal_uow_opts opts = DAL_UOW_OPTS_INIT;
	int i;

	opts.isolation = DAL_ISOLATION_SERIALIZABLE;
	for (i = 0; i < w->n; i++) {
		if ((w->rc = dal_run_tx(w->db, &opts, increment, w)) != 0) {
			snprintf(w->err, sizeof(w->err), "%s", dal_error_last()->message);
			break;
		}
		w->done++;
	}
	return NULL;
}

static int read_url(const char *arg, char *url, size_t n)
{
	FILE *f;

	if (arg[0] != '@') {
		snprintf(url, n, "%s", arg);
		return 0;
	}
	if (!(f = fopen(arg + 1, "r")) || !fgets(url, (int)n, f)) {
		fprintf(stderr, "uow_counter: cannot read the URL from %s\n", arg + 1);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	url[strcspn(url, "\r\n")] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	worker w[2];
	pthread_t t[2];
	char url[1024], table[64], sql[160];
	dal_result *res = NULL;
	int n = argc > 2 ? atoi(argv[2]) : 200, i, failed = 0;
	int64_t final;
	uint64_t retries;

	if (argc < 2 || n < 1) {
		fprintf(stderr, "usage: %s <url|@file> [N]\n", argv[0]);
		return 2;
	}
	if (read_url(argv[1], url, sizeof(url)) < 0)
		return 1;
	/* Enough attempts that two colliding threads always get through. */
	cfg.tx_max_attempts = 100;
	if (dal_open(&db, url, &cfg) != 0) {
		fprintf(stderr, "uow_counter: %s\n", dal_error_last()->message);
		return 1;
	}
	snprintf(table, sizeof(table), "dal_stress_counter_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "CREATE TABLE %s (id INTEGER PRIMARY KEY, n BIGINT NOT NULL)", table);
	if (dal_exec(NULL, db, sql, NULL, 0) != 0)
		goto fail;
	snprintf(sql, sizeof(sql), "INSERT INTO %s (id, n) VALUES (1, 0)", table);
	if (dal_exec(NULL, db, sql, NULL, 0) != 0)
		goto fail;
	snprintf(sql_read, sizeof(sql_read), "SELECT n FROM %s WHERE id = 1", table);
	snprintf(sql_write, sizeof(sql_write), "UPDATE %s SET n = ? WHERE id = 1", table);

	for (i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].db = db;
		w[i].table = table;
		w[i].n = n;
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	if (dal_query(&res, db, sql_read, NULL, 0) != 0)
		goto fail;
	final = dal_result_get(res, 0, 0)->v.i;
	dal_result_free(res);
	pthread_mutex_lock(&db->metrics.mu);
	retries = db->metrics.retries;
	pthread_mutex_unlock(&db->metrics.mu);
	printf("uow_counter: N=%d per thread, final=%lld (expected %d), fn calls %d+%d, retries in metrics %llu\n",
		n, (long long)final, 2 * n, w[0].calls, w[1].calls, (unsigned long long)retries);
	for (i = 0; i < 2; i++)
		if (w[i].rc != 0) {
			fprintf(stderr, "uow_counter: thread %d stopped after %d: %d (%s): %s\n", i, w[i].done,
				w[i].rc, dal_strerror(w[i].rc), w[i].err);
			failed = 1;
		}
	if (final != 2 * n) {
		fprintf(stderr, "uow_counter: lost or doubled updates: %lld != %d\n", (long long)final, 2 * n);
		failed = 1;
	}
	/* Each retry is one extra call of the function, and counted once. */
	if ((uint64_t)(w[0].calls + w[1].calls - 2 * n) != retries) {
		fprintf(stderr, "uow_counter: %d extra calls but %llu retries counted\n",
			w[0].calls + w[1].calls - 2 * n, (unsigned long long)retries);
		failed = 1;
	}
	if (retries == 0)
		printf("uow_counter: note: no conflict happened in this run, so nothing was retried\n");
	snprintf(sql, sizeof(sql), "DROP TABLE %s", table);
	dal_exec(NULL, db, sql, NULL, 0);
	dal_close(db);
	return failed;
fail:
	fprintf(stderr, "uow_counter: %s\n", dal_error_last()->message);
	dal_close(db);
	return 1;
}
