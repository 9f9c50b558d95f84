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
/* dal__conn_exec() each statement of `script`, split on DAL_SQL_SEP (cut in place), up to the first error. */
int dal__conn_exec_script(dal_conn *conn, char *script);

/*
 * Step `stmt` on from `rc` (what its exec or last step returned) to its end, so
 * the engine finishes the statement before the transaction moves on; then
 * *changes (NULL: not wanted) holds the rows it changed. 0 or a DAL_E* code.
 */
int dal__stmt_drain(dal_stmt *stmt, int rc, int64_t *changes);
/* Prepare `sql`, run it with `params` to the end and release it; *changes as dal__stmt_drain(). */
int dal__conn_run(dal_conn *conn, const char *sql, const dal_value *params, size_t n, int64_t *changes);
/* The same, with the values of `redact` (NULL: none) never echoed. */
int dal__conn_run_redacted(dal_conn *conn, const char *sql, const dal_value *params, size_t n, const bool *redact,
                           int64_t *changes);
/* As dal__conn_run() (`redact` as dal__stmt_exec_redacted()): the first column of the first row
 * into *out and *found true where it is a number; *found false for no row or NULL. */
int dal__conn_scalar(int64_t *out, bool *found, dal_conn *conn, const char *sql, const dal_value *params,
                     size_t n, const bool *redact);

/* A row of dal__conn_each(): 0 goes on; a DAL_E* code, or a positive value to stop early, ends the run. */
typedef int (*dal__row_fn)(dal_stmt *stmt, void *payload);
/* Prepare `sql` (`flags` as dal__conn_prepare()), run it with `params` (`redact` as
 * dal__stmt_exec_redacted()) and hand each row to `fn` until the end; release it.
 * 0, `fn`'s positive stop value, or a DAL_E* code. */
int dal__conn_each(dal_conn *conn, const char *sql, unsigned flags, const dal_value *params, size_t n,
                   const bool *redact, dal__row_fn fn, void *payload);
/* Finalize every cached statement (before disconnect). */
void dal__conn_cache_free(dal_conn *conn);

#endif
