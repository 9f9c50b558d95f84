/* SQL text from a model, per dialect. Identifiers come only from the model;
 * every value is a `?` parameter. Internal. */
#ifndef DAL_SQL_BUILD_H
#define DAL_SQL_BUILD_H

#include "dal/criteria.h"
#include "dal/model.h"
#include "driver/driver.h"
#include "util/str.h"

/* "c1", "c2", ... in model order. */
int dal__sql_columns(dal_str *out, const dal_dialect *d, const dal_model *m);
/* INSERT of the columns whose bit is set in `set` (model order), RETURNING every column. */
int dal__sql_insert(dal_str *out, const dal_dialect *d, const dal_model *m, const bool *set);
/* SELECT every column WHERE id = ? [AND deleted_at IS NULL]; `lock` locks the row read
 * where the engine locks rows (the dialect's row_lock). */
int dal__sql_get(dal_str *out, const dal_dialect *d, const dal_model *m, bool live_only, bool lock);
/* SELECT 1 WHERE id = ? [AND deleted_at IS NULL]: whether the row is there, reading none of it. */
int dal__sql_exists(dal_str *out, const dal_dialect *d, const dal_model *m, bool live_only);
/* UPDATE the set columns WHERE id = ? and deleted_at IS NULL / IS NOT NULL / either
 * (deleted: -1 / 1 / 0), RETURNING every column when `returning`. */
int dal__sql_update(dal_str *out, const dal_dialect *d, const dal_model *m, const bool *set,
                    int deleted, bool returning);
/* DELETE WHERE id = ?. */
int dal__sql_delete(dal_str *out, const dal_dialect *d, const dal_model *m);
/* SELECT 1 of a live row but id ? whose column `col` = ?: unique among live rows, where dal checks it. */
int dal__sql_unique_probe(dal_str *out, const dal_dialect *d, const dal_model *m, int col);
/* SELECT 1 FROM the table WHERE 1 = 0: fails where there is no such table, on every engine's catalog. */
int dal__sql_table_probe(dal_str *out, const dal_dialect *d, const dal_model *m);

/* What dal__sql_select() reads: the rows, or one value of them all; or a page: the
 * rows (limit and offset of the criteria) each followed by the count of all matching
 * rows, and where there are none, one row of NULLs and the count. ANY_ID: the id of
 * one matching row, no matter which (LIMIT 1 without ORDER BY: no sort, no scan of
 * the whole table). ID_BOUNDS: MIN(id) and MAX(id), one scan for both. */
typedef enum dal_select_kind {
	DAL_SELECT_ROWS, DAL_SELECT_COUNT, DAL_SELECT_MIN_ID, DAL_SELECT_MAX_ID, DAL_SELECT_PAGE, DAL_SELECT_ANY_ID,
	DAL_SELECT_ID_BOUNDS
} dal_select_kind;

/*
 * SELECT for criteria (NULL: all live rows). Checks every column, operator and
 * value type first (DAL_EINVAL naming column and table). `params` receives the
 * values to bind, borrowed from the criteria (the text of a long IN list's one
 * array parameter lives in the same block), and `redact` (NULL: not wanted)
 * which of them are values of DAL_SENSITIVE columns; free both with free().
 */
int dal__sql_select(dal_str *out, dal_value **params, bool **redact, size_t *nparams, const dal_dialect *d,
                    const dal_model *m, const dal_criteria *c, dal_select_kind kind);

/* Version, negative limit or offset, NULL arrays: DAL_EINVAL naming the table. */
int dal__sql_check_criteria(const dal_model *m, const dal_criteria *c);

/* CREATE statements for a model's table (and its id sequence), one per entry of `out` (split on
 * DAL_SQL_SEP); its column indexes come one by one from dal__sql_create_column_index(). */
int dal__sql_create_table(dal_str *out, const dal_driver *drv, const dal_model *m);
/* ALTER TABLE ... ADD COLUMN with the column's DDL as CREATE TABLE has it. */
int dal__sql_add_column(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c);

/* An index name: at most 63 bytes, PostgreSQL's limit; with the NUL, the size of its buffer. */
#define DAL__SQL_INDEX_NAME_MAX 64

/* The one index dal declares for a column. */
typedef struct dal__sql_index {
	bool unique;                          /* UNIQUE */
	bool partial;                         /* WHERE deleted_at IS NULL: unique among live rows */
	char name[DAL__SQL_INDEX_NAME_MAX];   /* dal__sql_index_name() */
} dal__sql_index;

/*
 * The name of the index on `table`.`col`: ux_ (unique) or ix_, the table's length, _table_col;
 * where that exceeds 63 bytes, ux_<first 30 of table>_<first 10 of col>_<FNV-1a 64 of
 * (kind, table, col) in 16 hex digits>. Distinct (kind, table, col) give distinct names.
 */
void dal__sql_index_name(char out[DAL__SQL_INDEX_NAME_MAX], bool unique, const char *table, const char *col);
/* The index `c` of `m` needs on this engine (false: none; the primary key has its own). */
bool dal__sql_index_decl(dal__sql_index *out, const dal_driver *drv, const dal_model *m, const dal_column *c);
/* CREATE [UNIQUE] INDEX IF NOT EXISTS of dal__sql_index_decl(); nothing where there is none. */
int dal__sql_create_column_index(dal_str *out, const dal_driver *drv, const dal_model *m, const dal_column *c);

/* CREATE INDEX IF NOT EXISTS `name` ON `table` (cols...): an index over several columns. */
int dal__sql_create_index(dal_str *out, const dal_dialect *d, const char *table, const char *name,
                          const char *const *cols, size_t ncols);

#define DAL_SQL_SEP "\n;\n"

/* The LIMIT of an OFFSET without one: 2^62 - 1, as DuckDB refuses a LIMIT above 2^62. */
#define DAL__SQL_NO_LIMIT (INT64_MAX >> 1)

/* A limit or offset as bound: no table holds DAL__SQL_NO_LIMIT rows, so a larger
 * one reads the same, and DuckDB refuses a LIMIT or OFFSET above it. */
static inline int64_t dal__sql_row_bound(int64_t n)
{
	return n < DAL__SQL_NO_LIMIT ? n : DAL__SQL_NO_LIMIT;
}

#endif
