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

/** A copy of the thread's last error, to report it after cleanup that may set another. */
typedef struct dal__error_saved {
	int code, engine_code;
	char sqlstate[8];
	char message[1024];
} dal__error_saved;

void dal__error_save(dal__error_saved *out);
/** Set the saved error again; nothing if none was set (code DAL_OK). */
void dal__error_restore(const dal__error_saved *saved);

/** The version a caller gave a transparent struct `type`: 0 or newer than `known` is DAL_EINVAL, else 0. */
int dal__check_version(unsigned int version, unsigned int known, const char *type);

#define DAL_ASSERT_ARG(expr) \
	do { if (!(expr)) return dal__error(DAL_EINVAL, "invalid argument: '%s' in %s", #expr, __func__); } while (0)

#endif
