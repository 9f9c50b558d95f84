/*
 * dal_schema_diff: the models against the tables, by the catalog, and the SQL of
 * a migration that removes the differences (what Alembic's autogenerate writes).
 */
#include <stdlib.h>
#include <string.h>

#include "dal/schema.h"
#include "conn.h"
#include "db.h"
#include "migrate/diff_sql.h"
#include "model.h"
#include "repo/shape.h"
#include "util/error.h"
#include "util/grow.h"

typedef struct diff {
	dal_schema_report *rep;
	size_t cap;
	dal_str sql;
} diff;

static int add(diff *d, dal_schema_change change, const char *table, const char *column, const dal_str *detail)
{
	dal_schema_difference *it;

	int error = dal__grow((void **)&d->rep->items, &d->cap, d->rep->count, sizeof *d->rep->items);

	if (error < 0)
		return error;
	it = &d->rep->items[d->rep->count++];
	it->change = change;
	it->table = strdup(table);
	it->column = strdup(column);
	it->detail = strdup(detail->ptr ? detail->ptr : "");
	return it->table && it->column && it->detail ? 0 : dal__error_nomem();
}

static dal_schema_change change_of(dal__shape_kind kind)
{
	switch (kind) {
	case DAL__SHAPE_NO_COLUMN: return DAL_SCHEMA_NO_COLUMN;
	case DAL__SHAPE_TYPE: return DAL_SCHEMA_TYPE;
	case DAL__SHAPE_NOT_NULL: case DAL__SHAPE_NULLABLE: return DAL_SCHEMA_NULLABILITY;
	case DAL__SHAPE_LENGTH: return DAL_SCHEMA_LENGTH;
	case DAL__SHAPE_EXTRA: case DAL__SHAPE_EXTRA_NOT_NULL: return DAL_SCHEMA_EXTRA_COLUMN;
	}
	return DAL_SCHEMA_TYPE;
}

static int columns(diff *d, const dal_model *m, const dal__shape *shape)
{
	dal_str detail = DAL_STR_INIT;
	size_t i;
	int error = 0;

	for (i = 0; i < shape->n && error == 0; i++) {
		const dal__shape_diff *x = &shape->v[i];

		dal__str_clear(&detail);
		if ((error = dal__shape_describe(&detail, x)) == 0)
			error = add(d, change_of(x->kind), m->table, x->col ? x->col->name : x->name, &detail);
	}
	dal__str_dispose(&detail);
	return error;
}

/* The declared indexes the catalog does not show as declared. */
static int indexes(diff *d, dal_conn *conn, const dal_model *m, bool *missing)
{
	dal_str detail = DAL_STR_INIT;
	dal__sql_index want;
	dal__shape_index_look look;
	size_t i;
	int error = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		if (!dal__sql_index_decl(&want, conn->drv, m, &m->columns[i]))
			continue;
		if ((error = dal__shape_index(&look, conn, m, &m->columns[i], &want)) < 0 || look.found)
			continue;
		missing[i] = true;
		dal__str_clear(&detail);
		error = dal__str_printf(&detail, "no %s '%s' on column '%s'", want.unique ? "unique index" : "index",
			want.name, m->columns[i].name);
		error = error ? error : add(d, DAL_SCHEMA_NO_INDEX, m->table, m->columns[i].name, &detail);
	}
	dal__str_dispose(&detail);
	return error;
}

/* Whether other tables' foreign keys point at m's table (asked where a rebuild may be needed). */
static int referenced(bool *out, dal_conn *conn, const dal_model *m)
{
	const char *sql = conn->drv->dialect->referenced_by_sql;
	dal_value p[2];
	int64_t n = 0;
	bool found = false;
	int error;

	*out = false;
	if (!sql)
		return 0;
	p[0] = dal_text(m->table);
	p[1] = dal_text(m->table);
	error = dal__conn_scalar(&n, &found, conn, sql, p, 2, NULL);
	*out = found && n > 0;
	return error;
}

static int one_model(diff *d, dal_conn *conn, const dal_model *m)
{
	dal__shape shape = { NULL, 0, 0 };
	dal_str detail = DAL_STR_INIT;
	bool exists = false, refs = false, *missing = calloc(m->ncolumns, sizeof *missing);
	size_t before = d->rep->count;
	int error = missing ? dal__shape_table_exists(&exists, conn, m) : dal__error_nomem();

	if (error == 0 && !exists && (error = dal__str_printf(&detail, "no table '%s'", m->table)) == 0 &&
	    (error = add(d, DAL_SCHEMA_NO_TABLE, m->table, "", &detail)) == 0)
		error = dal__diff_sql_table(&d->sql, conn->drv, m, NULL, missing, false);
	if (error == 0 && exists && (error = dal__shape_read(&shape, conn, m)) == 0 &&
	    (error = columns(d, m, &shape)) == 0 && (error = indexes(d, conn, m, missing)) == 0 &&
	    d->rep->count > before && (error = referenced(&refs, conn, m)) == 0)
		error = dal__diff_sql_table(&d->sql, conn->drv, m, &shape, missing, refs);
	dal__shape_dispose(&shape);
	dal__str_dispose(&detail);
	free(missing);
	return error;
}

int dal_schema_diff(dal_schema_report **out, dal_db *db, const dal_model *const *models, size_t n)
{
	diff d;
	dal_conn *conn = NULL;
	size_t i;
	int error = 0;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if ((error = dal__models_validate(models, n)) < 0)
		return error;
	memset(&d, 0, sizeof d);
	if (!(d.rep = calloc(1, sizeof *d.rep)))
		return dal__error_nomem();
	if ((error = dal__pool_acquire(&conn, db)) == 0) {
		for (i = 0; i < n && error == 0; i++)
			error = one_model(&d, conn, models[i]);
		dal__pool_release(db, conn);
	}
	if (error == 0 && !(d.rep->sql = d.sql.ptr ? dal__str_detach(&d.sql) : strdup("")))
		error = dal__error_nomem();
	dal__str_dispose(&d.sql);
	if (error < 0) {
		dal_schema_report_free(d.rep);
		return error;
	}
	*out = d.rep;
	return 0;
}

void dal_schema_report_free(dal_schema_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++) {
		free((char *)r->items[i].table);
		free((char *)r->items[i].column);
		free((char *)r->items[i].detail);
	}
	free(r->items);
	free((char *)r->sql);
	free(r);
}
