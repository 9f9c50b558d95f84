/*
 * The engine floor of the audit trail: each engine's own C API storing the data
 * rows plus one audit-shaped row each (dal=), against the data rows alone (raw=).
 * dal only creates the tables, untimed, so they are exactly dal's.
 *   bench <engine> bulk_create_audit_floor  one transaction; rows/s
 *   bench <engine> create_audit_floor       BEGIN; INSERT; INSERT audit; COMMIT per create,
 *                                           against an autocommit INSERT; creates/s
 *   bench postgresql create_audit_floor_cte one WITH e AS (INSERT ... RETURNING id) INSERT per create
 * Audit rows have dal's shape and size (the row as JSON, 64-hex hashes) but are
 * formatted before timing, with no hashing and no chain head: a ratio here is what
 * a layer with no cost of its own would get on the engine. BENCH_QUICK=1 makes a short run,
 * BENCH_ENGINE picks an engine; PostgreSQL runs when DAL_BENCH_PG_URL is set.
 */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef DAL_WITH_DUCKDB
#include <duckdb.h>
#endif

#include <dal/dal.h>

#include "model.h"
#include "util.h"

static const dal_column cols[] = { BENCH_COLUMNS };
static const dal_model m = DAL_MODEL("floor_data", cols);

enum how { PLAIN, AUDIT, CTE };

#define DATA_COLS "INSERT INTO floor_data (name, email, score, created_at, updated_at) "
#define AUDIT_COLS "INSERT INTO audit_logs (action, resource_type, resource_id, new_values, timestamp, prev_hash, row_hash) "
/* A create's audit row takes the new id from the session, without a round trip. */
#define SQ_DATA DATA_COLS "VALUES (?, ?, ?, ?, ?)"
#define SQ_AUDIT AUDIT_COLS "VALUES (?, 'floor_data', last_insert_rowid(), ?, ?, ?, ?)"
#define DK_AUDIT AUDIT_COLS "VALUES ('CREATE', 'floor_data', currval('floor_data_id_seq'), ?, ?, ?, ?)"
#define PG_DATA DATA_COLS "VALUES ($1, $2, $3, $4, $4)"
/* Numbered as in the CTE, so both take the same parameter array from its 4th entry. */
#define PG_AUDIT AUDIT_COLS "VALUES ('CREATE', 'floor_data', currval('floor_data_id_seq'), $2, $1, $3, $4)"
#define PG_CTE "WITH e AS (" DATA_COLS "VALUES ($1, $2, $3, $4, $4) RETURNING id) " AUDIT_COLS \
	"SELECT 'CREATE', 'floor_data', e.id, $5::jsonb, $4::timestamp, $6, $7 FROM e"

#define JSON_MAX 256

/* One row of input. Row i's prev_hash is r[i].hash, its row_hash r[i + 1].hash. */
typedef struct row {
	char name[16], email[32];
	char json[JSON_MAX];    /* BULK_CREATE new_values, with the fresh tables' id i + 1 */
	char cjson[JSON_MAX];   /* CREATE new_values: dal leaves the id out */
	char hash[65];
} row;

typedef struct input {
	size_t n, ncreate;
	int64_t now;                    /* every timestamp, in UTC microseconds */
	char ts[DAL_TIMESTAMP_BUFSIZE]; /* the same as text */
	row *r;                         /* n + 1 */
} input;

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_floor: %s: %s\n", what, msg ? msg : "failed");
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die("malloc", "out of memory");
	return p;
}

/* Row i as dal's audit JSON has it: keys sorted after the id, ISO timestamps. */
static void json_row(char *out, const input *in, size_t i, bool with_id)
{
	char iso[DAL_TIMESTAMP_BUFSIZE], id[32] = "";

	memcpy(iso, in->ts, sizeof(iso));
	iso[10] = 'T';
	if (with_id)
		snprintf(id, sizeof(id), "\"id\":%zu,", i + 1);
	snprintf(out, JSON_MAX, "{%s\"name\":\"%s\",\"email\":\"%s\",\"score\":%.1f,\"created_at\":\"%sZ\","
		"\"deleted_at\":null,\"updated_at\":\"%sZ\"}", id, in->r[i].name, in->r[i].email, (double)i * 0.5, iso, iso);
}

static void input_make(input *in, size_t n, size_t ncreate)
{
	uint64_t x = 88172645463325252ULL;
	size_t i, k;

	in->n = n;
	in->ncreate = ncreate;
	in->now = dal_now();
	dal_timestamp_format(in->ts, in->now);
	in->r = xmalloc((n + 1) * sizeof(row));
	for (i = 0; i <= n; i++) {
		row *r = &in->r[i];
		snprintf(r->name, sizeof(r->name), "user %zu", i);
		snprintf(r->email, sizeof(r->email), "user%zu@example.com", i);
		json_row(r->json, in, i, true);
		json_row(r->cjson, in, i, false);
		/* Distinct hashes (xorshift), so no engine compresses them better than real ones. */
		for (k = 0; k < 64; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			r->hash[k] = "0123456789abcdef"[x & 15];
		}
		r->hash[64] = '\0';
	}
}

/* Fresh tables through dal (audit_logs and audit_chain come with them); only DuckDB's sequences outlive a table. */
static void fresh(const char *url, bool duckdb)
{
	static const char *const drop[] = { "DROP TABLE IF EXISTS floor_data", "DROP TABLE IF EXISTS audit_logs",
		"DROP TABLE IF EXISTS audit_chain", "DROP SEQUENCE IF EXISTS floor_data_id_seq",
		"DROP SEQUENCE IF EXISTS audit_logs_id_seq", "DROP SEQUENCE IF EXISTS audit_chain_id_seq" };
	const dal_model *ms[1] = { &m };
	dal_db *db = NULL;
	size_t i;

	if (dal_open(&db, url, NULL) < 0)
		die(url, dal_error_last()->message);
	for (i = 0; i < (duckdb ? 6u : 3u); i++)
		if (dal_exec(NULL, db, drop[i], NULL, 0) < 0)
			die(drop[i], dal_error_last()->message);
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) < 0)
		die("schema", dal_error_last()->message);
	dal_close(db);
}

/* ---- SQLite: prepared statements, WAL, synchronous=NORMAL (dal's defaults) ---- */

enum { INS, AUD, BEGIN, COMMIT };

static void sq_step(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(sqlite3_sql(st), sqlite3_errmsg(db));
	sqlite3_reset(st);
}

static void sq_row(sqlite3 *db, sqlite3_stmt **st, const input *in, size_t i, bool bulk, enum how how)
{
	sqlite3_bind_text(st[INS], 1, in->r[i].name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[INS], 2, in->r[i].email, -1, SQLITE_STATIC);
	sqlite3_bind_double(st[INS], 3, (double)i * 0.5);
	sqlite3_bind_text(st[INS], 4, in->ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[INS], 5, in->ts, -1, SQLITE_STATIC);
	sq_step(db, st[INS]);
	if (how == PLAIN)
		return;
	sqlite3_bind_text(st[AUD], 1, bulk ? "BULK_CREATE" : "CREATE", -1, SQLITE_STATIC);
	sqlite3_bind_text(st[AUD], 2, bulk ? in->r[i].json : in->r[i].cjson, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[AUD], 3, in->ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st[AUD], 4, in->r[i].hash, 64, SQLITE_STATIC);
	sqlite3_bind_text(st[AUD], 5, in->r[i + 1].hash, 64, SQLITE_STATIC);
	sq_step(db, st[AUD]);
}

/* Bulk: all rows in one transaction. Creates: one transaction each, audited, or autocommit. Per second. */
static double sq_run(const char *path, const input *in, bool bulk, enum how how)
{
	static const char *const sql[] = { SQ_DATA, SQ_AUDIT, "BEGIN IMMEDIATE", "COMMIT" };
	sqlite3 *db = NULL;
	sqlite3_stmt *st[4];
	size_t i, n = bulk ? in->n : in->ncreate;
	double t0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", 0, 0, 0))
		die(path, sqlite3_errmsg(db));
	for (i = 0; i < 4; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL) != SQLITE_OK)
			die(sql[i], sqlite3_errmsg(db));
	t0 = bench_seconds();
	for (i = 0; i < n; i++) {
		if (bulk ? i == 0 : how == AUDIT)
			sq_step(db, st[BEGIN]);
		sq_row(db, st, in, i, bulk, how);
		if (bulk ? i + 1 == n : how == AUDIT)
			sq_step(db, st[COMMIT]);
	}
	t0 = bench_seconds() - t0;
	for (i = 0; i < 4; i++)
		sqlite3_finalize(st[i]);
	sqlite3_close(db);
	return (double)n / t0;
}

/* ---- DuckDB: the Appender for bulk, prepared statements for creates ---- */

#ifdef DAL_WITH_DUCKDB
static void dk_exec(duckdb_prepared_statement st)
{
	duckdb_result r;
	if (duckdb_execute_prepared(st, &r) != DuckDBSuccess)
		die("duckdb", duckdb_result_error(&r));
	duckdb_destroy_result(&r);
}

/* The audit rows need the ids, which the Appender does not return: drawn first, as dal does. */
static int64_t *dk_ids(duckdb_connection con, size_t n)
{
	int64_t *ids = xmalloc(n * sizeof(*ids));
	char sql[96];
	duckdb_result r;
	duckdb_data_chunk ch;
	size_t k = 0;

	snprintf(sql, sizeof(sql), "SELECT nextval('floor_data_id_seq') FROM range(%zu)", n);
	if (duckdb_query(con, sql, &r) != DuckDBSuccess)
		die(sql, duckdb_result_error(&r));
	while ((ch = duckdb_fetch_chunk(r)) != NULL) {
		idx_t c = duckdb_data_chunk_get_size(ch);
		memcpy(ids + k, duckdb_vector_get_data(duckdb_data_chunk_get_vector(ch, 0)), c * sizeof(*ids));
		k += c;
		duckdb_destroy_data_chunk(&ch);
	}
	duckdb_destroy_result(&r);
	if (k != n)
		die(sql, "too few rows");
	return ids;
}

static duckdb_appender dk_appender(duckdb_connection con, const char *table, const char *const *names, size_t n)
{
	duckdb_appender app;
	size_t i;

	if (duckdb_appender_create(con, NULL, table, &app) != DuckDBSuccess)
		die("appender", table);
	for (i = 0; i < n; i++)
		if (duckdb_appender_add_column(app, names[i]) != DuckDBSuccess)
			die("appender column", names[i]);
	return app;
}

static void dk_appender_close(duckdb_appender app)
{
	if (duckdb_appender_close(app) != DuckDBSuccess)
		die("append", duckdb_appender_error(app));
	duckdb_appender_destroy(&app);
}

static void dk_query(duckdb_connection con, const char *sql)
{
	duckdb_result r;
	if (duckdb_query(con, sql, &r) != DuckDBSuccess)
		die(sql, duckdb_result_error(&r));
	duckdb_destroy_result(&r);
}

/* ids NULL: from the column's DEFAULT, as bench_bulk's raw side. */
static void dk_append_data(duckdb_connection con, const input *in, const int64_t *ids)
{
	static const char *const names[] = { "name", "email", "score", "created_at", "updated_at", "id" };
	duckdb_appender app = dk_appender(con, "floor_data", names, ids ? 6 : 5);
	duckdb_timestamp ts = { in->now };
	size_t i;

	for (i = 0; i < in->n; i++) {
		duckdb_append_varchar(app, in->r[i].name);
		duckdb_append_varchar(app, in->r[i].email);
		duckdb_append_double(app, (double)i * 0.5);
		duckdb_append_timestamp(app, ts);
		duckdb_append_timestamp(app, ts);
		if (ids)
			duckdb_append_int64(app, ids[i]);
		duckdb_appender_end_row(app);
	}
	dk_appender_close(app);
}

static void dk_append_audit(duckdb_connection con, const input *in, const int64_t *ids)
{
	static const char *const names[] = { "action", "resource_type", "resource_id", "new_values", "timestamp",
		"prev_hash", "row_hash" };
	duckdb_appender app = dk_appender(con, "audit_logs", names, 7);
	duckdb_timestamp ts = { in->now };
	size_t i;

	for (i = 0; i < in->n; i++) {
		duckdb_append_varchar(app, "BULK_CREATE");
		duckdb_append_varchar(app, "floor_data");
		duckdb_append_int64(app, ids[i]);
		duckdb_append_varchar(app, in->r[i].json);
		duckdb_append_timestamp(app, ts);
		duckdb_append_varchar_length(app, in->r[i].hash, 64);
		duckdb_append_varchar_length(app, in->r[i + 1].hash, 64);
		duckdb_appender_end_row(app);
	}
	dk_appender_close(app);
}

/* Seconds. */
static double dk_bulk(duckdb_connection con, const input *in, enum how how)
{
	double t0 = bench_seconds();
	int64_t *ids;

	dk_query(con, "BEGIN TRANSACTION");
	ids = how == AUDIT ? dk_ids(con, in->n) : NULL;
	dk_append_data(con, in, ids);
	if (ids)
		dk_append_audit(con, in, ids);
	dk_query(con, "COMMIT");
	free(ids);
	return bench_seconds() - t0;
}

/* Seconds, without preparing. */
static double dk_creates(duckdb_connection con, const input *in, enum how how)
{
	static const char *const sql[] = { SQ_DATA, DK_AUDIT, "BEGIN TRANSACTION", "COMMIT" };
	duckdb_prepared_statement st[4];
	duckdb_timestamp ts = { in->now };
	double t0;
	size_t i;

	for (i = 0; i < 4; i++)
		if (duckdb_prepare(con, sql[i], &st[i]) != DuckDBSuccess)
			die(sql[i], duckdb_prepare_error(st[i]));
	t0 = bench_seconds();
	for (i = 0; i < in->ncreate; i++) {
		duckdb_bind_varchar(st[INS], 1, in->r[i].name);
		duckdb_bind_varchar(st[INS], 2, in->r[i].email);
		duckdb_bind_double(st[INS], 3, (double)i * 0.5);
		duckdb_bind_timestamp(st[INS], 4, ts);
		duckdb_bind_timestamp(st[INS], 5, ts);
		if (how == PLAIN) {
			dk_exec(st[INS]);
			continue;
		}
		duckdb_bind_varchar(st[AUD], 1, in->r[i].cjson);
		duckdb_bind_timestamp(st[AUD], 2, ts);
		duckdb_bind_varchar_length(st[AUD], 3, in->r[i].hash, 64);
		duckdb_bind_varchar_length(st[AUD], 4, in->r[i + 1].hash, 64);
		dk_exec(st[BEGIN]);
		dk_exec(st[INS]);
		dk_exec(st[AUD]);
		dk_exec(st[COMMIT]);
	}
	t0 = bench_seconds() - t0;
	for (i = 0; i < 4; i++)
		duckdb_destroy_prepare(&st[i]);
	return t0;
}

static double dk_run(const char *path, const input *in, bool bulk, enum how how)
{
	duckdb_database db;
	duckdb_connection con;
	double t;

	if (duckdb_open(path, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		die("duckdb open", path);
	t = bulk ? dk_bulk(con, in, how) : dk_creates(con, in, how);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return (double)(bulk ? in->n : in->ncreate) / t;
}
#endif

/* ---- PostgreSQL: binary COPY for bulk, prepared statements for creates ---- */

static void pg_check(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
	if (PQresultStatus(r) != want)
		die(what, PQerrorMessage(c));
	PQclear(r);
}

/* Binary COPY data: big-endian integers; each field its length, then its bytes. */
typedef struct cbuf { PGconn *c; char *p; size_t len; } cbuf;

static void cb_int(cbuf *b, uint64_t v, int bytes)
{
	int i;
	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		b->p[b->len + (size_t)i] = (char)(v & 0xff);
	b->len += (size_t)bytes;
}

static void cb_word(cbuf *b, uint64_t v)
{
	cb_int(b, 8, 4);
	cb_int(b, v, 8);
}

/* jsonb's binary form is a version byte (1), then the text. */
static void cb_text(cbuf *b, const char *s, size_t n, bool jsonb)
{
	cb_int(b, n + jsonb, 4);
	if (jsonb)
		b->p[b->len++] = 1;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Row i of floor_data (ids NULL: the identity fills id) or, with `audit`, of audit_logs. */
static void pg_row(cbuf *b, const input *in, size_t i, const int64_t *ids, bool audit)
{
	uint64_t ts = (uint64_t)(in->now - 946684800LL * 1000000), d;   /* since 2000-01-01 */
	double score = (double)i * 0.5;

	cb_int(b, audit ? 7 : ids ? 6 : 5, 2);
	if (audit) {
		cb_text(b, "BULK_CREATE", 11, false);
		cb_text(b, "floor_data", 10, false);
		cb_word(b, (uint64_t)ids[i]);
		cb_text(b, in->r[i].json, strlen(in->r[i].json), true);
		cb_word(b, ts);
		cb_text(b, in->r[i].hash, 64, false);
		cb_text(b, in->r[i + 1].hash, 64, false);
		return;
	}
	if (ids)
		cb_word(b, (uint64_t)ids[i]);
	cb_text(b, in->r[i].name, strlen(in->r[i].name), false);
	cb_text(b, in->r[i].email, strlen(in->r[i].email), false);
	memcpy(&d, &score, sizeof(d));
	cb_word(b, d);
	cb_word(b, ts);
	cb_word(b, ts);
}

static void pg_copy(PGconn *c, const char *sql, const input *in, const int64_t *ids, bool audit)
{
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	cbuf b = { c, xmalloc(512 * 1024), sizeof(header) };
	size_t i;

	pg_check(c, PQexec(c, sql), PGRES_COPY_IN, sql);
	memcpy(b.p, header, sizeof(header));
	for (i = 0; i < in->n; i++) {
		pg_row(&b, in, i, ids, audit);
		if (i + 1 == in->n)
			cb_int(&b, 0xffff, 2);
		if (b.len < 256 * 1024 && i + 1 < in->n)
			continue;
		if (PQputCopyData(c, b.p, (int)b.len) != 1)
			die("copy", PQerrorMessage(c));
		b.len = 0;
	}
	if (PQputCopyEnd(c, NULL) != 1)
		die("copy end", PQerrorMessage(c));
	pg_check(c, PQgetResult(c), PGRES_COMMAND_OK, sql);
	PQclear(PQgetResult(c));
	free(b.p);
}

/* The audit rows need the ids, which COPY does not return: drawn first, as dal does. */
static int64_t *pg_ids(PGconn *c, size_t n)
{
	int64_t *ids = xmalloc(n * sizeof(*ids));
	char sql[96];
	PGresult *r;
	size_t i;

	snprintf(sql, sizeof(sql), "SELECT nextval('floor_data_id_seq') FROM generate_series(1, %zu)", n);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || (size_t)PQntuples(r) != n)
		die(sql, PQerrorMessage(c));
	for (i = 0; i < n; i++)
		ids[i] = atoll(PQgetvalue(r, (int)i, 0));
	PQclear(r);
	return ids;
}

/* Seconds. */
static double pg_bulk(PGconn *c, const input *in, enum how how)
{
	double t0 = bench_seconds();
	int64_t *ids;

	if (how == PLAIN) {
		pg_copy(c, "COPY floor_data (name, email, score, created_at, updated_at) FROM STDIN (FORMAT binary)",
			in, NULL, false);
		return bench_seconds() - t0;
	}
	pg_check(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
	ids = pg_ids(c, in->n);
	pg_copy(c, "COPY floor_data (id, name, email, score, created_at, updated_at) FROM STDIN (FORMAT binary)",
		in, ids, false);
	pg_copy(c, "COPY audit_logs (action, resource_type, resource_id, new_values, timestamp, prev_hash, row_hash) "
		"FROM STDIN (FORMAT binary)", in, ids, true);
	pg_check(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
	free(ids);
	return bench_seconds() - t0;
}

/* Seconds, without preparing. Text parameters: name, email, score, timestamp, JSON, prev_hash, row_hash. */
static double pg_creates(PGconn *c, const input *in, enum how how)
{
	char score[32];
	const char *p[7] = { NULL, NULL, score, in->ts };
	double t0;
	size_t i;

	pg_check(c, PQprepare(c, "ins", PG_DATA, 0, NULL), PGRES_COMMAND_OK, PG_DATA);
	pg_check(c, PQprepare(c, "aud", PG_AUDIT, 0, NULL), PGRES_COMMAND_OK, PG_AUDIT);
	pg_check(c, PQprepare(c, "cte", PG_CTE, 0, NULL), PGRES_COMMAND_OK, PG_CTE);
	t0 = bench_seconds();
	for (i = 0; i < in->ncreate; i++) {
		p[0] = in->r[i].name;
		p[1] = in->r[i].email;
		snprintf(score, sizeof(score), "%.1f", (double)i * 0.5);
		p[4] = in->r[i].cjson;
		p[5] = in->r[i].hash;
		p[6] = in->r[i + 1].hash;
		if (how == CTE) {
			pg_check(c, PQexecPrepared(c, "cte", 7, p, NULL, NULL, 0), PGRES_COMMAND_OK, "cte");
			continue;
		}
		if (how == AUDIT)
			pg_check(c, PQexec(c, "BEGIN"), PGRES_COMMAND_OK, "begin");
		pg_check(c, PQexecPrepared(c, "ins", 4, p, NULL, NULL, 0), PGRES_COMMAND_OK, "insert");
		if (how == PLAIN)
			continue;
		pg_check(c, PQexecPrepared(c, "aud", 4, p + 3, NULL, NULL, 0), PGRES_COMMAND_OK, "audit insert");
		pg_check(c, PQexec(c, "COMMIT"), PGRES_COMMAND_OK, "commit");
	}
	return bench_seconds() - t0;
}

static double pg_run(const char *url, const input *in, bool bulk, enum how how)
{
	PGconn *c = PQconnectdb(url);
	double t;

	if (PQstatus(c) != CONNECTION_OK)
		die("connect", PQerrorMessage(c));
	t = bulk ? pg_bulk(c, in, how) : pg_creates(c, in, how);
	PQfinish(c);
	return (double)(bulk ? in->n : in->ncreate) / t;
}

/* ---- the runs ---- */

typedef struct engine {
	const char *name, *url, *target;   /* dal's URL for the tables; the path or conninfo the raw API opens */
	double (*run)(const char *target, const input *in, bool bulk, enum how how);
} engine;

/* Best of `rounds`, the floor and the plain side taking turns, fresh tables each time. */
static void line(const engine *e, const input *in, const char *op, bool bulk, enum how how, int rounds)
{
	bool duckdb = strcmp(e->name, "duckdb") == 0;
	double d = 0, r = 0, x;
	int k;

	for (k = 0; k < rounds; k++) {
		fresh(e->url, duckdb);
		if ((x = e->run(e->target, in, bulk, how)) > d)
			d = x;
		fresh(e->url, duckdb);
		if ((x = e->run(e->target, in, bulk, PLAIN)) > r)
			r = x;
	}
	printf("bench %s %s dal=%.0f raw=%.0f ratio=%.2f\n", e->name, op, d, r, d / r);
	fflush(stdout);
}

static void engine_run(const engine *e, const input *in, int rounds)
{
	const char *only = getenv("BENCH_ENGINE");

	if (only && strcmp(only, e->name) != 0)
		return;
	line(e, in, "bulk_create_audit_floor", true, AUDIT, rounds);
	line(e, in, "create_audit_floor", false, AUDIT, rounds);
	if (e->run == pg_run)
		line(e, in, "create_audit_floor_cte", false, CTE, rounds);
}

int main(void)
{
	char dir[256], path[300], url[400];
	const char *pg = getenv("DAL_BENCH_PG_URL"), *only = getenv("BENCH_ENGINE");
	bool quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "0") != 0;
	int rounds = quick ? 1 : 3;
	input in;

	input_make(&in, quick ? 5000 : 100000, quick ? 200 : 2000);
	snprintf(dir, sizeof(dir), "%s/dal-bench-floor-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp", dir);
	snprintf(path, sizeof(path), "%s/floor.db", dir);
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	engine_run(&(engine){ "sqlite", url, path, sq_run }, &in, rounds);
#ifdef DAL_WITH_DUCKDB
	snprintf(path, sizeof(path), "%s/floor.duckdb", dir);
	snprintf(url, sizeof(url), "duckdb:///%s", path);
	engine_run(&(engine){ "duckdb", url, path, dk_run }, &in, rounds);
#endif
	if (pg && *pg)
		engine_run(&(engine){ "postgresql", pg, pg, pg_run }, &in, rounds);
	else if (!only || strcmp(only, "postgresql") == 0)
		printf("bench postgresql skipped: DAL_BENCH_PG_URL is not set (make bench sets it)\n");
	free(in.r);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
