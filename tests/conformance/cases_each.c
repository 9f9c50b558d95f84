/* dal calls made from inside a dal_repo_each / dal_query_each callback: one behaviour on
 * every engine (docs/threading.md, "Calls from inside an each callback"). */
#include "conformance/fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static const dal_column user_cols[] = { FX_USER_COLUMNS };
static const dal_model users = DAL_MODEL("ea_users", user_cols);

#define NUSERS 3
/* Short, so that a wait for the pool shows, yet far above a call that fails at once. */
#define POOL_TIMEOUT_MS 2000
#define PROMPT_MS 1000

/* The call a callback makes on its first row. */
typedef enum call {
	CALL_GET,        /* dal_repo_get */
	CALL_QUERY,      /* dal_query */
	CALL_EXEC,       /* dal_exec, a write */
	CALL_BEGIN,      /* dal_uow_begin (rolled back at once if it succeeds) */
	CALL_COMMIT,     /* dal_uow_commit of the unit the each runs in */
	CALL_EACH_GET    /* dal_query_each, whose callback makes CALL_GET */
} call;

/*
 * What the call returned, checked once the each is over: a cmocka assert inside
 * the callback would jump out of dal mid-stream.
 */
typedef struct probe {
	dal_db *db;
	dal_repo *repo;
	dal_uow *uow;          /* for CALL_COMMIT */
	call what;
	int64_t first_id;
	int rows;              /* rows the each delivered */
	int rc;                /* the call's return code */
	int inner_rc;          /* CALL_EACH_GET: the inner call's */
	int inner_rows;
	char msg[1024];        /* dal_error_last() after the failing call, or "" */
	double ms;             /* how long the call took */
} probe;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char *call_name(call c)
{
	static const char *const names[] = { "dal_repo_get", "dal_query", "dal_exec", "dal_uow_begin",
		"dal_uow_commit", "dal_query_each" };

	return names[c];
}

static int inner_row(const dal_value *values, const char *const *names, size_t n, void *payload);

static int make_call(probe *p)
{
	dal_row *row = NULL;
	dal_result *res = NULL;
	dal_uow *u = NULL;
	probe inner;
	int rc = DAL_ERROR;

	switch (p->what) {
	case CALL_GET:
		rc = dal_repo_get(&row, p->repo, p->first_id);
		break;
	case CALL_QUERY:
		rc = dal_query(&res, p->db, "SELECT COUNT(*) FROM ea_users", NULL, 0);
		break;
	case CALL_EXEC:
		rc = dal_exec(NULL, p->db, "UPDATE ea_users SET age = 99 WHERE name = 'nobody'", NULL, 0);
		break;
	case CALL_BEGIN:
		if ((rc = dal_uow_begin(&u, p->db, NULL)) == 0)
			dal_uow_rollback(u);
		break;
	case CALL_COMMIT:
		rc = dal_uow_commit(p->uow);
		break;
	case CALL_EACH_GET:
		inner = *p;
		inner.what = CALL_GET;
		inner.rows = 0;
		inner.rc = DAL_ERROR;
		inner.msg[0] = '\0';
		rc = dal_query_each(p->db, "SELECT id FROM ea_users ORDER BY id", NULL, 0, inner_row, &inner);
		p->inner_rc = inner.rc;
		p->inner_rows = inner.rows;
		if (rc == 0 && inner.rc != 0)
			snprintf(p->msg, sizeof(p->msg), "%s", inner.msg);
		break;
	}
	if (rc != 0 && !p->msg[0])
		snprintf(p->msg, sizeof(p->msg), "%s", dal_error_last()->message);
	dal_row_free(row);
	dal_result_free(res);
	return rc;
}

/* The call on the first row only; later rows are counted, to show the stream went on. */
static void on_row(probe *p)
{
	double t0;

	if (p->rows++ > 0)
		return;
	t0 = now_ms();
	p->rc = make_call(p);
	p->ms = now_ms() - t0;
}

static int repo_row(const dal_row *row, void *payload)
{
	(void)row;
	on_row(payload);
	return 0;
}

static int query_row(const dal_value *values, const char *const *names, size_t n, void *payload)
{
	(void)values;
	(void)names;
	(void)n;
	on_row(payload);
	return 0;
}

static int inner_row(const dal_value *values, const char *const *names, size_t n, void *payload)
{
	return query_row(values, names, n, payload);
}

/* The fixture's database again with this pool, NUSERS users in it. */
static dal_repo *setup_pool(fixture *fx, int pool_size, int max_overflow, int64_t *first_id)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *repo;
	dal_row *row = NULL;
	char name[16], email[32];
	int i;

	cfg.pool_size = pool_size;
	cfg.max_overflow = max_overflow;
	cfg.pool_timeout_ms = POOL_TIMEOUT_MS;
	dal_close(fx->db);
	fx->db = NULL;
	CHECK_OK(dal_open(&fx->db, fx->url, &cfg));
	repo = fx_open_repo(fx, &users, 0);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		snprintf(email, sizeof(email), "u%d@example.com", i);
		dal_field f[] = { DAL_FIELD("name", dal_text(name)), DAL_FIELD("email", dal_text(email)),
			DAL_FIELD("age", dal_int(i)) };
		CHECK_OK(dal_repo_create(&row, repo, f, 3));
		if (i == 0)
			*first_id = dal_row_int(row, "id");
		dal_row_free(row);
		row = NULL;
	}
	return repo;
}

typedef enum each_kind { EACH_REPO, EACH_QUERY } each_kind;

static const char *each_name(each_kind k)
{
	return k == EACH_REPO ? "dal_repo_each" : "dal_query_each";
}

/* Stream every user through `kind`, making `what` from the first row's callback. */
static void run_each(probe *p, fixture *fx, dal_repo *repo, int64_t first_id, each_kind kind, call what,
                     dal_uow *uow)
{
	memset(p, 0, sizeof(*p));
	p->db = fx->db;
	p->repo = repo;
	p->uow = uow;
	p->what = what;
	p->first_id = first_id;
	p->rc = p->inner_rc = DAL_ERROR;
	if (kind == EACH_REPO)
		CHECK_OK(dal_repo_each(repo, NULL, repo_row, p));
	else
		CHECK_OK(dal_query_each(fx->db, "SELECT id FROM ea_users ORDER BY id", NULL, 0, query_row, p));
	/* The failed call did not disturb the stream: every row still came. */
	if (p->rows != NUSERS)
		fail_msg("%s delivered %d rows of %d", each_name(kind), p->rows, NUSERS);
}

/* The call failed at once with DAL_EINVAL, the message naming the cause. */
static void expect_refused(const probe *p, each_kind kind, const char *cause)
{
	if (p->rc != DAL_EINVAL)
		fail_msg("%s from a %s callback -> %d (%s), expected DAL_EINVAL: %s", call_name(p->what),
			each_name(kind), p->rc, dal_strerror(p->rc), p->msg);
	if (!strstr(p->msg, cause) || !strstr(p->msg, each_name(kind)))
		fail_msg("%s from a %s callback: message \"%s\" does not name \"%s\" and the each", call_name(p->what),
			each_name(kind), p->msg, cause);
	if (p->ms >= PROMPT_MS)
		fail_msg("%s from a %s callback took %.0f ms: it waited (pool timeout %d ms)", call_name(p->what),
			each_name(kind), p->ms, POOL_TIMEOUT_MS);
}

/*
 * In a unit of work the each streams on the unit's connection: every call on
 * that database from the callback fails at once, the same on every engine, and
 * the unit goes on afterwards.
 */
static void test_each_in_unit_refuses_calls(void **state)
{
	fixture *fx = FX(state);
	static const call calls[] = { CALL_GET, CALL_QUERY, CALL_EXEC, CALL_BEGIN, CALL_COMMIT, CALL_EACH_GET };
	dal_uow *uow = NULL;
	dal_row *row = NULL;
	int64_t first_id, n;
	dal_repo *repo = setup_pool(fx, 5, 10, &first_id);
	probe p;
	size_t i;
	int k;

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	for (k = EACH_REPO; k <= EACH_QUERY; k++)
		for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			run_each(&p, fx, repo, first_id, (each_kind)k, calls[i], uow);
			expect_refused(&p, (each_kind)k, "busy streaming");
		}
	/* The unit is still open and works. */
	CHECK_OK(dal_repo_get(&row, repo, first_id));
	dal_row_free(row);
	CHECK_OK(dal_exec(NULL, fx->db, "UPDATE ea_users SET age = 42", NULL, 0));
	CHECK_OK(dal_uow_commit(uow));
	n = fx_scalar(fx, "SELECT COUNT(*) FROM ea_users WHERE age = 42", NULL, 0);
	assert_int_equal(n, NUSERS);
	dal_repo_close(repo);
}

/* Many rows, in one query every engine runs. */
#define NMANY 5000
#define MANY_SQL "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 5000) SELECT i FROM r"

typedef struct many {
	dal_db *db;
	int rows, refused;
} many;

static int query_every_row(const dal_value *values, const char *const *names, size_t n, void *payload)
{
	many *m = payload;
	dal_result *res = NULL;

	(void)values;
	(void)names;
	(void)n;
	m->rows++;
	m->refused += dal_query(&res, m->db, "SELECT 1", NULL, 0) == DAL_EINVAL;
	dal_result_free(res);
	return 0;
}

/*
 * A call from every row of a long stream in a unit: each is refused, and the
 * stream delivers every row (DuckDB used to end it silently, with DAL_OK, once
 * the callback had run a query on the unit's connection).
 */
static void test_each_in_unit_stream_goes_on(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	many m = { fx->db, 0, 0 };

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_query_each(fx->db, MANY_SQL, NULL, 0, query_every_row, &m));
	CHECK_OK(dal_uow_rollback(uow));
	if (m.rows != NMANY || m.refused != NMANY)
		fail_msg("dal_query_each in a unit, dal_query from every row: %d rows of %d, %d calls refused",
			m.rows, NMANY, m.refused);
}

/*
 * Outside a unit, with a pool of one: the each holds the only connection, so a
 * call from its callback fails at once instead of waiting for the pool timeout.
 */
static void test_each_pool_of_one_refuses_calls(void **state)
{
	fixture *fx = FX(state);
	static const call calls[] = { CALL_GET, CALL_QUERY, CALL_EXEC, CALL_BEGIN, CALL_EACH_GET };
	dal_row *row = NULL;
	int64_t first_id;
	dal_repo *repo = setup_pool(fx, 1, 0, &first_id);
	probe p;
	size_t i;
	int k;

	for (k = EACH_REPO; k <= EACH_QUERY; k++)
		for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			run_each(&p, fx, repo, first_id, (each_kind)k, calls[i], NULL);
			expect_refused(&p, (each_kind)k, "holds every connection");
		}
	CHECK_OK(dal_repo_get(&row, repo, first_id));
	dal_row_free(row);
	dal_repo_close(repo);
}

/*
 * Outside a unit, with connections to spare, a call from the callback takes
 * another one, each nesting level one more; when this thread holds them all,
 * the next call fails at once. An SQLite :memory: database has one connection.
 */
static void test_each_takes_another_connection(void **state)
{
	fixture *fx = FX(state);
	int64_t first_id;
	dal_repo *repo = setup_pool(fx, 2, 0, &first_id);
	bool one = fx_is(fx, "sqlite-memory");
	probe p;
	int k;

	for (k = EACH_REPO; k <= EACH_QUERY; k++) {
		run_each(&p, fx, repo, first_id, (each_kind)k, CALL_GET, NULL);
		if (one)
			expect_refused(&p, (each_kind)k, "holds every connection");
		else if (p.rc != 0)
			fail_msg("dal_repo_get from a %s callback -> %d: %s", each_name((each_kind)k), p.rc, p.msg);
		/* Two levels hold both connections: the get inside the inner each has none left. */
		run_each(&p, fx, repo, first_id, (each_kind)k, CALL_EACH_GET, NULL);
		if (one) {
			expect_refused(&p, (each_kind)k, "holds every connection");
			continue;
		}
		if (p.rc != 0 || p.inner_rows != NUSERS)
			fail_msg("dal_query_each from a %s callback -> %d (%d rows): %s", each_name((each_kind)k), p.rc,
				p.inner_rows, p.msg);
		if (p.inner_rc != DAL_EINVAL || !strstr(p.msg, "holds every connection"))
			fail_msg("dal_repo_get two each callbacks deep with a pool of 2 -> %d, expected DAL_EINVAL: %s",
				p.inner_rc, p.msg);
	}
	dal_repo_close(repo);
}

/* Holds one connection in a dal_query_each until the main thread waits for the pool. */
typedef struct holder {
	dal_db *db;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool holding;
	int rc;
	bool saw_wait;
} holder;

static int hold_until_waited_for(const dal_value *values, const char *const *names, size_t n, void *payload)
{
	holder *h = payload;
	dal_pool_status st;
	double deadline = now_ms() + POOL_TIMEOUT_MS;
	struct timespec tick = { 0, 1000000L };

	(void)values;
	(void)names;
	(void)n;
	pthread_mutex_lock(&h->mu);
	h->holding = true;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	while (now_ms() < deadline) {
		if (dal_pool_status_get(&st, h->db) == 0 && st.waiting > 0) {
			h->saw_wait = true;
			break;
		}
		nanosleep(&tick, NULL);
	}
	return 0;
}

static void *holder_main(void *arg)
{
	holder *h = arg;

	h->rc = dal_query_each(h->db, "SELECT 1", NULL, 0, hold_until_waited_for, h);
	return NULL;
}

/*
 * Only this thread's own streams count: a connection another thread holds may
 * come back, so a call from the callback waits for it as any other borrower.
 */
static void test_each_waits_for_other_threads(void **state)
{
	fixture *fx = FX(state);
	int64_t first_id;
	dal_repo *repo;
	holder h;
	pthread_t t;
	probe p;

	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: has one connection: no other thread can hold a second one");
	repo = setup_pool(fx, 2, 0, &first_id);
	memset(&h, 0, sizeof(h));
	h.db = fx->db;
	pthread_mutex_init(&h.mu, NULL);
	pthread_cond_init(&h.cv, NULL);
	assert_int_equal(pthread_create(&t, NULL, holder_main, &h), 0);
	pthread_mutex_lock(&h.mu);
	while (!h.holding)
		pthread_cond_wait(&h.cv, &h.mu);
	pthread_mutex_unlock(&h.mu);
	run_each(&p, fx, repo, first_id, EACH_REPO, CALL_GET, NULL);
	pthread_join(t, NULL);
	pthread_cond_destroy(&h.cv);
	pthread_mutex_destroy(&h.mu);
	CHECK_OK(h.rc);
	assert_true(h.saw_wait);
	if (p.rc != 0)
		fail_msg("dal_repo_get from a dal_repo_each callback, the other connection held by another thread "
			"for a while -> %d: %s", p.rc, p.msg);
	dal_repo_close(repo);
}

FX_CASES(cases_each,
	FX_CASE(test_each_in_unit_refuses_calls),
	FX_CASE(test_each_in_unit_stream_goes_on),
	FX_CASE(test_each_pool_of_one_refuses_calls),
	FX_CASE(test_each_takes_another_connection),
	FX_CASE(test_each_waits_for_other_threads),
);
