#include "db.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <time.h>

#include "cache.h"
#include "config.h"
#include "conn.h"
#include "uow.h"
#include "util/error.h"
#include "util/log.h"

static int check_config(const dal_config *cfg)
{
	int error;

	if ((error = dal__check_version(cfg->version, DAL_CONFIG_VERSION, "dal_config")) < 0)
		return error;
	if (cfg->pool_size < 1 || cfg->max_overflow < 0 || cfg->pool_timeout_ms < 0)
		return dal__error(DAL_EINVAL, "dal_config: pool_size must be >= 1, max_overflow and pool_timeout_ms >= 0");
	if (cfg->connect_timeout_s < 1 || cfg->connect_retries < 1)
		return dal__error(DAL_EINVAL, "dal_config: connect_timeout_s and connect_retries must be >= 1");
	if (cfg->pre_ping_idle_ms < -1 || cfg->leak_threshold_ms < 0 || cfg->recycle_s < 0 || cfg->slow_query_ms < 0)
		return dal__error(DAL_EINVAL, "dal_config: pre_ping_idle_ms must be >= -1; leak_threshold_ms, "
			"recycle_s and slow_query_ms >= 0");
	if (cfg->max_page_size < 1 || cfg->busy_timeout_ms < 0)
		return dal__error(DAL_EINVAL, "dal_config: max_page_size must be >= 1, busy_timeout_ms >= 0");
	if (cfg->version >= 2 && (cfg->cache_max_entries < 0 || cfg->cache_ttl_ms < 0))
		return dal__error(DAL_EINVAL, "dal_config: cache_max_entries and cache_ttl_ms must be >= 0");
	if (cfg->version >= 3 && cfg->statement_timeout_ms < 0)
		return dal__error(DAL_EINVAL, "dal_config: statement_timeout_ms must be >= 0 (0 = no bound)");
	if (cfg->version >= 4 && (cfg->sqlite_cache_kib < 0 || cfg->sqlite_mmap_mib < 0))
		return dal__error(DAL_EINVAL, "dal_config: sqlite_cache_kib and sqlite_mmap_mib must be >= 0");
	return 0;
}

/* The first connection proves the URL works (the pool retries it with backoff). */
static int first_connection(dal_db *db)
{
	dal_conn *conn = NULL;
	int error;

	if ((error = dal__pool_acquire(&conn, db)) < 0)
		return error;
	dal__pool_release(db, conn);
	return 0;
}

int dal_open(dal_db **out, const char *url, const dal_config *config)
{
	static const dal_config defaults = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	if (!config)
		config = &defaults;
	if ((error = check_config(config)) < 0)
		return error;
	if (!url)
		url = config->url ? config->url : "sqlite:///./app.db";
	if (!(db = calloc(1, sizeof(*db))))
		return dal__error_nomem();
	dal__config_copy(&db->cfg, config);
	db->cfg.url = NULL;
	pthread_mutex_init(&db->audit_end.mu, NULL);
	if ((error = dal__url_parse(&db->url, url)) < 0)
		goto fail_url;
	if ((error = dal__driver_find(&db->drv, db->url.scheme)) < 0)
		goto fail_url;
	if (db->drv->db_open && (error = db->drv->db_open(&db->shared, &db->url, &db->cfg)) < 0)
		goto fail_url;
	if ((error = dal__metrics_init(&db->metrics, &db->cfg)) < 0) {
		if (db->drv->db_close)
			db->drv->db_close(db->shared);
		goto fail_url;
	}
	if ((error = dal__pool_init(&db->pool, db)) < 0 || (error = dal__cache_new(&db->cache, &db->cfg)) < 0 ||
	    (error = first_connection(db)) < 0) {
		dal_close(db);
		return error;
	}
	*out = db;
	return 0;
fail_url:
	dal__url_dispose(&db->url);
	pthread_mutex_destroy(&db->audit_end.mu);
	free(db);
	return error;
}

/* The handle of dal_default() while it is open: it is closed at exit, once, and
 * every dal_default() hands back the same pointer, so dal_close() leaves it alone. */
static _Atomic(dal_db *) default_handle;

void dal_close(dal_db *db)
{
	if (!db)
		return;
	if (db == atomic_load(&default_handle)) {
		dal__log(DAL_LOG_WARN, "dal_close: the handle of dal_default() is closed at exit, not here; call ignored");
		return;
	}
	dal__uow_close_all(db);
	dal__pool_dispose(&db->pool);
	if (db->drv->db_close)
		db->drv->db_close(db->shared);
	dal__metrics_dispose(&db->metrics);
	dal__cache_free(db->cache);
	dal__url_dispose(&db->url);
	pthread_mutex_destroy(&db->audit_end.mu);
	free(db);
}

const char *dal_db_engine(const dal_db *db)
{
	return db ? db->drv->name : "";
}

const char *dal_db_url_redacted(const dal_db *db)
{
	return db ? db->url.redacted : "";
}

static once_flag default_once = ONCE_FLAG_INIT;
static dal_db *default_db;
static int default_error;
static dal_error default_failure;
static char default_message[512];
static char default_sqlstate[8];

static void close_default(void)
{
	atomic_store(&default_handle, NULL);
	dal_close(default_db);
	default_db = NULL;
}

static void open_default(void)
{
	dal_config cfg;

	if ((default_error = dal_config_from_env(&cfg)) == 0)
		default_error = dal_open(&default_db, NULL, &cfg);
	if (default_error == 0) {
		atomic_store(&default_handle, default_db);
		atexit(close_default);
		return;
	}
	default_failure = *dal_error_last();
	strncpy(default_message, default_failure.message, sizeof(default_message) - 1);
	strncpy(default_sqlstate, default_failure.sqlstate, sizeof(default_sqlstate) - 1);
}

int dal_default(dal_db **out)
{
	DAL_ASSERT_ARG(out);
	call_once(&default_once, open_default);
	*out = default_db;
	if (default_error < 0)
		return dal__error_engine(default_error, default_sqlstate, default_failure.engine_code,
			"%s", default_message);
	return 0;
}
