/*
 * Failure points for tests: a test arms a named point on its thread, and the
 * next pass through that point fails as if the step there had. Written here
 * rather than taken from libfiu because a check costs one thread-local load on
 * the write path and adds no dependency to the library. Internal.
 */
#ifndef DAL_UTIL_FAULT_H
#define DAL_UTIL_FAULT_H

#include <stdbool.h>
#include <string.h>

extern _Thread_local const char *dal__fault_armed;

/* Arm `point` (NULL disarms) for the next pass on this thread. */
static inline void dal__fault_arm(const char *point)
{
	dal__fault_armed = point;
}

/* True once when `point` is armed; disarms it. */
static inline bool dal__fault(const char *point)
{
	if (!dal__fault_armed || strcmp(dal__fault_armed, point) != 0)
		return false;
	dal__fault_armed = NULL;
	return true;
}

#endif
