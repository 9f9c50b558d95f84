#include "sql/ident.h"

#include <string.h>

int dal__sql_check_ident(const char *name, const char *what)
{
	size_t i, n;

	if (!name || !*name)
		return dal__error(DAL_EINVAL, "%s name is empty", what);
	n = strlen(name);
	if (n > 63)
		return dal__error(DAL_EINVAL, "%s name '%.20s...' is longer than 63 bytes", what, name);
	for (i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
		if (!ok)
			return dal__error(DAL_EINVAL, "%s name '%.63s' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)",
				what, name);
	}
	return 0;
}

int dal__sql_quote_ident(dal_str *out, const dal_dialect *d, const char *name)
{
	int error;

	if (out->sink)
		return 0;
	if ((error = dal__sql_check_ident(name, "identifier")) < 0)
		return error;
	if ((error = dal__str_putc(out, d->quote)) < 0 || (error = dal__str_puts(out, name)) < 0)
		return error;
	return dal__str_putc(out, d->quote);
}
