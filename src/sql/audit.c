#include "sql/audit.h"

#include "sql/build.h"

#define TABLE "\"" DAL__AUDIT_TABLE "\""
#define HEAD "\"" DAL__AUDIT_HEAD "\""
#define COLS "\"id\", \"user_id\", \"action\", \"resource_type\", \"resource_id\", \"old_values\", \"new_values\", " \
	"\"timestamp\", \"session_id\", \"correlation_id\", \"ip_address\", \"user_agent\", \"prev_hash\", \"row_hash\""
#define ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

const char *const dal__sql_audit_columns[DAL__AUDIT_NCOLS] = { "id", "user_id", "action", "resource_type",
	"resource_id", "old_values", "new_values", "timestamp", "session_id", "correlation_id", "ip_address",
	"user_agent", "prev_hash", "row_hash" };

/* ---- the tables ---- */

static const dal_column audit_cols[] = {
	DAL_COL_ID(),
	DAL_COL("user_id", DAL_TYPE_TEXT, 0, 0)            /* indexed below */,
	DAL_COL("action", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("resource_type", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("resource_id", DAL_TYPE_INT, 0, 0),
	DAL_COL("old_values", DAL_TYPE_JSON, 0, 0),
	DAL_COL("new_values", DAL_TYPE_JSON, 0, 0),
	DAL_COL("timestamp", DAL_TYPE_TIMESTAMP, DAL_NOT_NULL, 0) /* indexed below */,
	DAL_COL("session_id", DAL_TYPE_TEXT, 0, 0),
	DAL_COL("correlation_id", DAL_TYPE_TEXT, 0, 0)     /* indexed below */,
	DAL_COL("ip_address", DAL_TYPE_TEXT, 0, 0),
	DAL_COL("user_agent", DAL_TYPE_TEXT, 0, 0),
	DAL_COL("prev_hash", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("row_hash", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
};
static const dal_model audit_model = DAL_MODEL(DAL__AUDIT_TABLE, audit_cols);

/* The chain's one head row (id 1): where it starts after cleanup, and its last row. */
static const dal_column head_cols[] = {
	DAL_COL_ID(),
	DAL_COL("first_id", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("first_hash", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("last_id", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("last_hash", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("prev_hash", DAL_TYPE_TEXT, 0, 0),   /* last_hash before the last write (see dal__sql_audit_create) */
};
static const dal_model head_model = DAL_MODEL(DAL__AUDIT_HEAD, head_cols);

/*
 * user_id and correlation_id are often NULL (no context): where the engine has
 * partial indexes those rows stay out of them, which spares an audited write two
 * index pages. `col = ?` implies `col IS NOT NULL`, so lookups still use them.
 */
static int context_index(dal_str *ddl, const dal_driver *drv, const char *name, const char *col)
{
	int error = dal__str_puts(ddl, DAL_SQL_SEP);

	error = error ? error : dal__sql_create_index(ddl, drv->dialect, DAL__AUDIT_TABLE, name, &col, 1);
	if (error == 0 && (drv->caps & DAL_CAP_PARTIAL_INDEX))
		error = dal__str_printf(ddl, " WHERE \"%s\" IS NOT NULL", col);
	return error;
}

/* dal's own names, kept from the first versions (no model can be named audit_logs). */
const char *const dal__sql_audit_indexes[DAL__AUDIT_NINDEXES] = { "ix_audit_logs_timestamp",
	"ix_audit_logs_resource", "ix_audit_logs_user_id", "ix_audit_logs_correlation_id" };

int dal__sql_audit_schema(dal_str *out, const dal_driver *drv, bool indexes)
{
	static const char *const by_resource[] = { "resource_type", "resource_id" };
	static const char *const by_time[] = { "timestamp" };
	const char *const *ix = dal__sql_audit_indexes;
	int error = dal__sql_create_table(out, drv, &audit_model);

	if (indexes) {
		error = error ? error : dal__str_puts(out, DAL_SQL_SEP);
		error = error ? error : dal__sql_create_index(out, drv->dialect, DAL__AUDIT_TABLE, ix[0], by_time, 1);
		error = error ? error : dal__str_puts(out, DAL_SQL_SEP);
		error = error ? error : dal__sql_create_index(out, drv->dialect, DAL__AUDIT_TABLE, ix[1], by_resource, 2);
		error = error ? error : context_index(out, drv, ix[2], "user_id");
		error = error ? error : context_index(out, drv, ix[3], "correlation_id");
	}
	error = error ? error : dal__str_puts(out, DAL_SQL_SEP);
	return error ? error : dal__sql_create_table(out, drv, &head_model);
}

/* ON CONFLICT: two processes may initialize at once. */
const char dal__sql_audit_head_init[] = "INSERT INTO " HEAD " (\"id\", \"first_id\", \"first_hash\", "
	"\"last_id\", \"last_hash\", \"prev_hash\") VALUES (1, 1, ?, 0, ?, ?) ON CONFLICT DO NOTHING";

/* ---- writing ---- */

const char dal__sql_audit_reserve[] =
	"UPDATE " HEAD " SET \"last_id\" = \"last_id\" + ? WHERE \"id\" = 1 RETURNING \"last_id\", \"last_hash\"";
const char dal__sql_audit_advance[] = "UPDATE " HEAD " SET \"last_id\" = \"last_id\" + ? WHERE \"id\" = 1";
const char dal__sql_audit_end[] = "SELECT \"last_id\", \"last_hash\" FROM " HEAD " WHERE \"id\" = 1";
const char dal__sql_audit_seal[] = "UPDATE " HEAD " SET \"last_hash\" = ? WHERE \"id\" = 1";
const char dal__sql_audit_move[] = "UPDATE " HEAD " SET \"last_id\" = ?, \"last_hash\" = ? "
	"WHERE \"id\" = 1 AND \"last_id\" = ? AND \"last_hash\" = ?";
const char dal__sql_audit_insert[] = "INSERT INTO " TABLE " (" COLS ") VALUES " ROW;

int dal__sql_audit_insert_rows(dal_str *out, size_t rows)
{
	size_t i;
	int error = dal__str_puts(out, "INSERT INTO " TABLE " (" COLS ") VALUES ");

	for (i = 0; i < rows && error == 0; i++)
		error = dal__str_puts(out, i ? ", " ROW : ROW);
	return error;
}

/*
 * On PostgreSQL an audited create is one statement, so it costs one round trip
 * like a plain one: the entity INSERT, the move of the chain head (its row lock
 * orders the chain, held until the statement's own commit) and the audit INSERT
 * as data-modifying CTEs. The head's UPDATE computes the row's link hash in SQL
 * from the content hash dal sends (dal__audit_link() spells the same text), and
 * keeps the hash it replaced in prev_hash, as RETURNING shows only new values.
 */
static const char cte_head[] =
	"), \"h\" AS (UPDATE " HEAD " SET \"last_id\" = \"last_id\" + 1, \"prev_hash\" = \"last_hash\", "
	"\"last_hash\" = encode(sha256(convert_to('dal-audit-2;' || (\"last_id\" + 1) || ';' || \"last_hash\" || ';' "
	"|| coalesce((SELECT \"id\" FROM \"e\")::text, '') || ';' || ?::text, 'UTF8')), 'hex') WHERE \"id\" = 1 "
	"RETURNING \"last_id\", \"prev_hash\", \"last_hash\"), "
	"\"a\" AS (INSERT INTO " TABLE " (\"id\", \"user_id\", \"action\", \"resource_type\", "
	"\"resource_id\", \"new_values\", \"timestamp\", \"session_id\", \"correlation_id\", \"ip_address\", "
	"\"user_agent\", \"prev_hash\", \"row_hash\") SELECT \"h\".\"last_id\", ?, ?, ?, \"e\".\"id\", ?, ?, ?, ?, ?, ?, "
	"\"h\".\"prev_hash\", \"h\".\"last_hash\" FROM \"h\", \"e\") SELECT * FROM \"e\"";

int dal__sql_audit_create(dal_str *out, const char *insert_sql)
{
	int error = dal__str_puts(out, "WITH \"e\" AS (");

	error = error ? error : dal__str_puts(out, insert_sql);
	return error ? error : dal__str_puts(out, cte_head);
}

/* ---- undo ---- */

const char dal__sql_audit_truncate[] = "DELETE FROM " TABLE " WHERE \"id\" > ?";
const char dal__sql_audit_rewind[] = "UPDATE " HEAD " SET \"last_id\" = ?, \"last_hash\" = ? WHERE \"id\" = 1";

/* ---- reading ---- */

/* " WHERE cond" or " AND cond": every condition has one parameter, so *n counts them. */
static int where(dal_str *out, dal_value *params, size_t *n, const char *cond, dal_value v)
{
	int error = dal__str_puts(out, *n ? " AND " : " WHERE ");

	params[(*n)++] = v;
	return error ? error : dal__str_puts(out, cond);
}

static int filter(dal_str *out, dal_value *p, size_t *n, const dal_audit_filter *f)
{
	int error = 0;

	if (f->resource_type)
		error = where(out, p, n, "\"resource_type\" = ?", dal_text(f->resource_type));
	if (error == 0 && f->has_resource_id)
		error = where(out, p, n, "\"resource_id\" = ?", dal_int(f->resource_id));
	if (error == 0 && f->user_id)
		error = where(out, p, n, "\"user_id\" = ?", dal_text(f->user_id));
	if (error == 0 && f->action)
		error = where(out, p, n, "\"action\" = ?", dal_text(f->action));
	if (error == 0 && f->correlation_id)
		error = where(out, p, n, "\"correlation_id\" = ?", dal_text(f->correlation_id));
	if (error == 0 && f->start)
		error = where(out, p, n, "\"timestamp\" >= ?", dal_timestamp(f->start));
	if (error == 0 && f->end)
		error = where(out, p, n, "\"timestamp\" < ?", dal_timestamp(f->end));
	return error;
}

int dal__sql_audit_query(dal_str *out, dal_value *params, size_t *n, const dal_audit_filter *f)
{
	int error = dal__str_puts(out, "SELECT " COLS " FROM " TABLE);

	*n = 0;
	error = error || !f ? error : filter(out, params, n, f);
	error = error ? error : dal__str_puts(out, " ORDER BY \"timestamp\" DESC, \"id\" DESC");
	if (error == 0 && f && (f->limit || f->offset)) {
		error = dal__str_puts(out, " LIMIT ? OFFSET ?");
		params[(*n)++] = dal_int(f->limit ? dal__sql_row_bound(f->limit) : DAL__SQL_NO_LIMIT);
		params[(*n)++] = dal_int(dal__sql_row_bound(f->offset));
	}
	return error;
}

const char dal__sql_audit_history[] = "SELECT " COLS " FROM " TABLE " WHERE \"resource_type\" = ? "
	"AND \"resource_id\" = ? ORDER BY \"id\"";
const char dal__sql_audit_history_until[] = "SELECT " COLS " FROM " TABLE " WHERE \"resource_type\" = ? "
	"AND \"resource_id\" = ? AND \"timestamp\" <= ? ORDER BY \"id\"";
const char dal__sql_audit_rows[] = "SELECT " COLS " FROM " TABLE " ORDER BY \"id\"";
const char dal__sql_audit_head[] = "SELECT \"first_id\", \"first_hash\", \"last_id\", \"last_hash\" FROM " HEAD
	" WHERE \"id\" = 1";

int dal__sql_audit_head_of(dal_str *out, const dal_dialect *d)
{
	if (!d->audit_head_sql)
		return dal__str_puts(out, dal__sql_audit_head);
	return dal__str_printf(out, "SELECT \"first_id\", \"first_hash\", \"e\".* FROM " HEAD ", (%s) \"e\" "
		"WHERE \"id\" = 1", d->audit_head_sql);
}

/* ---- cleanup ---- */

const char dal__sql_audit_touch[] = "UPDATE " HEAD " SET \"first_id\" = \"first_id\" WHERE \"id\" = 1";
const char dal__sql_audit_touch_returning[] = "UPDATE " HEAD " SET \"first_id\" = \"first_id\" "
	"WHERE \"id\" = 1 RETURNING \"first_id\", \"first_hash\", \"last_id\", \"last_hash\"";
const char dal__sql_audit_oldest[] = "SELECT \"id\", \"row_hash\", \"timestamp\" FROM " TABLE " "
	"WHERE \"id\" >= ? ORDER BY \"id\" LIMIT ?";
const char dal__sql_audit_delete_range[] = "DELETE FROM " TABLE " WHERE \"id\" >= ? AND \"id\" <= ?";
const char dal__sql_audit_anchor[] = "UPDATE " HEAD " SET \"first_id\" = ?, \"first_hash\" = ? WHERE \"id\" = 1";
