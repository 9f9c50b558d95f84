/* What a user of the Python design meets first, on every engine: the counters-only
 * metrics call, the pool's configured size in health reports, the warning for a
 * unit's audit context that an unaudited repository cannot record, the default
 * log line's prefix, and the audit filter's half-open time range. */
#include "conformance/fixture.h"

#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static const dal_column py_user_columns[] = { FX_USER_COLUMNS };
static const dal_model py_users = DAL_MODEL("py_users", py_user_columns);

/* ---- log capture ---- */

typedef struct captured {
	pthread_mutex_t mu;
	char lines[32][1024];
	dal_log_level levels[32];
	int n;
} captured;

static captured cap = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, { 0 }, 0 };

static void capture(dal_log_level level, const char *message, void *payload)
{
	(void)payload;
	pthread_mutex_lock(&cap.mu);
	if (cap.n < 32) {
		cap.levels[cap.n] = level;
		snprintf(cap.lines[cap.n++], sizeof(cap.lines[0]), "%s", message);
	}
	pthread_mutex_unlock(&cap.mu);
}

static void capture_start(void)
{
	cap.n = 0;
	dal_log_set_handler(capture, NULL);
}

extern char fx_tmpdir[512];

/* A user's fields, the email made unique by `i`; `f` holds two. */
static const dal_field *user_fields(dal_field *f, int i, char *email, size_t n)
{
	snprintf(email, n, "py%d@example.com", i);
	f[0].column = "name";
	f[0].value = dal_text("Py");
	f[1].column = "email";
	f[1].value = dal_text(email);
	return f;
}

/* ---- the counters-only metrics call ---- */

static void test_metrics_summary(void **state)
{
	fixture *fx = FX(state);
	dal_metrics_summary s = DAL_METRICS_SUMMARY_INIT;
	dal_metrics *full = calloc(1, sizeof(*full));
	union {
		dal_metrics_summary s;
		unsigned char bytes[sizeof(dal_metrics_summary) + 32];
	} buf;
	size_t k;
	int i;

	assert_non_null(full);
	CHECK_OK(dal_metrics_reset(fx->db));
	for (i = 0; i < 3; i++)
		CHECK_OK(dal_exec(NULL, fx->db, "SELECT 1", NULL, 0));
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, fx->db, "SELEC nothing", NULL, 0));
	CHECK_OK(dal_metrics_summary_get(&s, fx->db));
	full->version = DAL_METRICS_VERSION;
	CHECK_OK(dal_metrics_get(full, fx->db));
	print_message("%s: sizeof dal_metrics_summary=%zu dal_metrics=%zu query_count=%llu error_count=%llu\n",
		fx->engine, sizeof(s), sizeof(*full), (unsigned long long)s.query_count,
		(unsigned long long)s.error_count);
	assert_true(sizeof(s) <= 512);
	assert_int_equal(s.version, DAL_METRICS_SUMMARY_VERSION);
	assert_int_equal(s.query_count, 4);
	assert_int_equal(s.error_count, 1);
	assert_int_equal(s.slow_query_count, 0);
	assert_true(s.total_query_s >= 0 && s.max_s >= s.avg_query_s);
	assert_true(s.avg_query_s == s.total_query_s / 4.0);
	assert_true(s.p50_s <= s.p95_s && s.p95_s <= s.p99_s);
	/* The same counters as the full snapshot (nothing ran between the two). */
	assert_int_equal(s.query_count, full->query_count);
	assert_int_equal(s.error_count, full->error_count);
	assert_true(s.since_us == full->since_us && s.since_us > 0);
	assert_true(s.p95_s == full->p95_s && s.max_s == full->max_s);
	assert_int_equal(s.connection_count, full->connection_count);
	assert_int_equal(s.connection_count, s.pool.checked_in + s.pool.checked_out);
	assert_int_equal(s.pool.size, full->pool.size);
	assert_int_equal(s.pool.max, full->pool.max);
	assert_int_equal(s.pool_checkouts, full->pool_checkouts);
	assert_true(s.pool_checkouts >= 4);
	free(full);
	/* A version this library does not know is refused, naming the struct; nothing is written. */
	for (i = 0; i < 2; i++) {
		memset(&buf, 0xa5, sizeof(buf));
		buf.s.version = i == 0 ? 0 : DAL_METRICS_SUMMARY_VERSION + 1;
		CHECK_ERR(DAL_EINVAL, dal_metrics_summary_get(&buf.s, fx->db));
		CHECK_MSG("dal_metrics_summary");
		for (k = sizeof(buf.s.version); k < sizeof(buf); k++)
			assert_int_equal(buf.bytes[k], 0xa5);
	}
	CHECK_ERR(DAL_EINVAL, dal_metrics_summary_get(NULL, fx->db));
	CHECK_ERR(DAL_EINVAL, dal_metrics_summary_get(&s, NULL));
	/* Reset starts the counting again. */
	CHECK_OK(dal_metrics_reset(fx->db));
	CHECK_OK(dal_metrics_summary_get(&s, fx->db));
	assert_int_equal(s.query_count, 0);
	assert_int_equal(s.error_count, 0);
	assert_true(s.avg_query_s == 0.0);
}

/* ---- health: the pool's configured size, and the open count beside it ---- */

static void test_health_pool_size_is_configured(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_health h = DAL_HEALTH_INIT;
	/* A :memory: database has one connection: a unit holding it would leave the check none. */
	bool one = fx_is(fx, "sqlite-memory");
	int expected_size = one ? 1 : 7;
	json_t *doc, *pool;
	char *text = NULL;
	dal_db *db = NULL;
	dal_uow *uow = NULL;

	cfg.pool_size = 7;
	cfg.max_overflow = 2;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	if (!one)
		CHECK_OK(dal_uow_begin(&uow, db, NULL));
	CHECK_OK(dal_health_check(&h, db));
	print_message("%s: pool_size=7 health pool.size=%d connection_count=%d checked_out=%d checked_in=%d\n",
		fx->engine, h.pool.size, h.connection_count, h.pool.checked_out, h.pool.checked_in);
	assert_true(h.healthy);
	assert_int_equal(h.pool.size, expected_size);
	assert_int_equal(h.pool.checked_out, one ? 0 : 1);
	assert_int_equal(h.connection_count, h.pool.checked_in + h.pool.checked_out);
	assert_true(h.connection_count >= 1 && h.connection_count <= h.pool.max);
	/* The JSON's pool_status.size means what the Python design's does. */
	CHECK_OK(dal_health_json(&text, db));
	if (uow)
		CHECK_OK(dal_uow_rollback(uow));
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	pool = json_object_get(doc, "pool_status");
	assert_int_equal(json_integer_value(json_object_get(pool, "size")), expected_size);
	assert_int_equal(json_integer_value(json_object_get(pool, "checked_out")), one ? 0 : 1);
	assert_true(json_is_integer(json_object_get(pool, "open")));
	assert_true(json_integer_value(json_object_get(pool, "open")) >= 1);
	json_decref(doc);
	dal_string_free(text);
	dal_close(db);
}

/* ---- a unit's audit context and an unaudited repository ---- */

typedef struct tx_work {
	unsigned flags;
	int next;   /* makes each email unique */
} tx_work;

static int create_two(dal_uow *uow, void *payload)
{
	tx_work *w = payload;
	dal_repo *r = NULL;
	dal_field f2[2];
	char email[64];
	int i, error = 0;

	CHECK_OK(dal_uow_repo(&r, uow, &py_users, w->flags));
	for (i = 0; i < 2 && error == 0; i++)
		error = dal_repo_create(NULL, r, user_fields(f2, w->next++, email, sizeof(email)), 2);
	dal_repo_close(r);
	return error;
}

static void test_unit_audit_ctx_unaudited_repo_warns(void **state)
{
	fixture *fx = FX(state);
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
	dal_uow_opts opts = DAL_UOW_OPTS_INIT;
	dal_repo *plain = fx_open_repo(fx, &py_users, 0), *r = NULL;
	dal_uow *uow = NULL, *inner = NULL;
	dal_row *row = NULL, *again = NULL;
	tx_work w = { 0, 100 };
	dal_field f2[2];
	char email[64], where[96];
	int line;

	ctx.user_id = "admin";
	ctx.session_id = "session123";
	opts.audit_ctx = &ctx;
	/* A unit with a context, two writes through an unaudited repository: one warning. */
	capture_start();
	CHECK_OK(dal_uow_begin(&uow, fx->db, &opts)); line = __LINE__;
	CHECK_OK(dal_uow_repo(&r, uow, &py_users, 0));
	CHECK_OK(dal_repo_create(&row, r, user_fields(f2, 1, email, sizeof(email)), 2));
	CHECK_OK(dal_repo_get(&again, r, dal_row_int(row, "id")));
	CHECK_OK(dal_repo_create(NULL, plain, user_fields(f2, 2, email, sizeof(email)), 2));
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(r);
	dal_row_free(row);
	dal_row_free(again);
	row = NULL;
	dal_log_set_handler(NULL, NULL);
	snprintf(where, sizeof(where), "cases_pyusers.c:%d", line);
	if (cap.n != 1 || !strstr(cap.lines[0], where) || !strstr(cap.lines[0], "'py_users'") ||
	    !strstr(cap.lines[0], "DAL_AUDIT") || cap.levels[0] != DAL_LOG_WARN)
		fail_msg("%d lines, expected one warning naming %s and 'py_users': \"%s\"", cap.n, where,
			cap.n ? cap.lines[0] : "");
	print_message("%s: %s\n", fx->engine, cap.lines[0]);
	/* A nested unit without a context of its own inherits the outer's: the warning names the outer. */
	capture_start();
	CHECK_OK(dal_uow_begin(&uow, fx->db, &opts)); line = __LINE__;
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	CHECK_OK(dal_repo_create(NULL, plain, user_fields(f2, 3, email, sizeof(email)), 2));
	CHECK_OK(dal_uow_commit(inner));
	CHECK_OK(dal_uow_commit(uow));
	dal_log_set_handler(NULL, NULL);
	snprintf(where, sizeof(where), "cases_pyusers.c:%d", line);
	assert_int_equal(cap.n, 1);
	CONTAINS(cap.lines[0], where);
	/* dal_run_tx: once per unit, naming the place of the dal_run_tx call. */
	capture_start();
	CHECK_OK(dal_run_tx(fx->db, &opts, create_two, &w)); line = __LINE__;
	dal_log_set_handler(NULL, NULL);
	snprintf(where, sizeof(where), "cases_pyusers.c:%d", line);
	assert_int_equal(cap.n, 1);
	CONTAINS(cap.lines[0], where);
	/* Nothing to say: an audited repository records it; a unit without a context; a read. */
	w.flags = DAL_AUDIT;
	CHECK_OK(dal_init_database(fx->db, (const dal_model *[]){ &py_users }, 1, DAL_AUTO_MIGRATE));
	capture_start();
	CHECK_OK(dal_run_tx(fx->db, &opts, create_two, &w));
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_repo_create(NULL, plain, user_fields(f2, 4, email, sizeof(email)), 2));
	CHECK_OK(dal_uow_commit(uow));
	CHECK_OK(dal_uow_begin(&uow, fx->db, &opts));
	CHECK_OK(dal_repo_get(&row, plain, 1));
	CHECK_OK(dal_uow_commit(uow));
	dal_log_set_handler(NULL, NULL);
	dal_row_free(row);
	if (cap.n != 0)
		fail_msg("unexpected log line: %s", cap.lines[0]);
	/* The audited unit recorded its context. */
	{
		dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
		dal_audit_logs *logs = NULL;
		f.resource_type = "py_users";
		f.user_id = "admin";
		CHECK_OK(dal_audit_query(&logs, fx->db, &f));
		assert_int_equal(dal_audit_logs_count(logs), 2);
		dal_audit_logs_free(logs);
	}
	dal_repo_close(plain);
}

/* ---- the default handler: a line that says it is dal's ---- */

/* A repository's own context on a repository without DAL_AUDIT: a warning, not a silent no-op. */
static void test_repo_audit_ctx_unaudited_warns(void **state)
{
	fixture *fx = FX(state);
	dal_audit_ctx ctx = DAL_AUDIT_CTX_USER("admin", "s1");
	dal_repo *plain = fx_open_repo(fx, &py_users, 0), *audited = fx_open_repo(fx, &py_users, DAL_AUDIT);

	capture_start();
	CHECK_OK(dal_repo_set_context(audited, &ctx));
	CHECK_OK(dal_repo_set_context(plain, NULL));
	assert_int_equal(cap.n, 0);
	CHECK_OK(dal_repo_set_context(plain, &ctx));
	dal_log_set_handler(NULL, NULL);
	if (cap.n != 1 || !strstr(cap.lines[0], "'py_users'") || !strstr(cap.lines[0], "DAL_AUDIT") ||
	    cap.levels[0] != DAL_LOG_WARN)
		fail_msg("%d lines, expected one warning naming 'py_users' and DAL_AUDIT: \"%s\"", cap.n,
			cap.n ? cap.lines[0] : "");
	dal_repo_close(plain);
	dal_repo_close(audited);
}

static void test_default_log_line_is_prefixed(void **state)
{
	fixture *fx = FX(state);
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
	dal_uow_opts opts = DAL_UOW_OPTS_INIT;
	dal_repo *plain = fx_open_repo(fx, &py_users, 0);
	dal_uow *uow = NULL;
	dal_field f2[2];
	char path[600], text[2048], email[64];
	ssize_t n;
	int saved, fd;

	ctx.user_id = "admin";
	opts.audit_ctx = &ctx;
	snprintf(path, sizeof(path), "%s/stderr-%d.txt", fx_tmpdir, (int)getpid());
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	dup2(fd, 2);
	dal_log_set_handler(NULL, NULL);
	CHECK_OK(dal_uow_begin(&uow, fx->db, &opts));
	CHECK_OK(dal_repo_create(NULL, plain, user_fields(f2, 1, email, sizeof(email)), 2));
	CHECK_OK(dal_uow_commit(uow));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	assert_true(n > 0);
	text[n] = '\0';
	print_message("%s: stderr: %s", fx->engine, text);
	if (strncmp(text, "dal: warning: ", 14) != 0 || !strstr(text, "'py_users'") || text[n - 1] != '\n')
		fail_msg("the default handler's line does not start \"dal: warning: \": \"%s\"", text);
	dal_repo_close(plain);
}

/* ---- the audit filter's time range is half-open ---- */

static void test_audit_filter_end_is_exclusive(void **state)
{
	fixture *fx = FX(state);
	const int64_t day_us = INT64_C(86400000000);
	dal_repo *repo = fx_open_repo(fx, &py_users, DAL_AUDIT);
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_audit_logs *logs = NULL;
	int64_t ts, day;
	dal_field f2[2];
	char email[64];
	size_t i;
	struct { int64_t start, end; size_t want; } ranges[5];

	fx_create(repo, user_fields(f2, 1, email, sizeof(email)), 2);
	CHECK_OK(dal_audit_query(&logs, fx->db, NULL));
	assert_int_equal(dal_audit_logs_count(logs), 1);
	ts = dal_audit_logs_at(logs, 0)->timestamp;
	dal_audit_logs_free(logs);
	day = ts - ts % day_us;
	ranges[0].start = ts; ranges[0].end = ts; ranges[0].want = 0;           /* empty: end excludes ts */
	ranges[1].start = ts; ranges[1].end = ts + 1; ranges[1].want = 1;       /* start includes ts */
	ranges[2].start = ts + 1; ranges[2].end = 0; ranges[2].want = 0;
	ranges[3].start = day; ranges[3].end = day + day_us; ranges[3].want = 1; /* the whole of its day */
	ranges[4].start = day - day_us; ranges[4].end = day; ranges[4].want = 0; /* the day before ends at it */
	for (i = 0; i < 5; i++) {
		f.resource_type = "py_users";
		f.start = ranges[i].start;
		f.end = ranges[i].end;
		CHECK_OK(dal_audit_query(&logs, fx->db, &f));
		if (dal_audit_logs_count(logs) != ranges[i].want)
			fail_msg("range %zu [%lld, %lld) around %lld: %zu rows, expected %zu", i,
				(long long)ranges[i].start, (long long)ranges[i].end, (long long)ts,
				dal_audit_logs_count(logs), ranges[i].want);
		dal_audit_logs_free(logs);
		logs = NULL;
	}
	dal_repo_close(repo);
}

FX_CASES(cases_pyusers,
	FX_CASE(test_metrics_summary),
	FX_CASE(test_health_pool_size_is_configured),
	FX_CASE(test_unit_audit_ctx_unaudited_repo_warns),
	FX_CASE(test_repo_audit_ctx_unaudited_warns),
	FX_CASE(test_default_log_line_is_prefixed),
	FX_CASE(test_audit_filter_end_is_exclusive),
);
