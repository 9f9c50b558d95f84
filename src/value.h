/* Value helpers shared inside dal. Internal. */
#ifndef DAL_VALUE_INTERNAL_H
#define DAL_VALUE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* dal_timestamp_parse() of the form dal writes ("YYYY-MM-DD HH:MM:SS.ffffff", `len`
 * bytes, not NUL-terminated), without a copy; false for any other text. */
bool dal__timestamp_parse_canonical(int64_t *us, const char *s, size_t len);

#endif
