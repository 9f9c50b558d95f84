/**
 * @file dal/db.h
 * @brief dal_db: the manager of one database (URL, connections, timing), and raw SQL.
 *
 * Constructor dal_open(), destructor dal_close(). Thread-safe: any number of
 * threads may use one dal_db at once, but none may still be in a call on it,
 * or go on using it, once dal_close() has begun.
 *
 * URLs:
 *   sqlite:///relative.db  sqlite:////abs/path.db  sqlite:///:memory:
 *   duckdb:///relative.duckdb  duckdb:////abs/path.duckdb  duckdb:///:memory:
 *   postgresql://user:password@host:port/db?sslmode=...&connect_timeout=...
 *   (also postgres://; several hosts as host1:5432,host2:5433; the query takes
 *   libpq's connection keywords; a password may hold '/', '?', '#', '@' raw,
 *   see docs/errors.md)
 */
#ifndef DAL_DB_H
#define DAL_DB_H

#include "dal/common.h"
#include "dal/value.h"
#include "dal/config.h"
#include "dal/result.h"

DAL_BEGIN_DECLS

typedef struct dal_db dal_db;

/**
 * Open a database.
 *
 * @param out    the manager; owned by the caller, close with dal_close(). NULL on failure.
 * @param url    the database URL (copied); NULL uses config->url, then DATABASE_URL's default
 * @param config settings (copied); NULL means DAL_CONFIG_INIT
 * @return DAL_OK; DAL_EINVAL for a bad URL or config (the message names the problem,
 *         never the password); DAL_ECONN if the server cannot be reached within the
 *         connect timeout; DAL_EUNSUPPORTED for an engine this build lacks; DAL_EIO, DAL_ENOMEM.
 */
DAL_API int dal_open(dal_db **out, const char *url, const dal_config *config);

/**
 * Close a database and every connection it holds. NULL is a no-op. Call it
 * when no other thread is in a call on @p db. Units of work still open on it
 * are rolled back, each logged as an error with the place that began it, and
 * dal_error_last() is then DAL_EINVAL ("were never ended"). The handle of
 * dal_default() is left open (a warning is logged): it is closed at exit.
 */
DAL_API void dal_close(dal_db *db);

/**
 * The process-wide manager, opened from dal_config_from_env() on first use.
 *
 * @param out borrowed: closed at process exit; never pass it to dal_close().
 * @return as dal_open(); a failure is remembered and returned again.
 */
DAL_API int dal_default(dal_db **out);

/** The engine's name: "sqlite", "duckdb" or "postgresql". Static storage; "" for NULL. */
DAL_API const char *dal_db_engine(const dal_db *db);

/**
 * The URL rebuilt from its parsed parts, the password and the value of every
 * secret keyword (password, sslpassword, whatever the key's encoding) as "***".
 * Borrowed, valid until dal_close(); "" for NULL.
 */
DAL_API const char *dal_db_url_redacted(const dal_db *db);

/**
 * Run one SQL statement with bound parameters, written as `?` on every engine
 * (on PostgreSQL dal rewrites them to $1..$n outside quotes; SQL that already
 * uses $n is sent as it is). Runs in its own transaction unless a unit of work
 * of this thread is open on @p db. Writes here bypass the read cache: name the
 * rows they change with dal_repo_invalidate() (docs/cache.md).
 *
 * @param changes_out rows inserted, updated or deleted; may be NULL
 * @param db     the database
 * @param sql    one statement (copied)
 * @param params values bound in order (borrowed for the call); NULL when nparams is 0
 * @param nparams number of parameters
 * @return DAL_OK; DAL_EINVAL for NULL arguments, SQL that holds no statement (only
 *         blanks, semicolons and comments) or a parameter count the SQL does not
 *         have; DAL_ESQL for SQL the engine rejects; DAL_ECONSTRAINT, DAL_EBUSY,
 *         DAL_ECONN, DAL_ESERIALIZE from the engine; DAL_EUNSUPPORTED for a statement
 *         that may write, inside a nested unit of work on an engine without savepoints
 *         (DuckDB: its rollback could not undo it; see dal/uow.h).
 */
DAL_API int dal_exec(int64_t *changes_out, dal_db *db, const char *sql,
                     const dal_value *params, size_t nparams);

/**
 * Run a query and keep all its rows.
 *
 * @param out the rows; owned by the caller, free with dal_result_free(). NULL on failure.
 * @return as dal_exec().
 */
DAL_API int dal_query(dal_result **out, dal_db *db, const char *sql,
                      const dal_value *params, size_t nparams);

/**
 * Called once per row by dal_query_each(). The values and names are borrowed for
 * the call only. Return 0 to go on, anything else to stop (dal_query_each() then
 * returns that value). What a dal call made from it does: see dal_query_each().
 */
typedef int (*dal_row_cb)(const dal_value *values, const char *const *names,
                          size_t ncolumns, void *payload);

/**
 * Run a query and stream its rows to @p callback without holding them all.
 *
 * A dal call on the same dal_db from inside the callback, the same on every engine
 * (docs/threading.md): outside a unit of work it runs on another pooled connection,
 * and fails at once with DAL_EINVAL, instead of waiting for the pool, when this
 * thread's callbacks already hold every connection the pool may open (an SQLite
 * :memory: database has one). In a unit of work the rows stream on the unit's
 * connection: every call on that dal_db that would use it (repository calls,
 * dal_exec(), dal_query(), dal_query_each(), dal_uow_begin(), dal_uow_commit(),
 * dal_uow_rollback()) fails at once with DAL_EINVAL and leaves the stream and the
 * unit as they were. Instead, collect what the calls need in the callback and make
 * them after dal_query_each() returns, or read the rows with dal_query() first.
 *
 * @return DAL_OK; the callback's non-zero value if it stopped; errors as dal_exec().
 */
DAL_API int dal_query_each(dal_db *db, const char *sql, const dal_value *params,
                           size_t nparams, dal_row_cb callback, void *payload);

DAL_END_DECLS

#endif
