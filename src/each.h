/* The rows this thread is streaming to dal_repo_each / dal_query_each callbacks,
 * so that a dal call made from inside one fails at once where it could only
 * block or break the stream (docs/threading.md). Internal. */
#ifndef DAL_EACH_H
#define DAL_EACH_H

#include "driver/driver.h"

/* One callback running: on the caller's stack from enter to leave. */
typedef struct dal__each_frame {
	const dal_conn *conn;           /* the connection streaming the rows */
	const char *what;               /* "dal_repo_each" or "dal_query_each" */
	const char *instead;            /* the call that reads the rows whole first */
	struct dal__each_frame *outer;
} dal__each_frame;

void dal__each_enter(dal__each_frame *f, const dal_conn *conn, const char *what, const char *instead);
void dal__each_leave(dal__each_frame *f);
/* DAL_EINVAL, with the message, if `conn` (a unit of work's) is streaming rows to a callback of this thread. */
int dal__each_check(const dal_conn *conn);
/* How many connections of `db` this thread holds streaming rows to its callbacks;
 * *innermost is the latest of them (NULL when none). */
int dal__each_held(const struct dal_db *db, const dal__each_frame **innermost);

#endif
