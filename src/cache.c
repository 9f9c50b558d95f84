/* The read cache: one lock; an open-addressing index whose slots hold the row
 * itself (a row too big for its slot lives in a block the slot points at);
 * CLOCK eviction over a ring of slots in insertion order; TTL; and generation
 * stripes that keep stale fills and uncommitted writes out. */
#include "cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "row.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/str.h"

/* Generations are kept per stripe of ids, not per id: an id that is not cached
 * still needs one (a fill may be on its way). A collision only drops a fill. */
#define STRIPES 4096
/* Ids one transaction holds one by one; beyond, it holds the whole table. */
#define HOLD_IDS_MAX 4096
/* Columns a hit decodes on the stack; wider rows take one more allocation. */
#define STACK_COLUMNS 32
/* Two cache lines: a hit on a row that fits reads one slot and nothing else. */
#define SLOT_BYTES 128
#define RING_HOLE UINT32_MAX
/* Slots from its home a get reads ahead of its probe. */
#define PREFETCH_SLOTS 4
/* An int column holding the key itself (the id): stored as this type, no bytes. */
#define TYPE_KEY 0x40
/* A slot's `len` when its row is in a block. */
#define LEN_BLOCK UINT16_MAX
/* The kernel's huge page on x86-64 and most arm64 kernels (transparent huge pages). */
#define HUGE_PAGE ((size_t)2 << 20)

struct dal__cache_tab {
	dal__cache *cache;
	char *name;
	uint64_t seed;
	uint64_t gen;          /* bumped by invalidate_all and table-wide holds */
	unsigned held;         /* table-wide holds of open transactions */
	dal__cache_tab *next;
};

/* A row that does not fit its slot. Immutable once made; read outside the lock. */
typedef struct block {
	atomic_uint refs;      /* the slot's, plus readers copying the row */
	unsigned char data[];
} block;

/*
 * A cached row: the key, then the row encoded (one type byte per column, then
 * each value's bytes: none for NULL and the key, 8 for numbers, a 4-byte length
 * and the bytes for text, JSON and blobs), in `data` or in a block.
 */
typedef struct slot {
	uint64_t hash;
	int64_t id;
	dal__cache_tab *tab;   /* NULL: the slot is empty */
	const dal_model *model;
	int64_t expires_us;    /* monotonic clock; INT64_MAX without a TTL */
	uint32_t ring;         /* its place in the clock ring */
	uint16_t len;          /* bytes in data; LEN_BLOCK: data holds a block pointer */
	bool used;             /* hit since the hand last passed: a second chance */
	unsigned char data[SLOT_BYTES - 47];  /* the header above is 47 bytes */
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
	size_t nslots;         /* kept at most 4/5 full */
	/* Copies of slots and nslots read without the lock, only to prefetch the
	 * slot a get will probe while it waits for the lock (a stale one is harmless). */
	_Atomic(slot *) hint_slots;
	atomic_size_t hint_nslots;
	size_t count;
	/* Slot numbers in insertion order; RING_HOLE where a row was dropped. A hit
	 * only sets `used`: nothing is relinked. The hand is `head`. */
	uint32_t *ring;
	size_t ringcap;        /* a power of two */
	uint64_t head, tail;
	size_t holes;
	dal__cache_tab *tabs;
	stripe stripes[STRIPES];
	uint64_t gen_all;
	unsigned held_all;     /* holds that could not be recorded: nothing is served */
	dal__cache_stats st;   /* counters; entries and max_entries are filled when read */
};

_Static_assert(sizeof(slot) == SLOT_BYTES, "a slot is two cache lines");

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

/*
 * A slot array of a huge page or more is aligned to huge pages and asks the
 * kernel for them: a hit in a large cache reads one slot at random, and with
 * 4 KiB pages that read misses the TLB as well as the CPU's caches, a page walk
 * of its own before the read (two levels of it under a hypervisor).
 */
static slot *slots_new(size_t n)
{
	size_t bytes = n * sizeof(slot);
	void *s = NULL;

	if (posix_memalign(&s, bytes >= HUGE_PAGE ? HUGE_PAGE : SLOT_BYTES, bytes) != 0)
		return NULL;
#ifdef MADV_HUGEPAGE
	/* Whole huge pages only: the tail past the last one stays in small pages. */
	if (bytes >= HUGE_PAGE)
		(void)madvise(s, bytes & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
	memset(s, 0, bytes);
	return s;
}

int dal__cache_new(dal__cache **out, const dal_config *cfg)
{
	dal__cache *c;

	*out = NULL;
	if (cfg->cache_max_entries <= 0)
		return 0;
	if (!(c = calloc(1, sizeof(*c))) || !(c->slots = slots_new(64)) || !(c->ring = malloc(64 * sizeof(uint32_t)))) {
		if (c)
			free(c->slots);
		free(c);
		return dal__error_nomem();
	}
	pthread_mutex_init(&c->mu, NULL);
	c->nslots = 64;
	atomic_init(&c->hint_slots, c->slots);
	atomic_init(&c->hint_nslots, c->nslots);
	c->ringcap = 64;
	c->max = (size_t)cfg->cache_max_entries;
	c->ttl_us = cfg->cache_ttl_ms > 0 ? (int64_t)cfg->cache_ttl_ms * 1000 : 0;
	*out = c;
	return 0;
}

static block *block_of(const slot *s)
{
	block *b;

	memcpy(&b, s->data, sizeof(b));
	return b;
}

static void unref(block *b)
{
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		free(b);
}

void dal__cache_free(dal__cache *c)
{
	dal__cache_tab *t, *next;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].tab && c->slots[i].len == LEN_BLOCK)
			unref(block_of(&c->slots[i]));
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

/* ---- a row encoded ---- */

static bool has_bytes(dal_type t)
{
	return t == DAL_TYPE_TEXT || t == DAL_TYPE_JSON || t == DAL_TYPE_BLOB;
}

static unsigned char type_code(const dal_value *v, int64_t key)
{
	return v->type == DAL_TYPE_INT && v->v.i == key ? TYPE_KEY : (unsigned char)v->type;
}

/* Bytes the encoding of `v` takes (0 when a text is too long to cache). */
static size_t encoded_size(const dal_value *v, size_t n, int64_t key)
{
	size_t bytes = n, i;

	for (i = 0; i < n; i++) {
		if (has_bytes(v[i].type)) {
			if (v[i].len > UINT32_MAX)
				return 0;
			bytes += 4 + v[i].len;
		} else if (v[i].type != DAL_TYPE_NULL && type_code(&v[i], key) != TYPE_KEY) {
			bytes += 8;
		}
	}
	return bytes;
}

static void encode(unsigned char *out, const dal_value *v, size_t n, int64_t key)
{
	unsigned char *p = out + n;
	uint32_t len;
	size_t i;

	for (i = 0; i < n; i++) {
		out[i] = type_code(&v[i], key);
		if (has_bytes(v[i].type)) {
			len = (uint32_t)v[i].len;
			memcpy(p, &len, 4);
			if (len)
				memcpy(p + 4, v[i].v.p, len);
			p += 4 + len;
		} else if (out[i] != DAL_TYPE_NULL && out[i] != TYPE_KEY) {
			memcpy(p, &v[i].v, 8);
			p += 8;
		}
	}
}

/* The values, pointing into `in` (as dal__row_fill takes them). */
static void decode(dal_value *out, const unsigned char *in, size_t n, int64_t key)
{
	const unsigned char *p = in + n;
	uint32_t len;
	size_t i;

	for (i = 0; i < n; i++) {
		out[i].len = 0;
		out[i].type = in[i] == TYPE_KEY ? DAL_TYPE_INT : (dal_type)in[i];
		if (in[i] == TYPE_KEY) {
			out[i].v.i = key;
		} else if (has_bytes(out[i].type)) {
			memcpy(&len, p, 4);
			out[i].len = len;
			out[i].v.p = p + 4;
			p += 4 + len;
		} else if (in[i] != DAL_TYPE_NULL) {
			memcpy(&out[i].v, p, 8);
			p += 8;
		} else {
			out[i].v.i = 0;
		}
	}
}

/* Decode the row (whose text fits the block `out` was made with) into `out`. */
static int copy_out(dal_row *out, const dal_model *m, const unsigned char *data, int64_t key)
{
	dal_value stack[STACK_COLUMNS], *v = stack;
	int error;

	if (m->ncolumns > STACK_COLUMNS && !(v = malloc(m->ncolumns * sizeof(*v))))
		return dal__error_nomem();
	decode(v, data, m->ncolumns, key);
	error = dal__row_fill(out, v, m->ncolumns);
	if (v != stack)
		free(v);
	return error;
}

/* ---- the index (linear probing), under the lock ---- */

/* Where a hash's probe starts: the high bits scaled to the table (any size). */
static size_t home_of(const dal__cache *c, uint64_t hash)
{
	return (size_t)(((hash >> 32) * (uint64_t)c->nslots) >> 32);
}

/* Start the memory reads a get will need before it takes the lock. */
static void prefetch(const dal__cache *c, const stripe *st, uint64_t hash)
{
#if defined(__GNUC__)
	/* Acquire: a new size comes with its new array (stored first); an old size
	 * with either array is within it. */
	size_t n = atomic_load_explicit(&c->hint_nslots, memory_order_acquire);
	size_t home = (size_t)(((hash >> 32) * (uint64_t)n) >> 32);
	const char *s = (const char *)(atomic_load_explicit(&c->hint_slots, memory_order_relaxed) + home);
	/* The row is most often in its home slot or one of the next few (not past the end). */
	size_t k, bytes = (n - home < PREFETCH_SLOTS ? n - home : PREFETCH_SLOTS) * SLOT_BYTES;

	__builtin_prefetch(st);
	for (k = 0; k < bytes; k += 64)
		__builtin_prefetch(s + k);
#else
	(void)c, (void)st, (void)hash;
#endif
}

static size_t next_of(const dal__cache *c, size_t i)
{
	return i + 1 == c->nslots ? 0 : i + 1;
}

/* The slot of (tab, id), or nslots when absent. */
static size_t find(const dal__cache *c, const dal__cache_tab *tab, int64_t id, uint64_t hash)
{
	size_t i;

	for (i = home_of(c, hash); c->slots[i].tab; i = next_of(c, i))
		if (c->slots[i].hash == hash && c->slots[i].id == id && c->slots[i].tab == tab)
			return i;
	return c->nslots;
}

/* Slot `from`'s row now lives in slot `to`. */
static void slot_move(dal__cache *c, size_t to, size_t from)
{
	c->slots[to] = c->slots[from];
	c->ring[c->slots[to].ring] = (uint32_t)to;
}

/* Empty slot `i`, moving later slots of the run back so every probe still finds them. */
static void slot_clear(dal__cache *c, size_t i)
{
	size_t j = i, home, n = c->nslots;

	for (;;) {
		j = next_of(c, j);
		if (!c->slots[j].tab)
			break;
		home = home_of(c, c->slots[j].hash);
		if ((j + n - home) % n >= (j + n - i) % n) {
			slot_move(c, i, j);
			i = j;
		}
	}
	c->slots[i].tab = NULL;
}

/* A free slot for `hash` (the table has one: it is never full). */
static size_t slot_free(const dal__cache *c, uint64_t hash)
{
	size_t i;

	for (i = home_of(c, hash); c->slots[i].tab; i = next_of(c, i))
		;
	return i;
}

/* Room for one more row at most 4/5 full; false when out of memory. */
static bool slots_reserve(dal__cache *c)
{
	slot *old = c->slots;
	size_t n = c->nslots + c->nslots / 4, i;
	uint64_t p;

	if ((c->count + 1) * 5 <= c->nslots * 4)
		return true;
	if (n >= RING_HOLE || !(c->slots = slots_new(n))) {
		c->slots = old;
		return false;
	}
	c->nslots = n;
	for (p = c->head; p != c->tail; p++)
		if ((i = c->ring[p & (c->ringcap - 1)]) != RING_HOLE) {
			size_t to = slot_free(c, old[i].hash);
			c->slots[to] = old[i];
			c->ring[p & (c->ringcap - 1)] = (uint32_t)to;
		}
	/* Before the old array goes: a get that reads the hints meanwhile prefetches from memory still there. */
	atomic_store_explicit(&c->hint_slots, c->slots, memory_order_relaxed);
	atomic_store_explicit(&c->hint_nslots, c->nslots, memory_order_release);
	free(old);
	return true;
}

/* ---- the clock ring, under the lock ---- */

static void ring_append(dal__cache *c, size_t i)
{
	c->slots[i].ring = (uint32_t)(c->tail & (c->ringcap - 1));
	c->ring[c->tail++ & (c->ringcap - 1)] = (uint32_t)i;
}

/* Close the holes, keeping the order (done when holes are half the ring). */
static void ring_compact(dal__cache *c)
{
	uint64_t from = c->head, end = c->tail;
	uint32_t i;

	c->tail = c->head;
	c->holes = 0;
	for (; from != end; from++)
		if ((i = c->ring[from & (c->ringcap - 1)]) != RING_HOLE)
			ring_append(c, i);
}

/* Room for one more row; false when out of memory. */
static bool ring_reserve(dal__cache *c)
{
	size_t n = c->ringcap * 2;
	uint32_t *r, *old = c->ring;
	uint64_t p, end = c->tail;

	if (c->tail - c->head < c->ringcap)
		return true;
	if (c->holes >= c->ringcap / 2) {
		ring_compact(c);
		return true;
	}
	if (!(r = malloc(n * sizeof(*r))))
		return false;
	c->ring = r;
	c->tail = c->head;
	c->holes = 0;
	c->ringcap = n;
	for (p = c->head; p != end; p++)
		if (old[p & (n / 2 - 1)] != RING_HOLE)
			ring_append(c, old[p & (n / 2 - 1)]);
	free(old);
	return true;
}

/* Drop the row in slot `i` (the ring keeps a hole, skipped by the hand). */
static void drop_at(dal__cache *c, size_t i)
{
	uint32_t *r = &c->ring[c->slots[i].ring];

	if (*r == i) {
		*r = RING_HOLE;
		c->holes++;
	}
	if (c->slots[i].len == LEN_BLOCK)
		unref(block_of(&c->slots[i]));
	slot_clear(c, i);
	c->count--;
}

/* CLOCK: the oldest row not hit since the hand last passed it goes. */
static void evict_one(dal__cache *c)
{
	uint32_t i;

	while (c->head != c->tail) {
		i = c->ring[c->head & (c->ringcap - 1)];
		c->ring[c->head++ & (c->ringcap - 1)] = RING_HOLE;
		if (i == RING_HOLE) {
			c->holes--;
		} else if (c->slots[i].used) {
			c->slots[i].used = false;
			ring_append(c, i);
		} else {
			drop_at(c, i);
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

/* Under the lock: the row of slot `i` into `copy`, or a reference to its block. */
static const unsigned char *take(slot *copy, block **b, const slot *s)
{
	*b = NULL;
	if (s->len != LEN_BLOCK) {
		memcpy(copy, s, offsetof(slot, data) + s->len);
		return copy->data;
	}
	*b = block_of(s);
	atomic_fetch_add_explicit(&(*b)->refs, 1, memory_order_relaxed);
	return (*b)->data;
}

/* Under the lock: the row of (tab, id) in `copy` or a block, or NULL (a miss,
 * with the ticket a fill after it needs). */
static const unsigned char *lookup(slot *copy, block **b, dal__cache_ticket *t, dal__cache_tab *tab,
                                   const dal_model *m, int64_t id, uint64_t hash, int64_t now)
{
	dal__cache *c = tab->cache;
	stripe *st = stripe_of(c, hash);
	slot *s = NULL;
	size_t i;

	if (is_held(c, tab, st)) {
		c->st.misses++;
		return NULL;
	}
	if ((i = find(c, tab, id, hash)) < c->nslots) {
		s = &c->slots[i];
		if (s->expires_us <= now) {
			drop_at(c, i);
			c->st.expirations++;
			s = NULL;
		}
	}
	if (!s || s->model != m) {
		c->st.misses++;
		*t = (dal__cache_ticket){ c, tab, id, hash, st->gen, tab->gen, c->gen_all };
		return NULL;
	}
	/* Written only when it changes: a hit leaves the line clean otherwise. */
	if (!s->used)
		s->used = true;
	c->st.hits++;
	return take(copy, b, s);
}

int dal__cache_get(dal_row **out, dal__cache_ticket *t, dal__cache_tab *tab, const dal_model *m, int64_t id)
{
	dal__cache *c = tab ? tab->cache : NULL;
	const unsigned char *data;
	dal_row *row;
	slot copy;
	block *b = NULL;
	int64_t now;
	uint64_t hash;
	int error;

	*out = NULL;
	memset(t, 0, sizeof(*t));
	if (!c)
		return DAL_ENOTFOUND;
	hash = key_hash(tab, id);
	prefetch(c, stripe_of(c, hash), hash);
	/* Made while the prefetch is in flight, so a hit's wait for memory hides it;
	 * room for all the text a slot can hold (and each value's terminator). */
	if ((error = dal__row_new_reserved(&row, m, sizeof(copy.data) + m->ncolumns)) < 0)
		return error;
	now = c->ttl_us ? dal__mono_us() : 0;
	pthread_mutex_lock(&c->mu);
	data = lookup(&copy, &b, t, tab, m, id, hash, now);
	pthread_mutex_unlock(&c->mu);
	if (!data) {
		dal_row_free(row);
		return DAL_ENOTFOUND;
	}
	error = copy_out(row, m, data, id);
	if (b)
		unref(b);
	if (error < 0)
		dal_row_free(row);
	else
		*out = row;
	return error;
}

static bool ticket_valid(dal__cache *c, const dal__cache_ticket *t)
{
	/* A hold bumps the generations too: a held id fails here. */
	return stripe_of(c, t->hash)->gen == t->stripe_gen && t->tab->gen == t->tab_gen &&
		c->gen_all == t->all_gen;
}

/* The row's slot contents (outside the lock); false when it cannot be cached. */
static bool prepare(slot *s, const dal__cache_ticket *t, const dal_row *row, int64_t expires_us)
{
	const dal_value *v = dal_row_at(row, 0);
	size_t n = dal_row_count(row), size = encoded_size(v, n, t->id);
	block *b;

	*s = (slot){ .hash = t->hash, .id = t->id, .tab = t->tab, .model = dal_row_model(row),
		.expires_us = expires_us, .len = (uint16_t)size };
	if (size == 0)
		return false;
	if (size <= sizeof(s->data)) {
		encode(s->data, v, n, t->id);
		return true;
	}
	if (!(b = malloc(sizeof(*b) + size)))
		return false;
	atomic_init(&b->refs, 1);
	encode(b->data, v, n, t->id);
	memcpy(s->data, &b, sizeof(b));
	s->len = LEN_BLOCK;
	return true;
}

void dal__cache_fill(const dal__cache_ticket *t, const dal_row *row)
{
	dal__cache *c = t->cache;
	slot s;
	size_t i;

	if (!c || !row || !prepare(&s, t, row, c->ttl_us ? dal__mono_us() + c->ttl_us : INT64_MAX))
		return;
	pthread_mutex_lock(&c->mu);
	if (!ticket_valid(c, t)) {
		pthread_mutex_unlock(&c->mu);
		if (s.len == LEN_BLOCK)
			unref(block_of(&s));
		return;
	}
	if ((i = find(c, t->tab, t->id, t->hash)) < c->nslots)
		drop_at(c, i);
	else if (c->count >= c->max)
		evict_one(c);
	if (!slots_reserve(c) || !ring_reserve(c)) {
		pthread_mutex_unlock(&c->mu);
		if (s.len == LEN_BLOCK)
			unref(block_of(&s));
		return;
	}
	i = slot_free(c, t->hash);
	c->slots[i] = s;
	ring_append(c, i);
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
		while (c->slots[i].tab && (!tab || c->slots[i].tab == tab)) {
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
