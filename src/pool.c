#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "db.h"
#include "each.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"

/* Leak reports gathered under the lock, logged after it. */
#define LEAK_BATCH 8

/* Whether the database allows one connection, whatever the config says. */
static bool one_connection(const dal_db *db)
{
	return !(db->drv->caps & DAL_CAP_MULTI_CONN) || (db->url.memory && (db->drv->caps & DAL_CAP_MEMORY_PER_CONN));
}

int dal__pool_init(dal_pool *pool, const dal_db *db)
{
	const dal_config *cfg = &db->cfg;

	memset(pool, 0, sizeof(*pool));
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->keep = cfg->pool_size > 0 ? cfg->pool_size : 1;
	pool->max = pool->keep + (cfg->max_overflow > 0 ? cfg->max_overflow : 0);
	if (one_connection(db))
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

/* "src/session.c" rather than the build machine's absolute path. */
static const char *short_path(const char *file)
{
	const char *p;

	if (!file)
		return "?";
	if ((p = strstr(file, "/src/")) != NULL)
		return p + 1;
	if ((p = strstr(file, "/tests/")) != NULL)
		return p + 1;
	return file;
}

static void sleep_ms(int ms)
{
	dal__sleep_us((int64_t)ms * 1000);
}

/*
 * A new connection, retried with exponential backoff and jitter; a refused
 * password or a missing database is not retried (waiting will not fix it).
 * No attempt starts once connect_timeout_s has passed since the first: a
 * server that let one attempt use its whole timeout (frozen, or a silent
 * network) would let the next do the same, and the waits would add up.
 */
static int connect_new(dal_conn **out, dal_db *db)
{
	int attempt, error = 0, delay = 100;
	unsigned seed = (unsigned)dal_now();
	int64_t t0 = dal_now(), window = (int64_t)db->cfg.connect_timeout_s * 1000000;

	for (attempt = 1; attempt <= db->cfg.connect_retries; attempt++) {
		if ((error = db->drv->connect(out, db->shared, &db->url, &db->cfg)) == 0) {
			(*out)->db = db;
			(*out)->born_us = dal_now();
			return 0;
		}
		if (error != DAL_ECONN || attempt == db->cfg.connect_retries || dal_now() - t0 >= window ||
		    strncmp(dal_error_last()->sqlstate, "28", 2) == 0 || strncmp(dal_error_last()->sqlstate, "3D", 2) == 0)
			break;
		sleep_ms(delay + (int)(rand_r(&seed) % (unsigned)(delay / 2 + 1)));
		if (delay < 2000)
			delay *= 2;
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

static void lent_add(dal_pool *pool, dal_conn *conn, const char *file, int line, int64_t now)
{
	conn->taken_us = now;
	conn->taken_file = file;
	conn->taken_line = line;
	conn->leak_reported = false;
	conn->lent_prev = NULL;
	conn->lent_next = pool->lent;
	if (pool->lent)
		pool->lent->lent_prev = conn;
	pool->lent = conn;
	pool->nlent++;
	pool->checkouts++;
}

static void lent_remove(dal_pool *pool, dal_conn *conn)
{
	if (!conn->taken_us)
		return;
	if (conn->lent_prev)
		conn->lent_prev->lent_next = conn->lent_next;
	else
		pool->lent = conn->lent_next;
	if (conn->lent_next)
		conn->lent_next->lent_prev = conn->lent_prev;
	conn->lent_prev = conn->lent_next = NULL;
	conn->taken_us = 0;
	pool->nlent--;
}

typedef struct leak_report {
	const char *file;
	int line;
	int64_t held_us;
} leak_report;

/* Under the lock: connections held past the threshold, each reported once.
 * Cheap: at most one walk of the lent list per quarter threshold. */
static int leak_scan(dal_pool *pool, const dal_db *db, int64_t now, leak_report *out, bool force)
{
	int64_t threshold = (int64_t)db->cfg.leak_threshold_ms * 1000;
	dal_conn *c;
	int n = 0;

	if (threshold <= 0 || (!force && now < pool->next_leak_scan_us))
		return 0;
	pool->next_leak_scan_us = now + (threshold / 4 < 1000000 ? threshold / 4 : 1000000);
	for (c = pool->lent; c && n < LEAK_BATCH; c = c->lent_next) {
		if (c->leak_reported || now - c->taken_us < threshold)
			continue;
		c->leak_reported = true;
		pool->leaks++;
		out[n].file = c->taken_file;
		out[n].line = c->taken_line;
		out[n].held_us = now - c->taken_us;
		n++;
	}
	return n;
}

static void leak_log(const leak_report *r, int n, int threshold_ms)
{
	int i;

	for (i = 0; i < n; i++)
		dal__log(DAL_LOG_WARN, "connection leak? held for %.3f s (leak_threshold %d ms), taken at %s:%d",
			(double)r[i].held_us / 1e6, threshold_ms, short_path(r[i].file), r[i].line);
}

/* Under the lock: who holds the connections, for the timeout message. */
static void holders(dal_pool *pool, int64_t now, char *buf, size_t n)
{
	dal_conn *c, *oldest = NULL;

	for (c = pool->lent; c; c = c->lent_next)
		if (!oldest || c->taken_us < oldest->taken_us)
			oldest = c;
	if (!oldest) {
		snprintf(buf, n, "%d being connected", pool->open);
		return;
	}
	snprintf(buf, n, "%d lent out, the longest for %.3f s, taken at %s:%d", pool->nlent,
		(double)(now - oldest->taken_us) / 1e6, short_path(oldest->taken_file), oldest->taken_line);
}

/* Should this idle connection be checked before it is lent? Under the lock. */
static bool needs_ping(const dal_pool *pool, const dal_db *db, const dal_conn *conn, int64_t now)
{
	if (conn->generation != pool->generation)
		return true;
	if (db->cfg.pre_ping_idle_ms < 0)
		return false;
	return now - conn->returned_us >= (int64_t)db->cfg.pre_ping_idle_ms * 1000;
}

static bool too_old(const dal_db *db, const dal_conn *conn, int64_t now)
{
	return db->cfg.recycle_s > 0 && now - conn->born_us >= (int64_t)db->cfg.recycle_s * 1000000;
}

/* A connection was found dead: every idle one made before it is suspect. Under the lock. */
static void found_dead(dal_pool *pool, const dal_conn *conn)
{
	pool->broken++;
	if (conn->generation == pool->generation)
		pool->generation++;
}

/*
 * Every connection the pool may open is held by this thread's each callbacks:
 * none can come back while it waits, so it fails now instead of at the timeout.
 * Connections other threads hold may come back: those are waited for as usual.
 */
static int each_deadlock(const dal_db *db, const dal__each_frame *f)
{
	const dal_pool *pool = &db->pool;
	char limit[96];

	if (one_connection(db))
		snprintf(limit, sizeof(limit), "1: %s has one", db->url.memory ? "a :memory: database" : "the engine");
	else
		snprintf(limit, sizeof(limit), "%d: pool_size %d + max_overflow %d", pool->max, pool->keep,
			pool->max - pool->keep);
	return dal__error(DAL_EINVAL, "a call from inside a %s callback needs a connection, and this thread holds "
		"every connection the pool may open (%s) streaming rows, so waiting would never end; make the call "
		"after %s returns (collect the ids in the callback), read the rows with %s first%s",
		f->what, limit, f->what, f->instead, one_connection(db) ? "" : ", or raise pool_size");
}

/* Close a connection taken from the idle list; its slot stays counted in `open` unless given back.
 * The thread's last error (why it was dropped) is kept. */
static void discard(dal_db *db, dal_conn *conn, bool recycle, bool give_back)
{
	dal_pool *pool = &db->pool;
	dal__error_saved saved;

	pthread_mutex_lock(&pool->mu);
	if (recycle)
		pool->recycled++;
	else
		found_dead(pool, conn);
	pool->closed++;
	lent_remove(pool, conn);
	if (give_back) {
		pool->open--;
		pthread_cond_signal(&pool->cv);
	}
	pthread_mutex_unlock(&pool->mu);
	dal__error_save(&saved);
	close_conn(conn);
	dal__error_restore(&saved);
}

int dal__pool_acquire_at(dal_conn **out, dal_db *db, const char *file, int line)
{
	dal_pool *pool = &db->pool;
	struct timespec deadline;
	dal_conn *conn = NULL;
	leak_report leaks[LEAK_BATCH];
	char who[256];
	int64_t now = dal_now(), t_wait;
	int error = 0, rc = 0, nleaks, open, ping_error = 0;
	bool ping, recycle;
	const dal__each_frame *each;

	*out = NULL;
	/* `max` is set once, at dal_open. */
	if (dal__each_held(db, &each) >= pool->max)
		return each_deadlock(db, each);
	pthread_mutex_lock(&pool->mu);
	nleaks = leak_scan(pool, db, now, leaks, false);
	if (pool->nidle == 0 && pool->open >= pool->max) {
		deadline_in(&deadline, db->cfg.pool_timeout_ms);
		pool->waits++;
		pool->waiting++;
		t_wait = now;
		while (pool->nidle == 0 && pool->open >= pool->max && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline);
		pool->waiting--;
		now = dal_now();
		pool->wait_us += (uint64_t)(now - t_wait);
	}
	if (pool->nidle > 0) {
		conn = pool->idle[--pool->nidle];
		recycle = too_old(db, conn, now);
		ping = !recycle && needs_ping(pool, db, conn, now);
		lent_add(pool, conn, file, line, now);
		conn->generation = pool->generation;
		pthread_mutex_unlock(&pool->mu);
		leak_log(leaks, nleaks, db->cfg.leak_threshold_ms);
		nleaks = 0;
		if (!recycle && !ping && !(conn->drv->maybe_dead && conn->drv->maybe_dead(conn))) {
			*out = conn;
			return 0;
		}
		/* Outside the lock: one slow ping must not stall other borrowers. */
		if (!recycle && (ping_error = conn->drv->ping(conn)) == 0) {
			*out = conn;
			return 0;
		}
		/* A server that left a ping unanswered for its whole bound would leave a
		 * connect unanswered too: fail now rather than wait for connect_timeout_s. */
		discard(db, conn, recycle, ping_error == DAL_ETIMEOUT);
		if (ping_error == DAL_ETIMEOUT)
			return ping_error;
		/* Its slot (counted in `open`) is refilled below. */
	} else if (pool->open >= pool->max) {
		open = pool->open;
		pool->timeouts++;
		holders(pool, now, who, sizeof(who));
		pthread_mutex_unlock(&pool->mu);
		leak_log(leaks, nleaks, db->cfg.leak_threshold_ms);
		return dal__error(DAL_ETIMEOUT, "no connection free after %d ms: all %d in use "
			"(pool_size %d + max_overflow %d); %s",
			db->cfg.pool_timeout_ms, open, pool->keep, pool->max - pool->keep, who);
	} else {
		pool->open++;
		pthread_mutex_unlock(&pool->mu);
		leak_log(leaks, nleaks, db->cfg.leak_threshold_ms);
	}
	/* Connect outside the lock: a slow server must not stall other borrowers. */
	if ((error = connect_new(&conn, db)) < 0) {
		pthread_mutex_lock(&pool->mu);
		pool->open--;
		pthread_cond_signal(&pool->cv);
		pthread_mutex_unlock(&pool->mu);
		return error;
	}
	pthread_mutex_lock(&pool->mu);
	pool->created++;
	conn->generation = pool->generation;
	lent_add(pool, conn, file, line, dal_now());
	pthread_mutex_unlock(&pool->mu);
	*out = conn;
	return 0;
}

void dal__pool_release(dal_db *db, dal_conn *conn)
{
	dal_pool *pool;
	leak_report leaks[LEAK_BATCH];
	int64_t now;
	int nleaks;
	bool close_it, old;

	if (!conn || !db)
		return;
	pool = &db->pool;
	if (conn->in_tx && !conn->broken) {
		/* Nothing half-done goes back into the pool. */
		if (conn->drv->rollback(conn) < 0)
			conn->broken = true;
		conn->in_tx = false;
	}
	now = conn->returned_us = dal_now();
	old = too_old(db, conn, now);
	pthread_mutex_lock(&pool->mu);
	lent_remove(pool, conn);
	close_it = conn->broken || old || (int)pool->nidle >= pool->keep;
	if (conn->broken)
		found_dead(pool, conn);
	else if (old)
		pool->recycled++;
	if (close_it) {
		pool->open--;
		pool->closed++;
	} else {
		pool->idle[pool->nidle++] = conn;
	}
	nleaks = leak_scan(pool, db, now, leaks, false);
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
	leak_log(leaks, nleaks, db->cfg.leak_threshold_ms);
	if (close_it)
		close_conn(conn);
}

void dal__pool_snapshot_get(dal__pool_snapshot *out, dal_db *db)
{
	dal_pool *pool = &db->pool;
	leak_report leaks[LEAK_BATCH];
	int nleaks;

	pthread_mutex_lock(&pool->mu);
	nleaks = leak_scan(pool, db, dal_now(), leaks, true);
	out->size = pool->open;
	out->checked_out = pool->nlent;
	out->checked_in = (int)pool->nidle;
	out->overflow = pool->open > pool->keep ? pool->open - pool->keep : 0;
	out->max = pool->max;
	out->waiting = pool->waiting;
	out->checkouts = pool->checkouts;
	out->waits = pool->waits;
	out->wait_us = pool->wait_us;
	out->timeouts = pool->timeouts;
	out->created = pool->created;
	out->closed = pool->closed;
	out->broken = pool->broken;
	out->recycled = pool->recycled;
	out->leaks = pool->leaks;
	pthread_mutex_unlock(&pool->mu);
	leak_log(leaks, nleaks, db->cfg.leak_threshold_ms);
}

void dal__pool_reset_counters(dal_db *db)
{
	dal_pool *pool = &db->pool;

	pthread_mutex_lock(&pool->mu);
	pool->checkouts = pool->waits = pool->wait_us = pool->timeouts = 0;
	pool->created = pool->closed = pool->broken = pool->recycled = pool->leaks = 0;
	pthread_mutex_unlock(&pool->mu);
}
