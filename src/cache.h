/*
 * The read cache of a dal_db (DAL_CACHE): rows read by id, shared by every
 * repository of the database, per table, bounded (CLOCK eviction) and aged (TTL).
 * Internal. Thread-safe.
 *
 * Coherence rests on two mechanisms:
 *  - A fill carries a ticket taken before the database read; if the row was
 *    invalidated or held since, the fill is dropped (a read that started before
 *    a write committed never lands in the cache after it).
 *  - A write holds its ids from before its change until its transaction ends
 *    (the call's own, or the unit of work's): a held id is neither served nor
 *    filled, and a commit drops the cached row as it releases the hold. So no
 *    moment exists where the database has the new row and the cache serves the
 *    old one, and a rollback leaves the cache as it was.
 */
#ifndef DAL_CACHE_INTERNAL_H
#define DAL_CACHE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "dal/config.h"
#include "dal/row.h"
#include "driver/driver.h"
#include "tx.h"

typedef struct dal__cache dal__cache;
/* A table's name in the cache: lives as long as the cache. */
typedef struct dal__cache_tab dal__cache_tab;

/* What a miss hands to the fill that follows it. */
typedef struct dal__cache_ticket {
	dal__cache *cache;     /* NULL: do not fill (cache off, or the id was held) */
	dal__cache_tab *tab;
	int64_t id;
	uint64_t hash;
	uint64_t stripe_gen, tab_gen, all_gen;
} dal__cache_ticket;

/* Counters since open or dal__cache_reset_counters. */
typedef struct dal__cache_stats {
	uint64_t hits, misses, evictions, expirations, invalidations;
	uint64_t entries, max_entries;
} dal__cache_stats;

/* NULL in *out (and DAL_OK) when cfg->cache_max_entries is 0: the cache is off. */
int dal__cache_new(dal__cache **out, const dal_config *cfg);
void dal__cache_free(dal__cache *c);

/* The cache's handle of `table`, made on first use. NULL cache: NULL, DAL_OK. */
int dal__cache_table(dal__cache_tab **out, dal__cache *c, const char *table);

/*
 * A copy of the cached row `id` (owned by the caller) and DAL_OK; else
 * DAL_ENOTFOUND (no error message set) and a ticket for dal__cache_fill().
 * A row cached with another dal_model of the same table is a miss.
 */
int dal__cache_get(dal_row **out, dal__cache_ticket *t, dal__cache_tab *tab, const dal_model *m, int64_t id);
/* Keep a copy of `row`, read after `t` was issued, unless its id changed since. */
void dal__cache_fill(const dal__cache_ticket *t, const dal_row *row);

/* Drop cached rows now (raw SQL wrote them outside any transaction of dal's). */
void dal__cache_invalidate(dal__cache_tab *tab, const int64_t *ids, size_t n);
void dal__cache_invalidate_all(dal__cache_tab *tab);

/*
 * Hold ids a write in `tx` is about to change (or just changed, uncommitted)
 * until the transaction ends. Never fails: what cannot be recorded id by id is
 * held table-wide, and failing that, cache-wide. NULL tab: no-op. NULL ids
 * (with n > 0): the whole table.
 */
void dal__cache_hold(dal__tx *tx, dal__cache_tab *tab, const int64_t *ids, size_t n);
/* The same for every row of the table. */
void dal__cache_hold_table(dal__tx *tx, dal__cache_tab *tab);
/*
 * The transaction `tx` ended: release its holds; with `committed` (or a
 * commit whose outcome is unknown) drop the rows it held first.
 */
void dal__cache_settle(dal__tx *tx, bool committed);

void dal__cache_stats_get(dal__cache_stats *out, dal__cache *c);
void dal__cache_reset_counters(dal__cache *c);

#endif
