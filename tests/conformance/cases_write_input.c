/* What the write path does with its input: ids in input order. */
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

FX_CASES(cases_write_input,
	FX_CASE(test_bulk_create_given_ids_in_input_order),
);
