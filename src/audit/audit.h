/* The audit trail as the other layers see it. Internal. */
#ifndef DAL_AUDIT_INTERNAL_H
#define DAL_AUDIT_INTERNAL_H

#include "dal/audit.h"
#include "session.h"
#include "sql/audit.h"
#include "tx.h"
#include "util/str.h"

/* A repository's audit context: owned copies, valid UTF-8. */
typedef struct dal__audit_ctx {
	char *user_id, *session_id, *correlation_id, *ip_address, *user_agent;
} dal__audit_ctx;

void dal__audit_ctx_free(dal__audit_ctx *c);
/* Copy a public context (sanitized); DAL_EINVAL for a bad version. */
int dal__audit_ctx_copy(dal__audit_ctx *out, const dal_audit_ctx *ctx);

/* One audit row to write; JSON texts are dal-made (or NULL). */
typedef struct dal__audit_rec {
	const char *action;
	const char *resource_type;
	int64_t resource_id;
	const char *old_values;
	const char *new_values;
	int64_t timestamp;             /* when the change was made; 0: when the row is written */
} dal__audit_rec;

/* Record `n` rows in the session's transaction: in a unit of work they wait
 * for its commit (src/audit/pending.c), else they go to the chain now. */
int dal__audit_write(dal_session *s, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n);
/* Append `n` rows to the chain now, in `tx`. */
int dal__audit_write_now(dal__tx *tx, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n);

/* ---- a unit of work's rows, held until its commit (pending.c) ----
 *
 * Held rows belong to the transaction; a scope's mark says which of them it
 * found. Rows written to the chain while a scope is open stay held (marked
 * written) until no scope is open: a scope rolled back undoes their INSERT, and
 * they are held again to be written at the commit. */

/* Whether `n` more rows may wait; else the unit's rows go to the chain at once. */
bool dal__audit_defer_fits(const dal__tx *tx, const dal__audit_rec *recs, size_t n);
/* Hold copies of the rows and of the context. */
int dal__audit_defer(dal__tx *tx, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n);
/* Write what is held and not yet written to the chain (before COMMIT, or before the unit reads the trail). */
int dal__audit_flush(dal__tx *tx);
dal__audit_mark dal__audit_pending_mark(const dal__tx *tx);
/* A scope rolled back: drop the rows held since its mark; rows written since are held again. */
void dal__audit_pending_rewind(dal__tx *tx, const dal__audit_mark *mark);
/* No scope is open any more: rows already written need not be held. */
void dal__audit_pending_settled(dal__tx *tx);
/* Forget everything held (the transaction ended). */
void dal__audit_pending_drop(dal__tx *tx);

/* A JSON object of the columns of `m` whose `mask` is set (NULL: all), from
 * `vals` in model order; DAL_SENSITIVE columns redacted. Free with free(). */
int dal__audit_json(char **out, const dal_model *m, const dal_value *vals, const bool *mask);

/* Apply a JSON object of column values (as dal__audit_json() makes) to `row`. */
int dal__audit_json_apply(dal_row *row, const char *json, size_t len);

/* A copy of `s` with invalid UTF-8 and NUL bytes replaced by U+FFFD. NULL in, NULL out. */
int dal__utf8_sanitize(char **out, const char *s, size_t len);

/* The canonical bytes of a JSON text for hashing: the same for every
 * engine's way of storing that document (whitespace, escapes, number forms). */
int dal__json_canonical(dal_str *out, const char *json, size_t len);

/* The (id, hash) pair at columns `col` and col + 1 of the row `stmt` is on: a place in
 * the chain and the hash there, as audit_chain holds them. DAL_EINVAL if not that. */
int dal__audit_head_pair(int64_t *id, char hash[65], dal_stmt *stmt, int col);

/* audit_logs and audit_chain with their indexes and the chain's head row. */
int dal__audit_create_schema(dal_session *s);

/* The hex SHA-256 of an audit row (hex: 65 bytes). */
typedef struct dal__audit_content {
	int64_t id;
	const char *prev_hash;
	int64_t timestamp;
	const char *action, *resource_type;
	int64_t resource_id;
	bool has_resource_id;
	const char *user_id, *session_id, *correlation_id, *ip_address, *user_agent;
	const char *old_values, *new_values;
	size_t old_len, new_len;
} dal__audit_content;

/* row_hash = link(id, prev_hash, resource_id, content hash): see docs/audit.md.
 * `scratch` (or NULL) holds the text hashed, kept across rows by callers hashing many. */
int dal__audit_hash(char hex[65], const dal__audit_content *c, dal_str *scratch);
int dal__audit_content_hash(char hex[65], const dal__audit_content *c, dal_str *scratch);
int dal__audit_link(char hex[65], int64_t id, const char *prev, bool has_rid, int64_t rid, const char content[65],
                    dal_str *scratch);

/* The parameters dal__sql_audit_create() adds to an audited create, in its order.
 * `content` (65 bytes) must outlive the statement: p[0] points into it. */
int dal__audit_create_params(dal_value p[DAL__AUDIT_CREATE_PARAMS], char content[65], const dal__audit_ctx *ctx,
                             const char *resource_type, const char *json, int64_t ts);

#endif
