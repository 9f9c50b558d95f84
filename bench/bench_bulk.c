/*
 * Bulk operations against each engine's fastest raw path, in the same run:
 *   bench <engine> bulk_create|bulk_update|bulk_delete dal=<rows/s> raw=<rows/s> ratio=<dal/raw>
 *   bench <engine> bulk_create_1m peak_rss_mib=<n>   (a child process: fork + exec of this program)
 *   bench duckdb bulk_create_1m_raw peak_rss_mib=<n> (the same rows through DuckDB's Appender, a child too)
 *   bench <engine> bulk_create_audit dal=<rows/s with DAL_AUDIT> raw=<rows/s, the same call without> ratio=
 * Raw: SQLite prepared statements in one transaction; PostgreSQL binary COPY, binary COPY
 * into a temporary table + UPDATE ... FROM, DELETE ... = ANY($1); DuckDB the Appender,
 * Appender into a temporary table + UPDATE ... FROM / DELETE ... IN (SELECT).
 * BENCH_QUICK=1 makes a short run; BENCH_ENGINE and BENCH_ONLY pick an engine and a line.
 * PostgreSQL runs when DAL_BENCH_PG_URL is set.
 */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef DAL_WITH_DUCKDB
#include <duckdb.h>
#endif

#include <dal/dal.h>

#include "model.h"
#include "util.h"

static const dal_column cols[] = { BENCH_COLUMNS };
static const dal_model dal_m = DAL_MODEL("bulk_dal", cols);
static const dal_model raw_m = DAL_MODEL("bulk_raw", cols);
static const char *const in_cols[] = { "name", "email", "score" };

static size_t nrows;

static void rawdie(const char *what, const char *msg)
{
	fprintf(stderr, "bench_bulk: raw %s: %s\n", what, msg ? msg : "failed");
	exit(1);
}

/*
 * The input: name "user <i>", email "user<i>@example.com", score i / 2. The text
 * is packed end to end (dal_textn needs no NUL), so the memory the input holds
 * is the `bytes` it is counted as in the 1m figure's target.
 */
typedef struct input {
	char *text;
	dal_value *v;       /* n x 3 */
	dal_value *names;   /* n: new names for the update */
	char *ntext;
	size_t n;
	size_t bytes;       /* values and the text they point at */
} input;

/* At most 40 bytes of text per row for i < 10^12 ("user " + 12 digits, "user" + 12 + 12). */
#define ROW_TEXT 40

static void input_make(input *in, size_t n, bool with_update)
{
	size_t i, off = 0;

	in->n = n;
	/* Pages never written are never resident: the slack at the end costs no memory. */
	in->text = malloc(n * ROW_TEXT + 1);
	in->v = malloc(n * 3 * sizeof(dal_value));
	in->names = with_update ? malloc(n * sizeof(dal_value)) : NULL;
	in->ntext = with_update ? malloc(n * 24) : NULL;
	if (!in->text || !in->v || (with_update && (!in->names || !in->ntext)))
		bench_die("bench_bulk", "out of memory");
	for (i = 0; i < n; i++) {
		char *name = in->text + off, *email;
		int a = snprintf(name, ROW_TEXT + 1, "user %zu", i), b;
		email = name + a;
		b = snprintf(email, ROW_TEXT + 1, "user%zu@example.com", i);
		off += (size_t)a + (size_t)b;
		in->v[i * 3] = dal_textn(name, (size_t)a);
		in->v[i * 3 + 1] = dal_textn(email, (size_t)b);
		in->v[i * 3 + 2] = dal_double((double)i * 0.5);
		if (with_update) {
			int c = snprintf(in->ntext + i * 24, 24, "renamed %zu", i);
			in->names[i] = dal_textn(in->ntext + i * 24, (size_t)c);
		}
	}
	in->bytes = n * 3 * sizeof(dal_value) + off;
}

static void input_free(input *in)
{
	free(in->text);
	free(in->v);
	free(in->names);
	free(in->ntext);
}

/* ---- dal ---- */

typedef struct times { double create, update, del; } times;

static void dal_side(times *t, const char *url, const input *in)
{
	const dal_model *ms[1] = { &dal_m };
	static const char *const upd_cols[] = { "name" };
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	int64_t *ids = malloc(in->n * sizeof(int64_t)), count = 0;
	double t0;

	if (dal_open(&db, url, NULL) < 0)
		bench_die("bench_bulk", url);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bulk_dal", NULL, 0);
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) < 0 || dal_repo_open(&repo, db, &dal_m, 0) < 0)
		bench_die("bench_bulk", "schema");
	t0 = bench_seconds();
	if (dal_repo_bulk_create(ids, repo, in_cols, 3, in->v, in->n) < 0)
		bench_die("bench_bulk", "bulk create");
	t->create = (double)in->n / (bench_seconds() - t0);
	t0 = bench_seconds();
	if (dal_repo_bulk_update(&count, repo, ids, upd_cols, 1, in->names, in->n) < 0 || (size_t)count != in->n)
		bench_die("bench_bulk", "bulk update");
	t->update = (double)in->n / (bench_seconds() - t0);
	t0 = bench_seconds();
	if (dal_repo_bulk_delete(&count, repo, ids, in->n, false) < 0 || (size_t)count != in->n)
		bench_die("bench_bulk", "bulk delete");
	t->del = (double)in->n / (bench_seconds() - t0);
	dal_repo_close(repo);
	dal_close(db);
	free(ids);
}

/* The raw side's table: created by dal, so both sides have the same schema and indexes. */
static void raw_schema(const char *url)
{
	const dal_model *ms[1] = { &raw_m };
	dal_db *db = NULL;

	if (dal_open(&db, url, NULL) < 0)
		bench_die("bench_bulk", url);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bulk_raw", NULL, 0);
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) < 0)
		bench_die("bench_bulk", "raw schema");
	dal_close(db);
}

/* ---- raw SQLite ---- */

static void sq_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		rawdie(sql, err);
}

static void raw_sqlite(times *t, const char *path, const input *in)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *upd, *del;
	char ts[DAL_TIMESTAMP_BUFSIZE];
	int64_t first;
	size_t i;
	double t0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		rawdie("open", path);
	/* dal's defaults: WAL, synchronous NORMAL. */
	sq_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
	sqlite3_prepare_v2(db, "INSERT INTO bulk_raw (name, email, score, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "UPDATE bulk_raw SET name = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL", -1, &upd, NULL);
	sqlite3_prepare_v2(db, "DELETE FROM bulk_raw WHERE id = ?", -1, &del, NULL);
	dal_timestamp_format(ts, dal_now());
	t0 = bench_seconds();
	sq_exec(db, "BEGIN IMMEDIATE");
	for (i = 0; i < in->n; i++) {
		sqlite3_bind_text(ins, 1, in->v[i * 3].v.s, (int)in->v[i * 3].len, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, in->v[i * 3 + 1].v.s, (int)in->v[i * 3 + 1].len, SQLITE_STATIC);
		sqlite3_bind_double(ins, 3, in->v[i * 3 + 2].v.d);
		sqlite3_bind_text(ins, 4, ts, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 5, ts, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rawdie("sqlite insert", sqlite3_errmsg(db));
		sqlite3_reset(ins);
	}
	sq_exec(db, "COMMIT");
	t->create = (double)in->n / (bench_seconds() - t0);
	first = sqlite3_last_insert_rowid(db) - (int64_t)in->n + 1;
	t0 = bench_seconds();
	sq_exec(db, "BEGIN IMMEDIATE");
	for (i = 0; i < in->n; i++) {
		sqlite3_bind_text(upd, 1, in->names[i].v.s, (int)in->names[i].len, SQLITE_STATIC);
		sqlite3_bind_text(upd, 2, ts, -1, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 3, first + (int64_t)i);
		if (sqlite3_step(upd) != SQLITE_DONE)
			rawdie("sqlite update", sqlite3_errmsg(db));
		sqlite3_reset(upd);
	}
	sq_exec(db, "COMMIT");
	t->update = (double)in->n / (bench_seconds() - t0);
	t0 = bench_seconds();
	sq_exec(db, "BEGIN IMMEDIATE");
	for (i = 0; i < in->n; i++) {
		sqlite3_bind_int64(del, 1, first + (int64_t)i);
		if (sqlite3_step(del) != SQLITE_DONE)
			rawdie("sqlite delete", sqlite3_errmsg(db));
		sqlite3_reset(del);
	}
	sq_exec(db, "COMMIT");
	t->del = (double)in->n / (bench_seconds() - t0);
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_finalize(del);
	sqlite3_close(db);
}

/* ---- raw PostgreSQL ---- */

static void pg_ok(PGconn *c, PGresult *r, const char *what)
{
	ExecStatusType s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_COPY_IN)
		rawdie(what, PQerrorMessage(c));
}

static void pg_run(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	pg_ok(c, r, sql);
	PQclear(r);
}

/* Binary COPY, big-endian: each field its length, then its bytes. */
static size_t put_be(char *p, uint64_t v, int bytes)
{
	int i;

	for (i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (char)(v & 0xff);
	return (size_t)bytes;
}

static size_t put_word(char *p, uint64_t v)
{
	put_be(p, 8, 4);
	return 4 + put_be(p + 4, v, 8);
}

static size_t put_text(char *p, const dal_value *v)
{
	put_be(p, v->len, 4);
	memcpy(p + 4, v->v.s, v->len);
	return 4 + v->len;
}

/* Row i: kind 0 the create's five columns, kind 1 the update's (id, name). `ts`: PostgreSQL's microseconds. */
static size_t pg_row(char *p, const input *in, size_t i, int kind, int64_t first, int64_t ts)
{
	size_t len = put_be(p, kind == 0 ? 5 : 2, 2);
	uint64_t d;

	if (kind == 1)
		return len + put_word(p + len, (uint64_t)(first + (int64_t)i)) + put_text(p + len + 12, &in->names[i]);
	len += put_text(p + len, &in->v[i * 3]);
	len += put_text(p + len, &in->v[i * 3 + 1]);
	memcpy(&d, &in->v[i * 3 + 2].v.d, sizeof(d));
	len += put_word(p + len, d);
	len += put_word(p + len, (uint64_t)ts);
	return len + put_word(p + len, (uint64_t)ts);
}

/*
 * COPY in binary format, PostgreSQL's fastest load path: the server reads the
 * double and the timestamps without parsing text (measured on this table:
 * ~20% more rows/s than text COPY).
 */
static void pg_copy(PGconn *c, const char *sql, const input *in, int kind, int64_t first, int64_t now)
{
	static const char header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
	char *buf = malloc(300 * 1024);
	int64_t ts = now - 946684800LL * 1000000;   /* since 2000-01-01 */
	size_t len = sizeof(header), i;
	PGresult *r = PQexec(c, sql);

	pg_ok(c, r, sql);
	PQclear(r);
	memcpy(buf, header, sizeof(header));
	for (i = 0; i < in->n; i++) {
		len += pg_row(buf + len, in, i, kind, first, ts);
		if (i + 1 == in->n)
			len += put_be(buf + len, 0xffff, 2);
		if (len >= 256 * 1024 || i + 1 == in->n) {
			if (PQputCopyData(c, buf, (int)len) != 1)
				rawdie("copy", PQerrorMessage(c));
			len = 0;
		}
	}
	if (PQputCopyEnd(c, NULL) != 1)
		rawdie("copy end", PQerrorMessage(c));
	r = PQgetResult(c);
	pg_ok(c, r, "copy");
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	free(buf);
}

static void raw_postgres(times *t, const char *url, const input *in)
{
	PGconn *c;
	PGresult *r;
	char ts[DAL_TIMESTAMP_BUFSIZE], *arr;
	const char *p[2];
	int64_t first, now = dal_now();
	size_t i, len = 0;
	double t0;

	/* libpq takes the URL without dal's own parameters. */
	if (!(c = PQconnectdb(url)) || PQstatus(c) != CONNECTION_OK)
		rawdie("connect", c ? PQerrorMessage(c) : NULL);
	dal_timestamp_format(ts, now);
	t0 = bench_seconds();
	pg_copy(c, "COPY bulk_raw (name, email, score, created_at, updated_at) FROM STDIN (FORMAT binary)", in, 0, 0, now);
	t->create = (double)in->n / (bench_seconds() - t0);
	r = PQexec(c, "SELECT MIN(id) FROM bulk_raw");
	pg_ok(c, r, "min");
	first = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	t0 = bench_seconds();
	pg_run(c, "BEGIN");
	pg_run(c, "CREATE TEMP TABLE raw_upd (id BIGINT, name TEXT) ON COMMIT DROP");
	pg_copy(c, "COPY raw_upd (id, name) FROM STDIN (FORMAT binary)", in, 1, first, now);
	p[0] = ts;
	r = PQexecParams(c, "UPDATE bulk_raw SET name = u.name, updated_at = $1 FROM raw_upd u WHERE bulk_raw.id = u.id "
		"AND bulk_raw.deleted_at IS NULL", 1, NULL, p, NULL, NULL, 0);
	pg_ok(c, r, "update");
	PQclear(r);
	pg_run(c, "COMMIT");
	t->update = (double)in->n / (bench_seconds() - t0);
	t0 = bench_seconds();
	arr = malloc(in->n * 22 + 3);
	arr[len++] = '{';
	for (i = 0; i < in->n; i++)
		len += (size_t)sprintf(arr + len, i ? ",%lld" : "%lld", (long long)(first + (int64_t)i));
	arr[len++] = '}';
	arr[len] = '\0';
	p[0] = arr;
	r = PQexecParams(c, "DELETE FROM bulk_raw WHERE id = ANY($1::bigint[])", 1, NULL, p, NULL, NULL, 0);
	pg_ok(c, r, "delete");
	PQclear(r);
	t->del = (double)in->n / (bench_seconds() - t0);
	free(arr);
	PQfinish(c);
}

/* ---- raw DuckDB ---- */

#ifdef DAL_WITH_DUCKDB
static void dk_run(duckdb_connection con, const char *sql)
{
	duckdb_result r;
	if (duckdb_query(con, sql, &r) != DuckDBSuccess)
		rawdie(sql, duckdb_result_error(&r));
	duckdb_destroy_result(&r);
}

/* The create: one transaction, one Appender, ids from the column's DEFAULT. */
static void dk_create(duckdb_connection con, const input *in, duckdb_timestamp ts)
{
	duckdb_appender app;
	size_t i;

	dk_run(con, "BEGIN TRANSACTION");
	if (duckdb_appender_create(con, NULL, "bulk_raw", &app) != DuckDBSuccess)
		rawdie("appender", NULL);
	duckdb_appender_add_column(app, "name");
	duckdb_appender_add_column(app, "email");
	duckdb_appender_add_column(app, "score");
	duckdb_appender_add_column(app, "created_at");
	duckdb_appender_add_column(app, "updated_at");
	for (i = 0; i < in->n; i++) {
		duckdb_append_varchar_length(app, in->v[i * 3].v.s, in->v[i * 3].len);
		duckdb_append_varchar_length(app, in->v[i * 3 + 1].v.s, in->v[i * 3 + 1].len);
		duckdb_append_double(app, in->v[i * 3 + 2].v.d);
		duckdb_append_timestamp(app, ts);
		duckdb_append_timestamp(app, ts);
		duckdb_appender_end_row(app);
	}
	if (duckdb_appender_close(app) != DuckDBSuccess)
		rawdie("append", duckdb_appender_error(app));
	duckdb_appender_destroy(&app);
	dk_run(con, "COMMIT");
}

static void raw_duckdb(times *t, const char *path, const input *in)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_appender app;
	duckdb_result r;
	duckdb_timestamp ts = { dal_now() };
	int64_t first;
	size_t i;
	double t0;

	if (duckdb_open(path, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		rawdie("duckdb open", path);
	t0 = bench_seconds();
	dk_create(con, in, ts);
	t->create = (double)in->n / (bench_seconds() - t0);
	if (duckdb_query(con, "SELECT MIN(id) FROM bulk_raw", &r) != DuckDBSuccess)
		rawdie("min", NULL);
	first = duckdb_value_int64(&r, 0, 0);
	duckdb_destroy_result(&r);
	t0 = bench_seconds();
	dk_run(con, "BEGIN TRANSACTION");
	dk_run(con, "CREATE TEMP TABLE raw_upd (id BIGINT, name VARCHAR)");
	duckdb_appender_create(con, NULL, "raw_upd", &app);
	for (i = 0; i < in->n; i++) {
		duckdb_append_int64(app, first + (int64_t)i);
		duckdb_append_varchar_length(app, in->names[i].v.s, in->names[i].len);
		duckdb_appender_end_row(app);
	}
	duckdb_appender_close(app);
	duckdb_appender_destroy(&app);
	{
		char sql[256];
		char tsbuf[DAL_TIMESTAMP_BUFSIZE];
		dal_timestamp_format(tsbuf, ts.micros);
		snprintf(sql, sizeof(sql), "UPDATE bulk_raw SET name = u.name, updated_at = TIMESTAMP '%s' FROM raw_upd u "
			"WHERE bulk_raw.id = u.id AND bulk_raw.deleted_at IS NULL", tsbuf);
		dk_run(con, sql);
	}
	dk_run(con, "DROP TABLE raw_upd");
	dk_run(con, "COMMIT");
	t->update = (double)in->n / (bench_seconds() - t0);
	t0 = bench_seconds();
	dk_run(con, "BEGIN TRANSACTION");
	dk_run(con, "CREATE TEMP TABLE raw_del (id BIGINT)");
	duckdb_appender_create(con, NULL, "raw_del", &app);
	for (i = 0; i < in->n; i++) {
		duckdb_append_int64(app, first + (int64_t)i);
		duckdb_appender_end_row(app);
	}
	duckdb_appender_close(app);
	duckdb_appender_destroy(&app);
	dk_run(con, "DELETE FROM bulk_raw WHERE id IN (SELECT id FROM raw_del)");
	dk_run(con, "DROP TABLE raw_del");
	dk_run(con, "COMMIT");
	t->del = (double)in->n / (bench_seconds() - t0);
	duckdb_disconnect(&con);
	duckdb_close(&db);
}
#endif

/* ---- peak RSS of a 1,000,000-row bulk create, in a child ---- */

/* A /proc/self/status figure ("VmHWM:", "VmRSS:"), in KiB. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			kib = atol(line + strlen(key));
	if (f)
		fclose(f);
	return kib;
}

/* The 1m figure, and on stderr what it is made of. */
static void rss_report(const char *engine, const char *op, long before_kib, const input *in)
{
	long peak = status_kib("VmHWM:") / 1024;

	printf("bench %s %s peak_rss_mib=%ld\n", engine, op, peak);
	fprintf(stderr, "bench_bulk: %s %s: %ld MiB before the input (libraries, the open database), input values "
		"%.0f MiB (2x: %.0f MiB), peak %ld MiB: %ld MiB over the input and what was there before\n", engine, op,
		before_kib / 1024, (double)in->bytes / 1048576.0, 2.0 * (double)in->bytes / 1048576.0, peak,
		peak - before_kib / 1024 - (long)(in->bytes / 1048576));
}

static int child_rss(const char *engine, const char *url, size_t n)
{
	const dal_model *ms[1] = { &dal_m };
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	input in;
	long before;

	if (dal_open(&db, url, NULL) < 0)
		bench_die("bench_bulk", url);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bulk_dal", NULL, 0);
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) < 0 || dal_repo_open(&repo, db, &dal_m, 0) < 0)
		bench_die("bench_bulk", "schema");
	before = status_kib("VmRSS:");
	input_make(&in, n, false);
	if (dal_repo_bulk_create(NULL, repo, in_cols, 3, in.v, n) < 0)
		bench_die("bench_bulk", "bulk create 1m");
	rss_report(engine, "bulk_create_1m", before, &in);
	input_free(&in);
	dal_repo_close(repo);
	dal_close(db);
	return 0;
}

#ifdef DAL_WITH_DUCKDB
/* The engine's own figure for the same work: DuckDB's Appender, one transaction, on bulk_raw. */
static int child_rss_raw(const char *path, size_t n)
{
	duckdb_database db;
	duckdb_connection con;
	duckdb_timestamp ts = { dal_now() };
	input in;
	long before;

	if (duckdb_open(path, &db) != DuckDBSuccess || duckdb_connect(db, &con) != DuckDBSuccess)
		rawdie("duckdb open", path);
	before = status_kib("VmRSS:");
	input_make(&in, n, false);
	dk_create(con, &in, ts);
	rss_report("duckdb", "bulk_create_1m_raw", before, &in);
	input_free(&in);
	duckdb_disconnect(&con);
	duckdb_close(&db);
	return 0;
}
#endif

/* BENCH_ENGINE=sqlite runs one engine, BENCH_ONLY=bulk_create_audit that line alone. */
static bool wanted(const char *engine, const char *line)
{
	const char *e = getenv("BENCH_ENGINE"), *only = getenv("BENCH_ONLY");

	return (!e || strcmp(e, engine) == 0) && (!only || strcmp(only, line) == 0);
}

/* `mode` --rss (dal on `target`, a URL) or --rss-raw (the raw engine on `target`, a path). */
static void run_child(const char *self, const char *mode, const char *engine, const char *target, size_t n)
{
	char num[32];
	pid_t pid;
	int status = 0;

	if (!wanted(engine, "bulk_create_1m"))
		return;
	fflush(stdout);
	snprintf(num, sizeof(num), "%zu", n);
	if ((pid = fork()) == 0) {
		execl(self, self, mode, engine, target, num, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "bench_bulk: the 1m child (%s) for %s failed\n", mode, engine);
}

static void report(const char *engine, const times *d, const times *r)
{
	printf("bench %s bulk_create dal=%.0f raw=%.0f ratio=%.2f\n", engine, d->create, r->create, d->create / r->create);
	printf("bench %s bulk_update dal=%.0f raw=%.0f ratio=%.2f\n", engine, d->update, r->update, d->update / r->update);
	printf("bench %s bulk_delete dal=%.0f raw=%.0f ratio=%.2f\n", engine, d->del, r->del, d->del / r->del);
	fflush(stdout);
}

/* One bulk create of the input through dal, with or without DAL_AUDIT; rows/s. */
static double create_once(const char *url, const input *in, unsigned flags)
{
	const dal_model *ms[1] = { &dal_m };
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	double t0, rate;

	if (dal_open(&db, url, NULL) < 0)
		bench_die("bench_bulk", url);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS bulk_dal", NULL, 0);
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) < 0 || dal_repo_open(&repo, db, &dal_m, flags) < 0)
		bench_die("bench_bulk", "schema");
	t0 = bench_seconds();
	if (dal_repo_bulk_create(NULL, repo, in_cols, 3, in->v, in->n) < 0)
		bench_die("bench_bulk", flags ? "audited bulk create" : "bulk create");
	rate = (double)in->n / (bench_seconds() - t0);
	dal_repo_close(repo);
	dal_close(db);
	return rate;
}

/* Best of `rounds`, audited and not taking turns. */
static void bench_audit(const char *engine, const char *url, const input *in, int rounds)
{
	double d = 0, r = 0, x;
	int k;

	if (!wanted(engine, "bulk_create_audit"))
		return;
	for (k = 0; k < rounds; k++) {
		if ((x = create_once(url, in, DAL_AUDIT)) > d)
			d = x;
		if ((x = create_once(url, in, 0)) > r)
			r = x;
	}
	printf("bench %s bulk_create_audit dal=%.0f raw=%.0f ratio=%.2f\n", engine, d, r, d / r);
	fflush(stdout);
}

/* Best of `rounds` for each operation, dal and raw taking turns. */
static void bench_engine(const char *engine, const char *dal_url, const char *raw_url,
                         void (*raw)(times *, const char *, const input *), const char *raw_target,
                         const input *in, int rounds)
{
	times d = { 0, 0, 0 }, r = { 0, 0, 0 }, x;
	int k;

	if (!wanted(engine, "bulk_create"))
		return;
	for (k = 0; k < rounds; k++) {
		dal_side(&x, dal_url, in);
		d.create = x.create > d.create ? x.create : d.create;
		d.update = x.update > d.update ? x.update : d.update;
		d.del = x.del > d.del ? x.del : d.del;
		raw_schema(raw_url);
		raw(&x, raw_target, in);
		r.create = x.create > r.create ? x.create : r.create;
		r.update = x.update > r.update ? x.update : r.update;
		r.del = x.del > r.del ? x.del : r.del;
	}
	report(engine, &d, &r);
}

int main(int argc, char **argv)
{
	char dir[256], path[300], rpath[300], url[400], rurl[400];
	const char *pg = getenv("DAL_BENCH_PG_URL");
	bool quick = getenv("BENCH_QUICK") && strcmp(getenv("BENCH_QUICK"), "0") != 0;
	size_t big = quick ? 20000 : 1000000;
	int rounds = quick ? 1 : 3;
	input in;

	if (argc == 5 && strcmp(argv[1], "--rss") == 0)
		return child_rss(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10));
#ifdef DAL_WITH_DUCKDB
	if (argc == 5 && strcmp(argv[1], "--rss-raw") == 0)
		return child_rss_raw(argv[3], (size_t)strtoull(argv[4], NULL, 10));
#endif
	nrows = quick ? 5000 : 100000;
	input_make(&in, nrows, true);
	snprintf(dir, sizeof(dir), "%s/dal-bench-bulk-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/dal.db", dir);
	snprintf(rpath, sizeof(rpath), "%s/raw.db", dir);
	snprintf(url, sizeof(url), "sqlite:///%s", path);
	snprintf(rurl, sizeof(rurl), "sqlite:///%s", rpath);
	bench_engine("sqlite", url, rurl, raw_sqlite, rpath, &in, rounds);
	bench_audit("sqlite", url, &in, rounds);
	run_child(argv[0], "--rss", "sqlite", url, big);
#ifdef DAL_WITH_DUCKDB
	/* One process per DuckDB file: dal and raw work on files of their own. */
	snprintf(path, sizeof(path), "%s/dal.duckdb", dir);
	snprintf(rpath, sizeof(rpath), "%s/raw.duckdb", dir);
	snprintf(url, sizeof(url), "duckdb:///%s", path);
	snprintf(rurl, sizeof(rurl), "duckdb:///%s", rpath);
	bench_engine("duckdb", url, rurl, raw_duckdb, rpath, &in, rounds);
	bench_audit("duckdb", url, &in, rounds);
	run_child(argv[0], "--rss", "duckdb", url, big);
	raw_schema(rurl);
	run_child(argv[0], "--rss-raw", "duckdb", rpath, big);
#endif
	if (pg && *pg) {
		bench_engine("postgresql", pg, pg, raw_postgres, pg, &in, rounds);
		bench_audit("postgresql", pg, &in, rounds);
		run_child(argv[0], "--rss", "postgresql", pg, big);
	} else if (wanted("postgresql", "bulk_create")) {
		printf("bench postgresql skipped: DAL_BENCH_PG_URL is not set (make bench sets it)\n");
	}
	input_free(&in);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
