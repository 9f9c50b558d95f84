/* Ids the caller gives: the table's id sequence moves past them. */
#include "repo/repo.h"

#include "conn.h"

/*
 * Where ids come from a sequence (DuckDB, PostgreSQL) a row stored with a given id
 * leaves the sequence where it was, and a later create without an id would draw
 * that id again. Called before the insert, in its session: a refusal writes
 * nothing, and writers at once (PostgreSQL) draw past the given ids meanwhile.
 */
int dal__repo_ids_given(dal_repo *repo, dal_session *s, const char *what, const dal_value *ids, size_t stride,
                        size_t n)
{
	const char *fmt = repo->db->drv->dialect->id_seq_past_sql, *t = repo->model->table;
	dal_str sql = DAL_STR_INIT;
	dal_value p;
	int64_t max = 0, at = 0;
	bool found = false;
	size_t r;
	int error;

	if (!fmt)
		return 0;
	for (r = 0; r < n; r++)
		if (ids[r * stride].type == DAL_TYPE_INT && ids[r * stride].v.i > max)
			max = ids[r * stride].v.i;
	/* A sequence starts at 1 and only grows: it never reaches an id below 1. */
	if (max < 1)
		return 0;
	p = dal_int(max);
	/* The table's name goes to every %s of the dialect's text; printf ignores the rest. */
	if ((error = dal__str_printf(&sql, fmt, t, t, t)) == 0)
		error = dal__conn_scalar(&at, &found, s->conn, sql.ptr, &p, 1, NULL);
	if (error == 0 && (!found || at < max))
		error = dal__error(DAL_EUNSUPPORTED, "%s of '%s': id %lld is further ahead of the table's id sequence "
			"(at %lld) than %s can move it (docs/engines.md); give ids nearer to it, or none",
			what, t, (long long)max, (long long)at, repo->db->drv->name);
	dal__str_dispose(&sql);
	return error;
}
