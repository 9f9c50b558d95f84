#ifndef DAL_SQL_PLACEHOLDER_H
#define DAL_SQL_PLACEHOLDER_H

#include <stdbool.h>

#include "driver/driver.h"
#include "util/str.h"

/*
 * Rewrite `?` placeholders outside quotes and comments into the dialect's
 * style. SQL that already has $n placeholders is copied as it is.
 */
int dal__sql_placeholders(dal_str *out, const char *sql, dal_placeholder style);
/* The length of the literal, quoted identifier or comment that starts at p within
 * `sql` ('..', E'..', "..", $tag$..$tag$, -- .., nested block comments), or 0. */
size_t dal__sql_skip_quoted(const char *sql, const char *p);
/* The highest $n outside literals and comments (0: none). */
long dal__sql_max_param(const char *sql);

/* True when the text holds no statement: only blanks, semicolons and comments. */
bool dal__sql_is_empty(const char *sql);

#endif
