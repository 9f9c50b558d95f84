/* The read cache: one lock, a chained hash table, an LRU list, TTL, and
 * generation stripes that keep stale fills and uncommitted writes out. */
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

struct dal__cache_tab {
	dal__cache *cache;
	char *name;
	uint64_t seed;
	uint64_t gen;          /* bumped by invalidate_all and table-wide holds */
	unsigned held;         /* table-wide holds of open transactions */
	dal__cache_tab *next;
};

typedef struct entry {
	dal__cache_tab *tab;
	int64_t id;
	uint64_t hash;
	int64_t expires_us;    /* monotonic clock; INT64_MAX without a TTL */
	dal_row *row;          /* private: callers get copies */
	atomic_uint refs;      /* the cache's own, plus readers copying the row */
	struct entry *hnext;
	struct entry *newer, *older;
} entry;

typedef struct stripe {
	uint64_t gen;
	unsigned held;
} stripe;

struct dal__cache {
	pthread_mutex_t mu;
	size_t max;
	int64_t ttl_us;        /* 0: no age limit */
	entry **buckets;
	size_t nbuckets;       /* a power of two */
	size_t count;
	entry *newest, *oldest;
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
	if (!(c = calloc(1, sizeof(*c))) || !(c->buckets = calloc(64, sizeof(entry *)))) {
		free(c);
		return dal__error_nomem();
	}
	pthread_mutex_init(&c->mu, NULL);
	c->nbuckets = 64;
	c->max = (size_t)cfg->cache_max_entries;
	c->ttl_us = cfg->cache_ttl_ms > 0 ? (int64_t)cfg->cache_ttl_ms * 1000 : 0;
	*out = c;
	return 0;
}

static void unref(entry *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
		dal_row_free(e->row);
		free(e);
	}
}

void dal__cache_free(dal__cache *c)
{
	dal__cache_tab *t, *next;
	entry *e, *older;

	if (!c)
		return;
	for (e = c->newest; e; e = older) {
		older = e->older;
		unref(e);
	}
	for (t = c->tabs; t; t = next) {
		next = t->next;
		free(t->name);
		free(t);
	}
	free(c->buckets);
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

/* ---- the table and the LRU list, under the lock ---- */

static entry *find(dal__cache *c, const dal__cache_tab *tab, int64_t id, uint64_t hash)
{
	entry *e;

	for (e = c->buckets[hash & (c->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->id == id && e->tab == tab)
			return e;
	return NULL;
}

static void lru_unlink(dal__cache *c, entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(dal__cache *c, entry *e)
{
	e->newer = NULL;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
}

static void drop(dal__cache *c, entry *e)
{
	entry **p = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	lru_unlink(c, e);
	c->count--;
	unref(e);
}

/* Keep chains short; a failed grow only makes them longer. */
static void grow(dal__cache *c)
{
	size_t n = c->nbuckets * 2, i;
	entry **b, *e, *next;

	if (c->count <= c->nbuckets || !(b = calloc(n, sizeof(*b))))
		return;
	for (i = 0; i < c->nbuckets; i++)
		for (e = c->buckets[i]; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static void insert(dal__cache *c, entry *e)
{
	entry **head = &c->buckets[e->hash & (c->nbuckets - 1)];

	e->hnext = *head;
	*head = e;
	lru_push(c, e);
	c->count++;
	grow(c);
}

static bool is_held(const dal__cache *c, const dal__cache_tab *tab, const stripe *s)
{
	return s->held || tab->held || c->held_all;
}

/* ---- reads ---- */

static int copy_row(dal_row **out, const dal_model *m, const dal_row *src)
{
	int error;

	if ((error = dal_row_new(out, m)) < 0)
		return error;
	if ((error = dal__row_fill(*out, dal_row_at(src, 0), m->ncolumns)) < 0) {
		dal_row_free(*out);
		*out = NULL;
	}
	return error;
}

int dal__cache_get(dal_row **out, dal__cache_ticket *t, dal__cache_tab *tab, const dal_model *m, int64_t id)
{
	dal__cache *c = tab ? tab->cache : NULL;
	uint64_t hash;
	stripe *s;
	entry *e;
	int error;

	*out = NULL;
	memset(t, 0, sizeof(*t));
	if (!c)
		return DAL_ENOTFOUND;
	hash = key_hash(tab, id);
	s = stripe_of(c, hash);
	pthread_mutex_lock(&c->mu);
	if (is_held(c, tab, s)) {
		c->st.misses++;
		pthread_mutex_unlock(&c->mu);
		return DAL_ENOTFOUND;
	}
	if ((e = find(c, tab, id, hash)) != NULL && e->expires_us <= mono_us()) {
		drop(c, e);
		c->st.expirations++;
		e = NULL;
	}
	if (!e || dal_row_model(e->row) != m) {
		c->st.misses++;
		*t = (dal__cache_ticket){ c, tab, id, hash, s->gen, tab->gen, c->gen_all };
		pthread_mutex_unlock(&c->mu);
		return DAL_ENOTFOUND;
	}
	lru_unlink(c, e);
	lru_push(c, e);
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	c->st.hits++;
	pthread_mutex_unlock(&c->mu);
	/* The row is immutable while cached: copied outside the lock. */
	error = copy_row(out, m, e->row);
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
	entry *e, *old;

	if (!c || !row || !(e = calloc(1, sizeof(*e))))
		return;
	if (copy_row(&e->row, dal_row_model(row), row) < 0) {
		free(e);
		return;
	}
	e->tab = t->tab;
	e->id = t->id;
	e->hash = t->hash;
	e->expires_us = c->ttl_us ? mono_us() + c->ttl_us : INT64_MAX;
	atomic_init(&e->refs, 1);
	pthread_mutex_lock(&c->mu);
	if (!ticket_valid(c, t)) {
		pthread_mutex_unlock(&c->mu);
		unref(e);
		return;
	}
	if ((old = find(c, t->tab, t->id, t->hash)) != NULL)
		drop(c, old);
	else if (c->count >= c->max && c->oldest) {
		drop(c, c->oldest);
		c->st.evictions++;
	}
	insert(c, e);
	pthread_mutex_unlock(&c->mu);
}

/* ---- invalidation ---- */

/* Under the lock: forget one id; a fill on its way is dropped. */
static void forget(dal__cache *c, dal__cache_tab *tab, int64_t id)
{
	uint64_t hash = key_hash(tab, id);
	entry *e;

	stripe_of(c, hash)->gen++;
	if ((e = find(c, tab, id, hash)) != NULL) {
		drop(c, e);
		c->st.invalidations++;
	}
}

/* Under the lock: forget every row of `tab` (NULL: of every table). */
static void forget_all(dal__cache *c, dal__cache_tab *tab)
{
	entry *e, *older;

	if (tab)
		tab->gen++;
	else
		c->gen_all++;
	for (e = c->newest; e; e = older) {
		older = e->older;
		if (!tab || e->tab == tab) {
			drop(c, e);
			c->st.invalidations++;
		}
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
