#include <stdlib.h>

#include "repo/rows.h"
#include "util/error.h"

int dal__rows_push(dal_rows *rows, dal_row *row)
{
	if (rows->count == rows->cap) {
		size_t cap = rows->cap ? rows->cap * 2 : 16;
		dal_row **items = realloc(rows->items, cap * sizeof(*items));
		if (!items)
			return dal__error_nomem();
		rows->items = items;
		rows->cap = cap;
	}
	rows->items[rows->count++] = row;
	return 0;
}

void dal_rows_free(dal_rows *rows)
{
	size_t i;

	if (!rows)
		return;
	for (i = 0; i < rows->count; i++)
		dal_row_free(rows->items[i]);
	free(rows->items);
	free(rows);
}

size_t dal_rows_count(const dal_rows *rows)
{
	return rows ? rows->count : 0;
}

const dal_row *dal_rows_at(const dal_rows *rows, size_t i)
{
	if (!rows || i >= rows->count) {
		dal__error(DAL_EINVAL, "row index %zu out of range", i);
		return NULL;
	}
	return rows->items[i];
}

dal_row *dal_rows_take(dal_rows *rows, size_t i)
{
	dal_row *row;

	if (!rows || i >= rows->count) {
		dal__error(DAL_EINVAL, "row index %zu out of range", i);
		return NULL;
	}
	row = rows->items[i];
	rows->items[i] = NULL;
	return row;
}
