#ifndef DAL_ROW_INTERNAL_H
#define DAL_ROW_INTERNAL_H

#include "dal/row.h"

/*
 * Convert @p in to the type of column @p col as stored by an engine (SQLite
 * gives timestamps as text and bools as integers). Text stays borrowed; @p out
 * may be @p in.
 * DAL_EINVAL names the table and column when the value does not fit.
 */
int dal__value_to_column(dal_value *out, const dal_model *model, size_t col, const dal_value *in);

/*
 * A value about to be written to column @p col (already converted to its type):
 * text within the column's length in characters, a finite double (SQLite would
 * store NaN as NULL: one rule on every engine), valid JSON in a JSON column
 * (PostgreSQL would refuse it, SQLite store it). DAL_EINVAL naming the column.
 */
int dal__value_check(const dal_model *model, size_t col, const dal_value *v);

/*
 * Which values bound for the columns of @p set (model order; NULL: every column)
 * are DAL_SENSITIVE, in the order they are bound: the echo of parameters redacts
 * them. Returns how many were written to @p out.
 */
size_t dal__redact_of(bool *out, const dal_model *model, const bool *set);

/*
 * dal_row_new with room for @p bytes of text and blobs already made, so that a
 * dal__row_fill of that much allocates nothing.
 */
int dal__row_new_reserved(dal_row **out, const dal_model *model, size_t bytes);

/* Copy @p n engine values (already converted) into the row in one block. */
int dal__row_fill(dal_row *row, const dal_value *vals, size_t n);

/*
 * The row's values, to be set in place for a fill whose text and blobs are
 * borrowed from the engine, valid until the statement steps: for the row a
 * dal_repo_each callback is lent for its call only; never hand it out beyond.
 */
dal_value *dal__row_borrow(dal_row *row);

#endif
