/* The read cache (DAL_CACHE): hits, coherence with every write path, units of
 * work, invalidation, counters, the bound and the TTL. */
#include "conformance/fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static const dal_column item_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("version", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model items = DAL_MODEL("items", item_cols);
/* The same table described by a second model: the cache is per table, not per model. */
static const dal_model items_again = DAL_MODEL("items", item_cols);

static void schema(fixture *fx)
{
	const dal_model *ms[] = { &items };

	CHECK_OK(dal_init_database(fx->db, ms, 1, DAL_AUTO_MIGRATE));
}

/* The fixture's database again, with these settings (one instance per file on DuckDB). */
static void reopen(fixture *fx, const dal_config *cfg)
{
	dal_close(fx->db);
	fx->db = NULL;
	CHECK_OK(dal_open(&fx->db, fx->url, cfg));
	if (fx_is(fx, "postgres"))
		fx_exec(fx, "DROP TABLE IF EXISTS items");
	schema(fx);
}

/* A DAL_CACHE repository on the fixture's database reopened with `cfg`. */
static dal_repo *reopen_cached(fixture *fx, const dal_config *cfg)
{
	dal_repo *repo = NULL;

	reopen(fx, cfg);
	CHECK_OK(dal_repo_open(&repo, fx->db, &items, DAL_CACHE));
	return repo;
}

static int64_t add(dal_repo *repo, const char *name, int64_t version)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)), DAL_FIELD("version", dal_int(version)) };
	dal_row *row = NULL;
	int64_t id;

	CHECK_OK(dal_repo_create(&row, repo, f, 2));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	return id;
}

static void set_version(dal_repo *repo, int64_t id, int64_t version)
{
	dal_field f[] = { DAL_FIELD("version", dal_int(version)) };

	CHECK_OK(dal_repo_update(NULL, repo, id, f, 1));
}

/* The version dal_repo_get answers; -1 for DAL_ENOTFOUND. */
static int64_t version_of(dal_repo *repo, int64_t id)
{
	dal_row *row = NULL;
	int64_t v;
	int rc = dal_repo_get(&row, repo, id);

	if (rc == DAL_ENOTFOUND) {
		assert_null(row);
		return -1;
	}
	if (rc != 0)
		fail_msg("dal_repo_get(%lld) -> %d: %s", (long long)id, rc, dal_error_last()->message);
	v = dal_row_int(row, "version");
	dal_row_free(row);
	return v;
}

typedef struct counts {
	uint64_t hits, misses, evictions, expirations, invalidations, entries, max;
} counts;

static counts cache_counts(dal_db *db)
{
	dal_metrics *m = calloc(1, sizeof(*m));
	counts c;

	m->version = DAL_METRICS_VERSION;
	CHECK_OK(dal_metrics_get(m, db));
	c = (counts){ m->cache_hits, m->cache_misses, m->cache_evictions, m->cache_expirations,
		m->cache_invalidations, m->cache_entries, m->cache_max_entries };
	free(m);
	return c;
}

#define CHECK_COUNTS(db, h, mi, ev, ex, inv, ent) \
	do { counts c_ = cache_counts(db); \
		if (c_.hits != (uint64_t)(h) || c_.misses != (uint64_t)(mi) || c_.evictions != (uint64_t)(ev) || \
		    c_.expirations != (uint64_t)(ex) || c_.invalidations != (uint64_t)(inv) || c_.entries != (uint64_t)(ent)) \
			fail_msg("cache counters hits %llu misses %llu evictions %llu expirations %llu invalidations " \
				"%llu entries %llu, expected %d %d %d %d %d %d", (unsigned long long)c_.hits, \
				(unsigned long long)c_.misses, (unsigned long long)c_.evictions, \
				(unsigned long long)c_.expirations, (unsigned long long)c_.invalidations, \
				(unsigned long long)c_.entries, (h), (mi), (ev), (ex), (inv), (ent)); \
	} while (0)

/* A version answered from the cache: the get must count as a hit. */
static int64_t cached_version(dal_db *db, dal_repo *repo, int64_t id)
{
	uint64_t before = cache_counts(db).hits;
	int64_t v = version_of(repo, id);

	if (cache_counts(db).hits != before + 1)
		fail_msg("get of id %lld was not answered from the cache", (long long)id);
	return v;
}

/* Read `id` (from the database or the cache), then again from the cache: both `version`. */
static void fill_and_hit(dal_db *db, dal_repo *repo, int64_t id, int64_t version)
{
	assert_int_equal(version_of(repo, id), version);
	assert_int_equal(cached_version(db, repo, id), version);
}

/* ---- reads ---- */

static void test_cache_hit_after_get(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL, *plain = NULL;
	dal_row *a = NULL, *b = NULL, *c = NULL;
	int64_t id;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	CHECK_OK(dal_repo_open(&plain, fx->db, &items, 0));
	id = add(plain, "ann", 1);
	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_repo_get(&a, cached, id));
	CHECK_COUNTS(fx->db, 0, 1, 0, 0, 0, 1);
	CHECK_OK(dal_repo_get(&b, cached, id));
	CHECK_COUNTS(fx->db, 1, 1, 0, 0, 0, 1);
	/* Copies the caller owns: equal, distinct, and changing one changes nothing else. */
	assert_ptr_not_equal(a, b);
	assert_string_equal(dal_row_text(a, "name"), dal_row_text(b, "name"));
	assert_int_equal(dal_row_timestamp(a, "created_at"), dal_row_timestamp(b, "created_at"));
	assert_true(dal_row_is_null(b, "deleted_at"));
	CHECK_OK(dal_row_set(b, "name", &(dal_value){ .type = DAL_TYPE_TEXT, .v.s = "changed", .len = 7 }));
	dal_row_free(a);
	CHECK_OK(dal_repo_get(&c, cached, id));
	assert_string_equal(dal_row_text(c, "name"), "ann");
	dal_row_free(b);
	dal_row_free(c);
	/* A repository without DAL_CACHE neither reads nor counts through the cache. */
	assert_int_equal(version_of(plain, id), 1);
	CHECK_COUNTS(fx->db, 2, 1, 0, 0, 0, 1);
	/* Absent ids are not cached. */
	assert_int_equal(version_of(cached, id + 100), -1);
	assert_int_equal(version_of(cached, id + 100), -1);
	CHECK_COUNTS(fx->db, 2, 3, 0, 0, 0, 1);
	dal_repo_close(cached);
	dal_repo_close(plain);
}

/* ---- every write path of another repository ---- */

static void test_cache_writes_invalidate(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL, *w = NULL, *audited = NULL;
	const char *cols[] = { "version" };
	dal_value vals[2];
	int64_t id, id2, ids[2], n = 0;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	/* Another model of the same table, without DAL_CACHE. */
	CHECK_OK(dal_repo_open(&w, fx->db, &items_again, 0));
	CHECK_OK(dal_repo_open(&audited, fx->db, &items, DAL_AUDIT));
	id = add(w, "ann", 1);
	id2 = add(w, "bob", 1);
	ids[0] = id;
	ids[1] = id2;

	fill_and_hit(fx->db, cached, id, 1);
	set_version(w, id, 2);
	assert_int_equal(version_of(cached, id), 2);

	/* Update with the new row returned, and an audited update (its own transaction). */
	assert_int_equal(cached_version(fx->db, cached, id), 2);
	{
		dal_field f[] = { DAL_FIELD("version", dal_int(3)) };
		dal_row *row = NULL;
		CHECK_OK(dal_repo_update(&row, w, id, f, 1));
		dal_row_free(row);
	}
	fill_and_hit(fx->db, cached, id, 3);
	set_version(audited, id, 4);
	assert_int_equal(version_of(cached, id), 4);

	/* Soft delete, restore, hard delete. */
	assert_int_equal(cached_version(fx->db, cached, id), 4);
	CHECK_OK(dal_repo_delete(w, id, true));
	assert_int_equal(version_of(cached, id), -1);
	CHECK_OK(dal_repo_restore(NULL, w, id));
	fill_and_hit(fx->db, cached, id, 4);
	CHECK_OK(dal_repo_delete(audited, id, true));
	assert_int_equal(version_of(cached, id), -1);
	CHECK_OK(dal_repo_restore(NULL, audited, id));
	assert_int_equal(version_of(cached, id), 4);

	/* Bulk update, bulk soft delete, bulk hard delete. */
	assert_int_equal(cached_version(fx->db, cached, id), 4);
	assert_int_equal(version_of(cached, id2), 1);
	vals[0] = dal_int(5);
	vals[1] = dal_int(6);
	CHECK_OK(dal_repo_bulk_update(&n, w, ids, cols, 1, vals, 2));
	assert_int_equal(n, 2);
	assert_int_equal(version_of(cached, id), 5);
	fill_and_hit(fx->db, cached, id2, 6);
	CHECK_OK(dal_repo_bulk_delete(&n, w, ids, 2, true));
	assert_int_equal(version_of(cached, id), -1);
	assert_int_equal(version_of(cached, id2), -1);
	CHECK_OK(dal_repo_restore(NULL, w, id2));
	fill_and_hit(fx->db, cached, id2, 6);
	CHECK_OK(dal_repo_delete(w, id2, false));
	assert_int_equal(version_of(cached, id2), -1);
	CHECK_OK(dal_repo_restore(NULL, w, id));
	fill_and_hit(fx->db, cached, id, 5);
	CHECK_OK(dal_repo_bulk_delete(&n, w, &id, 1, false));
	assert_int_equal(version_of(cached, id), -1);

	/* Bulk create: the new ids read back through the cache. */
	{
		const char *ccols[] = { "name", "version" };
		dal_value cv[] = { dal_text("cy"), dal_int(7), dal_text("di"), dal_int(8) };
		int64_t nids[2];
		CHECK_OK(dal_repo_bulk_create(nids, w, ccols, 2, cv, 2));
		assert_int_equal(version_of(cached, nids[0]), 7);
		fill_and_hit(fx->db, cached, nids[1], 8);
		vals[0] = dal_int(9);
		CHECK_OK(dal_repo_bulk_update(&n, audited, &nids[1], cols, 1, vals, 1));
		assert_int_equal(version_of(cached, nids[1]), 9);
	}
	dal_repo_close(cached);
	dal_repo_close(w);
	dal_repo_close(audited);
}

/* ---- units of work ---- */

typedef struct other_get {
	dal_repo *repo;
	int64_t id;
	int64_t version;
	uint64_t hits_before, hits_after;
	dal_db *db;
} other_get;

static void *get_on_other_thread(void *arg)
{
	other_get *o = arg;
	dal_row *row = NULL;
	int rc;

	o->hits_before = cache_counts(o->db).hits;
	rc = dal_repo_get(&row, o->repo, o->id);
	o->version = rc == 0 ? dal_row_int(row, "version") : rc == DAL_ENOTFOUND ? -1 : -1000 + rc;
	dal_row_free(row);
	o->hits_after = cache_counts(o->db).hits;
	return NULL;
}

/* dal_repo_get of `id` on a thread without a unit of work (repositories are one
 * thread at a time: the caller does not use `repo` meanwhile). */
static other_get get_elsewhere(dal_db *db, dal_repo *repo, int64_t id)
{
	other_get o = { repo, id, 0, 0, 0, db };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, get_on_other_thread, &o), 0);
	pthread_join(t, NULL);
	return o;
}

static void test_cache_unit_write_not_shared(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL, *w = NULL, *in_unit = NULL;
	dal_uow *uow = NULL;
	other_get o;
	int64_t a, b;
	counts before;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	CHECK_OK(dal_repo_open(&w, fx->db, &items, 0));
	a = add(w, "ann", 1);
	b = add(w, "bob", 1);
	assert_int_equal(version_of(cached, a), 1);
	assert_int_equal(version_of(cached, b), 1);

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&in_unit, uow, &items, DAL_CACHE));
	set_version(in_unit, a, 2);
	/* Inside the unit its own write is seen, never the shared cache's row. */
	before = cache_counts(fx->db);
	assert_int_equal(version_of(in_unit, a), 2);
	assert_int_equal(version_of(cached, a), 2);
	assert_int_equal(version_of(cached, b), 1);
	CHECK_COUNTS(fx->db, (int)before.hits, (int)before.misses, 0, 0, (int)before.invalidations,
		(int)before.entries);

	/* Another thread: an untouched row from the cache, without waiting for a connection. */
	o = get_elsewhere(fx->db, cached, b);
	assert_int_equal(o.version, 1);
	assert_int_equal(o.hits_after, o.hits_before + 1);
	if (!fx_is(fx, "sqlite-memory")) {
		/* The written row comes from the database, which does not show the uncommitted write. */
		o = get_elsewhere(fx->db, cached, a);
		assert_int_equal(o.version, 1);
		assert_int_equal(o.hits_after, o.hits_before);
	}
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(in_unit);
	o = get_elsewhere(fx->db, cached, a);
	assert_int_equal(o.version, 2);
	fill_and_hit(fx->db, cached, a, 2);
	dal_repo_close(cached);
	dal_repo_close(w);
	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: has one connection: another thread cannot read the written row while the "
			"unit holds it (the untouched, cached row was checked)");
}

static void test_cache_rollback_leaves_it(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL, *in_unit = NULL;
	dal_uow *outer = NULL, *inner = NULL;
	int64_t a, b;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	a = add(cached, "ann", 1);
	b = add(cached, "bob", 1);
	assert_int_equal(version_of(cached, a), 1);
	assert_int_equal(version_of(cached, b), 1);

	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&in_unit, outer, &items, 0));
	set_version(in_unit, a, 5);
	CHECK_OK(dal_repo_delete(in_unit, b, true));
	CHECK_OK(dal_uow_rollback(outer));
	/* As before: the same rows, still cached. */
	assert_int_equal(cached_version(fx->db, cached, a), 1);
	assert_int_equal(cached_version(fx->db, cached, b), 1);

	/* A nested unit rolled back inside a committed one: its row is read again, unchanged. */
	dal_repo_close(in_unit);
	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&in_unit, outer, &items, 0));
	set_version(in_unit, b, 7);
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	set_version(in_unit, a, 6);
	CHECK_OK(dal_uow_rollback(inner));
	CHECK_OK(dal_uow_commit(outer));
	assert_int_equal(version_of(cached, a), 1);
	fill_and_hit(fx->db, cached, b, 7);
	dal_repo_close(in_unit);
	dal_repo_close(cached);
}

static void test_cache_no_fill_in_unit(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL;
	dal_uow *uow = NULL;
	int64_t a;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	a = add(cached, "ann", 1);
	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	assert_int_equal(version_of(cached, a), 1);
	assert_int_equal(version_of(cached, a), 1);
	CHECK_OK(dal_uow_commit(uow));
	CHECK_COUNTS(fx->db, 0, 0, 0, 0, 0, 0);
	assert_int_equal(version_of(cached, a), 1);
	CHECK_COUNTS(fx->db, 0, 1, 0, 0, 0, 1);
	dal_repo_close(cached);
}

/* ---- raw SQL and the invalidate calls ---- */

static void raw_set_version(dal_db *db, int64_t id, int64_t version)
{
	dal_value p[] = { dal_int(version), dal_int(id) };

	CHECK_OK(dal_exec(NULL, db, "UPDATE items SET version = ? WHERE id = ?", p, 2));
}

static void test_cache_invalidate(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL, *plain = NULL;
	dal_uow *uow = NULL;
	int64_t a, b;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	CHECK_OK(dal_repo_open(&plain, fx->db, &items, 0));
	a = add(plain, "ann", 1);
	b = add(plain, "bob", 1);
	assert_int_equal(version_of(cached, a), 1);
	assert_int_equal(version_of(cached, b), 1);
	/* Raw SQL bypasses the cache (documented): the cached row stays until invalidated. */
	raw_set_version(fx->db, a, 2);
	raw_set_version(fx->db, b, 2);
	assert_int_equal(cached_version(fx->db, cached, a), 1);
	CHECK_OK(dal_repo_invalidate(plain, a));
	assert_int_equal(version_of(cached, a), 2);
	assert_int_equal(cached_version(fx->db, cached, b), 1);
	CHECK_OK(dal_repo_invalidate(cached, a + b + 100));
	CHECK_OK(dal_repo_invalidate_all(cached));
	assert_int_equal(cache_counts(fx->db).entries, 0);
	assert_int_equal(version_of(cached, a), 2);
	assert_int_equal(version_of(cached, b), 2);

	/* In a unit: applied when it commits, dropped when it rolls back. */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	raw_set_version(fx->db, a, 3);
	CHECK_OK(dal_repo_invalidate(plain, a));
	CHECK_OK(dal_uow_rollback(uow));
	assert_int_equal(cached_version(fx->db, cached, a), 2);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	raw_set_version(fx->db, a, 3);
	raw_set_version(fx->db, b, 3);
	CHECK_OK(dal_repo_invalidate(plain, a));
	CHECK_OK(dal_repo_invalidate_all(plain));
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(version_of(cached, a), 3);
	assert_int_equal(version_of(cached, b), 3);
	CHECK_ERR(DAL_EINVAL, dal_repo_invalidate(NULL, 1));
	CHECK_ERR(DAL_EINVAL, dal_repo_invalidate_all(NULL));
	dal_repo_close(cached);
	dal_repo_close(plain);
}

/* ---- counters, bound, age ---- */

static void test_cache_counters(void **state)
{
	fixture *fx = FX(state);
	dal_repo *cached = NULL;
	char *text = NULL, want[160];
	int64_t a, b;

	schema(fx);
	CHECK_OK(dal_repo_open(&cached, fx->db, &items, DAL_CACHE));
	a = add(cached, "ann", 1);
	b = add(cached, "bob", 1);
	CHECK_OK(dal_metrics_reset(fx->db));
	version_of(cached, a);           /* miss */
	version_of(cached, a);           /* hit */
	version_of(cached, b);           /* miss */
	version_of(cached, b);           /* hit */
	version_of(cached, a);           /* hit */
	set_version(cached, a, 2);       /* invalidation */
	version_of(cached, a);           /* miss */
	version_of(cached, a + b + 100); /* miss, not cached */
	CHECK_OK(dal_repo_invalidate(cached, b));          /* invalidation */
	CHECK_OK(dal_repo_invalidate(cached, b));          /* nothing cached: none */
	CHECK_OK(dal_repo_invalidate_all(cached));         /* one left: invalidation */
	CHECK_COUNTS(fx->db, 3, 4, 0, 0, 3, 0);
	assert_int_equal(cache_counts(fx->db).max, 10000);

	CHECK_OK(dal_metrics_json(&text, fx->db));
	assert_non_null(strstr(text, "\"cache\":{"));
	assert_non_null(strstr(text, "\"hits\":3"));
	assert_non_null(strstr(text, "\"invalidations\":3"));
	dal_string_free(text);
	CHECK_OK(dal_metrics_prometheus(&text, fx->db));
	snprintf(want, sizeof(want), "# TYPE dal_cache_hits_total counter\ndal_cache_hits_total{db_system_name=\"%s\"} 3\n",
		dal_db_engine(fx->db));
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "dal_cache_misses_total{"));
	assert_non_null(strstr(text, "dal_cache_evictions_total{"));
	assert_non_null(strstr(text, "dal_cache_invalidations_total{"));
	assert_non_null(strstr(text, "# TYPE dal_cache_entries gauge\n"));
	dal_string_free(text);
	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_COUNTS(fx->db, 0, 0, 0, 0, 0, 0);
	dal_repo_close(cached);
}

static void test_cache_eviction_bound(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *cached;
	int64_t id[4];
	int i;

	cfg.cache_max_entries = 3;
	cached = reopen_cached(fx, &cfg);
	for (i = 0; i < 4; i++)
		id[i] = add(cached, "row", i);
	for (i = 0; i < 3; i++)
		version_of(cached, id[i]);
	CHECK_COUNTS(fx->db, 0, 3, 0, 0, 0, 3);
	/* id[0] becomes the most recently used; id[1] the least. */
	assert_int_equal(cached_version(fx->db, cached, id[0]), 0);
	version_of(cached, id[3]);
	CHECK_COUNTS(fx->db, 1, 4, 1, 0, 0, 3);
	assert_int_equal(version_of(cached, id[1]), 1);  /* evicted: a miss, and evicts id[2] */
	CHECK_COUNTS(fx->db, 1, 5, 2, 0, 0, 3);
	assert_int_equal(cached_version(fx->db, cached, id[0]), 0);
	assert_int_equal(cached_version(fx->db, cached, id[3]), 3);
	assert_int_equal(version_of(cached, id[2]), 2);
	CHECK_COUNTS(fx->db, 3, 6, 3, 0, 0, 3);
	assert_int_equal(cache_counts(fx->db).max, 3);
	dal_repo_close(cached);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_cache_ttl(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *cached;
	int64_t a;

	cfg.cache_ttl_ms = 100;
	cached = reopen_cached(fx, &cfg);
	a = add(cached, "ann", 1);
	version_of(cached, a);
	CHECK_COUNTS(fx->db, 0, 1, 0, 0, 0, 1);
	sleep_ms(250);
	/* Older than the TTL: read again (another program may have changed it). */
	version_of(cached, a);
	CHECK_COUNTS(fx->db, 0, 2, 0, 1, 0, 1);
	assert_int_equal(cached_version(fx->db, cached, a), 1);
	dal_repo_close(cached);
}

static void test_cache_off(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *cached;
	int64_t a;

	cfg.cache_max_entries = 0;
	cached = reopen_cached(fx, &cfg);
	a = add(cached, "ann", 1);
	assert_int_equal(version_of(cached, a), 1);
	set_version(cached, a, 2);
	assert_int_equal(version_of(cached, a), 2);
	CHECK_OK(dal_repo_invalidate(cached, a));
	CHECK_OK(dal_repo_invalidate_all(cached));
	CHECK_COUNTS(fx->db, 0, 0, 0, 0, 0, 0);
	assert_int_equal(cache_counts(fx->db).max, 0);
	dal_repo_close(cached);
}

FX_CASES(cases_cache,
	FX_CASE(test_cache_hit_after_get),
	FX_CASE(test_cache_writes_invalidate),
	FX_CASE(test_cache_unit_write_not_shared),
	FX_CASE(test_cache_rollback_leaves_it),
	FX_CASE(test_cache_no_fill_in_unit),
	FX_CASE(test_cache_invalidate),
	FX_CASE(test_cache_counters),
	FX_CASE(test_cache_eviction_bound),
	FX_CASE(test_cache_ttl),
	FX_CASE(test_cache_off),
);
