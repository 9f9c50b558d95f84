/* Raw SQL through dal: open DATABASE_URL, make a table,
 * write rows with bound parameters, read them back and say what happened. */
#include <stdio.h>
#include <stdlib.h>

#include <dal/dal.h>

static int fail(const char *what)
{
	const dal_error *e = dal_error_last();
	fprintf(stderr, "demo: %s failed: %s (%s)\n", what, e->message, dal_strerror(e->code));
	return 1;
}

static int print_row(const dal_value *v, const char *const *names, size_t n, void *payload)
{
	char ts[DAL_TIMESTAMP_BUFSIZE] = "";

	(void)n;
	(void)names;
	++*(int *)payload;
	if (v[3].type == DAL_TYPE_TIMESTAMP)
		dal_timestamp_format(ts, v[3].v.ts);
	printf("  read  id=%lld name=%s score=%.2f seen_at=%s\n", (long long)v[0].v.i, v[1].v.s, v[2].v.d,
		v[3].type == DAL_TYPE_TEXT ? v[3].v.s : ts);
	return 0;
}

int main(void)
{
	static const char *const names[] = { "Ada Lovelace", "Grace O'Hopper", "Edsger \"EWD\" Dijkstra" };
	dal_config cfg;
	dal_db *db = NULL;
	int64_t changes = 0;
	int rows = 0, rc = 1;
	size_t i;

	if (dal_config_from_env(&cfg) < 0)
		return fail("reading the environment");
	if (dal_open(&db, NULL, &cfg) < 0)
		return fail("opening the database");
	printf("dal %s: opened %s (%s)\n", dal_version(), dal_db_url_redacted(db), dal_db_engine(db));
	if (dal_exec(NULL, db, "DROP TABLE IF EXISTS dal_demo", NULL, 0) < 0 ||
	    dal_exec(NULL, db, "CREATE TABLE dal_demo (id BIGINT PRIMARY KEY, name TEXT NOT NULL, "
	                       "score DOUBLE PRECISION, seen_at TIMESTAMP)", NULL, 0) < 0) {
		fail("creating table dal_demo");
		goto done;
	}
	printf("created table dal_demo\n");
	for (i = 0; i < 3; i++) {
		dal_value p[] = { dal_int((int64_t)i + 1), dal_text(names[i]), dal_double(90.5 + (double)i),
		                  dal_timestamp(dal_now()) };
		if (dal_exec(&changes, db, "INSERT INTO dal_demo (id, name, score, seen_at) VALUES (?, ?, ?, ?)", p, 4) < 0) {
			fail("inserting a row");
			goto done;
		}
		printf("  wrote id=%zu name=%s (%lld row)\n", i + 1, names[i], (long long)changes);
	}
	if (dal_query_each(db, "SELECT id, name, score, seen_at FROM dal_demo ORDER BY id", NULL, 0, print_row, &rows) < 0) {
		fail("reading rows");
		goto done;
	}
	printf("wrote 3 rows and read %d back\n", rows);
	rc = rows == 3 ? 0 : 1;
done:
	dal_close(db);
	return rc;
}
