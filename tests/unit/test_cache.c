/* The read cache on its own: tickets against racing writes, holds, table-wide holds. No engine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dal/dal.h>

#include "cache.h"

static const dal_column cols[] = {
	DAL_COL_ID(),
	DAL_COL("v", DAL_TYPE_INT, 0, 0),
	DAL_COL("s", DAL_TYPE_TEXT, 0, 0),
};
static const dal_model m = DAL_MODEL("t", cols);
static const dal_model m_same_table = DAL_MODEL("t", cols);

typedef struct env {
	dal__cache *c;
	dal__cache_tab *t, *other;
} env;

static int setup(void **state)
{
	dal_config cfg = DAL_CONFIG_INIT;
	env *e = calloc(1, sizeof(*e));

	cfg.cache_max_entries = 100;
	if (dal__cache_new(&e->c, &cfg) != 0 || dal__cache_table(&e->t, e->c, "t") != 0 ||
	    dal__cache_table(&e->other, e->c, "u") != 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	dal__cache_free(e->c);
	free(e);
	return 0;
}

/* Every seventh v gets a text too long for a cache slot (kept in a block of its own). */
static dal_row *make_row(const dal_model *model, int64_t id, int64_t v)
{
	static const char long_text[] = "a text longer than the room a cache slot has for a whole row, "
		"so the row is kept in a block of its own";
	dal_row *row = NULL;
	dal_value x;

	assert_int_equal(dal_row_new(&row, model), 0);
	x = dal_int(id);
	assert_int_equal(dal_row_set(row, "id", &x), 0);
	x = dal_int(v);
	assert_int_equal(dal_row_set(row, "v", &x), 0);
	x = dal_text(v % 7 == 5 ? long_text : "text");
	assert_int_equal(dal_row_set(row, "s", &x), 0);
	return row;
}

/* A miss and its fill, as dal_repo_get does: -1 on a miss (filled with v), else the cached v. */
static int64_t get_or_fill(dal__cache_tab *tab, int64_t id, int64_t v)
{
	dal__cache_ticket t;
	dal_row *row = NULL;
	int64_t got;

	if (dal__cache_get(&row, &t, tab, &m, id) == 0) {
		got = dal_row_int(row, "v");
		dal_row_free(row);
		return got;
	}
	row = make_row(&m, id, v);
	dal__cache_fill(&t, row);
	dal_row_free(row);
	return -1;
}

static uint64_t entries(dal__cache *c)
{
	dal__cache_stats st;

	dal__cache_stats_get(&st, c);
	return st.entries;
}

static void test_hit_is_a_copy(void **state)
{
	env *e = *state;
	dal__cache_ticket t;
	dal_row *a = NULL, *b = NULL;

	assert_int_equal(get_or_fill(e->t, 1, 10), -1);
	assert_int_equal(dal__cache_get(&a, &t, e->t, &m, 1), 0);
	assert_int_equal(dal__cache_get(&b, &t, e->t, &m, 1), 0);
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(dal_row_text(a, "s"), dal_row_text(b, "s"));
	assert_string_equal(dal_row_text(a, "s"), "text");
	dal_row_free(a);
	dal_row_free(b);
	/* Same id, other table: not the same row. Other model of the same table: a miss. */
	assert_int_equal(get_or_fill(e->other, 1, 20), -1);
	assert_int_equal(dal__cache_get(&a, &t, e->t, &m_same_table, 1), DAL_ENOTFOUND);
	assert_null(a);
	assert_int_equal(get_or_fill(e->t, 1, 0), 10);
	assert_int_equal(get_or_fill(e->other, 1, 0), 20);
}

/* Thread A misses and reads the old row; B commits and invalidates; A's fill must not land. */
static void test_fill_after_invalidate_dropped(void **state)
{
	env *e = *state;
	dal__cache_ticket t;
	dal_row *row = NULL, *old;

	assert_int_equal(dal__cache_get(&row, &t, e->t, &m, 7), DAL_ENOTFOUND);
	dal__cache_invalidate(e->t, (int64_t[]){ 7 }, 1);
	old = make_row(&m, 7, 1);
	dal__cache_fill(&t, old);
	assert_int_equal(entries(e->c), 0);
	/* The same after invalidate_all of the table. */
	assert_int_equal(dal__cache_get(&row, &t, e->t, &m, 7), DAL_ENOTFOUND);
	dal__cache_invalidate_all(e->t);
	dal__cache_fill(&t, old);
	assert_int_equal(entries(e->c), 0);
	/* Another table's invalidation does not drop it. */
	assert_int_equal(dal__cache_get(&row, &t, e->t, &m, 7), DAL_ENOTFOUND);
	dal__cache_invalidate_all(e->other);
	dal__cache_fill(&t, old);
	assert_int_equal(entries(e->c), 1);
	dal_row_free(old);
}

static void test_hold_until_settled(void **state)
{
	env *e = *state;
	dal__tx tx;
	dal__cache_ticket early, t;
	dal_row *row = NULL, *r;

	dal__tx_init(&tx, NULL);
	assert_int_equal(get_or_fill(e->t, 1, 10), -1);
	assert_int_equal(dal__cache_get(&row, &early, e->t, &m, 2), DAL_ENOTFOUND);
	dal__cache_hold(&tx, e->t, (int64_t[]){ 1, 2 }, 2);
	/* Held: not served, and no ticket to fill with. */
	assert_int_equal(dal__cache_get(&row, &t, e->t, &m, 1), DAL_ENOTFOUND);
	assert_null(t.cache);
	r = make_row(&m, 2, 5);
	dal__cache_fill(&early, r);
	assert_int_equal(entries(e->c), 1);
	/* Rolled back: the cached row is served again, untouched. */
	dal__cache_settle(&tx, false);
	assert_null(tx.holds);
	assert_int_equal(get_or_fill(e->t, 1, 0), 10);
	/* A ticket from before the hold stays stale after it. */
	dal__cache_fill(&early, r);
	assert_int_equal(entries(e->c), 1);
	/* Committed: dropped, then filled anew. */
	dal__cache_hold(&tx, e->t, (int64_t[]){ 1 }, 1);
	dal__cache_settle(&tx, true);
	assert_int_equal(entries(e->c), 0);
	assert_int_equal(get_or_fill(e->t, 1, 11), -1);
	assert_int_equal(get_or_fill(e->t, 1, 0), 11);
	dal_row_free(r);
}

static void test_hold_many_is_table_wide(void **state)
{
	env *e = *state;
	dal__tx tx;
	dal__cache_ticket t;
	dal_row *row = NULL;
	int64_t *ids = calloc(5000, sizeof(*ids));
	int i;

	dal__tx_init(&tx, NULL);
	for (i = 0; i < 5000; i++)
		ids[i] = 1000 + i;
	assert_int_equal(get_or_fill(e->t, 1, 10), -1);
	assert_int_equal(get_or_fill(e->other, 1, 20), -1);
	dal__cache_hold(&tx, e->t, ids, 5000);
	/* Beyond what is held id by id, the table is held: also ids not in the list. */
	assert_int_equal(dal__cache_get(&row, &t, e->t, &m, 1), DAL_ENOTFOUND);
	assert_null(t.cache);
	assert_int_equal(get_or_fill(e->other, 1, 0), 20);
	dal__cache_settle(&tx, true);
	assert_int_equal(entries(e->c), 1);
	assert_int_equal(get_or_fill(e->t, 1, 12), -1);
	assert_int_equal(get_or_fill(e->t, 1, 0), 12);
	dal__cache_hold_table(&tx, e->t);
	dal__cache_settle(&tx, false);
	assert_int_equal(get_or_fill(e->t, 1, 0), 12);
	free(ids);
}

/* ---- the layout: index, ring and eviction (tests added with the flat-cost cache) ---- */

static dal__cache *cache_of(int max)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal__cache *c = NULL;

	cfg.cache_max_entries = max;
	assert_int_equal(dal__cache_new(&c, &cfg), 0);
	return c;
}

/* Every type, empty and NUL-bearing bytes included, comes back equal: in a slot, and in a block of its own. */
static void round_trip(const char *text)
{
	static const dal_column all_cols[] = {
		DAL_COL_ID(),
		DAL_COL("b", DAL_TYPE_BOOL, 0, 0), DAL_COL("d", DAL_TYPE_DOUBLE, 0, 0),
		DAL_COL("t", DAL_TYPE_TEXT, 0, 0), DAL_COL("e", DAL_TYPE_TEXT, 0, 0),
		DAL_COL("n", DAL_TYPE_TEXT, 0, 0), DAL_COL("bl", DAL_TYPE_BLOB, 0, 0),
		DAL_COL("ts", DAL_TYPE_TIMESTAMP, 0, 0), DAL_COL("j", DAL_TYPE_JSON, 0, 0),
		DAL_COL("i", DAL_TYPE_INT, 0, 0),
	};
	static const dal_model all = DAL_MODEL("all", all_cols);
	const dal_value v[] = { dal_int(-5), dal_bool(true), dal_double(-0.25), dal_text(text), dal_text(""),
		dal_null(), dal_blob("a\0b", 3), dal_timestamp(-1), dal_json("{\"k\":[1]}"), dal_int(-5) };
	dal__cache *c = cache_of(10);
	dal__cache_tab *tab = NULL;
	dal__cache_ticket t;
	dal_row *src = NULL, *got = NULL;
	size_t i;

	assert_int_equal(dal__cache_table(&tab, c, "all"), 0);
	assert_int_equal(dal_row_new(&src, &all), 0);
	for (i = 0; i < all.ncolumns; i++)
		assert_int_equal(dal_row_set(src, all_cols[i].name, &v[i]), 0);
	assert_int_equal(dal__cache_get(&got, &t, tab, &all, -5), DAL_ENOTFOUND);
	dal__cache_fill(&t, src);
	assert_int_equal(dal__cache_get(&got, &t, tab, &all, -5), 0);
	for (i = 0; i < all.ncolumns; i++) {
		assert_true(dal_value_equal(dal_row_at(got, i), dal_row_at(src, i)));
		if (v[i].type == DAL_TYPE_TEXT || v[i].type == DAL_TYPE_JSON)
			assert_int_equal(dal_row_at(got, i)->v.s[v[i].len], '\0');
	}
	dal_row_free(got);
	dal_row_free(src);
	dal__cache_free(c);
}

static void test_every_type_round_trips(void **state)
{
	char long_text[300];

	(void)state;
	round_trip("h\xc3\xa9llo");
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	round_trip(long_text);
}

/* CLOCK: a row hit since the hand last passed outlives rows that were not. */
static void test_hit_rows_get_a_second_chance(void **state)
{
	dal__cache *c = cache_of(100);
	dal__cache_tab *tab = NULL;
	int64_t id;

	(void)state;
	assert_int_equal(dal__cache_table(&tab, c, "t"), 0);
	for (id = 0; id < 100; id++)
		assert_int_equal(get_or_fill(tab, id, id), -1);
	for (id = 0; id < 100; id += 10)
		assert_int_equal(get_or_fill(tab, id, 0), id);
	/* 90 new rows: the 90 never hit go, the 10 hit stay. */
	for (id = 100; id < 190; id++)
		assert_int_equal(get_or_fill(tab, id, id), -1);
	assert_int_equal(entries(c), 100);
	for (id = 0; id < 100; id += 10)
		assert_int_equal(get_or_fill(tab, id, 0), id);
	for (id = 100; id < 190; id++)
		assert_int_equal(get_or_fill(tab, id, 0), id);
	dal__cache_free(c);
}

static uint64_t next_draw(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random fills, gets, evictions and invalidations of two tables against a
 * model of what may be cached: a hit returns the last value filled, never one
 * invalidated; the bound holds; at the end every row the cache counts is found.
 */
static void churn(int max, int ids, int ops)
{
	dal__cache *c = cache_of(max);
	dal__cache_tab *tab[2] = { NULL, NULL };
	int64_t *ref = malloc(sizeof(*ref) * 2 * (size_t)ids), got, found = 0;
	uint64_t s = 0x2545f4914f6cdd1dULL, r;
	int i, k, id;

	assert_non_null(ref);
	assert_int_equal(dal__cache_table(&tab[0], c, "t"), 0);
	assert_int_equal(dal__cache_table(&tab[1], c, "u"), 0);
	for (i = 0; i < 2 * ids; i++)
		ref[i] = -1;
	for (i = 0; i < ops; i++) {
		r = next_draw(&s);
		k = (int)(r & 1);
		id = (int)((r >> 8) % (uint64_t)ids);
		switch ((r >> 40) % 100) {
		case 0:
			dal__cache_invalidate_all(tab[k]);
			for (id = 0; id < ids; id++)
				ref[k * ids + id] = -1;
			break;
		case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10:
			dal__cache_invalidate(tab[k], (int64_t[]){ id }, 1);
			ref[k * ids + id] = -1;
			break;
		default:
			if ((got = get_or_fill(tab[k], id, i)) < 0)
				ref[k * ids + id] = i;
			else
				assert_int_equal(got, ref[k * ids + id]);
		}
		assert_true(entries(c) <= (uint64_t)max);
	}
	for (i = 0; i < 2 * ids; i++) {
		dal__cache_ticket t;
		dal_row *row = NULL;
		if (dal__cache_get(&row, &t, tab[i / ids], &m, i % ids) == 0) {
			assert_int_equal(dal_row_int(row, "v"), ref[i]);
			dal_row_free(row);
			found++;
		}
	}
	assert_int_equal((uint64_t)found, entries(c));
	free(ref);
	dal__cache_free(c);
}

static void test_churn_against_a_model(void **state)
{
	(void)state;
	churn(50, 120, 200000);    /* mostly evicting: the ring turns over */
	churn(3000, 2000, 200000); /* never full: invalidations leave holes to close */
	churn(1, 5, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_is_a_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_after_invalidate_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_until_settled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_many_is_table_wide, setup, teardown),
		cmocka_unit_test(test_every_type_round_trips),
		cmocka_unit_test(test_hit_rows_get_a_second_chance),
		cmocka_unit_test(test_churn_against_a_model),
	};
	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
