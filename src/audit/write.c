/* Audit rows written in the change's own transaction, chained by SHA-256. */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "conn.h"
#include "repo/repo.h"
#include "repo/undo.h"
#include "sql/audit.h"
#include "util/log.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* ---- the tables ---- */

/*
 * Whether every index of audit_logs exists, where the dialect can ask by name.
 * PostgreSQL's CREATE INDEX IF NOT EXISTS locks the table (SHARE) before it
 * looks at the name: run at every start, it would hold audited writers off
 * until the start commits, and deadlock with a unit that holds the chain head
 * while the start waits for that unit (the head row's insert).
 */
static int audit_indexes_exist(bool *out, dal_session *s)
{
	const char *sql = s->conn->drv->dialect->index_named_sql;
	size_t i;
	int error = 0;

	*out = false;
	for (i = 0; sql && i < DAL__AUDIT_NINDEXES; i++) {
		dal_value p = dal_text(dal__sql_audit_indexes[i]);
		int64_t n = 0;
		bool found = false;

		if ((error = dal__conn_scalar(&n, &found, s->conn, sql, &p, 1, NULL)) < 0 || !found || n == 0)
			return error;
	}
	*out = sql != NULL;
	return 0;
}

int dal__audit_create_schema(dal_session *s)
{
	dal_str ddl = DAL_STR_INIT;
	dal_value p[3] = { dal_text(GENESIS), dal_text(GENESIS), dal_text(GENESIS) };
	bool have_indexes = false;
	int error = audit_indexes_exist(&have_indexes, s);

	error = error ? error : dal__sql_audit_schema(&ddl, s->conn->drv, !have_indexes);
	error = error ? error : dal__conn_exec_script(s->conn, ddl.ptr);
	error = error ? error : dal__conn_run(s->conn, dal__sql_audit_head_init, p, 3, NULL);
	dal__str_dispose(&ddl);
	return error;
}

/* ---- context ---- */

void dal__audit_ctx_free(dal__audit_ctx *c)
{
	if (!c)
		return;
	free(c->user_id);
	free(c->session_id);
	free(c->correlation_id);
	free(c->ip_address);
	free(c->user_agent);
	memset(c, 0, sizeof(*c));
}

static int copy(char **out, const char *s)
{
	return dal__utf8_sanitize(out, s, s ? strlen(s) : 0);
}

/* The length is checked before the string is read whole: it may be very long. */
static int bounded(const char *field, const char *value, size_t max)
{
	if (!value || strnlen(value, max + 1) <= max)
		return 0;
	return dal__error(DAL_EINVAL, "dal_audit_ctx.%s is longer than %zu bytes", field, max);
}

int dal__audit_ctx_copy(dal__audit_ctx *out, const dal_audit_ctx *ctx)
{
	dal__audit_ctx c = { 0 };
	int error;

	memset(out, 0, sizeof(*out));
	if (ctx->version == 0 || ctx->version > DAL_AUDIT_CTX_VERSION)
		return dal__error(DAL_EINVAL, "invalid version %u on dal_audit_ctx", ctx->version);
	if ((error = bounded("user_id", ctx->user_id, DAL_AUDIT_CTX_MAX_ID)) < 0 ||
	    (error = bounded("session_id", ctx->session_id, DAL_AUDIT_CTX_MAX_ID)) < 0 ||
	    (error = bounded("correlation_id", ctx->correlation_id, DAL_AUDIT_CTX_MAX_ID)) < 0 ||
	    (error = bounded("ip_address", ctx->ip_address, DAL_AUDIT_CTX_MAX_IP)) < 0 ||
	    (error = bounded("user_agent", ctx->user_agent, DAL_AUDIT_CTX_MAX_USER_AGENT)) < 0)
		return error;
	if ((error = copy(&c.user_id, ctx->user_id)) < 0 || (error = copy(&c.session_id, ctx->session_id)) < 0 ||
	    (error = copy(&c.correlation_id, ctx->correlation_id)) < 0 ||
	    (error = copy(&c.ip_address, ctx->ip_address)) < 0 || (error = copy(&c.user_agent, ctx->user_agent)) < 0) {
		dal__audit_ctx_free(&c);
		return error;
	}
	*out = c;
	return 0;
}

int dal_repo_set_context(dal_repo *repo, const dal_audit_ctx *ctx)
{
	dal__audit_ctx c = { 0 };
	int error;

	DAL_ASSERT_ARG(repo);
	if (ctx && (error = dal__audit_ctx_copy(&c, ctx)) < 0)
		return error;
	/* Kept all the same (the flag may be a mistake of the caller's), but never silently. */
	if (ctx && !(repo->flags & DAL_AUDIT))
		dal__log(DAL_LOG_WARN, "an audit context was set on the repository of '%s', which was opened "
			"without DAL_AUDIT: its writes record no audit rows", repo->model->table);
	dal__audit_ctx_free(&repo->audit_ctx);
	repo->audit_ctx = c;
	repo->has_audit_ctx = ctx != NULL;
	return 0;
}

/* ---- writing ---- */

static dal_value opt_text(const char *s)
{
	return s ? dal_text(s) : dal_null();
}

/* The hashes of `n` rows from `first` on, after `prev`. */
static int hash_rows(char (*hashes)[65], const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n,
                     int64_t first, const char *prev, int64_t ts)
{
	dal_str scratch = DAL_STR_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		const dal__audit_rec *r = &recs[i];
		dal__audit_content c = { first + (int64_t)i, i ? hashes[i - 1] : prev, r->timestamp ? r->timestamp : ts,
			r->action, r->resource_type, r->resource_id, true, ctx->user_id, ctx->session_id, ctx->correlation_id,
			ctx->ip_address, ctx->user_agent, r->old_values, r->new_values,
			r->old_values ? strlen(r->old_values) : 0, r->new_values ? strlen(r->new_values) : 0 };
		error = dal__audit_hash(hashes[i], &c, &scratch);
	}
	dal__str_dispose(&scratch);
	return error;
}

/* One row's column values, in dal__sql_audit_columns' order. */
static void lay_out(dal_value *p, const dal__audit_ctx *ctx, const dal__audit_rec *r, int64_t id,
                    const char *prev, const char *hash, int64_t ts)
{
	p[0] = dal_int(id);
	p[1] = opt_text(ctx->user_id);
	p[2] = dal_text(r->action);
	p[3] = dal_text(r->resource_type);
	p[4] = dal_int(r->resource_id);
	p[5] = r->old_values ? dal_json(r->old_values) : dal_null();
	p[6] = r->new_values ? dal_json(r->new_values) : dal_null();
	p[7] = dal_timestamp(r->timestamp ? r->timestamp : ts);
	p[8] = opt_text(ctx->session_id);
	p[9] = opt_text(ctx->correlation_id);
	p[10] = opt_text(ctx->ip_address);
	p[11] = opt_text(ctx->user_agent);
	p[12] = dal_text(prev);
	p[13] = dal_text(hash);
}

/* (last_id, last_hash) from `stmt`, just run (rc); released here. */
static int read_end(int64_t *last, char prev[65], dal_stmt *stmt, int rc)
{
	if (rc == DAL__DONE)
		rc = dal__error(DAL_EINVAL, "audit trail: table '" DAL__AUDIT_HEAD "' has no head row "
			"(run dal_init_database with DAL_AUTO_MIGRATE)");
	if (rc == DAL__ROW && (rc = dal__audit_head_pair(last, prev, stmt, 0)) == 0)
		rc = DAL__ROW;
	rc = dal__stmt_drain(stmt, rc, NULL);
	dal__stmt_release(stmt);
	return rc;
}

/*
 * Take n positions at the chain's end. The head row's UPDATE locks it until
 * commit; engines whose writers are serialized anyway read the end instead
 * (dialect audit_head_sql).
 */
static int reserve(int64_t *last, char prev[65], dal_conn *conn, size_t n)
{
	const char *head = conn->drv->dialect->audit_head_sql;
	dal_value p = dal_int((int64_t)n);
	dal_stmt *stmt = NULL;
	int rc;

	if (head) {
		if ((rc = dal__conn_prepare(&stmt, conn, head, 0)) < 0 ||
		    (rc = read_end(last, prev, stmt, dal__stmt_exec(stmt, NULL, 0))) < 0)
			return rc;
		*last += (int64_t)n;
		return 0;
	}
	rc = dal__conn_update_returning(&stmt, conn, dal__sql_audit_reserve, dal__sql_audit_advance,
		dal__sql_audit_end, &p, 1);
	return stmt ? read_end(last, prev, stmt, rc) : rc;
}

/* The head row takes the chain's new end; nothing to do where the end is read from the rows. */
static int seal(dal_conn *conn, const char *hash)
{
	dal_value h = dal_text(hash);

	if (conn->drv->dialect->audit_head_sql)
		return 0;
	return dal__conn_run(conn, dal__sql_audit_seal, &h, 1, NULL);
}

#define BULK_ROWS 200   /* 2,800 parameters a statement: within every engine's limit */

/* Rows per engine bulk insert (COPY, the Appender) of audit rows. */
#define COPY_ROWS 4096

/* `k` laid-out rows: through the engine's bulk insert where it has one (COPY, the Appender),
 * else as one INSERT (multi-row where k > 1: DuckDB's per-row INSERT is slow). */
static int insert_rows(dal_conn *conn, dal_str *sql, size_t *built, const dal_value *v, size_t k)
{
	int error;

	if (k > 1 && conn->drv->bulk_insert)
		return conn->drv->bulk_insert(conn, DAL__AUDIT_TABLE, dal__sql_audit_columns, DAL__AUDIT_NCOLS, v, k, NULL);
	if (k == 1)
		return dal__conn_run(conn, dal__sql_audit_insert, v, DAL__AUDIT_NCOLS, NULL);
	if (*built != k) {
		dal__str_clear(sql);
		if ((error = dal__sql_audit_insert_rows(sql, k)) < 0)
			return error;
		*built = k;
	}
	return dal__conn_run(conn, sql->ptr, v, k * DAL__AUDIT_NCOLS, NULL);
}

/* Insert `n` hashed rows from `first` on, after `prev`, in batches. */
static int insert_all(dal_conn *conn, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n,
                      int64_t first, const char *prev, char (*hashes)[65], int64_t ts)
{
	size_t per = conn->drv->bulk_insert ? COPY_ROWS : BULK_ROWS, i, k = 0, built = 0;
	dal_value *v = calloc((n < per ? n : per) * DAL__AUDIT_NCOLS, sizeof(dal_value));
	dal_str sql = DAL_STR_INIT;
	int error = v ? 0 : dal__error_nomem();

	for (i = 0; i < n && error == 0; i++) {
		lay_out(&v[k * DAL__AUDIT_NCOLS], ctx, &recs[i], first + (int64_t)i, i ? hashes[i - 1] : prev, hashes[i], ts);
		if (++k == per || i + 1 == n) {
			error = insert_rows(conn, &sql, &built, v, k);
			k = 0;
		}
	}
	dal__str_dispose(&sql);
	free(v);
	return error;
}

/*
 * The database handle remembers the chain end it last wrote. Where that is
 * still the chain's end, one UPDATE checks it and moves the head (on DuckDB,
 * where each statement costs about a whole insert, that spares two of them);
 * else the head is read and reserved as usual and the rows hashed again. The
 * hint may come from a transaction that has not committed or rolled back: the
 * UPDATE's check is what makes it safe.
 */
static bool hint_get(dal_db *db, int64_t *id, char hash[65])
{
	pthread_mutex_lock(&db->audit_end.mu);
	*id = db->audit_end.id;
	memcpy(hash, db->audit_end.hash, 65);
	pthread_mutex_unlock(&db->audit_end.mu);
	return *id > 0;
}

static void hint_set(dal_db *db, int64_t id, const char *hash)
{
	pthread_mutex_lock(&db->audit_end.mu);
	db->audit_end.id = id;
	if (hash)
		memcpy(db->audit_end.hash, hash, 65);
	pthread_mutex_unlock(&db->audit_end.mu);
}

static int move_from_hint(bool *moved, dal_conn *conn, int64_t last, const char *end_hash, int64_t was,
                          const char *was_hash)
{
	dal_value p[4] = { dal_int(last), dal_text(end_hash), dal_int(was), dal_text(was_hash) };
	int64_t changes = 0;
	int error = dal__conn_run(conn, dal__sql_audit_move, p, 4, &changes);

	*moved = error == 0 && changes == 1;
	return error;
}

int dal__audit_write(dal_session *s, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n)
{
	static const dal__audit_ctx none = { 0 };
	int error;

	if (n == 0)
		return 0;
	/* In a unit of work: held until its commit. */
	if (dal__session_in_unit(s)) {
		if (dal__audit_defer_fits(s->tx, recs, n))
			return dal__audit_defer(s->tx, ctx ? ctx : &none, recs, n);
		if ((error = dal__audit_flush(s->tx)) < 0)
			return error;
	}
	return dal__audit_write_now(s->tx, ctx, recs, n);
}

/* Hash the rows at the chain's end and move the head past them: from the end this
 * process last wrote where it can, else reserving the end as it stands. */
static int take_end(int64_t *first, char prev[65], char (*hashes)[65], dal__tx *tx, const dal__audit_ctx *ctx,
                    const dal__audit_rec *recs, size_t n, int64_t ts)
{
	dal_conn *conn = tx->conn;
	bool head_sql = conn->drv->dialect->audit_head_sql != NULL, moved = false;
	int64_t last, was;
	char was_hash[65];
	int error;

	if (!head_sql && hint_get(conn->db, &was, was_hash)) {
		*first = was + 1;
		memcpy(prev, was_hash, 65);
		if ((error = hash_rows(hashes, ctx, recs, n, *first, prev, ts)) < 0 ||
		    (error = move_from_hint(&moved, conn, *first + (int64_t)n - 1, hashes[n - 1], was, was_hash)) < 0)
			return error;
	}
	if (!moved) {
		if ((error = reserve(&last, prev, conn, n)) < 0)
			return error;
		*first = last - (int64_t)n + 1;
		if ((error = hash_rows(hashes, ctx, recs, n, *first, prev, ts)) < 0 || (error = seal(conn, hashes[n - 1])) < 0)
			return error;
	}
	/* In a nested scope emulated without savepoints, its rollback puts the chain head back. */
	if (tx->undo && !head_sql && (error = dal__undo_audit(tx, *first - 1, prev)) < 0)
		return error;
	return 0;
}

int dal__audit_write_now(dal__tx *tx, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n)
{
	static const dal__audit_ctx none = { 0 };
	char prev[65], (*hashes)[65];
	int64_t first = 0, ts = dal_now();
	int error;

	if (n == 0)
		return 0;
	if (!(hashes = malloc(n * sizeof(*hashes))))
		return dal__error_nomem();
	if (!ctx)
		ctx = &none;
	error = take_end(&first, prev, hashes, tx, ctx, recs, n, ts);
	error = error ? error : insert_all(tx->conn, ctx, recs, n, first, prev, hashes, ts);
	/* Only a hint: a rollback or another writer leaves it behind, and the next move sees so. */
	hint_set(tx->conn->db, error ? 0 : first + (int64_t)n - 1, error ? NULL : hashes[n - 1]);
	free(hashes);
	return error;
}

/* ---- a create and its audit row in one statement (dal__sql_audit_create) ---- */

int dal__audit_create_params(dal_value p[DAL__AUDIT_CREATE_PARAMS], char content[65], const dal__audit_ctx *ctx,
                             const char *resource_type, const char *json, int64_t ts)
{
	static const dal__audit_ctx none = { 0 };
	dal__audit_content c = { 0 };
	int error;

	if (!ctx)
		ctx = &none;
	c = (dal__audit_content){ 0, NULL, ts, "CREATE", resource_type, 0, false, ctx->user_id, ctx->session_id,
		ctx->correlation_id, ctx->ip_address, ctx->user_agent, NULL, json, 0, strlen(json) };
	if ((error = dal__audit_content_hash(content, &c, NULL)) < 0)
		return error;
	p[0] = dal_text(content);
	p[1] = opt_text(ctx->user_id);
	p[2] = dal_text("CREATE");
	p[3] = dal_text(resource_type);
	p[4] = dal_json(json);
	p[5] = dal_timestamp(ts);
	p[6] = opt_text(ctx->session_id);
	p[7] = opt_text(ctx->correlation_id);
	p[8] = opt_text(ctx->ip_address);
	p[9] = opt_text(ctx->user_agent);
	return 0;
}
