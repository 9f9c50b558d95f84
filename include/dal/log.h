/**
 * @file dal/log.h
 * @brief Where dal's log lines go. dal never prints to stdout.
 *
 * dal logs slow queries (dal_config.slow_query_ms; 0 turns them off), echoed
 * statements (dal_config.echo), connection leaks, and misuse it can survive
 * (a unit of work's audit context that a repository without DAL_AUDIT cannot
 * record, units left open at dal_close). Without a handler, warnings and errors
 * go to stderr as one line each, prefixed "dal: <level>: " so they cannot be
 * taken for the program's own output; debug and info lines are dropped.
 */
#ifndef DAL_LOG_H
#define DAL_LOG_H

#include "dal/common.h"

DAL_BEGIN_DECLS

typedef enum dal_log_level {
	DAL_LOG_DEBUG = 0,
	DAL_LOG_INFO = 1,
	DAL_LOG_WARN = 2,
	DAL_LOG_ERROR = 3
} dal_log_level;

/** A log handler. @p message is borrowed for the call; it never holds a secret. */
typedef void (*dal_log_fn)(dal_log_level level, const char *message, void *payload);

/**
 * Set the process-wide handler; NULL restores the default (warnings and errors to
 * stderr, each line starting "dal: warning: " or "dal: error: "). To silence dal,
 * set a handler that does nothing; to route it, one that writes to the program's log.
 * Thread-safe; the handler itself may be called from any thread at once.
 */
DAL_API void dal_log_set_handler(dal_log_fn fn, void *payload);

DAL_END_DECLS

#endif
