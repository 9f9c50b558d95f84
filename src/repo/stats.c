/*
 * The planner's statistics after a bulk call that changed a large share of a
 * table. Without them PostgreSQL plans the next reads by what the table held at
 * its last ANALYZE: right after a bulk load into a new table it took every row
 * through the deleted_at index and sorted them, for a page of 20.
 */
#include "repo/repo.h"

#include <string.h>

#include "conn.h"
#include "sql/ident.h"
#include "util/log.h"

/* Fewer rows are left to the engine's own upkeep (autovacuum), as is a call that
 * changed less than STATS_SHARE percent of the rows the statistics last counted. */
#define STATS_MIN_ROWS 10000
#define STATS_SHARE 10

/* ANALYZE of the columns dal's reads filter and sort on: id, deleted_at, the indexed ones. */
static int analyze_sql(dal_str *out, const dal_dialect *d, const dal_model *m)
{
	int error = dal__str_puts(out, "ANALYZE ");
	bool first = true;

	error = error ? error : dal__sql_quote_ident(out, d, m->table);
	error = error ? error : dal__str_puts(out, " (");
	for (size_t i = 0; i < m->ncolumns && error == 0; i++) {
		const dal_column *c = &m->columns[i];
		if (!(c->flags & (DAL_PRIMARY_KEY | DAL_INDEX | DAL_UNIQUE)) && strcmp(c->name, "deleted_at") != 0)
			continue;
		error = first ? 0 : dal__str_puts(out, ", ");
		error = error ? error : dal__sql_quote_ident(out, d, c->name);
		first = false;
	}
	return error ? error : dal__str_puts(out, ")");
}

static int refresh(dal_repo *repo, int64_t changed)
{
	const dal_dialect *d = repo->db->drv->dialect;
	dal_value table = dal_text(repo->model->table);
	dal_str sql = DAL_STR_INIT;
	dal_session s;
	int64_t counted = -1;
	bool found = false;
	int error;

	/* A transaction of its own, for the sample size to hold for this ANALYZE only. */
	if ((error = dal__session_open(&s, repo->db, DAL__SESSION_TX | DAL__TX_WRITE)) < 0)
		return error;
	error = dal__conn_scalar(&counted, &found, s.conn, d->stats_rows_sql, &table, 1, NULL);
	if (error == 0 && (!found || counted < 0 || changed * 100 >= counted * STATS_SHARE) &&
	    (error = analyze_sql(&sql, d, repo->model)) == 0) {
		error = d->stats_sample_sql ? dal__conn_exec(s.conn, d->stats_sample_sql) : 0;
		error = error ? error : dal__conn_exec(s.conn, sql.ptr);
	}
	dal__str_dispose(&sql);
	return dal__session_close(&s, error);
}

void dal__repo_stats_after_bulk(dal_repo *repo, int64_t changed)
{
	dal__error_saved saved;

	if (!repo->db->drv->dialect->stats_rows_sql || changed < STATS_MIN_ROWS)
		return;
	/* The bulk call succeeded: a failure here is a warning, and its message is not the call's. */
	dal__error_save(&saved);
	if (refresh(repo, changed) < 0)
		dal__log(DAL_LOG_WARN, "statistics of table '%s' not refreshed after a bulk write of %lld rows: %s",
			repo->model->table, (long long)changed, dal_error_last()->message);
	dal_error_clear();
	dal__error_restore(&saved);
}
