/* The audit trail as the other layers see it. Internal. */
#ifndef DAL_AUDIT_INTERNAL_H
#define DAL_AUDIT_INTERNAL_H

#include "dal/audit.h"
#include "session.h"
#include "util/str.h"

#define DAL__AUDIT_TABLE "audit_logs"
#define DAL__AUDIT_HEAD "audit_chain"

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
} dal__audit_rec;

/* Append `n` rows to the chain on the session's connection and transaction. */
int dal__audit_write(dal_session *s, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n);

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

int dal__audit_hash(char hex[65], const dal__audit_content *c);

#endif
