#include <stdio.h>
#include <string.h>

#include "driver/driver.h"
#include "util/error.h"

int dal__driver_find(const dal_driver **out, const char *scheme)
{
	*out = NULL;
	if (strcmp(scheme, "sqlite") == 0)
		*out = &dal__driver_sqlite;
	else if (strcmp(scheme, "postgresql") == 0)
		*out = &dal__driver_postgres;
	else if (strcmp(scheme, "duckdb") == 0) {
#ifdef DAL_WITH_DUCKDB
		*out = &dal__driver_duckdb;
#else
		return dal__error(DAL_EUNSUPPORTED, "duckdb:// URLs need a dal built with DuckDB "
			"(this one was configured with -DDAL_WITH_DUCKDB=OFF)");
#endif
	}
	if (!*out)
		return dal__error(DAL_EINVAL, "bad URL: unknown scheme '%s'", scheme);
	return 0;
}

void dal__driver_mask_quoted(char *msg, size_t size)
{
	char *first = strpbrk(msg, "\"'"), *last = NULL, *p, tail[512];
	char quote;

	if (!first)
		return;
	quote = *first;
	for (p = first + 1; *p; p++)
		if (*p == '"' || *p == '\'')
			last = p;
	snprintf(tail, sizeof(tail), "%s", last ? last + 1 : "");
	snprintf(first, size - (size_t)(first - msg), "%c...%c%s", quote, quote, tail);
}
