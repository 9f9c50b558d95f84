/* The connection and transaction one repository call runs in: the thread's
 * unit of work on that dal_db if one is open, else a pooled connection with
 * a transaction of the call's own. Internal. */
#ifndef DAL_SESSION_H
#define DAL_SESSION_H

#include "db.h"

/* dal__session_open() `tx` flags, beyond the DAL__TX_* begin flags. */
#define DAL__SESSION_TX (1u << 16)   /* needs a transaction (several statements) */

typedef struct dal_session {
	dal_db *db;
	dal_conn *conn;
	bool owned;     /* the connection was lent for this call */
	bool began;     /* this call began the transaction */
} dal_session;

int dal__session_open(dal_session *s, dal_db *db, unsigned tx);
/* Commit (error >= 0) or roll back what this call began; give the connection back.
 * Returns `error`, or the commit's error. */
int dal__session_close(dal_session *s, int error);

#endif
