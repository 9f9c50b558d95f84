/* The connection and transaction one repository call runs in: the thread's
 * unit of work on that dal_db if one is open, else a pooled connection with
 * a transaction of the call's own. Internal. */
#ifndef DAL_SESSION_H
#define DAL_SESSION_H

#include "db.h"
#include "tx.h"

/* dal__session_open() `tx` flags, beyond the DAL__TX_* begin flags. */
#define DAL__SESSION_TX    (1u << 16)  /* needs a transaction (several statements) */
#define DAL__SESSION_WRITE (1u << 17)  /* a write call of one write statement: all-or-nothing in the unit it joins */
#define DAL__SESSION_WRITE_MANY (1u << 18)  /* a write call of several statements (bulk): its own scope */

typedef struct dal_session {
	dal_db *db;
	dal_conn *conn;
	dal__tx *tx;       /* the unit's transaction, or `own` */
	dal__tx own;       /* a call outside any unit owns what it holds */
	dal__scope scope;  /* a write call in a unit: its scope */
	bool owned;        /* the connection was lent for this call */
	bool began;        /* this call began the transaction */
	bool scoped;       /* `scope` is open */
} dal_session;

int dal__session_open(dal_session *s, dal_db *db, unsigned tx);
/* Commit (error >= 0) or roll back what this call began (its transaction, or its
 * scope in the unit it joined); give the connection back. Returns `error`, or
 * the commit's error. */
int dal__session_close(dal_session *s, int error);

/* The call runs in the thread's unit of work. */
static inline bool dal__session_in_unit(const dal_session *s)
{
	return s->tx != &s->own;
}

/* A write call is about to change rows (see dal__scope_wrote). */
static inline void dal__session_wrote(dal_session *s)
{
	if (s->scoped)
		dal__scope_wrote(&s->scope);
}

#endif
