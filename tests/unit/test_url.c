/* The URL parser: every form DESIGN.md names and every bad input. No engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <dal/errors.h>

#include "url.h"

static dal_url u;

static void parse_ok(const char *text)
{
	int rc = dal__url_parse(&u, text);
	if (rc != 0)
		fail_msg("%s -> %d: %s", text, rc, dal_error_last()->message);
}

static void parse_bad(const char *text, const char *needle)
{
	int rc = dal__url_parse(&u, text);
	if (rc != DAL_EINVAL)
		fail_msg("%s -> %d, expected DAL_EINVAL", text ? text : "(null)", rc);
	if (needle && !strstr(dal_error_last()->message, needle))
		fail_msg("%s: message '%s' lacks '%s'", text ? text : "(null)", dal_error_last()->message, needle);
	assert_null(u.scheme);
}

static void test_sqlite_forms(void **state)
{
	(void)state;
	parse_ok("sqlite:///relative.db");
	assert_string_equal(u.scheme, "sqlite");
	assert_string_equal(u.path, "relative.db");
	assert_false(u.memory);
	dal__url_dispose(&u);
	parse_ok("sqlite:////abs/path.db");
	assert_string_equal(u.path, "/abs/path.db");
	dal__url_dispose(&u);
	parse_ok("sqlite:///./app.db");
	assert_string_equal(u.path, "./app.db");
	dal__url_dispose(&u);
	parse_ok("sqlite:///:memory:");
	assert_true(u.memory);
	dal__url_dispose(&u);
	parse_ok("SQLITE:///with%20space.db");
	assert_string_equal(u.scheme, "sqlite");
	assert_string_equal(u.path, "with space.db");
	dal__url_dispose(&u);
}

static void test_duckdb_forms(void **state)
{
	(void)state;
	parse_ok("duckdb:///relative.duckdb");
	assert_string_equal(u.scheme, "duckdb");
	assert_string_equal(u.path, "relative.duckdb");
	dal__url_dispose(&u);
	parse_ok("duckdb:///:memory:");
	assert_true(u.memory);
	dal__url_dispose(&u);
	parse_ok("duckdb:////tmp/a.duckdb");
	assert_string_equal(u.path, "/tmp/a.duckdb");
	dal__url_dispose(&u);
}

static void test_postgres_forms(void **state)
{
	(void)state;
	parse_ok("postgresql://user:pa%40ss%3Aw@db.example.com:5433/app?sslmode=require&connect_timeout=5");
	assert_string_equal(u.scheme, "postgresql");
	assert_string_equal(u.user, "user");
	assert_string_equal(u.password, "pa@ss:w");
	assert_string_equal(u.hosts, "db.example.com");
	assert_string_equal(u.ports, "5433");
	assert_string_equal(u.dbname, "app");
	assert_string_equal(dal__url_option(&u, "sslmode"), "require");
	assert_string_equal(dal__url_option(&u, "connect_timeout"), "5");
	assert_null(strstr(u.redacted, "pa%40"));
	assert_non_null(strstr(u.redacted, "user:***@db.example.com"));
	dal__url_dispose(&u);

	parse_ok("postgres://localhost/db");
	assert_string_equal(u.scheme, "postgresql");
	assert_null(u.user);
	assert_null(u.password);
	assert_string_equal(u.hosts, "localhost");
	assert_string_equal(u.ports, "");
	dal__url_dispose(&u);

	parse_ok("postgresql://u@h1:5432,h2:5433,[::1]:5434/db?target_session_attrs=read-write");
	assert_string_equal(u.hosts, "h1,h2,::1");
	assert_string_equal(u.ports, "5432,5433,5434");
	assert_string_equal(u.user, "u");
	dal__url_dispose(&u);

	parse_ok("postgresql://u@h1,h2:6000/db");
	assert_string_equal(u.hosts, "h1,h2");
	assert_string_equal(u.ports, ",6000");
	dal__url_dispose(&u);

	parse_ok("postgresql://%2Fvar%2Frun%2Fpostgresql/db");
	assert_string_equal(u.hosts, "/var/run/postgresql");
	dal__url_dispose(&u);

	parse_ok("postgresql:///db?host=/tmp&password=secretx");
	assert_string_equal(u.hosts, "");
	assert_null(strstr(u.redacted, "secretx"));
	dal__url_dispose(&u);
}

static void test_bad_urls(void **state)
{
	(void)state;
	parse_bad(NULL, "NULL");
	parse_bad("", "empty");
	parse_bad("app.db", "scheme");
	parse_bad("mysql://u@h/db", "unknown scheme");
	parse_bad("://x", "scheme");
	parse_bad("sqlite://", "no host");
	parse_bad("sqlite:///", "missing path");
	parse_bad("sqlite://host/x.db", "no host");
	parse_bad("sqlite:///x.db?mode=ro", "no query options");
	parse_bad("duckdb:///", "missing path");
	parse_bad("postgresql://u@h:99999/db", "bad port");
	parse_bad("postgresql://u@h:0/db", "bad port");
	parse_bad("postgresql://u@h:54x2/db", "bad port");
	parse_bad("postgresql://u@h:/db", "bad port");
	parse_bad("postgresql://u@h:5432", "missing database");
	parse_bad("postgresql://u@h:5432/", "missing database");
	parse_bad("postgresql://u@h/db?sslmode=sometimes", "sslmode");
	parse_bad("postgresql://u@h/db?bogus=1", "unknown PostgreSQL option 'bogus'");
	parse_bad("postgresql://u@h/db?connect_timeout=soon", "connect_timeout");
	parse_bad("postgresql://u@h/db?sslmode", "has no '='");
	parse_bad("postgresql://u@h o/db", "stray character");
	parse_bad("postgresql://u@h/d\"b", "stray character");
	parse_bad("postgresql://u@h/db%zz", "percent-encoding");
	parse_bad("postgresql://u@h/db%2", "percent-encoding");
	parse_bad("postgresql://u@h/db%00x", "percent-encoding");
	parse_bad("postgresql://u@[::1/db", "unclosed");
	parse_bad("postgresql://@h/db", "empty user");
}

static void test_password_not_in_errors(void **state)
{
	(void)state;
	parse_bad("postgresql://u:S3ntinel%zz@h/db", "password");
	assert_null(strstr(dal_error_last()->message, "S3ntinel"));
	parse_bad("postgresql://u:S3ntinel@h:99999/db", "bad port");
	assert_null(strstr(dal_error_last()->message, "S3ntinel"));
	parse_bad("postgresql://u:S3ntinel@h/db?sslmode=x", NULL);
	assert_null(strstr(dal_error_last()->message, "S3ntinel"));
	parse_bad("postgresql://u:S3ntinel@h", NULL);
	assert_null(strstr(dal_error_last()->message, "S3ntinel"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_forms),
		cmocka_unit_test(test_duckdb_forms),
		cmocka_unit_test(test_postgres_forms),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_password_not_in_errors),
	};
	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
