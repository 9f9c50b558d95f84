/* Units of work as the other layers see them. Internal. */
#ifndef DAL_UOW_INTERNAL_H
#define DAL_UOW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dal/uow.h"
#include "db.h"
#include "tx.h"

/* The transaction of this thread's open unit of work on `db`, or NULL (no unit open). */
dal__tx *dal__uow_tx(dal_db *db);
/* Whether the unit named `serial` is still open on this thread. */
bool dal__uow_open(dal_db *db, uint64_t serial);

/* The audit context of this thread's innermost open unit on `db` (a nested unit
 * without its own inherits its outer unit's), or NULL. Borrowed. */
const struct dal__audit_ctx *dal__uow_audit_ctx(dal_db *db);
/* A write to `table` through a repository without DAL_AUDIT in this thread's unit
 * on `db`: if the unit (or the outer one it inherits from) has an audit context,
 * log a warning naming the table and where that unit began, once per unit. */
void dal__uow_warn_unaudited(dal_db *db, const char *table);
/* At dal_close: roll back every unit still open on `db` (any thread), log it, leave the handles dead. */
void dal__uow_close_all(dal_db *db);

#endif
