/* Repository: models, schema, CRUD, soft delete, find, each, paginate, keyset, bad input. */
#include "conformance/fixture.h"

#include <stdlib.h>
#include <time.h>

/* ---- models ---- */

static const dal_column user_cols[] = { FX_USER_COLUMNS };
static const dal_model users = DAL_MODEL("rp_users", user_cols);

static const dal_column tag_cols[] = { FX_TAG_COLUMNS };
static const dal_model tags = DAL_MODEL("rp_tags", tag_cols);

static const dal_column item_cols[] = {
	DAL_COL_ID(),
	DAL_COL("k", DAL_TYPE_INT, DAL_NOT_NULL | DAL_INDEX, 0),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("note", DAL_TYPE_TEXT, 0, 0),
	DAL_COL("score", DAL_TYPE_DOUBLE, 0, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model items = DAL_MODEL("rp_items", item_cols);

static const dal_column type_cols[] = {
	FX_ALL_TYPE_COLUMNS,
};
static const dal_model types = DAL_MODEL("rp_types", type_cols);

/* Only an id and a text: no timestamp roles at all. */
static const dal_column note_cols[] = {
	DAL_COL_ID(),
	DAL_COL("body", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
};
static const dal_model notes = DAL_MODEL("rp_notes", note_cols);

/* Invalid models. */
static const dal_column bad_id_cols[] = {
	DAL_COL("id", DAL_TYPE_TEXT, DAL_PRIMARY_KEY, 0),
	DAL_COL("x", DAL_TYPE_INT, 0, 0),
};
static const dal_model bad_id = DAL_MODEL("rp_bad_id", bad_id_cols);
static const dal_column bad_name_cols[] = {
	DAL_COL_ID(),
	DAL_COL("bad name", DAL_TYPE_INT, 0, 0),
};
static const dal_model bad_name = DAL_MODEL("rp_bad_name", bad_name_cols);
static const dal_column bad_dup_cols[] = {
	DAL_COL_ID(),
	DAL_COL("x", DAL_TYPE_INT, 0, 0),
	DAL_COL("x", DAL_TYPE_TEXT, 0, 0),
};
static const dal_model bad_dup = DAL_MODEL("rp_bad_dup", bad_dup_cols);
static const dal_column bad_role_cols[] = {
	DAL_COL_ID(),
	DAL_COL("deleted_at", DAL_TYPE_TEXT, 0, 0),
};
static const dal_model bad_role = DAL_MODEL("rp_bad_role", bad_role_cols);
static const dal_model bad_table = DAL_MODEL("rp bad; DROP", note_cols);

/* ---- helpers ---- */

static dal_repo *open_repo(fixture *fx, const dal_model *m)
{
	dal_repo *repo = fx_open_repo(fx, m, 0);

	assert_ptr_equal(dal_repo_model(repo), m);
	return repo;
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static int64_t add_user(dal_repo *repo, const char *name, const char *email, int64_t age)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)), DAL_FIELD("email", dal_text(email)),
		DAL_FIELD("age", dal_int(age)) };
	dal_row *row = NULL;
	int64_t id;

	CHECK_OK(dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	id = dal_row_int(row, "id");
	assert_true(id > 0);
	dal_row_free(row);
	return id;
}

static int64_t count_of(dal_repo *repo, bool include_deleted)
{
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t n = -1;

	c.include_deleted = include_deleted;
	CHECK_OK(dal_repo_count(&n, repo, &c));
	return n;
}

static bool exists_of(dal_repo *repo, int64_t id, bool include_deleted)
{
	bool b = !false;

	CHECK_OK(dal_repo_exists(&b, repo, id, include_deleted));
	return b;
}

/* The ids of `rows`, in order, into `ids` (at most max). */
static size_t ids_of(const dal_rows *rows, int64_t *ids, size_t max)
{
	size_t i, n = dal_rows_count(rows);

	assert_true(n <= max);
	for (i = 0; i < n; i++)
		ids[i] = dal_row_int(dal_rows_at(rows, i), "id");
	return n;
}

static void assert_ids(const int64_t *got, size_t ngot, const int64_t *want, size_t nwant, const char *what)
{
	size_t i;

	if (ngot != nwant)
		fail_msg("%s: %zu rows, expected %zu", what, ngot, nwant);
	for (i = 0; i < ngot; i++)
		if (got[i] != want[i])
			fail_msg("%s: row %zu has id %lld, expected %lld", what, i, (long long)got[i], (long long)want[i]);
}

/* find(criteria) must return exactly the ids `want`, in this order. */
static void expect_find(dal_repo *repo, const dal_criteria *c, const int64_t *want, size_t nwant, const char *what)
{
	dal_rows *rows = NULL;
	int64_t got[256];
	size_t n;

	CHECK_OK(dal_repo_find(&rows, repo, c));
	assert_non_null(rows);
	n = ids_of(rows, got, 256);
	dal_rows_free(rows);
	assert_ids(got, n, want, nwant, what);
}

/* ---- schema ---- */

static void test_init_creates_and_is_idempotent(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &users, &tags, &items };
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	int64_t a, b;

	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	/* Without the flag, existing tables are simply found. */
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), 0));
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_users", NULL, 0), 0);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_tags", NULL, 0), 0);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_items", NULL, 0), 0);
	/* Indexes: DAL_INDEX columns, deleted_at, and the unique columns (a plain index where
	 * the engine has no partial index: dal checks uniqueness among live rows itself). */
	assert_true(fx_index_exists(fx, "ix_8_rp_items_k"));
	assert_true(fx_index_exists(fx, "ix_8_rp_items_deleted_at"));
	assert_true(fx_index_exists(fx, "ix_8_rp_users_deleted_at"));
	assert_true(fx_index_exists(fx, "ux_8_rp_users_email") || fx_index_exists(fx, "ix_8_rp_users_email"));
	assert_true(fx_index_exists(fx, "ux_7_rp_tags_label"));

	CHECK_OK(dal_repo_open(&repo, fx->db, &users, 0));
	a = add_user(repo, "Ann", "ann@example.com", 30);
	b = add_user(repo, "Bob", "bob@example.com", 40);
	CHECK_OK(dal_repo_delete(repo, b, true));
	/* Again, twice: nothing that exists changes, no data is touched. */
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	assert_int_equal(count_of(repo, false), 1);
	assert_int_equal(count_of(repo, true), 2);
	CHECK_OK(dal_repo_get(&row, repo, a));
	assert_string_equal(dal_row_text(row, "name"), "Ann");
	assert_string_equal(dal_row_text(row, "email"), "ann@example.com");
	assert_int_equal(dal_row_int(row, "age"), 30);
	dal_row_free(row);
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&row, repo, b));
	/* The autoincrement goes on from where it was. */
	assert_true(add_user(repo, "Cy", "cy@example.com", 1) > b);
	dal_repo_close(repo);
}

static void test_init_missing_table(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &tags, &users };
	const dal_model *one[] = { &tags };

	CHECK_OK(dal_init_database(fx->db, one, 1, DAL_AUTO_MIGRATE));
	CHECK_ERR(DAL_ENOTFOUND, dal_init_database(fx->db, ms, 2, 0));
	CHECK_MSG("rp_users");
	/* Nothing was created by the failed check. */
	CHECK_ERR(DAL_ENOTFOUND, dal_init_database(fx->db, ms + 1, 1, 0));
	CHECK_OK(dal_init_database(fx->db, ms, 0, 0));
}

static void test_init_invalid_model(void **state)
{
	fixture *fx = FX(state);
	const dal_model *bad[] = { &bad_id, &bad_name, &bad_dup, &bad_role, &bad_table };
	const dal_model *mixed[] = { &notes, &bad_dup };
	const dal_model *with_null[] = { &notes, NULL };
	/* "bad name": see test_invalid_model_names_column */
	const char *names[] = { "id", "rp_bad_name", "x", "deleted_at", "rp bad" };
	dal_repo *repo = NULL;
	size_t i;

	for (i = 0; i < DAL_COUNT(bad); i++) {
		CHECK_ERR(DAL_EINVAL, dal_init_database(fx->db, bad + i, 1, DAL_AUTO_MIGRATE));
		CHECK_MSG(names[i]);
		CHECK_ERR(DAL_EINVAL, dal_repo_open(&repo, fx->db, bad[i], 0));
		assert_null(repo);
	}
	/* Every model is checked before any is created. */
	CHECK_ERR(DAL_EINVAL, dal_init_database(fx->db, mixed, 2, DAL_AUTO_MIGRATE));
	CHECK_ERR(DAL_EINVAL, dal_init_database(fx->db, with_null, 2, DAL_AUTO_MIGRATE));
	CHECK_ERR(DAL_ENOTFOUND, dal_init_database(fx->db, mixed, 1, 0));
	CHECK_ERR(DAL_EINVAL, dal_init_database(fx->db, NULL, 1, DAL_AUTO_MIGRATE));
	CHECK_ERR(DAL_EINVAL, dal_init_database(NULL, mixed, 1, DAL_AUTO_MIGRATE));
}

/*
 * An invalid column name is named in the message. (It once was not: src/model.c
 * formatted the thread's message buffer into itself and lost the name.)
 */
static void test_invalid_model_names_column(void **state)
{
	fixture *fx = FX(state);
	const dal_model *bad[] = { &bad_name };
	dal_repo *repo = NULL;

	CHECK_ERR(DAL_EINVAL, dal_init_database(fx->db, bad, 1, DAL_AUTO_MIGRATE));
	CHECK_MSG("rp_bad_name");
	CHECK_MSG("bad name");
	CHECK_ERR(DAL_EINVAL, dal_repo_open(&repo, fx->db, &bad_name, 0));
	CHECK_MSG("bad name");
}

/* ---- create, get, update ---- */

static void test_create_get(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_field f[] = { DAL_FIELD("name", dal_text("John Doe")), DAL_FIELD("email", dal_text("john@example.com")) };
	dal_row *row = NULL, *got = NULL;
	int64_t before, after, id1, id2, id3;

	before = dal_now();
	CHECK_OK(dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	after = dal_now();
	assert_non_null(row);
	assert_ptr_equal(dal_row_model(row), &users);
	assert_int_equal(dal_row_count(row), DAL_COUNT(user_cols));
	id1 = dal_row_int(row, "id");
	assert_true(id1 > 0);
	assert_string_equal(dal_row_text(row, "name"), "John Doe");
	assert_string_equal(dal_row_text(row, "email"), "john@example.com");
	assert_true(dal_row_is_null(row, "age"));
	assert_true(dal_row_is_null(row, "deleted_at"));
	assert_int_equal(dal_row_get(row, "created_at")->type, DAL_TYPE_TIMESTAMP);
	assert_true(dal_row_timestamp(row, "created_at") >= before);
	assert_true(dal_row_timestamp(row, "created_at") <= after);
	assert_int_equal(dal_row_timestamp(row, "updated_at"), dal_row_timestamp(row, "created_at"));

	/* get returns the same stored row. */
	CHECK_OK(dal_repo_get(&got, repo, id1));
	assert_int_equal(dal_row_int(got, "id"), id1);
	assert_string_equal(dal_row_text(got, "name"), "John Doe");
	assert_string_equal(dal_row_text(got, "email"), "john@example.com");
	assert_int_equal(dal_row_timestamp(got, "created_at"), dal_row_timestamp(row, "created_at"));
	assert_int_equal(dal_row_timestamp(got, "updated_at"), dal_row_timestamp(row, "updated_at"));
	assert_true(dal_row_is_null(got, "deleted_at"));
	assert_true(dal_row_is_null(got, "age"));
	dal_row_free(got);
	dal_row_free(row);

	/* ids increase, and are not reused after a hard delete of the last one. */
	id2 = add_user(repo, "Two", "two@example.com", 2);
	assert_true(id2 > id1);
	CHECK_OK(dal_repo_delete(repo, id2, false));
	id3 = add_user(repo, "Three", "three@example.com", 3);
	assert_true(id3 > id2);

	/* A create with a NULL out still stores the row. */
	f[1].value = dal_text("nout@example.com");
	CHECK_OK(dal_repo_create(NULL, repo, f, DAL_COUNT(f)));
	assert_int_equal(count_of(repo, false), 3);

	/* Missing ids. */
	got = (dal_row *)&got;
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&got, repo, 999999));
	assert_null(got);
	CHECK_MSG("rp_users");
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&got, repo, id2));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&got, repo, 0));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&got, repo, -1));
	dal_repo_close(repo);
}

static void test_create_explicit_timestamps(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	int64_t when = 1700000000123456LL;
	dal_field f[] = { DAL_FIELD("name", dal_text("Old")), DAL_FIELD("email", dal_text("old@example.com")),
		DAL_FIELD("created_at", dal_timestamp(when)) };
	dal_row *row = NULL;

	CHECK_OK(dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	assert_int_equal(dal_row_timestamp(row, "created_at"), when);
	/* updated_at is still filled when not given. */
	assert_false(dal_row_is_null(row, "updated_at"));
	dal_row_free(row);
	dal_repo_close(repo);
}

static void test_update(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_field f[] = { DAL_FIELD("name", dal_text("Jane Doe")) };
	dal_field f2[] = { DAL_FIELD("age", dal_int(41)), DAL_FIELD("email", dal_text("jane@example.com")) };
	dal_field fid[] = { DAL_FIELD("id", dal_int(77)) };
	dal_field fnull[] = { DAL_FIELD("age", dal_null()) };
	dal_row *orig = NULL, *row = NULL, *got = NULL;
	int64_t id, other, before, after;

	id = add_user(repo, "John Doe", "john@example.com", 40);
	other = add_user(repo, "Other", "other@example.com", 50);
	CHECK_OK(dal_repo_get(&orig, repo, id));
	sleep_ms(5);
	before = dal_now();
	CHECK_OK(dal_repo_update(&row, repo, id, f, DAL_COUNT(f)));
	after = dal_now();
	assert_non_null(row);
	assert_int_equal(dal_row_int(row, "id"), id);
	assert_string_equal(dal_row_text(row, "name"), "Jane Doe");
	/* The other columns are left as they were. */
	assert_string_equal(dal_row_text(row, "email"), "john@example.com");
	assert_int_equal(dal_row_int(row, "age"), 40);
	assert_int_equal(dal_row_timestamp(row, "created_at"), dal_row_timestamp(orig, "created_at"));
	assert_true(dal_row_is_null(row, "deleted_at"));
	/* updated_at moves to now. */
	assert_true(dal_row_timestamp(row, "updated_at") > dal_row_timestamp(orig, "updated_at"));
	assert_true(dal_row_timestamp(row, "updated_at") >= before);
	assert_true(dal_row_timestamp(row, "updated_at") <= after);
	CHECK_OK(dal_repo_get(&got, repo, id));
	assert_string_equal(dal_row_text(got, "name"), "Jane Doe");
	assert_int_equal(dal_row_timestamp(got, "updated_at"), dal_row_timestamp(row, "updated_at"));
	dal_row_free(got);
	dal_row_free(row);

	/* Two fields, and a NULL out. */
	CHECK_OK(dal_repo_update(NULL, repo, id, f2, DAL_COUNT(f2)));
	CHECK_OK(dal_repo_get(&got, repo, id));
	assert_int_equal(dal_row_int(got, "age"), 41);
	assert_string_equal(dal_row_text(got, "email"), "jane@example.com");
	assert_string_equal(dal_row_text(got, "name"), "Jane Doe");
	dal_row_free(got);
	/* Setting a nullable column to NULL. */
	CHECK_OK(dal_repo_update(&row, repo, id, fnull, 1));
	assert_true(dal_row_is_null(row, "age"));
	dal_row_free(row);
	/* The other row was not touched. */
	CHECK_OK(dal_repo_get(&got, repo, other));
	assert_string_equal(dal_row_text(got, "name"), "Other");
	assert_int_equal(dal_row_int(got, "age"), 50);
	dal_row_free(got);

	/* Missing, soft-deleted, no fields, the id. */
	row = (dal_row *)&row;
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_update(&row, repo, 999999, f, 1));
	assert_null(row);
	CHECK_OK(dal_repo_delete(repo, other, true));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_update(&row, repo, other, f, 1));
	CHECK_ERR(DAL_EINVAL, dal_repo_update(&row, repo, id, f, 0));
	CHECK_ERR(DAL_EINVAL, dal_repo_update(&row, repo, id, fid, 1));
	CHECK_MSG("id");
	/* The soft-deleted row kept its name. */
	CHECK_OK(dal_repo_restore(NULL, repo, other));
	CHECK_OK(dal_repo_get(&got, repo, other));
	assert_string_equal(dal_row_text(got, "name"), "Other");
	dal_row_free(got);
	CHECK_OK(dal_repo_get(&got, repo, id));
	assert_int_equal(dal_row_int(got, "id"), id);
	dal_row_free(got);
	dal_row_free(orig);
	dal_repo_close(repo);
}

/* ---- soft delete, restore, hard delete ---- */

static void test_soft_delete_restore(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_filter byid[1];
	dal_filter byname[] = { DAL_WHERE("name", DAL_OP_EQ, dal_text("Gone")) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_page pg;
	dal_row *row = NULL;
	int64_t keep, gone, before, after, n;

	keep = add_user(repo, "Keep", "keep@example.com", 1);
	gone = add_user(repo, "Gone", "gone@example.com", 2);
	before = dal_now();
	CHECK_OK(dal_repo_delete(repo, gone, true));
	after = dal_now();

	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&row, repo, gone));
	assert_int_equal(count_of(repo, false), 1);
	assert_int_equal(count_of(repo, true), 2);
	assert_false(exists_of(repo, gone, false));
	assert_true(exists_of(repo, gone, true));
	assert_true(exists_of(repo, keep, false));
	c.filters = byname;
	c.nfilters = 1;
	expect_find(repo, &c, NULL, 0, "find hides the soft-deleted row");
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 0);
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, NULL, 1, 10));
	assert_int_equal(dal_rows_count(rows), 1);
	assert_int_equal(pg.total, 1);
	assert_int_equal(dal_row_int(dal_rows_at(rows, 0), "id"), keep);
	dal_rows_free(rows);

	/* include_deleted shows it with deleted_at set. */
	c.include_deleted = true;
	CHECK_OK(dal_repo_find(&rows, repo, &c));
	assert_int_equal(dal_rows_count(rows), 1);
	assert_int_equal(dal_row_int(dal_rows_at(rows, 0), "id"), gone);
	assert_false(dal_row_is_null(dal_rows_at(rows, 0), "deleted_at"));
	assert_true(dal_row_timestamp(dal_rows_at(rows, 0), "deleted_at") >= before);
	assert_true(dal_row_timestamp(dal_rows_at(rows, 0), "deleted_at") <= after);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 1, 10));
	assert_int_equal(pg.total, 1);
	assert_int_equal(dal_rows_count(rows), 1);
	dal_rows_free(rows);
	/* a filter on deleted_at itself */
	byid[0] = (dal_filter)DAL_WHERE("deleted_at", DAL_OP_IS_NOT_NULL, dal_null());
	c.filters = byid;
	{
		int64_t want[] = { gone };
		expect_find(repo, &c, want, 1, "deleted_at IS NOT NULL with include_deleted");
	}

	/* Soft delete twice: the row is no longer live. */
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_delete(repo, gone, true));
	/* Restore of a live row, of a missing row. */
	CHECK_ERR(DAL_EINVAL, dal_repo_restore(NULL, repo, keep));
	CHECK_MSG("rp_users");
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_restore(NULL, repo, 999999));

	/* Restore brings it back. */
	CHECK_OK(dal_repo_restore(NULL, repo, gone));
	CHECK_OK(dal_repo_get(&row, repo, gone));
	assert_true(dal_row_is_null(row, "deleted_at"));
	assert_string_equal(dal_row_text(row, "name"), "Gone");
	assert_string_equal(dal_row_text(row, "email"), "gone@example.com");
	dal_row_free(row);
	assert_int_equal(count_of(repo, false), 2);
	assert_true(exists_of(repo, gone, false));
	CHECK_ERR(DAL_EINVAL, dal_repo_restore(NULL, repo, gone));
	dal_repo_close(repo);
}

static void test_hard_delete(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_row *row = NULL;
	int64_t a, b, c;

	a = add_user(repo, "A", "a@example.com", 1);
	b = add_user(repo, "B", "b@example.com", 2);
	c = add_user(repo, "C", "c@example.com", 3);
	CHECK_OK(dal_repo_delete(repo, a, false));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&row, repo, a));
	assert_false(exists_of(repo, a, true));
	assert_int_equal(count_of(repo, true), 2);
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_restore(NULL, repo, a));
	/* Hard delete also removes a soft-deleted row. */
	CHECK_OK(dal_repo_delete(repo, b, true));
	CHECK_OK(dal_repo_delete(repo, b, false));
	assert_false(exists_of(repo, b, true));
	assert_int_equal(count_of(repo, true), 1);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_users", NULL, 0), 1);
	/* Missing ids. */
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_delete(repo, a, false));
	CHECK_MSG("rp_users");
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_delete(repo, 999999, true));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_delete(repo, 999999, false));
	/* The survivor is untouched. */
	CHECK_OK(dal_repo_get(&row, repo, c));
	assert_string_equal(dal_row_text(row, "name"), "C");
	dal_row_free(row);
	dal_repo_close(repo);
}

static void test_no_soft_delete_model(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &tags);
	dal_field f[] = { DAL_FIELD("label", dal_text("red")) };
	dal_row *row = NULL;
	int64_t id;

	assert_false(dal_model_soft_delete(&tags));
	assert_true(dal_model_soft_delete(&users));
	CHECK_OK(dal_repo_create(&row, repo, f, 1));
	id = dal_row_int(row, "id");
	assert_false(dal_row_is_null(row, "created_at"));
	dal_row_free(row);
	CHECK_ERR(DAL_EUNSUPPORTED, dal_repo_delete(repo, id, true));
	CHECK_MSG("rp_tags");
	CHECK_ERR(DAL_EUNSUPPORTED, dal_repo_restore(NULL, repo, id));
	/* Still there; include_deleted changes nothing. */
	assert_true(exists_of(repo, id, false));
	assert_int_equal(count_of(repo, true), 1);
	/* Update on a model without updated_at. */
	f[0].value = dal_text("blue");
	CHECK_OK(dal_repo_update(&row, repo, id, f, 1));
	assert_string_equal(dal_row_text(row, "label"), "blue");
	dal_row_free(row);
	CHECK_OK(dal_repo_delete(repo, id, false));
	assert_false(exists_of(repo, id, true));
	dal_repo_close(repo);

	/* A model with no timestamp roles at all. */
	repo = open_repo(fx, &notes);
	f[0].column = "body";
	CHECK_OK(dal_repo_create(&row, repo, f, 1));
	assert_string_equal(dal_row_text(row, "body"), "blue");
	dal_row_free(row);
	dal_repo_close(repo);
}

/* ---- constraints ---- */

static void test_unique_soft_delete_model(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_field dup[] = { DAL_FIELD("name", dal_text("Dup")), DAL_FIELD("email", dal_text("same@example.com")) };
	dal_field to_dup[] = { DAL_FIELD("email", dal_text("same@example.com")) };
	dal_row *row = NULL;
	int64_t first, second, other;

	first = add_user(repo, "First", "same@example.com", 1);
	other = add_user(repo, "Other", "other@example.com", 2);
	/* Duplicate among live rows. */
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(&row, repo, dup, DAL_COUNT(dup)));
	assert_null(row);
	CHECK_MSG("email");
	assert_int_equal(count_of(repo, true), 2);
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_update(&row, repo, other, to_dup, 1));
	CHECK_MSG("email");
	CHECK_OK(dal_repo_get(&row, repo, other));
	assert_string_equal(dal_row_text(row, "email"), "other@example.com");
	dal_row_free(row);
	/* Setting a row's unique value to its own value is no conflict. */
	CHECK_OK(dal_repo_update(NULL, repo, first, to_dup, 1));

	/* After a soft delete, the value is free again. */
	CHECK_OK(dal_repo_delete(repo, first, true));
	second = add_user(repo, "Second", "same@example.com", 3);
	assert_true(second > first);
	assert_int_equal(count_of(repo, false), 2);
	assert_int_equal(count_of(repo, true), 3);
	/* Restoring the old row while a live duplicate exists. */
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_restore(NULL, repo, first));
	CHECK_MSG("email");
	assert_false(exists_of(repo, first, false));
	assert_true(exists_of(repo, first, true));
	/* Once the live one is gone, the restore works. */
	CHECK_OK(dal_repo_delete(repo, second, true));
	CHECK_OK(dal_repo_restore(NULL, repo, first));
	CHECK_OK(dal_repo_get(&row, repo, first));
	assert_string_equal(dal_row_text(row, "name"), "First");
	dal_row_free(row);
	/* Two soft-deleted rows may share the value. */
	CHECK_OK(dal_repo_delete(repo, first, true));
	assert_int_equal(count_of(repo, false), 1);
	assert_int_equal(count_of(repo, true), 3);
	dal_repo_close(repo);
}

static void test_unique_plain_model(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &tags);
	dal_field f[] = { DAL_FIELD("label", dal_text("red")) };
	dal_field g[] = { DAL_FIELD("label", dal_text("green")) };
	dal_row *row = NULL;
	int64_t green;

	CHECK_OK(dal_repo_create(NULL, repo, f, 1));
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(&row, repo, f, 1));
	assert_null(row);
	CHECK_MSG("label");
	CHECK_OK(dal_repo_create(&row, repo, g, 1));
	green = dal_row_int(row, "id");
	dal_row_free(row);
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_update(&row, repo, green, f, 1));
	CHECK_MSG("label");
	assert_int_equal(count_of(repo, false), 2);
	CHECK_OK(dal_repo_get(&row, repo, green));
	assert_string_equal(dal_row_text(row, "label"), "green");
	dal_row_free(row);
	dal_repo_close(repo);
}

static void test_not_null_and_length(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_field explicit_null[] = { DAL_FIELD("name", dal_null()), DAL_FIELD("email", dal_text("n@example.com")) };
	dal_field omitted[] = { DAL_FIELD("email", dal_text("o@example.com")) };
	dal_field too_long[] = { DAL_FIELD("name", dal_text("123456789012345678901")),
		DAL_FIELD("email", dal_text("l@example.com")) };
	/* 20 characters of two bytes each: fits a length of 20 characters. */
	dal_field wide[] = { DAL_FIELD("name", dal_text("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9")),
		DAL_FIELD("email", dal_text("w@example.com")) };
	dal_field exact[] = { DAL_FIELD("name", dal_text("12345678901234567890")),
		DAL_FIELD("email", dal_text("e@example.com")) };
	dal_field set_null[] = { DAL_FIELD("email", dal_null()) };
	dal_field set_long[] = { DAL_FIELD("name", dal_text("abcdefghijklmnopqrstuvwxyz")) };
	dal_row *row = NULL;
	int64_t id;

	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(&row, repo, explicit_null, DAL_COUNT(explicit_null)));
	assert_null(row);
	CHECK_MSG("name");
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(&row, repo, omitted, DAL_COUNT(omitted)));
	CHECK_MSG("name");
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, too_long, DAL_COUNT(too_long)));
	CHECK_MSG("name");
	assert_int_equal(count_of(repo, true), 0);
	CHECK_OK(dal_repo_create(&row, repo, wide, DAL_COUNT(wide)));
	assert_string_equal(dal_row_text(row, "name"), wide[0].value.v.s);
	dal_row_free(row);
	CHECK_OK(dal_repo_create(&row, repo, exact, DAL_COUNT(exact)));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_update(&row, repo, id, set_null, 1));
	CHECK_MSG("email");
	CHECK_ERR(DAL_EINVAL, dal_repo_update(&row, repo, id, set_long, 1));
	CHECK_MSG("name");
	CHECK_OK(dal_repo_get(&row, repo, id));
	assert_string_equal(dal_row_text(row, "name"), "12345678901234567890");
	assert_string_equal(dal_row_text(row, "email"), "e@example.com");
	dal_row_free(row);
	assert_int_equal(count_of(repo, true), 2);
	dal_repo_close(repo);
}

/* ---- find ---- */

#define NITEMS 20

typedef struct item_set {
	int64_t id[NITEMS];
	int64_t k[NITEMS];
	bool has_note[NITEMS];
} item_set;

/* k repeats (0..4) so that order by k needs the id tie-breaker; ids are created out of k order. */
static dal_repo *fill_items(fixture *fx, item_set *s)
{
	dal_repo *repo = open_repo(fx, &items);
	char name[32], note[32];
	int i;

	for (i = 0; i < NITEMS; i++) {
		dal_field f[4];
		dal_row *row = NULL;
		snprintf(name, sizeof(name), "item-%02d", i);
		snprintf(note, sizeof(note), "n%d", i);
		s->k[i] = (i * 7) % 5;
		s->has_note[i] = i % 4 != 0;
		f[0] = (dal_field)DAL_FIELD("k", dal_int(s->k[i]));
		f[1] = (dal_field)DAL_FIELD("name", dal_text(name));
		f[2] = (dal_field)DAL_FIELD("note", s->has_note[i] ? dal_text(note) : dal_null());
		f[3] = (dal_field)DAL_FIELD("score", dal_double(i * 0.5));
		CHECK_OK(dal_repo_create(&row, repo, f, 4));
		s->id[i] = dal_row_int(row, "id");
		dal_row_free(row);
	}
	return repo;
}

typedef bool (*item_pred)(const item_set *s, int i, int64_t arg);
static bool p_eq(const item_set *s, int i, int64_t a) { return s->k[i] == a; }
static bool p_ne(const item_set *s, int i, int64_t a) { return s->k[i] != a; }
static bool p_lt(const item_set *s, int i, int64_t a) { return s->k[i] < a; }
static bool p_le(const item_set *s, int i, int64_t a) { return s->k[i] <= a; }
static bool p_gt(const item_set *s, int i, int64_t a) { return s->k[i] > a; }
static bool p_ge(const item_set *s, int i, int64_t a) { return s->k[i] >= a; }
static bool p_in13(const item_set *s, int i, int64_t a) { (void)a; return s->k[i] == 1 || s->k[i] == 3; }
static bool p_null(const item_set *s, int i, int64_t a) { (void)a; return !s->has_note[i]; }
static bool p_notnull(const item_set *s, int i, int64_t a) { (void)a; return s->has_note[i]; }
static bool p_name1x(const item_set *s, int i, int64_t a) { (void)s; (void)a; return i >= 10 && i <= 19; }
static bool p_score_lt(const item_set *s, int i, int64_t a) { (void)s; return i * 0.5 < (double)a; }

static void expect_pred(dal_repo *repo, const item_set *s, const dal_filter *f, size_t nf, item_pred p,
                        int64_t arg, const char *what)
{
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t want[NITEMS], n;
	size_t nw = 0;
	int i;

	for (i = 0; i < NITEMS; i++)
		if (p(s, i, arg))
			want[nw++] = s->id[i];
	c.filters = f;
	c.nfilters = nf;
	expect_find(repo, &c, want, nw, what);
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, (int64_t)nw);
}

static void test_find_operators(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s);
	dal_value in13[] = { dal_int(1), dal_int(3) };
	dal_value in_none[] = { dal_int(99) };
	dal_filter f;
	dal_filter two[2];

	f = (dal_filter)DAL_WHERE("k", DAL_OP_EQ, dal_int(2));
	expect_pred(repo, &s, &f, 1, p_eq, 2, "k = 2");
	f = (dal_filter)DAL_WHERE("k", DAL_OP_NE, dal_int(2));
	expect_pred(repo, &s, &f, 1, p_ne, 2, "k <> 2");
	f = (dal_filter)DAL_WHERE("k", DAL_OP_LT, dal_int(2));
	expect_pred(repo, &s, &f, 1, p_lt, 2, "k < 2");
	f = (dal_filter)DAL_WHERE("k", DAL_OP_LE, dal_int(2));
	expect_pred(repo, &s, &f, 1, p_le, 2, "k <= 2");
	f = (dal_filter)DAL_WHERE("k", DAL_OP_GT, dal_int(2));
	expect_pred(repo, &s, &f, 1, p_gt, 2, "k > 2");
	f = (dal_filter)DAL_WHERE("k", DAL_OP_GE, dal_int(2));
	expect_pred(repo, &s, &f, 1, p_ge, 2, "k >= 2");
	f = (dal_filter)DAL_WHERE_IN("k", in13, 2);
	expect_pred(repo, &s, &f, 1, p_in13, 0, "k IN (1, 3)");
	f = (dal_filter)DAL_WHERE_IN("k", in_none, 1);
	expect_pred(repo, &s, &f, 1, p_lt, -100, "k IN (99)");
	f = (dal_filter)DAL_WHERE_IN("k", NULL, 0);
	expect_pred(repo, &s, &f, 1, p_lt, -100, "k IN () matches nothing");
	f = (dal_filter)DAL_WHERE("note", DAL_OP_IS_NULL, dal_null());
	expect_pred(repo, &s, &f, 1, p_null, 0, "note IS NULL");
	f = (dal_filter)DAL_WHERE("note", DAL_OP_IS_NOT_NULL, dal_null());
	expect_pred(repo, &s, &f, 1, p_notnull, 0, "note IS NOT NULL");
	f = (dal_filter)DAL_WHERE("name", DAL_OP_LIKE, dal_text("item-1%"));
	expect_pred(repo, &s, &f, 1, p_name1x, 0, "name LIKE 'item-1%'");
	f = (dal_filter)DAL_WHERE("score", DAL_OP_LT, dal_double(3.0));
	expect_pred(repo, &s, &f, 1, p_score_lt, 3, "score < 3.0");
	/* An int compared with a double column. */
	f = (dal_filter)DAL_WHERE("score", DAL_OP_LT, dal_int(3));
	expect_pred(repo, &s, &f, 1, p_score_lt, 3, "score < 3");
	/* Filters are ANDed. */
	two[0] = (dal_filter)DAL_WHERE("name", DAL_OP_LIKE, dal_text("item-1_"));
	two[1] = (dal_filter)DAL_WHERE("k", DAL_OP_EQ, dal_int(2));
	{
		int64_t want[NITEMS];
		size_t nw = 0;
		int i;
		dal_criteria c = DAL_CRITERIA_INIT;
		for (i = 10; i < NITEMS; i++)
			if (s.k[i] == 2)
				want[nw++] = s.id[i];
		c.filters = two;
		c.nfilters = 2;
		expect_find(repo, &c, want, nw, "LIKE and EQ");
	}
	/* NULL criteria: every live row by id. */
	expect_find(repo, NULL, s.id, NITEMS, "NULL criteria");
	dal_repo_close(repo);
}

typedef struct key_id {
	int64_t k, id;
} key_id;

static int by_k_asc(const void *a, const void *b)
{
	const key_id *x = a, *y = b;
	return x->k != y->k ? (x->k < y->k ? -1 : 1) : (x->id < y->id ? -1 : x->id > y->id);
}

static int by_k_desc(const void *a, const void *b)
{
	const key_id *x = a, *y = b;
	return x->k != y->k ? (x->k > y->k ? -1 : 1) : (x->id < y->id ? -1 : x->id > y->id);
}

/* The item ids sorted by k (asc or desc), equal k by id ascending; only `live` ones if given. */
static size_t sorted_ids(const item_set *s, bool desc, const bool *live, int64_t *out)
{
	key_id kv[NITEMS];
	size_t i, n = 0;

	for (i = 0; i < NITEMS; i++)
		if (!live || live[i]) {
			kv[n].k = s->k[i];
			kv[n++].id = s->id[i];
		}
	qsort(kv, n, sizeof(kv[0]), desc ? by_k_desc : by_k_asc);
	for (i = 0; i < n; i++)
		out[i] = kv[i].id;
	return n;
}

static void test_find_order_limit_offset(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s);
	dal_order o[1] = { { "k", false } };
	dal_order by_id_desc[1] = { { "id", true } };
	dal_order by_name[2] = { { "name", true }, { "k", false } };
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t asc[NITEMS], desc[NITEMS], rev[NITEMS];
	size_t i;

	sorted_ids(&s, false, NULL, asc);
	sorted_ids(&s, true, NULL, desc);
	for (i = 0; i < NITEMS; i++)
		rev[i] = s.id[NITEMS - 1 - i];
	c.order = o;
	c.norder = 1;
	expect_find(repo, &c, asc, NITEMS, "order by k asc, id");
	o[0].desc = true;
	expect_find(repo, &c, desc, NITEMS, "order by k desc, id");
	c.order = by_id_desc;
	expect_find(repo, &c, rev, NITEMS, "order by id desc");
	c.order = by_name;
	c.norder = 2;
	expect_find(repo, &c, rev, NITEMS, "order by name desc");

	/* limit, offset, both, with an order. */
	c.order = o;
	c.norder = 1;
	o[0].desc = false;
	c.limit = 5;
	expect_find(repo, &c, asc, 5, "limit 5");
	c.offset = 5;
	expect_find(repo, &c, asc + 5, 5, "limit 5 offset 5");
	c.limit = 0;
	expect_find(repo, &c, asc + 5, NITEMS - 5, "offset 5");
	c.offset = NITEMS - 2;
	c.limit = 10;
	expect_find(repo, &c, asc + NITEMS - 2, 2, "limit past the end");
	c.offset = NITEMS + 5;
	expect_find(repo, &c, NULL, 0, "offset past the end");
	/* The largest values: all rows, and none (DuckDB refuses them above 2^62 in SQL). */
	c.offset = INT64_MAX;
	expect_find(repo, &c, NULL, 0, "the largest offset");
	c.offset = 0;
	c.limit = INT64_MAX;
	expect_find(repo, &c, asc, NITEMS, "the largest limit");
	c.limit = 10;
	c.limit = 1;
	c.offset = 0;
	expect_find(repo, &c, asc, 1, "limit 1");

	/* limit and offset do not change count. */
	{
		int64_t n = -1;
		c.limit = 3;
		c.offset = 4;
		CHECK_OK(dal_repo_count(&n, repo, &c));
		assert_int_equal(n, NITEMS);
	}

	/* include_deleted */
	{
		bool live[NITEMS];
		int64_t want[NITEMS];
		size_t n;
		for (i = 0; i < NITEMS; i++) {
			live[i] = i % 3 != 1;
			if (!live[i])
				CHECK_OK(dal_repo_delete(repo, s.id[i], true));
		}
		c.limit = 0;
		c.offset = 0;
		n = sorted_ids(&s, false, live, want);
		expect_find(repo, &c, want, n, "order by k, live only");
		c.limit = 4;
		c.offset = 2;
		expect_find(repo, &c, want + 2, 4, "limit and offset over live rows");
		c.include_deleted = true;
		expect_find(repo, &c, asc + 2, 4, "limit and offset with include_deleted");
		c.limit = 0;
		c.offset = 0;
		expect_find(repo, &c, asc, NITEMS, "include_deleted");
	}
	dal_repo_close(repo);
}

/* ---- each ---- */

typedef struct each_state {
	int64_t ids[NITEMS + 1];
	size_t n;
	size_t stop_at;   /* stop after this many rows; 0 = never */
	int stop_value;
} each_state;

static int collect_ids(const dal_row *row, void *payload)
{
	each_state *e = payload;

	assert_non_null(row);
	assert_true(e->n < NITEMS + 1);
	assert_non_null(dal_row_text(row, "name"));
	e->ids[e->n++] = dal_row_int(row, "id");
	return e->stop_at && e->n == e->stop_at ? e->stop_value : 0;
}

static void test_each(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s);
	dal_order o[1] = { { "k", true } };
	dal_filter none[] = { DAL_WHERE("k", DAL_OP_GT, dal_int(100)) };
	dal_filter bad[] = { DAL_WHERE("nope", DAL_OP_EQ, dal_int(1)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	each_state e;
	int64_t desc[NITEMS];

	/* Every row, in order. */
	memset(&e, 0, sizeof(e));
	assert_int_equal(dal_repo_each(repo, NULL, collect_ids, &e), 0);
	assert_ids(e.ids, e.n, s.id, NITEMS, "each, all rows");
	sorted_ids(&s, true, NULL, desc);
	c.order = o;
	c.norder = 1;
	memset(&e, 0, sizeof(e));
	CHECK_OK(dal_repo_each(repo, &c, collect_ids, &e));
	assert_ids(e.ids, e.n, desc, NITEMS, "each, order by k desc");

	/* The callback stops early: its value comes back, later rows are not delivered. */
	memset(&e, 0, sizeof(e));
	e.stop_at = 5;
	e.stop_value = 7;
	assert_int_equal(dal_repo_each(repo, &c, collect_ids, &e), 7);
	assert_ids(e.ids, e.n, desc, 5, "each, stopped after 5");
	memset(&e, 0, sizeof(e));
	e.stop_at = 1;
	e.stop_value = -12345;
	assert_int_equal(dal_repo_each(repo, &c, collect_ids, &e), -12345);
	assert_int_equal(e.n, 1);
	/* The repository is usable afterwards. */
	assert_int_equal(count_of(repo, false), NITEMS);

	/* Zero rows. */
	c.filters = none;
	c.nfilters = 1;
	memset(&e, 0, sizeof(e));
	assert_int_equal(dal_repo_each(repo, &c, collect_ids, &e), 0);
	assert_int_equal(e.n, 0);

	/* limit and offset apply. */
	c.filters = NULL;
	c.nfilters = 0;
	c.limit = 3;
	c.offset = 2;
	memset(&e, 0, sizeof(e));
	CHECK_OK(dal_repo_each(repo, &c, collect_ids, &e));
	assert_ids(e.ids, e.n, desc + 2, 3, "each, limit 3 offset 2");

	/* Bad criteria: the callback never runs. */
	c.filters = bad;
	c.nfilters = 1;
	c.limit = 0;
	c.offset = 0;
	memset(&e, 0, sizeof(e));
	CHECK_ERR(DAL_EINVAL, dal_repo_each(repo, &c, collect_ids, &e));
	assert_int_equal(e.n, 0);
	CHECK_ERR(DAL_EINVAL, dal_repo_each(repo, NULL, NULL, NULL));
	dal_repo_close(repo);
}

/* ---- paginate ---- */

static void test_paginate(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s);
	dal_order o[1] = { { "k", true } };
	dal_filter f[] = { DAL_WHERE("k", DAL_OP_GE, dal_int(2)) };
	dal_filter none[] = { DAL_WHERE("k", DAL_OP_GT, dal_int(100)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_page pg;
	int64_t desc[NITEMS], all[NITEMS], got[NITEMS];
	size_t n = 0, k, nf;
	int64_t p;
	int i;

	sorted_ids(&s, true, NULL, desc);
	c.order = o;
	c.norder = 1;
	/* 20 rows, 3 a page: 7 pages, the last with 2. */
	for (p = 1; p <= 7; p++) {
		CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, p, 3));
		assert_int_equal(pg.total, NITEMS);
		assert_int_equal(pg.page, p);
		assert_int_equal(pg.page_size, 3);
		assert_int_equal(pg.total_pages, 7);
		assert_int_equal(dal_rows_count(rows), p < 7 ? 3 : 2);
		n += ids_of(rows, got + n, NITEMS - n);
		dal_rows_free(rows);
	}
	assert_ids(got, n, desc, NITEMS, "pages concatenated = find");
	/* A page past the end: empty, totals still right. */
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 8, 3));
	assert_non_null(rows);
	assert_int_equal(dal_rows_count(rows), 0);
	assert_int_equal(pg.total, NITEMS);
	assert_int_equal(pg.total_pages, 7);
	assert_int_equal(pg.page, 8);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 1000000, 3));
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	/* Exact multiple, one page holding all, NULL criteria (by id). */
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, NULL, 4, 5));
	assert_int_equal(pg.total_pages, 4);
	n = ids_of(rows, got, NITEMS);
	assert_ids(got, n, s.id + 15, 5, "page 4 of 5 by id");
	dal_rows_free(rows);
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, NULL, 1, 1000));
	assert_int_equal(pg.total_pages, 1);
	assert_int_equal(dal_rows_count(rows), NITEMS);
	dal_rows_free(rows);


	/* With a filter: pages of the filtered, ordered rows. */
	c.filters = f;
	c.nfilters = 1;
	for (k = 0, nf = 0; k < NITEMS; k++)
		for (i = 0; i < NITEMS; i++)
			if (s.id[i] == desc[k] && s.k[i] >= 2)
				all[nf++] = desc[k];
	expect_find(repo, &c, all, nf, "k >= 2 by k desc");
	for (n = 0, p = 1; n < nf; p++) {
		CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, p, 4));
		assert_int_equal(pg.total, (int64_t)nf);
		assert_int_equal(pg.total_pages, ((int64_t)nf + 3) / 4);
		assert_true(dal_rows_count(rows) > 0);
		n += ids_of(rows, got + n, NITEMS - n);
		dal_rows_free(rows);
	}
	assert_int_equal(p - 1, ((int64_t)nf + 3) / 4);
	assert_ids(got, n, all, nf, "filtered pages concatenated = find");

	/* The criteria's own offset and limit window the result; count and page agree. */
	c.filters = NULL;
	c.nfilters = 0;
	c.offset = 3;
	c.limit = 10;
	for (n = 0, p = 1; p <= 3; p++) {
		CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, p, 4));
		assert_int_equal(pg.total, 10);
		assert_int_equal(pg.total_pages, 3);
		assert_int_equal(dal_rows_count(rows), p < 3 ? 4 : 2);
		n += ids_of(rows, got + n, NITEMS - n);
		dal_rows_free(rows);
	}
	assert_ids(got, n, desc + 3, 10, "pages under offset 3 limit 10");
	c.offset = NITEMS + 1;
	c.limit = 0;
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 1, 4));
	assert_int_equal(pg.total, 0);
	assert_int_equal(pg.total_pages, 0);
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);

	/* No rows: 0 pages, page 1 is empty. */
	c.offset = 0;
	c.filters = none;
	c.nfilters = 1;
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 1, 10));
	assert_int_equal(pg.total, 0);
	assert_int_equal(pg.total_pages, 0);
	assert_int_equal(pg.page, 1);
	assert_int_equal(pg.page_size, 10);
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	dal_repo_close(repo);
}

static void test_paginate_bad_input(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s), *small_repo = NULL;
	const dal_model *ms[] = { &items };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *small = NULL;
	dal_rows *rows = NULL;
	dal_page pg;

	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, NULL, 0, 10));
	assert_null(rows);
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, NULL, -1, 10));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, NULL, 1, 0));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, NULL, 1, -5));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, NULL, 1, 1001));
	CHECK_MSG("1000");
	CHECK_OK(dal_repo_paginate(&rows, &pg, repo, NULL, 1, 1000));
	dal_rows_free(rows);
	c.limit = -1;
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, &c, 1, 10));
	c.limit = 0;
	c.offset = -1;
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, &c, 1, 10));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(NULL, &pg, repo, NULL, 1, 10));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, NULL, repo, NULL, 1, 10));

	/* The configured maximum. */
	cfg.max_page_size = 5;
	CHECK_OK(fx_open_again(&small, fx, &cfg));
	CHECK_OK(dal_init_database(small, ms, 1, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_repo_open(&small_repo, small, &items, 0));
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, small_repo, NULL, 1, 6));
	CHECK_MSG("5");
	CHECK_OK(dal_repo_paginate(&rows, &pg, small_repo, NULL, 1, 5));
	assert_int_equal(pg.page_size, 5);
	dal_rows_free(rows);
	dal_repo_close(small_repo);
	dal_close(small);
	dal_repo_close(repo);
}

/* ---- keyset ---- */

/* Walk the whole table page by page with criteria.after; it must equal find() of everything. */
static void keyset_walk(dal_repo *repo, const dal_criteria *base, size_t page, const char *what)
{
	dal_criteria c = *base;
	dal_rows *all = NULL, *prev = NULL, *rows = NULL;
	int64_t want[NITEMS], got[NITEMS];
	size_t nw, n = 0, pages = 0;

	CHECK_OK(dal_repo_find(&all, repo, base));
	nw = ids_of(all, want, NITEMS);
	dal_rows_free(all);
	c.limit = (int64_t)page;
	for (;;) {
		size_t k;
		c.after = prev ? dal_rows_at(prev, dal_rows_count(prev) - 1) : NULL;
		CHECK_OK(dal_repo_find(&rows, repo, &c));
		dal_rows_free(prev);
		prev = NULL;
		k = dal_rows_count(rows);
		assert_true(k <= page);
		assert_true(n + k <= NITEMS);
		n += ids_of(rows, got + n, NITEMS - n);
		pages++;
		if (k == 0 || pages > NITEMS + 1) {
			dal_rows_free(rows);
			break;
		}
		prev = rows;
	}
	assert_ids(got, n, want, nw, what);
}

static void test_keyset(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s);
	dal_order o[2] = { { "k", false }, { "score", true } };
	dal_order byid[1] = { { "id", true } };
	dal_filter f[] = { DAL_WHERE("k", DAL_OP_NE, dal_int(3)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	int64_t asc[NITEMS];
	size_t ps;

	c.order = o;
	c.norder = 1;
	for (ps = 1; ps <= 7; ps += 2)
		keyset_walk(repo, &c, ps, "keyset by k asc");
	o[0].desc = true;
	for (ps = 1; ps <= 7; ps += 2)
		keyset_walk(repo, &c, ps, "keyset by k desc");
	/* Mixed directions, two keys. */
	c.norder = 2;
	keyset_walk(repo, &c, 3, "keyset by k desc, score desc");
	o[0].desc = false;
	keyset_walk(repo, &c, 4, "keyset by k asc, score desc");
	/* Default order (id), id descending, with a filter, with soft-deleted rows. */
	c.order = NULL;
	c.norder = 0;
	keyset_walk(repo, &c, 3, "keyset by id");
	c.order = byid;
	c.norder = 1;
	keyset_walk(repo, &c, 3, "keyset by id desc");
	CHECK_OK(dal_repo_delete(repo, s.id[4], true));
	CHECK_OK(dal_repo_delete(repo, s.id[11], true));
	c.order = o;
	c.norder = 1;
	c.filters = f;
	c.nfilters = 1;
	keyset_walk(repo, &c, 2, "keyset with a filter over live rows");
	c.include_deleted = true;
	keyset_walk(repo, &c, 5, "keyset with include_deleted");

	/* One page after a given row equals the rows that follow it in find(). */
	c.filters = NULL;
	c.nfilters = 0;
	c.include_deleted = true;
	sorted_ids(&s, false, NULL, asc);
	{
		dal_rows *all = NULL;
		CHECK_OK(dal_repo_find(&all, repo, &c));
		c.after = dal_rows_at(all, 6);
		c.limit = 5;
		expect_find(repo, &c, asc + 7, 5, "after the 7th row");
		c.after = dal_rows_at(all, NITEMS - 1);
		expect_find(repo, &c, NULL, 0, "after the last row");
		dal_rows_free(all);
	}

	/* count and paginate honour `after` as find does: only the rows that follow it. */
	{
		dal_rows *all = NULL, *tail = NULL;
		dal_page pg;
		int64_t n = -1;
		c.limit = 0;
		c.after = NULL;
		CHECK_OK(dal_repo_find(&all, repo, &c));
		c.after = dal_rows_at(all, 6);
		CHECK_OK(dal_repo_find(&tail, repo, &c));
		assert_int_equal(dal_rows_count(tail), NITEMS - 7);
		CHECK_OK(dal_repo_count(&n, repo, &c));
		assert_int_equal(n, NITEMS - 7);
		CHECK_OK(dal_repo_paginate(&rows, &pg, repo, &c, 1, 5));
		assert_int_equal(pg.total, NITEMS - 7);
		assert_int_equal(dal_rows_count(rows), 5);
		assert_int_equal(dal_row_int(dal_rows_at(rows, 0), "id"), dal_row_int(dal_rows_at(tail, 0), "id"));
		dal_rows_free(rows);
		rows = NULL;
		dal_rows_free(tail);
		dal_rows_free(all);
	}

	/* An after row of another model is refused. */
	{
		dal_row *other = NULL;
		CHECK_OK(dal_row_new(&other, &tags));
		c.after = other;
		CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
		assert_null(rows);
		dal_row_free(other);
	}
	dal_repo_close(repo);
}

/* ---- count and exists ---- */

static void test_count_exists(void **state)
{
	fixture *fx = FX(state);
	item_set s;
	dal_repo *repo = fill_items(fx, &s);
	dal_filter f[] = { DAL_WHERE("k", DAL_OP_EQ, dal_int(0)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t n = -1, k0 = 0;
	bool b = true;
	int i;

	for (i = 0; i < NITEMS; i++)
		k0 += s.k[i] == 0;
	CHECK_OK(dal_repo_count(&n, repo, NULL));
	assert_int_equal(n, NITEMS);
	c.filters = f;
	c.nfilters = 1;
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, k0);
	/* the last row with k = 0 (the first one stays live) */
	for (i = NITEMS - 1; i > 0; i--)
		if (s.k[i] == 0) {
			CHECK_OK(dal_repo_delete(repo, s.id[i], true));
			break;
		}
	assert_true(i > 0);
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, k0 - 1);
	c.include_deleted = true;
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, k0);
	assert_int_equal(count_of(repo, false), NITEMS - 1);
	assert_int_equal(count_of(repo, true), NITEMS);

	assert_true(exists_of(repo, s.id[0], false));
	assert_false(exists_of(repo, s.id[i], false));
	assert_true(exists_of(repo, s.id[i], true));
	CHECK_OK(dal_repo_exists(&b, repo, 999999, true));
	assert_false(b);
	b = true;
	CHECK_OK(dal_repo_exists(&b, repo, 999999, false));
	assert_false(b);
	CHECK_OK(dal_repo_delete(repo, s.id[i], false));
	assert_false(exists_of(repo, s.id[i], true));
	assert_int_equal(count_of(repo, true), NITEMS - 1);
	CHECK_ERR(DAL_EINVAL, dal_repo_count(NULL, repo, NULL));
	CHECK_ERR(DAL_EINVAL, dal_repo_exists(NULL, repo, 1, false));
	dal_repo_close(repo);
}

/* ---- bad input ---- */

static void test_unknown_columns(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_field f[] = { DAL_FIELD("name", dal_text("X")), DAL_FIELD("email", dal_text("x@example.com")),
		DAL_FIELD("nickname", dal_text("x")) };
	dal_field inj[] = { DAL_FIELD("name; DROP TABLE rp_users", dal_text("X")) };
	dal_field nullcol[] = { DAL_FIELD(NULL, dal_text("X")) };
	dal_field twice[] = { DAL_FIELD("name", dal_text("X")), DAL_FIELD("name", dal_text("Y")),
		DAL_FIELD("email", dal_text("t@example.com")) };
	dal_filter bad_filter[] = { DAL_WHERE("nickname", DAL_OP_EQ, dal_text("x")) };
	dal_value vals[] = { dal_int(1) };
	dal_filter bad_in[] = { DAL_WHERE_IN("shoe_size", vals, 1) };
	dal_filter bad_null[] = { DAL_WHERE("phone", DAL_OP_IS_NULL, dal_null()) };
	dal_order bad_order[] = { { "rank", false } };
	dal_order inj_order[] = { { "name DESC; --", false } };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_row *row = NULL;
	dal_page pg;
	int64_t id, n;

	id = add_user(repo, "Ann", "ann@example.com", 1);
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	assert_null(row);
	CHECK_MSG("nickname");
	CHECK_MSG("rp_users");
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, inj, 1));
	CHECK_MSG("rp_users");
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, nullcol, 1));
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, twice, DAL_COUNT(twice)));
	CHECK_MSG("name");
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, NULL, 2));
	CHECK_ERR(DAL_EINVAL, dal_repo_update(&row, repo, id, f + 2, 1));
	CHECK_MSG("nickname");
	CHECK_MSG("rp_users");

	c.filters = bad_filter;
	c.nfilters = 1;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	assert_null(rows);
	CHECK_MSG("nickname");
	CHECK_MSG("rp_users");
	CHECK_ERR(DAL_EINVAL, dal_repo_count(&n, repo, &c));
	CHECK_MSG("nickname");
	CHECK_ERR(DAL_EINVAL, dal_repo_paginate(&rows, &pg, repo, &c, 1, 10));
	CHECK_MSG("nickname");
	c.filters = bad_in;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("shoe_size");
	CHECK_MSG("rp_users");
	c.filters = bad_null;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("phone");
	c.filters = NULL;
	c.nfilters = 0;
	c.order = bad_order;
	c.norder = 1;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("rank");
	CHECK_MSG("rp_users");
	c.order = inj_order;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("rp_users");
	/* Also after id (which ends the sort keys). */
	{
		dal_order after_id[] = { { "id", false }, { "rank", true } };
		c.order = after_id;
		c.norder = 2;
		CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
		CHECK_MSG("rank");
		c.norder = 1;
	}
	/* A NULL array with a count, an unknown version. */
	c.order = NULL;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	c.norder = 0;
	c.version = 99;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	c.version = 0;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));

	/* Nothing was written, the table is whole. */
	assert_int_equal(count_of(repo, true), 1);
	CHECK_OK(dal_repo_get(&row, repo, id));
	assert_string_equal(dal_row_text(row, "name"), "Ann");
	dal_row_free(row);
	dal_repo_close(repo);
}

static void test_wrong_types_and_ranges(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &users);
	dal_field text_in_int[] = { DAL_FIELD("name", dal_text("X")), DAL_FIELD("email", dal_text("x@example.com")),
		DAL_FIELD("age", dal_text("forty")) };
	dal_field int_in_text[] = { DAL_FIELD("name", dal_int(5)), DAL_FIELD("email", dal_text("y@example.com")) };
	dal_field bool_in_ts[] = { DAL_FIELD("name", dal_text("Z")), DAL_FIELD("email", dal_text("z@example.com")),
		DAL_FIELD("created_at", dal_bool(true)) };
	dal_field blob_in_text[] = { DAL_FIELD("email", dal_blob("ab", 2)) };
	dal_filter f_text_int[] = { DAL_WHERE("age", DAL_OP_EQ, dal_text("1")) };
	dal_filter f_double_text[] = { DAL_WHERE("name", DAL_OP_LT, dal_double(1.5)) };
	dal_filter f_like_int[] = { DAL_WHERE("age", DAL_OP_LIKE, dal_text("1%")) };
	dal_filter f_null_eq[] = { DAL_WHERE("age", DAL_OP_EQ, dal_null()) };
	dal_value in_vals[] = { dal_int(1), dal_text("two") };
	dal_filter f_in_mixed[] = { DAL_WHERE_IN("age", in_vals, 2) };
	dal_filter f_bad_op[] = { DAL_WHERE("age", (dal_op)42, dal_int(1)) };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	dal_row *row = NULL;
	int64_t id, n;
	each_state e;

	id = add_user(repo, "Ann", "ann@example.com", 1);
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, text_in_int, DAL_COUNT(text_in_int)));
	CHECK_MSG("age");
	CHECK_MSG(dal_type_name(DAL_TYPE_INT));
	CHECK_MSG(dal_type_name(DAL_TYPE_TEXT));
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, int_in_text, DAL_COUNT(int_in_text)));
	CHECK_MSG("name");
	CHECK_MSG(dal_type_name(DAL_TYPE_TEXT));
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, repo, bool_in_ts, DAL_COUNT(bool_in_ts)));
	CHECK_MSG("created_at");
	CHECK_MSG(dal_type_name(DAL_TYPE_TIMESTAMP));
	CHECK_ERR(DAL_EINVAL, dal_repo_update(&row, repo, id, blob_in_text, 1));
	CHECK_MSG("email");
	CHECK_MSG(dal_type_name(DAL_TYPE_BLOB));

	c.filters = f_text_int;
	c.nfilters = 1;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("age");
	CHECK_MSG(dal_type_name(DAL_TYPE_INT));
	c.filters = f_double_text;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("name");
	c.filters = f_like_int;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("age");
	c.filters = f_null_eq;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("age");
	c.filters = f_in_mixed;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("age");
	c.filters = f_bad_op;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));

	/* Negative limit and offset, on every reading call. */
	c.filters = NULL;
	c.nfilters = 0;
	c.limit = -1;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("limit");
	memset(&e, 0, sizeof(e));
	CHECK_ERR(DAL_EINVAL, dal_repo_each(repo, &c, collect_ids, &e));
	assert_int_equal(e.n, 0);
	c.limit = 0;
	c.offset = -3;
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, repo, &c));
	CHECK_MSG("offset");
	CHECK_ERR(DAL_EINVAL, dal_repo_each(repo, &c, collect_ids, &e));
	CHECK_ERR(DAL_EINVAL, dal_repo_count(&n, repo, &c));

	/* NULL arguments are DAL_EINVAL, never a crash. */
	CHECK_ERR(DAL_EINVAL, dal_repo_find(NULL, repo, NULL));
	CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, NULL, NULL));
	CHECK_ERR(DAL_EINVAL, dal_repo_get(NULL, repo, id));
	CHECK_ERR(DAL_EINVAL, dal_repo_get(&row, NULL, id));
	CHECK_ERR(DAL_EINVAL, dal_repo_create(&row, NULL, NULL, 0));
	CHECK_ERR(DAL_EINVAL, dal_repo_update(&row, NULL, id, NULL, 0));
	CHECK_ERR(DAL_EINVAL, dal_repo_delete(NULL, id, true));
	CHECK_ERR(DAL_EINVAL, dal_repo_restore(NULL, NULL, id));
	CHECK_ERR(DAL_EINVAL, dal_repo_open(NULL, fx->db, &users, 0));
	{
		dal_repo *r2 = (dal_repo *)&r2;
		CHECK_ERR(DAL_EINVAL, dal_repo_open(&r2, fx->db, NULL, 0));
		assert_null(r2);
		CHECK_ERR(DAL_EINVAL, dal_repo_open(&r2, NULL, &users, 0));
	}
	dal_repo_close(NULL);

	/* Nothing changed. */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_users", NULL, 0), 1);
	CHECK_OK(dal_repo_get(&row, repo, id));
	assert_string_equal(dal_row_text(row, "email"), "ann@example.com");
	dal_row_free(row);
	dal_repo_close(repo);
}

/* ---- literal values ---- */

/* Escape % _ and \ with a backslash, for a LIKE pattern that matches `s` literally. */
static void like_escape(char *out, size_t n, const char *s)
{
	size_t k = 0;

	for (; *s && k + 2 < n; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			out[k++] = '\\';
		out[k++] = *s;
	}
	out[k] = '\0';
}

static void test_injection_literal(void **state)
{
	fixture *fx = FX(state);
	static const char *const values[] = {
		"O'Brien",
		"''",
		"semi;colon; ;",
		"' OR 1=1 --",
		"\" OR \"\"=\"",
		"Robert'); DROP TABLE rp_notes;--",
		"100%",
		"1000",
		"a_b",
		"axb",
		"back\\slash",
		"back\\\\double",
		"trailing\\",
		"%",
		"_",
		"\\%",
		"tab\tnew\nline\rcr",
		"\x01\x02\x1f\x7f ctrl",
		"Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
		"$1 $2 ? ?? :name @p",
		"/* comment */ --",
		"",
	};
	size_t nv = DAL_COUNT(values), i;
	int64_t ids[DAL_COUNT(values)];
	dal_repo *repo = open_repo(fx, &notes);
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_filter f[1];
	dal_rows *rows = NULL;
	dal_row *row = NULL;
	char pat[128];
	int64_t n;

	for (i = 0; i < nv; i++) {
		dal_field fl[] = { DAL_FIELD("body", dal_text(values[i])) };
		CHECK_OK(dal_repo_create(&row, repo, fl, 1));
		ids[i] = dal_row_int(row, "id");
		assert_string_equal(dal_row_text(row, "body"), values[i]);
		dal_row_free(row);
	}
	assert_int_equal(count_of(repo, false), (int64_t)nv);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_notes", NULL, 0), (int64_t)nv);
	c.filters = f;
	c.nfilters = 1;
	for (i = 0; i < nv; i++) {
		const dal_value *v;
		/* Read back byte for byte. */
		CHECK_OK(dal_repo_get(&row, repo, ids[i]));
		v = dal_row_get(row, "body");
		assert_int_equal(v->type, DAL_TYPE_TEXT);
		assert_int_equal(v->len, strlen(values[i]));
		assert_memory_equal(v->v.s, values[i], v->len + 1);
		dal_row_free(row);
		/* Matched by equality: exactly this row. */
		f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_EQ, dal_text(values[i]));
		expect_find(repo, &c, &ids[i], 1, values[i]);
		/* Matched by an escaped LIKE: exactly this row. */
		like_escape(pat, sizeof(pat), values[i]);
		f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_LIKE, dal_text(pat));
		expect_find(repo, &c, &ids[i], 1, pat);
		f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_NE, dal_text(values[i]));
		CHECK_OK(dal_repo_count(&n, repo, &c));
		assert_int_equal(n, (int64_t)nv - 1);
	}
	/* Unescaped wildcards are wildcards; escaped ones are literal. */
	f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_LIKE, dal_text("a_b"));
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 2);
	f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_LIKE, dal_text("100%"));
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 2);
	f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_LIKE, dal_text("100\\%"));
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 1);
	f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_LIKE, dal_text("%\\\\%"));
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 4);   /* the four values holding a backslash */
	f[0] = (dal_filter)DAL_WHERE("body", DAL_OP_LIKE, dal_text("%1=1%"));
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 1);
	/* IN with such values. */
	{
		dal_value in[] = { dal_text(values[3]), dal_text(values[5]), dal_text("not stored") };
		int64_t want[] = { ids[3], ids[5] };
		f[0] = (dal_filter)DAL_WHERE_IN("body", in, 3);
		expect_find(repo, &c, want, 2, "IN with injection-looking values");
	}
	/* Update to such a value and back. */
	{
		dal_field up[] = { DAL_FIELD("body", dal_text("x'); DELETE FROM rp_notes; --")) };
		CHECK_OK(dal_repo_update(&row, repo, ids[0], up, 1));
		assert_string_equal(dal_row_text(row, "body"), up[0].value.v.s);
		dal_row_free(row);
	}
	/* The table holds exactly what was written. */
	CHECK_OK(dal_repo_find(&rows, repo, NULL));
	assert_int_equal(dal_rows_count(rows), nv);
	for (i = 1; i < nv; i++)
		assert_string_equal(dal_row_text(dal_rows_at(rows, i), "body"), values[i]);
	dal_rows_free(rows);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rp_notes", NULL, 0), (int64_t)nv);
	dal_repo_close(repo);
}

/* ---- every value type ---- */

static bool json_same(const char *a, const char *b)
{
	/* Engines may normalise whitespace (PostgreSQL jsonb); compare without it. */
	for (;;) {
		while (*a == ' ' || *a == '\n')
			a++;
		while (*b == ' ' || *b == '\n')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

static void test_value_types(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_repo(fx, &types);
	static const unsigned char blob[] = { 0, 1, 2, 0xff, 0x80, 0, 'x', 0x7f };
	static const char *json = "{\"a\": [1, 2.5, \"x\"], \"b\": null}";
	static const char *text = "caf\xc3\xa9 'quoted' \\";
	int64_t ts = 1700000000123456LL, old_ts = -86400000000LL * 365 + 1;
	dal_field full[] = {
		DAL_FIELD("b", dal_bool(true)), DAL_FIELD("i", dal_int(INT64_MAX)), DAL_FIELD("d", dal_double(3.25)),
		DAL_FIELD("s", dal_text(text)), DAL_FIELD("bl", dal_blob(blob, sizeof(blob))),
		DAL_FIELD("ts", dal_timestamp(ts)), DAL_FIELD("j", dal_json(json)),
	};
	dal_field other[] = {
		DAL_FIELD("b", dal_bool(false)), DAL_FIELD("i", dal_int(INT64_MIN)), DAL_FIELD("d", dal_double(-0.1)),
		DAL_FIELD("s", dal_text("")), DAL_FIELD("bl", dal_blob("", 0)),
		DAL_FIELD("ts", dal_timestamp(old_ts)), DAL_FIELD("j", dal_text("[]")),
	};
	/* Accepted conversions: an int into double, bool (0/1) and timestamp columns; text into a timestamp. */
	dal_field conv[] = {
		DAL_FIELD("b", dal_int(1)), DAL_FIELD("d", dal_int(2)), DAL_FIELD("ts", dal_text("2024-02-29 12:34:56.5")),
	};
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_filter f[1];
	dal_row *row = NULL, *got = NULL;
	const dal_value *v;
	int64_t id1, id2, id3, id4, want;

	CHECK_OK(dal_repo_create(&row, repo, full, DAL_COUNT(full)));
	id1 = dal_row_int(row, "id");
	dal_row_free(row);
	CHECK_OK(dal_repo_get(&got, repo, id1));
	assert_int_equal(dal_row_get(got, "b")->type, DAL_TYPE_BOOL);
	assert_true(dal_row_bool(got, "b"));
	assert_int_equal(dal_row_get(got, "i")->type, DAL_TYPE_INT);
	assert_int_equal(dal_row_int(got, "i"), INT64_MAX);
	assert_int_equal(dal_row_get(got, "d")->type, DAL_TYPE_DOUBLE);
	assert_true(dal_row_double(got, "d") == 3.25);
	assert_int_equal(dal_row_get(got, "s")->type, DAL_TYPE_TEXT);
	assert_string_equal(dal_row_text(got, "s"), text);
	v = dal_row_get(got, "bl");
	assert_int_equal(v->type, DAL_TYPE_BLOB);
	assert_int_equal(v->len, sizeof(blob));
	assert_memory_equal(v->v.p, blob, sizeof(blob));
	assert_int_equal(dal_row_get(got, "ts")->type, DAL_TYPE_TIMESTAMP);
	assert_int_equal(dal_row_timestamp(got, "ts"), ts);
	assert_int_equal(dal_row_get(got, "j")->type, DAL_TYPE_JSON);
	assert_non_null(dal_row_text(got, "j"));
	if (!json_same(dal_row_text(got, "j"), json))
		fail_msg("json came back as %s", dal_row_text(got, "j"));
	/* By index too, in model order. */
	assert_int_equal(dal_row_at(got, 0)->v.i, id1);
	assert_ptr_equal(dal_row_at(got, 1), dal_row_get(got, "b"));
	assert_null(dal_row_at(got, DAL_COUNT(type_cols)));
	assert_null(dal_row_get(got, "nope"));
	assert_int_equal(dal_error_last()->code, DAL_EINVAL);
	CHECK_MSG("nope");
	CHECK_MSG("rp_types");
	dal_row_free(got);

	CHECK_OK(dal_repo_create(&row, repo, other, DAL_COUNT(other)));
	id2 = dal_row_int(row, "id");
	dal_row_free(row);
	CHECK_OK(dal_repo_get(&got, repo, id2));
	assert_int_equal(dal_row_get(got, "b")->type, DAL_TYPE_BOOL);
	assert_false(dal_row_bool(got, "b"));
	assert_int_equal(dal_row_int(got, "i"), INT64_MIN);
	assert_true(dal_row_double(got, "d") == -0.1);
	assert_int_equal(dal_row_get(got, "s")->type, DAL_TYPE_TEXT);
	assert_string_equal(dal_row_text(got, "s"), "");
	assert_int_equal(dal_row_get(got, "bl")->type, DAL_TYPE_BLOB);
	assert_int_equal(dal_row_get(got, "bl")->len, 0);
	assert_int_equal(dal_row_timestamp(got, "ts"), old_ts);
	assert_int_equal(dal_row_get(got, "j")->type, DAL_TYPE_JSON);
	assert_true(json_same(dal_row_text(got, "j"), "[]"));
	dal_row_free(got);

	/* Every column NULL. */
	CHECK_OK(dal_repo_create(&row, repo, NULL, 0));
	id3 = dal_row_int(row, "id");
	dal_row_free(row);
	CHECK_OK(dal_repo_get(&got, repo, id3));
	assert_true(dal_row_is_null(got, "b"));
	assert_true(dal_row_is_null(got, "i"));
	assert_true(dal_row_is_null(got, "d"));
	assert_true(dal_row_is_null(got, "s"));
	assert_true(dal_row_is_null(got, "bl"));
	assert_true(dal_row_is_null(got, "ts"));
	assert_true(dal_row_is_null(got, "j"));
	assert_false(dal_row_is_null(got, "id"));
	assert_null(dal_row_text(got, "s"));
	assert_int_equal(dal_row_int(got, "i"), 0);
	dal_row_free(got);

	CHECK_OK(dal_repo_create(&row, repo, conv, DAL_COUNT(conv)));
	id4 = dal_row_int(row, "id");
	dal_row_free(row);
	CHECK_OK(dal_repo_get(&got, repo, id4));
	assert_int_equal(dal_row_get(got, "b")->type, DAL_TYPE_BOOL);
	assert_true(dal_row_bool(got, "b"));
	assert_int_equal(dal_row_get(got, "d")->type, DAL_TYPE_DOUBLE);
	assert_true(dal_row_double(got, "d") == 2.0);
	CHECK_OK(dal_timestamp_parse(&want, "2024-02-29 12:34:56.5"));
	assert_int_equal(dal_row_timestamp(got, "ts"), want);
	dal_row_free(got);

	/* Filters on each type find the right row. */
	c.filters = f;
	c.nfilters = 1;
	f[0] = (dal_filter)DAL_WHERE("b", DAL_OP_EQ, dal_bool(false));
	expect_find(repo, &c, &id2, 1, "b = false");
	f[0] = (dal_filter)DAL_WHERE("i", DAL_OP_EQ, dal_int(INT64_MAX));
	expect_find(repo, &c, &id1, 1, "i = INT64_MAX");
	f[0] = (dal_filter)DAL_WHERE("d", DAL_OP_LT, dal_double(0.0));
	expect_find(repo, &c, &id2, 1, "d < 0");
	f[0] = (dal_filter)DAL_WHERE("ts", DAL_OP_EQ, dal_timestamp(ts));
	expect_find(repo, &c, &id1, 1, "ts = exact microseconds");
	f[0] = (dal_filter)DAL_WHERE("ts", DAL_OP_LT, dal_timestamp(0));
	expect_find(repo, &c, &id2, 1, "ts before 1970");
	f[0] = (dal_filter)DAL_WHERE("ts", DAL_OP_GT, dal_timestamp(ts));
	expect_find(repo, &c, &id4, 1, "ts after");
	f[0] = (dal_filter)DAL_WHERE("s", DAL_OP_EQ, dal_text(text));
	expect_find(repo, &c, &id1, 1, "s = text");
	f[0] = (dal_filter)DAL_WHERE("j", DAL_OP_IS_NULL, dal_null());
	{
		int64_t both[] = { id3, id4 };
		expect_find(repo, &c, both, 2, "j IS NULL");
	}

	/* Update every type. */
	{
		dal_field up[] = { DAL_FIELD("b", dal_bool(false)), DAL_FIELD("i", dal_int(-5)),
			DAL_FIELD("d", dal_double(1e300)), DAL_FIELD("s", dal_text("new")),
			DAL_FIELD("bl", dal_blob("\0\0", 2)), DAL_FIELD("ts", dal_timestamp(ts + 1)),
			DAL_FIELD("j", dal_json("{\"k\": true}")) };
		CHECK_OK(dal_repo_update(&row, repo, id3, up, DAL_COUNT(up)));
		assert_false(dal_row_bool(row, "b"));
		assert_false(dal_row_is_null(row, "b"));
		assert_int_equal(dal_row_int(row, "i"), -5);
		assert_true(dal_row_double(row, "d") == 1e300);
		assert_string_equal(dal_row_text(row, "s"), "new");
		assert_int_equal(dal_row_get(row, "bl")->len, 2);
		assert_memory_equal(dal_row_get(row, "bl")->v.p, "\0\0", 2);
		assert_int_equal(dal_row_timestamp(row, "ts"), ts + 1);
		assert_true(json_same(dal_row_text(row, "j"), "{\"k\": true}"));
		dal_row_free(row);
	}
	dal_repo_close(repo);
}

FX_CASES(cases_repo,
	FX_CASE(test_init_creates_and_is_idempotent),
	FX_CASE(test_init_missing_table),
	FX_CASE(test_init_invalid_model),
	FX_CASE(test_invalid_model_names_column),
	FX_CASE(test_create_get),
	FX_CASE(test_create_explicit_timestamps),
	FX_CASE(test_update),
	FX_CASE(test_soft_delete_restore),
	FX_CASE(test_hard_delete),
	FX_CASE(test_no_soft_delete_model),
	FX_CASE(test_unique_soft_delete_model),
	FX_CASE(test_unique_plain_model),
	FX_CASE(test_not_null_and_length),
	FX_CASE(test_find_operators),
	FX_CASE(test_find_order_limit_offset),
	FX_CASE(test_each),
	FX_CASE(test_paginate),
	FX_CASE(test_paginate_bad_input),
	FX_CASE(test_keyset),
	FX_CASE(test_count_exists),
	FX_CASE(test_unknown_columns),
	FX_CASE(test_wrong_types_and_ranges),
	FX_CASE(test_injection_literal),
	FX_CASE(test_value_types));
