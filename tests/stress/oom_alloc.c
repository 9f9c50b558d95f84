/* The allocation hook of the out-of-memory sweep: see oom_alloc.h. */
#define _GNU_SOURCE
#include "stress/oom_alloc.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

/* The countdown, on the arming thread only. */
static _Thread_local struct {
	bool armed, hit;
	oom_mode mode;
	long left, counted;
	oom_source first;
	void *site;
	void *trace[10];
	int ntrace;
} cd;

static bool take_at(oom_source src, void *site)
{
	if (!cd.armed)
		return true;
	cd.counted++;
	if (cd.hit)
		return cd.mode != OOM_ALWAYS;
	if (--cd.left > 0)
		return true;
	cd.hit = true;
	cd.first = src;
	cd.site = site;
	cd.ntrace = backtrace(cd.trace, 10);
	return false;
}

#define take(src) take_at((src), __builtin_return_address(0))

void oom_arm(long n, oom_mode mode)
{
	cd.armed = true;
	cd.hit = false;
	cd.mode = mode;
	cd.left = n;
	cd.counted = 0;
	cd.first = OOM_SRC_DAL;
}

bool oom_disarm(void)
{
	cd.armed = false;
	return cd.hit;
}

oom_source oom_failed_source(void) { return cd.first; }
void *oom_failed_site(void) { return cd.site; }
int oom_failed_trace(void ***out) { *out = cd.trace; return cd.ntrace; }
long oom_counted(void) { return cd.counted; }

/* The live set: open addressing on the block address, linear probing. */
#define SLOTS (1u << 20)
typedef struct slot {
	void *p;
	void *site;
	unsigned long serial;
	int step;
	long n;
} slot;

static slot *table;
static long live;
static unsigned long serial;
static int tag_step = -1;
static long tag_n;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static size_t home(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 44) & (SLOTS - 1);
}

static void track(void *p, void *site)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&lock);
	if (!table)
		table = __real_calloc(SLOTS, sizeof(*table));
	for (i = home(p); table[i].p; i = (i + 1) & (SLOTS - 1))
		;
	table[i] = (slot){ p, site, ++serial, tag_step, tag_n };
	live++;
	pthread_mutex_unlock(&lock);
}

/* Backward-shift deletion keeps every probe chain whole without tombstones. */
static void untrack(void *p)
{
	size_t i, j, k;

	if (!p || !table)
		return;
	pthread_mutex_lock(&lock);
	for (i = home(p); table[i].p && table[i].p != p; i = (i + 1) & (SLOTS - 1))
		;
	if (table[i].p) {
		live--;
		for (j = i;;) {
			table[i].p = NULL;
			for (;;) {
				j = (j + 1) & (SLOTS - 1);
				if (!table[j].p)
					goto out;
				k = home(table[j].p);
				if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
					continue;
				break;
			}
			table[i] = table[j];
			i = j;
		}
	}
out:
	pthread_mutex_unlock(&lock);
}

long oom_live(void)
{
	long n;

	pthread_mutex_lock(&lock);
	n = live;
	pthread_mutex_unlock(&lock);
	return n;
}

unsigned long oom_serial(void)
{
	unsigned long s;

	pthread_mutex_lock(&lock);
	s = serial;
	pthread_mutex_unlock(&lock);
	return s;
}

void oom_tag(int step, long n)
{
	pthread_mutex_lock(&lock);
	tag_step = step;
	tag_n = n;
	pthread_mutex_unlock(&lock);
}

long oom_report_live(unsigned long since_serial, int max, const char *const *step_names, int nsteps)
{
	long found = 0;
	size_t i;

	pthread_mutex_lock(&lock);
	for (i = 0; table && i < SLOTS; i++) {
		const slot *s = &table[i];
		if (!s->p || s->serial <= since_serial)
			continue;
		Dl_info info;
		if (found++ >= max)
			continue;
		if (!dladdr(s->site, &info) || !info.dli_fname)
			info.dli_fname = "?", info.dli_fbase = NULL;
		fprintf(stderr, "  leaked block %p made at %s+0x%lx in step %s, n=%ld\n", s->p, info.dli_fname,
			(unsigned long)((char *)s->site - (char *)info.dli_fbase),
			s->step >= 0 && s->step < nsteps && step_names[s->step] ? step_names[s->step] : "(setup)", s->n);
	}
	pthread_mutex_unlock(&lock);
	return found;
}

/* dal's own calls (--wrap). */
void *__wrap_malloc(size_t n)
{
	void *p;

	if (!take(OOM_SRC_DAL))
		return NULL;
	p = __real_malloc(n);
	track(p, __builtin_return_address(0));
	return p;
}

void *__wrap_calloc(size_t k, size_t n)
{
	void *p;

	if (!take(OOM_SRC_DAL))
		return NULL;
	p = __real_calloc(k, n);
	track(p, __builtin_return_address(0));
	return p;
}

void *__wrap_realloc(void *old, size_t n)
{
	void *p;

	if (!take(OOM_SRC_DAL))
		return NULL;
	p = __real_realloc(old, n);
	if (p || n == 0)
		untrack(old);
	track(p, __builtin_return_address(0));
	return p;
}

char *__wrap_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (!take(OOM_SRC_DAL))
		return NULL;
	if ((p = __real_malloc(n)) != NULL)
		memcpy(p, s, n);
	track(p, __builtin_return_address(0));
	return p;
}

void __wrap_free(void *p)
{
	untrack(p);
	__real_free(p);
}

/* jansson. */
static void *json_alloc(size_t n)
{
	void *p;

	if (!take(OOM_SRC_JANSSON))
		return NULL;
	p = __real_malloc(n);
	track(p, __builtin_return_address(0));
	return p;
}

static void json_release(void *p)
{
	untrack(p);
	__real_free(p);
}

/* SQLite: its default methods, with the countdown and the live set in front. */
static sqlite3_mem_methods sqlite_default;

static void *sq_malloc(int n)
{
	void *p;

	if (!take(OOM_SRC_SQLITE))
		return NULL;
	p = sqlite_default.xMalloc(n);
	track(p, __builtin_return_address(0));
	return p;
}

static void sq_free(void *p)
{
	untrack(p);
	sqlite_default.xFree(p);
}

static void *sq_realloc(void *old, int n)
{
	void *p;

	if (!take(OOM_SRC_SQLITE))
		return NULL;
	if ((p = sqlite_default.xRealloc(old, n)) != NULL) {
		untrack(old);
		track(p, __builtin_return_address(0));
	}
	return p;
}

static int sq_size(void *p) { return sqlite_default.xSize(p); }
static int sq_roundup(int n) { return sqlite_default.xRoundup(n); }
static int sq_init(void *app) { return sqlite_default.xInit(app); }
static void sq_shutdown(void *app) { sqlite_default.xShutdown(app); }

int oom_alloc_install(void)
{
	static sqlite3_mem_methods hooked = { sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init,
	                                      sq_shutdown, NULL };

	void *warm[2];

	backtrace(warm, 2);   /* its first call loads libgcc: not while a countdown runs */
	json_set_alloc_funcs(json_alloc, json_release);
	if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_default) != SQLITE_OK)
		return -1;
	hooked.pAppData = sqlite_default.pAppData;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &hooked) != SQLITE_OK)
		return -1;
	return sqlite3_initialize() == SQLITE_OK ? 0 : -1;
}
