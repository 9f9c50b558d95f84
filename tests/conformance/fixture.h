/* The engine fixture every conformance case runs on. */
#ifndef DAL_TEST_FIXTURE_H
#define DAL_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <dal/dal.h>

typedef struct fixture {
	const char *engine;     /* sqlite-file, sqlite-memory, duckdb, postgres */
	dal_db *db;             /* opened fresh for every case */
	char url[1024];
} fixture;

#define FX(state) ((fixture *)*(state))

/* A user: a name, a unique email, an age and soft delete. */
#define FX_USER_COLUMNS \
	DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 20), \
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 100), DAL_COL("age", DAL_TYPE_INT, 0, 0), \
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT()

/* No deleted_at: a plain unique column, no soft delete. */
#define FX_TAG_COLUMNS \
	DAL_COL_ID(), DAL_COL("label", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 50), DAL_COL_CREATED_AT()

/* id plus one column of every dal type: b, i, d, s, bl, ts, j. */
#define FX_ALL_TYPE_COLUMNS \
	DAL_COL_ID(), DAL_COL("b", DAL_TYPE_BOOL, 0, 0), DAL_COL("i", DAL_TYPE_INT, 0, 0), \
	DAL_COL("d", DAL_TYPE_DOUBLE, 0, 0), DAL_COL("s", DAL_TYPE_TEXT, 0, 0), DAL_COL("bl", DAL_TYPE_BLOB, 0, 0), \
	DAL_COL("ts", DAL_TYPE_TIMESTAMP, 0, 0), DAL_COL("j", DAL_TYPE_JSON, 0, 0)

/* Per-case setup and teardown: a fresh, empty database. */
int fx_setup(void **state);
int fx_teardown(void **state);
/* Open another dal_db on the same database as the fixture. */
int fx_open_again(dal_db **out, fixture *fx, const dal_config *cfg);
bool fx_is(const fixture *fx, const char *engine);
/* The engine's DDL type for a dal type. */
const char *fx_type(const fixture *fx, dal_type type);
/* A counted skip, with its reason printed. */
#define FX_SKIP(reason) do { print_message("skipped: %s\n", (reason)); skip(); } while (0)

/* Assert that an expression returns DAL_OK, printing dal_error_last() if not. */
#define CHECK_OK(expr) \
	do { int rc_ = (expr); if (rc_ != 0) fail_msg("%s -> %d (%s): %s", #expr, rc_, dal_strerror(rc_), \
		dal_error_last()->message); } while (0)
/* Assert a specific error code. */
#define CHECK_ERR(code, expr) \
	do { int rc_ = (expr); if (rc_ != (code)) fail_msg("%s -> %d (%s), expected %s: %s", #expr, rc_, \
		dal_strerror(rc_), #code, dal_error_last()->message); } while (0)

/* The last error's message must contain `s`. */
#define CHECK_MSG(s) \
	do { if (!strstr(dal_error_last()->message, (s))) fail_msg("message \"%s\" does not name \"%s\"", \
		dal_error_last()->message, (s)); } while (0)

/* Create `m`'s table (DAL_AUTO_MIGRATE) and open a repository on it. */
dal_repo *fx_open_repo(fixture *fx, const dal_model *m, unsigned flags);

/* Create one row from `f` (asserting success) and return its id. */
int64_t fx_create(dal_repo *repo, const dal_field *f, size_t n);
/* The one audit row of `action` for row `id` of `table`; owned by the caller. */
dal_audit_logs *fx_audit_of(fixture *fx, const char *table, const char *action, int64_t id);

/* The text must contain `needle`. */
#define CONTAINS(hay, needle) \
	do { if (!(hay) || !strstr((hay), (needle))) fail_msg("\"%s\" does not contain \"%s\"", \
		(hay) ? (hay) : "(null)", (needle)); } while (0)

/* Whether an index of that name exists, by the engine's catalog. */
bool fx_index_exists(fixture *fx, const char *name);

/* Run SQL with no parameters, asserting success. */
void fx_exec(fixture *fx, const char *sql);
/* One int64 from a query such as SELECT COUNT(*). */
int64_t fx_scalar(fixture *fx, const char *sql, const dal_value *params, size_t n);

/* PostgreSQL: return once a backend of this database is seen waiting on a lock
 * (polled, read live also inside a unit); fails the case if none does. */
void fx_wait_for_lock_wait(fixture *fx);

/* Case lists, one per file, listed once in main.c. */
typedef struct fx_cases {
	const struct CMUnitTest *tests;
	size_t count;
} fx_cases;

#define FX_CASE(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
#define FX_CASES(name, ...) \
	static const struct CMUnitTest name##_tests[] = { __VA_ARGS__ }; \
	const fx_cases name = { name##_tests, sizeof(name##_tests) / sizeof(name##_tests[0]) }

extern const fx_cases cases_base;
extern const fx_cases cases_repo;
extern const fx_cases cases_uow;
extern const fx_cases cases_metrics;
extern const fx_cases cases_audit;
extern const fx_cases cases_bulk;
extern const fx_cases cases_cache;
extern const fx_cases cases_write;
extern const fx_cases cases_write_input;
extern const fx_cases cases_each;
extern const fx_cases cases_errors;
extern const fx_cases cases_sqltext;
extern const fx_cases cases_ids;
extern const fx_cases cases_secrets;
extern const fx_cases cases_index;
extern const fx_cases cases_schema;
extern const fx_cases cases_migrate;
extern const fx_cases cases_diff;
extern const fx_cases cases_diskfull;
extern const fx_cases cases_timeout;
extern const fx_cases cases_in;
extern const fx_cases cases_easy;
extern const fx_cases cases_scale;
extern const fx_cases cases_pyusers;
extern const fx_cases cases_reads;
extern const fx_cases cases_review;
extern const fx_cases cases_idwindow;

#endif
