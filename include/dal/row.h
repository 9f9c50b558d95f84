/**
 * @file dal/row.h
 * @brief dal_row: one entity of a model, one value per column.
 *
 * Made by the repository (or dal_row_new), freed with dal_row_free().
 * Not synchronized, may move between threads.
 */
#ifndef DAL_ROW_H
#define DAL_ROW_H

#include "dal/common.h"
#include "dal/value.h"
#include "dal/model.h"

DAL_BEGIN_DECLS

/** One entity. Constructor dal_row_new(), destructor dal_row_free(). */
typedef struct dal_row dal_row;

/**
 * A row of @p model with every column NULL.
 *
 * @param out the row; owned by the caller, free with dal_row_free(). NULL on failure.
 * @param model borrowed: must outlive the row
 * @return DAL_OK; DAL_EINVAL if an argument is NULL; DAL_ENOMEM.
 */
DAL_API int dal_row_new(dal_row **out, const dal_model *model);

/** Free a row. NULL is a no-op. */
DAL_API void dal_row_free(dal_row *row);

/** The row's model (borrowed). */
DAL_API const dal_model *dal_row_model(const dal_row *row);

/** Number of columns, as in the model. 0 for NULL. */
DAL_API size_t dal_row_count(const dal_row *row);

/**
 * The value of column @p index.
 *
 * @return borrowed, valid until the row is freed or that column is set; NULL
 *         (and DAL_EINVAL in dal_error_last()) for a NULL row or an index out of range.
 */
DAL_API const dal_value *dal_row_at(const dal_row *row, size_t index);

/**
 * The value of the column named @p column.
 *
 * @return borrowed, as dal_row_at(); NULL (and DAL_EINVAL naming the column and
 *         table) if the model has no such column.
 */
DAL_API const dal_value *dal_row_get(const dal_row *row, const char *column);

/**
 * Set a column to a copy of @p value.
 *
 * @return DAL_OK; DAL_EINVAL for an unknown column or a value whose type does not
 *         fit the column (an int fits a double or timestamp column); DAL_ENOMEM.
 */
DAL_API int dal_row_set(dal_row *row, const char *column, const dal_value *value);

/** The primary key (the id column every model has); 0 for a NULL row. */
DAL_API int64_t dal_row_id(const dal_row *row);

/** Convenience: the int64 of a column; 0 if NULL, unknown or not an int. */
DAL_API int64_t dal_row_int(const dal_row *row, const char *column);

/** Convenience: the text of a column (borrowed, NUL-terminated); NULL if NULL or not text. */
DAL_API const char *dal_row_text(const dal_row *row, const char *column);

/** Convenience: the double of a column; 0 if NULL or not a number. */
DAL_API double dal_row_double(const dal_row *row, const char *column);

/** Convenience: the bool of a column; false if NULL or not a bool. */
DAL_API bool dal_row_bool(const dal_row *row, const char *column);

/** Convenience: the timestamp of a column (UTC microseconds); 0 if NULL or not a timestamp. */
DAL_API int64_t dal_row_timestamp(const dal_row *row, const char *column);

/** Whether a column is NULL (true also for an unknown column). */
DAL_API bool dal_row_is_null(const dal_row *row, const char *column);

DAL_END_DECLS

#endif
