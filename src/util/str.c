#include "util/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

int dal__str_grow(dal_str *s, size_t extra)
{
	size_t need = s->len + extra + 1, cap;
	char *p;

	if (need <= s->cap)
		return 0;
	cap = s->cap ? s->cap : 64;
	while (cap < need)
		cap *= 2;
	if (!(p = realloc(s->ptr, cap)))
		return dal__error_nomem();
	s->ptr = p;
	s->cap = cap;
	return 0;
}

int dal__str_putn(dal_str *s, const char *p, size_t n)
{
	int error;

	if (s->sink)
		return 0;
	if ((error = dal__str_grow(s, n)) < 0)
		return error;
	if (n)
		memcpy(s->ptr + s->len, p, n);
	s->len += n;
	s->ptr[s->len] = '\0';
	return 0;
}

int dal__str_puts(dal_str *s, const char *p)
{
	return dal__str_putn(s, p, strlen(p));
}

int dal__str_putc_slow(dal_str *s, char c)
{
	return dal__str_putn(s, &c, 1);
}

int dal__str_put_i64(dal_str *s, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return dal__str_putn(s, p, (size_t)(buf + sizeof(buf) - p));
}

int dal__str_vprintf(dal_str *s, const char *fmt, va_list ap)
{
	va_list again;
	int n, error;

	if (s->sink)
		return 0;
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		error = dal__error(DAL_EINVAL, "bad format string");
	else if ((error = dal__str_grow(s, (size_t)n)) == 0) {
		vsnprintf(s->ptr + s->len, (size_t)n + 1, fmt, again);
		s->len += (size_t)n;
	}
	va_end(again);
	return error;
}

int dal__str_printf(dal_str *s, const char *fmt, ...)
{
	va_list ap;
	int error;

	va_start(ap, fmt);
	error = dal__str_vprintf(s, fmt, ap);
	va_end(ap);
	return error;
}

void dal__str_clear(dal_str *s)
{
	s->len = 0;
	if (s->ptr)
		s->ptr[0] = '\0';
}

void dal__str_dispose(dal_str *s)
{
	free(s->ptr);
	s->ptr = NULL;
	s->len = s->cap = 0;
}

char *dal__str_detach(dal_str *s)
{
	char *p;

	if (!s->ptr && dal__str_grow(s, 0) < 0)
		return NULL;
	s->ptr[s->len] = '\0';
	p = s->ptr;
	s->ptr = NULL;
	s->len = s->cap = 0;
	return p;
}

char *dal__strndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	if (!(p = malloc(n + 1))) {
		dal__error_nomem();
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dal__strdup(const char *s)
{
	return s ? dal__strndup(s, strlen(s)) : NULL;
}

size_t dal__utf8_chars(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}
