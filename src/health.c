#include "dal/health.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "db.h"
#include "util/error.h"

/* The catalog's count of user tables, through the dialect's SQL; -1 when unknown. */
static int64_t table_count(dal_conn *conn)
{
	const char *sql = conn->drv->dialect->table_count_sql;
	int64_t n = -1;
	bool found = false;

	if (!sql || dal__conn_scalar(&n, &found, conn, sql, NULL, 0, NULL) < 0 || !found)
		return -1;
	return n;
}

/*
 * The bytes of a caller's struct: version 1's end with checked_at_us. A caller
 * built against an older version has a shorter struct than this library's.
 */
static size_t health_size(unsigned int version)
{
	if (version == 1)
		return offsetof(dal_health, checked_at_us) + sizeof(int64_t);
	return sizeof(dal_health);
}

static void read_metrics(dal_health *h, dal_db *db)
{
	dal_metrics_summary m = DAL_METRICS_SUMMARY_INIT;

	if (dal_metrics_summary_get(&m, db) < 0)
		return;
	h->pool = m.pool;
	h->connection_count = m.connection_count;
	h->query_count = m.query_count;
	h->error_count = m.error_count;
	h->slow_query_count = m.slow_query_count;
	h->avg_query_s = m.avg_query_s;
	h->p95_s = m.p95_s;
}

int dal_health_check(dal_health *out, dal_db *db)
{
	dal_health h;
	dal_conn *conn = NULL;
	unsigned int version;
	int64_t t0;
	int error;

	DAL_ASSERT_ARG(out);
	DAL_ASSERT_ARG(db);
	version = out->version;
	if ((error = dal__check_version(version, DAL_HEALTH_VERSION, "dal_health")) < 0)
		return error;
	memset(&h, 0, sizeof(h));
	h.version = version;
	h.database_type = db->drv->name;
	h.url = db->url.redacted;
	h.table_count = -1;
	h.checked_at_us = dal_now();
	t0 = dal_now();
	if ((error = dal__pool_acquire(&conn, db)) == 0 && (error = conn->drv->ping(conn)) == 0) {
		h.connection_latency_s = (double)(dal_now() - t0) / 1e6;
		h.connection_ok = true;
		h.table_count = table_count(conn);
	}
	if (error < 0) {
		h.error_code = error;
		/* Driver messages never carry the password (see docs/errors.md). */
		snprintf(h.error, sizeof(h.error), "%s", dal_error_last()->message);
		h.connection_latency_s = (double)(dal_now() - t0) / 1e6;
	}
	dal__pool_release(db, conn);
	h.healthy = h.connection_ok;
	read_metrics(&h, db);
	memcpy(out, &h, health_size(version));
	return 0;
}

int dal_health_json(char **out, dal_db *db)
{
	dal_health h = DAL_HEALTH_INIT;
	json_t *o;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if ((error = dal_health_check(&h, db)) < 0)
		return error;
	o = json_pack("{s:b, s:s, s:s, s:{s:b, s:f, s:i, s:s}, s:I, s:o, s:{s:I, s:I, s:I, s:f, s:f}, s:I}",
		"healthy", h.healthy,
		"database_type", h.database_type,
		"url", h.url,
		"connection_test", "ok", h.connection_ok, "latency_seconds", h.connection_latency_s,
			"error_code", h.error_code, "error", h.error,
		"table_count", (json_int_t)h.table_count,
		"pool_status", dal__pool_status_json(&h.pool, h.connection_count),
		"metrics", "query_count", (json_int_t)h.query_count, "error_count", (json_int_t)h.error_count,
			"slow_query_count", (json_int_t)h.slow_query_count, "avg_query_seconds", h.avg_query_s,
			"p95_seconds", h.p95_s,
		"checked_at_us", (json_int_t)h.checked_at_us);
	return dal__json_dump(out, o);
}
