#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/error.h"

static const dal_config defaults = DAL_CONFIG_INIT;

/* The members a caller built against `version` has. */
static size_t config_size(unsigned int version)
{
	switch (version) {
	case 1: return offsetof(dal_config, cache_max_entries);
	case 2: return offsetof(dal_config, statement_timeout_ms);
	case 3: return offsetof(dal_config, sqlite_cache_kib);
	default: return sizeof(dal_config);
	}
}

int dal_config_init(dal_config *config, unsigned int version)
{
	int error;

	if (!config)
		return dal__error(DAL_EINVAL, "invalid argument: 'config' is NULL");
	if ((error = dal__check_version(version, DAL_CONFIG_VERSION, "dal_config")) < 0)
		return error;
	memcpy(config, &defaults, config_size(version));
	config->version = version;
	return 0;
}

void dal__config_copy(dal_config *dst, const dal_config *src)
{
	*dst = defaults;
	memcpy(dst, src, config_size(src->version));
}

/* An integer variable; `scale` turns seconds into the field's unit. */
static int env_int(int *field, const char *name, int scale, int min)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > 2000000000L / (scale ? scale : 1))
		return dal__error(DAL_EINVAL, "environment variable %s='%.32s' is not a whole number >= %d",
			name, s, min);
	*field = (int)v * scale;
	return 0;
}

static int env_bool(bool *field, const char *name)
{
	const char *s = getenv(name);

	if (!s || !*s)
		return 0;
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		*field = true;
	else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		*field = false;
	else
		return dal__error(DAL_EINVAL, "environment variable %s='%.32s' is not 0 or 1", name, s);
	return 0;
}

static int env_sync(int *field)
{
	const char *s = getenv("DAL_SQLITE_SYNCHRONOUS");

	if (!s || !*s)
		return 0;
	if (!strcasecmp(s, "NORMAL"))
		*field = DAL_SQLITE_SYNC_NORMAL;
	else if (!strcasecmp(s, "FULL"))
		*field = DAL_SQLITE_SYNC_FULL;
	else
		return dal__error(DAL_EINVAL, "environment variable DAL_SQLITE_SYNCHRONOUS='%.32s' is not NORMAL or FULL", s);
	return 0;
}

int dal_config_from_env_version(dal_config *out, unsigned int version)
{
	dal_config full, *c = &full;
	const char *url;
	int error;

	/* Read into a whole struct, then hand over only the caller's version of it. */
	if ((error = dal_config_init(out, version)) < 0 || (error = dal_config_init(c, DAL_CONFIG_VERSION)) < 0)
		return error;
	url = getenv("DATABASE_URL");
	c->url = url && *url ? url : "sqlite:///./app.db";
	if ((error = env_int(&c->pool_size, "DAL_POOL_SIZE", 1, 1)) < 0 ||
	    (error = env_int(&c->max_overflow, "DAL_MAX_OVERFLOW", 1, 0)) < 0 ||
	    (error = env_int(&c->pool_timeout_ms, "DAL_POOL_TIMEOUT", 1000, 0)) < 0 ||
	    (error = env_int(&c->recycle_s, "DAL_POOL_RECYCLE", 1, 0)) < 0 ||
	    (error = env_int(&c->slow_query_ms, "DAL_SLOW_QUERY_MS", 1, 0)) < 0 ||
	    (error = env_bool(&c->echo, "DAL_ECHO")) < 0 ||
	    (error = env_int(&c->leak_threshold_ms, "DAL_LEAK_THRESHOLD", 1000, 0)) < 0 ||
	    (error = env_int(&c->connect_timeout_s, "DAL_CONNECT_TIMEOUT", 1, 1)) < 0 ||
	    (error = env_int(&c->connect_retries, "DAL_CONNECT_RETRIES", 1, 1)) < 0 ||
	    (error = env_int(&c->busy_timeout_ms, "DAL_BUSY_TIMEOUT_MS", 1, 0)) < 0 ||
	    (error = env_int(&c->max_page_size, "DAL_MAX_PAGE_SIZE", 1, 1)) < 0 ||
	    (error = env_int(&c->pre_ping_idle_ms, "DAL_PRE_PING_IDLE_MS", 1, -1)) < 0 ||
	    (error = env_bool(&c->echo_params, "DAL_ECHO_PARAMS")) < 0 ||
	    (error = env_bool(&c->metrics, "DAL_METRICS")) < 0 ||
	    (error = env_int(&c->cache_max_entries, "DAL_CACHE_SIZE", 1, 0)) < 0 ||
	    (error = env_int(&c->cache_ttl_ms, "DAL_CACHE_TTL_MS", 1, 0)) < 0 ||
	    (error = env_int(&c->statement_timeout_ms, "DAL_STATEMENT_TIMEOUT_MS", 1, 0)) < 0 ||
	    (error = env_int(&c->sqlite_cache_kib, "DAL_SQLITE_CACHE_KIB", 1, 0)) < 0 ||
	    (error = env_int(&c->sqlite_mmap_mib, "DAL_SQLITE_MMAP_MIB", 1, 0)) < 0 ||
	    (error = env_sync(&c->sqlite_synchronous)) < 0)
		return error;
	memcpy(out, c, config_size(version));
	out->version = version;
	return 0;
}

int (dal_config_from_env)(dal_config *config)
{
	return dal_config_from_env_version(config, 1);
}
