/*
 * make bench: dal against the engine's own C API in the same run.
 * Prints `bench <engine> <operation> dal=<ops/s> raw=<ops/s> ratio=<dal/raw>`.
 * BENCH_QUICK=1 makes a short smoke run. PostgreSQL runs when DAL_BENCH_PG_URL is set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#include "bench.h"
#include "model.h"

static const dal_column cols[] = { BENCH_COLUMNS };
static const dal_model dal_model_ = DAL_MODEL("bench_dal", cols);
static const dal_model raw_model = DAL_MODEL("bench_raw", cols);

static int64_t n_write, n_read;
/* BENCH_ONLY=create_audit runs just that line, BENCH_ENGINE=sqlite one engine (for working on them). */
static const char *only;

int64_t bench_now(void) { return dal_now(); }

void bench_email(char *buf, size_t n, int64_t i)
{
	snprintf(buf, n, "user%lld@example.com", (long long)(i % 1000));
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s: %s\n", what, dal_error_last()->message);
	exit(1);
}

/* ---- dal side ---- */

static void dal_create(dal_repo *repo, int64_t i)
{
	char name[32], email[64];
	dal_field f[3];

	snprintf(name, sizeof(name), "user %lld", (long long)i);
	bench_email(email, sizeof(email), i);
	f[0] = (dal_field)DAL_FIELD("name", dal_text(name));
	f[1] = (dal_field)DAL_FIELD("email", dal_text(email));
	f[2] = (dal_field)DAL_FIELD("score", dal_double((double)i * 0.5));
	if (dal_repo_create(NULL, repo, f, 3) < 0)
		die("dal create");
}

static void dal_get(dal_repo *repo, int64_t id)
{
	dal_row *row = NULL;
	if (dal_repo_get(&row, repo, id) < 0)
		die("dal get");
	dal_row_free(row);
}

static void dal_update(dal_repo *repo, int64_t id, int64_t i)
{
	char name[32];
	dal_field f[1];

	snprintf(name, sizeof(name), "renamed %lld", (long long)i);
	f[0] = (dal_field)DAL_FIELD("name", dal_text(name));
	if (dal_repo_update(NULL, repo, id, f, 1) < 0)
		die("dal update");
}

static void dal_find(dal_repo *repo, const char *email)
{
	dal_filter flt[1] = { DAL_WHERE("email", DAL_OP_EQ, dal_text(email)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;

	c.filters = flt;
	c.nfilters = 1;
	if (dal_repo_find(&rows, repo, &c) < 0 || dal_rows_count(rows) == 0)
		die("dal find");
	dal_rows_free(rows);
}

/* ---- one operation, both sides, best of three rounds ---- */

enum op { OP_CREATE, OP_GET, OP_UPDATE, OP_FIND };
static const char *const op_names[] = { "create", "get", "update", "find_by_indexed" };

static int64_t key(int64_t i, int64_t rows)
{
	return 1 + (i * 7919) % rows;
}

static double run_dal(dal_repo *repo, enum op op, int64_t n, int64_t rows, int64_t base)
{
	char email[64];
	double t0 = seconds();
	int64_t i;

	for (i = 0; i < n; i++) {
		switch (op) {
		case OP_CREATE: dal_create(repo, base + i); break;
		case OP_GET: dal_get(repo, key(i, rows)); break;
		case OP_UPDATE: dal_update(repo, key(i, rows), i); break;
		case OP_FIND: bench_email(email, sizeof(email), key(i, rows) - 1); dal_find(repo, email); break;
		}
	}
	return (double)n / (seconds() - t0);
}

static double run_raw(const raw_ops *raw, void *h, enum op op, int64_t n, int64_t rows, int64_t base)
{
	char email[64];
	double t0 = seconds();
	int64_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		switch (op) {
		case OP_CREATE: rc = raw->create(h, base + i); break;
		case OP_GET: rc = raw->get(h, key(i, rows)); break;
		case OP_UPDATE: rc = raw->update(h, key(i, rows), i); break;
		case OP_FIND: bench_email(email, sizeof(email), key(i, rows) - 1); rc = raw->find(h, email); break;
		}
	}
	if (rc != 0) {
		fprintf(stderr, "bench: raw %s %s failed\n", raw->engine, op_names[op]);
		exit(1);
	}
	return (double)n / (seconds() - t0);
}

/*
 * A dal operation on a repository with `flag` against the same operation without
 * it, where no raw counterpart exists: `bench <engine> <label> dal=<with>
 * raw=<baseline>:<without>`. Creates draw fresh keys per round and side.
 */
static void bench_flag(const char *engine, const char *url, const char *label, const char *baseline,
                       unsigned flag, enum op op, int64_t n)
{
	dal_db *db = NULL;
	dal_repo *repo[2] = { NULL, NULL };
	double best[2] = { 0, 0 }, r;
	int round, which;

	if (dal_open(&db, url, NULL) < 0 || dal_repo_open(&repo[0], db, &dal_model_, 0) < 0 ||
	    dal_repo_open(&repo[1], db, &dal_model_, flag) < 0)
		die(label);
	for (round = 0; round < 3; round++)
		for (which = 0; which < 2; which++) {
			r = run_dal(repo[which], op, n, n_write, n_write * (4 + round * 2 + which));
			best[which] = r > best[which] ? r : best[which];
		}
	printf("bench %s %s dal=%.0f raw=%s:%.0f ratio=%.2f\n", engine, label, best[1], baseline, best[0],
		best[1] / best[0]);
	fflush(stdout);
	dal_repo_close(repo[0]);
	dal_repo_close(repo[1]);
	dal_close(db);
}

static void bench_engine(const raw_ops *raw, const char *url, const char *raw_target)
{
	const char *engine = getenv("BENCH_ENGINE");
	const dal_model *models[] = { &dal_model_, &raw_model };
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	void *h;
	int64_t rows = n_write;
	int op, round;

	if (engine && strcmp(engine, raw->engine) != 0)
		return;
	if (dal_open(&db, url, NULL) < 0)
		die(url);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bench_dal", NULL, 0);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bench_raw", NULL, 0);
	if (dal_init_database(db, models, 2, DAL_AUTO_MIGRATE) < 0 || dal_repo_open(&repo, db, &dal_model_, 0) < 0)
		die("schema");
	if (only && strcmp(only, "create_audit") == 0) {
		dal_repo_close(repo);
		dal_close(db);
		bench_flag(raw->engine, url, "create_audit", "audit_off", DAL_AUDIT, OP_CREATE, n_write / 3);
		return;
	}
	/* DuckDB allows one process per file: the raw side shares dal's database by
	 * running after dal is closed, so each side gets the file in turn. */
	for (op = OP_CREATE; op <= OP_FIND; op++) {
		double best_dal = 0, best_raw = 0, r;
		int64_t n = op == OP_CREATE || op == OP_UPDATE ? n_write : n_read;
		for (round = 0; round < 3; round++) {
			if (!repo) {
				if (dal_open(&db, url, NULL) < 0 || dal_repo_open(&repo, db, &dal_model_, 0) < 0)
					die(url);
			}
			r = run_dal(repo, (enum op)op, op == OP_CREATE ? n / 3 : n, rows, round * (n / 3));
			best_dal = r > best_dal ? r : best_dal;
			dal_repo_close(repo);
			dal_close(db);
			repo = NULL;
			db = NULL;
			if (!(h = raw->open(raw_target))) {
				fprintf(stderr, "bench: raw %s open failed\n", raw->engine);
				exit(1);
			}
			r = run_raw(raw, h, (enum op)op, op == OP_CREATE ? n / 3 : n, rows, round * (n / 3));
			best_raw = r > best_raw ? r : best_raw;
			raw->close(h);
		}
		printf("bench %s %s dal=%.0f raw=%.0f ratio=%.2f\n", raw->engine, op_names[op], best_dal, best_raw,
			best_dal / best_raw);
		fflush(stdout);
	}
	bench_flag(raw->engine, url, "create_audit", "audit_off", DAL_AUDIT, OP_CREATE, n_write / 3);
	/* Every row read fits the default cache: after the first round each get is a hit. */
	bench_flag(raw->engine, url, "get_cached", "uncached", DAL_CACHE, OP_GET, n_read);
}

int main(void)
{
	char dir[256], path[300], url[400];
	const char *pg = getenv("DAL_BENCH_PG_URL");
	bool quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "0") != 0;

	only = getenv("BENCH_ONLY");
	n_write = quick ? 300 : 6000;
	n_read = quick ? 1000 : 30000;
	snprintf(dir, sizeof(dir), "%s/dal-bench-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	bench_engine(&raw_sqlite, url, path);
#ifdef DAL_WITH_DUCKDB
	snprintf(path, sizeof(path), "%s/bench.duckdb", dir);
	snprintf(url, sizeof(url), "duckdb:///%s", path);
	bench_engine(&raw_duckdb, url, path);
#endif
	if (pg && *pg)
		bench_engine(&raw_postgres, pg, pg);
	else
		printf("bench postgresql skipped: DAL_BENCH_PG_URL is not set (make bench sets it)\n");
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
