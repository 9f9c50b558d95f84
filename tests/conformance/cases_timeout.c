/*
 * statement_timeout_ms: every wait on a PostgreSQL server ends by a bound.
 *
 * The server's own bound (statement_timeout) answers 57014 and keeps the
 * connection; the socket's bound, a second later, ends the wait on a server
 * that answers nothing and drops that connection. A frozen server cannot be
 * had here (the server is shared), so the socket's bound is reached by
 * switching the server's off for one transaction. SQLite and DuckDB run a
 * statement in the calling thread, with no server to go silent: the setting
 * does not apply there (docs/engines.md), and those cases are counted skips.
 */
#include "conformance/fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EMBEDDED_SKIP "statement_timeout_ms bounds PostgreSQL only: SQLite and DuckDB run a statement in the " \
	"calling thread, with no server that could stop answering"

/* The bound under test, and the socket's margin past it (src/driver/postgres.c). */
#define BOUND_MS 200
#define MARGIN_MS 1000
/* Slack for a loaded test machine, on top of a bound: never a condition to pass. */
#define SLACK_S 1.0

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static dal_db *open_bounded(fixture *fx, int pool_size)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;

	cfg.statement_timeout_ms = BOUND_MS;
	cfg.pool_size = pool_size;
	cfg.max_overflow = 0;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	return db;
}

static uint64_t broken_count(dal_db *db)
{
	dal_metrics m = DAL_METRICS_INIT;

	CHECK_OK(dal_metrics_get(&m, db));
	return m.pool_broken;
}

static void check_serves(dal_db *db)
{
	dal_result *res = NULL;

	CHECK_OK(dal_query(&res, db, "SELECT 41 + 1", NULL, 0));
	assert_int_equal(dal_result_get(res, 0, 0)->v.i, 42);
	dal_result_free(res);
}

/* The session's statement_timeout as the server reports it. */
static void check_setting(dal_db *db, const char *want)
{
	dal_result *res = NULL;

	CHECK_OK(dal_query(&res, db, "SHOW statement_timeout", NULL, 0));
	assert_string_equal(dal_result_get(res, 0, 0)->v.s, want);
	dal_result_free(res);
}

/* No bound leaves the server's own setting alone: here a database default dal does not override. */
static void test_no_bound_keeps_server_setting(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	dal_result *res = NULL;
	char name[64], sql[160];

	if (!fx_is(fx, "postgres"))
		FX_SKIP(EMBEDDED_SKIP);
	CHECK_OK(dal_query(&res, fx->db, "SELECT current_database()", NULL, 0));
	snprintf(name, sizeof(name), "%s", dal_result_get(res, 0, 0)->v.s);
	dal_result_free(res);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s SET statement_timeout = '7s'", name);
	fx_exec(fx, sql);
	cfg.statement_timeout_ms = 0;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	check_setting(db, "7s");
	dal_close(db);
	snprintf(sql, sizeof(sql), "ALTER DATABASE %s RESET statement_timeout", name);
	fx_exec(fx, sql);
}

/* The setting, its default, its variable and its check: the same on every engine. */
static void test_timeout_setting(void **state)
{
	fixture *fx = FX(state);
	dal_config c = DAL_CONFIG_INIT, old;
	dal_db *db = NULL;

	assert_int_equal(c.version, DAL_CONFIG_VERSION);
	assert_int_equal(c.statement_timeout_ms, 30000);
	/* A caller built against version 2 has no such member: it is not written. */
	memset(&old, 0x5a, sizeof(old));
	CHECK_OK(dal_config_init(&old, 2));
	assert_int_equal(old.statement_timeout_ms, 0x5a5a5a5a);
	setenv("DAL_STATEMENT_TIMEOUT_MS", "250", 1);
	CHECK_OK(dal_config_from_env(&c));
	assert_int_equal(c.statement_timeout_ms, 250);
	setenv("DAL_STATEMENT_TIMEOUT_MS", "soon", 1);
	CHECK_ERR(DAL_EINVAL, dal_config_from_env(&c));
	CHECK_MSG("DAL_STATEMENT_TIMEOUT_MS");
	unsetenv("DAL_STATEMENT_TIMEOUT_MS");
	c = (dal_config)DAL_CONFIG_INIT;
	c.statement_timeout_ms = -1;
	CHECK_ERR(DAL_EINVAL, fx_open_again(&db, fx, &c));
	CHECK_MSG("statement_timeout_ms");
	assert_null(db);
}

/* The server ends the statement at its bound; the connection stays and serves the next call. */
static void test_server_ends_slow_statement(void **state)
{
	fixture *fx = FX(state);
	dal_db *db;
	double t0, secs;

	if (!fx_is(fx, "postgres"))
		FX_SKIP(EMBEDDED_SKIP);
	db = open_bounded(fx, 1);
	check_setting(db, "200ms");
	t0 = now_s();
	CHECK_ERR(DAL_ETIMEOUT, dal_exec(NULL, db, "SELECT pg_sleep(5)", NULL, 0));
	secs = now_s() - t0;
	print_message("pg_sleep(5) with statement_timeout_ms %d: DAL_ETIMEOUT after %.3f s (sqlstate %s): %s\n",
		BOUND_MS, secs, dal_error_last()->sqlstate, dal_error_last()->message);
	assert_string_equal(dal_error_last()->sqlstate, "57014");
	assert_true(secs >= BOUND_MS / 1000.0 && secs < (BOUND_MS + MARGIN_MS) / 1000.0 + SLACK_S);
	check_serves(db);
	assert_int_equal(broken_count(db), 0);
	dal_close(db);
}

/*
 * A server that does not end the statement itself (as a frozen one cannot):
 * the socket's bound ends the wait, the connection is closed, never lent
 * again, and the unit it served ends in a rollback that commits nothing.
 */
static void test_socket_bound_drops_connection(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_db *db;
	double t0, secs;

	if (!fx_is(fx, "postgres"))
		FX_SKIP(EMBEDDED_SKIP);
	db = open_bounded(fx, 1);
	CHECK_OK(dal_exec(NULL, db, "CREATE TABLE tmo (k INT)", NULL, 0));
	CHECK_OK(dal_uow_begin(&uow, db, NULL));
	CHECK_OK(dal_exec(NULL, db, "INSERT INTO tmo VALUES (1)", NULL, 0));
	CHECK_OK(dal_exec(NULL, db, "SET LOCAL statement_timeout = 0", NULL, 0));
	t0 = now_s();
	CHECK_ERR(DAL_ETIMEOUT, dal_exec(NULL, db, "SELECT pg_sleep(3)", NULL, 0));
	secs = now_s() - t0;
	print_message("server bound off, pg_sleep(3): DAL_ETIMEOUT after %.3f s: %s\n", secs,
		dal_error_last()->message);
	CHECK_MSG("no answer from the server");
	assert_true(secs >= (BOUND_MS + MARGIN_MS) / 1000.0 - 0.05 && secs < (BOUND_MS + MARGIN_MS) / 1000.0 + SLACK_S);
	/* The unit cannot go on on a connection given up: it is refused before anything is sent. */
	assert_int_not_equal(dal_exec(NULL, db, "INSERT INTO tmo VALUES (2)", NULL, 0), 0);
	print_message("the next statement of the unit: %s\n", dal_error_last()->message);
	CHECK_OK(dal_uow_rollback(uow));
	assert_int_equal(broken_count(db), 1);
	check_serves(db);
	assert_int_equal(broken_count(db), 1);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM tmo", NULL, 0), 0);
	dal_close(db);
}

/* A timeout inside a unit: the server aborted its transaction, so nothing of it may commit. */
static void test_timeout_in_unit_commits_nothing(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_db *db;

	if (!fx_is(fx, "postgres"))
		FX_SKIP(EMBEDDED_SKIP);
	db = open_bounded(fx, 1);
	CHECK_OK(dal_exec(NULL, db, "CREATE TABLE tmo (k INT)", NULL, 0));
	CHECK_OK(dal_uow_begin(&uow, db, NULL));
	CHECK_OK(dal_exec(NULL, db, "INSERT INTO tmo VALUES (1)", NULL, 0));
	CHECK_ERR(DAL_ETIMEOUT, dal_exec(NULL, db, "SELECT pg_sleep(5)", NULL, 0));
	assert_int_not_equal(dal_uow_commit(uow), 0);
	print_message("commit after a timeout in the unit: %s\n", dal_error_last()->message);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM tmo", NULL, 0), 0);
	check_serves(db);
	dal_close(db);
}

/* Rows in tmo, asked until there are `want` or 5 s have passed. */
static int64_t rows_within(fixture *fx, int64_t want)
{
	double end = now_s() + 5;
	int64_t n;

	while ((n = fx_scalar(fx, "SELECT COUNT(*) FROM tmo", NULL, 0)) != want && now_s() < end)
		nanosleep(&(struct timespec){ 0, 50000000L }, NULL);
	return n;
}

/*
 * A write outside a transaction commits on its own on the server: left
 * unanswered, its outcome is unknown (here it does commit, after dal gave
 * up), so the call says DAL_ECOMMIT_UNKNOWN, not a plain failure. A read
 * left unanswered is only DAL_ETIMEOUT.
 */
static void test_unanswered_autocommit_write_is_unknown(void **state)
{
	fixture *fx = FX(state);
	dal_db *db;

	if (!fx_is(fx, "postgres"))
		FX_SKIP(EMBEDDED_SKIP);
	fx_exec(fx, "CREATE TABLE tmo (k INT)");
	db = open_bounded(fx, 1);
	/* pool_size 1: the next call runs on this session. */
	CHECK_OK(dal_exec(NULL, db, "SET statement_timeout = 0", NULL, 0));
	CHECK_ERR(DAL_ECOMMIT_UNKNOWN, dal_exec(NULL, db, "INSERT INTO tmo SELECT 1 FROM pg_sleep(2)", NULL, 0));
	print_message("unanswered INSERT outside a transaction: %s\n", dal_error_last()->message);
	CHECK_MSG("may or may not have been applied");
	assert_int_equal(rows_within(fx, 1), 1);
	CHECK_OK(dal_exec(NULL, db, "SET statement_timeout = 0", NULL, 0));
	CHECK_ERR(DAL_ETIMEOUT, dal_exec(NULL, db, "SELECT pg_sleep(3)", NULL, 0));
	assert_int_equal(broken_count(db), 2);
	dal_close(db);
}

typedef struct sleeper {
	dal_db *db;
	int calls;
} sleeper;

static int sleep_long(dal_uow *uow, void *payload)
{
	sleeper *s = payload;

	(void)uow;
	s->calls++;
	return dal_exec(NULL, s->db, "SELECT pg_sleep(5)", NULL, 0);
}

/* dal_run_tx runs the function once: a statement past its bound is returned, never retried. */
static void test_run_tx_does_not_retry_timeout(void **state)
{
	fixture *fx = FX(state);
	dal_metrics m = DAL_METRICS_INIT;
	sleeper s = { NULL, 0 };
	double t0, secs;

	if (!fx_is(fx, "postgres"))
		FX_SKIP(EMBEDDED_SKIP);
	s.db = open_bounded(fx, 2);
	t0 = now_s();
	CHECK_ERR(DAL_ETIMEOUT, dal_run_tx(s.db, NULL, sleep_long, &s));
	secs = now_s() - t0;
	CHECK_OK(dal_metrics_get(&m, s.db));
	print_message("dal_run_tx: DAL_ETIMEOUT after %.3f s, function ran %d time(s), retries %llu\n", secs,
		s.calls, (unsigned long long)m.retries);
	assert_int_equal(s.calls, 1);
	assert_int_equal(m.retries, 0);
	assert_true(secs < (BOUND_MS + MARGIN_MS) / 1000.0 + SLACK_S);
	dal_close(s.db);
}

/*
 * A listener that never accepts stands for a frozen server: the kernel
 * completes the TCP handshake, then nothing answers the startup packet.
 * One attempt uses the whole connect_timeout_s, so no other follows.
 */
static void test_silent_server_one_connect_timeout(void **state)
{
	fixture *fx = FX(state);
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	char url[256];
	double t0, secs;
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
	snprintf(url, sizeof(url), "postgresql://dal:pw@127.0.0.1:%d/x?sslmode=disable", ntohs(addr.sin_port));
	cfg.connect_timeout_s = 1;
	cfg.connect_retries = 3;
	t0 = now_s();
	CHECK_ERR(DAL_ECONN, dal_open(&db, url, &cfg));
	secs = now_s() - t0;
	print_message("silent server, connect_timeout_s 1, connect_retries 3: DAL_ECONN after %.3f s: %s\n", secs,
		dal_error_last()->message);
	CHECK_MSG("no answer within connect_timeout 1 s");
	assert_true(secs >= 0.95 && secs < 1.0 + SLACK_S);
	assert_null(db);
	close(sock);
}

FX_CASES(cases_timeout,
	FX_CASE(test_timeout_setting),
	FX_CASE(test_server_ends_slow_statement),
	FX_CASE(test_no_bound_keeps_server_setting),
	FX_CASE(test_socket_bound_drops_connection),
	FX_CASE(test_timeout_in_unit_commits_nothing),
	FX_CASE(test_unanswered_autocommit_write_is_unknown),
	FX_CASE(test_run_tx_does_not_retry_timeout),
	FX_CASE(test_silent_server_one_connect_timeout),
);
