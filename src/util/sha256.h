/* SHA-256 as 64 lowercase hex digits (libcrypto). Internal. */
#ifndef DAL_UTIL_SHA256_H
#define DAL_UTIL_SHA256_H

#include <stddef.h>

/* 0, or DAL_ERROR if libcrypto failed (hex is then ""). */
int dal__sha256_hex(char hex[65], const void *p, size_t n);

#endif
