#ifndef DAL_ROW_INTERNAL_H
#define DAL_ROW_INTERNAL_H

#include "dal/row.h"

/*
 * Convert @p in to the type of column @p col as stored by an engine (SQLite
 * gives timestamps as text and bools as integers). Text stays borrowed.
 * DAL_EINVAL names the table and column when the value does not fit.
 */
int dal__value_to_column(dal_value *out, const dal_model *model, size_t col, const dal_value *in);

/* Copy @p n engine values (already converted) into the row in one block. */
int dal__row_fill(dal_row *row, const dal_value *vals, size_t n);

#endif
