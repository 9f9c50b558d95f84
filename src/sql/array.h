/* The one parameter of a long IN list: PostgreSQL array input or a JSON array. Internal. */
#ifndef DAL_SQL_ARRAY_H
#define DAL_SQL_ARRAY_H

#include "dal/value.h"
#include "driver/driver.h"
#include "util/str.h"

/* Whether a column of this type can be compared with an array parameter (bool, int,
 * double, text, timestamp); other types keep one parameter per value. */
bool dal__sql_array_type_ok(dal_type type);

/* '{' or '['. */
int dal__sql_array_open(dal_str *out, dal_array_form form);
/* '}' or ']'. */
int dal__sql_array_close(dal_str *out, dal_array_form form);

/*
 * Append element `v` (a type dal__sql_array_type_ok() takes), after a comma unless
 * `first`. DAL_EINVAL with no message set and *why saying what the value is (a text
 * with a NUL byte, a number that is not finite, a timestamp outside 0001-9999):
 * the caller names the column and the position. DAL_ENOMEM.
 */
int dal__sql_array_put(dal_str *out, dal_array_form form, const dal_value *v, bool first, const char **why);

#endif
