/* SQL text of the audit trail: its two tables and every statement dal runs on
 * them. The names are dal's own, in the quotes every dialect shares. Internal. */
#ifndef DAL_SQL_AUDIT_H
#define DAL_SQL_AUDIT_H

#include "dal/audit.h"
#include "driver/driver.h"
#include "util/str.h"

#define DAL__AUDIT_TABLE "audit_logs"
#define DAL__AUDIT_HEAD "audit_chain"

/* audit_logs' columns, in the order every statement here lists them. */
#define DAL__AUDIT_NCOLS 14
extern const char *const dal__sql_audit_columns[DAL__AUDIT_NCOLS];

/* ---- the tables ---- */

/* CREATE TABLE / INDEX statements of both tables, split on DAL_SQL_SEP; audit_logs'
 * indexes only with @p indexes. */
int dal__sql_audit_schema(dal_str *out, const dal_driver *drv, bool indexes);
/* The names of audit_logs' indexes. */
#define DAL__AUDIT_NINDEXES 4
extern const char *const dal__sql_audit_indexes[DAL__AUDIT_NINDEXES];
/* The head row (id 1), unless there: first_hash, last_hash, prev_hash = ?. */
extern const char dal__sql_audit_head_init[];

/* ---- writing (the head row is id 1) ---- */

/* last_id += ? RETURNING last_id, last_hash. */
extern const char dal__sql_audit_reserve[];
/* last_id += ?: dal__sql_audit_reserve where UPDATE ... RETURNING is not safe. */
extern const char dal__sql_audit_advance[];
/* SELECT last_id, last_hash. */
extern const char dal__sql_audit_end[];
/* last_hash = ?. */
extern const char dal__sql_audit_seal[];
/* last_id = ?, last_hash = ? where last_id = ? and last_hash = ? still. */
extern const char dal__sql_audit_move[];
/* INSERT of one row: the columns' values as parameters. */
extern const char dal__sql_audit_insert[];
/* The same for `rows` rows. */
int dal__sql_audit_insert_rows(dal_str *out, size_t rows);

/*
 * Engines with DAL_CAP_WRITABLE_CTE: an audited create as one statement, the
 * model's INSERT ... RETURNING wrapped. Its parameters, then these: the content
 * hash, user_id, action, resource_type, new_values, timestamp, session_id,
 * correlation_id, ip_address, user_agent.
 */
#define DAL__AUDIT_CREATE_PARAMS 10
int dal__sql_audit_create(dal_str *out, const char *insert_sql);

/* ---- undo of an emulated nested scope ---- */

/* DELETE the rows after id ?. */
extern const char dal__sql_audit_truncate[];
/* last_id = ?, last_hash = ?. */
extern const char dal__sql_audit_rewind[];

/* ---- reading: every SELECT of rows lists the columns ---- */

/*
 * The rows a filter (NULL: all) picks, newest first. `params` (room for 9) receives
 * the values to bind, borrowed from the filter, and *n their count. The filter
 * must be checked (version, limit, offset).
 */
int dal__sql_audit_query(dal_str *out, dal_value *params, size_t *n, const dal_audit_filter *f);
/* The rows of resource_type = ? and resource_id = ? in chain order; _until: and timestamp <= ?. */
extern const char dal__sql_audit_history[];
extern const char dal__sql_audit_history_until[];
/* Every row in chain order. */
extern const char dal__sql_audit_rows[];
/* SELECT first_id, first_hash, last_id, last_hash of the head row. */
extern const char dal__sql_audit_head[];
/* The same, the end read from the rows where the dialect does so (audit_head_sql). */
int dal__sql_audit_head_of(dal_str *out, const dal_dialect *d);

/* ---- cleanup ---- */

/* An UPDATE that changes nothing, to lock the head row; _returning: RETURNING as dal__sql_audit_head. */
extern const char dal__sql_audit_touch[];
extern const char dal__sql_audit_touch_returning[];
/* SELECT id, row_hash, timestamp from id ? on, in chain order, LIMIT ?. */
extern const char dal__sql_audit_oldest[];
/* DELETE the rows with ? <= id <= ?. */
extern const char dal__sql_audit_delete_range[];
/* first_id = ?, first_hash = ?: the chain's new start. */
extern const char dal__sql_audit_anchor[];

#endif
