/**
 * @file dal/log.h
 * @brief Where dal's log lines go. dal never prints to stdout.
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
 * Set the process-wide handler; NULL restores the default (warnings and errors to stderr).
 * Thread-safe; the handler itself may be called from any thread at once.
 */
DAL_API void dal_log_set_handler(dal_log_fn fn, void *payload);

DAL_END_DECLS

#endif
