/* Whether an existing table has the shape its model declares. Internal. */
#ifndef DAL_REPO_SHAPE_H
#define DAL_REPO_SHAPE_H

#include "dal/model.h"
#include "driver/driver.h"

/* 0 if table m->table has every column of `m` with its type's family and a nullability
 * creates can live with, and no NOT NULL column without a default the model leaves out;
 * else DAL_ESCHEMA naming every difference. The table must exist. */
int dal__table_shape_check(dal_conn *conn, const dal_model *m);

#endif
