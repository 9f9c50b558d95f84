/*
 * dal_migrate, dal_migrate_status, dal_migrate_down.
 *
 * The applied versions are read without any lock: when nothing is pending,
 * replicas starting at once do not queue. Otherwise each migration runs in a
 * transaction that first takes the engine's write lock (and on PostgreSQL the
 * run holds an advisory lock too), reads again whether its version is
 * recorded, and records it before committing, so two processes never apply
 * one twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "db.h"
#include "migrate/applied.h"
#include "migrate/report.h"
#include "migrate/script.h"
#include "migrate/source.h"
#include "uow.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/fault.h"

/* What one call works with. */
typedef struct run {
	dal_db *db;
	dal_conn *conn;
	const dal_migrate_opts *o;
	dal__mig_set src;
	dal__applied applied;
	char applied_by[256];
	bool locked;
	bool stale;      /* test point migrate.stale_read: read as if before another process applied */
} run;

static void default_applied_by(char *out, size_t size)
{
	const char *user = getenv("USER");
	char host[128] = "";

	if (!user || !*user)
		user = getenv("LOGNAME");
	if (gethostname(host, sizeof host - 1) != 0)
		host[0] = '\0';
	snprintf(out, size, "%s@%s", user && *user ? user : "unknown", host[0] ? host : "localhost");
}

/*
 * What is recorded. Under the test point migrate.stale_read, nothing: the view of a
 * process that read before another applied everything, which only the re-check in
 * each migration's transaction keeps from applying it twice.
 */
static int read_applied(run *r)
{
	int error = dal__applied_read(&r->applied, r->conn);

	if (error == 0 && r->stale)
		dal__applied_forget_all(&r->applied);
	return error;
}

static int run_open(run *r, dal_db *db, const dal_migrate_opts *o)
{
	int error;

	memset(r, 0, sizeof *r);
	r->db = db;
	r->o = o;
	if (!db || !o)
		return dal__error(DAL_EINVAL, "invalid argument: %s is NULL", db ? "opts" : "db");
	if ((error = dal__check_version(o->version, DAL_MIGRATE_OPTS_VERSION, "dal_migrate_opts")) < 0)
		return error;
	if (dal__uow_tx(db))
		return dal__error(DAL_EINVAL, "migrations cannot run inside a unit of work: they commit each "
			"migration on a connection of their own; run them before the unit begins");
	if (o->lock_timeout_ms < 0 || o->lock_retries < 0 || o->statement_timeout_ms < 0)
		return dal__error(DAL_EINVAL, "dal_migrate_opts: lock_timeout_ms, lock_retries and statement_timeout_ms "
			"must be 0 or more");
	if (o->applied_by)
		snprintf(r->applied_by, sizeof r->applied_by, "%s", o->applied_by);
	else
		default_applied_by(r->applied_by, sizeof r->applied_by);
	if ((error = dal__mig_load(&r->src, o, db->drv->name)) < 0)
		return error;
	if ((error = dal__pool_acquire(&r->conn, db)) < 0)
		return error;
	r->stale = dal__fault("migrate.stale_read");
	return read_applied(r);
}

static void run_close(run *r)
{
	if (r->conn) {
		if (r->locked)
			dal__applied_unlock(r->conn);
		dal__pool_release(r->db, r->conn);
	}
	dal__applied_dispose(&r->applied);
	dal__mig_set_dispose(&r->src);
}

/* The error of a statement, with the file and line it starts on. */
static int at_line(int error, const dal__mig *m, const char *file, int line, const char *what)
{
	dal__error_saved saved;

	dal__error_save(&saved);
	return dal__error_engine(error, saved.sqlstate, saved.engine_code, "migration %s (version %lld), line %d: %s%s",
		file[0] ? file : m->name, m->version, line, saved.message, what);
}

/*
 * The waits of unknown length (a migration's statements, and on PostgreSQL the wait
 * for another process's migrations) run under the migration's own bound; everything
 * else, the reads and the bookkeeping, under the configured one.
 */
static int long_wait_begin(run *r)
{
	dal_conn *c = r->conn;

	return c->drv->set_statement_timeout ? c->drv->set_statement_timeout(c, r->o->statement_timeout_ms) : 0;
}

static int long_wait_end(run *r, int error)
{
	dal_conn *c = r->conn;

	/* The pool lends it again with the configured bound, or not at all. */
	if (c->drv->set_statement_timeout && !c->broken && c->drv->set_statement_timeout(c, -1) < 0)
		c->broken = true;
	return error;
}

static int run_script(run *r, const dal__mig *m, bool no_tx, const char *text, const char *file)
{
	dal__script sc;
	const char *stmt;
	size_t len;
	int line, error = 0;
	char *one;

	dal__script_init(&sc, text);
	while (error == 0 && dal__script_next(&sc, &stmt, &len, &line)) {
		if (!(one = strndup(stmt, len)))
			return dal__error_nomem();
		if ((error = dal__conn_exec(r->conn, one)) < 0)
			error = at_line(error, m, file, line, no_tx ? " (it ran outside a transaction: the statements "
				"before it stay; dal_migrate runs the whole file again, so write it to be run again, "
				"IF NOT EXISTS)" : "; rolled back, nothing after it ran");
		free(one);
	}
	return error;
}

static int begin(run *r, bool no_tx)
{
	int error;

	if (no_tx)
		return 0;
	if ((error = r->conn->drv->begin(r->conn, DAL__TX_WRITE)) < 0)
		return error;
	r->conn->in_tx = true;
	return 0;
}

static int end(run *r, int error)
{
	dal__error_saved saved;

	if (!r->conn->in_tx)
		return error;
	r->conn->in_tx = false;
	/* A failed COMMIT can leave the transaction open (SQLite out of memory): rolled back too. */
	if (error == 0 && (error = r->conn->drv->commit(r->conn)) == 0)
		return 0;
	dal__error_save(&saved);
	if (r->conn->drv->rollback(r->conn) < 0)
		r->conn->broken = true;
	dal__error_restore(&saved);
	return error;
}

/*
 * One migration, up or down, in its own transaction: nothing if another process
 * applied (or undid) it meanwhile.
 */
static int step_one(run *r, const dal__mig *m, bool down, bool *done)
{
	bool no_tx = down ? m->down_no_tx : m->no_tx, there = false;
	int64_t t0 = dal_now();
	int error;

	*done = false;
	if ((error = begin(r, no_tx)) < 0)
		return error;
	error = dal__applied_lock_timeout(r->conn, r->o->lock_timeout_ms, !no_tx);
	if (error == 0)
		error = dal__applied_has(&there, r->conn, m->version);
	if (error == 0 && there == down && (error = long_wait_begin(r)) == 0)
		error = run_script(r, m, no_tx, down ? (m->down ? m->down : "") : m->up, down ? m->down_file : m->file);
	if (error == 0 && there == down)
		error = down ? dal__applied_forget(r->conn, m->version)
		             : dal__applied_record(r->conn, m, t0, (dal_now() - t0) / 1000, r->applied_by);
	/* The bound set in the transaction went with it; the configured one is set again. */
	error = long_wait_end(r, end(r, error));
	dal__applied_lock_timeout_reset(r->conn, no_tx);
	*done = error == 0 && there == down;
	return error;
}

static int retries_spent(run *r, const dal__mig *m, int error, int attempts)
{
	dal__error_saved saved;
	char bound[64] = "", name[256] = "";

	if (r->conn->drv->dialect->lock_timeout_sql)
		snprintf(bound, sizeof bound, " (lock_timeout_ms %d each)", r->o->lock_timeout_ms);
	dal__error_save(&saved);
	/* A lock wait at BEGIN or at the record is not a statement of the file: name it here. */
	if (strncmp(saved.message, "migration ", 10) != 0)
		snprintf(name, sizeof name, "migration %s (version %lld): ", m->file[0] ? m->file : m->name, m->version);
	return dal__error_engine(error, saved.sqlstate, saved.engine_code, "%s%s; gave up after %d attempts%s: "
		"another transaction holds a lock it needs; retry when it ends", name, saved.message, attempts, bound);
}

/*
 * A lock wait that timed out is tried again, a bounded number of times. While a
 * migration waits for its lock every reader of the table queues behind it: a short
 * wait, given up and tried again, keeps their delay near lock_timeout_ms.
 */
static int step_retrying(run *r, const dal__mig *m, bool down, bool *done)
{
	int attempt, error = 0;

	for (attempt = 0; attempt <= r->o->lock_retries; attempt++) {
		if (attempt > 0)
			dal__sleep_us(100000L * (attempt < 10 ? attempt : 10));
		if ((error = step_one(r, m, down, done)) != DAL_EBUSY)
			return error;
	}
	return retries_spent(r, m, error, attempt);
}

/* Another process's migrations may take long: the wait for them is a long wait. */
static int lock(run *r)
{
	int error = long_wait_begin(r);

	if (error == 0)
		error = dal__applied_lock(r->conn, &r->locked);
	return long_wait_end(r, error);
}

static int apply_pending(run *r, dal_migrate_report *rep)
{
	size_t i;
	int error = 0;

	/* Locked first: on PostgreSQL two CREATE TABLE IF NOT EXISTS at once can both try. */
	if ((error = lock(r)) < 0 || (error = dal__applied_prepare(r->conn)) < 0 ||
	    (error = read_applied(r)) < 0)
		return error;
	for (i = 0; i < r->src.n && error == 0; i++) {
		bool done = false;

		if (dal__applied_find(&r->applied, r->src.v[i].version))
			continue;
		error = step_retrying(r, &r->src.v[i], false, &done);
		if (done)
			dal__report_mark(rep, r->src.v[i].version);
	}
	return error;
}

static int changed_error(const dal_migrate_report *rep)
{
	size_t i;

	for (i = 0; i < rep->count; i++)
		if (rep->items[i].state == DAL_MIGRATION_CHANGED)
			return dal__error(DAL_ESCHEMA, "migration %s (version %lld) changed after it was applied (checksum "
				"%.12s, recorded %.12s): restore its text, and put the change in a new migration",
				rep->items[i].file[0] ? rep->items[i].file : rep->items[i].name, rep->items[i].version,
				rep->items[i].checksum, dal__report_recorded_checksum(rep, i));
	return 0;
}

static int finish(dal_migrate_report **out, run *r, dal_migrate_report *rep, int error)
{
	dal__error_saved saved;
	int e2 = 0;
	bool fresh = false;

	/* The report says where things stand after the call, failed or not; reading it
	 * (no table yet clears the error) must not wipe why the call failed. */
	dal__error_save(&saved);
	if (rep && r->conn && !r->conn->broken && (e2 = dal__applied_read(&r->applied, r->conn)) == 0)
		fresh = (e2 = dal__report_refresh(rep, &r->src, &r->applied)) == 0;
	/* One that could not be brought up to date (its connection lost) would say what no
	 * longer holds; with DAL_OK, why it could not is the call's error. */
	if (!fresh && (error < 0 || e2 < 0)) {
		dal_migrate_report_free(rep);
		rep = NULL;
		if (error == 0) {
			error = e2;
			dal__error_save(&saved);
		}
	}
	run_close(r);
	if (error < 0)
		dal__error_restore(&saved);
	if (out)
		*out = rep;
	else
		dal_migrate_report_free(rep);
	return error;
}

static int migrate(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *o, bool apply)
{
	run r;
	dal_migrate_report *rep = NULL;
	int error;

	if (out)
		*out = NULL;
	if ((error = run_open(&r, db, o)) == 0)
		error = dal__report_build(&rep, &r.src, &r.applied);
	if (error == 0 && apply)
		error = changed_error(rep);
	if (error == 0 && apply && o->auto_run && rep->pending > 0)
		error = apply_pending(&r, rep);
	return finish(out, &r, rep, error);
}

int dal_migrate(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *opts)
{
	return migrate(out, db, opts, true);
}

int dal_migrate_status(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *opts)
{
	return migrate(out, db, opts, false);
}

/* Every migration to undo must have a down part in the source: checked before any is undone. */
static int check_down(run *r, long long target)
{
	size_t i;

	for (i = r->applied.n; i-- > 0;) {
		const dal__applied_row *a = &r->applied.v[i];
		const dal__mig *m = a->version <= (long long)r->src.n ? &r->src.v[a->version - 1] : NULL;

		if (a->version <= target)
			continue;
		if (!m)
			return dal__error(DAL_EINVAL, "cannot go down past version %lld ('%s'): it is not in the "
				"migrations given", a->version, a->name);
		if (!m->down && !m->elsewhere)
			return dal__error(DAL_EINVAL, "cannot go down past migration %s (version %lld): it has no down "
				"part (%s)", m->file[0] ? m->file : m->name, m->version,
				m->file[0] ? "a .down.sql file" : "dal_migration.down");
	}
	return 0;
}

int dal_migrate_down(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *opts, long long target)
{
	run r;
	dal_migrate_report *rep = NULL;
	size_t i;
	int error;

	if (out)
		*out = NULL;
	if (target < 0)
		return dal__error(DAL_EINVAL, "dal_migrate_down: target version %lld is below 0", target);
	if ((error = run_open(&r, db, opts)) == 0)
		error = dal__report_build(&rep, &r.src, &r.applied);
	if (error == 0 && (error = lock(&r)) == 0 &&
	    (error = dal__applied_read(&r.applied, r.conn)) == 0)
		error = check_down(&r, target);
	for (i = r.applied.n; error == 0 && i-- > 0;) {
		long long v = r.applied.v[i].version;
		bool done = false;

		if (v <= target)
			continue;
		if ((error = step_retrying(&r, &r.src.v[v - 1], true, &done)) == 0 && done)
			dal__report_mark(rep, v);
	}
	return finish(out, &r, rep, error);
}
