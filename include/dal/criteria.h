/**
 * @file dal/criteria.h
 * @brief What to read: filters, order, limit, offset, soft-deleted rows, keyset position.
 *
 * (Not `dal_query`: that name is the raw-SQL function dal_query().)
 *
 * @code
 * dal_filter f[] = { DAL_EQ("email", dal_text("a@b.c")), DAL_WHERE("age", DAL_OP_GE, dal_int(18)) };
 * dal_order o[] = { { "created_at", true } };
 * dal_criteria c = DAL_CRITERIA_WHERE(f);
 * c.order = o; c.norder = DAL_COUNT(o); c.limit = 20;
 * @endcode
 */
#ifndef DAL_CRITERIA_H
#define DAL_CRITERIA_H

#include "dal/common.h"
#include "dal/value.h"

DAL_BEGIN_DECLS

struct dal_row;

/** Filter operators. */
typedef enum dal_op {
	DAL_OP_EQ = 0,
	DAL_OP_NE,
	DAL_OP_LT,
	DAL_OP_LE,
	DAL_OP_GT,
	DAL_OP_GE,
	DAL_OP_LIKE,        /**< SQL LIKE; '\\' escapes '%', '_' and itself */
	/**
	 * column IN (values[0..nvalues)); an empty list matches nothing. A NULL value is
	 * DAL_EINVAL (IN never matches NULL; use DAL_OP_IS_NULL). Any length on every engine
	 * for bool, int, double, text and timestamp columns (docs/engines.md).
	 */
	DAL_OP_IN,
	DAL_OP_IS_NULL,
	DAL_OP_IS_NOT_NULL
} dal_op;

/** One condition; all filters of a criteria must hold (AND). Values are bound, never SQL text. */
typedef struct dal_filter {
	const char *column;        /**< a column of the model */
	dal_op op;
	dal_value value;           /**< for EQ..LIKE */
	const dal_value *values;   /**< for IN (borrowed for the call) */
	size_t nvalues;
} dal_filter;

#define DAL_WHERE(col, op, val) { (col), (op), (val), NULL, 0 }
#define DAL_WHERE_IN(col, vals, n) { (col), DAL_OP_IN, { DAL_TYPE_NULL, 0, { 0 } }, (vals), (n) }
/** column = value, the common case: `DAL_EQ("email", dal_text("a@b.c"))`. */
#define DAL_EQ(col, val) DAL_WHERE((col), DAL_OP_EQ, (val))

/** One sort key. The primary key always follows as the tie-breaker. */
typedef struct dal_order {
	const char *column;
	bool desc;
} dal_order;

#define DAL_CRITERIA_VERSION 1

/** Criteria for find, each, count and paginate. Start from DAL_CRITERIA_INIT. */
typedef struct dal_criteria {
	unsigned int version;          /**< DAL_CRITERIA_VERSION */
	const dal_filter *filters;     /**< borrowed for the call */
	size_t nfilters;
	const dal_order *order;        /**< default: by id ascending */
	size_t norder;
	int64_t limit;                 /**< 0 = no limit; negative is DAL_EINVAL */
	int64_t offset;                /**< negative is DAL_EINVAL */
	bool include_deleted;          /**< also rows with deleted_at set */
	/**
	 * Keyset pagination: only rows that sort after this row (by the order
	 * columns, then id). Pass the last row of the previous page. The order
	 * columns should be NOT NULL. Borrowed for the call.
	 */
	const struct dal_row *after;
} dal_criteria;

#define DAL_CRITERIA_INIT { DAL_CRITERIA_VERSION, NULL, 0, NULL, 0, 0, 0, false, NULL }
/**
 * Criteria over a static array of filters (all must hold), the rest as
 * DAL_CRITERIA_INIT: `dal_criteria c = DAL_CRITERIA_WHERE(f);` then set what else you need.
 */
#define DAL_CRITERIA_WHERE(filters) \
	{ DAL_CRITERIA_VERSION, (filters), DAL_COUNT(filters), NULL, 0, 0, 0, false, NULL }

DAL_END_DECLS

#endif
