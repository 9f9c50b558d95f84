/*
 * Audit rows of a unit of work, held until its commit.
 *
 * Writing an audit row takes the chain's head (on PostgreSQL a row lock held
 * until commit), so a unit that wrote its rows at once would make every other
 * audited writer wait for the rest of the unit, user code included. Its rows
 * wait here instead and go to the chain just before COMMIT, in the same
 * transaction: the head is held for that write and the commit only.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "util/error.h"

/* Past this, the rows go to the chain at once (the head is then held to commit):
 * a unit that writes a huge bulk does not hold it all in memory twice. */
#define PENDING_MAX_ROWS 4096
#define PENDING_MAX_BYTES (8u << 20)

typedef struct pending_row {
	dal__audit_rec rec;            /* strings owned, in `mem` */
	size_t ctx;                    /* index into ctxs */
	size_t bytes;                  /* what it counts against PENDING_MAX_BYTES */
	char *mem;
} pending_row;

struct dal__audit_pending {
	pending_row *rows;
	size_t n, cap, bytes;
	size_t written;                /* rows [0, written) are on the chain already */
	dal__audit_ctx *ctxs;          /* distinct contexts, in order of first use */
	size_t nctx;
};

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool ctx_equal(const dal__audit_ctx *a, const dal__audit_ctx *b)
{
	return same(a->user_id, b->user_id) && same(a->session_id, b->session_id) &&
	       same(a->correlation_id, b->correlation_id) && same(a->ip_address, b->ip_address) &&
	       same(a->user_agent, b->user_agent);
}

static int dup(char **out, const char *s)
{
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return dal__error_nomem();
	return 0;
}

/* The index of `ctx` among the held contexts, added if new. */
static int intern(size_t *at, struct dal__audit_pending *p, const dal__audit_ctx *ctx)
{
	dal__audit_ctx c = { 0 }, *grown;

	if (p->nctx && ctx_equal(&p->ctxs[p->nctx - 1], ctx)) {
		*at = p->nctx - 1;
		return 0;
	}
	if (!(grown = realloc(p->ctxs, (p->nctx + 1) * sizeof(*grown))))
		return dal__error_nomem();
	p->ctxs = grown;
	if (dup(&c.user_id, ctx->user_id) < 0 || dup(&c.session_id, ctx->session_id) < 0 ||
	    dup(&c.correlation_id, ctx->correlation_id) < 0 || dup(&c.ip_address, ctx->ip_address) < 0 ||
	    dup(&c.user_agent, ctx->user_agent) < 0) {
		dal__audit_ctx_free(&c);
		return dal__error_nomem();
	}
	p->ctxs[p->nctx] = c;
	*at = p->nctx++;
	return 0;
}

/* One allocation for the row's strings. */
static int hold(pending_row *row, const dal__audit_rec *r)
{
	size_t la = strlen(r->action) + 1, lt = strlen(r->resource_type) + 1;
	size_t lo = r->old_values ? strlen(r->old_values) + 1 : 0, ln = r->new_values ? strlen(r->new_values) + 1 : 0;
	char *m = malloc(la + lt + lo + ln);

	if (!m)
		return dal__error_nomem();
	row->mem = m;
	row->bytes = lo + ln + 64;
	row->rec = *r;
	row->rec.action = memcpy(m, r->action, la);
	row->rec.resource_type = memcpy(m + la, r->resource_type, lt);
	row->rec.old_values = lo ? memcpy(m + la + lt, r->old_values, lo) : NULL;
	row->rec.new_values = ln ? memcpy(m + la + lt + lo, r->new_values, ln) : NULL;
	if (!row->rec.timestamp)
		row->rec.timestamp = dal_now();
	return 0;
}

static size_t rec_bytes(const dal__audit_rec *r)
{
	return (r->old_values ? strlen(r->old_values) : 0) + (r->new_values ? strlen(r->new_values) : 0) + 64;
}

bool dal__audit_defer_fits(const dal__tx *tx, const dal__audit_rec *recs, size_t n)
{
	const struct dal__audit_pending *p = tx->audit;
	size_t i, bytes = p ? p->bytes : 0;

	if ((p ? p->n : 0) + n > PENDING_MAX_ROWS)
		return false;
	for (i = 0; i < n && bytes <= PENDING_MAX_BYTES; i++)
		bytes += rec_bytes(&recs[i]);
	return bytes <= PENDING_MAX_BYTES;
}

static void truncate_to(struct dal__audit_pending *p, size_t n)
{
	while (p->n > n) {
		pending_row *r = &p->rows[--p->n];
		p->bytes -= r->bytes;
		free(r->mem);
	}
	if (p->written > p->n)
		p->written = p->n;
}

static int grow(struct dal__audit_pending *p, size_t n)
{
	size_t cap = p->cap ? p->cap : 16;
	pending_row *grown;

	if (p->n + n <= p->cap)
		return 0;
	while (cap < p->n + n)
		cap *= 2;
	if (!(grown = realloc(p->rows, cap * sizeof(*grown))))
		return dal__error_nomem();
	p->rows = grown;
	p->cap = cap;
	return 0;
}

int dal__audit_defer(dal__tx *tx, const dal__audit_ctx *ctx, const dal__audit_rec *recs, size_t n)
{
	struct dal__audit_pending *p = tx->audit;
	size_t i, at = 0, mark;
	int error = 0;

	if (!p && !(p = tx->audit = calloc(1, sizeof(*p))))
		return dal__error_nomem();
	if ((error = grow(p, n)) < 0 || (error = intern(&at, p, ctx)) < 0)
		return error;
	mark = p->n;
	for (i = 0; i < n && error == 0; i++) {
		p->rows[p->n].ctx = at;
		if ((error = hold(&p->rows[p->n], &recs[i])) == 0)
			p->bytes += p->rows[p->n++].bytes;
	}
	if (error < 0)
		truncate_to(p, mark);
	return error;
}

dal__audit_mark dal__audit_pending_mark(const dal__tx *tx)
{
	const struct dal__audit_pending *p = tx->audit;

	return p ? (dal__audit_mark){ p->n, p->written } : (dal__audit_mark){ 0, 0 };
}

void dal__audit_pending_rewind(dal__tx *tx, const dal__audit_mark *mark)
{
	struct dal__audit_pending *p = tx->audit;

	if (!p)
		return;
	truncate_to(p, mark->held);
	if (p->written > mark->written)
		p->written = mark->written;
}

/* Drop the rows already on the chain, keeping the rest in order. */
void dal__audit_pending_settled(dal__tx *tx)
{
	struct dal__audit_pending *p = tx->audit;
	size_t i;

	if (!p || p->written == 0)
		return;
	for (i = 0; i < p->written; i++) {
		p->bytes -= p->rows[i].bytes;
		free(p->rows[i].mem);
	}
	memmove(p->rows, p->rows + p->written, (p->n - p->written) * sizeof(*p->rows));
	p->n -= p->written;
	p->written = 0;
}

void dal__audit_pending_drop(dal__tx *tx)
{
	struct dal__audit_pending *p = tx->audit;
	size_t i;

	if (!p)
		return;
	truncate_to(p, 0);
	for (i = 0; i < p->nctx; i++)
		dal__audit_ctx_free(&p->ctxs[i]);
	free(p->ctxs);
	free(p->rows);
	free(p);
	tx->audit = NULL;
}

/* Runs of rows with one context go to the chain together, in the order they were made. */
int dal__audit_flush(dal__tx *tx)
{
	struct dal__audit_pending *p = tx->audit;
	dal__audit_rec *recs;
	size_t i, start, from;
	int error = 0;

	if (!p || p->written == p->n)
		return 0;
	from = p->written;
	if (!(recs = malloc((p->n - from) * sizeof(*recs))))
		return dal__error_nomem();
	for (i = from; i < p->n; i++)
		recs[i - from] = p->rows[i].rec;
	for (start = from, i = from + 1; i <= p->n && error == 0; i++)
		if (i == p->n || p->rows[i].ctx != p->rows[start].ctx) {
			error = dal__audit_write_now(tx, &p->ctxs[p->rows[start].ctx], recs + start - from, i - start);
			start = i;
		}
	free(recs);
	/* Part of them may be on the chain: the transaction can no longer tell what it holds. */
	if (error < 0)
		tx->doomed = true;
	else
		p->written = p->n;
	/* Inside a scope they stay held: its rollback would undo them. */
	if (error == 0 && tx->depth == 0)
		dal__audit_pending_settled(tx);
	return error;
}
