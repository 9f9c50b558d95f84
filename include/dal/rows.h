/**
 * @file dal/rows.h
 * @brief dal_rows: a list of entities returned by find and paginate.
 *
 * Freed with dal_rows_free(). Not synchronized, may move between threads.
 */
#ifndef DAL_ROWS_H
#define DAL_ROWS_H

#include "dal/common.h"
#include "dal/row.h"

DAL_BEGIN_DECLS

typedef struct dal_rows dal_rows;

/** Free the list and every row in it. NULL is a no-op. */
DAL_API void dal_rows_free(dal_rows *rows);

/** Number of rows; 0 for NULL. */
DAL_API size_t dal_rows_count(const dal_rows *rows);

/** Row @p i; borrowed, valid until the list is freed. NULL (DAL_EINVAL) if out of range. */
DAL_API const dal_row *dal_rows_at(const dal_rows *rows, size_t i);

/**
 * Take row @p i out of the list: the caller owns it (free with dal_row_free());
 * its place in the list becomes NULL.
 */
DAL_API dal_row *dal_rows_take(dal_rows *rows, size_t i);

DAL_END_DECLS

#endif
