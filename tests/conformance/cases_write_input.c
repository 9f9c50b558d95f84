/* What the write path does with its input: ids in input order, DAL_DEFAULT_NOW on any
 * timestamp column. */
#include "conformance/fixture.h"

#include <stdlib.h>

/* ---- bulk create with the caller's ids ---- */

static const dal_column wi_user_cols[] = { FX_USER_COLUMNS };
static const dal_model wi_users = DAL_MODEL("wi_users", wi_user_cols);

/* The one audit row of `action` for wi_users row `id`; owned by the caller. */
static dal_audit_logs *audit_of(fixture *fx, const char *action, int64_t id)
{
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_audit_logs *logs = NULL;

	f.resource_type = "wi_users";
	f.action = action;
	f.resource_id = id;
	f.has_resource_id = true;
	CHECK_OK(dal_audit_query(&logs, fx->db, &f));
	assert_int_equal(dal_audit_logs_count(logs), 1);
	return logs;
}

#define CONTAINS(hay, needle) \
	do { if (!(hay) || !strstr((hay), (needle))) fail_msg("\"%s\" does not contain \"%s\"", \
		(hay) ? (hay) : "(null)", (needle)); } while (0)
#define LACKS(hay, needle) \
	do { if ((hay) && strstr((hay), (needle))) fail_msg("\"%s\" contains \"%s\"", (hay), (needle)); } while (0)

/* Each audit row of `action` on the ids 500 and 300 records its own row, named u<id>. */
static void assert_audit_own_row(fixture *fx, const char *action, bool old_values)
{
	static const int64_t ids[] = { 500, 300 };
	size_t i;

	for (i = 0; i < 2; i++) {
		dal_audit_logs *logs = audit_of(fx, action, ids[i]);
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

FX_CASES(cases_write_input,
	FX_CASE(test_bulk_create_given_ids_in_input_order),
	FX_CASE(test_default_now_any_timestamp),
	FX_CASE(test_default_now_any_timestamp_audited),
);
