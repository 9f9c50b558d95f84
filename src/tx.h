/*
 * The transaction dal writes in, and what its writes leave to settle when it ends.
 *
 * A write does more than run its statement: it holds the ids it changes in the
 * read cache, holds its audit rows until commit, and (on engines without
 * savepoints) records how to undo itself. That state belongs to whoever began
 * the transaction, never to the engine connection: the outermost unit of work,
 * or one repository call outside any unit. Scopes inside the transaction
 * (nested units, and each write call that joins a unit) end all-or-nothing and
 * take with them only what they made. Internal.
 */
#ifndef DAL_TX_H
#define DAL_TX_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/driver.h"

typedef struct dal__tx {
	dal_conn *conn;
	struct dal__undo *undo;             /* the innermost emulated scope's undo log, or NULL (repo/undo.h) */
	struct dal__audit_pending *audit;   /* audit rows held until commit (audit/pending.c) */
	struct dal__cache_holds *holds;     /* read-cache holds until the end (cache.h) */
	struct dal__cache *held_whole;      /* the whole cache held, when ids could not be recorded */
	unsigned depth;                     /* scopes open inside the transaction */
	bool doomed;                        /* a scope could not be undone exactly: nothing may commit */
	int64_t begun_us;                   /* when its unit began, for units open too long (0: a call's own) */
	const char *file;                   /* the program's place that began its unit (static storage), or NULL */
	int line;
} dal__tx;

/* Where the held audit rows stood when a scope began (audit/pending.c). */
typedef struct dal__audit_mark {
	size_t held;      /* rows held */
	size_t written;   /* of those, rows already written to the chain */
} dal__audit_mark;

/*
 * What a scope is. A call of one write statement needs no savepoint: the engine
 * applies a statement whole or not at all, and what comes after it in dal (reading
 * the row back, holding its audit row) fails only for lack of memory. A savepoint
 * per such call would double its round trips on PostgreSQL.
 */
typedef enum dal__scope_kind {
	DAL__SCOPE_NESTED,     /* a nested unit: a savepoint, or an undo log */
	DAL__SCOPE_CALL,       /* a call of several write statements (bulk): a savepoint, or a log inside one */
	DAL__SCOPE_STATEMENT   /* a call of one write statement: a failure after it dooms the transaction */
} dal__scope_kind;

/* A scope inside a transaction. */
typedef struct dal__scope {
	dal__tx *tx;
	dal__scope_kind kind;
	unsigned depth;          /* its savepoint's or log's, 1 for the first; a statement scope's is its enclosing one */
	bool emulated;           /* an undo log instead of a savepoint */
	bool logged;             /* emulated: this scope pushed an undo log */
	bool wrote;              /* the call has changed something (dal__scope_wrote) */
	dal__audit_mark audit;
} dal__scope;

void dal__tx_init(dal__tx *tx, dal_conn *conn);
/* DAL_OK if a call may join the unit whose transaction this is; else an error
 * naming the place that began it (doomed, ended by the engine, or open past
 * `max_open_ms`, which dooms it). */
int dal__tx_check_joinable(dal__tx *tx, int max_open_ms);
/* Roll back `conn`'s transaction, keeping the thread's last error as it was; a
 * connection that cannot roll back is marked broken. */
void dal__tx_rollback_quietly(dal_conn *conn);
/* The transaction ended (committed with `committed`): release its holds, drop what it held. */
void dal__tx_end(dal__tx *tx, bool committed);

/*
 * Begin a scope of `kind`. Without savepoints a nested unit records undo; a call
 * records undo only inside a scope that does. Where nothing can undo a scope (a
 * statement scope, or an unlogged one without savepoints), a failure after it
 * changed something dooms the transaction instead.
 */
int dal__scope_begin(dal__scope *sc, dal__tx *tx, dal__scope_kind kind);
/* The scope is about to change something. */
static inline void dal__scope_wrote(dal__scope *sc)
{
	sc->wrote = true;
}
/* Keep (commit) or undo the scope's work. An error means the transaction may hold
 * part of it: the transaction is then doomed. */
int dal__scope_end(dal__scope *sc, bool commit);

#endif
