/* The monotonic clock, for deadlines and waits (never for stored times: dal_now). Internal. */
#ifndef DAL_UTIL_CLOCK_H
#define DAL_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t dal__mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleep about `us` microseconds (a signal may end it early). */
static inline void dal__sleep_us(int64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

#endif
