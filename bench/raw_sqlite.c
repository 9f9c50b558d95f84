#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dal/value.h>

#include "bench.h"

typedef struct h {
	sqlite3 *db;
	sqlite3_stmt *ins, *get, *upd, *find;
	sqlite3_stmt *page_count, *page, *count, *exists, *sdel, *rest, *hdel, *each;
} h;

static void read_row(sqlite3_stmt *st)
{
	volatile size_t sink = 0;
	int i;

	for (i = 0; i < sqlite3_column_count(st); i++)
		sink += (size_t)sqlite3_column_bytes(st, i);
	(void)sink;
}

static void *s_open(const char *path)
{
	h *x = calloc(1, sizeof(*x));

	if (sqlite3_open_v2(path, &x->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		return NULL;
	/* dal's defaults: WAL, synchronous NORMAL, busy timeout. */
	sqlite3_exec(x->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", 0, 0, 0);
	sqlite3_busy_timeout(x->db, 5000);
	sqlite3_prepare_v2(x->db, "INSERT INTO bench_raw (name, email, score, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", -1, &x->ins, NULL);
	sqlite3_prepare_v2(x->db, "SELECT id, name, email, score, created_at, updated_at, deleted_at FROM bench_raw WHERE id = ? AND deleted_at IS NULL", -1, &x->get, NULL);
	sqlite3_prepare_v2(x->db, "UPDATE bench_raw SET name = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL", -1, &x->upd, NULL);
	sqlite3_prepare_v2(x->db, "SELECT id, name, email, score, created_at, updated_at, deleted_at FROM bench_raw WHERE email = ? AND deleted_at IS NULL ORDER BY id", -1, &x->find, NULL);
	sqlite3_prepare_v2(x->db, RAW_PAGE_COUNT, -1, &x->page_count, NULL);
	sqlite3_prepare_v2(x->db, RAW_PAGE, -1, &x->page, NULL);
	sqlite3_prepare_v2(x->db, RAW_COUNT, -1, &x->count, NULL);
	sqlite3_prepare_v2(x->db, RAW_EXISTS, -1, &x->exists, NULL);
	sqlite3_prepare_v2(x->db, RAW_SOFT_DELETE, -1, &x->sdel, NULL);
	sqlite3_prepare_v2(x->db, RAW_RESTORE, -1, &x->rest, NULL);
	sqlite3_prepare_v2(x->db, RAW_HARD_DELETE, -1, &x->hdel, NULL);
	sqlite3_prepare_v2(x->db, RAW_EACH, -1, &x->each, NULL);
	return x;
}

static void s_close(void *p)
{
	h *x = p;
	sqlite3_finalize(x->ins);
	sqlite3_finalize(x->get);
	sqlite3_finalize(x->upd);
	sqlite3_finalize(x->find);
	sqlite3_finalize(x->page_count);
	sqlite3_finalize(x->page);
	sqlite3_finalize(x->count);
	sqlite3_finalize(x->exists);
	sqlite3_finalize(x->sdel);
	sqlite3_finalize(x->rest);
	sqlite3_finalize(x->hdel);
	sqlite3_finalize(x->each);
	sqlite3_close(x->db);
	free(x);
}

static int s_create(void *p, int64_t i)
{
	h *x = p;
	char name[32], email[64], ts[DAL_TIMESTAMP_BUFSIZE];
	int rc;

	snprintf(name, sizeof(name), "user %lld", (long long)i);
	bench_email(email, sizeof(email), i);
	dal_timestamp_format(ts, bench_now());
	sqlite3_bind_text(x->ins, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(x->ins, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_double(x->ins, 3, (double)i * 0.5);
	sqlite3_bind_text(x->ins, 4, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(x->ins, 5, ts, -1, SQLITE_STATIC);
	rc = sqlite3_step(x->ins);
	sqlite3_reset(x->ins);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int s_get(void *p, int64_t id)
{
	h *x = p;
	int rc;

	sqlite3_bind_int64(x->get, 1, id);
	if ((rc = sqlite3_step(x->get)) == SQLITE_ROW)
		read_row(x->get);
	sqlite3_reset(x->get);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int s_update(void *p, int64_t id, int64_t i)
{
	h *x = p;
	char name[32], ts[DAL_TIMESTAMP_BUFSIZE];
	int rc;

	snprintf(name, sizeof(name), "renamed %lld", (long long)i);
	dal_timestamp_format(ts, bench_now());
	sqlite3_bind_text(x->upd, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(x->upd, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(x->upd, 3, id);
	rc = sqlite3_step(x->upd);
	sqlite3_reset(x->upd);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int s_find(void *p, const char *email)
{
	h *x = p;
	int rc, n = 0;

	sqlite3_bind_text(x->find, 1, email, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(x->find)) == SQLITE_ROW) {
		read_row(x->find);
		n++;
	}
	sqlite3_reset(x->find);
	return rc == SQLITE_DONE && n > 0 ? 0 : -1;
}

/* Step to the end, reading every column of every row; rows read, -1 on failure. */
static int64_t drain(sqlite3_stmt *st)
{
	int64_t n = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : -1;
}

/* A one-row, one-integer statement. */
static int scalar(sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st);

	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* A write of exactly one row. */
static int write_one(sqlite3_stmt *st, sqlite3 *db)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : -1;
}

static int s_paginate(void *p, double below, int64_t page, int64_t size)
{
	h *x = p;
	int64_t total;

	sqlite3_bind_double(x->page_count, 1, below);
	if (scalar(x->page_count, &total) < 0)
		return -1;
	sqlite3_bind_double(x->page, 1, below);
	sqlite3_bind_int64(x->page, 2, size);
	sqlite3_bind_int64(x->page, 3, (page - 1) * size);
	return drain(x->page) > 0 && total > 0 ? 0 : -1;
}

static int s_count(void *p, const char *email)
{
	h *x = p;
	int64_t n;

	sqlite3_bind_text(x->count, 1, email, -1, SQLITE_STATIC);
	return scalar(x->count, &n) == 0 && n > 0 ? 0 : -1;
}

static int s_exists(void *p, int64_t id)
{
	h *x = p;
	int64_t one;

	sqlite3_bind_int64(x->exists, 1, id);
	return scalar(x->exists, &one);
}

static int s_soft_delete(void *p, int64_t id)
{
	h *x = p;
	char ts[DAL_TIMESTAMP_BUFSIZE];

	dal_timestamp_format(ts, bench_now());
	sqlite3_bind_text(x->sdel, 1, ts, -1, SQLITE_STATIC);
	sqlite3_bind_text(x->sdel, 2, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(x->sdel, 3, id);
	return write_one(x->sdel, x->db);
}

static int s_restore(void *p, int64_t id)
{
	h *x = p;
	char ts[DAL_TIMESTAMP_BUFSIZE];

	dal_timestamp_format(ts, bench_now());
	sqlite3_bind_text(x->rest, 1, ts, -1, SQLITE_STATIC);
	sqlite3_bind_int64(x->rest, 2, id);
	return write_one(x->rest, x->db);
}

static int s_hard_delete(void *p, int64_t id)
{
	h *x = p;

	sqlite3_bind_int64(x->hdel, 1, id);
	return write_one(x->hdel, x->db);
}

/* Every value as the type a row callback gets: numbers as numbers, timestamps (stored as
 * text) parsed, text by length. */
static int64_t s_each(void *p)
{
	sqlite3_stmt *st = ((h *)p)->each;
	volatile int64_t sink = 0;
	int64_t n = 0, us;
	int rc, c;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sink += sqlite3_column_int64(st, 0);
		sink += sqlite3_column_bytes(st, 1) + sqlite3_column_bytes(st, 2);
		sink += (int64_t)sqlite3_column_double(st, 3);
		for (c = 4; c < 7; c++)
			if (sqlite3_column_type(st, c) != SQLITE_NULL &&
			    dal_timestamp_parse(&us, (const char *)sqlite3_column_text(st, c)) == 0)
				sink += us;
		n++;
	}
	(void)sink;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : -1;
}

const raw_ops raw_sqlite = { "sqlite", s_open, s_close, s_create, s_get, s_update, s_find,
	s_paginate, s_count, s_exists, s_soft_delete, s_restore, s_hard_delete, s_each };
