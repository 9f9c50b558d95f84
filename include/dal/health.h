/**
 * @file dal/health.h
 * @brief dal_health_check: is the database reachable, how fast, what the pool looks like.
 *
 * A health report never holds a secret: the URL appears only redacted
 * (dal_db_url_redacted()). Thread-safe.
 */
#ifndef DAL_HEALTH_H
#define DAL_HEALTH_H

#include "dal/common.h"
#include "dal/db.h"
#include "dal/metrics.h"

DAL_BEGIN_DECLS

#define DAL_HEALTH_VERSION 2

/**
 * The result of one health check. Set `version` to DAL_HEALTH_VERSION; dal fills
 * the members of that version only. Members are only ever appended.
 */
typedef struct dal_health {
	unsigned int version;          /**< DAL_HEALTH_VERSION */
	bool healthy;                  /**< the connection test passed */
	const char *database_type;     /**< "sqlite", "duckdb", "postgresql"; static storage */
	const char *url;               /**< redacted URL; borrowed, valid until dal_close() */
	bool connection_ok;            /**< a real round trip through the driver's ping succeeded */
	double connection_latency_s;   /**< checkout + ping + return */
	int error_code;                /**< DAL_OK, or the failure's DAL_E* code */
	char error[256];               /**< the failure's message, "" when healthy */
	int64_t table_count;           /**< user tables in the current schema; -1 if not known */
	dal_pool_status pool;          /**< pool.size is the configured size; open connections are connection_count */
	uint64_t query_count;          /**< metrics summary */
	uint64_t error_count;
	uint64_t slow_query_count;
	double avg_query_s;
	double p95_s;
	int64_t checked_at_us;         /**< UTC microseconds since 1970 */
	/* Since version 2. */
	int connection_count;          /**< connections open (idle or lent): pool.checked_out + pool.checked_in */
} dal_health;

/** `dal_health h = DAL_HEALTH_INIT;` in C and in C++ (where designated initializers
 * need C++20, a value-initialized copy with the version set). */
#ifdef __cplusplus
static inline dal_health dal_health_init_value(void) { dal_health h = {}; h.version = DAL_HEALTH_VERSION; return h; }
#define DAL_HEALTH_INIT dal_health_init_value()
#else
#define DAL_HEALTH_INIT { .version = DAL_HEALTH_VERSION }
#endif

/**
 * Check the database: borrow a connection (waiting at most the pool timeout),
 * ping it, count the tables, read the pool and the metrics. An unhealthy
 * database is a report, not an error: the call still returns DAL_OK.
 * On PostgreSQL the ping waits at most the shorter of statement_timeout_ms and
 * connect_timeout_s, so a server that stopped answering gives an unhealthy
 * report (error_code DAL_ETIMEOUT) in bounded time, not a call that never returns.
 *
 * @param out filled up to out->version, which the caller sets
 * @param db  the database
 * @return DAL_OK (see out->healthy); DAL_EINVAL for NULL arguments or a bad version.
 */
DAL_API int dal_health_check(dal_health *out, dal_db *db);

/**
 * Run dal_health_check() and render it as one JSON object: healthy,
 * database_type, url (redacted), connection_test {ok, latency_seconds, error},
 * table_count, pool_status {size (configured, as the Python design's), open,
 * checked_out, checked_in, overflow, max, waiting}, metrics {query_count, ...},
 * checked_at_us.
 *
 * @param out the text; owned by the caller, free with dal_string_free(). NULL on failure.
 * @return DAL_OK; DAL_EINVAL for NULL arguments; DAL_ENOMEM.
 */
DAL_API int dal_health_json(char **out, dal_db *db);

DAL_END_DECLS

#endif
