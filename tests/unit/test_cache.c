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

static dal_row *make_row(const dal_model *model, int64_t id, int64_t v)
{
	dal_row *row = NULL;
	dal_value x;

	assert_int_equal(dal_row_new(&row, model), 0);
	x = dal_int(id);
	assert_int_equal(dal_row_set(row, "id", &x), 0);
	x = dal_int(v);
	assert_int_equal(dal_row_set(row, "v", &x), 0);
	x = dal_text("text");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_is_a_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_after_invalidate_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_until_settled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_many_is_table_wide, setup, teardown),
	};
	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}
