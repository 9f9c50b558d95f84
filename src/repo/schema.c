/* dal_init_database: tables and indexes from models. */
#include <stdlib.h>
#include <string.h>

#include "dal/migrate.h"
#include "dal/schema.h"
#include "audit/audit.h"
#include "conn.h"
#include "model.h"
#include "repo/shape.h"
#include "session.h"
#include "sql/build.h"

/*
 * The index a column declares, by the catalog: one on (table, column) as declared is
 * taken whatever its name (an older dal named them ux_<table>_<col>), else it is made,
 * and then it must be there: IF NOT EXISTS skips a name already taken.
 */
static int ensure_index(dal_session *s, const dal_model *m, const dal_column *c)
{
	dal__sql_index want;
	dal__shape_index_look look;
	dal_str ddl = DAL_STR_INIT;
	int error;

	if (!dal__sql_index_decl(&want, s->conn->drv, m, c))
		return 0;
	if ((error = dal__shape_index(&look, s->conn, m, c, &want)) < 0 || look.found)
		return error;
	if (look.named)
		return dal__error(DAL_ESCHEMA, "table '%s', column '%s': index '%s' is not the %s dal declares "
			"(on that column alone%s); drop it and run dal_init_database again", m->table, c->name, want.name,
			want.unique ? "unique index" : "index", want.partial ? ", WHERE deleted_at IS NULL" : "");
	if ((error = dal__sql_create_column_index(&ddl, s->conn->drv, m, c)) < 0 ||
	    (error = dal__conn_exec(s->conn, ddl.ptr)) < 0 || (error = dal__shape_index(&look, s->conn, m, c, &want)) < 0)
		goto done;
	if (!look.found)
		error = dal__error(DAL_ESCHEMA, "table '%s', column '%s': index '%s' is missing after CREATE INDEX "
			"(is the name taken by another table's index?)", m->table, c->name, want.name);
done:
	dal__str_dispose(&ddl);
	return error;
}

/* Only a column every existing row can go without: one that may be NULL. */
static bool addable(const dal__shape_diff *d)
{
	return d->kind == DAL__SHAPE_NO_COLUMN && !(d->col->flags & (DAL_NOT_NULL | DAL_PRIMARY_KEY));
}

/*
 * IF NOT EXISTS kept an older table as it was: columns the model gained are added
 * where they may be NULL; anything else is named, never changed or dropped.
 */
static int fit_table(dal_session *s, const dal_model *m)
{
	dal__shape shape;
	dal_str ddl = DAL_STR_INIT;
	size_t i, kept = 0;
	int error = dal__shape_read(&shape, s->conn, m);

	for (i = 0; i < shape.n && error == 0; i++) {
		if (!addable(&shape.v[i])) {
			shape.v[kept++] = shape.v[i];
			continue;
		}
		dal__str_clear(&ddl);
		if ((error = dal__sql_add_column(&ddl, s->conn->drv, m, shape.v[i].col)) == 0)
			error = dal__conn_exec(s->conn, ddl.ptr);
	}
	shape.n = kept;
	if (error == 0)
		error = dal__shape_error(&shape, m, "(DAL_AUTO_MIGRATE adds missing columns that may be NULL, "
			"and never changes or drops one)");
	dal__str_dispose(&ddl);
	dal__shape_dispose(&shape);
	return error;
}

/* Without DAL_AUTO_MIGRATE: the table must exist and fit as it is. */
static int check_table(dal_session *s, const dal_model *m)
{
	dal__shape shape = { NULL, 0, 0 };
	bool exists;
	int error = dal__shape_table_exists(&exists, s->conn, m);

	if (error == 0 && !exists)
		return dal__error(DAL_ENOTFOUND, "table '%s' does not exist (pass DAL_AUTO_MIGRATE to create it)",
			m->table);
	if (error == 0 && (error = dal__shape_read(&shape, s->conn, m)) == 0)
		error = dal__shape_error(&shape, m, NULL);
	dal__shape_dispose(&shape);
	return error;
}

static int create_model(dal_session *s, const dal_model *m)
{
	dal_str ddl = DAL_STR_INIT;
	size_t i;
	int error;

	if ((error = dal__sql_create_table(&ddl, s->conn->drv, m)) == 0)
		error = dal__conn_exec_script(s->conn, ddl.ptr);
	if (error == 0)
		error = fit_table(s, m);
	for (i = 0; i < m->ncolumns && error == 0; i++)
		error = ensure_index(s, m, &m->columns[i]);
	dal__str_dispose(&ddl);
	return error;
}

/* Without DAL_AUTO_MIGRATE a pending migration is drift: named, never passed over. */
static int pending_error(const dal_migrate_report *r)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		if (r->items[i].state == DAL_MIGRATION_PENDING)
			return dal__error(DAL_ESCHEMA, "%zu migration%s pending, the first %s (version %lld): run dal_migrate, "
				"or pass DAL_AUTO_MIGRATE", r->pending, r->pending == 1 ? " is" : "s are",
				r->items[i].file[0] ? r->items[i].file : r->items[i].name, r->items[i].version);
	return 0;
}

/*
 * With DAL_AUTO_MIGRATE, missing tables are made and fitted (`fit`) or, where the
 * migrations own the schema, only checked: a model ahead of its migrations is named
 * rather than patched, which would make the migration that catches up fail. The
 * audit trail's tables are dal's own and always made.
 */
static int init(dal_db *db, const dal_model *const *models, size_t n, unsigned flags, bool fit)
{
	dal_session s;
	size_t i;
	int error = 0;

	DAL_ASSERT_ARG(db);
	if ((error = dal__models_validate(models, n)) < 0)
		return error;
	if (!(flags & DAL_AUTO_MIGRATE)) {
		if ((error = dal__session_open(&s, db, 0)) < 0)
			return error;
		for (i = 0; i < n && error == 0; i++)
			error = check_table(&s, models[i]);
		return dal__session_close(&s, error);
	}
	/*
	 * All or nothing where DDL is transactional. DuckDB 1.4 fails to commit a
	 * CREATE INDEX in one transaction with its table when an index of that name
	 * was dropped since the file was opened, so there each statement commits on
	 * its own; every one is IF NOT EXISTS, so a rerun completes a partial schema.
	 */
	if ((error = dal__session_open(&s, db, (db->drv->caps & DAL_CAP_TX_DDL) ? DAL__SESSION_TX | DAL__TX_WRITE : 0)) < 0)
		return error;
	if (db->drv->dialect->schema_lock_sql)
		error = dal__conn_exec(s.conn, db->drv->dialect->schema_lock_sql);
	for (i = 0; i < n && error == 0; i++)
		error = fit ? create_model(&s, models[i]) : check_table(&s, models[i]);
	/* The audit trail's tables come with any schema, so DAL_AUDIT works on any model. */
	if (error == 0 && n > 0)
		error = dal__audit_create_schema(&s);
	return dal__session_close(&s, error);
}

int dal_init_database_migrate(dal_db *db, const dal_migrate_opts *migrations, const dal_model *const *models,
                              size_t n, unsigned flags)
{
	dal_migrate_opts o;
	dal_migrate_report *r = NULL;
	int error;

	DAL_ASSERT_ARG(migrations);
	o = *migrations;
	o.auto_run = (flags & DAL_AUTO_MIGRATE) != 0;
	error = dal_migrate(&r, db, &o);
	if (error == 0 && !o.auto_run)
		error = pending_error(r);
	dal_migrate_report_free(r);
	return error < 0 ? error : init(db, models, n, flags, false);
}

int dal_init_database(dal_db *db, const dal_model *const *models, size_t n, unsigned flags)
{
	return init(db, models, n, flags, true);
}
