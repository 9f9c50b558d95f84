#include "sql/placeholder.h"

#include <ctype.h>
#include <string.h>

/* Length of a quoted run or comment starting at p, or 0 if p starts none. */
static size_t skip_quoted(const char *p)
{
	const char *q;

	if (*p == '\'' || *p == '"') {
		for (q = p + 1; *q; q++)
			if (*q == *p) {
				if (q[1] != *p)
					return (size_t)(q - p + 1);
				q++;  /* doubled quote */
			}
		return strlen(p);
	}
	if (p[0] == '-' && p[1] == '-')
		return strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*') {
		q = strstr(p + 2, "*/");
		return q ? (size_t)(q + 2 - p) : strlen(p);
	}
	return 0;
}

static bool has_dollar_params(const char *sql)
{
	const char *p;
	size_t n;

	for (p = sql; *p; p++) {
		if ((n = skip_quoted(p)) > 0) {
			p += n - 1;
			continue;
		}
		if (*p == '$' && isdigit((unsigned char)p[1]))
			return true;
	}
	return false;
}

int dal__sql_placeholders(dal_str *out, const char *sql, dal_placeholder style)
{
	const char *p;
	size_t n;
	int k = 0, error = 0;

	if (style == DAL_PH_QMARK || has_dollar_params(sql))
		return dal__str_puts(out, sql);
	for (p = sql; *p && error == 0; p++) {
		if ((n = skip_quoted(p)) > 0) {
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
