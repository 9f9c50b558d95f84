#ifndef DAL_ROWS_INTERNAL_H
#define DAL_ROWS_INTERNAL_H

#include "dal/rows.h"

struct dal_rows {
	dal_row **items;
	size_t count, cap;
};

int dal__rows_push(dal_rows *rows, dal_row *row);

#endif
