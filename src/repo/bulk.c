/* Bulk create, update and delete: all rows or none, at the engine's own speed. */
#include "repo/repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "conn.h"
#include "repo/rows.h"
#include "repo/undo.h"
#include "row.h"
#include "sql/build.h"
#include "sql/bulk.h"

/* Rows per COPY / Appender call and per staging batch: the memory dal adds
 * stays at CHUNK rows whatever the input size. */
#define CHUNK 16384
/* Ids per `= ANY(array)` statement. */
#define ANY_CHUNK 50000
/* Ids per `id IN (?, ..)` statement. */
#define LIST_IDS 100
/* Rows per multi-row INSERT on the generic path (SQLite). Measured on 100,000 rows
 * against a raw prepared INSERT in one transaction: 1 row per statement 0.49x
 * (RETURNING per row), 8 0.75x, 32 0.93x, 100 ~1.1x. */
#define TUPLES 64
/* The staging table of a bulk call (a temporary table, dropped before the call returns). */
#define STAGE "_dal_bulk"

/* Audit rows queued by a bulk call, written AUDIT_BATCH at a time. */
typedef struct audit_batch {
	dal__audit_rec *recs;
	char **json;               /* old, new of each rec (owned) */
	size_t n;
	dal_value *nv;             /* ncolumns: a new row being built */
	bool *mask;                /* ncolumns */
} audit_batch;

typedef struct bulk {
	dal_repo *repo;
	const char *what;          /* "bulk create", for messages */
	int *cols;                 /* model index of each input column */
	size_t ncols;
	const dal_value *values;   /* the caller's, row-major nrows x ncols */
	size_t nrows;
	int id_at;                 /* input position of the id column, or -1 */
	bool has_created, has_updated;
	dal_session s;
	bool open;
	int64_t changed;        /* rows the call changed, for the statistics (repo/stats.c) */
	audit_batch audit;
} bulk;

/* ---- audit: one BULK_* row per entity, in the call's transaction ---- */

/* Audit rows per dal__audit_write(): bounds the JSON held at once. */
#define AUDIT_BATCH 4096

static bool audited(const bulk *b)
{
	return (b->repo->flags & DAL_AUDIT) != 0;
}

static void audit_clear(audit_batch *a)
{
	size_t i;

	for (i = 0; i < 2 * a->n; i++)
		free(a->json[i]);
	a->n = 0;
}

static void audit_free(audit_batch *a)
{
	if (a->json)
		audit_clear(a);
	free(a->recs);
	free(a->json);
	free(a->nv);
	free(a->mask);
	memset(a, 0, sizeof(*a));
}

static int audit_flush(bulk *b)
{
	audit_batch *a = &b->audit;
	int error;

	if (a->n == 0)
		return 0;
	error = dal__audit_write(&b->s, dal__repo_audit_ctx(b->repo), a->recs, a->n);
	audit_clear(a);
	return error;
}

static int audit_alloc(bulk *b)
{
	audit_batch *a = &b->audit;
	size_t n = b->repo->model->ncolumns;

	if (a->recs)
		return 0;
	if (!(a->recs = calloc(AUDIT_BATCH, sizeof(*a->recs))) || !(a->json = calloc(2 * AUDIT_BATCH, sizeof(char *))) ||
	    !(a->nv = calloc(n, sizeof(dal_value))) || !(a->mask = calloc(n, sizeof(bool))))
		return dal__error_nomem();
	return 0;
}

/* Queue one audit row; old/new are whole rows (model order) with masks of the columns to record. */
static int audit_add(bulk *b, const char *action, int64_t id, const dal_value *old_vals, const bool *old_mask,
                     const dal_value *new_vals, const bool *new_mask)
{
	audit_batch *a = &b->audit;
	const dal_model *m = b->repo->model;
	char *o = NULL, *n = NULL;
	int error = 0;

	if ((error = audit_alloc(b)) < 0)
		return error;
	if (old_vals)
		error = dal__audit_json(&o, m, old_vals, old_mask);
	if (error == 0 && new_vals)
		error = dal__audit_json(&n, m, new_vals, new_mask);
	if (error < 0) {
		free(o);
		free(n);
		return error;
	}
	a->json[2 * a->n] = o;
	a->json[2 * a->n + 1] = n;
	a->recs[a->n++] = (dal__audit_rec){ action, m->table, id, o, n, 0 };
	return a->n == AUDIT_BATCH ? audit_flush(b) : 0;
}

/* The read cache holds these ids until the call's transaction (or the unit's) ends and
 * forgets them if it commits. Called before the call commits, so no reader sees the
 * committed change while the old row is still served. */
static void cache_hook(bulk *b, const int64_t *ids, size_t n)
{
	dal__cache_hold(b->s.tx, b->repo->cache_tab, ids, n);
}

/* ---- errors ---- */

/* Say where the failure happened, keeping the code, SQLSTATE and engine code. */
static int at_rows(const bulk *b, int error, size_t first, size_t last)
{
	const dal_error *e = dal_error_last();
	char msg[768], state[8];
	int engine_code = e->engine_code;

	snprintf(msg, sizeof(msg), "%s", e->message);
	snprintf(state, sizeof(state), "%s", e->sqlstate);
	if (last > first)
		return dal__error_engine(error, *state ? state : NULL, engine_code, "%s of '%s': in rows %zu-%zu: %s",
			b->what, b->repo->model->table, first, last, msg);
	return dal__error_engine(error, *state ? state : NULL, engine_code, "%s of '%s': row %zu: %s", b->what,
		b->repo->model->table, first, msg);
}

static void timed(dal_conn *conn, const char *label, int64_t t0, int error)
{
	if (conn->db)
		dal__metrics_record(&conn->db->metrics, label, 0, dal_now() - t0, error);
}

/* ---- checks, before any SQL ---- */

static int map_columns(bulk *b, const char *const *columns, size_t ncolumns, bool update)
{
	const dal_model *m = b->repo->model;
	size_t k, j;

	b->id_at = -1;
	if (ncolumns && !columns)
		return dal__error(DAL_EINVAL, "%s of '%s': 'columns' is NULL with %zu columns", b->what, m->table, ncolumns);
	if (b->nrows && ncolumns && !b->values)
		return dal__error(DAL_EINVAL, "%s of '%s': 'values' is NULL with %zu rows", b->what, m->table, b->nrows);
	if (ncolumns && b->nrows > SIZE_MAX / ncolumns / sizeof(dal_value))
		return dal__error(DAL_EINVAL, "%s of '%s': %zu rows of %zu columns is too many", b->what, m->table,
			b->nrows, ncolumns);
	if (ncolumns > m->ncolumns)
		return dal__error(DAL_EINVAL, "%s of '%s': %zu columns given, the table has %zu", b->what, m->table,
			ncolumns, m->ncolumns);
	if (!(b->cols = calloc(ncolumns ? ncolumns : 1, sizeof(int))))
		return dal__error_nomem();
	b->ncols = ncolumns;
	for (k = 0; k < ncolumns; k++) {
		int i = columns[k] ? dal_model_column_index(m, columns[k]) : -1;
		if (i < 0)
			return dal__error(DAL_EINVAL, "%s of '%s': table '%s' has no column '%s'", b->what, m->table,
				m->table, columns[k] ? columns[k] : "(null)");
		for (j = 0; j < k; j++)
			if (b->cols[j] == i)
				return dal__error(DAL_EINVAL, "%s of '%s': column '%s' is given twice", b->what, m->table,
					columns[k]);
		if (i == b->repo->col_id) {
			if (update)
				return dal__error(DAL_EINVAL, "%s of '%s': the id column cannot be changed", b->what, m->table);
			b->id_at = (int)k;
		}
		if (update && b->repo->soft && i == b->repo->col_deleted)
			return dal__error(DAL_EINVAL, "%s of '%s': deleted_at is set by dal_repo_bulk_delete and "
				"dal_repo_restore, not by an update", b->what, m->table);
		b->has_created |= i == b->repo->col_created;
		b->has_updated |= i == b->repo->col_updated;
		b->cols[k] = i;
	}
	return 0;
}

/* Value k of row r, converted to its column's type and checked. */
static int value_at(dal_value *out, const bulk *b, size_t r, size_t k)
{
	const dal_model *m = b->repo->model;
	const dal_column *c = &m->columns[b->cols[k]];
	int error;

	if ((error = dal__value_to_column(out, m, (size_t)b->cols[k], &b->values[r * b->ncols + k])) < 0)
		return at_rows(b, error, r, r);
	if (out->type == DAL_TYPE_NULL && (c->flags & DAL_NOT_NULL))
		return dal__error(DAL_ECONSTRAINT, "%s of '%s': row %zu: column '%s.%s' is not null", b->what, m->table,
			r, m->table, c->name);
	if ((error = dal__value_check(m, (size_t)b->cols[k], out)) < 0)
		return at_rows(b, error, r, r);
	return 0;
}

static int check_rows(const bulk *b)
{
	size_t r, k;
	dal_value v;
	int error;

	for (r = 0; r < b->nrows; r++)
		for (k = 0; k < b->ncols; k++)
			if ((error = value_at(&v, b, r, k)) < 0)
				return error;
	return 0;
}

/* The input position of model column `col`, or -1. */
static int input_of(const bulk *b, int col)
{
	size_t k;

	for (k = 0; k < b->ncols; k++)
		if (b->cols[k] == col)
			return (int)k;
	return -1;
}

/* A column dal fills on create when it is not given: created_at, updated_at, DAL_DEFAULT_NOW. */
static bool stamped(const bulk *b, int col)
{
	const dal_repo *repo = b->repo;

	return input_of(b, col) < 0 && (col == repo->col_created || col == repo->col_updated ||
		(repo->model->columns[col].flags & DAL_DEFAULT_NOW));
}

/* A DAL_SENSITIVE column: its values are never echoed. */
static bool sensitive(const bulk *b, int col)
{
	return (b->repo->model->columns[col].flags & DAL_SENSITIVE) != 0;
}

/* A not-null column nobody fills fails every row: say so before any SQL. */
static int check_missing(const bulk *b)
{
	const dal_repo *repo = b->repo;
	const dal_model *m = repo->model;
	size_t i;

	for (i = 0; i < m->ncolumns && b->nrows; i++) {
		if (!(m->columns[i].flags & DAL_NOT_NULL) || (int)i == repo->col_id || stamped(b, (int)i))
			continue;
		if (input_of(b, (int)i) < 0)
			return dal__error(DAL_ECONSTRAINT, "%s of '%s': row 0: not-null column '%s.%s' is not given",
				b->what, m->table, m->table, m->columns[i].name);
	}
	return 0;
}

typedef struct id_at { int64_t id; size_t row; } id_at;

static int by_id_then_row(const void *a, const void *c)
{
	const id_at *x = a, *y = c;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* Two rows for one id would leave the result to the engine's whim: refused. */
static int check_ids_unique(const bulk *b, const int64_t *ids)
{
	id_at *v;
	size_t i, dup = SIZE_MAX, first = 0;

	if (b->nrows < 2)
		return 0;
	if (!(v = malloc(b->nrows * sizeof(*v))))
		return dal__error_nomem();
	for (i = 0; i < b->nrows; i++) {
		v[i].id = ids[i];
		v[i].row = i;
	}
	qsort(v, b->nrows, sizeof(*v), by_id_then_row);
	for (i = 1; i < b->nrows; i++)
		if (v[i].id == v[i - 1].id && v[i].row < dup) {
			dup = v[i].row;
			first = v[i - 1].row;
		}
	free(v);
	if (dup != SIZE_MAX)
		return dal__error(DAL_EINVAL, "%s of '%s': row %zu: id %lld is also in row %zu", b->what,
			b->repo->model->table, dup, (long long)ids[dup], first);
	return 0;
}

/* ---- the call's transaction ---- */

/* In the caller's unit of work the call is one scope of it: a failure undoes this
 * call and nothing before it. */
static int begin(bulk *b)
{
	int error;

	if ((error = dal__repo_session(&b->s, b->repo, DAL__SESSION_WRITE_MANY | DAL__SESSION_TX | DAL__TX_WRITE)) < 0)
		return error;
	b->open = true;
	return 0;
}

/* A savepoint (the call's scope in a unit) undoes the staging table with the rest. */
static bool undone_by_savepoint(const bulk *b)
{
	return b->s.scoped && !b->s.scope.emulated;
}

static int end(bulk *b, int error)
{
	bool own;

	if (!b->open)
		return error;
	b->open = false;
	own = !dal__session_in_unit(&b->s);
	error = dal__session_close(&b->s, error);
	/* In a unit of work the rows are not committed yet, and ANALYZE there would hold
	 * its lock to the unit's end: the engine's own upkeep refreshes them later. */
	if (error == 0 && own)
		dal__repo_stats_after_bulk(b->repo, b->changed);
	return error;
}

static void bulk_free(bulk *b)
{
	audit_free(&b->audit);
	free(b->cols);
}

/* Run a write of the table with params to the end; its changes to *changes. */
static int run(int64_t *changes, bulk *b, const char *sql, const dal_value *params, size_t n)
{
	return dal__repo_write(NULL, changes, b->repo, &b->s, sql, params, n, NULL);
}

static int exec_sql(bulk *b, const char *sql)
{
	return dal__conn_exec(b->s.conn, sql);
}

static int stage_insert(bulk *b, const char *table, const char *const *names, size_t w, const dal_value *m,
                        size_t n, size_t first)
{
	dal_conn *conn = b->s.conn;
	size_t bad = SIZE_MAX;
	int64_t t0 = dal_now();
	int error;

	if (strcmp(table, STAGE) != 0)
		dal__session_wrote(&b->s);
	error = conn->drv->bulk_insert(conn, table, names, w, m, n, &bad);

	timed(conn, "BULK INSERT", t0, error);
	if (error < 0)
		return bad < n ? at_rows(b, error, first + bad, first + bad) : at_rows(b, error, first, first + n - 1);
	return 0;
}

/* ---- staging (engines with bulk_insert) ---- */

/*
 * Copy the caller's rows into the staging table: _dal_idx, [id,] the given
 * columns. `ids` (update) gives the id of each row.
 */
static int stage_rows(bulk *b, const int64_t *ids, const int *which, size_t nwhich)
{
	const dal_model *m = b->repo->model;
	const char **names = NULL;
	dal_value *mat = NULL;
	size_t w = 1 + (ids != NULL) + nwhich, r0, r, k, j;
	int error = 0;

	if (!(names = calloc(w, sizeof(*names))) || !(mat = calloc(CHUNK * w, sizeof(*mat)))) {
		error = dal__error_nomem();
		goto done;
	}
	j = 0;
	names[j++] = DAL__BULK_IDX;
	if (ids)
		names[j++] = "id";
	for (k = 0; k < nwhich; k++)
		names[j++] = m->columns[b->cols[which[k]]].name;
	for (r0 = 0; r0 < b->nrows && error == 0; r0 += CHUNK) {
		size_t n = b->nrows - r0 < CHUNK ? b->nrows - r0 : CHUNK;
		for (r = 0; r < n && error == 0; r++) {
			dal_value *row = &mat[r * w];
			j = 0;
			row[j++] = dal_int((int64_t)(r0 + r));
			if (ids)
				row[j++] = dal_int(ids[r0 + r]);
			for (k = 0; k < nwhich && error == 0; k++)
				error = value_at(&row[j++], b, r0 + r, (size_t)which[k]);
		}
		if (error == 0)
			error = stage_insert(b, STAGE, names, w, mat, n, r0);
	}
done:
	free(names);
	free(mat);
	return error;
}

static int stage_create(bulk *b, bool ids, const int *which, size_t nwhich)
{
	dal_str sql = DAL_STR_INIT;
	int *cols = NULL;
	size_t k;
	int error;

	if (!(cols = calloc(nwhich + 1, sizeof(int))))
		return dal__error_nomem();
	k = 0;
	if (ids)
		cols[k++] = b->repo->col_id;
	for (size_t i = 0; i < nwhich; i++)
		cols[k++] = b->cols[which[i]];
	error = dal__sql_bulk_temp(&sql, b->repo->db->drv->dialect, b->repo->model, STAGE, true, cols, k);
	error = error ? error : exec_sql(b, sql.ptr);
	dal__str_dispose(&sql);
	free(cols);
	return error;
}

static int stage_drop(bulk *b)
{
	char q = b->repo->db->drv->dialect->quote, sql[64];

	/* Built without allocating: a call that failed for lack of memory must still drop
	 * it, or the unit's next bulk call finds it there. */
	snprintf(sql, sizeof(sql), "DROP TABLE %c%s%c", q, STAGE, q);
	return exec_sql(b, sql);
}

/* Without a savepoint to undo it, a failed call still drops its staging table,
 * so the caller's unit of work can go on; the first error is the one reported. */
static int stage_drop_after(bulk *b, int error)
{
	dal__error_saved saved;

	if (error == 0)
		return stage_drop(b);
	dal__error_save(&saved);
	if (!undone_by_savepoint(b) && stage_drop(b) < 0)
		dal__error_restore(&saved);
	return error;
}

/*
 * Unique among live rows where no partial index keeps it (DuckDB): with the
 * batch's values staged, one query per unique column finds the first row that
 * repeats a value of the batch or of a live row outside it.
 */
static int check_unique_staged(bulk *b, bool update)
{
	const dal_model *m = b->repo->model;
	size_t k, bad = SIZE_MAX;
	int col = -1, error = 0;

	for (k = 0; k < b->ncols && error == 0; k++) {
		dal_str sql = DAL_STR_INIT;
		int64_t idx = 0;
		bool found = false;
		if (!(m->columns[b->cols[k]].flags & DAL_UNIQUE))
			continue;
		error = dal__sql_bulk_unique(&sql, b->repo->db->drv->dialect, m, STAGE, b->cols[k], update);
		error = error ? error : dal__conn_scalar(&idx, &found, b->s.conn, sql.ptr, NULL, 0, NULL);
		dal__str_dispose(&sql);
		if (error == 0 && found && (size_t)idx < bad) {
			bad = (size_t)idx;
			col = b->cols[k];
		}
	}
	if (error == 0 && col >= 0)
		error = dal__error(DAL_ECONSTRAINT, "%s of '%s': row %zu: duplicate value for unique column '%s.%s' "
			"(among live rows)", b->what, m->table, bad, m->table, m->columns[col].name);
	return error;
}

static bool unique_given(const bulk *b, int *which, size_t *n)
{
	size_t k;

	*n = 0;
	for (k = 0; k < b->ncols; k++)
		if (b->repo->model->columns[b->cols[k]].flags & DAL_UNIQUE)
			which[(*n)++] = (int)k;
	return *n > 0;
}

/* ---- create ---- */

static int cmp_i64(const void *a, const void *c)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)c;

	return x < y ? -1 : x > y;
}

/* Ids read row by row: up to `n` kept, all counted. */
typedef struct id_list {
	int64_t *ids;
	size_t n, got;
} id_list;

static int id_row(dal_stmt *stmt, void *payload)
{
	id_list *l = payload;
	dal_value v;
	int error;

	if ((error = stmt->conn->drv->column(stmt, 0, &v)) < 0)
		return error;
	if (l->got < l->n)
		l->ids[l->got] = v.type == DAL_TYPE_INT ? v.v.i : 0;
	l->got++;
	return 0;
}

/* `n` fresh ids from the table's sequence, ascending, so that rows get them in input order. */
static int next_ids(int64_t *ids, bulk *b, const char *sql, size_t n)
{
	dal_value p = dal_int((int64_t)n);
	id_list l = { ids, n, 0 };
	int error;

	if ((error = dal__conn_each(b->s.conn, sql, 0, &p, 1, NULL, id_row, &l)) < 0)
		return error;
	if (l.got != n)
		return dal__error(DAL_ERROR, "%s of '%s': the id sequence gave %zu ids for %zu rows", b->what,
			b->repo->model->table, l.got, n);
	qsort(ids, n, sizeof(*ids), cmp_i64);
	return 0;
}

/* Engines with bulk_insert: ids drawn in input order, then COPY / the Appender with explicit ids. */
enum { SRC_NULL = -1, SRC_ID = -2, SRC_NOW = -3, SRC_CREATED = -4 };

static int create_fast(bulk *b, int64_t *ids_out, int64_t now)
{
	const dal_repo *repo = b->repo;
	const dal_model *m = repo->model;
	dal_str seq = DAL_STR_INIT;
	const char **names = NULL;
	dal_value *mat = NULL;
	int64_t *ids = NULL;
	int *src = NULL;       /* per model column: input position, or SRC_* */
	size_t w = m->ncolumns, r0, r, i;
	bool own_id = b->id_at < 0;
	int error = 0;

	if (!(names = calloc(w, sizeof(*names))) || !(mat = calloc(CHUNK * w, sizeof(*mat))) ||
	    !(ids = calloc(CHUNK, sizeof(*ids))) || !(src = calloc(w, sizeof(int)))) {
		error = dal__error_nomem();
		goto done;
	}
	/*
	 * Every column is sent, NULL where nothing is given: DuckDB 1.4's Appender
	 * leaves the statistics of a column it fills with its default claiming "no
	 * NULLs", and `deleted_at IS NULL` then finds no row.
	 */
	for (i = 0; i < w; i++) {
		names[i] = m->columns[i].name;
		if ((src[i] = input_of(b, (int)i)) >= 0)
			continue;
		if ((int)i == repo->col_id)
			src[i] = SRC_ID;
		else if ((int)i == repo->col_updated)
			/* As a single create: updated_at is the row's own created_at unless given. */
			src[i] = b->has_created ? SRC_CREATED : SRC_NOW;
		else
			src[i] = stamped(b, (int)i) ? SRC_NOW : SRC_NULL;
	}
	if (own_id && (error = dal__str_printf(&seq, repo->db->drv->dialect->next_ids_sql, m->table)) < 0)
		goto done;
	for (r0 = 0; r0 < b->nrows && error == 0; r0 += CHUNK) {
		size_t n = b->nrows - r0 < CHUNK ? b->nrows - r0 : CHUNK;
		if (own_id && (error = next_ids(ids, b, seq.ptr, n)) < 0)
			break;
		for (r = 0; r < n && error == 0; r++) {
			dal_value *row = &mat[r * w];
			for (i = 0; i < w && error == 0; i++) {
				switch (src[i]) {
				case SRC_NULL: row[i] = dal_null(); break;
				case SRC_ID: row[i] = dal_int(ids[r]); break;
				case SRC_NOW: row[i] = dal_timestamp(now); break;
				case SRC_CREATED: break;
				default: error = value_at(&row[i], b, r0 + r, (size_t)src[i]);
				}
			}
			for (i = 0; i < w && error == 0; i++)
				if (src[i] == SRC_CREATED)
					row[i] = row[repo->col_created];
			if (!own_id)
				ids[r] = row[repo->col_id].v.i;
		}
		if (error == 0)
			error = stage_insert(b, m->table, names, w, mat, n, r0);
		if (error == 0)
			error = dal__undo_created(b->s.tx, m, ids, n);
		if (error == 0)
			error = dal__repo_wrote(repo, &b->s);
		for (r = 0; r < n && error == 0 && audited(b); r++)
			error = audit_add(b, "BULK_CREATE", ids[r], NULL, NULL, &mat[r * w], repo->created_mask);
		if (error == 0 && ids_out)
			memcpy(ids_out + r0, ids, n * sizeof(*ids));
	}
done:
	dal__str_dispose(&seq);
	free(names);
	free(mat);
	free(ids);
	free(src);
	return error;
}

/* The generic path's INSERT for `t` rows at a time and its parameters. */
typedef struct gen_insert {
	bulk *b;
	int *cols;             /* the input columns, then those dal stamps (stamped()) */
	size_t w;
	size_t created_at;     /* input position of created_at, or SIZE_MAX */
	int64_t now;
	dal_value *params;     /* TUPLES * w */
	bool *redact;          /* of params: the values of DAL_SENSITIVE columns, never echoed */
	int64_t *ids;          /* TUPLES */
} gen_insert;

/* Rows r0 .. r0+n-1 through one INSERT of n tuples; their ids, in input order, into g->ids. */
static int insert_rows(gen_insert *g, size_t r0, size_t n)
{
	bulk *b = g->b;
	dal_str sql = DAL_STR_INIT;
	dal_stmt *stmt = NULL;
	dal_value v;
	size_t r, k, j, got = 0;
	int error;

	if ((error = dal__sql_bulk_insert(&sql, b->repo->db->drv->dialect, b->repo->model, g->cols, g->w, n)) < 0 ||
	    (error = dal__conn_prepare(&stmt, b->s.conn, sql.ptr, 0)) < 0)
		goto done;
	for (r = 0; r < n; r++) {
		dal_value *p = &g->params[r * g->w];
		for (k = 0; k < b->ncols; k++)
			if ((error = value_at(&p[k], b, r0 + r, k)) < 0)
				goto done;
		/* As a single create: updated_at is the row's own created_at unless given. */
		for (j = b->ncols; j < g->w; j++)
			p[j] = g->cols[j] == b->repo->col_updated && g->created_at != SIZE_MAX ? p[g->created_at]
			                                                                      : dal_timestamp(g->now);
	}
	dal__session_wrote(&b->s);
	for (error = dal__stmt_exec_redacted(stmt, g->params, n * g->w, g->redact); error == DAL__ROW;
	     error = dal__stmt_step(stmt)) {
		if ((error = stmt->conn->drv->column(stmt, 0, &v)) < 0)
			break;
		if (got < n)
			g->ids[got++] = v.type == DAL_TYPE_INT ? v.v.i : 0;
	}
	stmt->conn->drv->reset(stmt);
	/* RETURNING's order is unspecified. Ids the caller gave are read from the input, in its
	 * order; new ones grow in insert order within the call's write lock. */
	if (error == 0 && b->id_at >= 0)
		for (r = 0; r < n; r++)
			g->ids[r] = g->params[r * g->w + (size_t)b->id_at].v.i;
	else if (error == 0 && n > 1)
		qsort(g->ids, got, sizeof(*g->ids), cmp_i64);
	if (error == 0)
		error = dal__undo_created(b->s.tx, b->repo->model, g->ids, got);
	if (error == 0)
		error = dal__repo_wrote(b->repo, &b->s);
done:
	dal__stmt_release(stmt);
	dal__str_dispose(&sql);
	return error;
}

/* BULK_CREATE rows of the INSERT just made: the row as stored but its id, the rows' resource_id
 * (no column has an engine default). */
static int audit_created(gen_insert *g, size_t n)
{
	bulk *b = g->b;
	const dal_model *m = b->repo->model;
	size_t r, i, k;
	int error = 0;

	for (r = 0; r < n && error == 0; r++) {
		dal_value *nv;
		if ((error = audit_alloc(b)) < 0)
			break;
		nv = b->audit.nv;
		for (i = 0; i < m->ncolumns; i++)
			nv[i] = dal_null();
		for (k = 0; k < g->w; k++)
			nv[g->cols[k]] = g->params[r * g->w + k];
		error = audit_add(b, "BULK_CREATE", g->ids[r], NULL, NULL, nv, b->repo->created_mask);
	}
	return error;
}

/*
 * Engines without bulk_insert (SQLite): one transaction, INSERTs of TUPLES rows
 * reused chunk after chunk. A failed INSERT undoes only itself, so its rows are
 * tried again one by one to name the row at fault.
 */
static int create_generic(bulk *b, int64_t *ids_out, int64_t now)
{
	const dal_repo *repo = b->repo;
	gen_insert g = { 0 };
	size_t r0, k, tuples;
	int error = 0;

	g.b = b;
	g.now = now;
	g.created_at = SIZE_MAX;
	if (!(g.cols = calloc(repo->model->ncolumns + 1, sizeof(int)))) {
		error = dal__error_nomem();
		goto done;
	}
	for (k = 0; k < b->ncols; k++) {
		g.cols[k] = b->cols[k];
		if (b->cols[k] == repo->col_created)
			g.created_at = k;
	}
	g.w = b->ncols;
	for (k = 0; k < repo->model->ncolumns; k++)
		if (stamped(b, (int)k))
			g.cols[g.w++] = (int)k;
	/* SQLite takes at most 32766 parameters per statement. */
	tuples = TUPLES;
	if (g.w && tuples * g.w > 32766)
		tuples = 32766 / g.w;
	if (g.w == 0)
		tuples = 1;
	if (!(g.params = calloc(tuples * g.w + 1, sizeof(dal_value))) || !(g.ids = calloc(tuples, sizeof(int64_t))) ||
	    !(g.redact = calloc(tuples * g.w + 1, sizeof(bool)))) {
		error = dal__error_nomem();
		goto done;
	}
	for (k = 0; k < tuples * g.w; k++)
		g.redact[k] = sensitive(b, g.cols[k % g.w]);
	for (r0 = 0; r0 < b->nrows && error == 0; r0 += tuples) {
		size_t n = b->nrows - r0 < tuples ? b->nrows - r0 : tuples, r;
		if ((error = insert_rows(&g, r0, n)) < 0) {
			if (n == 1 || error == DAL_EINVAL || error == DAL_ENOMEM) {
				error = n == 1 && error != DAL_EINVAL ? at_rows(b, error, r0, r0) : error;
				break;
			}
			for (r = 0; r < n && (error = insert_rows(&g, r0 + r, 1)) == 0; r++)
				;
			if (error == 0)
				error = dal__error(DAL_ERROR, "%s of '%s': rows %zu-%zu failed together, not alone",
					b->what, repo->model->table, r0, r0 + n - 1);
			else
				error = at_rows(b, error, r0 + r, r0 + r);
			break;
		}
		if (audited(b) && (error = audit_created(&g, n)) < 0)
			break;
		if (ids_out)
			memcpy(ids_out + r0, g.ids, n * sizeof(int64_t));
	}
done:
	free(g.cols);
	free(g.params);
	free(g.redact);
	free(g.ids);
	return error;
}

static int by_row_id(const void *a, const void *c)
{
	int64_t x = dal_row_id(*(dal_row *const *)a), y = dal_row_id(*(dal_row *const *)c);

	return (x > y) - (x < y);
}

/* Put `rows` (one per id, any order) in the order of `ids`. */
static int in_input_order(dal_rows *rows, const int64_t *ids)
{
	size_t n = rows->count;
	dal_row **sorted = malloc(n * sizeof(*sorted));

	if (!sorted)
		return dal__error_nomem();
	memcpy(sorted, rows->items, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), by_row_id);
	for (size_t i = 0; i < n; i++) {
		size_t lo = 0, hi = n;
		while (lo + 1 < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (dal_row_id(sorted[mid]) <= ids[i])
				lo = mid;
			else
				hi = mid;
		}
		rows->items[i] = sorted[lo];
	}
	free(sorted);
	return 0;
}

/* The rows a bulk create stored, read back in its transaction, in input order. */
static int read_created(dal_rows *rows, bulk *b, const int64_t *ids, size_t n)
{
	const dal_repo *repo = b->repo;
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_filter f = DAL_WHERE_IN(repo->model->columns[repo->col_id].name, NULL, n);
	dal_value *v;
	int error;

	if (!(v = malloc(n * sizeof(*v))))
		return dal__error_nomem();
	for (size_t i = 0; i < n; i++)
		v[i] = dal_int(ids[i]);
	f.values = v;
	c.filters = &f;
	c.nfilters = 1;
	c.include_deleted = true;
	error = dal__repo_find_in(rows, b->repo, &b->s, &c);
	free(v);
	if (error == 0 && rows->count != n)
		error = dal__error(DAL_ERROR, "%s of '%s': %zu rows stored but %zu read back", b->what,
			repo->model->table, n, rows->count);
	return error == 0 ? in_input_order(rows, ids) : error;
}

static int bulk_create(int64_t *ids_out, dal_rows *rows_out, dal_repo *repo, const char *const *columns,
                       size_t ncolumns, const dal_value *values, size_t nrows)
{
	bulk b = { 0 };
	int *which = NULL;
	size_t nwhich = 0;
	int error;
	bool fast;

	DAL_ASSERT_ARG(repo);
	b.repo = repo;
	b.what = "bulk create";
	b.values = values;
	b.nrows = nrows;
	fast = repo->db->drv->bulk_insert != NULL && repo->db->drv->dialect->next_ids_sql != NULL;
	if ((error = map_columns(&b, columns, ncolumns, false)) < 0 || (error = check_missing(&b)) < 0 ||
	    (error = check_rows(&b)) < 0)
		goto done;
	if (b.id_at >= 0) {
		int64_t *given = NULL;
		size_t r;
		if (nrows && !(given = malloc(nrows * sizeof(*given)))) {
			error = dal__error_nomem();
			goto done;
		}
		for (r = 0; r < nrows; r++)
			given[r] = values[r * ncolumns + (size_t)b.id_at].v.i;
		error = check_ids_unique(&b, given);
		free(given);
		if (error < 0)
			goto done;
	}
	if (nrows == 0)
		goto done;
	if (!(which = calloc(b.ncols + 1, sizeof(int)))) {
		error = dal__error_nomem();
		goto done;
	}
	if (repo->check_unique && unique_given(&b, which, &nwhich) && !repo->db->drv->bulk_insert) {
		error = dal__error(DAL_EUNSUPPORTED, "bulk create of '%s': unique among live rows needs a staging "
			"table, which %s cannot fill", repo->model->table, repo->db->drv->name);
		goto done;
	}
	if ((error = begin(&b)) < 0)
		goto done;
	if (nwhich && repo->check_unique) {
		if ((error = stage_create(&b, false, which, nwhich)) == 0) {
			error = stage_rows(&b, NULL, which, nwhich);
			error = error ? error : check_unique_staged(&b, false);
			error = stage_drop_after(&b, error);
		}
	}
	if (error == 0 && b.id_at >= 0)
		error = dal__repo_ids_given(repo, &b.s, b.what, values + b.id_at, ncolumns, nrows);
	if (error == 0)
		error = fast ? create_fast(&b, ids_out, dal_now()) : create_generic(&b, ids_out, dal_now());
	if (error == 0)
		error = audit_flush(&b);
	if (error == 0 && rows_out)
		error = read_created(rows_out, &b, ids_out, nrows);
	/* New ids have no cached row; the ones the caller sees are held all the same. */
	cache_hook(&b, ids_out, ids_out && error == 0 ? nrows : 0);
	b.changed = (int64_t)nrows;
	error = end(&b, error);
done:
	end(&b, error);
	free(which);
	bulk_free(&b);
	return error;
}

int dal_repo_bulk_create(int64_t *ids_out, dal_repo *repo, const char *const *columns, size_t ncolumns,
                         const dal_value *values, size_t nrows)
{
	return bulk_create(ids_out, NULL, repo, columns, ncolumns, values, nrows);
}

int dal_repo_bulk_create_rows(dal_rows **out, dal_repo *repo, const char *const *columns, size_t ncolumns,
                              const dal_value *values, size_t nrows)
{
	int64_t *ids = NULL;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	if (!(*out = calloc(1, sizeof(**out))) || (nrows && !(ids = malloc(nrows * sizeof(*ids))))) {
		free(*out);
		*out = NULL;
		return dal__error_nomem();
	}
	error = bulk_create(ids, *out, repo, columns, ncolumns, values, nrows);
	free(ids);
	if (error < 0) {
		dal_rows_free(*out);
		*out = NULL;
	}
	return error;
}

/* ---- undo in nested units emulated without savepoints (repo/undo.h) ---- */

/* The old rows of `ids`, read set-based before an update (`cols`: the columns it sets) or a
 * delete, for the undo log and the audit rows alike (one read); recorded with undo_after()
 * once the call's writes are done. Neither audited nor in an emulated nested unit: no read. */
static int undo_before(dal__undo_op **op, bulk *b, const int64_t *ids, size_t n, bool update, bool soft)
{
	const dal_repo *repo = b->repo;
	bool *set = NULL;
	size_t k;
	int error;

	*op = NULL;
	if (!b->s.tx->undo && !audited(b))
		return 0;
	if ((update || soft) && !(set = calloc(repo->model->ncolumns, sizeof(bool))))
		return dal__error_nomem();
	for (k = 0; update && k < b->ncols; k++)
		set[b->cols[k]] = true;
	if (soft)
		set[repo->col_deleted] = true;
	if (set && repo->col_updated >= 0)
		set[repo->col_updated] = true;
	/* Audited: lock the rows read where rows lock, so the old values recorded are the ones
	 * replaced (as single-row writes do). */
	error = dal__undo_read(op, b->s.conn, repo->model, ids, n, update ? repo->soft : soft, !update && !soft, set,
		audited(b));
	free(set);
	return error;
}

/* A failed call may have changed some rows: setting old values back is harmless on
 * the others, inserting deleted rows back is not (the scope then cannot be undone). */
static void undo_after(bulk *b, dal__undo_op **op, int error, bool reinsert)
{
	if (error == 0 || (*op && !reinsert)) {
		dal__undo_push(b->s.tx, *op);
	} else if (*op) {
		dal__undo_op_free(*op);
		dal__undo_broken(b->s.tx);
	}
	*op = NULL;
}

/* The end of an update or delete: hand the undo record on, commit or roll back,
 * then tell the cache and the caller. */
static int finish_changed(bulk *b, dal__undo_op **undo, int error, bool reinsert, const int64_t *ids,
                          size_t n, int64_t changes, int64_t *count_out)
{
	undo_after(b, undo, error, reinsert);
	cache_hook(b, ids, n);
	b->changed = changes;
	error = end(b, error);
	if (error == 0 && count_out)
		*count_out = changes;
	return error;
}

/* ---- audit of update and delete ---- */

/* The old rows `op` read, in input order of their ids: pos[i] = input row, at[i] = old row. */
typedef struct old_order { size_t pos, at; } old_order;

static int by_pos(const void *a, const void *c)
{
	const old_order *x = a, *y = c;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int by_id(const void *a, const void *c)
{
	const id_at *x = a, *y = c;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int old_in_order(old_order **out, size_t *nout, const bulk *b, const int64_t *ids, size_t nids,
                        const dal_value *rows, size_t nrows)
{
	size_t ncol = b->repo->model->ncolumns, i, k = 0;
	id_at *v = malloc((nids ? nids : 1) * sizeof(*v));
	old_order *o = malloc((nrows ? nrows : 1) * sizeof(*o));

	*out = NULL;
	*nout = 0;
	if (!v || !o) {
		free(v);
		free(o);
		return dal__error_nomem();
	}
	for (i = 0; i < nids; i++) {
		v[i].id = ids[i];
		v[i].row = i;
	}
	qsort(v, nids, sizeof(*v), by_id_then_row);
	for (i = 0; i < nrows; i++) {
		id_at key = { rows[i * ncol + (size_t)b->repo->col_id].v.i, 0 };
		const id_at *hit = bsearch(&key, v, nids, sizeof(*v), by_id);
		if (!hit)
			continue;
		/* A repeated id (delete): its first position. */
		while (hit > v && hit[-1].id == key.id)
			hit--;
		o[k].pos = hit->row;
		o[k++].at = i;
	}
	free(v);
	qsort(o, k, sizeof(*o), by_pos);
	*out = o;
	*nout = k;
	return 0;
}

/* An old row of an update or delete, its id at input position `pos`; b->audit.nv holds a copy
 * of it and b->audit.mask nothing, to build the new values in. */
typedef int (*old_fn)(bulk *b, int64_t id, size_t pos, const dal_value *ov, const void *payload);

/* Each row read before the change (the rows it changed), in input order of their ids. */
static int each_old(bulk *b, const int64_t *ids, const dal__undo_op *old, old_fn fn, const void *payload)
{
	size_t ncol = b->repo->model->ncolumns, nold = 0, no = 0, j;
	const dal_value *rows = dal__undo_op_rows(old, &nold);
	old_order *o = NULL;
	int error;

	if ((error = audit_alloc(b)) < 0 || (error = old_in_order(&o, &no, b, ids, b->nrows, rows, nold)) < 0)
		return error;
	for (j = 0; j < no && error == 0; j++) {
		const dal_value *ov = &rows[o[j].at * ncol];
		memcpy(b->audit.nv, ov, ncol * sizeof(*ov));
		memset(b->audit.mask, 0, ncol * sizeof(*b->audit.mask));
		error = fn(b, ids[o[j].pos], o[j].pos, ov, payload);
	}
	free(o);
	return error;
}

/* BULK_UPDATE: id and the columns whose value changed, before and after, as a single-row
 * UPDATE records them. `payload`: the time updated_at takes. */
static int updated_row(bulk *b, int64_t id, size_t pos, const dal_value *ov, const void *payload)
{
	const dal_repo *repo = b->repo;
	dal_value *nv = b->audit.nv;
	bool *mask = b->audit.mask;
	size_t i, k;
	int error = 0;

	for (k = 0; k < b->ncols && error == 0; k++) {
		error = value_at(&nv[b->cols[k]], b, pos, k);
		mask[b->cols[k]] = true;
	}
	if (repo->col_updated >= 0 && !b->has_updated) {
		nv[repo->col_updated] = dal_timestamp(*(const int64_t *)payload);
		mask[repo->col_updated] = true;
	}
	for (i = 0; i < repo->model->ncolumns; i++)
		mask[i] = (int)i == repo->col_id || (mask[i] && !dal_value_equal(&ov[i], &nv[i]));
	return error ? error : audit_add(b, "BULK_UPDATE", id, ov, mask, nv, mask);
}

static int audit_updated(bulk *b, const int64_t *ids, const dal__undo_op *old, int64_t now)
{
	return each_old(b, ids, old, updated_row, &now);
}

/* The stamps of a delete: none (hard), deleted_at[, updated_at] (soft). */
typedef struct stamps_of {
	const dal_value *v;
	size_t n;
} stamps_of;

/* BULK_DELETE: the whole old row; a soft delete also records the new deleted_at (and
 * updated_at), a hard one no new values. */
static int deleted_row(bulk *b, int64_t id, size_t pos, const dal_value *ov, const void *payload)
{
	const stamps_of *st = payload;
	const dal_repo *repo = b->repo;

	(void)pos;
	if (st->n == 0)
		return audit_add(b, "BULK_DELETE", id, ov, NULL, NULL, NULL);
	b->audit.nv[repo->col_deleted] = st->v[0];
	b->audit.mask[repo->col_deleted] = true;
	if (repo->col_updated >= 0 && st->n > 1) {
		b->audit.nv[repo->col_updated] = st->v[1];
		b->audit.mask[repo->col_updated] = true;
	}
	return audit_add(b, "BULK_DELETE", id, ov, NULL, b->audit.nv, b->audit.mask);
}

static int audit_deleted(bulk *b, const int64_t *ids, const dal__undo_op *old, const dal_value *stamps, size_t nst)
{
	stamps_of st = { stamps, nst };
	int error;

	if (!audited(b))
		return 0;
	if ((error = each_old(b, ids, old, deleted_row, &st)) == 0)
		error = audit_flush(b);
	return error;
}

/* ---- update ---- */

static int update_fast(int64_t *changes, bulk *b, const int64_t *ids, int64_t now)
{
	dal_repo *repo = b->repo;
	dal_str sql = DAL_STR_INIT;
	int *all;
	size_t k;
	bool stamp = repo->col_updated >= 0 && !b->has_updated;
	dal_value p = dal_timestamp(now);
	int error;

	if (!(all = calloc(b->ncols, sizeof(int))))
		return dal__error_nomem();
	for (k = 0; k < b->ncols; k++)
		all[k] = (int)k;
	error = stage_create(b, true, all, b->ncols);
	if (error < 0) {
		free(all);
		return error;
	}
	error = stage_rows(b, ids, all, b->ncols);
	free(all);
	if (error == 0 && repo->check_unique)
		error = check_unique_staged(b, true);
	if (error == 0)
		error = dal__sql_bulk_update_from(&sql, repo->db->drv->dialect, repo->model, STAGE, b->cols, b->ncols,
			stamp, true);
	error = error ? error : run(changes, b, sql.ptr, &p, stamp ? 1 : 0);
	dal__str_dispose(&sql);
	return stage_drop_after(b, error);
}

/* One transaction, one prepared UPDATE by id reused for every row. */
static int update_generic(int64_t *changes, bulk *b, const int64_t *ids, int64_t now)
{
	dal_repo *repo = b->repo;
	const dal_model *m = repo->model;
	dal_str sql = DAL_STR_INIT;
	dal_stmt *stmt = NULL;
	bool *set = NULL;
	int *order = NULL;   /* input position of each set model column, in model order; -1: updated_at stamp */
	dal_value *params = NULL;
	bool *redact = NULL;
	size_t n = 0, i, k, r;
	int64_t c = 0;
	int error;

	*changes = 0;
	if (!(set = calloc(m->ncolumns, sizeof(bool))) || !(order = calloc(m->ncolumns, sizeof(int))) ||
	    !(params = calloc(m->ncolumns + 1, sizeof(*params))) || !(redact = calloc(m->ncolumns + 1, sizeof(bool)))) {
		error = dal__error_nomem();
		goto done;
	}
	for (k = 0; k < b->ncols; k++)
		set[b->cols[k]] = true;
	if (repo->col_updated >= 0)
		set[repo->col_updated] = true;
	for (i = 0; i < m->ncolumns; i++) {
		if (!set[i])
			continue;
		order[n] = input_of(b, (int)i);
		redact[n++] = sensitive(b, (int)i);
	}
	if ((error = dal__sql_update(&sql, repo->db->drv->dialect, m, set, -1, false)) < 0 ||
	    (error = dal__conn_prepare(&stmt, b->s.conn, sql.ptr, 0)) < 0)
		goto done;
	dal__session_wrote(&b->s);
	for (r = 0; r < b->nrows; r++) {
		for (i = 0; i < n; i++) {
			if (order[i] < 0)
				params[i] = dal_timestamp(now);
			else if ((error = value_at(&params[i], b, r, (size_t)order[i])) < 0)
				goto done;
		}
		params[n] = dal_int(ids[r]);
		error = dal__stmt_drain(stmt, dal__stmt_exec_redacted(stmt, params, n + 1, redact), &c);
		*changes += error == 0 ? c : 0;
		stmt->conn->drv->reset(stmt);
		if (error < 0) {
			error = at_rows(b, error, r, r);
			goto done;
		}
	}
	error = dal__repo_wrote(repo, &b->s);
done:
	dal__stmt_release(stmt);
	dal__str_dispose(&sql);
	free(set);
	free(order);
	free(params);
	free(redact);
	return error;
}

int dal_repo_bulk_update(int64_t *count_out, dal_repo *repo, const int64_t *ids, const char *const *columns,
                         size_t ncolumns, const dal_value *values, size_t nrows)
{
	bulk b = { 0 };
	dal__undo_op *undo = NULL;
	int64_t changes = 0, now = dal_now();
	int error;

	if (count_out)
		*count_out = 0;
	DAL_ASSERT_ARG(repo);
	b.repo = repo;
	b.what = "bulk update";
	b.values = values;
	b.nrows = nrows;
	if (ncolumns == 0)
		return dal__error(DAL_EINVAL, "bulk update of '%s': no columns given", repo->model->table);
	if (nrows && !ids)
		return dal__error(DAL_EINVAL, "bulk update of '%s': 'ids' is NULL with %zu rows", repo->model->table, nrows);
	if ((error = map_columns(&b, columns, ncolumns, true)) < 0 || (error = check_rows(&b)) < 0 ||
	    (error = check_ids_unique(&b, ids)) < 0 || nrows == 0)
		goto done;
	if ((error = begin(&b)) < 0 || (error = undo_before(&undo, &b, ids, nrows, true, false)) < 0)
		goto done;
	if (repo->db->drv->bulk_insert)
		error = update_fast(&changes, &b, ids, now);
	else if (repo->check_unique)
		error = dal__error(DAL_EUNSUPPORTED, "bulk update of '%s': unique among live rows needs a staging "
			"table, which %s cannot fill", repo->model->table, repo->db->drv->name);
	else
		error = update_generic(&changes, &b, ids, now);
	if (error == 0 && audited(&b) && (error = audit_updated(&b, ids, undo, now)) == 0)
		error = audit_flush(&b);
	error = finish_changed(&b, &undo, error, false, ids, nrows, changes, count_out);
done:
	dal__undo_op_free(undo);
	end(&b, error);
	bulk_free(&b);
	return error;
}

/* ---- delete ---- */

static int delete_staged(int64_t *changes, bulk *b, const int64_t *ids, const dal_value *stamps, size_t nst,
                         const char *sql)
{
	const dal_model *m = b->repo->model;
	dal_str ddl = DAL_STR_INIT;
	dal_value *mat = NULL;
	const char *names[1] = { "id" };
	int col = b->repo->col_id;
	size_t r0, r;
	int error;

	if (!(mat = malloc(CHUNK * sizeof(*mat))))
		return dal__error_nomem();
	if ((error = dal__sql_bulk_temp(&ddl, b->repo->db->drv->dialect, m, STAGE, false, &col, 1)) < 0 ||
	    (error = exec_sql(b, ddl.ptr)) < 0)
		goto done;
	for (r0 = 0; r0 < b->nrows && error == 0; r0 += CHUNK) {
		size_t n = b->nrows - r0 < CHUNK ? b->nrows - r0 : CHUNK;
		for (r = 0; r < n; r++)
			mat[r] = dal_int(ids[r0 + r]);
		error = stage_insert(b, STAGE, names, 1, mat, n, r0);
	}
	error = error ? error : run(changes, b, sql, stamps, nst);
	error = stage_drop_after(b, error);
done:
	dal__str_dispose(&ddl);
	free(mat);
	return error;
}

/* One chunk of ids, after the stamps in `p`: one array parameter to `any_sql` (DAL__IDS_ANY),
 * else `n` parameters to a DELETE / soft UPDATE whose text is the same for every full chunk,
 * so the statement cache keeps it prepared. */
static int delete_chunk(int64_t *changes, bulk *b, bool soft, const char *any_sql, dal_value *p, size_t nst,
                        const int64_t *ids, size_t n)
{
	dal_str text = DAL_STR_INIT;
	size_t k, np = nst;
	int64_t c = 0;
	int error;

	if (any_sql) {
		error = dal__sql_bulk_id_array(&text, ids, n);
		p[np++] = dal_textn(text.ptr, text.len);
	} else {
		error = dal__sql_bulk_delete(&text, b->repo->db->drv->dialect, b->repo->model, soft, DAL__IDS_LIST, NULL, n);
		for (k = 0; k < n; k++)
			p[np++] = dal_int(ids[k]);
	}
	if (error == 0 && (error = run(&c, b, any_sql ? any_sql : text.ptr, p, np)) == 0)
		*changes += c;
	dal__str_dispose(&text);
	return error;
}

/* Chunk after chunk: ANY_CHUNK ids in an array (`any_sql`), else LIST_IDS ids in a list. */
static int delete_chunks(int64_t *changes, bulk *b, bool soft, const int64_t *ids, const dal_value *stamps,
                         size_t nst, const char *any_sql)
{
	size_t per = any_sql ? ANY_CHUNK : LIST_IDS, r0, k;
	dal_value p[LIST_IDS + 2];
	int error = 0;

	for (k = 0; k < nst; k++)
		p[k] = stamps[k];
	for (r0 = 0; r0 < b->nrows && error == 0; r0 += per)
		error = delete_chunk(changes, b, soft, any_sql, p, nst, ids + r0, b->nrows - r0 < per ? b->nrows - r0 : per);
	return error;
}

int dal_repo_bulk_delete(int64_t *count_out, dal_repo *repo, const int64_t *ids, size_t n, bool soft)
{
	bulk b = { 0 };
	dal__undo_op *undo = NULL;
	const dal_driver *drv;
	dal_str sql = DAL_STR_INIT;
	dal_value stamps[2];
	size_t nst = 0;
	int64_t changes = 0, now;
	dal__bulk_ids how;
	int error;

	if (count_out)
		*count_out = 0;
	DAL_ASSERT_ARG(repo);
	drv = repo->db->drv;
	b.repo = repo;
	b.what = soft ? "bulk soft delete" : "bulk delete";
	b.nrows = n;
	if (soft && !repo->soft)
		return dal__error(DAL_EUNSUPPORTED, "bulk soft delete of '%s': the model has no deleted_at column",
			repo->model->table);
	if (n && !ids)
		return dal__error(DAL_EINVAL, "bulk delete of '%s': 'ids' is NULL with %zu ids", repo->model->table, n);
	if (n == 0)
		return 0;
	now = dal_now();
	if (soft) {
		stamps[nst++] = dal_timestamp(now);
		if (repo->col_updated >= 0)
			stamps[nst++] = dal_timestamp(now);
	}
	how = (drv->caps & DAL_CAP_ANY_ARRAY) ? DAL__IDS_ANY : drv->bulk_insert ? DAL__IDS_TEMP : DAL__IDS_LIST;
	if (how != DAL__IDS_LIST &&
	    (error = dal__sql_bulk_delete(&sql, drv->dialect, repo->model, soft, how, STAGE, 0)) < 0)
		goto done;
	if ((error = begin(&b)) < 0 || (error = undo_before(&undo, &b, ids, n, false, soft)) < 0)
		goto done;
	if (how == DAL__IDS_TEMP)
		error = delete_staged(&changes, &b, ids, stamps, nst, sql.ptr);
	else
		error = delete_chunks(&changes, &b, soft, ids, stamps, nst, how == DAL__IDS_ANY ? sql.ptr : NULL);
	error = error ? error : audit_deleted(&b, ids, undo, stamps, nst);
	error = finish_changed(&b, &undo, error, !soft, ids, n, changes, count_out);
done:
	dal__undo_op_free(undo);
	end(&b, error);
	bulk_free(&b);
	dal__str_dispose(&sql);
	return error;
}
