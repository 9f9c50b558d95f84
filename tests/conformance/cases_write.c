/* The write path: every repository write is one all-or-nothing step of the unit
 * it joins, audit rows belong to the scope that made them, and a repository of
 * a unit does not outlive it. */
#include "conformance/fixture.h"

#include <stdlib.h>

#include "util/fault.h"

static const dal_column wr_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("n", DAL_TYPE_INT, 0, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model wr = DAL_MODEL("wr_items", wr_cols);

static const char *const wr_names[] = { "name", "n" };

static int64_t add(dal_repo *repo, const char *name, int64_t n)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)), DAL_FIELD("n", dal_int(n)) };

	return fx_create(repo, f, DAL_COUNT(f));
}

static int64_t rows_of(fixture *fx)
{
	return fx_scalar(fx, "SELECT COUNT(*) FROM wr_items", NULL, 0);
}

static int64_t audit_rows(fixture *fx)
{
	return fx_scalar(fx, "SELECT COUNT(*) FROM audit_logs", NULL, 0);
}

static int64_t n_of(fixture *fx, int64_t id)
{
	dal_value p = dal_int(id);

	return fx_scalar(fx, "SELECT n FROM wr_items WHERE id = ?", &p, 1);
}

static bool deleted(fixture *fx, int64_t id)
{
	dal_value p = dal_int(id);

	return fx_scalar(fx, "SELECT COUNT(*) FROM wr_items WHERE id = ? AND deleted_at IS NOT NULL", &p, 1) == 1;
}

static void assert_verify_ok(fixture *fx)
{
	dal_audit_report r;

	CHECK_OK(dal_audit_verify(&r, fx->db));
	if (!r.ok)
		fail_msg("verify: row %lld: %s", (long long)r.bad_id, r.reason);
}

/* `n` rows of (name, n) for a bulk create, n counting from 0; free with free(). */
static dal_value *rows_for_bulk(size_t n)
{
	dal_value *v = calloc(n * 2, sizeof(dal_value));
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i * 2] = dal_text("row");
		v[i * 2 + 1] = dal_int((int64_t)i);
	}
	return v;
}

static int64_t history_len(dal_repo *repo, int64_t id)
{
	dal_audit_logs *logs = NULL;
	int64_t n;

	CHECK_OK(dal_repo_history(&logs, repo, id));
	n = (int64_t)dal_audit_logs_count(logs);
	dal_audit_logs_free(logs);
	return n;
}

/* ---- audit rows belong to the scope that made them ---- */

/*
 * A nested unit reads the trail, which writes the outer unit's held rows to the
 * chain inside the nested unit's savepoint; the nested unit's rollback undoes
 * that INSERT, and the outer unit's rows must still reach the chain at its commit.
 */
static void test_nested_read_keeps_outer_audit_rows(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	dal_uow *outer = NULL, *inner = NULL;
	int64_t id, other;

	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	id = add(repo, "ann", 1);
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	other = add(repo, "bob", 2);
	assert_int_equal(history_len(repo, id), 1);
	CHECK_OK(dal_uow_rollback(inner));
	CHECK_OK(dal_uow_commit(outer));
	assert_int_equal(rows_of(fx), 1);
	assert_int_equal(history_len(repo, id), 1);
	assert_int_equal(history_len(repo, other), 0);
	assert_int_equal(audit_rows(fx), 1);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* The same when the outer unit holds more rows than may wait and a nested unit's write flushes them. */
static void test_nested_flush_keeps_outer_audit_rows(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	dal_uow *outer = NULL, *inner = NULL;
	enum { OUTER = 4000, INNER = 200 };
	dal_value *v = rows_for_bulk(OUTER + INNER);
	int64_t *ids = calloc(OUTER + INNER, sizeof(int64_t));

	assert_non_null(ids);
	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	CHECK_OK(dal_repo_bulk_create(ids, repo, wr_names, 2, v, OUTER));
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	CHECK_OK(dal_repo_bulk_create(ids + OUTER, repo, wr_names, 2, v + OUTER * 2, INNER));
	CHECK_OK(dal_uow_rollback(inner));
	CHECK_OK(dal_uow_commit(outer));
	assert_int_equal(rows_of(fx), OUTER);
	assert_int_equal(audit_rows(fx), OUTER);
	assert_int_equal(history_len(repo, ids[OUTER - 1]), 1);
	assert_verify_ok(fx);
	free(v);
	free(ids);
	dal_repo_close(repo);
}

/* A nested unit that commits keeps its rows and the outer's, once each. */
static void test_nested_commit_after_read_writes_once(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	dal_uow *outer = NULL, *inner = NULL;
	int64_t a, b;

	CHECK_OK(dal_uow_begin(&outer, fx->db, NULL));
	a = add(repo, "ann", 1);
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	b = add(repo, "bob", 2);
	assert_int_equal(history_len(repo, a), 1);
	CHECK_OK(dal_uow_commit(inner));
	add(repo, "cy", 3);
	CHECK_OK(dal_uow_commit(outer));
	assert_int_equal(audit_rows(fx), 3);
	assert_int_equal(history_len(repo, a), 1);
	assert_int_equal(history_len(repo, b), 1);
	assert_verify_ok(fx);
	dal_repo_close(repo);
}

/* ---- each write call is all-or-nothing in the unit it joins ---- */

static bool has_savepoints(const fixture *fx)
{
	return !fx_is(fx, "duckdb");
}

typedef struct call_state {
	int64_t keep, upd, soft, hard, gone;
} call_state;

static void seed_rows(dal_repo *repo, call_state *cs)
{
	dal__fault_arm(NULL);
	cs->keep = add(repo, "keep", 1);
	cs->upd = add(repo, "upd", 1);
	cs->soft = add(repo, "soft", 1);
	cs->hard = add(repo, "hard", 1);
	cs->gone = add(repo, "gone", 1);
	CHECK_OK(dal_repo_delete(repo, cs->gone, true));
}

/* The write calls: the first five run one write statement each, the last three (bulk) several. */
enum { CALL_CREATE, CALL_UPDATE, CALL_SOFT, CALL_HARD, CALL_RESTORE, CALL_BULK_CREATE, CALL_BULK_UPDATE,
	CALL_BULK_DELETE, NCALLS };

static int one_call(dal_repo *repo, const call_state *cs, int which)
{
	dal_value bv[2] = { dal_text("bulk"), dal_int(7) }, uv[1] = { dal_int(99) };
	const char *const n_only[] = { "n" };
	int64_t id = 0, count = 0;

	switch (which) {
	case CALL_CREATE: return dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("name", dal_text("new")) }, 1);
	case CALL_UPDATE: return dal_repo_update(NULL, repo, cs->upd, (dal_field[]){ DAL_FIELD("n", dal_int(99)) }, 1);
	case CALL_SOFT: return dal_repo_delete(repo, cs->soft, true);
	case CALL_HARD: return dal_repo_delete(repo, cs->hard, false);
	case CALL_RESTORE: return dal_repo_restore(NULL, repo, cs->gone);
	case CALL_BULK_CREATE: return dal_repo_bulk_create(&id, repo, wr_names, 2, bv, 1);
	case CALL_BULK_UPDATE: return dal_repo_bulk_update(&count, repo, &cs->upd, n_only, 1, uv, 1);
	default: return dal_repo_bulk_delete(&count, repo, &cs->hard, 1, false);
	}
}

/* Call `which` with a failure armed at `point`; it must fail. */
static void fail_call(dal_repo *repo, const call_state *cs, int which, const char *point)
{
	int rc;

	dal__fault_arm(point);
	rc = one_call(repo, cs, which);
	dal__fault_arm(NULL);
	if (rc != DAL_ERROR)
		fail_msg("call %d with a failure at %s -> %d: %s", which, point, rc, dal_error_last()->message);
}

static void assert_untouched(fixture *fx, const call_state *cs, int64_t audit_before)
{
	assert_int_equal(rows_of(fx), 5);
	assert_int_equal(n_of(fx, cs->upd), 1);
	assert_false(deleted(fx, cs->soft));
	assert_int_equal(n_of(fx, cs->hard), 1);
	assert_true(deleted(fx, cs->gone));
	assert_int_equal(audit_rows(fx), audit_before);
	assert_verify_ok(fx);
}

/* A call that undid itself: the unit goes on, and its commit keeps the rest. */
static void expect_unit_goes_on(fixture *fx, dal_repo *repo, dal_uow *uow, const call_state *cs)
{
	dal_row *row = NULL;

	CHECK_OK(dal_repo_get(&row, repo, cs->keep));
	dal_row_free(row);
	CHECK_OK(dal_uow_commit(uow));
	(void)fx;
}

/* A call that could not undo itself: the unit refuses every later call, and its commit rolls back. */
static void expect_unit_doomed(dal_repo *repo, dal_uow *uow, const call_state *cs)
{
	dal_row *row = NULL;

	CHECK_ERR(DAL_ERROR, dal_repo_get(&row, repo, cs->keep));
	CHECK_MSG("can no longer commit");
	CHECK_ERR(DAL_ERROR, dal_uow_commit(uow));
	CHECK_MSG("nothing was committed");
}

/*
 * In a unit, each write call fails after its change was made (and, with
 * "session.before_settle", after its audit rows were held). A bulk call undoes
 * itself where the engine has savepoints and the unit goes on; a call of one
 * write statement, or any call on DuckDB, dooms the unit: nothing half-done
 * ever commits.
 */
static void check_failed_calls_in_unit(fixture *fx, const char *point)
{
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	dal_uow *uow = NULL;
	call_state cs;
	int64_t before;
	int which;

	seed_rows(repo, &cs);
	before = audit_rows(fx);
	for (which = 0; which < NCALLS; which++) {
		CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
		fail_call(repo, &cs, which, point);
		if (which >= CALL_BULK_CREATE && has_savepoints(fx))
			expect_unit_goes_on(fx, repo, uow, &cs);
		else
			expect_unit_doomed(repo, uow, &cs);
		assert_untouched(fx, &cs, before);
	}
	dal_repo_close(repo);
}

static void test_failed_call_in_unit(void **state)
{
	check_failed_calls_in_unit(FX(state), "repo.after_write");
}

static void test_failed_call_in_unit_after_audit(void **state)
{
	check_failed_calls_in_unit(FX(state), "session.before_settle");
}

/* Outside a unit, a call's own transaction is all-or-nothing too. A create outside
 * a unit is one statement in autocommit (on PostgreSQL an audited one carries its
 * audit row in the same statement), with no step after it that could fail. */
static void test_failed_call_alone_leaves_nothing(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	call_state cs;
	int64_t before;
	int which;

	seed_rows(repo, &cs);
	before = audit_rows(fx);
	for (which = 0; which < NCALLS; which++)
		if (which != CALL_CREATE || !fx_is(fx, "postgres"))
			fail_call(repo, &cs, which, "repo.after_write");
	assert_untouched(fx, &cs, before);
	dal_repo_close(repo);
}

/*
 * The unit's earlier audit rows, held past the limit and written to the chain by
 * a failing bulk call inside its savepoint, reach the chain at the commit all the
 * same; the failed call's own rows do not.
 */
static void test_failed_bulk_takes_only_its_audit_rows(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	dal_uow *uow = NULL;
	enum { HELD = 4000, MORE = 200 };
	dal_value *v = rows_for_bulk(HELD + MORE);
	int64_t *ids = calloc(HELD + MORE, sizeof(int64_t));
	int rc;

	assert_non_null(ids);
	if (!has_savepoints(fx)) {
		free(v);
		free(ids);
		dal_repo_close(repo);
		FX_SKIP("duckdb has no savepoints: a failed call dooms the unit (test_failed_call_in_unit)");
	}
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_repo_bulk_create(ids, repo, wr_names, 2, v, HELD));
	dal__fault_arm("session.before_settle");
	rc = dal_repo_bulk_create(ids + HELD, repo, wr_names, 2, v + HELD * 2, MORE);
	dal__fault_arm(NULL);
	assert_int_equal(rc, DAL_ERROR);
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(rows_of(fx), HELD);
	assert_int_equal(audit_rows(fx), HELD);
	assert_verify_ok(fx);
	free(v);
	free(ids);
	dal_repo_close(repo);
}

/* In a nested unit on DuckDB (an undo log), a failed bulk call is undone by its own log. */
static void test_failed_bulk_in_nested_unit_without_savepoints(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, DAL_AUDIT);
	dal_uow *uow = NULL, *inner = NULL;
	call_state cs;
	int64_t before;

	if (has_savepoints(fx)) {
		dal_repo_close(repo);
		FX_SKIP("savepoints undo a failed bulk call (test_failed_call_in_unit)");
	}
	seed_rows(repo, &cs);
	before = audit_rows(fx);
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	fail_call(repo, &cs, CALL_BULK_CREATE, "repo.after_write");
	fail_call(repo, &cs, CALL_BULK_UPDATE, "repo.after_write");
	CHECK_OK(dal_uow_commit(inner));
	CHECK_OK(dal_uow_commit(uow));
	assert_untouched(fx, &cs, before);
	dal_repo_close(repo);
}

/*
 * A call whose COMMIT fails (SQLite can return BUSY there and leave the
 * transaction open) rolls back before its connection goes back to the pool:
 * the next call on that connection begins afresh, and commits only its own row.
 */
static void test_failed_commit_rolls_back(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *repo = fx_open_repo(fx, &wr, 0), *one = NULL;
	dal_db *db = NULL;
	int64_t id;

	dal_repo_close(repo);
	cfg.pool_size = 1;
	cfg.max_overflow = 0;
	if (fx_is(fx, "sqlite-memory")) {
		db = fx->db;
	} else {
		CHECK_OK(fx_open_again(&db, fx, &cfg));
	}
	CHECK_OK(dal_repo_open(&one, db, &wr, DAL_AUDIT));
	id = add(one, "kept", 1);
	dal__fault_arm("session.commit");
	CHECK_ERR(DAL_EBUSY, dal_repo_update(NULL, one, id, (dal_field[]){ DAL_FIELD("n", dal_int(2)) }, 1));
	dal__fault_arm(NULL);
	CHECK_OK(dal_repo_update(NULL, one, id, (dal_field[]){ DAL_FIELD("n", dal_int(3)) }, 1));
	dal_repo_close(one);
	if (db != fx->db)
		dal_close(db);
	assert_int_equal(n_of(fx, id), 3);
	assert_int_equal(audit_rows(fx), 2);
	assert_verify_ok(fx);
}

/* ---- a repository of a unit does not outlive it ---- */

static void test_unit_repo_ends_with_unit(void **state)
{
	fixture *fx = FX(state);
	dal_repo *plain = fx_open_repo(fx, &wr, 0), *in = NULL;
	dal_uow *uow = NULL, *inner = NULL;
	dal_row *row = NULL;
	int64_t id;

	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_OK(dal_uow_repo(&in, uow, &wr, 0));
	id = add(in, "ann", 1);
	/* A nested unit inside its unit is still its unit. */
	CHECK_OK(dal_uow_begin(&inner, fx->db, NULL));
	add(in, "bob", 2);
	CHECK_OK(dal_uow_commit(inner));
	CHECK_OK(dal_uow_rollback(uow));
	CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, in, (dal_field[]){ DAL_FIELD("name", dal_text("cy")) }, 1));
	CHECK_MSG("wr_items");
	CHECK_ERR(DAL_EINVAL, dal_repo_get(&row, in, id));
	CHECK_ERR(DAL_EINVAL, dal_repo_delete(in, id, true));
	/* Nor is it another unit's. */
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, in, (dal_field[]){ DAL_FIELD("name", dal_text("cy")) }, 1));
	CHECK_OK(dal_uow_commit(uow));
	assert_int_equal(rows_of(fx), 0);
	dal_repo_close(in);
	dal_repo_close(plain);
}

/* A unit repository's cached rows are not served once its unit ended either. */
static void test_unit_repo_ends_with_unit_cached(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *plain = fx_open_repo(fx, &wr, 0), *cached = NULL, *in = NULL;
	dal_uow *uow = NULL;
	dal_row *row = NULL;
	dal_db *db = NULL;
	int64_t id;

	dal_repo_close(plain);
	cfg.cache_max_entries = 100;
	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: is private to its handle: a cached handle would see another database");
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	CHECK_OK(dal_repo_open(&cached, db, &wr, DAL_CACHE));
	id = add(cached, "ann", 1);
	CHECK_OK(dal_repo_get(&row, cached, id));
	dal_row_free(row);
	row = NULL;
	CHECK_OK(dal_uow_begin(&uow, db, NULL));
	CHECK_OK(dal_uow_repo(&in, uow, &wr, DAL_CACHE));
	CHECK_OK(dal_uow_commit(uow));
	CHECK_ERR(DAL_EINVAL, dal_repo_get(&row, in, id));
	CHECK_ERR(DAL_EINVAL, dal_repo_invalidate(in, id));
	CHECK_ERR(DAL_EINVAL, dal_repo_invalidate_all(in));
	dal_repo_close(in);
	dal_repo_close(cached);
	dal_close(db);
}

/* A unit that can no longer commit refuses the calls that would join it, at once. */
static void test_doomed_unit_refuses_calls(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, 0);
	dal_uow *uow = NULL;
	int64_t id = add(repo, "ann", 1);

	if (fx_is(fx, "sqlite-file") || fx_is(fx, "sqlite-memory")) {
		dal_repo_close(repo);
		FX_SKIP("sqlite: a failed statement leaves the unit's transaction usable, and a repository call undoes itself");
	}
	CHECK_OK(dal_uow_begin(&uow, fx->db, NULL));
	add(repo, "bob", 2);
	if (fx_is(fx, "postgres")) {
		/* A failed raw statement aborts the server's transaction. */
		CHECK_ERR(DAL_ESQL, dal_exec(NULL, fx->db, "SELECT no_such_column FROM wr_items", NULL, 0));
	} else {
		dal__fault_arm("repo.after_write");
		CHECK_ERR(DAL_ERROR, dal_repo_update(NULL, repo, id, (dal_field[]){ DAL_FIELD("n", dal_int(5)) }, 1));
	}
	CHECK_ERR(DAL_ERROR, dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("name", dal_text("cy")) }, 1));
	CHECK_MSG("cases_write.c");
	CHECK_ERR(DAL_ERROR, dal_uow_commit(uow));
	assert_int_equal(rows_of(fx), 1);
	assert_int_equal(n_of(fx, id), 1);
	dal_repo_close(repo);
}

/* A unit open past leak_threshold_ms was most likely never ended: calls that would
 * join it fail, naming where it began, and it can no longer commit. */
static void test_unit_open_too_long_refuses_calls(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_repo *repo = fx_open_repo(fx, &wr, 0);
	dal_uow *uow = NULL;
	dal_db *db = NULL;
	int64_t until;

	dal_repo_close(repo);
	if (fx_is(fx, "sqlite-memory"))
		FX_SKIP("sqlite :memory: is private to its handle");
	cfg.leak_threshold_ms = 50;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	CHECK_OK(dal_repo_open(&repo, db, &wr, 0));
	CHECK_OK(dal_uow_begin(&uow, db, NULL));
	add(repo, "ann", 1);
	/* Let the unit's age pass the threshold (time passing, not two things overlapping). */
	for (until = dal_now() + 60000; dal_now() < until;)
		;
	CHECK_ERR(DAL_EINVAL, dal_repo_create(NULL, repo, (dal_field[]){ DAL_FIELD("name", dal_text("bob")) }, 1));
	CHECK_MSG("cases_write.c");
	CHECK_MSG("leak_threshold_ms");
	CHECK_ERR(DAL_ERROR, dal_uow_commit(uow));
	dal_repo_close(repo);
	dal_close(db);
	assert_int_equal(rows_of(fx), 0);
}

/* dal_close() of a handle with a unit never ended: rolled back, and the caller can see so. */
static void test_close_with_open_unit_reports_it(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = fx_open_repo(fx, &wr, 0);
	dal_db *other = NULL;
	dal_uow *uow = NULL;

	if (fx_is(fx, "sqlite-memory")) {
		dal_repo_close(repo);
		FX_SKIP("sqlite :memory: is private to its handle: nothing is left to look at after dal_close");
	}
	dal_repo_close(repo);
	CHECK_OK(fx_open_again(&other, fx, NULL));
	CHECK_OK(dal_repo_open(&repo, other, &wr, 0));
	CHECK_OK(dal_uow_begin(&uow, other, NULL));
	add(repo, "lost", 1);
	dal_repo_close(repo);
	dal_error_clear();
	dal_close(other);
	assert_int_equal(dal_error_last()->code, DAL_EINVAL);
	CHECK_MSG("never");
	assert_int_equal(rows_of(fx), 0);
	CHECK_ERR(DAL_EINVAL, dal_uow_commit(uow));
}

FX_CASES(cases_write,
	FX_CASE(test_nested_read_keeps_outer_audit_rows),
	FX_CASE(test_nested_flush_keeps_outer_audit_rows),
	FX_CASE(test_nested_commit_after_read_writes_once),
	FX_CASE(test_failed_call_in_unit),
	FX_CASE(test_failed_call_in_unit_after_audit),
	FX_CASE(test_failed_call_alone_leaves_nothing),
	FX_CASE(test_failed_bulk_takes_only_its_audit_rows),
	FX_CASE(test_failed_bulk_in_nested_unit_without_savepoints),
	FX_CASE(test_failed_commit_rolls_back),
	FX_CASE(test_unit_repo_ends_with_unit),
	FX_CASE(test_unit_repo_ends_with_unit_cached),
	FX_CASE(test_doomed_unit_refuses_calls),
	FX_CASE(test_unit_open_too_long_refuses_calls),
	FX_CASE(test_close_with_open_unit_reports_it),
);
