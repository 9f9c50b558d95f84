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
#include "util.h"

static const dal_column cols[] = { BENCH_COLUMNS };
static const dal_model dal_model_ = DAL_MODEL("bench_dal", cols);
static const dal_model raw_model = DAL_MODEL("bench_raw", cols);
/* The creates of the flag lines go to a table of their own: in bench_dal they
 * would leave dal's table three times the raw one for the lines after them. */
static const dal_model flag_model = DAL_MODEL("bench_flag", cols);

/* paginate: pages of 20 of the rows with score < 500, the first 1,000 made. */
#define PAGE_SIZE 20
#define PAGE_BELOW 500.0

static int64_t n_write, n_read;
/* BENCH_ONLY=<operation> runs create and that line only (create_audit: just that line),
 * BENCH_ENGINE=sqlite one engine (for working on them). */
static const char *only;

int64_t bench_now(void) { return dal_now(); }

void bench_email(char *buf, size_t n, int64_t i)
{
	snprintf(buf, n, "user%lld@example.com", (long long)(i % 1000));
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
		bench_die("bench", "dal create");
}

static void dal_get(dal_repo *repo, int64_t id)
{
	dal_row *row = NULL;
	if (dal_repo_get(&row, repo, id) < 0)
		bench_die("bench", "dal get");
	dal_row_free(row);
}

static void dal_update(dal_repo *repo, int64_t id, int64_t i)
{
	char name[32];
	dal_field f[1];

	snprintf(name, sizeof(name), "renamed %lld", (long long)i);
	f[0] = (dal_field)DAL_FIELD("name", dal_text(name));
	if (dal_repo_update(NULL, repo, id, f, 1) < 0)
		bench_die("bench", "dal update");
}

static void dal_find(dal_repo *repo, const char *email)
{
	dal_filter flt[1] = { DAL_WHERE("email", DAL_OP_EQ, dal_text(email)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;

	c.filters = flt;
	c.nfilters = 1;
	if (dal_repo_find(&rows, repo, &c) < 0 || dal_rows_count(rows) == 0)
		bench_die("bench", "dal find");
	dal_rows_free(rows);
}

static void dal_paginate(dal_repo *repo, int64_t page)
{
	dal_filter flt[1] = { DAL_WHERE("score", DAL_OP_LT, dal_double(PAGE_BELOW)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_page info;

	c.filters = flt;
	c.nfilters = 1;
	if (dal_repo_paginate(&rows, &info, repo, &c, page, PAGE_SIZE) < 0 || dal_rows_count(rows) == 0 ||
	    info.total == 0)
		bench_die("bench", "dal paginate");
	dal_rows_free(rows);
}

static void dal_count(dal_repo *repo, const char *email)
{
	dal_filter flt[1] = { DAL_WHERE("email", DAL_OP_EQ, dal_text(email)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t n = 0;

	c.filters = flt;
	c.nfilters = 1;
	if (dal_repo_count(&n, repo, &c) < 0 || n == 0)
		bench_die("bench", "dal count");
}

static void dal_exists(dal_repo *repo, int64_t id)
{
	bool yes = false;

	if (dal_repo_exists(&yes, repo, id, false) < 0 || !yes)
		bench_die("bench", "dal exists");
}

static int each_row(const dal_row *row, void *payload)
{
	++*(int64_t *)payload;
	(void)row;
	return 0;
}

static int64_t dal_each(dal_repo *repo)
{
	int64_t n = 0;

	if (dal_repo_each(repo, NULL, each_row, &n) < 0 || n == 0)
		bench_die("bench", "dal each");
	return n;
}

/* ---- one operation, both sides, best of three rounds ---- */

enum op {
	OP_CREATE, OP_GET, OP_UPDATE, OP_FIND, OP_PAGINATE, OP_COUNT, OP_EXISTS, OP_EACH,
	OP_SOFT_DELETE, OP_RESTORE, OP_HARD_DELETE, OP_END
};
static const char *const op_names[] = { "create", "get", "update", "find_by_indexed", "paginate", "count",
	"exists", "each", "delete_soft", "restore", "delete_hard" };

static int64_t key(int64_t i, int64_t rows)
{
	return 1 + (i * 7919) % rows;
}

/* The pages of the rows paginate matches (score < PAGE_BELOW: the first 1,000 made). */
static int64_t npages(int64_t rows)
{
	int64_t match = rows < (int64_t)(PAGE_BELOW * 2) ? rows : (int64_t)(PAGE_BELOW * 2);

	return (match + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Calls of `op` per round and side. Creates, deletes and restores take a third of the
 * rows each round, so that three rounds make, delete or restore each row once. */
static int64_t op_calls(enum op op)
{
	switch (op) {
	case OP_CREATE: case OP_SOFT_DELETE: case OP_RESTORE: case OP_HARD_DELETE: return n_write / 3;
	case OP_UPDATE: return n_write;
	case OP_PAGINATE: return n_read / 30;
	case OP_EACH: return n_read / 3000 > 3 ? n_read / 3000 : 3;
	default: return n_read;
	}
}

/* One call of `op` on the dal side; returns the rows it counts for (each), else 1. */
static int64_t dal_side(dal_repo *repo, enum op op, int64_t i, int64_t rows, int64_t base)
{
	char email[64];

	switch (op) {
	case OP_CREATE: dal_create(repo, base + i); break;
	case OP_GET: dal_get(repo, key(i, rows)); break;
	case OP_UPDATE: dal_update(repo, key(i, rows), i); break;
	case OP_FIND: bench_email(email, sizeof(email), key(i, rows) - 1); dal_find(repo, email); break;
	case OP_PAGINATE: dal_paginate(repo, 1 + i % npages(rows)); break;
	case OP_COUNT: bench_email(email, sizeof(email), key(i, rows) - 1); dal_count(repo, email); break;
	case OP_EXISTS: dal_exists(repo, key(i, rows)); break;
	case OP_EACH: return dal_each(repo);
	case OP_SOFT_DELETE: if (dal_repo_delete(repo, base + 1 + i, true) < 0) bench_die("bench", "dal delete_soft"); break;
	case OP_RESTORE: if (dal_repo_restore(NULL, repo, base + 1 + i) < 0) bench_die("bench", "dal restore"); break;
	case OP_HARD_DELETE: if (dal_repo_delete(repo, base + 1 + i, false) < 0) bench_die("bench", "dal delete_hard"); break;
	case OP_END: break;
	}
	return 1;
}

/* The same on the raw side: the rows it counts for, -1 on failure. */
static int64_t raw_side(const raw_ops *raw, void *h, enum op op, int64_t i, int64_t rows, int64_t base)
{
	char email[64];

	switch (op) {
	case OP_CREATE: return raw->create(h, base + i) == 0 ? 1 : -1;
	case OP_GET: return raw->get(h, key(i, rows)) == 0 ? 1 : -1;
	case OP_UPDATE: return raw->update(h, key(i, rows), i) == 0 ? 1 : -1;
	case OP_FIND: bench_email(email, sizeof(email), key(i, rows) - 1); return raw->find(h, email) == 0 ? 1 : -1;
	case OP_PAGINATE: return raw->paginate(h, PAGE_BELOW, 1 + i % npages(rows), PAGE_SIZE) == 0 ? 1 : -1;
	case OP_COUNT: bench_email(email, sizeof(email), key(i, rows) - 1); return raw->count(h, email) == 0 ? 1 : -1;
	case OP_EXISTS: return raw->exists(h, key(i, rows)) == 0 ? 1 : -1;
	case OP_EACH: return raw->each(h);
	case OP_SOFT_DELETE: return raw->soft_delete(h, base + 1 + i) == 0 ? 1 : -1;
	case OP_RESTORE: return raw->restore(h, base + 1 + i) == 0 ? 1 : -1;
	case OP_HARD_DELETE: return raw->hard_delete(h, base + 1 + i) == 0 ? 1 : -1;
	case OP_END: break;
	}
	return -1;
}

/* Calls (rows, for each) per second. */
static double run_dal(dal_repo *repo, enum op op, int64_t n, int64_t rows, int64_t base)
{
	double t0 = bench_seconds();
	int64_t i, done = 0;

	for (i = 0; i < n; i++)
		done += dal_side(repo, op, i, rows, base);
	return (double)done / (bench_seconds() - t0);
}

static double run_raw(const raw_ops *raw, void *h, enum op op, int64_t n, int64_t rows, int64_t base)
{
	double t0 = bench_seconds();
	int64_t i, done = 0, r = 0;

	for (i = 0; i < n && r >= 0; i++)
		if ((r = raw_side(raw, h, op, i, rows, base)) >= 0)
			done += r;
	if (r < 0) {
		fprintf(stderr, "bench: raw %s %s failed\n", raw->engine, op_names[op]);
		exit(1);
	}
	return (double)done / (bench_seconds() - t0);
}

/*
 * A dal operation on a repository with `flag` against the same operation without
 * it, on the table of model `m`, where no raw counterpart exists: `bench <engine>
 * <label> dal=<with> raw=<baseline>:<without>`. Creates draw fresh keys per round
 * and side.
 */
static void bench_flag(const char *engine, const char *url, const dal_model *m, const char *label,
                       const char *baseline, unsigned flag, enum op op, int64_t n)
{
	dal_db *db = NULL;
	dal_repo *repo[2] = { NULL, NULL };
	double best[2] = { 0, 0 }, r;
	int round, which;

	if (dal_open(&db, url, NULL) < 0 || dal_repo_open(&repo[0], db, m, 0) < 0 ||
	    dal_repo_open(&repo[1], db, m, flag) < 0)
		bench_die("bench", label);
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

/* One line per operation in [from, to): best of three rounds a side. DuckDB allows one
 * process per file: the raw side shares dal's database by running after dal is closed,
 * so each side gets the file in turn. */
static void bench_ops(const raw_ops *raw, const char *url, const char *raw_target, enum op from, enum op to)
{
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	void *h;
	int round;
	enum op op;

	for (op = from; op < to; op++) {
		double best_dal = 0, best_raw = 0, r;
		int64_t n = op_calls((enum op)op);
		/* One line alone still needs the rows, and a restore the deletes before it. */
		if (only && op > OP_CREATE && strcmp(only, op_names[op]) != 0 &&
		    !(op == OP_SOFT_DELETE && strcmp(only, "restore") == 0))
			continue;
		for (round = 0; round < 3; round++) {
			if (dal_open(&db, url, NULL) < 0 || dal_repo_open(&repo, db, &dal_model_, 0) < 0)
				bench_die("bench", url);
			r = run_dal(repo, (enum op)op, n, n_write, round * n);
			best_dal = r > best_dal ? r : best_dal;
			dal_repo_close(repo);
			dal_close(db);
			if (!(h = raw->open(raw_target))) {
				fprintf(stderr, "bench: raw %s open failed\n", raw->engine);
				exit(1);
			}
			r = run_raw(raw, h, (enum op)op, n, n_write, round * n);
			best_raw = r > best_raw ? r : best_raw;
			raw->close(h);
		}
		printf("bench %s %s dal=%.0f raw=%.0f ratio=%.2f\n", raw->engine, op_names[op], best_dal, best_raw,
			best_dal / best_raw);
		fflush(stdout);
	}
}

static void bench_engine(const raw_ops *raw, const char *url, const char *raw_target)
{
	const char *engine = getenv("BENCH_ENGINE");
	const dal_model *models[] = { &dal_model_, &raw_model, &flag_model };
	dal_db *db = NULL;

	if (engine && strcmp(engine, raw->engine) != 0)
		return;
	if (dal_open(&db, url, NULL) < 0)
		bench_die("bench", url);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bench_dal", NULL, 0);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bench_raw", NULL, 0);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bench_flag", NULL, 0);
	if (dal_init_database(db, models, 3, DAL_AUTO_MIGRATE) < 0)
		bench_die("bench", "schema");
	dal_close(db);
	if (only && strcmp(only, "create_audit") == 0) {
		bench_flag(raw->engine, url, &flag_model, "create_audit", "audit_off", DAL_AUDIT, OP_CREATE, n_write / 3);
		return;
	}
	/* Every row is made first and deleted last: the reads and the flag lines need them. */
	bench_ops(raw, url, raw_target, OP_CREATE, OP_SOFT_DELETE);
	if (!only) {
		bench_flag(raw->engine, url, &flag_model, "create_audit", "audit_off", DAL_AUDIT, OP_CREATE, n_write / 3);
		/* Every row read fits the default cache: after the first round each get is a hit. */
		bench_flag(raw->engine, url, &dal_model_, "get_cached", "uncached", DAL_CACHE, OP_GET, n_read);
	}
	bench_ops(raw, url, raw_target, OP_SOFT_DELETE, OP_END);
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
