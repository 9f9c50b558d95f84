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
	int open;              /* connections in existence, idle or lent */
	int keep;              /* kept open when idle */
	int max;               /* hard limit */
} dal_pool;

struct dal_db {
	const dal_driver *drv;
	dal_url url;
	dal_config cfg;
	void *shared;          /* the driver's per-database state */
	dal_pool pool;
	dal_metrics_state metrics;
	struct dal_uow *uows;  /* units of work open on it, any thread (src/uow.c's lock) */
};

int dal__pool_init(dal_pool *pool, const dal_db *db);
void dal__pool_dispose(dal_pool *pool);
/* Lend a connection; DAL_ETIMEOUT after cfg.pool_timeout_ms, DAL_ECONN if a new one cannot connect. */
int dal__pool_acquire(dal_conn **out, dal_db *db);
/* Take it back; a broken connection, or one beyond `keep`, is closed. NULL is a no-op. */
void dal__pool_release(dal_db *db, dal_conn *conn);

#endif
