#ifndef DAL_SQL_IDENT_H
#define DAL_SQL_IDENT_H

#include "driver/driver.h"
#include "util/str.h"

/* Identifiers come only from models: [A-Za-z_][A-Za-z0-9_]*, 1-63 bytes.
 * `what` ("table", "column") names it in the message. */
int dal__sql_check_ident(const char *name, const char *what);
/* Append a checked identifier in the dialect's quotes. */
int dal__sql_quote_ident(dal_str *out, const dal_dialect *d, const char *name);

#endif
