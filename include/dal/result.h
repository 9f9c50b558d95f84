/**
 * @file dal/result.h
 * @brief dal_result: the rows of a raw query (dal_query()).
 *
 * Constructor dal_query(), destructor dal_result_free().
 * Not synchronized, may move between threads.
 */
#ifndef DAL_RESULT_H
#define DAL_RESULT_H

#include "dal/common.h"
#include "dal/value.h"

DAL_BEGIN_DECLS

typedef struct dal_result dal_result;

/** Free a result. NULL is a no-op. */
DAL_API void dal_result_free(dal_result *res);

/** Number of rows; 0 for NULL. */
DAL_API size_t dal_result_rows(const dal_result *res);

/** Number of columns; 0 for NULL. */
DAL_API size_t dal_result_columns(const dal_result *res);

/** Name of a column (borrowed, valid until the result is freed); NULL if out of range. */
DAL_API const char *dal_result_column_name(const dal_result *res, size_t col);

/**
 * The value at (@p row, @p col), typed as the engine reports it (on SQLite a
 * timestamp column reads back as its ISO-8601 text).
 *
 * @return borrowed, valid until the result is freed; NULL (and DAL_EINVAL) if out of range.
 */
DAL_API const dal_value *dal_result_get(const dal_result *res, size_t row, size_t col);

DAL_END_DECLS

#endif
