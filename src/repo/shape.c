/*
 * How an existing table differs from its model.
 *
 * CREATE TABLE IF NOT EXISTS leaves an older table as it is, so a model that
 * gained a column, or a table some other program made, would otherwise pass
 * dal_init_database and fail on the first write. The engine's catalog is asked
 * once per table; each difference a repository call would fail on is listed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conn.h"
#include "repo/shape.h"
#include "sql/build.h"
#include "util/error.h"
#include "util/grow.h"
#include "util/str.h"

/* One column as the catalog has it. */
typedef struct table_col {
	char name[DAL__SHAPE_NAME_MAX];
	char type[DAL__SHAPE_NAME_MAX];
	int family;
	long length;
	bool not_null, has_default, matched;
} table_col;

typedef struct table_cols {
	table_col *v;
	size_t n, cap;
} table_cols;

static void copy_text(char *dst, size_t size, const dal_value *v)
{
	size_t n = v->type == DAL_TYPE_TEXT ? v->len : 0;

	n = n < size - 1 ? n : size - 1;
	memcpy(dst, n ? v->v.s : "", n);
	dst[n] = '\0';
}

static int int_of(dal_stmt *stmt, int col, int64_t *out)
{
	dal_value v;
	int error;

	if ((error = stmt->conn->drv->column(stmt, col, &v)) < 0)
		return error;
	*out = v.type == DAL_TYPE_INT ? v.v.i : v.type == DAL_TYPE_BOOL ? v.v.b : 0;
	return 0;
}

static int column_row(dal_stmt *stmt, void *payload)
{
	table_cols *t = payload;
	table_col *c;
	dal_value name, type;
	int64_t family, not_null, has_default, length;
	int error;

	if ((error = stmt->conn->drv->column(stmt, 0, &name)) < 0 || (error = int_of(stmt, 1, &family)) < 0 ||
	    (error = int_of(stmt, 2, &not_null)) < 0 || (error = int_of(stmt, 3, &has_default)) < 0 ||
	    (error = stmt->conn->drv->column(stmt, 4, &type)) < 0 || (error = int_of(stmt, 5, &length)) < 0)
		return error;
	if ((error = dal__grow((void **)&t->v, &t->cap, t->n, sizeof *t->v)) < 0)
		return error;
	c = &t->v[t->n++];
	memset(c, 0, sizeof *c);
	if (name.type == DAL_TYPE_TEXT && name.len < DAL__SHAPE_NAME_MAX)
		copy_text(c->name, sizeof c->name, &name);
	copy_text(c->type, sizeof c->type, &type);
	c->family = (int)family;
	c->length = (long)length;
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

static int add(dal__shape *s, dal__shape_kind kind, const dal_column *col, const table_col *tc)
{
	dal__shape_diff *d;
	int error = dal__grow((void **)&s->v, &s->cap, s->n, sizeof *s->v);

	if (error < 0)
		return error;
	d = &s->v[s->n++];
	memset(d, 0, sizeof *d);
	d->kind = kind;
	d->col = col;
	if (tc) {
		memcpy(d->name, tc->name, sizeof d->name);
		memcpy(d->type, tc->type, sizeof d->type);
		d->length = tc->length;
	}
	return 0;
}

/* Each way one column differs: its type, then its nullability either way. */
static int compare_column(dal__shape *s, const dal_dialect *d, const dal_column *mc, const table_col *tc)
{
	bool same_family = tc->family == family_of(d, mc->type);
	int error = same_family ? 0 : add(s, DAL__SHAPE_TYPE, mc, tc);

	if (error == 0 && same_family && d->varchar && mc->type == DAL_TYPE_TEXT && tc->length != (long)mc->length)
		error = add(s, DAL__SHAPE_LENGTH, mc, tc);
	if (error == 0 && tc->not_null && !tc->has_default && !(mc->flags & (DAL_NOT_NULL | DAL_PRIMARY_KEY)))
		error = add(s, DAL__SHAPE_NOT_NULL, mc, tc);
	if (error == 0 && !tc->not_null && (mc->flags & DAL_NOT_NULL) && !(mc->flags & DAL_PRIMARY_KEY))
		error = add(s, DAL__SHAPE_NULLABLE, mc, tc);
	return error;
}

static int compare(dal__shape *s, const dal_dialect *d, const dal_model *m, table_cols *t)
{
	size_t i;
	int error = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		const dal_column *mc = &m->columns[i];
		table_col *tc = find_col(t, mc->name, d->ident_nocase);

		if (!tc) {
			error = add(s, DAL__SHAPE_NO_COLUMN, mc, NULL);
			continue;
		}
		tc->matched = true;
		error = compare_column(s, d, mc, tc);
	}
	/* A column the model does not declare matters to dal only if a create would fail on it. */
	for (i = 0; i < t->n && error == 0; i++)
		if (!t->v[i].matched)
			error = add(s, t->v[i].not_null && !t->v[i].has_default ? DAL__SHAPE_EXTRA_NOT_NULL : DAL__SHAPE_EXTRA,
				NULL, &t->v[i]);
	return error;
}

int dal__shape_table_exists(bool *out, dal_conn *conn, const dal_model *m)
{
	dal_str sql = DAL_STR_INIT;
	int error;

	*out = false;
	error = dal__sql_table_probe(&sql, conn->drv->dialect, m);
	/* A probe on the table itself works the same on every engine's catalog. */
	if (error == 0) {
		error = conn->drv->exec(conn, sql.ptr);
		*out = error == 0;
		error = error == DAL_ESQL ? 0 : error;
	}
	dal__str_dispose(&sql);
	return error;
}

static bool flag_of(const dal_value *v)
{
	return (v->type == DAL_TYPE_INT && v->v.i != 0) || (v->type == DAL_TYPE_BOOL && v->v.b);
}

static int index_row(dal_stmt *stmt, void *payload)
{
	dal__shape_index_look *l = payload;
	const dal_driver *drv = stmt->conn->drv;
	size_t len = strlen(l->want->name);
	dal_value v;
	bool unique, on_column;
	int64_t pred;
	int error;

	if ((error = drv->column(stmt, 0, &v)) < 0)
		return error;
	if (v.type == DAL_TYPE_TEXT && v.len == len && memcmp(v.v.s, l->want->name, len) == 0)
		l->named = true;
	if ((error = drv->column(stmt, 1, &v)) < 0)
		return error;
	unique = flag_of(&v);
	if ((error = drv->column(stmt, 2, &v)) < 0)
		return error;
	pred = v.type == DAL_TYPE_INT ? v.v.i : -1;
	if ((error = drv->column(stmt, 3, &v)) < 0)
		return error;
	on_column = flag_of(&v);
	if (on_column && unique == l->want->unique && pred == (l->want->partial ? 1 : 0))
		l->found = true;
	return 0;
}

int dal__shape_index(dal__shape_index_look *out, dal_conn *conn, const dal_model *m, const dal_column *c,
                     const dal__sql_index *want)
{
	dal_value p[2];

	out->want = want;
	out->found = out->named = false;
	p[0] = dal_text(m->table);
	p[1] = dal_text(c->name);
	return dal__conn_each(conn, conn->drv->dialect->index_list_sql, 0, p, 2, NULL, index_row, out);
}

int dal__shape_read(dal__shape *out, dal_conn *conn, const dal_model *m)
{
	const dal_dialect *d = conn->drv->dialect;
	table_cols t = { NULL, 0, 0 };
	dal_value p = dal_text(m->table);
	int error;

	memset(out, 0, sizeof *out);
	error = dal__conn_each(conn, d->column_list_sql, 0, &p, 1, NULL, column_row, &t);
	if (error == 0)
		error = compare(out, d, m, &t);
	free(t.v);
	return error;
}

int dal__shape_describe(dal_str *out, const dal__shape_diff *d)
{
	switch (d->kind) {
	case DAL__SHAPE_NO_COLUMN:
		return dal__str_printf(out, "no column '%s' (the model declares %s%s)", d->col->name,
			dal_type_name(d->col->type), (d->col->flags & DAL_NOT_NULL) ? " NOT NULL" : "");
	case DAL__SHAPE_TYPE:
		return dal__str_printf(out, "column '%s' is %s in the table, the model declares %s", d->col->name,
			d->type, dal_type_name(d->col->type));
	case DAL__SHAPE_NOT_NULL:
		return dal__str_printf(out, "column '%s' is NOT NULL in the table, the model lets it be NULL",
			d->col->name);
	case DAL__SHAPE_EXTRA_NOT_NULL:
		return dal__str_printf(out, "column '%s' is NOT NULL without a default and the model does not "
			"declare it (every create would fail)", d->name);
	case DAL__SHAPE_NULLABLE:
		return dal__str_printf(out, "column '%s' may be NULL in the table, the model declares it NOT NULL",
			d->col->name);
	case DAL__SHAPE_LENGTH:
		return dal__str_printf(out, "column '%s' holds %ld characters in the table, the model %u", d->col->name,
			d->length, d->col->length);
	case DAL__SHAPE_EXTRA:
		return dal__str_printf(out, "column '%s' is not declared by the model", d->name);
	}
	return 0;
}

int dal__shape_error(const dal__shape *s, const dal_model *m, const char *unfixed)
{
	dal_str msg = DAL_STR_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < s->n && error == 0; i++)
		if (dal__shape_fatal(s->v[i].kind) && (msg.len == 0 || (error = dal__str_puts(&msg, "; ")) == 0))
			error = dal__shape_describe(&msg, &s->v[i]);
	if (error == 0 && msg.len > 0)
		error = dal__error(DAL_ESCHEMA, "table '%s' does not match its model: %s%s%s; change the table "
			"(ALTER TABLE) or the model", m->table, msg.ptr, unfixed ? " " : "", unfixed ? unfixed : "");
	dal__str_dispose(&msg);
	return error;
}

void dal__shape_dispose(dal__shape *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}
