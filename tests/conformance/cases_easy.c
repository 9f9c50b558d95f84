/* The everyday calls: dal_repo_all, dal_repo_find_by, restore and bulk create that
 * hand back rows, DAL_EQ / DAL_CRITERIA_WHERE / DAL_FIELDS, dal_row_id, dal_perror. */
#include "conformance/fixture.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static const dal_column user_cols[] = { FX_USER_COLUMNS };
static const dal_model users = DAL_MODEL("ez_users", user_cols);

/* Five users: ann 30, bob 30, cat (no age), dan 41, eve 30; dan soft-deleted. */
static dal_repo *five(fixture *fx, int64_t *ids, unsigned flags)
{
	static const char *const names[] = { "ann", "bob", "cat", "dan", "eve" };
	static const int ages[] = { 30, 30, -1, 41, 30 };
	dal_repo *repo = fx_open_repo(fx, &users, flags);
	char email[32];

	for (int i = 0; i < 5; i++) {
		snprintf(email, sizeof(email), "%s@x.org", names[i]);
		dal_field f[] = { DAL_FIELD("name", dal_text(names[i])), DAL_FIELD("email", dal_text(email)),
		                  DAL_FIELD("age", ages[i] < 0 ? dal_null() : dal_int(ages[i])) };
		ids[i] = fx_create(repo, f, DAL_COUNT(f));
	}
	CHECK_OK(dal_repo_delete(repo, ids[3], true));
	return repo;
}

static void expect_ids(const dal_rows *rows, const int64_t *want, size_t n)
{
	assert_int_equal(dal_rows_count(rows), n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(dal_row_id(dal_rows_at(rows, i)), want[i]);
}

static void test_all_pages_live_rows_by_id(void **state)
{
	int64_t ids[5];
	dal_repo *repo = five(FX(state), ids, 0);
	dal_rows *rows = NULL;

	CHECK_OK(dal_repo_all(&rows, repo, 0, 0));
	expect_ids(rows, (int64_t[]){ ids[0], ids[1], ids[2], ids[4] }, 4);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_all(&rows, repo, 2, 1));
	expect_ids(rows, (int64_t[]){ ids[1], ids[2] }, 2);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_all(&rows, repo, 10, 4));
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	CHECK_ERR(DAL_EINVAL, dal_repo_all(&rows, repo, -1, 0));
	assert_null(rows);
	CHECK_MSG("limit");
	dal_repo_close(repo);
}

static void test_find_by_equality_and_null(void **state)
{
	int64_t ids[5];
	dal_repo *repo = five(FX(state), ids, 0);
	dal_rows *rows = NULL;

	CHECK_OK(dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("email", dal_text("bob@x.org")))));
	expect_ids(rows, &ids[1], 1);
	assert_string_equal(dal_row_text(dal_rows_at(rows, 0), "name"), "bob");
	dal_rows_free(rows);
	/* Every field must hold; the soft-deleted dan is not seen. */
	CHECK_OK(dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("age", dal_int(30)), DAL_FIELD("name", dal_text("eve")))));
	expect_ids(rows, &ids[4], 1);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("age", dal_int(41)))));
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	/* NULL matches IS NULL, as a keyword filter of None does. */
	CHECK_OK(dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("age", dal_null()))));
	expect_ids(rows, &ids[2], 1);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_find_by(&rows, repo, NULL, 0));
	assert_int_equal(dal_rows_count(rows), 4);
	dal_rows_free(rows);
	CHECK_ERR(DAL_EINVAL, dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("mail", dal_text("x")))));
	CHECK_MSG("mail");
	assert_null(rows);
	CHECK_ERR(DAL_EINVAL, dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("age", dal_text("thirty")))));
	CHECK_MSG("age");
	CHECK_ERR(DAL_EINVAL, dal_repo_find_by(&rows, repo, NULL, 2));
	dal_repo_close(repo);
}

static void test_criteria_where_is_short(void **state)
{
	int64_t ids[5], n = 0;
	dal_repo *repo = five(FX(state), ids, 0);
	dal_filter f[] = { DAL_EQ("age", dal_int(30)), DAL_WHERE("name", DAL_OP_NE, dal_text("ann")) };
	dal_criteria c = DAL_CRITERIA_WHERE(f);
	dal_rows *rows = NULL;

	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 2);
	c.limit = 1;
	c.offset = 1;
	CHECK_OK(dal_repo_find(&rows, repo, &c));
	expect_ids(rows, &ids[4], 1);
	dal_rows_free(rows);
	dal_repo_close(repo);
}

static void test_restore_hands_back_the_row(void **state)
{
	int64_t ids[5];
	dal_repo *repo = five(FX(state), ids, DAL_AUDIT);
	dal_row *deleted = NULL, *back = NULL, *got = NULL;
	dal_rows *rows = NULL;
	dal_criteria any = DAL_CRITERIA_INIT;

	dal_filter f[] = { DAL_EQ("id", dal_int(ids[3])) };
	any.filters = f;
	any.nfilters = 1;
	any.include_deleted = true;
	CHECK_OK(dal_repo_find(&rows, repo, &any));
	deleted = dal_rows_take(rows, 0);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_restore(&back, repo, ids[3]));
	assert_non_null(back);
	assert_int_equal(dal_row_id(back), ids[3]);
	assert_true(dal_row_is_null(back, "deleted_at"));
	assert_true(dal_row_timestamp(back, "updated_at") >= dal_row_timestamp(deleted, "deleted_at"));
	/* The row handed back is the row stored. */
	CHECK_OK(dal_repo_get(&got, repo, ids[3]));
	for (size_t i = 0; i < users.ncolumns; i++)
		assert_true(dal_value_equal(dal_row_at(got, i), dal_row_at(back, i)));
	dal_row_free(got);
	dal_row_free(back);
	dal_row_free(deleted);
	/* A failed restore hands back nothing. */
	back = (dal_row *)&users;
	CHECK_ERR(DAL_EINVAL, dal_repo_restore(&back, repo, ids[3]));
	assert_null(back);
	back = (dal_row *)&users;
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_restore(&back, repo, ids[4] + 100));
	assert_null(back);
	dal_repo_close(repo);
}

#define MANY 100

/* Given ids out of order, generated ones between them, past the short IN list. */
static void test_bulk_create_rows_in_input_order(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &users, DAL_AUDIT);
	const char *cols[] = { "id", "name", "email", "age" };
	dal_value *v = calloc(MANY * 4, sizeof(*v));
	char (*mail)[32] = calloc(MANY, sizeof(*mail));
	dal_rows *rows = NULL;
	int64_t n = 0;

	for (int r = 0; r < MANY; r++) {
		snprintf(mail[r], sizeof(mail[r]), "u%d@x.org", r);
		v[r * 4] = dal_int(1000 - r * 7);
		v[r * 4 + 1] = dal_text("u");
		v[r * 4 + 2] = dal_text(mail[r]);
		v[r * 4 + 3] = r % 3 ? dal_int(r) : dal_null();
	}
	CHECK_OK(dal_repo_bulk_create_rows(&rows, repo, cols, 4, v, MANY));
	assert_int_equal(dal_rows_count(rows), MANY);
	for (int r = 0; r < MANY; r++) {
		const dal_row *row = dal_rows_at(rows, (size_t)r);
		assert_int_equal(dal_row_id(row), 1000 - r * 7);
		assert_string_equal(dal_row_text(row, "email"), mail[r]);
		assert_true(dal_row_timestamp(row, "created_at") > 0);
		assert_true(r % 3 ? dal_row_int(row, "age") == r : dal_row_is_null(row, "age"));
	}
	dal_rows_free(rows);
	/* A failing call (a taken email) hands back nothing and stores nothing. */
	v[0] = dal_int(5000);
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_bulk_create_rows(&rows, repo, cols, 4, v, 1));
	assert_null(rows);
	CHECK_OK(dal_repo_count(&n, repo, NULL));
	assert_int_equal(n, MANY);
	CHECK_OK(dal_repo_bulk_create_rows(&rows, repo, cols, 4, v, 0));
	assert_int_equal(dal_rows_count(rows), 0);
	dal_rows_free(rows);
	free(mail);
	free(v);
	dal_repo_close(repo);
}

/* Generated ids, inside a unit of work: the rows are read in the unit and gone with it. */
static void test_bulk_create_rows_in_a_unit(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &users, 0);
	const char *cols[] = { "name", "email" };
	dal_value v[] = { dal_text("a"), dal_text("a@x.org"), dal_text("b"), dal_text("b@x.org") };
	dal_rows *rows = NULL;
	dal_uow *uow = NULL;
	int64_t n = -1;

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_repo_bulk_create_rows(&rows, repo, cols, 2, v, 2));
	assert_int_equal(dal_rows_count(rows), 2);
	assert_string_equal(dal_row_text(dal_rows_at(rows, 1), "email"), "b@x.org");
	assert_true(dal_row_id(dal_rows_at(rows, 0)) < dal_row_id(dal_rows_at(rows, 1)));
	CHECK_OK(dal_uow_rollback(uow));
	CHECK_OK(dal_repo_count(&n, repo, NULL));
	assert_int_equal(n, 0);
	dal_rows_free(rows);
	dal_repo_close(repo);
}

/* dal_perror prints "what: message" to stderr and returns 1. */
static void test_perror_names_the_error(void **state)
{
	char path[] = "/tmp/dal-perror-XXXXXX", buf[512] = { 0 };
	int fd = mkstemp(path), saved = dup(2);
	dal_row *row = NULL;
	dal_repo *repo = fx_open_repo(FX(state), &users, 0);

	assert_true(fd >= 0 && saved >= 0);
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get(&row, repo, 424242));
	fflush(stderr);
	dup2(fd, 2);
	assert_int_equal(dal_perror("get"), 1);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_true(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
	close(fd);
	unlink(path);
	assert_true(strncmp(buf, "get: ", 5) == 0);
	assert_non_null(strstr(buf, "424242"));
	assert_int_equal(dal_row_id(NULL), 0);
	dal_repo_close(repo);
}

/* DAL_AUTO frees on every way out of a block (the sanitizer build's leak check sees a miss). */
static int first_name_len(dal_db *db, bool early)
{
	DAL_AUTO(dal_repo) repo = NULL;
	DAL_AUTO(dal_rows) rows = NULL;
	DAL_AUTO(dal_row) row = NULL;

	if (dal_repo_open(&repo, db, &users, 0) || dal_repo_all(&rows, repo, 1, 0))
		return -1;
	if (early)
		return 0;
	row = dal_rows_take(rows, 0);
	return row ? (int)strlen(dal_row_text(row, "name")) : -1;
}

static void test_auto_frees_at_block_end(void **state)
{
	int64_t ids[5];
	dal_repo *repo = five(FX(state), ids, 0);

	assert_int_equal(first_name_len(FX(state)->db, false), 3);
	assert_int_equal(first_name_len(FX(state)->db, true), 0);
	for (int i = 0; i < 3; i++) {
		DAL_AUTO(dal_row) row = NULL;
		CHECK_OK(dal_repo_get(&row, repo, ids[i]));
		if (i == 1)
			break;
	}
	dal_repo_close(repo);
}

FX_CASES(cases_easy,
	FX_CASE(test_auto_frees_at_block_end),
	FX_CASE(test_all_pages_live_rows_by_id),
	FX_CASE(test_find_by_equality_and_null),
	FX_CASE(test_criteria_where_is_short),
	FX_CASE(test_restore_hands_back_the_row),
	FX_CASE(test_bulk_create_rows_in_input_order),
	FX_CASE(test_bulk_create_rows_in_a_unit),
	FX_CASE(test_perror_names_the_error),
);
