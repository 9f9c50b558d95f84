/* The conformance runner: dal_conformance --engine sqlite-file|sqlite-memory|duckdb|postgres [--filter PATTERN] */
#include "conformance/fixture.h"

#include <stdlib.h>
#include <unistd.h>

extern const char *fx_engine_name;
extern char fx_tmpdir[512];
extern char fx_pg_url[1024];

static const fx_cases *const all_cases[] = { &cases_base, &cases_repo, &cases_uow, &cases_metrics, &cases_audit,
	&cases_bulk, &cases_cache, &cases_write, &cases_write_input, &cases_each, &cases_errors,
	&cases_sqltext, &cases_ids, &cases_secrets, &cases_index, &cases_schema, &cases_migrate, &cases_diff, &cases_diskfull, &cases_timeout, &cases_in,
	&cases_easy, &cases_scale, &cases_pyusers, &cases_reads, &cases_review,
	&cases_idwindow };

static int read_pg_url(const char *file, char *base, size_t n)
{
	FILE *f = fopen(file, "r");

	if (!f || !fgets(base, (int)n, f)) {
		fprintf(stderr, "conformance: cannot read the PostgreSQL URL from %s: "
			"the pg-start fixture did not run or failed\n", file);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	base[strcspn(base, "\r\n")] = '\0';
	return 0;
}

/* A private database per run, so several test programs can share the server. */
static int make_pg_database(const char *base, char *dbname, size_t n)
{
	dal_db *db = NULL;
	char sql[128];
	const char *slash = strrchr(base, '/'), *q;
	int rc;

	snprintf(dbname, n, "dal_t_%d", (int)getpid());
	if ((rc = dal_open(&db, base, NULL)) != 0) {
		fprintf(stderr, "conformance: cannot reach PostgreSQL: %s\n", dal_error_last()->message);
		return -1;
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", dbname);
	dal_exec(NULL, db, sql, NULL, 0);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", dbname);
	rc = dal_exec(NULL, db, sql, NULL, 0);
	dal_close(db);
	if (rc != 0) {
		fprintf(stderr, "conformance: %s\n", dal_error_last()->message);
		return -1;
	}
	q = strchr(slash, '?');
	snprintf(fx_pg_url, sizeof(fx_pg_url), "%.*s/%s%s", (int)(slash - base), base, dbname, q ? q : "");
	return 0;
}

static void drop_pg_database(const char *base, const char *dbname)
{
	dal_db *db = NULL;
	char sql[160];

	if (dal_open(&db, base, NULL) != 0)
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", dbname);
	dal_exec(NULL, db, sql, NULL, 0);
	dal_close(db);
}

int main(int argc, char **argv)
{
	const char *engine = NULL, *pg_file = NULL, *filter = NULL;
	struct CMUnitTest *tests;
	char base[1024] = "", dbname[64] = "";
	size_t n = 0, i, j;
	int rc, k;

	for (k = 1; k + 1 < argc; k += 2) {
		if (strcmp(argv[k], "--engine") == 0)
			engine = argv[k + 1];
		else if (strcmp(argv[k], "--pg-url-file") == 0)
			pg_file = argv[k + 1];
		else if (strcmp(argv[k], "--filter") == 0)
			filter = argv[k + 1];
	}
	if (!engine || (strcmp(engine, "sqlite-file") && strcmp(engine, "sqlite-memory") &&
	                strcmp(engine, "duckdb") && strcmp(engine, "postgres"))) {
		fprintf(stderr, "usage: %s --engine sqlite-file|sqlite-memory|duckdb|postgres [--pg-url-file F] "
			"[--filter PATTERN]\n", argv[0]);
		return 2;
	}
	fx_engine_name = engine;
	snprintf(fx_tmpdir, sizeof(fx_tmpdir), "%s/dal-conf-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(fx_tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (strcmp(engine, "postgres") == 0) {
		if (getenv("DAL_TEST_PG_URL"))
			snprintf(base, sizeof(base), "%s", getenv("DAL_TEST_PG_URL"));
		else if (!pg_file || read_pg_url(pg_file, base, sizeof(base)) < 0)
			return 1;
		if (make_pg_database(base, dbname, sizeof(dbname)) < 0)
			return 1;
	}
	for (i = 0; i < sizeof(all_cases) / sizeof(all_cases[0]); i++)
		n += all_cases[i]->count;
	tests = calloc(n, sizeof(*tests));
	for (n = 0, i = 0; i < sizeof(all_cases) / sizeof(all_cases[0]); i++)
		for (j = 0; j < all_cases[i]->count; j++)
			tests[n++] = all_cases[i]->tests[j];
	/* Cases whose name matches a cmocka pattern (* and ?), for a quick run of a few. */
	if (filter)
		cmocka_set_test_filter(filter);
	rc = _cmocka_run_group_tests(engine, tests, n, NULL, NULL);
	if (*dbname)
		drop_pg_database(base, dbname);
	free(tests);
	rmdir(fx_tmpdir);
	return rc;
}
