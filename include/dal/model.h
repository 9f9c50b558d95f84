/**
 * @file dal/model.h
 * @brief dal_model: a static description of a table.
 *
 * Roles are found by column name: "id" (int64 primary key, autoincrement),
 * "created_at" and "updated_at" (filled by dal), "deleted_at" (enables soft delete).
 *
 * @code
 * static const dal_column user_cols[] = {
 *     DAL_COL_ID(),
 *     DAL_COL("name",  DAL_TYPE_TEXT, DAL_NOT_NULL, 100),
 *     DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 255),
 *     DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
 * };
 * static const dal_model users = DAL_MODEL("users", user_cols);
 * @endcode
 *
 * Models are read-only data; dal never writes to them. Thread-safe.
 */
#ifndef DAL_MODEL_H
#define DAL_MODEL_H

#include "dal/common.h"
#include "dal/value.h"

DAL_BEGIN_DECLS

/** Column flags. */
typedef enum dal_column_flag {
	DAL_PRIMARY_KEY = 1u << 0,  /**< the primary key; with DAL_TYPE_INT it autoincrements */
	DAL_NOT_NULL = 1u << 1,
	DAL_UNIQUE = 1u << 2,       /**< on a soft-delete model: unique among live rows */
	DAL_INDEX = 1u << 3,
	/**
	 * A timestamp that dal_repo_create() and dal_repo_bulk_create() fill with the
	 * current time when it is not given (one reading of the clock per call, the
	 * one created_at gets); a value given, NULL too, is kept. Filled by dal, not
	 * by a DEFAULT in the table's DDL.
	 */
	DAL_DEFAULT_NOW = 1u << 4,
	DAL_SENSITIVE = 1u << 5     /**< never written to logs or the audit trail in clear */
} dal_column_flag;

/** One column. */
typedef struct dal_column {
	const char *name;    /**< an identifier: [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes */
	dal_type type;       /**< not DAL_TYPE_NULL */
	unsigned flags;      /**< dal_column_flag bits */
	unsigned length;     /**< maximum length of text in characters; 0 = unlimited */
} dal_column;

/** A table. */
typedef struct dal_model {
	const char *table;          /**< an identifier, as for columns */
	const dal_column *columns;  /**< borrowed: must outlive every repository on the model */
	size_t ncolumns;
} dal_model;

#define DAL_COL(name, type, flags, length) { (name), (type), (flags), (length) }
#define DAL_COL_ID() DAL_COL("id", DAL_TYPE_INT, DAL_PRIMARY_KEY | DAL_NOT_NULL, 0)
#define DAL_COL_CREATED_AT() DAL_COL("created_at", DAL_TYPE_TIMESTAMP, DAL_NOT_NULL | DAL_DEFAULT_NOW, 0)
#define DAL_COL_UPDATED_AT() DAL_COL("updated_at", DAL_TYPE_TIMESTAMP, DAL_NOT_NULL | DAL_DEFAULT_NOW, 0)
#define DAL_COL_DELETED_AT() DAL_COL("deleted_at", DAL_TYPE_TIMESTAMP, DAL_INDEX, 0)
/** A model from a table name and a static array of columns. */
#define DAL_MODEL(table, cols) { (table), (cols), sizeof(cols) / sizeof((cols)[0]) }

/**
 * Check a model: identifiers, types, roles (id is an int primary key, the
 * timestamp roles are timestamps), DAL_DEFAULT_NOW only on timestamps, no
 * duplicate columns.
 *
 * @return DAL_OK; DAL_EINVAL naming the table and column at fault.
 */
DAL_API int dal_model_validate(const dal_model *model);

/** Index of a column by name, or -1 (no error is set). */
DAL_API int dal_model_column_index(const dal_model *model, const char *name);

/** Whether the model has a deleted_at column and so supports soft delete. */
DAL_API bool dal_model_soft_delete(const dal_model *model);

DAL_END_DECLS

#endif
