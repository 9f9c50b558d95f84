/* The error contract: a failure's returned code is the one dal_error_last() records, with a message of its own. */
#include "conformance/fixture.h"

#include <stdbool.h>
#include <stdlib.h>

/*
 * The allocation-failure hook. tests/CMakeLists.txt links this program with
 * -Wl,--wrap=realloc, so dal's realloc calls (the library is linked in statically)
 * come here: the n-th one after arming fails, once, on the arming thread only.
 */
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

static _Thread_local long realloc_countdown;   /* 0: the hook is off */
static _Thread_local bool realloc_failed;

void *__wrap_realloc(void *p, size_t n)
{
	if (realloc_countdown > 0 && --realloc_countdown == 0) {
		realloc_failed = true;
		return NULL;
	}
	return __real_realloc(p, n);
}

static const char sentinel[] = "stale_sentinel_table";

/* Start from a known error, so that a message left over from it shows as stale. */
static void set_sentinel(fixture *fx)
{
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, fx->db, "SELECT * FROM stale_sentinel_table", NULL, 0));
	CHECK_MSG(sentinel);
}

/* A call failed with `rc`: the thread's last error must hold that code and a fresh message naming `what`. */
static void check_recorded(int rc, const char *what)
{
	const dal_error *e = dal_error_last();

	if (rc >= 0)
		fail_msg("the call succeeded (%d); a failure was expected", rc);
	if (e->code != rc)
		fail_msg("returned %d (%s) but dal_error_last() records %d (%s): %s", rc, dal_strerror(rc), e->code,
			dal_strerror(e->code), e->message);
	if (strstr(e->message, sentinel))
		fail_msg("returned %d (%s) with the previous failure's message: %s", rc, dal_strerror(rc), e->message);
	CHECK_MSG(what);
}

/* A parameter dal cannot bind: DAL_EINVAL on every engine, saying which parameter and type. */
static void test_error_unknown_value_type(void **state)
{
	fixture *fx = FX(state);
	dal_value v = dal_int(1);

	v.type = (dal_type)99;
	set_sentinel(fx);
	check_recorded(dal_exec(NULL, fx->db, "SELECT ?", &v, 1), "99");
	CHECK_ERR(DAL_EINVAL, dal_error_last()->code);
	/* The connection is still usable. */
	assert_int_equal(fx_scalar(fx, "SELECT 1", NULL, 0), 1);
}

/* The same with parameters echoed to the log: the echo must not read the value as text. */
static void test_error_unknown_value_type_echoed(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_value v = dal_int(1);
	dal_db *db = NULL;

	cfg.echo = true;
	cfg.echo_params = true;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	v.type = (dal_type)99;
	v.len = 1000;   /* as text, 1000 bytes at address 1 */
	set_sentinel(fx);
	check_recorded(dal_exec(NULL, db, "SELECT ?", &v, 1), "99");
	dal_close(db);
}

/* A timestamp past year 9999 where the engine stores text (SQLite) or checks the range (PostgreSQL). */
static void test_error_timestamp_out_of_range(void **state)
{
	fixture *fx = FX(state);
	dal_value v = dal_timestamp(253402300800000000LL);   /* 10000-01-01 */
	dal_result *res = NULL;
	int rc;

	set_sentinel(fx);
	rc = dal_query(&res, fx->db, "SELECT ?", &v, 1);
	dal_result_free(res);
	if (rc == 0) {
		assert_true(fx_is(fx, "duckdb"));
		FX_SKIP("DuckDB's timestamps reach far past year 9999: the value binds");
	}
	check_recorded(rc, "parameter 1");
	CHECK_ERR(DAL_EINVAL, rc);
}

/*
 * A new DuckDB connection runs a SET of dal's; once a connection has locked the
 * database's configuration, that SET fails. The connect failure must come back
 * with the code it recorded (not a DAL_ECONN of its own, which also made dal
 * retry a failure no retry can mend).
 */
static void test_error_duckdb_connect_refused(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *other = NULL;

	if (!fx_is(fx, "duckdb"))
		FX_SKIP("only DuckDB's connections share one database whose configuration can be locked");
	cfg.connect_retries = 1;
	fx_exec(fx, "SET lock_configuration = true");
	set_sentinel(fx);
	check_recorded(fx_open_again(&other, fx, &cfg), "locked");
	assert_null(other);
}

/*
 * The Prometheus text grows by realloc: whichever growth fails, the call must
 * fail with DAL_ENOMEM and hand out nothing, never a text with a hole in it.
 */
static void test_error_prometheus_append_fails(void **state)
{
	fixture *fx = FX(state);
	char *text = NULL, *full = NULL;
	long n;
	int rc, failures = 0;

	/* A statement in the totals, so the text has every part. */
	assert_int_equal(fx_scalar(fx, "SELECT 1", NULL, 0), 1);
	CHECK_OK(dal_metrics_prometheus(&full, fx->db));
	for (n = 1; n < 1000; n++) {
		realloc_failed = false;
		realloc_countdown = n;
		rc = dal_metrics_prometheus(&text, fx->db);
		realloc_countdown = 0;
		if (!realloc_failed)
			break;
		failures++;
		if (rc != DAL_ENOMEM)
			fail_msg("realloc %ld of the call failed: it returned %d (%s) and %zu of %zu bytes", n, rc,
				dal_strerror(rc), text ? strlen(text) : 0, strlen(full));
		assert_null(text);
		assert_int_equal(dal_error_last()->code, DAL_ENOMEM);
	}
	CHECK_OK(rc);
	assert_non_null(text);
	/* The first growth and later ones were each made to fail once. */
	assert_true(failures >= 2);
	dal_string_free(text);
	dal_string_free(full);
}

/* SQL with no statement in it (empty, blanks, semicolons, comments) is the caller's
 * mistake on every engine: DAL_EINVAL saying so, not a crash or a silent success. */
static void test_error_sql_without_statement(void **state)
{
	fixture *fx = FX(state);
	const char *texts[] = { "", "   ", ";", " ; ;\n", "-- only a comment", "/* a comment */ ;" };
	dal_result *res = NULL;
	int64_t changes = 7;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(dal_exec(&changes, fx->db, texts[i], NULL, 0), DAL_EINVAL);
		assert_non_null(strstr(dal_error_last()->message, "no statement"));
		assert_int_equal(changes, 0);
		assert_int_equal(dal_query(&res, fx->db, texts[i], NULL, 0), DAL_EINVAL);
		assert_null(res);
	}
	/* A statement after a comment, or a literal holding only a semicolon, is one. */
	CHECK_OK(dal_query(&res, fx->db, "/* why */ SELECT ';'", NULL, 0));
	assert_int_equal(dal_result_rows(res), 1);
	dal_result_free(res);
}

FX_CASES(cases_errors,
	FX_CASE(test_error_unknown_value_type),
	FX_CASE(test_error_unknown_value_type_echoed),
	FX_CASE(test_error_timestamp_out_of_range),
	FX_CASE(test_error_duckdb_connect_refused),
	FX_CASE(test_error_prometheus_append_fails),
	FX_CASE(test_error_sql_without_statement),
);
