/* What every bench program needs: a monotonic clock and a way out on failure. */
#ifndef DAL_BENCH_UTIL_H
#define DAL_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dal/errors.h>

static inline double bench_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Print `program: what: <dal's last error>` and exit 1. */
static inline void bench_die(const char *program, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program, what, dal_error_last()->message);
	exit(1);
}

#endif
