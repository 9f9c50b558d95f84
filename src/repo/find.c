/* find, each, count, paginate. */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "repo/repo.h"
#include "repo/rows.h"
#include "sql/build.h"

typedef int (*row_sink)(dal_repo *repo, dal_stmt *stmt, void *payload);

/* Build the SELECT for the criteria and feed each row to `sink` on the session. */
static int select_rows(dal_repo *repo, dal_session *s, const dal_criteria *c, unsigned flags,
                       row_sink sink, void *payload)
{
	dal_str sql = DAL_STR_INIT;
	dal_value *params = NULL;
	dal_stmt *stmt = NULL;
	size_t n = 0;
	int error;

	if ((error = dal__sql_select(&sql, &params, &n, repo->db->drv->dialect, repo->model, c, DAL_SELECT_ROWS)) < 0)
		goto done;
	if ((error = dal__conn_prepare(&stmt, s->conn, sql.ptr, flags)) < 0)
		goto done;
	error = dal__stmt_exec(stmt, params, n);
	while (error == DAL__ROW) {
		if ((error = sink(repo, stmt, payload)) != 0)
			break;
		error = dal__stmt_step(stmt);
	}
done:
	dal__stmt_release(stmt);
	dal__str_dispose(&sql);
	free(params);
	return error == DAL__DONE ? 0 : error;
}

static int count_in(int64_t *out, dal_repo *repo, dal_session *s, const dal_criteria *c)
{
	dal_str sql = DAL_STR_INIT;
	dal_value *params = NULL, v;
	dal_stmt *stmt = NULL;
	size_t n = 0;
	int error;

	*out = 0;
	if ((error = dal__sql_select(&sql, &params, &n, repo->db->drv->dialect, repo->model, c, DAL_SELECT_COUNT)) < 0)
		goto done;
	if ((error = dal__conn_prepare(&stmt, s->conn, sql.ptr, 0)) < 0)
		goto done;
	if ((error = dal__stmt_exec(stmt, params, n)) == DAL__ROW &&
	    (error = stmt->conn->drv->column(stmt, 0, &v)) == 0) {
		*out = v.type == DAL_TYPE_INT ? v.v.i : v.type == DAL_TYPE_DOUBLE ? (int64_t)v.v.d : 0;
		error = DAL__ROW;
	}
	while (error == DAL__ROW)
		error = dal__stmt_step(stmt);
done:
	dal__stmt_release(stmt);
	dal__str_dispose(&sql);
	free(params);
	return error == DAL__DONE ? 0 : error;
}

static int collect(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	dal_row *row = NULL;
	int error;

	if ((error = dal__repo_read_row(&row, repo, stmt)) == 0 && (error = dal__rows_push(payload, row)) == 0)
		return 0;
	dal_row_free(row);
	return error;
}

static int new_rows(dal_rows **out)
{
	if (!(*out = calloc(1, sizeof(dal_rows))))
		return dal__error_nomem();
	return 0;
}

int dal_repo_find(dal_rows **out, dal_repo *repo, const dal_criteria *criteria)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(repo);
	if ((error = new_rows(out)) < 0)
		return error;
	if ((error = dal__session_open(&s, repo->db, 0)) == 0) {
		error = select_rows(repo, &s, criteria, 0, collect, *out);
		error = dal__session_close(&s, error);
	}
	if (error < 0) {
		dal_rows_free(*out);
		*out = NULL;
	}
	return error;
}

typedef struct each_ctx {
	dal_row *row;           /* one row, refilled for every result row */
	dal_repo_row_cb cb;
	void *payload;
	int stopped;
} each_ctx;

static int each_row(dal_repo *repo, dal_stmt *stmt, void *payload)
{
	each_ctx *e = payload;
	int error;

	if ((error = dal__repo_read_row(&e->row, repo, stmt)) < 0)
		return error;
	if ((e->stopped = e->cb(e->row, e->payload)) != 0)
		return 1;
	return 0;
}

int dal_repo_each(dal_repo *repo, const dal_criteria *criteria, dal_repo_row_cb callback, void *payload)
{
	each_ctx e = { NULL, callback, payload, 0 };
	dal_session s;
	int error;

	DAL_ASSERT_ARG(repo);
	DAL_ASSERT_ARG(callback);
	if ((error = dal__session_open(&s, repo->db, 0)) < 0)
		return error;
	error = select_rows(repo, &s, criteria, DAL__STMT_STREAM, each_row, &e);
	error = dal__session_close(&s, error < 0 ? error : 0);
	dal_row_free(e.row);
	return error < 0 ? error : e.stopped;
}

int dal_repo_count(int64_t *out, dal_repo *repo, const dal_criteria *criteria)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(out);
	*out = 0;
	DAL_ASSERT_ARG(repo);
	if ((error = dal__session_open(&s, repo->db, 0)) < 0)
		return error;
	error = count_in(out, repo, &s, criteria);
	return dal__session_close(&s, error);
}

/* The criteria's own limit and offset window the whole result; pages are cut from that window. */
static int page_in(dal_rows *rows, dal_page *info, dal_repo *repo, dal_session *s, const dal_criteria *c,
                   int64_t page, int64_t size)
{
	dal_criteria pc = DAL_CRITERIA_INIT;
	int64_t count, total, start;
	int error;

	if (c)
		pc = *c;
	pc.version = DAL_CRITERIA_VERSION;
	if ((error = count_in(&count, repo, s, c)) < 0)
		return error;
	total = count - pc.offset;
	if (total < 0)
		total = 0;
	if (pc.limit > 0 && total > pc.limit)
		total = pc.limit;
	info->total = total;
	info->page = page;
	info->page_size = size;
	info->total_pages = (total + size - 1) / size;
	start = (page - 1) * size;
	if (start >= total)
		return 0;
	pc.offset += start;
	pc.limit = total - start < size ? total - start : size;
	return select_rows(repo, s, &pc, 0, collect, rows);
}

int dal_repo_paginate(dal_rows **rows_out, dal_page *page_out, dal_repo *repo, const dal_criteria *criteria,
                      int64_t page, int64_t page_size)
{
	dal_session s;
	int error;

	DAL_ASSERT_ARG(rows_out);
	*rows_out = NULL;
	DAL_ASSERT_ARG(page_out);
	DAL_ASSERT_ARG(repo);
	memset(page_out, 0, sizeof(*page_out));
	if (page < 1)
		return dal__error(DAL_EINVAL, "paginate '%s': page %lld (pages start at 1)", repo->model->table, (long long)page);
	if (page_size < 1 || page_size > repo->db->cfg.max_page_size)
		return dal__error(DAL_EINVAL, "paginate '%s': page_size %lld is outside 1-%d (max_page_size)",
			repo->model->table, (long long)page_size, repo->db->cfg.max_page_size);
	if (page > INT64_MAX / page_size)
		return dal__error(DAL_EINVAL, "paginate '%s': page %lld is too large", repo->model->table, (long long)page);
	if (criteria && (criteria->limit < 0 || criteria->offset < 0))
		return dal__error(DAL_EINVAL, "paginate '%s': negative limit or offset", repo->model->table);
	if ((error = new_rows(rows_out)) < 0)
		return error;
	/* Count and page from one snapshot, so they agree. */
	if ((error = dal__session_open(&s, repo->db, DAL__SESSION_TX | DAL__TX_REPEATABLE_READ | DAL__TX_READ_ONLY)) == 0) {
		error = page_in(*rows_out, page_out, repo, &s, criteria, page, page_size);
		error = dal__session_close(&s, error);
	}
	if (error < 0) {
		dal_rows_free(*rows_out);
		*rows_out = NULL;
		memset(page_out, 0, sizeof(*page_out));
	}
	return error;
}
