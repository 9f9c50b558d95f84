/* Raw SQL: dal_exec, dal_query, dal_query_each and dal_result. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "db.h"
#include "each.h"
#include "session.h"
#include "sql/placeholder.h"
#include "util/error.h"
#include "util/str.h"

struct dal_result {
	size_t nrows, ncols;
	char **names;
	dal_value *values;   /* nrows * ncols */
	char *bytes;         /* text and blob contents */
};

/* A statement in the call's session: the thread's unit of work, or a connection
 * lent for the call and given back at the end. */
typedef struct raw_call {
	dal_session s;
	dal_conn *conn;
	dal_stmt *stmt;
} raw_call;

static int raw_start(raw_call *rc, dal_db *db, const char *sql, const dal_value *params,
                     size_t n, unsigned flags)
{
	int error;

	memset(rc, 0, sizeof(*rc));
	DAL_ASSERT_ARG(db);
	DAL_ASSERT_ARG(sql);
	/* Engines differ here (PostgreSQL runs nothing and succeeds): one answer for all. */
	if (dal__sql_is_empty(sql))
		return dal__error(DAL_EINVAL, "the SQL text holds no statement");
	if (n && !params)
		return dal__error(DAL_EINVAL, "invalid argument: 'params' is NULL with nparams %zu", n);
	if ((error = dal__session_open(&rc->s, db, 0)) < 0)
		return error;
	rc->conn = rc->s.conn;
	if ((error = dal__conn_prepare(&rc->stmt, rc->conn, sql, flags)) < 0)
		return error;
	/* A nested unit emulated without savepoints undoes repository changes only. */
	if (rc->s.tx->undo && !(rc->conn->drv->readonly && rc->conn->drv->readonly(rc->stmt)))
		return dal__error(DAL_EUNSUPPORTED, "%s has no savepoints: in a nested unit of work there, a raw "
			"statement that may write cannot be undone by the unit's rollback (only repository calls are "
			"recorded); run it in the outermost unit, or write through a repository", rc->conn->drv->name);
	return dal__stmt_exec(rc->stmt, params, n);
}

static void raw_end(raw_call *rc)
{
	dal__stmt_release(rc->stmt);
	dal__session_close(&rc->s, 0);
}

int dal_exec(int64_t *changes_out, dal_db *db, const char *sql, const dal_value *params, size_t nparams)
{
	raw_call rc;
	int error;

	if (changes_out)
		*changes_out = 0;
	error = raw_start(&rc, db, sql, params, nparams, 0);
	if (error >= 0)
		error = dal__stmt_drain(rc.stmt, error, changes_out);
	raw_end(&rc);
	return error < 0 ? error : 0;
}

void dal_result_free(dal_result *res)
{
	size_t i;

	if (!res)
		return;
	for (i = 0; i < res->ncols && res->names; i++)
		free(res->names[i]);
	free(res->names);
	free(res->values);
	free(res->bytes);
	free(res);
}

static int copy_names(dal_result *res, dal_stmt *stmt)
{
	size_t i;

	res->ncols = (size_t)stmt->ncols;
	if (!(res->names = calloc(res->ncols ? res->ncols : 1, sizeof(char *))))
		return dal__error_nomem();
	for (i = 0; i < res->ncols; i++) {
		const char *name = stmt->conn->drv->column_name(stmt, (int)i);
		if (!(res->names[i] = dal__strdup(name ? name : "")))
			return DAL_ENOMEM;
	}
	return 0;
}

/* Append one row; text and blobs go to `bytes` as offsets, fixed up at the end. */
static int append_row(dal_result *res, size_t *cap, dal_str *bytes, dal_stmt *stmt)
{
	dal_value *row;
	size_t i;
	int error;

	if (res->nrows == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		dal_value *v = realloc(res->values, ncap * (res->ncols ? res->ncols : 1) * sizeof(*v));
		if (!v)
			return dal__error_nomem();
		res->values = v;
		*cap = ncap;
	}
	row = res->values + res->nrows * res->ncols;
	for (i = 0; i < res->ncols; i++) {
		if ((error = stmt->conn->drv->column(stmt, (int)i, &row[i])) < 0)
			return error;
		if (row[i].type == DAL_TYPE_TEXT || row[i].type == DAL_TYPE_JSON || row[i].type == DAL_TYPE_BLOB) {
			size_t off = bytes->len;
			if ((error = dal__str_putn(bytes, row[i].v.s, row[i].len)) < 0 ||
			    (error = dal__str_putc(bytes, '\0')) < 0)
				return error;
			row[i].v.s = (const char *)(uintptr_t)off;
		}
	}
	res->nrows++;
	return 0;
}

static void fix_pointers(dal_result *res, char *base)
{
	size_t i;

	for (i = 0; i < res->nrows * res->ncols; i++) {
		dal_value *v = &res->values[i];
		if (v->type == DAL_TYPE_TEXT || v->type == DAL_TYPE_JSON || v->type == DAL_TYPE_BLOB)
			v->v.s = base + (uintptr_t)v->v.s;
	}
}

int dal_query(dal_result **out, dal_db *db, const char *sql, const dal_value *params, size_t nparams)
{
	dal_result *res = NULL;
	dal_str bytes = DAL_STR_INIT;
	size_t cap = 0;
	raw_call rc;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	if (!(res = calloc(1, sizeof(*res))))
		return dal__error_nomem();
	error = raw_start(&rc, db, sql, params, nparams, 0);
	if (error >= 0) {
		int e = copy_names(res, rc.stmt);
		error = e < 0 ? e : error;
	}
	while (error == DAL__ROW && (error = append_row(res, &cap, &bytes, rc.stmt)) == 0)
		error = dal__stmt_step(rc.stmt);
	raw_end(&rc);
	if (error < 0) {
		dal_result_free(res);
		dal__str_dispose(&bytes);
		return error;
	}
	res->bytes = dal__str_detach(&bytes);
	fix_pointers(res, res->bytes);
	*out = res;
	return 0;
}

int dal_query_each(dal_db *db, const char *sql, const dal_value *params, size_t nparams,
                   dal_row_cb callback, void *payload)
{
	const char **names = NULL;
	dal_value *vals = NULL;
	dal__each_frame frame;
	raw_call rc;
	int error, i, stop = 0;

	DAL_ASSERT_ARG(callback);
	error = raw_start(&rc, db, sql, params, nparams, DAL__STMT_STREAM);
	if (error >= 0) {
		names = calloc((size_t)rc.stmt->ncols + 1, sizeof(*names));
		vals = calloc((size_t)rc.stmt->ncols + 1, sizeof(*vals));
		if (!names || !vals)
			error = dal__error_nomem();
		for (i = 0; error >= 0 && i < rc.stmt->ncols; i++)
			names[i] = rc.conn->drv->column_name(rc.stmt, i);
	}
	while (error == DAL__ROW) {
		for (i = 0; i < rc.stmt->ncols && error >= 0; i++)
			error = rc.conn->drv->column(rc.stmt, i, &vals[i]);
		if (error < 0)
			break;
		dal__each_enter(&frame, rc.conn, "dal_query_each", "dal_query");
		stop = callback(vals, names, (size_t)rc.stmt->ncols, payload);
		dal__each_leave(&frame);
		if (stop != 0)
			break;
		error = dal__stmt_step(rc.stmt);
	}
	raw_end(&rc);
	free(names);
	free(vals);
	if (error < 0)
		return error;
	return stop;
}

size_t dal_result_rows(const dal_result *res) { return res ? res->nrows : 0; }
size_t dal_result_columns(const dal_result *res) { return res ? res->ncols : 0; }

const char *dal_result_column_name(const dal_result *res, size_t col)
{
	return res && col < res->ncols ? res->names[col] : NULL;
}

const dal_value *dal_result_get(const dal_result *res, size_t row, size_t col)
{
	if (!res || row >= res->nrows || col >= res->ncols) {
		dal__error(DAL_EINVAL, "result index (%zu, %zu) out of range", row, col);
		return NULL;
	}
	return &res->values[row * res->ncols + col];
}
