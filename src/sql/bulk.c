#include "sql/bulk.h"

#include <string.h>

#include "sql/build.h"
#include "sql/ident.h"

/* alias."name" */
static int qa(dal_str *o, const dal_dialect *d, const char *alias, const char *name)
{
	int error = dal__str_puts(o, alias);

	error = error ? error : dal__str_putc(o, '.');
	return error ? error : dal__sql_quote_ident(o, d, name);
}

static int col_list(dal_str *out, const dal_dialect *d, const dal_model *m, const int *cols, size_t n)
{
	size_t i;
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		error = i ? dal__str_puts(out, ", ") : 0;
		error = error ? error : dal__sql_quote_ident(out, d, m->columns[cols[i]].name);
	}
	return error;
}

/* ` AND [alias.]deleted_at IS NULL` on a soft-delete model. */
static int live(dal_str *out, const dal_dialect *d, const dal_model *m, const char *alias)
{
	int error;

	if (!dal_model_soft_delete(m))
		return 0;
	error = dal__str_puts(out, " AND ");
	if (alias)
		error = error ? error : qa(out, d, alias, "deleted_at");
	else
		error = error ? error : dal__sql_quote_ident(out, d, "deleted_at");
	return error ? error : dal__str_puts(out, " IS NULL");
}

int dal__sql_bulk_insert(dal_str *out, const dal_dialect *d, const dal_model *m, const int *cols, size_t ncols,
                         size_t nrows)
{
	size_t r, k;
	int error = dal__str_puts(out, "INSERT INTO ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	if (error == 0 && ncols == 0)
		error = dal__str_puts(out, " DEFAULT VALUES");
	if (error == 0 && ncols) {
		error = dal__str_puts(out, " (");
		error = error ? error : col_list(out, d, m, cols, ncols);
		error = error ? error : dal__str_puts(out, ") VALUES ");
		for (r = 0; r < nrows && error == 0; r++) {
			error = dal__str_puts(out, r ? ", (?" : "(?");
			for (k = 1; k < ncols && error == 0; k++)
				error = dal__str_puts(out, ", ?");
			error = error ? error : dal__str_putc(out, ')');
		}
	}
	error = error ? error : dal__str_puts(out, " RETURNING ");
	return error ? error : dal__sql_quote_ident(out, d, "id");
}

int dal__sql_bulk_temp(dal_str *out, const dal_dialect *d, const dal_model *m, const char *name, bool idx,
                       const int *cols, size_t ncols)
{
	size_t i;
	int error = dal__str_puts(out, "CREATE TEMP TABLE ");

	error = error ? error : dal__sql_quote_ident(out, d, name);
	error = error ? error : dal__str_puts(out, " (");
	if (error == 0 && idx) {
		error = dal__sql_quote_ident(out, d, DAL__BULK_IDX);
		error = error ? error : dal__str_printf(out, " %s", d->types[DAL_TYPE_INT]);
	}
	for (i = 0; i < ncols && error == 0; i++) {
		const dal_column *c = &m->columns[cols[i]];
		error = i || idx ? dal__str_puts(out, ", ") : 0;
		error = error ? error : dal__sql_quote_ident(out, d, c->name);
		/* Lengths were checked by dal: the staging column takes any text. */
		error = error ? error : dal__str_printf(out, " %s", d->types[c->type]);
	}
	return error ? error : dal__str_putc(out, ')');
}

int dal__sql_bulk_update_from(dal_str *out, const dal_dialect *d, const dal_model *m, const char *name,
                              const int *cols, size_t ncols, bool stamp, bool live_only)
{
	size_t i;
	int error = dal__str_puts(out, "UPDATE ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " SET ");
	for (i = 0; i < ncols && error == 0; i++) {
		error = i ? dal__str_puts(out, ", ") : 0;
		error = error ? error : dal__sql_quote_ident(out, d, m->columns[cols[i]].name);
		error = error ? error : dal__str_puts(out, " = ");
		error = error ? error : qa(out, d, "s", m->columns[cols[i]].name);
	}
	if (error == 0 && stamp) {
		error = ncols ? dal__str_puts(out, ", ") : 0;
		error = error ? error : dal__sql_quote_ident(out, d, "updated_at");
		error = error ? error : dal__str_puts(out, " = ?");
	}
	error = error ? error : dal__str_puts(out, " FROM ");
	error = error ? error : dal__sql_quote_ident(out, d, name);
	error = error ? error : dal__str_puts(out, " AS s WHERE ");
	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_putc(out, '.');
	error = error ? error : dal__sql_quote_ident(out, d, "id");
	error = error ? error : dal__str_puts(out, " = ");
	error = error ? error : qa(out, d, "s", "id");
	if (error == 0 && live_only && dal_model_soft_delete(m)) {
		error = dal__str_puts(out, " AND ");
		error = error ? error : dal__sql_quote_ident(out, d, m->table);
		error = error ? error : dal__str_putc(out, '.');
		error = error ? error : dal__sql_quote_ident(out, d, "deleted_at");
		error = error ? error : dal__str_puts(out, " IS NULL");
	}
	return error;
}

/* ` WHERE id` and the ids, as `how` names them. */
static int where_ids(dal_str *out, const dal_dialect *d, dal__bulk_ids how, const char *temp, size_t n)
{
	size_t i;
	int error = dal__str_puts(out, " WHERE ");

	error = error ? error : dal__sql_quote_ident(out, d, "id");
	if (error == 0 && how == DAL__IDS_ANY)
		error = dal__str_puts(out, " = ANY(?::bigint[])");
	if (error == 0 && how == DAL__IDS_TEMP) {
		error = dal__str_puts(out, " IN (SELECT ");
		error = error ? error : dal__sql_quote_ident(out, d, "id");
		error = error ? error : dal__str_puts(out, " FROM ");
		error = error ? error : dal__sql_quote_ident(out, d, temp);
		error = error ? error : dal__str_putc(out, ')');
	}
	if (error == 0 && how == DAL__IDS_LIST) {
		error = dal__str_puts(out, " IN (?");
		for (i = 1; i < n && error == 0; i++)
			error = dal__str_puts(out, ", ?");
		error = error ? error : dal__str_putc(out, ')');
	}
	return error;
}

int dal__sql_bulk_delete(dal_str *out, const dal_dialect *d, const dal_model *m, bool soft, dal__bulk_ids how,
                         const char *temp, size_t n)
{
	int error;

	if (soft) {
		error = dal__str_puts(out, "UPDATE ");
		error = error ? error : dal__sql_quote_ident(out, d, m->table);
		error = error ? error : dal__str_puts(out, " SET ");
		error = error ? error : dal__sql_quote_ident(out, d, "deleted_at");
		error = error ? error : dal__str_puts(out, " = ?");
		if (error == 0 && dal_model_column_index(m, "updated_at") >= 0) {
			error = dal__str_puts(out, ", ");
			error = error ? error : dal__sql_quote_ident(out, d, "updated_at");
			error = error ? error : dal__str_puts(out, " = ?");
		}
	} else {
		error = dal__str_puts(out, "DELETE FROM ");
		error = error ? error : dal__sql_quote_ident(out, d, m->table);
	}
	error = error ? error : where_ids(out, d, how, temp, n);
	return error || !soft ? error : live(out, d, m, NULL);
}

int dal__sql_bulk_select(dal_str *out, const dal_dialect *d, const dal_model *m, dal__bulk_ids how,
                         const char *temp, size_t n, bool live_only, bool lock)
{
	int error = dal__str_puts(out, "SELECT ");

	error = error ? error : dal__sql_columns(out, d, m);
	error = error ? error : dal__str_puts(out, " FROM ");
	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : where_ids(out, d, how, temp, n);
	error = error || !live_only ? error : live(out, d, m, NULL);
	return error || !lock || !d->row_lock ? error : dal__str_puts(out, d->row_lock);
}

int dal__sql_bulk_drop(dal_str *out, const dal_dialect *d, const char *name)
{
	int error = dal__str_puts(out, "DROP TABLE ");

	return error ? error : dal__sql_quote_ident(out, d, name);
}

int dal__sql_bulk_id_array(dal_str *out, const int64_t *ids, size_t n)
{
	size_t i;
	int error = dal__str_putc(out, '{');

	for (i = 0; i < n && error == 0; i++)
		error = dal__str_printf(out, i ? ",%lld" : "%lld", (long long)ids[i]);
	return error ? error : dal__str_putc(out, '}');
}

/* An update's batch row `b` joined to the live row `y` it changes. */
static int join_live_target(dal_str *out, const dal_dialect *d, const dal_model *m)
{
	int error = dal__str_puts(out, " JOIN ");

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " AS y ON ");
	error = error ? error : qa(out, d, "y", "id");
	error = error ? error : dal__str_puts(out, " = ");
	error = error ? error : qa(out, d, "b", "id");
	return error ? error : live(out, d, m, "y");
}

int dal__sql_bulk_unique(dal_str *out, const dal_dialect *d, const dal_model *m, const char *name, int col,
                         bool update)
{
	const char *c = m->columns[col].name;
	int error;

	/* Duplicates within the batch: every staged value after its first. */
	error = dal__str_puts(out, "SELECT MIN(k) FROM (SELECT k FROM (SELECT ");
	error = error ? error : qa(out, d, "b", DAL__BULK_IDX);
	error = error ? error : dal__str_puts(out, " AS k, ROW_NUMBER() OVER (PARTITION BY ");
	error = error ? error : qa(out, d, "b", c);
	error = error ? error : dal__str_puts(out, " ORDER BY ");
	error = error ? error : qa(out, d, "b", DAL__BULK_IDX);
	error = error ? error : dal__str_puts(out, ") AS rn FROM ");
	error = error ? error : dal__sql_quote_ident(out, d, name);
	error = error ? error : dal__str_puts(out, " AS b");
	if (error == 0 && update)
		error = join_live_target(out, d, m);
	error = error ? error : dal__str_puts(out, " WHERE ");
	error = error ? error : qa(out, d, "b", c);
	error = error ? error : dal__str_puts(out, " IS NOT NULL) AS w WHERE rn > 1");
	/* Values a live row outside the batch already holds. */
	error = error ? error : dal__str_puts(out, " UNION ALL SELECT ");
	error = error ? error : qa(out, d, "b", DAL__BULK_IDX);
	error = error ? error : dal__str_puts(out, " FROM ");
	error = error ? error : dal__sql_quote_ident(out, d, name);
	error = error ? error : dal__str_puts(out, " AS b JOIN ");
	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " AS x ON ");
	error = error ? error : qa(out, d, "x", c);
	error = error ? error : dal__str_puts(out, " = ");
	error = error ? error : qa(out, d, "b", c);
	if (error == 0 && update)
		error = join_live_target(out, d, m);
	error = error ? error : dal__str_puts(out, " WHERE 1 = 1");
	error = error ? error : live(out, d, m, "x");
	if (error == 0 && update) {
		error = dal__str_puts(out, " AND ");
		error = error ? error : qa(out, d, "x", "id");
		error = error ? error : dal__str_puts(out, " NOT IN (SELECT ");
		error = error ? error : dal__sql_quote_ident(out, d, "id");
		error = error ? error : dal__str_puts(out, " FROM ");
		error = error ? error : dal__sql_quote_ident(out, d, name);
		error = error ? error : dal__str_putc(out, ')');
	}
	return error ? error : dal__str_puts(out, ") AS u");
}
