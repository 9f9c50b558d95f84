/* Audit trail: actions, context, filters, rollback, redaction, JSON round trips, verify, cleanup, as-of. */
#include "conformance/fixture.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "audit/audit.h"
#include "driver/driver.h"
#include "session.h"
#include "util/fault.h"

static const dal_column acct_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 0),
	DAL_COL("password_hash", DAL_TYPE_TEXT, DAL_SENSITIVE, 0),
	DAL_COL("age", DAL_TYPE_INT, 0, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model accts = DAL_MODEL("au_accounts", acct_cols);

static const dal_column type_cols[] = {
	FX_ALL_TYPE_COLUMNS,
};
static const dal_model types = DAL_MODEL("au_types", type_cols);

static dal_repo *open_audited(fixture *fx, const dal_model *m, unsigned flags)
{
	const dal_model *ms[2] = { &accts, &types };
	dal_repo *repo = NULL;

	CHECK_OK(dal_init_database(fx->db, ms, 2, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_repo_open(&repo, fx->db, m, flags));
	return repo;
}

static int64_t add(dal_repo *repo, const char *name, const char *email)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)), DAL_FIELD("email", dal_text(email)),
		DAL_FIELD("password_hash", dal_text("s3cret-hash")), DAL_FIELD("age", dal_int(30)) };

	return fx_create(repo, f, DAL_COUNT(f));
}

static int64_t audit_rows(fixture *fx)
{
	return fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs", NULL, 0);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j;

	assert_non_null(text);
	j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %.200s", e.text, text);
	return j;
}

static void assert_verify_ok(fixture *fx)
{
	dal_audit_report r;

	CHECK_OK(dal_audit_verify(&r, fx->db));
	if (!r.ok)
		fail_msg("verify: row %lld: %s", (long long)r.bad_id, r.reason);
}

static void assert_verify_bad(fixture *fx, int64_t bad_id, const char *word)
{
	dal_audit_report r;

	CHECK_OK(dal_audit_verify(&r, fx->db));
	assert_false(r.ok);
	if (r.bad_id != bad_id || !strstr(r.reason, word))
		fail_msg("verify named row %lld (%s), expected row %lld (%s)", (long long)r.bad_id, r.reason,
			(long long)bad_id, word);
}

/* ---- actions, context, redaction ---- */

static void test_every_action_and_context(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT);
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
	dal_audit_logs *logs = NULL;
	dal_field up[] = { DAL_FIELD("name", dal_text("Bob")), DAL_FIELD("age", dal_int(30)) };
	const char *want[] = { "DELETE", "RESTORE", "SOFT_DELETE", "UPDATE", "CREATE" };
	json_t *o, *n;
	int64_t id;
	size_t i;

	ctx.user_id = "u-1";
	ctx.session_id = "sess-9";
	ctx.correlation_id = "req-42";
	ctx.ip_address = "203.0.113.7";
	ctx.user_agent = "curl/8.0";
	CHECK_OK(dal_repo_set_context(repo, &ctx));
	id = add(repo, "Ann", "ann@x");
	CHECK_OK(dal_repo_update(NULL, repo, id, up, DAL_COUNT(up)));
	CHECK_OK(dal_repo_delete(repo, id, true));
	CHECK_OK(dal_repo_restore(NULL, repo, id));
	CHECK_OK(dal_repo_delete(repo, id, false));

	CHECK_OK(dal_audit_query(&logs, fx->db, NULL));
	assert_int_equal(dal_audit_logs_count(logs), 5);
	for (i = 0; i < 5; i++) {
		const dal_audit_log *e = dal_audit_logs_at(logs, i);
		assert_string_equal(e->action, want[i]);
		assert_string_equal(e->user_id, "u-1");
		assert_string_equal(e->session_id, "sess-9");
		assert_string_equal(e->correlation_id, "req-42");
		assert_string_equal(e->ip_address, "203.0.113.7");
		assert_string_equal(e->user_agent, "curl/8.0");
		assert_string_equal(e->resource_type, "au_accounts");
		assert_int_equal(e->resource_id, id);
		assert_int_equal(strlen(e->row_hash), 64);
		assert_true(e->timestamp > 0);
	}
	/* CREATE: new values, the password redacted (one statement on PostgreSQL). */
	n = parse(dal_audit_logs_at(logs, 4)->new_values);
	assert_null(dal_audit_logs_at(logs, 4)->old_values);
	assert_string_equal(json_string_value(json_object_get(n, "name")), "Ann");
	assert_string_equal(json_string_value(json_object_get(n, "password_hash")), "[REDACTED]");
	/* The id is the audit row's resource_id, not repeated in a CREATE's values. */
	assert_null(json_object_get(n, "id"));
	json_decref(n);
	/* UPDATE: old and new of the changed columns, plus id; age did not change. */
	o = parse(dal_audit_logs_at(logs, 3)->old_values);
	n = parse(dal_audit_logs_at(logs, 3)->new_values);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "Ann");
	assert_string_equal(json_string_value(json_object_get(n, "name")), "Bob");
	assert_int_equal(json_integer_value(json_object_get(n, "id")), id);
	assert_null(json_object_get(n, "age"));
	assert_null(json_object_get(n, "email"));
	assert_non_null(json_object_get(n, "updated_at"));
	json_decref(o);
	json_decref(n);
	/* SOFT_DELETE sets deleted_at; RESTORE clears it; DELETE keeps the old row only. */
	n = parse(dal_audit_logs_at(logs, 2)->new_values);
	assert_true(json_is_string(json_object_get(n, "deleted_at")));
	json_decref(n);
	n = parse(dal_audit_logs_at(logs, 1)->new_values);
	assert_true(json_is_null(json_object_get(n, "deleted_at")));
	json_decref(n);
	assert_null(dal_audit_logs_at(logs, 0)->new_values);
	o = parse(dal_audit_logs_at(logs, 0)->old_values);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "Bob");
	assert_string_equal(json_string_value(json_object_get(o, "password_hash")), "[REDACTED]");
	json_decref(o);
	/* The secret is nowhere in the table. */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs WHERE CAST(old_values AS TEXT) LIKE '%s3cret%' "
		"OR CAST(new_values AS TEXT) LIKE '%s3cret%'", NULL, 0), 0);
	dal_audit_logs_free(logs);

	CHECK_OK(dal_repo_history(&logs, repo, id));
	assert_int_equal(dal_audit_logs_count(logs), 5);
	assert_string_equal(dal_audit_logs_at(logs, 0)->action, "CREATE");
	assert_string_equal(dal_audit_logs_at(logs, 4)->action, "DELETE");
	dal_audit_logs_free(logs);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

static void test_no_audit_flag_writes_nothing(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0);
	int64_t id = add(repo, "Ann", "ann@x");
	dal_field up[] = { DAL_FIELD("name", dal_text("Bob")) };

	CHECK_OK(dal_repo_update(NULL, repo, id, up, 1));
	CHECK_OK(dal_repo_delete(repo, id, false));
	assert_int_equal(audit_rows(fx), 0);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* ---- filters ---- */

static void test_every_filter(void **state)
{
	fixture *fx = FX(state);
	dal_repo *a = open_audited(fx, &accts, DAL_AUDIT), *t = NULL;
	dal_audit_ctx c1 = DAL_AUDIT_CTX_INIT, c2 = DAL_AUDIT_CTX_INIT;
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_audit_logs *logs = NULL;
	dal_field tf[] = { DAL_FIELD("i", dal_int(1)) };
	dal_field up[] = { DAL_FIELD("age", dal_int(31)) };
	int64_t id1, id2, mid;

	CHECK_OK(dal_repo_open(&t, fx->db, &types, DAL_AUDIT));
	c1.user_id = "alice";
	c1.correlation_id = "r1";
	c2.user_id = "bob";
	c2.correlation_id = "r2";
	CHECK_OK(dal_repo_set_context(a, &c1));
	id1 = add(a, "A", "a@x");                                  /* alice r1 CREATE acct id1 */
	sleep_ms(5);
	mid = dal_now();
	sleep_ms(5);
	CHECK_OK(dal_repo_set_context(a, &c2));
	id2 = add(a, "B", "b@x");                                  /* bob r2 CREATE acct id2 */
	CHECK_OK(dal_repo_update(NULL, a, id1, up, 1));            /* bob r2 UPDATE acct id1 */
	CHECK_OK(dal_repo_create(NULL, t, tf, 1));                 /* (no ctx) CREATE types */

#define Q(n) do { CHECK_OK(dal_audit_query(&logs, fx->db, &f)); \
	assert_int_equal(dal_audit_logs_count(logs), (n)); } while (0)
	f.resource_type = "au_accounts";
	Q(3);
	dal_audit_logs_free(logs);
	f.has_resource_id = true;
	f.resource_id = id1;
	Q(2);
	assert_string_equal(dal_audit_logs_at(logs, 0)->action, "UPDATE");   /* newest first */
	dal_audit_logs_free(logs);
	f = (dal_audit_filter)DAL_AUDIT_FILTER_INIT;
	f.user_id = "bob";
	Q(2);
	dal_audit_logs_free(logs);
	f.user_id = NULL;
	f.action = "CREATE";
	Q(3);
	dal_audit_logs_free(logs);
	f.action = NULL;
	f.correlation_id = "r1";
	Q(1);
	assert_int_equal(dal_audit_logs_at(logs, 0)->resource_id, id1);
	dal_audit_logs_free(logs);
	f.correlation_id = NULL;
	f.end = mid;
	Q(1);
	dal_audit_logs_free(logs);
	f.end = 0;
	f.start = mid;
	Q(3);
	dal_audit_logs_free(logs);
	f.start = 0;
	f.limit = 2;
	Q(2);
	assert_string_equal(dal_audit_logs_at(logs, 0)->resource_type, "au_types");
	dal_audit_logs_free(logs);
	f.offset = 3;
	Q(1);
	assert_int_equal(dal_audit_logs_at(logs, 0)->resource_id, id1);
	assert_string_equal(dal_audit_logs_at(logs, 0)->action, "CREATE");
	dal_audit_logs_free(logs);
	f.limit = 0;
	f.offset = 1;
	Q(3);
	dal_audit_logs_free(logs);
	/* The largest limit and offset mean all rows and none, on every engine
	 * (DuckDB refuses a LIMIT or OFFSET above 2^62 in SQL). */
	f.limit = INT64_MAX;
	f.offset = 0;
	Q(4);
	dal_audit_logs_free(logs);
	f.offset = INT64_MAX;
	Q(0);
	dal_audit_logs_free(logs);
	f = (dal_audit_filter)DAL_AUDIT_FILTER_INIT;
	f.user_id = "alice";
	f.action = "CREATE";
	f.resource_type = "au_accounts";
	Q(1);
	dal_audit_logs_free(logs);
#undef Q
	f.limit = -1;
	CHECK_ERR(DAL_EINVAL, dal_audit_query(&logs, fx->db, &f));
	assert_null(logs);
	(void)id2;
	dal_repo_close(a);
	dal_repo_close(t);
}

/* ---- rollback ---- */

static void test_rollback_leaves_no_audit_row(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT), *ur = NULL;
	dal_field dup[] = { DAL_FIELD("name", dal_text("X")), DAL_FIELD("email", dal_text("ann@x")) };
	dal_field up[] = { DAL_FIELD("email", dal_text("ann@x")) };
	dal_uow *uow = NULL, *inner = NULL;
	int64_t id, id2;

	id = add(repo, "Ann", "ann@x");
	id2 = add(repo, "Bob", "bob@x");
	assert_int_equal(audit_rows(fx), 2);
	/* A single call that fails: no change, no audit row. */
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(NULL, repo, dup, DAL_COUNT(dup)));
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_update(NULL, repo, id2, up, 1));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_delete(repo, 9999, false));
	assert_int_equal(audit_rows(fx), 2);
	/* The other way round: the audit row fails after the change was made: the change goes too. */
	fx_exec(fx, "DROP TABLE audit_logs");
	fx_exec(fx, "DELETE FROM audit_chain");
	assert_true(dal_repo_delete(repo, id, false) < 0);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM au_accounts", NULL, 0), 2);
	/* A new, empty chain. */
	CHECK_OK(dal_init_database(fx->db, (const dal_model *const[]){ &accts }, 1, DAL_AUTO_MIGRATE));
	/* A unit of work rolled back. */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&ur, uow, &accts, DAL_AUDIT));
	add(ur, "C", "c@x");
	CHECK_OK(dal_uow_rollback(uow));
	dal_repo_close(ur);
	assert_int_equal(audit_rows(fx), 0);
	/* Nested: the inner unit's audit row goes with it, the outer's stays (DuckDB: by the undo log). */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&ur, uow, &accts, DAL_AUDIT));
	add(ur, "D", "d@x");
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	add(ur, "E", "e@x");
	CHECK_OK(dal_uow_rollback(inner));
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(ur);
	assert_int_equal(audit_rows(fx), 1);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs WHERE new_values IS NOT NULL", NULL, 0), 1);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* ---- JSON of every value type ---- */

static void test_json_round_trip(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &types, DAL_AUDIT);
	static const unsigned char bytes[] = { 0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, '"', '\\', 'x' };
	const char *text = "quote \" backslash \\ newline \n tab \t ctl \x01\x1f snowman \xe2\x98\x83 emoji \xf0\x9f\x98\x80";
	const double ds[] = { 0.1, 1.0 / 3.0, -2.5e-10, 123456789.125, 3.0, 1e15 + 0.3 };
	dal_audit_logs *logs = NULL;
	size_t k;

	for (k = 0; k < DAL_COUNT(ds); k++) {
		dal_field f[] = {
			DAL_FIELD("b", dal_bool(k % 2 == 0)),
			DAL_FIELD("i", dal_int(k == 0 ? INT64_MAX : k == 1 ? INT64_MIN : ((int64_t)1 << 53) + 1)),
			DAL_FIELD("d", dal_double(ds[k])),
			DAL_FIELD("s", dal_text(text)),
			DAL_FIELD("bl", dal_blob(bytes, k % 2 ? sizeof(bytes) : k)),
			DAL_FIELD("ts", dal_timestamp(k == 0 ? -62135596800000000LL + 1 : 1714567890123456LL + (int64_t)k)),
			DAL_FIELD("j", dal_json("{\"z\":1,\"a\":[true,null,2.5],\"nested\":{\"q\":\"\\u00e9\"}}")),
		};
		dal_row *stored = NULL, *asof = NULL;
		json_t *n, *v;
		size_t c;
		int64_t id;

		CHECK_OK(dal_repo_create(&stored, repo, f, DAL_COUNT(f)));
		id = dal_row_int(stored, "id");
		CHECK_OK(dal_repo_history(&logs, repo, id));
		assert_int_equal(dal_audit_logs_count(logs), 1);
		n = parse(dal_audit_logs_at(logs, 0)->new_values);
		/* Parsed back by an independent reader: the same values. */
		assert_true(json_is_boolean(json_object_get(n, "b")));
		v = json_object_get(n, "i");
		assert_true(json_is_integer(v));
		assert_true(json_integer_value(v) == dal_row_int(stored, "i"));
		v = json_object_get(n, "d");
		assert_true(json_is_number(v));
		assert_true(json_number_value(v) == ds[k]);
		assert_string_equal(json_string_value(json_object_get(n, "s")), text);
		assert_true(json_is_string(json_object_get(n, "bl")));
		assert_true(json_is_string(json_object_get(n, "ts")));
		assert_non_null(strchr(json_string_value(json_object_get(n, "ts")), 'T'));
		assert_true(json_is_object(json_object_get(n, "j")));
		json_decref(n);
		/* And rebuilt into a row: every column equal to what the table holds. */
		CHECK_OK(dal_repo_get_as_of(&asof, repo, id, dal_now()));
		for (c = 0; c < types.ncolumns; c++) {
			const dal_value *a = dal_row_at(stored, c), *b = dal_row_at(asof, c);
			if (c == 7) {
				json_t *x = json_loadb(a->v.s, a->len, 0, NULL), *y = json_loadb(b->v.s, b->len, 0, NULL);
				assert_true(json_equal(x, y));
				json_decref(x);
				json_decref(y);
			} else if (!dal_value_equal(a, b))
				fail_msg("case %zu column %s differs after the round trip", k, types.columns[c].name);
		}
		dal_row_free(stored);
		dal_row_free(asof);
		dal_audit_logs_free(logs);
	}
	if (fx_is(fx, "postgres")) {
		/* The stored documents are jsonb already; their text casts back to jsonb too. */
		assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs WHERE CAST(CAST(new_values AS TEXT) AS jsonb) "
			"= new_values", NULL, 0), (int64_t)DAL_COUNT(ds));
	}
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* ---- bad context strings ---- */

static void test_context_strings(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT);
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
	dal_audit_logs *logs = NULL;
	size_t big = DAL_AUDIT_CTX_MAX_USER_AGENT, i;
	char *ua = malloc(big + 1);
	const dal_audit_log *e;

	for (i = 0; i < big; i++)
		ua[i] = (char)('a' + i % 26);
	ua[big] = '\0';
	ctx.user_id = "O'Brien \"the\" ; DROP TABLE audit_logs; --";
	ctx.session_id = "line1\nline2\r\n\ttab \x01\x02\x1b[0m";
	ctx.correlation_id = "bad \xff\xfe utf8 \xc3 end";
	ctx.ip_address = "\xed\xa0\x80 surrogate";
	ctx.user_agent = ua;
	CHECK_OK(dal_repo_set_context(repo, &ctx));
	add(repo, "Ann", "ann@x");
	free(ua);   /* the context was copied */
	CHECK_OK(dal_audit_query(&logs, fx->db, NULL));
	e = dal_audit_logs_at(logs, 0);
	assert_string_equal(e->user_id, "O'Brien \"the\" ; DROP TABLE audit_logs; --");
	assert_string_equal(e->session_id, "line1\nline2\r\n\ttab \x01\x02\x1b[0m");
	/* Invalid UTF-8 is replaced, byte by byte, with U+FFFD. */
	assert_string_equal(e->correlation_id, "bad \xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd end");
	assert_string_equal(e->ip_address, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate");
	assert_int_equal(strlen(e->user_agent), big);
	dal_audit_logs_free(logs);
	/* Values with invalid UTF-8 too, where the engine takes them. */
	if (!fx_is(fx, "postgres") && !fx_is(fx, "duckdb")) {
		dal_field f[] = { DAL_FIELD("name", dal_text("x\xc0\xafy")), DAL_FIELD("email", dal_text("e@x")) };
		json_t *n;
		CHECK_OK(dal_repo_create(NULL, repo, f, 2));
		CHECK_OK(dal_audit_query(&logs, fx->db, NULL));
		n = parse(dal_audit_logs_at(logs, 0)->new_values);
		assert_string_equal(json_string_value(json_object_get(n, "name")), "x\xef\xbf\xbd\xef\xbf\xbdy");
		json_decref(n);
		dal_audit_logs_free(logs);
	}
	CHECK_OK(dal_repo_set_context(repo, NULL));
	add(repo, "Bob", "bob@x");
	CHECK_OK(dal_audit_query(&logs, fx->db, NULL));
	assert_null(dal_audit_logs_at(logs, 0)->user_id);
	dal_audit_logs_free(logs);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/*
 * Context strings come from requests: each is bounded where it is given, so a
 * hostile header fails that call with DAL_EINVAL and never every audited write
 * after it (a btree row too large on PostgreSQL, an index key on DuckDB).
 */
static void test_context_bounds(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT);
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
	dal_uow_opts opts = DAL_UOW_OPTS_INIT;
	dal_audit_logs *logs = NULL;
	dal_uow *uow = NULL;
	size_t huge = 1u << 20;
	char *s = malloc(huge + 1);

	memset(s, 'x', huge);
	s[huge] = '\0';
	ctx.user_id = s;
	CHECK_ERR(DAL_EINVAL, dal_repo_set_context(repo, &ctx));
	CHECK_MSG("user_id");
	ctx.user_id = NULL;
	ctx.correlation_id = s;
	opts.audit_ctx = &ctx;
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(&uow, fx->db, &opts));
	CHECK_MSG("correlation_id");
	/* At the bound: stored, indexed and found on every engine. */
	s[DAL_AUDIT_CTX_MAX_ID] = '\0';
	ctx.user_id = s;
	CHECK_OK(dal_uow_begin(&uow, fx->db, &opts));
	add(repo, "Ann", "ann@x");
	CHECK_OK(dal_uow_commit(uow));
	CHECK_OK(dal_audit_query(&logs, fx->db, &(dal_audit_filter){ .version = DAL_AUDIT_FILTER_VERSION,
		.correlation_id = s }));
	assert_int_equal(dal_audit_logs_count(logs), 1);
	assert_int_equal(strlen(dal_audit_logs_at(logs, 0)->user_id), DAL_AUDIT_CTX_MAX_ID);
	dal_audit_logs_free(logs);
	s[DAL_AUDIT_CTX_MAX_ID] = 'x';
	s[DAL_AUDIT_CTX_MAX_ID + 1] = '\0';
	CHECK_ERR(DAL_EINVAL, dal_repo_set_context(repo, &ctx));
	free(s);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* ---- tamper evidence ---- */

static dal_repo *chain_of(fixture *fx, int n)
{
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT);
	char name[32], email[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(email, sizeof(email), "e%d@x", i);
		add(repo, name, email);
	}
	assert_verify_ok(fx);
	return repo;
}

static void test_verify_altered(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = chain_of(fx, 6);

	fx_exec(fx, "UPDATE audit_logs SET user_id = 'mallory' WHERE id = 3");
	assert_verify_bad(fx, 3, "altered");
	fx_exec(fx, "UPDATE audit_logs SET user_id = NULL WHERE id = 3");
	assert_verify_ok(fx);
	if (fx_is(fx, "postgres"))
		fx_exec(fx, "UPDATE audit_logs SET new_values = jsonb_set(new_values, '{name}', '\"x\"') WHERE id = 4");
	else
		fx_exec(fx, "UPDATE audit_logs SET new_values = replace(CAST(new_values AS TEXT), 'n3', 'x3') WHERE id = 4");
	assert_verify_bad(fx, 4, "altered");
	dal_repo_close(repo);
}

static void test_verify_deleted(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = chain_of(fx, 6);

	fx_exec(fx, "DELETE FROM audit_logs WHERE id = 3");
	assert_verify_bad(fx, 3, "deleted");
	fx_exec(fx, "DELETE FROM audit_logs WHERE id >= 3");
	assert_verify_bad(fx, 3, "deleted");
	dal_repo_close(repo);
}

/* Copy every column but id of `from` (read before) onto row `to`. */
static void put_content(fixture *fx, const dal_result *from, size_t r, int64_t to)
{
	dal_value p[14];
	size_t c;

	for (c = 1; c < 14; c++)
		p[c - 1] = *dal_result_get(from, r, c);
	p[13] = dal_int(to);
	CHECK_OK(dal_exec(NULL, fx->db, "UPDATE audit_logs SET user_id = ?, action = ?, resource_type = ?, resource_id = ?, "
		"old_values = ?, new_values = ?, timestamp = ?, session_id = ?, correlation_id = ?, ip_address = ?, "
		"user_agent = ?, prev_hash = ?, row_hash = ? WHERE id = ?", p, 14));
}

static void test_verify_swapped(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = chain_of(fx, 6);
	dal_result *res = NULL;

	CHECK_OK(dal_query(&res, fx->db, "SELECT id, user_id, action, resource_type, resource_id, old_values, new_values, "
		"timestamp, session_id, correlation_id, ip_address, user_agent, prev_hash, row_hash FROM audit_logs "
		"WHERE id IN (3, 4) ORDER BY id", NULL, 0));
	assert_int_equal(dal_result_rows(res), 2);
	put_content(fx, res, 1, 3);
	put_content(fx, res, 0, 4);
	dal_result_free(res);
	assert_verify_bad(fx, 3, "reordered");
	dal_repo_close(repo);
}

static void test_verify_inserted(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = chain_of(fx, 6);
	dal_value p[2] = { dal_timestamp(dal_now()), dal_text("ab") };

	/* A row appended with raw SQL, even one that links to the last row's hash. */
	CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO audit_logs (id, action, resource_type, resource_id, timestamp, "
		"prev_hash, row_hash) SELECT 7, 'DELETE', 'au_accounts', 1, ?, row_hash, ? FROM audit_logs WHERE id = 6", p, 2));
	assert_verify_bad(fx, 7, "inserted outside dal");
	/* Dal's next audited write fails, loudly, until the row is dealt with: where a head row
	 * holds the chain's end it would take row 7's place; where the end is read from the
	 * rows (SQLite) it would link to row 7, whose hash is not a SHA-256. */
	{
		dal_field f[] = { DAL_FIELD("name", dal_text("after")), DAL_FIELD("email", dal_text("after@x")) };
		CHECK_ERR(fx_is(fx, "sqlite-file") || fx_is(fx, "sqlite-memory") ? DAL_EINVAL : DAL_ECONSTRAINT,
			dal_repo_create(NULL, repo, f, 2));
	}
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM au_accounts", NULL, 0), 6);
	assert_verify_bad(fx, 7, "inserted outside dal");
	dal_repo_close(repo);
}

/* ---- cleanup, and a long clean chain ---- */

#define CHAIN_ROWS 100000

static void test_cleanup_and_long_chain(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0);
	dal__audit_rec *recs = calloc(CHAIN_ROWS, sizeof(*recs));
	dal_session s;
	dal_audit_report r;
	dal_value old = dal_timestamp(dal_now() - (int64_t)40 * 86400 * 1000000), half = dal_int(CHAIN_ROWS / 2);
	int64_t deleted = -1, t0;
	size_t i;

	/* The chain is written by dal's own writer, in one transaction (what a bulk write does). */
	for (i = 0; i < CHAIN_ROWS; i++)
		recs[i] = (dal__audit_rec){ "CREATE", "au_accounts", (int64_t)i + 1, NULL, "{\"name\":\"x\"}", 0 };
	CHECK_OK(dal__session_open(&s, fx->db, DAL__SESSION_TX | DAL__TX_WRITE));
	t0 = dal_now();
	CHECK_OK(dal__session_close(&s, dal__audit_write(&s, NULL, recs, CHAIN_ROWS)));
	print_message("%s: %d audit rows written in %.2f s\n", fx->engine, CHAIN_ROWS, (dal_now() - t0) / 1e6);
	free(recs);
	assert_int_equal(audit_rows(fx), CHAIN_ROWS);
	t0 = dal_now();
	CHECK_OK(dal_audit_verify(&r, fx->db));
	print_message("%s: %d rows verified in %.2f s\n", fx->engine, CHAIN_ROWS, (dal_now() - t0) / 1e6);
	assert_true(r.ok);
	assert_int_equal(r.rows_checked, CHAIN_ROWS);
	assert_int_equal(r.head_id, CHAIN_ROWS);

	t0 = dal_now();
	CHECK_OK(dal_exec(NULL, fx->db, "UPDATE audit_logs SET timestamp = ? WHERE id <= ?", (dal_value[]){ old, half }, 2));
	/* The backdated rows no longer match their hashes; cleanup deletes them all the same. */
	print_message("%s: backdated in %.2f s\n", fx->engine, (dal_now() - t0) / 1e6);
	t0 = dal_now();
	CHECK_OK(dal_audit_cleanup(&deleted, fx->db, 30));
	print_message("%s: %lld old rows cleaned up in %.2f s\n", fx->engine, (long long)deleted, (dal_now() - t0) / 1e6);
	assert_int_equal(deleted, CHAIN_ROWS / 2);
	assert_int_equal(audit_rows(fx), CHAIN_ROWS / 2);
	CHECK_OK(dal_audit_verify(&r, fx->db));
	if (!r.ok)
		fail_msg("after cleanup: row %lld: %s", (long long)r.bad_id, r.reason);
	assert_int_equal(r.rows_checked, CHAIN_ROWS / 2);
	CHECK_OK(dal_audit_cleanup(&deleted, fx->db, 30));
	assert_int_equal(deleted, 0);
	CHECK_OK(dal_audit_cleanup(&deleted, fx->db, 0));
	assert_int_equal(deleted, CHAIN_ROWS / 2);
	assert_verify_ok(fx);
	CHECK_ERR(DAL_EINVAL, dal_audit_cleanup(&deleted, fx->db, -1));
	dal_repo_close(repo);
}

/* `n` CREATE rows on the chain, written in one transaction by dal's own writer. */
static void write_chain(fixture *fx, size_t n)
{
	dal__audit_rec *recs = calloc(n, sizeof(*recs));
	dal_session s;

	for (size_t i = 0; i < n; i++)
		recs[i] = (dal__audit_rec){ "CREATE", "au_accounts", (int64_t)i + 1, NULL, "{\"name\":\"x\"}", 0 };
	CHECK_OK(dal__session_open(&s, fx->db, DAL__SESSION_TX | DAL__TX_WRITE));
	CHECK_OK(dal__session_close(&s, dal__audit_write(&s, NULL, recs, n)));
	free(recs);
}

/* A batch reads its rows before it takes the chain's head. Another cleanup (another
 * process's) that moves the start of the chain in between must not make the batch
 * anchor the chain at a row that is gone: it reads again. */
static void test_cleanup_raced_by_another(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0);
	int64_t deleted = -1;

	/* More than one batch (5,000 rows): the other cleanup goes further than the first batch read. */
	write_chain(fx, 12000);
	dal__fault_arm("audit.cleanup.between");
	CHECK_OK(dal_audit_cleanup(&deleted, fx->db, 0));
	dal__fault_arm(NULL);
	/* The other cleanup deleted them all. */
	assert_int_equal(deleted, 0);
	assert_int_equal(audit_rows(fx), 0);
	assert_verify_ok(fx);
	write_chain(fx, 3);
	CHECK_OK(dal_audit_cleanup(&deleted, fx->db, 0));
	assert_int_equal(deleted, 3);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* A second handle whose connections start with synchronous_commit on (the
 * database's default is made so: a test server may run with it off). */
static dal_db *sync_commit_handle(fixture *fx)
{
	dal_db *db = NULL;

	fx_exec(fx, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', "
		"current_database()); END $$");
	CHECK_OK(fx_open_again(&db, fx, NULL));
	return db;
}

static void sync_commit_reset(fixture *fx)
{
	fx_exec(fx, "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET synchronous_commit', "
		"current_database()); END $$");
}

/* 1 when the next statement on `db` runs with synchronous_commit on. */
static int64_t sync_on(dal_db *db)
{
	dal_result *res = NULL;
	int64_t on;

	CHECK_OK(dal_query(&res, db, "SELECT CASE WHEN current_setting('synchronous_commit') = 'on' "
		"THEN 1 ELSE 0 END", NULL, 0));
	on = dal_result_get(res, 0, 0)->v.i;
	dal_result_free(res);
	return on;
}

/* PostgreSQL: the batches of a cleanup commit without waiting for the disk (but
 * the last), which never leaks into anything else: not into the pool's next
 * transactions, nor into the unit of work a cleanup runs in. The database's
 * default is made `on` for connections opened after it (a test server may run
 * with it off), and a second handle's connections are the ones watched. */
static void test_cleanup_commits_stay_durable(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = NULL;
	dal_uow *uow = NULL;
	dal_db *db = NULL;
	int64_t deleted = -1;

	if (!fx_is(fx, "postgres")) {
		FX_SKIP("synchronous_commit is PostgreSQL's");
		return;
	}
	db = sync_commit_handle(fx);
	repo = open_audited(fx, &accts, 0);
	write_chain(fx, 12000);
	assert_int_equal(sync_on(db), 1);
	CHECK_OK(dal_audit_cleanup(&deleted, db, 0));
	assert_int_equal(deleted, 12000);
	assert_int_equal(sync_on(db), 1);
	write_chain(fx, 12000);
	CHECK_OK(dal_uow_begin(&uow, db, NULL));
	CHECK_OK(dal_audit_cleanup(&deleted, db, 0));
	assert_int_equal(deleted, 12000);
	assert_int_equal(sync_on(db), 1);
	CHECK_OK(dal_uow_commit(uow));
	assert_verify_ok(fx);
	dal_close(db);
	sync_commit_reset(fx);
	dal_repo_close(repo);
}

/*
 * The cleanup's own WAL between `from` and what is on disk (pg_walinspect reads
 * only WAL already flushed; what other tests write to the same server meanwhile
 * does not count): every heap DELETE of audit_logs since `from` (`rows` of
 * them) and a COMMIT for each transaction that made them; after the last
 * DELETE, the cleanup's end, a logical message with prefix "dal" whose
 * transaction committed on a connection with synchronous_commit on, so that
 * its commit flushed everything before it.
 */
static void assert_cleanup_flushed(fixture *fx, const char *from, int64_t rows)
{
	const char *sql =
		"WITH r AS (SELECT start_lsn, xid, resource_manager AS rm, record_type AS t, description, block_ref "
		"  FROM pg_get_wal_records_info(?::pg_lsn, pg_current_wal_flush_lsn())), "
		"c AS (SELECT xid FROM r WHERE rm = 'Transaction' AND t = 'COMMIT'), "
		"rel AS (SELECT format('%% rel %s/%s/%s fork%%', t.oid, d.oid, pg_relation_filenode('audit_logs')) AS pat "
		"  FROM pg_tablespace t, pg_database d WHERE t.spcname = 'pg_default' AND d.datname = current_database()), "
		"del AS (SELECT start_lsn, xid FROM r, rel WHERE rm = 'Heap' AND t = 'DELETE' AND block_ref LIKE rel.pat) "
		"SELECT CASE WHEN (SELECT count(*) FROM del) = ? "
		"  AND NOT EXISTS (SELECT 1 FROM del WHERE xid NOT IN (SELECT xid FROM c)) "
		"  AND EXISTS (SELECT 1 FROM r WHERE rm = 'LogicalMessage' AND description LIKE 'transactional, prefix \"dal\";%%' "
		"    AND start_lsn > (SELECT max(start_lsn) FROM del) AND xid IN (SELECT xid FROM c)) "
		"THEN 1 ELSE 0 END";
	dal_value p[2] = { dal_text(from), dal_int(rows) };

	assert_int_equal(fx_scalar(fx, sql, p, 2), 1);
}

/* PostgreSQL: a cleanup whose batches all committed without waiting for the disk
 * (a whole number of batches: its last read finds nothing) returns only once they
 * are on disk. A commit that wrote no WAL itself but its commit record (such as
 * one that only took a transaction id) does not wait for the flush either. The
 * database's default is made `on` for a second handle's connections, which run
 * the cleanup (a test server may run with it off). */
static void test_cleanup_flushes_before_return(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = NULL;
	dal_result *res = NULL;
	dal_db *db = NULL;
	int64_t deleted = -1;
	char from[64];

	if (!fx_is(fx, "postgres")) {
		FX_SKIP("synchronous_commit is PostgreSQL's");
		return;
	}
	if (fx_scalar(fx, "SELECT current_setting('server_version_num')::int", NULL, 0) < 150000) {
		FX_SKIP("reading the WAL (pg_walinspect) needs PostgreSQL 15");
		return;
	}
	fx_exec(fx, "CREATE EXTENSION IF NOT EXISTS pg_walinspect");
	db = sync_commit_handle(fx);
	repo = open_audited(fx, &accts, 0);
	write_chain(fx, 10000);
	CHECK_OK(dal_query(&res, fx->db, "SELECT pg_current_wal_insert_lsn()::text", NULL, 0));
	snprintf(from, sizeof(from), "%s", dal_result_get(res, 0, 0)->v.s);
	dal_result_free(res);
	CHECK_OK(dal_audit_cleanup(&deleted, db, 0));
	assert_cleanup_flushed(fx, from, 10000);
	assert_int_equal(deleted, 10000);
	dal_close(db);
	sync_commit_reset(fx);
	dal_repo_close(repo);
}

/* A 4-byte big-endian field of the database file's header, as on disk. */
static int64_t header_field(const char *path, long offset)
{
	unsigned char b[4] = { 0 };
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fseek(f, offset, SEEK_SET), 0);
	assert_int_equal(fread(b, 1, 4, f), 4);
	fclose(f);
	return (int64_t)b[0] << 24 | (int64_t)b[1] << 16 | (int64_t)b[2] << 8 | b[3];
}

/* SQLite: no cleanup runs, so a commit past 1,000 pages of log copies it into
 * the database file, whose header then says what the connection sees. */
static void assert_commit_checkpoints(fixture *fx)
{
	const char *path = fx->url + strlen("sqlite:///");

	CHECK_OK(dal_exec(NULL, fx->db, "CREATE TABLE IF NOT EXISTS cp_big (x TEXT)", NULL, 0));
	CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO cp_big WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
		"SELECT i + 1 FROM c WHERE i < 3000) SELECT hex(randomblob(1000)) FROM c", NULL, 0));
	assert_int_equal(header_field(path, 28), fx_scalar(fx, "PRAGMA page_count", NULL, 0));
	assert_int_equal(header_field(path, 36), fx_scalar(fx, "PRAGMA freelist_count", NULL, 0));
}

typedef struct cleanup_run {
	dal_db *db;
	int64_t deleted;
	int rc;
} cleanup_run;

static void *run_cleanup(void *arg)
{
	cleanup_run *r = arg;

	r->rc = dal_audit_cleanup(&r->deleted, r->db, 0);
	return NULL;
}

/* Two cleanups of one dal_db at once (threads): together they delete each row
 * once, the chain stays whole, and the state they share (SQLite's count of
 * jobs running, which holds writers' checkpoints back) is back to none after. */
static void test_cleanup_two_at_once(void **state)
{
	fixture *fx = FX(state);
	cleanup_run r[2] = { { fx->db, -1, -1 }, { fx->db, -1, -1 } };
	pthread_t t[2];
	dal_repo *repo = NULL;

	if (!fx_is(fx, "sqlite-file") && !fx_is(fx, "postgres")) {
		FX_SKIP("two connections of one database");
		return;
	}
	repo = open_audited(fx, &accts, 0);
	write_chain(fx, 12000);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, run_cleanup, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (r[0].rc != DAL_OK || r[1].rc != DAL_OK)
		fail_msg("cleanups: %d and %d (%s)", r[0].rc, r[1].rc, dal_error_last()->message);
	assert_int_equal(r[0].deleted + r[1].deleted, 12000);
	assert_int_equal(audit_rows(fx), 0);
	assert_verify_ok(fx);
	if (fx_is(fx, "sqlite-file"))
		assert_commit_checkpoints(fx);
	dal_repo_close(repo);
}

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* SQLite: a commit that takes the log past 1,000 frames copies the log into the
 * database (a checkpoint) before it returns. While a cleanup runs, a writer's
 * commit leaves that to the cleanup, which checkpoints between its batches:
 * otherwise the writer would copy the cleanup's batch. */
static void test_cleanup_checkpoints_for_writers(void **state)
{
	fixture *fx = FX(state);
	const char *path = fx->url + strlen("sqlite:///");
	const char *fill = "INSERT INTO cp_big WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
		"WHERE i < 3000) SELECT hex(randomblob(1000)) FROM c";
	const dal_driver *drv = fx->db->drv;
	dal_session s;
	int64_t before;

	if (!fx_is(fx, "sqlite-file")) {
		FX_SKIP("only SQLite's log (a file database) is checkpointed by the commits");
		return;
	}
	CHECK_OK(dal_exec(NULL, fx->db, "CREATE TABLE cp_big (x TEXT)", NULL, 0));
	before = file_size(path);
	/* 3,000 rows of 2,000 bytes: about 1,500 pages, past the threshold. */
	drv->write_job(fx->db->shared, NULL, DAL__JOB_START);
	CHECK_OK(dal_exec(NULL, fx->db, fill, NULL, 0));
	assert_int_equal(file_size(path), before);
	CHECK_OK(dal__session_open(&s, fx->db, 0));
	drv->write_job(fx->db->shared, s.conn, DAL__JOB_PAUSE);
	CHECK_OK(dal__session_close(&s, 0));
	assert_true(file_size(path) > before + 5000000);
	drv->write_job(fx->db->shared, NULL, DAL__JOB_END);
	/* With no cleanup running, the commit checkpoints again. */
	before = file_size(path);
	CHECK_OK(dal_exec(NULL, fx->db, fill, NULL, 0));
	assert_true(file_size(path) > before + 5000000);
}

/* ---- as-of ---- */

static void test_as_of(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT);
	dal_field u1[] = { DAL_FIELD("name", dal_text("v2")) };
	dal_field u2[] = { DAL_FIELD("name", dal_text("v3")), DAL_FIELD("age", dal_int(44)) };
	int64_t t[7], id;
	dal_row *row = NULL;

	t[0] = dal_now();
	sleep_ms(2);
	id = add(repo, "v1", "v@x");
	t[1] = dal_now();
	sleep_ms(2);
	CHECK_OK(dal_repo_update(NULL, repo, id, u1, 1));
	t[2] = dal_now();
	sleep_ms(2);
	CHECK_OK(dal_repo_update(NULL, repo, id, u2, 2));
	t[3] = dal_now();
	sleep_ms(2);
	CHECK_OK(dal_repo_delete(repo, id, true));
	t[4] = dal_now();
	sleep_ms(2);
	CHECK_OK(dal_repo_restore(NULL, repo, id));
	t[5] = dal_now();
	sleep_ms(2);
	CHECK_OK(dal_repo_delete(repo, id, false));
	t[6] = dal_now();

	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get_as_of(&row, repo, id, t[0]));
	assert_null(row);
	CHECK_OK(dal_repo_get_as_of(&row, repo, id, t[1]));
	assert_string_equal(dal_row_text(row, "name"), "v1");
	assert_int_equal(dal_row_int(row, "age"), 30);
	assert_int_equal(dal_row_int(row, "id"), id);
	assert_true(dal_row_is_null(row, "password_hash"));   /* redacted: not rebuilt */
	dal_row_free(row);
	CHECK_OK(dal_repo_get_as_of(&row, repo, id, t[2]));
	assert_string_equal(dal_row_text(row, "name"), "v2");
	assert_string_equal(dal_row_text(row, "email"), "v@x");
	dal_row_free(row);
	CHECK_OK(dal_repo_get_as_of(&row, repo, id, t[3]));
	assert_string_equal(dal_row_text(row, "name"), "v3");
	assert_int_equal(dal_row_int(row, "age"), 44);
	dal_row_free(row);
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get_as_of(&row, repo, id, t[4]));
	CHECK_OK(dal_repo_get_as_of(&row, repo, id, t[5]));
	assert_string_equal(dal_row_text(row, "name"), "v3");
	assert_true(dal_row_is_null(row, "deleted_at"));
	dal_row_free(row);
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get_as_of(&row, repo, id, t[6]));
	CHECK_ERR(DAL_ENOTFOUND, dal_repo_get_as_of(&row, repo, id + 100, t[6]));
	dal_repo_close(repo);
}


/* ---- units of work and parallel writers ---- */

/* A unit reads its own audit rows, though they join the chain only at its commit. */
static void test_unit_reads_its_own_audit_rows(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0), *ur = NULL;
	dal_audit_logs *logs = NULL;
	dal_uow *uow = NULL;
	int64_t id;

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&ur, uow, &accts, DAL_AUDIT));
	id = add(ur, "Ann", "ann@x");
	CHECK_OK(dal_repo_history(&logs, ur, id));
	assert_int_equal(dal_audit_logs_count(logs), 1);
	assert_string_equal(dal_audit_logs_at(logs, 0)->action, "CREATE");
	dal_audit_logs_free(logs);
	/* More rows after that read still go to the chain, in order. */
	add(ur, "Bob", "bob@x");
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(ur);
	assert_int_equal(audit_rows(fx), 2);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/*
 * A connection remembers the chain end it last wrote and moves the head from
 * there when it still is the end. Where it is not (its transaction rolled back,
 * another handle wrote since) the end is read again: no gap, no fork.
 */
static void test_chain_end_moved_elsewhere(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, DAL_AUDIT), *ur = NULL, *r2 = NULL;
	dal_audit_logs *logs = NULL;
	dal_uow *uow = NULL;
	dal_db *db2 = NULL;

	add(repo, "Ann", "ann@x");
	/* The unit's rows reach the chain (its read flushes them), then roll back. */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&ur, uow, &accts, DAL_AUDIT));
	add(ur, "Gone", "gone@x");
	CHECK_OK(dal_repo_history(&logs, ur, 1));
	dal_audit_logs_free(logs);
	CHECK_OK(dal_uow_rollback(uow));
	dal_repo_close(ur);
	add(repo, "Bob", "bob@x");
	assert_int_equal(audit_rows(fx), 2);
	assert_int_equal(fx_scalar(fx, "SELECT MAX(id) FROM audit_logs", NULL, 0), 2);
	assert_verify_ok(fx);
	if (fx_is(fx, "sqlite-memory")) {
		dal_repo_close(repo);
		FX_SKIP("a second handle on an in-memory SQLite database is another database");
	}
	/* Two handles taking turns: each finds the end the other moved. */
	CHECK_OK(fx_open_again(&db2, fx, NULL));
	CHECK_OK(dal_repo_open(&r2, db2, &accts, DAL_AUDIT));
	add(r2, "Cy", "cy@x");
	add(repo, "Di", "di@x");
	add(r2, "Ed", "ed@x");
	add(repo, "Flo", "flo@x");
	assert_int_equal(audit_rows(fx), 6);
	assert_int_equal(fx_scalar(fx, "SELECT MAX(id) FROM audit_logs", NULL, 0), 6);
	assert_verify_ok(fx);
	dal_repo_close(r2);
	dal_close(db2);
	dal_repo_close(repo);
}

typedef struct create_elsewhere {
	dal_db *db;
	int rc;
	double seconds;
} create_elsewhere;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *create_on_other_thread(void *arg)
{
	create_elsewhere *c = arg;
	dal_repo *repo = NULL;
	dal_field f[] = { DAL_FIELD("name", dal_text("Other")), DAL_FIELD("email", dal_text("other@x")) };
	double t0 = now_s();

	c->rc = dal_repo_open(&repo, c->db, &accts, DAL_AUDIT);
	if (c->rc == 0)
		c->rc = dal_repo_create(NULL, repo, f, DAL_COUNT(f));
	c->seconds = now_s() - t0;
	dal_repo_close(repo);
	return NULL;
}

/* An open unit with audited changes does not hold the chain: another writer goes on. */
static void test_open_unit_does_not_hold_the_chain(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0), *ur = NULL;
	create_elsewhere c = { fx->db, -1, 0 };
	dal_uow *uow = NULL;
	pthread_t t;
	int64_t ann;

	if (!fx_is(fx, "postgres")) {
		dal_repo_close(repo);
		FX_SKIP("writers run at once only on PostgreSQL (SQLite and DuckDB run one writer at a time)");
	}
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&ur, uow, &accts, DAL_AUDIT));
	ann = add(ur, "Ann", "ann@x");
	assert_int_equal(pthread_create(&t, NULL, create_on_other_thread, &c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	CHECK_OK(c.rc);
	assert_true(c.seconds < 5.0);
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(ur);
	/* The chain is in commit order: the other writer's row first, though Ann's change came first. */
	assert_int_equal(audit_rows(fx), 2);
	assert_true(fx_scalar(fx, "SELECT resource_id FROM audit_logs ORDER BY id LIMIT 1", NULL, 0) != ann);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

#define WRITERS 4
#define WRITES 50

typedef struct writer {
	dal_db *db;
	int index, failed, done;
	char why[256];
} writer;

/* Creates only: DuckDB 1.4.4 invalidates the database ("Unaligned fetch in validity and
 * main column data for update") when transactions update rows of one table at once. */
static int unit_write(dal_db *db, const char *email)
{
	dal_field f[] = { DAL_FIELD("name", dal_text("u")), DAL_FIELD("email", dal_text(email)) };
	dal_repo *r = NULL;
	dal_uow *u = NULL;
	int rc;

	if ((rc = dal_uow_begin(&u, db, NULL)) < 0)
		return rc;
	if ((rc = dal_uow_repo(&r, u, &accts, DAL_AUDIT)) == 0)
		rc = dal_repo_create(NULL, r, f, DAL_COUNT(f));
	dal_repo_close(r);
	return rc == 0 ? dal_uow_commit(u) : (dal_uow_rollback(u), rc);
}

/* An update that returns the row (on DuckDB: updated, then read back). */
static int rename_row(dal_repo *repo, int64_t id)
{
	dal_field f[] = { DAL_FIELD("name", dal_text("renamed")) };
	dal_row *row = NULL;
	int rc = dal_repo_update(&row, repo, id, f, DAL_COUNT(f));

	if (rc == 0 && strcmp(dal_row_text(row, "name"), "renamed") != 0)
		rc = DAL_ERROR;
	dal_row_free(row);
	return rc;
}

/* Audited creates and updates, alone and in units; what an engine reports as a conflict is retried. */
static void *write_some(void *arg)
{
	writer *w = arg;
	dal_repo *repo = NULL;
	char email[64];
	int i, rc;

	if (dal_repo_open(&repo, w->db, &accts, DAL_AUDIT) < 0) {
		w->failed++;
		return NULL;
	}
	for (i = 0; i < WRITES; i++) {
		dal_row *row = NULL;
		dal_field f[] = { DAL_FIELD("name", dal_text("w")), DAL_FIELD("email", dal_text(email)) };
		/* f points at email: fill it before use. */
		snprintf(email, sizeof(email), "w%d-%d@x", w->index, i);
		f[1].value = dal_text(email);
		while ((rc = dal_repo_create(&row, repo, f, DAL_COUNT(f))) == DAL_ESERIALIZE || rc == DAL_EBUSY)
			;
		while (rc == 0 && (rc = rename_row(repo, dal_row_int(row, "id"))) < 0 &&
		       (rc == DAL_ESERIALIZE || rc == DAL_EBUSY))
			rc = 0;
		snprintf(email, sizeof(email), "w%d-%d-unit@x", w->index, i);
		while (rc == 0 && (rc = unit_write(w->db, email)) < 0 && (rc == DAL_ESERIALIZE || rc == DAL_EBUSY))
			rc = 0;
		dal_row_free(row);
		if (rc == 0)
			w->done++;
		else if (w->failed++ == 0)
			snprintf(w->why, sizeof(w->why), "%s: %s", dal_strerror(rc), dal_error_last()->message);
	}
	dal_repo_close(repo);
	return NULL;
}

/* Writers on several threads at once: one chain, in an order verify agrees with. */
static void test_parallel_writers_one_chain(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0);
	writer w[WRITERS];
	pthread_t t[WRITERS];
	int i;

	for (i = 0; i < WRITERS; i++) {
		w[i] = (writer){ fx->db, i, 0, 0, "" };
		assert_int_equal(pthread_create(&t[i], NULL, write_some, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (w[i].failed)
			fail_msg("writer %d: %d writes failed, the first: %s", i, w[i].failed, w[i].why);
		assert_int_equal(w[i].done, WRITES);
	}
	assert_int_equal(audit_rows(fx), 3 * WRITERS * WRITES);
	assert_int_equal(fx_scalar(fx, "SELECT MAX(id) - MIN(id) + 1 FROM audit_logs", NULL, 0), 3 * WRITERS * WRITES);
	/* Every string stored as it was written (see DAL_CAP_UPDATE_RETURNING). */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM au_accounts WHERE name NOT IN ('renamed', 'u') "
		"OR email NOT LIKE 'w%@x'", NULL, 0), 0);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs WHERE action NOT IN ('CREATE', 'UPDATE')",
		NULL, 0), 0);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* ---- PostgreSQL least privilege (docs/audit.md) ---- */

static void grant_app_role(fixture *fx)
{
	fx_exec(fx, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dal_audit_app') THEN "
		"CREATE ROLE dal_audit_app LOGIN PASSWORD 'app_pw'; END IF; END $$");
	fx_exec(fx, "GRANT USAGE ON SCHEMA public TO dal_audit_app");
	fx_exec(fx, "GRANT SELECT, INSERT, UPDATE, DELETE ON au_accounts TO dal_audit_app");
	fx_exec(fx, "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO dal_audit_app");
	fx_exec(fx, "REVOKE ALL ON audit_logs FROM dal_audit_app");
	fx_exec(fx, "GRANT SELECT, INSERT ON audit_logs TO dal_audit_app");
	fx_exec(fx, "GRANT SELECT, UPDATE ON audit_chain TO dal_audit_app");
}

/* The application role writes and reads the trail, and cannot change or remove it. */
static void test_least_privilege(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_audited(fx, &accts, 0), *ar = NULL, *ur = NULL;
	dal_field up[] = { DAL_FIELD("age", dal_int(31)) };
	dal_audit_report r;
	dal_db *app = NULL;
	dal_uow *uow = NULL;
	char url[1200];
	const char *at = strchr(fx->url, '@');
	int64_t id, n = 0;

	if (!fx_is(fx, "postgres")) {
		dal_repo_close(repo);
		FX_SKIP("roles and grants: the least-privilege setup is PostgreSQL's");
	}
	grant_app_role(fx);
	assert_non_null(at);
	snprintf(url, sizeof(url), "postgresql://dal_audit_app:app_pw%s", at);
	CHECK_OK(dal_open(&app, url, NULL));
	CHECK_OK(dal_repo_open(&ar, app, &accts, DAL_AUDIT));
	id = add(ar, "Ann", "ann@x");
	CHECK_OK(dal_repo_update(NULL, ar, id, up, DAL_COUNT(up)));
	CHECK_OK(dal_uow_begin(&uow, app, NULL));
	CHECK_OK(dal_uow_repo(&ur, uow, &accts, DAL_AUDIT));
	add(ur, "Bob", "bob@x");
	CHECK_OK(dal_repo_delete(ur, id, true));
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(ur);
	assert_int_equal(audit_rows(fx), 4);
	/* Its own trail is beyond its reach. */
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, app, "UPDATE audit_logs SET action = 'FORGED'", NULL, 0));
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, app, "DELETE FROM audit_logs", NULL, 0));
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, app, "TRUNCATE audit_logs", NULL, 0));
	CHECK_OK(dal_audit_verify(&r, app));
	assert_true(r.ok);
	assert_int_equal(r.rows_checked, 4);
	/* Cleanup deletes: a maintenance role runs it. */
	CHECK_ERR(DAL_ESQL, dal_audit_cleanup(&n, app, 0));
	CHECK_OK(dal_audit_cleanup(&n, fx->db, 0));
	assert_int_equal(n, 4);
	dal_repo_close(ar);
	dal_close(app);
	dal_repo_close(repo);
}

FX_CASES(cases_audit,
	FX_CASE(test_every_action_and_context),
	FX_CASE(test_no_audit_flag_writes_nothing),
	FX_CASE(test_every_filter),
	FX_CASE(test_rollback_leaves_no_audit_row),
	FX_CASE(test_json_round_trip),
	FX_CASE(test_context_strings),
	FX_CASE(test_context_bounds),
	FX_CASE(test_verify_altered),
	FX_CASE(test_verify_deleted),
	FX_CASE(test_verify_swapped),
	FX_CASE(test_verify_inserted),
	FX_CASE(test_cleanup_and_long_chain),
	FX_CASE(test_cleanup_raced_by_another),
	FX_CASE(test_cleanup_checkpoints_for_writers),
	FX_CASE(test_cleanup_commits_stay_durable),
	FX_CASE(test_cleanup_flushes_before_return),
	FX_CASE(test_cleanup_two_at_once),
	FX_CASE(test_as_of),
	FX_CASE(test_unit_reads_its_own_audit_rows),
	FX_CASE(test_chain_end_moved_elsewhere),
	FX_CASE(test_open_unit_does_not_hold_the_chain),
	FX_CASE(test_parallel_writers_one_chain),
	FX_CASE(test_least_privilege),
);
