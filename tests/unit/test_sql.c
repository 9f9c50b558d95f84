/* SQL text: placeholders and identifiers, as golden strings. No engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sql/ident.h"
#include "sql/placeholder.h"

static void rewrite(const char *in, const char *want)
{
	dal_str s = DAL_STR_INIT;

	assert_int_equal(dal__sql_placeholders(&s, in, DAL_PH_DOLLAR), 0);
	assert_string_equal(s.ptr, want);
	dal__str_dispose(&s);
}

static void test_placeholders(void **state)
{
	(void)state;
	rewrite("SELECT ?", "SELECT $1");
	rewrite("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES ($1, $2)");
	rewrite("SELECT '?', \"q?\", ? -- ?\n, ? /* ? */", "SELECT '?', \"q?\", $1 -- ?\n, $2 /* ? */");
	rewrite("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1");
	rewrite("SELECT $1, ?", "SELECT $1, ?");
	rewrite("SELECT 1", "SELECT 1");
	/* Dollar quotes, E-strings and nested comments are literals too. */
	rewrite("SELECT $$a?b$$, ?", "SELECT $$a?b$$, $1");
	rewrite("INSERT INTO t VALUES ($$Really?$$, ?)", "INSERT INTO t VALUES ($$Really?$$, $1)");
	rewrite("SELECT $tag$ ? $$ ? $tag$, ?", "SELECT $tag$ ? $$ ? $tag$, $1");
	rewrite("SELECT E'it\\'s?', ?", "SELECT E'it\\'s?', $1");
	rewrite("SELECT e'\\\\', ?", "SELECT e'\\\\', $1");
	rewrite("SELECT 1 /* a /* ? */ b ? */, ?", "SELECT 1 /* a /* ? */ b ? */, $1");
	rewrite("SELECT U&'d\\0061t?', ?", "SELECT U&'d\\0061t?', $1");
	/* $ inside an identifier, and an E ending one, start nothing. */
	rewrite("SELECT a$b, ?", "SELECT a$b, $1");
	rewrite("SELECT $$x$$ || '$1', ?", "SELECT $$x$$ || '$1', $1");
	rewrite("SELECT x$1, ?", "SELECT x$1, $1");
	/* Unterminated: the rest is literal, never rewritten. */
	rewrite("SELECT $$?", "SELECT $$?");
	rewrite("SELECT /* ? /* ? */ ?", "SELECT /* ? /* ? */ ?");
}

static void test_identifiers(void **state)
{
	static const dal_dialect d = { .quote = '"' };
	dal_str s = DAL_STR_INIT;

	(void)state;
	assert_int_equal(dal__sql_check_ident("users", "table"), 0);
	assert_int_equal(dal__sql_check_ident("_a1", "table"), 0);
	assert_int_equal(dal__sql_check_ident("1a", "table"), DAL_EINVAL);
	assert_int_equal(dal__sql_check_ident("a\"b", "column"), DAL_EINVAL);
	assert_int_equal(dal__sql_check_ident("", "column"), DAL_EINVAL);
	assert_int_equal(dal__sql_check_ident("x; DROP TABLE y", "column"), DAL_EINVAL);
	assert_int_equal(dal__sql_check_ident("a234567890123456789012345678901234567890123456789012345678901234", "t"), DAL_EINVAL);
	assert_int_equal(dal__sql_quote_ident(&s, &d, "users"), 0);
	assert_string_equal(s.ptr, "\"users\"");
	dal__str_dispose(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_identifiers),
	};
	return cmocka_run_group_tests_name("sql", tests, NULL, NULL);
}
