/* dal_schema_migrations: one row per migration applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "migrate/applied.h"
#include "tx.h"
#include "util/error.h"
#include "util/grow.h"
#include "util/str.h"

#define TABLE "dal_schema_migrations"

static const char sql_read[] = "SELECT version, name, checksum, applied_at, duration_ms, applied_by FROM " TABLE
	" ORDER BY version";
static const char sql_has[] = "SELECT COUNT(*) FROM " TABLE " WHERE version = ?";
static const char sql_record[] = "INSERT INTO " TABLE " (version, name, checksum, applied_at, duration_ms, "
	"applied_by) VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_forget[] = "DELETE FROM " TABLE " WHERE version = ?";

static void text_of(char *dst, size_t size, const dal_value *v)
{
	snprintf(dst, size, "%.*s", v->type == DAL_TYPE_TEXT ? (int)v->len : 0, v->type == DAL_TYPE_TEXT ? v->v.s : "");
}

/* Where the engine keeps timestamps as text (SQLite), dal's own format. */
static int64_t timestamp_of(const dal_value *v)
{
	char buf[64];
	int64_t us = 0;

	if (v->type == DAL_TYPE_TIMESTAMP)
		return v->v.ts;
	if (v->type == DAL_TYPE_INT)
		return v->v.i;
	text_of(buf, sizeof buf, v);
	return dal_timestamp_parse(&us, buf) == 0 ? us : 0;
}

static char *dup_text(const dal_value *v)
{
	return v->type == DAL_TYPE_TEXT ? strndup(v->v.s, v->len) : strdup("");
}

static int row(dal_stmt *stmt, void *payload)
{
	dal__applied *a = payload;
	dal__applied_row *r;
	dal_value v[6];
	int i, error;

	for (i = 0; i < 6; i++)
		if ((error = stmt->conn->drv->column(stmt, i, &v[i])) < 0)
			return error;
	if ((error = dal__grow((void **)&a->v, &a->cap, a->n, sizeof *a->v)) < 0)
		return error;
	r = &a->v[a->n];
	memset(r, 0, sizeof *r);
	r->version = v[0].type == DAL_TYPE_INT ? v[0].v.i : 0;
	text_of(r->checksum, sizeof r->checksum, &v[2]);
	r->applied_at = timestamp_of(&v[3]);
	r->duration_ms = v[4].type == DAL_TYPE_INT ? v[4].v.i : 0;
	r->name = dup_text(&v[1]);
	r->applied_by = dup_text(&v[5]);
	a->n++;
	return r->name && r->applied_by ? 0 : dal__error_nomem();
}

static void clear(dal__applied *a)
{
	size_t i;

	for (i = 0; i < a->n; i++) {
		free(a->v[i].name);
		free(a->v[i].applied_by);
	}
	a->n = 0;
}

int dal__applied_read(dal__applied *out, dal_conn *conn)
{
	int error;

	clear(out);
	error = dal__conn_each(conn, sql_read, 0, NULL, 0, NULL, row, out);
	/* No table yet: nothing is applied. */
	if (error == DAL_ESQL) {
		clear(out);
		dal_error_clear();
		return 0;
	}
	return error;
}

const dal__applied_row *dal__applied_find(const dal__applied *a, long long version)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i].version == version)
			return &a->v[i];
	return NULL;
}

void dal__applied_forget_all(dal__applied *a)
{
	clear(a);
}

void dal__applied_dispose(dal__applied *a)
{
	clear(a);
	free(a->v);
	memset(a, 0, sizeof *a);
}

int dal__applied_prepare(dal_conn *conn)
{
	const dal_dialect *d = conn->drv->dialect;
	dal_str ddl = DAL_STR_INIT;
	int error;

	error = dal__str_printf(&ddl, "CREATE TABLE IF NOT EXISTS " TABLE " (version %s PRIMARY KEY, name %s NOT NULL, "
		"checksum %s NOT NULL, applied_at %s NOT NULL, duration_ms %s NOT NULL, applied_by %s NOT NULL)",
		d->types[DAL_TYPE_INT], d->types[DAL_TYPE_TEXT], d->types[DAL_TYPE_TEXT], d->types[DAL_TYPE_TIMESTAMP],
		d->types[DAL_TYPE_INT], d->types[DAL_TYPE_TEXT]);
	if (error == 0 && (error = conn->drv->begin(conn, DAL__TX_WRITE)) == 0) {
		conn->in_tx = true;
		error = dal__conn_exec(conn, ddl.ptr);
		conn->in_tx = false;
		error = error == 0 ? conn->drv->commit(conn) : error;
		/* After a failed COMMIT (SQLite out of memory) the transaction is still open. */
		if (error < 0)
			dal__tx_rollback_quietly(conn);
	}
	dal__str_dispose(&ddl);
	return error;
}

int dal__applied_lock(dal_conn *conn, bool *locked)
{
	const char *sql = conn->drv->dialect->migrate_lock_sql;
	int error;

	*locked = false;
	if (!sql)
		return 0;
	if ((error = dal__conn_run(conn, sql, NULL, 0, NULL)) == 0)
		*locked = true;
	return error;
}

void dal__applied_unlock(dal_conn *conn)
{
	const char *sql = conn->drv->dialect->migrate_unlock_sql;

	/* Ending the session would release it too: a failure here only costs that. */
	if (sql && dal__conn_run(conn, sql, NULL, 0, NULL) < 0)
		conn->broken = true;
}

int dal__applied_lock_timeout(dal_conn *conn, int ms, bool in_tx)
{
	const char *fmt = conn->drv->dialect->lock_timeout_sql;
	char sql[96];

	if (!fmt || ms <= 0)
		return 0;
	snprintf(sql, sizeof sql, fmt, in_tx ? "LOCAL " : "", ms);
	return dal__conn_exec(conn, sql);
}

void dal__applied_lock_timeout_reset(dal_conn *conn, bool in_tx)
{
	/* SET LOCAL ended with its transaction. */
	if (conn->drv->dialect->lock_timeout_sql && !in_tx && !conn->broken && dal__conn_exec(conn, "RESET lock_timeout") < 0)
		conn->broken = true;
}

int dal__applied_has(bool *out, dal_conn *conn, long long version)
{
	dal_value p = dal_int(version);
	int64_t n = 0;
	bool found = false;
	int error = dal__conn_scalar(&n, &found, conn, sql_has, &p, 1, NULL);

	*out = found && n > 0;
	return error;
}

int dal__applied_record(dal_conn *conn, const dal__mig *m, int64_t applied_at, int64_t duration_ms, const char *by)
{
	dal_value p[6];

	p[0] = dal_int(m->version);
	p[1] = dal_text(m->name);
	p[2] = dal_text(m->checksum);
	p[3] = dal_timestamp(applied_at);
	p[4] = dal_int(duration_ms);
	p[5] = dal_text(by);
	return dal__conn_run(conn, sql_record, p, 6, NULL);
}

int dal__applied_forget(dal_conn *conn, long long version)
{
	dal_value p = dal_int(version);

	return dal__conn_run(conn, sql_forget, &p, 1, NULL);
}
