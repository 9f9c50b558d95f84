/* What the write path does with its input: ids in input order, DAL_DEFAULT_NOW on any
 * timestamp column, DAL_SENSITIVE values kept out of the echo log. */
#include "conformance/fixture.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

/* ---- bulk create with the caller's ids ---- */

static const dal_column wi_user_cols[] = { FX_USER_COLUMNS };
static const dal_model wi_users = DAL_MODEL("wi_users", wi_user_cols);


#define LACKS(hay, needle) \
	do { if ((hay) && strstr((hay), (needle))) fail_msg("\"%s\" contains \"%s\"", (hay), (needle)); } while (0)

/* Each audit row of `action` on the ids 500 and 300 records its own row, named u<id>. */
static void assert_audit_own_row(fixture *fx, const char *action, bool old_values)
{
	static const int64_t ids[] = { 500, 300 };
	size_t i;

	for (i = 0; i < 2; i++) {
		dal_audit_logs *logs = fx_audit_of(fx, "wi_users", action, ids[i]);
		const dal_audit_log *e = dal_audit_logs_at(logs, 0);
		const char *v = old_values ? e->old_values : e->new_values;
		char mine[16], other[16];
		snprintf(mine, sizeof(mine), "\"u%lld", (long long)ids[i]);
		snprintf(other, sizeof(other), "\"u%lld", (long long)ids[1 - i]);
		CONTAINS(v, mine);
		LACKS(v, other);
		dal_audit_logs_free(logs);
	}
}

/* Ids given by the caller, not ascending: ids_out and the audit rows follow the input,
 * and the later bulk update and delete pair each id with its own values. */
static void test_bulk_create_given_ids_in_input_order(void **state)
{
	static const char *const cols[] = { "id", "name", "email", "age" };
	static const char *const c_name[] = { "name" };
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wi_users, DAL_AUDIT);
	dal_value v[] = {
		dal_int(500), dal_text("u500"), dal_text("e500@x"), dal_int(50),
		dal_int(300), dal_text("u300"), dal_text("e300@x"), dal_int(30),
	};
	dal_value names[] = { dal_text("u500b"), dal_text("u300b") };
	int64_t ids[2] = { 0, 0 }, upd[2] = { 500, 300 }, count = -1;
	dal_row *row = NULL;

	CHECK_OK(dal_repo_bulk_create(ids, repo, cols, 4, v, 2));
	if (ids[0] != 500 || ids[1] != 300)
		fail_msg("%s: ids_out {%lld, %lld}, input {500, 300}", fx->engine, (long long)ids[0], (long long)ids[1]);
	CHECK_OK(dal_repo_get(&row, repo, 300));
	assert_string_equal(dal_row_text(row, "name"), "u300");
	assert_int_equal(dal_row_int(row, "age"), 30);
	dal_row_free(row);
	assert_audit_own_row(fx, "BULK_CREATE", false);

	CHECK_OK(dal_repo_bulk_update(&count, repo, upd, c_name, 1, names, 2));
	assert_int_equal(count, 2);
	CHECK_OK(dal_repo_get(&row, repo, 300));
	assert_string_equal(dal_row_text(row, "name"), "u300b");
	dal_row_free(row);
	assert_audit_own_row(fx, "BULK_UPDATE", true);
	assert_audit_own_row(fx, "BULK_UPDATE", false);

	CHECK_OK(dal_repo_bulk_delete(&count, repo, upd, 2, true));
	assert_int_equal(count, 2);
	assert_audit_own_row(fx, "BULK_DELETE", true);
	dal_repo_close(repo);
}

/* ---- DAL_DEFAULT_NOW on a column other than created_at / updated_at ---- */

/* seen_at is required and filled on create; due_at is filled too, but may be NULL. */
static const dal_column wi_visit_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 20),
	DAL_COL("seen_at", DAL_TYPE_TIMESTAMP, DAL_NOT_NULL | DAL_DEFAULT_NOW, 0),
	DAL_COL("due_at", DAL_TYPE_TIMESTAMP, DAL_DEFAULT_NOW, 0),
	DAL_COL_CREATED_AT(),
};
static const dal_model wi_visits = DAL_MODEL("wi_visits", wi_visit_cols);

static void assert_now(const dal_row *row, const char *col, int64_t t0, int64_t t1)
{
	int64_t ts;

	if (dal_row_is_null(row, col))
		fail_msg("%s is NULL, expected the time of the create", col);
	ts = dal_row_timestamp(row, col);
	if (ts < t0 - 1000000 || ts > t1 + 1000000)
		fail_msg("%s = %lld, not within [%lld, %lld]", col, (long long)ts, (long long)t0, (long long)t1);
}

static void check_default_now(fixture *fx, unsigned flags)
{
	static const char *const c_name[] = { "name" };
	static const char *const c_name_seen[] = { "name", "seen_at" };
	dal_repo *repo = fx_open_repo(fx, &wi_visits, flags);
	int64_t t0 = dal_now(), t1, given = t0 - 86400LL * 1000000, ids[3];
	dal_field f[] = { DAL_FIELD("name", dal_text("a")) };
	dal_field g[] = { DAL_FIELD("name", dal_text("b")), DAL_FIELD("seen_at", dal_timestamp(given)),
		DAL_FIELD("due_at", dal_null()) };
	dal_value bv[] = { dal_text("c"), dal_text("d"), dal_text("e") };
	dal_value bg[] = { dal_text("f"), dal_timestamp(given) };
	dal_row *row = NULL;
	size_t i;

	/* Single create: both filled with the time of the create, as created_at is. */
	CHECK_OK(dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	t1 = dal_now();
	assert_now(row, "seen_at", t0, t1);
	assert_now(row, "due_at", t0, t1);
	assert_int_equal(dal_row_timestamp(row, "seen_at"), dal_row_timestamp(row, "created_at"));
	{
		int64_t id = dal_row_int(row, "id");
		dal_row_free(row);
		row = NULL;
		CHECK_OK(dal_repo_get(&row, repo, id));
		assert_now(row, "seen_at", t0, t1);
		assert_now(row, "due_at", t0, t1);
	}
	dal_row_free(row);
	row = NULL;
	/* Values given are kept, NULL too. */
	CHECK_OK(dal_repo_create(&row, repo, g, DAL_COUNT(g)));
	assert_int_equal(dal_row_timestamp(row, "seen_at"), given);
	assert_true(dal_row_is_null(row, "due_at"));
	dal_row_free(row);
	row = NULL;

	/* Bulk create: the same. */
	CHECK_OK(dal_repo_bulk_create(ids, repo, c_name, 1, bv, 3));
	t1 = dal_now();
	for (i = 0; i < 3; i++) {
		CHECK_OK(dal_repo_get(&row, repo, ids[i]));
		assert_now(row, "seen_at", t0, t1);
		assert_now(row, "due_at", t0, t1);
		dal_row_free(row);
		row = NULL;
	}
	CHECK_OK(dal_repo_bulk_create(ids, repo, c_name_seen, 2, bg, 1));
	CHECK_OK(dal_repo_get(&row, repo, ids[0]));
	assert_int_equal(dal_row_timestamp(row, "seen_at"), given);
	assert_now(row, "due_at", t0, dal_now());
	dal_row_free(row);

	if (flags & DAL_AUDIT) {
		/* The audit rows record the filled values. */
		dal_audit_filter af = DAL_AUDIT_FILTER_INIT;
		dal_audit_logs *logs = NULL;
		af.resource_type = "wi_visits";
		CHECK_OK(dal_audit_query(&logs, fx->db, &af));
		assert_int_equal(dal_audit_logs_count(logs), 6);
		for (i = 0; i < 6; i++)
			CONTAINS(dal_audit_logs_at(logs, i)->new_values, "\"seen_at\"");
		dal_audit_logs_free(logs);
	}
	dal_repo_close(repo);
}

static void test_default_now_any_timestamp(void **state)
{
	check_default_now(FX(state), 0);
}

static void test_default_now_any_timestamp_audited(void **state)
{
	check_default_now(FX(state), DAL_AUDIT);
}

/* ---- DAL_SENSITIVE values and echo_params ---- */

/* A soft-delete model whose secret is unique (checked by dal itself where no partial index
 * keeps it) and sensitive. */
static const dal_column wi_account_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 20),
	DAL_COL("age", DAL_TYPE_INT, 0, 0),
	DAL_COL("token", DAL_TYPE_TEXT, DAL_SENSITIVE | DAL_UNIQUE, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
};
static const dal_model wi_accounts = DAL_MODEL("wi_accounts", wi_account_cols);

/* Every log line is scanned as it comes: how many name the secret, the name, the mark. */
typedef struct scan {
	pthread_mutex_t mu;
	int secret, name, redacted, params;
	char first_bad[512];
} scan;

static scan seen = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, "" };

static void scan_line(dal_log_level level, const char *message, void *payload)
{
	(void)level;
	(void)payload;
	pthread_mutex_lock(&seen.mu);
	if (strstr(message, "s3cret")) {
		if (!seen.secret++)
			snprintf(seen.first_bad, sizeof(seen.first_bad), "%s", message);
	}
	seen.name += strstr(message, "'ann") != NULL;
	seen.redacted += strstr(message, "[REDACTED]") != NULL;
	seen.params += strncmp(message, "params: [", 9) == 0;
	pthread_mutex_unlock(&seen.mu);
}

static int count_row(const dal_row *row, void *payload)
{
	(void)row;
	++*(int *)payload;
	return 0;
}

static void sensitive_writes(fixture *fx, dal_db *db, unsigned flags)
{
	static const char *const cols[] = { "name", "age", "token" };
	static const char *const c_token[] = { "token" };
	const dal_model *ms[1] = { &wi_accounts };
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	dal_rows *rows = NULL;
	dal_page page;
	dal_field f[] = { DAL_FIELD("name", dal_text("ann")), DAL_FIELD("age", dal_int(10)),
		DAL_FIELD("token", dal_text("s3cret_create")) };
	dal_field u[] = { DAL_FIELD("token", dal_text("s3cret_update")), DAL_FIELD("age", dal_int(11)) };
	dal_field dup[] = { DAL_FIELD("name", dal_text("ann_dup")), DAL_FIELD("token", dal_text("s3cret_update")) };
	dal_value bv[] = {
		dal_text("ann_b1"), dal_int(20), dal_text("s3cret_bulk_1"),
		dal_text("ann_b2"), dal_int(21), dal_text("s3cret_bulk_2"),
	};
	dal_value bu[] = { dal_text("s3cret_bulk_3"), dal_text("s3cret_bulk_4") };
	dal_value in[] = { dal_text("s3cret_in_1"), dal_text("s3cret_update") };
	dal_filter eq[] = { DAL_WHERE("token", DAL_OP_EQ, dal_text("s3cret_update")),
		DAL_WHERE("name", DAL_OP_LIKE, dal_text("ann%")) };
	dal_filter inf[] = { DAL_WHERE_IN("token", in, 2) };
	dal_order by_token[] = { { "token", false } };
	dal_criteria c = DAL_CRITERIA_INIT;
	int64_t ids[2], count = -1, n = -1, id;
	int each = 0;

	CHECK_OK(dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_repo_open(&repo, db, &wi_accounts, flags));
	CHECK_OK(dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	row = NULL;
	CHECK_OK(dal_repo_update(&row, repo, id, u, DAL_COUNT(u)));
	dal_row_free(row);
	row = NULL;
	CHECK_OK(dal_repo_update(NULL, repo, id, u, 1));
	/* A repeated secret is refused; the check's parameters are echoed too. */
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(NULL, repo, dup, DAL_COUNT(dup)));
	CHECK_OK(dal_repo_bulk_create(ids, repo, cols, 3, bv, 2));
	CHECK_OK(dal_repo_bulk_update(&count, repo, ids, c_token, 1, bu, 2));
	assert_int_equal(count, 2);
	c.filters = eq;
	c.nfilters = DAL_COUNT(eq);
	CHECK_OK(dal_repo_find(&rows, repo, &c));
	assert_int_equal(dal_rows_count(rows), 1);
	dal_rows_free(rows);
	rows = NULL;
	CHECK_OK(dal_repo_count(&n, repo, &c));
	assert_int_equal(n, 1);
	CHECK_OK(dal_repo_paginate(&rows, &page, repo, &c, 1, 10));
	dal_rows_free(rows);
	rows = NULL;
	CHECK_OK(dal_repo_each(repo, &c, count_row, &each));
	assert_int_equal(each, 1);
	c.filters = inf;
	c.nfilters = DAL_COUNT(inf);
	CHECK_OK(dal_repo_find(&rows, repo, &c));
	assert_int_equal(dal_rows_count(rows), 1);
	/* Keyset after a row, ordered by the secret: the row's value is a parameter too. */
	c.filters = NULL;
	c.nfilters = 0;
	c.order = by_token;
	c.norder = 1;
	c.after = dal_rows_at(rows, 0);
	CHECK_OK(dal_repo_count(&n, repo, &c));
	dal_rows_free(rows);
	CHECK_OK(dal_repo_bulk_delete(&count, repo, ids, 2, true));
	CHECK_OK(dal_repo_restore(NULL, repo, ids[0]));
	/* A nested unit rolled back: without savepoints its undo binds the old secrets again. */
	{
		dal_uow *outer = NULL, *inner = NULL;
		dal_field nu[] = { DAL_FIELD("token", dal_text("s3cret_nested")) };
		CHECK_OK(dal_uow_begin(&outer, db, NULL));
		CHECK_OK(dal_uow_begin(&inner, db, NULL));
		CHECK_OK(dal_repo_update(NULL, repo, id, nu, 1));
		CHECK_OK(dal_repo_delete(repo, ids[0], false));
		CHECK_OK(dal_uow_rollback(inner));
		CHECK_OK(dal_uow_commit(outer));
	}
	CHECK_OK(dal_repo_delete(repo, id, false));
	dal_repo_close(repo);
	(void)fx;
}

static void check_sensitive_echo(fixture *fx, unsigned flags)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;

	cfg.echo = true;
	cfg.echo_params = true;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	pthread_mutex_lock(&seen.mu);
	seen.secret = seen.name = seen.redacted = seen.params = 0;
	seen.first_bad[0] = '\0';
	pthread_mutex_unlock(&seen.mu);
	dal_log_set_handler(scan_line, NULL);
	sensitive_writes(fx, db, flags);
	dal_log_set_handler(NULL, NULL);
	dal_close(db);
	if (seen.secret)
		fail_msg("%s: %d log lines hold a DAL_SENSITIVE value, the first: %s", fx->engine, seen.secret,
			seen.first_bad);
	/* The echo is on: the other values are there, the secret ones marked. */
	assert_true(seen.params > 0);
	assert_true(seen.name > 0);
	assert_true(seen.redacted > 0);
}

static void test_sensitive_not_echoed(void **state)
{
	check_sensitive_echo(FX(state), 0);
}

static void test_sensitive_not_echoed_audited(void **state)
{
	check_sensitive_echo(FX(state), DAL_AUDIT);
}

/* deleted_at changes only through delete and restore, which keep their audit actions. */
static void test_update_cannot_set_deleted_at(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wi_users, DAL_AUDIT);
	dal_field f[] = { DAL_FIELD("name", dal_text("ann")), DAL_FIELD("email", dal_text("ann@x")) };
	dal_field del[] = { DAL_FIELD("deleted_at", dal_timestamp(dal_now())) };
	const char *const cols[] = { "deleted_at" };
	dal_value v[1] = { dal_timestamp(dal_now()) };
	dal_row *row = NULL;
	int64_t id, count = 0;

	CHECK_OK(dal_repo_create(&row, repo, f, DAL_COUNT(f)));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	row = NULL;
	CHECK_ERR(DAL_EINVAL, dal_repo_update(NULL, repo, id, del, 1));
	CHECK_MSG("deleted_at");
	CHECK_ERR(DAL_EINVAL, dal_repo_bulk_update(&count, repo, &id, cols, 1, v, 1));
	CHECK_MSG("deleted_at");
	CHECK_OK(dal_repo_get(&row, repo, id));
	dal_row_free(row);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs", NULL, 0), 1);
	dal_repo_close(repo);
}

static const dal_column wi_reading_cols[] = {
	DAL_COL_ID(), DAL_COL("v", DAL_TYPE_DOUBLE, 0, 0), DAL_COL("doc", DAL_TYPE_JSON, 0, 0),
};
static const dal_model wi_readings = DAL_MODEL("wi_readings", wi_reading_cols);

/* One rule on every engine: NaN and infinities are refused (SQLite would store NULL),
 * and a JSON column takes only JSON (SQLite would store anything). */
static void test_values_every_engine_keeps(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wi_readings, 0);
	const double bad[] = { NAN, INFINITY, -INFINITY };
	const char *const cols[] = { "v", "doc" };
	dal_value bv[2] = { dal_double(1.5), dal_json("{\"a\": [1, 2") };
	int64_t id = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("v", dal_double(bad[i])) }, 1));
		CHECK_MSG("wi_readings.v");
	}
	CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("doc", dal_json("not json")) }, 1));
	CHECK_MSG("not JSON");
	CHECK_ERR(DAL_EINVAL, dal_repo_bulk_create(&id, repo, cols, 2, bv, 1));
	CHECK_MSG("row 0");
	bv[0] = dal_double(NAN);
	bv[1] = dal_json("[]");
	CHECK_ERR(DAL_EINVAL, dal_repo_bulk_create(&id, repo, cols, 2, bv, 1));
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM wi_readings", NULL, 0), 0);
	/* A document nested deeper than dal's JSON parser goes (2,048) is refused the same
	 * everywhere; through raw SQL, PostgreSQL's own limit is a bad request too, not a server error. */
	{
		size_t depth = 200000, k;
		char *deep = malloc(depth * 2 + 1);
		dal_value p;
		for (k = 0; k < depth; k++) {
			deep[k] = '[';
			deep[depth * 2 - 1 - k] = ']';
		}
		deep[depth * 2] = '\0';
		CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("doc", dal_json(deep)) }, 1));
		CHECK_MSG("depth");
		p = dal_text(deep);
		if (fx_is(fx, "postgres"))
			CHECK_ERR(DAL_EINVAL, dal_exec(NULL, fx->db, "SELECT ?::jsonb", &p, 1));
		free(deep);
	}
	/* Finite numbers and any JSON value, scalars included, go in. */
	CHECK_OK(dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("v", dal_double(-0.0)),
		DAL_FIELD("doc", dal_json("\"text\"")) }, 2));
	dal_repo_close(repo);
}

FX_CASES(cases_write_input,
	FX_CASE(test_values_every_engine_keeps),
	FX_CASE(test_update_cannot_set_deleted_at),
	FX_CASE(test_bulk_create_given_ids_in_input_order),
	FX_CASE(test_default_now_any_timestamp),
	FX_CASE(test_default_now_any_timestamp_audited),
	FX_CASE(test_sensitive_not_echoed),
	FX_CASE(test_sensitive_not_echoed_audited),
);
