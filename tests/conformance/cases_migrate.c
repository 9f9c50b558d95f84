/* Versioned migrations: apply, status, pending only, down, checksums, failures with
 * file and line, folders of files with engine variants, and bad sources. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conformance/fixture.h"
#include "util/fault.h"

static const dal_migration three[] = {
	{ 1, "create_person", "CREATE TABLE mg_person (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
	  "DROP TABLE mg_person", NULL, 0 },
	{ 2, "add_phone", "ALTER TABLE mg_person ADD COLUMN phone TEXT;\n"
	  "INSERT INTO mg_person (id, name, phone) VALUES (1, 'it''s; here', '?');",
	  "DROP TABLE mg_person;\nCREATE TABLE mg_person (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", NULL, 0 },
	{ 3, "create_city", "CREATE TABLE mg_city (id INTEGER PRIMARY KEY)", "DROP TABLE mg_city", NULL, 0 },
};

static dal_migrate_opts opts_of(const dal_migration *list, size_t n, bool run)
{
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;

	o.list = list;
	o.nlist = n;
	o.auto_run = run;
	o.applied_by = "conformance";
	return o;
}

static bool has_table(fixture *fx, const char *table)
{
	dal_result *res = NULL;
	char sql[128];
	int rc;

	snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
	rc = dal_query(&res, fx->db, sql, NULL, 0);
	dal_result_free(res);
	dal_error_clear();
	return rc == 0;
}

static int64_t recorded(fixture *fx)
{
	return fx_scalar(fx, "SELECT COUNT(*) FROM dal_schema_migrations", NULL, 0);
}

/* Pending with auto_run off, then applied in order, then nothing to do. */
static void test_migrate_apply_and_status(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 3, false);
	dal_migrate_report *r = NULL;
	size_t i;

	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->count, 3);
	assert_int_equal(r->pending, 3);
	assert_int_equal(r->applied_now, 0);
	assert_int_equal(r->current_version, 0);
	assert_false(has_table(fx, "mg_person"));
	dal_migrate_report_free(r);

	o.auto_run = true;
	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->applied_now, 3);
	assert_int_equal(r->pending, 0);
	assert_int_equal(r->current_version, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(r->items[i].state, DAL_MIGRATION_APPLIED);
		assert_true(r->items[i].applied_now);
		assert_string_equal(r->items[i].applied_by, "conformance");
		assert_int_equal(strlen(r->items[i].checksum), 64);
		assert_true(r->items[i].applied_at > 0);
	}
	dal_migrate_report_free(r);
	/* The literal with a ';' and a '?' went through as written. */
	{
		dal_result *res = NULL;

		CHECK_OK(dal_query(&res, fx->db, "SELECT name, phone FROM mg_person WHERE id = 1", NULL, 0));
		assert_string_equal(dal_result_get(res, 0, 0)->v.s, "it's; here");
		assert_string_equal(dal_result_get(res, 0, 1)->v.s, "?");
		dal_result_free(res);
	}
	assert_int_equal(recorded(fx), 3);

	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->applied_now, 0);
	assert_int_equal(r->pending, 0);
	dal_migrate_report_free(r);
	CHECK_OK(dal_migrate_status(&r, fx->db, &o));
	assert_int_equal(r->count, 3);
	assert_int_equal(r->items[2].state, DAL_MIGRATION_APPLIED);
	dal_migrate_report_free(r);
}

/* A later migration appears: only it runs. */
static void test_migrate_incremental(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 2, true);
	dal_migrate_report *r = NULL;

	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->applied_now, 2);
	dal_migrate_report_free(r);
	o.nlist = 3;
	CHECK_OK(dal_migrate_status(&r, fx->db, &o));
	assert_int_equal(r->pending, 1);
	assert_int_equal(r->items[2].state, DAL_MIGRATION_PENDING);
	dal_migrate_report_free(r);
	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->applied_now, 1);
	assert_false(r->items[0].applied_now);
	assert_true(r->items[2].applied_now);
	dal_migrate_report_free(r);
	assert_true(has_table(fx, "mg_city"));
}

/* The text of an applied migration changed: stop, naming it; status shows it. */
static void test_migrate_checksum_changed(void **state)
{
	fixture *fx = FX(state);
	dal_migration edited[3];
	dal_migrate_opts o = opts_of(three, 2, true);
	dal_migrate_report *r = NULL;

	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	memcpy(edited, three, sizeof edited);
	edited[1].up = "ALTER TABLE mg_person ADD COLUMN phone TEXT";
	o.list = edited;
	o.nlist = 3;
	CHECK_ERR(DAL_ESCHEMA, dal_migrate(&r, fx->db, &o));
	CHECK_MSG("add_phone");
	CHECK_MSG("version 2");
	assert_non_null(r);
	assert_int_equal(r->items[1].state, DAL_MIGRATION_CHANGED);
	dal_migrate_report_free(r);
	/* Nothing after it ran. */
	assert_false(has_table(fx, "mg_city"));
	CHECK_OK(dal_migrate_status(&r, fx->db, &o));
	assert_int_equal(r->items[1].state, DAL_MIGRATION_CHANGED);
	dal_migrate_report_free(r);
}

/* A failing statement: its migration rolled back, named with its line; nothing later runs. */
static void test_migrate_failure_rolled_back(void **state)
{
	fixture *fx = FX(state);
	static const dal_migration bad[] = {
		{ 1, "one", "CREATE TABLE mg_one (id INTEGER PRIMARY KEY)", NULL, NULL, 0 },
		{ 2, "two", "CREATE TABLE mg_two (id INTEGER PRIMARY KEY);\n\n-- then\nINSERT INTO mg_nowhere VALUES (1);",
		  NULL, NULL, 0 },
		{ 3, "three", "CREATE TABLE mg_three (id INTEGER PRIMARY KEY)", NULL, NULL, 0 },
	};
	dal_migrate_opts o = opts_of(bad, 3, true);
	dal_migrate_report *r = NULL;
	int rc = dal_migrate(&r, fx->db, &o);

	assert_true(rc < 0);
	CHECK_MSG("version 2");
	CHECK_MSG("line 4");
	CHECK_MSG("rolled back");
	assert_non_null(r);
	assert_int_equal(r->current_version, 1);
	assert_int_equal(r->pending, 2);
	dal_migrate_report_free(r);
	assert_true(has_table(fx, "mg_one"));
	assert_false(has_table(fx, "mg_two"));
	assert_false(has_table(fx, "mg_three"));
	assert_int_equal(recorded(fx), 1);
}

/* Down to a version, newest first; then up again. */
static void test_migrate_down_and_again(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 3, true);
	dal_migrate_report *r = NULL;

	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	CHECK_OK(dal_migrate_down(&r, fx->db, &o, 1));
	assert_int_equal(r->applied_now, 2);
	assert_int_equal(r->current_version, 1);
	assert_int_equal(r->pending, 2);
	dal_migrate_report_free(r);
	assert_false(has_table(fx, "mg_city"));
	assert_true(has_table(fx, "mg_person"));
	assert_int_equal(recorded(fx), 1);
	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->applied_now, 2);
	dal_migrate_report_free(r);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM mg_person", NULL, 0), 1);
	CHECK_OK(dal_migrate_down(NULL, fx->db, &o, 0));
	assert_false(has_table(fx, "mg_person"));
	assert_int_equal(recorded(fx), 0);
}

/* A migration without a down part stops dal_migrate_down before anything is undone. */
static void test_migrate_down_needs_down(void **state)
{
	fixture *fx = FX(state);
	dal_migration list[3];
	dal_migrate_opts o;

	/* The list is filled before opts_of() sees it: GCC's Debug build (-O0, the ASan
	 * preset) took the const pointer for a read of uninitialized memory and failed. */
	memcpy(list, three, sizeof list);
	o = opts_of(list, 3, true);
	list[1].down = NULL;
	o = opts_of(list, 3, true);
	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	CHECK_ERR(DAL_EINVAL, dal_migrate_down(NULL, fx->db, &o, 0));
	CHECK_MSG("add_phone");
	CHECK_MSG("no down part");
	assert_true(has_table(fx, "mg_city"));
	assert_int_equal(recorded(fx), 3);
	CHECK_ERR(DAL_EINVAL, dal_migrate_down(NULL, fx->db, &o, -1));
}

/* Applied, then gone from the source: reported as missing, not an error. */
static void test_migrate_missing_from_source(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 3, true);
	dal_migrate_report *r = NULL;

	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	o.nlist = 2;
	CHECK_OK(dal_migrate_status(&r, fx->db, &o));
	assert_int_equal(r->count, 3);
	assert_int_equal(r->items[2].state, DAL_MIGRATION_MISSING);
	assert_string_equal(r->items[2].name, "create_city");
	assert_string_equal(dal_migration_state_name(r->items[2].state), "missing");
	dal_migrate_report_free(r);
}

/* Versions with a gap, twice, bad names, no up SQL: refused before anything runs. */
static void test_migrate_bad_lists(void **state)
{
	fixture *fx = FX(state);
	static const dal_migration gap[] = {
		{ 1, "a", "CREATE TABLE mg_a (id INTEGER)", NULL, NULL, 0 },
		{ 3, "c", "CREATE TABLE mg_c (id INTEGER)", NULL, NULL, 0 },
	};
	static const dal_migration twice[] = {
		{ 1, "a", "CREATE TABLE mg_a (id INTEGER)", NULL, NULL, 0 },
		{ 1, "b", "CREATE TABLE mg_b (id INTEGER)", NULL, NULL, 0 },
	};
	static const dal_migration badname[] = { { 1, "a b", "SELECT 1", NULL, NULL, 0 } };
	static const dal_migration badengine[] = { { 1, "a", "SELECT 1", NULL, "mysql", 0 } };
	dal_migrate_opts o = opts_of(gap, 2, true);

	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG("version 2 is missing");
	o = opts_of(twice, 2, true);
	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG("two names");
	o = opts_of(badname, 1, true);
	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	o = opts_of(badengine, 1, true);
	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG("mysql");
	o = opts_of(NULL, 0, true);
	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	assert_false(has_table(fx, "mg_a"));
}

/* ---- folders ---- */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_dir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/dal-mig-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
	char cmd[600];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static const char *engine_of(fixture *fx)
{
	return fx_is(fx, "postgres") ? "postgresql" : fx_is(fx, "duckdb") ? "duckdb" : "sqlite";
}

/* Files for every engine, a variant for this one (chosen) and one for another (ignored). */
static void test_migrate_folder(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
	dal_migrate_report *r = NULL;
	char dir[64], name[128];

	make_dir(dir, sizeof dir);
	write_file(dir, "README.md", "not a migration");
	write_file(dir, "V1__create_shop.sql", "-- the first\nCREATE TABLE mg_shop (id INTEGER PRIMARY KEY, label TEXT);\n");
	write_file(dir, "V1__create_shop.down.sql", "DROP TABLE mg_shop;\n");
	write_file(dir, "V2__seed.sql", "INSERT INTO mg_shop (id, label) VALUES (1, 'generic');\n");
	snprintf(name, sizeof name, "V2__seed.%s.sql", engine_of(fx));
	write_file(dir, name, "INSERT INTO mg_shop (id, label) VALUES (1, 'own');\n");
	write_file(dir, fx_is(fx, "duckdb") ? "V2__seed.sqlite.sql" : "V2__seed.duckdb.sql",
		"INSERT INTO mg_shop (id, label) VALUES (1, 'other');\n");
	write_file(dir, "V2__seed.down.sql", "DELETE FROM mg_shop;\n");
	o.dir = dir;
	CHECK_OK(dal_migrate(&r, fx->db, &o));
	assert_int_equal(r->applied_now, 2);
	assert_string_equal(r->items[1].file, name);
	assert_string_equal(r->items[0].name, "create_shop");
	dal_migrate_report_free(r);
	{
		dal_result *res = NULL;

		CHECK_OK(dal_query(&res, fx->db, "SELECT label FROM mg_shop", NULL, 0));
		assert_string_equal(dal_result_get(res, 0, 0)->v.s, "own");
		dal_result_free(res);
	}
	/* The file changes after it was applied: named. */
	write_file(dir, name, "INSERT INTO mg_shop (id, label) VALUES (2, 'own');\n");
	CHECK_ERR(DAL_ESCHEMA, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG(name);
	/* The same text with CRLF line ends, as a Windows checkout has it, is no change. */
	write_file(dir, name, "INSERT INTO mg_shop (id, label) VALUES (1, 'own');\r\n");
	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	CHECK_OK(dal_migrate_down(NULL, fx->db, &o, 0));
	assert_false(has_table(fx, "mg_shop"));
	remove_dir(dir);
}

/* Each bad folder is refused naming the file, with nothing applied. */
static void bad_folder(fixture *fx, const char *file, const char *text, const char *named)
{
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
	char dir[64];

	make_dir(dir, sizeof dir);
	write_file(dir, "V1__ok.sql", "CREATE TABLE mg_ok (id INTEGER);\n");
	write_file(dir, file, text);
	o.dir = dir;
	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG(named);
	assert_false(has_table(fx, "mg_ok"));
	remove_dir(dir);
}

static void test_migrate_bad_folders(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;

	bad_folder(fx, "V3__gap.sql", "SELECT 1;", "version 2 is missing");
	bad_folder(fx, "V1__other.sql", "SELECT 1;", "two names");
	bad_folder(fx, "2__noprefix.sql", "SELECT 1;", "2__noprefix.sql");
	bad_folder(fx, "V2_one_underscore.sql", "SELECT 1;", "V2_one_underscore.sql");
	bad_folder(fx, "V2__x.mysql.sql", "SELECT 1;", "'mysql'");
	bad_folder(fx, "V2__bad name.sql", "SELECT 1;", "V2__bad name.sql");
	bad_folder(fx, "V2__dir.sql", "-- dal:no-transaction\n-- dal:sometimes\nSELECT 1;", "line 2");
	bad_folder(fx, "V5__lonely.down.sql", "SELECT 1;", "V5__lonely.down.sql");
	bad_folder(fx, "V1__ok.down.postgresql.sql", "SELECT 1;", "'down' comes last");
	o.dir = "/nonexistent/dal-migrations";
	CHECK_ERR(DAL_ENOTFOUND, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG("/nonexistent/dal-migrations");
}

/* -- dal:no-transaction: CREATE INDEX CONCURRENTLY cannot run in a transaction. */
static void test_migrate_no_transaction(void **state)
{
	fixture *fx = FX(state);
	static const dal_migration pg[] = {
		{ 1, "t", "CREATE TABLE mg_nt (id INTEGER PRIMARY KEY, v TEXT)", NULL, NULL, 0 },
		{ 2, "ix", "-- dal:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS mg_nt_v ON mg_nt (v)", NULL,
		  "postgresql", 0 },
	};
	dal_migrate_opts o = opts_of(pg, 2, true);
	dal_migrate_report *r = NULL;

	CHECK_OK(dal_migrate(&r, fx->db, &o));
	/* Elsewhere version 2 has nothing to do and is recorded as such. */
	assert_int_equal(r->applied_now, 2);
	assert_string_equal(r->items[1].name, "ix");
	dal_migrate_report_free(r);
	if (fx_is(fx, "postgres"))
		assert_true(fx_index_exists(fx, "mg_nt_v"));
	assert_int_equal(recorded(fx), 2);
}

/* Inside a unit of work: refused (a migration commits on a connection of its own). */
static void test_migrate_not_in_unit(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 3, true);
	dal_uow *u = NULL;

	CHECK_OK(dal_uow_begin(&u, fx->db, NULL));
	CHECK_ERR(DAL_EINVAL, dal_migrate(NULL, fx->db, &o));
	CHECK_MSG("unit of work");
	CHECK_OK(dal_uow_rollback(u));
	CHECK_OK(dal_migrate(NULL, fx->db, &o));
}

/* Schema kept in migrations: pending ones are drift without DAL_AUTO_MIGRATE, applied with it. */
static void test_migrate_init_database(void **state)
{
	fixture *fx = FX(state);
	static const dal_column cols[] = {
		DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0), DAL_COL("phone", DAL_TYPE_TEXT, 0, 0),
	};
	static const dal_model person = DAL_MODEL("mg_person", cols);
	const dal_model *ms[] = { &person };
	dal_migrate_opts o = opts_of(three, 3, false);

	CHECK_ERR(DAL_ESCHEMA, dal_init_database_migrate(fx->db, &o, ms, 1, 0));
	CHECK_MSG("3 migrations are pending");
	CHECK_MSG("create_person");
	assert_false(has_table(fx, "mg_person"));
	CHECK_OK(dal_init_database_migrate(fx->db, &o, ms, 1, DAL_AUTO_MIGRATE));
	assert_int_equal(recorded(fx), 3);
	CHECK_OK(dal_init_database_migrate(fx->db, &o, ms, 1, 0));
	/* A model ahead of its migrations is named, not patched: the migration that catches
	 * up would then fail on a column already there. */
	{
		static const dal_column ahead_cols[] = {
			DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0), DAL_COL("phone", DAL_TYPE_TEXT, 0, 0),
			DAL_COL("email", DAL_TYPE_TEXT, 0, 0),
		};
		static const dal_model ahead = DAL_MODEL("mg_person", ahead_cols);
		const dal_model *as[] = { &ahead };

		CHECK_ERR(DAL_ESCHEMA, dal_init_database_migrate(fx->db, &o, as, 1, DAL_AUTO_MIGRATE));
		CHECK_MSG("no column 'email'");
		CHECK_ERR(DAL_ESCHEMA, dal_init_database(fx->db, as, 1, 0));
	}
}

/* A migration is not cut by dal_config's statement bound (an index build may take long),
 * only by its own; the connection goes back to the pool with the configured one. */
static void test_migrate_statement_bound(void **state)
{
	fixture *fx = FX(state);
	static const dal_migration slow[] = { { 1, "slow", "SELECT pg_sleep(0.6)", NULL, NULL, 0 } };
	dal_config cfg = DAL_CONFIG_INIT;
	dal_migrate_opts o = opts_of(slow, 1, true);
	dal_result *res = NULL;
	dal_db *db = NULL;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("statement bounds are PostgreSQL's");
	cfg.statement_timeout_ms = 300;
	cfg.pool_size = 1;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	o.statement_timeout_ms = 200;
	CHECK_ERR(DAL_ETIMEOUT, dal_migrate(NULL, db, &o));
	CHECK_MSG("slow");
	o.statement_timeout_ms = 0;
	CHECK_OK(dal_migrate(NULL, db, &o));
	CHECK_ERR(DAL_ETIMEOUT, dal_query(&res, db, "SELECT pg_sleep(0.6)", NULL, 0));
	dal_result_free(res);
	dal_close(db);
}

/* The wait for another process's migrations is bounded by the migration's own bound. */
static void test_migrate_waits_for_other_process(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 1, true);
	dal_uow *u = NULL;
	dal_result *res = NULL;
	int64_t t0;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("the migration lock across processes is PostgreSQL's advisory lock");
	/* Another session holds dal's migration lock, as a migrating process would. */
	CHECK_OK(dal_uow_begin(&u, fx->db, NULL));
	CHECK_OK(dal_query(&res, fx->db, "SELECT pg_advisory_xact_lock(7233181633647044466)", NULL, 0));
	dal_result_free(res);
	o.statement_timeout_ms = 300;
	t0 = dal_now();
	{
		dal_db *other = NULL;

		CHECK_OK(fx_open_again(&other, fx, NULL));
		CHECK_ERR(DAL_ETIMEOUT, dal_migrate(NULL, other, &o));
		dal_close(other);
	}
	assert_true(dal_now() - t0 < 5000000);
	CHECK_OK(dal_uow_rollback(u));
	CHECK_OK(dal_migrate(NULL, fx->db, &o));
}

/* A down part with -- dal:no-transaction runs outside one (DROP INDEX CONCURRENTLY). */
static void test_migrate_down_no_transaction(void **state)
{
	fixture *fx = FX(state);
	static const dal_migration list[] = {
		{ 1, "t", "CREATE TABLE mg_dn (id INTEGER PRIMARY KEY, v TEXT)", "DROP TABLE mg_dn", NULL, 0 },
		{ 2, "ix", "-- dal:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS mg_dn_v ON mg_dn (v)",
		  "-- dal:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS mg_dn_v", "postgresql", 0 },
	};
	dal_migrate_opts o = opts_of(list, 2, true);

	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	if (fx_is(fx, "postgres"))
		assert_true(fx_index_exists(fx, "mg_dn_v"));
	CHECK_OK(dal_migrate_down(NULL, fx->db, &o, 1));
	if (fx_is(fx, "postgres"))
		assert_false(fx_index_exists(fx, "mg_dn_v"));
	assert_int_equal(recorded(fx), 1);
}

/* A process whose read of the record is stale (another applied everything meanwhile)
 * applies nothing twice: each migration's transaction reads the record again. */
static void test_migrate_stale_read(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(three, 3, true);
	dal_migrate_report *r = NULL;

	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	dal__fault_arm("migrate.stale_read");
	CHECK_OK(dal_migrate(&r, fx->db, &o));
	dal__fault_arm(NULL);
	assert_int_equal(r->applied_now, 0);
	dal_migrate_report_free(r);
	assert_int_equal(recorded(fx), 3);
	assert_int_equal(fx_scalar(fx, "SELECT COUNT(*) FROM mg_person", NULL, 0), 1);
}

/* ---- PostgreSQL: a migration waiting for a lock must not stall readers for long ---- */

typedef struct lock_race {
	dal_db *db;
	atomic_bool done;
	int64_t worst_us;
	long reads;
	int read_rc;
	int migrate_rc;
	int64_t took_us;
	char message[512];
} lock_race;

static void *reader(void *p)
{
	lock_race *lr = p;

	while (!atomic_load(&lr->done) && lr->read_rc == 0) {
		dal_result *res = NULL;
		int64_t t0 = dal_now(), dt;

		lr->read_rc = dal_query(&res, lr->db, "SELECT COUNT(*) FROM mg_lock", NULL, 0);
		dal_result_free(res);
		dt = dal_now() - t0;
		lr->worst_us = dt > lr->worst_us ? dt : lr->worst_us;
		lr->reads++;
	}
	return NULL;
}

static const dal_migration lock_list[] = {
	{ 1, "t", "CREATE TABLE mg_lock (id INTEGER PRIMARY KEY)", NULL, NULL, 0 },
	{ 2, "add_col", "ALTER TABLE mg_lock ADD COLUMN note TEXT", NULL, NULL, 0 },
};

static void *migrator(void *p)
{
	lock_race *lr = p;
	dal_migrate_opts o = opts_of(lock_list, 2, true);
	int64_t t0 = dal_now();

	o.lock_timeout_ms = 300;
	o.lock_retries = 2;
	lr->migrate_rc = dal_migrate(NULL, lr->db, &o);
	snprintf(lr->message, sizeof lr->message, "%s", dal_error_last()->message);
	lr->took_us = dal_now() - t0;
	atomic_store(&lr->done, true);
	return NULL;
}

static void test_migrate_lock_timeout(void **state)
{
	fixture *fx = FX(state);
	dal_migrate_opts o = opts_of(lock_list, 1, true);
	lock_race lr;
	pthread_t tr, tm;
	dal_uow *u = NULL;
	dal_result *res = NULL;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("lock_timeout is PostgreSQL's; SQLite and DuckDB take one writer at a time");
	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	memset(&lr, 0, sizeof lr);
	lr.db = fx->db;
	/* A long transaction holds ACCESS SHARE on the table until it ends. */
	CHECK_OK(dal_uow_begin(&u, fx->db, NULL));
	CHECK_OK(dal_query(&res, fx->db, "SELECT COUNT(*) FROM mg_lock", NULL, 0));
	dal_result_free(res);
	assert_int_equal(pthread_create(&tr, NULL, reader, &lr), 0);
	assert_int_equal(pthread_create(&tm, NULL, migrator, &lr), 0);
	pthread_join(tm, NULL);
	pthread_join(tr, NULL);
	CHECK_OK(dal_uow_rollback(u));
	print_message("migration blocked by a lock: gave up after %.0f ms; %ld reads meanwhile, the slowest %.0f ms "
		"(lock_timeout 300 ms)\n", lr.took_us / 1e3, lr.reads, lr.worst_us / 1e3);
	assert_int_equal(lr.migrate_rc, DAL_EBUSY);
	assert_non_null(strstr(lr.message, "add_col"));
	assert_non_null(strstr(lr.message, "gave up after 3 attempts"));
	assert_int_equal(lr.read_rc, 0);
	/* Three attempts of at least 300 ms each. */
	assert_true(lr.took_us >= 900000);
	assert_true(lr.worst_us < 300000 + 1000000);
	/* The transaction ended: now it applies. */
	o.nlist = 2;
	CHECK_OK(dal_migrate(NULL, fx->db, &o));
	assert_int_equal(recorded(fx), 2);
}

/* A migration that cannot get the write lock on a new database (no dal_schema_migrations
 * yet) says why: re-reading the report after the failure must not wipe the error. */
static void test_migrate_busy_keeps_message(void **state)
{
	fixture *fx = FX(state);
	static const dal_migration one[] = { { 1, "t", "CREATE TABLE mg_busy (id INTEGER)", NULL, NULL, 0 } };
	dal_migrate_opts o = opts_of(one, 1, true);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *other = NULL;
	dal_uow *u = NULL;

	if (!fx_is(fx, "sqlite-file"))
		FX_SKIP("two dal_db writing one database file at once: SQLite file");
	cfg.busy_timeout_ms = 50;
	CHECK_OK(fx_open_again(&other, fx, &cfg));
	CHECK_OK(dal_uow_begin(&u, fx->db, NULL));
	CHECK_OK(dal_exec(NULL, fx->db, "CREATE TABLE mg_holder (id INTEGER)", NULL, 0));
	CHECK_ERR(DAL_EBUSY, dal_migrate(NULL, other, &o));
	CHECK_MSG("locked");
	CHECK_OK(dal_uow_rollback(u));
	dal_close(other);
}

FX_CASES(cases_migrate,
	FX_CASE(test_migrate_apply_and_status),
	FX_CASE(test_migrate_incremental),
	FX_CASE(test_migrate_checksum_changed),
	FX_CASE(test_migrate_failure_rolled_back),
	FX_CASE(test_migrate_down_and_again),
	FX_CASE(test_migrate_down_needs_down),
	FX_CASE(test_migrate_missing_from_source),
	FX_CASE(test_migrate_bad_lists),
	FX_CASE(test_migrate_folder),
	FX_CASE(test_migrate_bad_folders),
	FX_CASE(test_migrate_no_transaction),
	FX_CASE(test_migrate_not_in_unit),
	FX_CASE(test_migrate_init_database),
	FX_CASE(test_migrate_statement_bound),
	FX_CASE(test_migrate_stale_read),
	FX_CASE(test_migrate_waits_for_other_process),
	FX_CASE(test_migrate_down_no_transaction),
	FX_CASE(test_migrate_lock_timeout),
	FX_CASE(test_migrate_busy_keeps_message));
