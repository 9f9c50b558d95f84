/* The error contract: a failure's returned code is the one dal_error_last() records, with a message of its own. */
#include "conformance/fixture.h"

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

FX_CASES(cases_errors,
	FX_CASE(test_error_unknown_value_type),
	FX_CASE(test_error_timestamp_out_of_range),
	FX_CASE(test_error_duckdb_connect_refused),
);
