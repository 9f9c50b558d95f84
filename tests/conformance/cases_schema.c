/* dal_init_database on a table that already exists: it must have the model's shape,
 * or the call fails with DAL_ESCHEMA naming each difference, never later on a write. */
#include "conformance/fixture.h"

/* Version 1 of a model, then version 2 with a column more. */
static const dal_column v1_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 40),
	DAL_COL_CREATED_AT(),
};
static const dal_model v1 = DAL_MODEL("sh_person", v1_cols);

static const dal_column v2_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 40),
	DAL_COL("phone", DAL_TYPE_TEXT, 0, 20),
	DAL_COL_CREATED_AT(),
};
static const dal_model v2 = DAL_MODEL("sh_person", v2_cols);

static void init_ok(fixture *fx, const dal_model *m, unsigned flags)
{
	const dal_model *ms[] = { m };

	CHECK_OK(dal_init_database(fx->db, ms, 1, flags));
}

static void init_schema_error(fixture *fx, const dal_model *m, unsigned flags)
{
	const dal_model *ms[] = { m };

	CHECK_ERR(DAL_ESCHEMA, dal_init_database(fx->db, ms, 1, flags));
	CHECK_MSG(m->table);
}

/* Version 3: a NOT NULL column more, which rows already there cannot get. */
static const dal_column v3_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 40),
	DAL_COL("phone", DAL_TYPE_TEXT, 0, 20),
	DAL_COL("country", DAL_TYPE_TEXT, DAL_NOT_NULL, 2),
	DAL_COL_CREATED_AT(),
};
static const dal_model v3 = DAL_MODEL("sh_person", v3_cols);

/* A model that gained a column: named without DAL_AUTO_MIGRATE, never found on a write. */
static void test_schema_missing_column(void **state)
{
	fixture *fx = FX(state);

	init_ok(fx, &v1, DAL_AUTO_MIGRATE);
	init_schema_error(fx, &v2, 0);
	CHECK_MSG("no column 'phone'");
	/* The older model still matches. */
	init_ok(fx, &v1, 0);
}

/* DAL_AUTO_MIGRATE adds a missing column that may be NULL, keeping the rows. */
static void test_schema_auto_adds_nullable(void **state)
{
	fixture *fx = FX(state);
	dal_field f[] = { DAL_FIELD("name", dal_text("ann")) };
	dal_field g[] = { DAL_FIELD("name", dal_text("bob")), DAL_FIELD("phone", dal_text("+1 555")) };
	dal_repo *repo = fx_open_repo(fx, &v1, 0);
	int64_t ann = fx_create(repo, f, 1), bob;
	dal_row *row = NULL;

	dal_repo_close(repo);
	repo = fx_open_repo(fx, &v2, 0);
	init_ok(fx, &v2, 0);
	bob = fx_create(repo, g, 2);
	CHECK_OK(dal_repo_get(&row, repo, ann));
	assert_true(dal_row_get(row, "phone")->type == DAL_TYPE_NULL);
	dal_row_free(row);
	CHECK_OK(dal_repo_get(&row, repo, bob));
	assert_string_equal(dal_row_get(row, "phone")->v.s, "+1 555");
	dal_row_free(row);
	dal_repo_close(repo);
}

/* A missing NOT NULL column is not added (the rows there have no value for it): named. */
static void test_schema_auto_refuses_not_null(void **state)
{
	fixture *fx = FX(state);

	init_ok(fx, &v1, DAL_AUTO_MIGRATE);
	init_schema_error(fx, &v3, DAL_AUTO_MIGRATE);
	CHECK_MSG("no column 'country'");
	CHECK_MSG("adds missing columns that may be NULL");
	/* Where DDL is transactional, the nullable one was not added either: all or nothing. */
	if (fx_is(fx, "postgres") || fx_is(fx, "sqlite-file") || fx_is(fx, "sqlite-memory"))
		init_schema_error(fx, &v2, 0);
}

/* The engine's own type for an int column made text by hand. */
static void test_schema_other_type(void **state)
{
	fixture *fx = FX(state);
	static const dal_column cols[] = { DAL_COL_ID(), DAL_COL("age", DAL_TYPE_INT, 0, 0) };
	static const dal_model m = DAL_MODEL("sh_typed", cols);
	char sql[256];

	snprintf(sql, sizeof sql, "CREATE TABLE sh_typed (id %s PRIMARY KEY, age %s)", fx_type(fx, DAL_TYPE_INT),
		fx_type(fx, DAL_TYPE_BLOB));
	fx_exec(fx, sql);
	init_schema_error(fx, &m, DAL_AUTO_MIGRATE);
	CHECK_MSG("column 'age'");
	CHECK_MSG("the model declares int");
}

/* A column the model leaves out: fine if a create can leave it out too. */
static void test_schema_extra_columns(void **state)
{
	fixture *fx = FX(state);
	static const dal_column cols[] = { DAL_COL_ID(), DAL_COL("label", DAL_TYPE_TEXT, 0, 0) };
	static const dal_model m = DAL_MODEL("sh_extra", cols);
	dal_field f[] = { DAL_FIELD("id", dal_int(7)), DAL_FIELD("label", dal_text("a")) };
	dal_repo *repo;
	char sql[256];

	snprintf(sql, sizeof sql, "CREATE TABLE sh_extra (id %s PRIMARY KEY, label %s, note %s, "
		"kind %s NOT NULL DEFAULT 0)", fx_type(fx, DAL_TYPE_INT), fx_type(fx, DAL_TYPE_TEXT),
		fx_type(fx, DAL_TYPE_TEXT), fx_type(fx, DAL_TYPE_INT));
	fx_exec(fx, sql);
	repo = fx_open_repo(fx, &m, 0);
	/* The table made by hand has no autoincrement: the id is given. */
	assert_int_equal(fx_create(repo, f, 2), 7);
	dal_repo_close(repo);
	init_ok(fx, &m, 0);
	fx_exec(fx, "CREATE TABLE sh_extra2 (id INTEGER PRIMARY KEY, label TEXT, must INTEGER NOT NULL)");
	{
		static const dal_model m2 = DAL_MODEL("sh_extra2", cols);

		init_schema_error(fx, &m2, 0);
		CHECK_MSG("column 'must' is NOT NULL without a default");
	}
}

/* NOT NULL in the table on a column the model lets be NULL: creates without it fail. */
static void test_schema_not_null(void **state)
{
	fixture *fx = FX(state);
	static const dal_column cols[] = { DAL_COL_ID(), DAL_COL("label", DAL_TYPE_TEXT, 0, 0) };
	static const dal_model m = DAL_MODEL("sh_nn", cols);

	fx_exec(fx, "CREATE TABLE sh_nn (id INTEGER PRIMARY KEY, label TEXT NOT NULL)");
	init_schema_error(fx, &m, DAL_AUTO_MIGRATE);
	CHECK_MSG("column 'label' is NOT NULL in the table");
}

/* Other types of the same family pass: INTEGER for a bigint, VARCHAR for text. */
static void test_schema_same_family(void **state)
{
	fixture *fx = FX(state);
	static const dal_column cols[] = {
		DAL_COL_ID(), DAL_COL("n", DAL_TYPE_INT, 0, 0), DAL_COL("s", DAL_TYPE_TEXT, 0, 10),
	};
	static const dal_model m = DAL_MODEL("sh_family", cols);

	fx_exec(fx, "CREATE TABLE sh_family (id BIGINT PRIMARY KEY, n INTEGER, s VARCHAR(10))");
	init_ok(fx, &m, 0);
	init_ok(fx, &m, DAL_AUTO_MIGRATE);
}

/* Every difference in one message. */
static void test_schema_every_difference(void **state)
{
	fixture *fx = FX(state);
	static const dal_column cols[] = {
		DAL_COL_ID(), DAL_COL("a", DAL_TYPE_INT, 0, 0), DAL_COL("b", DAL_TYPE_TEXT, 0, 0),
	};
	static const dal_model m = DAL_MODEL("sh_many", cols);
	char sql[256];

	snprintf(sql, sizeof sql, "CREATE TABLE sh_many (id %s PRIMARY KEY, a %s)", fx_type(fx, DAL_TYPE_INT),
		fx_type(fx, DAL_TYPE_BLOB));
	fx_exec(fx, sql);
	init_schema_error(fx, &m, 0);
	CHECK_MSG("column 'a'");
	CHECK_MSG("no column 'b'");
}

FX_CASES(cases_schema,
	FX_CASE(test_schema_missing_column),
	FX_CASE(test_schema_auto_adds_nullable),
	FX_CASE(test_schema_auto_refuses_not_null),
	FX_CASE(test_schema_other_type),
	FX_CASE(test_schema_extra_columns),
	FX_CASE(test_schema_not_null),
	FX_CASE(test_schema_same_family),
	FX_CASE(test_schema_every_difference));
