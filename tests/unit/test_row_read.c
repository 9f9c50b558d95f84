/* The row reader's conversion of engine values: its fast path for canonical
 * timestamps must accept and refuse exactly what dal_timestamp_parse does. No engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dal/dal.h>

#include "row.h"

static const dal_column cols[] = { DAL_COL_ID(), DAL_COL("at", DAL_TYPE_TIMESTAMP, 0, 0) };
static const dal_model model = DAL_MODEL("things", cols);

/* Text as an engine gives it back for column "at", against the general parser. */
static void same_as_parse(const char *text)
{
	dal_value in = dal_text(text), out;
	int64_t want = 0;
	int parsed = dal_timestamp_parse(&want, text);
	int got = dal__value_to_column(&out, &model, 1, &in);

	if (parsed == 0) {
		assert_int_equal(got, 0);
		assert_int_equal(out.type, DAL_TYPE_TIMESTAMP);
		assert_int_equal(out.v.ts, want);
	} else {
		assert_int_equal(got, DAL_EINVAL);
	}
	/* Converted in place, as dal_repo_each reads a row. */
	got = dal__value_to_column(&in, &model, 1, &in);
	assert_int_equal(got, parsed == 0 ? 0 : DAL_EINVAL);
	if (parsed == 0)
		assert_int_equal(in.v.ts, want);
}

static void test_canonical_timestamps(void **state)
{
	static const char *const texts[] = {
		"2026-12-05 22:38:02.123456", "2026-12-05T22:38:02.123456", "0001-01-01 00:00:00.000000",
		"9999-12-31 23:59:59.999999", "2024-02-29 12:00:00.000001", "2023-02-29 12:00:00.000000",
		"2026-12-05 23:59:60.000000", /* as the general parser: a leap second */
		"2026-02-30 00:00:00.000000", "2026-13-01 00:00:00.000000", "0000-01-01 00:00:00.000000",
		"2026-12-05 24:00:00.000000", "2026-12-05 23:60:00.000000", "2026-12-05 23:59:61.000000",
		"2026-12-05 2a:00:00.000000", "2026-12-05 22:38:02,123456", "2026-12-05X22:38:02.123456",
		"2026-12-05 22:38:02.12345a", "-026-12-05 22:38:02.123456", "2026-12-05 22:38:02.12345 ",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_as_parse(texts[i]);
}

/* Other forms still take the general parser. */
static void test_other_timestamps(void **state)
{
	static const char *const texts[] = {
		"2026-12-05", "2026-12-05 22:38:02", "2026-12-05 22:38:02.5", "2026-12-05 22:38:02.123456Z",
		"2026-12-05 22:38:02.123456+00", "2026-12-05 22:38:02.1234567", "2026-12-05 22:38:02+01", "",
		"not a timestamp",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_as_parse(texts[i]);
}

/* Text with a NUL inside reads as before: up to the NUL (here a valid five-digit
 * fraction); text not NUL-terminated is read to its length only. */
static void test_lengths(void **state)
{
	dal_value nul = dal_textn("2026-12-05 22:38:02.12345\0", 26), cut = dal_textn("2026-12-05 22:38:02.1234567", 26);
	dal_value out;
	int64_t want;

	(void)state;
	assert_int_equal(dal_timestamp_parse(&want, "2026-12-05 22:38:02.12345"), 0);
	assert_int_equal(dal__value_to_column(&out, &model, 1, &nul), 0);
	assert_int_equal(out.v.ts, want);
	assert_int_equal(dal_timestamp_parse(&want, "2026-12-05 22:38:02.123456"), 0);
	assert_int_equal(dal__value_to_column(&out, &model, 1, &cut), 0);
	assert_int_equal(out.v.ts, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_timestamps),
		cmocka_unit_test(test_other_timestamps),
		cmocka_unit_test(test_lengths),
	};
	return cmocka_run_group_tests_name("row_read", tests, NULL, NULL);
}
