/* Cost that grows only with the work: SQLite's page cache and memory map. */
#include "conformance/fixture.h"

#include <stdlib.h>

static int64_t pragma(dal_db *db, const char *sql)
{
	dal_result *r = NULL;
	int64_t v;

	CHECK_OK(dal_query(&r, db, sql, NULL, 0));
	assert_int_equal(dal_result_rows(r), 1);
	v = dal_result_get(r, 0, 0)->v.i;
	dal_result_free(r);
	return v;
}

/* Every connection of a file database gets the configured page cache and memory map. */
static void test_sqlite_page_cache_and_mmap_from_config(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;

	if (!fx_is(fx, "sqlite-file") && !fx_is(fx, "sqlite-memory"))
		FX_SKIP("SQLite's page cache and memory map only");
	if (fx_is(fx, "sqlite-memory")) {
		/* A :memory: database is all page cache: dal leaves SQLite's setting alone. */
		assert_int_equal(pragma(fx->db, "PRAGMA cache_size"), -2000);
		return;
	}
	assert_int_equal(pragma(fx->db, "PRAGMA cache_size"), -16384);
	assert_int_equal(pragma(fx->db, "PRAGMA mmap_size"), 256LL * 1024 * 1024);
	cfg.sqlite_cache_kib = 1024;
	cfg.sqlite_mmap_mib = 0;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	assert_int_equal(pragma(db, "PRAGMA cache_size"), -1024);
	assert_int_equal(pragma(db, "PRAGMA mmap_size"), 0);
	dal_close(db);
	cfg.sqlite_mmap_mib = -1;
	CHECK_ERR(DAL_EINVAL, fx_open_again(&db, fx, &cfg));
	CHECK_MSG("sqlite_mmap_mib");
}

/* A program built against version 3 of dal_config gets this version's defaults for the rest. */
static void test_config_version_3_gets_default_sqlite_sizes(void **state)
{
	fixture *fx = FX(state);
	dal_config old;
	dal_db *db = NULL;

	if (!fx_is(fx, "sqlite-file"))
		FX_SKIP("SQLite file databases only");
	memset(&old, 0x7f, sizeof(old));
	CHECK_OK(dal_config_init(&old, 3));
	CHECK_OK(fx_open_again(&db, fx, &old));
	assert_int_equal(pragma(db, "PRAGMA cache_size"), -16384);
	dal_close(db);
}

static const dal_column bulk_cols[] = {
	DAL_COL_ID(), DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_INDEX, 0), DAL_COL("note", DAL_TYPE_TEXT, 0, 0),
	DAL_COL_CREATED_AT(), DAL_COL_DELETED_AT(),
};
static const dal_model bulk_model = DAL_MODEL("sc_bulk", bulk_cols);

/* `n` rows through one bulk create. */
static void bulk_rows(dal_repo *repo, size_t n)
{
	const char *cols[] = { "email", "note" };
	dal_value *v = calloc(n * 2, sizeof(*v));
	char (*mail)[32] = calloc(n, sizeof(*mail));

	for (size_t i = 0; i < n; i++) {
		snprintf(mail[i], sizeof(mail[i]), "u%zu@x.org", i);
		v[i * 2] = dal_text(mail[i]);
		v[i * 2 + 1] = dal_text("n");
	}
	CHECK_OK(dal_repo_bulk_create(NULL, repo, cols, 2, v, n));
	free(mail);
	free(v);
}

static int64_t stats_of(fixture *fx, const char *column)
{
	dal_value p[] = { dal_text("sc_bulk"), dal_text(column) };

	return fx_scalar(fx, "SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = $1 "
		"AND attname = $2", p, 2);
}

/* A bulk write of a large share of a table leaves the planner statistics of what it holds now. */
static void test_bulk_write_refreshes_statistics(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo;
	dal_uow *uow = NULL;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("SQLite and DuckDB plan these reads well without a refresh (docs/bulk.md)");
	repo = fx_open_repo(fx, &bulk_model, 0);
	/* Only dal may refresh them here: autovacuum would, at a moment of its own. */
	fx_exec(fx, "ALTER TABLE sc_bulk SET (autovacuum_enabled = false)");
	/* Below the threshold the engine's own upkeep is left to do it. */
	bulk_rows(repo, 9999);
	assert_int_equal(stats_of(fx, "deleted_at"), 0);
	/* In a unit of work nothing is refreshed: the rows are not committed yet. */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	bulk_rows(repo, 10000);
	assert_int_equal(stats_of(fx, "deleted_at"), 0);
	CHECK_OK(dal_uow_rollback(uow));
	bulk_rows(repo, 10000);
	assert_int_equal(stats_of(fx, "deleted_at"), 1);
	assert_int_equal(stats_of(fx, "email"), 1);
	assert_int_equal(stats_of(fx, "note"), 0);
	assert_true(fx_scalar(fx, "SELECT reltuples::bigint FROM pg_class WHERE relname = 'sc_bulk'", NULL, 0) >= 19999);
	/* A small sample (statistics target 10: at most 11 histogram bounds), for the
	 * refresh to cost little beside the bulk write. */
	assert_true(fx_scalar(fx, "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats "
		"WHERE tablename = 'sc_bulk' AND attname = 'email'", NULL, 0) <= 11);
	dal_repo_close(repo);
}

/* The uncounted page is the counted page's rows; `more` says whether a page follows. */
static void same_pages(dal_repo *repo, const dal_criteria *c, int64_t size)
{
	for (int64_t p = 1;; p++) {
		dal_rows *counted = NULL, *quick = NULL;
		dal_page where;
		bool more = true;

		CHECK_OK(dal_repo_paginate(&counted, &where, repo, c, p, size));
		CHECK_OK(dal_repo_paginate_uncounted(&quick, &more, repo, c, p, size));
		assert_int_equal(dal_rows_count(quick), dal_rows_count(counted));
		for (size_t i = 0; i < dal_rows_count(quick); i++)
			assert_int_equal(dal_row_id(dal_rows_at(quick, i)), dal_row_id(dal_rows_at(counted, i)));
		assert_int_equal(more, p < where.total_pages);
		dal_rows_free(counted);
		dal_rows_free(quick);
		if (p > where.total_pages)
			return;
	}
}

static void test_paginate_uncounted_matches_paginate(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &bulk_model, 0);
	dal_filter f[] = { DAL_WHERE("email", DAL_OP_LIKE, dal_text("u1%")) };
	dal_criteria c = DAL_CRITERIA_WHERE(f);
	dal_order desc[] = { { "email", true } };
	dal_rows *rows = NULL;
	bool more = true;
	int64_t ids[] = { 2, 3, 5, 7, 11, 13 };

	bulk_rows(repo, 47);
	CHECK_OK(dal_repo_bulk_delete(NULL, repo, ids, DAL_COUNT(ids), true));
	same_pages(repo, NULL, 10);
	same_pages(repo, NULL, 41);
	same_pages(repo, &c, 4);
	c.order = desc;
	c.norder = 1;
	same_pages(repo, &c, 3);
	/* The criteria's own window: pages are cut from it, and the last one says no more. */
	c.limit = 8;
	c.offset = 2;
	same_pages(repo, &c, 3);
	same_pages(repo, &c, 4);
	c.include_deleted = true;
	same_pages(repo, &c, 5);
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate_uncounted(&rows, &more, repo, NULL, 0, 10));
	CHECK_MSG("page 0");
	assert_null(rows);
	assert_false(more);
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate_uncounted(&rows, &more, repo, NULL, 1, 0));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate_uncounted(NULL, &more, repo, NULL, 1, 10));
	dal_repo_close(repo);
}

typedef struct collected {
	int64_t ids[64];
	size_t n;
} collected;

static int collect_id(const dal_row *row, void *payload)
{
	collected *c = payload;

	if (c->n < 64)
		c->ids[c->n++] = dal_row_id(row);
	return 0;
}

/* Streaming agrees with find when the ids span many of the ranges each reads by. */
static void each_as_find(dal_repo *repo, const dal_criteria *c)
{
	collected got = { { 0 }, 0 };
	dal_rows *rows = NULL;

	CHECK_OK(dal_repo_each(repo, c, collect_id, &got));
	CHECK_OK(dal_repo_find(&rows, repo, c));
	assert_int_equal(got.n, dal_rows_count(rows));
	for (size_t i = 0; i < got.n; i++)
		assert_int_equal(got.ids[i], dal_row_id(dal_rows_at(rows, i)));
	dal_rows_free(rows);
}

static void test_each_over_far_apart_ids(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &bulk_model, 0);
	static const int64_t given[] = { 3, 9999, 10000, 10001, 25000, 47000, 47001, 90000, 150000, 150001 };
	const char *cols[] = { "id", "email" };
	dal_value v[2 * DAL_COUNT(given)];
	dal_order desc[] = { { "id", true } };
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t gone[] = { 10000, 90000 };

	for (size_t i = 0; i < DAL_COUNT(given); i++) {
		v[2 * i] = dal_int(given[i]);
		v[2 * i + 1] = dal_text("far@x.org");
	}
	CHECK_OK(dal_repo_bulk_create(NULL, repo, cols, 2, v, DAL_COUNT(given)));
	CHECK_OK(dal_repo_bulk_delete(NULL, repo, gone, 2, true));
	each_as_find(repo, NULL);
	each_as_find(repo, &c);
	c.limit = 4;
	c.offset = 2;
	each_as_find(repo, &c);
	c.order = desc;
	c.norder = 1;
	each_as_find(repo, &c);
	c.limit = 0;
	c.offset = 0;
	c.include_deleted = true;
	each_as_find(repo, &c);
	dal_repo_close(repo);
}

FX_CASES(cases_scale,
	FX_CASE(test_each_over_far_apart_ids),
	FX_CASE(test_paginate_uncounted_matches_paginate),
	FX_CASE(test_bulk_write_refreshes_statistics),
	FX_CASE(test_sqlite_page_cache_and_mmap_from_config),
	FX_CASE(test_config_version_3_gets_default_sqlite_sizes),
);
