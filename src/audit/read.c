/* Reading the audit trail: query, history, as-of, verify, cleanup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "conn.h"
#include "repo/repo.h"
#include "util/fault.h"

#define CLEANUP_BATCH 5000

struct dal_audit_logs {
	dal_audit_log *items;
	size_t n, cap;
};

static void entry_free(dal_audit_log *e)
{
	free((char *)e->user_id);
	free((char *)e->action);
	free((char *)e->resource_type);
	free((char *)e->old_values);
	free((char *)e->new_values);
	free((char *)e->session_id);
	free((char *)e->correlation_id);
	free((char *)e->ip_address);
	free((char *)e->user_agent);
	free((char *)e->prev_hash);
	free((char *)e->row_hash);
	memset(e, 0, sizeof(*e));
}

void dal_audit_logs_free(dal_audit_logs *logs)
{
	size_t i;

	if (!logs)
		return;
	for (i = 0; i < logs->n; i++)
		entry_free(&logs->items[i]);
	free(logs->items);
	free(logs);
}

size_t dal_audit_logs_count(const dal_audit_logs *logs)
{
	return logs ? logs->n : 0;
}

const dal_audit_log *dal_audit_logs_at(const dal_audit_logs *logs, size_t i)
{
	if (!logs || i >= logs->n) {
		dal__error(DAL_EINVAL, "audit log index %zu out of range (%zu entries)", i, logs ? logs->n : 0);
		return NULL;
	}
	return &logs->items[i];
}

/* ---- one row ---- */

static int int_of(int64_t *out, const dal_value *v)
{
	if (v->type == DAL_TYPE_INT)
		*out = v->v.i;
	else if (v->type == DAL_TYPE_DOUBLE)
		*out = (int64_t)v->v.d;
	else
		return -1;
	return 0;
}

static int text_of(const char **out, const dal_value *v)
{
	*out = NULL;
	if (v->type == DAL_TYPE_NULL)
		return 0;
	if (v->type != DAL_TYPE_TEXT && v->type != DAL_TYPE_JSON && v->type != DAL_TYPE_BLOB)
		return dal__error(DAL_EINVAL, "audit trail: a text column holds a %s", dal_type_name(v->type));
	if (!(*out = dal__strndup(v->len ? v->v.s : "", v->len)))
		return DAL_ENOMEM;
	return 0;
}

/* A timestamp column: SQLite keeps timestamps as ISO-8601 text. Anything else leaves *out as it is. */
static int ts_of(int64_t *out, const dal_value *v)
{
	char buf[64];

	if (v->type == DAL_TYPE_TIMESTAMP)
		*out = v->v.ts;
	else if (v->type == DAL_TYPE_TEXT) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(v->len < 63 ? v->len : 63), v->v.s);
		return dal_timestamp_parse(out, buf);
	}
	return 0;
}

/* The current row of a SELECT of the columns (dal__sql_audit_columns) into `e`, with owned strings. */
static int entry_read(dal_audit_log *e, dal_stmt *stmt)
{
	const char **texts[] = { NULL, &e->user_id, &e->action, &e->resource_type, NULL, &e->old_values,
		&e->new_values, NULL, &e->session_id, &e->correlation_id, &e->ip_address, &e->user_agent,
		&e->prev_hash, &e->row_hash };
	dal_value v;
	int i, error = 0;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < DAL__AUDIT_NCOLS && error == 0; i++) {
		if ((error = stmt->conn->drv->column(stmt, i, &v)) < 0)
			break;
		if (texts[i])
			error = text_of(texts[i], &v);
		else if (i == 7)
			error = ts_of(&e->timestamp, &v);
		else if (v.type != DAL_TYPE_NULL && int_of(i == 0 ? &e->id : &e->resource_id, &v) < 0)
			error = dal__error(DAL_EINVAL, "audit trail: an integer column holds a %s", dal_type_name(v.type));
	}
	if (error < 0)
		entry_free(e);
	return error;
}

static int logs_push(dal_audit_logs *l, dal_audit_log *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		dal_audit_log *p = realloc(l->items, cap * sizeof(*p));
		if (!p)
			return dal__error_nomem();
		l->items = p;
		l->cap = cap;
	}
	l->items[l->n++] = *e;
	return 0;
}

/* One row of a SELECT of the columns into the logs. */
static int collect_row(dal_stmt *stmt, void *payload)
{
	dal_audit_log e;
	int error;

	if ((error = entry_read(&e, stmt)) < 0)
		return error;
	if ((error = logs_push(payload, &e)) < 0)
		entry_free(&e);
	return error;
}

/* Run a SELECT of the columns on the session and collect its rows. */
static int collect(dal_audit_logs *l, dal_session *s, const char *sql, const dal_value *p, size_t n)
{
	return dal__conn_each(s->conn, sql, 0, p, n, NULL, collect_row, l);
}

/* A session for reading the trail; inside a unit of work, its held audit rows are
 * written first, so that it reads its own changes as it reads its own rows. */
static int open_session(dal_session *s, dal_db *db, dal_repo *repo, unsigned tx)
{
	int error = repo ? dal__repo_session(s, repo, tx) : dal__session_open(s, db, tx);

	if (error == 0 && dal__session_in_unit(s) && (error = dal__audit_flush(s->tx)) < 0)
		dal__session_close(s, error);
	return error;
}

static int new_logs(dal_audit_logs **out)
{
	if (!(*out = calloc(1, sizeof(**out))))
		return dal__error_nomem();
	return 0;
}

/* ---- query ---- */

int dal_audit_query(dal_audit_logs **out, dal_db *db, const dal_audit_filter *f)
{
	dal_str sql = DAL_STR_INIT;
	dal_value p[9];
	dal_session s;
	size_t n = 0;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if (f && (f->version == 0 || f->version > DAL_AUDIT_FILTER_VERSION))
		return dal__error(DAL_EINVAL, "invalid version %u on dal_audit_filter", f->version);
	if (f && (f->limit < 0 || f->offset < 0))
		return dal__error(DAL_EINVAL, "audit query: negative %s", f->limit < 0 ? "limit" : "offset");
	error = dal__sql_audit_query(&sql, p, &n, f);
	if (error == 0 && (error = new_logs(out)) == 0 && (error = open_session(&s, db, NULL, 0)) == 0) {
		error = collect(*out, &s, sql.ptr, p, n);
		error = dal__session_close(&s, error);
	}
	dal__str_dispose(&sql);
	if (error < 0) {
		dal_audit_logs_free(*out);
		*out = NULL;
	}
	return error;
}

/* ---- history and as-of ---- */

static int history(dal_audit_logs **out, dal_repo *repo, int64_t id, const int64_t *until)
{
	dal_value p[3] = { dal_text(repo->model->table), dal_int(id), dal_timestamp(until ? *until : 0) };
	dal_session s;
	int error;

	if ((error = new_logs(out)) == 0 && (error = open_session(&s, repo->db, repo, 0)) == 0) {
		error = collect(*out, &s, until ? dal__sql_audit_history_until : dal__sql_audit_history, p, until ? 3 : 2);
		error = dal__session_close(&s, error);
	}
	if (error < 0) {
		dal_audit_logs_free(*out);
		*out = NULL;
	}
	return error;
}

int dal_repo_history(dal_audit_logs **out, dal_repo *repo, int64_t id)
{
	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(repo);
	return history(out, repo, id, NULL);
}

static bool is(const char *action, const char *what)
{
	/* BULK_CREATE counts as CREATE, and so on. */
	if (strncmp(action, "BULK_", 5) == 0)
		action += 5;
	return strcmp(action, what) == 0;
}

int dal_repo_get_as_of(dal_row **out, dal_repo *repo, int64_t id, int64_t when)
{
	dal_audit_logs *logs = NULL;
	dal_row *row = NULL;
	bool live = false;
	size_t i;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(repo);
	if ((error = history(&logs, repo, id, &when)) < 0)
		return error;
	for (i = 0; i < logs->n && error == 0; i++) {
		const dal_audit_log *e = &logs->items[i];
		if (is(e->action, "CREATE")) {
			dal_row_free(row);
			row = NULL;
			if ((error = dal_row_new(&row, repo->model)) < 0)
				break;
			live = true;
		} else if (is(e->action, "DELETE")) {
			live = false;
			continue;
		} else if (is(e->action, "SOFT_DELETE"))
			live = false;
		else if (is(e->action, "RESTORE"))
			live = true;
		if (row && e->new_values)
			error = dal__audit_json_apply(row, e->new_values, strlen(e->new_values));
	}
	if (error == 0 && (!row || !live))
		error = dal__error(DAL_ENOTFOUND, "table '%s' had no live row with id %lld at that time",
			repo->model->table, (long long)id);
	if (error == 0) {
		dal_value idv = dal_int(id);
		error = dal_row_set(row, "id", &idv);
	}
	if (error == 0)
		*out = row;
	else
		dal_row_free(row);
	dal_audit_logs_free(logs);
	return error;
}

/* ---- verify ---- */

typedef struct head {
	int64_t first_id, last_id;
	char first_hash[65], last_hash[65];
} head;

int dal__audit_head_pair(int64_t *id, char hash[65], dal_stmt *stmt, int col)
{
	const dal_driver *drv = stmt->conn->drv;
	dal_value v;
	int error;

	if ((error = drv->column(stmt, col, &v)) < 0)
		return error;
	if (int_of(id, &v) < 0)
		return dal__error(DAL_EINVAL, "audit trail: the chain head holds an id that is not an integer");
	if ((error = drv->column(stmt, col + 1, &v)) < 0)
		return error;
	if ((v.type != DAL_TYPE_TEXT && v.type != DAL_TYPE_JSON) || v.len != 64)
		return dal__error(DAL_EINVAL, "audit trail: the chain head holds a hash that is not a SHA-256 "
			"(a row written outside dal? dal_audit_verify names it)");
	memcpy(hash, v.v.s, 64);
	hash[64] = '\0';
	return 0;
}

/* The head from `stmt`, just run (rc); released here. */
static int read_head(head *h, dal_stmt *stmt, int rc)
{
	memset(h, 0, sizeof(*h));
	if (rc == DAL__DONE)
		rc = dal__error(DAL_ENOTFOUND, "audit trail: table '" DAL__AUDIT_HEAD "' has no head row");
	if (rc == DAL__ROW && (rc = dal__audit_head_pair(&h->first_id, h->first_hash, stmt, 0)) == 0) {
		if (dal__audit_head_pair(&h->last_id, h->last_hash, stmt, 2) < 0) {
			/* An end read from the rows (audit_head_sql) may be a row written outside dal:
			 * a fault that verify names, not a reason to stop. */
			dal_error_clear();
			h->last_hash[0] = '\0';
		}
		rc = DAL__ROW;
	}
	rc = dal__stmt_drain(stmt, rc, NULL);
	dal__stmt_release(stmt);
	return rc;
}

static int query_head(head *h, dal_session *s, const char *sql)
{
	dal_stmt *stmt = NULL;
	int error;

	if ((error = dal__conn_prepare(&stmt, s->conn, sql, 0)) < 0)
		return error;
	return read_head(h, stmt, dal__stmt_exec(stmt, NULL, 0));
}

static int verify_head(head *h, dal_session *s)
{
	dal_str sql = DAL_STR_INIT;
	int error;

	if ((error = dal__sql_audit_head_of(&sql, s->conn->drv->dialect)) == 0)
		error = query_head(h, s, sql.ptr);
	dal__str_dispose(&sql);
	return error;
}

static void fault(dal_audit_report *r, int64_t id, const char *fmt, long long a)
{
	if (!r->ok)
		return;
	r->ok = false;
	r->bad_id = id;
	snprintf(r->reason, sizeof(r->reason), fmt, (long long)id, a);
}

/* Where a walk of the chain has got to. */
typedef struct walk {
	dal_audit_report *report;
	head h;
	int64_t expect;               /* the next id */
	char prev[65];                /* the last hash */
	dal_str scratch;              /* the text hashed, kept from row to row */
} walk;

/* Check one row against the chain so far. */
static int check_row(dal_audit_report *r, const dal_audit_log *e, walk *w)
{
	const head *h = &w->h;
	dal__audit_content c;
	char hash[65];
	int error;

	if (e->id < h->first_id) {
		fault(r, e->id, "row %lld lies before the start of the chain (%lld): inserted outside dal", h->first_id);
		return 0;
	}
	if (e->id > h->last_id) {
		fault(r, e->id, "row %lld lies beyond the chain head (%lld): inserted outside dal", h->last_id);
		return 0;
	}
	if (e->id > w->expect) {
		fault(r, w->expect, "row %lld is missing: deleted (the chain goes on at row %lld)", e->id);
		return 0;
	}
	if (!e->prev_hash || strcmp(e->prev_hash, w->prev) != 0) {
		fault(r, e->id, "row %lld does not link to row %lld: reordered, or inserted outside dal", e->id - 1);
		return 0;
	}
	c = (dal__audit_content){ e->id, e->prev_hash, e->timestamp, e->action, e->resource_type, e->resource_id,
		true, e->user_id, e->session_id, e->correlation_id, e->ip_address, e->user_agent, e->old_values,
		e->new_values, e->old_values ? strlen(e->old_values) : 0, e->new_values ? strlen(e->new_values) : 0 };
	if ((error = dal__audit_hash(hash, &c, &w->scratch)) < 0)
		return error;
	if (!e->row_hash || strcmp(e->row_hash, hash) != 0) {
		fault(r, e->id, "row %lld does not match its hash: altered, moved, or inserted outside dal%.0lld", 0);
		return 0;
	}
	memcpy(w->prev, e->row_hash, 65);
	w->expect++;
	return 0;
}

/* One row of the walk: 1 stops it at the first fault. */
static int verify_row(dal_stmt *stmt, void *payload)
{
	walk *w = payload;
	dal_audit_log e;
	int error;

	if ((error = entry_read(&e, stmt)) < 0)
		return error;
	w->report->rows_checked++;
	error = check_row(w->report, &e, w);
	entry_free(&e);
	return error < 0 ? error : !w->report->ok;
}

int dal_audit_verify(dal_audit_report *out, dal_db *db)
{
	dal_session s;
	walk w = { .report = out, .scratch = DAL_STR_INIT };
	int error;

	DAL_ASSERT_ARG(out);
	memset(out, 0, sizeof(*out));
	out->ok = true;
	DAL_ASSERT_ARG(db);
	/* One snapshot: the head and the rows must agree. */
	if ((error = open_session(&s, db, NULL, DAL__SESSION_TX | DAL__TX_REPEATABLE_READ | DAL__TX_READ_ONLY)) < 0)
		return error;
	if ((error = verify_head(&w.h, &s)) < 0)
		goto done;
	w.expect = w.h.first_id;
	memcpy(w.prev, w.h.first_hash, sizeof(w.prev));
	error = dal__conn_each(s.conn, dal__sql_audit_rows, DAL__STMT_STREAM, NULL, 0, NULL, verify_row, &w);
	error = error < 0 ? error : 0;
	if (error == 0 && out->ok && w.expect - 1 < w.h.last_id)
		fault(out, w.expect, "row %lld is missing: deleted from the end of the chain (head is row %lld)",
			w.h.last_id);
	if (error == 0 && out->ok && strcmp(w.prev, w.h.last_hash) != 0)
		fault(out, w.h.last_id, "row %lld does not match the chain head's hash%.0lld", 0);
	out->head_id = w.h.last_id;
	memcpy(out->head_hash, w.h.last_hash, sizeof(out->head_hash));
done:
	dal__str_dispose(&w.scratch);
	return dal__session_close(&s, error);
}

/* ---- cleanup ---- */

/* The head row, locked by an UPDATE until the batch commits. */
static int lock_head(head *h, dal_session *s)
{
	dal_stmt *stmt = NULL;
	int rc = dal__conn_update_returning(&stmt, s->conn, dal__sql_audit_touch_returning, dal__sql_audit_touch,
		dal__sql_audit_head, NULL, 0);

	return stmt ? read_head(h, stmt, rc) : rc;
}

/* How far a cleanup batch reaches: the rows older than the cutoff that start the chain. */
typedef struct prefix {
	int64_t cutoff, first, last, seen;
	char last_hash[65];
} prefix;

/* One row of the batch: 1 stops at the first row that stays. */
static int prefix_row(dal_stmt *stmt, void *payload)
{
	prefix *p = payload;
	dal_value v;
	int64_t id = 0, ts = 0;
	int error;

	p->seen++;
	if ((error = stmt->conn->drv->column(stmt, 0, &v)) < 0)
		return error;
	if (int_of(&id, &v) < 0)
		return 1;
	if ((error = stmt->conn->drv->column(stmt, 2, &v)) < 0 || (error = ts_of(&ts, &v)) < 0)
		return error;
	/* Only a prefix of the chain goes, so what is left starts from a known hash. */
	if (ts >= p->cutoff || id != (p->last ? p->last + 1 : p->first))
		return 1;
	if ((error = dal__audit_head_pair(&id, p->last_hash, stmt, 0)) < 0)
		return error;
	p->last = id;
	return 0;
}

/* The rows a batch deletes, read before it takes the head, so that writers do
 * not wait for the read. Rows are never changed, and only a cleanup moves the
 * start of the chain, which cleanup_delete sees at the head. One snapshot: the
 * start read and the rows agree. */
static int cleanup_read(prefix *pre, dal_db *db)
{
	dal_session s;
	dal_value p[2];
	head h;
	int error;

	if ((error = dal__session_open(&s, db, DAL__SESSION_TX | DAL__TX_REPEATABLE_READ | DAL__TX_READ_ONLY)) < 0)
		return error;
	if ((error = query_head(&h, &s, dal__sql_audit_head)) >= 0) {
		pre->first = h.first_id;
		p[0] = dal_int(h.first_id);
		p[1] = dal_int(CLEANUP_BATCH);
		error = dal__conn_each(s.conn, dal__sql_audit_oldest, 0, p, 2, NULL, prefix_row, pre);
	}
	return dal__session_close(&s, error < 0 ? error : 0);
}

/* Delete the rows read, under the head's lock. *more: another batch is due,
 * also when another cleanup moved the start of the chain since the read. */
static int cleanup_delete(int64_t *deleted, bool *more, dal_db *db, const prefix *pre)
{
	dal_session s;
	dal_value p[2];
	head h;
	int64_t changes = 0;
	int error;

	*deleted = 0;
	*more = false;
	if ((error = dal__session_open(&s, db, DAL__SESSION_TX | DAL__TX_WRITE)) < 0)
		return error;
	if ((error = lock_head(&h, &s)) < 0)
		goto done;
	if (h.first_id != pre->first) {
		*more = true;
		goto done;
	}
	*more = pre->last - pre->first + 1 == pre->seen && pre->seen == CLEANUP_BATCH;
	/* Not in a unit of work: what the engine changes there would be the unit's. */
	if (*more && db->drv->write_job && !dal__session_in_unit(&s) &&
	    (error = db->drv->write_job(db->shared, s.conn, DAL__JOB_BATCH)) < 0)
		goto done;
	p[0] = dal_int(pre->first);
	p[1] = dal_int(pre->last);
	error = dal__conn_run(s.conn, dal__sql_audit_delete_range, p, 2, &changes);
	if (error == 0) {
		p[0] = dal_int(pre->last + 1);
		p[1] = dal_text(pre->last_hash);
		error = dal__conn_run(s.conn, dal__sql_audit_anchor, p, 2, NULL);
	}
done:
	error = dal__session_close(&s, error);
	if (error == 0)
		*deleted = changes;
	else
		*more = false;
	return error;
}

static int cleanup_batch(int64_t *deleted, bool *more, dal_db *db, int64_t cutoff, int retention_days)
{
	prefix pre = { .cutoff = cutoff };
	int error;

	*deleted = 0;
	*more = false;
	if ((error = cleanup_read(&pre, db)) < 0 || pre.last == 0)
		return error;
	/* Tests: another cleanup (another process's) moves the start of the chain in between. */
	if (dal__fault("audit.cleanup.between"))
		dal_audit_cleanup(NULL, db, retention_days);
	return cleanup_delete(deleted, more, db, &pre);
}

/* Tell the engine where the cleanup is (dal_driver.write_job): at a pause it lets
 * in the writers waiting for the head, and does what the next writer's commit
 * would otherwise pay for the batch's pages; at the end it makes the batches
 * durable. `conn`: whether it needs a connection; none inside a unit of work,
 * whose transaction holds the lock until it ends and commits as it was begun. */
static int job_step(dal_db *db, int step, bool conn)
{
	dal_session s;
	int error;

	if (!db->drv->write_job)
		return 0;
	if (!conn)
		return db->drv->write_job(db->shared, NULL, step);
	if ((error = dal__session_open(&s, db, 0)) < 0) {
		(void)db->drv->write_job(db->shared, NULL, step);
		return error;
	}
	error = db->drv->write_job(db->shared, dal__session_in_unit(&s) ? NULL : s.conn, step);
	return dal__session_close(&s, error);
}

int dal_audit_cleanup(int64_t *deleted_out, dal_db *db, int retention_days)
{
	int64_t total = 0, n = 0, cutoff;
	bool more = true;
	int error = 0;

	if (deleted_out)
		*deleted_out = 0;
	DAL_ASSERT_ARG(db);
	if (retention_days < 0)
		return dal__error(DAL_EINVAL, "audit cleanup: negative retention (%d days)", retention_days);
	cutoff = dal_now() - (int64_t)retention_days * 86400 * 1000000;
	(void)job_step(db, DAL__JOB_START, false);
	while (more && error == 0) {
		error = cleanup_batch(&n, &more, db, cutoff, retention_days);
		total += n;
		/* The pause only shortens writers' waits: the next batch goes on without it. */
		if (more && error == 0 && job_step(db, DAL__JOB_PAUSE, true) < 0)
			dal_error_clear();
	}
	/* After a failure the thread's error stays the batch's: no connection to ask for. */
	if (error < 0 || total == 0)
		(void)job_step(db, DAL__JOB_END, false);
	else
		error = job_step(db, DAL__JOB_END, true);
	if (deleted_out)
		*deleted_out = total;
	return error;
}
