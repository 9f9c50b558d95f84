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
	/* The naive page: COUNT of the rows with score < below, then that page of them by id
	 * (LIMIT/OFFSET), two prepared statements outside a transaction. */
	int (*paginate)(void *h, double below, int64_t page, int64_t size);
	int (*count)(void *h, const char *email);       /* live rows with that email */
	int (*exists)(void *h, int64_t id);             /* whether that live row exists */
	int (*soft_delete)(void *h, int64_t id);        /* deleted_at and updated_at set, committed */
	int (*restore)(void *h, int64_t id);            /* deleted_at cleared, updated_at set, committed */
	int (*hard_delete)(void *h, int64_t id);        /* DELETE, committed */
	int64_t (*each)(void *h);                       /* every live row by id, every column; rows read, -1 on failure */
} raw_ops;

/* The SQL of the raw side's newer operations, alike on every engine but the placeholders
 * (PostgreSQL's raw side numbers them itself). */
#define RAW_COLS "id, name, email, score, created_at, updated_at, deleted_at"
#define RAW_PAGE_COUNT "SELECT COUNT(*) FROM bench_raw WHERE score < ? AND deleted_at IS NULL"
#define RAW_PAGE "SELECT " RAW_COLS " FROM bench_raw WHERE score < ? AND deleted_at IS NULL ORDER BY id LIMIT ? OFFSET ?"
#define RAW_COUNT "SELECT COUNT(*) FROM bench_raw WHERE email = ? AND deleted_at IS NULL"
#define RAW_EXISTS "SELECT 1 FROM bench_raw WHERE id = ? AND deleted_at IS NULL"
#define RAW_SOFT_DELETE "UPDATE bench_raw SET updated_at = ?, deleted_at = ? WHERE id = ? AND deleted_at IS NULL"
#define RAW_RESTORE "UPDATE bench_raw SET updated_at = ?, deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL"
#define RAW_HARD_DELETE "DELETE FROM bench_raw WHERE id = ?"
#define RAW_EACH "SELECT " RAW_COLS " FROM bench_raw WHERE deleted_at IS NULL ORDER BY id"

extern const raw_ops raw_sqlite;
extern const raw_ops raw_duckdb;
extern const raw_ops raw_postgres;

/* The timestamp text SQLite stores, and the UTC microseconds others take. */
int64_t bench_now(void);
void bench_email(char *buf, size_t n, int64_t i);

#endif
