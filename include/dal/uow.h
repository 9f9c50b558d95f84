/**
 * @file dal/uow.h
 * @brief dal_uow: units of work (transactions), nested units, and dal_run_tx().
 *
 * Constructor dal_uow_begin(); it is ended, and freed, by exactly one of
 * dal_uow_commit() or dal_uow_rollback(). One thread at a time; bound to the
 * thread that began it.
 *
 * A unit of work holds one pooled connection and one transaction for its life.
 * Every repository call and every dal_exec()/dal_query() made on the same
 * dal_db by the thread that began it runs in it, and sees its uncommitted
 * writes; other threads and other dal_db handles do not. While the unit's
 * connection streams rows to a dal_repo_each()/dal_query_each() callback, those
 * calls from inside the callback fail at once with DAL_EINVAL (see there).
 *
 * A begin on a thread that already has an open unit on the same dal_db is
 * nested: a savepoint inside the outer transaction, to any depth. Committing a
 * nested unit keeps its work in the outer one (it is only made durable when the
 * outermost commits); rolling it back undoes exactly its own work.
 *
 * Per engine: SQLite and PostgreSQL nest with SAVEPOINT / RELEASE / ROLLBACK TO.
 * DuckDB has no savepoints: there a nested unit keeps an undo log of the
 * repository changes made in it (create, update, soft delete, restore, hard
 * delete, each bulk call, and their audit rows), read in the same transaction
 * before each change, and its rollback applies the log newest first; its commit
 * hands the log to the enclosing nested unit. In such a unit dal_exec(),
 * dal_query() and dal_query_each() of a statement that may write fail with
 * DAL_EUNSUPPORTED (it could not be undone); read-only statements run. Models
 * used there must outlive the outermost unit. Nesting is never silently flattened.
 *
 * Units must end innermost first. Ending one that is not the innermost open
 * unit of its dal_db on this thread is DAL_EINVAL and rolls back the whole
 * stack of that dal_db: nothing of it commits. The other handles of that stack
 * then stay allocated but dead: dal_uow_repo() on them is DAL_EINVAL,
 * dal_uow_commit() is DAL_EINVAL, dal_uow_rollback() is DAL_OK, and either
 * frees them. dal_close() rolls back the units still open on its dal_db, logs
 * an error naming where each began, and leaves their handles dead in the same way.
 *
 * Each repository write in a unit is one step of it: if it fails, its own
 * change is undone and the unit goes on (on DuckDB, without savepoints, a
 * failure after the change dooms the unit instead, outside a nested unit). A
 * unit that can no longer commit (doomed, its transaction ended by the engine,
 * or open longer than dal_config.leak_threshold_ms) refuses every call that
 * would join it, naming where it began; its dal_uow_commit() rolls back.
 */
#ifndef DAL_UOW_H
#define DAL_UOW_H

#include "dal/common.h"
#include "dal/db.h"
#include "dal/model.h"
#include "dal/repo.h"

DAL_BEGIN_DECLS

typedef struct dal_uow dal_uow;

struct dal_audit_ctx;   /* dal/audit.h */

#define DAL_UOW_OPTS_VERSION 1

/** Isolation of a unit of work. */
typedef enum dal_isolation {
	DAL_ISOLATION_DEFAULT = 0,          /**< the engine's default (PostgreSQL: read committed) */
	DAL_ISOLATION_REPEATABLE_READ = 1,  /**< a snapshot for the whole unit */
	DAL_ISOLATION_SERIALIZABLE = 2      /**< PostgreSQL's; SQLite and DuckDB run one write transaction at a time */
} dal_isolation;

/**
 * Options of a unit of work. Start from DAL_UOW_OPTS_INIT; members are only ever appended.
 */
typedef struct dal_uow_opts {
	unsigned int version;     /**< DAL_UOW_OPTS_VERSION */
	int isolation;            /**< dal_isolation */
	bool read_only;           /**< the unit only reads (PostgreSQL enforces it; SQLite then takes no write lock up front) */
	/**
	 * Who makes the unit's changes (dal/audit.h), copied by dal_uow_begin(); NULL: none of its own.
	 * Audited repositories used in the unit (and in units nested in it) record it unless they
	 * have a context of their own from dal_repo_set_context(), which wins. A nested unit
	 * without one inherits its outer unit's. A bad version is DAL_EINVAL at begin.
	 * A repository opened without DAL_AUDIT records nothing: its first write in a unit
	 * with a context logs a warning (dal/log.h), once per unit, naming the table and
	 * the file:line where the unit began (of dal_uow_begin() or dal_run_tx()).
	 */
	const struct dal_audit_ctx *audit_ctx;
} dal_uow_opts;

#define DAL_UOW_OPTS_INIT { DAL_UOW_OPTS_VERSION, DAL_ISOLATION_DEFAULT, false, NULL }

/**
 * Begin a unit of work, or a nested one if this thread already has one open on @p db.
 *
 * The outermost unit takes a connection from the pool and begins a transaction;
 * a write unit takes the write lock up front where the engine has one (SQLite
 * BEGIN IMMEDIATE), so a read-then-write unit never fails half-way. A nested unit
 * runs in the outer transaction: its isolation cannot be raised above the outer's,
 * and read_only is then ignored.
 *
 * @param out  the unit; owned by the caller, ended and freed by dal_uow_commit() or
 *             dal_uow_rollback(). NULL on failure.
 * @param db   the database (borrowed: must outlive the unit)
 * @param opts options (copied); NULL means DAL_UOW_OPTS_INIT
 * @return DAL_OK; DAL_EINVAL for a NULL argument, a bad opts version or value (also of
 *         opts->audit_ctx), a nested unit asking for a stronger isolation than its outer unit,
 *         or a call from inside a dal_repo_each()/dal_query_each() callback that cannot run
 *         (see there: the outer unit's connection is streaming the rows, or this thread's
 *         callbacks hold every connection of the pool); DAL_ETIMEOUT when no connection is
 *         free; DAL_ERROR for a nested unit whose outer unit can no longer commit
 *         (doomed, or its transaction ended by the engine); DAL_ECONN,
 *         DAL_EBUSY from the engine; DAL_ENOMEM.
 */
DAL_API int dal_uow_begin(dal_uow **out, dal_db *db, const dal_uow_opts *opts);
/**
 * dal_uow_begin() with the caller's source place, which a connection leak report
 * names (dal_config.leak_threshold_ms). The macro passes __FILE__ and __LINE__;
 * the plain symbol, for callers that take its address, names dal's own.
 */
DAL_API int dal_uow_begin_at(dal_uow **out, dal_db *db, const dal_uow_opts *opts, const char *file, int line);
#define dal_uow_begin(out, db, opts) dal_uow_begin_at((out), (db), (opts), __FILE__, __LINE__)

/**
 * Commit and free a unit of work. A nested unit's work joins its outer unit.
 *
 * Whatever it returns, @p uow is freed and its connection goes back to the pool
 * (except where DAL_EINVAL below says it is not); on failure nothing of the unit
 * is committed, except with DAL_ECOMMIT_UNKNOWN.
 *
 * @param uow the unit (NULL is DAL_EINVAL)
 * @return DAL_OK; DAL_EINVAL if it is not the innermost open unit of its dal_db on
 *         this thread (the whole stack is then rolled back), was begun on another
 *         thread (then nothing is done and it is not freed), is dead, or its connection
 *         is streaming rows to a dal_repo_each()/dal_query_each() callback of this thread
 *         (a call from inside it: nothing is done, the unit stays open);
 *         DAL_ESERIALIZE, DAL_EBUSY, DAL_ECONSTRAINT (deferred) from the engine;
 *         DAL_ECONN if the connection was lost before COMMIT was sent (nothing was
 *         committed); DAL_ECOMMIT_UNKNOWN if it was lost while COMMIT was in flight
 *         (the work may or may not be committed: look it up, do not retry blindly).
 */
DAL_API int dal_uow_commit(dal_uow *uow);

/**
 * Roll back and free a unit of work; a nested unit undoes exactly its own work.
 *
 * On DuckDB a nested unit's rollback runs its undo log; if a statement failed in
 * the transaction before (DuckDB then aborts all of it) that cannot run: the
 * engine's error is returned and the outermost unit can only roll back.
 *
 * @param uow the unit (NULL is DAL_EINVAL)
 * @return DAL_OK (also for a dead unit, which is only freed); DAL_EINVAL if it is not
 *         the innermost open unit of its dal_db on this thread (the whole stack is then
 *         rolled back and it is freed), was begun on another thread (nothing is done), or
 *         its connection is streaming rows to a dal_repo_each()/dal_query_each() callback
 *         of this thread (a call from inside it: nothing is done, the unit stays open);
 *         DAL_ECONN if the engine could not roll back (the connection is then discarded,
 *         which rolls back on the server); for a nested unit on DuckDB, the error of an
 *         undo statement (the outermost unit's commit then fails: nothing commits half).
 */
DAL_API int dal_uow_rollback(dal_uow *uow);

/**
 * A repository whose calls run in @p uow (and in any unit nested in it later).
 *
 * @param out   the repository; owned by the caller, close with dal_repo_close(). It may
 *              outlive the unit: its calls then run in their own transactions.
 * @param uow   an open unit, on this thread
 * @param model the table (borrowed: must outlive the repository)
 * @param flags dal_repo_flag bits
 * @return DAL_OK; DAL_EINVAL for a NULL argument, a dead unit, another thread's unit or
 *         an invalid model; DAL_ENOMEM.
 */
DAL_API int dal_uow_repo(dal_repo **out, dal_uow *uow, const dal_model *model, unsigned flags);

/**
 * The work dal_run_tx() runs in a unit of work. It must not end @p uow itself.
 *
 * @return 0 to commit; anything else rolls the unit back and is returned by dal_run_tx().
 */
typedef int (*dal_tx_fn)(dal_uow *uow, void *payload);

/**
 * Run @p fn in a unit of work and commit it; roll back if @p fn fails.
 *
 * On DAL_ESERIALIZE (serialization failure, deadlock, write conflict), DAL_EBUSY,
 * and DAL_ECONN while the connection was lost before COMMIT was sent, the whole
 * function is run again in a new unit (on a fresh connection), up to
 * dal_config.tx_max_attempts attempts in all, with jittered exponential backoff
 * from about 5 ms. DAL_ECOMMIT_UNKNOWN, DAL_ECONSTRAINT and DAL_ETIMEOUT (a statement past
 * dal_config.statement_timeout_ms, or a server that stopped answering) are never retried.
 * Nested in an open unit of this thread, @p fn runs once, in a nested unit:
 * retrying is then the outermost unit's business. So @p fn may run several
 * times: it must have no effects outside the database, or tolerate repeats.
 *
 * @param db      the database
 * @param opts    options of each unit (copied); NULL means DAL_UOW_OPTS_INIT
 * @param fn      the work
 * @param payload passed to @p fn as it is
 * @return DAL_OK; @p fn's non-zero return value; the last error once attempts
 *         are exhausted; errors as dal_uow_begin() and dal_uow_commit().
 */
DAL_API int dal_run_tx(dal_db *db, const dal_uow_opts *opts, dal_tx_fn fn, void *payload);
/** dal_run_tx() with the caller's source place for leak reports, as dal_uow_begin_at(). */
DAL_API int dal_run_tx_at(dal_db *db, const dal_uow_opts *opts, dal_tx_fn fn, void *payload, const char *file,
                          int line);
#define dal_run_tx(db, opts, fn, payload) dal_run_tx_at((db), (opts), (fn), (payload), __FILE__, __LINE__)

DAL_END_DECLS

#endif
