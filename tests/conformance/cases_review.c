/* Defects found in review, each case failing before its fix. */
#include "conformance/fixture.h"

#include <stdlib.h>

static char logged[512];

static void capture(dal_log_level level, const char *message, void *payload)
{
	(void)payload;
	if (level >= DAL_LOG_WARN)
		snprintf(logged, sizeof(logged), "%s", message);
}

/*
 * dal_close() on the handle of dal_default() (as DAL_AUTO(dal_db) does at the end of
 * its block) must not free it: the handle is closed again at exit, and every later
 * dal_default() hands back the same pointer. The call is refused with a warning and
 * the handle keeps working. The default database is an SQLite :memory: one on every
 * engine: it stays open until the runner exits, past every fixture's files.
 */
static void test_close_of_default_handle_is_refused(void **state)
{
	dal_db *first = NULL, *again = NULL;
	int64_t n = 0;

	(void)state;
	setenv("DATABASE_URL", "sqlite:///:memory:", 1);
	CHECK_OK(dal_default(&first));
	logged[0] = '\0';
	dal_log_set_handler(capture, NULL);
	dal_close(first);
	dal_log_set_handler(NULL, NULL);
	if (!strstr(logged, "dal_default()"))
		fail_msg("no warning naming dal_default(): \"%s\"", logged);
	CHECK_OK(dal_default(&again));
	assert_ptr_equal(first, again);
	CHECK_OK(dal_exec(&n, again, "CREATE TABLE IF NOT EXISTS rv_default (x INTEGER)", NULL, 0));
}

FX_CASES(cases_review,
	FX_CASE(test_close_of_default_handle_is_refused),
);
