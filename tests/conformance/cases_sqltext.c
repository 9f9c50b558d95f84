/* SQL text as the engine gets it: dal never alters a literal or a comment when it
 * rewrites placeholders (PostgreSQL numbers them $1, $2, ...). */
#include "conformance/fixture.h"

#include <stdlib.h>

/* The database of the running case, for transaction callbacks. */
static dal_db *fx_current_db;

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

/* A long IN list as raw SQL: the engines that take it answer; PostgreSQL (through
 * dal, which describes every statement) refuses it up front as bad input, so no
 * connection breaks and dal_run_tx does not retry it. */
enum { LONG_LIST = 70000 };

typedef struct long_list {
	char *sql;
	dal_value *params;
} long_list;

static void long_list_make(long_list *l)
{
	size_t i, at;

	l->sql = malloc(LONG_LIST * 2 + 64);
	l->params = calloc(LONG_LIST, sizeof(dal_value));
	assert_non_null(l->sql);
	assert_non_null(l->params);
	at = (size_t)sprintf(l->sql, "SELECT COUNT(*) FROM (SELECT 1 AS x) t WHERE 3 IN (");
	for (i = 0; i < LONG_LIST; i++) {
		at += (size_t)sprintf(l->sql + at, i ? ",?" : "?");
		l->params[i] = dal_int((int64_t)i);
	}
	strcpy(l->sql + at, ")");
}

static int run_long_list(dal_uow *uow, void *payload)
{
	long_list *l = payload;
	dal_result *res = NULL;
	int rc;

	(void)uow;
	rc = dal_query(&res, fx_current_db, l->sql, l->params, LONG_LIST);
	dal_result_free(res);
	return rc;
}

static void test_long_in_list(void **state)
{
	fixture *fx = FX(state);
	dal_metrics *m = calloc(1, sizeof(*m));
	long_list l;
	int rc;

	long_list_make(&l);
	fx_current_db = fx->db;
	rc = dal_run_tx(fx->db, NULL, run_long_list, &l);
	m->version = DAL_METRICS_VERSION;
	CHECK_OK(dal_metrics_get(m, fx->db));
	print_message("%d-value IN list: rc %d, retries %llu, connections broken %llu\n", LONG_LIST, rc,
		(unsigned long long)m->retries, (unsigned long long)m->pool_broken);
	if (fx_is(fx, "postgres")) {
		assert_int_equal(rc, DAL_EINVAL);
		CHECK_MSG("parameters");
	} else {
		CHECK_OK(rc);
	}
	assert_int_equal(m->retries, 0);
	assert_int_equal(m->pool_broken, 0);
	free(m);
	free(l.sql);
	free(l.params);
}

FX_CASES(cases_sqltext,
	FX_CASE(test_literals_untouched),
	FX_CASE(test_postgres_quoting_untouched),
	FX_CASE(test_long_in_list),
);
