/* SQL text as the engine gets it: dal never alters a literal or a comment when it
 * rewrites placeholders (PostgreSQL numbers them $1, $2, ...). */
#include "conformance/fixture.h"

/* Run `sql` with `params`; one row; every column must read back as `want`, in order. */
static void expect_texts(fixture *fx, const char *sql, const dal_value *params, size_t n, const char *const *want,
                         size_t nwant)
{
	dal_result *res = NULL;
	size_t i;

	if (dal_query(&res, fx->db, sql, params, n) != 0)
		fail_msg("%s: %s", sql, dal_error_last()->message);
	assert_int_equal(dal_result_rows(res), 1);
	assert_int_equal(dal_result_columns(res), nwant);
	for (i = 0; i < nwant; i++) {
		const dal_value *v = dal_result_get(res, 0, i);
		if (v->type != DAL_TYPE_TEXT || strcmp(v->v.s, want[i]) != 0)
			fail_msg("%s: column %zu is '%s', expected '%s'", sql, i,
				v->type == DAL_TYPE_TEXT ? v->v.s : "(not text)", want[i]);
	}
	dal_result_free(res);
}

/* Standard SQL, every engine: a ? inside a literal or a comment is no placeholder. */
static void test_literals_untouched(void **state)
{
	fixture *fx = FX(state);
	dal_value p[2] = { dal_text("one"), dal_text("two") };

	expect_texts(fx, "SELECT 'a?b', ? /* ? */, 'it''s ?', ? -- ?\n", p, 2,
		(const char *const[]){ "a?b", "one", "it's ?", "two" }, 4);
}

/* PostgreSQL's own quoting: dollar quotes, E-strings, nested comments. */
static void test_postgres_quoting_untouched(void **state)
{
	fixture *fx = FX(state);
	dal_value p[2] = { dal_text("one"), dal_text("two") };

	if (!fx_is(fx, "postgres"))
		FX_SKIP("dollar quotes and E-strings are PostgreSQL syntax; other engines take ? as it is");
	expect_texts(fx, "SELECT $$a?b$$::text", NULL, 0, (const char *const[]){ "a?b" }, 1);
	expect_texts(fx, "SELECT $tag$ ? $$ ? $tag$::text, ?::text", p, 1,
		(const char *const[]){ " ? $$ ? ", "one" }, 2);
	expect_texts(fx, "SELECT E'it\\'s?'::text, ?::text", p, 1, (const char *const[]){ "it's?", "one" }, 2);
	expect_texts(fx, "SELECT ?::text /* a /* ? */ b ? */, ?::text", p, 2, (const char *const[]){ "one", "two" }, 2);
	fx_exec(fx, "CREATE TABLE lit_notes (body TEXT)");
	CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO lit_notes (body) VALUES ($$Really?$$), (?)", p, 1));
	expect_texts(fx, "SELECT string_agg(body, '|' ORDER BY body) FROM lit_notes", NULL, 0,
		(const char *const[]){ "Really?|one" }, 1);
}

FX_CASES(cases_sqltext,
	FX_CASE(test_literals_untouched),
	FX_CASE(test_postgres_quoting_untouched),
);
