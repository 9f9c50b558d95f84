#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct h {
	duckdb_database db;
	duckdb_connection con;
	duckdb_prepared_statement ins, get, upd, find;
	duckdb_prepared_statement page_count, page, count, exists, sdel, rest, hdel, each;
} h;

/* Read the result chunk by chunk, as an idiomatic reader of DuckDB's C API would. */
static idx_t run(duckdb_prepared_statement st)
{
	duckdb_result res;
	duckdb_data_chunk chunk;
	idx_t rows = 0;

	if (duckdb_execute_prepared(st, &res) != DuckDBSuccess) {
		fprintf(stderr, "raw duckdb: %s\n", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return (idx_t)-1;
	}
	while ((chunk = duckdb_fetch_chunk(res)) != NULL) {
		idx_t c, n = duckdb_data_chunk_get_column_count(chunk);
		for (c = 0; c < n; c++)
			(void)duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, c));
		rows += duckdb_data_chunk_get_size(chunk);
		duckdb_destroy_data_chunk(&chunk);
	}
	duckdb_destroy_result(&res);
	return rows;
}

static void *d_open(const char *path)
{
	h *x = calloc(1, sizeof(*x));

	if (duckdb_open(path, &x->db) != DuckDBSuccess || duckdb_connect(x->db, &x->con) != DuckDBSuccess)
		return NULL;
	duckdb_prepare(x->con, "INSERT INTO bench_raw (id, name, email, score, created_at, updated_at) VALUES (nextval('bench_raw_id_seq'), ?, ?, ?, ?, ?) RETURNING id", &x->ins);
	duckdb_prepare(x->con, "SELECT id, name, email, score, created_at, updated_at, deleted_at FROM bench_raw WHERE id = ? AND deleted_at IS NULL", &x->get);
	duckdb_prepare(x->con, "UPDATE bench_raw SET name = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL", &x->upd);
	duckdb_prepare(x->con, "SELECT id, name, email, score, created_at, updated_at, deleted_at FROM bench_raw WHERE email = ? AND deleted_at IS NULL ORDER BY id", &x->find);
	duckdb_prepare(x->con, RAW_PAGE_COUNT, &x->page_count);
	duckdb_prepare(x->con, RAW_PAGE, &x->page);
	duckdb_prepare(x->con, RAW_COUNT, &x->count);
	duckdb_prepare(x->con, RAW_EXISTS, &x->exists);
	duckdb_prepare(x->con, RAW_SOFT_DELETE, &x->sdel);
	duckdb_prepare(x->con, RAW_RESTORE, &x->rest);
	duckdb_prepare(x->con, RAW_HARD_DELETE, &x->hdel);
	duckdb_prepare(x->con, RAW_EACH, &x->each);
	return x;
}

static void d_close(void *p)
{
	h *x = p;
	duckdb_destroy_prepare(&x->ins);
	duckdb_destroy_prepare(&x->get);
	duckdb_destroy_prepare(&x->upd);
	duckdb_destroy_prepare(&x->find);
	duckdb_destroy_prepare(&x->page_count);
	duckdb_destroy_prepare(&x->page);
	duckdb_destroy_prepare(&x->count);
	duckdb_destroy_prepare(&x->exists);
	duckdb_destroy_prepare(&x->sdel);
	duckdb_destroy_prepare(&x->rest);
	duckdb_destroy_prepare(&x->hdel);
	duckdb_destroy_prepare(&x->each);
	duckdb_disconnect(&x->con);
	duckdb_close(&x->db);
	free(x);
}

static int d_create(void *p, int64_t i)
{
	h *x = p;
	char name[32], email[64];
	duckdb_timestamp ts = { bench_now() };

	snprintf(name, sizeof(name), "user %lld", (long long)i);
	bench_email(email, sizeof(email), i);
	duckdb_bind_varchar(x->ins, 1, name);
	duckdb_bind_varchar(x->ins, 2, email);
	duckdb_bind_double(x->ins, 3, (double)i * 0.5);
	duckdb_bind_timestamp(x->ins, 4, ts);
	duckdb_bind_timestamp(x->ins, 5, ts);
	return run(x->ins) == 1 ? 0 : -1;
}

static int d_get(void *p, int64_t id)
{
	h *x = p;

	duckdb_bind_int64(x->get, 1, id);
	return run(x->get) == 1 ? 0 : -1;
}

static int d_update(void *p, int64_t id, int64_t i)
{
	h *x = p;
	char name[32];
	duckdb_timestamp ts = { bench_now() };

	snprintf(name, sizeof(name), "renamed %lld", (long long)i);
	duckdb_bind_varchar(x->upd, 1, name);
	duckdb_bind_timestamp(x->upd, 2, ts);
	duckdb_bind_int64(x->upd, 3, id);
	return run(x->upd) == (idx_t)-1 ? -1 : 0;
}

static int d_find(void *p, const char *email)
{
	h *x = p;
	idx_t n;

	duckdb_bind_varchar(x->find, 1, email);
	n = run(x->find);
	return n == (idx_t)-1 || n == 0 ? -1 : 0;
}

/* A one-row, one-BIGINT statement. */
static int scalar(duckdb_prepared_statement st, int64_t *out)
{
	duckdb_result res;
	int ok;

	if (duckdb_execute_prepared(st, &res) != DuckDBSuccess) {
		fprintf(stderr, "raw duckdb: %s\n", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return -1;
	}
	ok = duckdb_row_count(&res) == 1;
	*out = ok ? duckdb_value_int64(&res, 0, 0) : 0;
	duckdb_destroy_result(&res);
	return ok ? 0 : -1;
}

/* A write of exactly one row. */
static int write_one(duckdb_prepared_statement st)
{
	duckdb_result res;
	int ok;

	if (duckdb_execute_prepared(st, &res) != DuckDBSuccess) {
		fprintf(stderr, "raw duckdb: %s\n", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return -1;
	}
	ok = duckdb_rows_changed(&res) == 1;
	duckdb_destroy_result(&res);
	return ok ? 0 : -1;
}

static int d_paginate(void *p, double below, int64_t page, int64_t size)
{
	h *x = p;
	int64_t total;
	idx_t n;

	duckdb_bind_double(x->page_count, 1, below);
	if (scalar(x->page_count, &total) < 0)
		return -1;
	duckdb_bind_double(x->page, 1, below);
	duckdb_bind_int64(x->page, 2, size);
	duckdb_bind_int64(x->page, 3, (page - 1) * size);
	n = run(x->page);
	return n == (idx_t)-1 || n == 0 || total == 0 ? -1 : 0;
}

static int d_count(void *p, const char *email)
{
	h *x = p;
	int64_t n;

	duckdb_bind_varchar(x->count, 1, email);
	return scalar(x->count, &n) == 0 && n > 0 ? 0 : -1;
}

static int d_exists(void *p, int64_t id)
{
	h *x = p;
	int64_t one;

	duckdb_bind_int64(x->exists, 1, id);
	return scalar(x->exists, &one);
}

static int d_soft_delete(void *p, int64_t id)
{
	h *x = p;
	duckdb_timestamp ts = { bench_now() };

	duckdb_bind_timestamp(x->sdel, 1, ts);
	duckdb_bind_timestamp(x->sdel, 2, ts);
	duckdb_bind_int64(x->sdel, 3, id);
	return write_one(x->sdel);
}

static int d_restore(void *p, int64_t id)
{
	h *x = p;
	duckdb_timestamp ts = { bench_now() };

	duckdb_bind_timestamp(x->rest, 1, ts);
	duckdb_bind_int64(x->rest, 2, id);
	return write_one(x->rest);
}

static int d_hard_delete(void *p, int64_t id)
{
	h *x = p;

	duckdb_bind_int64(x->hdel, 1, id);
	return write_one(x->hdel);
}

/* Every value of a chunk read, as a per-row callback would see it: text by its length. */
static void touch_chunk(duckdb_data_chunk chunk)
{
	volatile size_t sink = 0;
	idx_t c, r, ncols = duckdb_data_chunk_get_column_count(chunk), nrows = duckdb_data_chunk_get_size(chunk);

	for (c = 0; c < ncols; c++) {
		duckdb_vector v = duckdb_data_chunk_get_vector(chunk, c);
		duckdb_logical_type t = duckdb_vector_get_column_type(v);
		duckdb_type id = duckdb_get_type_id(t);
		uint64_t *valid = duckdb_vector_get_validity(v);
		void *data = duckdb_vector_get_data(v);
		for (r = 0; r < nrows; r++) {
			if (!duckdb_validity_row_is_valid(valid, r))
				continue;
			if (id == DUCKDB_TYPE_VARCHAR)
				sink += duckdb_string_t_length(((duckdb_string_t *)data)[r]);
			else
				sink += (size_t)((int64_t *)data)[r];
		}
		duckdb_destroy_logical_type(&t);
	}
	(void)sink;
}

static int64_t d_each(void *p)
{
	h *x = p;
	duckdb_result res;
	duckdb_data_chunk chunk;
	int64_t rows = 0;

	if (duckdb_execute_prepared(x->each, &res) != DuckDBSuccess) {
		fprintf(stderr, "raw duckdb: %s\n", duckdb_result_error(&res));
		duckdb_destroy_result(&res);
		return -1;
	}
	while ((chunk = duckdb_fetch_chunk(res)) != NULL) {
		touch_chunk(chunk);
		rows += (int64_t)duckdb_data_chunk_get_size(chunk);
		duckdb_destroy_data_chunk(&chunk);
	}
	duckdb_destroy_result(&res);
	return rows;
}

const raw_ops raw_duckdb = { "duckdb", d_open, d_close, d_create, d_get, d_update, d_find,
	d_paginate, d_count, d_exists, d_soft_delete, d_restore, d_hard_delete, d_each };
