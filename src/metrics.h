/* Statement timing. The full metrics issue grows this; every statement passes here once. */
#ifndef DAL_METRICS_INTERNAL_H
#define DAL_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct dal_metrics_state {
	pthread_mutex_t mu;
	uint64_t queries;
	uint64_t errors;
	uint64_t slow;
	uint64_t total_us;
	uint64_t retries;      /* dal_run_tx attempts after the first */
	int slow_us;
	bool echo;
} dal_metrics_state;

void dal__metrics_init(dal_metrics_state *m, int slow_query_ms, bool echo);
void dal__metrics_dispose(dal_metrics_state *m);
/* Count one statement: its SQL (no parameter values), duration and outcome. */
void dal__metrics_record(dal_metrics_state *m, const char *sql, int64_t us, int error);
/* Count one dal_run_tx retry. */
void dal__metrics_retry(dal_metrics_state *m);

#endif
