/* SQLite: the embedded default. */
#include <ctype.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "driver/driver.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/str.h"

/* What the connections of one dal_db share (db_open). */
typedef struct sqlite_shared {
	_Atomic int64_t last_wait_us;  /* when one of them last polled for a lock */
	_Atomic int jobs;              /* write jobs running (write_job) */
} sqlite_shared;

typedef struct sqlite_conn {
	dal_conn base;
	sqlite3 *db;
	sqlite_shared *sh;
	/* Prepared at connect: stepping it needs no memory, so a transaction still ends when
	 * none is left (a connection dropped instead would take a :memory: database with it). */
	sqlite3_stmt *rollback;
	int busy_timeout_ms;
	int64_t busy_since_us;  /* when the current wait for a lock began */
} sqlite_conn;

typedef struct sqlite_stmt {
	dal_stmt base;
	sqlite3_stmt *st;
	int64_t changes;
	char ts[DAL_TIMESTAMP_BUFSIZE * 4];  /* scratch for bound timestamps: up to 4 per bind */
	char *tsbuf;                         /* more than 4: allocated */
} sqlite_stmt;

static sqlite3 *handle(dal_conn *c) { return ((sqlite_conn *)c)->db; }

/* One mapping from SQLite's primary codes to dal's. */
static int code_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT: return DAL_ECONSTRAINT;
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return DAL_EBUSY;
	case SQLITE_NOMEM: return DAL_ENOMEM;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM: return DAL_EIO;
	case SQLITE_ERROR: return DAL_ESQL;
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
	case SQLITE_MISUSE: return DAL_EINVAL;
	default: return DAL_ERROR;
	}
}

/* A failure with its extended code and SQLite's message, as read when it happened. */
static int fail_as(int rc, int extended, const char *what, const char *msg)
{
	int code = code_of(rc);

	if (code == DAL_ENOMEM)
		return dal__error_nomem();
	return dal__error_engine(code, NULL, extended, "sqlite: %s: %s", what, msg);
}

static int sqlite_fail(sqlite3 *db, int rc, const char *what)
{
	return fail_as(rc, db ? sqlite3_extended_errcode(db) : rc, what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* `p` past the keyword `kw` (any case, a whole word) and the blanks after it; NULL if `p` does not start with it. */
static const char *keyword(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	if (strncasecmp(p, kw, n) != 0 || isalnum((unsigned char)p[n]) || p[n] == '_')
		return NULL;
	p += n;
	return p + strspn(p, " \t\r\n");
}

/* One identifier: "quoted" (with "" inside), `quoted`, [quoted] or bare; returns what follows it, or NULL. */
static const char *identifier(char *out, size_t size, const char *p)
{
	size_t n = 0;
	char close = *p == '"' ? '"' : *p == '`' ? '`' : *p == '[' ? ']' : 0;

	if (close) {
		for (p++; *p && n + 1 < size; p++) {
			if (*p == close && p[1] == close && close != ']')
				p++;
			else if (*p == close)
				break;
			out[n++] = *p;
		}
		if (*p != close)
			return NULL;
		p++;
	} else {
		while ((isalnum((unsigned char)*p) || *p == '_') && n + 1 < size)
			out[n++] = *p++;
	}
	out[n] = '\0';
	return n ? p : NULL;
}

/* The table an INSERT or REPLACE statement writes to (the last part of schema.table). */
static bool insert_target(char *out, size_t size, const char *sql)
{
	const char *p = sql + strspn(sql, " \t\r\n"), *q;

	if (!(q = keyword(p, "INSERT")) && !(q = keyword(p, "REPLACE")))
		return false;
	if ((p = keyword(q, "OR")) != NULL) {   /* OR ABORT, OR REPLACE, ... */
		p += strcspn(p, " \t\r\n");
		q = p + strspn(p, " \t\r\n");
	}
	if (!(q = keyword(q, "INTO")) || !(q = identifier(out, size, q)))
		return false;
	q += strspn(q, " \t\r\n");
	return *q != '.' || identifier(out, size, q + 1 + strspn(q + 1, " \t\r\n")) != NULL;
}

/*
 * SQLite reports an AUTOINCREMENT table whose counter reached the largest rowid
 * with SQLITE_FULL, the code of a full disk. An INSERT's SQLITE_FULL is told apart
 * by its table's counter in sqlite_sequence (absent: no AUTOINCREMENT table).
 */
static bool autoinc_used_up(char *table, size_t size, sqlite3 *db, sqlite3_stmt *failed)
{
	sqlite3_stmt *st = NULL;
	bool used_up = false;

	if (!insert_target(table, size, sqlite3_sql(failed)))
		return false;
	if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name = ? COLLATE NOCASE", -1, &st,
	                       NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		used_up = sqlite3_column_int64(st, 0) == INT64_MAX;
	sqlite3_finalize(st);
	return used_up;
}

static int step_fail(sqlite3 *db, sqlite3_stmt *st, int rc)
{
	char msg[512], table[128];
	int extended = sqlite3_extended_errcode(db);

	if ((rc & 0xff) != SQLITE_FULL)
		return sqlite_fail(db, rc, "step");
	/* The lookup below replaces SQLite's last message. */
	snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(db));
	if (!autoinc_used_up(table, sizeof(table), db, st))
		return fail_as(rc, extended, "step", msg);
	return dal__driver_ids_used_up("sqlite", NULL, extended, table,
		"its AUTOINCREMENT counter is at 9223372036854775807, the largest rowid (SQLite: database or disk is full)");
}

/*
 * A statement that changes the schema expires every prepared statement, the ROLLBACK
 * too, which would then be parsed again (allocating) to end the transaction: out of
 * memory, the connection would be dropped, a :memory: database with it. It is
 * prepared afresh while memory is there: at BEGIN and after such a statement.
 */
static int rollback_ready(dal_conn *c)
{
	sqlite_conn *sc = (sqlite_conn *)c;
	sqlite3_stmt *fresh;
	int rc;

	if (!sc->rollback || !sqlite3_expired(sc->rollback))
		return 0;
	if ((rc = sqlite3_prepare_v3(sc->db, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &fresh, NULL)) != SQLITE_OK)
		return sqlite_fail(sc->db, rc, "prepare");
	sqlite3_finalize(sc->rollback);
	sc->rollback = fresh;
	return 0;
}

static int sqlite_exec(dal_conn *c, const char *sql)
{
	int rc = sqlite3_exec(handle(c), sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sqlite_fail(handle(c), rc, "exec");
	return sqlite3_get_autocommit(handle(c)) ? 0 : rollback_ready(c);
}

/*
 * Waiting for a lock. SQLite's own busy timeout sleeps longer and longer (up to
 * 100 ms a try), so a writer behind a stream of short transactions (a cleanup's
 * batches) wakes after the lock was taken again, and again. A waiter here tries
 * at most BUSY_POLL_US apart, and says when it last did, so that such a stream
 * can let it in (writers_waiting).
 */
#define BUSY_POLL_US 2000
/* Longest a write job waits at a pause for the writers to get in. */
#define JOB_YIELD_MAX_US 50000
/* Tries, 100 us apart, of a job's RESTART checkpoint at the write lock and at readers. */
#define JOB_RESTART_TRIES 20
/* SQLite's own autocheckpoint threshold, in frames of the log. */
#define WAL_AUTOCHECKPOINT 1000

static int busy_wait(void *payload, int count)
{
	sqlite_conn *c = payload;
	int64_t now = dal__mono_us();

	if (count == 0)
		c->busy_since_us = now;
	atomic_store_explicit(&c->sh->last_wait_us, now, memory_order_relaxed);
	if (now - c->busy_since_us >= (int64_t)c->busy_timeout_ms * 1000)
		return 0;
	dal__sleep_us(count < 10 ? 500 : BUSY_POLL_US);
	return 1;
}

static bool writers_waiting(sqlite_shared *sh)
{
	return dal__mono_us() - atomic_load_explicit(&sh->last_wait_us, memory_order_relaxed) <= 2 * BUSY_POLL_US;
}

/*
 * SQLite's autocheckpoint, except while a write job of the dal_db runs. A
 * job's transaction writes thousands of frames to the log, and the commit that
 * crossed the threshold next, often a writer's, would copy them all into the
 * database and sync it before returning: that writer would wait several times
 * longer than for the job's lock. The job checkpoints at its pauses instead.
 */
static int wal_hook(void *payload, sqlite3 *db, const char *name, int frames)
{
	sqlite_conn *c = payload;

	if (frames >= WAL_AUTOCHECKPOINT && atomic_load_explicit(&c->sh->jobs, memory_order_relaxed) == 0)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static int restart_busy(void *payload, int count)
{
	(void)payload;
	if (count >= JOB_RESTART_TRIES)
		return 0;
	dal__sleep_us(100);
	return 1;
}

/*
 * The job's pages, copied now rather than by the next writer's commit: PASSIVE,
 * writers going on meanwhile (they get the lock the job let go of). They always
 * leave frames past it, so the log would never start over and would grow by a
 * batch each time (to gigabytes). Past SQLite's own threshold, and at the end, a
 * RESTART then copies what they wrote meanwhile under the write lock, so that
 * the next writer starts the log over. Writers wait for it, and the longer the
 * log the longer they wait (docs/audit.md), so it runs at nearly every pause,
 * while the log is short; it gives up after a few tries at the lock and at readers.
 */
static void job_checkpoint(sqlite_conn *c, bool end)
{
	int frames = 0, copied = 0;

	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
	if (!end && frames < WAL_AUTOCHECKPOINT)
		return;
	sqlite3_busy_handler(c->db, restart_busy, NULL);
	sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
	sqlite3_busy_handler(c->db, c->busy_timeout_ms > 0 ? busy_wait : NULL, c);
}

static int sqlite_write_job(void *shared, dal_conn *conn, int step)
{
	sqlite_shared *sh = shared;
	int64_t until;

	if (step == DAL__JOB_BATCH)
		return 0;
	if (step == DAL__JOB_START) {
		atomic_fetch_add(&sh->jobs, 1);
		return 0;
	}
	if (step == DAL__JOB_END)
		atomic_fetch_sub(&sh->jobs, 1);
	/* No connection: inside a unit of work, whose transaction keeps the lock, or none to be had. */
	if (!conn)
		return 0;
	job_checkpoint((sqlite_conn *)conn, step == DAL__JOB_END);
	if (step == DAL__JOB_END)
		return 0;
	until = dal__mono_us() + JOB_YIELD_MAX_US;
	while (writers_waiting(sh) && dal__mono_us() < until)
		dal__sleep_us(500);
	return 0;
}

static int sqlite_db_open(void **out, const dal_url *url, const dal_config *cfg)
{
	(void)url;
	(void)cfg;
	if (!(*out = calloc(1, sizeof(sqlite_shared))))
		return dal__error_nomem();
	return 0;
}

static void sqlite_db_close(void *shared)
{
	free(shared);
}

/*
 * Putting a database in WAL mode takes its write lock, and SQLite returns
 * SQLITE_BUSY without calling the busy handler while another connection holds
 * that lock (two programs setting up one new file at once): tried again here,
 * within the busy timeout.
 */
static int settings_exec(sqlite_conn *c, const char *sql)
{
	int64_t until = dal__mono_us() + (int64_t)c->busy_timeout_ms * 1000;
	int error;

	while ((error = sqlite_exec(&c->base, sql)) == DAL_EBUSY && dal__mono_us() < until)
		dal__sleep_us(BUSY_POLL_US);
	if (error == DAL_EBUSY)
		return dal__error(DAL_EBUSY, "sqlite: open: putting the database in WAL mode: another connection "
			"held its write lock for the whole busy timeout (%d ms)", c->busy_timeout_ms);
	return error;
}

static int apply_settings(sqlite_conn *c, const dal_url *url, const dal_config *cfg)
{
	char sql[240];
	int error;

	c->busy_timeout_ms = cfg->busy_timeout_ms;
	sqlite3_busy_handler(c->db, cfg->busy_timeout_ms > 0 ? busy_wait : NULL, c);
	sqlite3_extended_result_codes(c->db, 1);
	if ((error = sqlite_exec(&c->base, "PRAGMA foreign_keys=ON")) < 0)
		return error;
	if (url->memory)
		return 0;
	/* SQLite's own page cache default (2 MiB) sends a server's random reads of a
	 * large file to the OS every time; the memory map shares one copy of the hot
	 * pages between every connection. A :memory: database is all page cache. */
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-%d; "
		"PRAGMA mmap_size=%lld", cfg->sqlite_synchronous == DAL_SQLITE_SYNC_FULL ? "FULL" : "NORMAL",
		cfg->sqlite_cache_kib, (long long)cfg->sqlite_mmap_mib * 1024 * 1024);
	if ((error = settings_exec(c, sql)) == 0)
		sqlite3_wal_hook(c->db, wal_hook, c);
	return error;
}

static int sqlite_connect(dal_conn **out, void *shared, const dal_url *url, const dal_config *cfg)
{
	sqlite_conn *c;
	int rc, error;

	*out = NULL;
	if (!sqlite3_threadsafe())
		return dal__error(DAL_EUNSUPPORTED, "sqlite: this SQLite was built with SQLITE_THREADSAFE=0");
	if (!(c = calloc(1, sizeof(*c))))
		return dal__error_nomem();
	c->base.drv = &dal__driver_sqlite;
	c->sh = shared;
	rc = sqlite3_open_v2(url->path, &c->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		error = sqlite_fail(c->db, rc, "cannot open the database file");
		goto fail;
	}
	if ((error = apply_settings(c, url, cfg)) < 0)
		goto fail;
	if ((rc = sqlite3_prepare_v3(c->db, "ROLLBACK", -1, SQLITE_PREPARE_PERSISTENT, &c->rollback, NULL)) != SQLITE_OK) {
		error = sqlite_fail(c->db, rc, "prepare");
		goto fail;
	}
	*out = &c->base;
	return 0;
fail:
	sqlite3_close_v2(c->db);
	free(c);
	return error;
}

static void sqlite_disconnect(dal_conn *c)
{
	if (!c)
		return;
	sqlite3_finalize(((sqlite_conn *)c)->rollback);
	sqlite3_close_v2(handle(c));
	free(c);
}

static int sqlite_ping(dal_conn *c)
{
	return sqlite_exec(c, "SELECT 1");
}

static int sqlite_prepare(dal_stmt **out, dal_conn *c, const char *sql, unsigned flags)
{
	sqlite_stmt *s;
	const char *tail = NULL;
	int rc;

	(void)flags;
	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return dal__error_nomem();
	rc = sqlite3_prepare_v3(handle(c), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, &tail);
	if (rc != SQLITE_OK || !s->st) {
		free(s);
		if (rc == SQLITE_OK)
			return dal__error(DAL_EINVAL, "sqlite: the SQL text holds no statement");
		return sqlite_fail(handle(c), rc, "prepare");
	}
	if (tail && tail[strspn(tail, " \t\r\n;")] != '\0') {
		sqlite3_finalize(s->st);
		free(s);
		return dal__error(DAL_EINVAL, "sqlite: the SQL text holds more than one statement");
	}
	s->base.conn = c;
	s->base.nparams = sqlite3_bind_parameter_count(s->st);
	s->base.ncols = sqlite3_column_count(s->st);
	*out = &s->base;
	return 0;
}

/* An SQLite code, or a negative DAL_E* code with its message set where SQLite has none to give. */
static int bind_one(sqlite_stmt *s, int i, const dal_value *v, char *tsbuf)
{
	sqlite3_stmt *st = s->st;

	switch (v->type) {
	case DAL_TYPE_NULL: return sqlite3_bind_null(st, i);
	case DAL_TYPE_BOOL: return sqlite3_bind_int(st, i, v->v.b ? 1 : 0);
	case DAL_TYPE_INT: return sqlite3_bind_int64(st, i, v->v.i);
	case DAL_TYPE_DOUBLE: return sqlite3_bind_double(st, i, v->v.d);
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON: return sqlite3_bind_text64(st, i, v->len ? v->v.s : "", v->len, SQLITE_STATIC, SQLITE_UTF8);
	case DAL_TYPE_BLOB: return sqlite3_bind_blob64(st, i, v->len ? v->v.p : "", v->len, SQLITE_STATIC);
	case DAL_TYPE_TIMESTAMP:
		/* ISO-8601 text, so that SQLite's date functions and other readers see a date. */
		if (dal_timestamp_format(tsbuf, v->v.ts) < 0)
			return dal__error(DAL_EINVAL, "sqlite: parameter %d: timestamp %lld is outside the years 0001-9999",
				i, (long long)v->v.ts);
		return sqlite3_bind_text(st, i, tsbuf, -1, SQLITE_STATIC);
	}
	/* SQLite never saw this value: its own last message would be another call's. */
	return dal__error(DAL_EINVAL, "sqlite: parameter %d has unknown type %d", i, (int)v->type);
}

static int sqlite_bind(dal_stmt *stmt, const dal_value *params, size_t n)
{
	sqlite_stmt *s = (sqlite_stmt *)stmt;
	size_t i, nts = 0, k = 0;
	int rc;

	if ((int)n != stmt->nparams)
		return dal__error(DAL_EINVAL, "the statement takes %d parameters, %zu given", stmt->nparams, n);
	for (i = 0; i < n; i++)
		nts += params[i].type == DAL_TYPE_TIMESTAMP;
	free(s->tsbuf);
	s->tsbuf = NULL;
	if (nts > 4 && !(s->tsbuf = malloc(nts * DAL_TIMESTAMP_BUFSIZE)))
		return dal__error_nomem();
	for (i = 0; i < n; i++) {
		char *buf = (s->tsbuf ? s->tsbuf : s->ts) + k * DAL_TIMESTAMP_BUFSIZE;
		k += params[i].type == DAL_TYPE_TIMESTAMP;
		if ((rc = bind_one(s, (int)i + 1, &params[i], buf)) < 0)
			return rc;
		if (rc != SQLITE_OK)
			return sqlite_fail(handle(stmt->conn), rc, "bind");
	}
	return 0;
}

static int sqlite_step(dal_stmt *stmt)
{
	sqlite_stmt *s = (sqlite_stmt *)stmt;
	sqlite3 *db = handle(stmt->conn);
	int rc = sqlite3_step(s->st);

	if (rc == SQLITE_ROW)
		return DAL__ROW;
	if (rc == SQLITE_DONE) {
		s->changes = sqlite3_changes64(db);
		rc = sqlite3_get_autocommit(db) ? 0 : rollback_ready(stmt->conn);
		return rc < 0 ? rc : DAL__DONE;
	}
	return step_fail(db, s->st, rc);
}

static const char *sqlite_column_name(dal_stmt *stmt, int col)
{
	return sqlite3_column_name(((sqlite_stmt *)stmt)->st, col);
}

/*
 * One sqlite3_column_value, then the value itself: each sqlite3_column_* call
 * looks the column up again and runs the API's exit checks, several per value.
 * SQLite documents the value as unprotected (not guarded by the connection's
 * mutex); a connection here is opened SQLITE_OPEN_NOMUTEX and used by one
 * thread at a time, so sqlite3_column_text would have no more protection.
 */
static int sqlite_column(dal_stmt *stmt, int col, dal_value *out)
{
	sqlite3_value *v = sqlite3_column_value(((sqlite_stmt *)stmt)->st, col);

	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		*out = dal_int(sqlite3_value_int64(v));
		break;
	case SQLITE_FLOAT:
		*out = dal_double(sqlite3_value_double(v));
		break;
	case SQLITE_TEXT:
		out->v.s = (const char *)sqlite3_value_text(v);
		if (!out->v.s)
			return dal__error_nomem();
		out->type = DAL_TYPE_TEXT;
		out->len = (size_t)sqlite3_value_bytes(v);
		break;
	case SQLITE_BLOB:
		out->v.p = sqlite3_value_blob(v);
		out->len = (size_t)sqlite3_value_bytes(v);
		out->type = DAL_TYPE_BLOB;
		if (!out->v.p)
			out->v.p = "";
		break;
	default:
		*out = dal_null();
	}
	return 0;
}

static int64_t sqlite_changes(dal_stmt *stmt)
{
	return ((sqlite_stmt *)stmt)->changes;
}

static int sqlite_reset(dal_stmt *stmt)
{
	sqlite_stmt *s = (sqlite_stmt *)stmt;

	/* The error of a failed step was already reported; reset just re-arms. */
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	return 0;
}

static void sqlite_finalize(dal_stmt *stmt)
{
	sqlite_stmt *s = (sqlite_stmt *)stmt;

	if (!s)
		return;
	sqlite3_finalize(s->st);
	free(s->tsbuf);
	free(s);
}

static int sqlite_begin(dal_conn *c, unsigned flags)
{
	/* IMMEDIATE takes the write lock up front, so a read-then-write unit never
	 * fails half-way with SQLITE_BUSY_SNAPSHOT; SQLite is serializable already. */
	int error = rollback_ready(c);

	return error < 0 ? error : sqlite_exec(c, flags & DAL__TX_WRITE ? "BEGIN IMMEDIATE" : "BEGIN");
}

static int sqlite_commit(dal_conn *c) { return sqlite_exec(c, "COMMIT"); }

static int sqlite_rollback(dal_conn *c)
{
	sqlite3_stmt *st = ((sqlite_conn *)c)->rollback;
	int rc;

	/* After some errors SQLite has already rolled back; that is not a failure. */
	if (sqlite3_get_autocommit(handle(c)))
		return 0;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(handle(c), rc, "rollback");
}

static int savepoint_sql(dal_conn *c, const char *fmt, const char *name)
{
	char sql[128];

	snprintf(sql, sizeof(sql), fmt, name);
	return sqlite_exec(c, sql);
}

static int sqlite_savepoint(dal_conn *c, const char *name) { return savepoint_sql(c, "SAVEPOINT \"%s\"", name); }
static int sqlite_release(dal_conn *c, const char *name) { return savepoint_sql(c, "RELEASE \"%s\"", name); }
static int sqlite_rollback_to(dal_conn *c, const char *name)
{
	int error;

	/* ROLLBACK TO keeps the savepoint open; release it so the scope ends. */
	if ((error = savepoint_sql(c, "ROLLBACK TO \"%s\"", name)) < 0)
		return error;
	return savepoint_sql(c, "RELEASE \"%s\"", name);
}

static const dal_dialect sqlite_dialect = {
	.quote = '"',
	.placeholder = DAL_PH_QMARK,
	.types = { "", "BOOLEAN", "INTEGER", "REAL", "TEXT", "BLOB", "TEXT", "TEXT" },
	.varchar = NULL,
	/* AUTOINCREMENT: ids are never reused, so an audit trail's resource_id stays unique. */
	.autoinc_pk = "INTEGER PRIMARY KEY AUTOINCREMENT",
	.autoinc_pre = NULL,
	.like_escape = " ESCAPE '\\'",
	/* AUTOINCREMENT keeps the largest id ever used, so a deleted tail still shows. */
	.audit_head_sql = "SELECT coalesce((SELECT \"seq\" FROM sqlite_sequence WHERE \"name\" = 'audit_logs'), 0), "
		"coalesce((SELECT \"row_hash\" FROM \"audit_logs\" ORDER BY \"id\" DESC LIMIT 1), "
		"(SELECT \"first_hash\" FROM \"audit_chain\" WHERE \"id\" = 1))",
	.table_count_sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
	/* The predicate is read from the CREATE text SQLite keeps (quotes dropped). */
	.index_list_sql = "WITH p(t, c) AS (SELECT ?, ?) "
		"SELECT il.name, il.\"unique\", CASE WHEN il.partial = 0 THEN 0 "
		"WHEN lower(replace(m.sql, '\"', '')) LIKE '% where deleted_at is null' THEN 1 ELSE 2 END, "
		"(SELECT COUNT(*) FROM pragma_index_info(il.name)) = 1 "
		"AND coalesce((SELECT ii.name FROM pragma_index_info(il.name) ii WHERE ii.seqno = 0) = p.c, 0) "
		"FROM p, pragma_index_list(p.t) il LEFT JOIN sqlite_master m ON m.type = 'index' AND m.name = il.name",
	/* SQLite's affinity rules, in their order: INTEGER 2, TEXT 4, BLOB 5, REAL 3, NUMERIC 1. An
	 * INTEGER PRIMARY KEY is the rowid: never NULL, whatever "notnull" says. */
	.column_list_sql = "SELECT name, CASE WHEN upper(type) LIKE '%INT%' THEN 2 "
		"WHEN upper(type) LIKE '%CHAR%' OR upper(type) LIKE '%CLOB%' OR upper(type) LIKE '%TEXT%' THEN 4 "
		"WHEN upper(type) LIKE '%BLOB%' OR type = '' THEN 5 "
		"WHEN upper(type) LIKE '%REAL%' OR upper(type) LIKE '%FLOA%' OR upper(type) LIKE '%DOUB%' THEN 3 ELSE 1 END, "
		"\"notnull\", dflt_value IS NOT NULL OR pk > 0, type, 0 FROM pragma_table_info(?)",
	.family = { 0, 1, 2, 3, 4, 5, 4, 4 },
	.ident_nocase = true,
	.referenced_by_sql = "SELECT COUNT(*) FROM sqlite_master m, pragma_foreign_key_list(m.name) f "
		"WHERE m.type = 'table' AND m.name <> ? AND f.\"table\" = ? COLLATE NOCASE",
	/* Names are dal identifiers ([A-Za-z0-9_]): safe between quotes. AUTOINCREMENT's
	 * counter lives in sqlite_sequence, and RENAME carries it to the new name. */
	.carry_ids_sql = "DELETE FROM sqlite_sequence WHERE name = '_dal_new_%s';\n"
		"INSERT INTO sqlite_sequence (name, seq) SELECT '_dal_new_%s', seq FROM sqlite_sequence WHERE name = '%s';\n",
	/* One statement text for any length (prepared once), and no cap from SQLITE_MAX_VARIABLE_NUMBER. */
	.in_array = " IN (SELECT value FROM json_each(?))",
	.in_array_form = DAL_ARRAY_JSON,
};

static bool sqlite_readonly(dal_stmt *stmt)
{
	return sqlite3_stmt_readonly(((sqlite_stmt *)stmt)->st) != 0;
}

static bool sqlite_tx_open(dal_conn *conn)
{
	return !sqlite3_get_autocommit(handle(conn));
}

const dal_driver dal__driver_sqlite = {
	.scheme = "sqlite",
	.name = "sqlite",
	.caps = DAL_CAP_SAVEPOINT | DAL_CAP_RETURNING | DAL_CAP_PARTIAL_INDEX | DAL_CAP_MULTI_CONN |
	        DAL_CAP_STREAM_SORTED | DAL_CAP_TX_DDL | DAL_CAP_UPDATE_RETURNING | DAL_CAP_MEMORY_PER_CONN,
	.dialect = &sqlite_dialect,
	.db_open = sqlite_db_open,
	.db_close = sqlite_db_close,
	.connect = sqlite_connect,
	.disconnect = sqlite_disconnect,
	.ping = sqlite_ping,
	.exec = sqlite_exec,
	.prepare = sqlite_prepare,
	.bind = sqlite_bind,
	.step = sqlite_step,
	.column_name = sqlite_column_name,
	.column = sqlite_column,
	.changes = sqlite_changes,
	.reset = sqlite_reset,
	.finalize = sqlite_finalize,
	.readonly = sqlite_readonly,
	.begin = sqlite_begin,
	.tx_open = sqlite_tx_open,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.savepoint = sqlite_savepoint,
	.release = sqlite_release,
	.rollback_to = sqlite_rollback_to,
	.write_job = sqlite_write_job,
};
