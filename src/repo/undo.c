/* Undo logs for nested units of work emulated without savepoints. */
#include "repo/undo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "row.h"
#include "sql/audit.h"
#include "sql/build.h"
#include "sql/bulk.h"
#include "util/error.h"
#include "util/str.h"

/* The staging table of a set-based undo or read (a temporary table, dropped at once). */
#define STAGE "_dal_undo"
/* Ids per `IN (?, ..)` statement; more rows than this go through a staging table where
 * the engine fills one fast (a prepared statement per row by id scans on DuckDB). */
#define LIST_IDS 100

enum { OP_DELETE, OP_SET, OP_INSERT, OP_AUDIT };

struct dal__undo_op {
	dal__undo_op *next;          /* older */
	int kind;
	const dal_model *model;      /* borrowed */
	bool *set;                   /* OP_SET: columns to set back */
	size_t nrows;
	int64_t *ids;                /* OP_DELETE */
	dal_value *vals;             /* OP_SET, OP_INSERT: nrows whole rows, model order */
	char *bytes;                 /* text and blob contents of vals */
	int64_t audit_last;          /* OP_AUDIT */
	char audit_hash[65];
};

void dal__undo_op_free(dal__undo_op *op)
{
	if (!op)
		return;
	free(op->set);
	free(op->ids);
	free(op->vals);
	free(op->bytes);
	free(op);
}

static void ops_free(dal__undo_op *op)
{
	dal__undo_op *next;

	for (; op; op = next) {
		next = op->next;
		dal__undo_op_free(op);
	}
}

/* ---- the log stack ---- */

int dal__undo_begin(dal__tx *tx)
{
	dal__undo *log = calloc(1, sizeof(*log));

	if (!log)
		return dal__error_nomem();
	log->outer = tx->undo;
	tx->undo = log;
	return 0;
}

static void pop(dal__tx *tx)
{
	dal__undo *log = tx->undo;

	tx->undo = log->outer;
	ops_free(log->ops);
	free(log);
}

void dal__undo_commit(dal__tx *tx)
{
	dal__undo *log = tx->undo, *outer;

	if (!log)
		return;
	if ((outer = log->outer) != NULL && log->ops) {
		/* This scope's changes are newer than everything the outer log holds. */
		log->oldest->next = outer->ops;
		if (!outer->ops)
			outer->oldest = log->oldest;
		outer->ops = log->ops;
		log->ops = log->oldest = NULL;
	}
	if (outer && log->broken)
		outer->broken = true;
	pop(tx);
}

void dal__undo_discard_all(dal__tx *tx)
{
	while (tx->undo)
		pop(tx);
}

void dal__undo_push(dal__tx *tx, dal__undo_op *op)
{
	dal__undo *log = tx->undo;

	if (!op)
		return;
	if (!log) {
		dal__undo_op_free(op);
		return;
	}
	op->next = log->ops;
	log->ops = op;
	if (!log->oldest)
		log->oldest = op;
}

void dal__undo_broken(dal__tx *tx)
{
	if (tx->undo)
		tx->undo->broken = true;
}

/* ---- recording ---- */

static dal__undo_op *op_new(int kind, const dal_model *m)
{
	dal__undo_op *op = calloc(1, sizeof(*op));

	if (op) {
		op->kind = kind;
		op->model = m;
	}
	return op;
}

int dal__undo_created(dal__tx *tx, const dal_model *m, const int64_t *ids, size_t n)
{
	dal__undo_op *op;

	if (!tx->undo || n == 0)
		return 0;
	if (!(op = op_new(OP_DELETE, m)) || !(op->ids = malloc(n * sizeof(*ids)))) {
		dal__undo_op_free(op);
		dal__undo_broken(tx);
		return dal__error_nomem();
	}
	memcpy(op->ids, ids, n * sizeof(*ids));
	op->nrows = n;
	dal__undo_push(tx, op);
	return 0;
}

int dal__undo_audit(dal__tx *tx, int64_t last_id, const char *last_hash)
{
	dal__undo_op *op;

	if (!tx->undo || tx->undo->audit_marked)
		return 0;
	if (!(op = op_new(OP_AUDIT, NULL))) {
		dal__undo_broken(tx);
		return dal__error_nomem();
	}
	op->audit_last = last_id;
	snprintf(op->audit_hash, sizeof(op->audit_hash), "%s", last_hash);
	dal__undo_push(tx, op);
	tx->undo->audit_marked = true;
	return 0;
}

/* Rows copied in: text and blobs go to `bytes` as offsets until rows_finish(). */
typedef struct rows_buf {
	dal_value *vals;
	size_t nrows, cap, width;
	dal_str bytes;
} rows_buf;

static int rows_add(rows_buf *rb, const dal_value *row)
{
	dal_value *dst;
	size_t i;
	int error;

	if (rb->nrows == rb->cap) {
		size_t ncap = rb->cap ? rb->cap * 2 : 8;
		dal_value *v = realloc(rb->vals, ncap * rb->width * sizeof(*v));
		if (!v)
			return dal__error_nomem();
		rb->vals = v;
		rb->cap = ncap;
	}
	dst = rb->vals + rb->nrows * rb->width;
	for (i = 0; i < rb->width; i++) {
		dst[i] = row[i];
		if (row[i].type == DAL_TYPE_TEXT || row[i].type == DAL_TYPE_JSON || row[i].type == DAL_TYPE_BLOB) {
			size_t off = rb->bytes.len;
			if ((error = dal__str_putn(&rb->bytes, row[i].v.s, row[i].len)) < 0 ||
			    (error = dal__str_putc(&rb->bytes, '\0')) < 0)
				return error;
			dst[i].v.s = (const char *)(uintptr_t)off;
		}
	}
	rb->nrows++;
	return 0;
}

static void rows_dispose(rows_buf *rb)
{
	free(rb->vals);
	dal__str_dispose(&rb->bytes);
}

/* Hand the rows to `op`, pointers fixed. */
static void rows_finish(dal__undo_op *op, rows_buf *rb)
{
	size_t i;

	op->nrows = rb->nrows;
	op->vals = rb->vals;
	op->bytes = dal__str_detach(&rb->bytes);
	for (i = 0; op->bytes && i < rb->nrows * rb->width; i++) {
		dal_value *v = &op->vals[i];
		if (v->type == DAL_TYPE_TEXT || v->type == DAL_TYPE_JSON || v->type == DAL_TYPE_BLOB)
			v->v.s = op->bytes + (uintptr_t)v->v.s;
	}
	rb->vals = NULL;
}

static int set_mask(dal__undo_op *op, const dal_model *m, const bool *set)
{
	size_t i;
	int id = dal_model_column_index(m, "id");

	if (!(op->set = calloc(m->ncolumns, sizeof(bool))))
		return dal__error_nomem();
	for (i = 0; i < m->ncolumns; i++)
		op->set[i] = (set ? set[i] : true) && (int)i != id;
	return 0;
}

int dal__undo_row(dal__undo_op **out, const dal_model *m, const dal_value *row, bool reinsert, const bool *set)
{
	rows_buf rb = { NULL, 0, 0, m->ncolumns, DAL_STR_INIT };
	dal__undo_op *op;
	int error;

	*out = NULL;
	if (!(op = op_new(reinsert ? OP_INSERT : OP_SET, m)))
		return dal__error_nomem();
	if ((error = (reinsert ? 0 : set_mask(op, m, set))) < 0 || (error = rows_add(&rb, row)) < 0) {
		rows_dispose(&rb);
		dal__undo_op_free(op);
		return error;
	}
	rows_finish(op, &rb);
	*out = op;
	return 0;
}

/* Where the rows a read finds go: model values, through `scratch` (ncolumns). */
typedef struct rows_sink {
	const dal_model *m;
	rows_buf *rb;
	dal_value *scratch;
} rows_sink;

static int sink_row(dal_stmt *stmt, void *payload)
{
	rows_sink *k = payload;
	size_t i;
	int error = 0;

	for (i = 0; i < k->m->ncolumns && error == 0; i++) {
		dal_value v;
		if ((error = stmt->conn->drv->column(stmt, (int)i, &v)) == 0)
			error = dal__value_to_column(&k->scratch[i], k->m, i, &v);
	}
	return error < 0 ? error : rows_add(k->rb, k->scratch);
}

/* Stage ids and, with `set`, those columns of `rows` into STAGE. */
static int stage(dal_conn *conn, const dal_model *m, const int64_t *ids, const dal_value *rows, size_t n,
                 const bool *set)
{
	const dal_dialect *d = conn->drv->dialect;
	int id = dal_model_column_index(m, "id");
	int *cols = calloc(m->ncolumns + 1, sizeof(int));
	const char **names = calloc(m->ncolumns + 1, sizeof(char *));
	dal_value *mat = NULL;
	dal_str ddl = DAL_STR_INIT;
	size_t k = 0, i, r, w;
	int error = 0;

	if (!cols || !names) {
		error = dal__error_nomem();
		goto done;
	}
	cols[k++] = id;
	for (i = 0; set && i < m->ncolumns; i++)
		if (set[i] && (int)i != id)
			cols[k++] = (int)i;
	w = k;
	for (i = 0; i < w; i++)
		names[i] = m->columns[cols[i]].name;
	if (!(mat = calloc(n * w + 1, sizeof(*mat)))) {
		error = dal__error_nomem();
		goto done;
	}
	for (r = 0; r < n; r++)
		for (i = 0; i < w; i++)
			mat[r * w + i] = rows ? rows[r * m->ncolumns + (size_t)cols[i]] : dal_int(ids[r]);
	error = dal__sql_bulk_temp(&ddl, d, m, STAGE, false, cols, w);
	error = error ? error : dal__conn_exec(conn, ddl.ptr);
	error = error ? error : conn->drv->bulk_insert(conn, STAGE, names, w, mat, n, NULL);
done:
	dal__str_dispose(&ddl);
	free(cols);
	free(names);
	free(mat);
	return error;
}

static int unstage(dal_conn *conn, int error)
{
	dal_str sql = DAL_STR_INIT;
	int e = dal__sql_bulk_drop(&sql, conn->drv->dialect, STAGE);

	e = e ? e : dal__conn_exec(conn, sql.ptr);
	dal__str_dispose(&sql);
	return error < 0 ? error : e;
}

static bool staged(const dal_conn *conn, size_t n)
{
	return n > LIST_IDS && conn->drv->bulk_insert != NULL;
}

/* A statement over a set of ids: the SELECT of their old rows (into `k`), or their DELETE. */
typedef struct ids_stmt {
	const dal_model *m;
	rows_sink *k;          /* the SELECT's rows; NULL: DELETE */
	bool live, lock;       /* SELECT: live rows only; lock them (dal__sql_bulk_select) */
} ids_stmt;

static int ids_run(dal_conn *conn, const ids_stmt *st, dal__bulk_ids how, const dal_value *p, size_t n)
{
	const dal_dialect *d = conn->drv->dialect;
	dal_str sql = DAL_STR_INIT;
	int error;

	if (st->k)
		error = dal__sql_bulk_select(&sql, d, st->m, how, STAGE, n, st->live, st->lock);
	else
		error = dal__sql_bulk_delete(&sql, d, st->m, false, how, STAGE, n);
	if (error == 0 && st->k)
		error = dal__conn_each(conn, sql.ptr, 0, p, n, NULL, sink_row, st->k);
	else if (error == 0)
		error = dal__conn_run(conn, sql.ptr, p, n, NULL);
	dal__str_dispose(&sql);
	return error;
}

/* Run the statement for the ids, set-based: through STAGE, or LIST_IDS ids at a time. */
static int for_ids(dal_conn *conn, const ids_stmt *st, const int64_t *ids, size_t n)
{
	dal_value p[LIST_IDS];
	size_t r0, i;
	int error = 0;

	if (staged(conn, n)) {
		if ((error = stage(conn, st->m, ids, NULL, n, NULL)) == 0)
			error = unstage(conn, ids_run(conn, st, DAL__IDS_TEMP, NULL, 0));
		return error;
	}
	for (r0 = 0; r0 < n && error == 0; r0 += LIST_IDS) {
		size_t c = n - r0 < LIST_IDS ? n - r0 : LIST_IDS;
		for (i = 0; i < c; i++)
			p[i] = dal_int(ids[r0 + i]);
		error = ids_run(conn, st, DAL__IDS_LIST, p, c);
	}
	return error;
}

int dal__undo_read(dal__undo_op **out, dal_conn *conn, const dal_model *m, const int64_t *ids, size_t n,
                   bool live_only, bool reinsert, const bool *set, bool lock)
{
	rows_buf rb = { NULL, 0, 0, m->ncolumns, DAL_STR_INIT };
	dal_value *scratch = calloc(m->ncolumns, sizeof(dal_value));
	rows_sink k = { m, &rb, scratch };
	ids_stmt st = { m, &k, live_only, lock };
	dal__undo_op *op = op_new(reinsert ? OP_INSERT : OP_SET, m);
	int error;

	*out = NULL;
	if (!scratch || !op) {
		error = dal__error_nomem();
		goto done;
	}
	if (!reinsert && (error = set_mask(op, m, set)) < 0)
		goto done;
	if ((error = for_ids(conn, &st, ids, n)) == 0) {
		rows_finish(op, &rb);
		*out = op;
		op = NULL;
	}
done:
	rows_dispose(&rb);
	dal__undo_op_free(op);
	free(scratch);
	return error;
}

const dal_value *dal__undo_op_rows(const dal__undo_op *op, size_t *n)
{
	*n = op ? op->nrows : 0;
	return op ? op->vals : NULL;
}

/* ---- applying ---- */

static int undo_delete(dal_conn *conn, const dal__undo_op *op)
{
	ids_stmt st = { op->model, NULL, false, false };

	return for_ids(conn, &st, op->ids, op->nrows);
}

/* UPDATE .. FROM the staged old values, whether the rows are live or not. */
static int undo_set_staged(dal_conn *conn, const dal__undo_op *op)
{
	const dal_model *m = op->model;
	int *cols = malloc(m->ncolumns * sizeof(int));
	dal_str s = DAL_STR_INIT;
	size_t i, k = 0;
	int error;

	if (!cols)
		return dal__error_nomem();
	for (i = 0; i < m->ncolumns; i++)
		if (op->set[i])
			cols[k++] = (int)i;
	error = dal__sql_bulk_update_from(&s, conn->drv->dialect, m, STAGE, cols, k, false, false);
	if (error == 0 && (error = stage(conn, m, NULL, op->vals, op->nrows, op->set)) == 0)
		error = unstage(conn, dal__conn_run(conn, s.ptr, NULL, 0, NULL));
	dal__str_dispose(&s);
	free(cols);
	return error;
}

static int undo_set(dal_conn *conn, const dal__undo_op *op)
{
	const dal_model *m = op->model;
	int id = dal_model_column_index(m, "id");
	dal_value *p = NULL;
	bool *redact = NULL;
	dal_str s = DAL_STR_INIT;
	size_t i, r, k, nset = 0;
	int error = 0;

	for (i = 0; i < m->ncolumns; i++)
		nset += op->set[i];
	if (nset == 0 || op->nrows == 0)
		return 0;
	if (staged(conn, op->nrows))
		return undo_set_staged(conn, op);
	if ((error = dal__sql_update(&s, conn->drv->dialect, m, op->set, 0, false)) < 0)
		goto done;
	if (!(p = calloc(nset + 1, sizeof(*p))) || !(redact = calloc(nset + 1, sizeof(bool)))) {
		error = dal__error_nomem();
		goto done;
	}
	dal__redact_of(redact, m, op->set);
	for (r = 0; r < op->nrows && error == 0; r++) {
		const dal_value *row = &op->vals[r * m->ncolumns];
		for (i = 0, k = 0; i < m->ncolumns; i++)
			if (op->set[i])
				p[k++] = row[i];
		p[k++] = row[id];
		error = dal__conn_run_redacted(conn, s.ptr, p, k, redact, NULL);
	}
done:
	free(p);
	free(redact);
	dal__str_dispose(&s);
	return error;
}

static int undo_insert(dal_conn *conn, const dal__undo_op *op)
{
	const dal_model *m = op->model;
	const char **names = NULL;
	bool *all = NULL, *redact = NULL;
	dal_str s = DAL_STR_INIT;
	size_t i, r;
	int error = 0;

	if (op->nrows == 0)
		return 0;
	if (conn->drv->bulk_insert) {
		if (!(names = calloc(m->ncolumns, sizeof(*names))))
			return dal__error_nomem();
		for (i = 0; i < m->ncolumns; i++)
			names[i] = m->columns[i].name;
		error = conn->drv->bulk_insert(conn, m->table, names, m->ncolumns, op->vals, op->nrows, NULL);
		free(names);
		return error;
	}
	if (!(all = calloc(m->ncolumns, sizeof(bool))) || !(redact = calloc(m->ncolumns, sizeof(bool)))) {
		free(all);
		return dal__error_nomem();
	}
	for (i = 0; i < m->ncolumns; i++)
		all[i] = true;
	dal__redact_of(redact, m, NULL);
	error = dal__sql_insert(&s, conn->drv->dialect, m, all);
	for (r = 0; r < op->nrows && error == 0; r++)
		error = dal__conn_run_redacted(conn, s.ptr, &op->vals[r * m->ncolumns], m->ncolumns, redact, NULL);
	dal__str_dispose(&s);
	free(all);
	free(redact);
	return error;
}

static int undo_audit(dal_conn *conn, const dal__undo_op *op)
{
	dal_value last = dal_int(op->audit_last), head[2] = { dal_int(op->audit_last), dal_text(op->audit_hash) };
	int error = dal__conn_run(conn, dal__sql_audit_truncate, &last, 1, NULL);

	return error ? error : dal__conn_run(conn, dal__sql_audit_rewind, head, 2, NULL);
}

int dal__undo_rollback(dal__tx *tx)
{
	dal_conn *conn = tx->conn;
	dal__undo *log = tx->undo;
	dal__undo_op *op;
	int error = 0;

	if (!log)
		return 0;
	if (log->broken)
		error = dal__error(DAL_ERROR, "nested unit of work: a change made in it could not be recorded for undo, "
			"so its rollback cannot undo exactly its own work; the outer unit cannot commit");
	for (op = log->ops; op && error == 0; op = op->next) {
		switch (op->kind) {
		case OP_DELETE: error = undo_delete(conn, op); break;
		case OP_SET: error = undo_set(conn, op); break;
		case OP_INSERT: error = undo_insert(conn, op); break;
		default: error = undo_audit(conn, op); break;
		}
	}
	pop(tx);
	return error;
}
