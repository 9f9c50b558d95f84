#include "conformance/fixture.h"

#include <stdlib.h>
#include <unistd.h>

#include "db.h"

/* Set by main.c. */
const char *fx_engine_name;
char fx_tmpdir[512];
char fx_pg_url[1024];
static int case_no;

bool fx_is(const fixture *fx, const char *engine)
{
	return strcmp(fx->engine, engine) == 0;
}

const char *fx_type(const fixture *fx, dal_type type)
{
	return fx->db->drv->dialect->types[type];
}

static void remove_files(const char *url)
{
	const char *path = strstr(url, ":///");
	char buf[1100];

	if (!path || strstr(url, ":memory:"))
		return;
	path += 4;
	unlink(path);
	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s.wal", path);
	unlink(buf);
}

void fx_exec(fixture *fx, const char *sql)
{
	int rc = dal_exec(NULL, fx->db, sql, NULL, 0);
	if (rc != 0)
		fail_msg("%s -> %d: %s", sql, rc, dal_error_last()->message);
}

bool fx_index_exists(fixture *fx, const char *name)
{
	dal_value p = dal_text(name);
	const char *sql;

	if (fx_is(fx, "postgres"))
		sql = "SELECT COUNT(*) FROM pg_indexes WHERE indexname = ?";
	else if (fx_is(fx, "duckdb"))
		sql = "SELECT COUNT(*) FROM duckdb_indexes() WHERE index_name = ?";
	else
		sql = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = ?";
	return fx_scalar(fx, sql, &p, 1) == 1;
}

int64_t fx_create(dal_repo *repo, const dal_field *f, size_t n)
{
	dal_row *row = NULL;
	int64_t id;

	CHECK_OK(dal_repo_create(&row, repo, f, n));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	return id;
}

dal_audit_logs *fx_audit_of(fixture *fx, const char *table, const char *action, int64_t id)
{
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_audit_logs *logs = NULL;

	f.resource_type = table;
	f.action = action;
	f.resource_id = id;
	f.has_resource_id = true;
	CHECK_OK(dal_audit_query(&logs, fx->db, &f));
	assert_int_equal(dal_audit_logs_count(logs), 1);
	return logs;
}

int64_t fx_scalar(fixture *fx, const char *sql, const dal_value *params, size_t n)
{
	dal_result *res = NULL;
	const dal_value *v;
	int64_t out;

	CHECK_OK(dal_query(&res, fx->db, sql, params, n));
	assert_int_equal(dal_result_rows(res), 1);
	v = dal_result_get(res, 0, 0);
	assert_non_null(v);
	out = v->type == DAL_TYPE_INT ? v->v.i : v->type == DAL_TYPE_DOUBLE ? (int64_t)v->v.d : -1;
	dal_result_free(res);
	return out;
}

dal_repo *fx_open_repo(fixture *fx, const dal_model *m, unsigned flags)
{
	const dal_model *ms[1] = { m };
	dal_repo *repo = NULL;

	CHECK_OK(dal_init_database(fx->db, ms, 1, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_repo_open(&repo, fx->db, m, flags));
	assert_non_null(repo);
	return repo;
}

int fx_open_again(dal_db **out, fixture *fx, const dal_config *cfg)
{
	return dal_open(out, fx->url, cfg);
}

int fx_setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	int rc;

	fx->engine = fx_engine_name;
	case_no++;
	if (fx_is(fx, "sqlite-file"))
		snprintf(fx->url, sizeof(fx->url), "sqlite:///%s/case%d.db", fx_tmpdir, case_no);
	else if (fx_is(fx, "sqlite-memory"))
		snprintf(fx->url, sizeof(fx->url), "sqlite:///:memory:");
	else if (fx_is(fx, "duckdb"))
		snprintf(fx->url, sizeof(fx->url), "duckdb:///%s/case%d.duckdb", fx_tmpdir, case_no);
	else
		snprintf(fx->url, sizeof(fx->url), "%s", fx_pg_url);
	if ((rc = dal_open(&fx->db, fx->url, NULL)) != 0) {
		print_error("cannot open %s: %s\n", fx->engine, dal_error_last()->message);
		free(fx);
		return -1;
	}
	if (fx_is(fx, "postgres")) {
		/* Each case starts from an empty schema in this run's private database. */
		fx_exec(fx, "DROP SCHEMA public CASCADE");
		fx_exec(fx, "CREATE SCHEMA public");
	}
	*state = fx;
	return 0;
}

int fx_teardown(void **state)
{
	fixture *fx = *state;

	if (!fx)
		return 0;
	dal_close(fx->db);
	remove_files(fx->url);
	free(fx);
	*state = NULL;
	return 0;
}

void fx_wait_for_lock_wait(fixture *fx)
{
	int i;

	for (i = 0; i < 10000 && fx_scalar(fx, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
		"AND wait_event_type = 'Lock'", NULL, 0) == 0; i++)
		usleep(1000);
	assert_true(i < 10000);
}
