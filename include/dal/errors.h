/**
 * @file dal/errors.h
 * @brief Error codes and the calling thread's last error.
 *
 * Every call that can fail returns DAL_OK (0) or a negative DAL_E* code; the
 * details are in dal_error_last() on the same thread until the next failing call.
 */
#ifndef DAL_ERRORS_H
#define DAL_ERRORS_H

#include "dal/common.h"

DAL_BEGIN_DECLS

/** Return codes. Append-only: a value never changes meaning. */
typedef enum dal_error_code {
	DAL_OK = 0,
	DAL_ERROR = -1,             /**< generic failure */
	DAL_ENOTFOUND = -2,         /**< no such row, table or object */
	DAL_EINVAL = -3,            /**< bad argument, URL, column, value or state */
	DAL_ECONSTRAINT = -4,       /**< unique, not-null, check or foreign key violation; ids used up */
	DAL_EBUSY = -5,             /**< database locked or busy beyond the busy timeout */
	DAL_ECONN = -6,             /**< cannot connect, or the connection was lost */
	DAL_ETIMEOUT = -7,          /**< a wait (pool, statement) timed out */
	DAL_ESERIALIZE = -8,        /**< serialization failure or deadlock: retry the transaction */
	DAL_EUNSUPPORTED = -9,      /**< the engine or build cannot do this */
	DAL_ECOMMIT_UNKNOWN = -10,  /**< the connection failed while COMMIT was in flight */
	DAL_ENOMEM = -11,           /**< out of memory */
	DAL_EIO = -12,              /**< disk or file error */
	DAL_ESQL = -13,             /**< the engine rejected the SQL text (syntax, unknown object) */
	DAL_ESCHEMA = -14           /**< the database's tables differ from the models (missing column, other type) */
} dal_error_code;

/**
 * The last error of the calling thread.
 *
 * Library-owned, thread-local; fields may be appended in later versions.
 */
typedef struct dal_error {
	int code;                /**< the DAL_E* code, DAL_OK if none */
	const char *message;     /**< one line a person can act on; never NULL */
	const char *sqlstate;    /**< engine SQLSTATE (PostgreSQL) or ""; never NULL */
	int engine_code;         /**< engine's own code (SQLite extended code, DuckDB error type) or 0 */
} dal_error;

/**
 * The calling thread's last error. Never NULL.
 *
 * @return borrowed; valid until the next dal call on this thread.
 */
DAL_API const dal_error *dal_error_last(void);

/** Forget the calling thread's last error. */
DAL_API void dal_error_clear(void);

/**
 * A short English name for a code, e.g. "constraint violation".
 *
 * @return static storage; "unknown error" for a code dal does not know.
 */
DAL_API const char *dal_strerror(int code);

/**
 * Print "@p what: <the last error's message>" and a newline to stderr, as perror()
 * does for errno; just the message when @p what is NULL or "".
 *
 * @return 1 (EXIT_FAILURE), so that `return dal_perror("open");` ends main().
 */
DAL_API int dal_perror(const char *what);

DAL_END_DECLS

#endif
