#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dal/value.h>

#include "bench.h"

typedef struct h {
	sqlite3 *db;
	sqlite3_stmt *ins, *get, *upd, *find;
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
	return x;
}

static void s_close(void *p)
{
	h *x = p;
	sqlite3_finalize(x->ins);
	sqlite3_finalize(x->get);
	sqlite3_finalize(x->upd);
	sqlite3_finalize(x->find);
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

const raw_ops raw_sqlite = { "sqlite", s_open, s_close, s_create, s_get, s_update, s_find };
