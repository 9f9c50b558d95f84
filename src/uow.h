/* Units of work as the other layers see them. Internal. */
#ifndef DAL_UOW_INTERNAL_H
#define DAL_UOW_INTERNAL_H

#include "db.h"

/* The connection of this thread's open unit of work on `db`, or NULL. */
dal_conn *dal__uow_conn(dal_db *db);
/* At dal_close: roll back every unit still open on `db` (any thread), log it, leave the handles dead. */
void dal__uow_close_all(dal_db *db);

#endif
