/* Indexes of declared unique and indexed columns: names that cannot collide, and
 * dal_init_database checking by catalog that each one exists as declared. */
#include "conformance/fixture.h"

/* `user`.x_email and `user_x`.email: under the old names both were ux_user_x_email. */
static const dal_column user_cols[] = {
	DAL_COL_ID(),
	DAL_COL("x_email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 100),
};
static const dal_model user_m = DAL_MODEL("user", user_cols);

static const dal_column user_x_cols[] = {
	DAL_COL_ID(),
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 100),
};
static const dal_model user_x = DAL_MODEL("user_x", user_x_cols);

/* 60 bytes: PostgreSQL cut both old names to the same 63 bytes. */
#define LONG_TABLE "t_long_table_name_of_sixty_bytes_to_reach_postgres_limit_xyz"
static const dal_column long_cols[] = {
	DAL_COL_ID(),
	DAL_COL("alpha", DAL_TYPE_TEXT, DAL_UNIQUE, 40),
	DAL_COL("beta", DAL_TYPE_TEXT, DAL_UNIQUE, 40),
};
static const dal_model long_m = DAL_MODEL(LONG_TABLE, long_cols);

/* Soft delete: unique among live rows (a partial index where the engine has one). */
static const dal_column soft_cols[] = {
	DAL_COL_ID(),
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 100),
	DAL_COL_DELETED_AT(),
};
static const dal_model soft_m = DAL_MODEL("ix_soft", soft_cols);

/* The number of indexes on `table`, by the engine's catalog. */
static int64_t index_count(fixture *fx, const char *table)
{
	dal_value p = dal_text(table);
	const char *sql;

	if (fx_is(fx, "postgres"))
		sql = "SELECT COUNT(*) FROM pg_indexes WHERE tablename = ? AND indexname NOT LIKE '%pkey'";
	else if (fx_is(fx, "duckdb"))
		sql = "SELECT COUNT(*) FROM duckdb_indexes() WHERE table_name = ?";
	else
		sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL";
	return fx_scalar(fx, sql, &p, 1);
}

static int create_one(dal_repo *repo, const char *col, const char *value)
{
	dal_field f[] = { DAL_FIELD(col, dal_text(value)) };
	dal_row *row = NULL;
	int error = dal_repo_create(&row, repo, f, DAL_COUNT(f));

	dal_row_free(row);
	return error;
}

/* A second row with the same value in `col` is refused. */
static void expect_unique(fixture *fx, const dal_model *m, const char *col)
{
	dal_repo *repo = NULL;

	CHECK_OK(dal_repo_open(&repo, fx->db, m, 0));
	CHECK_OK(create_one(repo, col, "same@example.com"));
	CHECK_ERR(DAL_ECONSTRAINT, create_one(repo, col, "same@example.com"));
	dal_repo_close(repo);
}

static void test_index_names_do_not_collide(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &user_m, &user_x };

	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	expect_unique(fx, &user_m, "x_email");
	expect_unique(fx, &user_x, "email");
	assert_true(fx_index_exists(fx, "ux_4_user_x_email"));
	assert_true(fx_index_exists(fx, "ux_6_user_x_email"));
}

static void test_index_long_table_name(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &long_m };
	dal_repo *repo = NULL;

	assert_int_equal(strlen(LONG_TABLE), 60);
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	assert_int_equal(index_count(fx, LONG_TABLE), 2);
	CHECK_OK(dal_repo_open(&repo, fx->db, &long_m, 0));
	CHECK_OK(create_one(repo, "alpha", "a"));
	CHECK_OK(create_one(repo, "beta", "b"));
	CHECK_ERR(DAL_ECONSTRAINT, create_one(repo, "alpha", "a"));
	CHECK_ERR(DAL_ECONSTRAINT, create_one(repo, "beta", "b"));
	dal_repo_close(repo);
	/* Again: the shortened names are stable, nothing more is made. */
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	assert_int_equal(index_count(fx, LONG_TABLE), 2);
}

static void test_index_dropped_is_recreated(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &user_x, &soft_m };

	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	fx_exec(fx, "DROP INDEX \"ux_6_user_x_email\"");
	assert_false(fx_index_exists(fx, "ux_6_user_x_email"));
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	assert_true(fx_index_exists(fx, "ux_6_user_x_email"));
	expect_unique(fx, &user_x, "email");
	/* A soft-delete model's index (partial where the engine has them) comes back as well. */
	if (fx_index_exists(fx, "ux_7_ix_soft_email")) {
		fx_exec(fx, "DROP INDEX \"ux_7_ix_soft_email\"");
		CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
		assert_true(fx_index_exists(fx, "ux_7_ix_soft_email"));
	} else {
		assert_true(fx_index_exists(fx, "ix_7_ix_soft_email"));
	}
	expect_unique(fx, &soft_m, "email");
}

static void test_index_wrong_one_is_refused(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &user_x };

	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	/* A plain index under the name of the unique one. */
	fx_exec(fx, "DROP INDEX \"ux_6_user_x_email\"");
	fx_exec(fx, "CREATE INDEX \"ux_6_user_x_email\" ON \"user_x\" (\"email\")");
	CHECK_ERR(DAL_ESCHEMA, dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	print_message("refused: %s\n", dal_error_last()->message);
	CHECK_MSG("ux_6_user_x_email");
	CHECK_MSG("user_x");
	CHECK_MSG("email");
}

/* A database of an older dal: its index, under the old name, is taken as it is. */
static void test_index_old_name_accepted(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[] = { &user_x };

	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	fx_exec(fx, "DROP INDEX \"ux_6_user_x_email\"");
	fx_exec(fx, "CREATE UNIQUE INDEX \"ux_user_x_email\" ON \"user_x\" (\"email\")");
	CHECK_OK(dal_init_database(fx->db, ms, DAL_COUNT(ms), DAL_AUTO_MIGRATE));
	assert_false(fx_index_exists(fx, "ux_6_user_x_email"));
	assert_int_equal(index_count(fx, "user_x"), 1);
	expect_unique(fx, &user_x, "email");
}

FX_CASES(cases_index,
	FX_CASE(test_index_names_do_not_collide),
	FX_CASE(test_index_long_table_name),
	FX_CASE(test_index_dropped_is_recreated),
	FX_CASE(test_index_wrong_one_is_refused),
	FX_CASE(test_index_old_name_accepted));
