/* Foundation: values, raw SQL, transactions, savepoints, error mapping. */
#include "conformance/fixture.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "conn.h"
#include "db.h"
#include "row.h"

static const dal_column rt_cols[] = {
	FX_ALL_TYPE_COLUMNS,
};
static const dal_model rt_model = DAL_MODEL("rt", rt_cols);

static void create_rt(fixture *fx)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "CREATE TABLE rt (id BIGINT PRIMARY KEY, b %s, i %s, d %s, s %s, bl %s, ts %s, j %s)",
		fx_type(fx, DAL_TYPE_BOOL), fx_type(fx, DAL_TYPE_INT), fx_type(fx, DAL_TYPE_DOUBLE),
		fx_type(fx, DAL_TYPE_TEXT), fx_type(fx, DAL_TYPE_BLOB), fx_type(fx, DAL_TYPE_TIMESTAMP),
		fx_type(fx, DAL_TYPE_JSON));
	fx_exec(fx, sql);
}

/* Two JSON texts hold the same document: same values, key order and whitespace aside. */
static void json_equal_docs(fixture *fx, const dal_value *in, const dal_value *got)
{
	json_error_t err;
	json_t *a = json_loadb(in->v.s, in->len, 0, &err), *b;

	if (!a)
		fail_msg("the JSON written does not parse: %s", err.text);
	if (!(b = json_loadb(got->v.s, got->len, 0, &err)))
		fail_msg("%s: the JSON read back does not parse (%s): %.*s", fx->engine, err.text, (int)got->len, got->v.s);
	if (!json_equal(a, b))
		fail_msg("%s: JSON did not round-trip: wrote %.*s, read %.*s", fx->engine, (int)in->len, in->v.s,
			(int)got->len, got->v.s);
	json_decref(a);
	json_decref(b);
}

/* Write one value into column `col` of a new row, read it back, compare. */
static void roundtrip(fixture *fx, int64_t id, const char *col, dal_value in)
{
	char sql[128];
	dal_value params[2] = { dal_int(id), in }, got;
	dal_result *res = NULL;
	int ci = dal_model_column_index(&rt_model, col);

	snprintf(sql, sizeof(sql), "INSERT INTO rt (id, %s) VALUES (?, ?)", col);
	CHECK_OK(dal_exec(NULL, fx->db, sql, params, 2));
	snprintf(sql, sizeof(sql), "SELECT %s FROM rt WHERE id = ?", col);
	CHECK_OK(dal_query(&res, fx->db, sql, params, 1));
	assert_int_equal(dal_result_rows(res), 1);
	CHECK_OK(dal__value_to_column(&got, &rt_model, (size_t)ci, dal_result_get(res, 0, 0)));
	if (in.type == DAL_TYPE_JSON && got.type == DAL_TYPE_JSON) {
		/* Engines may normalise JSON whitespace; the document must be the same. */
		json_equal_docs(fx, &in, &got);
	} else if (!dal_value_equal(&in, &got)) {
		fail_msg("%s: %s value id %lld did not round-trip (got type %s len %zu)", fx->engine, col,
			(long long)id, dal_type_name(got.type), got.len);
	}
	dal_result_free(res);
}

static void test_value_roundtrip(void **state)
{
	fixture *fx = FX(state);
	static const char utf8[] = "O'Brien; \"quoted\" \\ -- Grüße, 日本語, emoji 😀";
	size_t big = 1u << 20, k;
	unsigned char *blob = malloc(big);
	int64_t id = 1;

	for (k = 0; k < big; k++)
		blob[k] = (unsigned char)(k * 131 + 7);
	blob[10] = 0;
	create_rt(fx);
	roundtrip(fx, id++, "s", dal_null());
	roundtrip(fx, id++, "s", dal_text(""));
	roundtrip(fx, id++, "s", dal_text(utf8));
	roundtrip(fx, id++, "bl", dal_blob(blob, big));
	roundtrip(fx, id++, "bl", dal_blob("", 0));
	roundtrip(fx, id++, "i", dal_int(INT64_MIN));
	roundtrip(fx, id++, "i", dal_int(INT64_MAX));
	roundtrip(fx, id++, "i", dal_int(0));
	roundtrip(fx, id++, "d", dal_double(0.1));
	roundtrip(fx, id++, "d", dal_double(1e308));
	roundtrip(fx, id++, "d", dal_double(-2.2250738585072014e-308));
	roundtrip(fx, id++, "d", dal_double(3.141592653589793));
	roundtrip(fx, id++, "b", dal_bool(true));
	roundtrip(fx, id++, "b", dal_bool(false));
	roundtrip(fx, id++, "ts", dal_timestamp(1700000000123456LL));
	roundtrip(fx, id++, "ts", dal_timestamp(0));
	roundtrip(fx, id++, "ts", dal_timestamp(-86400000000LL * 365 + 1));
	roundtrip(fx, id++, "j", dal_json("{\"a\": [1, 2.5, \"x\"], \"b\": null}"));
	roundtrip(fx, id++, "j", dal_json("{\"nested\": {\"t\": true, \"f\": false, \"s\": \"Grüße \\\"q\\\"\"}, \"n\": -7}"));
	roundtrip(fx, id++, "j", dal_json("[]"));
	free(blob);
}

static void test_exec_changes_and_query(void **state)
{
	fixture *fx = FX(state);
	dal_value p[2];
	int64_t changes = -1;
	int i;

	create_rt(fx);
	for (i = 1; i <= 5; i++) {
		p[0] = dal_int(i);
		p[1] = dal_int(i * 10);
		CHECK_OK(dal_exec(&changes, fx->db, "INSERT INTO rt (id, i) VALUES (?, ?)", p, 2));
		assert_int_equal(changes, 1);
	}
	p[0] = dal_int(20);
	CHECK_OK(dal_exec(&changes, fx->db, "UPDATE rt SET s = 'x' WHERE i > ?", p, 1));
	assert_int_equal(changes, 3);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt WHERE s = 'x'", NULL, 0), 3);
}

static void test_statement_reuse(void **state)
{
	fixture *fx = FX(state);
	dal_value p[2];
	int i;

	create_rt(fx);
	for (i = 0; i < 1000; i++) {
		p[0] = dal_int(i);
		p[1] = dal_text("same statement");
		CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO rt (id, s) VALUES (?, ?)", p, 2));
	}
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt", NULL, 0), 1000);
}

static int count_until(const dal_value *v, const char *const *names, size_t n, void *payload)
{
	int *seen = payload;

	assert_int_equal(n, 2);
	assert_string_equal(names[0], "id");
	assert_int_equal(v[0].type, DAL_TYPE_INT);
	return ++*seen == 7 ? 42 : 0;
}

static void test_query_each_stops(void **state)
{
	fixture *fx = FX(state);
	dal_value p[1];
	int i, seen = 0;

	create_rt(fx);
	for (i = 0; i < 20; i++) {
		p[0] = dal_int(i);
		CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO rt (id) VALUES (?)", p, 1));
	}
	assert_int_equal(dal_query_each(fx->db, "SELECT id, s FROM rt ORDER BY id", NULL, 0, count_until, &seen), 42);
	assert_int_equal(seen, 7);
	/* The connection is usable afterwards. */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt", NULL, 0), 20);
}

/* Transactions straight on a lent connection (units of work build on this). */
static void tx_insert(dal_conn *conn, int64_t id)
{
	dal_stmt *st = NULL;
	dal_value p[1] = { dal_int(id) };

	CHECK_OK(dal__conn_prepare(&st, conn, "INSERT INTO rt (id) VALUES (?)", 0));
	assert_int_equal(dal__stmt_exec(st, p, 1), DAL__DONE);
	dal__stmt_release(st);
}

static void test_transactions(void **state)
{
	fixture *fx = FX(state);
	dal_conn *conn = NULL;

	create_rt(fx);
	CHECK_OK(dal__pool_acquire(&conn, fx->db));
	CHECK_OK(conn->drv->begin(conn, DAL__TX_WRITE));
	tx_insert(conn, 1);
	CHECK_OK(conn->drv->rollback(conn));
	CHECK_OK(conn->drv->begin(conn, DAL__TX_WRITE));
	tx_insert(conn, 2);
	CHECK_OK(conn->drv->commit(conn));
	dal__pool_release(fx->db, conn);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt", NULL, 0), 1);
	assert_int_equal(fx_scalar(fx, "SELECT id FROM rt", NULL, 0), 2);
}

static void test_savepoints(void **state)
{
	fixture *fx = FX(state);
	dal_conn *conn = NULL;

	create_rt(fx);
	CHECK_OK(dal__pool_acquire(&conn, fx->db));
	if (!(conn->drv->caps & DAL_CAP_SAVEPOINT)) {
		assert_null(conn->drv->savepoint);
		dal__pool_release(fx->db, conn);
		FX_SKIP("the engine has no SAVEPOINT (units of work emulate nesting)");
	}
	CHECK_OK(conn->drv->begin(conn, DAL__TX_WRITE));
	tx_insert(conn, 1);
	CHECK_OK(conn->drv->savepoint(conn, "dal_sp_1"));
	tx_insert(conn, 2);
	CHECK_OK(conn->drv->savepoint(conn, "dal_sp_2"));
	tx_insert(conn, 3);
	CHECK_OK(conn->drv->rollback_to(conn, "dal_sp_2"));
	CHECK_OK(conn->drv->release(conn, "dal_sp_1"));
	CHECK_OK(conn->drv->commit(conn));
	dal__pool_release(fx->db, conn);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt", NULL, 0), 2);
	assert_int_equal(fx_scalar(fx, "SELECT MAX(id) FROM rt", NULL, 0), 2);
}

static void test_unique_violation(void **state)
{
	fixture *fx = FX(state);
	dal_value p[1] = { dal_int(7) };

	create_rt(fx);
	CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO rt (id) VALUES (?)", p, 1));
	CHECK_ERR(DAL_ECONSTRAINT, dal_exec(NULL, fx->db, "INSERT INTO rt (id) VALUES (?)", p, 1));
	assert_true(strlen(dal_error_last()->message) > 10);
	if (fx_is(fx, "postgres"))
		assert_string_equal(dal_error_last()->sqlstate, "23505");
	/* Nothing half-written, and the database is still usable. */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt", NULL, 0), 1);
}

static void test_syntax_error(void **state)
{
	fixture *fx = FX(state);

	CHECK_ERR(DAL_ESQL, dal_exec(NULL, fx->db, "SELEC nonsense FROM", NULL, 0));
	assert_true(strlen(dal_error_last()->message) > 10);
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, fx->db, "SELECT * FROM no_such_table", NULL, 0));
	assert_non_null(strstr(dal_error_last()->message, "no_such_table"));
	assert_int_equal(fx_scalar(fx, "SELECT 1", NULL, 0), 1);
}

static void test_bad_arguments(void **state)
{
	fixture *fx = FX(state);
	dal_result *res = NULL;
	dal_value p[2] = { dal_int(1), dal_int(2) };

	create_rt(fx);
	CHECK_ERR(DAL_EINVAL, dal_exec(NULL, NULL, "SELECT 1", NULL, 0));
	CHECK_ERR(DAL_EINVAL, dal_exec(NULL, fx->db, NULL, NULL, 0));
	CHECK_ERR(DAL_EINVAL, dal_exec(NULL, fx->db, "SELECT 1", NULL, 3));
	CHECK_ERR(DAL_EINVAL, dal_exec(NULL, fx->db, "INSERT INTO rt (id) VALUES (?)", p, 2));
	CHECK_ERR(DAL_EINVAL, dal_query(NULL, fx->db, "SELECT 1", NULL, 0));
	CHECK_OK(dal_query(&res, fx->db, "SELECT 1 AS one", NULL, 0));
	assert_null(dal_result_get(res, 1, 0));
	assert_int_equal(dal_error_last()->code, DAL_EINVAL);
	assert_null(dal_result_get(res, 0, 1));
	assert_null(dal_result_column_name(res, 5));
	assert_string_equal(dal_result_column_name(res, 0), "one");
	dal_result_free(res);
	dal_result_free(NULL);
	assert_null(dal_row_at(NULL, 0));
	assert_int_equal(dal_error_last()->code, DAL_EINVAL);
}

static void test_dead_connection(void **state)
{
	fixture *fx = FX(state);
	dal_conn *conn = NULL;
	dal_stmt *st = NULL;
	dal_value pid;
	int rc;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("only a server engine has a backend to terminate");
	CHECK_OK(dal__pool_acquire(&conn, fx->db));
	CHECK_OK(dal__conn_prepare(&st, conn, "SELECT pg_backend_pid()", 0));
	assert_int_equal(dal__stmt_exec(st, NULL, 0), DAL__ROW);
	CHECK_OK(conn->drv->column(st, 0, &pid));
	pid = dal_int(pid.v.i);
	dal__stmt_release(st);
	/* Another connection of the pool kills this one's backend. */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(?::int)) t", &pid, 1), 1);
	nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
	rc = conn->drv->exec(conn, "SELECT 1");
	CHECK_ERR(DAL_ECONN, rc);
	assert_true(conn->broken);
	dal__pool_release(fx->db, conn);
	/* The pool does not hand the dead connection out again. */
	assert_int_equal(fx_scalar(fx, "SELECT 1", NULL, 0), 1);
}

/* The password never appears in any message, whatever fails. */
static void test_password_never_leaks(void **state)
{
	fixture *fx = FX(state);
	static const char *sentinel = "S3ntinel_pw_x9";
	char url[1200], dbpart[256];
	const char *at, *slash;
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	int rc;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("only a server engine takes a password");
	cfg.connect_timeout_s = 2;
	cfg.connect_retries = 1;
	at = strchr(fx->url, '@');
	slash = strchr(at, '/');
	snprintf(dbpart, sizeof(dbpart), "%s", slash);
	/* wrong password */
	snprintf(url, sizeof(url), "postgresql://dal:%s@%.*s", sentinel, (int)strlen(at + 1), at + 1);
	rc = dal_open(&db, url, &cfg);
	CHECK_ERR(DAL_ECONN, rc);
	assert_null(strstr(dal_error_last()->message, sentinel));
	/* wrong database */
	snprintf(url, sizeof(url), "postgresql://dal:%s@%.*s/no_such_db_x", sentinel, (int)(slash - at - 1), at + 1);
	CHECK_ERR(DAL_ECONN, dal_open(&db, url, &cfg));
	assert_null(strstr(dal_error_last()->message, sentinel));
	/* nothing listens there */
	snprintf(url, sizeof(url), "postgresql://dal:%s@127.0.0.1:1/x", sentinel);
	CHECK_ERR(DAL_ECONN, dal_open(&db, url, &cfg));
	assert_null(strstr(dal_error_last()->message, sentinel));
	/* a bad URL */
	snprintf(url, sizeof(url), "postgresql://dal:%s@127.0.0.1:99999/x", sentinel);
	CHECK_ERR(DAL_EINVAL, dal_open(&db, url, &cfg));
	assert_null(strstr(dal_error_last()->message, sentinel));
	assert_null(db);
	/* the redacted URL of an open database */
	assert_null(strstr(dal_db_url_redacted(fx->db), "dal_secret_pw"));
	(void)dbpart;
}

/* A statement prepared while the table is empty is reused after rows arrive:
 * its answers must follow the data (DuckDB folds plan-time statistics). */
static void test_reused_statement_follows_data(void **state)
{
	fixture *fx = FX(state);
	static const char *count = "SELECT COUNT(*) FROM rt WHERE s IS NULL AND i > 5";
	dal_value p[2];
	int i;

	create_rt(fx);
	assert_int_equal(fx_scalar(fx, count, NULL, 0), 0);
	for (i = 1; i <= 3; i++) {
		p[0] = dal_int(i);
		p[1] = dal_int(i * 10);
		CHECK_OK(dal_exec(NULL, fx->db, "INSERT INTO rt (id, i) VALUES (?, ?)", p, 2));
		assert_int_equal(fx_scalar(fx, count, NULL, 0), i);
	}
}

/* A server that accepts the TCP connection and never answers: the connect
 * timeout must end the wait with DAL_ECONN. */
static void test_silent_server_times_out(void **state)
{
	fixture *fx = FX(state);
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	char url[256];
	struct timespec t0, t1;
	double secs;
	int sock;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("only a server engine connects over the network");
	sock = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(sock, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(sock, 8), 0);
	assert_int_equal(getsockname(sock, (struct sockaddr *)&addr, &len), 0);
	snprintf(url, sizeof(url), "postgresql://dal:pw@127.0.0.1:%d/x", ntohs(addr.sin_port));
	cfg.connect_timeout_s = 2;
	cfg.connect_retries = 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_ERR(DAL_ECONN, dal_open(&db, url, &cfg));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("silent server: DAL_ECONN after %.2f s: %s\n", secs, dal_error_last()->message);
	assert_true(secs >= 1.0 && secs < 10.0);
	assert_null(db);
	close(sock);
}

/* ---- one writer at a time, in a transaction or not ---- */

static const dal_column late_cols[] = {
	FX_TAG_COLUMNS,
};
static const dal_model late_model = DAL_MODEL("late", late_cols);

typedef struct write_holder {
	dal_db *db;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int phase;   /* 1: the unit has written and holds the write lock; 2: it may end */
	int rc;
} write_holder;

static void *hold_write_unit(void *arg)
{
	write_holder *h = arg;
	dal_value id = dal_int(1);
	dal_uow *uow = NULL;

	h->rc = dal_uow_begin(&uow, h->db, NULL);
	if (h->rc == 0)
		h->rc = dal_exec(NULL, h->db, "INSERT INTO rt (id) VALUES (?)", &id, 1);
	pthread_mutex_lock(&h->mu);
	h->phase = 1;
	pthread_cond_broadcast(&h->cv);
	while (h->phase != 2)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
	if (uow && dal_uow_commit(uow) != 0 && h->rc == 0)
		h->rc = dal_error_last()->code;
	return NULL;
}

static void set_phase(write_holder *h, int phase)
{
	pthread_mutex_lock(&h->mu);
	h->phase = phase;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void wait_phase(write_holder *h, int phase)
{
	pthread_mutex_lock(&h->mu);
	while (h->phase != phase)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

/*
 * Where writers run one at a time, a statement that may write waits for the
 * writer whether or not it is in a transaction: dal_init_database's DDL, raw
 * DDL and a raw INSERT, each outside any unit of work, while another thread's
 * unit of work has written and is still open. They run on a dal_db with a
 * 50 ms busy timeout, so instead of waiting they fail with DAL_EBUSY; reads
 * do not wait. Once the unit has committed they all succeed.
 */
static void test_writes_outside_a_unit_wait_for_the_writer(void **state)
{
	fixture *fx = FX(state);
	const dal_model *late[] = { &late_model };
	write_holder h = { fx->db, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1 };
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *impatient = NULL;
	dal_result *res = NULL;
	pthread_t t;

	if (fx->db->drv->caps & DAL_CAP_MULTI_WRITER)
		FX_SKIP("writers run at once on this engine: no writer to wait for");
	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: has one connection: nothing runs beside a unit of work");
	create_rt(fx);
	cfg.busy_timeout_ms = 50;
	CHECK_OK(fx_open_again(&impatient, fx, &cfg));
	assert_int_equal(pthread_create(&t, NULL, hold_write_unit, &h), 0);
	wait_phase(&h, 1);
	if (h.rc != 0) {
		set_phase(&h, 2);
		pthread_join(t, NULL);
		fail_msg("the writing unit of work failed: %d (%s)", h.rc, dal_strerror(h.rc));
	}
	CHECK_ERR(DAL_EBUSY, dal_init_database(impatient, late, 1, DAL_AUTO_MIGRATE));
	/* None of its DDL ran beside the unit, not only the statement that failed. */
	CHECK_ERR(DAL_ENOTFOUND, dal_init_database(impatient, late, 1, 0));
	CHECK_ERR(DAL_EBUSY, dal_exec(NULL, impatient, "CREATE TABLE raw_ddl (id INTEGER)", NULL, 0));
	CHECK_ERR(DAL_EBUSY, dal_exec(NULL, impatient, "INSERT INTO rt (id) VALUES (2)", NULL, 0));
	/* Reads go on beside the writer: a schema check (above) and a query. */
	CHECK_OK(dal_query(&res, impatient, "SELECT id FROM rt", NULL, 0));
	assert_int_equal(dal_result_rows(res), 0);
	dal_result_free(res);
	set_phase(&h, 2);
	pthread_join(t, NULL);
	CHECK_OK(h.rc);
	CHECK_OK(dal_init_database(impatient, late, 1, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_exec(NULL, impatient, "CREATE TABLE raw_ddl (id INTEGER)", NULL, 0));
	CHECK_OK(dal_exec(NULL, impatient, "INSERT INTO rt (id) VALUES (2)", NULL, 0));
	dal_close(impatient);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM rt", NULL, 0), 2);
}

/*
 * SQLite: opening a database not yet in WAL mode (new, or in rollback-journal
 * mode) while another connection holds its write lock, as when two programs
 * set up one new file at once. Putting it in WAL mode needs the write lock, and
 * SQLite failed that at once with "database is locked" without calling the
 * busy handler; the open waits its busy timeout, as any write does, and
 * succeeds once the writer is done.
 */
static void test_sqlite_open_waits_for_a_writer(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *writer = NULL, *db = NULL;
	dal_result *res = NULL;
	dal_uow *uow = NULL;
	char url[sizeof(fx->url) + 8];
	int64_t t0;

	if (!fx_is(fx, "sqlite-file"))
		FX_SKIP("SQLite file databases only: the others have no journal mode to set up");
	snprintf(url, sizeof(url), "%s.new.db", fx->url);
	unlink(url + strlen("sqlite:///"));
	CHECK_OK(dal_open(&writer, url, NULL));
	CHECK_OK(dal_exec(NULL, writer, "PRAGMA journal_mode=DELETE", NULL, 0));
	/* A unit of work takes SQLite's write lock as it begins (BEGIN IMMEDIATE). */
	CHECK_OK(dal_uow_begin(&uow, writer, NULL));
	cfg.busy_timeout_ms = 300;
	t0 = dal_now();
	CHECK_ERR(DAL_EBUSY, dal_open(&db, url, &cfg));
	assert_true(dal_now() - t0 >= 300 * 1000);
	CHECK_MSG("WAL mode");
	CHECK_OK(dal_uow_commit(uow));
	CHECK_OK(dal_open(&db, url, &cfg));
	CHECK_OK(dal_query(&res, db, "PRAGMA journal_mode", NULL, 0));
	assert_string_equal(dal_result_get(res, 0, 0)->v.s, "wal");
	dal_result_free(res);
	dal_close(db);
	dal_close(writer);
	unlink(url + strlen("sqlite:///"));
}

FX_CASES(cases_base,
	FX_CASE(test_value_roundtrip),
	FX_CASE(test_exec_changes_and_query),
	FX_CASE(test_statement_reuse),
	FX_CASE(test_query_each_stops),
	FX_CASE(test_transactions),
	FX_CASE(test_savepoints),
	FX_CASE(test_unique_violation),
	FX_CASE(test_syntax_error),
	FX_CASE(test_bad_arguments),
	FX_CASE(test_dead_connection),
	FX_CASE(test_password_never_leaks),
	FX_CASE(test_silent_server_times_out),
	FX_CASE(test_reused_statement_follows_data),
	FX_CASE(test_writes_outside_a_unit_wait_for_the_writer),
	FX_CASE(test_sqlite_open_waits_for_a_writer));
