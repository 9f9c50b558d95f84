#include "session.h"

#include <string.h>

#include "each.h"
#include "uow.h"
#include "util/error.h"
#include "util/fault.h"

static int join_unit(dal_session *s, dal__tx *tx, unsigned flags)
{
	int error;

	/* The unit's connection may be busy streaming rows to a callback on this thread. */
	if ((error = dal__each_check(tx->conn)) < 0 ||
	    (error = dal__tx_check_joinable(tx, s->db->cfg.leak_threshold_ms)) < 0)
		return error;
	s->tx = tx;
	s->conn = tx->conn;
	if (!(flags & (DAL__SESSION_WRITE | DAL__SESSION_WRITE_MANY)))
		return 0;
	if ((error = dal__scope_begin(&s->scope, tx, (flags & DAL__SESSION_WRITE_MANY) ? DAL__SCOPE_CALL
	                                                                           : DAL__SCOPE_STATEMENT)) < 0)
		return error;
	s->scoped = true;
	return 0;
}

int dal__session_open(dal_session *s, dal_db *db, unsigned flags)
{
	dal__tx *unit;
	int error;

	memset(s, 0, sizeof(*s));
	s->db = db;
	if ((unit = dal__uow_tx(db)) != NULL)
		return join_unit(s, unit, flags);
	if ((error = dal__pool_acquire(&s->conn, db)) < 0)
		return error;
	s->owned = true;
	dal__tx_init(&s->own, s->conn);
	s->tx = &s->own;
	if (!(flags & DAL__SESSION_TX))
		return 0;
	if ((error = s->conn->drv->begin(s->conn, flags & ~(DAL__SESSION_TX | DAL__SESSION_WRITE |
	                                                    DAL__SESSION_WRITE_MANY))) < 0) {
		dal__pool_release(db, s->conn);
		s->conn = NULL;
		return error;
	}
	s->conn->in_tx = true;
	s->began = true;
	return 0;
}

/* A write call in a unit: keep its scope, or undo it and keep the unit as it was. */
static int close_scope(dal_session *s, int error)
{
	dal__error_saved saved;
	int ended;

	if (error >= 0) {
		s->scoped = false;
		return dal__scope_end(&s->scope, true);
	}
	/* The call's own error says what went wrong; a scope that could not be undone
	 * has doomed the unit, and its commit says so. */
	dal__error_save(&saved);
	ended = dal__scope_end(&s->scope, false);
	s->scoped = false;
	if (ended < 0)
		dal__error_restore(&saved);
	return error;
}

int dal__session_close(dal_session *s, int error)
{
	/* A failed COMMIT may still have committed, and a statement in autocommit has
	 * committed whatever went wrong after it: only a failure inside a transaction
	 * of the call's own undid the work. */
	bool may_stand = error >= 0 || !s->began;

	if (!s->conn)
		return error;
	if (error >= 0 && (s->scoped || s->began) && dal__fault("session.before_settle"))
		error = dal__error(DAL_ERROR, "failure injected before the call settled");
	if (s->scoped)
		error = close_scope(s, error);
	if (s->began) {
		if (error >= 0)
			error = dal__fault("session.commit") ? dal__error(DAL_EBUSY, "failure injected at COMMIT")
			                                      : s->conn->drv->commit(s->conn);
		/* After a failed COMMIT the transaction may still be open (SQLite BUSY): end it
		 * before the connection goes back. */
		if (error < 0 && !s->conn->broken)
			dal__tx_rollback_quietly(s->conn);
		s->conn->in_tx = false;
	}
	if (s->owned) {
		dal__tx_end(&s->own, may_stand);
		dal__pool_release(s->db, s->conn);
	}
	s->conn = NULL;
	return error;
}
