/**
 * @file dal/metrics.h
 * @brief Query metrics of a dal_db: counts, timings, slow queries, a latency
 *        histogram, per-statement totals and pool counters; JSON and Prometheus text.
 *
 * Every statement dal sends is timed once (dal_exec, dal_query, repository and
 * unit-of-work statements alike). SQL text is kept as written with its `?`
 * placeholders: parameter values never enter the metrics. Thread-safe.
 */
#ifndef DAL_METRICS_H
#define DAL_METRICS_H

#include "dal/common.h"
#include "dal/db.h"

DAL_BEGIN_DECLS

#define DAL_METRICS_VERSION 2

/** Slow queries kept (the most recent ones). */
#define DAL_METRICS_SLOW_MAX 100
/** Statements listed in dal_metrics.top (by total time). */
#define DAL_METRICS_TOP_MAX 10
/** Histogram buckets: 25 finite upper bounds (1-2.5-5 steps from 1 us to 100 s) and +Inf. */
#define DAL_METRICS_BUCKETS 26
/** Longest SQL text kept per slow query or statement; longer text is cut and ends in "...". */
#define DAL_METRICS_SQL_MAX 256

/**
 * The connection pool as it stands. Same meaning on every engine. `size` is the
 * configured size, as SQLAlchemy's QueuePool.size() reports it; the connections
 * open are checked_out + checked_in (also connection_count in dal_metrics,
 * dal_metrics_summary and dal_health).
 */
typedef struct dal_pool_status {
	int size;          /**< connections kept open when idle: config pool_size (1 where the engine allows one) */
	int checked_out;   /**< lent to callers */
	int checked_in;    /**< idle in the pool */
	int overflow;      /**< open beyond pool_size */
	int max;           /**< the hard limit: pool_size + max_overflow (1 for SQLite :memory:) */
	int waiting;       /**< callers waiting for a connection */
} dal_pool_status;

/** One slow statement. */
typedef struct dal_slow_query {
	char sql[DAL_METRICS_SQL_MAX];   /**< SQL text with placeholders, no values */
	double duration_s;
	int64_t at_us;                   /**< when it ended, UTC microseconds since 1970 */
} dal_slow_query;

/** Totals of one statement text. */
typedef struct dal_statement_stats {
	char sql[DAL_METRICS_SQL_MAX];   /**< SQL text with placeholders, no values */
	uint64_t count;
	uint64_t errors;
	double total_s;
	double max_s;
} dal_statement_stats;

/**
 * A snapshot of the metrics. Set `version` to DAL_METRICS_VERSION; dal fills the
 * members of that version only. Members are only ever appended.
 */
typedef struct dal_metrics {
	unsigned int version;           /**< DAL_METRICS_VERSION */
	int64_t since_us;               /**< start of the counting: dal_open or dal_metrics_reset (UTC us) */
	uint64_t query_count;           /**< statements run, failed ones included */
	uint64_t slow_query_count;      /**< statements slower than config slow_query_ms */
	uint64_t error_count;           /**< statements that failed */
	double total_query_s;           /**< time spent in statements */
	double avg_query_s;             /**< total_query_s / query_count; 0 without statements */
	double p50_s, p95_s, p99_s;     /**< latency percentiles, from the histogram (bucket upper bound) */
	double max_s;                   /**< the slowest statement, exact */
	int connection_count;           /**< connections open (idle or lent) */
	dal_pool_status pool;
	/* Pool counters. */
	uint64_t pool_checkouts;        /**< connections lent */
	uint64_t pool_waits;            /**< checkouts that had to wait */
	double pool_wait_s;             /**< time spent waiting */
	uint64_t pool_timeouts;         /**< waits that ended in DAL_ETIMEOUT */
	uint64_t pool_created;          /**< connections opened */
	uint64_t pool_closed;           /**< connections closed (overflow, broken, recycled) */
	uint64_t pool_broken;           /**< connections found dead */
	uint64_t pool_recycled;         /**< connections closed for age (config recycle_s) */
	uint64_t pool_leaks;            /**< connections reported as held past leak_threshold_ms */
	uint64_t retries;               /**< dal_run_tx attempts after the first */
	/* Latency histogram: counts per bucket (not cumulative); bounds in seconds, the last is +Inf. */
	double bucket_le_s[DAL_METRICS_BUCKETS];
	uint64_t bucket_count[DAL_METRICS_BUCKETS];
	/* The most recent slow queries, oldest first. */
	size_t slow_count;
	dal_slow_query slow[DAL_METRICS_SLOW_MAX];
	/* The statements with the most total time, largest first. */
	size_t top_count;
	dal_statement_stats top[DAL_METRICS_TOP_MAX];
	/* The read cache (DAL_CACHE, docs/cache.md), since version 2; all 0 when it is off. */
	uint64_t cache_hits;            /**< dal_repo_get calls answered from the cache */
	uint64_t cache_misses;          /**< cacheable dal_repo_get calls that read the database */
	uint64_t cache_evictions;       /**< rows dropped to stay within config cache_max_entries */
	uint64_t cache_expirations;     /**< rows dropped for age (config cache_ttl_ms) */
	uint64_t cache_invalidations;   /**< cached rows dropped because they were written or invalidated */
	uint64_t cache_entries;         /**< rows cached now (live, not reset) */
	uint64_t cache_max_entries;     /**< the bound, config cache_max_entries */
} dal_metrics;

/** `dal_metrics m = DAL_METRICS_INIT;` in C and in C++ (where designated initializers
 * need C++20, a value-initialized copy with the version set). */
#ifdef __cplusplus
static inline dal_metrics dal_metrics_init_value(void) { dal_metrics m = {}; m.version = DAL_METRICS_VERSION; return m; }
#define DAL_METRICS_INIT dal_metrics_init_value()
#else
#define DAL_METRICS_INIT { .version = DAL_METRICS_VERSION }
#endif

/**
 * Take a snapshot of the metrics (consistent: one lock).
 *
 * @param out filled up to out->version, which the caller sets
 * @param db  the database
 * @return DAL_OK; DAL_EINVAL for NULL arguments or a version 0 or newer than this library.
 */
DAL_API int dal_metrics_get(dal_metrics *out, dal_db *db);

#define DAL_METRICS_SUMMARY_VERSION 1

/**
 * The counters of dal_metrics without the slow-query list, the histogram and the
 * statement totals: a few hundred bytes, fine on the stack. Set `version` to
 * DAL_METRICS_SUMMARY_VERSION; dal fills the members of that version only.
 * Members are only ever appended.
 */
typedef struct dal_metrics_summary {
	unsigned int version;           /**< DAL_METRICS_SUMMARY_VERSION */
	int64_t since_us;               /**< start of the counting: dal_open or dal_metrics_reset (UTC us) */
	uint64_t query_count;           /**< statements run, failed ones included */
	uint64_t slow_query_count;      /**< statements slower than config slow_query_ms */
	uint64_t error_count;           /**< statements that failed */
	double total_query_s;           /**< time spent in statements */
	double avg_query_s;             /**< total_query_s / query_count; 0 without statements */
	double p50_s, p95_s, p99_s;     /**< latency percentiles, as in dal_metrics */
	double max_s;                   /**< the slowest statement, exact */
	int connection_count;           /**< connections open (idle or lent) */
	dal_pool_status pool;
	uint64_t pool_checkouts;        /**< connections lent */
	uint64_t pool_waits;            /**< checkouts that had to wait */
	uint64_t pool_timeouts;         /**< waits that ended in DAL_ETIMEOUT */
	uint64_t pool_leaks;            /**< connections reported as held past leak_threshold_ms */
	uint64_t retries;               /**< dal_run_tx attempts after the first */
	uint64_t cache_hits;            /**< dal_repo_get calls answered from the cache */
	uint64_t cache_misses;          /**< cacheable dal_repo_get calls that read the database */
} dal_metrics_summary;

/** `dal_metrics_summary s = DAL_METRICS_SUMMARY_INIT;` in C and in C++ (as DAL_METRICS_INIT). */
#ifdef __cplusplus
static inline dal_metrics_summary dal_metrics_summary_init_value(void)
{
	dal_metrics_summary s = {};
	s.version = DAL_METRICS_SUMMARY_VERSION;
	return s;
}
#define DAL_METRICS_SUMMARY_INIT dal_metrics_summary_init_value()
#else
#define DAL_METRICS_SUMMARY_INIT { .version = DAL_METRICS_SUMMARY_VERSION }
#endif

/**
 * Take a snapshot of the counters only (consistent: one lock, as dal_metrics_get()).
 * The figures are those dal_metrics_get() would give at the same moment.
 *
 * @param out filled up to out->version, which the caller sets
 * @param db  the database
 * @return DAL_OK; DAL_EINVAL for NULL arguments or a version 0 or newer than this library.
 */
DAL_API int dal_metrics_summary_get(dal_metrics_summary *out, dal_db *db);

/**
 * Start counting again: statement counters, histogram, slow queries, statement
 * totals, pool and cache counters go to zero (the pool status and the cached
 * rows are live, not reset).
 *
 * @return DAL_OK; DAL_EINVAL if db is NULL.
 */
DAL_API int dal_metrics_reset(dal_db *db);

/**
 * The metrics as one JSON object (see docs/operations.md for the fields).
 *
 * @param out the text, NUL-terminated; owned by the caller, free with dal_string_free().
 *            NULL on failure.
 * @return DAL_OK; DAL_EINVAL for NULL arguments; DAL_ENOMEM.
 */
DAL_API int dal_metrics_json(char **out, dal_db *db);

/**
 * The metrics in the Prometheus text exposition format 0.0.4: names prefixed
 * `dal_`, durations in seconds, OpenTelemetry database names where they exist
 * (`dal_db_client_operation_duration_seconds`, `dal_db_client_connection_count`),
 * each sample labelled with `db_system_name`.
 *
 * @param out the text; owned by the caller, free with dal_string_free(). NULL on failure.
 * @return DAL_OK; DAL_EINVAL for NULL arguments; DAL_ENOMEM.
 */
DAL_API int dal_metrics_prometheus(char **out, dal_db *db);

/**
 * The pool as it stands (also runs the leak check, see docs/operations.md).
 *
 * @return DAL_OK; DAL_EINVAL for NULL arguments.
 */
DAL_API int dal_pool_status_get(dal_pool_status *out, dal_db *db);

/** Free text returned by dal (dal_metrics_json, dal_health_json, ...). NULL is a no-op. */
DAL_API void dal_string_free(char *text);

DAL_END_DECLS

#endif
