/*
 * The allocation hook of the out-of-memory sweep (oom_sweep.c). The program is
 * linked with -Wl,--wrap for malloc, calloc, realloc, strdup and free, so every
 * allocation dal's own code makes (the library is linked in statically) comes
 * here; jansson's and SQLite's are routed here too (oom_alloc_install()).
 * DuckDB and libpq allocate inside their shared libraries, out of reach.
 *
 * While armed, the allocations of the arming thread are counted, and the n-th
 * fails: only it (OOM_ONCE), or it and every later one until disarmed
 * (OOM_ALWAYS). Every live block is tracked with the place that made it, so a
 * leak is found by comparing the live set with a baseline.
 */
#ifndef DAL_TEST_OOM_ALLOC_H
#define DAL_TEST_OOM_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

typedef enum oom_mode { OOM_ONCE, OOM_ALWAYS } oom_mode;

/* Who asked for the allocation that failed first. */
typedef enum oom_source { OOM_SRC_DAL, OOM_SRC_JANSSON, OOM_SRC_SQLITE, OOM_SRC_COUNT } oom_source;

/* Route jansson's and SQLite's allocations through the hook (before sqlite3_initialize). */
int oom_alloc_install(void);

/* Arm: the n-th allocation from now fails (n >= 1). */
void oom_arm(long n, oom_mode mode);
/* Disarm; true if the countdown was reached (an allocation failed). */
bool oom_disarm(void);
/* The source of the first failed allocation of the last armed window. */
oom_source oom_failed_source(void);
/* The return address of the allocation that failed first (for addr2line). */
void *oom_failed_site(void);
/* The call stack of that allocation. */
int oom_failed_trace(void ***out);
/* Allocations counted in the last armed window (whether or not they failed). */
long oom_counted(void);

/* Live blocks made through the hook. */
long oom_live(void);
/* Tag the blocks made from now on (step number and n), for leak reports. */
void oom_tag(int step, long n);
/* Print up to `max` live blocks beyond the `baseline` generation to stderr; returns their count. */
long oom_report_live(unsigned long since_serial, int max, const char *const *step_names, int nsteps);
/* A serial number that grows with every allocation: blocks made later have a larger one. */
unsigned long oom_serial(void);

#endif
