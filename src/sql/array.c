/*
 * A long IN list travels as one parameter, so that no engine meets its limit on
 * parameters per statement. Every element is written in full, so nothing in a
 * value is read as syntax: texts are always quoted, with their quote and
 * backslash escaped (an unquoted PostgreSQL element would lose its outer
 * spaces, and the word NULL would be a null).
 */
#include "sql/array.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool dal__sql_array_type_ok(dal_type type)
{
	return type == DAL_TYPE_BOOL || type == DAL_TYPE_INT || type == DAL_TYPE_DOUBLE || type == DAL_TYPE_TEXT ||
	       type == DAL_TYPE_TIMESTAMP;
}

int dal__sql_array_open(dal_str *out, dal_array_form form)
{
	return dal__str_putc(out, form == DAL_ARRAY_PG ? '{' : '[');
}

int dal__sql_array_close(dal_str *out, dal_array_form form)
{
	return dal__str_putc(out, form == DAL_ARRAY_PG ? '}' : ']');
}

/* Inside double quotes PostgreSQL's array input takes every byte as it is but '"' and '\\'. */
static int put_pg_text(dal_str *out, const char *s, size_t len)
{
	size_t i, from = 0;
	int error = dal__str_putc(out, '"');

	for (i = 0; i < len && error == 0; i++)
		if (s[i] == '"' || s[i] == '\\') {
			error = dal__str_putn(out, s + from, i - from);
			error = error ? error : dal__str_putc(out, '\\');
			from = i;
		}
	error = error ? error : dal__str_putn(out, s + from, len - from);
	return error ? error : dal__str_putc(out, '"');
}

/* JSON (RFC 8259): '"', '\\' and the control characters escaped; other bytes as they are. */
static int put_json_text(dal_str *out, const char *s, size_t len)
{
	size_t i, from = 0;
	int error = dal__str_putc(out, '"');

	for (i = 0; i < len && error == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		error = dal__str_putn(out, s + from, i - from);
		if (error == 0 && (c == '"' || c == '\\'))
			error = dal__str_putn(out, (const char[]){ '\\', (char)c }, 2);
		else if (error == 0)
			error = dal__str_printf(out, "\\u%04x", c);
		from = i + 1;
	}
	error = error ? error : dal__str_putn(out, s + from, len - from);
	return error ? error : dal__str_putc(out, '"');
}

/* 17 significant digits read back as the same double; a JSON number that looks like an
 * integer is kept a real (SQLite would compare it as an integer). */
static int put_double(dal_str *out, dal_array_form form, double d)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "%.17g", d);
	if (form == DAL_ARRAY_JSON && !strpbrk(buf, ".e"))
		strcat(buf, ".0");
	return dal__str_puts(out, buf);
}

static int put_timestamp(dal_str *out, dal_array_form form, int64_t ts, const char **why)
{
	char buf[DAL_TIMESTAMP_BUFSIZE];

	/* PostgreSQL's infinite timestamps, as the parameter binding spells them. */
	if (form == DAL_ARRAY_PG && (ts == INT64_MAX || ts == INT64_MIN))
		return dal__str_puts(out, ts == INT64_MAX ? "infinity" : "-infinity");
	if (dal_timestamp_format(buf, ts) < 0) {
		*why = "is a timestamp outside the years 0001-9999";
		return DAL_EINVAL;
	}
	return dal__str_printf(out, "\"%s\"", buf);
}

int dal__sql_array_put(dal_str *out, dal_array_form form, const dal_value *v, bool first, const char **why)
{
	int error = first ? 0 : dal__str_putc(out, ',');

	if (error)
		return error;
	switch (v->type) {
	case DAL_TYPE_BOOL:
		return dal__str_puts(out, form == DAL_ARRAY_PG ? (v->v.b ? "t" : "f") : (v->v.b ? "true" : "false"));
	case DAL_TYPE_INT:
		return dal__str_put_i64(out, v->v.i);
	case DAL_TYPE_DOUBLE:
		if (!isfinite(v->v.d)) {
			*why = "is not a finite number";
			return DAL_EINVAL;
		}
		return put_double(out, form, v->v.d);
	case DAL_TYPE_TIMESTAMP:
		return put_timestamp(out, form, v->v.ts, why);
	case DAL_TYPE_TEXT:
		/* Neither PostgreSQL text nor the engines' JSON readers carry a NUL byte intact. */
		if (v->len && memchr(v->v.s, '\0', v->len)) {
			*why = "is text holding a NUL byte";
			return DAL_EINVAL;
		}
		return form == DAL_ARRAY_PG ? put_pg_text(out, v->len ? v->v.s : "", v->len)
		                            : put_json_text(out, v->len ? v->v.s : "", v->len);
	default:
		*why = "has a type no array carries";
		return DAL_EINVAL;
	}
}
