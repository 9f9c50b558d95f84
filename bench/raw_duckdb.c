#include <duckdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

typedef struct h {
	duckdb_database db;
	duckdb_connection con;
	duckdb_prepared_statement ins, get, upd, find;
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
	return x;
}

static void d_close(void *p)
{
	h *x = p;
	duckdb_destroy_prepare(&x->ins);
	duckdb_destroy_prepare(&x->get);
	duckdb_destroy_prepare(&x->upd);
	duckdb_destroy_prepare(&x->find);
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

const raw_ops raw_duckdb = { "duckdb", d_open, d_close, d_create, d_get, d_update, d_find };
