/* find, each, count, paginate. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "each.h"
#include "repo/repo.h"
#include "repo/rows.h"
#include "row.h"
#include "sql/build.h"

typedef int (*row_sink)(dal_repo *repo, dal_stmt *stmt, void *payload);

/* The shape of a SELECT: kind, flags, filter columns and operators, IN sizes, order.
 * 0 when it does not fit (or names an unknown column: the builder reports that). */
static size_t signature(uint8_t *sig, size_t cap, const dal_repo *repo, const dal_criteria *c, int kind)
{
	size_t n = 0, i;
	int col;

#define PUT(b) do { if (n == cap) return 0; sig[n++] = (uint8_t)(b); } while (0)
	PUT(kind);
	if (!c)
		return n;
	PUT((c->include_deleted ? 1 : 0) | (c->after ? 2 : 0) | (c->limit || c->offset ? 4 : 0));
	PUT(c->nfilters);
	PUT(c->norder);
	if (c->nfilters > 32 || c->norder > 32 || (c->nfilters && !c->filters) || (c->norder && !c->order))
		return 0;
	for (i = 0; i < c->nfilters; i++) {
		if ((col = dal_model_column_index(repo->model, c->filters[i].column)) < 0 || col > 250)
			return 0;
		PUT(col);
		PUT(c->filters[i].op);
		if (c->filters[i].op == DAL_OP_IN) {
			if (c->filters[i].nvalues > 0xffff)
				return 0;
			PUT(c->filters[i].nvalues & 0xff);
			PUT(c->filters[i].nvalues >> 8);
		}
	}
	for (i = 0; i < c->norder; i++) {
		if ((col = dal_model_column_index(repo->model, c->order[i].column)) < 0 || col > 250)
			return 0;
		PUT(col);
		PUT(c->order[i].desc);
	}
#undef PUT
	return n;
}

/*
 * The SQL text for these criteria, built once per shape; the values are
 * checked and collected every time. *sql is borrowed from the repository,
 * or from *tmp (free it) when the cache is full.
 */
static int select_sql(const char **sql, dal_str *tmp, dal_value **params, bool **redact, size_t *n, dal_repo *repo,
                      const dal_criteria *c, dal_select_kind kind)
{
	dal_select_entry *e = NULL;
	uint8_t sig[64];
	size_t len = signature(sig, sizeof(sig), repo, c, (int)kind), i;
	int error;

	for (i = 0; len && i < DAL__SQL_SLOTS && repo->selects[i].sql; i++)
		if (repo->selects[i].len == len && memcmp(repo->selects[i].sig, sig, len) == 0) {
			dal_str sink = DAL_STR_INIT;
			sink.sink = true;
			*sql = repo->selects[i].sql;
			return dal__sql_select(&sink, params, redact, n, repo->db->drv->dialect, repo->model, c, kind);
		}
	if ((error = dal__sql_select(tmp, params, redact, n, repo->db->drv->dialect, repo->model, c, kind)) < 0)
		return error;
	*sql = tmp->ptr;
	if (len && i < DAL__SQL_SLOTS) {
		e = &repo->selects[i];
		if ((e->sql = dal__str_detach(tmp)) == NULL)
			return DAL_ENOMEM;
		memcpy(e->sig, sig, len);
		e->len = len;
		*sql = e->sql;
	}
	return 0;
}

/* A sink with its repository, as dal__conn_each() calls it. */
typedef struct sink_call {
	dal_repo *repo;
	row_sink sink;
	void *payload;
} sink_call;

static int sink_row(dal_stmt *stmt, void *payload)
{
	sink_call *k = payload;

	return k->sink(k->repo, stmt, k->payload);
}

/* Build the SELECT (rows or count) for the criteria and feed each row to `sink` on the session. */
static int select_run(dal_repo *repo, dal_session *s, const dal_criteria *c, dal_select_kind kind,
                      unsigned flags, row_sink sink, void *payload)
{
	sink_call k = { repo, sink, payload };
	dal_str sql = DAL_STR_INIT;
	dal_value *params = NULL;
	bool *redact = NULL;
	const char *text = NULL;
	size_t n = 0;
	int error;

	if ((error = select_sql(&text, &sql, &params, &redact, &n, repo, c, kind)) == 0)
		error = dal__conn_each(s->conn, text, flags, params, n, redact, sink_row, &k);
	dal__str_dispose(&sql);
	free(params);
	free(redact);
	return error;
}

static int select_rows(dal_repo *repo, dal_session *s, const dal_criteria *c, unsigned flags,
                       row_sink sink, void *payload)
{
	return select_run(repo, s, c, DAL_SELECT_ROWS, flags, sink, payload);
}

static int count_at(int64_t *out, dal_stmt *stmt, int col)
{
	dal_value v;
	int error;

	if ((error = stmt->conn->drv->column(stmt, col, &v)) < 0)
		return error;
	*out = v.type == DAL_TYPE_INT ? v.v.i : v.type == DAL_TYPE_DOUBLE ? (int64_t)v.v.d : 0;
	return 0;
}

static int read_count(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	(void)repo;
	return count_at(payload, stmt, 0);
}

static int count_in(int64_t *out, dal_repo *repo, dal_session *s, const dal_criteria *c)
{
	*out = 0;
	return select_run(repo, s, c, DAL_SELECT_COUNT, 0, read_count, out);
}

static int collect(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	dal_row *row = NULL;
	int error;

	if ((error = dal__repo_read_row(&row, repo, stmt)) == 0 && (error = dal__rows_push(payload, row)) == 0)
		return 0;
	dal_row_free(row);
	return error;
}

static int new_rows(dal_rows **out)
{
	if (!(*out = calloc(1, sizeof(dal_rows))))
		return dal__error_nomem();
	return 0;
}

int dal_repo_find(dal_rows **out, dal_repo *repo, const dal_criteria *criteria)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(repo);
	if ((error = new_rows(out)) < 0)
		return error;
	if ((error = dal__repo_session(&s, repo, 0)) == 0) {
		error = select_rows(repo, &s, criteria, 0, collect, *out);
		error = dal__session_close(&s, error);
	}
	if (error < 0) {
		dal_rows_free(*out);
		*out = NULL;
	}
	return error;
}

typedef struct each_ctx {
	dal_row *row;           /* one row, refilled for every result row */
	dal_repo_row_cb cb;
	void *payload;
	int stopped;
} each_ctx;

/*
 * The current result row into e->row, its text borrowed from the statement:
 * the callback gets the row for its call only (dal_repo_row_cb). The engine
 * writes each value in place, and only a value the engine gives in another
 * type than the column's (SQLite's timestamps) is converted.
 */
static int each_read(each_ctx *e, dal_repo *repo, dal_stmt *stmt)
{
	int (*column)(dal_stmt *, int, dal_value *) = stmt->conn->drv->column;
	const dal_model *m = repo->model;
	dal_value *vals;
	size_t i;
	int error;

	if (!e->row && (error = dal_row_new(&e->row, m)) < 0)
		return error;
	vals = dal__row_borrow(e->row);
	for (i = 0; i < m->ncolumns; i++) {
		if ((error = column(stmt, (int)i, &vals[i])) < 0)
			return error;
		if (vals[i].type != DAL_TYPE_NULL && vals[i].type != m->columns[i].type &&
		    (error = dal__value_to_column(&vals[i], m, i, &vals[i])) < 0)
			return error;
	}
	return 0;
}

static int each_row(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	each_ctx *e = payload;
	dal__each_frame frame;
	int error;

	if ((error = each_read(e, repo, stmt)) < 0)
		return error;
	dal__each_enter(&frame, stmt->conn, "dal_repo_each", "dal_repo_find");
	e->stopped = e->cb(e->row, e->payload);
	dal__each_leave(&frame);
	return e->stopped != 0 ? 1 : 0;
}

struct counted {
	each_ctx *e;
	size_t *n;
	int64_t limit;          /* the chunk's size: its last row is the next chunk's start */
	dal_row **cursor;       /* a copy of that row, made while the statement still holds it */
};

static int each_row_counted(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	struct counted *c = payload;
	int error;

	if ((error = each_row(repo, stmt, c->e)) < 0)
		return error;
	if ((int64_t)++*c->n == c->limit) {
		int fill;
		if ((!*c->cursor && (fill = dal_row_new(c->cursor, repo->model)) < 0) ||
		    (fill = dal__row_fill(*c->cursor, dal_row_at(c->e->row, 0), repo->model->ncolumns)) < 0)
			return fill;
	}
	return error;
}

struct ranged {
	each_ctx *e;
	size_t *seen;
	int64_t *skip, *left;
};

/* Offset and limit are applied here, across ranges. Returns 1 to stop at the limit. */
static int each_row_ranged(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	struct ranged *r = payload;
	int error;

	++*r->seen;
	if (*r->skip > 0) {
		--*r->skip;
		return 0;
	}
	if ((error = each_row(repo, stmt, r->e)) != 0)
		return error;
	return --*r->left == 0 ? 1 : 0;
}

/* Keyset chunks need every sort column NOT NULL (id always is). */
static bool keyset_ok(const dal_repo *repo, const dal_criteria *c)
{
	size_t i;
	int col;

	for (i = 0; c && i < c->norder; i++) {
		col = dal_model_column_index(repo->model, c->order[i].column);
		if (col < 0 || !(repo->model->columns[col].flags & (DAL_NOT_NULL | DAL_PRIMARY_KEY)))
			return false;
	}
	return true;
}

#define EACH_CHUNK 20000

/*
 * Where an ORDER BY cannot stream in bounded memory (DuckDB sorts the whole
 * result first), read keyset chunks in one snapshot instead: each chunk asks
 * for the rows after the last one seen.
 */
static int each_chunked(dal_repo *repo, dal_session *s, const dal_criteria *c, each_ctx *e)
{
	dal_criteria pc = DAL_CRITERIA_INIT;
	dal_row *cursor = NULL;
	int64_t remaining;
	size_t before;
	int error;

	if (c)
		pc = *c;
	pc.version = DAL_CRITERIA_VERSION;
	remaining = pc.limit > 0 ? pc.limit : INT64_MAX;
	for (;;) {
		pc.limit = remaining < EACH_CHUNK ? remaining : EACH_CHUNK;
		before = 0;
		if ((error = select_rows(repo, s, &pc, 0, each_row_counted,
		         &(struct counted){ e, &before, pc.limit, &cursor })) != 0)
			break;
		remaining -= (int64_t)before;
		if ((int64_t)before < pc.limit || remaining == 0)
			break;
		/* The next chunk starts after the copy of this one's last row. */
		pc.after = cursor;
		pc.offset = 0;
	}
	if (error == 1)
		error = 0;
	dal_row_free(cursor);
	return error;
}

/* Whether the criteria sort by id alone (the default), and which way. */
static bool by_id_only(const dal_criteria *c, bool *desc)
{
	*desc = false;
	if (!c || c->norder == 0)
		return true;
	*desc = c->order[0].desc;
	return strcmp(c->order[0].column, "id") == 0;
}

/* MIN(id) or MAX(id) of the matching rows beyond `from` (or all when !has_from). */
static int id_bound(int64_t *out, bool *found, dal_repo *repo, dal_session *s, const dal_criteria *c,
                    bool desc, bool has_from, int64_t from)
{
	dal_str sql = DAL_STR_INIT;
	dal_value *params = NULL;
	bool *redact = NULL;
	dal_filter *f = NULL;
	dal_criteria bc = DAL_CRITERIA_INIT;
	size_t n = 0, nf = c ? c->nfilters : 0;
	int error;

	*found = false;
	if (!(f = calloc(nf + 1, sizeof(*f))))
		return dal__error_nomem();
	if (nf)
		memcpy(f, c->filters, nf * sizeof(*f));
	if (has_from)
		f[nf++] = (dal_filter)DAL_WHERE("id", desc ? DAL_OP_LE : DAL_OP_GE, dal_int(from));
	bc.filters = f;
	bc.nfilters = nf;
	bc.include_deleted = c && c->include_deleted;
	error = dal__sql_select(&sql, &params, &redact, &n, repo->db->drv->dialect, repo->model, &bc,
		desc ? DAL_SELECT_MAX_ID : DAL_SELECT_MIN_ID);
	error = error ? error : dal__conn_scalar(out, found, s->conn, sql.ptr, params, n, redact);
	dal__str_dispose(&sql);
	free(params);
	free(redact);
	free(f);
	return error;
}

struct bounds {
	int64_t min, max;
	bool found;
};

static int read_bounds(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	struct bounds *b = payload;
	dal_value lo, hi;
	int error;

	(void)repo;
	if ((error = stmt->conn->drv->column(stmt, 0, &lo)) < 0 || (error = stmt->conn->drv->column(stmt, 1, &hi)) < 0)
		return error;
	/* No matching row: one row of NULLs. */
	b->found = lo.type == DAL_TYPE_INT && hi.type == DAL_TYPE_INT;
	b->min = b->found ? lo.v.i : 0;
	b->max = b->found ? hi.v.i : 0;
	return 0;
}

/* The first and last matching id in the order (`desc`: highest first), by one statement: one scan, not two. */
static int id_bounds(int64_t *first, int64_t *last, bool *found, dal_repo *repo, dal_session *s,
                     const dal_criteria *c, bool desc)
{
	struct bounds b = { 0, 0, false };
	int error = select_run(repo, s, c, DAL_SELECT_ID_BOUNDS, 0, read_bounds, &b);

	*found = error == 0 && b.found;
	*first = desc ? b.max : b.min;
	*last = desc ? b.min : b.max;
	return error;
}

static int read_any(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	struct bounds *b = payload;

	(void)repo;
	b->found = true;
	return count_at(&b->min, stmt, 0);
}

/* The id of one matching row, whichever the engine finds first. */
static int any_id(int64_t *out, bool *found, dal_repo *repo, dal_session *s, const dal_criteria *c)
{
	struct bounds b = { 0, 0, false };
	int error = select_run(repo, s, c, DAL_SELECT_ANY_ID, 0, read_any, &b);

	*found = error == 0 && b.found;
	*out = b.min;
	return error;
}

#define EACH_ID_SPAN 10000

/* One range of each_id_ranges holds them all: one statement reads them. */
static bool one_range(int64_t first, int64_t last, bool desc)
{
	return (uint64_t)(desc ? first - (uint64_t)last : last - (uint64_t)first) < EACH_ID_SPAN;
}

/*
 * DuckDB sorts a whole result before the first row comes out, even for a
 * top-N, so an ORDER BY id holds the whole table in memory. Ranges of ids, each
 * sorted on its own, keep it bounded; zonemaps make every range a short scan.
 */
static int each_id_ranges(dal_repo *repo, dal_session *s, const dal_criteria *c, each_ctx *e)
{
	dal_criteria pc = DAL_CRITERIA_INIT;
	dal_filter *f = NULL;
	int64_t lo, last, skip = c ? c->offset : 0, left = c && c->limit > 0 ? c->limit : INT64_MAX;
	size_t nf = c ? c->nfilters : 0, seen;
	bool desc, found;
	int error;

	by_id_only(c, &desc);
	if (c)
		pc = *c;
	pc.version = DAL_CRITERIA_VERSION;
	pc.limit = pc.offset = 0;
	if (!(f = calloc(nf + 2, sizeof(*f))))
		return dal__error_nomem();
	if (nf)
		memcpy(f, c->filters, nf * sizeof(*f));
	pc.filters = f;
	pc.nfilters = nf + 2;
	error = id_bounds(&lo, &last, &found, repo, s, c, desc);
	/* Ids that fit in one range: one statement holds no more rows than a range,
	 * and one without the range's parameters DuckDB need not bind again. */
	if (error == 0 && found && one_range(lo, last, desc)) {
		free(f);
		error = select_rows(repo, s, c, 0, each_row, e);
		return error == 1 ? 0 : error;
	}
	while (error == 0 && found && left > 0) {
		int64_t hi = desc ? (lo > INT64_MIN + EACH_ID_SPAN ? lo - EACH_ID_SPAN : INT64_MIN)
		                  : (lo < INT64_MAX - EACH_ID_SPAN ? lo + EACH_ID_SPAN : INT64_MAX);
		struct ranged r = { e, &seen, &skip, &left };
		f[nf] = (dal_filter)DAL_WHERE("id", desc ? DAL_OP_LE : DAL_OP_GE, dal_int(lo));
		f[nf + 1] = (dal_filter)DAL_WHERE("id", desc ? DAL_OP_GT : DAL_OP_LT, dal_int(hi));
		seen = 0;
		if ((error = select_rows(repo, s, &pc, 0, each_row_ranged, &r)) != 0)
			break;
		if (hi == (desc ? INT64_MIN : INT64_MAX) || (desc ? hi < last : hi > last))
			break;
		/* An empty range may sit in a gap of ids: jump to the next id that exists. */
		if (seen == 0)
			error = id_bound(&lo, &found, repo, s, c, desc, true, hi);
		else
			lo = hi;
	}
	free(f);
	return error == 1 ? 0 : error;
}

/*
 * By id where the engine sorts whole results: the lowest and highest matching
 * id first, outside a transaction. Ids that fit in one range are then one
 * statement, its own snapshot, with no transaction around it: a read-only one
 * costs as much as the rows of a small table. Rows another program adds between
 * the two only make that statement's sort larger. Otherwise the ranges run in
 * one read-only snapshot, which reads the bounds again (those read here are of
 * another snapshot). 1: ended here, with *outcome; 0: to be read by ranges.
 */
static int each_small_by_id(dal_repo *repo, const dal_criteria *c, each_ctx *e, int *outcome)
{
	int64_t first = 0, last = 0;
	bool found = false, desc;
	dal_session s;
	int error;

	by_id_only(c, &desc);
	if ((*outcome = dal__repo_session(&s, repo, 0)) < 0)
		return 1;
	error = id_bounds(&first, &last, &found, repo, &s, c, desc);
	if (error == 0 && found && !one_range(first, last, desc)) {
		*outcome = dal__session_close(&s, 0);
		return *outcome < 0 ? 1 : 0;
	}
	if (error == 0 && found)
		error = select_rows(repo, &s, c, DAL__STMT_STREAM, each_row, e);
	*outcome = dal__session_close(&s, error < 0 ? error : 0);
	return 1;
}

int dal_repo_each(dal_repo *repo, const dal_criteria *criteria, dal_repo_row_cb callback, void *payload)
{
	each_ctx e = { NULL, callback, payload, 0 };
	dal_session s;
	bool chunked, desc;
	int error;

	DAL_ASSERT_ARG(repo);
	DAL_ASSERT_ARG(callback);
	if ((error = dal__sql_check_criteria(repo->model, criteria)) < 0)
		return error;
	chunked = !(repo->db->drv->caps & DAL_CAP_STREAM_SORTED) && !(criteria && criteria->after) &&
	          keyset_ok(repo, criteria);
	if (chunked && by_id_only(criteria, &desc) && each_small_by_id(repo, criteria, &e, &error)) {
		dal_row_free(e.row);
		return error < 0 ? error : e.stopped;
	}
	if ((error = dal__repo_session(&s, repo,
	         chunked ? DAL__SESSION_TX | DAL__TX_READ_ONLY | DAL__TX_REPEATABLE_READ : 0)) < 0)
		return error;
	if (chunked && by_id_only(criteria, &desc))
		error = each_id_ranges(repo, &s, criteria, &e);
	else if (chunked)
		error = each_chunked(repo, &s, criteria, &e);
	else
		error = select_rows(repo, &s, criteria, DAL__STMT_STREAM, each_row, &e);
	error = dal__session_close(&s, error < 0 ? error : 0);
	dal_row_free(e.row);
	return error < 0 ? error : e.stopped;
}

int dal_repo_count(int64_t *out, dal_repo *repo, const dal_criteria *criteria)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(out);
	*out = 0;
	DAL_ASSERT_ARG(repo);
	if ((error = dal__repo_session(&s, repo, 0)) < 0)
		return error;
	error = count_in(out, repo, &s, criteria);
	return dal__session_close(&s, error);
}

/* The rows of a DAL_SELECT_PAGE statement and the count each carries. */
typedef struct page_sink {
	dal_rows *rows;
	int64_t count;
} page_sink;

static int collect_page(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	page_sink *p = payload;
	dal_value id;
	int error;

	/* The count is the statement's last column, after the model's. */
	if ((error = count_at(&p->count, stmt, (int)repo->model->ncolumns)) < 0 ||
	    (error = stmt->conn->drv->column(stmt, repo->col_id, &id)) < 0)
		return error;
	/* A page past the end: the count's one row, with no row of the page. */
	if (id.type == DAL_TYPE_NULL)
		return 0;
	return collect(repo, stmt, p->rows);
}

/*
 * The criteria's own limit and offset window the whole result; pages are cut from
 * that window. Page and count come from one statement, so they agree without a
 * transaction: a statement reads one snapshot on every engine. Where the window
 * leaves the page no row at all, the count alone is read.
 */
static int page_in(dal_rows *rows, dal_page *info, dal_repo *repo, dal_session *s, const dal_criteria *c,
                   int64_t page, int64_t size)
{
	dal_criteria pc = DAL_CRITERIA_INIT;
	page_sink sink = { rows, 0 };
	int64_t total, start = (page - 1) * size;
	int error;

	if (c)
		pc = *c;
	pc.version = DAL_CRITERIA_VERSION;
	if ((pc.limit > 0 && start >= pc.limit) || start > DAL__SQL_NO_LIMIT - pc.offset) {
		error = count_in(&sink.count, repo, s, c);
	} else {
		pc.offset += start;
		pc.limit = pc.limit > 0 && pc.limit - start < size ? pc.limit - start : size;
		error = select_run(repo, s, &pc, DAL_SELECT_PAGE, 0, collect_page, &sink);
	}
	if (error < 0)
		return error;
	total = sink.count - (c ? c->offset : 0);
	if (total < 0)
		total = 0;
	if (c && c->limit > 0 && total > c->limit)
		total = c->limit;
	info->total = total;
	info->page = page;
	info->page_size = size;
	info->total_pages = (total + size - 1) / size;
	return 0;
}

static int check_page(const dal_repo *repo, const dal_criteria *criteria, int64_t page, int64_t page_size)
{
	if (page < 1)
		return dal__error(DAL_EINVAL, "paginate '%s': page %lld (pages start at 1)", repo->model->table, (long long)page);
	if (page_size < 1 || page_size > repo->db->cfg.max_page_size)
		return dal__error(DAL_EINVAL, "paginate '%s': page_size %lld is outside 1-%d (max_page_size)",
			repo->model->table, (long long)page_size, repo->db->cfg.max_page_size);
	if (page > INT64_MAX / page_size)
		return dal__error(DAL_EINVAL, "paginate '%s': page %lld is too large", repo->model->table, (long long)page);
	if (criteria && (criteria->limit < 0 || criteria->offset < 0))
		return dal__error(DAL_EINVAL, "paginate '%s': negative limit or offset", repo->model->table);
	return 0;
}

int dal_repo_paginate(dal_rows **rows_out, dal_page *page_out, dal_repo *repo, const dal_criteria *criteria,
                      int64_t page, int64_t page_size)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(rows_out);
	*rows_out = NULL;
	DAL_ASSERT_ARG(page_out);
	DAL_ASSERT_ARG(repo);
	memset(page_out, 0, sizeof(*page_out));
	if ((error = check_page(repo, criteria, page, page_size)) < 0)
		return error;
	if ((error = new_rows(rows_out)) < 0)
		return error;
	if ((error = dal__repo_session(&s, repo, 0)) == 0) {
		error = page_in(*rows_out, page_out, repo, &s, criteria, page, page_size);
		error = dal__session_close(&s, error);
	}
	if (error < 0) {
		dal_rows_free(*rows_out);
		*rows_out = NULL;
		memset(page_out, 0, sizeof(*page_out));
	}
	return error;
}

int dal__repo_find_in(dal_rows *rows, dal_repo *repo, dal_session *s, const dal_criteria *c)
{
	return select_rows(repo, s, c, 0, collect, rows);
}

/* The rows of a window of ids past `skip` of them, until `rows` holds `want`. Returns 1 to stop there. */
struct windowed {
	dal_rows *rows;
	int64_t skip, want;
};

static int collect_windowed(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	struct windowed *w = payload;
	int error;

	if (w->skip > 0) {
		w->skip--;
		return 0;
	}
	if ((error = collect(repo, stmt, w->rows)) < 0)
		return error;
	return (int64_t)w->rows->count == w->want ? 1 : 0;
}

/* The widest window of ids a shallow page reads: a page deeper than this takes the general statement. */
#define PAGE_WINDOW_MAX 10000

/*
 * A shallow page by ascending id where the engine sorts the whole result before the
 * first row (DuckDB: LIMIT ? with a parameter makes no top-N, so page 1 sorted every
 * row of the table). One matching id, any (the first the scan meets: no sort), fixes
 * a window: every matching id up to it plus `span`. Zone maps skip the row groups
 * above the window, so the cost stays with the page, not the table. Where the window
 * holds the whole page, its first rows are the page (every row left out has a higher
 * id); otherwise *fits is false and the caller reads the general statement: the
 * window is one statement and the page must be of one snapshot.
 */
static int page_window(dal_rows *rows, bool *fits, dal_repo *repo, dal_session *s, const dal_criteria *pc)
{
	dal_criteria wc = *pc;
	dal_filter *f = NULL;
	struct windowed w = { rows, pc->offset, pc->limit };
	int64_t any, span;
	size_t nf = pc->nfilters;
	bool found, desc;
	int error;

	*fits = false;
	if ((repo->db->drv->caps & DAL_CAP_STREAM_SORTED) || pc->after || !by_id_only(pc, &desc) || desc ||
	    pc->offset + pc->limit > PAGE_WINDOW_MAX)
		return 0;
	/* Room for the page twice over: a few soft-deleted rows or gaps in the ids still leave it whole. */
	span = 2 * (pc->offset + pc->limit) + 256;
	if ((error = any_id(&any, &found, repo, s, pc)) < 0)
		return error;
	if (!found) {
		*fits = true;           /* no matching row: the empty page, of that statement's snapshot */
		return 0;
	}
	if (!(f = calloc(nf + 1, sizeof(*f))))
		return dal__error_nomem();
	if (nf)
		memcpy(f, pc->filters, nf * sizeof(*f));
	f[nf] = (dal_filter)DAL_WHERE("id", DAL_OP_LE, dal_int(any < INT64_MAX - span ? any + span : INT64_MAX));
	wc.filters = f;
	wc.nfilters = nf + 1;
	wc.limit = wc.offset = 0;
	error = select_run(repo, s, &wc, DAL_SELECT_ROWS, 0, collect_windowed, &w);
	free(f);
	if (error < 0)
		return error;
	if ((int64_t)rows->count == pc->limit) {
		*fits = true;
		return 0;
	}
	while (rows->count)
		dal_row_free(rows->items[--rows->count]);
	return 0;
}

/* The page, and one row more if the window has it: that row only says a next page exists. */
static int page_uncounted(dal_rows *rows, bool *more, dal_repo *repo, dal_session *s, const dal_criteria *c,
                          int64_t page, int64_t size)
{
	dal_criteria pc = DAL_CRITERIA_INIT;
	int64_t start = (page - 1) * size, want = size, peek = 1;
	bool fits;
	int error;

	if (c)
		pc = *c;
	pc.version = DAL_CRITERIA_VERSION;
	if ((pc.limit > 0 && start >= pc.limit) || start > DAL__SQL_NO_LIMIT - pc.offset)
		return 0;
	if (pc.limit > 0 && pc.limit - start <= size) {
		want = pc.limit - start;
		peek = 0;
	}
	pc.offset += start;
	pc.limit = want + peek;
	if ((error = page_window(rows, &fits, repo, s, &pc)) < 0)
		return error;
	if (!fits && (error = select_rows(repo, s, &pc, 0, collect, rows)) < 0)
		return error;
	if ((int64_t)rows->count > want) {
		dal_row_free(rows->items[--rows->count]);
		*more = true;
	}
	return 0;
}

int dal_repo_paginate_uncounted(dal_rows **rows_out, bool *more_out, dal_repo *repo, const dal_criteria *criteria,
                                int64_t page, int64_t page_size)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(rows_out);
	*rows_out = NULL;
	DAL_ASSERT_ARG(more_out);
	*more_out = false;
	DAL_ASSERT_ARG(repo);
	if ((error = check_page(repo, criteria, page, page_size)) < 0 || (error = new_rows(rows_out)) < 0)
		return error;
	if ((error = dal__repo_session(&s, repo, 0)) == 0) {
		error = page_uncounted(*rows_out, more_out, repo, &s, criteria, page, page_size);
		error = dal__session_close(&s, error);
	}
	if (error < 0) {
		dal_rows_free(*rows_out);
		*rows_out = NULL;
		*more_out = false;
	}
	return error;
}
