/* The table dal_schema_migrations: what is applied, read and written. Internal. */
#ifndef DAL_MIGRATE_APPLIED_H
#define DAL_MIGRATE_APPLIED_H

#include "driver/driver.h"
#include "migrate/source.h"

typedef struct dal__applied_row {
	long long version;
	char *name;
	char checksum[65];
	int64_t applied_at;
	int64_t duration_ms;
	char *applied_by;
} dal__applied_row;

typedef struct dal__applied {
	dal__applied_row *v;   /* by version */
	size_t n, cap;
} dal__applied;

/* Read what is recorded (none if the table does not exist yet), replacing `out`. */
int dal__applied_read(dal__applied *out, dal_conn *conn);
const dal__applied_row *dal__applied_find(const dal__applied *a, long long version);
void dal__applied_dispose(dal__applied *a);
/* Empty the list read (the record is untouched). */
void dal__applied_forget_all(dal__applied *a);

/* Make the table if it is missing. */
int dal__applied_prepare(dal_conn *conn);
/* Hold the engine's lock for migrating (PostgreSQL: an advisory lock) until unlock. */
int dal__applied_lock(dal_conn *conn, bool *locked);
void dal__applied_unlock(dal_conn *conn);
/* Bound lock waits of the statements that follow (PostgreSQL lock_timeout): for the
 * transaction (`in_tx`) or the session, until reset. 0 ms: no bound. */
int dal__applied_lock_timeout(dal_conn *conn, int ms, bool in_tx);
void dal__applied_lock_timeout_reset(dal_conn *conn, bool in_tx);

/* Whether `version` is recorded, as the current transaction sees it. */
int dal__applied_has(bool *out, dal_conn *conn, long long version);
int dal__applied_record(dal_conn *conn, const dal__mig *m, int64_t applied_at, int64_t duration_ms, const char *by);
int dal__applied_forget(dal_conn *conn, long long version);

#endif
