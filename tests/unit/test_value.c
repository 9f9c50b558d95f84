/* Values, timestamps, rows, models, config. No engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dal/dal.h>

static void test_timestamp_format_parse(void **state)
{
	char buf[DAL_TIMESTAMP_BUFSIZE];
	int64_t us;

	(void)state;
	assert_int_equal(dal_timestamp_format(buf, 0), 0);
	assert_string_equal(buf, "1970-01-01 00:00:00.000000");
	assert_int_equal(dal_timestamp_format(buf, 1700000000123456LL), 0);
	assert_string_equal(buf, "2023-11-14 22:13:20.123456");
	assert_int_equal(dal_timestamp_format(buf, -1), 0);
	assert_string_equal(buf, "1969-12-31 23:59:59.999999");
	assert_int_equal(dal_timestamp_parse(&us, "2023-11-14 22:13:20.123456"), 0);
	assert_int_equal(us, 1700000000123456LL);
	assert_int_equal(dal_timestamp_parse(&us, "2023-11-14T22:13:20.1Z"), 0);
	assert_int_equal(us, 1700000000100000LL);
	assert_int_equal(dal_timestamp_parse(&us, "2023-11-14 22:13:20+00"), 0);
	assert_int_equal(us, 1700000000000000LL);
	assert_int_equal(dal_timestamp_parse(&us, "2024-02-29"), 0);
	assert_int_equal(dal_timestamp_parse(&us, "1969-12-31 23:59:59.999999"), 0);
	assert_int_equal(us, -1);
	assert_int_equal(dal_timestamp_parse(&us, "2023-13-01"), DAL_EINVAL);
	assert_int_equal(dal_timestamp_parse(&us, "2023-11-14 25:00:00"), DAL_EINVAL);
	assert_int_equal(dal_timestamp_parse(&us, "2023-11-14 10:00:00+02"), DAL_EINVAL);
	assert_int_equal(dal_timestamp_parse(&us, "yesterday"), DAL_EINVAL);
	assert_int_equal(dal_timestamp_parse(NULL, "2023-01-01"), DAL_EINVAL);
	assert_int_equal(dal_timestamp_format(NULL, 0), DAL_EINVAL);
	assert_int_equal(dal_timestamp_format(buf, INT64_MAX), DAL_EINVAL);
}

static void test_value_equal(void **state)
{
	dal_value a = dal_text("abc"), b = dal_textn("abcdef", 3), n = dal_null();

	(void)state;
	assert_true(dal_value_equal(&a, &b));
	assert_false(dal_value_equal(&a, &n));
	assert_true(dal_value_equal(&n, &n));
	a = dal_int(1);
	b = dal_double(1.0);
	assert_false(dal_value_equal(&a, &b));
	assert_true(dal_text(NULL).type == DAL_TYPE_NULL);
	assert_string_equal(dal_type_name(DAL_TYPE_TIMESTAMP), "timestamp");
}

static const dal_column cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 10),
	DAL_COL("score", DAL_TYPE_DOUBLE, 0, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model model = DAL_MODEL("people", cols);

static void test_row_and_model(void **state)
{
	dal_row *row = NULL;
	dal_value v = dal_text("Ann");

	(void)state;
	assert_int_equal(dal_model_validate(&model), 0);
	assert_true(dal_model_soft_delete(&model));
	assert_int_equal(dal_row_new(&row, &model), 0);
	assert_int_equal(dal_row_set(row, "name", &v), 0);
	assert_string_equal(dal_row_text(row, "name"), "Ann");
	v = dal_int(3);
	assert_int_equal(dal_row_set(row, "score", &v), 0);
	assert_true(dal_row_double(row, "score") == 3.0);
	assert_int_equal(dal_row_set(row, "name", &v), DAL_EINVAL);
	assert_non_null(strstr(dal_error_last()->message, "people.name"));
	assert_int_equal(dal_row_set(row, "nope", &v), DAL_EINVAL);
	assert_non_null(strstr(dal_error_last()->message, "nope"));
	assert_null(dal_row_get(row, "nope"));
	assert_null(dal_row_at(row, 99));
	assert_true(dal_row_is_null(row, "created_at"));
	dal_row_free(row);
	dal_row_free(NULL);
}

static void test_bad_models(void **state)
{
	static const dal_column bad_name[] = { DAL_COL_ID(), DAL_COL("na me", DAL_TYPE_TEXT, 0, 0) };
	static const dal_column no_id[] = { DAL_COL("x", DAL_TYPE_TEXT, 0, 0) };
	static const dal_column dup[] = { DAL_COL_ID(), DAL_COL("x", DAL_TYPE_TEXT, 0, 0), DAL_COL("x", DAL_TYPE_INT, 0, 0) };
	static const dal_column bad_role[] = { DAL_COL_ID(), DAL_COL("deleted_at", DAL_TYPE_TEXT, 0, 0) };
	static const dal_column bad_now[] = { DAL_COL_ID(), DAL_COL("seen", DAL_TYPE_TEXT, DAL_DEFAULT_NOW, 0) };
	dal_model m1 = DAL_MODEL("t", bad_name), m2 = DAL_MODEL("t", no_id), m3 = DAL_MODEL("t", dup),
	          m4 = DAL_MODEL("t; DROP TABLE x", dup), m5 = DAL_MODEL("t", bad_role), m6 = DAL_MODEL("t", bad_now);

	(void)state;
	assert_int_equal(dal_model_validate(&m1), DAL_EINVAL);
	assert_int_equal(dal_model_validate(&m2), DAL_EINVAL);
	assert_int_equal(dal_model_validate(&m3), DAL_EINVAL);
	assert_non_null(strstr(dal_error_last()->message, "twice"));
	assert_int_equal(dal_model_validate(&m4), DAL_EINVAL);
	assert_int_equal(dal_model_validate(&m5), DAL_EINVAL);
	assert_int_equal(dal_model_validate(&m6), DAL_EINVAL);
	assert_non_null(strstr(dal_error_last()->message, "'seen' is DAL_DEFAULT_NOW"));
	assert_int_equal(dal_model_validate(NULL), DAL_EINVAL);
}

/* A model may not be one of dal's own tables, in any case (SQLite and DuckDB match
 * names without case), nor an engine's catalog (pg_class is read from pg_catalog
 * whatever the schema; SQLite reserves sqlite_; a DuckDB table duckdb_columns breaks
 * information_schema.columns). */
static void test_reserved_models(void **state)
{
	static const dal_column one[] = { DAL_COL_ID(), DAL_COL("x", DAL_TYPE_TEXT, 0, 0) };
	static const char *const names[] = { "audit_logs", "audit_chain", "dal_schema_migrations", "_dal_bulk",
		"_dal_undo", "AUDIT_LOGS", "Audit_Chain", "_DAL_x", "pg_class", "PG_Type", "sqlite_master", "SQLITE_x", "duckdb_columns" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		dal_model m = DAL_MODEL(names[i], one);
		assert_int_equal(dal_model_validate(&m), DAL_EINVAL);
		assert_non_null(strstr(dal_error_last()->message, names[i]));
	}
	{
		dal_model ok = DAL_MODEL("audit_logs_archive", one), ok2 = DAL_MODEL("my_pg_class", one);
		assert_int_equal(dal_model_validate(&ok), 0);
		assert_int_equal(dal_model_validate(&ok2), 0);
	}
}

static void test_config(void **state)
{
	dal_config c;

	(void)state;
	assert_int_equal(dal_config_init(&c, 0), DAL_EINVAL);
	assert_int_equal(dal_config_init(&c, DAL_CONFIG_VERSION + 1), DAL_EINVAL);
	assert_int_equal(dal_config_init(NULL, DAL_CONFIG_VERSION), DAL_EINVAL);
	assert_int_equal(dal_config_init(&c, DAL_CONFIG_VERSION), 0);
	assert_int_equal(c.pool_size, 5);
	/* On by default, past what a healthy unit of work lasts: a unit never ended gets reported. */
	assert_int_equal(c.leak_threshold_ms, 300000);
	unsetenv("DATABASE_URL");
	setenv("DAL_POOL_SIZE", "9", 1);
	setenv("DAL_POOL_TIMEOUT", "2", 1);
	assert_int_equal(dal_config_from_env(&c), 0);
	assert_string_equal(c.url, "sqlite:///./app.db");
	assert_int_equal(c.pool_size, 9);
	assert_int_equal(c.pool_timeout_ms, 2000);
	setenv("DAL_POOL_SIZE", "many", 1);
	assert_int_equal(dal_config_from_env(&c), DAL_EINVAL);
	assert_non_null(strstr(dal_error_last()->message, "DAL_POOL_SIZE"));
	unsetenv("DAL_POOL_SIZE");
	setenv("DAL_SQLITE_SYNCHRONOUS", "FULL", 1);
	assert_int_equal(dal_config_from_env(&c), 0);
	assert_int_equal(c.sqlite_synchronous, DAL_SQLITE_SYNC_FULL);
	unsetenv("DAL_SQLITE_SYNCHRONOUS");
	assert_int_equal(c.cache_max_entries, 10000);
	assert_int_equal(c.cache_ttl_ms, 60000);
	setenv("DAL_CACHE_SIZE", "0", 1);
	setenv("DAL_CACHE_TTL_MS", "250", 1);
	assert_int_equal(dal_config_from_env(&c), 0);
	assert_int_equal(c.cache_max_entries, 0);
	assert_int_equal(c.cache_ttl_ms, 250);
	setenv("DAL_CACHE_SIZE", "-1", 1);
	assert_int_equal(dal_config_from_env(&c), DAL_EINVAL);
	assert_non_null(strstr(dal_error_last()->message, "DAL_CACHE_SIZE"));
	unsetenv("DAL_CACHE_SIZE");
	unsetenv("DAL_CACHE_TTL_MS");
	/* A program built against version 1 calls the plain symbol: version 1's members only. */
	memset(&c, 0x5a, sizeof(c));
	setenv("DAL_POOL_SIZE", "7", 1);
	assert_int_equal((dal_config_from_env)(&c), 0);
	assert_int_equal(c.version, 1);
	assert_int_equal(c.pool_size, 7);
	assert_int_equal(c.cache_ttl_ms, 0x5a5a5a5a);
	assert_int_equal(dal_config_from_env_version(&c, DAL_CONFIG_VERSION + 1), DAL_EINVAL);
	unsetenv("DAL_POOL_SIZE");
	/* A caller built against version 1 has no cache members: they are not written. */
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(dal_config_init(&c, 1), 0);
	assert_int_equal(c.pool_size, 5);
	assert_int_equal(c.cache_max_entries, 0x5a5a5a5a);
}

static void test_errors(void **state)
{
	dal_db *db = (dal_db *)1;

	(void)state;
	dal_error_clear();
	assert_non_null(dal_error_last());
	assert_int_equal(dal_error_last()->code, DAL_OK);
	assert_string_equal(dal_strerror(DAL_ECONSTRAINT), "constraint violation");
	assert_string_equal(dal_strerror(-999), "unknown error");
	assert_int_equal(dal_open(&db, "nope://x", NULL), DAL_EINVAL);
	assert_null(db);
	assert_int_equal(dal_open(NULL, "sqlite:///:memory:", NULL), DAL_EINVAL);
	dal_close(NULL);
	assert_int_equal(dal_version_number(), DAL_VERSION_NUMBER);
	assert_string_equal(dal_version(), DAL_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timestamp_format_parse),
		cmocka_unit_test(test_value_equal),
		cmocka_unit_test(test_row_and_model),
		cmocka_unit_test(test_bad_models),
		cmocka_unit_test(test_reserved_models),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("value", tests, NULL, NULL);
}
