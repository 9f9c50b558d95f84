/*
 * A migration from a schema diff: ALTER TABLE where the engine has it, a rebuild
 * of the table where it has not (SQLite cannot change a column's type or
 * nullability in place). The output is meant to be read before it is applied:
 * it drops columns no model declares and puts zero values where NOT NULL needs one.
 */
#include <string.h>

#include "migrate/diff_sql.h"
#include "sql/build.h"
#include "sql/ident.h"

#define END ";\n"

static int ident(dal_str *out, const dal_driver *drv, const char *name)
{
	return dal__sql_quote_ident(out, drv->dialect, name);
}

static const char *type_ddl(dal_str *tmp, const dal_driver *drv, const dal_column *c)
{
	dal__str_clear(tmp);
	if (c->type == DAL_TYPE_TEXT && c->length && drv->dialect->varchar &&
	    dal__str_printf(tmp, drv->dialect->varchar, c->length) == 0)
		return tmp->ptr;
	return drv->dialect->types[c->type];
}

/* The value a row gets in a column that becomes NOT NULL. */
static int zero(dal_str *out, const dal_driver *drv, const dal_column *c)
{
	char ts[40];

	switch (c->type) {
	case DAL_TYPE_BOOL: return dal__str_puts(out, "FALSE");
	case DAL_TYPE_INT: case DAL_TYPE_DOUBLE: return dal__str_puts(out, "0");
	case DAL_TYPE_TEXT: return dal__str_puts(out, "''");
	case DAL_TYPE_TIMESTAMP:
		dal_timestamp_format(ts, 0);
		return dal__str_printf(out, "CAST('%s' AS %s)", ts, drv->dialect->types[c->type]);
	case DAL_TYPE_JSON: return dal__str_printf(out, "CAST('null' AS %s)", drv->dialect->types[c->type]);
	default: return dal__str_printf(out, "CAST('' AS %s)", drv->dialect->types[c->type]);
	}
}

static int alter_column(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	int error = dal__str_puts(out, "ALTER TABLE ");

	error = error ? error : ident(out, drv, m->table);
	error = error ? error : dal__str_puts(out, " ALTER COLUMN ");
	error = error ? error : ident(out, drv, c->name);
	return error ? error : dal__str_putc(out, ' ');
}

static int fill_nulls(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	int error = dal__str_puts(out, "UPDATE ");

	error = error ? error : ident(out, drv, m->table);
	error = error ? error : dal__str_puts(out, " SET ");
	error = error ? error : ident(out, drv, c->name);
	error = error ? error : dal__str_puts(out, " = ");
	error = error ? error : zero(out, drv, c);
	error = error ? error : dal__str_puts(out, " WHERE ");
	error = error ? error : ident(out, drv, c->name);
	return error ? error : dal__str_puts(out, " IS NULL" END);
}

static int set_not_null(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	int error = fill_nulls(out, drv, m, c);

	error = error ? error : alter_column(out, drv, m, c);
	return error ? error : dal__str_puts(out, "SET NOT NULL" END);
}

/* A NOT NULL column is added with a default that fills the rows there (no rewrite on
 * PostgreSQL, no UPDATE in the transaction on DuckDB), then made NOT NULL without it. */
static int add_column(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	dal_column nullable = *c;
	bool not_null = (c->flags & DAL_NOT_NULL) != 0;
	int error;

	nullable.flags &= ~(unsigned)DAL_NOT_NULL;
	error = dal__sql_add_column(out, drv, m, &nullable);
	error = error || !not_null ? error : dal__str_puts(out, " DEFAULT ");
	error = error || !not_null ? error : zero(out, drv, c);
	error = error ? error : dal__str_puts(out, END);
	if (error || !not_null)
		return error;
	error = alter_column(out, drv, m, c);
	error = error ? error : dal__str_puts(out, "SET NOT NULL" END);
	error = error ? error : alter_column(out, drv, m, c);
	return error ? error : dal__str_puts(out, "DROP DEFAULT" END);
}

static int change_type(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c)
{
	dal_str tmp = DAL_STR_INIT;
	const char *type = type_ddl(&tmp, drv, c);
	int error = alter_column(out, drv, m, c);

	error = error ? error : dal__str_printf(out, "TYPE %s USING CAST(", type);
	error = error ? error : ident(out, drv, c->name);
	error = error ? error : dal__str_printf(out, " AS %s)" END, type);
	dal__str_dispose(&tmp);
	return error;
}

static int drop_column(dal_str *out, const dal_driver *drv, const dal_model *m, const char *name)
{
	int error = dal__str_puts(out, "-- no model declares it: its data goes with it\nALTER TABLE ");

	error = error ? error : ident(out, drv, m->table);
	error = error ? error : dal__str_puts(out, " DROP COLUMN ");
	error = error ? error : ident(out, drv, name);
	return error ? error : dal__str_puts(out, END);
}

/* Indexes come after every column change: DuckDB alters no table that has one. (It
 * builds none in a transaction that updated rows either: where rows need a value in
 * a column made NOT NULL and an index is missing, apply the two in two migrations.) */
static int alter_one(dal_str *out, const dal_driver *drv, const dal_model *m, const dal__shape_diff *d)
{
	switch (d->kind) {
	case DAL__SHAPE_NO_COLUMN: return add_column(out, drv, m, d->col);
	case DAL__SHAPE_TYPE: case DAL__SHAPE_LENGTH: return change_type(out, drv, m, d->col);
	case DAL__SHAPE_NULLABLE: return set_not_null(out, drv, m, d->col);
	case DAL__SHAPE_NOT_NULL: {
		int error = alter_column(out, drv, m, d->col);

		return error ? error : dal__str_puts(out, "DROP NOT NULL" END);
	}
	case DAL__SHAPE_EXTRA: case DAL__SHAPE_EXTRA_NOT_NULL: return drop_column(out, drv, m, d->name);
	}
	return 0;
}

/* What ALTER TABLE cannot do without ALTER COLUMN: change a column's type or nullability. */
static bool needs_rebuild(const dal_driver *drv, const dal__shape *shape)
{
	size_t i;

	for (i = 0; i < shape->n && !drv->dialect->alter_column; i++)
		if (shape->v[i].kind != DAL__SHAPE_EXTRA && shape->v[i].kind != DAL__SHAPE_EXTRA_NOT_NULL &&
		    (shape->v[i].kind != DAL__SHAPE_NO_COLUMN || (shape->v[i].col->flags & DAL_NOT_NULL)))
			return true;
	return false;
}

static bool missing_from(const dal__shape *shape, const dal_column *c)
{
	size_t i;

	for (i = 0; i < shape->n; i++)
		if (shape->v[i].kind == DAL__SHAPE_NO_COLUMN && shape->v[i].col == c)
			return true;
	return false;
}

static int create_script(dal_str *out, const dal_driver *drv, const dal_model *m)
{
	dal_str ddl = DAL_STR_INIT;
	char *p, *sep;
	int error = dal__sql_create_table(&ddl, drv, m);

	for (p = ddl.ptr; error == 0 && p; p = sep ? sep + strlen(DAL_SQL_SEP) : NULL) {
		sep = strstr(p, DAL_SQL_SEP);
		error = dal__str_putn(out, p, sep ? (size_t)(sep - p) : strlen(p));
		error = error ? error : dal__str_puts(out, END);
	}
	dal__str_dispose(&ddl);
	return error;
}

/* The values of the new table's columns, read from the old one. */
static int copy_columns(dal_str *out, const dal_driver *drv, const dal_model *m, const dal__shape *shape, bool select)
{
	size_t i;
	int error = 0, k = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		const dal_column *c = &m->columns[i];
		bool missing = missing_from(shape, c), not_null = (c->flags & DAL_NOT_NULL) != 0;

		if (missing && !not_null)
			continue;
		error = k++ ? dal__str_puts(out, ", ") : 0;
		if (select && missing)
			error = error ? error : zero(out, drv, c);
		else if (select && not_null) {
			error = error ? error : dal__str_puts(out, "coalesce(");
			error = error ? error : ident(out, drv, c->name);
			error = error ? error : dal__str_puts(out, ", ");
			error = error ? error : zero(out, drv, c);
			error = error ? error : dal__str_putc(out, ')');
		} else {
			error = error ? error : ident(out, drv, c->name);
		}
	}
	return error;
}

/* A new table of the model's shape, the rows copied over, the old one dropped, the new renamed. */
static int rebuild(dal_str *out, const dal_driver *drv, const dal_model *m, const dal__shape *shape)
{
	dal_str name = DAL_STR_INIT;
	dal_model tmp = *m;
	int error = dal__str_printf(&name, "_dal_new_%s", m->table);

	tmp.table = name.ptr;
	error = error ? error : dal__str_puts(out, "-- the engine cannot change a column in place: a new table, "
		"the rows copied over\n");
	error = error ? error : create_script(out, drv, &tmp);
	error = error ? error : dal__str_puts(out, "INSERT INTO ");
	error = error ? error : ident(out, drv, tmp.table);
	error = error ? error : dal__str_puts(out, " (");
	error = error ? error : copy_columns(out, drv, m, shape, false);
	error = error ? error : dal__str_puts(out, ") SELECT ");
	error = error ? error : copy_columns(out, drv, m, shape, true);
	error = error ? error : dal__str_puts(out, " FROM ");
	error = error ? error : ident(out, drv, m->table);
	error = error ? error : dal__str_puts(out, END);
	/* A new table starts its AUTOINCREMENT counter again: ids of deleted rows (and their
	 * audit history) would be handed out again. */
	if (error == 0 && drv->dialect->carry_ids_sql)
		error = dal__str_printf(out, drv->dialect->carry_ids_sql, m->table, m->table, m->table);
	error = error ? error : dal__str_puts(out, "DROP TABLE ");
	error = error ? error : ident(out, drv, m->table);
	error = error ? error : dal__str_puts(out, END "ALTER TABLE ");
	error = error ? error : ident(out, drv, tmp.table);
	error = error ? error : dal__str_puts(out, " RENAME TO ");
	error = error ? error : ident(out, drv, m->table);
	error = error ? error : dal__str_puts(out, END);
	dal__str_dispose(&name);
	return error;
}

static int indexes(dal_str *out, const dal_driver *drv, const dal_model *m, const bool *missing_index, bool all)
{
	dal_str ddl = DAL_STR_INIT;
	dal__sql_index want;
	size_t i;
	int error = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		if (!dal__sql_index_decl(&want, drv, m, &m->columns[i]) || !(all || missing_index[i]))
			continue;
		dal__str_clear(&ddl);
		/* Under its name there may be another index (made by hand): it goes first. */
		if (!all) {
			error = dal__str_puts(out, "DROP INDEX IF EXISTS ");
			error = error ? error : ident(out, drv, want.name);
			error = error ? error : dal__str_puts(out, END);
		}
		error = error ? error : dal__sql_create_column_index(&ddl, drv, m, &m->columns[i]);
		error = error ? error : dal__str_puts(out, ddl.ptr);
		error = error ? error : dal__str_puts(out, END);
	}
	dal__str_dispose(&ddl);
	return error;
}

int dal__diff_sql_table(dal_str *out, const dal_driver *drv, const dal_model *m, const dal__shape *shape,
                        const bool *missing_index, bool referenced)
{
	size_t i;
	int error = 0;

	if (!shape)
		return (error = create_script(out, drv, m)) ? error : indexes(out, drv, m, missing_index, true);
	/* Dropping a table other tables' foreign keys point at deletes their rows (ON DELETE
	 * CASCADE) or fails, and foreign keys cannot be turned off inside a transaction. */
	if (needs_rebuild(drv, shape) && referenced)
		return dal__str_printf(out, "-- %s: the engine cannot change its columns in place, and other tables' "
			"foreign keys point at it:\n-- rebuild it by hand with foreign keys off (SQLite: "
			"https://sqlite.org/lang_altertable.html#otheralter)\n", m->table);
	if (needs_rebuild(drv, shape))
		return (error = rebuild(out, drv, m, shape)) ? error : indexes(out, drv, m, missing_index, true);
	for (i = 0; i < shape->n && error == 0; i++)
		error = alter_one(out, drv, m, &shape->v[i]);
	return error ? error : indexes(out, drv, m, missing_index, false);
}
