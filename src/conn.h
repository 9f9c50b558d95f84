/* Statements on a lent connection: the prepared-statement cache and the timed
 * execution every statement goes through. Internal. */
#ifndef DAL_CONN_H
#define DAL_CONN_H

#include "driver/driver.h"

/*
 * A prepared statement for `sql` (written with `?` placeholders; rewritten for
 * the dialect on a cache miss). Cached per connection; a statement already in
 * use is prepared anew and finalized on release. Release with dal__stmt_release().
 */
int dal__conn_prepare(dal_stmt **out, dal_conn *conn, const char *sql, unsigned flags);
/* Reset and return to the cache. NULL is a no-op. */
void dal__stmt_release(dal_stmt *stmt);
/* Bind and run: DAL__ROW, DAL__DONE or a DAL_E* code. The execution is timed until it ends. */
int dal__stmt_exec(dal_stmt *stmt, const dal_value *params, size_t n);
/* As dal__stmt_exec(); the echo of parameters shows those flagged in `redact` (NULL: none)
 * as DAL__REDACTED: the values of DAL_SENSITIVE columns. */
int dal__stmt_exec_redacted(dal_stmt *stmt, const dal_value *params, size_t n, const bool *redact);
/* The next row: DAL__ROW, DAL__DONE or a DAL_E* code. */
int dal__stmt_step(dal_stmt *stmt);
/*
 * An UPDATE whose new values are wanted: `returning` (UPDATE ... RETURNING) where
 * the engine has a safe one (DAL_CAP_UPDATE_RETURNING), else `update` with the
 * same parameters and then `select` without any. As dal__stmt_exec(); *out is
 * left on the first row, for the caller to release.
 */
int dal__conn_update_returning(dal_stmt **out, dal_conn *conn, const char *returning, const char *update,
                               const char *select, const dal_value *params, size_t n);
/* Timed SQL without parameters or rows. */
int dal__conn_exec(dal_conn *conn, const char *sql);
/* Finalize every cached statement (before disconnect). */
void dal__conn_cache_free(dal_conn *conn);

#endif
