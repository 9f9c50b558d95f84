/*
 * Stress: the read cache under concurrent writes. Writer threads own rows and
 * raise their `version` through every write path (update, a unit, dal_run_tx,
 * bulk update, a nested unit whose inner part rolls back, a unit that rolls
 * back, soft delete + restore + update in one unit), publishing a version only
 * after the call that committed it returned. Reader threads load the published
 * version, then dal_repo_get through a DAL_CACHE repository: a smaller version
 * is a stale read, a negative one a rolled-back write, DAL_ENOTFOUND an
 * uncommitted soft delete. Another thread invalidates at random.
 *
 *   cache_stress <url|@file> [seconds]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dal/dal.h>

#define ROWS 64
#define WRITERS 2
#define READERS 4

static const dal_column cols[] = {
	DAL_COL_ID(),
	DAL_COL("version", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static char table[64];
static dal_model model = { table, cols, sizeof(cols) / sizeof(cols[0]) };

static dal_db *db;
static int64_t ids[ROWS];
static _Atomic int64_t committed[ROWS];
static atomic_int stop;
static atomic_int failures;

#define FAIL(...) do { if (atomic_fetch_add(&failures, 1) < 20) { fprintf(stderr, "cache_stress: " __VA_ARGS__); \
	fputc('\n', stderr); } } while (0)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000L, (us % 1000000L) * 1000L };

	nanosleep(&ts, NULL);
}

/* ---- writers ---- */

typedef struct writer {
	int no;
	dal_repo *repo;
	long writes, rollbacks;
	int64_t row, version;   /* the write in flight, for dal_run_tx */
} writer;

static int set_version(dal_repo *repo, int64_t row, int64_t v)
{
	dal_field f[] = { DAL_FIELD("version", dal_int(v)) };

	return dal_repo_update(NULL, repo, ids[row], f, 1);
}

static int tx_update(dal_uow *uow, void *payload)
{
	writer *w = payload;

	(void)uow;
	return set_version(w->repo, w->row, w->version);
}

/* A nested unit writes garbage and rolls back; the outer commits the version. */
static int nested(writer *w, int64_t row, int64_t v)
{
	dal_uow *outer = NULL, *inner = NULL;
	int rc;

	if ((rc = dal_uow_begin(&outer, db, NULL)) < 0)
		return rc;
	if ((rc = set_version(w->repo, row, v)) == 0 && (rc = dal_uow_begin(&inner, db, NULL)) == 0) {
		rc = set_version(w->repo, row, -1);
		if (dal_uow_rollback(inner) < 0 && rc == 0)
			rc = DAL_ERROR;
	}
	if (rc < 0) {
		dal_uow_rollback(outer);
		return rc;
	}
	return dal_uow_commit(outer);
}

/* Gone and back inside one unit: no committed state has the row deleted. */
static int delete_restore(writer *w, int64_t row, int64_t v)
{
	dal_uow *uow = NULL;
	int rc;

	if ((rc = dal_uow_begin(&uow, db, NULL)) < 0)
		return rc;
	if ((rc = dal_repo_delete(w->repo, ids[row], true)) == 0 && (rc = dal_repo_restore(NULL, w->repo, ids[row])) == 0)
		rc = set_version(w->repo, row, v);
	if (rc < 0) {
		dal_uow_rollback(uow);
		return rc;
	}
	return dal_uow_commit(uow);
}

static int rolled_back(writer *w, int64_t row)
{
	dal_uow *uow = NULL;
	int rc;

	if ((rc = dal_uow_begin(&uow, db, NULL)) < 0)
		return rc;
	rc = set_version(w->repo, row, -2);
	dal_uow_rollback(uow);
	w->rollbacks++;
	return rc;
}

static int bulk(writer *w, int64_t row, int64_t row2, int64_t v, int64_t v2)
{
	const char *c[] = { "version" };
	int64_t two[2] = { ids[row], ids[row2] };
	dal_value vals[2] = { dal_int(v), dal_int(v2) };

	return dal_repo_bulk_update(NULL, w->repo, two, c, 1, vals, 2);
}

static void *write_loop(void *arg)
{
	writer *w = arg;
	uint64_t seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->no + 1);
	long i;

	for (i = 0; !atomic_load(&stop); i++) {
		int64_t row = (int64_t)(rnd(&seed) % (ROWS / WRITERS)) * WRITERS + w->no;
		int64_t row2 = (row + WRITERS) % ROWS;
		int64_t v = atomic_load(&committed[row]) + 1, v2 = atomic_load(&committed[row2]) + 1;
		int rc;

		switch (i % 7) {
		case 0: rc = set_version(w->repo, row, v); break;
		case 1: w->row = row; w->version = v; rc = dal_run_tx(db, NULL, tx_update, w); break;
		case 2: rc = bulk(w, row, row2, v, v2); break;
		case 3: rc = nested(w, row, v); break;
		case 4: rc = delete_restore(w, row, v); break;
		case 5: rc = rolled_back(w, row); v = v - 1; break;
		default: rc = set_version(w->repo, row, v); break;
		}
		if (rc == DAL_EBUSY || rc == DAL_ESERIALIZE)
			continue;
		if (rc != 0) {
			FAIL("writer %d: write kind %ld -> %d: %s", w->no, i % 7, rc, dal_error_last()->message);
			break;
		}
		/* Only now is the version known committed. */
		atomic_store(&committed[row], v);
		if (i % 7 == 2)
			atomic_store(&committed[row2], v2);
		w->writes++;
	}
	return NULL;
}

/* ---- readers ---- */

typedef struct reader {
	int no;
	dal_repo *repo;
	long reads, in_unit;
} reader;

static void check(const reader *r, int64_t row, int64_t floor, int rc, const dal_row *got, bool unit)
{
	int64_t v;

	if (rc == DAL_ENOTFOUND) {
		FAIL("reader %d%s: row %lld not found: an uncommitted soft delete was seen", r->no, unit ? " (unit)" : "",
			(long long)ids[row]);
		return;
	}
	if (rc != 0) {
		FAIL("reader %d: get -> %d: %s", r->no, rc, dal_error_last()->message);
		return;
	}
	v = dal_row_int(got, "version");
	if (v < 0)
		FAIL("reader %d%s: row %lld has version %lld: a rolled-back write was seen", r->no,
			unit ? " (unit)" : "", (long long)ids[row], (long long)v);
	else if (v < floor)
		FAIL("reader %d%s: row %lld: stale version %lld after version %lld was committed", r->no,
			unit ? " (unit)" : "", (long long)ids[row], (long long)v, (long long)floor);
}

static void *read_loop(void *arg)
{
	reader *r = arg;
	uint64_t seed = 0xdeadbeefcafeULL * (uint64_t)(r->no + 7);
	dal_uow_opts ro = DAL_UOW_OPTS_INIT;

	ro.read_only = true;
	while (!atomic_load(&stop)) {
		int64_t row = (int64_t)(rnd(&seed) % ROWS);
		int64_t floor = atomic_load(&committed[row]);
		dal_uow *uow = NULL;
		dal_row *got = NULL;
		bool unit = rnd(&seed) % 50 == 0;
		int rc;

		/* Now and then inside a unit: then the cache is bypassed. */
		if (unit && (rc = dal_uow_begin(&uow, db, &ro)) != 0) {
			if (rc != DAL_EBUSY)
				FAIL("reader %d: begin -> %d: %s", r->no, rc, dal_error_last()->message);
			continue;
		}
		rc = dal_repo_get(&got, r->repo, ids[row]);
		check(r, row, floor, rc, got, unit);
		dal_row_free(got);
		if (uow)
			dal_uow_commit(uow);
		r->reads++;
		r->in_unit += unit;
	}
	return NULL;
}

/* ---- invalidator ---- */

static void *invalidate_loop(void *arg)
{
	dal_repo *repo = arg;
	uint64_t seed = 42;
	long i;

	for (i = 0; !atomic_load(&stop); i++) {
		if (i % 100 == 99)
			dal_repo_invalidate_all(repo);
		else
			dal_repo_invalidate(repo, ids[rnd(&seed) % ROWS]);
		sleep_us(500);
	}
	return NULL;
}

/* ---- main ---- */

static int read_url(const char *arg, char *out, size_t n)
{
	FILE *f;

	if (arg[0] != '@') {
		snprintf(out, n, "%s", arg);
		return 0;
	}
	if (!(f = fopen(arg + 1, "r")) || !fgets(out, (int)n, f)) {
		fprintf(stderr, "cache_stress: cannot read the URL from %s\n", arg + 1);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int setup(void)
{
	const dal_model *ms[] = { &model };
	dal_repo *repo = NULL;
	char sql[128];
	int i;

	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", table);
	if (dal_exec(NULL, db, sql, NULL, 0) != 0 || dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) != 0 ||
	    dal_repo_open(&repo, db, &model, 0) != 0)
		return -1;
	for (i = 0; i < ROWS; i++) {
		dal_field f[] = { DAL_FIELD("version", dal_int(0)) };
		dal_row *row = NULL;
		if (dal_repo_create(&row, repo, f, 1) != 0) {
			dal_repo_close(repo);
			return -1;
		}
		ids[i] = dal_row_int(row, "id");
		atomic_init(&committed[i], 0);
		dal_row_free(row);
	}
	dal_repo_close(repo);
	return 0;
}

int main(int argc, char **argv)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_metrics *m = calloc(1, sizeof(*m));
	writer w[WRITERS];
	reader r[READERS];
	pthread_t tw[WRITERS], tr[READERS], ti;
	dal_repo *inval = NULL;
	char url[1024], sql[128];
	double seconds = argc > 2 ? atof(argv[2]) : 3.0;
	long writes = 0, reads = 0, in_unit = 0, rollbacks = 0;
	int i, rc = 1;

	if (argc < 2 || seconds <= 0) {
		fprintf(stderr, "usage: %s <url|@file> [seconds]\n", argv[0]);
		return 2;
	}
	if (read_url(argv[1], url, sizeof(url)) < 0)
		return 1;
	snprintf(table, sizeof(table), "dal_stress_cache_%d", (int)getpid());
	cfg.pool_size = 8;
	cfg.max_overflow = 4;
	cfg.tx_max_attempts = 50;
	if (dal_open(&db, url, &cfg) != 0 || setup() != 0 || dal_repo_open(&inval, db, &model, 0) != 0) {
		fprintf(stderr, "cache_stress: %s\n", dal_error_last()->message);
		dal_close(db);
		free(m);
		return 1;
	}
	atomic_init(&stop, 0);
	atomic_init(&failures, 0);
	memset(w, 0, sizeof(w));
	memset(r, 0, sizeof(r));
	for (i = 0; i < WRITERS; i++) {
		w[i].no = i;
		/* One writer's repository has DAL_CACHE: writes invalidate whatever the flag. */
		if (dal_repo_open(&w[i].repo, db, &model, i ? DAL_CACHE : 0) != 0)
			goto out;
	}
	for (i = 0; i < READERS; i++) {
		r[i].no = i;
		if (dal_repo_open(&r[i].repo, db, &model, DAL_CACHE) != 0)
			goto out;
	}
	for (i = 0; i < WRITERS; i++)
		pthread_create(&tw[i], NULL, write_loop, &w[i]);
	for (i = 0; i < READERS; i++)
		pthread_create(&tr[i], NULL, read_loop, &r[i]);
	pthread_create(&ti, NULL, invalidate_loop, inval);
	sleep_us((long)(seconds * 1e6));
	atomic_store(&stop, 1);
	for (i = 0; i < WRITERS; i++)
		pthread_join(tw[i], NULL);
	for (i = 0; i < READERS; i++)
		pthread_join(tr[i], NULL);
	pthread_join(ti, NULL);
	for (i = 0; i < WRITERS; i++) {
		writes += w[i].writes;
		rollbacks += w[i].rollbacks;
	}
	for (i = 0; i < READERS; i++) {
		reads += r[i].reads;
		in_unit += r[i].in_unit;
	}
	m->version = DAL_METRICS_VERSION;
	dal_metrics_get(m, db);
	printf("cache_stress: %s %.1f s: writes=%ld (rolled back %ld) reads=%ld (in units %ld) hits=%llu misses=%llu "
		"invalidations=%llu stale=%d\n", dal_db_engine(db), seconds, writes, rollbacks, reads, in_unit,
		(unsigned long long)m->cache_hits, (unsigned long long)m->cache_misses,
		(unsigned long long)m->cache_invalidations, atomic_load(&failures));
	rc = atomic_load(&failures) != 0;
	if (writes == 0 || reads == 0 || m->cache_hits == 0) {
		fprintf(stderr, "cache_stress: nothing was exercised (writes %ld, reads %ld, hits %llu)\n", writes, reads,
			(unsigned long long)m->cache_hits);
		rc = 1;
	}
out:
	for (i = 0; i < WRITERS; i++)
		dal_repo_close(w[i].repo);
	for (i = 0; i < READERS; i++)
		dal_repo_close(r[i].repo);
	dal_repo_close(inval);
	snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s", table);
	dal_exec(NULL, db, sql, NULL, 0);
	dal_close(db);
	free(m);
	return rc;
}
