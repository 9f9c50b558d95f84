#include "sql/build.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "row.h"
#include "sql/array.h"
#include "sql/ident.h"

int dal__sql_columns(dal_str *out, const dal_dialect *d, const dal_model *m)
{
	size_t i;
	int error = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		if (i)
			error = dal__str_puts(out, ", ");
		error = error ? error : dal__sql_quote_ident(out, d, m->columns[i].name);
	}
	return error;
}

int dal__sql_insert(dal_str *out, const dal_dialect *d, const dal_model *m, const bool *set)
{
	size_t i, n = 0;
	int error;

	if ((error = dal__str_puts(out, "INSERT INTO ")) < 0 || (error = dal__sql_quote_ident(out, d, m->table)) < 0)
		return error;
	for (i = 0; i < m->ncolumns && error == 0; i++) {
		if (!set[i])
			continue;
		error = dal__str_puts(out, n++ ? ", " : " (");
		error = error ? error : dal__sql_quote_ident(out, d, m->columns[i].name);
	}
	/* No column given (a model without timestamp roles, all defaults): "()" is not SQL. */
	if (error == 0 && n == 0)
		error = dal__str_puts(out, " DEFAULT VALUES");
	error = error || n == 0 ? error : dal__str_puts(out, ") VALUES (");
	for (i = 0; i < n && error == 0; i++)
		error = dal__str_puts(out, i ? ", ?" : "?");
	error = error || n == 0 ? error : dal__str_putc(out, ')');
	error = error ? error : dal__str_puts(out, " RETURNING ");
	return error ? error : dal__sql_columns(out, d, m);
}

static int where_id(dal_str *out, const dal_dialect *d, const dal_model *m, int deleted)
{
	int error = dal__str_puts(out, " WHERE ");

	error = error ? error : dal__sql_quote_ident(out, d, "id");
	error = error ? error : dal__str_puts(out, " = ?");
	if (error == 0 && deleted != 0 && dal_model_soft_delete(m)) {
		error = dal__str_puts(out, " AND ");
		error = error ? error : dal__sql_quote_ident(out, d, "deleted_at");
		error = error ? error : dal__str_puts(out, deleted < 0 ? " IS NULL" : " IS NOT NULL");
	}
	return error;
}

int dal__sql_get(dal_str *out, const dal_dialect *d, const dal_model *m, bool live_only, bool lock)
{
	int error = dal__str_puts(out, "SELECT ");

	error = error ? error : dal__sql_columns(out, d, m);
	error = error ? error : dal__str_puts(out, " FROM ");
	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : where_id(out, d, m, live_only ? -1 : 0);
	return error || !lock || !d->row_lock ? error : dal__str_puts(out, d->row_lock);
}

int dal__sql_exists(dal_str *out, const dal_dialect *d, const dal_model *m, bool live_only)
{
	int error = dal__str_puts(out, "SELECT 1 FROM ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	return error ? error : where_id(out, d, m, live_only ? -1 : 0);
}

int dal__sql_update(dal_str *out, const dal_dialect *d, const dal_model *m, const bool *set,
                    int deleted, bool returning)
{
	size_t i, n = 0;
	int error = dal__str_puts(out, "UPDATE ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " SET ");
	for (i = 0; i < m->ncolumns && error == 0; i++) {
		if (!set[i])
			continue;
		error = n++ ? dal__str_puts(out, ", ") : 0;
		error = error ? error : dal__sql_quote_ident(out, d, m->columns[i].name);
		error = error ? error : dal__str_puts(out, " = ?");
	}
	error = error ? error : where_id(out, d, m, deleted);
	if (error == 0 && returning) {
		error = dal__str_puts(out, " RETURNING ");
		error = error ? error : dal__sql_columns(out, d, m);
	}
	return error;
}

int dal__sql_delete(dal_str *out, const dal_dialect *d, const dal_model *m)
{
	int error = dal__str_puts(out, "DELETE FROM ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	return error ? error : where_id(out, d, m, 0);
}

int dal__sql_unique_probe(dal_str *out, const dal_dialect *d, const dal_model *m, int col)
{
	int error = dal__str_puts(out, "SELECT 1 FROM ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " WHERE ");
	error = error ? error : dal__sql_quote_ident(out, d, m->columns[col].name);
	error = error ? error : dal__str_puts(out, " = ? AND ");
	error = error ? error : dal__sql_quote_ident(out, d, "id");
	error = error ? error : dal__str_puts(out, " <> ? AND ");
	error = error ? error : dal__sql_quote_ident(out, d, "deleted_at");
	return error ? error : dal__str_puts(out, " IS NULL");
}

int dal__sql_table_probe(dal_str *out, const dal_dialect *d, const dal_model *m)
{
	int error = dal__str_puts(out, "SELECT 1 FROM ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	return error ? error : dal__str_puts(out, " WHERE 1 = 0");
}

/* ---- SELECT from criteria ---- */

typedef struct select_ctx {
	dal_str *out;
	const dal_dialect *d;
	const dal_model *m;
	dal_value *params;
	bool *redact;          /* of params: values of DAL_SENSITIVE columns */
	size_t n, cap;
	int clauses;
	dal_str lits;          /* the texts of array parameters, back to back */
	size_t *lit_at;        /* which params they are, in order */
	size_t nlit;
} select_ctx;

/* A parameter compared with column `col` (-1: none). */
static int push(select_ctx *s, const dal_value *v, int col)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		dal_value *p = realloc(s->params, cap * sizeof(*p));
		bool *r;
		if (!p)
			return dal__error_nomem();
		s->params = p;
		if (!(r = realloc(s->redact, cap * sizeof(*r))))
			return dal__error_nomem();
		s->redact = r;
		s->cap = cap;
	}
	s->redact[s->n] = col >= 0 && (s->m->columns[col].flags & DAL_SENSITIVE);
	s->params[s->n++] = *v;
	return 0;
}

static int column_of(const select_ctx *s, const char *name, const char *what)
{
	int i = name ? dal_model_column_index(s->m, name) : -1;

	if (i < 0)
		return dal__error(DAL_EINVAL, "%s: table '%s' has no column '%s'", what, s->m->table,
			name ? name : "(null)");
	return i;
}

static int and(select_ctx *s)
{
	return dal__str_puts(s->out, s->clauses++ ? " AND " : " WHERE ");
}

/* A filter value must fit its column; checked before any SQL goes out. */
static int filter_value(select_ctx *s, int col, const dal_value *v)
{
	dal_value conv;
	int error;

	if (v->type == DAL_TYPE_NULL)
		return dal__error(DAL_EINVAL, "filter on '%s.%s': NULL is not a value to compare with "
			"(use DAL_OP_IS_NULL)", s->m->table, s->m->columns[col].name);
	if ((error = dal__value_to_column(&conv, s->m, (size_t)col, v)) < 0)
		return error;
	return push(s, &conv, col);
}

/* Value `k` of an IN list, converted to its column's type; errors name its position. */
static int in_value(dal_value *out, select_ctx *s, int col, const dal_filter *f, size_t k)
{
	char why[256];

	if (f->values[k].type == DAL_TYPE_NULL)
		return dal__error(DAL_EINVAL, "IN filter on '%s.%s': value %zu is NULL, which IN never matches "
			"(leave it out; DAL_OP_IS_NULL finds NULLs)", s->m->table, s->m->columns[col].name, k);
	if (dal__value_to_column(out, s->m, (size_t)col, &f->values[k]) == 0)
		return 0;
	/* Copied first: the message is rewritten in the buffer it is read from. */
	snprintf(why, sizeof(why), "%s", dal_error_last()->message);
	return dal__error(DAL_EINVAL, "IN filter, value %zu: %s", k, why);
}

/* The dialect's text with %s (at most one) replaced by `type`. */
static int put_template(dal_str *out, const char *tmpl, const char *type)
{
	const char *at = strstr(tmpl, "%s");
	int error;

	if (!at)
		return dal__str_puts(out, tmpl);
	error = dal__str_putn(out, tmpl, (size_t)(at - tmpl));
	error = error ? error : dal__str_puts(out, type);
	return error ? error : dal__str_puts(out, at + 2);
}

/*
 * Up to this many values, one parameter each: measured as fast as one array or
 * faster on every engine, and each length is a statement of its own anyway. Longer
 * lists go as one array parameter: PostgreSQL takes at most 7,498 parameters
 * through dal, and DuckDB binds many slowly.
 */
#define IN_PARAMS_MAX 32

/* col <in_array>: one parameter, the list's text in s->lits until dal__sql_select() ends. */
static int filter_in_array(select_ctx *s, int col, const dal_filter *f)
{
	const dal_column *c = &s->m->columns[col];
	dal_array_form form = s->d->in_array_form;
	size_t k, start = s->lits.len, *at;
	const char *why = "";
	dal_value v;
	int error;

	error = dal__sql_quote_ident(s->out, s->d, c->name);
	error = error ? error : put_template(s->out, s->d->in_array, s->d->types[c->type]);
	error = error ? error : dal__sql_array_open(&s->lits, form);
	for (k = 0; k < f->nvalues && error == 0; k++) {
		if ((error = in_value(&v, s, col, f, k)) < 0)
			break;
		if ((error = dal__sql_array_put(&s->lits, form, &v, k == 0, &why)) == DAL_EINVAL)
			error = dal__error(DAL_EINVAL, "IN filter on '%s.%s': value %zu %s", s->m->table, c->name, k, why);
	}
	error = error ? error : dal__sql_array_close(&s->lits, form);
	if (error < 0)
		return error;
	if (!(at = realloc(s->lit_at, (s->nlit + 1) * sizeof(*at))))
		return dal__error_nomem();
	s->lit_at = at;
	s->lit_at[s->nlit++] = s->n;
	v = dal_textn(NULL, s->lits.len - start);
	return push(s, &v, col);
}

static int filter_in(select_ctx *s, int col, const dal_filter *f)
{
	dal_value v;
	size_t k;
	int error = 0;

	if (f->nvalues == 0)
		return dal__str_puts(s->out, "1 = 0");
	if (!f->values)
		return dal__error(DAL_EINVAL, "IN filter on '%s.%s' has no values", s->m->table, f->column);
	if (f->nvalues > IN_PARAMS_MAX && s->d->in_array && dal__sql_array_type_ok(s->m->columns[col].type))
		return filter_in_array(s, col, f);
	error = dal__sql_quote_ident(s->out, s->d, s->m->columns[col].name);
	error = error ? error : dal__str_puts(s->out, " IN (");
	for (k = 0; k < f->nvalues && error == 0; k++) {
		error = dal__str_puts(s->out, k ? ", ?" : "?");
		error = error ? error : in_value(&v, s, col, f, k);
		error = error ? error : push(s, &v, col);
	}
	return error ? error : dal__str_putc(s->out, ')');
}

/*
 * The array texts move behind the parameters, into the one block the caller frees,
 * and the parameters point at them there.
 */
static int attach_lits(select_ctx *s)
{
	dal_value *p;
	char *text;
	size_t k;

	if (s->nlit == 0)
		return 0;
	if (!(p = realloc(s->params, s->n * sizeof(*p) + s->lits.len)))
		return dal__error_nomem();
	s->params = p;
	text = (char *)(p + s->n);
	memcpy(text, s->lits.ptr, s->lits.len);
	for (k = 0; k < s->nlit; k++) {
		p[s->lit_at[k]].v.s = text;
		text += p[s->lit_at[k]].len;
	}
	return 0;
}

static int filter(select_ctx *s, const dal_filter *f)
{
	static const char *const ops[] = { " = ?", " <> ?", " < ?", " <= ?", " > ?", " >= ?", " LIKE ?" };
	int col, error;

	if ((col = column_of(s, f->column, "filter")) < 0)
		return col;
	if ((error = and(s)) < 0)
		return error;
	if (f->op == DAL_OP_IN)
		return filter_in(s, col, f);
	if ((error = dal__sql_quote_ident(s->out, s->d, s->m->columns[col].name)) < 0)
		return error;
	if (f->op == DAL_OP_IS_NULL || f->op == DAL_OP_IS_NOT_NULL)
		return dal__str_puts(s->out, f->op == DAL_OP_IS_NULL ? " IS NULL" : " IS NOT NULL");
	if ((unsigned)f->op > DAL_OP_LIKE)
		return dal__error(DAL_EINVAL, "filter on '%s.%s': unknown operator %d", s->m->table, f->column, (int)f->op);
	if (f->op == DAL_OP_LIKE && s->m->columns[col].type != DAL_TYPE_TEXT)
		return dal__error(DAL_EINVAL, "LIKE filter on '%s.%s': the column is %s, not text", s->m->table,
			f->column, dal_type_name(s->m->columns[col].type));
	if ((error = dal__str_puts(s->out, ops[f->op])) < 0)
		return error;
	if (f->op == DAL_OP_LIKE && (error = dal__str_puts(s->out, s->d->like_escape)) < 0)
		return error;
	return filter_value(s, col, &f->value);
}

/* Keyset: (k1, .., km) after (a1, .., am) in the sort order, expanded so that
 * mixed directions work on every engine. */
static int keyset(select_ctx *s, const dal_criteria *c, const int *cols, const bool *desc, size_t nk)
{
	size_t i, j;
	int error;

	if (dal_row_model(c->after) != s->m)
		return dal__error(DAL_EINVAL, "keyset 'after' row is not a row of table '%s'", s->m->table);
	if ((error = and(s)) < 0 || (error = dal__str_putc(s->out, '(')) < 0)
		return error;
	for (i = 0; i < nk && error == 0; i++) {
		error = dal__str_puts(s->out, i ? " OR (" : "(");
		for (j = 0; j <= i && error == 0; j++) {
			const dal_value *v = dal_row_at(c->after, (size_t)cols[j]);
			if (v->type == DAL_TYPE_NULL)
				return dal__error(DAL_EINVAL, "keyset 'after' row has NULL in sort column '%s.%s'",
					s->m->table, s->m->columns[cols[j]].name);
			error = j ? dal__str_puts(s->out, " AND ") : 0;
			error = error ? error : dal__sql_quote_ident(s->out, s->d, s->m->columns[cols[j]].name);
			error = error ? error : dal__str_puts(s->out, j < i ? " = ?" : desc[j] ? " < ?" : " > ?");
			error = error ? error : push(s, v, cols[j]);
		}
		error = error ? error : dal__str_putc(s->out, ')');
	}
	return error ? error : dal__str_putc(s->out, ')');
}

/* The sort keys: the order columns up to id, then id as the tie-breaker. Every
 * order column is checked, also those after id, which cannot change the order. */
typedef struct sort_keys {
	int cols[65];
	bool desc[65];
	size_t n;
} sort_keys;

static int sort_keys_of(sort_keys *k, const select_ctx *s, const dal_criteria *c)
{
	int id = dal_model_column_index(s->m, "id");
	size_t i;
	bool seen_id = false;

	k->n = 0;
	if (c && c->norder > 64)
		return dal__error(DAL_EINVAL, "more than 64 order columns");
	for (i = 0; c && i < c->norder; i++) {
		int col = column_of(s, c->order[i].column, "order");
		if (col < 0)
			return col;
		if (seen_id)
			continue;
		k->cols[k->n] = col;
		k->desc[k->n] = c->order[i].desc;
		if (col == id)
			seen_id = true;
		else
			k->n++;
	}
	/* id is last anyway; without it in the order, it ascends. */
	if (!seen_id)
		k->desc[k->n] = false;
	k->cols[k->n++] = id;
	return 0;
}

/* ORDER BY the keys, each column qualified with `rel` (NULL: none). */
static int order_by(select_ctx *s, const sort_keys *k, const char *rel)
{
	size_t i;
	int error = 0;

	for (i = 0; i < k->n && error == 0; i++) {
		error = dal__str_puts(s->out, i ? ", " : " ORDER BY ");
		error = error || !rel ? error : dal__sql_quote_ident(s->out, s->d, rel);
		error = error || !rel ? error : dal__str_putc(s->out, '.');
		error = error ? error : dal__sql_quote_ident(s->out, s->d, s->m->columns[k->cols[i]].name);
		error = error ? error : dal__str_puts(s->out, k->desc[i] ? " DESC" : " ASC");
	}
	return error;
}

static int limit_offset(select_ctx *s, const dal_criteria *c)
{
	dal_value lim, off;
	int error;

	if (!c || (c->limit == 0 && c->offset == 0))
		return 0;
	/* One statement shape for any limit and offset, so the prepared statement is reused. */
	lim = dal_int(c->limit > 0 ? dal__sql_row_bound(c->limit) : DAL__SQL_NO_LIMIT);
	off = dal_int(dal__sql_row_bound(c->offset));
	if ((error = dal__str_puts(s->out, " LIMIT ? OFFSET ?")) < 0 || (error = push(s, &lim, -1)) < 0)
		return error;
	return push(s, &off, -1);
}

int dal__sql_check_criteria(const dal_model *m, const dal_criteria *c)
{
	if (!c)
		return 0;
	if (c->version == 0 || c->version > DAL_CRITERIA_VERSION)
		return dal__error(DAL_EINVAL, "invalid version %u on dal_criteria", c->version);
	if (c->limit < 0 || c->offset < 0)
		return dal__error(DAL_EINVAL, "find on '%s': negative %s", m->table, c->limit < 0 ? "limit" : "offset");
	if ((c->nfilters && !c->filters) || (c->norder && !c->order))
		return dal__error(DAL_EINVAL, "find on '%s': filters or order is NULL with a non-zero count", m->table);
	return 0;
}

/* The SELECT list of a kind. */
static int what(dal_str *out, const dal_dialect *d, const dal_model *m, dal_select_kind kind)
{
	int error = 0;

	if (kind == DAL_SELECT_ROWS)
		return dal__sql_columns(out, d, m);
	if (kind == DAL_SELECT_COUNT)
		return dal__str_puts(out, "COUNT(*)");
	if (kind == DAL_SELECT_ANY_ID)
		return dal__sql_quote_ident(out, d, "id");
	if (kind == DAL_SELECT_ID_BOUNDS) {
		error = dal__str_puts(out, "MIN(");
		error = error ? error : dal__sql_quote_ident(out, d, "id");
		error = error ? error : dal__str_puts(out, "), ");
	}
	error = error ? error : dal__str_puts(out, kind == DAL_SELECT_MIN_ID ? "MIN(" : "MAX(");
	error = error ? error : dal__sql_quote_ident(out, d, "id");
	return error ? error : dal__str_putc(out, ')');
}

/* WHERE: the filters, live rows only, the keyset position. A count narrows by the
 * keyset position too, so that count and pages agree. */
static int where_part(select_ctx *s, const dal_criteria *c, const sort_keys *keys)
{
	size_t i;
	int error = 0;

	s->clauses = 0;
	for (i = 0; c && i < c->nfilters && error == 0; i++)
		error = filter(s, &c->filters[i]);
	if (error == 0 && dal_model_soft_delete(s->m) && !(c && c->include_deleted)) {
		error = and(s);
		error = error ? error : dal__sql_quote_ident(s->out, s->d, "deleted_at");
		error = error ? error : dal__str_puts(s->out, " IS NULL");
	}
	if (error == 0 && c && c->after)
		error = keyset(s, c, keys->cols, keys->desc, keys->n);
	return error;
}

/* SELECT <what> FROM table WHERE ... [ORDER BY ... LIMIT ? OFFSET ?] */
static int plain_select(select_ctx *s, const dal_criteria *c, const sort_keys *keys, dal_select_kind kind)
{
	int error = dal__str_puts(s->out, "SELECT ");

	error = error ? error : what(s->out, s->d, s->m, kind);
	error = error ? error : dal__str_puts(s->out, " FROM ");
	error = error ? error : dal__sql_quote_ident(s->out, s->d, s->m->table);
	error = error ? error : where_part(s, c, keys);
	if (error == 0 && kind == DAL_SELECT_ROWS) {
		error = order_by(s, keys, NULL);
		error = error ? error : limit_offset(s, c);
	}
	if (error == 0 && kind == DAL_SELECT_ANY_ID)
		error = dal__str_puts(s->out, " LIMIT 1");
	return error;
}

/* "rel"."c1", "rel"."c2", ... */
static int columns_of(select_ctx *s, const char *rel)
{
	size_t i;
	int error = 0;

	for (i = 0; i < s->m->ncolumns && error == 0; i++) {
		error = i ? dal__str_puts(s->out, ", ") : 0;
		error = error ? error : dal__sql_quote_ident(s->out, s->d, rel);
		error = error ? error : dal__str_putc(s->out, '.');
		error = error ? error : dal__sql_quote_ident(s->out, s->d, s->m->columns[i].name);
	}
	return error;
}

/*
 * A page and the count of all matching rows in one statement (one snapshot on
 * every engine): the count's one row LEFT JOINed to the page, so a page past the
 * end still yields one row, the count with NULL columns. The outer ORDER BY
 * repeats the page's, which ends with id and so orders the page's rows alike.
 */
static int page_select(select_ctx *s, const dal_criteria *c, const sort_keys *keys)
{
	int error = dal__str_puts(s->out, "WITH ");

	error = error ? error : dal__sql_quote_ident(s->out, s->d, "_dal_page");
	error = error ? error : dal__str_puts(s->out, " AS (");
	error = error ? error : plain_select(s, c, keys, DAL_SELECT_ROWS);
	error = error ? error : dal__str_puts(s->out, ") SELECT ");
	error = error ? error : columns_of(s, "_dal_page");
	error = error ? error : dal__str_puts(s->out, ", ");
	error = error ? error : dal__sql_quote_ident(s->out, s->d, "_dal_total");
	error = error ? error : dal__str_puts(s->out, ".n FROM (SELECT COUNT(*) AS n FROM ");
	error = error ? error : dal__sql_quote_ident(s->out, s->d, s->m->table);
	error = error ? error : where_part(s, c, keys);
	error = error ? error : dal__str_puts(s->out, ") ");
	error = error ? error : dal__sql_quote_ident(s->out, s->d, "_dal_total");
	error = error ? error : dal__str_puts(s->out, " LEFT JOIN ");
	error = error ? error : dal__sql_quote_ident(s->out, s->d, "_dal_page");
	error = error ? error : dal__str_puts(s->out, " ON 1 = 1");
	return error ? error : order_by(s, keys, "_dal_page");
}

int dal__sql_select(dal_str *out, dal_value **params, bool **redact, size_t *nparams, const dal_dialect *d,
                    const dal_model *m, const dal_criteria *c, dal_select_kind kind)
{
	select_ctx s = { out, d, m, NULL, NULL, 0, 0, 0, DAL_STR_INIT, NULL, 0 };
	sort_keys keys;
	int error;

	*params = NULL;
	if (redact)
		*redact = NULL;
	*nparams = 0;
	if ((error = dal__sql_check_criteria(m, c)) < 0)
		return error;
	/* Every order column is checked, also for a count, which does not sort. */
	if ((error = sort_keys_of(&keys, &s, c)) == 0)
		error = kind == DAL_SELECT_PAGE ? page_select(&s, c, &keys) : plain_select(&s, c, &keys, kind);
	error = error ? error : attach_lits(&s);
	dal__str_dispose(&s.lits);
	free(s.lit_at);
	if (error < 0) {
		free(s.params);
		free(s.redact);
		return error;
	}
	*params = s.params;
	if (redact)
		*redact = s.redact;
	else
		free(s.redact);
	*nparams = s.n;
	return 0;
}

/* ---- DDL ---- */

static int column_ddl(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	const dal_dialect *d = drv->dialect;
	int error = dal__sql_quote_ident(out, d, c->name);

	error = error ? error : dal__str_putc(out, ' ');
	if (error)
		return error;
	if (strcmp(c->name, "id") == 0)
		return dal__str_printf(out, d->autoinc_pk, m->table);
	if (c->type == DAL_TYPE_TEXT && c->length && d->varchar)
		error = dal__str_printf(out, d->varchar, c->length);
	else
		error = dal__str_puts(out, d->types[c->type]);
	if (error == 0 && (c->flags & DAL_NOT_NULL))
		error = dal__str_puts(out, " NOT NULL");
	return error;
}

int dal__sql_add_column(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	int error = dal__str_puts(out, "ALTER TABLE ");

	error = error ? error : dal__sql_quote_ident(out, drv->dialect, m->table);
	error = error ? error : dal__str_puts(out, " ADD COLUMN ");
	return error ? error : column_ddl(out, drv, m, c);
}

/* FNV-1a, 64 bits, over each part and its terminating NUL. */
static uint64_t index_hash(const char *const *parts, size_t n)
{
	uint64_t h = 0xcbf29ce484222325u;
	size_t i;
	const char *p;

	for (i = 0; i < n; i++)
		for (p = parts[i];; p++) {
			h = (h ^ (unsigned char)*p) * 0x100000001b3u;
			if (!*p)
				break;
		}
	return h;
}

/*
 * ux_<len(table)>_<table>_<col>: identifiers are [A-Za-z0-9_], so the length says
 * where the table ends and no two (table, column) pairs share a name. Beyond 63
 * bytes (PostgreSQL cuts names there) the hash of the whole keeps it unique.
 */
void dal__sql_index_name(char out[DAL__SQL_INDEX_NAME_MAX], bool unique, const char *table, const char *col)
{
	const char *kind = unique ? "ux" : "ix";
	const char *parts[] = { kind, table, col };
	int n = snprintf(out, DAL__SQL_INDEX_NAME_MAX, "%s_%zu_%s_%s", kind, strlen(table), table, col);

	if (n < 0 || n >= DAL__SQL_INDEX_NAME_MAX)
		snprintf(out, DAL__SQL_INDEX_NAME_MAX, "%s_%.30s_%.10s_%016" PRIx64, kind, table, col,
			index_hash(parts, 3));
}

bool dal__sql_index_decl(dal__sql_index *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	bool soft = dal_model_soft_delete(m);

	if (!(c->flags & (DAL_UNIQUE | DAL_INDEX)) || (c->flags & DAL_PRIMARY_KEY))
		return false;
	out->unique = (c->flags & DAL_UNIQUE) != 0;
	/* Unique among live rows needs a partial index; without one dal checks it itself. */
	if (out->unique && soft && !(drv->caps & DAL_CAP_PARTIAL_INDEX))
		out->unique = false;
	out->partial = out->unique && soft;
	dal__sql_index_name(out->name, out->unique, m->table, c->name);
	return true;
}

int dal__sql_create_column_index(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	const dal_dialect *d = drv->dialect;
	dal__sql_index ix;
	int error;

	if (!dal__sql_index_decl(&ix, drv, m, c))
		return 0;
	error = dal__str_printf(out, "CREATE %sINDEX IF NOT EXISTS ", ix.unique ? "UNIQUE " : "");
	error = error ? error : dal__sql_quote_ident(out, d, ix.name);
	error = error ? error : dal__str_puts(out, " ON ");
	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " (");
	error = error ? error : dal__sql_quote_ident(out, d, c->name);
	error = error ? error : dal__str_putc(out, ')');
	if (error == 0 && ix.partial) {
		error = dal__str_puts(out, " WHERE ");
		error = error ? error : dal__sql_quote_ident(out, d, "deleted_at");
		error = error ? error : dal__str_puts(out, " IS NULL");
	}
	return error;
}

int dal__sql_create_table(dal_str *out, const dal_driver *drv, const dal_model *m)
{
	const dal_dialect *d = drv->dialect;
	size_t i;
	int error = 0;

	if (d->autoinc_pre) {
		error = dal__str_printf(out, d->autoinc_pre, m->table);
		error = error ? error : dal__str_puts(out, DAL_SQL_SEP);
	}
	error = error ? error : dal__str_puts(out, "CREATE TABLE IF NOT EXISTS ");
	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " (");
	for (i = 0; i < m->ncolumns && error == 0; i++) {
		error = i ? dal__str_puts(out, ", ") : 0;
		error = error ? error : column_ddl(out, drv, m, &m->columns[i]);
	}
	return error ? error : dal__str_putc(out, ')');
}

int dal__sql_create_index(dal_str *out, const dal_dialect *d, const char *table, const char *name,
                          const char *const *cols, size_t ncols)
{
	size_t i;
	int error = dal__str_puts(out, "CREATE INDEX IF NOT EXISTS ");

	error = error ? error : dal__sql_quote_ident(out, d, name);
	error = error ? error : dal__str_puts(out, " ON ");
	error = error ? error : dal__sql_quote_ident(out, d, table);
	for (i = 0; i < ncols && error == 0; i++) {
		error = dal__str_puts(out, i ? ", " : " (");
		error = error ? error : dal__sql_quote_ident(out, d, cols[i]);
	}
	return error ? error : dal__str_putc(out, ')');
}
