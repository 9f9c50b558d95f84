/*
 * Processes racing dal_migrate on one database: each migration must be applied
 * exactly once. Every migration inserts one row naming itself into mg_race_hits,
 * a table without a unique key, so a migration run twice would show as two rows.
 * The children are released together through a pipe, not by timing.
 *
 *   migrate_race <url> [processes, default 4] [migrations, default 20]
 *
 * Enough migrations that the processes often overlap, but the timing is the kernel's:
 * processes_that_applied > 1 shows a run where they did. On PostgreSQL the advisory
 * lock lets one process apply everything, so there it is 1 by design and the run
 * checks the lock. The re-check each migration's transaction makes, which a stale
 * read depends on, is shown deterministically by the conformance case
 * test_migrate_stale_read.
 *
 * Prints: migrate_race <engine>: processes=4 migrations=20 applied=20 hits=20
 * duplicated=0 missing=0 failed_processes=0 processes_that_applied=K (K > 1: they did overlap)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dal/dal.h>

#define MAX_MIGRATIONS 200

static dal_migration list[MAX_MIGRATIONS];
static char ups[MAX_MIGRATIONS][160];
static char names[MAX_MIGRATIONS][32];

static void make_list(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "step_%d", i + 1);
		/* Version 1 makes the table; each one after adds a row and a table of its own. */
		if (i == 0)
			snprintf(ups[i], sizeof ups[i], "CREATE TABLE mg_race_hits (version INTEGER NOT NULL);\n"
				"INSERT INTO mg_race_hits (version) VALUES (1)");
		else
			snprintf(ups[i], sizeof ups[i], "CREATE TABLE mg_race_%d (id INTEGER);\n"
				"INSERT INTO mg_race_hits (version) VALUES (%d)", i + 1, i + 1);
		list[i].version = i + 1;
		list[i].name = names[i];
		list[i].up = ups[i];
	}
}

/* A child: wait for the start, migrate; the exit status is how many it applied, FAILED on failure. */
#define FAILED 255
static int child(const char *url, int start_fd, int n)
{
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
	dal_migrate_report *r = NULL;
	dal_db *db = NULL;
	char go;
	int rc, applied;

	if (dal_open(&db, url, NULL) != 0) {
		fprintf(stderr, "migrate_race: open: %s\n", dal_error_last()->message);
		return FAILED;
	}
	/* Blocks until the parent closes its end: every child starts at once. */
	if (read(start_fd, &go, 1) < 0)
		return FAILED;
	o.list = list;
	o.nlist = (size_t)n;
	o.applied_by = "migrate_race";
	rc = dal_migrate(&r, db, &o);
	if (rc != 0)
		fprintf(stderr, "migrate_race: child %d: %s\n", (int)getpid(), dal_error_last()->message);
	applied = r ? (int)r->applied_now : 0;
	dal_migrate_report_free(r);
	dal_close(db);
	return rc != 0 ? FAILED : applied;
}

static int64_t scalar(dal_db *db, const char *sql)
{
	dal_result *res = NULL;
	int64_t v = -1;

	if (dal_query(&res, db, sql, NULL, 0) == 0 && dal_result_rows(res) == 1)
		v = dal_result_get(res, 0, 0)->v.i;
	dal_result_free(res);
	return v;
}

/* Start from an empty database: drop what an earlier run left. */
static void clean(const char *url, int n)
{
	dal_db *db = NULL;
	char sql[64];
	int i;

	if (dal_open(&db, url, NULL) != 0)
		return;
	dal_exec(NULL, db, "DROP TABLE IF EXISTS dal_schema_migrations", NULL, 0);
	dal_exec(NULL, db, "DROP TABLE IF EXISTS mg_race_hits", NULL, 0);
	for (i = 2; i <= n; i++) {
		snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS mg_race_%d", i);
		dal_exec(NULL, db, sql, NULL, 0);
	}
	dal_close(db);
}

int main(int argc, char **argv)
{
	const char *url = argc > 1 ? argv[1] : NULL;
	int procs = argc > 2 ? atoi(argv[2]) : 4, n = argc > 3 ? atoi(argv[3]) : 20;
	int fds[2], i, failed = 0, appliers = 0, status;
	int64_t applied, hits, distinct;
	dal_db *db = NULL;
	pid_t pid;

	if (!url || procs < 2 || n < 1 || n > MAX_MIGRATIONS) {
		fprintf(stderr, "usage: %s <url> [processes >= 2] [migrations 1..%d]\n", argv[0], MAX_MIGRATIONS);
		return 2;
	}
	make_list(n);
	clean(url, n);
	if (pipe(fds) != 0)
		return 2;
	for (i = 0; i < procs; i++) {
		if ((pid = fork()) < 0)
			return 2;
		if (pid == 0) {
			close(fds[1]);
			_exit(child(url, fds[0], n));
		}
	}
	close(fds[0]);
	close(fds[1]);
	for (i = 0; i < procs; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == FAILED)
			failed++;
		else
			appliers += WEXITSTATUS(status) > 0;
	if (dal_open(&db, url, NULL) != 0) {
		fprintf(stderr, "migrate_race: open: %s\n", dal_error_last()->message);
		return 1;
	}
	applied = scalar(db, "SELECT COUNT(*) FROM dal_schema_migrations");
	hits = scalar(db, "SELECT COUNT(*) FROM mg_race_hits");
	distinct = scalar(db, "SELECT COUNT(DISTINCT version) FROM mg_race_hits");
	printf("migrate_race %s: processes=%d migrations=%d applied=%lld hits=%lld duplicated=%lld missing=%lld "
		"failed_processes=%d processes_that_applied=%d\n", dal_db_engine(db), procs, n, (long long)applied,
		(long long)hits, (long long)(hits - distinct), (long long)(n - distinct), failed, appliers);
	dal_close(db);
	return applied == n && hits == n && distinct == n && failed == 0 ? 0 : 1;
}
