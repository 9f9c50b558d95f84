/* The scenario of the out-of-memory sweep: one step per public call (see oom_sweep.c). */
#include "stress/oom_sweep.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dal_model *const models[] = { &oom_users, &oom_plain };
static const char meta_json[] = "{\"k\":[1,2,{\"a\":\"b\"}],\"s\":\"x\"}";

/* ---- uninjected helpers ---- */

static int64_t score_of(int64_t seq) { return seq % 97; }

/* A new user, uninjected; the mirror follows. 0 on failure. */
int64_t oom_make_user(sweep *s, dal_repo *repo)
{
	char name[48], email[64];
	int64_t seq = ++s->seq, id;
	dal_row *row = NULL;

	snprintf(name, sizeof(name), "p%lld", (long long)seq);
	snprintf(email, sizeof(email), "p%lld@x.org", (long long)seq);
	dal_field f[] = {
		DAL_FIELD("name", dal_text(name)), DAL_FIELD("email", dal_text(email)),
		DAL_FIELD("score", dal_int(score_of(seq))), DAL_FIELD("meta", dal_json(meta_json)),
		DAL_FIELD("token", dal_text("s3cret")),
	};
	if (dal_repo_create(&row, repo ? repo : s->users, f, DAL_COUNT(f)) != 0)
		return 0;
	id = dal_row_int(row, "id");
	dal_row_free(row);
	mirror_add(s, id, name, score_of(seq));
	return id;
}

static bool live(const sweep *s, int64_t id)
{
	return id > 0 && id < OOM_MAX_ID && s->rows[id].present && !s->rows[id].deleted;
}

static void free_outputs(sweep *s)
{
	dal_row_free(s->row);
	dal_rows_free(s->list);
	dal_result_free(s->res);
	dal_audit_logs_free(s->logs);
	dal_string_free(s->text);
	s->row = NULL;
	s->list = NULL;
	s->res = NULL;
	s->logs = NULL;
	s->text = NULL;
}

static bool no_outputs(sweep *s)
{
	return !s->row && !s->list && !s->res && !s->logs && !s->text;
}

/* ---- schema and handles ---- */

static int call_init(sweep *s) { return dal_init_database(s->db, models, 2, DAL_AUTO_MIGRATE); }

static dal_repo *opened;
static int call_repo_open(sweep *s) { return dal_repo_open(&opened, s->db, &oom_users, DAL_AUDIT | DAL_CACHE); }
static int check_repo_open(sweep *s) { (void)s; return opened ? 0 : -1; }
static bool repo_open_null(sweep *s) { (void)s; return opened == NULL; }
static void close_opened(sweep *s) { (void)s; dal_repo_close(opened); opened = NULL; }

static int call_set_context(sweep *s)
{
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;

	ctx.user_id = "oom-user";
	ctx.session_id = "oom-session";
	ctx.correlation_id = "oom-correlation";
	ctx.ip_address = "127.0.0.1";
	ctx.user_agent = "oom_sweep";
	return dal_repo_set_context(s->users, &ctx);
}

static int call_row_new(sweep *s)
{
	dal_value v = dal_text("hello");
	int rc;

	if ((rc = dal_row_new(&s->row, &oom_users)) < 0)
		return rc;
	if ((rc = dal_row_set(s->row, "name", &v)) < 0) {
		dal_row_free(s->row);
		s->row = NULL;
	}
	return rc;
}
static int check_row_new(sweep *s) { return s->row && strcmp(dal_row_text(s->row, "name"), "hello") == 0 ? 0 : -1; }

/* ---- single-row writes ---- */

static char new_name[48];
static int64_t new_score;

static int call_create(sweep *s)
{
	char email[64];

	snprintf(new_name, sizeof(new_name), "c%lld", (long long)(s->seq + 1));
	snprintf(email, sizeof(email), "c%lld@x.org", (long long)(s->seq + 1));
	new_score = score_of(s->seq + 1);
	dal_field f[] = {
		DAL_FIELD("name", dal_text(new_name)), DAL_FIELD("email", dal_text(email)),
		DAL_FIELD("score", dal_int(new_score)), DAL_FIELD("meta", dal_json(meta_json)),
		DAL_FIELD("token", dal_text("s3cret")),
	};
	return dal_repo_create(&s->row, s->users, f, DAL_COUNT(f));
}
static void apply_create(sweep *s)
{
	s->seq++;
	if (!s->row)
		return;
	s->target = dal_row_int(s->row, "id");
	mirror_add(s, s->target, new_name, new_score);
}
static int check_create(sweep *s)
{
	return s->row && strcmp(dal_row_text(s->row, "name"), new_name) == 0 &&
	       dal_row_int(s->row, "score") == new_score && dal_row_int(s->row, "id") > 0 &&
	       !dal_row_is_null(s->row, "created_at") ? 0 : -1;
}

static int call_create_plain(sweep *s)
{
	dal_field f[] = { DAL_FIELD("label", dal_text("plain")), DAL_FIELD("n", dal_int(2)) };
	return dal_repo_create(NULL, s->plain, f, DAL_COUNT(f));
}
static void apply_plain(sweep *s) { s->plain_rows++; s->plain_sum += 2; }

static int prep_live(sweep *s)
{
	if (!live(s, s->target))
		s->target = oom_make_user(s, NULL);
	return s->target > 0 ? 0 : -1;
}

static int prep_invalidate(sweep *s)
{
	if (prep_live(s) != 0)
		return -1;
	return dal_repo_invalidate(s->users, s->target);
}

static int prep_cached(sweep *s)
{
	dal_row *row = NULL;
	int rc;

	if (prep_live(s) != 0)
		return -1;
	rc = dal_repo_get(&row, s->users, s->target);
	dal_row_free(row);
	return rc;
}

static int call_get(sweep *s) { return dal_repo_get(&s->row, s->users, s->target); }
static int check_get(sweep *s)
{
	const urow *r = &s->rows[s->target];
	return s->row && strcmp(dal_row_text(s->row, "name"), r->name) == 0 && dal_row_int(s->row, "score") == r->score
	       ? 0 : -1;
}

static int64_t update_no;
static int call_update(sweep *s)
{
	snprintf(new_name, sizeof(new_name), "u%lld", (long long)++update_no);
	new_score = update_no % 89;
	dal_field f[] = { DAL_FIELD("name", dal_text(new_name)), DAL_FIELD("score", dal_int(new_score)) };
	return dal_repo_update(&s->row, s->users, s->target, f, DAL_COUNT(f));
}
static void apply_update(sweep *s)
{
	urow *r = &s->rows[s->target];

	snprintf(r->name, sizeof(r->name), "%s", new_name);
	r->score = new_score;
	r->naudit++;
	s->audit_rows++;
}
static int check_update(sweep *s)
{
	return s->row && strcmp(dal_row_text(s->row, "name"), new_name) == 0 ? 0 : -1;
}

static int prep_fresh(sweep *s)
{
	s->target = oom_make_user(s, NULL);
	return s->target > 0 ? 0 : -1;
}

static int prep_deleted(sweep *s)
{
	if (prep_fresh(s) != 0 || dal_repo_delete(s->users, s->target, true) != 0)
		return -1;
	s->rows[s->target].deleted = true;
	s->rows[s->target].naudit++;
	s->audit_rows++;
	return 0;
}

static void audited(sweep *s)
{
	s->rows[s->target].naudit++;
	s->audit_rows++;
}

static int call_soft_delete(sweep *s) { return dal_repo_delete(s->users, s->target, true); }
static void apply_soft_delete(sweep *s) { s->rows[s->target].deleted = true; audited(s); }
static int call_restore(sweep *s) { return dal_repo_restore(NULL, s->users, s->target); }
static void apply_restore(sweep *s) { s->rows[s->target].deleted = false; audited(s); }
static int call_hard_delete(sweep *s) { return dal_repo_delete(s->users, s->target, false); }
static void apply_hard_delete(sweep *s) { s->rows[s->target].present = false; s->audit_rows++; }

/* ---- reads ---- */

static size_t live_ids(const sweep *s, int64_t *out, size_t cap, bool desc)
{
	size_t k = 0;
	int64_t id;

	for (id = desc ? s->max_id : 1; desc ? id > 0 : id <= s->max_id; id += desc ? -1 : 1)
		if (live(s, id)) {
			if (k < cap)
				out[k] = id;
			k++;
		}
	return k;
}

static int call_find(sweep *s)
{
	dal_filter f[] = { DAL_WHERE("score", DAL_OP_GE, dal_int(0)) };
	dal_order o[] = { { "id", true } };
	dal_criteria c = DAL_CRITERIA_INIT;

	c.filters = f;
	c.nfilters = 1;
	c.order = o;
	c.norder = 1;
	c.limit = 5;
	return dal_repo_find(&s->list, s->users, &c);
}
static int check_find(sweep *s)
{
	int64_t want[5];
	size_t n = live_ids(s, want, 5, true), i;

	n = n > 5 ? 5 : n;
	if (dal_rows_count(s->list) != n)
		return -1;
	for (i = 0; i < n; i++) {
		const dal_row *r = dal_rows_at(s->list, i);
		if (dal_row_int(r, "id") != want[i] || strcmp(dal_row_text(r, "name"), s->rows[want[i]].name) != 0)
			return -1;
	}
	return 0;
}

static int call_paginate(sweep *s) { return dal_repo_paginate(&s->list, &s->page, s->users, NULL, 2, 3); }
static int check_paginate(sweep *s)
{
	static int64_t all[OOM_MAX_ID];
	size_t n = live_ids(s, all, OOM_MAX_ID, false), i, want = n > 3 ? (n - 3 > 3 ? 3 : n - 3) : 0;

	if (s->page.total != (int64_t)n || s->page.page != 2 || dal_rows_count(s->list) != want)
		return -1;
	for (i = 0; i < want; i++)
		if (dal_row_int(dal_rows_at(s->list, i), "id") != all[3 + i])
			return -1;
	return 0;
}

static int call_count(sweep *s)
{
	dal_filter f[] = { DAL_WHERE("score", DAL_OP_GE, dal_int(50)) };
	dal_criteria c = DAL_CRITERIA_INIT;

	c.filters = f;
	c.nfilters = 1;
	return dal_repo_count(&s->count, s->users, &c);
}
static int check_count(sweep *s)
{
	int64_t id, n = 0;

	for (id = 1; id <= s->max_id; id++)
		n += live(s, id) && s->rows[id].score >= 50;
	return s->count == n ? 0 : -1;
}

static int call_exists(sweep *s) { return dal_repo_exists(&s->flag, s->users, s->target, false); }
static int check_exists(sweep *s) { return s->flag == live(s, s->target) ? 0 : -1; }

/* Called while the countdown is armed: it must not allocate. */
static int count_row(const dal_row *row, void *payload)
{
	(void)row;
	((sweep *)payload)->count++;
	return 0;
}
static int call_each(sweep *s)
{
	dal_criteria c = DAL_CRITERIA_INIT;

	c.limit = 10;
	s->count = 0;
	return dal_repo_each(s->users, &c, count_row, s);
}
static int check_each(sweep *s)
{
	int64_t ids[1];
	size_t n = live_ids(s, ids, 0, false);
	return s->count == (int64_t)(n > 10 ? 10 : n) ? 0 : -1;
}

/* ---- bulk ---- */

#define BULK 6
static const char *const bulk_cols[] = { "name", "email", "score", "meta", "token" };
static char bulk_names[BULK][48], bulk_emails[BULK][64];
static dal_value bulk_vals[BULK * 5];

static void bulk_values(sweep *s, size_t n, const char *prefix)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t seq = s->seq + 1 + (int64_t)i;
		snprintf(bulk_names[i], sizeof(bulk_names[i]), "%s%lld", prefix, (long long)seq);
		snprintf(bulk_emails[i], sizeof(bulk_emails[i]), "%s%lld@x.org", prefix, (long long)seq);
		bulk_vals[i * 5 + 0] = dal_text(bulk_names[i]);
		bulk_vals[i * 5 + 1] = dal_text(bulk_emails[i]);
		bulk_vals[i * 5 + 2] = dal_int(score_of(seq));
		bulk_vals[i * 5 + 3] = dal_json(meta_json);
		bulk_vals[i * 5 + 4] = dal_text("s3cret");
	}
}

static void bulk_mirror(sweep *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mirror_add(s, s->ids[i], bulk_names[i], score_of(s->seq + 1 + (int64_t)i));
	s->seq += (int64_t)n;
}

static int call_bulk_create(sweep *s)
{
	memset(s->ids, 0, sizeof(s->ids));
	bulk_values(s, BULK, "b");
	return dal_repo_bulk_create(s->ids, s->users, bulk_cols, 5, bulk_vals, BULK);
}
static void apply_bulk_create(sweep *s) { bulk_mirror(s, BULK); s->target = s->ids[0]; }
static int check_bulk_create(sweep *s)
{
	size_t i;

	for (i = 0; i < BULK; i++)
		if (s->ids[i] <= 0 || (i && s->ids[i] == s->ids[i - 1]))
			return -1;
	return 0;
}

/* Three fresh rows, uninjected, their ids in s->ids. */
static int prep_three(sweep *s)
{
	bulk_values(s, 3, "q");
	if (dal_repo_bulk_create(s->ids, s->users, bulk_cols, 5, bulk_vals, 3) != 0)
		return -1;
	bulk_mirror(s, 3);
	s->target = s->ids[0];
	return 0;
}

static dal_value upd_vals[3 * 2];
static char upd_names[3][40];
static int call_bulk_update(sweep *s)
{
	static const char *const cols[] = { "name", "score" };
	size_t i;

	update_no++;
	for (i = 0; i < 3; i++) {
		snprintf(upd_names[i], sizeof(upd_names[i]), "v%lld_%zu", (long long)update_no, i);
		upd_vals[i * 2] = dal_text(upd_names[i]);
		upd_vals[i * 2 + 1] = dal_int((int64_t)(update_no % 50) + (int64_t)i);
	}
	s->count = -1;
	return dal_repo_bulk_update(&s->count, s->users, s->ids, cols, 2, upd_vals, 3);
}
static void apply_bulk_update(sweep *s)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		urow *r = &s->rows[s->ids[i]];
		snprintf(r->name, sizeof(r->name), "%.40s", upd_names[i]);
		r->score = upd_vals[i * 2 + 1].v.i;
		r->naudit++;
		s->audit_rows++;
	}
}
static int check_three(sweep *s) { return s->count == 3 ? 0 : -1; }

static int call_bulk_soft(sweep *s) { s->count = -1; return dal_repo_bulk_delete(&s->count, s->users, s->ids, 3, true); }
static int call_bulk_hard(sweep *s) { s->count = -1; return dal_repo_bulk_delete(&s->count, s->users, s->ids, 3, false); }
static void apply_bulk_delete(sweep *s, bool soft)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		urow *r = &s->rows[s->ids[i]];
		if (soft) {
			r->deleted = true;
			r->naudit++;
		} else {
			r->present = false;
		}
		s->audit_rows++;
	}
}
static void apply_bulk_soft(sweep *s) { apply_bulk_delete(s, true); }
static void apply_bulk_hard(sweep *s) { apply_bulk_delete(s, false); }

/* ---- dal_run_tx ---- */

static char tx_name[48];
static int64_t tx_id;
static int tx_work(dal_uow *uow, void *payload)
{
	sweep *s = payload;
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	char email[64];
	int rc;

	snprintf(tx_name, sizeof(tx_name), "t%lld", (long long)(s->seq + 1));
	snprintf(email, sizeof(email), "t%lld@x.org", (long long)(s->seq + 1));
	dal_field f[] = { DAL_FIELD("name", dal_text("pending")), DAL_FIELD("email", dal_text(email)),
	                  DAL_FIELD("score", dal_int(7)) };
	dal_field g[] = { DAL_FIELD("name", dal_text(tx_name)) };
	if ((rc = dal_uow_repo(&repo, uow, &oom_users, DAL_AUDIT | DAL_CACHE)) < 0)
		return rc;
	if ((rc = dal_repo_create(&row, repo, f, DAL_COUNT(f))) == 0) {
		tx_id = dal_row_int(row, "id");
		rc = dal_repo_update(NULL, repo, tx_id, g, DAL_COUNT(g));
	}
	dal_row_free(row);
	dal_repo_close(repo);
	return rc;
}
static int call_run_tx(sweep *s) { tx_id = 0; return dal_run_tx(s->db, NULL, tx_work, s); }
static void apply_run_tx(sweep *s)
{
	s->seq++;
	mirror_add(s, tx_id, tx_name, 7);
	s->rows[tx_id].naudit = 2;
	s->audit_rows++;
	s->target = tx_id;
}

/* ---- raw SQL ---- */

static int call_exec(sweep *s)
{
	dal_value p[] = { dal_text("raw"), dal_int(2) };
	s->count = -1;
	return dal_exec(&s->count, s->db, "INSERT INTO oom_plain (label, n) VALUES (?, ?)", p, 2);
}
static int check_one(sweep *s) { return s->count == 1 ? 0 : -1; }

static int call_query(sweep *s) { return dal_query(&s->res, s->db, "SELECT id, label, n FROM oom_plain ORDER BY id", NULL, 0); }
static int check_query(sweep *s)
{
	return dal_result_rows(s->res) == (size_t)s->plain_rows && dal_result_columns(s->res) == 3 &&
	       strcmp(dal_result_column_name(s->res, 1), "label") == 0 ? 0 : -1;
}

static int count_values(const dal_value *values, const char *const *names, size_t ncolumns, void *payload)
{
	(void)values;
	(void)names;
	(void)ncolumns;
	((sweep *)payload)->count++;
	return 0;
}
static int call_query_each(sweep *s)
{
	s->count = 0;
	return dal_query_each(s->db, "SELECT n FROM oom_plain", NULL, 0, count_values, s);
}
static int check_query_each(sweep *s) { return s->count == s->plain_rows ? 0 : -1; }

static int call_invalidate(sweep *s) { return dal_repo_invalidate(s->users, s->target); }
static int call_invalidate_all(sweep *s) { return dal_repo_invalidate_all(s->users); }

/* ---- audit, metrics, health ---- */

static int call_audit_query(sweep *s)
{
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;

	f.resource_type = "oom_users";
	f.resource_id = s->target;
	f.has_resource_id = true;
	return dal_audit_query(&s->logs, s->db, &f);
}
static int check_audit_count(sweep *s)
{
	return (int64_t)dal_audit_logs_count(s->logs) == s->rows[s->target].naudit ? 0 : -1;
}

static int call_history(sweep *s) { return dal_repo_history(&s->logs, s->users, s->target); }
static int check_history(sweep *s)
{
	const dal_audit_log *first = dal_audit_logs_at(s->logs, 0);

	return check_audit_count(s) == 0 && first && strcmp(first->action, "CREATE") == 0 ? 0 : -1;
}

static int call_as_of(sweep *s) { return dal_repo_get_as_of(&s->row, s->users, s->target, dal_now()); }

static int call_verify(sweep *s)
{
	memset(&s->report, 0, sizeof(s->report));
	return dal_audit_verify(&s->report, s->db);
}
static int check_verify(sweep *s)
{
	if (!s->report.ok)
		fprintf(stderr, "    audit chain: row %lld: %s\n", (long long)s->report.bad_id, s->report.reason);
	return s->report.ok && s->report.rows_checked == s->audit_rows ? 0 : -1;
}

static int call_metrics(sweep *s)
{
	dal_metrics m = DAL_METRICS_INIT;
	int rc = dal_metrics_get(&m, s->db);

	s->count = (int64_t)m.query_count;
	return rc;
}
static int check_positive(sweep *s) { return s->count > 0 ? 0 : -1; }
static int call_metrics_reset(sweep *s) { return dal_metrics_reset(s->db); }
static int call_metrics_json(sweep *s) { return dal_metrics_json(&s->text, s->db); }
static int call_prometheus(sweep *s) { return dal_metrics_prometheus(&s->text, s->db); }
static int call_health_json(sweep *s) { return dal_health_json(&s->text, s->db); }

static int check_json(sweep *s)
{
	json_error_t e = { 0 };
	json_t *doc = s->text ? json_loads(s->text, 0, &e) : NULL;
	int ok = json_is_object(doc);

	if (!ok)
		fprintf(stderr, "    not a JSON object (%s at %d): %.300s\n", e.text, e.position, s->text ? s->text : "(null)");
	json_decref(doc);
	return ok ? 0 : -1;
}
static int check_prometheus(sweep *s)
{
	size_t n = s->text ? strlen(s->text) : 0;
	return n && strstr(s->text, "dal_db_client_operation_duration_seconds") && s->text[n - 1] == '\n' ? 0 : -1;
}

static int call_pool_status(sweep *s)
{
	dal_pool_status p;
	int rc = dal_pool_status_get(&p, s->db);

	s->count = p.max;
	return rc;
}

/* An unhealthy database is a report, not an error: under an injected failure the
 * report may say unhealthy, but then with the failure's code and message. */
static int call_health(sweep *s)
{
	dal_health h = DAL_HEALTH_INIT;
	int rc = dal_health_check(&h, s->db);

	s->flag = h.healthy && h.connection_ok && h.error_code == 0;
	s->count = !h.healthy && h.error_code < 0 && h.error[0];
	return rc;
}
static int check_health(sweep *s) { return s->flag || (s->hit && s->count) ? 0 : -1; }

/* Everything older than now goes. */
static int64_t cleanup_before;
static int prep_cleanup(sweep *s)
{
	fingerprint f;

	if (oom_read_fingerprint(s, &f) != 0)
		return -1;
	cleanup_before = f.audit;
	return 0;
}
static int call_audit_cleanup(sweep *s)
{
	s->count = 0;
	return dal_audit_cleanup(&s->count, s->db, 0);
}
static int check_cleanup(sweep *s)
{
	fingerprint f;
	dal_audit_report rep;
	int rc;

	if (oom_read_fingerprint(s, &f) != 0 || f.audit != cleanup_before - s->count)
		return -1;
	if ((rc = dal_audit_verify(&rep, s->db)) != 0 || !rep.ok) {
		fprintf(stderr, "    after cleanup the chain fails: %d %s\n", rc, rep.reason);
		return -1;
	}
	return 0;
}
static void apply_cleanup(sweep *s)
{
	int64_t id;

	s->audit_rows -= s->count;
	if (s->audit_rows == 0)
		for (id = 1; id <= s->max_id; id++)
			s->rows[id].naudit = 0;
}

static const step early[] = {
	{ "dal_init_database(new)", NULL, call_init, NULL, NULL, NULL, NULL, STEP_NO_VERIFY },
	{ "dal_init_database(again)", NULL, call_init, NULL, NULL, NULL, NULL, 0 },
	{ "dal_repo_open", NULL, call_repo_open, NULL, check_repo_open, repo_open_null, close_opened, 0 },
};

static const step middle[] = {
	{ "dal_repo_set_context", NULL, call_set_context, NULL, NULL, NULL, NULL, 0 },
	{ "dal_row_new+set", NULL, call_row_new, NULL, check_row_new, no_outputs, free_outputs, 0 },
	{ "dal_repo_create", NULL, call_create, apply_create, check_create, no_outputs, free_outputs, 0 },
	{ "dal_repo_create(unaudited)", NULL, call_create_plain, apply_plain, NULL, NULL, NULL, STEP_MAY_STAND },
	{ "dal_repo_get(cache miss)", prep_invalidate, call_get, NULL, check_get, no_outputs, free_outputs, STEP_PREP_ALWAYS },
	{ "dal_repo_get(cache hit)", prep_cached, call_get, NULL, check_get, no_outputs, free_outputs, STEP_PREP_ALWAYS },
	{ "dal_repo_find", NULL, call_find, NULL, check_find, no_outputs, free_outputs, 0 },
	{ "dal_repo_paginate", NULL, call_paginate, NULL, check_paginate, no_outputs, free_outputs, 0 },
	{ "dal_repo_count", NULL, call_count, NULL, check_count, NULL, NULL, 0 },
	{ "dal_repo_exists", prep_live, call_exists, NULL, check_exists, NULL, NULL, 0 },
	{ "dal_repo_each", NULL, call_each, NULL, check_each, NULL, NULL, 0 },
	{ "dal_repo_update", prep_live, call_update, apply_update, check_update, no_outputs, free_outputs, 0 },
	{ "dal_repo_delete(soft)", prep_fresh, call_soft_delete, apply_soft_delete, NULL, NULL, NULL, 0 },
	{ "dal_repo_restore", prep_deleted, call_restore, apply_restore, NULL, NULL, NULL, 0 },
	{ "dal_repo_delete(hard)", prep_fresh, call_hard_delete, apply_hard_delete, NULL, NULL, NULL, 0 },
	{ "dal_repo_bulk_create", NULL, call_bulk_create, apply_bulk_create, check_bulk_create, NULL, NULL, 0 },
	{ "dal_repo_bulk_update", prep_three, call_bulk_update, apply_bulk_update, check_three, NULL, NULL, 0 },
	{ "dal_repo_bulk_delete(soft)", prep_three, call_bulk_soft, apply_bulk_soft, check_three, NULL, NULL, 0 },
	{ "dal_repo_bulk_delete(hard)", prep_three, call_bulk_hard, apply_bulk_hard, check_three, NULL, NULL, 0 },
	{ "dal_run_tx", NULL, call_run_tx, apply_run_tx, NULL, NULL, NULL, 0 },
	{ "dal_exec", NULL, call_exec, apply_plain, check_one, NULL, NULL, 0 },
	{ "dal_query", NULL, call_query, NULL, check_query, no_outputs, free_outputs, 0 },
	{ "dal_query_each", NULL, call_query_each, NULL, check_query_each, NULL, NULL, 0 },
	{ "dal_repo_invalidate", prep_cached, call_invalidate, NULL, NULL, NULL, NULL, STEP_PREP_ALWAYS },
	{ "dal_repo_invalidate_all", prep_cached, call_invalidate_all, NULL, NULL, NULL, NULL, STEP_PREP_ALWAYS },
};

static const step late[] = {
	{ "dal_audit_query", prep_live, call_audit_query, NULL, check_audit_count, no_outputs, free_outputs, 0 },
	{ "dal_repo_history", prep_live, call_history, NULL, check_history, no_outputs, free_outputs, 0 },
	{ "dal_repo_get_as_of", prep_live, call_as_of, NULL, check_get, no_outputs, free_outputs, 0 },
	{ "dal_audit_verify", NULL, call_verify, NULL, check_verify, NULL, NULL, 0 },
	{ "dal_metrics_get", NULL, call_metrics, NULL, check_positive, NULL, NULL, 0 },
	{ "dal_metrics_json", NULL, call_metrics_json, NULL, check_json, no_outputs, free_outputs, 0 },
	{ "dal_metrics_prometheus", NULL, call_prometheus, NULL, check_prometheus, no_outputs, free_outputs, 0 },
	{ "dal_pool_status_get", NULL, call_pool_status, NULL, check_positive, NULL, NULL, 0 },
	{ "dal_health_check", NULL, call_health, NULL, check_health, NULL, NULL, 0 },
	{ "dal_health_json", NULL, call_health_json, NULL, check_json, no_outputs, free_outputs, 0 },
	{ "dal_metrics_reset", NULL, call_metrics_reset, NULL, NULL, NULL, NULL, 0 },
	{ "dal_audit_cleanup", prep_cleanup, call_audit_cleanup, apply_cleanup, check_cleanup, NULL, NULL,
	  STEP_CHECK_ERROR | STEP_PREP_ALWAYS },
	{ "dal_audit_verify(after cleanup)", NULL, call_verify, NULL, check_verify, NULL, NULL, 0 },
};

static const char **names_out;
static int names_cap;

void oom_run_list(sweep *s, const step *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s->step_no < names_cap)
			names_out[s->step_no] = list[i].name;
		oom_run_step(s, &list[i]);
	}
}

void oom_run_steps(sweep *s, const char **names, int cap)
{
	names_out = names;
	names_cap = cap;
	if (s->step_no < cap)
		names[0] = "dal_open";
	oom_run_list(s, early, sizeof(early) / sizeof(early[0]));
	if (dal_repo_open(&s->users, s->db, &oom_users, DAL_AUDIT | DAL_CACHE) != 0 ||
	    dal_repo_open(&s->plain, s->db, &oom_plain, 0) != 0) {
		oom_fail(s, &s->fig.broken, "cannot open the repositories");
		return;
	}
	oom_run_list(s, middle, sizeof(middle) / sizeof(middle[0]));
}

void oom_run_late_steps(sweep *s)
{
	oom_run_list(s, late, sizeof(late) / sizeof(late[0]));
	oom_run_migrate_steps(s);
	if (s->step_no < names_cap)
		names_out[s->step_no] = "dal_close";
}

/* A dal_db with rows, a cached row, statements cached and metrics: what dal_close frees. */
int oom_busy_db(sweep *s)
{
	dal_row *row = NULL;
	int64_t id;
	int rc;

	if ((rc = dal_open(&s->db, s->url, &s->cfg)) != 0)
		return rc;
	if ((rc = dal_init_database(s->db, models, 2, DAL_AUTO_MIGRATE)) != 0 ||
	    (rc = dal_repo_open(&s->users, s->db, &oom_users, DAL_AUDIT | DAL_CACHE)) != 0)
		goto fail;
	if ((id = oom_make_user(s, s->users)) == 0 || (rc = dal_repo_get(&row, s->users, id)) != 0)
		goto fail;
	dal_row_free(row);
	dal_repo_close(s->users);
	s->users = NULL;
	return 0;
fail:
	dal_repo_close(s->users);
	s->users = NULL;
	dal_close(s->db);
	s->db = NULL;
	return rc ? rc : -1;
}
