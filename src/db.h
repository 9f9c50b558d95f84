/* The manager: what a dal_db holds. Internal. */
#ifndef DAL_DB_INTERNAL_H
#define DAL_DB_INTERNAL_H

#include <pthread.h>

#include "dal/db.h"
#include "driver/driver.h"
#include "metrics.h"
#include "url.h"

typedef struct dal_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	dal_conn **idle;       /* most recently returned last */
	size_t nidle;
	int open;              /* connections in existence or being made, idle or lent */
	int keep;              /* kept open when idle */
	int max;               /* hard limit */
	int waiting;           /* borrowers waiting for a connection */
	unsigned generation;   /* bumped when a connection is found dead */
	dal_conn *lent;        /* lent connections, newest first */
	int nlent;
	int64_t next_leak_scan_us;
	/* Counters since open or dal_metrics_reset. */
	uint64_t checkouts, waits, wait_us, timeouts, created, closed, broken, recycled, leaks;
} dal_pool;

struct dal_db {
	const dal_driver *drv;
	dal_url url;
	dal_config cfg;
	void *shared;          /* the driver's per-database state */
	dal_pool pool;
	dal_metrics_state metrics;
	struct dal_uow *uows;  /* units of work open on it, any thread (src/uow.c's lock) */
	struct dal__cache *cache;  /* the read cache (src/cache.h); NULL when off */
	/* The audit chain end this handle last wrote (id 0: none): a hint the audit
	 * writer checks before it relies on it (src/audit/write.c). */
	struct {
		pthread_mutex_t mu;
		int64_t id;
		char hash[65];
	} audit_end;
};

int dal__pool_init(dal_pool *pool, const dal_db *db);
void dal__pool_dispose(dal_pool *pool);
/*
 * Lend a connection; DAL_ETIMEOUT after cfg.pool_timeout_ms (the message names the
 * holders), DAL_ECONN if a new one cannot connect, DAL_EINVAL at once when this
 * thread's each callbacks hold every connection it may open (src/each.h). `file`:`line` is where it was
 * taken, for the timeout message and leak reports (static storage).
 */
int dal__pool_acquire_at(dal_conn **out, dal_db *db, const char *file, int line);
#define dal__pool_acquire(out, db) dal__pool_acquire_at((out), (db), __FILE__, __LINE__)
/* Take it back; a broken connection, or one beyond `keep`, is closed. NULL is a no-op. */
void dal__pool_release(dal_db *db, dal_conn *conn);

/* What the pool reports; also runs the leak check. */
typedef struct dal__pool_snapshot {
	int size, checked_out, checked_in, overflow, max, waiting;
	uint64_t checkouts, waits, wait_us, timeouts, created, closed, broken, recycled, leaks;
} dal__pool_snapshot;
void dal__pool_snapshot_get(dal__pool_snapshot *out, dal_db *db);
void dal__pool_reset_counters(dal_db *db);

#endif
