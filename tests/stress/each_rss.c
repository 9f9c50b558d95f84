/*
 * dal_repo_each over 1,000,000 rows keeps its peak private (anonymous) memory under 64 MiB.
 *   each_rss fill <url> <engine> <rows>   make the table (another process)
 *   each_rss each <url> <rows>            stream it, print and check peak private memory
 * Two processes, so the peak of the streaming one is not the filler's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dal/dal.h>

static const dal_column cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("score", DAL_TYPE_DOUBLE, 0, 0),
	DAL_COL_CREATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model model = DAL_MODEL("each_rss", cols);

static int fail(const char *what)
{
	fprintf(stderr, "each_rss: %s: %s\n", what, dal_error_last()->message);
	return 1;
}

static int fill(const char *url, const char *engine, long rows)
{
	const dal_model *models[] = { &model };
	char sql[512];
	dal_db *db = NULL;

	if (dal_open(&db, url, NULL) < 0)
		return fail("open");
	dal_exec(NULL, db, "DROP TABLE IF EXISTS each_rss", NULL, 0);
	if (dal_init_database(db, models, 1, DAL_AUTO_MIGRATE) < 0)
		return fail("init_database");
	/* Set-based fills, each engine's own way: the point is the read, not the write. */
	if (strcmp(engine, "duckdb") == 0)
		snprintf(sql, sizeof(sql), "INSERT INTO each_rss (name, score, created_at) SELECT 'name ' || range, "
			"range * 0.5, TIMESTAMP '2024-01-01 00:00:00' FROM range(%ld)", rows);
	else if (strcmp(engine, "postgres") == 0)
		snprintf(sql, sizeof(sql), "INSERT INTO each_rss (name, score, created_at) SELECT 'name ' || g, "
			"g * 0.5, TIMESTAMP '2024-01-01 00:00:00' FROM generate_series(1, %ld) g", rows);
	else
		snprintf(sql, sizeof(sql), "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %ld) "
			"INSERT INTO each_rss (name, score, created_at) SELECT 'name ' || x, x * 0.5, "
			"'2024-01-01 00:00:00.000000' FROM c", rows);
	if (dal_exec(NULL, db, sql, NULL, 0) < 0)
		return fail("fill");
	dal_close(db);
	return 0;
}

typedef struct tally {
	long rows;
	int64_t last_id;
	bool ordered;
	long anon_peak_kib;
} tally;

static long status_kib(const char *key);

static int count(const dal_row *row, void *payload)
{
	tally *t = payload;
	int64_t id = dal_row_int(row, "id");

	t->ordered &= id > t->last_id && dal_row_text(row, "name") != NULL;
	t->last_id = id;
	if (++t->rows % 10000 == 0) {
		long anon = status_kib("RssAnon:");
		if (anon > t->anon_peak_kib)
			t->anon_peak_kib = anon;
	}
	return 0;
}

/* A /proc/self/status figure in KiB; -1 if absent. */
static long status_kib(const char *key)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			kib = atol(line + strlen(key));
	if (f)
		fclose(f);
	return kib;
}

static int each(const char *url, long rows)
{
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	tally t = { 0, 0, true, 0 };
	long kib;

	if (dal_open(&db, url, NULL) < 0 || dal_repo_open(&repo, db, &model, 0) < 0)
		return fail("open");
	if (dal_repo_each(repo, NULL, count, &t) < 0)
		return fail("each");
	/* The memory dal holds is the process's own (anonymous) memory. The whole RSS also
	 * counts the pages of the file SQLite reads through its memory map: the OS's cache,
	 * shared and dropped under pressure, not something the stream keeps. */
	kib = t.anon_peak_kib;
	printf("bench %s each_1m peak_anon_mib=%.1f peak_rss_mib=%.1f rows=%ld\n", dal_db_engine(db),
		(double)kib / 1024.0, (double)status_kib("VmHWM:") / 1024.0, t.rows);
	dal_repo_close(repo);
	dal_close(db);
	if (t.rows != rows || !t.ordered) {
		fprintf(stderr, "each_rss: streamed %ld rows (in order: %s), expected %ld\n", t.rows, t.ordered ? "yes" : "no", rows);
		return 1;
	}
	if (kib < 0 || kib >= 64 * 1024) {
		fprintf(stderr, "each_rss: peak private memory %ld KiB is not under 64 MiB\n", kib);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2], argv[3], atol(argv[4]));
	if (argc == 4 && strcmp(argv[1], "each") == 0)
		return each(argv[2], atol(argv[3]));
	fprintf(stderr, "usage: each_rss fill URL ENGINE ROWS | each_rss each URL ROWS\n");
	return 2;
}
