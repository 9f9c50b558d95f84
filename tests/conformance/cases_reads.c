/* Reads at the engine's pace: one statement per read call, and paginate's page and
 * total from that one statement, agreeing with find and count on every page. */
#include "fixture.h"

static const dal_column rd_cols[] = {
	DAL_COL_ID(), DAL_COL("k", DAL_TYPE_INT, DAL_NOT_NULL, 0), DAL_COL("name", DAL_TYPE_TEXT, 0, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT()
};
static const dal_model rd_model = DAL_MODEL("rd_items", rd_cols);

#define RD_ROWS 25

static int64_t rd_id(const dal_row *row)
{
	return dal_row_int(row, "id");
}

/* 25 rows, k = i % 5, the rows with i % 7 == 3 soft-deleted (3 of them). */
static dal_repo *rd_fill(fixture *fx, int64_t *ids)
{
	dal_repo *repo = fx_open_repo(fx, &rd_model, 0);
	char name[16];
	int i;

	for (i = 0; i < RD_ROWS; i++) {
		dal_field f[2];
		snprintf(name, sizeof(name), "n%02d", i);
		f[0] = (dal_field)DAL_FIELD("k", dal_int(i % 5));
		f[1] = (dal_field)DAL_FIELD("name", dal_text(name));
		ids[i] = fx_create(repo, f, 2);
	}
	for (i = 0; i < RD_ROWS; i++)
		if (i % 7 == 3)
			CHECK_OK(dal_repo_delete(repo, ids[i], true));
	return repo;
}

/* Statements run since the last reset; then reset again. */
static uint64_t statements(dal_db *db)
{
	dal_metrics m = DAL_METRICS_INIT;

	CHECK_OK(dal_metrics_get(&m, db));
	CHECK_OK(dal_metrics_reset(db));
	return m.query_count;
}

static void test_reads_one_statement(void **state)
{
	fixture *fx = FX(state);
	int64_t ids[RD_ROWS], n = 0;
	dal_repo *repo = rd_fill(fx, ids);
	dal_filter f[1] = { DAL_WHERE("k", DAL_OP_GE, dal_int(1)) };
	dal_order o[1] = { { "k", true } };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_row *row = NULL;
	dal_page pg;
	bool yes = false;

	c.filters = f;
	c.nfilters = 1;
	c.order = o;
	c.norder = 1;
	CHECK_OK(dal_metrics_reset(fx->db));
	/* A page and its total: one statement, no BEGIN/COMMIT around it. */
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 2, 4));
	assert_int_equal(statements(fx->db), 1);
	assert_int_equal(dal_rows_count(rows), 4);
	dal_rows_free(rows);
	/* Past the end: still one statement, and it still reports the total. */
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 100, 4));
	assert_int_equal(statements(fx->db), 1);
	assert_int_equal(dal_rows_count(rows), 0);
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(statements(fx->db), 1);
	assert_true(n > 0);
	assert_int_equal(pg.total, n);
	assert_int_equal(pg.total_pages, (n + 3) / 4);
	dal_rows_free(rows);
	/* A window the criteria's limit leaves empty: the count alone. */
	c.limit = 4;
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 2, 4));
	assert_int_equal(statements(fx->db), 1);
	assert_int_equal(dal_rows_count(rows), 0);
	assert_int_equal(pg.total, 4);
	dal_rows_free(rows);
	c.limit = 0;
	CHECK_OK(dal_repo_find(&rows, repo, &c));
	assert_int_equal(statements(fx->db), 1);
	assert_int_equal(dal_rows_count(rows), n);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_get(&row, repo, ids[0]));
	assert_int_equal(statements(fx->db), 1);
	dal_row_free(row);
	CHECK_OK(dal_repo_exists(&yes, repo, ids[1], false));
	assert_int_equal(statements(fx->db), 1);
	assert_true(yes);
	CHECK_OK(dal_repo_exists(&yes, repo, ids[3], false));
	assert_int_equal(statements(fx->db), 1);
	assert_false(yes);
	CHECK_OK(dal_repo_exists(&yes, repo, ids[3], true));
	assert_int_equal(statements(fx->db), 1);
	assert_true(yes);
	dal_repo_close(repo);
}

/* A restore with nothing to check first is its UPDATE alone, as a soft delete is;
 * the row is read only to say why nothing was restored. */
static void test_restore_one_statement(void **state)
{
	fixture *fx = FX(state);
	int64_t ids[RD_ROWS];
	dal_repo *repo = rd_fill(fx, ids);
	dal_row *row = NULL;

	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_repo_restore(NULL, repo, ids[3]));
	assert_int_equal(statements(fx->db), 1);
	CHECK_OK(dal_repo_get(&row, repo, ids[3]));
	assert_int_equal(statements(fx->db), 1);
	assert_true(dal_row_is_null(row, "deleted_at"));
	dal_row_free(row);
	CHECK_OK(dal_repo_delete(repo, ids[3], true));
	assert_int_equal(statements(fx->db), 1);
	CHECK_ERR(DAL_EINVAL, dal_repo_restore(NULL, repo, ids[4]));
	CHECK_MSG("is not deleted");
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_restore(NULL, repo, ids[RD_ROWS - 1] + 1000));
	CHECK_MSG("has no row with id");
	CHECK_OK(dal_repo_delete(repo, ids[4], false));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_restore(NULL, repo, ids[4]));
	dal_repo_close(repo);
}

/* In a unit of work the page runs on the unit's connection and sees its writes. */
static void test_paginate_in_unit(void **state)
{
	fixture *fx = FX(state);
	int64_t ids[RD_ROWS], id;
	dal_repo *repo = rd_fill(fx, ids), *urepo = NULL;
	dal_field f[2] = { DAL_FIELD("k", dal_int(9)), DAL_FIELD("name", dal_text("in unit")) };
	dal_filter flt[1] = { DAL_WHERE("k", DAL_OP_EQ, dal_int(9)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_uow *uow = NULL;
	dal_page pg;

	c.filters = flt;
	c.nfilters = 1;
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&urepo, uow, &rd_model, 0));
	id = fx_create(urepo, f, 2);
	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_repo_paginate(&rows, &pg, urepo, &c, 1, 10));
	assert_int_equal(statements(fx->db), 1);
	assert_int_equal(pg.total, 1);
	assert_int_equal(dal_rows_count(rows), 1);
	assert_int_equal(rd_id(dal_rows_at(rows, 0)), id);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_paginate(&rows, &pg, urepo, &c, 2, 10));
	assert_int_equal(pg.total, 1);
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	CHECK_OK(dal_uow_rollback(uow));
	dal_repo_close(urepo);
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 1, 10));
	assert_int_equal(pg.total, 0);
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	dal_repo_close(repo);
}

/* Every page (and the one past the end) against find's rows and count's total, under `c`. */
static void pages_agree(dal_repo *repo, const dal_criteria *c, int64_t size, const char *what)
{
	dal_rows *all = NULL, *rows = NULL;
	dal_page pg;
	int64_t total, p, k, want;

	CHECK_OK(dal_repo_find(&all, repo, c));
	total = (int64_t)dal_rows_count(all);
	for (p = 1; p <= total / size + 2; p++) {
		CHECK_OK(dal_repo_paginate(&rows, &pg, repo, c, p, size));
		if (pg.total != total || pg.total_pages != (total + size - 1) / size || pg.page != p)
			fail_msg("%s: page %lld of %lld: total %lld pages %lld, find has %lld", what, (long long)p,
				(long long)size, (long long)pg.total, (long long)pg.total_pages, (long long)total);
		want = total - (p - 1) * size;
		want = want < 0 ? 0 : want > size ? size : want;
		if ((int64_t)dal_rows_count(rows) != want)
			fail_msg("%s: page %lld has %zu rows, not %lld", what, (long long)p, dal_rows_count(rows),
				(long long)want);
		for (k = 0; k < want; k++)
			if (rd_id(dal_rows_at(rows, (size_t)k)) != rd_id(dal_rows_at(all, (size_t)((p - 1) * size + k))))
				fail_msg("%s: page %lld row %lld is not find's", what, (long long)p, (long long)k);
		dal_rows_free(rows);
	}
	dal_rows_free(all);
}

static void test_paginate_agrees_with_find(void **state)
{
	fixture *fx = FX(state);
	int64_t ids[RD_ROWS];
	dal_repo *repo = rd_fill(fx, ids);
	dal_filter f[1] = { DAL_WHERE("k", DAL_OP_LT, dal_int(3)) };
	dal_order o[2] = { { "k", false }, { "name", true } };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_row *after = NULL;

	pages_agree(repo, NULL, 4, "all live rows");
	c.include_deleted = true;
	pages_agree(repo, &c, 7, "deleted rows included");
	c.include_deleted = false;
	c.filters = f;
	c.nfilters = 1;
	c.order = o;
	c.norder = 2;
	pages_agree(repo, &c, 3, "k < 3 by k, name desc");
	c.offset = 2;
	c.limit = 7;
	pages_agree(repo, &c, 3, "offset 2 limit 7");
	c.offset = 0;
	c.limit = 0;
	CHECK_OK(dal_repo_get(&after, repo, ids[5]));
	c.after = after;
	pages_agree(repo, &c, 2, "after a row");
	dal_row_free(after);
	dal_repo_close(repo);
}

FX_CASES(cases_reads,
	FX_CASE(test_reads_one_statement),
	FX_CASE(test_restore_one_statement),
	FX_CASE(test_paginate_in_unit),
	FX_CASE(test_paginate_agrees_with_find));
