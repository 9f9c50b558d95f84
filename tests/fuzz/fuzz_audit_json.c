/*
 * Fuzz what the audit trail reads back from its table, which anyone with write
 * access to the database may have changed: the canonical form verify hashes,
 * the row hash itself, and the values an as-of read applies to a row. Any input
 * gives DAL_OK or DAL_EINVAL, never a crash, and the same input hashes the same.
 * Built as a plain program that mutates seed documents (a ctest, label fuzz,
 * meant to run under ASan), or with -DDAL_LIBFUZZER as a libFuzzer target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"

static const dal_column cols[] = {
	DAL_COL_ID(), DAL_COL("b", DAL_TYPE_BOOL, 0, 0), DAL_COL("i", DAL_TYPE_INT, 0, 0),
	DAL_COL("d", DAL_TYPE_DOUBLE, 0, 0), DAL_COL("s", DAL_TYPE_TEXT, 0, 0), DAL_COL("bl", DAL_TYPE_BLOB, 0, 0),
	DAL_COL("ts", DAL_TYPE_TIMESTAMP, 0, 0), DAL_COL("j", DAL_TYPE_JSON, 0, 0),
};
static const dal_model model = DAL_MODEL("fuzz_types", cols);

static void expect(int rc)
{
	if (rc != 0 && rc != DAL_EINVAL && rc != DAL_ENOMEM)
		abort();
}

static void canonical_twice(const char *text, size_t size)
{
	dal_str a = DAL_STR_INIT, b = DAL_STR_INIT;
	int ra = dal__json_canonical(&a, text, size), rb = dal__json_canonical(&b, text, size);

	expect(ra);
	if (ra != rb || a.len != b.len || (a.len && memcmp(a.ptr, b.ptr, a.len) != 0))
		abort();
	dal__str_dispose(&a);
	dal__str_dispose(&b);
}

static void hash_twice(const char *text, size_t size)
{
	dal__audit_content c = { 7, "prev", 1700000000000000, "UPDATE", "fuzz_types", 3, true, text, NULL, NULL,
		NULL, NULL, text, text, size, size };
	char h1[65], h2[65];

	if (dal__audit_hash(h1, &c, NULL) != 0 || dal__audit_hash(h2, &c, NULL) != 0 || strcmp(h1, h2) != 0)
		abort();
}

static void check(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	dal_row *row = NULL;

	memcpy(text, data, size);
	text[size] = '\0';
	canonical_twice(text, size);
	hash_twice(text, size);
	if (dal_row_new(&row, &model) != 0)
		abort();
	expect(dal__audit_json_apply(row, text, size));
	dal_row_free(row);
	free(text);
}

#include "fuzz/driver.h"

/* What dal writes, what jsonb prints back, and numbers in every form. */
static const char *const seeds[] = {
	"{\"b\":true,\"bl\":\"AAEC/w==\",\"d\":1.5,\"i\":-12,\"j\":{\"a\":[1,2,{\"b\":null}]},\"s\":\"x\\\"y\\\\z\","
	"\"ts\":\"2026-11-27T08:00:00.000001Z\"}",
	"{\"d\": 1.5e-07, \"i\": 9007199254740993, \"s\": \"\\u00e9\\ud83d\\ude00\\n\"}",
	"{\"d\":\"NaN\",\"i\":null,\"s\":\"[REDACTED]\",\"ts\":\"2026-11-27 08:00:00\"}",
	"[1, -0, 0.000, 00012.3400, 1E+400, -1e-400, 123456789012345678901234567890.5e3]",
	"{\"j\":\"{\\\"nested\\\":true}\",\"d\":-0.0,\"d\":12345678901234567890}",
	"\"\\ud800\" true false null", "",
};

DAL_FUZZ_MAIN(check, "fuzz_audit_json", 100000, seeds, "{}[]\":,.-+eE0123456789\\u/ntfabrsdijlTZ:\x01\x7f\xc3\xa9\xff")
