/* Units of work: commit, rollback, isolation from other connections, nesting, run_tx, close. */
#include "conformance/fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"

static const dal_column user_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 40),
	DAL_COL_CREATED_AT(),
};
static const dal_model users = DAL_MODEL("users", user_cols);

static const dal_column order_cols[] = {
	DAL_COL_ID(),
	DAL_COL("user_id", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("item", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL_CREATED_AT(),
};
static const dal_model orders = DAL_MODEL("orders", order_cols);

static void schema(fixture *fx)
{
	const dal_model *ms[] = { &users, &orders };

	CHECK_OK(dal_init_database(fx->db, ms, 2, DAL_AUTO_MIGRATE));
}

static int64_t add_user(dal_repo *repo, const char *name)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)) };
	dal_row *row = NULL;
	int64_t id;

	CHECK_OK(dal_repo_create(&row, repo, f, 1));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	return id;
}

static void add_order(dal_repo *repo, int64_t user_id, const char *item)
{
	dal_field f[] = { DAL_FIELD("user_id", dal_int(user_id)), DAL_FIELD("item", dal_text(item)) };

	CHECK_OK(dal_repo_create(NULL, repo, f, 2));
}

/* Rows of `table` on whatever connection this thread would use now. */
static int64_t count(fixture *fx, const char *table)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	return fx_scalar(fx, sql, NULL, 0);
}

static int64_t count_name(fixture *fx, const char *name)
{
	dal_value p[1] = { dal_text(name) };

	return fx_scalar(fx, "SELECT COUNT(*) FROM users WHERE name = ?", p, 1);
}

/* Nested units run on every engine: savepoints, or (DuckDB) an undo log of repository changes. */
static bool nesting(const fixture *fx)
{
	(void)fx;
	return true;
}

static void test_commit(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_repo *repo = NULL;

	schema(fx);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&repo, uow, &users, 0));
	add_user(repo, "ann");
	add_user(repo, "bob");
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(count(fx, "users"), 2);
	/* The repository outlives its unit: its calls fail rather than run on their own. */
	{
		dal_field f[] = { DAL_FIELD("name", dal_text("cy")) };
		CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, repo, f, 1));
		CHECK_MSG("unit of work");
	}
	assert_int_equal(count(fx, "users"), 2);
	dal_repo_close(repo);
}

static void test_rollback(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_repo *repo = NULL;

	schema(fx);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&repo, uow, &users, 0));
	add_user(repo, "ann");
	CHECK_OK(dal_exec(NULL, fx->db, "UPDATE users SET name = 'anne'", NULL, 0));
	assert_int_equal(count_name(fx, "anne"), 1);
	CHECK_OK(dal_uow_rollback(uow));
	assert_int_equal(count(fx, "users"), 0);
	dal_repo_close(repo);
}

typedef struct other_read {
	dal_db *db;
	int64_t n;
	int rc;
} other_read;

static void *count_on_other_thread(void *arg)
{
	other_read *o = arg;
	dal_result *res = NULL;

	/* This thread has no unit of work: it reads on another pooled connection. */
	if ((o->rc = dal_query(&res, o->db, "SELECT COUNT(*) FROM users", NULL, 0)) == 0) {
		o->n = dal_result_get(res, 0, 0)->v.i;
		dal_result_free(res);
	}
	return NULL;
}

static int64_t count_elsewhere(dal_db *db)
{
	other_read o = { db, -1, 0 };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, count_on_other_thread, &o), 0);
	pthread_join(t, NULL);
	if (o.rc != 0)
		fail_msg("count on another thread -> %d", o.rc);
	return o.n;
}

static void test_sees_own_writes_only(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_repo *repo = NULL;
	dal_db *other = NULL;
	dal_result *res = NULL;
	bool exists = false;
	int64_t id, n = -1;

	schema(fx);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&repo, uow, &users, 0));
	id = add_user(repo, "ann");
	CHECK_OK(dal_repo_count(&n, repo, NULL));
	assert_int_equal(n, 1);
	CHECK_OK(dal_repo_exists(&exists, repo, id, false));
	assert_true(exists);
	assert_int_equal(count(fx, "users"), 1);
	if (fx_is(fx, "sqlite-memory")) {
		CHECK_OK(dal_uow_commit(uow));
		dal_repo_close(repo);
		FX_SKIP("sqlite :memory: has one connection: no other connection can look at the database");
	}
	/* Another thread, another connection of the same dal_db. */
	assert_int_equal(count_elsewhere(fx->db), 0);
	if (fx_is(fx, "duckdb")) {
		/* A second dal_db on a DuckDB file in one process is a second, incoherent database
		 * instance (one process per file, and one instance per dal_db): only threads here. */
		CHECK_OK(dal_uow_commit(uow));
		assert_int_equal(count_elsewhere(fx->db), 1);
		dal_repo_close(repo);
		return;
	}
	/* Another dal_db on the same database. */
	CHECK_OK(fx_open_again(&other, fx, NULL));
	CHECK_OK(dal_query(&res, other, "SELECT COUNT(*) FROM users", NULL, 0));
	assert_int_equal(dal_result_get(res, 0, 0)->v.i, 0);
	dal_result_free(res);
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(count_elsewhere(fx->db), 1);
	CHECK_OK(dal_query(&res, other, "SELECT COUNT(*) FROM users", NULL, 0));
	assert_int_equal(dal_result_get(res, 0, 0)->v.i, 1);
	dal_result_free(res);
	dal_close(other);
	dal_repo_close(repo);
}

/* The original design's first example: one transaction across two repositories. */
static void test_two_repositories(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_repo *u = NULL, *o = NULL;
	int64_t id;

	schema(fx);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&u, uow, &users, 0));
	CHECK_OK(dal_uow_repo(&o, uow, &orders, 0));
	id = add_user(u, "ann");
	add_order(o, id, "book");
	add_order(o, id, "pen");
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(u);
	dal_repo_close(o);
	assert_int_equal(count(fx, "users"), 1);
	assert_int_equal(count(fx, "orders"), 2);
}

/* The second: an error half-way; nothing of the unit stays. */
static void test_rollback_on_error(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL;
	dal_repo *u = NULL, *o = NULL;
	dal_field dup[] = { DAL_FIELD("name", dal_text("ann")) };
	int64_t id;

	schema(fx);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&u, uow, &users, 0));
	CHECK_OK(dal_uow_repo(&o, uow, &orders, 0));
	id = add_user(u, "ann");
	add_order(o, id, "book");
	CHECK_ERR(DAL_ECONSTRAINT, dal_repo_create(NULL, u, dup, 1));
	CHECK_OK(dal_uow_rollback(uow));
	dal_repo_close(u);
	dal_repo_close(o);
	assert_int_equal(count(fx, "users"), 0);
	assert_int_equal(count(fx, "orders"), 0);
	/* The connection went back clean: the next unit works. */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&u, uow, &users, 0));
	add_user(u, "ann");
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(u);
	assert_int_equal(count(fx, "users"), 1);
}

/* The third: the outer repository writes inside the inner unit; the inner rollback undoes just that. */
static void test_nested_inner_rollback(void **state)
{
	fixture *fx = FX(state);
	dal_uow *outer = NULL, *inner = NULL;
	dal_repo *repo = NULL;

	schema(fx);
	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&repo, outer, &users, 0));
	add_user(repo, "Outer");
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	add_user(repo, "Inner");
	assert_int_equal(count_name(fx, "Inner"), 1);
	CHECK_OK(dal_uow_rollback(inner));
	assert_int_equal(count_name(fx, "Inner"), 0);
	assert_int_equal(count_name(fx, "Outer"), 1);
	CHECK_OK(dal_uow_commit(outer));
	dal_repo_close(repo);
	assert_int_equal(count(fx, "users"), 1);
	assert_int_equal(count_name(fx, "Outer"), 1);
}

/* Three levels, a rollback at each level in turn. */
static void test_depth3(void **state)
{
	fixture *fx = FX(state);
	dal_uow *l1 = NULL, *l2 = NULL, *l3 = NULL;
	dal_repo *repo = NULL;
	int level;

	schema(fx);
	CHECK_OK(dal_repo_open(&repo, fx->db, &users, 0));
	for (level = 3; level >= 1; level--) {
		char a[16], b[16], c[16];

		snprintf(a, sizeof(a), "a%d", level);
		snprintf(b, sizeof(b), "b%d", level);
		snprintf(c, sizeof(c), "c%d", level);
		CHECK_OK(dal_uow_begin(&l1, fx->db, NULL));
		add_user(repo, a);
		CHECK_OK(dal_uow_begin(&l2, fx->db, NULL));
		add_user(repo, b);
		CHECK_OK(dal_uow_begin(&l3, fx->db, NULL));
		add_user(repo, c);
		assert_int_equal(count_name(fx, c), 1);
		if (level == 3) {
			CHECK_OK(dal_uow_rollback(l3));
			/* A sibling at the same depth after the rollback. */
			CHECK_OK(dal_uow_begin(&l3, fx->db, NULL));
			add_user(repo, "sib");
			CHECK_OK(dal_uow_commit(l3));
			CHECK_OK(dal_uow_commit(l2));
			CHECK_OK(dal_uow_commit(l1));
			assert_int_equal(count_name(fx, a), 1);
			assert_int_equal(count_name(fx, b), 1);
			assert_int_equal(count_name(fx, c), 0);
			assert_int_equal(count_name(fx, "sib"), 1);
		} else if (level == 2) {
			CHECK_OK(dal_uow_commit(l3));
			CHECK_OK(dal_uow_rollback(l2));
			assert_int_equal(count_name(fx, c), 0);
			CHECK_OK(dal_uow_commit(l1));
			assert_int_equal(count_name(fx, a), 1);
			assert_int_equal(count_name(fx, b), 0);
			assert_int_equal(count_name(fx, c), 0);
		} else {
			CHECK_OK(dal_uow_commit(l3));
			CHECK_OK(dal_uow_commit(l2));
			CHECK_OK(dal_uow_rollback(l1));
			assert_int_equal(count_name(fx, a), 0);
			assert_int_equal(count_name(fx, b), 0);
			assert_int_equal(count_name(fx, c), 0);
		}
	}
	/* a3 b3 sib, then a2. */
	assert_int_equal(count(fx, "users"), 4);
	dal_repo_close(repo);
}

typedef struct cross_end {
	int rc;
	dal_uow *u;
} cross_end;

static void *end_on_other_thread(void *arg)
{
	cross_end *c = arg;

	c->rc = dal_uow_commit(c->u);
	return NULL;
}

static void test_out_of_order(void **state)
{
	fixture *fx = FX(state);
	dal_uow *l1 = NULL, *l2 = NULL, *l3 = NULL, *next = NULL;
	dal_repo *repo = NULL, *dead_repo = (dal_repo *)1;
	cross_end cross = { 0, NULL };
	pthread_t t;

	schema(fx);
	CHECK_OK(dal_repo_open(&repo, fx->db, &users, 0));

	/* A unit must be ended on its own thread. */
	CHECK_OK(dal_uow_begin(&l1, fx->db, NULL));
	add_user(repo, "x");
	cross.u = l1;
	assert_int_equal(pthread_create(&t, NULL, end_on_other_thread, &cross), 0);
	pthread_join(t, NULL);
	assert_int_equal(cross.rc, DAL_EINVAL);
	CHECK_OK(dal_uow_rollback(l1));
	assert_int_equal(count(fx, "users"), 0);

	/* Committing the outermost while two are nested in it. */
	CHECK_OK(dal_uow_begin(&l1, fx->db, NULL));
	add_user(repo, "a");
	CHECK_OK(dal_uow_begin(&l2, fx->db, NULL));
	add_user(repo, "b");
	CHECK_OK(dal_uow_begin(&l3, fx->db, NULL));
	add_user(repo, "c");
	CHECK_ERR(DAL_EINVAL, dal_uow_commit(l1));
	CHECK_MSG("innermost");
	/* Nothing committed, and this thread has no unit open any more. */
	assert_int_equal(count(fx, "users"), 0);
	assert_int_equal(count_elsewhere(fx->db), 0);
	/* The stale handles are dead, not dangling. */
	CHECK_ERR(DAL_EINVAL, dal_uow_repo(&dead_repo, l2, &users, 0));
	assert_null(dead_repo);
	CHECK_ERR(DAL_EINVAL, dal_uow_commit(l3));
	CHECK_OK(dal_uow_rollback(l2));

	/* Rolling back a middle unit: the same. */
	CHECK_OK(dal_uow_begin(&l1, fx->db, NULL));
	add_user(repo, "a");
	CHECK_OK(dal_uow_begin(&l2, fx->db, NULL));
	CHECK_OK(dal_uow_begin(&l3, fx->db, NULL));
	add_user(repo, "c");
	CHECK_ERR(DAL_EINVAL, dal_uow_rollback(l2));
	CHECK_ERR(DAL_EINVAL, dal_uow_commit(l1));
	CHECK_OK(dal_uow_rollback(l3));
	assert_int_equal(count(fx, "users"), 0);

	/* Afterwards units work as before. */
	CHECK_OK(dal_uow_begin(&next, fx->db, NULL));
	add_user(repo, "after");
	CHECK_OK(dal_uow_commit(next));
	assert_int_equal(count(fx, "users"), 1);
	dal_repo_close(repo);
}

static void test_nested_begin_by_engine(void **state)
{
	fixture *fx = FX(state);
	dal_uow *outer = NULL, *inner = NULL;
	dal_uow_opts ser = DAL_UOW_OPTS_INIT;

	schema(fx);
	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	CHECK_OK(dal_uow_commit(inner));
	/* A nested unit cannot make the outer transaction stricter. */
	ser.isolation = DAL_ISOLATION_SERIALIZABLE;
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(&inner, fx->db, &ser));
	assert_null(inner);
	CHECK_OK(dal_uow_commit(outer));
}

static void test_options(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = (dal_uow *)1;
	dal_uow_opts o = DAL_UOW_OPTS_INIT;
	dal_repo *repo = NULL;

	schema(fx);
	o.version = 0;
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(&uow, fx->db, &o));
	assert_null(uow);
	o.version = 99;
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(&uow, fx->db, &o));
	o.version = DAL_UOW_OPTS_VERSION;
	o.isolation = 7;
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(&uow, fx->db, &o));
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(NULL, fx->db, NULL));
	CHECK_ERR(DAL_EINVAL, dal_uow_begin(&uow, NULL, NULL));
	CHECK_ERR(DAL_EINVAL, dal_uow_commit(NULL));
	CHECK_ERR(DAL_EINVAL, dal_uow_rollback(NULL));

	o.isolation = DAL_ISOLATION_REPEATABLE_READ;
	CHECK_OK(dal_uow_begin(&uow, fx->db, &o));
	CHECK_OK(dal_uow_repo(&repo, uow, &users, 0));
	add_user(repo, "rr");
	CHECK_OK(dal_uow_commit(uow));
	dal_repo_close(repo);

	o.isolation = DAL_ISOLATION_SERIALIZABLE;
	CHECK_OK(dal_uow_begin(&uow, fx->db, &o));
	assert_int_equal(count(fx, "users"), 1);
	CHECK_OK(dal_uow_commit(uow));

	o.isolation = DAL_ISOLATION_DEFAULT;
	o.read_only = true;
	CHECK_OK(dal_uow_begin(&uow, fx->db, &o));
	assert_int_equal(count(fx, "users"), 1);
	if (fx_is(fx, "postgres"))
		assert_true(dal_exec(NULL, fx->db, "DELETE FROM users", NULL, 0) < 0);
	CHECK_OK(dal_uow_rollback(uow));
	assert_int_equal(count(fx, "users"), 1);
}

typedef struct tx_args {
	int calls;
	int result;           /* what fn returns after its writes */
	const char *name;
	bool duplicate;       /* also insert the same name twice */
} tx_args;

static int tx_work(dal_uow *uow, void *payload)
{
	tx_args *a = payload;
	dal_repo *repo = NULL;
	dal_field f[] = { DAL_FIELD("name", dal_text(a->name)) };
	int rc;

	a->calls++;
	if ((rc = dal_uow_repo(&repo, uow, &users, 0)) < 0)
		return rc;
	if ((rc = dal_repo_create(NULL, repo, f, 1)) == 0 && a->duplicate)
		rc = dal_repo_create(NULL, repo, f, 1);
	dal_repo_close(repo);
	return rc < 0 ? rc : a->result;
}

static void test_run_tx(void **state)
{
	fixture *fx = FX(state);
	tx_args ok = { 0, 0, "ok", false }, fail = { 0, 42, "fail", false };
	tx_args notfound = { 0, DAL_ENOTFOUND, "nf", false }, dup = { 0, 0, "dup", true };
	dal_uow *outer = NULL;

	schema(fx);
	CHECK_OK(dal_run_tx(fx->db, NULL, tx_work, &ok));
	assert_int_equal(ok.calls, 1);
	assert_int_equal(count_name(fx, "ok"), 1);

	assert_int_equal(dal_run_tx(fx->db, NULL, tx_work, &fail), 42);
	assert_int_equal(fail.calls, 1);
	assert_int_equal(count_name(fx, "fail"), 0);

	CHECK_ERR(DAL_ENOTFOUND, dal_run_tx(fx->db, NULL, tx_work, &notfound));
	assert_int_equal(notfound.calls, 1);
	assert_int_equal(count_name(fx, "nf"), 0);

	/* A constraint violation is never retried. */
	CHECK_ERR(DAL_ECONSTRAINT, dal_run_tx(fx->db, NULL, tx_work, &dup));
	assert_int_equal(dup.calls, 1);
	assert_int_equal(count_name(fx, "dup"), 0);

	CHECK_ERR(DAL_EINVAL, dal_run_tx(fx->db, NULL, NULL, NULL));
	CHECK_ERR(DAL_EINVAL, dal_run_tx(NULL, NULL, tx_work, &ok));

	/* Inside an open unit it runs nested: its failure undoes only its own work. */
	if (nesting(fx)) {
		tx_args in_ok = { 0, 0, "in_ok", false }, in_fail = { 0, 7, "in_fail", false };

		CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
		CHECK_OK(dal_run_tx(fx->db, NULL, tx_work, &in_ok));
		assert_int_equal(dal_run_tx(fx->db, NULL, tx_work, &in_fail), 7);
		assert_int_equal(count_name(fx, "in_fail"), 0);
		assert_int_equal(count_name(fx, "in_ok"), 1);
		CHECK_OK(dal_uow_commit(outer));
		assert_int_equal(count_name(fx, "in_ok"), 1);
	}
	assert_int_equal(count(fx, "users"), nesting(fx) ? 2 : 1);
}

static uint64_t retries(dal_db *db)
{
	uint64_t n;

	pthread_mutex_lock(&db->metrics.mu);
	n = db->metrics.retries;
	pthread_mutex_unlock(&db->metrics.mu);
	return n;
}

typedef struct conflict_args {
	fixture *fx;
	int calls;
} conflict_args;

static void *bump_elsewhere(void *arg)
{
	dal_db *db = arg;

	/* No unit on this thread: its own connection and transaction, committed at once. */
	if (dal_exec(NULL, db, "UPDATE users SET name = 'theirs' WHERE id = 1", NULL, 0) != 0)
		fprintf(stderr, "bump_elsewhere: %s\n", dal_error_last()->message);
	return NULL;
}

/* Read, let another connection change the row and commit, then write it: a conflict the first time. */
static int conflicting(dal_uow *uow, void *payload)
{
	conflict_args *a = payload;
	pthread_t t;
	int rc;

	(void)uow;
	if (++a->calls == 1) {
		assert_int_equal(count_name(a->fx, "start"), 1);
		pthread_create(&t, NULL, bump_elsewhere, a->fx->db);
		pthread_join(t, NULL);
	}
	if ((rc = dal_exec(NULL, a->fx->db, "UPDATE users SET name = 'mine' WHERE id = 1", NULL, 0)) < 0)
		return rc;
	return 0;
}

static void *hold_write_lock(void *arg)
{
	void **a = arg;
	dal_db *db = a[0];
	pthread_mutex_t *mu = a[1];
	pthread_cond_t *cv = a[2];
	int *phase = a[3];
	dal_uow *uow = NULL;

	if (dal_uow_begin(&uow, db, NULL) != 0 || dal_exec(NULL, db, "UPDATE users SET name = 'held'", NULL, 0) != 0)
		fprintf(stderr, "hold_write_lock: %s\n", dal_error_last()->message);
	pthread_mutex_lock(mu);
	*phase = 1;
	pthread_cond_broadcast(cv);
	while (*phase != 2)
		pthread_cond_wait(cv, mu);
	pthread_mutex_unlock(mu);
	dal_uow_rollback(uow);
	return NULL;
}

static void test_run_tx_retries(void **state)
{
	fixture *fx = FX(state);
	dal_uow_opts rr = DAL_UOW_OPTS_INIT;
	conflict_args a = { fx, 0 };
	tx_args never = { 0, 0, "never", false };
	uint64_t before = retries(fx->db);

	schema(fx);
	fx_exec(fx, "INSERT INTO users (id, name, created_at) VALUES (1, 'start', CURRENT_TIMESTAMP)");
	if (fx_is(fx, "postgres")) {
		/* Writers run at once here: the loser of a write-write conflict gets DAL_ESERIALIZE. */
		rr.isolation = DAL_ISOLATION_REPEATABLE_READ;
		CHECK_OK(dal_run_tx(fx->db, &rr, conflicting, &a));
		assert_int_equal(a.calls, 2);
		assert_int_equal(retries(fx->db) - before, 1);
		assert_int_equal(count_name(fx, "mine"), 1);
	} else if (fx_is(fx, "sqlite-file") || fx_is(fx, "duckdb")) {
		/* One writer at a time (SQLite's lock; on DuckDB dal's, see src/driver/duckdb.c): a unit
		 * that cannot get the write lock is DAL_EBUSY, retried, bounded. */
		dal_config cfg = DAL_CONFIG_INIT;
		dal_db *impatient = NULL;
		pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
		int phase = 0;
		void *args[4] = { fx->db, &mu, &cv, &phase };
		pthread_t t;

		cfg.busy_timeout_ms = 20;
		cfg.tx_max_attempts = 3;
		/* Row 1 was inserted with its id: DuckDB's sequence does not know it. */
		if (fx_is(fx, "duckdb"))
			fx_exec(fx, "SELECT nextval('users_id_seq')");
		CHECK_OK(fx_open_again(&impatient, fx, &cfg));
		pthread_create(&t, NULL, hold_write_lock, args);
		pthread_mutex_lock(&mu);
		while (phase != 1)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		CHECK_ERR(DAL_EBUSY, dal_run_tx(impatient, NULL, tx_work, &never));
		assert_int_equal(never.calls, 0);
		assert_int_equal(retries(impatient), 2);
		pthread_mutex_lock(&mu);
		phase = 2;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		pthread_join(t, NULL);
		CHECK_OK(dal_run_tx(impatient, NULL, tx_work, &never));
		assert_int_equal(never.calls, 1);
		dal_close(impatient);
		assert_int_equal(count_name(fx, "never"), 1);
	} else {
		FX_SKIP("sqlite :memory: has one connection: nothing can conflict with a unit of work");
	}
}

/*
 * "Insert if absent" as two SERIALIZABLE units at once, on a column without a
 * unique constraint: write skew would insert twice. A handshake makes the overlap
 * certain: each unit's first attempt, once it has read, waits until the test lets
 * it write.
 */
typedef struct skew {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int read;     /* units whose first attempt has read */
	int ended;    /* units whose dal_run_tx has returned */
	bool go;      /* the units may write */
} skew;

typedef struct skew_unit {
	dal_db *db;
	skew *sync;   /* NULL: no handshake */
	int attempts;
	int rc;
} skew_unit;

static void skew_read_done(skew_unit *u)
{
	skew *k = u->sync;

	if (!k || u->attempts > 1)
		return;
	pthread_mutex_lock(&k->mu);
	k->read++;
	pthread_cond_broadcast(&k->cv);
	while (!k->go)
		pthread_cond_wait(&k->cv, &k->mu);
	pthread_mutex_unlock(&k->mu);
}

static int insert_if_absent(dal_uow *uow, void *payload)
{
	dal_filter only[] = { DAL_WHERE("item", DAL_OP_EQ, dal_text("only")) };
	dal_field f[] = { DAL_FIELD("user_id", dal_int(1)), DAL_FIELD("item", dal_text("only")) };
	dal_criteria c = DAL_CRITERIA_INIT;
	skew_unit *u = payload;
	dal_repo *repo = NULL;
	int64_t n = -1;
	int rc;

	u->attempts++;
	c.filters = only;
	c.nfilters = 1;
	if ((rc = dal_uow_repo(&repo, uow, &orders, 0)) == 0)
		rc = dal_repo_count(&n, repo, &c);
	skew_read_done(u);
	if (rc == 0 && n == 0)
		rc = dal_repo_create(NULL, repo, f, 2);
	dal_repo_close(repo);
	return rc;
}

static void *serializable_insert(void *arg)
{
	dal_uow_opts ser = DAL_UOW_OPTS_INIT;
	skew_unit *u = arg;

	ser.isolation = DAL_ISOLATION_SERIALIZABLE;
	u->rc = dal_run_tx(u->db, &ser, insert_if_absent, u);
	if (u->sync) {
		pthread_mutex_lock(&u->sync->mu);
		u->sync->ended++;
		pthread_cond_broadcast(&u->sync->cv);
		pthread_mutex_unlock(&u->sync->mu);
	}
	return NULL;
}

/* Until `n` units have read; false if one ended first (it failed before reading). */
static bool skew_wait_read(skew *k, int n)
{
	bool ok;

	pthread_mutex_lock(&k->mu);
	while (k->read < n && k->ended == 0)
		pthread_cond_wait(&k->cv, &k->mu);
	ok = k->read >= n;
	pthread_mutex_unlock(&k->mu);
	return ok;
}

static void skew_go(skew *k)
{
	pthread_mutex_lock(&k->mu);
	k->go = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
}

static void check_unit(const skew_unit *u, const char *which)
{
	if (u->rc != 0)
		fail_msg("unit %s: %d (%s) after %d attempt(s)", which, u->rc, dal_strerror(u->rc), u->attempts);
}

/* Writers at once: both units read before either writes, and the engine makes one of them retry. */
static void skew_overlapping(fixture *fx)
{
	skew k = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, false };
	skew_unit u[2] = { { fx->db, &k, 0, -1 }, { fx->db, &k, 0, -1 } };
	uint64_t before = retries(fx->db);
	pthread_t t[2];
	bool both_read;
	int i;

	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, serializable_insert, &u[i]), 0);
	both_read = skew_wait_read(&k, 2);
	skew_go(&k);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (!both_read)
		fail_msg("a unit ended before both had read: %d (%s), %d (%s)", u[0].rc, dal_strerror(u[0].rc),
			u[1].rc, dal_strerror(u[1].rc));
	check_unit(&u[0], "0");
	check_unit(&u[1], "1");
	assert_true(retries(fx->db) - before >= 1);
	assert_true(u[0].attempts + u[1].attempts >= 3);
}

/*
 * One writer at a time: while unit A is between its read and its write, unit B
 * cannot even begin (a dal_db with a 20 ms busy timeout and one attempt gets
 * DAL_EBUSY before B's function runs); run after A, B finds A's row.
 */
static void skew_serialized(fixture *fx)
{
	skew k = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, false };
	skew_unit a = { fx->db, &k, 0, -1 }, b = { NULL, NULL, 0, -1 };
	dal_uow_opts ser = DAL_UOW_OPTS_INIT;
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *impatient = NULL;
	pthread_t t;
	bool a_read;

	ser.isolation = DAL_ISOLATION_SERIALIZABLE;
	cfg.busy_timeout_ms = 20;
	cfg.tx_max_attempts = 1;
	CHECK_OK(fx_open_again(&impatient, fx, &cfg));
	assert_int_equal(pthread_create(&t, NULL, serializable_insert, &a), 0);
	if ((a_read = skew_wait_read(&k, 1)))
		b.rc = dal_run_tx(impatient, &ser, insert_if_absent, &b);
	skew_go(&k);
	pthread_join(t, NULL);
	dal_close(impatient);
	if (!a_read)
		fail_msg("unit A ended before it read: %d (%s)", a.rc, dal_strerror(a.rc));
	check_unit(&a, "A");
	CHECK_ERR(DAL_EBUSY, b.rc);
	assert_int_equal(b.attempts, 0);
	b.db = fx->db;
	serializable_insert(&b);
	check_unit(&b, "B");
	assert_int_equal(b.attempts, 1);
}

static void test_serializable_no_write_skew(void **state)
{
	fixture *fx = FX(state);

	schema(fx);
	if (fx->db->drv->caps & DAL_CAP_MULTI_WRITER)
		skew_overlapping(fx);
	else if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: has one connection: two units of work cannot overlap at all");
	else
		skew_serialized(fx);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM orders WHERE item = 'only'", NULL, 0), 1);
}

static char logged[512];

static void capture_log(dal_log_level level, const char *message, void *payload)
{
	(void)payload;
	if (level >= DAL_LOG_WARN && strstr(message, "unit"))
		snprintf(logged, sizeof(logged), "%s", message);
}

static void test_close_with_open_unit(void **state)
{
	fixture *fx = FX(state);
	dal_uow *uow = NULL, *inner = NULL;
	dal_repo *repo = NULL;

	schema(fx);
	CHECK_OK(dal_repo_open(&repo, fx->db, &users, 0));
	add_user(repo, "kept");
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	add_user(repo, "lost");
	if (nesting(fx)) {
		CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
		add_user(repo, "lost2");
	}
	dal_repo_close(repo);
	logged[0] = '\0';
	dal_log_set_handler(capture_log, NULL);
	dal_close(fx->db);
	fx->db = NULL;
	dal_log_set_handler(NULL, NULL);
	if (!strstr(logged, "rolled back"))
		fail_msg("dal_close did not report the open unit of work (log: \"%s\")", logged);
	/* The handles are dead: ending them is safe and frees them. */
	if (inner)
		CHECK_ERR(DAL_EINVAL, dal_uow_commit(inner));
	CHECK_OK(dal_uow_rollback(uow));
	CHECK_OK(dal_open(&fx->db, fx->url, NULL));
	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: is gone with its dal_db: nothing to reopen and check");
	assert_int_equal(count(fx, "users"), 1);
	assert_int_equal(count_name(fx, "kept"), 1);
}

/* ---- a connection lost while COMMIT is in flight ---- */

typedef struct inflight {
	fixture *fx;
	_Atomic int64_t pid;   /* set inside the unit, read by the killer */
	int calls;
} inflight;

static void *kill_later(void *arg)
{
	inflight *k = arg;
	dal_db *other = NULL;
	dal_value pid;
	int waited;

	for (waited = 0; k->pid == 0 && waited < 1000; waited++)
		nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
	pid = dal_int(k->pid);
	/* By then COMMIT is inside the deferred trigger's pg_sleep. */
	nanosleep(&(struct timespec){ 0, 700000000L }, NULL);
	if (fx_open_again(&other, k->fx, NULL) == 0) {
		dal_exec(NULL, other, "SELECT pg_terminate_backend(?::int)", &pid, 1);
		dal_close(other);
	}
	return NULL;
}

static int slow_commit_tx(dal_uow *uow, void *payload)
{
	inflight *k = payload;
	dal_result *res = NULL;
	int error;

	(void)uow;
	k->calls++;
	if ((error = dal_exec(NULL, k->fx->db, "INSERT INTO slowc (id) VALUES (1)", NULL, 0)) < 0 ||
	    (error = dal_query(&res, k->fx->db, "SELECT pg_backend_pid()", NULL, 0)) < 0)
		return error;
	k->pid = dal_result_get(res, 0, 0)->v.i;
	dal_result_free(res);
	return 0;
}

static void test_commit_in_flight_lost(void **state)
{
	fixture *fx = FX(state);
	inflight k = { .fx = fx, .pid = 0, .calls = 0 };
	pthread_t killer;
	int rc;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("only a server connection can be lost while COMMIT is in flight");
	fx_exec(fx, "CREATE TABLE slowc (id BIGINT PRIMARY KEY)");
	fx_exec(fx, "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
	            "$$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$");
	/* A deferred trigger runs inside COMMIT, so COMMIT takes seconds. */
	fx_exec(fx, "CREATE CONSTRAINT TRIGGER slowc_t AFTER INSERT ON slowc DEFERRABLE INITIALLY DEFERRED "
	            "FOR EACH ROW EXECUTE FUNCTION slow_commit()");
	assert_int_equal(pthread_create(&killer, NULL, kill_later, &k), 0);
	rc = dal_run_tx(fx->db, NULL, slow_commit_tx, &k);
	pthread_join(killer, NULL);
	CHECK_ERR(DAL_ECOMMIT_UNKNOWN, rc);
	/* Never retried blindly: the function ran once. */
	assert_int_equal(k.calls, 1);
	/* The pool serves again, and the caller can resolve the outcome by key. */
	assert_true(fx_scalar(fx, "SELECT COUNT(*) FROM slowc", NULL, 0) <= 1);
}

/* A connection lost before COMMIT was sent: the whole function runs again on a fresh one. */
static int lose_first_connection(dal_uow *uow, void *payload)
{
	inflight *k = payload;
	dal_result *res = NULL;
	dal_db *other = NULL;
	dal_value pid;
	int error;

	(void)uow;
	if (++k->calls > 1)
		return dal_exec(NULL, k->fx->db, "INSERT INTO lost (id) VALUES (1)", NULL, 0);
	if ((error = dal_exec(NULL, k->fx->db, "INSERT INTO lost (id) VALUES (1)", NULL, 0)) < 0 ||
	    (error = dal_query(&res, k->fx->db, "SELECT pg_backend_pid()", NULL, 0)) < 0)
		return error;
	pid = dal_int(dal_result_get(res, 0, 0)->v.i);
	dal_result_free(res);
	if ((error = fx_open_again(&other, k->fx, NULL)) < 0)
		return error;
	dal_exec(NULL, other, "SELECT pg_terminate_backend(?::int)", &pid, 1);
	dal_close(other);
	nanosleep(&(struct timespec){ 0, 100000000L }, NULL);
	return dal_exec(NULL, k->fx->db, "INSERT INTO lost (id) VALUES (2)", NULL, 0);
}

static void test_connection_lost_before_commit(void **state)
{
	fixture *fx = FX(state);
	inflight k = { .fx = fx, .pid = 0, .calls = 0 };

	if (!fx_is(fx, "postgres"))
		FX_SKIP("only a server connection can be lost mid-unit");
	fx_exec(fx, "CREATE TABLE lost (id BIGINT PRIMARY KEY)");
	CHECK_OK(dal_run_tx(fx->db, NULL, lose_first_connection, &k));
	assert_int_equal(k.calls, 2);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM lost", NULL, 0), 1);
}

/* ---- a nested unit undoes every kind of repository change (DuckDB: the undo log) ---- */

static const dal_column item_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("qty", DAL_TYPE_INT, 0, 0),
	DAL_COL("note", DAL_TYPE_TEXT, 0, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model items = DAL_MODEL("items", item_cols);

/* Every row and value of `items` and the audit trail, as text, on this thread's connection. */
static char *snapshot(fixture *fx)
{
	static const char *const sqls[] = {
		"SELECT id, name, qty, note, created_at, updated_at, deleted_at FROM items ORDER BY id",
		"SELECT id, action, resource_id, prev_hash, row_hash FROM audit_logs ORDER BY id",
		"SELECT last_id, last_hash FROM audit_chain",
	};
	size_t cap = 1 << 16, len = 0, q, r, c;
	char *out = malloc(cap);

	assert_non_null(out);
	out[0] = '\0';
	for (q = 0; q < 3; q++) {
		dal_result *res = NULL;
		CHECK_OK(dal_query(&res, fx->db, sqls[q], NULL, 0));
		for (r = 0; r < dal_result_rows(res); r++) {
			for (c = 0; c < dal_result_columns(res); c++) {
				const dal_value *v = dal_result_get(res, r, c);
				char cell[160];
				int n;
				switch (v->type) {
				case DAL_TYPE_NULL: n = snprintf(cell, sizeof(cell), "null|"); break;
				case DAL_TYPE_INT: n = snprintf(cell, sizeof(cell), "%lld|", (long long)v->v.i); break;
				case DAL_TYPE_TIMESTAMP: n = snprintf(cell, sizeof(cell), "t%lld|", (long long)v->v.ts); break;
				case DAL_TYPE_DOUBLE: n = snprintf(cell, sizeof(cell), "%.17g|", v->v.d); break;
				case DAL_TYPE_BOOL: n = snprintf(cell, sizeof(cell), "%d|", v->v.b); break;
				default: n = snprintf(cell, sizeof(cell), "'%.*s'|", (int)v->len, v->v.s); break;
				}
				while (len + (size_t)n + 2 > cap) {
					cap *= 2;
					assert_non_null(out = realloc(out, cap));
				}
				memcpy(out + len, cell, (size_t)n + 1);
				len += (size_t)n;
			}
			out[len++] = '\n';
			out[len] = '\0';
		}
		dal_result_free(res);
	}
	return out;
}

static void assert_same(const char *before, const char *after, const char *when)
{
	const char *a = before, *b = after;
	int line = 1;

	if (strcmp(before, after) == 0)
		return;
	while (*a && *a == *b) {
		line += *a == '\n';
		a++;
		b++;
	}
	fail_msg("%s: the table differs from before the inner begin at line %d: was \"%.80s\", is \"%.80s\"",
		when, line, a, b);
}

static void test_nested_undoes_every_change(void **state)
{
	enum { BASE = 250, NEW = 150 };
	fixture *fx = FX(state);
	const dal_model *ms[] = { &items };
	const char *const cols[] = { "name", "qty" };
	const char *const upcols[] = { "qty", "note" };
	dal_value vals[NEW * 2], upvals[NEW * 2];
	int64_t ids[BASE], newids[NEW], upids[NEW], softids[120], hardids[110], n = 0;
	char names[NEW][16];
	dal_uow *outer = NULL, *inner = NULL, *inner2 = NULL;
	dal_repo *repo = NULL, *audited = NULL;
	dal_field up[] = { DAL_FIELD("name", dal_text("renamed")), DAL_FIELD("qty", dal_int(-1)) };
	dal_field up2[] = { DAL_FIELD("note", dal_text("inner2")) };
	dal_audit_report rep;
	char *before, *after;
	size_t i;

	CHECK_OK(dal_init_database(fx->db, ms, 1, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_repo_open(&repo, fx->db, &items, 0));
	CHECK_OK(dal_repo_open(&audited, fx->db, &items, DAL_AUDIT));
	for (i = 0; i < BASE; i++) {
		snprintf(names[i % NEW], sizeof(names[0]), "base%zu", i);
		vals[(i % NEW) * 2] = dal_text(names[i % NEW]);
		vals[(i % NEW) * 2 + 1] = dal_int((int64_t)i);
		if (i % NEW == NEW - 1 || i == BASE - 1)
			CHECK_OK(dal_repo_bulk_create(ids + i - i % NEW, repo, cols, 2, vals, i % NEW + 1));
	}
	CHECK_OK(dal_repo_delete(repo, ids[3], true));     /* restored inside */
	{
		dal_field f[] = { DAL_FIELD("name", dal_text("audited")) };
		CHECK_OK(dal_repo_create(NULL, audited, f, 1));  /* the audit chain has a head before */
	}

	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	{
		dal_field f[] = { DAL_FIELD("name", dal_text("outer")) };
		CHECK_OK(dal_repo_create(NULL, repo, f, 1));
	}
	before = snapshot(fx);
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	{
		dal_field f[] = { DAL_FIELD("name", dal_text("inner")), DAL_FIELD("note", dal_text("x")) };
		CHECK_OK(dal_repo_create(NULL, repo, f, 2));
		CHECK_OK(dal_repo_create(NULL, audited, f, 2));
	}
	CHECK_OK(dal_repo_update(NULL, repo, ids[1], up, 2));
	CHECK_OK(dal_repo_update(NULL, audited, ids[11], up, 2));
	CHECK_OK(dal_repo_delete(repo, ids[2], true));
	CHECK_OK(dal_repo_delete(audited, ids[12], true));
	CHECK_OK(dal_repo_restore(NULL, repo, ids[3]));
	CHECK_OK(dal_repo_delete(repo, ids[4], false));
	CHECK_OK(dal_repo_delete(audited, ids[14], false));
	for (i = 0; i < NEW; i++) {
		snprintf(names[i], sizeof(names[0]), "new%zu", i);
		vals[i * 2] = dal_text(names[i]);
		vals[i * 2 + 1] = i % 3 ? dal_int((int64_t)i) : dal_null();
		upids[i] = ids[20 + i];
		upvals[i * 2] = dal_int(1000 + (int64_t)i);
		upvals[i * 2 + 1] = dal_text("bulk");
	}
	CHECK_OK(dal_repo_bulk_create(newids, audited, cols, 2, vals, NEW));
	CHECK_OK(dal_repo_bulk_update(&n, audited, upids, upcols, 2, upvals, NEW));
	assert_int_equal(n, NEW);
	for (i = 0; i < 120; i++)
		softids[i] = ids[100 + i];
	CHECK_OK(dal_repo_bulk_delete(&n, audited, softids, 120, true));
	assert_int_equal(n, 120);
	/* Hard: rows soft-deleted just now, untouched ones, and rows created in this unit. */
	for (i = 0; i < 110; i++)
		hardids[i] = i < 50 ? ids[200 + i] : newids[i - 50];
	CHECK_OK(dal_repo_bulk_delete(&n, audited, hardids, 110, false));
	assert_int_equal(n, 110);
	/* A unit nested once more commits into this one: this one's rollback undoes it too. */
	CHECK_OK(dal_uow_begin(&inner2, fx->db, NULL));
	CHECK_OK(dal_repo_update(NULL, repo, ids[1], up2, 1));
	CHECK_OK(dal_uow_commit(inner2));
	/* And one rolled back on its own. */
	CHECK_OK(dal_uow_begin(&inner2, fx->db, NULL));
	CHECK_OK(dal_repo_update(NULL, repo, ids[5], up2, 1));
	CHECK_OK(dal_uow_rollback(inner2));
	/* Raw SQL: on an engine without savepoints a write cannot be undone, so it is refused; reads run. */
	if (fx_is(fx, "duckdb")) {
		CHECK_ERR(DAL_EUNSUPPORTED, dal_exec(NULL, fx->db, "UPDATE items SET qty = 7", NULL, 0));
		CHECK_MSG("cannot be undone");
	} else {
		CHECK_OK(dal_exec(NULL, fx->db, "UPDATE items SET qty = 7 WHERE id = ?", &(dal_value){ DAL_TYPE_INT, 0, { .i = ids[6] } }, 1));
	}
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM items WHERE name LIKE 'new%'", NULL, 0), NEW - 60);
	after = snapshot(fx);
	assert_true(strcmp(before, after) != 0);
	free(after);
	CHECK_OK(dal_uow_rollback(inner));
	after = snapshot(fx);
	assert_same(before, after, "after the inner rollback");
	free(after);
	CHECK_OK(dal_uow_commit(outer));
	after = snapshot(fx);
	assert_same(before, after, "after the outer commit");
	free(after);
	free(before);
	CHECK_OK(dal_audit_verify(&rep, fx->db));
	if (!rep.ok)
		fail_msg("audit chain broken after the inner rollback: row %lld: %s", (long long)rep.bad_id, rep.reason);
	dal_repo_close(repo);
	dal_repo_close(audited);
}

FX_CASES(cases_uow,
	FX_CASE(test_commit),
	FX_CASE(test_rollback),
	FX_CASE(test_sees_own_writes_only),
	FX_CASE(test_two_repositories),
	FX_CASE(test_rollback_on_error),
	FX_CASE(test_nested_inner_rollback),
	FX_CASE(test_depth3),
	FX_CASE(test_out_of_order),
	FX_CASE(test_nested_undoes_every_change),
	FX_CASE(test_nested_begin_by_engine),
	FX_CASE(test_options),
	FX_CASE(test_run_tx),
	FX_CASE(test_run_tx_retries),
	FX_CASE(test_serializable_no_write_skew),
	FX_CASE(test_close_with_open_unit),
	FX_CASE(test_commit_in_flight_lost),
	FX_CASE(test_connection_lost_before_commit),
);
