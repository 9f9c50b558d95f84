/*
 * Ids running out: one code (DAL_ECONSTRAINT) and one message naming the table on
 * every engine, never mistaken for a full disk and never retried. A full database
 * file (SQLite's page limit) stays DAL_EIO. Disk full on a real file system:
 * tests/stress/disk_full.c.
 */
#include "conformance/fixture.h"

#include <stdlib.h>

static const dal_column ids_cols[] = {
	DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 20), DAL_COL_CREATED_AT(),
};
static const dal_model ids_left = DAL_MODEL("ids_left", ids_cols);

#define NO_IDS_LEFT "no ids left in table \"ids_left\""

/*
 * The table's id counter set so that one more id can be drawn, the last: INT64_MAX
 * (DuckDB 1.4.4 refuses to draw its sequence's MAXVALUE itself: INT64_MAX - 1 there).
 * Each engine keeps the counter its own way: SQLite's sqlite_sequence, PostgreSQL's
 * identity sequence, DuckDB's sequence "<table>_id_seq" (no setval there: made before
 * dal makes the table, which keeps a sequence that exists).
 */
static dal_repo *open_near_max(fixture *fx, unsigned flags)
{
	dal_repo *repo;

	if (fx_is(fx, "duckdb"))
		fx_exec(fx, "CREATE SEQUENCE \"ids_left_id_seq\" START 9223372036854775806");
	repo = fx_open_repo(fx, &ids_left, flags);
	if (fx_is(fx, "postgres"))
		assert_int_equal(fx_scalar(fx, "SELECT setval(pg_get_serial_sequence('ids_left', 'id'), "
			"9223372036854775806)", NULL, 0), INT64_MAX - 1);
	else if (!fx_is(fx, "duckdb"))
		fx_exec(fx, "INSERT INTO sqlite_sequence (name, seq) VALUES ('ids_left', 9223372036854775806)");
	return repo;
}

static int64_t last_id(const fixture *fx)
{
	return fx_is(fx, "duckdb") ? INT64_MAX - 1 : INT64_MAX;
}

static int create_named(dal_repo *repo, const char *name)
{
	dal_field f[] = { DAL_FIELD("name", dal_text(name)) };
	dal_row *row = NULL;
	int rc = dal_repo_create(&row, repo, f, DAL_COUNT(f));

	dal_row_free(row);
	return rc;
}

/* The failure every engine must give when the ids have run out. */
static void check_no_ids(int rc)
{
	print_message("ids used up: rc %d (%s): %s\n", rc, dal_strerror(rc), dal_error_last()->message);
	CHECK_ERR(DAL_ECONSTRAINT, rc);
	assert_int_equal(dal_error_last()->code, DAL_ECONSTRAINT);
	CHECK_MSG(NO_IDS_LEFT);
}

static void check_last_id_used_then_refused(fixture *fx, unsigned flags)
{
	dal_repo *repo = open_near_max(fx, flags);
	dal_value v[] = { dal_text("b1"), dal_text("b2") };
	static const char *const name_col[] = { "name" };

	assert_int_equal(fx_create(repo, (dal_field[]){ DAL_FIELD("name", dal_text("last")) }, 1), last_id(fx));
	check_no_ids(create_named(repo, "one too many"));
	check_no_ids(dal_repo_bulk_create(NULL, repo, name_col, 1, v, 2));
	/* Raw SQL as a person writes it (SQLite finds the table in the statement's text). */
	{
		dal_value raw[] = { dal_text("raw"), dal_timestamp(0) };
		check_no_ids(dal_exec(NULL, fx->db, "insert into ids_left (name, created_at) values (?, ?)", raw, 2));
	}
	/* Nothing half-written, and the database still answers. */
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM ids_left", NULL, 0), 1);
	/* An id the caller gives, below the counter: taken, except on DuckDB, where dal draws
	 * from the sequence to see where it stands (docs/engines.md, "Ids the caller gives"). */
	{
		dal_field f[] = { DAL_FIELD("id", dal_int(5)), DAL_FIELD("name", dal_text("given")) };
		dal_row *row = NULL;
		int rc = dal_repo_create(&row, repo, f, DAL_COUNT(f));

		dal_row_free(row);
		if (fx_is(fx, "duckdb"))
			check_no_ids(rc);
		else
			CHECK_OK(rc);
	}
	dal_repo_close(repo);
}

/* The last id is given out; the next create, single or bulk, is refused with DAL_ECONSTRAINT naming the table. */
static void test_ids_used_up_create(void **state)
{
	check_last_id_used_then_refused(FX(state), 0);
}

/* The same with the audit trail on (PostgreSQL writes row and audit row in one statement); the chain stays intact. */
static void test_ids_used_up_audited(void **state)
{
	fixture *fx = FX(state);
	dal_audit_report report;

	check_last_id_used_then_refused(fx, DAL_AUDIT);
	CHECK_OK(dal_audit_verify(&report, fx->db));
	if (!report.ok)
		fail_msg("audit chain broken at %lld: %s", (long long)report.bad_id, report.reason);
	/* The last id's row, and the row given id 5 where that was taken. */
	assert_int_equal(report.rows_checked, fx_is(fx, "duckdb") ? 1 : 2);
}

typedef struct tx_try {
	const dal_model *model;
	int calls;
} tx_try;

static int create_in_unit(dal_uow *uow, void *payload)
{
	tx_try *t = payload;
	dal_repo *repo = NULL;
	int rc;

	t->calls++;
	if ((rc = dal_uow_repo(&repo, uow, t->model, 0)) < 0)
		return rc;
	rc = create_named(repo, "in a unit");
	dal_repo_close(repo);
	return rc;
}

/* dal_run_tx gives the refusal back at once: no id will come free by trying again. */
static void test_ids_used_up_not_retried(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo = open_near_max(fx, 0);
	dal_metrics *m = calloc(1, sizeof(*m));
	tx_try t = { &ids_left, 0 };

	assert_non_null(m);
	assert_int_equal(fx_create(repo, (dal_field[]){ DAL_FIELD("name", dal_text("last")) }, 1), last_id(fx));
	CHECK_OK(dal_metrics_reset(fx->db));
	check_no_ids(dal_run_tx(fx->db, NULL, create_in_unit, &t));
	m->version = DAL_METRICS_VERSION;
	CHECK_OK(dal_metrics_get(m, fx->db));
	assert_int_equal(t.calls, 1);
	assert_int_equal(m->retries, 0);
	free(m);
	dal_repo_close(repo);
}

/*
 * A database file that cannot grow is a full disk, not ids running out: DAL_EIO,
 * not retried. SQLite's page limit makes it without a full file system; the other
 * engines have no such limit (tests/stress/disk_full.c fills a real one).
 */
static void test_full_database_is_eio(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	dal_repo *repo;
	tx_try t = { &ids_left, 0 };
	char name[21];
	int i, rc = 0;

	if (!fx_is(fx, "sqlite-file") && !fx_is(fx, "sqlite-memory"))
		FX_SKIP("only SQLite has a page limit to fill (PRAGMA max_page_count); tests/stress/disk_full.c "
			"fills a file system on SQLite and DuckDB");
	repo = fx_open_repo(fx, &ids_left, 0);
	dal_repo_close(repo);
	/* One connection, so the page limit (a per-connection setting) holds for every call;
	 * :memory: has one already (another dal_db would be another database). */
	cfg.pool_size = 1;
	cfg.max_overflow = 0;
	if (fx_is(fx, "sqlite-memory"))
		db = fx->db;
	else
		CHECK_OK(fx_open_again(&db, fx, &cfg));
	CHECK_OK(dal_exec(NULL, db, "PRAGMA max_page_count = 8", NULL, 0));
	CHECK_OK(dal_repo_open(&repo, db, &ids_left, 0));
	for (i = 0; i < 100000 && rc == 0; i++) {
		snprintf(name, sizeof(name), "row %d", i);
		rc = create_named(repo, name);
	}
	print_message("full database after %d creates: rc %d (%s): %s\n", i - 1, rc, dal_strerror(rc),
		dal_error_last()->message);
	CHECK_ERR(DAL_EIO, rc);
	CHECK_MSG("full");
	CHECK_ERR(DAL_EIO, dal_run_tx(db, NULL, create_in_unit, &t));
	assert_int_equal(t.calls, 1);
	dal_repo_close(repo);
	if (db != fx->db)
		dal_close(db);
}

FX_CASES(cases_diskfull,
	FX_CASE(test_ids_used_up_create),
	FX_CASE(test_ids_used_up_audited),
	FX_CASE(test_ids_used_up_not_retried),
	FX_CASE(test_full_database_is_eio),
);
