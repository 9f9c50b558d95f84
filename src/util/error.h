#ifndef DAL_UTIL_ERROR_H
#define DAL_UTIL_ERROR_H

#include "dal/errors.h"

#if defined(__GNUC__)
#define DAL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DAL__PRINTF(f, a)
#endif

/** Set the thread's last error and return @p code, so callers can `return dal__error(...)`. */
int dal__error(int code, const char *fmt, ...) DAL__PRINTF(2, 3);

/** As dal__error(), keeping the engine's SQLSTATE (may be NULL) and code. */
int dal__error_engine(int code, const char *sqlstate, int engine_code, const char *fmt, ...)
	DAL__PRINTF(4, 5);

/** Out of memory: needs no allocation. */
int dal__error_nomem(void);

#define DAL_ASSERT_ARG(expr) \
	do { if (!(expr)) return dal__error(DAL_EINVAL, "invalid argument: '%s' in %s", #expr, __func__); } while (0)

#endif
