#include "session.h"

#include <string.h>

#include "cache.h"
#include "each.h"
#include "uow.h"

int dal__session_open(dal_session *s, dal_db *db, unsigned tx)
{
	int error;

	memset(s, 0, sizeof(*s));
	s->db = db;
	if ((s->conn = dal__uow_conn(db)) != NULL)
		return dal__each_check(s->conn);
	if ((error = dal__pool_acquire(&s->conn, db)) < 0)
		return error;
	s->owned = true;
	if (!(tx & DAL__SESSION_TX))
		return 0;
	if ((error = s->conn->drv->begin(s->conn, tx & ~DAL__SESSION_TX)) < 0) {
		dal__pool_release(db, s->conn);
		s->conn = NULL;
		return error;
	}
	s->conn->in_tx = true;
	s->began = true;
	return 0;
}

int dal__session_close(dal_session *s, int error)
{
	/* A failed COMMIT may still have committed: only a failure before it undid the work. */
	bool may_stand = error >= 0;

	if (!s->conn)
		return error;
	if (s->began) {
		if (error >= 0)
			error = s->conn->drv->commit(s->conn);
		else if (s->conn->drv->rollback(s->conn) < 0)
			s->conn->broken = true;
		s->conn->in_tx = false;
	}
	if (s->owned) {
		dal__cache_settle(s->conn, may_stand);
		dal__pool_release(s->db, s->conn);
	}
	s->conn = NULL;
	return error;
}
