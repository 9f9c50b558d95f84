/*
 * make bench-scale: how dal's cost grows as its data grows, through the public
 * API. Each curve is one function called from main and prints
 *
 *   bench <engine> scale_<name> small=<ops/s> large=<ops/s> ratio=<large/small>
 *
 * plus lines of its own (memory). BENCH_QUICK=1 makes a short smoke run
 * (smaller large sizes). A curve exits non-zero when what it measured is not
 * what it meant to measure (a timed cache get that was not a hit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#include "model.h"
#include "util.h"

static const dal_column cols[] = { BENCH_COLUMNS };
static const dal_model scale_model = DAL_MODEL("bench_scale", cols);

static int quick;

/* Anonymous resident memory in bytes (resident less file-backed, from
 * /proc/self/statm): SQLite's memory-mapped file pages are not the cache's. */
static long anon_bytes(void)
{
	long pages = 0, resident = 0, shared = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld %ld", &pages, &resident, &shared) != 3)
			resident = shared = 0;
		fclose(f);
	}
	return (resident - shared) * sysconf(_SC_PAGESIZE);
}

/* xorshift64*: the same cheap draw for every size, so only the lookup differs. */
static uint64_t draw(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A fresh SQLite file with `rows` rows of the bench model, ids 1..rows. */
static dal_db *scale_db(const char *path, const dal_config *cfg, int64_t rows)
{
	const char *names[] = { "name", "email", "score" };
	enum { BATCH = 10000 };
	dal_value *vals = malloc(sizeof(dal_value) * 3 * BATCH);
	int64_t *ids = malloc(sizeof(int64_t) * BATCH);
	char (*text)[2][40] = malloc(sizeof(*text) * BATCH);
	const dal_model *models[] = { &scale_model };
	char url[512];
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	int64_t done, i, n;

	snprintf(url, sizeof(url), "sqlite:///%s", path);
	if (!vals || !ids || !text)
		bench_die("bench_scale", "out of memory");
	if (dal_open(&db, url, cfg) < 0 || dal_init_database(db, models, 1, DAL_AUTO_MIGRATE) < 0 ||
	    dal_repo_open(&repo, db, &scale_model, 0) < 0)
		bench_die("bench_scale", url);
	for (done = 0; done < rows; done += n) {
		n = rows - done < BATCH ? rows - done : BATCH;
		for (i = 0; i < n; i++) {
			snprintf(text[i][0], sizeof(text[i][0]), "user %lld", (long long)(done + i));
			snprintf(text[i][1], sizeof(text[i][1]), "user%lld@example.com", (long long)(done + i));
			vals[i * 3] = dal_text(text[i][0]);
			vals[i * 3 + 1] = dal_text(text[i][1]);
			vals[i * 3 + 2] = dal_double((double)(done + i) * 0.5);
		}
		if (dal_repo_bulk_create(ids, repo, names, 3, vals, (size_t)n) < 0)
			bench_die("bench_scale", "bulk create");
		if (ids[0] != done + 1 || ids[n - 1] != done + n) {
			fprintf(stderr, "bench_scale: ids are not 1..%lld\n", (long long)rows);
			exit(1);
		}
	}
	dal_repo_close(repo);
	free(vals);
	free(ids);
	free(text);
	return db;
}

static void remove_db(const char *path)
{
	const char *suffix[] = { "", "-wal", "-shm", "-journal" };
	char name[300];
	size_t i;

	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
		unlink(name);
	}
}

static void get_or_die(dal_repo *repo, int64_t id)
{
	dal_row *row = NULL;

	if (dal_repo_get(&row, repo, id) < 0)
		bench_die("bench_scale", "get");
	dal_row_free(row);
}

static dal_metrics cache_counts(dal_db *db)
{
	dal_metrics m = DAL_METRICS_INIT;

	if (dal_metrics_get(&m, db) < 0)
		bench_die("bench_scale", "metrics");
	return m;
}

/* One round of `n` random gets over ids 1..`cached`; gets per second. */
static double cached_round(dal_repo *repo, int64_t cached, int64_t n, uint64_t *s)
{
	double t0 = bench_seconds();
	int64_t i;

	for (i = 0; i < n; i++)
		get_or_die(repo, 1 + (int64_t)(draw(s) % (uint64_t)cached));
	return (double)n / (bench_seconds() - t0);
}

/* Exit unless the cache of `db` answered every one of `gets` gets since its reset. */
static void all_hits(dal_db *db, int64_t gets)
{
	dal_metrics m = cache_counts(db);

	if (m.cache_hits != (uint64_t)gets || m.cache_misses != 0) {
		fprintf(stderr, "bench_scale: %lld timed gets were not all hits (hits %llu, misses %llu)\n",
			(long long)gets, (unsigned long long)m.cache_hits, (unsigned long long)m.cache_misses);
		exit(1);
	}
}

/*
 * Nanoseconds one read of memory the CPU's caches do not hold takes here and
 * now: a chase of dependent pointers over 128 MiB in random order. A cache hit
 * at 1M rows has to make at least one such read.
 */
static double memory_read_ns(void)
{
	const size_t n = (128u << 20) / 64, reads = 2000000;
	char *mem = malloc(n * 64);
	size_t *order = malloc(n * sizeof(*order)), i, j, t;
	uint64_t s = 88172645463325252ULL;
	char *p;
	double t0;

	if (!mem || !order)
		bench_die("bench_scale", "out of memory");
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (size_t)(draw(&s) % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		*(char **)(void *)(mem + order[i] * 64) = mem + order[(i + 1) % n] * 64;
	free(order);
	p = mem;
	t0 = bench_seconds();
	for (i = 0; i < reads; i++)
		p = *(char **)(void *)p;
	t0 = (bench_seconds() - t0) * 1e9 / (double)reads;
	if (p == NULL)
		bench_die("bench_scale", "pointer chase");
	free(mem);
	return t0;
}

/* Fill the cache with ids 1..`rows` (each read once from the database). */
static void fill(dal_db *db, dal_repo *repo, int64_t from, int64_t rows)
{
	int64_t id;

	for (id = from; id <= rows; id++)
		get_or_die(repo, id);
	if (cache_counts(db).cache_entries != (uint64_t)rows) {
		fprintf(stderr, "bench_scale: %llu rows cached, meant %lld\n",
			(unsigned long long)cache_counts(db).cache_entries, (long long)rows);
		exit(1);
	}
}

/*
 * A cache hit with 1k rows cached against 1M (every row cached, no eviction,
 * TTL far away), random ids: at 1M each hit reaches memory the CPU's caches no
 * longer hold. Two handles on one file, each with a cache of its own, timed in
 * alternate rounds (best of each), so that a change in the machine's load
 * between them does not pass for a change in the cache. Then the bytes a cached
 * row costs: anonymous memory grown over the rows added. SQLite alone: the cache is the same
 * on every engine.
 */
static void scale_cached_get(void)
{
	const int64_t small = 1000, large = quick ? 100000 : 1000000, n = quick ? 200000 : 1000000;
	const int rounds = 5;
	dal_config cfg = DAL_CONFIG_INIT;
	char path[256], url[300];
	dal_repo *rs = NULL, *rl = NULL;
	dal_db *ds = NULL, *dl;
	double r_small = 0, r_large = 0, r, mem_ns;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	long rss0;
	int i;

	snprintf(path, sizeof(path), "/tmp/dal-bench-scale-%ld.db", (long)getpid());
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	cfg.cache_max_entries = (int)large;
	cfg.cache_ttl_ms = 3600 * 1000;
	dl = scale_db(path, &cfg, large);
	if (dal_open(&ds, url, &cfg) < 0 || dal_repo_open(&rs, ds, &scale_model, DAL_CACHE) < 0 ||
	    dal_repo_open(&rl, dl, &scale_model, DAL_CACHE) < 0)
		bench_die("bench_scale", "repo open");
	fill(ds, rs, 1, small);
	rss0 = anon_bytes();
	fill(dl, rl, 1, large);
	printf("bench sqlite cache_bytes_per_row rows=%lld bytes=%.0f\n", (long long)large,
		(double)(anon_bytes() - rss0) / (double)large);
	if (dal_metrics_reset(ds) < 0 || dal_metrics_reset(dl) < 0)
		bench_die("bench_scale", "metrics reset");
	for (i = 0; i < rounds; i++) {
		r = cached_round(rs, small, n, &seed);
		r_small = r > r_small ? r : r_small;
		r = cached_round(rl, large, n, &seed);
		r_large = r > r_large ? r : r_large;
	}
	all_hits(ds, rounds * n);
	all_hits(dl, rounds * n);
	printf("bench sqlite scale_cached_get small=%.0f large=%.0f ratio=%.2f\n", r_small, r_large, r_large / r_small);
	mem_ns = memory_read_ns();
	/* What the ratio would be if a hit at 1M cost its small-size time plus exactly one read of memory. */
	printf("bench sqlite scale_cached_get_context small_ns=%.0f large_ns=%.0f memory_read_ns=%.0f "
		"ratio_at_one_read=%.2f\n", 1e9 / r_small, 1e9 / r_large, mem_ns, (1e9 / r_small) / (1e9 / r_small + mem_ns));
	fflush(stdout);
	dal_repo_close(rs);
	dal_repo_close(rl);
	dal_close(ds);
	dal_close(dl);
	remove_db(path);
}

int main(void)
{
	quick = getenv("BENCH_QUICK") != NULL;
	scale_cached_get();
	return 0;
}
