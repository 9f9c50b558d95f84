/*
 * Long IN lists (DAL_WHERE_IN) through every repository call that takes criteria:
 * 70,000 values of each type the lists carry, hostile texts among them, mixed with
 * other filters, order, limits and soft delete. Each result is compared with the
 * rows computed here, and with the same filter given as short lists.
 */
#include "conformance/fixture.h"

#include <stdlib.h>

enum { ROWS = 1200, LONG = 70000, SHORT = 32 };

static const dal_column in_cols[] = {
	DAL_COL_ID(), DAL_COL("i", DAL_TYPE_INT, 0, 0), DAL_COL("s", DAL_TYPE_TEXT, 0, 0),
	DAL_COL("d", DAL_TYPE_DOUBLE, 0, 0), DAL_COL("b", DAL_TYPE_BOOL, 0, 0),
	DAL_COL("ts", DAL_TYPE_TIMESTAMP, 0, 0), DAL_COL("grp", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("secret", DAL_TYPE_TEXT, DAL_SENSITIVE, 0), DAL_COL_DELETED_AT(),
};
static const dal_model in_model = DAL_MODEL("in_rows", in_cols);

/* Texts an array or JSON literal must carry unchanged: its own delimiters, words it
 * reads specially, whitespace it could trim, escapes, and unicode. */
static const char *const hostile[] = {
	"", " ", "  lead", "trail  ", "NULL", "null", "\"NULL\"", "'", "''", "\"", "\"\"", "\\", "\\\\", "\\\"",
	",", "{", "}", "{}", "{a,b}", "[", "]", "[1,2]", "a,b", "a\"b", "a\\b", "a'b", "\t\n\r", "\x01\x1f",
	"$1", "?", "$$", "--", "/*", "*/", "; DROP TABLE in_rows; --", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
	"\xe2\x80\xae" "rtl", "zero\xe2\x80\x8bwidth", "\xf0\x9f\x98\x80", "\\u0041", "\\x41", "E'x'", "%_",
};
#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

typedef struct in_data {
	dal_repo *repo;
	int64_t ids[ROWS];
	int64_t i[ROWS];
	char *s[ROWS];
	double d[ROWS];
	int64_t ts[ROWS];
	bool deleted[ROWS];
} in_data;

static int64_t int_of(size_t k)
{
	if (k == 0)
		return INT64_MIN;
	if (k == 1)
		return INT64_MAX;
	return (int64_t)k * 7919 - 4000000;
}

static double double_of(size_t k)
{
	static const double special[] = { 0.1, -0.0, 1e300, -1e-300, 4.9e-324, 0.30000000000000004, 1.0, 2.5e15 };

	if (k < sizeof(special) / sizeof(special[0]))
		return special[k];
	return (double)k / 3.0 - 17.125;
}

static void fill(in_data *t, fixture *fx)
{
	const char *cols[] = { "i", "s", "d", "b", "ts", "grp", "secret" };
	dal_value *v = calloc(ROWS * 7, sizeof(*v));
	char buf[64];
	size_t k;

	assert_non_null(v);
	t->repo = fx_open_repo(fx, &in_model, 0);
	for (k = 0; k < ROWS; k++) {
		if (k < NHOSTILE)
			t->s[k] = strdup(hostile[k]);
		else {
			snprintf(buf, sizeof(buf), "%s#%zu", hostile[k % NHOSTILE], k);
			t->s[k] = strdup(buf);
		}
		t->i[k] = int_of(k);
		t->d[k] = double_of(k);
		/* Microseconds, years 0001 to about 2200. */
		t->ts[k] = -62135596800000000LL + (int64_t)k * 6000000000007LL;
		v[k * 7 + 0] = dal_int(t->i[k]);
		v[k * 7 + 1] = dal_text(t->s[k]);
		v[k * 7 + 2] = dal_double(t->d[k]);
		v[k * 7 + 3] = dal_bool(k % 3 == 0);
		v[k * 7 + 4] = dal_timestamp(t->ts[k]);
		v[k * 7 + 5] = dal_int((int64_t)(k % 10));
		v[k * 7 + 6] = dal_text(t->s[k]);
	}
	CHECK_OK(dal_repo_bulk_create(t->ids, t->repo, cols, 7, v, ROWS));
	for (k = 0; k < ROWS; k += 37) {
		CHECK_OK(dal_repo_delete(t->repo, t->ids[k], true));
		t->deleted[k] = true;
	}
	free(v);
}

static void data_free(in_data *t)
{
	size_t k;

	for (k = 0; k < ROWS; k++)
		free(t->s[k]);
	dal_repo_close(t->repo);
}

/* A deterministic shuffle, so matching values sit anywhere in the list. */
static void shuffle(dal_value *v, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t k;

	for (k = n - 1; k > 0; k--) {
		size_t j;
		dal_value tmp;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (size_t)(x % (k + 1));
		tmp = v[k], v[k] = v[j], v[j] = tmp;
	}
}

/* The ids of `rows`, which must be `want` (ROWS flags) in id order. */
static void expect_rows(const in_data *t, dal_rows *rows, const bool *want, const char *what)
{
	size_t k, n = 0;

	for (k = 0; k < ROWS; k++) {
		if (!want[k])
			continue;
		if (n >= dal_rows_count(rows))
			fail_msg("%s: %zu rows, row %zu (id %lld) missing", what, dal_rows_count(rows), k,
				(long long)t->ids[k]);
		if (dal_row_int(dal_rows_at(rows, n), "id") != t->ids[k])
			fail_msg("%s: result %zu is id %lld, expected %lld", what, n,
				(long long)dal_row_int(dal_rows_at(rows, n), "id"), (long long)t->ids[k]);
		n++;
	}
	if (n != dal_rows_count(rows))
		fail_msg("%s: %zu rows, expected %zu", what, dal_rows_count(rows), n);
}

typedef struct collected {
	int64_t ids[ROWS + 1];
	size_t n;
} collected;

static int collect_id(const dal_row *row, void *payload)
{
	collected *c = payload;

	if (c->n <= ROWS)
		c->ids[c->n++] = dal_row_int(row, "id");
	return 0;
}

/* find, count, each and paginate, with and without soft-deleted rows, all agree with `want`
 * (rows that match, deleted or not). */
static void expect_everywhere(const in_data *t, const dal_filter *f, size_t nf, const bool *want, const char *what)
{
	dal_criteria c = DAL_CRITERIA_INIT;
	bool live[ROWS];
	size_t k, nlive = 0, nall = 0;
	dal_rows *rows = NULL;
	dal_page page;
	collected *col = calloc(1, sizeof(*col));
	int64_t count;
	char label[96];

	assert_non_null(col);
	for (k = 0; k < ROWS; k++) {
		live[k] = want[k] && !t->deleted[k];
		nlive += live[k];
		nall += want[k];
	}
	c.filters = f;
	c.nfilters = nf;
	CHECK_OK(dal_repo_find(&rows, t->repo, &c));
	snprintf(label, sizeof(label), "%s: find", what);
	expect_rows(t, rows, live, label);
	dal_rows_free(rows);
	CHECK_OK(dal_repo_count(&count, t->repo, &c));
	assert_int_equal(count, nlive);
	CHECK_OK(dal_repo_each(t->repo, &c, collect_id, col));
	assert_int_equal(col->n, nlive);
	for (k = 0, nlive = 0; k < ROWS; k++)
		if (live[k] && col->ids[nlive++] != t->ids[k])
			fail_msg("%s: each: result %zu is id %lld, expected %lld", what, nlive - 1,
				(long long)col->ids[nlive - 1], (long long)t->ids[k]);
	c.include_deleted = true;
	CHECK_OK(dal_repo_count(&count, t->repo, &c));
	assert_int_equal(count, nall);
	CHECK_OK(dal_repo_paginate(&rows, &page, t->repo, &c, 1, 1000));
	assert_int_equal(page.total, nall);
	snprintf(label, sizeof(label), "%s: paginate with deleted rows", what);
	expect_rows(t, rows, want, label);
	dal_rows_free(rows);
	print_message("%s: %zu live rows, %zu with deleted ones\n", what, nlive, nall);
	free(col);
}

/* The values of `pick` rows, then padding up to `n` from `pad(j)` (values no row holds), shuffled. */
typedef dal_value (*pad_fn)(size_t j, char *buf, size_t size);

/* Padding texts: each a near miss of a stored text (one more space, quote, backslash). */
static dal_value pad_text(size_t j, char *buf, size_t size)
{
	static const char *const shapes[] = { "%s ", " %s", "%s\\", "\"%s\"", "%s#", "{%s}", "%s\xe2\x80\x8b" };
	const char *base = hostile[j % NHOSTILE];
	size_t k;

	snprintf(buf, size, shapes[(j / NHOSTILE) % 7], base);
	/* Some shapes of one hostile text are another ("{}", "\\\\"): those get a mark. */
	for (k = 0; k < NHOSTILE; k++)
		if (strcmp(buf, hostile[k]) == 0) {
			snprintf(buf, size, "~%s", hostile[k]);
			break;
		}
	return dal_text(buf);
}

/* 70,000 integers: every even row's value, then values no row holds. */
static void test_in_70k_ints(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	dal_value *v = calloc(LONG, sizeof(*v));
	bool want[ROWS];
	size_t k, n = 0;

	fill(t, FX(state));
	for (k = 0; k < ROWS; k++) {
		want[k] = k % 2 == 0;
		if (want[k])
			v[n++] = dal_int(t->i[k]);
	}
	/* Repeats, neighbours of the stored values (7919 apart), and values far from them. */
	for (k = 0; n < LONG; k++)
		v[n++] = k % 5 == 0 ? dal_int(t->i[(k * 2) % ROWS])
		       : k % 5 == 1 ? dal_int(int_of(3 + 2 * (k % (ROWS / 2 - 2))) + (k % 2 ? 1 : -1))
		       : dal_int(1000000000000LL + (int64_t)k);
	shuffle(v, LONG);
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("i", v, LONG) }, 1, want, "70k ints");
	free(v);
	data_free(t);
	free(t);
}

/* 70,000 texts: every third row's text (hostile ones among them), then near misses. */
static void test_in_70k_hostile_texts(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	dal_value *v = calloc(LONG, sizeof(*v));
	char (*pad)[80] = calloc(LONG, sizeof(*pad));
	bool want[ROWS];
	size_t k, n = 0;

	fill(t, FX(state));
	for (k = 0; k < ROWS; k++) {
		want[k] = k % 3 == 0 || k < NHOSTILE;
		if (want[k])
			v[n++] = dal_text(t->s[k]);
	}
	for (k = 0; n < LONG; k++, n++)
		v[n] = pad_text(k, pad[n], sizeof(pad[n]));
	shuffle(v, LONG);
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("s", v, LONG) }, 1, want, "70k texts");
	/* The sensitive column takes the same list. */
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("secret", v, LONG) }, 1, want, "70k texts, sensitive column");
	free(pad);
	free(v);
	data_free(t);
	free(t);
}

/* 70,000 doubles, booleans and timestamps. */
static void test_in_70k_other_types(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	dal_value *v = calloc(LONG, sizeof(*v));
	bool want[ROWS], all[ROWS];
	size_t k, n;

	fill(t, FX(state));
	for (k = 0, n = 0; k < ROWS; k++) {
		want[k] = k % 4 != 1;
		all[k] = k % 3 == 0;
		if (want[k])
			v[n++] = dal_double(t->d[k]);
	}
	for (k = 0; n < LONG; k++)
		v[n++] = dal_double(t->d[4 * (k % (ROWS / 4)) + 1] + 1e-9 * (double)(k + 1));
	shuffle(v, LONG);
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("d", v, LONG) }, 1, want, "70k doubles");
	for (k = 0; k < LONG; k++)
		v[k] = dal_bool(true);
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("b", v, LONG) }, 1, all, "70k booleans");
	for (k = 0, n = 0; k < ROWS; k++)
		if (want[k])
			v[n++] = dal_timestamp(t->ts[k]);
	for (k = 0; n < LONG; k++)
		v[n++] = dal_timestamp(t->ts[4 * (k % (ROWS / 4)) + 1] + 1 + (int64_t)(k / (ROWS / 4)));
	shuffle(v, LONG);
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("ts", v, LONG) }, 1, want, "70k timestamps");
	free(v);
	data_free(t);
	free(t);
}

/* Two long lists, a range and a LIKE together; then order, offset and limit; then the
 * same filter as short lists, which must give the same rows. */
static void test_in_mixed_filters(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	dal_value *vi = calloc(LONG, sizeof(*vi)), *vs = calloc(LONG, sizeof(*vs));
	char (*pad)[80] = calloc(LONG, sizeof(*pad));
	dal_order by_s[] = { { "s", true } };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL, *part = NULL, *whole = NULL;
	bool want[ROWS];
	size_t k, ni = 0, ns = 0, nwant = 0;
	dal_filter f[4];

	fill(t, FX(state));
	for (k = 0; k < ROWS; k++) {
		if (k % 2 == 0)
			vi[ni++] = dal_int(t->i[k]);
		if (k % 5 != 0)
			vs[ns++] = dal_text(t->s[k]);
		want[k] = k % 2 == 0 && k % 5 != 0 && k % 10 > 3 && strchr(t->s[k], '#');
		nwant += want[k] && !t->deleted[k];
	}
	for (k = 0; ni < LONG; k++)
		vi[ni++] = dal_int(-5000000 - (int64_t)k);
	for (k = 0; ns < LONG; k++, ns++)
		vs[ns] = pad_text(k, pad[ns], sizeof(pad[ns]));
	shuffle(vi, LONG);
	shuffle(vs, LONG);
	f[0] = (dal_filter)DAL_WHERE_IN("i", vi, LONG);
	f[1] = (dal_filter)DAL_WHERE("grp", DAL_OP_GT, dal_int(3));
	f[2] = (dal_filter)DAL_WHERE_IN("s", vs, LONG);
	f[3] = (dal_filter)DAL_WHERE("s", DAL_OP_LIKE, dal_text("%#%"));
	expect_everywhere(t, f, 4, want, "two long lists, a range and LIKE");

	/* Ordered by s descending, rows 5 to 24 of them. */
	c.filters = f;
	c.nfilters = 4;
	c.order = by_s;
	c.norder = 1;
	CHECK_OK(dal_repo_find(&whole, t->repo, &c));
	assert_int_equal(dal_rows_count(whole), nwant);
	c.offset = 5;
	c.limit = 20;
	CHECK_OK(dal_repo_find(&rows, t->repo, &c));
	assert_int_equal(dal_rows_count(rows), nwant - 5 < 20 ? nwant - 5 : 20);
	/* The same rows through short lists: each row's own i and s, one row at a time. */
	for (k = 0; k < dal_rows_count(rows); k++) {
		const dal_row *r = dal_rows_at(rows, k);
		dal_value one_i = dal_int(dal_row_int(r, "i")), one_s = dal_text(dal_row_text(r, "s"));
		dal_criteria pc = DAL_CRITERIA_INIT;
		dal_filter sf[4] = { DAL_WHERE_IN("i", &one_i, 1), f[1], DAL_WHERE_IN("s", &one_s, 1), f[3] };
		pc.filters = sf;
		pc.nfilters = 4;
		CHECK_OK(dal_repo_find(&part, t->repo, &pc));
		assert_int_equal(dal_rows_count(part), 1);
		assert_int_equal(dal_row_int(dal_rows_at(part, 0), "id"), dal_row_int(r, "id"));
		/* The window is the same rows as the whole ordered result's, 5 on. */
		assert_int_equal(dal_row_int(dal_rows_at(whole, k + 5), "id"), dal_row_int(r, "id"));
		dal_rows_free(part);
	}
	dal_rows_free(whole);
	dal_rows_free(rows);
	free(pad);
	free(vi);
	free(vs);
	data_free(t);
	free(t);
}

/* The same list, SHORT values (parameters) and SHORT + 1 (one array), and the hostile
 * texts alone and padded to a long list: identical rows. */
static void test_in_short_and_long_agree(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	dal_value *v = calloc(LONG, sizeof(*v));
	char (*pad)[80] = calloc(LONG, sizeof(*pad));
	bool want[ROWS];
	size_t k, n, len;

	fill(t, FX(state));
	for (len = SHORT - 1; len <= SHORT + 2; len++) {
		char what[64];
		memset(want, 0, sizeof(want));
		for (k = 0, n = 0; n < len; k += 3) {
			v[n++] = dal_text(t->s[k]);
			want[k] = true;
		}
		snprintf(what, sizeof(what), "%zu texts", len);
		expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("s", v, len) }, 1, want, what);
	}
	memset(want, 0, sizeof(want));
	for (k = 0; k < NHOSTILE; k++) {
		v[k] = dal_text(hostile[k]);
		want[k] = true;
	}
	for (n = NHOSTILE; n < LONG; n++)
		v[n] = pad_text(n, pad[n], sizeof(pad[n]));
	for (k = 0; k < NHOSTILE; k += SHORT) {
		size_t m = NHOSTILE - k < SHORT ? NHOSTILE - k : SHORT;
		bool part[ROWS] = { 0 };
		for (n = k; n < k + m; n++)
			part[n] = true;
		expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("s", v + k, m) }, 1, part, "hostile texts, short list");
	}
	expect_everywhere(t, (dal_filter[]){ DAL_WHERE_IN("s", v, LONG) }, 1, want, "hostile texts in a long list");
	free(pad);
	free(v);
	data_free(t);
	free(t);
}

/* NULL is no value to compare with, in a short or a long list: DAL_EINVAL naming the
 * column and the position; a wrong type too. */
static void test_in_null_and_wrong_type(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	dal_value *v = calloc(LONG, sizeof(*v));
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *rows = NULL;
	size_t k, n;

	fill(t, FX(state));
	for (k = 0; k < LONG; k++)
		v[k] = dal_int((int64_t)k);
	for (n = 3; n <= LONG; n = n == 3 ? LONG : LONG + 1) {
		v[2] = dal_null();
		c.filters = (dal_filter[]){ DAL_WHERE_IN("i", v, n) };
		c.nfilters = 1;
		CHECK_ERR(DAL_EINVAL, dal_repo_find(&rows, t->repo, &c));
		CHECK_MSG("in_rows.i");
		CHECK_MSG("NULL");
		CHECK_MSG("value 2");
		print_message("%zu values, NULL among them: %s\n", n, dal_error_last()->message);
		v[2] = dal_text("x");
		CHECK_ERR(DAL_EINVAL, dal_repo_count(&(int64_t){ 0 }, t->repo, &c));
		CHECK_MSG("in_rows.i");
		v[2] = dal_int(2);
	}
	free(v);
	data_free(t);
	free(t);
}

/* Bulk update and delete by 70,000 ids, most of them absent. */
static void test_in_70k_ids_bulk(void **state)
{
	in_data *t = calloc(1, sizeof(*t));
	int64_t *ids = calloc(LONG, sizeof(*ids)), changed = 0, count = 0;
	dal_value *vals = calloc(LONG, sizeof(*vals));
	const char *cols[] = { "grp" };
	size_t k;

	fill(t, FX(state));
	for (k = 0; k < LONG; k++) {
		ids[k] = k < ROWS ? t->ids[k] : t->ids[ROWS - 1] + 1 + (int64_t)k;
		vals[k] = dal_int(77);
	}
	CHECK_OK(dal_repo_bulk_update(&changed, t->repo, ids, cols, 1, vals, LONG));
	assert_int_equal(changed, ROWS - (ROWS + 36) / 37);
	CHECK_OK(dal_repo_bulk_delete(&changed, t->repo, ids, LONG, false));
	assert_int_equal(changed, ROWS);
	CHECK_OK(dal_repo_count(&count, t->repo, NULL));
	assert_int_equal(count, 0);
	free(vals);
	free(ids);
	data_free(t);
	free(t);
}

FX_CASES(cases_in,
	FX_CASE(test_in_70k_ints),
	FX_CASE(test_in_70k_hostile_texts),
	FX_CASE(test_in_70k_other_types),
	FX_CASE(test_in_mixed_filters),
	FX_CASE(test_in_short_and_long_agree),
	FX_CASE(test_in_null_and_wrong_type),
	FX_CASE(test_in_70k_ids_bulk),
);
