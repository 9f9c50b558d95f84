/* Cost that grows only with the work: SQLite's page cache and memory map. */
#include "conformance/fixture.h"

#include <stdlib.h>

static int64_t pragma(dal_db *db, const char *sql)
{
	dal_result *r = NULL;
	int64_t v;

	CHECK_OK(dal_query(&r, db, sql, NULL, 0));
	assert_int_equal(dal_result_rows(r), 1);
	v = dal_result_get(r, 0, 0)->v.i;
	dal_result_free(r);
	return v;
}

/* Every connection of a file database gets the configured page cache and memory map. */
static void test_sqlite_page_cache_and_mmap_from_config(void **state)
{
	fixture *fx = FX(state);
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;

	if (!fx_is(fx, "sqlite-file") && !fx_is(fx, "sqlite-memory"))
		FX_SKIP("SQLite's page cache and memory map only");
	if (fx_is(fx, "sqlite-memory")) {
		/* A :memory: database is all page cache: dal leaves SQLite's setting alone. */
		assert_int_equal(pragma(fx->db, "PRAGMA cache_size"), -2000);
		return;
	}
	assert_int_equal(pragma(fx->db, "PRAGMA cache_size"), -16384);
	assert_int_equal(pragma(fx->db, "PRAGMA mmap_size"), 256LL * 1024 * 1024);
	cfg.sqlite_cache_kib = 1024;
	cfg.sqlite_mmap_mib = 0;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	assert_int_equal(pragma(db, "PRAGMA cache_size"), -1024);
	assert_int_equal(pragma(db, "PRAGMA mmap_size"), 0);
	dal_close(db);
	cfg.sqlite_mmap_mib = -1;
	CHECK_ERR(DAL_EINVAL, fx_open_again(&db, fx, &cfg));
	CHECK_MSG("sqlite_mmap_mib");
}

/* A program built against version 3 of dal_config gets this version's defaults for the rest. */
static void test_config_version_3_gets_default_sqlite_sizes(void **state)
{
	fixture *fx = FX(state);
	dal_config old;
	dal_db *db = NULL;

	if (!fx_is(fx, "sqlite-file"))
		FX_SKIP("SQLite file databases only");
	memset(&old, 0x7f, sizeof(old));
	CHECK_OK(dal_config_init(&old, 3));
	CHECK_OK(fx_open_again(&db, fx, &old));
	assert_int_equal(pragma(db, "PRAGMA cache_size"), -16384);
	dal_close(db);
}

FX_CASES(cases_scale,
	FX_CASE(test_sqlite_page_cache_and_mmap_from_config),
	FX_CASE(test_config_version_3_gets_default_sqlite_sizes),
);
