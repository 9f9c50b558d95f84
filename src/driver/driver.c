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
