/* Benchmarks: dal against the engine's own C API in the same run. */
#ifndef DAL_BENCH_H
#define DAL_BENCH_H

#include <stdint.h>

/* The same work done with the raw engine API, on table bench_raw (same columns as
 * dal's bench_dal: id, name, email (indexed), score, created_at, updated_at, deleted_at). */
typedef struct raw_ops {
	const char *engine;
	void *(*open)(const char *target);      /* file path or PostgreSQL conninfo */
	void (*close)(void *h);
	int (*create)(void *h, int64_t i);      /* one committed insert that learns its id, as dal_repo_create does */
	int (*get)(void *h, int64_t id);        /* read every column of one row */
	int (*update)(void *h, int64_t id, int64_t i);  /* name and updated_at, committed */
	int (*find)(void *h, const char *email);/* rows with that email, every column */
} raw_ops;

extern const raw_ops raw_sqlite;
extern const raw_ops raw_duckdb;
extern const raw_ops raw_postgres;

/* The timestamp text SQLite stores, and the UTC microseconds others take. */
int64_t bench_now(void);
void bench_email(char *buf, size_t n, int64_t i);

#endif
