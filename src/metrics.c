#include "metrics.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "db.h"
#include "util/error.h"
#include "util/json.h"
#include "util/log.h"
#include "util/str.h"

static const double r10[10] = { 1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0 };
static double bounds[DAL__HIST_FINITE];
static pthread_once_t bounds_once = PTHREAD_ONCE_INIT;

static void make_bounds(void)
{
	double decade = 1.0;
	int i;

	for (i = 0; i < DAL__HIST_FINITE; i++) {
		if (i > 0 && i % 10 == 0)
			decade *= 10.0;
		bounds[i] = r10[i % 10] * decade;
	}
}

double dal__metrics_bound_us(int i)
{
	pthread_once(&bounds_once, make_bounds);
	return i < DAL__HIST_FINITE ? bounds[i] : INFINITY;
}

int dal__metrics_bucket(int64_t us)
{
	double v = (double)us;
	int lo = 0, hi = DAL__HIST_FINITE;

	/* The first bound at or above v; DAL__HIST_FINITE for +Inf. */
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (bounds[mid] >= v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Public buckets: the 1, 2.5 and 5 of each decade, and 100 s, and +Inf. */
static bool public_bucket(int i)
{
	return i >= DAL__HIST_FINITE || i % 10 == 0 || i % 10 == 4 || i % 10 == 7;
}

uint64_t dal__metrics_hash(const char *sql)
{
	uint64_t h = 1469598103934665603ULL;

	while (*sql)
		h = (h ^ (unsigned char)*sql++) * 1099511628211ULL;
	return h ? h : 1;
}

int dal__metrics_init(dal_metrics_state *m, const dal_config *cfg)
{
	memset(m, 0, sizeof(*m));
	pthread_once(&bounds_once, make_bounds);
	pthread_mutex_init(&m->mu, NULL);
	m->slow_us = cfg->slow_query_ms * 1000;
	m->echo = cfg->echo;
	m->echo_params = cfg->echo_params;
	m->enabled = cfg->metrics;
	m->since_us = dal_now();
	m->slow_ring = calloc(DAL__SLOW_RING, sizeof(*m->slow_ring));
	m->stmts = calloc(DAL__STMT_SLOTS, sizeof(*m->stmts));
	if (!m->slow_ring || !m->stmts) {
		dal__metrics_dispose(m);
		return dal__error_nomem();
	}
	m->other.hash = 1;
	return 0;
}

static void clear_stmts(dal_metrics_state *m)
{
	size_t i;

	for (i = 0; i < DAL__STMT_SLOTS; i++)
		free(m->stmts[i].sql);
	memset(m->stmts, 0, DAL__STMT_SLOTS * sizeof(*m->stmts));
	m->nstmts = 0;
	memset(&m->other, 0, sizeof(m->other));
	m->other.hash = 1;
}

void dal__metrics_dispose(dal_metrics_state *m)
{
	if (m->stmts)
		clear_stmts(m);
	free(m->stmts);
	free(m->slow_ring);
	m->stmts = NULL;
	m->slow_ring = NULL;
	pthread_mutex_destroy(&m->mu);
}

static void copy_sql(char *dst, const char *sql)
{
	size_t n = strlen(sql);

	if (n < DAL_METRICS_SQL_MAX) {
		memcpy(dst, sql, n + 1);
		return;
	}
	memcpy(dst, sql, DAL_METRICS_SQL_MAX - 4);
	memcpy(dst + DAL_METRICS_SQL_MAX - 4, "...", 4);
}

/* Under the lock. Allocates only the first time a statement text is seen. */
static dal__stmt_stat *stmt_slot(dal_metrics_state *m, const char *sql, uint64_t hash)
{
	size_t i = (size_t)hash & (DAL__STMT_SLOTS - 1);

	while (m->stmts[i].hash && m->stmts[i].hash != hash)
		i = (i + 1) & (DAL__STMT_SLOTS - 1);
	if (m->stmts[i].hash)
		return &m->stmts[i];
	if (m->nstmts >= DAL__STMT_KEYS || !(m->stmts[i].sql = strdup(sql)))
		return &m->other;
	m->stmts[i].hash = hash;
	m->nstmts++;
	return &m->stmts[i];
}

/* A warning names the statement, not all of it: a long IN list would make it tens of KB. */
#define SLOW_LOG_SQL 500

static void log_slow(const char *sql, int64_t us)
{
	size_t len = strlen(sql);

	if (len <= SLOW_LOG_SQL)
		dal__log(DAL_LOG_WARN, "slow query (%.3f ms): %s", (double)us / 1000.0, sql);
	else
		dal__log(DAL_LOG_WARN, "slow query (%.3f ms): %.*s... (%zu bytes)", (double)us / 1000.0, SLOW_LOG_SQL,
			sql, len);
}

void dal__metrics_record(dal_metrics_state *m, const char *sql, uint64_t hash, int64_t us, int error)
{
	bool slow = m->slow_us > 0 && us >= m->slow_us;
	int b;
	dal__stmt_stat *st;

	if (us < 0)
		us = 0;
	if (m->enabled) {
		if (!hash)
			hash = dal__metrics_hash(sql);
		b = dal__metrics_bucket(us);
		pthread_mutex_lock(&m->mu);
		m->queries++;
		m->errors += error < 0;
		m->total_us += (uint64_t)us;
		m->hist[b]++;
		if (us > m->max_us)
			m->max_us = us;
		st = stmt_slot(m, sql, hash);
		st->count++;
		st->errors += error < 0;
		st->total_us += (uint64_t)us;
		if (us > st->max_us)
			st->max_us = us;
		if (slow) {
			dal__slow_entry *e = &m->slow_ring[m->slow_next];
			m->slow++;
			copy_sql(e->sql, sql);
			e->us = us;
			e->at_us = dal_now();
			m->slow_next = (m->slow_next + 1) % DAL__SLOW_RING;
			if (m->slow_kept < DAL__SLOW_RING)
				m->slow_kept++;
		}
		pthread_mutex_unlock(&m->mu);
	}
	/* Parameter values never reach the log here: only the SQL text with placeholders. */
	if (m->echo)
		dal__log(DAL_LOG_INFO, "%.3f ms%s: %s", (double)us / 1000.0, error < 0 ? " (failed)" : "", sql);
	if (slow)
		log_slow(sql, us);
}

void dal__metrics_echo_params(dal_metrics_state *m, const dal_value *params, size_t n, const bool *redact)
{
	dal_str s = DAL_STR_INIT;
	size_t i;

	if (!m->echo || !m->echo_params || n == 0)
		return;
	for (i = 0; i < n; i++) {
		const dal_value *v = &params[i];
		dal__str_puts(&s, i ? ", " : "");
		if (redact && redact[i] && v->type != DAL_TYPE_NULL) {
			dal__str_puts(&s, DAL__REDACTED);
			continue;
		}
		switch (v->type) {
		case DAL_TYPE_NULL: dal__str_puts(&s, "NULL"); break;
		case DAL_TYPE_BOOL: dal__str_puts(&s, v->v.b ? "true" : "false"); break;
		case DAL_TYPE_INT: dal__str_printf(&s, "%lld", (long long)v->v.i); break;
		case DAL_TYPE_DOUBLE: dal__str_printf(&s, "%.17g", v->v.d); break;
		case DAL_TYPE_TIMESTAMP: dal__str_printf(&s, "ts:%lld", (long long)v->v.ts); break;
		case DAL_TYPE_BLOB: dal__str_printf(&s, "<blob %zu bytes>", v->len); break;
		case DAL_TYPE_TEXT:
		case DAL_TYPE_JSON:
			dal__str_printf(&s, "'%.*s'%s", (int)(v->len > 64 ? 64 : v->len), v->v.s,
				v->len > 64 ? "..." : "");
			break;
		default:
			/* The driver refuses it next; its union holds no text to read. */
			dal__str_printf(&s, "<unknown type %d>", (int)v->type);
		}
	}
	if (s.ptr)
		dal__log(DAL_LOG_INFO, "params: [%s]", s.ptr);
	dal__str_dispose(&s);
}

void dal__metrics_retry(dal_metrics_state *m)
{
	pthread_mutex_lock(&m->mu);
	m->retries++;
	pthread_mutex_unlock(&m->mu);
}

/* ---- Snapshots ---- */

static double percentile(const uint64_t *hist, uint64_t count, int64_t max_us, double q)
{
	uint64_t want, cum = 0;
	int i;

	if (count == 0)
		return 0.0;
	/* Rounded up by hand: no libm for one ceil(). */
	want = (uint64_t)(q * (double)count);
	if ((double)want < q * (double)count)
		want++;
	if (want == 0)
		want = 1;
	for (i = 0; i < DAL__HIST_N; i++) {
		cum += hist[i];
		if (cum >= want) {
			double b = dal__metrics_bound_us(i);
			return (b < (double)max_us ? b : (double)max_us) / 1e6;
		}
	}
	return (double)max_us / 1e6;
}

static int cmp_total(const void *a, const void *b)
{
	const dal__stmt_stat *x = *(const dal__stmt_stat *const *)a, *y = *(const dal__stmt_stat *const *)b;

	return x->total_us < y->total_us ? 1 : x->total_us > y->total_us ? -1 : 0;
}

static void fill_stat(dal_statement_stats *out, const dal__stmt_stat *st)
{
	copy_sql(out->sql, st->sql ? st->sql : "(other statements)");
	out->count = st->count;
	out->errors = st->errors;
	out->total_s = (double)st->total_us / 1e6;
	out->max_s = (double)st->max_us / 1e6;
}

static void cache_snapshot(dal_metrics *out, dal_db *db)
{
	dal__cache_stats c;

	dal__cache_stats_get(&c, db->cache);
	out->cache_hits = c.hits;
	out->cache_misses = c.misses;
	out->cache_evictions = c.evictions;
	out->cache_expirations = c.expirations;
	out->cache_invalidations = c.invalidations;
	out->cache_entries = c.entries;
	out->cache_max_entries = c.max_entries;
}

/* The statement counters, under the metrics lock. */
static void counters_locked(dal_metrics_summary *out, const dal_metrics_state *m)
{
	out->since_us = m->since_us;
	out->query_count = m->queries;
	out->slow_query_count = m->slow;
	out->error_count = m->errors;
	out->total_query_s = (double)m->total_us / 1e6;
	out->avg_query_s = m->queries ? out->total_query_s / (double)m->queries : 0.0;
	out->p50_s = percentile(m->hist, m->queries, m->max_us, 0.50);
	out->p95_s = percentile(m->hist, m->queries, m->max_us, 0.95);
	out->p99_s = percentile(m->hist, m->queries, m->max_us, 0.99);
	out->max_s = (double)m->max_us / 1e6;
	out->retries = m->retries;
}

/* `size` is the configured size, as the Python design's pool.size(); `keep` never
 * changes after dal_open, so it is read without the pool's lock. */
static void pool_status_fill(dal_pool_status *out, const dal__pool_snapshot *p, const dal_db *db)
{
	out->size = db->pool.keep;
	out->checked_out = p->checked_out;
	out->checked_in = p->checked_in;
	out->overflow = p->overflow;
	out->max = p->max;
	out->waiting = p->waiting;
}

static void summary_fill(dal_metrics_summary *out, dal_db *db)
{
	dal_metrics_state *m = &db->metrics;
	dal__pool_snapshot p;
	dal__cache_stats c;

	memset(out, 0, sizeof(*out));
	out->version = DAL_METRICS_SUMMARY_VERSION;
	dal__pool_snapshot_get(&p, db);
	pthread_mutex_lock(&m->mu);
	counters_locked(out, m);
	pthread_mutex_unlock(&m->mu);
	out->connection_count = p.size;
	pool_status_fill(&out->pool, &p, db);
	out->pool_checkouts = p.checkouts;
	out->pool_waits = p.waits;
	out->pool_timeouts = p.timeouts;
	out->pool_leaks = p.leaks;
	dal__cache_stats_get(&c, db->cache);
	out->cache_hits = c.hits;
	out->cache_misses = c.misses;
}

static void snapshot(dal_metrics *out, dal_db *db)
{
	dal_metrics_state *m = &db->metrics;
	dal_metrics_summary sum;
	dal__pool_snapshot p;
	const dal__stmt_stat *top[DAL_METRICS_TOP_MAX + 1];
	size_t ntop = 0, i, k;
	unsigned start;
	int b;

	memset(out, 0, sizeof(*out));
	out->version = DAL_METRICS_VERSION;
	dal__pool_snapshot_get(&p, db);
	pthread_mutex_lock(&m->mu);
	counters_locked(&sum, m);
	out->since_us = sum.since_us;
	out->query_count = sum.query_count;
	out->slow_query_count = sum.slow_query_count;
	out->error_count = sum.error_count;
	out->total_query_s = sum.total_query_s;
	out->avg_query_s = sum.avg_query_s;
	out->p50_s = sum.p50_s;
	out->p95_s = sum.p95_s;
	out->p99_s = sum.p99_s;
	out->max_s = sum.max_s;
	out->retries = sum.retries;
	for (b = 0, k = 0; b < DAL__HIST_N; b++) {
		out->bucket_count[k] += m->hist[b];
		if (public_bucket(b)) {
			out->bucket_le_s[k] = dal__metrics_bound_us(b) / 1e6;
			k++;
		}
	}
	out->slow_count = m->slow_kept;
	start = (m->slow_next + DAL__SLOW_RING - m->slow_kept) % DAL__SLOW_RING;
	for (i = 0; i < m->slow_kept; i++) {
		const dal__slow_entry *e = &m->slow_ring[(start + i) % DAL__SLOW_RING];
		memcpy(out->slow[i].sql, e->sql, sizeof(e->sql));
		out->slow[i].duration_s = (double)e->us / 1e6;
		out->slow[i].at_us = e->at_us;
	}
	/* Top N by total time: insertion into a short sorted list. */
	for (i = 0; i <= DAL__STMT_SLOTS; i++) {
		const dal__stmt_stat *st = i < DAL__STMT_SLOTS ? &m->stmts[i] : &m->other;
		if (!st->count)
			continue;
		if (ntop == DAL_METRICS_TOP_MAX && st->total_us <= top[ntop - 1]->total_us)
			continue;
		top[ntop < DAL_METRICS_TOP_MAX ? ntop++ : ntop - 1] = st;
		qsort(top, ntop, sizeof(top[0]), cmp_total);
	}
	out->top_count = ntop;
	for (i = 0; i < ntop; i++)
		fill_stat(&out->top[i], top[i]);
	pthread_mutex_unlock(&m->mu);
	out->connection_count = p.size;
	pool_status_fill(&out->pool, &p, db);
	out->pool_checkouts = p.checkouts;
	out->pool_waits = p.waits;
	out->pool_wait_s = (double)p.wait_us / 1e6;
	out->pool_timeouts = p.timeouts;
	out->pool_created = p.created;
	out->pool_closed = p.closed;
	out->pool_broken = p.broken;
	out->pool_recycled = p.recycled;
	out->pool_leaks = p.leaks;
	cache_snapshot(out, db);
}

int dal_metrics_get(dal_metrics *out, dal_db *db)
{
	dal_metrics *full;
	unsigned int version;
	int error;

	DAL_ASSERT_ARG(out);
	DAL_ASSERT_ARG(db);
	version = out->version;
	if ((error = dal__check_version(version, DAL_METRICS_VERSION, "dal_metrics")) < 0)
		return error;
	if (!(full = malloc(sizeof(*full))))
		return dal__error_nomem();
	snapshot(full, db);
	/* A caller built against version 1 has a shorter struct. */
	memcpy(out, full, version >= 2 ? sizeof(*full) : offsetof(dal_metrics, cache_hits));
	out->version = version;
	free(full);
	return 0;
}

int dal_metrics_summary_get(dal_metrics_summary *out, dal_db *db)
{
	dal_metrics_summary sum;
	unsigned int version;
	int error;

	DAL_ASSERT_ARG(out);
	DAL_ASSERT_ARG(db);
	version = out->version;
	if ((error = dal__check_version(version, DAL_METRICS_SUMMARY_VERSION, "dal_metrics_summary")) < 0)
		return error;
	summary_fill(&sum, db);
	memcpy(out, &sum, sizeof(sum));
	out->version = version;
	return 0;
}

int dal_metrics_reset(dal_db *db)
{
	dal_metrics_state *m;

	DAL_ASSERT_ARG(db);
	m = &db->metrics;
	pthread_mutex_lock(&m->mu);
	m->queries = m->errors = m->slow = m->total_us = m->retries = 0;
	m->max_us = 0;
	m->since_us = dal_now();
	memset(m->hist, 0, sizeof(m->hist));
	m->slow_next = m->slow_kept = 0;
	clear_stmts(m);
	pthread_mutex_unlock(&m->mu);
	dal__pool_reset_counters(db);
	dal__cache_reset_counters(db->cache);
	return 0;
}

int dal_pool_status_get(dal_pool_status *out, dal_db *db)
{
	dal__pool_snapshot p;

	DAL_ASSERT_ARG(out);
	DAL_ASSERT_ARG(db);
	dal__pool_snapshot_get(&p, db);
	pool_status_fill(out, &p, db);
	return 0;
}

void dal_string_free(char *text)
{
	free(text);
}

/* ---- JSON ---- */

json_t *dal__pool_status_json(const dal_pool_status *p, int open)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "size", p->size, "open", open,
		"checked_out", p->checked_out, "checked_in", p->checked_in, "overflow", p->overflow, "max", p->max,
		"waiting", p->waiting);
}

static json_t *metrics_json(const dal_metrics *m, const char *engine)
{
	json_t *o, *arr;
	size_t i;

	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:o, s:I}",
		"database_type", engine,
		"since_us", (json_int_t)m->since_us,
		"query_count", (json_int_t)m->query_count,
		"slow_query_count", (json_int_t)m->slow_query_count,
		"error_count", (json_int_t)m->error_count,
		"total_query_seconds", m->total_query_s,
		"avg_query_seconds", m->avg_query_s,
		"p50_seconds", m->p50_s,
		"p95_seconds", m->p95_s,
		"p99_seconds", m->p99_s,
		"max_seconds", m->max_s,
		"connection_count", m->connection_count,
		"pool", dal__pool_status_json(&m->pool, m->connection_count),
		"retries", (json_int_t)m->retries);
	if (!o)
		return NULL;
	json_object_set_new(o, "pool_counters", json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I}",
		"checkouts", (json_int_t)m->pool_checkouts, "waits", (json_int_t)m->pool_waits,
		"wait_seconds", m->pool_wait_s, "timeouts", (json_int_t)m->pool_timeouts,
		"created", (json_int_t)m->pool_created, "closed", (json_int_t)m->pool_closed,
		"broken", (json_int_t)m->pool_broken, "recycled", (json_int_t)m->pool_recycled,
		"leaks", (json_int_t)m->pool_leaks));
	arr = json_array();
	for (i = 0; i < DAL_METRICS_BUCKETS; i++)
		json_array_append_new(arr, json_pack("{s:o, s:I}",
			"le", i + 1 < DAL_METRICS_BUCKETS ? json_real(m->bucket_le_s[i]) : json_string("+Inf"),
			"count", (json_int_t)m->bucket_count[i]));
	json_object_set_new(o, "histogram", arr);
	arr = json_array();
	for (i = 0; i < m->slow_count; i++)
		json_array_append_new(arr, json_pack("{s:s, s:f, s:I}", "sql", m->slow[i].sql,
			"duration_seconds", m->slow[i].duration_s, "at_us", (json_int_t)m->slow[i].at_us));
	json_object_set_new(o, "slow_queries", arr);
	arr = json_array();
	for (i = 0; i < m->top_count; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:f, s:f}", "sql", m->top[i].sql,
			"count", (json_int_t)m->top[i].count, "errors", (json_int_t)m->top[i].errors,
			"total_seconds", m->top[i].total_s, "max_seconds", m->top[i].max_s));
	json_object_set_new(o, "top_statements", arr);
	json_object_set_new(o, "cache", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"hits", (json_int_t)m->cache_hits, "misses", (json_int_t)m->cache_misses,
		"evictions", (json_int_t)m->cache_evictions, "expirations", (json_int_t)m->cache_expirations,
		"invalidations", (json_int_t)m->cache_invalidations, "entries", (json_int_t)m->cache_entries,
		"max_entries", (json_int_t)m->cache_max_entries));
	return o;
}

int dal__json_dump(char **out, json_t *o)
{
	char *text;

	if (!o)
		return dal__error_nomem();
	text = dal__json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(o);
	if (!text)
		return dal__error_nomem();
	*out = text;
	return 0;
}

/* A snapshot on the heap: the struct is too large for a caller's stack. */
static int snapshot_new(dal_metrics **out, dal_db *db)
{
	int error;

	if (!(*out = malloc(sizeof(**out))))
		return dal__error_nomem();
	(*out)->version = DAL_METRICS_VERSION;
	if ((error = dal_metrics_get(*out, db)) < 0) {
		free(*out);
		*out = NULL;
	}
	return error;
}

int dal_metrics_json(char **out, dal_db *db)
{
	dal_metrics *m = NULL;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if ((error = snapshot_new(&m, db)) == 0)
		error = dal__json_dump(out, metrics_json(m, db->drv->name));
	free(m);
	return error;
}

/* ---- Prometheus text exposition 0.0.4 ---- */

/*
 * The text being written. A failed append leaves a hole in it while later, smaller
 * ones may still fit: the first failure is kept, and the whole call fails with it.
 */
typedef struct prom {
	dal_str s;
	int error;
	char lbl[64];   /* the labels every sample carries */
} prom;

static void prom_keep(prom *p, int error)
{
	if (error < 0 && p->error == 0)
		p->error = error;
}

static void prom_printf(prom *p, const char *fmt, ...) DAL__PRINTF(2, 3);
static void prom_printf(prom *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prom_keep(p, dal__str_vprintf(&p->s, fmt, ap));
	va_end(ap);
}

static void prom_head(prom *p, const char *name, const char *type, const char *help)
{
	prom_printf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void prom_label_value(prom *p, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			prom_keep(p, dal__str_puts(&p->s, "\\\\"));
		else if (*v == '"')
			prom_keep(p, dal__str_puts(&p->s, "\\\""));
		else if (*v == '\n')
			prom_keep(p, dal__str_puts(&p->s, "\\n"));
		else
			prom_keep(p, dal__str_putc(&p->s, *v));
	}
}

static void prom_u(prom *p, const char *name, const char *type, const char *help, uint64_t v)
{
	prom_head(p, name, type, help);
	prom_printf(p, "%s{%s} %llu\n", name, p->lbl, (unsigned long long)v);
}

static void prom_d(prom *p, const char *name, const char *type, const char *help, double v)
{
	prom_head(p, name, type, help);
	prom_printf(p, "%s{%s} %.9g\n", name, p->lbl, v);
}

static void prom_histogram(prom *p, const dal_metrics *m)
{
	uint64_t cum = 0;
	size_t i;

	prom_head(p, "dal_db_client_operation_duration_seconds", "histogram",
		"Duration of database client operations (every statement dal ran).");
	for (i = 0; i < DAL_METRICS_BUCKETS; i++) {
		cum += m->bucket_count[i];
		if (i + 1 < DAL_METRICS_BUCKETS)
			prom_printf(p, "dal_db_client_operation_duration_seconds_bucket{%s,le=\"%.9g\"} %llu\n",
				p->lbl, m->bucket_le_s[i], (unsigned long long)cum);
		else
			prom_printf(p, "dal_db_client_operation_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n",
				p->lbl, (unsigned long long)cum);
	}
	prom_printf(p, "dal_db_client_operation_duration_seconds_sum{%s} %.9g\n", p->lbl, m->total_query_s);
	prom_printf(p, "dal_db_client_operation_duration_seconds_count{%s} %llu\n", p->lbl, (unsigned long long)cum);
}

static void prom_counts(prom *p, const dal_metrics *m)
{
	prom_u(p, "dal_db_client_operations_total", "counter", "Statements run.", m->query_count);
	prom_u(p, "dal_db_client_operation_errors_total", "counter", "Statements that failed.", m->error_count);
	prom_u(p, "dal_db_client_slow_operations_total", "counter",
		"Statements slower than the slow_query_ms threshold.", m->slow_query_count);
	prom_d(p, "dal_db_client_operation_duration_max_seconds", "gauge", "The slowest statement.", m->max_s);
}

static void prom_pool(prom *p, const dal_metrics *m)
{
	prom_head(p, "dal_db_client_connection_count", "gauge", "Connections open, by state (idle or used).");
	prom_printf(p, "dal_db_client_connection_count{%s,state=\"idle\"} %d\n", p->lbl, m->pool.checked_in);
	prom_printf(p, "dal_db_client_connection_count{%s,state=\"used\"} %d\n", p->lbl, m->pool.checked_out);
	prom_u(p, "dal_db_client_connection_max", "gauge", "The most connections the pool may open.",
		(uint64_t)m->pool.max);
	prom_u(p, "dal_db_client_connection_pending_requests", "gauge", "Callers waiting for a connection.",
		(uint64_t)m->pool.waiting);
	prom_u(p, "dal_db_client_connection_overflow", "gauge", "Connections open beyond pool_size.",
		(uint64_t)m->pool.overflow);
	prom_u(p, "dal_db_client_connection_timeouts_total", "counter",
		"Waits for a connection that ended in a timeout.", m->pool_timeouts);
	prom_u(p, "dal_pool_checkouts_total", "counter", "Connections lent by the pool.", m->pool_checkouts);
	prom_u(p, "dal_pool_waits_total", "counter", "Checkouts that had to wait.", m->pool_waits);
	prom_d(p, "dal_pool_wait_seconds_total", "counter", "Time spent waiting for a connection.", m->pool_wait_s);
	prom_u(p, "dal_pool_connections_created_total", "counter", "Connections opened.", m->pool_created);
	prom_u(p, "dal_pool_connections_closed_total", "counter", "Connections closed.", m->pool_closed);
	prom_u(p, "dal_pool_connections_broken_total", "counter", "Connections found dead.", m->pool_broken);
	prom_u(p, "dal_pool_connections_recycled_total", "counter", "Connections closed for age.", m->pool_recycled);
	prom_u(p, "dal_pool_leaks_total", "counter", "Connections reported as held too long.", m->pool_leaks);
	prom_u(p, "dal_tx_retries_total", "counter", "Units of work retried after a serialization failure.",
		m->retries);
}

static void prom_cache(prom *p, const dal_metrics *m)
{
	prom_u(p, "dal_cache_hits_total", "counter", "Reads by id answered from the read cache.", m->cache_hits);
	prom_u(p, "dal_cache_misses_total", "counter", "Cacheable reads by id that went to the database.",
		m->cache_misses);
	prom_u(p, "dal_cache_evictions_total", "counter", "Cached rows dropped to stay within the bound.",
		m->cache_evictions);
	prom_u(p, "dal_cache_expirations_total", "counter", "Cached rows dropped for age.", m->cache_expirations);
	prom_u(p, "dal_cache_invalidations_total", "counter", "Cached rows dropped because they were written.",
		m->cache_invalidations);
	prom_u(p, "dal_cache_entries", "gauge", "Rows in the read cache.", m->cache_entries);
	prom_u(p, "dal_cache_max_entries", "gauge", "The most rows the read cache keeps.", m->cache_max_entries);
}

static void prom_statements(prom *p, const dal_metrics *m)
{
	size_t i;

	prom_head(p, "dal_statement_duration_seconds_total", "counter",
		"Time spent per statement text (the top statements by total time).");
	for (i = 0; i < m->top_count; i++) {
		prom_printf(p, "dal_statement_duration_seconds_total{%s,db_query_text=\"", p->lbl);
		prom_label_value(p, m->top[i].sql);
		prom_printf(p, "\"} %.9g\n", m->top[i].total_s);
	}
	prom_head(p, "dal_statement_calls_total", "counter", "Runs per statement text (the top statements).");
	for (i = 0; i < m->top_count; i++) {
		prom_printf(p, "dal_statement_calls_total{%s,db_query_text=\"", p->lbl);
		prom_label_value(p, m->top[i].sql);
		prom_printf(p, "\"} %llu\n", (unsigned long long)m->top[i].count);
	}
}

int dal_metrics_prometheus(char **out, dal_db *db)
{
	prom p = { DAL_STR_INIT, 0, "" };
	dal_metrics *m = NULL;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if ((error = snapshot_new(&m, db)) < 0)
		goto done;
	snprintf(p.lbl, sizeof(p.lbl), "db_system_name=\"%s\"", db->drv->name);
	prom_histogram(&p, m);
	prom_counts(&p, m);
	prom_pool(&p, m);
	prom_cache(&p, m);
	prom_statements(&p, m);
	if ((error = p.error) < 0)
		goto done;
	if (!(*out = dal__str_detach(&p.s)))
		error = DAL_ENOMEM;
done:
	dal__str_dispose(&p.s);
	free(m);
	return error;
}
