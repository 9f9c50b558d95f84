/**
 * @file dal/schema.h
 * @brief Tables and indexes from models.
 */
#ifndef DAL_SCHEMA_H
#define DAL_SCHEMA_H

#include "dal/common.h"
#include "dal/db.h"
#include "dal/model.h"

DAL_BEGIN_DECLS

/** dal_init_database() flags. */
typedef enum dal_init_flag {
	DAL_AUTO_MIGRATE = 1u << 0   /**< create missing tables and indexes; add missing nullable columns */
} dal_init_flag;

#ifndef __cplusplus
/**
 * Models written in place, for the `models, n` pair of dal_init_database() and
 * dal_schema_diff() (C only: a compound literal): `DAL_MODELS(&users, &orders)`.
 */
#define DAL_MODELS(...) ((const dal_model *const[]){ __VA_ARGS__ }), \
	(sizeof((const dal_model *const[]){ __VA_ARGS__ }) / sizeof(const dal_model *))
#endif

/**
 * Make sure every model has its table. With DAL_AUTO_MIGRATE, missing tables
 * and indexes are created (with each engine's autoincrement and types); nothing
 * that exists is changed and no data is touched, so it is safe to call at every
 * start. Without it, a missing table is DAL_ENOTFOUND.
 *
 * A table that exists already must have the model's shape: every column the
 * model declares, of the same kind of type (any integer type for DAL_TYPE_INT,
 * VARCHAR or TEXT for text...), and nothing a create would fail on (NOT NULL
 * without a default on a column the model lets be NULL or leaves out). With
 * DAL_AUTO_MIGRATE, declared columns that are missing and may be NULL are added;
 * nothing is ever changed or dropped. Columns the model does not declare are
 * left alone.
 *
 * A DAL_UNIQUE column of a soft-delete model is unique among live rows only: a
 * partial unique index where the engine has them, otherwise (DuckDB) checked by
 * dal inside the write's transaction.
 *
 * @param models array of @p n models (borrowed for the call)
 * @return DAL_OK; DAL_EINVAL for an invalid model; DAL_ENOTFOUND naming a missing
 *         table (without DAL_AUTO_MIGRATE); DAL_ESCHEMA naming the table and every
 *         difference from its model, or an index that is not the one declared;
 *         errors from the engine.
 */
DAL_API int dal_init_database(dal_db *db, const dal_model *const *models, size_t n, unsigned flags);

/** A kind of difference between the models and the tables (dal_schema_diff). */
typedef enum dal_schema_change {
	DAL_SCHEMA_NO_TABLE,       /**< a model's table is missing */
	DAL_SCHEMA_NO_COLUMN,      /**< a column a model declares is missing */
	DAL_SCHEMA_TYPE,           /**< a column holds another kind of type */
	DAL_SCHEMA_NULLABILITY,    /**< NOT NULL in the table and not in the model, or the other way */
	DAL_SCHEMA_LENGTH,         /**< another text length (PostgreSQL VARCHAR(n)) */
	DAL_SCHEMA_NO_INDEX,       /**< a declared index or unique index is missing or not as declared */
	DAL_SCHEMA_EXTRA_COLUMN    /**< a column no model declares */
} dal_schema_change;

/** One difference. Strings are owned by the report. */
typedef struct dal_schema_difference {
	dal_schema_change change;
	const char *table;
	const char *column;        /**< "" for DAL_SCHEMA_NO_TABLE */
	const char *detail;        /**< the difference in words */
} dal_schema_difference;

/** What dal_schema_diff found. */
typedef struct dal_schema_report {
	dal_schema_difference *items;
	size_t count;
	/** SQL for this engine that brings the tables to the models ("" if nothing differs): a
	 * migration to review and keep (docs/migrations.md). It drops the columns no model
	 * declares, and gives rows a zero value (0, '', false...) in a column that becomes
	 * NOT NULL; on SQLite a change of type or nullability rebuilds the table. */
	const char *sql;
} dal_schema_report;

/**
 * Compare the models with the tables, by the engine's catalog, changing nothing.
 *
 * @return DAL_OK with the report (free with dal_schema_report_free); DAL_EINVAL for an
 *         invalid model.
 */
DAL_API int dal_schema_diff(dal_schema_report **out, dal_db *db, const dal_model *const *models, size_t n);

/** Free a report; NULL is a no-op. */
DAL_API void dal_schema_report_free(dal_schema_report *report);

struct dal_migrate_opts;

/**
 * dal_init_database for a schema kept in migrations (dal/migrate.h): with
 * DAL_AUTO_MIGRATE the pending migrations of @p migrations are applied first
 * (its auto_run is ignored); without it, a pending one is DAL_ESCHEMA naming it.
 * Then the models are checked (and, with DAL_AUTO_MIGRATE, completed) as by
 * dal_init_database.
 *
 * @return DAL_OK; what dal_migrate or dal_init_database returns.
 */
DAL_API int dal_init_database_migrate(dal_db *db, const struct dal_migrate_opts *migrations,
                                      const dal_model *const *models, size_t n, unsigned flags);

DAL_END_DECLS

#endif
