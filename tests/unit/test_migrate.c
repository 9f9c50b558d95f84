/* Migration text, no engine: scripts split into statements with their lines, and
 * dal_migrate_lint over the fixture folders (every lock-heavy pattern found in
 * tests/fixtures/migrations/unsafe, nothing in .../safe). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <dal/dal.h>

#include "migrate/script.h"

static const dal_column user_cols[] = {
	DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40), DAL_COL("email", DAL_TYPE_TEXT, DAL_UNIQUE, 100),
};
static const dal_model users = DAL_MODEL("users", user_cols);
static const dal_model *const models[] = { &users };

static dal_lint_report *lint(const char *which)
{
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
	dal_lint_report *r = NULL;
	char dir[512];

	snprintf(dir, sizeof dir, "%s/%s", DAL_TEST_FIXTURES "/migrations", which);
	o.dir = dir;
	assert_int_equal(dal_migrate_lint(&r, &o, models, 1), DAL_OK);
	assert_non_null(r);
	return r;
}

/* The one finding of `version`: its rule, and the line its statement starts on. */
static void expect(const dal_lint_report *r, long long version, const char *rule, int line)
{
	size_t i, found = 0;

	for (i = 0; i < r->count; i++)
		if (r->items[i].version == version) {
			found++;
			assert_string_equal(r->items[i].rule, rule);
			assert_int_equal(r->items[i].line, line);
			assert_non_null(strstr(r->items[i].file, "V"));
		}
	if (found != 1)
		fail_msg("version %lld: %zu findings, expected one '%s'", version, found, rule);
}

/* Statements and the lines they start on, joined as "line:text|". */
static void split(const char *script, const char *want)
{
	char got[1024] = "";
	dal__script sc;
	const char *stmt;
	size_t len;
	int line;

	dal__script_init(&sc, script);
	while (dal__script_next(&sc, &stmt, &len, &line))
		snprintf(got + strlen(got), sizeof got - strlen(got), "%d:%.*s|", line, (int)len, stmt);
	assert_string_equal(got, want);
}

static void test_script_split(void **state)
{
	(void)state;
	split("", "");
	split("  -- only a comment\n/* and\nanother */ ;;\n", "");
	split("SELECT 1;SELECT 2", "1:SELECT 1|1:SELECT 2|");
	split("-- head\n\nSELECT 'a;b';\n/* x; */ SELECT \"c;d\";", "3:SELECT 'a;b'|4:SELECT \"c;d\"|");
	split("SELECT $$a;b$$;\nSELECT $t$;$t$;", "1:SELECT $$a;b$$|2:SELECT $t$;$t$|");
	split("SELECT E'it\\'s;';SELECT 1", "1:SELECT E'it\\'s;'|1:SELECT 1|");
	split("CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET n = 1;\n  UPDATE t SET m = 2;\nEND;\nSELECT 1;",
		"1:CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET n = 1;\n  UPDATE t SET m = 2;\nEND|5:SELECT 1|");
	split("create temp trigger tr after delete on t begin delete from u; end;select 2",
		"1:create temp trigger tr after delete on t begin delete from u; end|1:select 2|");
	/* PostgreSQL's trigger has no body of its own: it ends at its ';'. */
	split("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\nINSERT INTO t VALUES (1);",
		"1:CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()|2:INSERT INTO t VALUES (1)|");
}

static void test_directives(void **state)
{
	bool no_tx;

	(void)state;
	assert_int_equal(dal__script_directives("-- dal:no-transaction\nCREATE INDEX x ON t (a);", "f", &no_tx), 0);
	assert_true(no_tx);
	assert_int_equal(dal__script_directives("\n-- a comment\n  -- dal:no-transaction\nSELECT 1;", "f", &no_tx), 0);
	assert_true(no_tx);
	/* After the first statement, or in a literal, it is text, not a directive. */
	assert_int_equal(dal__script_directives("SELECT 1;\n-- dal:no-transaction\n", "f", &no_tx), 0);
	assert_false(no_tx);
	assert_int_equal(dal__script_directives("INSERT INTO t VALUES ('a\n-- dal:whatever\n');", "f", &no_tx), 0);
	assert_false(no_tx);
	assert_int_equal(dal__script_directives("-- dal:sometimes\nSELECT 1;", "f", &no_tx), DAL_EINVAL);
}

static void test_lint_unsafe(void **state)
{
	dal_lint_report *r = lint("unsafe");
	size_t i;

	(void)state;
	for (i = 0; i < r->count; i++)
		print_message("%s:%d %s: %s\n", r->items[i].file, r->items[i].line, r->items[i].rule, r->items[i].message);
	expect(r, 2, "index-not-concurrent", 1);
	expect(r, 3, "column-type", 1);
	expect(r, 4, "constraint-not-valid", 1);
	expect(r, 5, "set-not-null", 1);
	expect(r, 6, "volatile-default", 1);
	expect(r, 7, "model-column", 1);
	expect(r, 8, "model-column", 1);
	expect(r, 9, "lock-timeout-off", 1);
	expect(r, 10, "unique-constraint", 1);
	expect(r, 11, "constraint-not-valid", 3);
	expect(r, 12, "model-table", 1);
	expect(r, 13, "concurrently-in-transaction", 1);
	expect(r, 14, "vacuum-full", 1);
	expect(r, 15, "cluster", 1);
	expect(r, 16, "reindex-not-concurrent", 1);
	expect(r, 17, "lock-table", 1);
	/* Version 1 makes the table it indexes and constrains: nothing to flag. */
	assert_int_equal(r->count, 16);
	dal_lint_report_free(r);
}

static void test_lint_safe(void **state)
{
	dal_lint_report *r = lint("safe");
	size_t i;

	(void)state;
	for (i = 0; i < r->count; i++)
		print_message("unexpected: %s:%d %s: %s\n", r->items[i].file, r->items[i].line, r->items[i].rule,
			r->items[i].message);
	assert_int_equal(r->count, 0);
	dal_lint_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_split),
		cmocka_unit_test(test_directives),
		cmocka_unit_test(test_lint_unsafe),
		cmocka_unit_test(test_lint_safe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
