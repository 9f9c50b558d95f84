/*
 * Migrations and schema calls in the out-of-memory sweep (see oom_sweep.c).
 *
 * Three migrations in C make tables of their own (oom_mig_a, oom_mig_b). The
 * database's migration state is read back as k: versions 1..k recorded in
 * dal_schema_migrations, and each one's effect present whole, nothing of a later
 * one. After an error k may be any value the rules allow (a migration is whole
 * with its row or not there at all), and the same call made again, uninjected,
 * must then reach the full effect: that is "the next call works".
 */
#include "stress/oom_sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dal/migrate.h>
#include <dal/schema.h>

static const dal_migration migs[] = {
	{ 1, "create_a", "CREATE TABLE oom_mig_a (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL)",
	  "DROP TABLE oom_mig_a", NULL, 0 },
	{ 2, "fill_a", "INSERT INTO oom_mig_a (id, name) VALUES (1, 'one');\n"
	  "INSERT INTO oom_mig_a (id, name) VALUES (2, 'two');\nCREATE INDEX oom_mig_a_name ON oom_mig_a (name)",
	  "DROP INDEX oom_mig_a_name;\nDELETE FROM oom_mig_a", NULL, 0 },
	{ 3, "create_b", "CREATE TABLE oom_mig_b (id BIGINT PRIMARY KEY, a_id BIGINT NOT NULL);\n"
	  "INSERT INTO oom_mig_b (id, a_id) VALUES (1, 2)", "DROP TABLE oom_mig_b", NULL, 0 },
};
#define NMIGS 3

/* The model of the table the migrations make: dal_init_database_migrate checks it. */
static const dal_column mig_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
};
static const dal_model mig_model = DAL_MODEL("oom_mig_a", mig_cols);

/* oom_shape is made by raw SQL: score of another type, note missing, extra not declared. */
static const dal_column shape_cols[] = {
	DAL_COL_ID(),
	DAL_COL("label", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("score", DAL_TYPE_INT, 0, 0),
	DAL_COL("note", DAL_TYPE_TEXT, 0, 0),
};
static const dal_model shape_model = DAL_MODEL("oom_shape", shape_cols);

/* oom_shape2 lacks only note, which may be NULL: DAL_AUTO_MIGRATE adds it. */
static const dal_column shape2_cols[] = {
	DAL_COL_ID(),
	DAL_COL("label", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("note", DAL_TYPE_TEXT, 0, 0),
};
static const dal_model shape2_model = DAL_MODEL("oom_shape2", shape2_cols);

static int last_rc;
static dal_migrate_report *report;
static dal_schema_report *diff, *diff_want;
static dal_lint_report *lint, *lint_want;

/* ---- uninjected reading ---- */

static bool sqlite_engine(const sweep *s) { return strncmp(s->engine, "sqlite", 6) == 0; }

/* One integer from a query; -1 if it failed. */
static int64_t scalar(sweep *s, const char *sql, const char *arg)
{
	dal_result *res = NULL;
	dal_value p = dal_text(arg ? arg : "");
	const dal_value *v;
	int64_t out = -1;

	if (dal_query(&res, s->db, sql, &p, arg ? 1 : 0) == 0 && (v = dal_result_get(res, 0, 0)) != NULL)
		out = v->type == DAL_TYPE_INT ? v->v.i : -1;
	dal_result_free(res);
	return out;
}

static bool table_exists(sweep *s, const char *table)
{
	return scalar(s, sqlite_engine(s) ? "SELECT CAST(COUNT(*) AS BIGINT) FROM sqlite_master WHERE type = 'table' "
		"AND name = ?" : "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.tables WHERE table_name = ?",
		table) > 0;
}

static bool column_exists(sweep *s, const char *table, const char *column)
{
	char sql[256];

	if (sqlite_engine(s))
		snprintf(sql, sizeof sql, "SELECT CAST(COUNT(*) AS BIGINT) FROM pragma_table_info('%s') WHERE name = ?",
			table);
	else
		snprintf(sql, sizeof sql, "SELECT CAST(COUNT(*) AS BIGINT) FROM information_schema.columns "
			"WHERE table_name = '%s' AND column_name = ?", table);
	return scalar(s, sql, column) > 0;
}

/* k: versions 1..k applied, each whole and nothing of a later one; -1 if not so. */
static int mig_state(sweep *s)
{
	int64_t versions = 0, top = 0, a_rows = -1, b_rows = -1;
	int k;

	if (table_exists(s, "dal_schema_migrations")) {
		versions = scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM dal_schema_migrations", NULL);
		top = scalar(s, "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM dal_schema_migrations", NULL);
	}
	if (table_exists(s, "oom_mig_a"))
		a_rows = scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM oom_mig_a", NULL);
	if (table_exists(s, "oom_mig_b"))
		b_rows = scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM oom_mig_b", NULL);
	k = (int)versions;
	if (versions < 0 || top != versions ||
	    !(k == 0 ? a_rows == -1 && b_rows == -1 : k == 1 ? a_rows == 0 && b_rows == -1 :
	      k == 2 ? a_rows == 2 && b_rows == -1 : k == 3 && a_rows == 2 && b_rows == 1)) {
		fprintf(stderr, "    migration state: %lld recorded (top %lld), oom_mig_a rows %lld, oom_mig_b rows %lld\n",
			(long long)versions, (long long)top, (long long)a_rows, (long long)b_rows);
		return -1;
	}
	return k;
}

/* After an error the sweep's other tables are as before too (an SQLite :memory: database kept). */
static bool others_kept(sweep *s)
{
	int rc = oom_compare(s, false);

	if (rc < 0)
		fprintf(stderr, "    the sweep's tables cannot be read: %s\n", dal_error_last()->message);
	return rc == 0;
}

static dal_migrate_opts opts_of(size_t n)
{
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;

	o.list = migs;
	o.nlist = n;
	o.applied_by = "oom-mig";
	o.lock_timeout_ms = 0;
	return o;
}

static int raw(sweep *s, const char *sql)
{
	int rc = dal_exec(NULL, s->db, sql, NULL, 0);

	if (rc != 0)
		fprintf(stderr, "    %s: %s\n", sql, dal_error_last()->message);
	return rc;
}

/* No migration applied, no table of theirs. */
static int mig_reset(sweep *s)
{
	return raw(s, "DROP TABLE IF EXISTS oom_mig_b") || raw(s, "DROP TABLE IF EXISTS oom_mig_a") ||
	       raw(s, "DROP TABLE IF EXISTS dal_schema_migrations") ? -1 : 0;
}

/* Versions 1..k applied, uninjected. */
static int mig_to(sweep *s, size_t k)
{
	dal_migrate_opts o = opts_of(k);

	if (mig_reset(s) != 0)
		return -1;
	if (k > 0 && dal_migrate(NULL, s->db, &o) != 0) {
		fprintf(stderr, "    uninjected dal_migrate: %s\n", dal_error_last()->message);
		return -1;
	}
	return mig_state(s) == (int)k ? 0 : -1;
}

static int prep_none(sweep *s) { return mig_to(s, 0); }
static int prep_two(sweep *s) { return mig_to(s, 2); }
static int prep_three(sweep *s) { return mig_to(s, 3); }

/* The report's contents: versions 1..3 with @p applied of them applied, @p now touched by the call. */
static int report_is(const dal_migrate_report *r, size_t applied, size_t now, size_t now_from)
{
	size_t i;

	if (!r || r->count != NMIGS || r->pending != NMIGS - applied || r->applied_now != now ||
	    r->current_version != (long long)applied) {
		fprintf(stderr, "    report: count=%zu pending=%zu applied_now=%zu current=%lld\n", r ? r->count : 0,
			r ? r->pending : 0, r ? r->applied_now : 0, r ? r->current_version : -1);
		return -1;
	}
	for (i = 0; i < NMIGS; i++) {
		const dal_migration_status *it = &r->items[i];
		bool is_applied = i < applied, touched = i >= now_from && i < now_from + now;

		if (it->version != (long long)i + 1 || strcmp(it->name, migs[i].name) != 0 ||
		    it->state != (is_applied ? DAL_MIGRATION_APPLIED : DAL_MIGRATION_PENDING) ||
		    it->applied_now != touched || strlen(it->checksum) != 64 || strcmp(it->file, "") != 0 ||
		    strcmp(it->applied_by, is_applied ? "oom-mig" : "") != 0 || (is_applied && it->applied_at <= 0)) {
			fprintf(stderr, "    report item %zu: version %lld %s state %s applied_now %d by '%s'\n", i,
				it->version, it->name, dal_migration_state_name(it->state), it->applied_now, it->applied_by);
			return -1;
		}
	}
	return 0;
}

/* A report handed out with an error says where things stand after the call: k applied. */
static bool stands(sweep *s, int k)
{
	(void)s;
	if (k < 0 || !report)
		return k >= 0;
	if (report->count == NMIGS && report->current_version == k && report->pending == (size_t)(NMIGS - k))
		return true;
	fprintf(stderr, "    report with the error: current=%lld pending=%zu, the database has %d applied\n",
		report->current_version, report->pending, k);
	return false;
}

static void free_report(sweep *s)
{
	(void)s;
	dal_migrate_report_free(report);
	report = NULL;
}

/* ---- dal_migrate ---- */

static int call_migrate(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);

	(void)s;
	return last_rc = dal_migrate(&report, s->db, &o);
}

/* After an error: a whole prefix, and the call made again completes it. */
static int recover_migrate(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);
	int rc = dal_migrate(NULL, s->db, &o);

	if (rc != 0) {
		fprintf(stderr, "    dal_migrate again: %d %s\n", rc, dal_error_last()->message);
		return -1;
	}
	return mig_state(s) == NMIGS ? 0 : -1;
}

static int check_migrate(sweep *s)
{
	if (last_rc == 0)
		return mig_state(s) == NMIGS && report_is(report, NMIGS, NMIGS, 0) == 0 ? 0 : -1;
	return stands(s, mig_state(s)) && others_kept(s) ? recover_migrate(s) : -1;
}

/* ---- dal_migrate_status: changes nothing ---- */

static int call_status(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);

	return last_rc = dal_migrate_status(&report, s->db, &o);
}

static int check_status(sweep *s)
{
	if (!stands(s, mig_state(s)) || mig_state(s) != 2 || (last_rc != 0 && !others_kept(s)))
		return -1;
	return last_rc != 0 || report_is(report, 2, 0, 0) == 0 ? 0 : -1;
}

/* ---- dal_migrate_down to version 1 ---- */

static int call_down(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);

	return last_rc = dal_migrate_down(&report, s->db, &o, 1);
}

static int check_down(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);
	int k = mig_state(s);

	if (last_rc == 0)
		return k == 1 && report_is(report, 1, 2, 1) == 0 ? 0 : -1;
	if (k < 1 || !stands(s, k) || !others_kept(s))
		return -1;
	if (dal_migrate_down(NULL, s->db, &o, 1) != 0) {
		fprintf(stderr, "    dal_migrate_down again: %s\n", dal_error_last()->message);
		return -1;
	}
	return mig_state(s) == 1 ? 0 : -1;
}

/* ---- dal_init_database_migrate: the migrations, then their table checked against its model ---- */

static const dal_model *const mig_models[] = { &mig_model };

static int call_init_migrate(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);

	return last_rc = dal_init_database_migrate(s->db, &o, mig_models, 1, DAL_AUTO_MIGRATE);
}

static int init_migrate_whole(sweep *s)
{
	return mig_state(s) == NMIGS && dal_init_database(s->db, mig_models, 1, 0) == 0 ? 0 : -1;
}

static int check_init_migrate(sweep *s)
{
	dal_migrate_opts o = opts_of(NMIGS);
	int k = mig_state(s);

	if (last_rc == 0)
		return init_migrate_whole(s);
	if (k < 0 || !others_kept(s))
		return -1;
	if (dal_init_database_migrate(s->db, &o, mig_models, 1, DAL_AUTO_MIGRATE) != 0) {
		fprintf(stderr, "    dal_init_database_migrate again: %s\n", dal_error_last()->message);
		return -1;
	}
	return init_migrate_whole(s);
}

/* ---- dal_schema_diff on oom_shape ---- */

static int make_shape(sweep *s)
{
	if (raw(s, "DROP TABLE IF EXISTS oom_shape") ||
	    raw(s, "CREATE TABLE oom_shape (id BIGINT PRIMARY KEY, label VARCHAR(40) NOT NULL, score VARCHAR(20), "
	           "extra BIGINT)") ||
	    raw(s, "INSERT INTO oom_shape (id, label, score, extra) VALUES (1, 'a', 'x', 7)"))
		return -1;
	return 0;
}

static const dal_model *const shape_models[] = { &shape_model };

static int prep_diff(sweep *s)
{
	if (diff_want)
		return 0;
	if (make_shape(s) != 0 || dal_schema_diff(&diff_want, s->db, shape_models, 1) != 0)
		return -1;
	/* score's type, note missing, extra undeclared: at least these three. */
	return diff_want->count >= 3 && diff_want->sql[0] ? 0 : -1;
}

static int call_diff(sweep *s) { return last_rc = dal_schema_diff(&diff, s->db, shape_models, 1); }

static int check_diff(sweep *s)
{
	size_t i;

	(void)s;
	if (!diff || diff->count != diff_want->count || strcmp(diff->sql, diff_want->sql) != 0)
		return -1;
	for (i = 0; i < diff->count; i++) {
		const dal_schema_difference *a = &diff->items[i], *b = &diff_want->items[i];
		if (a->change != b->change || strcmp(a->table, b->table) || strcmp(a->column, b->column) ||
		    strcmp(a->detail, b->detail))
			return -1;
	}
	return 0;
}
static bool diff_null(sweep *s) { (void)s; return diff == NULL; }
static void free_diff(sweep *s) { (void)s; dal_schema_report_free(diff); diff = NULL; }

/* ---- dal_migrate_lint on the fixture folder, no database ---- */

static char lint_dir[1024];

static dal_migrate_opts lint_opts(void)
{
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;

	if (!lint_dir[0]) {
		/* The fixtures are beside this file's folder: tests/stress/.. */
		const char *file = __FILE__, *end = strrchr(file, '/');

		end = end ? end : file;
		while (end > file && end[-1] != '/')
			end--;
		snprintf(lint_dir, sizeof lint_dir, "%.*sfixtures/migrations/unsafe", (int)(end - file), file);
	}
	o.dir = lint_dir;
	return o;
}

static const dal_model *const lint_models[] = { &oom_users };

static int prep_lint(sweep *s)
{
	dal_migrate_opts o = lint_opts();

	(void)s;
	if (lint_want)
		return 0;
	if (dal_migrate_lint(&lint_want, &o, lint_models, 1) != 0) {
		fprintf(stderr, "    lint of %s: %s\n", lint_dir, dal_error_last()->message);
		return -1;
	}
	if (lint_want->count < 5)
		fprintf(stderr, "    lint of %s: %zu findings\n", lint_dir, lint_want->count);
	return lint_want->count >= 5 ? 0 : -1;
}

static int call_lint(sweep *s)
{
	dal_migrate_opts o = lint_opts();

	(void)s;
	return last_rc = dal_migrate_lint(&lint, &o, lint_models, 1);
}

static int check_lint(sweep *s)
{
	size_t i;

	(void)s;
	if (!lint || lint->count != lint_want->count)
		return -1;
	for (i = 0; i < lint->count; i++) {
		const dal_lint_finding *a = &lint->items[i], *b = &lint_want->items[i];
		if (strcmp(a->file, b->file) || a->version != b->version || a->line != b->line || strcmp(a->rule, b->rule) ||
		    strcmp(a->message, b->message))
			return -1;
	}
	return 0;
}
static bool lint_null(sweep *s) { (void)s; return lint == NULL; }
static void free_lint(sweep *s) { (void)s; dal_lint_report_free(lint); lint = NULL; }

/* ---- dal_init_database on a table of another shape ---- */

/* DAL_ESCHEMA is the call's whole effect: it counts as done when it names the table and column. */
static int call_init_eschema(sweep *s)
{
	int rc = dal_init_database(s->db, shape_models, 1, 0);

	(void)s;
	last_rc = rc;
	return rc == DAL_ESCHEMA ? 0 : rc == 0 ? -1000 : rc;
}

static int check_eschema(sweep *s)
{
	const char *msg = dal_error_last()->message;

	(void)s;
	if (last_rc != DAL_ESCHEMA || !strstr(msg, "oom_shape") || !strstr(msg, "score") || !strstr(msg, "note")) {
		fprintf(stderr, "    dal_init_database gave %d: %s\n", last_rc, msg);
		return -1;
	}
	return 0;
}

static const dal_model *const shape2_models[] = { &shape2_model };

static int prep_shape2(sweep *s)
{
	if (raw(s, "DROP TABLE IF EXISTS oom_shape2") ||
	    raw(s, "CREATE TABLE oom_shape2 (id BIGINT PRIMARY KEY, label VARCHAR(40) NOT NULL)") ||
	    raw(s, "INSERT INTO oom_shape2 (id, label) VALUES (1, 'a')") ||
	    raw(s, "INSERT INTO oom_shape2 (id, label) VALUES (2, 'b')"))
		return -1;
	return 0;
}

static int call_init_add(sweep *s) { return last_rc = dal_init_database(s->db, shape2_models, 1, DAL_AUTO_MIGRATE); }

static int check_init_add(sweep *s)
{
	bool added = column_exists(s, "oom_shape2", "note");

	if (scalar(s, "SELECT CAST(COUNT(*) AS BIGINT) FROM oom_shape2", NULL) != 2)
		return -1;
	if (last_rc == 0)
		return added && dal_init_database(s->db, shape2_models, 1, 0) == 0 ? 0 : -1;
	/* DuckDB commits each statement of dal_init_database alone (docs/engines.md): the column may stand. */
	if (added && strcmp(s->engine, "duckdb") != 0) {
		fprintf(stderr, "    the column was added, yet the call failed\n");
		return -1;
	}
	if (!others_kept(s))
		return -1;
	return dal_init_database(s->db, shape2_models, 1, DAL_AUTO_MIGRATE) == 0 &&
	       column_exists(s, "oom_shape2", "note") ? 0 : -1;
}

/* STEP_CHECK_ERROR: after an error the check reads the state the rules allow, and calls again. */
static const step mig_steps[] = {
	{ "dal_migrate", prep_none, call_migrate, NULL, check_migrate, NULL, free_report,
	  STEP_PREP_ALWAYS | STEP_CHECK_ERROR },
	{ "dal_migrate_status", prep_two, call_status, NULL, check_status, NULL, free_report,
	  STEP_PREP_ALWAYS | STEP_CHECK_ERROR },
	{ "dal_migrate_down", prep_three, call_down, NULL, check_down, NULL, free_report,
	  STEP_PREP_ALWAYS | STEP_CHECK_ERROR },
	{ "dal_init_database_migrate", prep_none, call_init_migrate, NULL, check_init_migrate, NULL, NULL,
	  STEP_PREP_ALWAYS | STEP_CHECK_ERROR },
	{ "dal_schema_diff", prep_diff, call_diff, NULL, check_diff, diff_null, free_diff, 0 },
	{ "dal_migrate_lint", prep_lint, call_lint, NULL, check_lint, lint_null, free_lint, 0 },
	{ "dal_init_database(other shape)", make_shape, call_init_eschema, NULL, check_eschema, NULL, NULL, 0 },
	{ "dal_init_database(column added)", prep_shape2, call_init_add, NULL, check_init_add, NULL, NULL,
	  STEP_PREP_ALWAYS | STEP_CHECK_ERROR },
};

void oom_run_migrate_steps(sweep *s)
{
	/*
	 * Known and open: on SQLite a schema change expires the ROLLBACK prepared at connect,
	 * and preparing it again needs memory. When that fails too, the transaction cannot
	 * be ended and the connection is dropped; a :memory: database goes with it. The
	 * fix (keep the connection and roll back at its next lending) belongs in the pool.
	 */
	if (strcmp(s->engine, "sqlite-memory") == 0) {
		printf("oom_sweep sqlite-memory: migration steps skipped (a :memory: database is lost when a "
			"transaction with a schema change cannot be rolled back for lack of memory; open)\n");
		return;
	}
	oom_run_list(s, mig_steps, sizeof mig_steps / sizeof mig_steps[0]);
	dal_schema_report_free(diff_want);
	dal_lint_report_free(lint_want);
	diff_want = NULL;
	lint_want = NULL;
}
