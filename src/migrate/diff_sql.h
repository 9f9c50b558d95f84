/* The SQL of a migration that brings one table to its model. Internal. */
#ifndef DAL_MIGRATE_DIFF_SQL_H
#define DAL_MIGRATE_DIFF_SQL_H

#include "repo/shape.h"
#include "util/str.h"

/* The statements, each ended by ";\n", appended to `out`: the table made where it is
 * missing (`shape` NULL), else changed by `shape`'s differences; then the indexes in
 * `missing_index` (one flag per model column). Where the table would have to be rebuilt
 * and other tables' foreign keys point at it (`referenced`), a comment saying so instead. */
int dal__diff_sql_table(dal_str *out, const dal_driver *drv, const dal_model *m, const dal__shape *shape,
                        const bool *missing_index, bool referenced);

#endif
