#include <stdbool.h>

#include "metrics.h"
#include "util/log.h"

void dal__metrics_init(dal_metrics_state *m, int slow_query_ms, bool echo)
{
	pthread_mutex_init(&m->mu, NULL);
	m->queries = m->errors = m->slow = m->total_us = m->retries = 0;
	m->slow_us = slow_query_ms * 1000;
	m->echo = echo;
}

void dal__metrics_dispose(dal_metrics_state *m)
{
	pthread_mutex_destroy(&m->mu);
}

void dal__metrics_record(dal_metrics_state *m, const char *sql, int64_t us, int error)
{
	bool slow = m->slow_us > 0 && us >= m->slow_us;

	pthread_mutex_lock(&m->mu);
	m->queries++;
	m->errors += error < 0;
	m->slow += slow;
	m->total_us += (uint64_t)(us > 0 ? us : 0);
	pthread_mutex_unlock(&m->mu);
	/* Parameter values never reach the log: only the SQL text with placeholders. */
	if (m->echo)
		dal__log(DAL_LOG_INFO, "%.3f ms: %s", (double)us / 1000.0, sql);
	if (slow)
		dal__log(DAL_LOG_WARN, "slow query (%.3f ms): %s", (double)us / 1000.0, sql);
}

void dal__metrics_retry(dal_metrics_state *m)
{
	pthread_mutex_lock(&m->mu);
	m->retries++;
	pthread_mutex_unlock(&m->mu);
}
