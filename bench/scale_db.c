/*
 * How cost grows with the data, through the public API (make bench-scale):
 *   bench sqlite scale_get small=<gets/s at 10k rows> large=<at 1M rows> ratio=<large/small>
 *   bench <engine> scale_paginate_uncounted small=<page 1 of 20 per s at 10k rows> large=<at 1M rows> ratio=
 *   bench postgresql scale_paginate_after_bulk small=<pages/s after ANALYZE> large=<right after a
 *         1M-row bulk create> ratio=<large/small>
 *   bench <engine> cleanup_writer_wait batch_ms=<one cleanup batch> during_ms=<a writer's
 *         worst wait during a cleanup> ratio=<during/batch>      (SQLite; PostgreSQL with DAL_BENCH_PG_URL)
 *         and a cleanup_writer_waits line: the writer's waits, during the cleanup and alone
 * BENCH_QUICK=1 makes a short run (100k rows for the large side).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#include "model.h"
#include "util.h"

static const dal_column cols[] = { BENCH_COLUMNS };
static const dal_model table = DAL_MODEL("scale_dal", cols);
static const char *const in_cols[] = { "name", "email", "score" };

/* `n` rows through bulk create, in chunks so the input stays small. */
static void scale_fill(dal_repo *repo, int64_t n)
{
	enum { CHUNK = 50000 };
	dal_value *v = malloc(CHUNK * 3 * sizeof(*v));
	char (*email)[32] = malloc(CHUNK * sizeof(*email));

	for (int64_t done = 0; done < n;) {
		size_t k = (size_t)(n - done < CHUNK ? n - done : CHUNK);
		for (size_t i = 0; i < k; i++) {
			snprintf(email[i], sizeof(email[i]), "user%lld@example.com", (long long)(done + (int64_t)i));
			v[i * 3] = dal_text("a user");
			v[i * 3 + 1] = dal_text(email[i]);
			v[i * 3 + 2] = dal_double((double)i / 2);
		}
		if (dal_repo_bulk_create(NULL, repo, in_cols, 3, v, k) < 0)
			bench_die("bench_scale", "bulk create");
		done += (int64_t)k;
	}
	free(email);
	free(v);
}

/* A fresh database at `url` with `n` rows of the bench model; the repository has `flags`. */
static dal_repo *scale_open(dal_db **db, const char *url, const dal_model *m, unsigned flags, int64_t n)
{
	dal_repo *repo = NULL;
	char sql[128];

	if (dal_open(db, url, NULL) < 0)
		bench_die("bench_scale", "open");
	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", m->table);
	/* The audit trail goes with it: its rows and the head of its chain. */
	if (dal_exec(NULL, *db, sql, NULL, 0) < 0 || dal_exec(NULL, *db, "DROP TABLE IF EXISTS audit_logs", NULL, 0) < 0 ||
	    dal_exec(NULL, *db, "DROP TABLE IF EXISTS audit_chain", NULL, 0) < 0)
		bench_die("bench_scale", "drop");
	if (dal_init_database(*db, DAL_MODELS(m), DAL_AUTO_MIGRATE) < 0 || dal_repo_open(&repo, *db, m, flags) < 0)
		bench_die("bench_scale", "schema");
	scale_fill(repo, n);
	return repo;
}

static uint64_t rng = 88172645463325252ULL;

static int64_t random_id(int64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return 1 + (int64_t)(rng % (uint64_t)n);
}

/* Random gets by id over `rows` rows for about `secs` seconds; gets per second. */
static double gets_per_s(const char *url, int64_t rows, double secs)
{
	dal_db *db = NULL;
	dal_repo *repo = scale_open(&db, url, &table, 0, rows);
	dal_row *row = NULL;
	double t0, t;
	int64_t n = 0;

	/* Touch the table once so both sizes start from the same warm state. */
	for (int64_t i = 0; i < rows && i < 200000; i++)
		if (dal_repo_get(&row, repo, random_id(rows)) == 0)
			dal_row_free(row);
	t0 = bench_seconds();
	do {
		for (int i = 0; i < 1000; i++, n++) {
			if (dal_repo_get(&row, repo, random_id(rows)) < 0)
				bench_die("bench_scale", "get");
			dal_row_free(row);
		}
	} while ((t = bench_seconds()) - t0 < secs);
	dal_repo_close(repo);
	dal_close(db);
	return (double)n / (t - t0);
}

/* Page 1 of 20 in the uncounted form, over `rows` rows; pages per second. */
static double first_pages_per_s(const char *url, int64_t rows, double secs)
{
	dal_db *db = NULL;
	dal_repo *repo = scale_open(&db, url, &table, 0, rows);
	dal_rows *page = NULL;
	bool more;
	double t0 = bench_seconds(), t;
	int64_t n = 0;

	do {
		for (int i = 0; i < 100; i++, n++) {
			if (dal_repo_paginate_uncounted(&page, &more, repo, NULL, 1, 20) < 0 || !more)
				bench_die("bench_scale", "paginate uncounted");
			dal_rows_free(page);
		}
	} while ((t = bench_seconds()) - t0 < secs);
	dal_repo_close(repo);
	dal_close(db);
	return (double)n / (t - t0);
}

static void scale_paginate(const char *engine, const char *url_small, const char *url_large, bool quick)
{
	double small = first_pages_per_s(url_small, 10000, quick ? 0.5 : 2);
	double large = first_pages_per_s(url_large, quick ? 100000 : 1000000, quick ? 0.5 : 2);

	printf("bench %s scale_paginate_uncounted small=%.0f large=%.0f ratio=%.2f\n", engine, small, large,
		large / small);
	fflush(stdout);
}

static void scale_get(const char *dir, bool quick)
{
	char url[512];
	double small, large;

	snprintf(url, sizeof(url), "sqlite:///%s/get_small.db", dir);
	small = gets_per_s(url, 10000, quick ? 1 : 3);
	snprintf(url, sizeof(url), "sqlite:///%s/get_large.db", dir);
	large = gets_per_s(url, quick ? 100000 : 1000000, quick ? 1 : 3);
	printf("bench sqlite scale_get small=%.0f large=%.0f ratio=%.2f\n", small, large, large / small);
	fflush(stdout);
}

/* ---- PostgreSQL pages right after a bulk load, and after an ANALYZE ---- */

/* Pages per second: `n` pages of 20 spread over the table. */
static double pages_per_s(dal_repo *repo, int64_t rows, int n)
{
	dal_rows *page = NULL;
	dal_page where;
	double t0 = bench_seconds();

	for (int i = 0; i < n; i++) {
		if (dal_repo_paginate(&page, &where, repo, NULL, 1 + (int64_t)i * (rows / 20 / n), 20) < 0)
			bench_die("bench_scale", "paginate");
		dal_rows_free(page);
	}
	return n / (bench_seconds() - t0);
}

static void paginate_after_bulk(const char *url, bool quick)
{
	int64_t rows = quick ? 100000 : 1000000;
	int n = quick ? 20 : 40;
	dal_db *db = NULL;
	dal_repo *repo = scale_open(&db, url, &table, 0, rows);
	double loaded, analyzed;

	/* Each timed walk follows an untimed one over the same pages: the first reads
	 * after a load set the rows' hint bits and fill the buffers, a cost of the
	 * load, not of the plan, which would fall on the first walk alone. */
	pages_per_s(repo, rows, n);
	loaded = pages_per_s(repo, rows, n);
	if (dal_exec(NULL, db, "ANALYZE scale_dal", NULL, 0) < 0)
		bench_die("bench_scale", "analyze");
	pages_per_s(repo, rows, n);
	analyzed = pages_per_s(repo, rows, n);
	printf("bench postgresql scale_paginate_after_bulk small=%.1f large=%.1f ratio=%.2f\n", analyzed, loaded,
		loaded / analyzed);
	fflush(stdout);
	dal_repo_close(repo);
	dal_close(db);
}

/* ---- a writer during an audit cleanup ---- */

/* A writer's waits (seconds), one per create. */
typedef struct waits {
	double *s;
	size_t n, cap;
} waits;

enum { W_WARMUP, W_CLEANUP, W_ALONE, W_STOP };

typedef struct writer {
	dal_repo *repo;
	atomic_int phase;
	waits alone, during;       /* without a cleanup (the baseline), and during it */
	double worst_s, worst_at;  /* the worst wait during the cleanup, and when it began */
	double wal_mib;            /* SQLite: the size its log file reached; else -1 */
	int64_t creates;
} writer;

static void waits_add(waits *w, double d)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 4096;
		if (!(w->s = realloc(w->s, w->cap * sizeof(*w->s))))
			bench_die("bench_scale", "out of memory");
	}
	w->s[w->n++] = d;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of the waits in ms (sorts them); 0 without any. */
static double waits_ms(waits *w, double q)
{
	if (w->n == 0)
		return 0;
	qsort(w->s, w->n, sizeof(*w->s), by_value);
	return w->s[(size_t)(q * (double)(w->n - 1))] * 1000;
}

static size_t waits_over(const waits *w, double ms)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++)
		k += w->s[i] * 1000 > ms;
	return k;
}

static void *write_loop(void *arg)
{
	writer *w = arg;
	char email[48];
	double t0, d;
	int phase;

	while ((phase = atomic_load(&w->phase)) != W_STOP) {
		snprintf(email, sizeof(email), "w%lld@example.com", (long long)w->creates);
		dal_field f[] = { DAL_FIELD("name", dal_text("w")), DAL_FIELD("email", dal_text(email)) };
		t0 = bench_seconds();
		if (dal_repo_create(NULL, w->repo, f, 2) < 0)
			bench_die("bench_scale", "writer create");
		d = bench_seconds() - t0;
		/* A create that began before the cleanup ended counts as a wait for it. */
		if (phase == W_WARMUP && atomic_load(&w->phase) == W_CLEANUP)
			phase = W_CLEANUP;
		if (phase == W_CLEANUP && d > w->worst_s) {
			w->worst_s = d;
			w->worst_at = t0;
		}
		if (phase == W_ALONE || phase == W_CLEANUP)
			waits_add(phase == W_ALONE ? &w->alone : &w->during, d);
		w->creates++;
	}
	return NULL;
}

/* The size of an SQLite database's log file (it lasts until the last connection closes); -1 elsewhere. */
static double wal_mib(const char *url)
{
	char wal[600];
	struct stat st;

	if (strncmp(url, "sqlite:///", 10) != 0)
		return -1;
	snprintf(wal, sizeof(wal), "%s-wal", url + 10);
	return stat(wal, &st) == 0 ? (double)st.st_size / 1048576 : -1;
}

/* Audit rows to clean: one per row of an audited bulk create. Returns the cleanup's
 * seconds; with a writer, it writes during the cleanup, then alone for `baseline_s`. */
static double cleanup_run(const char *engine, const char *url, int64_t rows, writer *w, double baseline_s)
{
	dal_db *db = NULL;
	dal_repo *repo = scale_open(&db, url, &table, DAL_AUDIT, rows);
	pthread_t th;
	int64_t deleted = 0;
	double t0, t;

	if (w) {
		if (dal_repo_open(&w->repo, db, &table, DAL_AUDIT) < 0)
			bench_die("bench_scale", "writer repository");
		pthread_create(&th, NULL, write_loop, w);
		while (w->creates < 20)
			sched_yield();
		atomic_store(&w->phase, W_CLEANUP);
	}
	t0 = bench_seconds();
	if (dal_audit_cleanup(&deleted, db, 0) < 0)
		bench_die("bench_scale", "cleanup");
	t = bench_seconds() - t0;
	if (w) {
		atomic_store(&w->phase, W_ALONE);
		while (bench_seconds() - t0 - t < baseline_s)
			usleep(10000);
		atomic_store(&w->phase, W_STOP);
		pthread_join(th, NULL);
		dal_repo_close(w->repo);
		w->worst_at -= t0;
		w->wal_mib = wal_mib(url);
	}
	if (deleted < rows)
		fprintf(stderr, "bench_scale: %s cleanup deleted %lld of %lld\n", engine, (long long)deleted,
			(long long)rows);
	dal_repo_close(repo);
	dal_close(db);
	return t;
}

/*
 * The required line, then what the writer's waits were made of:
 *   bench <engine> cleanup_writer_waits cleanup_ms=<with the writer> p50_ms= p99_ms= max_ms=
 *         over_2_batches=<waits longer than 2 batches> worst_at_ms=<when the worst began, from
 *         the cleanup's start> alone_p50_ms= alone_p99_ms= alone_max_ms=<the same writer
 *         alone, right after the cleanup, for as long as the cleanup alone took> alone_over_2_batches=
 *         [wal_mib=<SQLite: the size the write-ahead log file reached>]
 */
static void cleanup_writer_wait(const char *engine, const char *url, bool quick)
{
	int64_t rows = quick ? 100000 : 1000000;
	double alone = cleanup_run(engine, url, rows, NULL, 0), batch_ms = alone * 1000 / (double)(rows / 5000), t;
	writer w = { 0 };
	double worst;

	t = cleanup_run(engine, url, rows, &w, alone);
	worst = waits_ms(&w.during, 1);
	printf("bench %s cleanup_writer_wait batch_ms=%.1f during_ms=%.1f ratio=%.2f writes=%lld\n", engine, batch_ms,
		worst, worst / batch_ms, (long long)w.during.n);
	printf("bench %s cleanup_writer_waits cleanup_ms=%.0f p50_ms=%.2f p99_ms=%.1f max_ms=%.1f over_2_batches=%zu "
		"worst_at_ms=%.0f alone_p50_ms=%.2f alone_p99_ms=%.1f alone_max_ms=%.1f alone_over_2_batches=%zu",
		engine, t * 1000, waits_ms(&w.during, 0.5), waits_ms(&w.during, 0.99), worst,
		waits_over(&w.during, 2 * batch_ms), w.worst_at * 1000, waits_ms(&w.alone, 0.5), waits_ms(&w.alone, 0.99),
		waits_ms(&w.alone, 1), waits_over(&w.alone, 2 * batch_ms));
	if (w.wal_mib >= 0)
		printf(" wal_mib=%.0f", w.wal_mib);
	printf("\n");
	fflush(stdout);
	free(w.alone.s);
	free(w.during.s);
}

int main(void)
{
	const char *pg = getenv("DAL_BENCH_PG_URL");
	bool quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "0") != 0;
	/* BENCH_ONLY=cleanup: the cleanup lines alone, to run them several times. */
	bool cleanup_only = getenv("BENCH_ONLY") && strcmp(getenv("BENCH_ONLY"), "cleanup") == 0;
	char dir[256], url[512], url2[512];

	snprintf(dir, sizeof(dir), "%s/dal-scale-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return 1;
	if (cleanup_only)
		goto cleanup;
	scale_get(dir, quick);
	snprintf(url, sizeof(url), "sqlite:///%s/page_small.db", dir);
	snprintf(url2, sizeof(url2), "sqlite:///%s/page_large.db", dir);
	scale_paginate("sqlite", url, url2, quick);
#ifdef DAL_WITH_DUCKDB
	snprintf(url, sizeof(url), "duckdb:///%s/page_small.duckdb", dir);
	snprintf(url2, sizeof(url2), "duckdb:///%s/page_large.duckdb", dir);
	scale_paginate("duckdb", url, url2, quick);
#endif
	if (pg)
		scale_paginate("postgresql", pg, pg, quick);
cleanup:
	snprintf(url, sizeof(url), "sqlite:///%s/cleanup.db", dir);
	cleanup_writer_wait("sqlite", url, quick);
	if (pg) {
		if (!cleanup_only)
			paginate_after_bulk(pg, quick);
		cleanup_writer_wait("postgresql", pg, quick);
	}
	snprintf(url, sizeof(url), "rm -rf '%s'", dir);
	return system(url) == 0 ? 0 : 1;
}
