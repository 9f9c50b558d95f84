/* Room for one more element in a growing array. Internal. */
#ifndef DAL_UTIL_GROW_H
#define DAL_UTIL_GROW_H

#include <stddef.h>
#include <stdlib.h>

#include "util/error.h"

/* *v (of *cap elements of `size` bytes, n used) has room for element n: doubled when
 * full. 0, or DAL_ENOMEM with *v and *cap as they were. */
static inline int dal__grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? 2 * *cap : 16;
	void *p;

	if (n < *cap)
		return 0;
	if (!(p = realloc(*v, c * size)))
		return dal__error_nomem();
	*v = p;
	*cap = c;
	return 0;
}

#endif
