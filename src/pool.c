#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "conn.h"
#include "db.h"
#include "util/error.h"
#include "util/log.h"

int dal__pool_init(dal_pool *pool, const dal_db *db)
{
	const dal_config *cfg = &db->cfg;

	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->nidle = 0;
	pool->open = 0;
	pool->keep = cfg->pool_size > 0 ? cfg->pool_size : 1;
	pool->max = pool->keep + (cfg->max_overflow > 0 ? cfg->max_overflow : 0);
	/* Each connection to an SQLite :memory: URL would be a database of its own. */
	if (!(db->drv->caps & DAL_CAP_MULTI_CONN) || (db->url.memory && db->drv == &dal__driver_sqlite))
		pool->keep = pool->max = 1;
	if (!(pool->idle = calloc((size_t)pool->max, sizeof(*pool->idle))))
		return dal__error_nomem();
	return 0;
}

static void close_conn(dal_conn *conn)
{
	dal__conn_cache_free(conn);
	conn->drv->disconnect(conn);
}

void dal__pool_dispose(dal_pool *pool)
{
	size_t i;

	for (i = 0; i < pool->nidle; i++)
		close_conn(pool->idle[i]);
	if (pool->open > (int)pool->nidle)
		dal__log(DAL_LOG_WARN, "%d connection(s) still lent out at dal_close", pool->open - (int)pool->nidle);
	free(pool->idle);
	pool->idle = NULL;
	pool->nidle = 0;
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
}

static int connect_new(dal_conn **out, dal_db *db)
{
	int error = db->drv->connect(out, db->shared, &db->url, &db->cfg);

	if (error == 0) {
		(*out)->db = db;
		(*out)->born_us = dal_now();
	}
	return error;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int dal__pool_acquire(dal_conn **out, dal_db *db)
{
	dal_pool *pool = &db->pool;
	struct timespec deadline;
	int error = 0, rc = 0;

	*out = NULL;
	deadline_in(&deadline, db->cfg.pool_timeout_ms);
	pthread_mutex_lock(&pool->mu);
	while (pool->nidle == 0 && pool->open >= pool->max && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
	if (pool->nidle > 0) {
		*out = pool->idle[--pool->nidle];
		pthread_mutex_unlock(&pool->mu);
		return 0;
	}
	if (pool->open >= pool->max) {
		int open = pool->open;
		pthread_mutex_unlock(&pool->mu);
		return dal__error(DAL_ETIMEOUT, "no connection free after %d ms: all %d are in use",
			db->cfg.pool_timeout_ms, open);
	}
	pool->open++;
	pthread_mutex_unlock(&pool->mu);
	/* Connect outside the lock: a slow server must not stall other borrowers. */
	if ((error = connect_new(out, db)) < 0) {
		pthread_mutex_lock(&pool->mu);
		pool->open--;
		pthread_cond_signal(&pool->cv);
		pthread_mutex_unlock(&pool->mu);
	}
	return error;
}

void dal__pool_release(dal_db *db, dal_conn *conn)
{
	dal_pool *pool;
	bool close_it;

	if (!conn || !db)
		return;
	pool = &db->pool;
	if (conn->in_tx && !conn->broken) {
		/* Nothing half-done goes back into the pool. */
		if (conn->drv->rollback(conn) < 0)
			conn->broken = true;
		conn->in_tx = false;
	}
	conn->returned_us = dal_now();
	pthread_mutex_lock(&pool->mu);
	close_it = conn->broken || (int)pool->nidle >= pool->keep;
	if (close_it)
		pool->open--;
	else
		pool->idle[pool->nidle++] = conn;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
	if (close_it)
		close_conn(conn);
}
