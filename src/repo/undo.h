/*
 * Undo logs of nested units of work emulated on engines without savepoints
 * (DuckDB). Internal.
 *
 * While an emulated scope with a log is open in a transaction, tx->undo is its
 * log and every repository write in that transaction records how to undo
 * itself; outside one tx->undo is NULL and nothing is read or recorded. A nested
 * rollback applies the log newest first; a nested commit moves the log into the
 * enclosing emulated unit's, or drops it below the outermost unit, whose real
 * transaction then decides.
 *
 * An op borrows the dal_model it was recorded with: the model must outlive the
 * outermost unit (models are static descriptions).
 */
#ifndef DAL_REPO_UNDO_H
#define DAL_REPO_UNDO_H

#include "dal/model.h"
#include "driver/driver.h"
#include "tx.h"

typedef struct dal__undo_op dal__undo_op;

typedef struct dal__undo {
	dal__undo_op *ops;          /* newest first */
	dal__undo_op *oldest;
	struct dal__undo *outer;    /* the enclosing emulated unit's log; NULL below the outermost unit */
	bool audit_marked;          /* the audit chain head before this scope's first audit row is recorded */
	bool broken;                /* a change could not be recorded: a rollback cannot undo exactly */
} dal__undo;

/* An emulated scope with a log begins / ends in `tx`. */
int dal__undo_begin(dal__tx *tx);
/* Nested commit: the log joins the enclosing emulated unit's, or is dropped. */
void dal__undo_commit(dal__tx *tx);
/* Nested rollback: undo the log's changes, newest first, then drop it. An error
 * means the transaction may hold part of the scope's work. */
int dal__undo_rollback(dal__tx *tx);
/* The outermost unit ended (or was abandoned): drop every log on `conn`. */
void dal__undo_discard_all(dal__tx *tx);

/* Rows just inserted with these ids: their undo deletes them. */
int dal__undo_created(dal__tx *tx, const dal_model *m, const int64_t *ids, size_t n);
/* Old rows before a change, read set-based on `conn` (live rows only with `live_only`;
 * `lock`: locked where the engine locks rows, so the rows read are the ones the change
 * then replaces).
 * `reinsert`: the change deletes them (the undo inserts them back with their ids);
 * else the undo sets back the columns of `set` (model order; NULL: all but id).
 * Record the op with dal__undo_push() once the change succeeded, else free it. */
int dal__undo_read(dal__undo_op **out, dal_conn *conn, const dal_model *m, const int64_t *ids, size_t n,
                   bool live_only, bool reinsert, const bool *set, bool lock);
/* The whole rows (ncolumns values each, model order) an op read or was made from;
 * borrowed, valid until the op is freed or pushed. */
const dal_value *dal__undo_op_rows(const dal__undo_op *op, size_t *n);
/* The same from an old row in hand (ncolumns values in model order). */
int dal__undo_row(dal__undo_op **out, const dal_model *m, const dal_value *row, bool reinsert, const bool *set);
/* Record `op` (NULL: nothing) in conn's log; takes ownership. */
void dal__undo_push(dal__tx *tx, dal__undo_op *op);
void dal__undo_op_free(dal__undo_op *op);
/* The audit chain head as it was before an audit row of this scope (first call per scope counts). */
int dal__undo_audit(dal__tx *tx, int64_t last_id, const char *last_hash);
/* A change happened that was not recorded: the scope can no longer be undone exactly. */
void dal__undo_broken(dal__tx *tx);

#endif
