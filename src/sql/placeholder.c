/*
 * `?` to `$n` for PostgreSQL, following its lexer closely enough never to touch
 * a literal or a comment: 'strings' (quotes doubled), E'strings' (backslash
 * escapes), "identifiers", $tag$dollar quotes$tag$, -- comments and nested
 * block comments. A layer must never alter a string literal.
 */
#include "sql/placeholder.h"

#include <ctype.h>
#include <string.h>

/* Characters of an identifier (PostgreSQL allows $ after the first, and any
 * byte of a multi-byte UTF-8 character): a quote or $ after one is part of it. */
static bool ident_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '$' || c >= 0x80;
}

static bool ident_start(unsigned char c)
{
	return ident_char(c) && c != '$' && !(c >= '0' && c <= '9');
}

/* A run quoted by p[0], quotes doubled inside; with `escapes`, a backslash escapes the next byte. */
static size_t quoted_len(const char *p, bool escapes)
{
	const char *q;

	for (q = p + 1; *q; q++) {
		if (escapes && *q == '\\' && q[1]) {
			q++;
		} else if (*q == *p) {
			if (q[1] != *p)
				return (size_t)(q - p + 1);
			q++;
		}
	}
	return strlen(p);
}

/* The length of the tag at p ($$ or $name$), or 0 where p starts none ($1 is a parameter). */
static size_t dollar_tag(const char *p)
{
	const char *q = p + 1;

	if (*q != '$' && !ident_start((unsigned char)*q))
		return 0;
	while (*q && *q != '$') {
		if (!ident_char((unsigned char)*q))
			return 0;
		q++;
	}
	return *q == '$' ? (size_t)(q - p + 1) : 0;
}

static size_t dollar_len(const char *p)
{
	size_t tag = dollar_tag(p);
	const char *q;

	if (tag == 0)
		return 0;
	for (q = p + tag; (q = strchr(q, '$')) != NULL; q++)
		if (strncmp(q, p, tag) == 0)
			return (size_t)(q + tag - p);
	return strlen(p);
}

/* Block comments nest in PostgreSQL. */
static size_t comment_len(const char *p)
{
	const char *q = p + 2;
	int depth = 1;

	while (*q && depth > 0) {
		if (q[0] == '/' && q[1] == '*') {
			depth++;
			q += 2;
		} else if (q[0] == '*' && q[1] == '/') {
			depth--;
			q += 2;
		} else {
			q++;
		}
	}
	return (size_t)(q - p);
}

size_t dal__sql_skip_quoted(const char *sql, const char *p)
{
	unsigned char prev = p > sql ? (unsigned char)p[-1] : 0;

	if (*p == '\'' || *p == '"')
		return quoted_len(p, false);
	if ((*p == 'E' || *p == 'e') && p[1] == '\'' && !ident_char(prev))
		return 1 + quoted_len(p + 1, true);
	if (*p == '$' && !ident_char(prev))
		return dollar_len(p);
	if (p[0] == '-' && p[1] == '-')
		return strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*')
		return comment_len(p);
	return 0;
}

static bool is_param(const char *sql, const char *p)
{
	return *p == '$' && p[1] >= '0' && p[1] <= '9' && !(p > sql && ident_char((unsigned char)p[-1]));
}

long dal__sql_max_param(const char *sql)
{
	const char *p;
	size_t n;
	long max = 0, k;

	for (p = sql; *p; p++) {
		if ((n = dal__sql_skip_quoted(sql, p)) > 0) {
			p += n - 1;
		} else if (is_param(sql, p)) {
			for (k = 0, p++; *p >= '0' && *p <= '9'; p++)
				k = k < 100000000L ? k * 10 + (*p - '0') : k;
			max = k > max ? k : max;
			p--;
		}
	}
	return max;
}

int dal__sql_placeholders(dal_str *out, const char *sql, dal_placeholder style)
{
	const char *p;
	size_t n;
	int k = 0, error = 0;

	if (style == DAL_PH_QMARK || dal__sql_max_param(sql) > 0)
		return dal__str_puts(out, sql);
	for (p = sql; *p && error == 0; p++) {
		if ((n = dal__sql_skip_quoted(sql, p)) > 0) {
			error = dal__str_putn(out, p, n);
			p += n - 1;
		} else if (*p == '?') {
			error = dal__str_printf(out, "$%d", ++k);
		} else {
			error = dal__str_putc(out, *p);
		}
	}
	return error;
}

bool dal__sql_is_empty(const char *sql)
{
	const char *p;
	size_t n;

	for (p = sql; *p; p++) {
		bool comment = (p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*');
		if (comment && (n = dal__sql_skip_quoted(sql, p)) > 0)
			p += n - 1;
		else if (!isspace((unsigned char)*p) && *p != ';')
			return false;
	}
	return true;
}
