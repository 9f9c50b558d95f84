/* DuckDB: the embedded analytical engine. */
#include <duckdb.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <threads.h>
#include <time.h>

#include "driver/driver.h"
#include "util/error.h"
#include "util/str.h"

/*
 * DuckDB lets one process hold a file, so every connection of a dal_db shares one database.
 *
 * Its writers run one at a time here, like SQLite's. DuckDB 1.4.4 lets transactions
 * write at once, but two of them updating rows of one table at once can invalidate
 * the database ("Unaligned fetch in validity and main column data for update") or
 * corrupt the strings stored next (measured: tests/conformance
 * test_parallel_writers_one_chain, and the same with the bare C API). So a write
 * transaction, or any statement but a SELECT outside one (prepared or run by exec:
 * DDL too), takes `writer` first, waiting up to busy_timeout_ms.
 */
typedef struct duck_writer {
	char *key;                     /* the file's real path; NULL for :memory: (never shared) */
	int refs;                      /* dal_dbs on it: DuckDB's instance cache shares the file's */
	pthread_mutex_t mu;
	pthread_cond_t freed;
	const void *writer;            /* the connection writing now, or NULL */
	/*
	 * A commit failed (disk full, an I/O error, an invalidated instance). DuckDB 1.4.4
	 * keeps running after a COMMIT that failed for lack of space, but strings stored
	 * afterwards come back corrupted (one value followed by another's bytes), which
	 * the bare C API shows too, and after a failed checkpoint reads fail with an
	 * INTERNAL error; a new instance on the file reads it back intact. So statements
	 * are refused until every dal_db on the file is closed: `why` is the cause.
	 */
	bool failed;
	char why[320];
	struct duck_writer *next;
} duck_writer;

typedef struct duck_shared {
	duckdb_database db;
	duck_writer *w;
} duck_shared;

typedef struct duck_conn {
	dal_conn base;
	duckdb_connection con;
	duck_shared *sh;
	bool writes;                   /* holds sh->writer */
	int busy_ms;                   /* its dal_db's busy_timeout_ms */
	/*
	 * A failed execution aborts DuckDB's transaction, and a later COMMIT then
	 * succeeds while silently discarding everything; remember the first failure
	 * so commit can refuse instead.
	 */
	bool in_tx;
	bool poisoned;                 /* a failed bulk insert may have left rows behind */
	int fail_code;
	char fail_msg[256];
} duck_conn;

/* How one result column is read out of a chunk. */
typedef struct duck_col {
	duckdb_type type;
	duckdb_type inner;             /* storage type of DECIMAL and ENUM */
	uint8_t scale;                 /* DECIMAL */
	bool json;                     /* VARCHAR with the JSON alias */
	duckdb_logical_type ltype;     /* kept for ENUM's dictionary */
	void *data;                    /* of the current chunk */
	uint64_t *validity;
	dal_str text;                  /* a NUL-terminated copy of the current text value */
} duck_col;

enum { RUN_IDLE, RUN_ROWS, RUN_DONE };

typedef struct duck_stmt {
	dal_stmt base;
	duckdb_prepared_statement ps;
	duckdb_statement_type kind;
	bool stream;
	bool names_unresolved;         /* prepare could not type every column ("SELECT ?") */
	char **names;
	int nnames;
	duck_col *cols;                /* base.ncols of them while a result is open */
	int ncols_cap;
	int state;
	bool have_result;
	duckdb_result res;
	duckdb_data_chunk chunk;
	idx_t chunk_size;
	idx_t row;                     /* in chunk */
	int64_t nrows;                 /* rows handed out by this execution */
	int64_t changes;
} duck_stmt;

static duck_conn *dconn(dal_conn *c) { return (duck_conn *)c; }

/*
 * Prepare and open errors come as text only; DuckDB starts each message with
 * its exception type ("Parser Error: ..."), which gives the type back.
 */
static const struct { const char *prefix; duckdb_error_type type; } error_prefixes[] = {
	{ "Constraint Error:", DUCKDB_ERROR_CONSTRAINT },
	{ "TransactionContext Error:", DUCKDB_ERROR_TRANSACTION },
	{ "Parser Error:", DUCKDB_ERROR_PARSER },
	{ "Syntax Error:", DUCKDB_ERROR_SYNTAX },
	{ "Binder Error:", DUCKDB_ERROR_BINDER },
	{ "Catalog Error:", DUCKDB_ERROR_CATALOG },
	{ "IO Error:", DUCKDB_ERROR_IO },
	{ "Out of Memory Error:", DUCKDB_ERROR_OUT_OF_MEMORY },
	{ "Invalid Input Error:", DUCKDB_ERROR_INVALID_INPUT },
	{ "Conversion Error:", DUCKDB_ERROR_CONVERSION },
	{ "Out of Range Error:", DUCKDB_ERROR_OUT_OF_RANGE },
	{ "INTERRUPT Error:", DUCKDB_ERROR_INTERRUPT },
	{ "Permission Error:", DUCKDB_ERROR_PERMISSION },
	{ "Not implemented Error:", DUCKDB_ERROR_NOT_IMPLEMENTED },
	{ "Dependency Error:", DUCKDB_ERROR_DEPENDENCY },
};

static duckdb_error_type type_of_message(const char *msg)
{
	size_t i;

	for (i = 0; msg && i < sizeof(error_prefixes) / sizeof(error_prefixes[0]); i++)
		if (strncmp(msg, error_prefixes[i].prefix, strlen(error_prefixes[i].prefix)) == 0)
			return error_prefixes[i].type;
	return DUCKDB_ERROR_INVALID;
}

/*
 * dal's messages are one line: DuckDB's end with the statement quoted under
 * "LINE n:" with a caret (twice, for prepare errors), which is cut off, and
 * may have hints on further lines, which are kept.
 */
static const char *one_line(char *buf, size_t size, const char *msg)
{
	const char *end = strstr(msg, "\n\nLINE ");
	size_t n = end ? (size_t)(end - msg) : strlen(msg), i;

	if (n >= size)
		n = size - 1;
	for (i = 0; i < n; i++)
		buf[i] = msg[i] == '\n' || msg[i] == '\r' ? ' ' : msg[i];
	buf[n] = '\0';
	return buf;
}

/*
 * DuckDB's constraint messages quote the key's values: Duplicate key "secret:
 * S3cr3t" violates unique constraint; Violates foreign key constraint because
 * key "p: 7" does not exist in the referenced table. The driver cannot tell a
 * DAL_SENSITIVE column from another, so the quoted key goes, from `key "` to
 * the message's last '"' (a value holding '"' ends inside that span, or, with
 * no closing quote, everything after `key "` goes). Kept: the first column's
 * name, which ends at the first ": " and so before any value.
 */
static void strip_key_values(char *msg, size_t size)
{
	char *key = strstr(msg, "key \""), *close, *colon, tail[512], name[80];
	size_t n;

	if (!key || !strstr(msg, "onstraint"))
		return;
	close = strrchr(key + 5, '"');
	colon = strstr(key + 5, ": ");
	n = colon && (!close || colon < close) ? (size_t)(colon - key - 5) : 0;
	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), key + 5);
	snprintf(tail, sizeof(tail), "%s", close ? close + 1 : "");
	snprintf(key, size - (size_t)(key - msg), "key (%s%s)%s", name, *name ? "" : "values not shown", tail);
}

/*
 * A COMMIT DuckDB could not carry out ("Failed to commit: <cause>"): a unique key
 * taken by a transaction that committed first, a write-write conflict, or else the
 * disk (no space, an I/O error), which no retry can cure.
 */
static int commit_failure(const char *msg)
{
	if (strstr(msg, "onstraint"))
		return DAL_ECONSTRAINT;
	if (strstr(msg, "onflict"))
		return DAL_ESERIALIZE;
	return DAL_EIO;
}

/* nextval past a sequence's MAXVALUE (or, once there, DuckDB 1.4.4 says MINVALUE). */
static bool ids_used_up(const char *msg)
{
	return strstr(msg, "reached maximum value of sequence") || strstr(msg, "reached minimum value of sequence");
}

static void refuse_writes(duck_writer *w, const char *why)
{
	pthread_mutex_lock(&w->mu);
	if (!w->failed) {
		w->failed = true;
		snprintf(w->why, sizeof(w->why), "%.*s", (int)sizeof(w->why) - 1, why);
	}
	pthread_mutex_unlock(&w->mu);
}

/* The one mapping from DuckDB's error types to dal's; keeps the type as engine_code. */
static int duck_fail(duck_conn *c, duckdb_error_type type, const char *msg)
{
	char line[768];
	int code;

	if (!msg || !*msg)
		msg = "unknown error";
	msg = one_line(line, sizeof(line), msg);
	strip_key_values(line, sizeof(line));
	switch (type) {
	case DUCKDB_ERROR_CONSTRAINT: code = DAL_ECONSTRAINT; break;
	case DUCKDB_ERROR_TRANSACTION:
		/* Conflicts ask for a retry; these two are a caller's state mistake, and
		 * an aborted transaction is only worth retrying if a conflict aborted it. */
		if (strstr(msg, "Failed to commit:"))
			code = commit_failure(msg);
		else if (strstr(msg, "transaction is aborted"))
			code = c && c->fail_code == DAL_ESERIALIZE ? DAL_ESERIALIZE : DAL_EINVAL;
		else if (strstr(msg, "no transaction is active"))
			code = DAL_EINVAL;
		else
			code = DAL_ESERIALIZE;
		break;
	case DUCKDB_ERROR_PARSER:
	case DUCKDB_ERROR_SYNTAX:
	case DUCKDB_ERROR_BINDER:
	case DUCKDB_ERROR_CATALOG: code = DAL_ESQL; break;
	case DUCKDB_ERROR_IO:
	case DUCKDB_ERROR_PERMISSION:
		code = strstr(msg, "Could not set lock") ? DAL_EBUSY : DAL_EIO;
		break;
	case DUCKDB_ERROR_OUT_OF_MEMORY: code = DAL_ENOMEM; break;
	case DUCKDB_ERROR_INVALID_INPUT:
	case DUCKDB_ERROR_CONVERSION:
	case DUCKDB_ERROR_OUT_OF_RANGE:
		code = DAL_EINVAL;
		dal__driver_mask_quoted(line, sizeof(line));
		break;
	case DUCKDB_ERROR_INTERRUPT: code = DAL_ETIMEOUT; break;
	/* The instance is invalidated (a checkpoint or WAL write failed): only a reopen helps. */
	case DUCKDB_ERROR_FATAL: code = DAL_EIO; break;
	case DUCKDB_ERROR_SEQUENCE:
		code = ids_used_up(msg) ? DAL_ECONSTRAINT : DAL_ERROR;
		break;
	default: code = DAL_ERROR; break;
	}
	if (c && c->in_tx && !c->fail_code) {
		c->fail_code = code;
		snprintf(c->fail_msg, sizeof(c->fail_msg), "%.*s", (int)sizeof(c->fail_msg) - 1, msg);
	}
	if (c && code == DAL_EIO && (type == DUCKDB_ERROR_FATAL || type == DUCKDB_ERROR_TRANSACTION))
		refuse_writes(c->sh->w, msg);
	if (type == DUCKDB_ERROR_SEQUENCE && code == DAL_ECONSTRAINT)
		return dal__driver_ids_used_up("duckdb", NULL, (int)type, NULL, msg);
	return dal__error_engine(code, NULL, (int)type, "duckdb: %s", msg);
}

static int result_fail(duck_conn *c, duckdb_result *res)
{
	return duck_fail(c, duckdb_result_error_type(res), duckdb_result_error(res));
}

/*
 * DuckDB allows one instance per file in a process: a second dal_db on the same
 * file must share the first one's instance, or neither sees the other's commits.
 * The cache is the driver's one piece of process-wide state; it lives until exit.
 */
static once_flag cache_once = ONCE_FLAG_INIT;
static duckdb_instance_cache instance_cache;

static void make_cache(void)
{
	instance_cache = duckdb_create_instance_cache();
}

static duckdb_state open_instance(const dal_url *url, duckdb_database *db, char **msg)
{
	if (url->memory)
		return duckdb_open_ext(NULL, db, NULL, msg);
	call_once(&cache_once, make_cache);
	return duckdb_get_or_create_from_cache(instance_cache, url->path, db, NULL, msg);
}

/* The writer lock of a database, one per file in the process (registry under writers_mu). */
static pthread_mutex_t writers_mu = PTHREAD_MUTEX_INITIALIZER;
static duck_writer *writers;

static duck_writer *writer_new(char *key)
{
	duck_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		free(key);
		return NULL;
	}
	w->key = key;
	w->refs = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->freed, NULL);
	return w;
}

static duck_writer *writer_ref(const dal_url *url)
{
	char *key = url->memory ? NULL : realpath(url->path, NULL);
	duck_writer *w;

	if (!key)
		return url->memory ? writer_new(NULL) : NULL;
	pthread_mutex_lock(&writers_mu);
	for (w = writers; w && strcmp(w->key, key) != 0; w = w->next)
		;
	if (w) {
		w->refs++;
		free(key);
	} else if ((w = writer_new(key)) != NULL) {
		w->next = writers;
		writers = w;
	}
	pthread_mutex_unlock(&writers_mu);
	return w;
}

static void writer_unref(duck_writer *w)
{
	duck_writer **p;
	bool last;

	if (!w)
		return;
	pthread_mutex_lock(&writers_mu);
	last = --w->refs == 0;
	for (p = &writers; last && w->key && *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&writers_mu);
	if (!last)
		return;
	pthread_cond_destroy(&w->freed);
	pthread_mutex_destroy(&w->mu);
	free(w->key);
	free(w);
}

static int duck_db_open(void **out, const dal_url *url, const dal_config *cfg)
{
	duck_shared *sh;
	char *msg = NULL;
	int error;

	(void)cfg;
	*out = NULL;
	if (!(sh = calloc(1, sizeof(*sh))))
		return dal__error_nomem();
	if (open_instance(url, &sh->db, &msg) != DuckDBSuccess) {
		error = duck_fail(NULL, type_of_message(msg), msg);
		if (error == DAL_ERROR)
			error = dal__error_engine(DAL_EIO, NULL, DUCKDB_ERROR_IO, "duckdb: cannot open %s: %s",
				url->path, msg ? msg : "unknown error");
		duckdb_free(msg);
		free(sh);
		return error;
	}
	if (!(sh->w = writer_ref(url))) {
		duckdb_close(&sh->db);
		free(sh);
		return dal__error_nomem();
	}
	*out = sh;
	return 0;
}

/* DAL_EIO once a commit failed on the database (duck_writer.failed), else 0. */
static int refused(duck_conn *c)
{
	duck_writer *w = c->sh->w;
	char why[sizeof(w->why)];
	bool failed;

	pthread_mutex_lock(&w->mu);
	failed = w->failed;
	memcpy(why, w->why, sizeof(why));
	pthread_mutex_unlock(&w->mu);
	if (!failed)
		return 0;
	return dal__error_engine(DAL_EIO, NULL, DUCKDB_ERROR_IO, "duckdb: statements are refused until this "
		"database is closed and opened again (every dal_db on the file): a commit failed (%s), and DuckDB "
		"1.4.4 may corrupt or fail to read data after that (docs/engines.md)", why);
}

/* Become the database's one writer, waiting for the current one up to busy_ms. */
static int write_lock(duck_conn *c)
{
	duck_writer *w = c->sh->w;
	struct timespec until;
	int rc = 0;

	if (c->writes)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += c->busy_ms / 1000;
	until.tv_nsec += (long)(c->busy_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->mu);
	while (w->writer && !w->failed && rc == 0)
		rc = pthread_cond_timedwait(&w->freed, &w->mu, &until);
	if (w->failed) {
		pthread_mutex_unlock(&w->mu);
		return refused(c);
	}
	if (!w->writer) {
		w->writer = c;
		c->writes = true;
	}
	pthread_mutex_unlock(&w->mu);
	if (!c->writes)
		return dal__error(DAL_EBUSY, "duckdb: another transaction of this process has been writing for over "
			"%d ms (DuckDB's writers run one at a time here; see docs/engines.md)", c->busy_ms);
	return 0;
}

static void write_unlock(duck_conn *c)
{
	if (!c->writes)
		return;
	pthread_mutex_lock(&c->sh->w->mu);
	c->sh->w->writer = NULL;
	c->writes = false;
	/* After a failed commit every waiter is to be refused, not just the next one. */
	if (c->sh->w->failed)
		pthread_cond_broadcast(&c->sh->w->freed);
	else
		pthread_cond_signal(&c->sh->w->freed);
	pthread_mutex_unlock(&c->sh->w->mu);
}

static void duck_db_close(void *shared)
{
	duck_shared *sh = shared;

	if (!sh)
		return;
	duckdb_close(&sh->db);
	writer_unref(sh->w);
	free(sh);
}

/* SQL run as it is, without the writer lock: dal's own transaction control and settings. */
static int duck_query(duck_conn *c, const char *sql)
{
	duckdb_result res;
	int error = 0;

	if (duckdb_query(c->con, sql, &res) != DuckDBSuccess)
		error = result_fail(c, &res);
	/* The result must be destroyed even when the query failed. */
	duckdb_destroy_result(&res);
	return error;
}

/* Only a SELECT is known not to write; anything else (DDL, SET, EXPLAIN ANALYZE of a write) waits its turn. */
static bool may_write(duckdb_statement_type kind)
{
	return kind != DUCKDB_STATEMENT_TYPE_SELECT;
}

static int duck_connect(dal_conn **out, void *shared, const dal_url *url, const dal_config *cfg)
{
	duck_shared *sh = shared;
	duck_conn *c;
	int error;

	(void)url;
	*out = NULL;
	if (!sh)
		return dal__error(DAL_EINVAL, "duckdb: connect without an open database");
	if (!(c = calloc(1, sizeof(*c))))
		return dal__error_nomem();
	c->base.drv = &dal__driver_duckdb;
	c->sh = sh;
	c->busy_ms = cfg ? cfg->busy_timeout_ms : 5000;
	if (duckdb_connect(sh->db, &c->con) != DuckDBSuccess) {
		free(c);
		return dal__error(DAL_ECONN, "duckdb: cannot open a connection to the database");
	}
	/*
	 * dal reuses prepared statements, and DuckDB plans one once, folding what the
	 * table's statistics say at that moment: a COUNT(*) ... WHERE deleted_at IS
	 * NULL prepared on an empty table keeps answering 0 after rows arrive. These
	 * two optimizers act on plan-time statistics; without them a reused plan
	 * stays right as the data changes.
	 */
	error = duck_query(c, "SET disabled_optimizers = 'statistics_propagation,compressed_materialization'");
	if (error < 0) {
		/* DuckDB's code, as recorded: a locked configuration is no lost connection to retry. */
		duckdb_disconnect(&c->con);
		free(c);
		return error;
	}
	*out = &c->base;
	return 0;
}

static void duck_disconnect(dal_conn *c)
{
	if (!c)
		return;
	write_unlock(dconn(c));
	duckdb_disconnect(&dconn(c)->con);
	free(c);
}

/* Statement i of exec's text, under the writer lock if it may write (released at once outside a transaction). */
static int exec_one(duck_conn *c, duckdb_extracted_statements ex, idx_t i)
{
	duckdb_prepared_statement ps = NULL;
	duckdb_result res;
	int error = 0;

	/* Destroyed even when prepare fails; that is what frees the error text. */
	if (duckdb_prepare_extracted_statement(c->con, ex, i, &ps) != DuckDBSuccess) {
		const char *msg = duckdb_prepare_error(ps);
		error = duck_fail(c, type_of_message(msg), msg);
		goto done;
	}
	if ((error = may_write(duckdb_prepared_statement_type(ps)) ? write_lock(c) : refused(c)) < 0)
		goto done;
	if (duckdb_execute_prepared(ps, &res) != DuckDBSuccess)
		error = result_fail(c, &res);
	duckdb_destroy_result(&res);
	if (!c->in_tx)
		write_unlock(c);
done:
	duckdb_destroy_prepare(&ps);
	return error;
}

/* One statement at a time, so that each is known before it runs: DDL outside a unit of work waits for the writer. */
static int duck_exec(dal_conn *conn, const char *sql)
{
	duck_conn *c = dconn(conn);
	duckdb_extracted_statements ex = NULL;
	idx_t n, i;
	int error = 0;

	n = duckdb_extract_statements(c->con, sql, &ex);
	if (n == 0 && duckdb_extract_statements_error(ex)) {
		const char *msg = duckdb_extract_statements_error(ex);
		error = duck_fail(c, type_of_message(msg), msg);
	}
	for (i = 0; i < n && error == 0; i++)
		error = exec_one(c, ex, i);
	duckdb_destroy_extracted(&ex);
	return error;
}

static int duck_ping(dal_conn *c)
{
	return duck_query(dconn(c), "SELECT 1");
}

static void free_names(duck_stmt *s)
{
	int i;

	for (i = 0; i < s->nnames; i++)
		free(s->names[i]);
	free(s->names);
	s->names = NULL;
	s->nnames = 0;
}

/* Names come from DuckDB as copies it wants back through duckdb_free. */
static int load_prepared_names(duck_stmt *s, idx_t n)
{
	idx_t i;

	if (!(s->names = calloc(n ? n : 1, sizeof(*s->names))))
		return dal__error_nomem();
	for (i = 0; i < n; i++) {
		const char *name = duckdb_prepared_statement_column_name(s->ps, i);
		duckdb_logical_type t = duckdb_prepared_statement_column_logical_type(s->ps, i);

		if (!t || duckdb_get_type_id(t) == DUCKDB_TYPE_INVALID)
			s->names_unresolved = true;
		duckdb_destroy_logical_type(&t);
		s->names[i] = dal__strdup(name ? name : "");
		duckdb_free((void *)name);
		s->nnames++;
		if (!s->names[i])
			return DAL_ENOMEM;
	}
	return 0;
}

static void drop_chunk(duck_stmt *s)
{
	if (s->chunk)
		duckdb_destroy_data_chunk(&s->chunk);
	s->chunk = NULL;
	s->chunk_size = s->row = 0;
}

static void close_result(duck_stmt *s)
{
	int i;

	drop_chunk(s);
	if (s->have_result)
		duckdb_destroy_result(&s->res);
	s->have_result = false;
	for (i = 0; i < s->ncols_cap; i++)
		if (s->cols[i].ltype)
			duckdb_destroy_logical_type(&s->cols[i].ltype);
}

static bool duck_readonly(dal_stmt *stmt)
{
	duckdb_statement_type kind = ((duck_stmt *)stmt)->kind;

	return kind == DUCKDB_STATEMENT_TYPE_SELECT || kind == DUCKDB_STATEMENT_TYPE_EXPLAIN;
}

static void duck_finalize(dal_stmt *stmt)
{
	duck_stmt *s = (duck_stmt *)stmt;
	int i;

	if (!s)
		return;
	close_result(s);
	duckdb_destroy_prepare(&s->ps);
	for (i = 0; i < s->ncols_cap; i++)
		dal__str_dispose(&s->cols[i].text);
	free(s->cols);
	free_names(s);
	free(s);
}

static int duck_prepare(dal_stmt **out, dal_conn *conn, const char *sql, unsigned flags)
{
	duck_conn *c = dconn(conn);
	duck_stmt *s;
	int error = 0;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return dal__error_nomem();
	s->base.conn = conn;
	s->stream = (flags & DAL__STMT_STREAM) != 0;
	/* Destroyed even when prepare fails; that is what frees the error text. */
	if (duckdb_prepare(c->con, sql, &s->ps) != DuckDBSuccess) {
		const char *msg = duckdb_prepare_error(s->ps);
		error = duck_fail(c, type_of_message(msg), msg);
		goto done;
	}
	s->kind = duckdb_prepared_statement_type(s->ps);
	s->base.nparams = (int)duckdb_nparams(s->ps);
	s->base.ncols = (int)duckdb_prepared_statement_column_count(s->ps);
	error = load_prepared_names(s, (idx_t)s->base.ncols);
done:
	if (error < 0) {
		duck_finalize(&s->base);
		return error;
	}
	*out = &s->base;
	return 0;
}

static duckdb_timestamp to_ts(int64_t us)
{
	duckdb_timestamp t;

	t.micros = us;
	return t;
}

static int duck_bind(dal_stmt *stmt, const dal_value *params, size_t n)
{
	duck_stmt *s = (duck_stmt *)stmt;
	duckdb_state rc = DuckDBSuccess;
	size_t i;

	if ((int)n != stmt->nparams)
		return dal__error(DAL_EINVAL, "the statement takes %d parameters, %zu given", stmt->nparams, n);
	/* Binding starts a new execution even if the caller did not reset. */
	close_result(s);
	s->state = RUN_IDLE;
	for (i = 0; i < n && rc == DuckDBSuccess; i++) {
		const dal_value *v = &params[i];
		idx_t k = i + 1;

		switch (v->type) {
		case DAL_TYPE_NULL: rc = duckdb_bind_null(s->ps, k); break;
		case DAL_TYPE_BOOL: rc = duckdb_bind_boolean(s->ps, k, v->v.b); break;
		case DAL_TYPE_INT: rc = duckdb_bind_int64(s->ps, k, v->v.i); break;
		case DAL_TYPE_DOUBLE: rc = duckdb_bind_double(s->ps, k, v->v.d); break;
		/* JSON goes as text; DuckDB casts it where the column is JSON. */
		case DAL_TYPE_TEXT:
		case DAL_TYPE_JSON: rc = duckdb_bind_varchar_length(s->ps, k, v->len ? v->v.s : "", v->len); break;
		case DAL_TYPE_BLOB: rc = duckdb_bind_blob(s->ps, k, v->len ? v->v.p : "", v->len); break;
		case DAL_TYPE_TIMESTAMP: rc = duckdb_bind_timestamp(s->ps, k, to_ts(v->v.ts)); break;
		default:
			return dal__error(DAL_EINVAL, "duckdb: parameter %zu has unknown type %d", k, (int)v->type);
		}
	}
	if (rc != DuckDBSuccess) {
		const char *msg = duckdb_prepare_error(s->ps);
		return dal__error(DAL_EINVAL, "duckdb: cannot bind parameter %zu: %s", i, msg ? msg : "rejected");
	}
	return 0;
}

static int grow_cols(duck_stmt *s, int n)
{
	duck_col *cols;

	if (n <= s->ncols_cap)
		return 0;
	if (!(cols = realloc(s->cols, (size_t)n * sizeof(*cols))))
		return dal__error_nomem();
	memset(cols + s->ncols_cap, 0, (size_t)(n - s->ncols_cap) * sizeof(*cols));
	s->cols = cols;
	s->ncols_cap = n;
	return 0;
}

/* After execution: the real column count, names where prepare could not tell, and how to read each column. */
static int describe_result(duck_stmt *s)
{
	int n = (int)duckdb_column_count(&s->res), i, error;

	if ((error = grow_cols(s, n)) < 0)
		return error;
	if (n != s->nnames || s->names_unresolved) {
		char **names = calloc((size_t)(n ? n : 1), sizeof(*names));
		if (!names)
			return dal__error_nomem();
		free_names(s);
		s->names = names;
		for (i = 0; i < n; i++) {
			const char *name = duckdb_column_name(&s->res, (idx_t)i);
			if (!(s->names[i] = dal__strdup(name ? name : "")))
				return DAL_ENOMEM;
			s->nnames++;
		}
		s->names_unresolved = false;
	}
	/* A cached statement is rebound by DuckDB when its table was replaced; the names may differ then. */
	for (i = 0; i < n; i++) {
		const char *name = duckdb_column_name(&s->res, (idx_t)i);
		char *copy;

		if (!name || strcmp(name, s->names[i]) == 0)
			continue;
		if (!(copy = dal__strdup(name)))
			return DAL_ENOMEM;
		free(s->names[i]);
		s->names[i] = copy;
	}
	s->base.ncols = n;
	for (i = 0; i < n; i++) {
		duck_col *col = &s->cols[i];
		char *alias;

		col->ltype = duckdb_column_logical_type(&s->res, (idx_t)i);
		col->type = duckdb_get_type_id(col->ltype);
		col->inner = DUCKDB_TYPE_INVALID;
		col->scale = 0;
		col->json = false;
		if (col->type == DUCKDB_TYPE_DECIMAL) {
			col->inner = duckdb_decimal_internal_type(col->ltype);
			col->scale = duckdb_decimal_scale(col->ltype);
		} else if (col->type == DUCKDB_TYPE_ENUM) {
			col->inner = duckdb_enum_internal_type(col->ltype);
		} else if (col->type == DUCKDB_TYPE_VARCHAR && (alias = duckdb_logical_type_get_alias(col->ltype))) {
			col->json = strcmp(alias, "JSON") == 0;
			duckdb_free(alias);
		}
	}
	return 0;
}

static bool returns_rows(duck_stmt *s)
{
	/* INSERT/UPDATE/DELETE without RETURNING and DDL answer with a "Count" or
	 * "Success" column that is not a row of the caller's. */
	return duckdb_result_return_type(s->res) == DUCKDB_RESULT_TYPE_QUERY_RESULT;
}

static int execute(duck_stmt *s)
{
	duck_conn *c = dconn(s->base.conn);
	duckdb_state rc;
	int error;

	s->nrows = s->changes = 0;
	/* A write outside a transaction is one of its own: it too waits its turn; so does one
	 * in a transaction begun read-only (dal enforces read_only on PostgreSQL only). */
	if ((error = may_write(duckdb_prepared_statement_type(s->ps)) ? write_lock(c) : refused(c)) < 0)
		return error;
	rc = s->stream ? duckdb_execute_prepared_streaming(s->ps, &s->res) : duckdb_execute_prepared(s->ps, &s->res);
	if (!c->in_tx)
		write_unlock(c);
	s->have_result = true;
	if (rc != DuckDBSuccess) {
		error = result_fail(c, &s->res);
		close_result(s);
		return error;
	}
	if (!returns_rows(s)) {
		s->changes = (int64_t)duckdb_rows_changed(&s->res);
		s->base.ncols = 0;
		close_result(s);
		return DAL__DONE;
	}
	if ((error = describe_result(s)) < 0) {
		close_result(s);
		return error;
	}
	return DAL__ROW;
}

/* The next non-empty chunk, or none at the end; a NULL chunk can also mean an error. */
static int next_chunk(duck_stmt *s)
{
	int i;

	drop_chunk(s);
	while ((s->chunk = duckdb_fetch_chunk(s->res)) != NULL) {
		if ((s->chunk_size = duckdb_data_chunk_get_size(s->chunk)) > 0)
			break;
		duckdb_destroy_data_chunk(&s->chunk);
	}
	if (!s->chunk) {
		const char *msg = duckdb_result_error(&s->res);
		if (msg && *msg)
			return result_fail(dconn(s->base.conn), &s->res);
		return DAL__DONE;
	}
	for (i = 0; i < s->base.ncols; i++) {
		duckdb_vector vec = duckdb_data_chunk_get_vector(s->chunk, (idx_t)i);
		s->cols[i].data = duckdb_vector_get_data(vec);
		s->cols[i].validity = duckdb_vector_get_validity(vec);
	}
	return DAL__ROW;
}

static int duck_step(dal_stmt *stmt)
{
	duck_stmt *s = (duck_stmt *)stmt;
	int rc;

	if (s->state == RUN_DONE)
		return DAL__DONE;
	if (s->state == RUN_IDLE) {
		s->state = RUN_DONE;
		if ((rc = execute(s)) != DAL__ROW)
			return rc;
		s->state = RUN_ROWS;
	} else if (++s->row < s->chunk_size) {
		s->nrows++;
		return DAL__ROW;
	}
	if ((rc = next_chunk(s)) == DAL__ROW) {
		s->nrows++;
		return DAL__ROW;
	}
	/* RETURNING reports no changed rows; the rows it returned are the changes. */
	if (rc == DAL__DONE && (s->kind == DUCKDB_STATEMENT_TYPE_INSERT || s->kind == DUCKDB_STATEMENT_TYPE_UPDATE ||
	                        s->kind == DUCKDB_STATEMENT_TYPE_DELETE))
		s->changes = s->nrows;
	s->state = RUN_DONE;
	/* Free a materialized result as soon as it is read; column names are our own copies. */
	close_result(s);
	return rc;
}

static const char *duck_column_name(dal_stmt *stmt, int col)
{
	duck_stmt *s = (duck_stmt *)stmt;

	return col >= 0 && col < s->nnames ? s->names[col] : NULL;
}

static const char *type_name(duckdb_type t)
{
	switch (t) {
	case DUCKDB_TYPE_INTERVAL: return "INTERVAL";
	case DUCKDB_TYPE_LIST: return "LIST";
	case DUCKDB_TYPE_STRUCT: return "STRUCT";
	case DUCKDB_TYPE_MAP: return "MAP";
	case DUCKDB_TYPE_ARRAY: return "ARRAY";
	case DUCKDB_TYPE_UNION: return "UNION";
	case DUCKDB_TYPE_BIT: return "BIT";
	case DUCKDB_TYPE_TIME_TZ: return "TIME WITH TIME ZONE";
	case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
	case DUCKDB_TYPE_TIME_NS: return "TIME_NS";
	default: return "an unknown type";
	}
}

static int set_text(duck_col *col, const char *p, size_t n, dal_value *out)
{
	int error;

	/* DuckDB's strings are not NUL-terminated; dal's text values are. */
	dal__str_clear(&col->text);
	if ((error = dal__str_putn(&col->text, p, n)) < 0)
		return error;
	out->type = col->json ? DAL_TYPE_JSON : DAL_TYPE_TEXT;
	out->len = n;
	out->v.s = col->text.ptr;
	return 0;
}

static int hugeint_to_int(int64_t *out, int64_t upper, uint64_t lower)
{
	if ((upper == 0 && lower <= (uint64_t)INT64_MAX) || (upper == -1 && lower > (uint64_t)INT64_MAX)) {
		*out = (int64_t)lower;
		return 0;
	}
	return -1;
}

static const double pow10_table[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35,
	1e36, 1e37, 1e38,
};

static double decimal_value(const duck_col *col, idx_t row)
{
	double v;

	switch (col->inner) {
	case DUCKDB_TYPE_SMALLINT: v = ((int16_t *)col->data)[row]; break;
	case DUCKDB_TYPE_INTEGER: v = ((int32_t *)col->data)[row]; break;
	case DUCKDB_TYPE_BIGINT: v = (double)((int64_t *)col->data)[row]; break;
	default: {
		duckdb_hugeint h = ((duckdb_hugeint *)col->data)[row];
		v = duckdb_hugeint_to_double(h);
	}
	}
	/* One correctly rounded division: exact for the digits a double holds. */
	return v / pow10_table[col->scale <= 38 ? col->scale : 38];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int scaled_ts(int64_t *out, int64_t v, int64_t mul, duck_stmt *s, int col)
{
	if (v > INT64_MAX / mul || v < INT64_MIN / mul)
		return dal__error(DAL_EINVAL, "duckdb: column '%s': timestamp out of range", s->names[col]);
	*out = v * mul;
	return 0;
}

static int uuid_text(duck_col *col, duckdb_hugeint h, dal_value *out)
{
	char buf[37];
	/* DuckDB stores a UUID with the top bit flipped, so that it sorts as a signed number. */
	uint64_t hi = (uint64_t)h.upper ^ (UINT64_C(1) << 63), lo = h.lower;

	snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32), (unsigned)(hi >> 16) & 0xffff,
		(unsigned)hi & 0xffff, (unsigned)(lo >> 48), (unsigned long long)(lo & UINT64_C(0xffffffffffff)));
	return set_text(col, buf, 36, out);
}

static int time_text(duck_col *col, int64_t us, dal_value *out)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%02lld:%02lld:%02lld.%06lld", (long long)(us / 3600000000LL),
		(long long)(us / 60000000LL % 60), (long long)(us / 1000000LL % 60), (long long)(us % 1000000LL));

	return set_text(col, buf, (size_t)n, out);
}

static int enum_text(duck_col *col, idx_t row, dal_value *out)
{
	idx_t k;
	char *name;
	int error;

	switch (col->inner) {
	case DUCKDB_TYPE_UTINYINT: k = ((uint8_t *)col->data)[row]; break;
	case DUCKDB_TYPE_USMALLINT: k = ((uint16_t *)col->data)[row]; break;
	default: k = ((uint32_t *)col->data)[row]; break;
	}
	if (!(name = duckdb_enum_dictionary_value(col->ltype, k)))
		return dal__error_nomem();
	error = set_text(col, name, strlen(name), out);
	duckdb_free(name);
	return error;
}

static int duck_column(dal_stmt *stmt, int i, dal_value *out)
{
	duck_stmt *s = (duck_stmt *)stmt;
	duck_col *col;
	idx_t r;
	int64_t v = 0;
	int error;

	if (s->state != RUN_ROWS || !s->chunk || i < 0 || i >= s->base.ncols)
		return dal__error(DAL_EINVAL, "duckdb: no column %d in the current row", i);
	col = &s->cols[i];
	r = s->row;
	out->len = 0;
	if (col->validity && !duckdb_validity_row_is_valid(col->validity, r)) {
		*out = dal_null();
		return 0;
	}
	switch (col->type) {
	case DUCKDB_TYPE_BOOLEAN: *out = dal_bool(((bool *)col->data)[r]); return 0;
	case DUCKDB_TYPE_TINYINT: *out = dal_int(((int8_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_SMALLINT: *out = dal_int(((int16_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_INTEGER: *out = dal_int(((int32_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_BIGINT: *out = dal_int(((int64_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_UTINYINT: *out = dal_int(((uint8_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_USMALLINT: *out = dal_int(((uint16_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_UINTEGER: *out = dal_int(((uint32_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_UBIGINT: {
		uint64_t u = ((uint64_t *)col->data)[r];
		if (u > (uint64_t)INT64_MAX)
			goto out_of_range;
		*out = dal_int((int64_t)u);
		return 0;
	}
	case DUCKDB_TYPE_HUGEINT: {
		duckdb_hugeint h = ((duckdb_hugeint *)col->data)[r];
		if (hugeint_to_int(&v, h.upper, h.lower) < 0)
			goto out_of_range;
		*out = dal_int(v);
		return 0;
	}
	case DUCKDB_TYPE_UHUGEINT: {
		duckdb_uhugeint h = ((duckdb_uhugeint *)col->data)[r];
		if (h.upper != 0 || h.lower > (uint64_t)INT64_MAX)
			goto out_of_range;
		*out = dal_int((int64_t)h.lower);
		return 0;
	}
	case DUCKDB_TYPE_FLOAT: *out = dal_double(((float *)col->data)[r]); return 0;
	case DUCKDB_TYPE_DOUBLE: *out = dal_double(((double *)col->data)[r]); return 0;
	case DUCKDB_TYPE_DECIMAL: *out = dal_double(decimal_value(col, r)); return 0;
	case DUCKDB_TYPE_VARCHAR:
	case DUCKDB_TYPE_BLOB: {
		duckdb_string_t *str = &((duckdb_string_t *)col->data)[r];
		const char *p = duckdb_string_t_data(str);
		uint32_t n = duckdb_string_t_length(*str);
		if (col->type == DUCKDB_TYPE_VARCHAR)
			return set_text(col, p, n, out);
		/* A blob needs no terminator: it points into the chunk, alive until the next step. */
		*out = dal_blob(n ? p : "", n);
		return 0;
	}
	case DUCKDB_TYPE_TIMESTAMP:
	case DUCKDB_TYPE_TIMESTAMP_TZ: *out = dal_timestamp(((int64_t *)col->data)[r]); return 0;
	case DUCKDB_TYPE_TIMESTAMP_S:
		if ((error = scaled_ts(&v, ((int64_t *)col->data)[r], 1000000, s, i)) < 0)
			return error;
		*out = dal_timestamp(v);
		return 0;
	case DUCKDB_TYPE_TIMESTAMP_MS:
		if ((error = scaled_ts(&v, ((int64_t *)col->data)[r], 1000, s, i)) < 0)
			return error;
		*out = dal_timestamp(v);
		return 0;
	case DUCKDB_TYPE_TIMESTAMP_NS: *out = dal_timestamp(floor_div(((int64_t *)col->data)[r], 1000)); return 0;
	case DUCKDB_TYPE_DATE:
		*out = dal_timestamp((int64_t)((int32_t *)col->data)[r] * 86400LL * 1000000LL);
		return 0;
	case DUCKDB_TYPE_TIME: return time_text(col, ((int64_t *)col->data)[r], out);
	case DUCKDB_TYPE_UUID: return uuid_text(col, ((duckdb_hugeint *)col->data)[r], out);
	case DUCKDB_TYPE_ENUM: return enum_text(col, r, out);
	case DUCKDB_TYPE_SQLNULL: *out = dal_null(); return 0;
	default:
		return dal__error(DAL_EUNSUPPORTED, "duckdb: column '%s' has type %s, which dal cannot read; "
			"CAST it to VARCHAR in the query", s->names[i], type_name(col->type));
	}
out_of_range:
	return dal__error(DAL_EINVAL, "duckdb: column '%s': integer value does not fit in int64", s->names[i]);
}

static int64_t duck_changes(dal_stmt *stmt)
{
	return ((duck_stmt *)stmt)->changes;
}

static int duck_reset(dal_stmt *stmt)
{
	duck_stmt *s = (duck_stmt *)stmt;

	close_result(s);
	s->state = RUN_IDLE;
	duckdb_clear_bindings(s->ps);
	return 0;
}

static int duck_begin(dal_conn *conn, unsigned flags)
{
	duck_conn *c = dconn(conn);
	int error;

	/*
	 * DuckDB has snapshot isolation only, and no read-only transactions to ask for.
	 * Write transactions take the writer lock before their snapshot, so they run one
	 * after another: serializable. A SERIALIZABLE one begun read-only takes it too, as
	 * a write of its own later would otherwise act on a snapshot older than the last commit.
	 */
	if ((!(flags & DAL__TX_READ_ONLY) || (flags & DAL__TX_SERIALIZABLE)) && (error = write_lock(c)) < 0)
		return error;
	if ((error = duck_query(c, "BEGIN TRANSACTION")) < 0) {
		write_unlock(c);
		return error;
	}
	c->in_tx = true;
	c->poisoned = false;
	c->fail_code = 0;
	c->fail_msg[0] = '\0';
	return 0;
}

static void end_tx(duck_conn *c)
{
	write_unlock(c);
	c->in_tx = false;
	c->poisoned = false;
	c->fail_code = 0;
	c->fail_msg[0] = '\0';
}

static int duck_rollback(dal_conn *conn)
{
	duck_conn *c = dconn(conn);
	duckdb_result res;
	int error = 0;

	end_tx(c);
	if (duckdb_query(c->con, "ROLLBACK", &res) != DuckDBSuccess) {
		const char *msg = duckdb_result_error(&res);
		/* A failed COMMIT has already ended the transaction: nothing is left to undo. */
		if (!(msg && strstr(msg, "no transaction is active")))
			error = result_fail(c, &res);
	}
	duckdb_destroy_result(&res);
	return error;
}

static int duck_commit(dal_conn *conn)
{
	duck_conn *c = dconn(conn);
	char cause[sizeof(c->fail_msg)];
	int cause_code = c->fail_code, error;

	if (c->poisoned) {
		memcpy(cause, c->fail_msg, sizeof(cause));
		duck_rollback(conn);
		return dal__error(DAL_EINVAL, "duckdb: nothing was committed: a bulk insert failed in this transaction "
			"(%s); it has been rolled back", cause[0] ? cause : "see its error");
	}
	if (cause_code) {
		/* Only an execution failure aborts the transaction (a bad prepare does not),
		 * and DuckDB would then take COMMIT as a silent rollback: ask it. */
		duckdb_result res;
		bool aborted = duckdb_query(c->con, "SELECT 1", &res) != DuckDBSuccess;

		duckdb_destroy_result(&res);
		if (aborted) {
			memcpy(cause, c->fail_msg, sizeof(cause));
			duck_rollback(conn);
			return dal__error_engine(cause_code == DAL_ESERIALIZE ? DAL_ESERIALIZE : DAL_EINVAL, NULL,
				DUCKDB_ERROR_TRANSACTION, "duckdb: nothing was committed: an earlier statement failed and "
				"aborted the transaction (%s); it has been rolled back", cause);
		}
	}
	error = duck_query(c, "COMMIT");
	end_tx(c);
	return error;
}

/* The appender's messages name neither the table nor the column: say which. */
static int appender_fail(duck_conn *c, duckdb_appender app, const char *table, const char *col)
{
	duckdb_error_data err = app ? duckdb_appender_error_data(app) : NULL;
	char msg[640];
	int error;

	if (err && duckdb_error_data_has_error(err)) {
		snprintf(msg, sizeof(msg), "bulk insert into '%s'%s%s%s: %s", table, col ? ", column '" : "",
			col ? col : "", col ? "'" : "", duckdb_error_data_message(err));
		error = duck_fail(c, duckdb_error_data_error_type(err), msg);
	} else
		error = dal__error(DAL_ERROR, "duckdb: the appender for table '%s' failed", table);
	duckdb_destroy_error_data(&err);
	return error;
}

static duckdb_state append_value(duckdb_appender app, const dal_value *v)
{
	switch (v->type) {
	case DAL_TYPE_NULL: return duckdb_append_null(app);
	case DAL_TYPE_BOOL: return duckdb_append_bool(app, v->v.b);
	case DAL_TYPE_INT: return duckdb_append_int64(app, v->v.i);
	case DAL_TYPE_DOUBLE: return duckdb_append_double(app, v->v.d);
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON: return duckdb_append_varchar_length(app, v->len ? v->v.s : "", v->len);
	case DAL_TYPE_BLOB: return duckdb_append_blob(app, v->len ? v->v.p : "", v->len);
	case DAL_TYPE_TIMESTAMP: return duckdb_append_timestamp(app, to_ts(v->v.ts));
	}
	return DuckDBError;
}

/*
 * The Appender writes into the table in the connection's transaction; columns
 * not named get their DEFAULT (a sequence's nextval too). It flushes on its own
 * every so many rows and again when destroyed, so a failure half-way can leave
 * rows behind: it runs in a transaction of its own, or poisons the caller's.
 */
static int duck_bulk_insert(dal_conn *conn, const char *table, const char *const *cols, size_t ncols,
                            const dal_value *values, size_t nrows, size_t *failed_row)
{
	duck_conn *c = dconn(conn);
	duckdb_appender app = NULL;
	bool own_tx = !c->in_tx;
	size_t r, k;
	int error = 0;

	if (!table || !ncols || !cols || (nrows && !values))
		return dal__error(DAL_EINVAL, "duckdb: bulk insert without a table, columns or values");
	if (own_tx && (error = duck_begin(conn, 0)) < 0)
		return error;
	if (duckdb_appender_create(c->con, NULL, table, &app) != DuckDBSuccess) {
		error = appender_fail(c, app, table, NULL);
		goto done;
	}
	for (k = 0; k < ncols; k++) {
		if (duckdb_appender_add_column(app, cols[k]) != DuckDBSuccess) {
			error = appender_fail(c, app, table, cols[k]);
			goto done;
		}
	}
	for (r = 0; r < nrows; r++) {
		for (k = 0; k < ncols; k++) {
			const dal_value *v = &values[r * ncols + k];
			if (v->type < DAL_TYPE_NULL || v->type > DAL_TYPE_JSON) {
				error = dal__error(DAL_EINVAL, "duckdb: row %zu, column '%s': unknown value type %d",
					r, cols[k], (int)v->type);
				if (failed_row)
					*failed_row = r;
				goto done;
			}
			if (append_value(app, v) != DuckDBSuccess) {
				error = appender_fail(c, app, table, cols[k]);
				if (failed_row)
					*failed_row = r;
				goto done;
			}
		}
		if (duckdb_appender_end_row(app) != DuckDBSuccess) {
			error = appender_fail(c, app, table, NULL);
			goto done;
		}
	}
	/* Constraint violations surface here, when the rows reach the table. */
	if (duckdb_appender_close(app) != DuckDBSuccess)
		error = appender_fail(c, app, table, NULL);
done:
	duckdb_appender_destroy(&app);
	if (own_tx) {
		duckdb_result res;
		duckdb_state rc = duckdb_query(c->con, error < 0 ? "ROLLBACK" : "COMMIT", &res);
		if (rc != DuckDBSuccess && error == 0)
			error = result_fail(c, &res);
		duckdb_destroy_result(&res);
		end_tx(c);
	} else if (error < 0) {
		c->poisoned = true;
	}
	return error;
}

static const dal_dialect duck_dialect = {
	.quote = '"',
	.placeholder = DAL_PH_QMARK,
	/* JSON is built into DuckDB's official build (the json extension is statically linked). */
	.types = { "", "BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "BLOB", "TIMESTAMP", "JSON" },
	.varchar = NULL,   /* DuckDB ignores VARCHAR lengths */
	.autoinc_pk = "BIGINT PRIMARY KEY DEFAULT nextval('%s_id_seq')",
	.autoinc_pre = "CREATE SEQUENCE IF NOT EXISTS \"%s_id_seq\"",
	.next_ids_sql = "SELECT nextval('%s_id_seq') FROM range(?)",
	/*
	 * DuckDB 1.4 has no setval and no ALTER SEQUENCE ... RESTART: a sequence moves only
	 * by drawing from it (nextval is not undone by a rollback). One draw finds where it
	 * stands, then the gap is drawn, if it is at most 2^24 ids (about a second); past
	 * that nothing more is drawn and dal refuses the ids.
	 */
	.id_seq_past_sql = "SELECT coalesce(max(nextval('%s_id_seq')), currval('%s_id_seq')) FROM range(("
		"SELECT CASE WHEN n > 16777216 THEN 0 ELSE n END FROM (SELECT ?::BIGINT - nextval('%s_id_seq') AS n)))",
	.like_escape = " ESCAPE '\\'",
	.table_count_sql = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
	/* No partial indexes; `expressions` is text, "[email]", a keyword quoted: "['\"order\"']". */
	.index_list_sql = "WITH p AS (SELECT ?::VARCHAR AS t, ?::VARCHAR AS c) "
		"SELECT index_name, is_unique::INTEGER, 0, "
		"(expressions = '[' || p.c || ']' OR expressions = '[''\"' || p.c || '\"'']')::INTEGER "
		"FROM duckdb_indexes(), p WHERE table_name = p.t AND schema_name = current_schema() "
		"AND database_name = current_database()",
	.column_list_sql = "SELECT column_name, CASE WHEN data_type = 'BOOLEAN' THEN 1 "
		"WHEN data_type IN ('BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT', 'UBIGINT', 'UINTEGER', "
		"'USMALLINT', 'UTINYINT') THEN 2 "
		"WHEN data_type IN ('DOUBLE', 'FLOAT') OR data_type LIKE 'DECIMAL%' THEN 3 "
		"WHEN data_type = 'VARCHAR' THEN 4 WHEN data_type = 'BLOB' THEN 5 "
		"WHEN data_type LIKE 'TIMESTAMP%' THEN 6 WHEN data_type = 'JSON' THEN 7 ELSE 0 END, "
		"(is_nullable = 'NO')::INTEGER, (column_default IS NOT NULL)::INTEGER, data_type, 0 "
		"FROM information_schema.columns WHERE table_schema = current_schema() "
		"AND table_catalog = current_database() AND table_name = ?::VARCHAR",
	.ident_nocase = true,
	.alter_column = true,
	/* DuckDB binds each of many parameters slowly (a 70,000-value list: seconds); one JSON one is fast. */
	.in_array = " IN (SELECT unnest(from_json(?, '[\"%s\"]')))",
	.in_array_form = DAL_ARRAY_JSON,
};

const dal_driver dal__driver_duckdb = {
	.scheme = "duckdb",
	.name = "duckdb",
	/* No SAVEPOINT in DuckDB. Not DAL_CAP_MULTI_WRITER: dal runs one write transaction at
	 * a time (duck_writer); a writer that waits past busy_timeout_ms gets DAL_EBUSY. */
	.caps = DAL_CAP_RETURNING | DAL_CAP_MULTI_CONN | DAL_CAP_BULK_INSERT,
	.dialect = &duck_dialect,
	.db_open = duck_db_open,
	.db_close = duck_db_close,
	.connect = duck_connect,
	.disconnect = duck_disconnect,
	.ping = duck_ping,
	.exec = duck_exec,
	.prepare = duck_prepare,
	.bind = duck_bind,
	.step = duck_step,
	.column_name = duck_column_name,
	.column = duck_column,
	.changes = duck_changes,
	.reset = duck_reset,
	.finalize = duck_finalize,
	.readonly = duck_readonly,
	.begin = duck_begin,
	.commit = duck_commit,
	.rollback = duck_rollback,
	.bulk_insert = duck_bulk_insert,
};
