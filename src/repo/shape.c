/*
 * Whether a table that already exists has the shape its model declares.
 *
 * CREATE TABLE IF NOT EXISTS leaves an older table as it is, so a model that
 * gained a column, or a table some other program made, would otherwise pass
 * dal_init_database and fail on the first write. The engine's catalog is asked
 * once per table; every difference that would make a repository call fail is
 * named in one message.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "repo/shape.h"
#include "util/error.h"
#include "util/str.h"

/* Catalog names longer than this cannot be a model's column (identifiers are at most 63 bytes). */
#define NAME_MAX_BYTES 64

typedef struct table_col {
	char name[NAME_MAX_BYTES];
	char type[NAME_MAX_BYTES];  /* the engine's name of its type, cut to fit */
	int family;
	bool not_null, has_default, matched;
} table_col;

typedef struct table_cols {
	table_col *v;
	size_t n, cap;
} table_cols;

static int int_of(dal_stmt *stmt, int col, int64_t *out)
{
	dal_value v;
	int error;

	if ((error = stmt->conn->drv->column(stmt, col, &v)) < 0)
		return error;
	*out = v.type == DAL_TYPE_INT ? v.v.i : v.type == DAL_TYPE_BOOL ? v.v.b : 0;
	return 0;
}

static void copy_text(char *dst, size_t size, const dal_value *v)
{
	size_t n = v->type == DAL_TYPE_TEXT ? v->len : 0;

	n = n < size - 1 ? n : size - 1;
	memcpy(dst, n ? v->v.s : "", n);
	dst[n] = '\0';
}

static int column_row(dal_stmt *stmt, void *payload)
{
	table_cols *t = payload;
	table_col *c;
	dal_value name, type;
	int64_t family, not_null, has_default;
	int error;

	if ((error = stmt->conn->drv->column(stmt, 0, &name)) < 0 || (error = int_of(stmt, 1, &family)) < 0 ||
	    (error = int_of(stmt, 2, &not_null)) < 0 || (error = int_of(stmt, 3, &has_default)) < 0 ||
	    (error = stmt->conn->drv->column(stmt, 4, &type)) < 0)
		return error;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		table_col *v = realloc(t->v, cap * sizeof *v);

		if (!v)
			return dal__error(DAL_ENOMEM, "out of memory reading a table's columns");
		t->v = v;
		t->cap = cap;
	}
	c = &t->v[t->n++];
	memset(c, 0, sizeof *c);
	if (name.type == DAL_TYPE_TEXT && name.len < NAME_MAX_BYTES)
		copy_text(c->name, sizeof c->name, &name);
	copy_text(c->type, sizeof c->type, &type);
	c->family = (int)family;
	c->not_null = not_null != 0;
	c->has_default = has_default != 0;
	return 0;
}

static table_col *find_col(table_cols *t, const char *name, bool nocase)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (nocase ? strcasecmp(t->v[i].name, name) == 0 : strcmp(t->v[i].name, name) == 0)
			return &t->v[i];
	return NULL;
}

static int family_of(const dal_dialect *d, dal_type type)
{
	return d->family[type] ? d->family[type] : (int)type;
}

/* One difference, appended to the message after a "; ". */
static int note(dal_str *out, int *count, const char *fmt, ...) DAL__PRINTF(3, 4);
static int note(dal_str *out, int *count, const char *fmt, ...)
{
	va_list ap;
	int error;

	if (++*count > 1 && dal__str_puts(out, "; ") < 0)
		return DAL_ENOMEM;
	va_start(ap, fmt);
	error = dal__str_vprintf(out, fmt, ap);
	va_end(ap);
	return error;
}

/* The model's columns against the table's. */
static int compare_declared(dal_str *out, int *count, const dal_dialect *d, const dal_model *m, table_cols *t)
{
	size_t i;
	int error = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		const dal_column *mc = &m->columns[i];
		table_col *tc = find_col(t, mc->name, d->ident_nocase);

		if (!tc) {
			error = note(out, count, "no column '%s' (the model declares %s%s)", mc->name,
				dal_type_name(mc->type), (mc->flags & DAL_NOT_NULL) ? " NOT NULL" : "");
			continue;
		}
		tc->matched = true;
		if (tc->family != family_of(d, mc->type))
			error = note(out, count, "column '%s' is %s in the table, the model declares %s", mc->name,
				tc->type, dal_type_name(mc->type));
		else if (tc->not_null && !tc->has_default && !(mc->flags & (DAL_NOT_NULL | DAL_PRIMARY_KEY)))
			error = note(out, count, "column '%s' is NOT NULL in the table, the model lets it be NULL",
				mc->name);
	}
	return error;
}

/* Columns the model does not declare are left alone, unless a create would fail on them. */
static int compare_extra(dal_str *out, int *count, table_cols *t)
{
	size_t i;
	int error = 0;

	for (i = 0; i < t->n && error == 0; i++)
		if (!t->v[i].matched && t->v[i].not_null && !t->v[i].has_default)
			error = note(out, count, "column '%s' is NOT NULL without a default and the model does not "
				"declare it (every create would fail)", t->v[i].name);
	return error;
}

int dal__table_shape_check(dal_conn *conn, const dal_model *m)
{
	const dal_dialect *d = conn->drv->dialect;
	table_cols t = { NULL, 0, 0 };
	dal_str diff = DAL_STR_INIT;
	dal_value p = dal_text(m->table);
	int count = 0, error;

	error = dal__conn_each(conn, d->column_list_sql, 0, &p, 1, NULL, column_row, &t);
	if (error == 0)
		error = compare_declared(&diff, &count, d, m, &t);
	if (error == 0)
		error = compare_extra(&diff, &count, &t);
	if (error == 0 && count > 0)
		error = dal__error(DAL_ESCHEMA, "table '%s' does not match its model: %s; change the table "
			"(ALTER TABLE) or the model", m->table, diff.ptr);
	free(t.v);
	dal__str_dispose(&diff);
	return error;
}
