/*
 * The writer child of the crash-consistency probe (crash_kill.c): an endless
 * mix of audited single creates, bulk creates, updates, bulk updates, soft
 * deletes, bulk soft deletes, and units of work with nested units, some of
 * which roll back. Before each op it sends its intent, after success its
 * acknowledgement (crash_kill.h); the parent kills it at some moment.
 *
 * Each op is planned in full before its first call, so that the intent names
 * exactly the effects that must survive: a unit's fate (commit or rollback) is
 * drawn when it is planned.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stress/crash_kill.h"

#define MAX_STEPS 96
#define MAX_ROWS 40     /* rows of one step */
#define MAX_DEPTH 3     /* units open at once: the outer one and two nested */

static const dal_column ck_cols[] = {
	DAL_COL_ID(),
	DAL_COL("k", DAL_TYPE_INT, DAL_NOT_NULL | DAL_INDEX, 0),
	DAL_COL("batch", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("v", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("doomed", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("note", DAL_TYPE_TEXT, 0, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
};
const dal_model ck_model = DAL_MODEL("crash_rows", ck_cols);

typedef enum step_kind { ST_BEGIN, ST_END, ST_CREATE, ST_UPDATE, ST_DELETE } step_kind;

typedef struct step {
	step_kind kind;
	bool survives;          /* every unit around it commits */
	bool commit;            /* ST_BEGIN, ST_END: the unit's fate */
	bool bulk;              /* a bulk call, also for one row */
	int n;                  /* rows */
	int64_t key0;           /* ST_CREATE: keys key0 .. key0 + n - 1 */
	int64_t ids[MAX_ROWS];  /* ST_CREATE: the ids dal gave */
	size_t live[MAX_ROWS];  /* ST_UPDATE, ST_DELETE: rows of the live list */
} step;

typedef struct live_row {
	int64_t k, id, v;
	int64_t touched;        /* the last op that planned a change to it */
	bool gone;              /* soft-deleted by the op being applied */
} live_row;

typedef struct child {
	dal_db *db;
	dal_repo *repo;
	int fd;
	uint64_t rng;
	int64_t op, next_key;
	live_row *rows;
	size_t nrows, cap;
	step steps[MAX_STEPS];
	int nsteps;
	char note[256];
	char msg[MAX_STEPS * MAX_ROWS * 32];
} child;

static int fail(const child *c, const char *what)
{
	fprintf(stderr, "crash_kill child, op %lld: %s: %s\n", (long long)c->op, what, dal_error_last()->message);
	return 3;
}

static int send_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Rows of the live list that this op has not planned to change yet; -1 if none. */
static long pick_live(child *c)
{
	size_t i, start;

	if (c->nrows == 0)
		return -1;
	start = (size_t)(ck_rand(&c->rng) % c->nrows);
	for (i = 0; i < c->nrows; i++) {
		size_t j = (start + i) % c->nrows;

		if (c->rows[j].touched != c->op) {
			c->rows[j].touched = c->op;
			return (long)j;
		}
	}
	return -1;
}

static step *add_step(child *c, step_kind kind, bool survives)
{
	step *s = &c->steps[c->nsteps++];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->survives = survives;
	return s;
}

/* One write: create n rows, or update or soft-delete up to n live ones (a create if none is left). */
static void plan_write(child *c, bool survives, int kind, int n, bool bulk)
{
	step *s;
	long j;

	if (kind != ST_CREATE) {
		s = add_step(c, (step_kind)kind, survives);
		while (s->n < n && (j = pick_live(c)) >= 0)
			s->live[s->n++] = (size_t)j;
		if (s->n > 0) {
			s->bulk = bulk || s->n > 1;
			return;
		}
		c->nsteps--;
		n = 1;
	}
	s = add_step(c, ST_CREATE, survives);
	s->n = n;
	s->bulk = bulk || n > 1;
	s->key0 = c->next_key;
	c->next_key += n;
}

static void plan_random_write(child *c, bool survives, int max_bulk)
{
	int r = (int)ck_between(&c->rng, 0, 9);

	if (r < 3)
		plan_write(c, survives, ST_CREATE, 1, false);
	else if (r < 5)
		plan_write(c, survives, ST_CREATE, (int)ck_between(&c->rng, 1, max_bulk), true);
	else if (r < 8)
		plan_write(c, survives, ST_UPDATE, (int)ck_between(&c->rng, 1, 3), r == 7);
	else
		plan_write(c, survives, ST_DELETE, (int)ck_between(&c->rng, 1, 2), r == 9);
}

/* A unit: its writes and, above the innermost depth, units nested in it. */
static void plan_unit(child *c, int depth, bool survives)
{
	/* The outermost unit mostly commits; a nested one as often rolls back. */
	bool commit = depth == 0 ? ck_between(&c->rng, 0, 9) > 0 : (ck_rand(&c->rng) & 1) != 0;
	bool in = survives && commit;
	int i, parts = (int)ck_between(&c->rng, 1, 3);

	add_step(c, ST_BEGIN, in)->commit = commit;
	for (i = 0; i < parts; i++) {
		plan_random_write(c, in, 10);
		if (depth + 1 < MAX_DEPTH && (ck_rand(&c->rng) & 1))
			plan_unit(c, depth + 1, in);
	}
	add_step(c, ST_END, in)->commit = commit;
}

static void plan_op(child *c)
{
	int r = (int)ck_between(&c->rng, 0, 9);

	c->nsteps = 0;
	if (r < 3)
		plan_unit(c, 0, true);
	else if (r < 5)
		plan_write(c, true, ST_CREATE, 1, false);
	else if (r < 7)
		plan_write(c, true, ST_CREATE, (int)ck_between(&c->rng, 1, MAX_ROWS), true);
	else if (r < 9)
		plan_write(c, true, ST_UPDATE, (int)ck_between(&c->rng, 1, 10), r == 8);
	else
		plan_write(c, true, ST_DELETE, (int)ck_between(&c->rng, 1, 5), ck_rand(&c->rng) & 1);
}

static int64_t new_v(const child *c, const step *s, int i)
{
	return c->rows[s->live[i]].v + (s->survives ? 1 : CK_MARK_V);
}

static int send_intent(child *c)
{
	size_t len = 0, n = 0;
	int i, j;
	char head[64];

	for (i = 0; i < c->nsteps; i++) {
		const step *s = &c->steps[i];

		if (!s->survives)
			continue;
		for (j = 0; j < s->n; j++, n++) {
			const live_row *r = s->kind == ST_CREATE ? NULL : &c->rows[s->live[j]];

			if (s->kind == ST_CREATE)
				len += (size_t)snprintf(c->msg + len, sizeof(c->msg) - len, "C %lld %lld\n",
							(long long)(s->key0 + j), (long long)c->op);
			else if (s->kind == ST_UPDATE)
				len += (size_t)snprintf(c->msg + len, sizeof(c->msg) - len, "U %lld %lld\n",
							(long long)r->k, (long long)new_v(c, s, j));
			else if (s->kind == ST_DELETE)
				len += (size_t)snprintf(c->msg + len, sizeof(c->msg) - len, "D %lld\n", (long long)r->k);
		}
	}
	snprintf(head, sizeof(head), "I %lld %zu\n", (long long)c->op, n);
	if (send_all(c->fd, head, strlen(head)) < 0 || send_all(c->fd, c->msg, len) < 0)
		return -1;
	return 0;
}

static void make_note(child *c)
{
	int i, n = (int)ck_between(&c->rng, 0, (int)sizeof(c->note) - 1);

	for (i = 0; i < n; i++)
		c->note[i] = (char)('a' + ck_rand(&c->rng) % 26);
	c->note[n] = '\0';
}

static int do_create(child *c, step *s)
{
	static const char *const cols[] = { "k", "batch", "v", "doomed", "note" };
	dal_value vals[MAX_ROWS * 5];
	dal_row *row = NULL;
	int i;

	make_note(c);
	for (i = 0; i < s->n; i++) {
		dal_value *v = &vals[i * 5];

		v[0] = dal_int(s->key0 + i);
		v[1] = dal_int(c->op);
		v[2] = dal_int(0);
		v[3] = dal_int(s->survives ? 0 : 1);
		/* Rows of different lengths, so that pages split at different places. */
		v[4] = dal_textn(c->note, strlen(c->note) / (size_t)(i + 1));
	}
	if (s->bulk)
		return dal_repo_bulk_create(s->ids, c->repo, cols, 5, vals, (size_t)s->n) < 0 ? fail(c, "bulk create") : 0;
	{
		dal_field f[5];

		for (i = 0; i < 5; i++) {
			f[i].column = cols[i];
			f[i].value = vals[i];
		}
		if (dal_repo_create(&row, c->repo, f, 5) < 0)
			return fail(c, "create");
	}
	s->ids[0] = dal_row_int(row, "id");
	dal_row_free(row);
	return 0;
}

static int do_change(child *c, step *s)
{
	static const char *const cols[] = { "v" };
	int64_t ids[MAX_ROWS], count = -1;
	dal_value vals[MAX_ROWS];
	int i;

	for (i = 0; i < s->n; i++) {
		ids[i] = c->rows[s->live[i]].id;
		vals[i] = dal_int(new_v(c, s, i));
	}
	if (s->kind == ST_UPDATE && s->bulk) {
		if (dal_repo_bulk_update(&count, c->repo, ids, cols, 1, vals, (size_t)s->n) < 0)
			return fail(c, "bulk update");
	} else if (s->kind == ST_UPDATE) {
		dal_field f[1] = { DAL_FIELD("v", vals[0]) };

		if (dal_repo_update(NULL, c->repo, ids[0], f, 1) < 0)
			return fail(c, "update");
		count = 1;
	} else if (s->bulk) {
		if (dal_repo_bulk_delete(&count, c->repo, ids, (size_t)s->n, true) < 0)
			return fail(c, "bulk soft delete");
	} else {
		if (dal_repo_delete(c->repo, ids[0], true) < 0)
			return fail(c, "soft delete");
		count = 1;
	}
	if (count != s->n) {
		fprintf(stderr, "crash_kill child, op %lld: %s changed %lld rows of %d\n", (long long)c->op,
			s->kind == ST_UPDATE ? "update" : "soft delete", (long long)count, s->n);
		return 3;
	}
	return 0;
}

static int run_steps(child *c)
{
	dal_uow *stack[MAX_DEPTH];
	int i, depth = 0, rc = 0;

	for (i = 0; i < c->nsteps && rc == 0; i++) {
		step *s = &c->steps[i];

		switch (s->kind) {
		case ST_BEGIN:
			if (dal_uow_begin(&stack[depth], c->db, NULL) < 0)
				return fail(c, "unit begin");
			depth++;
			break;
		case ST_END:
			depth--;
			if ((s->commit ? dal_uow_commit(stack[depth]) : dal_uow_rollback(stack[depth])) < 0)
				return fail(c, s->commit ? "unit commit" : "unit rollback");
			break;
		case ST_CREATE:
			rc = do_create(c, s);
			break;
		default:
			rc = do_change(c, s);
		}
	}
	return rc;
}

static int add_live(child *c, int64_t k, int64_t id)
{
	if (c->nrows == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		live_row *p = realloc(c->rows, cap * sizeof(*p));

		if (!p)
			return -1;
		c->rows = p;
		c->cap = cap;
	}
	c->rows[c->nrows].k = k;
	c->rows[c->nrows].id = id;
	c->rows[c->nrows].v = 0;
	c->rows[c->nrows].touched = 0;
	c->rows[c->nrows].gone = false;
	c->nrows++;
	return 0;
}

/* The op is acknowledged: what survived becomes the child's own picture. */
static int apply(child *c)
{
	size_t keep = 0, i;
	int s, j;

	for (s = 0; s < c->nsteps; s++) {
		step *st = &c->steps[s];

		if (!st->survives)
			continue;
		for (j = 0; j < st->n; j++) {
			if (st->kind == ST_UPDATE)
				c->rows[st->live[j]].v++;
			else if (st->kind == ST_DELETE)
				c->rows[st->live[j]].gone = true;
			else if (st->kind == ST_CREATE && add_live(c, st->key0 + j, st->ids[j]) < 0)
				return -1;
		}
	}
	for (i = 0; i < c->nrows; i++)
		if (!c->rows[i].gone)
			c->rows[keep++] = c->rows[i];
	c->nrows = keep;
	return 0;
}

int ck_child_run(const char *url, int fd, uint64_t seed, int gen)
{
	const dal_model *models[1] = { &ck_model };
	child *c = calloc(1, sizeof(*c));
	char line[64];
	int rc = 3;

	if (!c)
		return 3;
	c->fd = fd;
	c->rng = (seed ^ ((uint64_t)gen * 0x9E3779B97F4A7C15ULL)) | 1;
	c->op = (int64_t)gen * CK_GEN_SPAN;
	c->next_key = (int64_t)gen * CK_GEN_SPAN;
	if (dal_open(&c->db, url, NULL) < 0) {
		rc = fail(c, "open");
		goto done;
	}
	if (dal_init_database(c->db, models, 1, DAL_AUTO_MIGRATE) < 0) {
		rc = fail(c, "init database");
		goto done;
	}
	if (dal_repo_open(&c->repo, c->db, &ck_model, DAL_AUDIT) < 0) {
		rc = fail(c, "repository open");
		goto done;
	}
	if (send_all(fd, "R\n", 2) < 0)
		goto done;
	for (;;) {
		c->op++;
		if (c->op % CK_GEN_SPAN == 0 || c->next_key >= (int64_t)(gen + 1) * CK_GEN_SPAN - MAX_STEPS * MAX_ROWS) {
			fprintf(stderr, "crash_kill child: generation %d used all its keys\n", gen);
			goto done;
		}
		plan_op(c);
		if (send_intent(c) < 0)
			goto done;
		if ((rc = run_steps(c)) != 0)
			goto done;
		snprintf(line, sizeof(line), "A %lld\n", (long long)c->op);
		if (send_all(fd, line, strlen(line)) < 0 || apply(c) < 0) {
			rc = 3;
			goto done;
		}
	}
done:
	dal_repo_close(c->repo);
	dal_close(c->db);
	free(c->rows);
	free(c);
	return rc;
}
