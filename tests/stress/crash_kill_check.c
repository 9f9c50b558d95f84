/*
 * The checks of the crash-consistency probe (crash_kill.c), run by the parent
 * after each kill on a fresh dal_db: what the acknowledged ops must have left,
 * the op in flight all there or not at all, audit rows one for one with the
 * changes present, the hash chain, and the engine's own integrity check.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress/crash_kill.h"

typedef struct ck_entry {
	int64_t batch, v;
	bool exists, deleted;
} ck_entry;

typedef struct gen_rows {
	ck_entry *e;
	size_t cap;
} gen_rows;

struct ck_expect {
	gen_rows *gens;
	size_t ngens;
};

/* A row as stored, with the audit rows found for it. */
typedef struct db_row {
	int64_t id, k, batch, v;
	bool doomed, deleted;
	int64_t creates, updates, deletes, others;
} db_row;

typedef struct stored {
	db_row *rows;       /* by k, then id */
	db_row **by_id;
	size_t n;
} stored;

ck_expect *ck_expect_new(void)
{
	return calloc(1, sizeof(ck_expect));
}

void ck_expect_free(ck_expect *e)
{
	size_t g;

	if (!e)
		return;
	for (g = 0; g < e->ngens; g++)
		free(e->gens[g].e);
	free(e->gens);
	free(e);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	char *q;

	while (n <= need)
		n *= 2;
	if (!(q = realloc(p, n * size)))
		return NULL;
	memset(q + *cap * size, 0, (n - *cap) * size);
	*cap = n;
	return q;
}

static ck_entry *entry(ck_expect *e, int64_t key, bool make)
{
	size_t g = (size_t)(key / CK_GEN_SPAN), i = (size_t)(key % CK_GEN_SPAN);
	void *p;

	if (key < 0)
		return NULL;
	if (g >= e->ngens) {
		if (!make || !(p = grow(e->gens, &e->ngens, g, sizeof(gen_rows))))
			return NULL;
		e->gens = p;
	}
	if (i >= e->gens[g].cap) {
		if (!make || !(p = grow(e->gens[g].e, &e->gens[g].cap, i, sizeof(ck_entry))))
			return NULL;
		e->gens[g].e = p;
	}
	return &e->gens[g].e[i];
}

int ck_expect_apply(ck_expect *e, const ck_effect *eff, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ck_entry *m = entry(e, eff[i].key, eff[i].kind == 'C');

		if (!m)
			return -1;
		if (eff[i].kind == 'C') {
			m->exists = true;
			m->batch = eff[i].arg;
			m->v = 0;
			m->deleted = false;
		} else if (eff[i].kind == 'U') {
			m->v = eff[i].arg;
		} else {
			m->deleted = true;
		}
	}
	return 0;
}

static void fault(ck_figures *f, const char *fmt, ...)
{
	va_list ap;

	if (f->why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

static db_row *find_k(const stored *st, int64_t k)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (st->rows[mid].k < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->n && st->rows[lo].k == k ? &st->rows[lo] : NULL;
}

static db_row *find_id(const stored *st, int64_t id)
{
	size_t lo = 0, hi = st->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (st->by_id[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < st->n && st->by_id[lo]->id == id ? st->by_id[lo] : NULL;
}

static int by_id(const void *a, const void *b)
{
	int64_t x = (*(db_row *const *)a)->id, y = (*(db_row *const *)b)->id;

	return (x > y) - (x < y);
}

static int load(stored *st, ck_figures *f, dal_db *db)
{
	dal_result *res = NULL;
	size_t i;

	if (dal_query(&res, db, "SELECT id, k, batch, v, doomed, deleted_at FROM crash_rows ORDER BY k, id", NULL, 0) < 0) {
		fault(f, "reading crash_rows: %s", dal_error_last()->message);
		return -1;
	}
	st->n = dal_result_rows(res);
	st->rows = calloc(st->n + 1, sizeof(*st->rows));
	st->by_id = calloc(st->n + 1, sizeof(*st->by_id));
	if (!st->rows || !st->by_id) {
		dal_result_free(res);
		return -1;
	}
	for (i = 0; i < st->n; i++) {
		db_row *r = &st->rows[i];

		r->id = dal_result_get(res, i, 0)->v.i;
		r->k = dal_result_get(res, i, 1)->v.i;
		r->batch = dal_result_get(res, i, 2)->v.i;
		r->v = dal_result_get(res, i, 3)->v.i;
		r->doomed = dal_result_get(res, i, 4)->v.i != 0;
		r->deleted = !dal_value_is_null(dal_result_get(res, i, 5));
		st->by_id[i] = r;
	}
	dal_result_free(res);
	qsort(st->by_id, st->n, sizeof(*st->by_id), by_id);
	return 0;
}

/* An op in flight at the kill: every effect there, or none. */
static void resolve_pending(ck_figures *f, const stored *st, ck_expect *e, ck_pending *p)
{
	const ck_effect *eff = p->eff;
	size_t n = p->n;
	size_t i, is = 0, was = 0;
	int64_t key_is = -1, key_was = -1;

	for (i = 0; i < n; i++) {
		const db_row *r = find_k(st, eff[i].key);
		const ck_entry *m = entry(e, eff[i].key, false);
		bool now = false, before = false;

		if (eff[i].kind == 'C') {
			now = r != NULL;
			before = r == NULL;
		} else if (r && eff[i].kind == 'U') {
			now = r->v == eff[i].arg;
			before = m && m->exists && r->v == m->v;
		} else if (r) {
			now = r->deleted;
			before = !r->deleted;
		}
		if (now && key_is < 0)
			key_is = eff[i].key;
		if (before && key_was < 0)
			key_was = eff[i].key;
		is += now;
		was += before;
	}
	if (is && was) {
		f->partial++;
		fault(f, "an op in flight at the kill is half committed: %zu of its %zu changes are there "
			"(key %lld), %zu are not (key %lld)", is, n, (long long)key_is, was, (long long)key_was);
	}
	if (n > 0 && is == n) {
		p->committed = true;
		ck_expect_apply(e, eff, n);
	}
}

/* Rows stored that no acknowledged op (nor the one in flight) left. */
static void check_stored(ck_figures *f, const stored *st, ck_expect *e)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		const db_row *r = &st->rows[i];
		const ck_entry *m = entry(e, r->k, false);

		if (i > 0 && r->k == st->rows[i - 1].k) {
			f->duplicated++;
			fault(f, "key %lld is stored twice (ids %lld and %lld)", (long long)r->k,
				(long long)st->rows[i - 1].id, (long long)r->id);
		} else if (r->doomed) {
			f->partial++;
			fault(f, "key %lld (op %lld) was created in a unit that rolled back, yet is stored",
				(long long)r->k, (long long)r->batch);
		} else if (r->v >= CK_MARK_V) {
			f->partial++;
			fault(f, "key %lld: an update made in a unit that rolled back is stored (v=%lld)",
				(long long)r->k, (long long)r->v);
		} else if (!m || !m->exists) {
			f->unexpected++;
			fault(f, "key %lld is stored (op %lld), but no acknowledged op made it, nor the one in flight",
				(long long)r->k, (long long)r->batch);
		}
	}
}

static void check_one(ck_figures *f, const db_row *r, const ck_entry *m, int64_t key)
{
	if (!r) {
		f->lost++;
		fault(f, "key %lld of acknowledged op %lld is missing", (long long)key, (long long)m->batch);
	} else if (r->doomed || r->v >= CK_MARK_V) {
		/* counted as partial already */
	} else if (r->batch != m->batch) {
		f->unexpected++;
		fault(f, "key %lld: created by op %lld, stored with batch %lld", (long long)key, (long long)m->batch,
			(long long)r->batch);
	} else if (r->v < m->v || (m->deleted && !r->deleted)) {
		f->lost++;
		fault(f, "key %lld: acknowledged v=%lld%s, stored v=%lld%s", (long long)key, (long long)m->v,
			m->deleted ? " deleted" : "", (long long)r->v, r->deleted ? " deleted" : "");
	} else if (r->v > m->v || (!m->deleted && r->deleted)) {
		f->unexpected++;
		fault(f, "key %lld: acknowledged v=%lld%s, stored v=%lld%s, which no op made", (long long)key,
			(long long)m->v, m->deleted ? " deleted" : "", (long long)r->v, r->deleted ? " deleted" : "");
	} else {
		f->present++;
	}
}

/* Every row the acknowledged ops left, as they left it. */
static void check_expected(ck_figures *f, const stored *st, const ck_expect *e)
{
	size_t g, i;

	for (g = 0; g < e->ngens; g++)
		for (i = 0; i < e->gens[g].cap; i++) {
			const ck_entry *m = &e->gens[g].e[i];
			int64_t key = (int64_t)g * CK_GEN_SPAN + (int64_t)i;

			if (!m->exists)
				continue;
			f->rows++;
			check_one(f, find_k(st, key), m, key);
		}
}

static int64_t scalar(dal_db *db, const char *sql, int64_t fallback)
{
	dal_result *res = NULL;
	int64_t n;

	if (dal_query(&res, db, sql, NULL, 0) < 0)
		return fallback;
	n = dal_result_rows(res) == 1 ? dal_result_get(res, 0, 0)->v.i : fallback;
	dal_result_free(res);
	return n;
}

static void count_audit(db_row *r, const char *action, int64_t n)
{
	if (!strcmp(action, "CREATE") || !strcmp(action, "BULK_CREATE"))
		r->creates += n;
	else if (!strcmp(action, "UPDATE") || !strcmp(action, "BULK_UPDATE"))
		r->updates += n;
	else if (!strcmp(action, "SOFT_DELETE") || !strcmp(action, "BULK_DELETE"))
		r->deletes += n;
	else
		r->others += n;
}

static int64_t excess(int64_t have, int64_t want)
{
	return have > want ? have - want : 0;
}

/* Audit rows one for one with the changes present: a create, v updates, a soft delete if deleted. */
static void check_audit(ck_figures *f, stored *st, dal_db *db)
{
	dal_result *res = NULL;
	int64_t mine = 0;
	size_t i;

	if (dal_query(&res, db, "SELECT resource_id, action, COUNT(*) FROM audit_logs WHERE resource_type = 'crash_rows' "
		"GROUP BY resource_id, action", NULL, 0) < 0) {
		f->integrity_ok = false;
		fault(f, "reading audit_logs: %s", dal_error_last()->message);
		return;
	}
	for (i = 0; i < dal_result_rows(res); i++) {
		int64_t id = dal_result_get(res, i, 0)->v.i, n = dal_result_get(res, i, 2)->v.i;
		const char *action = dal_result_get(res, i, 1)->v.s;
		db_row *r = find_id(st, id);

		mine += n;
		if (r) {
			count_audit(r, action, n);
			continue;
		}
		f->audit_orphans += n;
		fault(f, "%lld %s audit row(s) for id %lld, which is not stored", (long long)n, action, (long long)id);
	}
	dal_result_free(res);
	f->audit_rows = scalar(db, "SELECT COUNT(*) FROM audit_logs", -1);
	if (f->audit_rows > mine) {
		f->audit_orphans += f->audit_rows - mine;
		fault(f, "%lld audit row(s) of another table", (long long)(f->audit_rows - mine));
	}
	for (i = 0; i < st->n; i++) {
		const db_row *r = &st->rows[i];
		int64_t updates = r->v % CK_MARK_V, deletes = r->deleted ? 1 : 0;
		int64_t missing = excess(1, r->creates) + excess(updates, r->updates) + excess(deletes, r->deletes);
		int64_t orphans = excess(r->creates, 1) + excess(r->updates, updates) + excess(r->deletes, deletes) + r->others;

		if (missing || orphans)
			fault(f, "id %lld (key %lld, v=%lld%s) has %lld create, %lld update, %lld delete, %lld other audit rows",
				(long long)r->id, (long long)r->k, (long long)r->v, r->deleted ? ", deleted" : "",
				(long long)r->creates, (long long)r->updates, (long long)r->deletes, (long long)r->others);
		f->audit_missing += missing;
		f->audit_orphans += orphans;
	}
}

static void check_chain(ck_figures *f, dal_db *db)
{
	dal_audit_report rep;

	memset(&rep, 0, sizeof(rep));
	if (dal_audit_verify(&rep, db) < 0) {
		f->verify_ok = false;
		fault(f, "dal_audit_verify: %s", dal_error_last()->message);
	} else if (!rep.ok || rep.rows_checked != f->audit_rows) {
		f->verify_ok = false;
		fault(f, "dal_audit_verify: %s at row %lld (%lld rows walked of %lld)", rep.ok ? "ok" : rep.reason,
			(long long)rep.bad_id, (long long)rep.rows_checked, (long long)f->audit_rows);
	}
}

static bool query_ok(ck_figures *f, dal_db *db, const char *sql, const char *want_text, int64_t want_int)
{
	dal_result *res = NULL;
	const dal_value *v;
	bool ok;

	if (dal_query(&res, db, sql, NULL, 0) < 0) {
		fault(f, "integrity: %s: %s", sql, dal_error_last()->message);
		return false;
	}
	v = dal_result_rows(res) == 1 ? dal_result_get(res, 0, 0) : NULL;
	ok = v && (want_text ? v->type == DAL_TYPE_TEXT && !strcmp(v->v.s, want_text)
			     : (v->type == DAL_TYPE_INT && v->v.i == want_int) ||
				       (v->type == DAL_TYPE_BOOL && v->v.b == (want_int != 0)));
	if (!ok)
		fault(f, "integrity: %s: %s", sql,
		      v && v->type == DAL_TYPE_TEXT ? v->v.s : "an unexpected answer");
	dal_result_free(res);
	return ok;
}

/*
 * SQLite checks its own file. PostgreSQL: amcheck (shipped with the server
 * package) on every btree index of the schema and on the heaps; DuckDB has no
 * such check, so there every query above answering is the check.
 */
static void check_engine(ck_figures *f, dal_db *db)
{
	const char *engine = dal_db_engine(db);
	bool ok = true;

	if (!strcmp(engine, "sqlite")) {
		ok = query_ok(f, db, "PRAGMA integrity_check", "ok", 0);
	} else if (!strcmp(engine, "postgresql")) {
		ok = dal_exec(NULL, db, "CREATE EXTENSION IF NOT EXISTS amcheck", NULL, 0) == 0;
		if (!ok)
			fault(f, "integrity: amcheck: %s", dal_error_last()->message);
		/* Every btree index of the schema checked, each against its heap; an
		 * inconsistency is an error of the query. */
		ok = ok && query_ok(f, db, "SELECT COUNT(bt_index_check(c.oid::regclass, true)::text) >= 3 "
			"FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
			"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE am.amname = 'btree' AND n.nspname = 'public'",
			NULL, 1);
		ok = ok && query_ok(f, db, "SELECT (SELECT COUNT(*) FROM verify_heapam('crash_rows')) + "
			"(SELECT COUNT(*) FROM verify_heapam('audit_logs')) + "
			"(SELECT COUNT(*) FROM verify_heapam('audit_chain'))", NULL, 0);
	}
	if (!ok)
		f->integrity_ok = false;
}

void ck_check(ck_figures *f, dal_db *db, ck_expect *e, ck_pending *pending, size_t npending)
{
	stored st;
	size_t i;

	memset(f, 0, sizeof(*f));
	memset(&st, 0, sizeof(st));
	f->verify_ok = f->integrity_ok = true;
	if (load(&st, f, db) < 0) {
		f->integrity_ok = false;
		goto done;
	}
	for (i = 0; i < npending; i++)
		resolve_pending(f, &st, e, &pending[i]);
	check_stored(f, &st, e);
	check_expected(f, &st, e);
	check_audit(f, &st, db);
	check_chain(f, db);
	check_engine(f, db);
done:
	free(st.rows);
	free(st.by_id);
}
