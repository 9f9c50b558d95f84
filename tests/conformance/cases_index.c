/* Indexes of declared unique and indexed columns: names that cannot collide, and
 * dal_init_database checking by catalog that each one exists as declared. */
#include <pthread.h>
#include <unistd.h>

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

/* The other program's dal_init_database, on a thread of its own. */
typedef struct init_call {
	dal_db *db;
	const dal_model *const *models;
	int rc;
	char message[256];
} init_call;

static void *init_elsewhere(void *arg)
{
	init_call *c = arg;

	c->rc = dal_init_database(c->db, c->models, 1, DAL_AUTO_MIGRATE);
	snprintf(c->message, sizeof(c->message), "%s", dal_error_last()->message);
	return NULL;
}

/*
 * Two programs start at once on a new database and both create its tables.
 * The first one's dal_init_database is held open in a unit of work until the
 * second is seen waiting on a lock; then it commits, and the second must
 * succeed. PostgreSQL's CREATE TABLE IF NOT EXISTS does not see a table
 * created by a transaction still open, and the second then failed on the
 * catalog's unique index (DAL_ECONSTRAINT, pg_type_typname_nsp_index).
 */
static void test_init_database_twice_at_once(void **state)
{
	fixture *fx = FX(state);
	const dal_model *models[1] = { &user_x };
	init_call c = { NULL, models, 1, "" };
	dal_uow *uow = NULL;
	pthread_t t;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("SQLite serializes the two on its write lock, DuckDB opens a file in one process only");
	CHECK_OK(fx_open_again(&c.db, fx, NULL));
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_init_database(fx->db, models, 1, DAL_AUTO_MIGRATE));
	assert_int_equal(pthread_create(&t, NULL, init_elsewhere, &c), 0);
	fx_wait_for_lock_wait(fx);
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(pthread_join(t, NULL), 0);
	if (c.rc != 0)
		fail_msg("the second dal_init_database -> %s: %s", dal_strerror(c.rc), c.message);
	dal_close(c.db);
}

/*
 * A program starts (dal_init_database on a database that has its tables) while
 * another one's unit of work holds the audit chain's head. The start waits for
 * the unit; the unit's commit, which then writes its audit rows, must not wait
 * for the start. CREATE INDEX IF NOT EXISTS locked audit_logs (SHARE) before
 * it looked at the index name, so the two waited on each other and PostgreSQL
 * broke the deadlock by failing one of them.
 */
static void test_init_database_beside_a_writer(void **state)
{
	fixture *fx = FX(state);
	const dal_model *models[1] = { &user_x };
	dal_field f[1] = { DAL_FIELD("email", dal_text("a@x.org")) };
	init_call c = { NULL, models, 1, "" };
	dal_repo *repo;
	dal_uow *uow = NULL;
	pthread_t t;

	/* Before anything is opened: a skip leaves the case at once. */
	if (!fx_is(fx, "postgres"))
		FX_SKIP("SQLite serializes the two on its write lock, DuckDB opens a file in one process only");
	repo = fx_open_repo(fx, &user_x, DAL_AUDIT);
	CHECK_OK(fx_open_again(&c.db, fx, NULL));
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_repo_create(NULL, repo, f, 1));
	/* The head row, locked as a unit's commit locks it, here before the start begins. */
	CHECK_OK(dal_exec(NULL, fx->db, "UPDATE audit_chain SET last_id = last_id WHERE id = 1", NULL, 0));
	assert_int_equal(pthread_create(&t, NULL, init_elsewhere, &c), 0);
	fx_wait_for_lock_wait(fx);
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(pthread_join(t, NULL), 0);
	if (c.rc != 0)
		fail_msg("dal_init_database beside the unit -> %s: %s", dal_strerror(c.rc), c.message);
	dal_close(c.db);
	dal_repo_close(repo);
}

FX_CASES(cases_index,
	FX_CASE(test_index_names_do_not_collide),
	FX_CASE(test_index_long_table_name),
	FX_CASE(test_index_dropped_is_recreated),
	FX_CASE(test_index_wrong_one_is_refused),
	FX_CASE(test_index_old_name_accepted),
	FX_CASE(test_init_database_twice_at_once),
	FX_CASE(test_init_database_beside_a_writer));
