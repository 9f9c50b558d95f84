/*
 * Pages and streams read by windows of ids (where the engine sorts a whole result
 * before its first row: DuckDB) return exactly the rows of the general statement:
 * ids out of insertion order, far apart, near the top of int64, soft-deleted rows
 * inside the first window, offsets, descending order and filters on other columns.
 */
#include "conformance/fixture.h"

#include <stdlib.h>

static const dal_column cols[] = {
	DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0), DAL_COL("grp", DAL_TYPE_INT, 0, 0),
	DAL_COL_CREATED_AT(), DAL_COL_DELETED_AT(),
};
static const dal_model rows_model = DAL_MODEL("iw_rows", cols);

/* Rows with the given ids, in that (insertion) order; grp is the id mod 3. */
static void rows_with_ids(dal_repo *repo, const int64_t *ids, size_t n)
{
	const char *names[] = { "id", "name", "grp" };
	dal_value *v = calloc(n * 3, sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		v[i * 3] = dal_int(ids[i]);
		v[i * 3 + 1] = dal_text(ids[i] % 2 ? "odd" : "even");
		v[i * 3 + 2] = dal_int(ids[i] % 3);
	}
	CHECK_OK(dal_repo_bulk_create(NULL, repo, names, 3, v, n));
	free(v);
}

/* Ids from..to, step 1, descending when from > to. */
static void rows_from_to(dal_repo *repo, int64_t from, int64_t to)
{
	size_t n = (size_t)(from < to ? to - from : from - to) + 1;
	int64_t *ids = calloc(n, sizeof(*ids));

	for (size_t i = 0; i < n; i++)
		ids[i] = from < to ? from + (int64_t)i : from - (int64_t)i;
	rows_with_ids(repo, ids, n);
	free(ids);
}

/* Ids near the top of int64, past where a sequence can be moved: written by plain INSERTs. */
static void rows_at_top(fixture *fx)
{
	static const int64_t top[] = { INT64_MAX - 40, INT64_MAX - 7, INT64_MAX - 1, INT64_MAX };

	for (size_t i = 0; i < DAL_COUNT(top); i++) {
		dal_value p[] = { dal_int(top[i]), dal_text(top[i] % 2 ? "odd" : "even"), dal_int(top[i] % 3),
			dal_timestamp(0) };
		CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO iw_rows (id, name, grp, created_at) VALUES (?, ?, ?, ?)", p, 4));
	}
}

static void soft_delete_range(dal_repo *repo, int64_t from, int64_t to)
{
	for (int64_t id = from; id <= to; id++)
		CHECK_OK(dal_repo_delete(repo, id, false));
}

/* Page p of the uncounted form holds the counted page's rows, and `more` whether one follows. */
static void same_page(dal_repo *repo, const dal_criteria *c, int64_t p, int64_t size, int64_t *total_pages)
{
	dal_rows *counted = NULL, *quick = NULL;
	dal_page where;
	bool more = true;

	CHECK_OK(dal_repo_paginate(&counted, &where, repo, c, p, size));
	CHECK_OK(dal_repo_paginate_uncounted(&quick, &more, repo, c, p, size));
	if (dal_rows_count(quick) != dal_rows_count(counted))
		fail_msg("page %lld of %lld: %zu rows, the counted page has %zu", (long long)p, (long long)size,
			dal_rows_count(quick), dal_rows_count(counted));
	for (size_t i = 0; i < dal_rows_count(quick); i++)
		if (dal_row_id(dal_rows_at(quick, i)) != dal_row_id(dal_rows_at(counted, i)))
			fail_msg("page %lld of %lld, row %zu: id %lld, the counted page has %lld", (long long)p,
				(long long)size, i, (long long)dal_row_id(dal_rows_at(quick, i)),
				(long long)dal_row_id(dal_rows_at(counted, i)));
	assert_int_equal(more, p < where.total_pages);
	*total_pages = where.total_pages;
	dal_rows_free(counted);
	dal_rows_free(quick);
}

static void same_pages(dal_repo *repo, const dal_criteria *c, int64_t size)
{
	int64_t pages = 0;

	for (int64_t p = 1; p <= pages + 1; p++)
		same_page(repo, c, p, size, &pages);
}

/* The criteria every case walks: default order, descending, a filter on another column, a window, deleted rows. */
static void every_shape(dal_repo *repo, int64_t size)
{
	dal_filter odd[] = { DAL_WHERE("name", DAL_OP_EQ, dal_text("odd")) };
	dal_filter grp[] = { DAL_WHERE("grp", DAL_OP_NE, dal_int(0)) };
	dal_order by_id_desc[] = { { "id", true } }, by_id_asc[] = { { "id", false } };
	dal_order by_grp[] = { { "grp", false } };
	dal_criteria c = DAL_CRITERIA_INIT;

	same_pages(repo, NULL, size);
	c.order = by_id_asc;
	c.norder = 1;
	same_pages(repo, &c, size);
	c.order = by_id_desc;
	same_pages(repo, &c, size);
	c.order = by_grp;
	same_pages(repo, &c, size);
	c = (dal_criteria)DAL_CRITERIA_WHERE(odd);
	same_pages(repo, &c, size);
	c = (dal_criteria)DAL_CRITERIA_WHERE(grp);
	same_pages(repo, &c, size);
	c.offset = 7;
	c.limit = 3 * size + 1;
	same_pages(repo, &c, size);
	c.limit = 0;
	same_pages(repo, &c, size);
	c = (dal_criteria)DAL_CRITERIA_INIT;
	c.include_deleted = true;
	same_pages(repo, &c, size);
}

/* The first row the engine meets is not the lowest id: the window still reaches below it. */
static void test_uncounted_ids_out_of_insertion_order(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);
	static const int64_t first[] = { 5000, 900, 40000 };

	rows_with_ids(repo, first, DAL_COUNT(first));
	rows_from_to(repo, 300, 1);
	rows_from_to(repo, 2000, 2100);
	every_shape(repo, 20);
	every_shape(repo, 7);
	dal_repo_close(repo);
}

/* Ids far apart, near the top of int64, and soft-deleted rows filling the first window. */
static void test_uncounted_gaps_and_deleted_rows(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);

	rows_from_to(repo, 1, 40);
	rows_from_to(repo, 1000, 1040);
	rows_from_to(repo, 100000, 100030);
	rows_at_top(fx);
	every_shape(repo, 20);
	/* A few deleted rows: the first window still holds page 1. */
	soft_delete_range(repo, 3, 6);
	every_shape(repo, 20);
	/* Most of the first window deleted: page 1 lies past it. */
	soft_delete_range(repo, 7, 38);
	soft_delete_range(repo, 1000, 1035);
	every_shape(repo, 20);
	every_shape(repo, 3);
	/* A filter on id itself, whose first match is where the window's end saturates at INT64_MAX. */
	{
		dal_filter near_top[] = { DAL_WHERE("id", DAL_OP_GE, dal_int(INT64_MAX - 100)) };
		dal_criteria c = DAL_CRITERIA_WHERE(near_top);
		same_pages(repo, &c, 2);
		same_pages(repo, &c, 20);
	}
	dal_repo_close(repo);
}

/* Pages at offsets around the deepest a window reads, and past it. */
static void test_uncounted_deep_offsets(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t pages = 0;
	static const int64_t at[] = { 1, 2, 499, 500, 501, 502, 503 };

	rows_from_to(repo, 1, 10100);
	soft_delete_range(repo, 9980, 9990);
	for (size_t i = 0; i < DAL_COUNT(at); i++)
		same_page(repo, NULL, at[i], 20, &pages);
	assert_int_equal(pages, 505);
	c.offset = 9975;
	same_pages(repo, &c, 10);
	c.offset = 0;
	c.limit = 10000;
	same_page(repo, &c, 500, 20, &pages);
	same_page(repo, &c, 501, 20, &pages);
	assert_int_equal(pages, 500);
	dal_repo_close(repo);
}

/* No row at all, or none matching: an empty page, nothing more. */
static void test_uncounted_empty(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);
	dal_filter none[] = { DAL_WHERE("grp", DAL_OP_EQ, dal_int(7)) };
	dal_criteria c = DAL_CRITERIA_WHERE(none);
	dal_rows *rows = NULL;
	bool more = true;

	CHECK_OK(dal_repo_paginate_uncounted(&rows, &more, repo, NULL, 1, 20));
	assert_int_equal(dal_rows_count(rows), 0);
	assert_false(more);
	dal_rows_free(rows);
	rows_from_to(repo, 1, 30);
	CHECK_OK(dal_repo_paginate_uncounted(&rows, &more, repo, &c, 1, 20));
	assert_int_equal(dal_rows_count(rows), 0);
	assert_false(more);
	dal_rows_free(rows);
	dal_repo_close(repo);
}

static uint64_t statements_of_page1(fixture *fx, dal_repo *repo)
{
	dal_metrics m = DAL_METRICS_INIT;
	dal_rows *rows = NULL;
	bool more = false;

	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_repo_paginate_uncounted(&rows, &more, repo, NULL, 1, 20));
	CHECK_OK(dal_metrics_get(&m, fx->db));
	assert_int_equal(dal_rows_count(rows), 20);
	assert_true(more);
	dal_rows_free(rows);
	return m.query_count;
}

/*
 * Which statement read the page: one everywhere a sorted result streams; on DuckDB
 * the window (one id, then the window) when it holds the page, and the general
 * statement after them when it does not.
 */
static void test_uncounted_page1_statements(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);
	bool windows = fx_is(fx, "duckdb");

	rows_from_to(repo, 1, 100);
	rows_from_to(repo, 5000, 5100);
	assert_int_equal(statements_of_page1(fx, repo), windows ? 2 : 1);
	soft_delete_range(repo, 1, 95);
	assert_int_equal(statements_of_page1(fx, repo), windows ? 3 : 1);
	dal_repo_close(repo);
}

static int count_row(const dal_row *row, void *payload)
{
	(void)row;
	++*(int64_t *)payload;
	return 0;
}

/*
 * dal_repo_each over ids that fit in one range: on DuckDB the bounds of the ids by
 * one statement and the rows by one more;
 * one statement where a sorted result streams.
 */
static void test_each_one_range_statements(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);
	dal_metrics m = DAL_METRICS_INIT;
	int64_t n = 0;

	rows_from_to(repo, 1, 50);
	soft_delete_range(repo, 1, 5);
	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_repo_each(repo, NULL, count_row, &n));
	CHECK_OK(dal_metrics_get(&m, fx->db));
	assert_int_equal(n, 45);
	assert_int_equal(m.query_count, fx_is(fx, "duckdb") ? 2 : 1);
	dal_repo_close(repo);
}

typedef struct in_order {
	int64_t rows, last;
	bool ordered;
} in_order;

static int check_order(const dal_row *row, void *payload)
{
	in_order *o = payload;
	int64_t id = dal_row_int(row, "id");

	o->ordered = o->ordered && (o->rows == 0 || id > o->last);
	o->last = id;
	o->rows++;
	return 0;
}

/* dal_repo_each over every live row: the rows, in ascending id order, and the statements it ran. */
static uint64_t each_in_order(fixture *fx, dal_repo *repo, int64_t rows)
{
	dal_metrics m = DAL_METRICS_INIT;
	in_order o = { 0, 0, true };

	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_repo_each(repo, NULL, check_order, &o));
	CHECK_OK(dal_metrics_get(&m, fx->db));
	assert_int_equal(o.rows, rows);
	assert_true(o.ordered);
	return m.query_count;
}

/*
 * DuckDB: ids within one range are read by the bounds and one statement; once
 * the table has grown past a range, by the bounds and the ranges, every row
 * once and in order. Elsewhere one statement each time.
 */
static void test_each_grows_past_a_range(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &rows_model, 0);
	bool duck = fx_is(fx, "duckdb");

	rows_from_to(repo, 1, 50);
	assert_int_equal(each_in_order(fx, repo, 50), duck ? 2 : 1);
	rows_from_to(repo, 30001, 30002);
	/* Bounds outside the snapshot and in it, then ranges of 10,000 ids: the gap is jumped. */
	assert_true(duck ? each_in_order(fx, repo, 52) > 3 : each_in_order(fx, repo, 52) == 1);
	dal_repo_close(repo);
}

FX_CASES(cases_idwindow,
	FX_CASE(test_each_one_range_statements),
	FX_CASE(test_each_grows_past_a_range),
	FX_CASE(test_uncounted_ids_out_of_insertion_order),
	FX_CASE(test_uncounted_gaps_and_deleted_rows),
	FX_CASE(test_uncounted_deep_offsets),
	FX_CASE(test_uncounted_empty),
	FX_CASE(test_uncounted_page1_statements),
);
