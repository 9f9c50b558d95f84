#include "conn.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sql/build.h"
#include "sql/placeholder.h"
#include "util/str.h"

/* Open addressing on the SQL text; cleared whole when full, which a program
 * with a fixed set of statements never reaches. */
#define RECENT 64

typedef struct dal__stmt_cache {
	size_t cap;       /* slots, a power of two */
	size_t count;
	size_t limit;
	char **keys;
	dal_stmt **stmts;
	/* The repository hands the same SQL pointer every time: remember its slot by
	 * address, so a hit costs a strcmp instead of hashing the text. */
	struct { const char *sql; size_t slot; } recent[RECENT];
} stmt_cache;

static uint64_t hash_sql(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static int cache_make(dal_conn *conn)
{
	stmt_cache *c;
	size_t limit = conn->db && conn->db->cfg.statement_cache_size > 0 ? (size_t)conn->db->cfg.statement_cache_size : 128;

	if (!(c = calloc(1, sizeof(*c))))
		return dal__error_nomem();
	c->limit = limit;
	for (c->cap = 16; c->cap < limit * 2; c->cap *= 2)
		;
	c->keys = calloc(c->cap, sizeof(*c->keys));
	c->stmts = calloc(c->cap, sizeof(*c->stmts));
	if (!c->keys || !c->stmts) {
		free(c->keys);
		free(c->stmts);
		free(c);
		return dal__error_nomem();
	}
	conn->cache = c;
	return 0;
}

static void cache_clear(dal_conn *conn, bool keep_busy)
{
	stmt_cache *c = conn->cache;
	size_t i;

	for (i = 0; i < c->cap; i++) {
		if (!c->keys[i])
			continue;
		if (keep_busy && c->stmts[i]->busy) {
			/* It goes on serving its caller, then is finalized on release. */
			c->stmts[i]->cached = false;
			c->stmts[i]->sql = NULL;
		} else {
			conn->drv->finalize(c->stmts[i]);
		}
		free(c->keys[i]);
		c->keys[i] = NULL;
		c->stmts[i] = NULL;
	}
	c->count = 0;
}

void dal__conn_cache_free(dal_conn *conn)
{
	if (!conn || !conn->cache)
		return;
	cache_clear(conn, false);
	free(conn->cache->keys);
	free(conn->cache->stmts);
	free(conn->cache);
	conn->cache = NULL;
}

static size_t slot_of(stmt_cache *c, const char *sql)
{
	size_t r = ((uintptr_t)sql >> 4) & (RECENT - 1), i;

	i = c->recent[r].slot;
	if (c->recent[r].sql == sql && c->keys[i] && strcmp(c->keys[i], sql) == 0)
		return i;
	i = (size_t)hash_sql(sql) & (c->cap - 1);
	while (c->keys[i] && strcmp(c->keys[i], sql) != 0)
		i = (i + 1) & (c->cap - 1);
	c->recent[r].sql = sql;
	c->recent[r].slot = i;
	return i;
}

static int prepare_new(dal_stmt **out, dal_conn *conn, const char *sql, unsigned flags)
{
	dal_str text = DAL_STR_INIT;
	int error;

	if ((error = dal__sql_placeholders(&text, sql, conn->drv->dialect->placeholder)) < 0)
		goto done;
	error = conn->drv->prepare(out, conn, text.ptr, flags);
done:
	dal__str_dispose(&text);
	return error;
}

int dal__conn_prepare(dal_stmt **out, dal_conn *conn, const char *sql, unsigned flags)
{
	stmt_cache *c;
	dal_stmt *stmt = NULL;
	size_t i;
	int error;

	*out = NULL;
	if (!conn->cache && (error = cache_make(conn)) < 0)
		return error;
	c = conn->cache;
	i = slot_of(c, sql);
	if (c->keys[i] && !c->stmts[i]->busy && !(flags & DAL__STMT_STREAM)) {
		stmt = c->stmts[i];
		stmt->busy = true;
		*out = stmt;
		return 0;
	}
	if ((error = prepare_new(&stmt, conn, sql, flags)) < 0) {
		/* A statement the engine rejects counts once, as a failed one. */
		if (conn->db && dal__metrics_timed(&conn->db->metrics))
			dal__metrics_record(&conn->db->metrics, sql, 0, 0, error);
		return error;
	}
	stmt->busy = true;
	stmt->sql_hash = dal__metrics_hash(sql);
	if (!c->keys[i] && !(flags & DAL__STMT_STREAM)) {
		if (c->count >= c->limit) {
			cache_clear(conn, true);
			i = slot_of(c, sql);
		}
		if ((c->keys[i] = dal__strdup(sql)) != NULL) {
			c->stmts[i] = stmt;
			c->count++;
			stmt->cached = true;
			stmt->sql = c->keys[i];
		}
	}
	/* A statement outside the cache keeps its own text, for metrics and echo. */
	if (!stmt->cached && (stmt->own_sql = dal__strdup(sql)) != NULL)
		stmt->sql = stmt->own_sql;
	*out = stmt;
	return 0;
}

static void record(dal_stmt *stmt, int error)
{
	dal_conn *conn = stmt->conn;

	if (!stmt->t0_us)
		return;
	if (conn->db)
		dal__metrics_record(&conn->db->metrics, stmt->sql ? stmt->sql : "(statement)",
			stmt->sql ? stmt->sql_hash : 0, dal_now() - stmt->t0_us, error);
	stmt->t0_us = 0;
}

void dal__stmt_release(dal_stmt *stmt)
{
	if (!stmt)
		return;
	record(stmt, 0);
	stmt->conn->drv->reset(stmt);
	stmt->busy = false;
	if (!stmt->cached) {
		free(stmt->own_sql);
		stmt->own_sql = NULL;
		stmt->sql = NULL;
		stmt->conn->drv->finalize(stmt);
	}
}

int dal__stmt_step(dal_stmt *stmt)
{
	int rc = stmt->conn->drv->step(stmt);

	if (rc != DAL__ROW)
		record(stmt, rc);
	return rc;
}

int dal__stmt_exec(dal_stmt *stmt, const dal_value *params, size_t n)
{
	return dal__stmt_exec_redacted(stmt, params, n, NULL);
}

int dal__stmt_exec_redacted(dal_stmt *stmt, const dal_value *params, size_t n, const bool *redact)
{
	int error;

	record(stmt, 0);
	if (stmt->conn->db) {
		dal_metrics_state *m = &stmt->conn->db->metrics;
		if (dal__metrics_timed(m))
			stmt->t0_us = dal_now();
		if (m->echo_params)
			dal__metrics_echo_params(m, params, n, redact);
	}
	if ((error = stmt->conn->drv->bind(stmt, params, n)) < 0) {
		record(stmt, error);
		return error;
	}
	return dal__stmt_step(stmt);
}

int dal__conn_update_returning(dal_stmt **out, dal_conn *conn, const char *returning, const char *update,
                               const char *select, const dal_value *params, size_t n)
{
	const char *sql = returning;
	int error;

	*out = NULL;
	if (!(conn->drv->caps & DAL_CAP_UPDATE_RETURNING)) {
		if ((error = dal__conn_run(conn, update, params, n, NULL)) < 0)
			return error;
		sql = select;
		params = NULL;
		n = 0;
	}
	if ((error = dal__conn_prepare(out, conn, sql, 0)) < 0)
		return error;
	return dal__stmt_exec(*out, params, n);
}

int dal__conn_exec(dal_conn *conn, const char *sql)
{
	bool timed = conn->db && dal__metrics_timed(&conn->db->metrics);
	int64_t t0 = timed ? dal_now() : 0;
	int error = conn->drv->exec(conn, sql);

	if (timed)
		dal__metrics_record(&conn->db->metrics, sql, 0, dal_now() - t0, error);
	return error;
}

int dal__conn_exec_script(dal_conn *conn, char *script)
{
	char *p, *next;
	int error = 0;

	for (p = script; p && error == 0; p = next) {
		next = strstr(p, DAL_SQL_SEP);
		if (next) {
			*next = '\0';
			next += strlen(DAL_SQL_SEP);
		}
		error = dal__conn_exec(conn, p);
	}
	return error;
}

int dal__stmt_drain(dal_stmt *stmt, int rc, int64_t *changes)
{
	while (rc == DAL__ROW)
		rc = dal__stmt_step(stmt);
	if (rc == DAL__DONE && changes)
		*changes = stmt->conn->drv->changes(stmt);
	return rc < 0 ? rc : 0;
}

int dal__conn_run(dal_conn *conn, const char *sql, const dal_value *params, size_t n, int64_t *changes)
{
	return dal__conn_run_redacted(conn, sql, params, n, NULL, changes);
}

int dal__conn_run_redacted(dal_conn *conn, const char *sql, const dal_value *params, size_t n, const bool *redact,
                           int64_t *changes)
{
	dal_stmt *stmt = NULL;
	int error;

	if ((error = dal__conn_prepare(&stmt, conn, sql, 0)) < 0)
		return error;
	error = dal__stmt_drain(stmt, dal__stmt_exec_redacted(stmt, params, n, redact), changes);
	dal__stmt_release(stmt);
	return error;
}

int dal__conn_scalar(int64_t *out, bool *found, dal_conn *conn, const char *sql, const dal_value *params,
                     size_t n, const bool *redact)
{
	dal_stmt *stmt = NULL;
	dal_value v;
	int error;

	*found = false;
	if ((error = dal__conn_prepare(&stmt, conn, sql, 0)) < 0)
		return error;
	error = dal__stmt_exec_redacted(stmt, params, n, redact);
	if (error == DAL__ROW && (error = conn->drv->column(stmt, 0, &v)) == 0) {
		if (v.type == DAL_TYPE_INT || v.type == DAL_TYPE_DOUBLE) {
			*out = v.type == DAL_TYPE_INT ? v.v.i : (int64_t)v.v.d;
			*found = true;
		}
		error = DAL__ROW;
	}
	error = dal__stmt_drain(stmt, error, NULL);
	dal__stmt_release(stmt);
	return error;
}

int dal__conn_each(dal_conn *conn, const char *sql, unsigned flags, const dal_value *params, size_t n,
                   const bool *redact, dal__row_fn fn, void *payload)
{
	dal_stmt *stmt = NULL;
	int error;

	if ((error = dal__conn_prepare(&stmt, conn, sql, flags)) < 0)
		return error;
	error = dal__stmt_exec_redacted(stmt, params, n, redact);
	while (error == DAL__ROW && (error = fn(stmt, payload)) == 0)
		error = dal__stmt_step(stmt);
	dal__stmt_release(stmt);
	return error == DAL__DONE ? 0 : error;
}
