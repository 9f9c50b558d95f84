/* The model every benchmark writes, with the raw side's tables made alike. */
#ifndef DAL_BENCH_MODEL_H
#define DAL_BENCH_MODEL_H

#include <dal/model.h>

/* id, name, email (indexed), score, created_at, updated_at, deleted_at (soft delete). */
#define BENCH_COLUMNS \
	DAL_COL_ID(), \
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0), \
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_INDEX, 0), \
	DAL_COL("score", DAL_TYPE_DOUBLE, 0, 0), \
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT()

#endif
