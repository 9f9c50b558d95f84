/**
 * @file dal/config.h
 * @brief dal_config: settings for dal_open(), from code or from the environment.
 */
#ifndef DAL_CONFIG_H
#define DAL_CONFIG_H

#include "dal/common.h"

DAL_BEGIN_DECLS

#define DAL_CONFIG_VERSION 4

/** SQLite's synchronous level for file databases (see docs/engines.md). */
typedef enum dal_sqlite_sync {
	DAL_SQLITE_SYNC_NORMAL = 0,  /**< WAL + NORMAL: survives a process crash, not power loss */
	DAL_SQLITE_SYNC_FULL = 1     /**< fsync on every commit: survives power loss */
} dal_sqlite_sync;

/**
 * Settings for a dal_db. Start from DAL_CONFIG_INIT or dal_config_init();
 * members are only ever appended.
 */
typedef struct dal_config {
	unsigned int version;        /**< DAL_CONFIG_VERSION */
	const char *url;             /**< used when dal_open() gets a NULL url; borrowed */
	int pool_size;               /**< connections kept open (PostgreSQL, SQLite file) */
	int max_overflow;            /**< extra connections allowed under load, closed on return */
	int pool_timeout_ms;         /**< wait for a free connection before DAL_ETIMEOUT */
	int recycle_s;               /**< close connections older than this */
	int slow_query_ms;           /**< statements slower than this count as slow */
	bool echo;                   /**< log every statement with its duration */
	int leak_threshold_ms;       /**< report a connection (or unit of work) held longer than this; 0 = off */
	int connect_timeout_s;       /**< PostgreSQL connect timeout */
	int connect_retries;         /**< connection attempts before DAL_ECONN */
	int busy_timeout_ms;         /**< SQLite busy timeout */
	int sqlite_synchronous;      /**< dal_sqlite_sync */
	int statement_cache_size;    /**< prepared statements kept per connection */
	int max_page_size;           /**< largest page_size paginate accepts */
	int tx_max_attempts;         /**< dal_run_tx attempts on serialization failure */
	int pre_ping_idle_ms;        /**< ping a connection idle longer than this before lending it; 0 = always, -1 = never */
	bool echo_params;            /**< with echo, also log parameter values (off: values never reach the log);
	                                  values of DAL_SENSITIVE columns bound by repository calls show as [REDACTED] */
	bool metrics;                /**< collect query metrics (dal_metrics_get); off saves two clock reads per statement */
	/* Since version 2. */
	int cache_max_entries;       /**< rows the read cache keeps for DAL_CACHE repositories (docs/cache.md); 0 = off */
	int cache_ttl_ms;            /**< a cached row is read from the database again after this long; 0 = no age limit */
	/* Since version 3. */
	int statement_timeout_ms;    /**< PostgreSQL: the bound of one statement, on the server and on the socket
	                                  (docs/engines.md); 0 = no bound. Default 30000 */
	/* Since version 4. */
	int sqlite_cache_kib;        /**< SQLite file databases: page cache of each connection, in KiB (docs/engines.md).
	                                  Default 16384 */
	int sqlite_mmap_mib;         /**< SQLite file databases: bytes read through a shared memory map, in MiB; 0 = off.
	                                  Default 256 */
} dal_config;

#define DAL_CONFIG_INIT { DAL_CONFIG_VERSION, NULL, 5, 10, 30000, 3600, 1000, false, 300000, 10, 3, 5000, DAL_SQLITE_SYNC_NORMAL, 128, 1000, 5, 30000, false, true, 10000, 60000, 30000, 16384, 256 }

/**
 * Fill @p config with the defaults of @p version.
 *
 * @return DAL_OK; DAL_EINVAL if config is NULL or version is 0 or newer than this library.
 */
DAL_API int dal_config_init(dal_config *config, unsigned int version);

/**
 * Defaults, then DATABASE_URL (default "sqlite:///./app.db") and the DAL_* variables:
 * DAL_POOL_SIZE, DAL_MAX_OVERFLOW, DAL_POOL_TIMEOUT (seconds), DAL_POOL_RECYCLE (seconds),
 * DAL_SLOW_QUERY_MS, DAL_ECHO (0/1), DAL_LEAK_THRESHOLD (seconds), DAL_CONNECT_TIMEOUT
 * (seconds), DAL_CONNECT_RETRIES, DAL_BUSY_TIMEOUT_MS, DAL_SQLITE_SYNCHRONOUS (NORMAL/FULL),
 * DAL_MAX_PAGE_SIZE, DAL_PRE_PING_IDLE_MS, DAL_ECHO_PARAMS (0/1), DAL_METRICS (0/1),
 * DAL_CACHE_SIZE (rows, 0 = off), DAL_CACHE_TTL_MS (0 = no age limit), DAL_STATEMENT_TIMEOUT_MS
 * (0 = no bound), DAL_SQLITE_CACHE_KIB, DAL_SQLITE_MMAP_MIB (0 = off).
 *
 * @param config filled up to the members of @p version; config->url is borrowed from
 *        the environment or static storage
 * @return DAL_OK; DAL_EINVAL naming the variable whose value is not a valid number, or
 *         for a version this library does not know.
 */
DAL_API int dal_config_from_env_version(dal_config *config, unsigned int version);

/* The symbol programs built against version 1 call (it fills version 1's members);
 * sources built with this header get the version they were built with. */
DAL_API int dal_config_from_env(dal_config *config);
#define dal_config_from_env(config) dal_config_from_env_version((config), DAL_CONFIG_VERSION)

DAL_END_DECLS

#endif
