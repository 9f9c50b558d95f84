#include "dal/model.h"
#include "model.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "sql/ident.h"
#include "util/error.h"

int dal_model_column_index(const dal_model *model, const char *name)
{
	size_t i;

	if (!model || !name)
		return -1;
	for (i = 0; i < model->ncolumns; i++)
		if (strcmp(model->columns[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool dal_model_soft_delete(const dal_model *model)
{
	int i = dal_model_column_index(model, "deleted_at");
	return i >= 0 && model->columns[i].type == DAL_TYPE_TIMESTAMP;
}

static int check_role(const dal_model *m, const dal_column *c)
{
	if (strcmp(c->name, "id") == 0 && (c->type != DAL_TYPE_INT || !(c->flags & DAL_PRIMARY_KEY)))
		return dal__error(DAL_EINVAL, "model '%s': column 'id' must be an int primary key", m->table);
	if ((strcmp(c->name, "created_at") == 0 || strcmp(c->name, "updated_at") == 0 ||
	     strcmp(c->name, "deleted_at") == 0) && c->type != DAL_TYPE_TIMESTAMP)
		return dal__error(DAL_EINVAL, "model '%s': column '%s' must be a timestamp", m->table, c->name);
	if ((c->flags & DAL_DEFAULT_NOW) && c->type != DAL_TYPE_TIMESTAMP)
		return dal__error(DAL_EINVAL, "model '%s': column '%s' is DAL_DEFAULT_NOW but not a timestamp", m->table,
			c->name);
	if ((c->flags & DAL_PRIMARY_KEY) && strcmp(c->name, "id") != 0)
		return dal__error(DAL_EINVAL, "model '%s': the primary key must be the column 'id', not '%s'",
			m->table, c->name);
	return 0;
}

/* dal's own tables: a model of the same name would write into them (or be
 * dropped by a bulk call's cleanup of its staging table). Compared without case:
 * SQLite and DuckDB take "AUDIT_LOGS" for audit_logs, quoted or not. The engines'
 * catalogs too: PostgreSQL reads "pg_class" from pg_catalog whatever the schema,
 * SQLite refuses tables named sqlite_*, and a DuckDB table named duckdb_columns
 * breaks information_schema.columns (the view then reads the table). */
static int check_not_reserved(const char *table)
{
	static const char *const reserved[] = { DAL__AUDIT_TABLE, DAL__AUDIT_HEAD, "dal_schema_migrations" };
	static const char *const prefixes[] = { "_dal", "pg_", "sqlite_", "duckdb_" };
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(table, reserved[i]) == 0)
			return dal__error(DAL_EINVAL, "model '%s': the name is one of dal's own tables", table);
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncasecmp(table, prefixes[i], strlen(prefixes[i])) == 0)
			return dal__error(DAL_EINVAL, "model '%s': names beginning with '%s' are %s", table, prefixes[i],
				i == 0 ? "dal's own" : i == 1 ? "PostgreSQL's catalog" : i == 2 ? "SQLite's catalog" :
				"DuckDB's catalog");
	return 0;
}

int dal_model_validate(const dal_model *m)
{
	size_t i, j;
	int error;

	DAL_ASSERT_ARG(m);
	if ((error = dal__sql_check_ident(m->table, "table")) < 0 || (error = check_not_reserved(m->table)) < 0)
		return error;
	if (!m->columns || m->ncolumns == 0)
		return dal__error(DAL_EINVAL, "model '%s' has no columns", m->table);
	if (dal_model_column_index(m, "id") < 0)
		return dal__error(DAL_EINVAL, "model '%s' has no 'id' column (DAL_COL_ID())", m->table);
	for (i = 0; i < m->ncolumns; i++) {
		const dal_column *c = &m->columns[i];
		if ((error = dal__sql_check_ident(c->name, "column")) < 0) {
			char why[256];
			/* Copied first: the message is rewritten in the buffer it is read from. */
			snprintf(why, sizeof(why), "%s", dal_error_last()->message);
			return dal__error(DAL_EINVAL, "model '%s': %s", m->table, why);
		}
		if (c->type <= DAL_TYPE_NULL || c->type > DAL_TYPE_JSON)
			return dal__error(DAL_EINVAL, "model '%s': column '%s' has no valid type", m->table, c->name);
		if ((error = check_role(m, c)) < 0)
			return error;
		for (j = 0; j < i; j++)
			if (strcmp(m->columns[j].name, c->name) == 0)
				return dal__error(DAL_EINVAL, "model '%s': column '%s' appears twice", m->table, c->name);
	}
	return 0;
}

int dal__models_validate(const dal_model *const *models, size_t n)
{
	size_t i;
	int error = 0;

	if (n && !models)
		return dal__error(DAL_EINVAL, "invalid argument: 'models' is NULL with n = %zu", n);
	for (i = 0; i < n && error == 0; i++)
		error = dal_model_validate(models[i]);
	return error;
}
