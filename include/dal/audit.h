/**
 * @file dal/audit.h
 * @brief The audit trail: who changed what, when; queryable, tamper-evident, with history and as-of reads.
 *
 * A repository opened with DAL_AUDIT writes one row to the table `audit_logs`
 * for every change it makes (CREATE, UPDATE, SOFT_DELETE, DELETE, RESTORE; and
 * per entity a bulk call changed, BULK_CREATE, BULK_UPDATE, BULK_DELETE: soft
 * with the new deleted_at in new_values, hard with none), on the same
 * connection and inside the same transaction as the change: both commit or
 * neither does. The context recorded is the repository's (dal_repo_set_context()),
 * else that of the unit of work it runs in (dal_uow_opts.audit_ctx). dal_init_database() with DAL_AUTO_MIGRATE creates
 * `audit_logs` and its one-row chain head `audit_chain` whenever at least one
 * model is given.
 *
 * Values are recorded as JSON objects keyed by column name: int64 as JSON
 * integers (exact beyond 2^53), doubles with 17 significant digits (exact
 * round trip; NaN and infinities as the strings "NaN", "Infinity",
 * "-Infinity"), timestamps as ISO-8601 UTC text ("2024-05-01T12:00:00.000001Z"),
 * blobs as base64 text, JSON columns as embedded documents. Columns flagged
 * DAL_SENSITIVE are recorded as the string "[REDACTED]", never in clear.
 * Invalid UTF-8 (and NUL bytes, which PostgreSQL cannot store) in values and
 * context strings is replaced with U+FFFD, so the stored JSON is always valid.
 *
 * Each row carries a SHA-256 chained to the previous row (docs/audit.md):
 * dal_audit_verify() names the first row that was altered, deleted, reordered
 * or inserted outside dal.
 */
#ifndef DAL_AUDIT_H
#define DAL_AUDIT_H

#include "dal/common.h"
#include "dal/db.h"
#include "dal/repo.h"
#include "dal/row.h"

DAL_BEGIN_DECLS

#define DAL_AUDIT_CTX_VERSION 1

/**
 * Who is making the changes. Every string is optional (NULL: not recorded),
 * copied by dal_repo_set_context() and dal_uow_begin(). Start from DAL_AUDIT_CTX_INIT.
 * These often come from a request (a header), so each has a bound in bytes,
 * checked where the context is given (DAL_EINVAL naming the field): they are
 * indexed, and an unbounded value would make every audited write fail later.
 */
#define DAL_AUDIT_CTX_MAX_ID 255          /**< user_id, session_id, correlation_id */
#define DAL_AUDIT_CTX_MAX_IP 64           /**< ip_address */
#define DAL_AUDIT_CTX_MAX_USER_AGENT 8192 /**< user_agent */

typedef struct dal_audit_ctx {
	unsigned int version;         /**< DAL_AUDIT_CTX_VERSION */
	const char *user_id;
	const char *session_id;
	const char *correlation_id;   /**< e.g. the request id, to find every change of one request */
	const char *ip_address;
	const char *user_agent;
} dal_audit_ctx;

#define DAL_AUDIT_CTX_INIT { DAL_AUDIT_CTX_VERSION, NULL, NULL, NULL, NULL, NULL }
/** A context with only who and which session: `dal_audit_ctx ctx = DAL_AUDIT_CTX_USER("admin", "s1");` */
#define DAL_AUDIT_CTX_USER(user_id, session_id) \
	{ DAL_AUDIT_CTX_VERSION, (user_id), (session_id), NULL, NULL, NULL }

/** One audit row. Strings are borrowed from the list that holds the entry; NULL when not recorded. */
typedef struct dal_audit_log {
	int64_t id;                  /**< position in the chain, from 1 */
	const char *user_id;
	const char *action;          /**< "CREATE", "UPDATE", "SOFT_DELETE", "DELETE", "RESTORE", "BULK_CREATE", "BULK_UPDATE", "BULK_DELETE" */
	const char *resource_type;   /**< the model's table name */
	int64_t resource_id;         /**< the entity's id */
	const char *old_values;      /**< JSON object, or NULL (CREATE) */
	const char *new_values;      /**< JSON object, or NULL (DELETE) */
	int64_t timestamp;           /**< UTC microseconds */
	const char *session_id;
	const char *correlation_id;
	const char *ip_address;
	const char *user_agent;
	const char *prev_hash;       /**< hex SHA-256 of the previous row */
	const char *row_hash;        /**< hex SHA-256 of this row's content and prev_hash */
} dal_audit_log;

/**
 * A list of audit rows. Made by dal_audit_query() and dal_repo_history(),
 * freed with dal_audit_logs_free(). Not synchronized, may move between threads.
 */
typedef struct dal_audit_logs dal_audit_logs;

/** Free the list. NULL is a no-op. */
DAL_API void dal_audit_logs_free(dal_audit_logs *logs);

/** Number of entries; 0 for NULL. */
DAL_API size_t dal_audit_logs_count(const dal_audit_logs *logs);

/** Entry @p i; borrowed, valid until the list is freed. NULL (DAL_EINVAL) if out of range. */
DAL_API const dal_audit_log *dal_audit_logs_at(const dal_audit_logs *logs, size_t i);

#define DAL_AUDIT_FILTER_VERSION 1

/** What dal_audit_query() returns. Unset members do not filter. Start from DAL_AUDIT_FILTER_INIT. */
typedef struct dal_audit_filter {
	unsigned int version;         /**< DAL_AUDIT_FILTER_VERSION */
	const char *resource_type;    /**< NULL: any */
	int64_t resource_id;          /**< used when has_resource_id */
	bool has_resource_id;
	const char *user_id;          /**< NULL: any */
	const char *action;           /**< NULL: any; else e.g. "UPDATE" */
	const char *correlation_id;   /**< NULL: any */
	int64_t start;                /**< UTC microseconds, inclusive; 0: no lower bound */
	int64_t end;                  /**< UTC microseconds, exclusive; 0: no upper bound */
	int64_t limit;                /**< 0: no limit; negative is DAL_EINVAL */
	int64_t offset;               /**< negative is DAL_EINVAL */
} dal_audit_filter;

#define DAL_AUDIT_FILTER_INIT { DAL_AUDIT_FILTER_VERSION, NULL, 0, false, NULL, NULL, NULL, 0, 0, 0, 0 }

/**
 * Audit rows matching @p filter, newest first (by timestamp, then id).
 *
 * @param out    the rows; owned by the caller, free with dal_audit_logs_free(). NULL on failure.
 * @param db     the database
 * @param filter NULL: every row
 * @return DAL_OK (also for no rows); DAL_EINVAL for a bad version, negative limit or
 *         offset; DAL_ESQL if audit_logs does not exist; DAL_ECONN, DAL_EBUSY from the engine.
 */
DAL_API int dal_audit_query(dal_audit_logs **out, dal_db *db, const dal_audit_filter *filter);

/**
 * Delete audit rows older than @p retention_days, from the start of the chain,
 * in transactions of at most 5,000 rows so that no lock is held for long. The
 * chain head then records the hash the remaining chain starts from, so it stays
 * verifiable. Deleting stops at the first row (in chain order) that is not old enough.
 *
 * @param deleted_out rows deleted; may be NULL
 * @param retention_days rows with a timestamp before now minus this many days go
 * @return DAL_OK; DAL_EINVAL for a negative retention; errors from the engine (rows
 *         deleted by the batches committed before the error stay deleted and are counted).
 */
DAL_API int dal_audit_cleanup(int64_t *deleted_out, dal_db *db, int retention_days);

/** What dal_audit_verify() found. */
typedef struct dal_audit_report {
	bool ok;                /**< the chain is intact */
	int64_t rows_checked;
	int64_t bad_id;         /**< the first row at fault (for a deleted row: its id), 0 if ok */
	char reason[256];       /**< what is wrong with it, "" if ok */
	int64_t head_id;        /**< the chain head: the last row's id, 0 if empty */
	char head_hash[65];     /**< and its hash: keep it outside the database to detect a rewritten chain */
} dal_audit_report;

/**
 * Walk the chain in id order, in one snapshot, and check every link and hash.
 *
 * @param out the findings (a fault is reported here, not as an error code)
 * @return DAL_OK; DAL_ESQL if the audit tables do not exist; DAL_ENOMEM; errors from the engine.
 */
DAL_API int dal_audit_verify(dal_audit_report *out, dal_db *db);

/**
 * Set the context recorded with the repository's changes (copied; NULL clears it).
 * A context set here wins over the unit of work's (dal_uow_opts.audit_ctx); once
 * cleared, the repository records its unit's context again. On a repository opened
 * without DAL_AUDIT it records nothing: the call succeeds and logs a warning.
 *
 * @return DAL_OK; DAL_EINVAL for a NULL repository or a bad version; DAL_ENOMEM.
 */
DAL_API int dal_repo_set_context(dal_repo *repo, const dal_audit_ctx *ctx);

/**
 * One entity's audit rows, oldest first.
 *
 * @param out the rows; owned by the caller, free with dal_audit_logs_free(). NULL on failure.
 * @return DAL_OK (also for none); errors as dal_audit_query().
 */
DAL_API int dal_repo_history(dal_audit_logs **out, dal_repo *repo, int64_t id);

/**
 * The entity as it was at @p when, rebuilt from the audit trail (not from the
 * table). Columns recorded as redacted come back NULL.
 *
 * @param out  the row; owned by the caller, free with dal_row_free(). NULL on failure.
 * @param when UTC microseconds; changes recorded at or before it count
 * @return DAL_OK; DAL_ENOTFOUND if it did not exist then, or was deleted (soft or
 *         hard) then; DAL_EINVAL if a recorded value no longer fits the model; errors
 *         as dal_audit_query().
 */
DAL_API int dal_repo_get_as_of(dal_row **out, dal_repo *repo, int64_t id, int64_t when);

DAL_END_DECLS

#endif
