/* Ids the caller gives: later ids dal draws never repeat them, single or bulk. */
#include "conformance/fixture.h"

static const dal_column item_cols[] = {
	DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 20), DAL_COL_CREATED_AT(),
};
static const dal_model items = DAL_MODEL("id_items", item_cols);

static const char *const with_id[] = { "id", "name" };
static const char *const name_only[] = { "name" };

/* A create without an id: it must succeed, and its id is returned. */
static int64_t add(dal_repo *repo, const char *name)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)) };

	return fx_create(repo, f, DAL_COUNT(f));
}

static int64_t add_with_id(dal_repo *repo, int64_t id, const char *name)
{
	dal_field f[] = { DAL_FIELD("id", dal_int(id)), DAL_FIELD("name", dal_text(name)) };

	return fx_create(repo, f, DAL_COUNT(f));
}

static int64_t rows_of(fixture *fx)
{
	return fx_scalar(fx, "SELECT COUNT(*) FROM id_items", NULL, 0);
}

/* Bulk create given ids {1, 2}; the next create draws an id of its own. */
static void test_ids_bulk_given_then_create(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &items, 0);
	dal_value v[] = { dal_int(1), dal_text("a"), dal_int(2), dal_text("b") };
	int64_t ids[2] = { 0, 0 }, id;

	CHECK_OK(dal_repo_bulk_create(ids, repo, with_id, 2, v, 2));
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	id = add(repo, "c");
	assert_true(id > 2);
	/* And a bulk create without ids (drawn from the same sequence where there is one). */
	{
		dal_value w[] = { dal_text("d"), dal_text("e"), dal_text("f") };
		int64_t more[3] = { 0, 0, 0 };
		CHECK_OK(dal_repo_bulk_create(more, repo, name_only, 1, w, 3));
		assert_true(more[0] > id);
		assert_true(more[1] > more[0]);
		assert_true(more[2] > more[1]);
	}
	assert_int_equal(rows_of(fx), 6);
	dal_repo_close(repo);
}

/* A single create given an id, first on an empty table, then ahead of the sequence. */
static void test_ids_single_given_then_create(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &items, 0);
	int64_t id;

	assert_int_equal(add_with_id(repo, 1, "a"), 1);
	id = add(repo, "b");
	assert_true(id > 1);
	/* Given ahead of where the sequence is: the next ids go past it. */
	assert_int_equal(add_with_id(repo, id + 2, "c"), id + 2);
	assert_true(add(repo, "d") > id + 2);
	assert_true(add(repo, "e") > id + 2);
	assert_int_equal(rows_of(fx), 5);
	dal_repo_close(repo);
}

/* The same through an audited repository (PostgreSQL writes the row and its audit row in one statement). */
static void test_ids_single_given_audited(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &items, DAL_AUDIT);
	int64_t id;

	assert_int_equal(add_with_id(repo, 3, "a"), 3);
	id = add(repo, "b");
	assert_true(id > 3);
	assert_int_equal(rows_of(fx), 2);
	dal_repo_close(repo);
}

/* Ids out of order and with gaps: the next ids are past the largest. Ids given
 * below where the sequence is leave it where it is. */
static void test_ids_out_of_order_with_gaps(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &items, 0);
	dal_value v[] = { dal_int(7), dal_text("a"), dal_int(30), dal_text("b"), dal_int(3), dal_text("c"),
	                  dal_int(12), dal_text("d") };
	int64_t ids[4] = { 0 }, a, b, i;

	CHECK_OK(dal_repo_bulk_create(ids, repo, with_id, 2, v, 4));
	assert_int_equal(ids[0], 7);
	assert_int_equal(ids[1], 30);
	assert_int_equal(ids[2], 3);
	assert_int_equal(ids[3], 12);
	for (i = 0; i < 5; i++)
		assert_true(add(repo, "n") > 30);
	a = add(repo, "x");
	/* Free ids below the sequence: stored as given, and the sequence does not go back. */
	{
		dal_value low[] = { dal_int(4), dal_text("e"), dal_int(20), dal_text("f") };
		CHECK_OK(dal_repo_bulk_create(NULL, repo, with_id, 2, low, 2));
	}
	assert_int_equal(add_with_id(repo, 25, "g"), 25);
	b = add(repo, "y");
	assert_true(b > a);
	assert_int_equal(rows_of(fx), 4 + 5 + 1 + 2 + 1 + 1);
	dal_repo_close(repo);
}

/* Given ids in a unit of work: a unit that commits, then creates outside it. */
static void test_ids_given_in_unit(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &items, 0), *in = NULL;
	dal_uow *uow = NULL;
	dal_value v[] = { dal_int(5), dal_text("a"), dal_int(6), dal_text("b") };

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&in, uow, &items, 0));
	CHECK_OK(dal_repo_bulk_create(NULL, in, with_id, 2, v, 2));
	assert_int_equal(add_with_id(in, 9, "c"), 9);
	assert_true(add(in, "d") > 9);
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(in);
	assert_true(add(repo, "e") > 9);
	assert_int_equal(rows_of(fx), 5);
	dal_repo_close(repo);
}

/* An id far ahead: the sequence goes past it, except on DuckDB, which can move a
 * sequence only by drawing from it: there the id is refused before anything is written. */
static void test_ids_far_ahead(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &items, 0);
	const int64_t far = INT64_C(1000000000000);
	dal_field f[] = { DAL_FIELD("id", dal_int(far)), DAL_FIELD("name", dal_text("far")) };
	dal_value v[] = { dal_int(2), dal_text("a"), dal_int(far), dal_text("b") };
	int64_t id;

	/* Ids below 1 are never drawn: stored as given, the sequence left alone. */
	assert_int_equal(add_with_id(repo, -5, "neg"), -5);
	assert_int_equal(add_with_id(repo, 0, "zero"), 0);
	id = add(repo, "c");
	assert_true(id >= 1);
	if (fx_is(fx, "duckdb")) {
		CHECK_ERR(DAL_EUNSUPPORTED, dal_repo_create(NULL, repo, f, DAL_COUNT(f)));
		CHECK_MSG("id_items");
		CHECK_ERR(DAL_EUNSUPPORTED, dal_repo_bulk_create(NULL, repo, with_id, 2, v, 2));
		CHECK_MSG("bulk create");
		assert_int_equal(rows_of(fx), 3);
		assert_true(add(repo, "d") > id);
		assert_int_equal(rows_of(fx), 4);
	} else {
		CHECK_OK(dal_repo_bulk_create(NULL, repo, with_id, 2, v, 2));
		assert_true(add(repo, "d") > far);
		assert_int_equal(rows_of(fx), 6);
	}
	dal_repo_close(repo);
}

FX_CASES(cases_ids,
	FX_CASE(test_ids_bulk_given_then_create),
	FX_CASE(test_ids_single_given_then_create),
	FX_CASE(test_ids_single_given_audited),
	FX_CASE(test_ids_out_of_order_with_gaps),
	FX_CASE(test_ids_given_in_unit),
	FX_CASE(test_ids_far_ahead),
);
