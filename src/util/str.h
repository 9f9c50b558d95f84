#ifndef DAL_UTIL_STR_H
#define DAL_UTIL_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/** A growable NUL-terminated byte string. ptr is never NULL after a successful append. */
typedef struct dal_str {
	char *ptr;
	size_t len;
	size_t cap;
	bool sink;     /* discard everything written: run a builder for its checks and parameters only */
} dal_str;

#define DAL_STR_INIT { NULL, 0, 0, false }

int dal__str_grow(dal_str *s, size_t extra);
int dal__str_putn(dal_str *s, const char *p, size_t n);
int dal__str_puts(dal_str *s, const char *p);
int dal__str_putc_slow(dal_str *s, char c);

/* Inline: JSON and hash encoders write byte by byte, and a call per byte showed in profiles. */
static inline int dal__str_putc(dal_str *s, char c)
{
	if (s->len + 2 > s->cap || s->sink)
		return dal__str_putc_slow(s, c);
	s->ptr[s->len++] = c;
	s->ptr[s->len] = '\0';
	return 0;
}
/* `v` in decimal, as "%lld" without printf (audit hashing and JSON write one per value). */
int dal__str_put_i64(dal_str *s, int64_t v);
int dal__str_printf(dal_str *s, const char *fmt, ...) DAL__PRINTF(2, 3);
int dal__str_vprintf(dal_str *s, const char *fmt, va_list ap) DAL__PRINTF(2, 0);
void dal__str_clear(dal_str *s);
void dal__str_dispose(dal_str *s);
/** Hand the buffer to the caller (free() it) and reset @p s. Never NULL on success. */
char *dal__str_detach(dal_str *s);

/* Characters in `len` bytes of UTF-8 (the bytes that do not continue a sequence). */
size_t dal__utf8_chars(const char *s, size_t len);

/** strdup that reports DAL_ENOMEM through dal_error_last(). NULL in gives NULL out, no error. */
char *dal__strdup(const char *s);
char *dal__strndup(const char *s, size_t n);

#endif
