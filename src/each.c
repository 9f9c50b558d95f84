#include "each.h"

#include <stddef.h>

#include "util/error.h"

/* This thread's callbacks, innermost first. Only this thread touches it. */
static _Thread_local dal__each_frame *frames;

void dal__each_enter(dal__each_frame *f, const dal_conn *conn, const char *what, const char *instead)
{
	f->conn = conn;
	f->what = what;
	f->instead = instead;
	f->outer = frames;
	frames = f;
}

void dal__each_leave(dal__each_frame *f)
{
	frames = f->outer;
}

int dal__each_check(const dal_conn *conn)
{
	const dal__each_frame *f;

	for (f = frames; f; f = f->outer)
		if (f->conn == conn)
			return dal__error(DAL_EINVAL, "a call from inside a %s callback in a unit of work: the unit's "
				"connection is busy streaming those rows, and every call on its database from this thread "
				"runs on it; make the call after %s returns (collect the ids in the callback), or read the "
				"rows with %s first", f->what, f->what, f->instead);
	return 0;
}

int dal__each_held(const struct dal_db *db, const dal__each_frame **innermost)
{
	const dal__each_frame *f;
	int n = 0;

	*innermost = NULL;
	for (f = frames; f; f = f->outer)
		if (f->conn->db == db) {
			if (!*innermost)
				*innermost = f;
			n++;
		}
	return n;
}
