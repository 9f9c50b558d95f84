/* PostgreSQL: the server engine, through libpq. */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "driver/driver.h"
#include "sql/placeholder.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"
#include "util/str.h"

/* Built-in type OIDs (catalog/pg_type_d.h is a server header; these never change). */
enum {
	OID_BOOL = 16, OID_BYTEA = 17, OID_INT8 = 20, OID_INT2 = 21, OID_INT4 = 23, OID_TEXT = 25,
	OID_OID = 26, OID_JSON = 114, OID_FLOAT4 = 700, OID_FLOAT8 = 701, OID_TIMESTAMP = 1114,
	OID_TIMESTAMPTZ = 1184, OID_NUMERIC = 1700, OID_JSONB = 3802, OID_VARCHAR = 1043
};

struct pg_stmt;

typedef struct pg_conn {
	dal_conn base;
	PGconn *pg;
	unsigned next_id;            /* names server-side statements "dal_<n>" */
	struct pg_stmt *streaming;   /* whose rows are still arriving: the connection is busy */
	/*
	 * DEALLOCATEs of finalized statements, sent with the next prepare: finalize
	 * then costs no round trip, and closing a connection none at all (the
	 * server drops a session's statements with it).
	 */
	dal_str dealloc;
	int stmt_ms;                 /* statement_timeout_ms: the server's bound of a statement; 0 none */
	int cfg_stmt_ms;             /* the bound the configuration gave, for set_statement_timeout(-1) */
	int ping_ms;                 /* a ping's bound; 0 none */
} pg_conn;

typedef struct pg_blob {
	unsigned char *p;
	size_t cap;
} pg_blob;

typedef struct pg_stmt {
	dal_stmt base;
	char name[24];
	bool stream;
	bool reads;            /* a SELECT, SHOW, VALUES or TABLE: it changes nothing when run alone */
	PGresult *desc;        /* PQdescribePrepared: parameter types, column names and types */
	/* bound parameters */
	const char **values;
	int *lengths;
	int *formats;
	size_t *offs;          /* offset of a text value in `text`, or SIZE_MAX */
	dal_str text;          /* text-format values, each NUL-terminated */
	/* the current execution */
	bool executed;
	bool open;             /* streaming: the server has more results for us */
	bool open_in_tx;       /* the stream started inside a transaction */
	PGresult *res;
	int row, nrows;
	int64_t changes;
	pg_blob *blobs;        /* one per column: decoded bytea of the current row */
} pg_stmt;

static pg_conn *pconn(dal_conn *c) { return (pg_conn *)c; }

/* Copy @p src to @p dst on one line: newlines and tabs become spaces, runs collapse. */
static void one_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	bool space = false;

	for (; src && *src && n + 1 < size; src++) {
		if (*src == '\n' || *src == '\r' || *src == '\t' || *src == ' ') {
			space = n > 0;
			continue;
		}
		if (space && n + 2 < size)
			dst[n++] = ' ';
		space = false;
		dst[n++] = *src;
	}
	dst[n] = '\0';
}

/* libpq's own messages start with the severity; dal's message says it already. */
static const char *skip_severity(const char *msg)
{
	static const char *const prefixes[] = { "ERROR:", "FATAL:", "PANIC:", NULL };
	size_t i;

	for (i = 0; msg && prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(msg, prefixes[i], n) == 0)
			return msg + n + strspn(msg + n, " ");
	}
	return msg ? msg : "";
}

static bool conn_lost_state(const char *state)
{
	return state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
		strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0);
}

static int code_of(const char *state)
{
	if (!state || strlen(state) != 5)
		return DAL_ERROR;
	if (strncmp(state, "23", 2) == 0)
		return DAL_ECONSTRAINT;
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return DAL_ESERIALIZE;
	if (conn_lost_state(state))
		return DAL_ECONN;
	if (strncmp(state, "42", 2) == 0)
		return DAL_ESQL;
	/* 22 data exceptions; 54 program limits (a JSON document nested too deep, too many
	 * columns or arguments): the request, not the server, is at fault and a retry repeats it. */
	if (strncmp(state, "22", 2) == 0 || strncmp(state, "54", 2) == 0)
		return DAL_EINVAL;
	if (strcmp(state, "53200") == 0)
		return DAL_ENOMEM;
	if (strcmp(state, "53300") == 0)   /* too_many_connections */
		return DAL_ECONN;
	if (strncmp(state, "53", 2) == 0 || strncmp(state, "58", 2) == 0 || strncmp(state, "XX", 2) == 0)
		return DAL_EIO;
	if (strcmp(state, "55P03") == 0)
		return DAL_EBUSY;
	if (strcmp(state, "57014") == 0)
		return DAL_ETIMEOUT;
	if (strcmp(state, "0A000") == 0)
		return DAL_EUNSUPPORTED;
	return DAL_ERROR;
}

/*
 * What names a constraint failure, without the row: the server's DETAIL quotes
 * the values ("Key (email)=(a@b.c) already exists.", "Failing row contains
 * (...)") and the driver cannot tell a DAL_SENSITIVE column from another, so
 * it is never copied. Kept: the table and column fields (where the message
 * does not name them already) and the column list of a "Key (cols)=(vals)"
 * detail, which ends at its first ")=(": a value comes after that and cannot
 * move it earlier. A translated detail keeps nothing.
 */
static bool names(const char *msg, const char *name)
{
	char quoted[80];

	snprintf(quoted, sizeof(quoted), "\"%s\"", name);
	return strstr(msg, quoted) != NULL;
}

static void constraint_detail(char *det, size_t size, const PGresult *res, const char *msg)
{
	const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), *end = NULL;
	char cols[160] = "";
	size_t n = 0;

	if (detail && strncmp(detail, "Key (", 5) == 0 && (end = strstr(detail + 5, ")=(")) != NULL) {
		n = (size_t)(end - detail - 5);
		memcpy(cols, detail + 5, n < sizeof(cols) ? n : sizeof(cols) - 1);
		cols[n < sizeof(cols) ? n : sizeof(cols) - 1] = '\0';
		n = 0;
	}
	det[0] = '\0';
	if (table && *table && !names(msg, table))
		n += (size_t)snprintf(det + n, size - n, "table \"%s\"", table);
	if (column && *column && !names(msg, column) && n < size)
		n += (size_t)snprintf(det + n, size - n, "%scolumn \"%s\"", n ? ", " : "", column);
	if (*cols && n < size)
		snprintf(det + n, size - n, "%skey (%s)", n ? ", " : "", cols);
}

/*
 * The one mapping from a failed libpq call to dal's codes, by SQLSTATE; a
 * connection libpq reports as bad is DAL_ECONN whatever the result says, and
 * is never reused. @p res may be NULL (libpq gave no result). Classes 22 and
 * 23 (data exceptions, constraint violations) quote row values: their DETAIL
 * is left out, a data exception's quoted value masked (docs/errors.md).
 */
static int pg_fail(pg_conn *c, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	char msg[640], det[320] = "";
	int code = code_of(state);

	if (!primary)
		primary = skip_severity(res && *PQresultErrorMessage(res) ? PQresultErrorMessage(res)
		                                                          : PQerrorMessage(c->pg));
	if (!res && PQstatus(c->pg) == CONNECTION_OK && !*primary)
		return dal__error_nomem();
	one_line(msg, sizeof(msg), primary);
	/* An identity at its maximum: the quoted text is the sequence's name, not a value. */
	if (state && strcmp(state, "2200H") == 0 && PQstatus(c->pg) == CONNECTION_OK)
		return dal__driver_ids_used_up("postgresql", state, 0, NULL, msg);
	if (state && strncmp(state, "23", 2) == 0)
		constraint_detail(det, sizeof(det), res, msg);
	else if (state && strncmp(state, "22", 2) == 0)
		dal__driver_mask_quoted(msg, sizeof(msg));
	else if (detail)
		one_line(det, sizeof(det), detail);
	if (PQstatus(c->pg) == CONNECTION_BAD || code == DAL_ECONN) {
		code = DAL_ECONN;
		c->base.broken = true;
	}
	if (!*msg)
		snprintf(msg, sizeof(msg), "%s", code == DAL_ECONN ? "the connection was lost" : "unknown failure");
	return dal__error_engine(code, state, 0, "postgresql: %s%s%s", msg, *det ? ": " : "", det);
}

/* ---- Every wait on the server ends by a deadline ---- */

/*
 * A statement's bound is kept twice: by the server (statement_timeout, set at
 * connect), which answers 57014 and keeps the connection usable, and on the
 * socket, this much later, for a server that answers nothing at all. A server
 * stopped or frozen (SIGSTOP, a paused VM) has its own timer frozen too, while
 * its kernel still acknowledges every packet, so neither TCP keepalives nor
 * tcp_user_timeout ever end the wait.
 */
#define PG_MARGIN_MS 1000

/* One wait's bound, and what it stands for in the message. */
typedef struct pg_wait {
	int64_t deadline;   /* CLOCK_MONOTONIC microseconds; 0: no bound */
	int64_t ms;         /* the whole bound */
	int server_ms;      /* the server's own part of it (statement_timeout), or 0 */
	const char *what;
} pg_wait;

static pg_wait wait_of(int64_t ms, int server_ms, const char *what)
{
	pg_wait w = { ms > 0 ? dal__mono_us() + ms * 1000 : 0, ms, server_ms, what };

	return w;
}

static pg_wait stmt_wait(const pg_conn *c, const char *what)
{
	return wait_of(c->stmt_ms > 0 ? (int64_t)c->stmt_ms + PG_MARGIN_MS : 0, c->stmt_ms, what);
}

/* poll()'s timeout for what is left of a deadline, rounded up; -1 waits without one. */
static int poll_ms(int64_t deadline, int64_t now)
{
	int64_t left = (deadline - now + 999) / 1000;

	if (!deadline)
		return -1;
	return left > INT_MAX ? INT_MAX : left < 0 ? 0 : (int)left;
}

/* No answer in time: the connection is given up, closed when it goes back to the pool and never reused. */
static int no_answer(pg_conn *c, const pg_wait *w)
{
	c->base.broken = true;
	if (c->streaming) {
		c->streaming->open = false;
		c->streaming = NULL;
	}
	if (w->server_ms > 0)
		return dal__error(DAL_ETIMEOUT, "postgresql: no answer from the server to %s within %lld ms "
			"(statement_timeout_ms %d, which the server did not enforce, plus %d ms); the connection "
			"is dropped", w->what, (long long)w->ms, w->server_ms, PG_MARGIN_MS);
	return dal__error(DAL_ETIMEOUT, "postgresql: no answer from the server to %s within %lld ms; the "
		"connection is dropped", w->what, (long long)w->ms);
}

static int wait_socket(pg_conn *c, short events, const pg_wait *w)
{
	struct pollfd p = { .fd = PQsocket(c->pg), .events = events };
	int64_t now;
	int rc;

	if (p.fd < 0)
		return pg_fail(c, NULL);
	for (;;) {
		now = w->deadline ? dal__mono_us() : 0;
		if (w->deadline && now >= w->deadline)
			return no_answer(c, w);
		if ((rc = poll(&p, 1, poll_ms(w->deadline, now))) > 0)
			return 0;
		if (rc < 0 && errno != EINTR) {
			c->base.broken = true;
			return dal__error(DAL_ECONN, "postgresql: waiting on the connection failed: %s", strerror(errno));
		}
	}
}

/* Send what libpq holds (the connection is in non-blocking mode). */
static int flush_out(pg_conn *c, const pg_wait *w)
{
	int rc, error;

	while ((rc = PQflush(c->pg)) == 1) {
		if ((error = wait_socket(c, POLLIN | POLLOUT, w)) < 0)
			return error;
		/* Reading what came lets a server that is blocked writing to us go on reading (libpq's advice). */
		if (!PQconsumeInput(c->pg))
			return pg_fail(c, NULL);
	}
	return rc == 0 ? 0 : pg_fail(c, NULL);
}

/* Read until PQgetResult() will not block. A connection libpq found dead has its error result ready. */
static int await_result(pg_conn *c, const pg_wait *w)
{
	int error;

	while (PQstatus(c->pg) != CONNECTION_BAD && PQisBusy(c->pg)) {
		if ((error = wait_socket(c, POLLIN, w)) < 0)
			return error;
		if (!PQconsumeInput(c->pg) && PQstatus(c->pg) != CONNECTION_BAD)
			return pg_fail(c, NULL);
	}
	return 0;
}

/* Read and drop the results still due, up to libpq's NULL. */
static int drain_results(pg_conn *c, const pg_wait *w)
{
	PGresult *res;
	int error;

	for (;;) {
		if ((error = await_result(c, w)) < 0)
			return error;
		if (!(res = PQgetResult(c->pg)))
			return 0;
		PQclear(res);
	}
}

/*
 * After a PQsend* call (`sent` its return value): send, then read every result
 * as PQexec() keeps them: the first error, else the last result; a COPY ends
 * the reading. NULL with *error set when the connection failed or went silent.
 */
static PGresult *finish_send(pg_conn *c, int sent, const pg_wait *w, int *error)
{
	PGresult *keep = NULL, *res;
	ExecStatusType st;

	if (!sent) {
		*error = pg_fail(c, NULL);
		return NULL;
	}
	if ((*error = flush_out(c, w)) < 0)
		return NULL;
	for (;;) {
		if ((*error = await_result(c, w)) < 0) {
			PQclear(keep);
			return NULL;
		}
		if (!(res = PQgetResult(c->pg)))
			return keep;
		st = PQresultStatus(res);
		if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
			PQclear(res);
		} else {
			PQclear(keep);
			keep = res;
		}
		if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH)
			return keep;
	}
}

static PGresult *run_sql(pg_conn *c, const char *sql, const pg_wait *w, int *error)
{
	return finish_send(c, PQsendQuery(c->pg, sql), w, error);
}

/* A streamed result holds the connection until it is read to the end or dropped. */
static int check_idle(pg_conn *c, const pg_stmt *self)
{
	if (c->base.broken)
		return dal__error(DAL_ECONN, "postgresql: this connection was lost or gave no answer in time, "
			"and is closed; nothing more runs on it");
	if (c->streaming && c->streaming != self)
		return dal__error(DAL_EBUSY, "postgresql: rows of another statement are still being read on "
			"this connection; finish or reset that statement first");
	return 0;
}

static void stream_finish(pg_stmt *s)
{
	pg_conn *c = pconn(s->base.conn);

	s->open = false;
	if (c->streaming == s)
		c->streaming = NULL;
}

/*
 * Drop the unread rows of a streamed statement. Outside a transaction the
 * connection is closed, so that a caller who stops after the first of a
 * million rows does not wait for the other 999,999 (PQcancel would spare the
 * connection, but libpq 15 waits for the server's answer to it without any
 * bound, forever on a frozen server); inside one, ending the query would end
 * the caller's transaction, so the rows are read and dropped.
 */
static void stream_drain(pg_stmt *s, bool may_close)
{
	pg_conn *c = pconn(s->base.conn);
	pg_wait w;

	if (!s->open)
		return;
	PQclear(s->res);
	s->res = NULL;
	if (may_close)
		c->base.broken = true;
	if (!c->base.broken) {
		w = stmt_wait(c, "a statement whose rows were being dropped");
		drain_results(c, &w);
	}
	stream_finish(s);
}

static int exec_wait(pg_conn *c, const char *sql, const pg_wait *w)
{
	PGresult *res;
	int error;

	if ((error = check_idle(c, NULL)) < 0)
		return error;
	res = run_sql(c, sql, w, &error);
	if (error == 0) {
		switch (PQresultStatus(res)) {
		case PGRES_COMMAND_OK:
		case PGRES_TUPLES_OK:
		case PGRES_EMPTY_QUERY:
			break;
		default:
			error = pg_fail(c, res);
		}
	}
	PQclear(res);
	return error;
}

static int pg_exec(dal_conn *conn, const char *sql)
{
	pg_wait w = stmt_wait(pconn(conn), "a statement");

	return exec_wait(pconn(conn), sql, &w);
}

/*
 * Connection messages come from libpq, which never quotes a password; still,
 * a secret that happens to equal a host or database name would show, so every
 * occurrence of every secret of the URL (password, sslpassword...) is masked.
 */
static void mask_secret(char *msg, const char *secret)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	if (n == 0)
		return;
	while ((p = strstr(msg, secret)) != NULL)
		memset(p, '*', n);
}

static void mask_secrets(char *msg, const dal_url *url)
{
	size_t i;

	mask_secret(msg, url->password);
	for (i = 0; i < url->noptions; i++)
		if (dal__url_key_secret(url->keys[i]))
			mask_secret(msg, url->values[i]);
}

/*
 * libpq reports a refused login as text only; the server's messages for the
 * two common mistakes are recognized (in English) to keep their SQLSTATE.
 */
static const char *connect_sqlstate(const char *msg, const char **hint)
{
	if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied")) {
		*hint = " (check the user name and password)";
		return "28P01";
	}
	if (strstr(msg, "database \"") && strstr(msg, "does not exist")) {
		*hint = " (check the database name)";
		return "3D000";
	}
	if (strstr(msg, "role \"") && strstr(msg, "does not exist")) {
		*hint = " (check the user name)";
		return "28000";
	}
	if (strstr(msg, "too many clients"))
		return "53300";
	return "08001";
}

static int connect_timed_out(const dal_url *url, int timeout_s)
{
	return dal__error_engine(DAL_ECONN, "08001", 0, "postgresql: cannot connect to %s: no answer within "
		"connect_timeout %d s", url->redacted ? url->redacted : "the server", timeout_s);
}

static int connect_failed(PGconn *pg, const dal_url *url)
{
	char msg[768];
	const char *hint = "", *state;

	one_line(msg, sizeof(msg), skip_severity(pg ? PQerrorMessage(pg) : "out of memory"));
	mask_secrets(msg, url);
	state = connect_sqlstate(msg, &hint);
	return dal__error_engine(DAL_ECONN, state, 0, "postgresql: cannot connect to %s: %s%s",
		url->redacted ? url->redacted : "the server", msg, hint);
}

/*
 * libpq's default prints notices ("table ... does not exist, skipping") to
 * stderr; dal never prints, so they go to dal's log: warnings as warnings,
 * the rest as debug lines.
 */
static void on_notice(void *payload, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	char msg[512];

	(void)payload;
	one_line(msg, sizeof(msg), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	dal__log(sev && strcmp(sev, "WARNING") == 0 ? DAL_LOG_WARN : DAL_LOG_DEBUG, "postgresql: %s", msg);
}

static bool url_has(const dal_url *url, const char *key)
{
	return dal__url_option(url, key) != NULL;
}

/*
 * Session settings dal's value conversions rely on: timestamps are read and
 * written as UTC in ISO form, text is UTF-8, doubles print with every digit
 * (so they read back bit-exact), bytea comes as hex.
 */
static const char session_sql[] =
	"SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET client_encoding = 'UTF8'; "
	"SET extra_float_digits = 3; SET bytea_output = 'hex'";

/*
 * Connect by libpq's asynchronous steps against one deadline, which covers
 * every host, TLS and the login: PQconnectdbParams' own connect_timeout is per
 * host and never below 2 s. A frozen server is the case to bound: its kernel
 * completes the TCP handshake, and then nothing answers the startup packet.
 * -1 on failure, with *timed_out set if the deadline passed.
 */
static int connect_within(PGconn *pg, int timeout_s, bool *timed_out)
{
	int64_t deadline = timeout_s > 0 ? dal__mono_us() + (int64_t)timeout_s * 1000000 : 0, now;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;   /* libpq: start as if it said WRITING */
	struct pollfd p;
	int rc;

	*timed_out = false;
	if (PQstatus(pg) == CONNECTION_BAD)
		return -1;
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED)
			return -1;
		now = deadline ? dal__mono_us() : 0;
		if (deadline && now >= deadline) {
			*timed_out = true;
			return -1;
		}
		p.fd = PQsocket(pg);
		p.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		p.revents = 0;
		if ((rc = poll(&p, 1, poll_ms(deadline, now))) < 0 && errno != EINTR)
			return -1;
		if (rc > 0)
			st = PQconnectPoll(pg);
	}
	return 0;
}

/* The URL's connect_timeout (whole seconds, checked by the URL parser) wins over the config's. */
static int connect_timeout_of(const dal_url *url, const dal_config *cfg)
{
	const char *v = dal__url_option(url, "connect_timeout");
	long s = v ? strtol(v, NULL, 10) : cfg->connect_timeout_s;

	return s > INT_MAX / 1000 ? INT_MAX / 1000 : (int)s;
}

/* Session settings, the server's statement bound included; the connection stays non-blocking. */
static int session_start(pg_conn *c, const dal_config *cfg, int timeout_s)
{
	char sql[sizeof(session_sql) + 48];

	c->stmt_ms = cfg->statement_timeout_ms > 0 ? cfg->statement_timeout_ms : 0;
	c->cfg_stmt_ms = c->stmt_ms;
	/* A ping has no server-side timer: it gets the shorter of the statement and connect bounds. */
	c->ping_ms = c->stmt_ms;
	if (timeout_s > 0 && (c->ping_ms == 0 || timeout_s * 1000 < c->ping_ms))
		c->ping_ms = timeout_s * 1000;
	if (PQsetnonblocking(c->pg, 1) != 0)
		return pg_fail(c, NULL);
	/* No bound leaves the server's own setting (a role's or database's default) as it is. */
	if (c->stmt_ms == 0)
		return pg_exec(&c->base, session_sql);
	snprintf(sql, sizeof(sql), "%s; SET statement_timeout = %d", session_sql, c->stmt_ms);
	return pg_exec(&c->base, sql);
}

/* For one session's work of unknown length (a migration): its own bound, then the configured one again. */
static int pg_set_statement_timeout(dal_conn *conn, int ms)
{
	pg_conn *c = (pg_conn *)conn;
	char sql[64];

	c->stmt_ms = ms < 0 ? c->cfg_stmt_ms : ms;
	if (ms < 0 && c->stmt_ms == 0)
		return pg_exec(conn, "RESET statement_timeout");
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", c->stmt_ms);
	return pg_exec(conn, sql);
}

static int pg_connect(dal_conn **out, void *shared, const dal_url *url, const dal_config *cfg)
{
	pg_conn *c = NULL;
	const char **keys = NULL, **vals = NULL;
	size_t n = 0, i;
	int error = 0, timeout_s = connect_timeout_of(url, cfg);
	bool timed_out = false;

	(void)shared;
	*out = NULL;
	keys = calloc(url->noptions + 16, sizeof(*keys));
	vals = calloc(url->noptions + 16, sizeof(*vals));
	if (!keys || !vals || !(c = calloc(1, sizeof(*c)))) {
		error = dal__error_nomem();
		goto done;
	}
	c->base.drv = &dal__driver_postgres;
#define ADD(k, v) do { keys[n] = (k); vals[n] = (v); n++; } while (0)
	if (url->hosts && *url->hosts)
		ADD("host", url->hosts);
	if (url->ports && *url->ports)
		ADD("port", url->ports);
	if (url->user)
		ADD("user", url->user);
	if (url->password)
		ADD("password", url->password);
	if (url->dbname)
		ADD("dbname", url->dbname);
	/* libpq's defaults wait forever for a dead server; dal's settings apply unless the URL says
	 * (connect_timeout is dal's own deadline, connect_within()). */
	if (!url_has(url, "keepalives"))
		ADD("keepalives", "1");
	if (!url_has(url, "keepalives_idle"))
		ADD("keepalives_idle", "30");
	if (!url_has(url, "tcp_user_timeout"))
		ADD("tcp_user_timeout", "30000");
	ADD("fallback_application_name", "dal");
	/* Query options come last: libpq lets a later keyword override an earlier one. */
	for (i = 0; i < url->noptions; i++)
		ADD(url->keys[i], url->values[i]);
#undef ADD
	keys[n] = NULL;
	vals[n] = NULL;

	c->pg = PQconnectStartParams(keys, vals, 0);
	if (!c->pg || connect_within(c->pg, timeout_s, &timed_out) < 0) {
		error = timed_out ? connect_timed_out(url, timeout_s) : connect_failed(c->pg, url);
		goto done;
	}
	PQsetNoticeReceiver(c->pg, on_notice, NULL);
	if ((error = session_start(c, cfg, timeout_s)) < 0)
		goto done;
	*out = &c->base;
	c = NULL;
done:
	if (c) {
		PQfinish(c->pg);
		free(c);
	}
	free(keys);
	free(vals);
	return error;
}

static void pg_disconnect(dal_conn *conn)
{
	pg_conn *c = pconn(conn);

	if (!c)
		return;
	PQfinish(c->pg);
	dal__str_dispose(&c->dealloc);
	free(c);
}

/* An idle connection has nothing to read; a terminated backend has sent its
 * FATAL message and closed the socket, which poll() sees without a round trip. */
static bool pg_tx_open(dal_conn *conn)
{
	return PQtransactionStatus(pconn(conn)->pg) == PQTRANS_INTRANS;
}

static bool pg_maybe_dead(dal_conn *conn)
{
	pg_conn *c = pconn(conn);
	struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };

	if (p.fd < 0 || PQstatus(c->pg) != CONNECTION_OK)
		return true;
	return poll(&p, 1, 0) != 0;
}

static int pg_ping(dal_conn *conn)
{
	pg_conn *c = pconn(conn);
	PGresult *res;
	int error = 0;

	pg_wait w = wait_of(c->ping_ms, 0, "a ping");

	if ((error = check_idle(c, NULL)) < 0)
		return error;
	/* The empty query is a full round trip that parses, plans and touches nothing. */
	res = run_sql(c, "", &w, &error);
	if (error == 0 && (PQresultStatus(res) != PGRES_EMPTY_QUERY || PQstatus(c->pg) != CONNECTION_OK))
		error = pg_fail(c, res);
	PQclear(res);
	return error;
}

/* Send pending DEALLOCATEs, only outside a transaction: a failure there must not abort the caller's.
 * Only a lost or silent connection is an error: a DEALLOCATE's own failure harms nothing. */
static int flush_dealloc(pg_conn *c)
{
	PGresult *res;
	pg_wait w;
	int error;

	if (!c->dealloc.len || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		return 0;
	w = stmt_wait(c, "DEALLOCATE");
	res = run_sql(c, c->dealloc.ptr, &w, &error);
	PQclear(res);
	dal__str_clear(&c->dealloc);
	return error;
}

/*
 * dal describes each prepared statement to learn its parameter types, and libpq
 * drops the connection ("lost synchronization") on a parameter description longer
 * than 30,000 bytes (4 per parameter): a statement with more is refused up front,
 * as bad input that no retry can help.
 */
#define PG_MAX_PARAMS 7498

static int check_params(const char *sql)
{
	long n = dal__sql_max_param(sql);

	if (n <= PG_MAX_PARAMS)
		return 0;
	return dal__error(DAL_EINVAL, "postgresql: a statement with %ld parameters is more than dal can send "
		"(at most %d); pass a long list as one array parameter (= ANY(?::bigint[]) with '{1,2,3}') "
		"or in several statements", n, PG_MAX_PARAMS);
}

/* Whether the statement's first word makes it a plain read. Anything else (WITH included) may write. */
static bool reads_only(const char *sql)
{
	static const char *const words[] = { "SELECT", "SHOW", "VALUES", "TABLE", NULL };
	size_t i, n;

	sql += strspn(sql, " \t\r\n(");
	for (i = 0; words[i]; i++) {
		n = strlen(words[i]);
		if (strncasecmp(sql, words[i], n) == 0 && !isalnum((unsigned char)sql[n]) && sql[n] != '_')
			return true;
	}
	return false;
}

static int pg_prepare(dal_stmt **out, dal_conn *conn, const char *sql, unsigned flags)
{
	pg_conn *c = pconn(conn);
	pg_stmt *s = NULL;
	PGresult *res = NULL;
	pg_wait w;
	int error, np, nc;

	*out = NULL;
	if ((error = check_params(sql)) < 0)
		return error;
	if ((error = check_idle(c, NULL)) < 0 || (error = flush_dealloc(c)) < 0)
		return error;
	if (!(s = calloc(1, sizeof(*s)))) {
		error = dal__error_nomem();
		goto done;
	}
	s->base.conn = conn;
	s->stream = (flags & DAL__STMT_STREAM) != 0;
	s->reads = reads_only(sql);
	snprintf(s->name, sizeof(s->name), "dal_%u", ++c->next_id);
	w = stmt_wait(c, "a prepare");
	res = finish_send(c, PQsendPrepare(c->pg, s->name, sql, 0, NULL), &w, &error);
	if (error < 0 || PQresultStatus(res) != PGRES_COMMAND_OK) {
		error = error < 0 ? error : pg_fail(c, res);
		s->name[0] = '\0';
		goto done;
	}
	w = stmt_wait(c, "a prepare");
	s->desc = finish_send(c, PQsendDescribePrepared(c->pg, s->name), &w, &error);
	if (error < 0 || PQresultStatus(s->desc) != PGRES_COMMAND_OK) {
		error = error < 0 ? error : pg_fail(c, s->desc);
		goto done;
	}
	np = PQnparams(s->desc);
	nc = PQnfields(s->desc);
	s->values = calloc((size_t)np + 1, sizeof(*s->values));
	s->lengths = calloc((size_t)np + 1, sizeof(*s->lengths));
	s->formats = calloc((size_t)np + 1, sizeof(*s->formats));
	s->offs = calloc((size_t)np + 1, sizeof(*s->offs));
	s->blobs = calloc((size_t)nc + 1, sizeof(*s->blobs));
	if (!s->values || !s->lengths || !s->formats || !s->offs || !s->blobs) {
		error = dal__error_nomem();
		goto done;
	}
	s->base.nparams = np;
	s->base.ncols = nc;
	*out = &s->base;
	s = NULL;
done:
	PQclear(res);
	if (s)
		conn->drv->finalize(&s->base);
	return error;
}

/*
 * One parameter in text format, appended to the statement's buffer. The
 * parameter type the server inferred at prepare picks the spelling where two
 * are possible: a bool bound to an integer column (as SQLite keeps bools)
 * is 1/0, a timestamp bound to timestamptz says it is UTC.
 */
static int put_param(pg_stmt *s, size_t i, const dal_value *v, Oid type)
{
	char buf[40];
	const char *text = buf;
	size_t len;

	switch (v->type) {
	case DAL_TYPE_BOOL:
		if (type == OID_INT2 || type == OID_INT4 || type == OID_INT8)
			text = v->v.b ? "1" : "0";
		else
			text = v->v.b ? "t" : "f";
		break;
	case DAL_TYPE_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->v.i);
		break;
	case DAL_TYPE_DOUBLE:
		/* 17 significant digits read back as the same double; PostgreSQL spells the specials out. */
		if (v->v.d != v->v.d)
			text = "NaN";
		else if (v->v.d > 1.7976931348623157e308)
			text = "Infinity";
		else if (v->v.d < -1.7976931348623157e308)
			text = "-Infinity";
		else
			snprintf(buf, sizeof(buf), "%.17g", v->v.d);
		break;
	case DAL_TYPE_TIMESTAMP:
		/* The ends of int64 stand for PostgreSQL's infinite timestamps (see column()). */
		if (v->v.ts == INT64_MAX)
			text = "infinity";
		else if (v->v.ts == INT64_MIN)
			text = "-infinity";
		else if (dal_timestamp_format(buf, v->v.ts) < 0)
			return dal__error(DAL_EINVAL, "parameter %zu: timestamp %lld is outside the years 0001-9999",
				i + 1, (long long)v->v.ts);
		else if (type == OID_TIMESTAMPTZ)
			strcat(buf, "+00");
		break;
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON:
		/* Text-format values travel NUL-terminated, and PostgreSQL text cannot hold a NUL anyway. */
		if (v->len && memchr(v->v.s, '\0', v->len))
			return dal__error(DAL_EINVAL, "parameter %zu: text holds a NUL byte, which PostgreSQL "
				"cannot store in text (use a blob)", i + 1);
		s->offs[i] = s->text.len;
		if (dal__str_putn(&s->text, v->len ? v->v.s : "", v->len) < 0 || dal__str_putc(&s->text, '\0') < 0)
			return DAL_ENOMEM;
		return 0;
	default:
		return dal__error(DAL_EINVAL, "parameter %zu: unknown value type %d", i + 1, (int)v->type);
	}
	len = strlen(text);
	s->offs[i] = s->text.len;
	if (dal__str_putn(&s->text, text, len) < 0 || dal__str_putc(&s->text, '\0') < 0)
		return DAL_ENOMEM;
	return 0;
}

static int pg_bind(dal_stmt *stmt, const dal_value *params, size_t n)
{
	pg_stmt *s = (pg_stmt *)stmt;
	size_t i;
	int error;

	if ((int)n != stmt->nparams)
		return dal__error(DAL_EINVAL, "the statement takes %d parameters, %zu given", stmt->nparams, n);
	dal__str_clear(&s->text);
	for (i = 0; i < n; i++) {
		const dal_value *v = &params[i];
		Oid type = PQparamtype(s->desc, (int)i);

		s->offs[i] = SIZE_MAX;
		s->values[i] = NULL;
		s->lengths[i] = 0;
		s->formats[i] = 0;
		if (v->type == DAL_TYPE_NULL)
			continue;
		/* Bytes go in binary: no escaping, no size doubling, and text bound to bytea stays as is. */
		if (v->type == DAL_TYPE_BLOB ||
		    (type == OID_BYTEA && (v->type == DAL_TYPE_TEXT || v->type == DAL_TYPE_JSON))) {
			if (v->len > INT_MAX)
				return dal__error(DAL_EINVAL, "parameter %zu: %zu bytes is more than PostgreSQL "
					"takes in one value", i + 1, v->len);
			s->values[i] = v->len ? (const char *)v->v.p : "";
			s->lengths[i] = (int)v->len;
			s->formats[i] = 1;
			continue;
		}
		if ((error = put_param(s, i, v, type)) < 0)
			return error;
	}
	/* Pointers last: the text buffer may have moved while it grew. */
	for (i = 0; i < n; i++)
		if (s->offs[i] != SIZE_MAX)
			s->values[i] = s->text.ptr + s->offs[i];
	return 0;
}

static int64_t cmd_tuples(PGresult *res)
{
	const char *t = PQcmdTuples(res);
	return t && *t ? strtoll(t, NULL, 10) : 0;
}

/*
 * A statement sent outside a transaction commits by itself on the server; when
 * the connection then failed or went silent before the answer came, nobody
 * knows whether it did (a frozen server runs it once it wakes, a crash may
 * come after its commit). A server's error answer, 57014 included, means it
 * did not.
 */
static int autocommit_unknown(pg_conn *c, const pg_stmt *s, bool autocommit, int error)
{
	char msg[700];

	if (!autocommit || s->reads || !c->base.broken || (error != DAL_ECONN && error != DAL_ETIMEOUT))
		return error;
	snprintf(msg, sizeof(msg), "%s", dal_error_last()->message);
	return dal__error_engine(DAL_ECOMMIT_UNKNOWN, dal_error_last()->sqlstate, 0, "%s; the statement ran "
		"outside a transaction, so it may or may not have been applied", msg);
}

static int execute(pg_stmt *s)
{
	pg_conn *c = pconn(s->base.conn);
	PGresult *res;
	pg_wait w = stmt_wait(c, "a statement");
	int error = 0, np = s->base.nparams;
	bool autocommit;

	if (s->stream) {
		s->open_in_tx = PQtransactionStatus(c->pg) != PQTRANS_IDLE;
		if (!PQsendQueryPrepared(c->pg, s->name, np, s->values, s->lengths, s->formats, 0))
			return pg_fail(c, NULL);
		/* If single-row mode cannot be had, the rows come as one result: still correct. */
		PQsetSingleRowMode(c->pg);
		s->open = true;
		c->streaming = s;
		if ((error = flush_out(c, &w)) < 0)
			stream_finish(s);
		return error;
	}
	autocommit = PQtransactionStatus(c->pg) == PQTRANS_IDLE;
	res = finish_send(c, PQsendQueryPrepared(c->pg, s->name, np, s->values, s->lengths, s->formats, 0), &w,
		&error);
	if (error < 0)
		return autocommit_unknown(c, s, autocommit, error);
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
		s->res = res;
		s->nrows = PQntuples(res);
		s->changes = cmd_tuples(res);
		return 0;
	case PGRES_COMMAND_OK:
	case PGRES_EMPTY_QUERY:
		s->changes = cmd_tuples(res);
		break;
	default:
		error = autocommit_unknown(c, s, autocommit, pg_fail(c, res));
	}
	PQclear(res);
	return error;
}

/* The next result of a stream: one row, the end, or an error. */
static int stream_next(pg_stmt *s)
{
	pg_conn *c = pconn(s->base.conn);
	PGresult *res;
	/* The server bounds the whole statement; each wait here, for a row, gets the whole bound. */
	pg_wait w = stmt_wait(c, "a statement streaming rows");
	int error = 0, e;

	PQclear(s->res);
	s->res = NULL;
	s->nrows = 0;
	s->row = -1;
	if ((error = await_result(c, &w)) < 0) {
		stream_finish(s);
		return error;
	}
	if (!(res = PQgetResult(c->pg))) {
		stream_finish(s);
		return 0;
	}
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		s->res = res;
		s->nrows = 1;
		return 0;
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
	case PGRES_EMPTY_QUERY:
		s->changes = cmd_tuples(res);
		s->res = res;
		s->nrows = PQntuples(res);
		break;
	default:
		error = pg_fail(c, res);
		PQclear(res);
	}
	/* The end of the query: the connection is free once libpq says so with a NULL. */
	if ((e = drain_results(c, &w)) < 0 && error == 0)
		error = e;
	stream_finish(s);
	return error;
}

static int pg_step(dal_stmt *stmt)
{
	pg_stmt *s = (pg_stmt *)stmt;
	int error;

	if (!s->executed) {
		if ((error = check_idle(pconn(stmt->conn), s)) < 0)
			return error;
		s->executed = true;
		s->row = -1;
		if ((error = execute(s)) < 0)
			return error;
	}
	for (;;) {
		if (s->res && s->row + 1 < s->nrows) {
			s->row++;
			return DAL__ROW;
		}
		if (!s->open)
			return DAL__DONE;
		if ((error = stream_next(s)) < 0)
			return error;
	}
}

static const char *pg_column_name(dal_stmt *stmt, int col)
{
	pg_stmt *s = (pg_stmt *)stmt;

	if (col < 0 || col >= stmt->ncols)
		return NULL;
	return PQfname(s->desc, col);
}

static int hexdigit(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* bytea arrives as "\x4142..." (bytea_output = hex, set at connect). */
static int bytea_value(pg_stmt *s, int col, const char *text, size_t len, dal_value *out)
{
	pg_blob *b = &s->blobs[col];
	size_t i, n;

	if (len < 2 || text[0] != '\\' || text[1] != 'x' || (len - 2) % 2)
		return dal__error(DAL_EINVAL, "postgresql: column %d: bytea is not in hex form", col + 1);
	n = (len - 2) / 2;
	if (n > b->cap) {
		unsigned char *p = realloc(b->p, n);
		if (!p)
			return dal__error_nomem();
		b->p = p;
		b->cap = n;
	}
	for (i = 0; i < n; i++) {
		int hi = hexdigit(text[2 + 2 * i]), lo = hexdigit(text[3 + 2 * i]);
		if (hi < 0 || lo < 0)
			return dal__error(DAL_EINVAL, "postgresql: column %d: bad hex digit in bytea", col + 1);
		b->p[i] = (unsigned char)(hi * 16 + lo);
	}
	out->type = DAL_TYPE_BLOB;
	out->len = n;
	out->v.p = n ? (const void *)b->p : (const void *)"";
	return 0;
}

static int pg_column(dal_stmt *stmt, int col, dal_value *out)
{
	pg_stmt *s = (pg_stmt *)stmt;
	const char *text;
	size_t len;
	char *end;

	if (!s->res || s->row < 0 || s->row >= s->nrows || col < 0 || col >= PQnfields(s->res))
		return dal__error(DAL_EINVAL, "postgresql: no row or no column %d to read", col + 1);
	if (PQgetisnull(s->res, s->row, col)) {
		*out = dal_null();
		return 0;
	}
	text = PQgetvalue(s->res, s->row, col);
	len = (size_t)PQgetlength(s->res, s->row, col);
	switch (PQftype(s->res, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		*out = dal_int(strtoll(text, &end, 10));
		break;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		/* strtod reads "NaN", "Infinity" and "-Infinity" as PostgreSQL writes them. */
		*out = dal_double(strtod(text, &end));
		break;
	case OID_BOOL:
		*out = dal_bool(text[0] == 't');
		break;
	case OID_BYTEA:
		return bytea_value(s, col, text, len, out);
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ:
		/*
		 * 'infinity' is clamped to the ends of int64 (and bound back as
		 * 'infinity'), so a table holding one stays readable; any other
		 * value outside 0001-9999 (BC dates) is DAL_EINVAL.
		 */
		if (strcmp(text, "infinity") == 0)
			*out = dal_timestamp(INT64_MAX);
		else if (strcmp(text, "-infinity") == 0)
			*out = dal_timestamp(INT64_MIN);
		else {
			int64_t us;
			if (dal_timestamp_parse(&us, text) < 0)
				return dal__error(DAL_EINVAL, "postgresql: column \"%s\": '%.40s' is not a UTC timestamp "
					"dal can represent", PQfname(s->res, col), text);
			*out = dal_timestamp(us);
		}
		break;
	case OID_JSON:
	case OID_JSONB:
		*out = dal_textn(text, len);
		out->type = DAL_TYPE_JSON;
		break;
	default:
		*out = dal_textn(text, len);
	}
	return 0;
}

static int64_t pg_changes(dal_stmt *stmt)
{
	return ((pg_stmt *)stmt)->changes;
}

static int pg_reset(dal_stmt *stmt)
{
	pg_stmt *s = (pg_stmt *)stmt;

	stream_drain(s, !s->open_in_tx);
	PQclear(s->res);
	s->res = NULL;
	s->nrows = 0;
	s->row = -1;
	s->executed = false;
	return 0;
}

static void pg_finalize(dal_stmt *stmt)
{
	pg_stmt *s = (pg_stmt *)stmt;
	pg_conn *c;
	int i;

	if (!s)
		return;
	c = pconn(stmt->conn);
	pg_reset(stmt);
	/* A broken connection takes its statements with it. */
	if (s->name[0] && !c->base.broken && PQstatus(c->pg) == CONNECTION_OK &&
	    dal__str_printf(&c->dealloc, "DEALLOCATE \"%s\";", s->name) < 0)
		dal__str_clear(&c->dealloc);
	PQclear(s->desc);
	for (i = 0; s->blobs && i < stmt->ncols; i++)
		free(s->blobs[i].p);
	free(s->blobs);
	free(s->values);
	free(s->lengths);
	free(s->formats);
	free(s->offs);
	dal__str_dispose(&s->text);
	free(s);
}

static int pg_begin(dal_conn *conn, unsigned flags)
{
	char sql[96] = "BEGIN";

	/* DAL__TX_WRITE needs nothing: PostgreSQL takes row locks as it writes. */
	if (flags & DAL__TX_SERIALIZABLE)
		strcat(sql, " ISOLATION LEVEL SERIALIZABLE");
	else if (flags & DAL__TX_REPEATABLE_READ)
		strcat(sql, " ISOLATION LEVEL REPEATABLE READ");
	if (flags & DAL__TX_READ_ONLY)
		strcat(sql, " READ ONLY");
	return pg_exec(conn, sql);
}

/*
 * The audit cleanup's batches, all but the last, commit without waiting for the
 * WAL flush: writers queued on the chain head then wait for a batch's work, not
 * for the disk, whose flush is slow while the server's checkpoint syncs. A
 * crash may undo the last such batches with their move of the chain's start
 * (one transaction: the chain stays whole). At the end, a transaction that
 * writes a WAL record commits, and its flush makes them all durable before the
 * cleanup returns: one that only takes an id (txid_current()) writes nothing
 * before its commit record, and PostgreSQL commits such a one without the flush.
 * A transactional logical message is such a record, open to any role (logical
 * decoding that passes messages on shows it, prefix 'dal', empty).
 */
static int pg_write_job(void *shared, dal_conn *conn, int step)
{
	(void)shared;
	if (!conn)
		return 0;
	if (step == DAL__JOB_BATCH)
		return pg_exec(conn, "SET LOCAL synchronous_commit TO off");
	return step == DAL__JOB_END ? pg_exec(conn, "SELECT pg_logical_emit_message(true, 'dal', '')") : 0;
}

static int pg_commit(dal_conn *conn)
{
	pg_conn *c = pconn(conn);
	PGresult *res = NULL;
	pg_wait w = stmt_wait(c, "COMMIT");
	const char *state;
	int error = 0;

	if (c->base.broken || PQstatus(c->pg) != CONNECTION_OK) {
		c->base.broken = true;
		return dal__error(DAL_ECONN, "postgresql: the connection was lost before COMMIT; nothing was committed");
	}
	if ((error = check_idle(c, NULL)) < 0)
		return error;
	if (!PQsendQuery(c->pg, "COMMIT"))
		return pg_fail(c, NULL);
	/* Sent: from here on, a connection that fails or goes silent leaves the outcome unknown. */
	res = finish_send(c, 1, &w, &error);
	if (error == DAL_ETIMEOUT) {
		error = dal__error(DAL_ECOMMIT_UNKNOWN, "postgresql: no answer to COMMIT within %lld ms; the "
			"transaction may or may not have been committed; the connection is dropped", (long long)w.ms);
		goto done;
	}
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (error < 0 || !res || PQstatus(c->pg) == CONNECTION_BAD || conn_lost_state(state)) {
		c->base.broken = true;
		error = dal__error_engine(DAL_ECOMMIT_UNKNOWN, state, 0, "postgresql: the connection was lost while "
			"COMMIT was in flight; the transaction may or may not have been committed");
		goto done;
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		/* The transaction is over either way: a serialization failure or a deferred constraint. */
		error = pg_fail(c, res);
		goto done;
	}
	/* COMMIT of a transaction that had failed answers "ROLLBACK" without an error. */
	if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
		error = dal__error_engine(DAL_ERROR, "25P02", 0, "postgresql: COMMIT found the transaction failed "
			"earlier; it was rolled back and nothing was committed");
done:
	PQclear(res);
	return error;
}

static int pg_rollback(dal_conn *conn)
{
	pg_conn *c = pconn(conn);

	/* The rows are abandoned with the transaction, so closing the connection harms nothing. */
	if (c->streaming)
		stream_drain(c->streaming, true);
	/* A connection given up is closed, which rolls its transaction back on the server. */
	if (c->base.broken || (PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) == PQTRANS_IDLE))
		return 0;
	return pg_exec(conn, "ROLLBACK");
}

static int savepoint_sql(dal_conn *conn, const char *fmt, const char *name)
{
	char sql[256];

	if (strlen(name) > 63 || strchr(name, '"'))
		return dal__error(DAL_EINVAL, "postgresql: bad savepoint name '%.40s'", name);
	snprintf(sql, sizeof(sql), fmt, name, name);
	return pg_exec(conn, sql);
}

static int pg_savepoint(dal_conn *c, const char *name) { return savepoint_sql(c, "SAVEPOINT \"%s\"", name); }
static int pg_release(dal_conn *c, const char *name) { return savepoint_sql(c, "RELEASE SAVEPOINT \"%s\"", name); }
static int pg_rollback_to(dal_conn *c, const char *name)
{
	/* ROLLBACK TO keeps the savepoint open; release it so the scope ends, in one round trip. */
	return savepoint_sql(c, "ROLLBACK TO SAVEPOINT \"%s\"; RELEASE SAVEPOINT \"%s\"", name);
}

/* The years dal_timestamp_format() writes, 0001-9999, in microseconds since 1970. */
#define TS_MIN (-62135596800LL * 1000000)
#define TS_END (253402300800LL * 1000000)

static int ts_outside(const char *col, size_t row, int64_t ts)
{
	return dal__error(DAL_EINVAL, "postgresql: row %zu, column '%s': timestamp %lld is outside the years "
		"0001-9999", row, col, (long long)ts);
}

static int text_nul(const char *col, size_t row)
{
	return dal__error(DAL_EINVAL, "postgresql: row %zu, column '%s': text holds a NUL byte", row, col);
}

/* One value in COPY's text format: \N for NULL; backslash, tab, newline and CR escaped. */
static int copy_value(dal_str *out, const dal_value *v, const char *col, size_t row)
{
	char buf[48];
	const char *p = buf;
	size_t n, i;

	switch (v->type) {
	case DAL_TYPE_NULL:
		return dal__str_puts(out, "\\N");
	case DAL_TYPE_BOOL:
		return dal__str_putc(out, v->v.b ? 't' : 'f');
	case DAL_TYPE_INT:
		return dal__str_printf(out, "%lld", (long long)v->v.i);
	case DAL_TYPE_DOUBLE:
		if (v->v.d != v->v.d)
			return dal__str_puts(out, "NaN");
		if (v->v.d > 1.7976931348623157e308 || v->v.d < -1.7976931348623157e308)
			return dal__str_puts(out, v->v.d > 0 ? "Infinity" : "-Infinity");
		return dal__str_printf(out, "%.17g", v->v.d);
	case DAL_TYPE_TIMESTAMP:
		if (v->v.ts == INT64_MAX || v->v.ts == INT64_MIN)
			return dal__str_puts(out, v->v.ts == INT64_MAX ? "infinity" : "-infinity");
		if (dal_timestamp_format(buf, v->v.ts) < 0)
			return ts_outside(col, row, v->v.ts);
		return dal__str_puts(out, buf);
	case DAL_TYPE_BLOB:
		/* bytea's hex input, its backslash doubled for COPY. */
		if (dal__str_puts(out, "\\\\x") < 0 || dal__str_grow(out, v->len * 2) < 0)
			return DAL_ENOMEM;
		for (i = 0; i < v->len; i++) {
			unsigned char b = ((const unsigned char *)v->v.p)[i];
			out->ptr[out->len++] = "0123456789abcdef"[b >> 4];
			out->ptr[out->len++] = "0123456789abcdef"[b & 15];
		}
		out->ptr[out->len] = '\0';
		return 0;
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON:
		p = v->len ? v->v.s : "";
		n = v->len;
		if (memchr(p, '\0', n))
			return text_nul(col, row);
		while (n) {
			size_t run = 0;
			int e;
			while (run < n && p[run] != '\\' && p[run] != '\t' && p[run] != '\n' && p[run] != '\r')
				run++;
			if ((e = dal__str_putn(out, p, run)) < 0)
				return e;
			if (run == n)
				break;
			e = dal__str_puts(out, p[run] == '\\' ? "\\\\" : p[run] == '\t' ? "\\t"
			                     : p[run] == '\n' ? "\\n" : "\\r");
			if (e < 0)
				return e;
			p += run + 1;
			n -= run + 1;
		}
		return 0;
	}
	return dal__error(DAL_EINVAL, "postgresql: row %zu, column '%s': unknown value type %d", row, col, (int)v->type);
}

/* ---- COPY's binary format: the server reads numbers and timestamps without parsing text ---- */

/* Rows below this go as text: binary costs a round trip to learn the column types first.
 * Measured (bulk create, 3 given columns): 1 row +130 us as binary, even at ~64 rows,
 * binary 7-17% faster at 256 rows. */
#define BINARY_MIN_ROWS 128
/* Microseconds from 1970-01-01 (dal) to 2000-01-01 (PostgreSQL's epoch). */
#define PG_EPOCH_US (946684800LL * 1000000)

static void put_be(char *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (char)(v & 0xff);
}

/* Whether `v` can go to a column of type `type` in binary as the server would read its text form. */
static bool binary_fits(Oid type, const dal_value *v)
{
	switch (v->type) {
	case DAL_TYPE_NULL: return true;
	case DAL_TYPE_BOOL: return type == OID_BOOL;
	case DAL_TYPE_INT:
		return type == OID_INT8 || (type == OID_INT4 && v->v.i >= INT32_MIN && v->v.i <= INT32_MAX) ||
		       (type == OID_INT2 && v->v.i >= INT16_MIN && v->v.i <= INT16_MAX);
	case DAL_TYPE_DOUBLE: return type == OID_FLOAT8;
	case DAL_TYPE_TIMESTAMP: return type == OID_TIMESTAMP || type == OID_TIMESTAMPTZ;
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON:
		return (type == OID_TEXT || type == OID_VARCHAR || type == OID_JSON || type == OID_JSONB) &&
		       v->len < INT32_MAX;
	case DAL_TYPE_BLOB: return type == OID_BYTEA && v->len < INT32_MAX;
	}
	return false;
}

/* Any column of a type (or a value of a kind) binary_fits() does not know sends the whole COPY as text. */
static bool binary_all_fit(const Oid *types, const dal_value *values, size_t nrows, size_t ncols)
{
	size_t r, k;

	for (r = 0; r < nrows; r++)
		for (k = 0; k < ncols; k++)
			if (!binary_fits(types[k], &values[r * ncols + k]))
				return false;
	return true;
}

/* Fixed-size payloads: the value in big-endian order, `n` bytes of it. */
static uint64_t binary_word(Oid type, const dal_value *v, int *n)
{
	uint64_t u;

	*n = 8;
	switch (v->type) {
	case DAL_TYPE_BOOL:
		*n = 1;
		return v->v.b;
	case DAL_TYPE_DOUBLE:
		memcpy(&u, &v->v.d, sizeof(u));
		return u;
	case DAL_TYPE_TIMESTAMP:
		/* dal's infinite ends are PostgreSQL's too (DT_NOBEGIN, DT_NOEND). */
		if (v->v.ts == INT64_MAX || v->v.ts == INT64_MIN)
			return (uint64_t)v->v.ts;
		return (uint64_t)(v->v.ts - PG_EPOCH_US);
	default:
		*n = type == OID_INT2 ? 2 : type == OID_INT4 ? 4 : 8;
		return (uint64_t)v->v.i;
	}
}

/* Variable-length fields (text, json, jsonb, bytea) and NULL: a length (-1 for NULL), then the bytes. */
static int binary_bytes(dal_str *out, const dal_value *v, bool jsonb)
{
	bool null = v->type == DAL_TYPE_NULL;
	size_t len = null ? 0 : v->len + jsonb;
	int error;

	if ((error = dal__str_grow(out, 4 + len)) < 0)
		return error;
	put_be(out->ptr + out->len, null ? UINT32_MAX : (uint32_t)len, 4);
	out->len += 4;
	if (null)
		return 0;
	if (jsonb)
		out->ptr[out->len++] = 1;   /* jsonb's binary format version */
	if (v->len)
		memcpy(out->ptr + out->len, v->v.p, v->len);
	out->len += v->len;
	return 0;
}

/* One field, checked as copy_value() checks it. */
static int binary_value(dal_str *out, const dal_value *v, Oid type, const char *col, size_t row)
{
	uint64_t word;
	int n, error;

	switch (v->type) {
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON:
		if (v->len && memchr(v->v.s, '\0', v->len))
			return text_nul(col, row);
		/* fall through */
	case DAL_TYPE_NULL:
	case DAL_TYPE_BLOB:
		return binary_bytes(out, v, type == OID_JSONB);
	case DAL_TYPE_TIMESTAMP:
		if (v->v.ts != INT64_MAX && v->v.ts != INT64_MIN && (v->v.ts < TS_MIN || v->v.ts >= TS_END))
			return ts_outside(col, row, v->v.ts);
		break;
	default:
		break;
	}
	word = binary_word(type, v, &n);
	if ((error = dal__str_grow(out, 4 + (size_t)n)) < 0)
		return error;
	put_be(out->ptr + out->len, (uint64_t)n, 4);
	put_be(out->ptr + out->len + 4, word, n);
	out->len += 4 + (size_t)n;
	return 0;
}

static int quote_name(dal_str *out, const char *name)
{
	if (!name || !*name || strchr(name, '"'))
		return dal__error(DAL_EINVAL, "postgresql: bad identifier '%.40s'", name ? name : "(null)");
	return dal__str_printf(out, "\"%s\"", name);
}

static int name_list(dal_str *out, const char *const *cols, size_t ncols)
{
	size_t k;
	int error = 0;

	for (k = 0; k < ncols && error == 0; k++)
		if (!(k && (error = dal__str_puts(out, ", ")) < 0))
			error = quote_name(out, cols[k]);
	return error;
}

/* The server's type of each column, as COPY will resolve them: one round trip. */
static int column_types(Oid *types, pg_conn *c, const char *table, const char *const *cols, size_t ncols)
{
	dal_str sql = DAL_STR_INIT;
	PGresult *res = NULL;
	pg_wait w;
	size_t k;
	int error;

	if ((error = dal__str_puts(&sql, "SELECT ")) < 0 || (error = name_list(&sql, cols, ncols)) < 0 ||
	    (error = dal__str_puts(&sql, " FROM ")) < 0 || (error = quote_name(&sql, table)) < 0 ||
	    (error = dal__str_puts(&sql, " LIMIT 0")) < 0)
		goto done;
	w = stmt_wait(c, "a statement");
	res = run_sql(c, sql.ptr, &w, &error);
	if (error < 0)
		goto done;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || (size_t)PQnfields(res) != ncols) {
		error = pg_fail(c, res);
		goto done;
	}
	for (k = 0; k < ncols; k++)
		types[k] = PQftype(res, (int)k);
done:
	PQclear(res);
	dal__str_dispose(&sql);
	return error;
}

/* COPY's context names the line it stopped at ("COPY t, line 501, column c: ..."), in either format. */
static void copy_line(const PGresult *res, size_t nrows, size_t *failed_row)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT), *p;
	unsigned long long line;

	if (!ctx || strncmp(ctx, "COPY ", 5) != 0 || !(p = strstr(ctx, ", line ")))
		return;
	line = strtoull(p + 7, NULL, 10);
	if (line >= 1 && line <= nrows)
		*failed_row = (size_t)line - 1;
}

/* One row in the COPY's format (`types`: binary, NULL: text). */
static int copy_row(dal_str *buf, const char *const *cols, size_t ncols, const dal_value *row, const Oid *types,
                    size_t r)
{
	size_t k;
	int error = 0;

	if (types && (error = dal__str_grow(buf, 2)) == 0) {
		put_be(buf->ptr + buf->len, ncols, 2);
		buf->len += 2;
	}
	for (k = 0; k < ncols && error == 0; k++) {
		if (types)
			error = binary_value(buf, &row[k], types[k], cols[k], r);
		else if (!(k && (error = dal__str_putc(buf, '\t')) < 0))
			error = copy_value(buf, &row[k], cols[k], r);
	}
	return error ? error : types ? 0 : dal__str_putc(buf, '\n');
}

/* COPY's binary signature, flags and header extension length; the trailer is a field count of -1. */
static const char binary_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

/* Stream the rows in blocks of COPY_BLOCK bytes, so memory stays flat however many rows come. */
#define COPY_BLOCK (256 * 1024)

/* PQputCopyData() or PQputCopyEnd() (`end`) on the non-blocking connection: 0 from libpq means
 * its buffer is full, so wait until the socket takes more. */
static int copy_put(pg_conn *c, const char *buf, size_t len, bool end, const char *why, const pg_wait *w)
{
	int rc, error;

	while ((rc = end ? PQputCopyEnd(c->pg, why) : PQputCopyData(c->pg, buf, (int)len)) == 0) {
		if ((error = wait_socket(c, POLLOUT, w)) < 0)
			return error;
		if (PQflush(c->pg) < 0)
			return pg_fail(c, NULL);
	}
	return rc == 1 ? 0 : pg_fail(c, NULL);
}

/* End a COPY with an error; the caller's error stays the one reported. */
static void copy_abandon(pg_conn *c, const pg_wait *w)
{
	dal__error_saved saved;
	int error;

	dal__error_save(&saved);
	if (copy_put(c, NULL, 0, true, "dal: bulk insert abandoned", w) == 0)
		PQclear(finish_send(c, 1, w, &error));
	dal__error_restore(&saved);
}

static int copy_data(pg_conn *c, const char *const *cols, size_t ncols, const dal_value *values, size_t nrows,
                     const Oid *types, size_t *failed_row, const pg_wait *w)
{
	dal_str buf = DAL_STR_INIT;
	size_t r;
	int error = 0;

	if (types)
		error = dal__str_putn(&buf, binary_header, sizeof(binary_header));
	for (r = 0; r < nrows && error == 0; r++) {
		if ((error = copy_row(&buf, cols, ncols, &values[r * ncols], types, r)) < 0) {
			if (failed_row)
				*failed_row = r;
			break;
		}
		if (types && r + 1 == nrows)
			error = dal__str_putn(&buf, "\377\377", 2);
		if (error == 0 && (buf.len >= COPY_BLOCK || r + 1 == nrows)) {
			error = copy_put(c, buf.ptr, buf.len, false, NULL, w);
			dal__str_clear(&buf);
		}
	}
	dal__str_dispose(&buf);
	return error;
}

/*
 * COPY FROM STDIN: one statement, so all rows or none, in the caller's
 * transaction if there is one. Binary where every column and value allows it
 * (measured on 100,000 rows of text, a double and timestamps: the server's
 * text parsing of numbers and timestamps cost ~20%), else text.
 */
static int pg_bulk_insert(dal_conn *conn, const char *table, const char *const *cols, size_t ncols,
                          const dal_value *values, size_t nrows, size_t *failed_row)
{
	pg_conn *c = pconn(conn);
	dal_str sql = DAL_STR_INIT;
	PGresult *res = NULL;
	Oid *types = NULL;
	pg_wait w;
	bool copying = false;
	int error;

	if (!table || !ncols || !cols || (nrows && !values))
		return dal__error(DAL_EINVAL, "postgresql: bulk insert without a table, columns or values");
	if (nrows == 0)
		return 0;
	if ((error = check_idle(c, NULL)) < 0)
		return error;
	if (nrows >= BINARY_MIN_ROWS) {
		if (!(types = calloc(ncols, sizeof(*types))))
			return dal__error_nomem();
		if ((error = column_types(types, c, table, cols, ncols)) < 0)
			goto done;
		if (!binary_all_fit(types, values, nrows, ncols)) {
			free(types);
			types = NULL;
		}
	}
	if ((error = dal__str_puts(&sql, "COPY ")) < 0 || (error = quote_name(&sql, table)) < 0 ||
	    (error = dal__str_puts(&sql, " (")) < 0 || (error = name_list(&sql, cols, ncols)) < 0 ||
	    (error = dal__str_puts(&sql, types ? ") FROM STDIN (FORMAT binary)" : ") FROM STDIN")) < 0)
		goto done;
	/* The server's statement_timeout runs from the COPY's start to its end: so does this bound. */
	w = stmt_wait(c, "a bulk insert (COPY)");
	res = run_sql(c, sql.ptr, &w, &error);
	if (error < 0)
		goto done;
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		error = pg_fail(c, res);
		goto done;
	}
	copying = true;
	if ((error = copy_data(c, cols, ncols, values, nrows, types, failed_row, &w)) < 0)
		goto done;
	copying = false;
	PQclear(res);
	res = NULL;
	if ((error = copy_put(c, NULL, 0, true, NULL, &w)) < 0)
		goto done;
	res = finish_send(c, 1, &w, &error);
	if (error == 0)
		error = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : pg_fail(c, res);
	if (error < 0 && res && failed_row)
		copy_line(res, nrows, failed_row);
done:
	/* A value dal could not write ends the COPY with an error: the server keeps none of the rows. */
	if (copying && !c->base.broken)
		copy_abandon(c, &w);
	PQclear(res);
	dal__str_dispose(&sql);
	free(types);
	return error;
}

static const dal_dialect pg_dialect = {
	.quote = '"',
	.placeholder = DAL_PH_DOLLAR,
	.types = { "", "BOOLEAN", "BIGINT", "DOUBLE PRECISION", "TEXT", "BYTEA", "TIMESTAMP", "JSONB" },
	.varchar = "VARCHAR(%u)",
	.autoinc_pk = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.autoinc_pre = NULL,
	.like_escape = " ESCAPE '\\'",
	/* The sequence is looked up once, not per row: per row it cost 10x the nextval calls. */
	.next_ids_sql = "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('\"%s\"', 'id')::regclass AS seq) "
		"SELECT nextval(s.seq) FROM s, generate_series(1, ?::bigint)",
	/*
	 * setval, as nextval, is not undone by a rollback: a write that fails after it leaves
	 * a gap, no harm. Reading the sequence and setting it are two steps, not one: a writer
	 * that draws past $1 in between is set back. It then drew $1 itself, so its row or
	 * the given one fails as a duplicate anyway; set back, a later draw can fail so once more.
	 * A table made without one (its ids all given) has nothing to move.
	 */
	.id_seq_past_sql = "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('\"%s\"', 'id')::regclass AS seq) "
		"SELECT CASE WHEN s.seq IS NULL THEN $1::bigint "
		"WHEN coalesce(pg_sequence_last_value(s.seq), 0) < $1::bigint "
		"THEN setval(s.seq, greatest($1::bigint, coalesce(pg_sequence_last_value(s.seq), 0))) "
		"ELSE pg_sequence_last_value(s.seq) END FROM s",
	.table_count_sql = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
	.row_lock = " FOR UPDATE",
	/* Indexes left invalid by a failed CREATE INDEX CONCURRENTLY enforce nothing. */
	.index_list_sql = "WITH p AS (SELECT ?::text AS t, ?::text AS c) "
		"SELECT ic.relname::text, i.indisunique::int, CASE WHEN i.indpred IS NULL THEN 0 "
		"WHEN pg_get_expr(i.indpred, i.indrelid) = '(deleted_at IS NULL)' THEN 1 ELSE 2 END, "
		"coalesce(i.indnkeyatts = 1 AND a.attname = p.c, false)::int "
		"FROM p JOIN pg_index i ON i.indrelid = to_regclass(quote_ident(p.t)) "
		"JOIN pg_class ic ON ic.oid = i.indexrelid "
		"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
		"WHERE i.indisvalid",
	.column_list_sql = "WITH a AS (SELECT attname::text AS n, format_type(atttypid, NULL) AS t, attnotnull, "
		"atthasdef OR attidentity <> '' AS d, CASE WHEN atttypid = 'varchar'::regtype AND atttypmod > 4 "
		"THEN atttypmod - 4 ELSE 0 END AS len FROM pg_attribute "
		"WHERE attrelid = to_regclass(quote_ident(?::text)) AND attnum > 0 AND NOT attisdropped) "
		"SELECT n, CASE WHEN t = 'boolean' THEN 1 WHEN t IN ('bigint', 'integer', 'smallint') THEN 2 "
		"WHEN t IN ('double precision', 'real', 'numeric') THEN 3 "
		"WHEN t IN ('text', 'character varying', 'character') THEN 4 WHEN t = 'bytea' THEN 5 "
		"WHEN t LIKE 'timestamp%' THEN 6 WHEN t IN ('jsonb', 'json') THEN 7 ELSE 0 END, "
		"attnotnull::int, d::int, t, len FROM a",
	/* The key spells "dal_migr": one advisory lock per database for every dal. */
	.migrate_lock_sql = "SELECT pg_advisory_lock(7233181633647044466)",
	.migrate_unlock_sql = "SELECT pg_advisory_unlock(7233181633647044466)",
	.lock_timeout_sql = "SET %slock_timeout = %d",
	.alter_column = true,

	/* Any fixed key: it only has to be the same in every process running dal. */
	.schema_lock_sql = "SELECT pg_advisory_xact_lock(4702111234474983745)",
	.index_named_sql = "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind = 'i' AND c.relname = ?::text AND n.nspname = current_schema()",
	/*
	 * A statement carries at most PG_MAX_PARAMS parameters: a long list is one array.
	 * Not "= ANY(array)": a generic plan compares each row with every element. DISTINCT
	 * first: without it a list of repeats (70,000 x true) was planned as a nested loop.
	 */
	.in_array = " IN (SELECT DISTINCT unnest(?::%s[]))",
	.in_array_form = DAL_ARRAY_PG,
	.stats_rows_sql = "SELECT c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind = 'r' AND c.relname = ?::text AND n.nspname = current_schema()",
	/* 3,000 rows (300 per point of the target) give the row count and the share of
	 * deleted rows the next reads are planned by, at a small part of the cost of
	 * the default 30,000; a column's own target (ALTER TABLE ... SET STATISTICS) wins. */
	.stats_sample_sql = "SET LOCAL default_statistics_target = 10",
};

const dal_driver dal__driver_postgres = {
	.scheme = "postgresql",
	.name = "postgresql",
	.caps = DAL_CAP_SAVEPOINT | DAL_CAP_RETURNING | DAL_CAP_PARTIAL_INDEX | DAL_CAP_SERIALIZABLE | DAL_CAP_STREAM_SORTED |
		DAL_CAP_TX_DDL | DAL_CAP_WRITABLE_CTE | DAL_CAP_UPDATE_RETURNING | DAL_CAP_MULTI_WRITER | DAL_CAP_ANY_ARRAY | DAL_CAP_MULTI_CONN | DAL_CAP_BULK_INSERT,
	.dialect = &pg_dialect,
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.ping = pg_ping,
	.maybe_dead = pg_maybe_dead,
	.tx_open = pg_tx_open,
	.set_statement_timeout = pg_set_statement_timeout,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.bind = pg_bind,
	.step = pg_step,
	.column_name = pg_column_name,
	.column = pg_column,
	.changes = pg_changes,
	.reset = pg_reset,
	.finalize = pg_finalize,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = pg_savepoint,
	.release = pg_release,
	.rollback_to = pg_rollback_to,
	.bulk_insert = pg_bulk_insert,
	.write_job = pg_write_job,
};
