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
	parse_bad("postgresql://u@h/db?bogus=1", "unknown PostgreSQL option (query option 1)");
	parse_bad("postgresql://u@h/db?connect_timeout=soon", "connect_timeout");
	parse_bad("postgresql://u@h/db?sslmode", "has no '='");
	parse_bad("postgresql://u@h o/db", "the host holds a character that must be percent-encoded");
	parse_bad("postgresql://u@h/d\"b", "the database name holds a character");
	parse_bad("postgresql://u@h/d#b", "the database name holds a character");
	parse_bad("postgresql://u@h/d@b", "the database name holds a character");
	parse_bad("postgresql://u@h/db?application_name=a#b", "the query option value holds a character");
	parse_bad("sqlite:///a#b.db", "the path holds a character");
	parse_bad("postgresql://u@h/db?a&b=1", "query option 1 has no '='");
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

/* Every secret keyword by its decoded name, and only those. */
static void test_secret_keys(void **state)
{
	(void)state;
	assert_true(dal__url_key_secret("password"));
	assert_true(dal__url_key_secret("sslpassword"));
	assert_true(dal__url_key_secret("oauth_client_secret"));
	assert_false(dal__url_key_secret("passfile"));
	assert_false(dal__url_key_secret("user"));
	assert_false(dal__url_key_secret("PASSWORD"));
	assert_false(dal__url_key_secret(NULL));
}

/* The redacted URL is rebuilt from the parts: secrets as ***, whatever the spelling of the key. */
static void test_redacted_rebuilt(void **state)
{
	(void)state;
	parse_ok("postgresql://u@h/db?pass%77ord=S3ntinel&sslmode=disable");
	assert_string_equal(u.password ? u.password : "", "");
	assert_string_equal(dal__url_option(&u, "password"), "S3ntinel");
	assert_string_equal(u.redacted, "postgresql://u@h/db?password=***&sslmode=disable");
	dal__url_dispose(&u);

	parse_ok("postgresql://u@h/db?%73%73%6C%70%61%73%73%77%6F%72%64=S3ntinel");
	assert_string_equal(u.redacted, "postgresql://u@h/db?sslpassword=***");
	dal__url_dispose(&u);

	parse_ok("POSTGRES://us%20er:S3ntinel@h1:5432,[::1]:5433,%2Ftmp/d%20b?application_name=a%40b&host=/tmp");
	assert_string_equal(u.user, "us er");
	assert_string_equal(u.redacted,
		"postgresql://us%20er:***@h1:5432,[::1]:5433,%2Ftmp/d%20b?application_name=a%40b&host=/tmp");
	dal__url_dispose(&u);

	parse_ok("postgresql:///db");
	assert_string_equal(u.redacted, "postgresql:///db");
	dal__url_dispose(&u);

	parse_ok("SQLITE:///with%20space.db");
	assert_string_equal(u.redacted, "sqlite:///with%20space.db");
	dal__url_dispose(&u);
	parse_ok("duckdb:///:memory:");
	assert_string_equal(u.redacted, "duckdb:///:memory:");
	dal__url_dispose(&u);
}

/*
 * A password holding '/', '?', '#', '@' or ':' unencoded: the userinfo ends at
 * the last '@' before the host, as long as the rest is a valid URL.
 */
static void test_userinfo_delimiters(void **state)
{
	static const struct { const char *url, *password, *hosts, *ports, *dbname; } cases[] = {
		{ "postgresql://u:S3ntinel/pw@h:5432/db", "S3ntinel/pw", "h", "5432", "db" },
		{ "postgresql://u:S3ntinel?pw@h/db", "S3ntinel?pw", "h", "", "db" },
		{ "postgresql://u:S3ntinel/pw?x@h/db", "S3ntinel/pw?x", "h", "", "db" },
		{ "postgresql://u:S3ntinel#pw@h/db", "S3ntinel#pw", "h", "", "db" },
		{ "postgresql://u:S3nt@inel@h/db", "S3nt@inel", "h", "", "db" },
		{ "postgresql://u:S3ntinel/pw?x#y@z:w@h/db", "S3ntinel/pw?x#y@z:w", "h", "", "db" },
		{ "postgresql://u:5432/S3ntinel@h/db", "5432/S3ntinel", "h", "", "db" },
		{ "postgresql://u:5432?S3ntinel@h/db", "5432?S3ntinel", "h", "", "db" },
		{ "postgresql://u:S3ntinel/x@h1:1,h2:2/db", "S3ntinel/x", "h1,h2", "1,2", "db" },
		/* a query value holding '@' keeps the plain reading */
		{ "postgresql://u:S3ntinel@h/db?application_name=a@b/c", "S3ntinel", "h", "", "db" },
		{ "postgresql://h/db?application_name=a@b/c", NULL, "h", "", "db" },
		/* both: the password's '/' and the query's '@' */
		{ "postgresql://u:S3ntinel/x@h/db?application_name=a@b", "S3ntinel/x", "h", "", "db" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].url);
		if (cases[i].password)
			assert_string_equal(u.password, cases[i].password);
		else
			assert_null(u.password);
		assert_string_equal(u.hosts, cases[i].hosts);
		assert_string_equal(u.ports, cases[i].ports);
		assert_string_equal(u.dbname, cases[i].dbname);
		if (strstr(u.redacted, "S3ntinel"))
			fail_msg("%s: redacted as %s", cases[i].url, u.redacted);
		dal__url_dispose(&u);
	}
}

/* Whatever is wrong, the message names the part and quotes nothing of the text. */
static void test_errors_quote_nothing(void **state)
{
	static const char *const bad[] = {
		"postgresql://u:S3ntinel/pw",
		"postgresql://u:S3ntinel?pw",
		"postgresql://u:S3ntinel/pw?x@h:99999/db",
		"postgresql://u:5432/S3ntinel@h",
		"postgresql://u:5432/S3ntinel/x@h",
		"postgresql://u:S3ntinel x@h/db",
		"postgresql://u:S3ntinel\"x@h/db",
		"postgresql://u:S3ntinel%2@h/db",
		"postgresql://u@h/db?S3ntinel",
		"postgresql://u@h/db?S3ntinel=1",
		"postgresql://u@h/db?passwd=S3ntinel",
		"postgresql://u@h/db?sslmode=S3ntinel",
		"postgresql://u@h/db?connect_timeout=S3ntinel",
		"postgresql://u@h/db?password=S3ntinel%zz",
		"postgresql://u@h/db?password=S3ntinel x",
		"postgresql://u@h/S3ntinel%2Fx",
		"postgresql://u@S3ntinel:S3ntinel/db",
		"S3ntinel://u@h/db",
		"sqlite://u:S3ntinel@h/x.db",
		"duckdb:///x.duckdb?password=S3ntinel",
		"host=h user=u password=S3ntinel dbname=db",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_bad(bad[i], NULL);
		if (strstr(dal_error_last()->message, "S3ntinel"))
			fail_msg("%s: %s", bad[i], dal_error_last()->message);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlite_forms),
		cmocka_unit_test(test_duckdb_forms),
		cmocka_unit_test(test_postgres_forms),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_password_not_in_errors),
		cmocka_unit_test(test_secret_keys),
		cmocka_unit_test(test_redacted_rebuilt),
		cmocka_unit_test(test_userinfo_delimiters),
		cmocka_unit_test(test_errors_quote_nothing),
	};
	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
