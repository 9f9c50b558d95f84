#include "uow.h"

/* Units of work land with their own issue; until then no thread has one open. */
dal_conn *dal__uow_conn(dal_db *db)
{
	(void)db;
	return NULL;
}
