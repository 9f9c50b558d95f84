#ifndef DAL_UTIL_LOG_H
#define DAL_UTIL_LOG_H

#include "dal/log.h"
#include "util/error.h"

void dal__log(dal_log_level level, const char *fmt, ...) DAL__PRINTF(2, 3);

/* A DAL_SENSITIVE value, wherever dal would show it: the echo of parameters, the audit trail. */
#define DAL__REDACTED "[REDACTED]"

#endif
