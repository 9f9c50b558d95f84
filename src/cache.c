/* The read cache: one lock; an open-addressing index of (hash, entry) slots;
 * each row one allocation (header, values, text); CLOCK eviction over a ring in
 * insertion order; TTL; and generation stripes that keep stale fills and
 * uncommitted writes out. */
#include "cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "row.h"
#include "util/error.h"
#include "util/str.h"

/* Generations are kept per stripe of ids, not per id: an id that is not cached
 * still needs one (a fill may be on its way). A collision only drops a fill. */
#define STRIPES 4096
/* Ids one transaction holds one by one; beyond, it holds the whole table. */
#define HOLD_IDS_MAX 4096
/* Columns a hit decodes on the stack; wider rows take one more allocation. */
#define STACK_COLUMNS 32

struct dal__cache_tab {
	dal__cache *cache;
	char *name;
	uint64_t seed;
	uint64_t gen;          /* bumped by invalidate_all and table-wide holds */
	unsigned held;         /* table-wide holds of open transactions */
	dal__cache_tab *next;
};

/*
 * A cached row in one block: this header, then one 8-byte word per column (the
 * value, or the length of text, JSON and blob), one type byte per column, and
 * the bytes of text, JSON and blobs one after another. A hit reads one block
 * front to back; no pointers inside it to chase.
 */
typedef struct entry {
	dal__cache_tab *tab;
	const dal_model *model;
	int64_t id;
	int64_t expires_us;    /* monotonic clock; INT64_MAX without a TTL */
	uint64_t ring_pos;     /* its place in the clock ring (absolute, masked to index) */
	atomic_uint refs;      /* the cache's own, plus readers copying the row */
	uint32_t ncols;
	bool used;             /* hit since the hand last passed: a second chance */
	uint64_t words[];      /* ncols words, then ncols type bytes, then the bytes */
} entry;

/* Empty when e is NULL. The hash beside the pointer: a probe reads only slots. */
typedef struct slot {
	uint64_t hash;
	entry *e;
} slot;

typedef struct stripe {
	uint64_t gen;
	unsigned held;
} stripe;

struct dal__cache {
	pthread_mutex_t mu;
	size_t max;
	int64_t ttl_us;        /* 0: no age limit */
	slot *slots;
	size_t nslots;         /* a power of two; kept at most 3/4 full */
	size_t count;
	/* Entries in insertion order; NULL where one was dropped (a hole). A hit
	 * only sets `used`: nothing is relinked. The hand is `head`. */
	entry **ring;
	size_t ringcap;        /* a power of two */
	uint64_t head, tail;
	size_t holes;
	dal__cache_tab *tabs;
	stripe stripes[STRIPES];
	uint64_t gen_all;
	unsigned held_all;     /* holds that could not be recorded: nothing is served */
	dal__cache_stats st;   /* counters; entries and max_entries are filled when read */
};

typedef struct hold_id {
	dal__cache_tab *tab;
	int64_t id;
} hold_id;

/* What one transaction holds (its dal__tx's, freed when it ends). */
typedef struct dal__cache_holds {
	dal__cache *cache;
	hold_id *ids;
	size_t nids, capids;
	dal__cache_tab **tabs;
	size_t ntabs, captabs;
} dal__cache_holds;

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static uint64_t key_hash(const dal__cache_tab *tab, int64_t id)
{
	return mix(tab->seed ^ mix((uint64_t)id));
}

static stripe *stripe_of(dal__cache *c, uint64_t hash)
{
	return &c->stripes[hash & (STRIPES - 1)];
}

int dal__cache_new(dal__cache **out, const dal_config *cfg)
{
	dal__cache *c;

	*out = NULL;
	if (cfg->cache_max_entries <= 0)
		return 0;
	if (!(c = calloc(1, sizeof(*c))) || !(c->slots = calloc(64, sizeof(slot))) ||
	    !(c->ring = calloc(64, sizeof(entry *)))) {
		if (c)
			free(c->slots);
		free(c);
		return dal__error_nomem();
	}
	pthread_mutex_init(&c->mu, NULL);
	c->nslots = 64;
	c->ringcap = 64;
	c->max = (size_t)cfg->cache_max_entries;
	c->ttl_us = cfg->cache_ttl_ms > 0 ? (int64_t)cfg->cache_ttl_ms * 1000 : 0;
	*out = c;
	return 0;
}

static void unref(entry *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
		free(e);
}

void dal__cache_free(dal__cache *c)
{
	dal__cache_tab *t, *next;
	uint64_t p;

	if (!c)
		return;
	for (p = c->head; p != c->tail; p++)
		if (c->ring[p & (c->ringcap - 1)])
			unref(c->ring[p & (c->ringcap - 1)]);
	for (t = c->tabs; t; t = next) {
		next = t->next;
		free(t->name);
		free(t);
	}
	free(c->ring);
	free(c->slots);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int dal__cache_table(dal__cache_tab **out, dal__cache *c, const char *table)
{
	dal__cache_tab *t;

	*out = NULL;
	if (!c)
		return 0;
	pthread_mutex_lock(&c->mu);
	for (t = c->tabs; t && strcmp(t->name, table); t = t->next)
		;
	if (!t && (t = calloc(1, sizeof(*t))) != NULL) {
		if (!(t->name = dal__strdup(table))) {
			free(t);
			t = NULL;
		} else {
			const char *p;
			t->cache = c;
			t->seed = 1469598103934665603ULL;
			for (p = table; *p; p++)
				t->seed = (t->seed ^ (unsigned char)*p) * 1099511628211ULL;
			t->next = c->tabs;
			c->tabs = t;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (!t)
		return dal__error_nomem();
	*out = t;
	return 0;
}

/* ---- a row in one block ---- */

static bool has_bytes(dal_type t)
{
	return t == DAL_TYPE_TEXT || t == DAL_TYPE_JSON || t == DAL_TYPE_BLOB;
}

static unsigned char *types_of(const entry *e)
{
	return (unsigned char *)(e->words + e->ncols);
}

/* A block holding `row`'s values (NULL when out of memory). */
static entry *encode(const dal_row *row)
{
	const dal_value *v = dal_row_at(row, 0);
	size_t n = dal_row_count(row), bytes = 0, i;
	unsigned char *types;
	char *p;
	entry *e;

	for (i = 0; i < n; i++)
		if (has_bytes(v[i].type))
			bytes += v[i].len;
	if (!(e = malloc(sizeof(*e) + n * (sizeof(uint64_t) + 1) + bytes)))
		return NULL;
	e->model = dal_row_model(row);
	e->ncols = (uint32_t)n;
	e->used = false;
	types = types_of(e);
	p = (char *)(types + n);
	for (i = 0; i < n; i++) {
		types[i] = (unsigned char)v[i].type;
		if (has_bytes(v[i].type)) {
			e->words[i] = v[i].len;
			if (v[i].len)
				memcpy(p, v[i].v.p, v[i].len);
			p += v[i].len;
		} else {
			memcpy(&e->words[i], &v[i].v, sizeof(e->words[i]));
		}
	}
	return e;
}

/* The block's values, pointing into it (as dal__row_fill takes them). */
static void decode(dal_value *out, const entry *e)
{
	const unsigned char *types = types_of(e);
	const char *p = (const char *)(types + e->ncols);
	uint32_t i;

	for (i = 0; i < e->ncols; i++) {
		out[i].type = (dal_type)types[i];
		if (has_bytes(out[i].type)) {
			out[i].len = (size_t)e->words[i];
			out[i].v.s = p;
			p += out[i].len;
		} else {
			out[i].len = 0;
			memcpy(&out[i].v, &e->words[i], sizeof(e->words[i]));
		}
	}
}

static int copy_out(dal_row **out, const dal_model *m, const entry *e)
{
	dal_value stack[STACK_COLUMNS], *v = stack;
	int error;

	if (e->ncols > STACK_COLUMNS && !(v = malloc(e->ncols * sizeof(*v))))
		return dal__error_nomem();
	decode(v, e);
	if ((error = dal_row_new(out, m)) == 0 && (error = dal__row_fill(*out, v, e->ncols)) < 0) {
		dal_row_free(*out);
		*out = NULL;
	}
	if (v != stack)
		free(v);
	return error;
}

/* ---- the index (linear probing), under the lock ---- */

/* The slot of (tab, id), or nslots when absent. */
static size_t find(const dal__cache *c, const dal__cache_tab *tab, int64_t id, uint64_t hash)
{
	size_t mask = c->nslots - 1, i;

	for (i = hash & mask; c->slots[i].e; i = (i + 1) & mask)
		if (c->slots[i].hash == hash && c->slots[i].e->id == id && c->slots[i].e->tab == tab)
			return i;
	return c->nslots;
}

/* Empty slot `i`, moving later slots of the run back so every probe still finds them. */
static void slot_clear(dal__cache *c, size_t i)
{
	size_t mask = c->nslots - 1, j = i, home;

	for (;;) {
		j = (j + 1) & mask;
		if (!c->slots[j].e)
			break;
		home = c->slots[j].hash & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			c->slots[i] = c->slots[j];
			i = j;
		}
	}
	c->slots[i].e = NULL;
}

static void slot_put(slot *slots, size_t nslots, uint64_t hash, entry *e)
{
	size_t i;

	for (i = hash & (nslots - 1); slots[i].e; i = (i + 1) & (nslots - 1))
		;
	slots[i] = (slot){ hash, e };
}

/* Room for one more entry at most 3/4 full; false when out of memory. */
static bool slots_reserve(dal__cache *c)
{
	size_t n = c->nslots * 2, i;
	slot *s;

	if ((c->count + 1) * 4 <= c->nslots * 3)
		return true;
	if (!(s = calloc(n, sizeof(*s))))
		return false;
	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].e)
			slot_put(s, n, c->slots[i].hash, c->slots[i].e);
	free(c->slots);
	c->slots = s;
	c->nslots = n;
	return true;
}

/* ---- the clock ring, under the lock ---- */

static void ring_append(dal__cache *c, entry *e)
{
	e->ring_pos = c->tail++;
	c->ring[e->ring_pos & (c->ringcap - 1)] = e;
}

/* Close the holes, keeping the order (touches every entry: done when holes are half the ring). */
static void ring_compact(dal__cache *c)
{
	uint64_t from = c->head, end = c->tail;
	entry *e;

	c->tail = c->head;
	c->holes = 0;
	for (; from != end; from++)
		if ((e = c->ring[from & (c->ringcap - 1)]) != NULL) {
			c->ring[from & (c->ringcap - 1)] = NULL;
			ring_append(c, e);
		}
}

/* Room for one more entry; false when out of memory. */
static bool ring_reserve(dal__cache *c)
{
	size_t n = c->ringcap * 2;
	entry **r;
	uint64_t p;

	if (c->tail - c->head < c->ringcap)
		return true;
	if (c->holes >= c->ringcap / 2) {
		ring_compact(c);
		return true;
	}
	if (!(r = calloc(n, sizeof(*r))))
		return false;
	for (p = c->head; p != c->tail; p++)
		r[p & (n - 1)] = c->ring[p & (c->ringcap - 1)];
	free(c->ring);
	c->ring = r;
	c->ringcap = n;
	return true;
}

/* Drop the entry in slot `i` (the ring keeps a hole, skipped by the hand). */
static void drop_at(dal__cache *c, size_t i)
{
	entry *e = c->slots[i].e;
	entry **r = &c->ring[e->ring_pos & (c->ringcap - 1)];

	if (*r == e) {
		*r = NULL;
		c->holes++;
	}
	slot_clear(c, i);
	c->count--;
	unref(e);
}

/* CLOCK: the oldest entry not hit since the hand last passed it goes. */
static void evict_one(dal__cache *c)
{
	entry *e;

	while (c->head != c->tail) {
		e = c->ring[c->head & (c->ringcap - 1)];
		c->ring[c->head++ & (c->ringcap - 1)] = NULL;
		if (!e) {
			c->holes--;
		} else if (e->used) {
			e->used = false;
			ring_append(c, e);
		} else {
			drop_at(c, find(c, e->tab, e->id, key_hash(e->tab, e->id)));
			c->st.evictions++;
			return;
		}
	}
}

static bool is_held(const dal__cache *c, const dal__cache_tab *tab, const stripe *s)
{
	return s->held || tab->held || c->held_all;
}

/* ---- reads ---- */

int dal__cache_get(dal_row **out, dal__cache_ticket *t, dal__cache_tab *tab, const dal_model *m, int64_t id)
{
	dal__cache *c = tab ? tab->cache : NULL;
	int64_t now;
	uint64_t hash;
	stripe *s;
	entry *e = NULL;
	size_t i;
	int error;

	*out = NULL;
	memset(t, 0, sizeof(*t));
	if (!c)
		return DAL_ENOTFOUND;
	hash = key_hash(tab, id);
	s = stripe_of(c, hash);
	now = c->ttl_us ? mono_us() : 0;
	pthread_mutex_lock(&c->mu);
	if (is_held(c, tab, s)) {
		c->st.misses++;
		pthread_mutex_unlock(&c->mu);
		return DAL_ENOTFOUND;
	}
	if ((i = find(c, tab, id, hash)) < c->nslots) {
		e = c->slots[i].e;
		if (e->expires_us <= now) {
			drop_at(c, i);
			c->st.expirations++;
			e = NULL;
		}
	}
	if (!e || e->model != m) {
		c->st.misses++;
		*t = (dal__cache_ticket){ c, tab, id, hash, s->gen, tab->gen, c->gen_all };
		pthread_mutex_unlock(&c->mu);
		return DAL_ENOTFOUND;
	}
	/* Written only when it changes: a hit leaves the line clean otherwise. */
	if (!e->used)
		e->used = true;
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	c->st.hits++;
	pthread_mutex_unlock(&c->mu);
	/* The block is immutable while cached: copied outside the lock. */
	error = copy_out(out, m, e);
	unref(e);
	return error;
}

static bool ticket_valid(dal__cache *c, const dal__cache_ticket *t)
{
	/* A hold bumps the generations too: a held id fails here. */
	return stripe_of(c, t->hash)->gen == t->stripe_gen && t->tab->gen == t->tab_gen &&
		c->gen_all == t->all_gen;
}

void dal__cache_fill(const dal__cache_ticket *t, const dal_row *row)
{
	dal__cache *c = t->cache;
	entry *e;
	size_t i;

	if (!c || !row || !(e = encode(row)))
		return;
	e->tab = t->tab;
	e->id = t->id;
	e->expires_us = c->ttl_us ? mono_us() + c->ttl_us : INT64_MAX;
	atomic_init(&e->refs, 1);
	pthread_mutex_lock(&c->mu);
	if (!ticket_valid(c, t)) {
		pthread_mutex_unlock(&c->mu);
		unref(e);
		return;
	}
	if ((i = find(c, t->tab, t->id, t->hash)) < c->nslots)
		drop_at(c, i);
	else if (c->count >= c->max)
		evict_one(c);
	if (!slots_reserve(c) || !ring_reserve(c)) {
		pthread_mutex_unlock(&c->mu);
		unref(e);
		return;
	}
	slot_put(c->slots, c->nslots, t->hash, e);
	ring_append(c, e);
	c->count++;
	pthread_mutex_unlock(&c->mu);
}

/* ---- invalidation ---- */

/* Under the lock: forget one id; a fill on its way is dropped. */
static void forget(dal__cache *c, dal__cache_tab *tab, int64_t id)
{
	uint64_t hash = key_hash(tab, id);
	size_t i;

	stripe_of(c, hash)->gen++;
	if ((i = find(c, tab, id, hash)) < c->nslots) {
		drop_at(c, i);
		c->st.invalidations++;
	}
}

/* Under the lock: forget every row of `tab` (NULL: of every table). */
static void forget_all(dal__cache *c, dal__cache_tab *tab)
{
	size_t i;

	if (tab)
		tab->gen++;
	else
		c->gen_all++;
	/* A clear pulls a later slot back into `i`: look at `i` again. Slots pulled
	 * from the start of the array to its end were kept already: kept again. */
	for (i = 0; i < c->nslots; i++)
		while (c->slots[i].e && (!tab || c->slots[i].e->tab == tab)) {
			drop_at(c, i);
			c->st.invalidations++;
		}
}

void dal__cache_invalidate(dal__cache_tab *tab, const int64_t *ids, size_t n)
{
	size_t i;

	if (!tab)
		return;
	pthread_mutex_lock(&tab->cache->mu);
	for (i = 0; i < n; i++)
		forget(tab->cache, tab, ids[i]);
	pthread_mutex_unlock(&tab->cache->mu);
}

void dal__cache_invalidate_all(dal__cache_tab *tab)
{
	if (!tab)
		return;
	pthread_mutex_lock(&tab->cache->mu);
	forget_all(tab->cache, tab);
	pthread_mutex_unlock(&tab->cache->mu);
}

/* ---- holds of writes until their transaction ends ---- */

static bool holds_table(const dal__cache_holds *h, const dal__cache_tab *tab)
{
	size_t i;

	for (i = 0; i < h->ntabs; i++)
		if (h->tabs[i] == tab)
			return true;
	return false;
}

static bool reserve(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 8;
	void *p;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	if (!(p = realloc(*arr, n * size)))
		return false;
	*arr = p;
	*cap = n;
	return true;
}

typedef enum { HOLD_IDS, HOLD_TABLE, HOLD_WHOLE } hold_kind;

/* Room for the hold outside the lock; how much can be held precisely (ids NULL: the table). */
static hold_kind hold_prepare(dal__cache_holds **hp, dal__tx *tx, dal__cache_tab *tab, const int64_t *ids,
                              size_t n)
{
	dal__cache_holds *h = tx->holds;

	if (!h) {
		if (!(h = calloc(1, sizeof(*h))))
			return HOLD_WHOLE;
		h->cache = tab->cache;
		tx->holds = h;
	}
	*hp = h;
	if (holds_table(h, tab))
		return HOLD_TABLE;
	if (ids && h->nids + n <= HOLD_IDS_MAX && reserve((void **)&h->ids, &h->capids, h->nids + n, sizeof(*h->ids)))
		return HOLD_IDS;
	if (reserve((void **)&h->tabs, &h->captabs, h->ntabs + 1, sizeof(*h->tabs)))
		return HOLD_TABLE;
	return HOLD_WHOLE;
}

void dal__cache_hold(dal__tx *tx, dal__cache_tab *tab, const int64_t *ids, size_t n)
{
	dal__cache_holds *h = NULL;
	dal__cache *c;
	hold_kind kind;
	size_t i;

	if (!tab || n == 0 || tx->held_whole)
		return;
	c = tab->cache;
	kind = hold_prepare(&h, tx, tab, ids, n);
	pthread_mutex_lock(&c->mu);
	if (kind == HOLD_WHOLE) {
		c->held_all++;
		c->gen_all++;
		tx->held_whole = c;
	} else if (kind == HOLD_TABLE && !holds_table(h, tab)) {
		tab->held++;
		tab->gen++;
		h->tabs[h->ntabs++] = tab;
	} else if (kind == HOLD_IDS) {
		for (i = 0; i < n; i++) {
			stripe *s = stripe_of(c, key_hash(tab, ids[i]));
			s->held++;
			s->gen++;
			h->ids[h->nids++] = (hold_id){ tab, ids[i] };
		}
	}
	pthread_mutex_unlock(&c->mu);
}

void dal__cache_hold_table(dal__tx *tx, dal__cache_tab *tab)
{
	dal__cache_hold(tx, tab, NULL, 1);
}

void dal__cache_settle(dal__tx *tx, bool committed)
{
	dal__cache_holds *h = tx->holds;
	dal__cache *c = h ? h->cache : tx->held_whole;
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	for (i = 0; h && i < h->nids; i++) {
		stripe *s = stripe_of(c, key_hash(h->ids[i].tab, h->ids[i].id));
		if (committed)
			forget(c, h->ids[i].tab, h->ids[i].id);
		s->held--;
		s->gen++;
	}
	for (i = 0; h && i < h->ntabs; i++) {
		if (committed)
			forget_all(c, h->tabs[i]);
		h->tabs[i]->held--;
		h->tabs[i]->gen++;
	}
	if (tx->held_whole) {
		if (committed)
			forget_all(c, NULL);
		c->held_all--;
		c->gen_all++;
	}
	pthread_mutex_unlock(&c->mu);
	tx->held_whole = NULL;
	tx->holds = NULL;
	if (h) {
		free(h->ids);
		free(h->tabs);
		free(h);
	}
}

/* ---- counters ---- */

void dal__cache_stats_get(dal__cache_stats *out, dal__cache *c)
{
	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	out->entries = c->count;
	out->max_entries = c->max;
	pthread_mutex_unlock(&c->mu);
}

void dal__cache_reset_counters(dal__cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	memset(&c->st, 0, sizeof(c->st));
	pthread_mutex_unlock(&c->mu);
}
