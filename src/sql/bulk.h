/* SQL text of the bulk operations, per dialect. Columns are given as model
 * indices (already checked); every value is a `?` parameter. Internal. */
#ifndef DAL_SQL_BULK_H
#define DAL_SQL_BULK_H

#include "dal/model.h"
#include "driver/driver.h"
#include "util/str.h"

/* The column dal adds to a staging table: the row's index in the caller's input. */
#define DAL__BULK_IDX "_dal_idx"

/* INSERT INTO t (cols) VALUES (?, ..), .. (`nrows` tuples) RETURNING id. */
int dal__sql_bulk_insert(dal_str *out, const dal_dialect *d, const dal_model *m, const int *cols, size_t ncols,
                         size_t nrows);

/* CREATE TEMP TABLE name ([_dal_idx BIGINT, ]cols) with the dialect's types. */
int dal__sql_bulk_temp(dal_str *out, const dal_dialect *d, const dal_model *m, const char *name, bool idx,
                       const int *cols, size_t ncols);

/* UPDATE t SET c = s.c, .. [, updated_at = ?] FROM name AS s WHERE t.id = s.id [AND t is live].
 * `cols` must not hold id; `stamp` adds updated_at as a parameter. */
int dal__sql_bulk_update_from(dal_str *out, const dal_dialect *d, const dal_model *m, const char *name,
                              const int *cols, size_t ncols, bool stamp, bool live_only);

/* How a bulk delete names its ids. */
typedef enum dal__bulk_ids {
	DAL__IDS_ANY,    /* id = ANY(?::bigint[]): one array parameter */
	DAL__IDS_TEMP,   /* id IN (SELECT id FROM a staging table) */
	DAL__IDS_LIST    /* id IN (?, ?, ..): `n` parameters */
} dal__bulk_ids;

/* DELETE, or for `soft` UPDATE SET deleted_at = ?[, updated_at = ?] on live rows, for the ids. */
int dal__sql_bulk_delete(dal_str *out, const dal_dialect *d, const dal_model *m, bool soft, dal__bulk_ids how,
                         const char *temp, size_t n);
/* SELECT every column for the ids [of live rows]; `lock` locks the rows read where the
 * engine locks rows (the dialect's row_lock). */
int dal__sql_bulk_select(dal_str *out, const dal_dialect *d, const dal_model *m, dal__bulk_ids how,
                         const char *temp, size_t n, bool live_only, bool lock);
/* DROP TABLE name: a staging table. */
int dal__sql_bulk_drop(dal_str *out, const dal_dialect *d, const char *name);
/* `{1,2,3}`: the ids as PostgreSQL's array input, the parameter of DAL__IDS_ANY. */
int dal__sql_bulk_id_array(dal_str *out, const int64_t *ids, size_t n);

/*
 * Unique among live rows, for a staging table `name` (with _dal_idx) holding
 * the new values of column `col`: the smallest _dal_idx whose value another
 * staged row before it has, or a live row of the table outside the batch
 * holds. With `update` the staging table also holds id, only staged rows whose
 * target is live count, and rows of the batch are not "outside".
 * One row, one column: the index or NULL.
 */
int dal__sql_bulk_unique(dal_str *out, const dal_dialect *d, const dal_model *m, const char *name, int col,
                         bool update);

#endif
