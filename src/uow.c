/* Units of work: one pooled connection and one transaction, nested units as savepoints. */
#include "uow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "dal/uow.h"
#include "each.h"
#include "repo/repo.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"

struct dal_uow {
	dal_db *db;              /* never dereferenced once dead */
	dal_conn *conn;          /* shared by the units of one stack; owned by the outermost */
	dal__tx *tx;             /* the stack's transaction: the outermost unit's `own_tx` */
	dal__tx own_tx;          /* outermost only */
	dal__scope scope;        /* nested only: its savepoint or undo log */
	dal_uow *outer;          /* the unit this one is nested in; NULL for the outermost */
	unsigned depth;          /* 0 for the outermost */
	uint64_t serial;         /* names the unit for repositories opened in it (dal_uow_repo) */
	int isolation;
	pthread_t thread;
	atomic_bool dead;        /* rolled back under it (out-of-order end, dal_close) */
	bool registered;         /* in its db's list (under registry_mu) */
	dal__audit_ctx actx;     /* copied from dal_uow_opts.audit_ctx */
	bool has_actx;
	bool warned_unaudited;   /* its context was said not to reach an unaudited repository */
	const char *file;        /* the program's place that began it (static storage) */
	int line;
	dal_uow *thread_next;    /* this thread's open units, innermost first */
	dal_uow *db_prev, *db_next;
};

/* The open units of this thread, on any dal_db, innermost first. Only this thread touches it. */
static _Thread_local dal_uow *thread_units;

static atomic_uint_fast64_t next_serial = 1;

/* Guards every db's list of open units (struct dal_db.uows), which dal_close reads from any thread. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;

static bool is_dead(dal_uow *u)
{
	return atomic_load(&u->dead);
}

static dal_uow *innermost(dal_db *db)
{
	dal_uow *u;

	for (u = thread_units; u; u = u->thread_next)
		if (!is_dead(u) && u->db == db)
			return u;
	return NULL;
}

const dal__audit_ctx *dal__uow_audit_ctx(dal_db *db)
{
	dal_uow *u = thread_units ? innermost(db) : NULL;

	while (u && !u->has_actx)
		u = u->outer;
	return u ? &u->actx : NULL;
}

void dal__uow_warn_unaudited(dal_db *db, const char *table)
{
	dal_uow *u = thread_units ? innermost(db) : NULL;

	while (u && !u->has_actx)
		u = u->outer;
	if (!u || u->warned_unaudited)
		return;
	u->warned_unaudited = true;
	dal__log(DAL_LOG_WARN, "the audit context of the unit of work begun at %s:%d is not recorded for writes "
		"to '%s': that repository was opened without DAL_AUDIT (said once per unit)", u->file ? u->file : "?",
		u->line, table);
}

dal__tx *dal__uow_tx(dal_db *db)
{
	dal_uow *u = thread_units ? innermost(db) : NULL;

	return u ? u->tx : NULL;
}

bool dal__uow_open(dal_db *db, uint64_t serial)
{
	dal_uow *u;

	for (u = thread_units; u; u = u->thread_next)
		if (!is_dead(u) && u->db == db && u->serial == serial)
			return true;
	return false;
}

static void thread_unlink(dal_uow *u)
{
	dal_uow **p;

	for (p = &thread_units; *p; p = &(*p)->thread_next)
		if (*p == u) {
			*p = u->thread_next;
			u->thread_next = NULL;
			return;
		}
}

/* Call with registry_mu held. */
static void db_unlink(dal_uow *u)
{
	if (!u->registered)
		return;
	if (u->db_prev)
		u->db_prev->db_next = u->db_next;
	else
		u->db->uows = u->db_next;
	if (u->db_next)
		u->db_next->db_prev = u->db_prev;
	u->db_prev = u->db_next = NULL;
	u->registered = false;
}

static void db_link(dal_uow *u)
{
	pthread_mutex_lock(&registry_mu);
	u->db_prev = NULL;
	u->db_next = u->db->uows;
	if (u->db_next)
		u->db_next->db_prev = u;
	u->db->uows = u;
	u->registered = true;
	pthread_mutex_unlock(&registry_mu);
}

/* Forget a unit that has ended: off both lists, then free. */
static void uow_free(dal_uow *u)
{
	thread_unlink(u);
	if (u->registered) {
		pthread_mutex_lock(&registry_mu);
		db_unlink(u);
		pthread_mutex_unlock(&registry_mu);
	}
	dal__audit_ctx_free(&u->actx);
	free(u);
}

/* The outermost transaction is over (committed with `committed`): the connection goes back. */
static void give_back(dal_db *db, dal__tx *tx, bool committed)
{
	dal_conn *conn = tx->conn;

	dal__tx_end(tx, committed);
	conn->in_tx = false;
	dal__pool_release(db, conn);
}

/* Roll back and give back a connection, keeping the thread's last error as it was. */
static void abandon(dal_db *db, dal__tx *tx)
{
	if (!tx->conn->broken)
		dal__tx_rollback_quietly(tx->conn);
	give_back(db, tx, false);
}

/* Roll back the whole stack of `db` on this thread; every unit of it turns dead. */
static void kill_stack(dal_db *db)
{
	dal_uow *u, *next, *root = NULL;

	for (u = thread_units; u; u = next) {
		next = u->thread_next;
		if (is_dead(u) || u->db != db)
			continue;
		if (!u->outer)
			root = u;
		atomic_store(&u->dead, true);
		thread_unlink(u);
		pthread_mutex_lock(&registry_mu);
		db_unlink(u);
		pthread_mutex_unlock(&registry_mu);
	}
	if (root)
		abandon(db, root->tx);
}

static int check_opts(const dal_uow_opts *opts, const dal_db *db)
{
	if (opts->version == 0 || opts->version > DAL_UOW_OPTS_VERSION)
		return dal__error(DAL_EINVAL, "invalid version %u on dal_uow_opts (this dal knows 1-%d)",
			opts->version, DAL_UOW_OPTS_VERSION);
	if (opts->isolation < DAL_ISOLATION_DEFAULT || opts->isolation > DAL_ISOLATION_SERIALIZABLE)
		return dal__error(DAL_EINVAL, "dal_uow_opts: isolation %d is not a dal_isolation", opts->isolation);
	/* One writer at a time (SQLite; DuckDB under dal's writer lock) is serializable by
	 * nature; several writers under snapshot isolation would allow write skew. */
	if (opts->isolation == DAL_ISOLATION_SERIALIZABLE && !(db->drv->caps & DAL_CAP_SERIALIZABLE) &&
	    (db->drv->caps & DAL_CAP_MULTI_WRITER))
		return dal__error(DAL_EUNSUPPORTED, "%s: SERIALIZABLE isolation is not available (the engine has "
			"snapshot isolation only); use DAL_ISOLATION_REPEATABLE_READ", db->drv->name);
	return 0;
}

static unsigned begin_flags(const dal_uow_opts *opts)
{
	unsigned flags = opts->read_only ? DAL__TX_READ_ONLY : DAL__TX_WRITE;

	if (opts->isolation == DAL_ISOLATION_SERIALIZABLE)
		flags |= DAL__TX_SERIALIZABLE;
	else if (opts->isolation == DAL_ISOLATION_REPEATABLE_READ)
		flags |= DAL__TX_REPEATABLE_READ;
	return flags;
}

static int begin_nested(dal_uow *u, dal_uow *outer, const dal_uow_opts *opts)
{
	int error;

	if (opts->isolation > outer->isolation)
		return dal__error(DAL_EINVAL, "a nested unit of work runs in its outer unit's transaction: its "
			"isolation (%d) cannot be stronger than the outer's (%d)", opts->isolation, outer->isolation);
	/* The outer transaction may have ended under it (SQLite rolls back on some errors):
	 * a SAVEPOINT would then open a new one and the unit go on without its work. */
	if ((error = dal__tx_check_joinable(outer->tx, outer->db->cfg.leak_threshold_ms)) < 0)
		return error;
	u->outer = outer;
	u->depth = outer->depth + 1;
	u->conn = outer->conn;
	u->tx = outer->tx;
	u->isolation = outer->isolation;
	return dal__scope_begin(&u->scope, u->tx, DAL__SCOPE_NESTED);
}

static int begin_outer(dal_uow *u, dal_db *db, const dal_uow_opts *opts, const char *file, int line)
{
	int error;

	if ((error = dal__pool_acquire_at(&u->conn, db, file, line)) < 0)
		return error;
	if ((error = db->drv->begin(u->conn, begin_flags(opts))) < 0) {
		dal__pool_release(db, u->conn);
		u->conn = NULL;
		return error;
	}
	u->conn->in_tx = true;
	u->isolation = opts->isolation;
	u->tx = &u->own_tx;
	dal__tx_init(u->tx, u->conn);
	u->tx->file = file;
	u->tx->line = line;
	u->tx->begun_us = dal_now();
	return 0;
}

int (dal_uow_begin)(dal_uow **out, dal_db *db, const dal_uow_opts *opts)
{
	return dal_uow_begin_at(out, db, opts, __FILE__, __LINE__);
}

int dal_uow_begin_at(dal_uow **out, dal_db *db, const dal_uow_opts *opts, const char *file, int line)
{
	static const dal_uow_opts defaults = DAL_UOW_OPTS_INIT;
	dal_uow *u = NULL, *outer;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if (!opts)
		opts = &defaults;
	if ((error = check_opts(opts, db)) < 0)
		return error;
	if ((outer = innermost(db)) != NULL && (error = dal__each_check(outer->conn)) < 0)
		return error;
	if (!(u = calloc(1, sizeof(*u))))
		return dal__error_nomem();
	if (opts->audit_ctx && (error = dal__audit_ctx_copy(&u->actx, opts->audit_ctx)) < 0) {
		free(u);
		return error;
	}
	u->has_actx = opts->audit_ctx != NULL;
	u->file = file;
	u->line = line;
	u->db = db;
	u->thread = pthread_self();
	u->serial = atomic_fetch_add(&next_serial, 1);
	atomic_init(&u->dead, false);
	if ((error = outer ? begin_nested(u, outer, opts) : begin_outer(u, db, opts, file, line)) < 0) {
		dal__audit_ctx_free(&u->actx);
		free(u);
		return error;
	}
	u->thread_next = thread_units;
	thread_units = u;
	db_link(u);
	*out = u;
	return 0;
}

/* DAL_EINVAL unless `u` may be ended now; an out-of-order end kills its stack. */
static int check_end(dal_uow *u, const char *what)
{
	dal_uow *top;

	if (!pthread_equal(u->thread, pthread_self()))
		return dal__error(DAL_EINVAL, "%s: the unit of work was begun on another thread; "
			"it must be ended there", what);
	top = innermost(u->db);
	if (top == u)
		return 0;
	dal__log(DAL_LOG_WARN, "%s of a unit of work (depth %u) while a unit nested in it is still open: "
		"the whole stack is rolled back", what, u->depth);
	kill_stack(u->db);
	return dal__error(DAL_EINVAL, "%s: the unit of work is not the innermost open one on this database "
		"(end nested units first); every unit of its stack was rolled back and nothing was committed", what);
}

static int end_nested(dal_uow *u, bool commit)
{
	/* A failure that leaves part of it in the transaction dooms the outermost unit. */
	return dal__scope_end(&u->scope, commit);
}

static int end_outer(dal_uow *u, bool commit)
{
	dal__tx *tx = u->tx;
	dal_conn *conn = tx->conn;
	int error = 0;

	if (commit && tx->doomed) {
		abandon(u->db, tx);
		return dal__error(DAL_ERROR, "nothing was committed: a repository call or nested unit of work in it "
			"failed in a way that could not be undone exactly, so the transaction was rolled back");
	}
	if (!commit) {
		if (!conn->broken && (error = conn->drv->rollback(conn)) < 0)
			conn->broken = true;
		give_back(u->db, tx, false);
		return error < 0 ? error : 0;
	}
	/* The unit's audit rows join the chain now, so the head is held only for this and the commit. */
	if ((error = dal__audit_flush(tx)) < 0) {
		abandon(u->db, tx);
		return error;
	}
	/* The transaction may still be open after a failed COMMIT (SQLite BUSY): nothing half stays. */
	if ((error = conn->drv->commit(conn)) < 0 && !conn->broken)
		dal__tx_rollback_quietly(conn);
	/* Even a failed COMMIT may have landed (DAL_ECOMMIT_UNKNOWN): its cached rows are dropped. */
	give_back(u->db, tx, true);
	return error < 0 ? error : 0;
}

static int uow_end(dal_uow *u, bool commit)
{
	const char *what = commit ? "dal_uow_commit" : "dal_uow_rollback";
	int error;

	if (!u)
		return dal__error(DAL_EINVAL, "invalid argument: 'uow' in %s", what);
	if (is_dead(u)) {
		bool same_thread = pthread_equal(u->thread, pthread_self());
		if (!same_thread)
			return dal__error(DAL_EINVAL, "%s: the unit of work was begun on another thread", what);
		uow_free(u);
		if (!commit)
			return 0;
		return dal__error(DAL_EINVAL, "dal_uow_commit: the unit of work had already been rolled back "
			"(its stack was ended out of order, or its database closed); nothing was committed");
	}
	/* Its connection streams rows to a callback of this thread: end nothing, free nothing. */
	if (pthread_equal(u->thread, pthread_self()) && (error = dal__each_check(u->conn)) < 0)
		return error;
	if ((error = check_end(u, what)) < 0) {
		if (pthread_equal(u->thread, pthread_self()))
			uow_free(u);
		return error;
	}
	error = u->outer ? end_nested(u, commit) : end_outer(u, commit);
	uow_free(u);
	return error;
}

int dal_uow_commit(dal_uow *uow)
{
	return uow_end(uow, true);
}

int dal_uow_rollback(dal_uow *uow)
{
	return uow_end(uow, false);
}

int dal_uow_repo(dal_repo **out, dal_uow *uow, const dal_model *model, unsigned flags)
{
	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(uow);
	if (is_dead(uow))
		return dal__error(DAL_EINVAL, "dal_uow_repo: the unit of work was already rolled back");
	if (!pthread_equal(uow->thread, pthread_self()))
		return dal__error(DAL_EINVAL, "dal_uow_repo: the unit of work was begun on another thread");
	return dal__repo_open_in(out, uow->db, model, flags, uow->serial);
}

void dal__uow_close_all(dal_db *db)
{
	dal_uow *u, *next;
	int n = 0;

	pthread_mutex_lock(&registry_mu);
	for (u = db->uows; u; u = next) {
		next = u->db_next;
		n++;
		/* Each stack's outermost unit holds the connection. */
		if (!u->outer) {
			dal__log(DAL_LOG_ERROR, "dal_close: a unit of work begun at %s:%d was never ended; everything "
				"written in it was rolled back", u->tx->file ? u->tx->file : "?", u->tx->line);
			if (!u->conn->broken && u->conn->drv->rollback(u->conn) < 0)
				u->conn->broken = true;
			give_back(db, u->tx, false);
		}
		u->conn = NULL;
		u->db_prev = u->db_next = NULL;
		u->registered = false;
		/* Last: whoever sees it dead must also see it unlinked. */
		atomic_store_explicit(&u->dead, true, memory_order_release);
	}
	db->uows = NULL;
	pthread_mutex_unlock(&registry_mu);
	/* This thread's own units leave its list now; another thread's leave when it ends them. */
	if (n > 0)
		dal__error(DAL_EINVAL, "dal_close: %d unit(s) of work on %s were never ended; they were rolled back "
			"and nothing written in them was committed", n, db->url.redacted);
	for (u = thread_units; u; u = next) {
		next = u->thread_next;
		if (is_dead(u))
			thread_unlink(u);
	}
}

/* ---- dal_run_tx ---- */

static bool retryable(int error)
{
	return error == DAL_ESERIALIZE || error == DAL_EBUSY || error == DAL_ECONN;
}

static uint64_t jitter_next(void)
{
	static _Thread_local uint64_t state;

	if (state == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		state = ((uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)&state << 16) ^ (uint64_t)ts.tv_sec) | 1;
	}
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

/* Sleep between delay/2 and delay, so that colliding transactions drift apart. */
static void backoff(int attempt)
{
	long delay_us = 5000L << (attempt < 8 ? attempt - 1 : 7);
	long us = delay_us / 2 + (long)(jitter_next() % (uint64_t)(delay_us / 2 + 1));

	dal__sleep_us(us);
}

int (dal_run_tx)(dal_db *db, const dal_uow_opts *opts, dal_tx_fn fn, void *payload)
{
	return dal_run_tx_at(db, opts, fn, payload, __FILE__, __LINE__);
}

int dal_run_tx_at(dal_db *db, const dal_uow_opts *opts, dal_tx_fn fn, void *payload, const char *file, int line)
{
	dal_uow *uow = NULL;
	int attempts, attempt, error = 0;

	DAL_ASSERT_ARG(db);
	DAL_ASSERT_ARG(fn);
	/* Nested, a retry could not help: the outer transaction is what failed. */
	attempts = innermost(db) ? 1 : db->cfg.tx_max_attempts < 1 ? 1 : db->cfg.tx_max_attempts;
	for (attempt = 1; attempt <= attempts; attempt++) {
		if (attempt > 1) {
			dal__metrics_retry(&db->metrics);
			backoff(attempt - 1);
		}
		if ((error = dal_uow_begin_at(&uow, db, opts, file, line)) < 0) {
			if (retryable(error))
				continue;
			return error;
		}
		if ((error = fn(uow, payload)) != 0) {
			dal__error_saved saved;

			dal__error_save(&saved);
			dal_uow_rollback(uow);
			dal__error_restore(&saved);
			if (retryable(error))
				continue;
			return error;
		}
		/* DAL_ECONN from commit means COMMIT was never sent; in flight it is DAL_ECOMMIT_UNKNOWN. */
		if ((error = dal_uow_commit(uow)) == 0 || !retryable(error))
			return error;
	}
	return error;
}
