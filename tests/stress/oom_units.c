/*
 * Units of work in the out-of-memory sweep: one script of calls in a unit, with
 * nested units; each call of it in turn is the one whose n-th allocation fails.
 *
 *   0 begin  1 dal_uow_repo  2 create A  3 begin nested  4 update A  5 roll back nested
 *   6 begin nested  7 create B  8 commit nested  9 bulk create C  10 commit
 *
 * Committed, it leaves A as created (its update was rolled back), B and C, with
 * their CREATE and BULK_CREATE audit rows. After a failed call the script goes on
 * (the call is made again, uninjected), so a failed call must leave the unit as
 * before it; or the unit refuses the next call as doomed, and then nothing of it
 * may commit.
 */
#include "stress/oom_sweep.h"

#include <stdio.h>
#include <string.h>

#define NCALLS 11
#define NBULK 2

static const char *const call_names[NCALLS] = {
	"unit: dal_uow_begin", "unit: dal_uow_repo", "unit: dal_repo_create", "unit: dal_uow_begin(nested)",
	"unit: dal_repo_update(nested)", "unit: dal_uow_rollback(nested)", "unit: dal_uow_begin(nested again)",
	"unit: dal_repo_create(nested)", "unit: dal_uow_commit(nested)", "unit: dal_repo_bulk_create",
	"unit: dal_uow_commit",
};

typedef struct unit_run {
	dal_uow *outer, *inner;
	dal_repo *repo;
	int64_t a, b, c[NBULK];
	char name_a[48], name_b[48], name_c[NBULK][48];
	bool b_lost;        /* the nested commit failed: B is not part of the unit */
	bool committed;
} unit_run;

static int create_one(dal_repo *repo, int64_t *id, char *name, const char *prefix, int64_t seq)
{
	char email[64];
	dal_row *row = NULL;
	int rc;

	snprintf(name, 48, "%s%lld", prefix, (long long)seq);
	snprintf(email, sizeof(email), "%s%lld@x.org", prefix, (long long)seq);
	dal_field f[] = { DAL_FIELD("name", dal_text(name)), DAL_FIELD("email", dal_text(email)),
	                  DAL_FIELD("score", dal_int(11)) };
	if ((rc = dal_repo_create(&row, repo, f, DAL_COUNT(f))) == 0)
		*id = dal_row_int(row, "id");
	dal_row_free(row);
	return rc;
}

static int bulk_c(sweep *s, unit_run *u)
{
	static const char *const cols[] = { "name", "email", "score" };
	char emails[NBULK][64];
	dal_value v[NBULK * 3];
	size_t i;

	for (i = 0; i < NBULK; i++) {
		snprintf(u->name_c[i], 48, "w%lld_%zu", (long long)s->seq, i);
		snprintf(emails[i], 64, "w%lld_%zu@x.org", (long long)s->seq, i);
		v[i * 3] = dal_text(u->name_c[i]);
		v[i * 3 + 1] = dal_text(emails[i]);
		v[i * 3 + 2] = dal_int(11);
	}
	return dal_repo_bulk_create(u->c, u->repo, cols, 3, v, NBULK);
}

static int do_call(sweep *s, unit_run *u, int k)
{
	dal_uow_opts opts = DAL_UOW_OPTS_INIT;
	dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
	dal_field upd[] = { DAL_FIELD("name", dal_text("never")), DAL_FIELD("score", dal_int(99)) };
	dal_uow *h;
	int rc;

	ctx.user_id = "unit-user";
	opts.audit_ctx = &ctx;
	switch (k) {
	case 0: return dal_uow_begin(&u->outer, s->db, &opts);
	case 1: return dal_uow_repo(&u->repo, u->outer, &oom_users, DAL_AUDIT | DAL_CACHE);
	case 2: return create_one(u->repo, &u->a, u->name_a, "A", s->seq);
	case 3:
	case 6: return dal_uow_begin(&u->inner, s->db, NULL);
	case 4: return dal_repo_update(NULL, u->repo, u->a, upd, DAL_COUNT(upd));
	case 7: return create_one(u->repo, &u->b, u->name_b, "B", s->seq);
	case 9: return bulk_c(s, u);
	case 5:
	case 8:
		h = u->inner;
		u->inner = NULL;
		rc = k == 5 ? dal_uow_rollback(h) : dal_uow_commit(h);
		if (rc != 0 && k == 8)
			u->b_lost = true;
		return rc;
	default:
		h = u->outer;
		u->outer = NULL;
		rc = dal_uow_commit(h);
		u->committed = rc == 0;
		return rc;
	}
}

/* Whatever is still open ends, innermost first. */
static void abandon(unit_run *u)
{
	dal_uow_rollback(u->inner);
	dal_uow_rollback(u->outer);
	u->inner = u->outer = NULL;
}

static void committed_to_mirror(sweep *s, unit_run *u)
{
	size_t i;

	mirror_add(s, u->a, u->name_a, 11);
	if (!u->b_lost)
		mirror_add(s, u->b, u->name_b, 11);
	for (i = 0; i < NBULK; i++)
		mirror_add(s, u->c[i], u->name_c[i], 11);
}

/* The calls after `from`, uninjected. False if the unit turned out doomed or failed. */
static bool finish(sweep *s, unit_run *u, int from)
{
	int k, rc;

	for (k = from; k < NCALLS; k++) {
		if ((rc = do_call(s, u, k)) == 0)
			continue;
		if (rc == DAL_ERROR || k == NCALLS - 1) {
			/* Refused as doomed, or its commit said nothing was committed. */
			s->fig.doomed++;
			abandon(u);
			return false;
		}
		oom_fail(s, &s->fig.poisoned, "after the failure, %s failed with %s", call_names[k], dal_strerror(rc));
		abandon(u);
		return false;
	}
	return true;
}

static bool attempt(sweep *s, int target, long n, oom_mode mode)
{
	unit_run u;
	bool hit, done;
	int k, rc;

	memset(&u, 0, sizeof(u));
	s->step = call_names[target];
	s->n = n;
	s->mode = mode;
	s->seq++;
	for (k = 0; k < target; k++)
		if ((rc = do_call(s, &u, k)) != 0) {
			oom_fail(s, &s->fig.broken, "%s failed uninjected: %s", call_names[k], dal_strerror(rc));
			abandon(&u);
			return true;
		}
	oom_tag(s->step_no, n);
	oom_arm(n, mode);
	rc = do_call(s, &u, target);
	hit = oom_disarm();
	oom_tag(-1, 0);
	s->fig.calls++;
	s->fig.injections += hit;
	if (rc == 0) {
		s->fig.ok_after_failure += hit;
		done = finish(s, &u, target + 1);
	} else if (!hit) {
		oom_fail(s, &s->fig.broken, "failed without an injected failure: %s", dal_strerror(rc));
		abandon(&u);
		done = false;
	} else {
		if (rc == DAL_ENOMEM)
			s->fig.enomem++;
		else if (oom_failed_source() == OOM_SRC_SQLITE)
			s->fig.engine_other++;
		else
			oom_fail(s, &s->fig.wrong_code, "dal's failed allocation gave %s", dal_strerror(rc));
		if ((target == 0 && u.outer) || ((target == 3 || target == 6) && u.inner) || (target == 1 && u.repo))
			oom_fail(s, &s->fig.wrong_ok, "a handle was handed out with the error");
		/* The failed call again, uninjected, unless it ended its unit (5, 8, 10). */
		if (target == NCALLS - 1)
			done = false;
		else
			done = finish(s, &u, target == 5 || target == 8 ? target + 1 : target);
	}
	if (done && u.committed)
		committed_to_mirror(s, &u);
	dal_repo_close(u.repo);
	if (oom_compare(s, false) != 0)
		oom_fail(s, hit && rc == 0 ? &s->fig.wrong_ok : &s->fig.half_written,
			"after the unit (%s), the database is not as expected", u.committed ? "committed" : "not committed");
	return !hit;
}

void oom_run_units(sweep *s)
{
	long n;
	int k;

	for (k = 0; k < NCALLS; k++) {
		for (n = 1; n < OOM_MAX_N; n += s->always_stride)
			if (attempt(s, k, n, OOM_ALWAYS))
				break;
		s->longest = n > s->longest ? n : s->longest;
		for (n = 1; n < OOM_MAX_N; n += s->stride)
			if (attempt(s, k, n, OOM_ONCE))
				break;
	}
	s->step_no++;
}
