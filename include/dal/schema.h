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
	DAL_AUTO_MIGRATE = 1u << 0   /**< create missing tables and indexes */
} dal_init_flag;

/**
 * Make sure every model has its table. With DAL_AUTO_MIGRATE, missing tables
 * and indexes are created (with each engine's autoincrement and types); nothing
 * that exists is changed and no data is touched, so it is safe to call at every
 * start. Without it, a missing table is DAL_ENOTFOUND.
 *
 * A DAL_UNIQUE column of a soft-delete model is unique among live rows only: a
 * partial unique index where the engine has them, otherwise (DuckDB) checked by
 * dal inside the write's transaction.
 *
 * @param models array of @p n models (borrowed for the call)
 * @return DAL_OK; DAL_EINVAL for an invalid model; DAL_ENOTFOUND naming a missing
 *         table (without DAL_AUTO_MIGRATE); errors from the engine.
 */
DAL_API int dal_init_database(dal_db *db, const dal_model *const *models, size_t n, unsigned flags);

DAL_END_DECLS

#endif
