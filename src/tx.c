/* Transactions and the scopes inside them: who owns what a write leaves to settle. */
#include "tx.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cache.h"
#include "repo/undo.h"
#include "util/error.h"

void dal__tx_init(dal__tx *tx, dal_conn *conn)
{
	memset(tx, 0, sizeof(*tx));
	tx->conn = conn;
}

int dal__tx_check_joinable(dal__tx *tx, int max_open_ms)
{
	const char *file = tx->file ? tx->file : "?";
	const dal_driver *drv = tx->conn->drv;
	int64_t open_us;

	if (tx->doomed)
		return dal__error(DAL_ERROR, "the unit of work begun at %s:%d can no longer commit (a call in it failed "
			"in a way that could not be undone): roll it back", file, tx->line);
	if (drv->tx_open && !drv->tx_open(tx->conn)) {
		tx->doomed = true;
		return dal__error(DAL_ERROR, "%s ended or aborted the transaction of the unit of work begun at %s:%d "
			"after an error: roll the unit back", drv->name, file, tx->line);
	}
	/* A unit nobody ended would otherwise absorb every later call of its thread. */
	if (max_open_ms > 0 && (open_us = dal_now() - tx->begun_us) > (int64_t)max_open_ms * 1000) {
		tx->doomed = true;
		return dal__error(DAL_EINVAL, "the unit of work begun at %s:%d has been open %.1f s, longer than "
			"leak_threshold_ms (%d ms): was it never ended? It can no longer commit; end it (or raise "
			"leak_threshold_ms for units that run this long)", file, tx->line, (double)open_us / 1e6, max_open_ms);
	}
	return 0;
}

void dal__tx_rollback_quietly(dal_conn *conn)
{
	dal__error_saved saved;

	dal__error_save(&saved);
	if (conn->drv->rollback(conn) < 0)
		conn->broken = true;
	dal__error_restore(&saved);
}

void dal__tx_end(dal__tx *tx, bool committed)
{
	/* Even a failed COMMIT may have landed (DAL_ECOMMIT_UNKNOWN): dropping cached rows is harmless. */
	dal__cache_settle(tx, committed);
	dal__undo_discard_all(tx);
	dal__audit_pending_drop(tx);
	tx->depth = 0;
}

static void savepoint_name(char *buf, size_t n, unsigned depth)
{
	snprintf(buf, n, "dal_sp_%u", depth);
}

static bool has_savepoints(const dal_conn *conn)
{
	return (conn->drv->caps & DAL_CAP_SAVEPOINT) && conn->drv->savepoint;
}

int dal__scope_begin(dal__scope *sc, dal__tx *tx, dal__scope_kind kind)
{
	char name[32];
	int error;

	memset(sc, 0, sizeof(*sc));
	sc->tx = tx;
	sc->kind = kind;
	sc->audit = dal__audit_pending_mark(tx);
	sc->depth = kind == DAL__SCOPE_STATEMENT ? tx->depth : tx->depth + 1;
	if (kind == DAL__SCOPE_STATEMENT)
		return 0;
	if (has_savepoints(tx->conn)) {
		savepoint_name(name, sizeof(name), sc->depth);
		if ((error = tx->conn->drv->savepoint(tx->conn, name)) < 0)
			return error;
	} else {
		sc->emulated = true;
		/* Without savepoints the repository layer records how to undo each change instead. */
		sc->logged = kind == DAL__SCOPE_NESTED || tx->undo;
		if (sc->logged && (error = dal__undo_begin(tx)) < 0)
			return error;
	}
	tx->depth = sc->depth;
	return 0;
}

/* Nothing can undo the scope: a failure after a change dooms the transaction. */
static int end_unguarded(dal__scope *sc, bool commit)
{
	if (commit || !sc->wrote)
		return 0;
	sc->tx->doomed = true;
	return dal__error(DAL_ERROR, "a repository call failed after it had changed rows in the unit of work, so "
		"the unit can no longer commit (roll it back)");
}

static int end_emulated(dal__scope *sc, bool commit)
{
	dal__tx *tx = sc->tx;

	if (!sc->logged)
		return end_unguarded(sc, commit);
	if (commit) {
		dal__undo_commit(tx);
		return 0;
	}
	return dal__undo_rollback(tx);
}

static int end_savepoint(dal__scope *sc, bool commit)
{
	const dal_driver *drv = sc->tx->conn->drv;
	dal_conn *conn = sc->tx->conn;
	char name[32];
	int error;

	savepoint_name(name, sizeof(name), sc->depth);
	if (!commit)
		return drv->rollback_to(conn, name);
	if ((error = drv->release(conn, name)) >= 0)
		return 0;
	/* Not released: undo it, so that the outer scope holds none of it. */
	dal__audit_pending_rewind(sc->tx, &sc->audit);
	if (drv->rollback_to(conn, name) < 0)
		sc->tx->doomed = true;
	return error;
}

int dal__scope_end(dal__scope *sc, bool commit)
{
	dal__tx *tx = sc->tx;
	int error;

	/* Audit rows it held go with it; rows of outer scopes that it wrote to the chain
	 * were undone with it, so they are held again. */
	if (!commit)
		dal__audit_pending_rewind(tx, &sc->audit);
	if (sc->kind == DAL__SCOPE_STATEMENT)
		return end_unguarded(sc, commit);
	tx->depth = sc->depth - 1;
	error = sc->emulated ? end_emulated(sc, commit) : end_savepoint(sc, commit);
	if (error < 0 && !(commit && !sc->emulated))
		tx->doomed = true;
	if (error >= 0 && tx->depth == 0)
		dal__audit_pending_settled(tx);
	return error;
}
