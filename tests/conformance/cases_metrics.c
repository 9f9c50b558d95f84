/* Pool, metrics, health and echo, on every engine. */
#include "conformance/fixture.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"

/* ---- log capture ---- */

typedef struct captured {
	pthread_mutex_t mu;
	char lines[64][1024];
	int n;
	size_t longest;   /* the longest message, whole */
} captured;

static captured cap = { PTHREAD_MUTEX_INITIALIZER, { { 0 } }, 0, 0 };

static void capture(dal_log_level level, const char *message, void *payload)
{
	(void)level;
	(void)payload;
	pthread_mutex_lock(&cap.mu);
	if (cap.n < 64)
		snprintf(cap.lines[cap.n++], sizeof(cap.lines[0]), "%s", message);
	if (strlen(message) > cap.longest)
		cap.longest = strlen(message);
	pthread_mutex_unlock(&cap.mu);
}

static void capture_start(void)
{
	cap.n = 0;
	cap.longest = 0;
	dal_log_set_handler(capture, NULL);
}

static int captured_matching(const char *needle)
{
	int i, n = 0;

	for (i = 0; i < cap.n; i++)
		n += strstr(cap.lines[i], needle) != NULL;
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The password in the fixture's URL, or NULL. */
static const char *url_password(const fixture *fx, char *buf, size_t n)
{
	const char *p = strstr(fx->url, "://"), *colon, *at;

	if (!p)
		return NULL;
	p += 3;
	at = strchr(p, '@');
	colon = strchr(p, ':');
	if (!at || !colon || colon > at || at - colon - 1 <= 0)
		return NULL;
	snprintf(buf, n, "%.*s", (int)(at - colon - 1), colon + 1);
	return buf;
}

static dal_db *open_with(fixture *fx, const dal_config *cfg)
{
	dal_db *db = NULL;

	CHECK_OK(fx_open_again(&db, fx, cfg));
	return db;
}

static void exec_ok(dal_db *db, const char *sql)
{
	CHECK_OK(dal_exec(NULL, db, sql, NULL, 0));
}

/* ---- counts ---- */

static void test_metric_counts(void **state)
{
	fixture *fx = FX(state);
	dal_db *db = open_with(fx, NULL);
	dal_metrics m = DAL_METRICS_INIT;
	dal_result *res = NULL;
	int i, found = 0;
	size_t k;

	exec_ok(db, "CREATE TABLE mc (id INTEGER PRIMARY KEY, name VARCHAR(40))");
	CHECK_OK(dal_metrics_reset(db));
	/* The workload: 5 inserts, 3 queries, 1 failure = 9 statements. */
	for (i = 1; i <= 5; i++) {
		dal_value p[2] = { dal_int(i), dal_text("n") };
		CHECK_OK(dal_exec(NULL, db, "INSERT INTO mc (id, name) VALUES (?, ?)", p, 2));
	}
	for (i = 0; i < 3; i++) {
		CHECK_OK(dal_query(&res, db, "SELECT id, name FROM mc ORDER BY id", NULL, 0));
		assert_int_equal(dal_result_rows(res), 5);
		dal_result_free(res);
	}
	CHECK_ERR(DAL_ESQL, dal_exec(NULL, db, "SELECT * FROM no_such_table_mc", NULL, 0));
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.query_count, 9);
	assert_int_equal(m.error_count, 1);
	assert_true(m.total_query_s > 0.0);
	assert_true(m.avg_query_s - m.total_query_s / 9.0 < 1e-9 && m.total_query_s / 9.0 - m.avg_query_s < 1e-9);
	assert_true(m.p50_s <= m.p95_s && m.p95_s <= m.p99_s && m.p99_s <= m.max_s);
	assert_true(m.pool_checkouts >= 9);
	{
		uint64_t sum = 0;
		for (k = 0; k < DAL_METRICS_BUCKETS; k++)
			sum += m.bucket_count[k];
		assert_int_equal(sum, 9);
		assert_true(isinf(m.bucket_le_s[DAL_METRICS_BUCKETS - 1]));
	}
	for (k = 0; k < m.top_count; k++) {
		if (strcmp(m.top[k].sql, "INSERT INTO mc (id, name) VALUES (?, ?)") == 0) {
			assert_int_equal(m.top[k].count, 5);
			found++;
		}
		if (strcmp(m.top[k].sql, "SELECT id, name FROM mc ORDER BY id") == 0) {
			assert_int_equal(m.top[k].count, 3);
			found++;
		}
		if (k > 0)
			assert_true(m.top[k - 1].total_s >= m.top[k].total_s);
	}
	assert_int_equal(found, 2);
	/* Reset starts again. */
	CHECK_OK(dal_metrics_reset(db));
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.query_count, 0);
	assert_int_equal(m.top_count, 0);
	/* A bad version is refused. */
	m.version = 99;
	CHECK_ERR(DAL_EINVAL, dal_metrics_get(&m, db));
	dal_close(db);
}

static void test_metrics_off(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_metrics m = DAL_METRICS_INIT;
	dal_db *db;

	cfg.metrics = false;
	db = open_with(fx, &cfg);
	exec_ok(db, "SELECT 1");
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.query_count, 0);
	assert_true(m.pool_checkouts >= 1);
	dal_close(db);
}

/* ---- slow queries ---- */

static void test_slow_query(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_metrics m = DAL_METRICS_INIT;
	dal_result *res = NULL;
	const char *heavy;
	dal_db *db;

	cfg.slow_query_ms = 20;
	if (fx_is(fx, "postgres"))
		heavy = "SELECT pg_sleep(0.2)";
	else if (fx_is(fx, "duckdb"))
		heavy = "SELECT SUM(a.range * b.range) FROM range(10000) a, range(10000) b";
	else
		heavy = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
		        "SELECT COUNT(*) FROM c";
	db = open_with(fx, &cfg);
	capture_start();
	exec_ok(db, "SELECT 1");
	CHECK_OK(dal_query(&res, db, heavy, NULL, 0));
	dal_result_free(res);
	dal_log_set_handler(NULL, NULL);
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.query_count, 2);
	if (m.slow_query_count != 1)
		fail_msg("%s: slow_query_count %llu, max %.3f s", fx->engine, (unsigned long long)m.slow_query_count,
			m.max_s);
	assert_int_equal(m.slow_count, 1);
	assert_string_equal(m.slow[0].sql, heavy);
	assert_true(m.slow[0].duration_s >= 0.020);
	assert_true(m.slow[0].at_us > 0);
	assert_int_equal(captured_matching("slow query"), 1);
	dal_close(db);
}

/* A slow statement's warning names it in a bounded line, however long its text. */
static void test_slow_query_long_sql(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_result *res = NULL;
	size_t pad = 40000, at;
	char *sql = malloc(pad + 256);
	dal_db *db;

	cfg.slow_query_ms = 20;
	if (fx_is(fx, "postgres"))
		at = (size_t)sprintf(sql, "SELECT pg_sleep(0.2) /* ");
	else if (fx_is(fx, "duckdb"))
		at = (size_t)sprintf(sql, "SELECT SUM(a.range * b.range) FROM range(10000) a, range(10000) b /* ");
	else
		at = (size_t)sprintf(sql, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
			"SELECT COUNT(*) FROM c /* ");
	memset(sql + at, 'x', pad);
	strcpy(sql + at + pad, " */");
	db = open_with(fx, &cfg);
	capture_start();
	CHECK_OK(dal_query(&res, db, sql, NULL, 0));
	dal_result_free(res);
	dal_log_set_handler(NULL, NULL);
	print_message("slow query of %zu bytes: longest log line %zu bytes\n", strlen(sql), cap.longest);
	assert_int_equal(captured_matching("slow query"), 1);
	assert_int_equal(captured_matching("bytes)"), 1);
	assert_true(cap.longest < 700);
	free(sql);
	dal_close(db);
}

/* ---- echo ---- */

static void test_echo_redacts_values(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_value p[1] = { dal_text("s3cret_value_77") };
	dal_db *db;

	cfg.echo = true;
	db = open_with(fx, &cfg);
	capture_start();
	CHECK_OK(dal_exec(NULL, db, "SELECT ?", p, 1));
	dal_log_set_handler(NULL, NULL);
	assert_true(captured_matching("SELECT ") >= 1);
	assert_int_equal(captured_matching("s3cret_value_77"), 0);
	assert_true(captured_matching(" ms") >= 1);
	dal_close(db);
	cfg.echo_params = true;
	db = open_with(fx, &cfg);
	capture_start();
	CHECK_OK(dal_exec(NULL, db, "SELECT ?", p, 1));
	dal_log_set_handler(NULL, NULL);
	assert_int_equal(captured_matching("s3cret_value_77"), 1);
	dal_close(db);
}

/* ---- pool ---- */

/* A fresh pool: nothing lent, and the limit the config it was opened with sets. */
static void check_fresh_pool(const fixture *fx, dal_db *db, const dal_config *opened)
{
	dal_pool_status st;

	CHECK_OK(dal_pool_status_get(&st, db));
	assert_true(st.checked_in >= 1);
	assert_int_equal(st.checked_out, 0);
	assert_int_equal(st.overflow, 0);
	/* Each connection to an SQLite :memory: URL would be a database of its own. */
	assert_int_equal(st.size, fx_is(fx, "sqlite-memory") ? 1 : opened->pool_size);
	assert_int_equal(st.max, fx_is(fx, "sqlite-memory") ? 1 : opened->pool_size + opened->max_overflow);
}

static void test_pool_status(void **state)
{
	fixture *fx = FX(state);
	const dal_config defaults = DAL_CONFIG_INIT;   /* fx_setup opens with NULL: these */
	dal_config cfg = DAL_CONFIG_INIT;
	dal_pool_status st;
	dal_conn *a = NULL;
	dal_db *db;

	check_fresh_pool(fx, fx->db, &defaults);
	cfg.pool_size = defaults.pool_size + 2;
	cfg.max_overflow = defaults.max_overflow + 3;
	db = open_with(fx, &cfg);
	check_fresh_pool(fx, db, &cfg);
	dal_close(db);
	CHECK_OK(dal__pool_acquire(&a, fx->db));
	CHECK_OK(dal_pool_status_get(&st, fx->db));
	assert_int_equal(st.checked_out, 1);
	assert_true(st.checked_in + st.checked_out >= 1);
	dal__pool_release(fx->db, a);
	CHECK_ERR(DAL_EINVAL, dal_pool_status_get(NULL, fx->db));
}

static void test_pool_timeout_names_holder(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_metrics m = DAL_METRICS_INIT;
	dal_conn *a = NULL, *b = NULL;
	char where[64];
	int line;
	dal_db *db;

	cfg.pool_size = 1;
	cfg.max_overflow = 0;
	cfg.pool_timeout_ms = 100;
	db = open_with(fx, &cfg);
	CHECK_OK(dal__pool_acquire(&a, db)); line = __LINE__;
	CHECK_ERR(DAL_ETIMEOUT, dal__pool_acquire(&b, db));
	snprintf(where, sizeof(where), "cases_metrics.c:%d", line);
	if (!strstr(dal_error_last()->message, where) || !strstr(dal_error_last()->message, "1 lent out"))
		fail_msg("timeout message does not name the holder %s: %s", where, dal_error_last()->message);
	assert_null(b);
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.pool_timeouts, 1);
	assert_int_equal(m.pool_waits, 1);
	assert_true(m.pool_wait_s >= 0.09);
	dal__pool_release(db, a);
	/* Free again: the next borrower is served. */
	CHECK_OK(dal__pool_acquire(&b, db));
	dal__pool_release(db, b);
	dal_close(db);
}

static void test_pool_overflow_closed(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_pool_status st;
	dal_metrics m = DAL_METRICS_INIT;
	dal_conn *c[3] = { NULL, NULL, NULL };
	dal_db *db;
	int i;

	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("an SQLite :memory: database lives in one connection: no overflow");
	cfg.pool_size = 1;
	cfg.max_overflow = 2;
	cfg.pool_timeout_ms = 100;
	db = open_with(fx, &cfg);
	for (i = 0; i < 3; i++)
		CHECK_OK(dal__pool_acquire(&c[i], db));
	CHECK_OK(dal_pool_status_get(&st, db));
	assert_int_equal(st.size, 1);
	assert_int_equal(st.checked_in + st.checked_out, 3);
	assert_int_equal(st.overflow, 2);
	assert_int_equal(st.checked_out, 3);
	{
		dal_conn *d = NULL;
		CHECK_ERR(DAL_ETIMEOUT, dal__pool_acquire(&d, db));
	}
	for (i = 0; i < 3; i++)
		dal__pool_release(db, c[i]);
	CHECK_OK(dal_pool_status_get(&st, db));
	assert_int_equal(st.size, 1);
	assert_int_equal(st.checked_in, 1);
	assert_int_equal(st.overflow, 0);
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.pool_closed, 2);
	dal_close(db);
}

/* A handle that reports connections held past 50 ms, with the log captured. */
static dal_db *open_watched(fixture *fx)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db;

	cfg.leak_threshold_ms = 50;
	db = open_with(fx, &cfg);
	capture_start();
	return db;
}

/* Exactly one leak report was captured, and it names this file at `line`. */
static void assert_one_leak_at(int line)
{
	char where[64];

	dal_log_set_handler(NULL, NULL);
	snprintf(where, sizeof(where), "cases_metrics.c:%d", line);
	if (captured_matching("connection leak") != 1 || captured_matching(where) != 1)
		fail_msg("%d leak report(s), %d naming %s (first: %s)", captured_matching("connection leak"),
			captured_matching(where), where, cap.n ? cap.lines[0] : "-");
}

static void test_leak_reported_once(void **state)
{
	fixture *fx = FX(state);
	dal_pool_status st;
	dal_metrics m = DAL_METRICS_INIT;
	dal_conn *a = NULL;
	int line;
	dal_db *db = open_watched(fx);

	CHECK_OK(dal__pool_acquire(&a, db)); line = __LINE__;
	sleep_ms(80);
	CHECK_OK(dal_pool_status_get(&st, db));
	if (!fx_is(fx, "sqlite-memory"))   /* its one connection is the one held */
		exec_ok(db, "SELECT 2");
	CHECK_OK(dal_pool_status_get(&st, db));
	dal__pool_release(db, a);
	assert_one_leak_at(line);
	CHECK_OK(dal_metrics_get(&m, db));
	assert_int_equal(m.pool_leaks, 1);
	dal_close(db);
}

/* A unit of work held too long is reported where the program began it, not inside dal. */
static void test_leak_names_the_unit(void **state)
{
	fixture *fx = FX(state);
	dal_pool_status st;
	dal_uow *uow = NULL;
	int line;
	dal_db *db = open_watched(fx);

	CHECK_OK(dal_uow_begin(&uow, db, NULL)); line = __LINE__;
	sleep_ms(80);
	CHECK_OK(dal_pool_status_get(&st, db));
	CHECK_OK(dal_uow_commit(uow));
	assert_one_leak_at(line);
	dal_close(db);
}

/* ---- health ---- */

static void check_no_secret(const fixture *fx, const char *text)
{
	char buf[256];
	const char *pw = url_password(fx, buf, sizeof(buf));

	if (pw && strstr(text, pw))
		fail_msg("the password appears in: %s", text);
}

static void test_health(void **state)
{
	fixture *fx = FX(state);
	dal_health h = DAL_HEALTH_INIT;
	json_t *o, *ct, *ps;
	json_error_t jerr;
	char *text = NULL;

	fx_exec(fx, "CREATE TABLE h1 (id INTEGER PRIMARY KEY)");
	fx_exec(fx, "CREATE TABLE h2 (id INTEGER PRIMARY KEY)");
	CHECK_OK(dal_health_check(&h, fx->db));
	assert_true(h.healthy);
	assert_true(h.connection_ok);
	assert_true(h.connection_latency_s > 0.0);
	assert_string_equal(h.database_type, dal_db_engine(fx->db));
	assert_int_equal(h.table_count, 2);
	assert_true(h.pool.size >= 1);
	assert_true(h.query_count >= 2);
	check_no_secret(fx, h.url);
	CHECK_OK(dal_health_json(&text, fx->db));
	check_no_secret(fx, text);
	o = json_loads(text, 0, &jerr);
	if (!o)
		fail_msg("health JSON does not parse: %s: %s", jerr.text, text);
	assert_true(json_is_true(json_object_get(o, "healthy")));
	assert_string_equal(json_string_value(json_object_get(o, "database_type")), dal_db_engine(fx->db));
	ct = json_object_get(o, "connection_test");
	assert_true(json_is_true(json_object_get(ct, "ok")));
	assert_true(json_is_real(json_object_get(ct, "latency_seconds")));
	assert_int_equal(json_integer_value(json_object_get(o, "table_count")), 2);
	ps = json_object_get(o, "pool_status");
	assert_true(json_is_integer(json_object_get(ps, "size")));
	assert_true(json_is_integer(json_object_get(ps, "checked_out")));
	assert_true(json_is_integer(json_object_get(ps, "checked_in")));
	assert_true(json_is_integer(json_object_get(ps, "overflow")));
	assert_true(json_is_object(json_object_get(o, "metrics")));
	json_decref(o);
	dal_string_free(text);
	CHECK_OK(dal_metrics_json(&text, fx->db));
	check_no_secret(fx, text);
	o = json_loads(text, 0, &jerr);
	if (!o)
		fail_msg("metrics JSON does not parse: %s", jerr.text);
	assert_true(json_is_integer(json_object_get(o, "query_count")));
	assert_int_equal(json_array_size(json_object_get(o, "histogram")), DAL_METRICS_BUCKETS);
	json_decref(o);
	dal_string_free(text);
}

/* The bytes of a version 1 dal_health: they end with checked_at_us. */
#define HEALTH_V1_SIZE (offsetof(dal_health, checked_at_us) + sizeof(int64_t))

/*
 * A caller built against version 1 has a version 1 struct, however large the
 * library's has grown: dal_health_check writes nothing past it.
 */
static void test_health_fills_only_its_version(void **state)
{
	fixture *fx = FX(state);
	union {
		dal_health h;
		unsigned char bytes[sizeof(dal_health) + 64];
	} buf;
	size_t i, k;

	memset(&buf, 0xa5, sizeof(buf));
	buf.h.version = 1;
	CHECK_OK(dal_health_check(&buf.h, fx->db));
	assert_int_equal(buf.h.version, 1);
	assert_true(buf.h.healthy);
	assert_string_equal(buf.h.database_type, dal_db_engine(fx->db));
	assert_true(buf.h.checked_at_us > 0);
	for (i = HEALTH_V1_SIZE; i < sizeof(buf); i++)
		if (buf.bytes[i] != 0xa5)
			fail_msg("dal_health_check wrote byte %zu of a version 1 struct of %zu bytes", i, HEALTH_V1_SIZE);
	/* A version this library does not know is refused, and nothing is written. */
	for (i = 0; i < 2; i++) {
		memset(&buf, 0xa5, sizeof(buf));
		buf.h.version = i == 0 ? 0 : DAL_HEALTH_VERSION + 1;
		CHECK_ERR(DAL_EINVAL, dal_health_check(&buf.h, fx->db));
		CHECK_MSG("version");
		for (k = sizeof(buf.h.version); k < sizeof(buf); k++)
			assert_int_equal(buf.bytes[k], 0xa5);
	}
}

/* ---- Prometheus: a strict reader of the text exposition format 0.0.4 ---- */

static bool is_name(const char *s, size_t n, bool metric)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool ok = isalpha((unsigned char)c) || c == '_' || (metric && c == ':') || (i > 0 && isdigit((unsigned char)c));
		if (!ok)
			return false;
	}
	return true;
}

static bool is_value(const char *s)
{
	char *end;

	if (!strcmp(s, "+Inf") || !strcmp(s, "-Inf") || !strcmp(s, "NaN"))
		return true;
	strtod(s, &end);
	return end != s && *end == '\0';
}

typedef struct family {
	char name[128];
	char type[16];
	bool help, sampled, done;
} family;

/* Returns NULL if the text is valid, else a description of the first problem. */
static const char *prom_check(const char *text, char *why, size_t wn)
{
	family fams[64];
	int nf = 0, cur = -1, i;
	const char *line = text;
	double last_bucket = -1, inf_bucket = -1, count = -1, prev_le = -INFINITY;
	char hist_labels[512] = "";

	memset(fams, 0, sizeof(fams));
	if (!*text || text[strlen(text) - 1] != '\n')
		return "the text does not end with a newline";
	while (*line) {
		const char *nl = strchr(line, '\n');
		char buf[400], name[128], base[128], labels[512] = "", value[64];
		size_t len = (size_t)(nl - line), nlen;
		const char *p;
		int f;

		if (len >= sizeof(buf))
			return "line too long";
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;
		if (buf[0] == '#') {
			char kw[8], nm[128], rest[16] = "";
			if (sscanf(buf, "# %7s %127s %15[^\n]", kw, nm, rest) < 2)
				continue;
			if (strcmp(kw, "HELP") && strcmp(kw, "TYPE"))
				continue;
			if (!is_name(nm, strlen(nm), true))
				return snprintf(why, wn, "bad metric name in: %s", buf), why;
			for (f = 0; f < nf && strcmp(fams[f].name, nm); f++)
				;
			if (f == nf) {
				if (nf == 64)
					return "too many families";
				snprintf(fams[nf++].name, sizeof(fams[0].name), "%s", nm);
			}
			if (fams[f].sampled)
				return snprintf(why, wn, "%s after the samples of %s", kw, nm), why;
			if (!strcmp(kw, "TYPE")) {
				if (fams[f].type[0])
					return snprintf(why, wn, "second TYPE for %s", nm), why;
				if (strcmp(rest, "counter") && strcmp(rest, "gauge") && strcmp(rest, "histogram") &&
				    strcmp(rest, "summary") && strcmp(rest, "untyped"))
					return snprintf(why, wn, "unknown type in: %s", buf), why;
				snprintf(fams[f].type, sizeof(fams[f].type), "%s", rest);
			} else {
				if (fams[f].help)
					return snprintf(why, wn, "second HELP for %s", nm), why;
				fams[f].help = true;
			}
			continue;
		}
		if (!buf[0])
			return "empty line";
		/* name{labels} value */
		for (p = buf; *p && *p != '{' && *p != ' '; p++)
			;
		nlen = (size_t)(p - buf);
		if (!is_name(buf, nlen, true) || nlen >= sizeof(name))
			return snprintf(why, wn, "bad sample name: %s", buf), why;
		memcpy(name, buf, nlen);
		name[nlen] = '\0';
		if (*p == '{') {
			const char *q = p + 1;
			size_t ln = 0;
			while (*q != '}') {
				const char *eq = strchr(q, '=');
				if (!eq || !is_name(q, (size_t)(eq - q), false) || eq[1] != '"')
					return snprintf(why, wn, "bad label in: %s", buf), why;
				q = eq + 2;
				while (*q && *q != '"') {
					if (*q == '\\') {
						if (q[1] != '\\' && q[1] != '"' && q[1] != 'n')
							return snprintf(why, wn, "bad escape in: %s", buf), why;
						q++;
					}
					q++;
				}
				if (*q != '"')
					return snprintf(why, wn, "unterminated label value: %s", buf), why;
				q++;
				if (*q == ',')
					q++;
				else if (*q != '}')
					return snprintf(why, wn, "bad label list: %s", buf), why;
			}
			ln = (size_t)(q - p + 1);
			if (ln >= sizeof(labels))
				return "labels too long";
			memcpy(labels, p, ln);
			labels[ln] = '\0';
			p = q + 1;
		}
		if (*p != ' ' || !p[1])
			return snprintf(why, wn, "no value: %s", buf), why;
		snprintf(value, sizeof(value), "%s", p + 1);
		if (strchr(value, ' '))
			*strchr(value, ' ') = '\0';   /* a timestamp may follow */
		if (!is_value(value))
			return snprintf(why, wn, "bad value: %s", buf), why;
		/* Which family: a histogram's _bucket/_sum/_count belong to the base name. */
		snprintf(base, sizeof(base), "%s", name);
		for (f = 0; f < nf; f++) {
			size_t bl = strlen(fams[f].name);
			if (!strcmp(fams[f].name, name))
				break;
			if (!strcmp(fams[f].type, "histogram") && !strncmp(name, fams[f].name, bl) &&
			    (!strcmp(name + bl, "_bucket") || !strcmp(name + bl, "_sum") || !strcmp(name + bl, "_count")))
				break;
		}
		if (f == nf || !fams[f].type[0])
			return snprintf(why, wn, "sample before its TYPE: %s", buf), why;
		if (fams[f].done)
			return snprintf(why, wn, "samples of %s are not together", fams[f].name), why;
		if (cur >= 0 && cur != f)
			fams[cur].done = true;
		cur = f;
		fams[f].sampled = true;
		if (!strcmp(fams[f].type, "counter") && strtod(value, NULL) < 0)
			return snprintf(why, wn, "negative counter: %s", buf), why;
		if (!strcmp(fams[f].type, "histogram")) {
			double v = strtod(value, NULL);
			const char *le = strstr(labels, "le=\"");
			if (strstr(name, "_bucket")) {
				double lev;
				if (!le)
					return snprintf(why, wn, "bucket without le: %s", buf), why;
				lev = !strncmp(le + 4, "+Inf\"", 5) ? INFINITY : strtod(le + 4, NULL);
				if (lev <= prev_le)
					return snprintf(why, wn, "le not increasing: %s", buf), why;
				if (v < last_bucket)
					return snprintf(why, wn, "buckets not cumulative: %s", buf), why;
				prev_le = lev;
				last_bucket = v;
				if (isinf(lev))
					inf_bucket = v;
				snprintf(hist_labels, sizeof(hist_labels), "%s", labels);
			} else if (strstr(name, "_count")) {
				count = v;
			}
		}
	}
	if (inf_bucket < 0)
		return "the histogram has no +Inf bucket";
	if (count != inf_bucket)
		return snprintf(why, wn, "_count %.0f differs from the +Inf bucket %.0f", count, inf_bucket), why;
	for (i = 0; i < nf; i++)
		if (!fams[i].type[0] || !fams[i].help)
			return snprintf(why, wn, "%s lacks TYPE or HELP", fams[i].name), why;
	return NULL;
}

static void test_prometheus_strict(void **state)
{
	fixture *fx = FX(state);
	dal_value p[1] = { dal_text("a \"quoted\" \\ value\nline") };
	char *text = NULL, why[1200];
	const char *bad;
	int i;

	for (i = 0; i < 20; i++)
		CHECK_OK(dal_exec(NULL, fx->db, "SELECT 1", NULL, 0));
	/* SQL text with quotes, a backslash and a newline lands in a label. */
	CHECK_OK(dal_exec(NULL, fx->db, "SELECT 'x\"y\\z'\n, ?", p, 1));
	CHECK_OK(dal_metrics_prometheus(&text, fx->db));
	if ((bad = prom_check(text, why, sizeof(why))) != NULL)
		fail_msg("Prometheus output rejected: %s\n%s", bad, text);
	assert_non_null(strstr(text, "# TYPE dal_db_client_operation_duration_seconds histogram\n"));
	assert_non_null(strstr(text, "dal_db_client_operation_duration_seconds_bucket{"));
	assert_non_null(strstr(text, "le=\"+Inf\"}"));
	assert_non_null(strstr(text, "dal_db_client_connection_count{"));
	check_no_secret(fx, text);
	/* The checker itself rejects what it must. */
	assert_non_null(prom_check("x 1\n", why, sizeof(why)));
	assert_non_null(prom_check("# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 4\nh_count 4\n",
		why, sizeof(why)));
	dal_string_free(text);
}

FX_CASES(cases_metrics,
	FX_CASE(test_metric_counts),
	FX_CASE(test_metrics_off),
	FX_CASE(test_slow_query),
	FX_CASE(test_slow_query_long_sql),
	FX_CASE(test_echo_redacts_values),
	FX_CASE(test_pool_status),
	FX_CASE(test_pool_timeout_names_holder),
	FX_CASE(test_pool_overflow_closed),
	FX_CASE(test_leak_reported_once),
	FX_CASE(test_leak_names_the_unit),
	FX_CASE(test_health),
	FX_CASE(test_health_fills_only_its_version),
	FX_CASE(test_prometheus_strict),
);
