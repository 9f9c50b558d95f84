#include <stdbool.h>
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

/* The table of the first sequence quoted in `msg` named as dal names them, "<table>_id_seq". */
static bool seq_table(char *out, size_t size, const char *msg)
{
	const char *open = strstr(msg, "sequence \""), *close;
	size_t n;

	if (!open)
		return false;
	open += strlen("sequence \"");
	if (!(close = strchr(open, '"')) || (n = (size_t)(close - open)) <= 7 || n - 7 >= size ||
	    strncmp(close - 7, "_id_seq", 7) != 0)
		return false;
	memcpy(out, open, n - 7);
	out[n - 7] = '\0';
	return true;
}

int dal__driver_ids_used_up(const char *engine, const char *sqlstate, int engine_code, const char *table,
                            const char *why)
{
	char name[128];

	if (!table && seq_table(name, sizeof(name), why))
		table = name;
	if (!table)
		return dal__error_engine(DAL_ECONSTRAINT, sqlstate, engine_code, "%s: no ids left: %s", engine, why);
	return dal__error_engine(DAL_ECONSTRAINT, sqlstate, engine_code, "%s: no ids left in table \"%s\": %s",
		engine, table, why);
}
