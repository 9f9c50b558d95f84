#ifndef DAL_SQL_PLACEHOLDER_H
#define DAL_SQL_PLACEHOLDER_H

#include "driver/driver.h"
#include "util/str.h"

/*
 * Rewrite `?` placeholders outside quotes and comments into the dialect's
 * style. SQL that already has $n placeholders is copied as it is.
 */
int dal__sql_placeholders(dal_str *out, const char *sql, dal_placeholder style);
/* The highest $n outside literals and comments (0: none). */
long dal__sql_max_param(const char *sql);

#endif
