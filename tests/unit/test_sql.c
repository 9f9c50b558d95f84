/* SQL text: placeholders and identifiers, as golden strings. No engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sql/array.h"
#include "sql/audit.h"
#include "sql/build.h"
#include "sql/bulk.h"
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

/* A dialect that locks rows, and one that does not. */
static const dal_dialect locking = { .quote = '"', .row_lock = " FOR UPDATE" };
static const dal_dialect plain = { .quote = '"' };
static const dal_column item_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_UNIQUE, 0),
	DAL_COL("updated_at", DAL_TYPE_TIMESTAMP, 0, 0),
	DAL_COL("deleted_at", DAL_TYPE_TIMESTAMP, 0, 0),
};
static const dal_model items = DAL_MODEL("items", item_cols);

#define ITEM_COLS "\"id\", \"name\", \"updated_at\", \"deleted_at\""

static void golden(dal_str *s, int rc, const char *want)
{
	assert_int_equal(rc, 0);
	assert_string_equal(s->ptr, want);
	dal__str_clear(s);
}

static void test_reads_by_id(void **state)
{
	dal_str s = DAL_STR_INIT;

	(void)state;
	golden(&s, dal__sql_get(&s, &locking, &items, true, true), "SELECT " ITEM_COLS " FROM \"items\" "
		"WHERE \"id\" = ? AND \"deleted_at\" IS NULL FOR UPDATE");
	golden(&s, dal__sql_get(&s, &plain, &items, false, true), "SELECT " ITEM_COLS " FROM \"items\" WHERE \"id\" = ?");
	golden(&s, dal__sql_unique_probe(&s, &plain, &items, 1), "SELECT 1 FROM \"items\" WHERE \"name\" = ? "
		"AND \"id\" <> ? AND \"deleted_at\" IS NULL");
	golden(&s, dal__sql_table_probe(&s, &plain, &items), "SELECT 1 FROM \"items\" WHERE 1 = 0");
	dal__str_dispose(&s);
}

static void test_id_bounds(void **state)
{
	dal_str s = DAL_STR_INIT;
	dal_value *p = NULL;
	size_t n = 0;

	(void)state;
	golden(&s, dal__sql_select(&s, &p, NULL, &n, &plain, &items, NULL, DAL_SELECT_MAX_ID),
		"SELECT MAX(\"id\") FROM \"items\" WHERE \"deleted_at\" IS NULL");
	free(p);
	dal__str_dispose(&s);
}

static void test_sets_of_ids(void **state)
{
	static const int set[] = { 1, 2 };
	static const int64_t ids[] = { 3, 1, 2 };
	dal_str s = DAL_STR_INIT;

	(void)state;
	golden(&s, dal__sql_bulk_select(&s, &locking, &items, DAL__IDS_TEMP, "_dal_undo", 0, true, true),
		"SELECT " ITEM_COLS " FROM \"items\" WHERE \"id\" IN (SELECT \"id\" FROM \"_dal_undo\") "
		"AND \"deleted_at\" IS NULL FOR UPDATE");
	golden(&s, dal__sql_bulk_select(&s, &plain, &items, DAL__IDS_LIST, NULL, 3, false, true),
		"SELECT " ITEM_COLS " FROM \"items\" WHERE \"id\" IN (?, ?, ?)");
	golden(&s, dal__sql_bulk_delete(&s, &plain, &items, false, DAL__IDS_TEMP, "_dal_undo", 0),
		"DELETE FROM \"items\" WHERE \"id\" IN (SELECT \"id\" FROM \"_dal_undo\")");
	golden(&s, dal__sql_bulk_update_from(&s, &plain, &items, "_dal_undo", set, 2, false, false),
		"UPDATE \"items\" SET \"name\" = s.\"name\", \"updated_at\" = s.\"updated_at\" FROM \"_dal_undo\" AS s "
		"WHERE \"items\".\"id\" = s.\"id\"");
	golden(&s, dal__sql_bulk_update_from(&s, &plain, &items, "_dal_bulk", set, 1, true, true),
		"UPDATE \"items\" SET \"name\" = s.\"name\", \"updated_at\" = ? FROM \"_dal_bulk\" AS s "
		"WHERE \"items\".\"id\" = s.\"id\" AND \"items\".\"deleted_at\" IS NULL");
	golden(&s, dal__sql_bulk_drop(&s, &plain, "_dal_bulk"), "DROP TABLE \"_dal_bulk\"");
	golden(&s, dal__sql_bulk_id_array(&s, ids, 3), "{3,1,2}");
	dal__str_dispose(&s);
}

static void test_audit(void **state)
{
	static const dal_dialect rows_end = { .quote = '"', .audit_head_sql = "SELECT 7, 'h'" };
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_value p[9];
	size_t n = 0;
	dal_str s = DAL_STR_INIT;

	(void)state;
	golden(&s, dal__sql_audit_insert_rows(&s, 1), dal__sql_audit_insert);
	golden(&s, dal__sql_audit_head_of(&s, &plain), dal__sql_audit_head);
	golden(&s, dal__sql_audit_head_of(&s, &rows_end), "SELECT \"first_id\", \"first_hash\", \"e\".* "
		"FROM \"audit_chain\", (SELECT 7, 'h') \"e\" WHERE \"id\" = 1");
	f.action = "UPDATE";
	f.end = 5;
	f.offset = 2;
	assert_int_equal(dal__sql_audit_query(&s, p, &n, &f), 0);
	assert_non_null(strstr(s.ptr, " FROM \"audit_logs\" WHERE \"action\" = ? AND \"timestamp\" < ? "
		"ORDER BY \"timestamp\" DESC, \"id\" DESC LIMIT ? OFFSET ?"));
	assert_int_equal(n, 4);
	assert_int_equal(p[2].v.i, DAL__SQL_NO_LIMIT);
	dal__str_dispose(&s);
}

static void index_name(bool unique, const char *table, const char *col, const char *want)
{
	char got[DAL__SQL_INDEX_NAME_MAX];

	dal__sql_index_name(got, unique, table, col);
	assert_string_equal(got, want);
	assert_true(strlen(got) <= 63);
}

/* Index names: the table's length makes the split unambiguous; past 63 bytes, a hash. */
static void test_index_names(void **state)
{
	static const char long_table[] = "t_long_table_name_of_sixty_bytes_to_reach_postgres_limit_xyz";
	static const char longest[] = "t123456789012345678901234567890123456789012345678901234567890ab";

	(void)state;
	index_name(true, "user", "x_email", "ux_4_user_x_email");
	index_name(true, "user_x", "email", "ux_6_user_x_email");
	index_name(false, "rp_items", "deleted_at", "ix_8_rp_items_deleted_at");
	index_name(true, long_table, "alpha", "ux_t_long_table_name_of_sixty_byt_alpha_0b37eb8a15cf0ab4");
	index_name(true, long_table, "beta", "ux_t_long_table_name_of_sixty_byt_beta_e305cc8457c1118e");
	index_name(false, long_table, "alpha", "ix_t_long_table_name_of_sixty_byt_alpha_d7c7ad0b58e60480");
	assert_int_equal(strlen(longest), 63);
	index_name(true, longest, longest, "ux_t12345678901234567890123456789_t123456789_"
		"6beb5803e629a934");
}

static void array_of(dal_array_form form, const dal_value *v, size_t n, const char *want)
{
	dal_str s = DAL_STR_INIT;
	const char *why = NULL;
	size_t i;

	assert_int_equal(dal__sql_array_open(&s, form), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(dal__sql_array_put(&s, form, &v[i], i == 0, &why), 0);
	assert_int_equal(dal__sql_array_close(&s, form), 0);
	assert_string_equal(s.ptr, want);
	dal__str_dispose(&s);
}

/* A long IN list's one parameter: every text quoted, its delimiters escaped. */
static void test_in_arrays(void **state)
{
	const dal_value texts[] = { dal_text("NULL"), dal_text(" a, b "), dal_text("q\"x\\y"), dal_text("{}"),
		dal_text(""), dal_text("\x01\n") };
	const dal_value others[] = { dal_int(INT64_MIN), dal_double(1.0), dal_double(0.1), dal_bool(true),
		dal_timestamp(0) };
	const dal_value nul = dal_textn("a\0b", 3), nan = dal_double(NAN);
	dal_str s = DAL_STR_INIT;
	const char *why = NULL;

	(void)state;
	array_of(DAL_ARRAY_PG, texts, 6, "{\"NULL\",\" a, b \",\"q\\\"x\\\\y\",\"{}\",\"\",\"\x01\n\"}");
	array_of(DAL_ARRAY_JSON, texts, 6, "[\"NULL\",\" a, b \",\"q\\\"x\\\\y\",\"{}\",\"\",\"\\u0001\\u000a\"]");
	array_of(DAL_ARRAY_PG, others, 5, "{-9223372036854775808,1,0.10000000000000001,t,\"1970-01-01 00:00:00.000000\"}");
	array_of(DAL_ARRAY_JSON, others, 5,
		"[-9223372036854775808,1.0,0.10000000000000001,true,\"1970-01-01 00:00:00.000000\"]");
	assert_int_equal(dal__sql_array_put(&s, DAL_ARRAY_PG, &nul, true, &why), DAL_EINVAL);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(dal__sql_array_put(&s, DAL_ARRAY_JSON, &nan, true, &why), DAL_EINVAL);
	assert_non_null(strstr(why, "finite"));
	dal__str_dispose(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_identifiers),
		cmocka_unit_test(test_reads_by_id),
		cmocka_unit_test(test_id_bounds),
		cmocka_unit_test(test_sets_of_ids),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_index_names),
		cmocka_unit_test(test_in_arrays),
	};
	return cmocka_run_group_tests_name("sql", tests, NULL, NULL);
}
