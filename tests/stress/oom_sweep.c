/*
 * The out-of-memory sweep: every public call of a scenario is run with its n-th
 * allocation failing, for n = 1, 2, 3, ... until the call no longer reaches n.
 * Allocations are dal's own (malloc, calloc, realloc, strdup), jansson's and
 * SQLite's (oom_alloc.c); DuckDB and libpq allocate out of reach.
 *
 * At each n: the call returns DAL_OK or an error; an error is DAL_ENOMEM (or,
 * when the failed allocation was the engine's, another code, printed); after an
 * error the tables and the audit trail are as before the call and the next
 * calls work; after DAL_OK the call's effect is whole (rows, audit rows, values
 * read, the cached row); nothing leaks (the live blocks after dal_close are the
 * baseline's). The figures print as one line per engine; wrong_ok, half_written,
 * wrong_code, poisoned, leaks and crashes must be 0.
 *
 * Usage: oom_sweep ENGINE [URL|@FILE] [--exhaustive] [--always-stride K]
 *   ENGINE: sqlite-memory, sqlite-file, duckdb, postgres (URL or @file holding it)
 *   default: fail-always at every n, fail-once at every CI_STRIDE-th n;
 *   --exhaustive: fail-once at every n too (make fuzz);
 *   --always-stride K: fail-always at every K-th n only (a shorter run).
 * OOM_CHECK_CHAIN=1 also verifies the audit chain after every call.
 */
#define _GNU_SOURCE
#include "stress/oom_sweep.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CI_STRIDE 7

static const dal_column user_cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 80),
	DAL_COL("score", DAL_TYPE_INT, DAL_INDEX, 0),
	DAL_COL("meta", DAL_TYPE_JSON, 0, 0),
	DAL_COL("token", DAL_TYPE_TEXT, DAL_SENSITIVE, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
};
const dal_model oom_users = DAL_MODEL("oom_users", user_cols);

static const dal_column plain_cols[] = {
	DAL_COL_ID(),
	DAL_COL("label", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("n", DAL_TYPE_INT, 0, 0),
};
const dal_model oom_plain = DAL_MODEL("oom_plain", plain_cols);

/* What the crash reporter reads after the child died. */
typedef struct progress {
	char step[64];
	long n;
	int mode;
} progress;
static progress *shared_progress;

/* A code address as object+offset, for addr2line. */
static void print_site(void *site)
{
	Dl_info info;

	if (site && dladdr(site, &info) && info.dli_fname)
		fprintf(stderr, " at %s+0x%lx", info.dli_fname, (unsigned long)((char *)site - (char *)info.dli_fbase));
}

void oom_fail(sweep *s, long *figure, const char *fmt, ...)
{
	va_list ap;

	(*figure)++;
	if (s->printed++ > 40)
		return;
	fprintf(stderr, "oom_sweep %s: step %s n=%ld %s: ", s->engine, s->step ? s->step : "?", s->n,
		s->mode == OOM_ALWAYS ? "fail-always" : "fail-once");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " [last error %d: %s] [failed: %s allocation", dal_error_last()->code,
		dal_error_last()->message, (const char *[]){ "dal", "jansson", "sqlite" }[oom_failed_source()]);
	print_site(oom_failed_site());
	fprintf(stderr, "]\n");
	if (s->check_chain) {
		void **trace;
		int i, n = oom_failed_trace(&trace);
		for (i = 0; i < n; i++) {
			fprintf(stderr, "     ");
			print_site(trace[i]);
			fprintf(stderr, "\n");
		}
	}
}

/* ---- the mirror of what the database must hold ---- */

void mirror_add(sweep *s, int64_t id, const char *name, int64_t score)
{
	urow *r;

	if (id <= 0 || id >= OOM_MAX_ID) {
		fprintf(stderr, "oom_sweep: id %lld out of the mirror's range\n", (long long)id);
		exit(2);
	}
	r = &s->rows[id];
	r->present = true;
	r->deleted = false;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->score = score;
	r->naudit = 1;
	if (id > s->max_id)
		s->max_id = id;
	s->audit_rows++;
}

static void expected(const sweep *s, fingerprint *f)
{
	int64_t id;

	memset(f, 0, sizeof(*f));
	for (id = 1; id <= s->max_id; id++) {
		const urow *r = &s->rows[id];
		if (!r->present)
			continue;
		f->users++;
		f->live += !r->deleted;
		f->id_sum += id;
		f->score_sum += r->score;
		f->name_len += (int64_t)strlen(r->name);
	}
	f->audit = s->audit_rows;
	f->plain = s->plain_rows;
	f->plain_sum = s->plain_sum;
}

static int scalars(dal_db *db, const char *sql, int64_t *out, size_t n)
{
	dal_result *res = NULL;
	size_t i;
	int rc;

	if ((rc = dal_query(&res, db, sql, NULL, 0)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		const dal_value *v = dal_result_get(res, 0, i);
		out[i] = !v ? -1 : v->type == DAL_TYPE_INT ? v->v.i : v->type == DAL_TYPE_DOUBLE ? (int64_t)v->v.d : -1;
	}
	dal_result_free(res);
	return 0;
}

int oom_read_fingerprint(sweep *s, fingerprint *f)
{
	int64_t u[5], a[1], p[2];
	int rc;

	if ((rc = scalars(s->db, "SELECT CAST(COUNT(*) AS BIGINT), "
	                         "CAST(COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), "
	                         "CAST(COALESCE(SUM(id), 0) AS BIGINT), CAST(COALESCE(SUM(score), 0) AS BIGINT), "
	                         "CAST(COALESCE(SUM(LENGTH(name)), 0) AS BIGINT) FROM oom_users", u, 5)) < 0 ||
	    (rc = scalars(s->db, "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_logs", a, 1)) < 0 ||
	    (rc = scalars(s->db, "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM oom_plain",
	                  p, 2)) < 0)
		return rc;
	*f = (fingerprint){ u[0], u[1], u[2], u[3], u[4], a[0], p[0], p[1] };
	return 0;
}

static void print_fp(const char *what, const fingerprint *f)
{
	fprintf(stderr, "    %s: users=%lld live=%lld id_sum=%lld score_sum=%lld name_len=%lld audit=%lld plain=%lld "
		"plain_sum=%lld\n", what, (long long)f->users, (long long)f->live, (long long)f->id_sum,
		(long long)f->score_sum, (long long)f->name_len, (long long)f->audit, (long long)f->plain,
		(long long)f->plain_sum);
}

/* The target row read through the cache must be the mirror's. */
static int check_target(sweep *s)
{
	const urow *r;
	dal_row *row = NULL;
	int rc;

	if (s->target <= 0)
		return 0;
	r = &s->rows[s->target];
	rc = dal_repo_get(&row, s->users, s->target);
	if (!r->present || r->deleted) {
		dal_row_free(row);
		return rc == DAL_ENOTFOUND ? 0 : -1;
	}
	if (rc < 0)
		return rc;
	rc = strcmp(dal_row_text(row, "name"), r->name) == 0 && dal_row_int(row, "score") == r->score ? 0 : -1;
	if (rc < 0)
		fprintf(stderr, "    row %lld reads name=%s score=%lld, expected name=%s score=%lld\n",
			(long long)s->target, dal_row_text(row, "name"), (long long)dal_row_int(row, "score"), r->name,
			(long long)r->score);
	dal_row_free(row);
	return rc;
}

/* 0: the database is the mirror; 1: it is not; <0: it could not be read. */
int oom_compare(sweep *s, bool quiet)
{
	fingerprint want, got;
	int rc;

	expected(s, &want);
	if ((rc = oom_read_fingerprint(s, &got)) < 0)
		return rc;
	if (memcmp(&want, &got, sizeof(want)) != 0) {
		if (!quiet) {
			print_fp("expected", &want);
			print_fp("found   ", &got);
		}
		return 1;
	}
	if ((rc = check_target(s)) != 0)
		return rc < -1 ? rc : 1;
	if (s->check_chain) {
		dal_audit_report rep;
		if ((rc = dal_audit_verify(&rep, s->db)) < 0)
			return rc;
		if (!rep.ok) {
			if (!quiet)
				fprintf(stderr, "    audit chain: row %lld: %s\n", (long long)rep.bad_id, rep.reason);
			return 1;
		}
	}
	return 0;
}

/* ---- one attempt of one step at one n ---- */

static void count_error(sweep *s, int rc, oom_source src)
{
	if (rc == DAL_ENOMEM) {
		s->fig.enomem++;
		return;
	}
	if (src == OOM_SRC_SQLITE) {
		/* An engine's own failure may surface as another of its documented codes. */
		s->fig.engine_other++;
		if (s->fig.engine_other <= 5)
			fprintf(stderr, "oom_sweep %s: step %s n=%ld: SQLite's failed allocation gave %s: %s\n", s->engine,
				s->step, s->n, dal_strerror(rc), dal_error_last()->message);
		return;
	}
	oom_fail(s, &s->fig.wrong_code, "dal's failed allocation gave %d (%s), not DAL_ENOMEM", rc, dal_strerror(rc));
}

/* After an error: nothing of the call may stand (except a documented whole effect). */
static void after_error(sweep *s, const step *st, int rc, oom_source src)
{
	int cmp;

	count_error(s, rc, src);
	if (st->outputs_null && !st->outputs_null(s))
		oom_fail(s, &s->fig.wrong_ok, "an output was handed out with the error");
	if (st->flags & STEP_CHECK_ERROR) {
		if (st->check(s) != 0) {
			oom_fail(s, &s->fig.half_written, "the call failed with %s and left the wrong part", dal_strerror(rc));
			oom_resync(s);
		} else if (st->apply) {
			st->apply(s);
		}
		return;
	}
	if (st->flags & STEP_NO_VERIFY)
		return;
	if ((cmp = oom_compare(s, true)) < 0) {
		oom_fail(s, &s->fig.poisoned, "the next call failed with %d (%s)", cmp, dal_strerror(cmp));
		return;
	}
	if (cmp == 0)
		return;
	if (st->flags & STEP_MAY_STAND) {
		/* Documented: one autocommit statement stored, out of memory after it. */
		if (st->apply)
			st->apply(s);
		if (oom_compare(s, true) == 0) {
			s->fig.stood++;
			return;
		}
	}
	oom_compare(s, false);
	oom_fail(s, &s->fig.half_written, "the call failed with %s but the database changed", dal_strerror(rc));
	oom_resync(s);
}

static void after_ok(sweep *s, const step *st, bool hit)
{
	int cmp;

	s->hit = hit;
	if (hit)
		s->fig.ok_after_failure++;
	if (st->apply)
		st->apply(s);
	if (st->check && st->check(s) != 0)
		oom_fail(s, hit ? &s->fig.wrong_ok : &s->fig.broken, "the call returned DAL_OK with a wrong result");
	if (st->flags & STEP_NO_VERIFY)
		return;
	if ((cmp = oom_compare(s, false)) != 0) {
		if (cmp < 0)
			oom_fail(s, &s->fig.poisoned, "the next call failed with %d (%s)", cmp, dal_strerror(cmp));
		else
			oom_fail(s, hit ? &s->fig.wrong_ok : &s->fig.broken, "DAL_OK but the database is not as expected");
		oom_resync(s);
	}
}

/* true when the call no longer reached n. */
static bool attempt(sweep *s, const step *st, long n, oom_mode mode)
{
	bool hit;
	int rc;

	s->n = n;
	s->mode = mode;
	snprintf(shared_progress->step, sizeof(shared_progress->step), "%s", st->name);
	shared_progress->n = n;
	shared_progress->mode = mode;
	if (st->prep && (s->need_prep || (st->flags & STEP_PREP_ALWAYS))) {
		if (st->prep(s) != 0) {
			oom_fail(s, &s->fig.broken, "the uninjected setup of the step failed");
			return true;
		}
		s->need_prep = false;
	}
	oom_tag(s->step_no, n);
	oom_arm(n, mode);
	rc = st->call(s);
	hit = oom_disarm();
	oom_tag(-1, 0);
	s->fig.calls++;
	if (hit)
		s->fig.injections++;
	if (rc == DAL_OK) {
		after_ok(s, st, hit);
		s->need_prep = true;
	} else if (!hit) {
		oom_fail(s, &s->fig.broken, "the call failed without an injected failure: %d (%s)", rc, dal_strerror(rc));
	} else {
		after_error(s, st, rc, oom_failed_source());
	}
	if (st->cleanup)
		st->cleanup(s);
	return !hit;
}

void oom_run_step(sweep *s, const step *st)
{
	long n;

	s->step = st->name;
	s->need_prep = true;
	for (n = 1; n < OOM_MAX_N; n += s->always_stride)
		if (attempt(s, st, n, OOM_ALWAYS))
			break;
	s->longest = n > s->longest ? n : s->longest;
	for (n = 1; n < OOM_MAX_N; n += s->stride)
		if (attempt(s, st, n, OOM_ONCE))
			break;
	s->step_no++;
}

/* ---- open and close: each n on a dal_db of its own, leaks counted at once ---- */

static void sweep_open(sweep *s)
{
	dal_db *db;
	long n, base = oom_live();
	oom_mode mode;
	bool hit;
	int rc;

	s->step = "dal_open";
	for (mode = OOM_ONCE; (int)mode <= (int)OOM_ALWAYS; mode++) {
		for (n = 1; n < OOM_MAX_N; n += mode == OOM_ONCE ? s->stride : s->always_stride) {
			s->n = n;
			s->mode = mode;
			db = NULL;
			oom_arm(n, mode);
			rc = dal_open(&db, s->url, &s->cfg);
			hit = oom_disarm();
			s->fig.calls++;
			s->fig.injections += hit;
			if (rc == DAL_OK) {
				s->fig.ok_after_failure += hit;
				if (!db)
					oom_fail(s, &s->fig.wrong_ok, "DAL_OK without a handle");
				else if (dal_exec(NULL, db, "SELECT 1", NULL, 0) != 0)
					oom_fail(s, &s->fig.wrong_ok, "the handle opened after a failure does not work");
				dal_close(db);
			} else {
				if (hit)
					count_error(s, rc, oom_failed_source());
				else
					oom_fail(s, &s->fig.broken, "dal_open failed: %s", dal_error_last()->message);
				if (db)
					oom_fail(s, &s->fig.wrong_ok, "a handle was handed out with the error");
			}
			if (oom_live() != base)
				oom_fail(s, &s->fig.leaks, "%ld blocks left after a failed or closed open", oom_live() - base);
			base = oom_live();
			if (!hit)
				break;
		}
	}
	s->step_no++;
}

/* A dal_db with work done on it, then closed with the n-th allocation failing. */
static void sweep_close(sweep *s)
{
	long n, base = oom_live();
	oom_mode mode;
	bool hit;

	s->step = "dal_close";
	for (mode = OOM_ONCE; (int)mode <= (int)OOM_ALWAYS; mode++) {
		for (n = 1; n < OOM_MAX_N; n += mode == OOM_ONCE ? s->stride : s->always_stride) {
			s->n = n;
			s->mode = mode;
			if (oom_busy_db(s) != 0) {
				oom_fail(s, &s->fig.broken, "could not set up a dal_db to close");
				return;
			}
			oom_arm(n, mode);
			dal_close(s->db);
			hit = oom_disarm();
			s->db = NULL;
			s->users = s->plain = NULL;
			s->fig.calls++;
			s->fig.injections += hit;
			if (oom_live() != base) {
				oom_fail(s, &s->fig.leaks, "%ld blocks left after dal_close", oom_live() - base);
				base = oom_live();
			}
			if (!hit)
				break;
		}
	}
	s->step_no++;
}

/* ---- the run ---- */

static const char *step_names[128];

static int run(sweep *s)
{
	unsigned long baseline;
	long live0;
	int rc;

	/* Warm up once: whatever SQLite keeps for the process is made before the baseline. */
	if ((rc = oom_busy_db(s)) != 0) {
		if (rc == DAL_EUNSUPPORTED) {
			printf("oom_sweep %s: skipped: %s\n", s->engine, dal_error_last()->message);
			return 0;
		}
		fprintf(stderr, "oom_sweep %s: cannot open %s: %s\n", s->engine, s->url, dal_error_last()->message);
		return 2;
	}
	dal_close(s->db);
	s->db = NULL;
	oom_reset_database(s);
	baseline = oom_serial();
	live0 = oom_live();

	sweep_open(s);
	if ((rc = dal_open(&s->db, s->url, &s->cfg)) != 0) {
		fprintf(stderr, "oom_sweep %s: cannot open: %s\n", s->engine, dal_error_last()->message);
		return 2;
	}
	oom_run_steps(s, step_names, sizeof(step_names) / sizeof(step_names[0]));
	oom_run_units(s);
	oom_run_late_steps(s);
	dal_repo_close(s->users);
	dal_repo_close(s->plain);
	dal_close(s->db);
	s->db = NULL;
	s->users = s->plain = NULL;
	oom_reset_database(s);
	sweep_close(s);
	oom_reset_database(s);

	if (oom_live() != live0) {
		fprintf(stderr, "oom_sweep %s: %ld blocks live at the end beyond the baseline:\n", s->engine,
			oom_live() - live0);
		s->fig.leaks += oom_report_live(baseline, 20, step_names, s->step_no);
	}
	printf("oom_sweep %s: mode=%s always_stride=%ld steps=%d calls=%ld injections=%ld enomem=%ld engine_other=%ld "
	       "ok_after_failure=%ld stood=%ld doomed=%ld longest_n=%ld wrong_ok=%ld half_written=%ld "
	       "wrong_code=%ld poisoned=%ld broken=%ld leaks=%ld crashes=0\n",
		s->engine, s->stride == 1 ? "exhaustive" : "ci", s->always_stride, s->step_no, s->fig.calls, s->fig.injections,
		s->fig.enomem, s->fig.engine_other, s->fig.ok_after_failure, s->fig.stood, s->fig.doomed, s->longest,
		s->fig.wrong_ok, s->fig.half_written, s->fig.wrong_code, s->fig.poisoned, s->fig.broken, s->fig.leaks);
	fflush(stdout);
	return s->fig.wrong_ok || s->fig.half_written || s->fig.wrong_code || s->fig.poisoned || s->fig.broken ||
	       s->fig.leaks ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: oom_sweep sqlite-memory|sqlite-file|duckdb|postgres [URL|@FILE] [--exhaustive] "
		"[--always-stride K]\n");
	return 2;
}

static int read_url(char *out, size_t cap, const char *arg)
{
	FILE *f;
	size_t n;

	if (arg[0] != '@') {
		snprintf(out, cap, "%s", arg);
		return 0;
	}
	if (!(f = fopen(arg + 1, "r")))
		return -1;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* The sweep runs in a child, so that a crash is reported with the step and n it happened at. */
int main(int argc, char **argv)
{
	static sweep s;
	static char given[1100];
	const char *url_arg = NULL;
	int i, status;
	pid_t pid;

	if (argc < 2)
		return usage();
	/* Verify the audit chain after every call (slow; names the call that broke it). */
	s.check_chain = getenv("OOM_CHECK_CHAIN") != NULL;
	s.engine = argv[1];
	s.stride = CI_STRIDE;
	s.always_stride = 1;
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--exhaustive") == 0)
			s.stride = s.always_stride = 1;
		else if (strcmp(argv[i], "--always-stride") == 0 && i + 1 < argc)
			s.always_stride = atol(argv[++i]) > 0 ? atol(argv[i]) : 1;
		else if (!url_arg)
			url_arg = argv[i];
		else
			return usage();
	}
	if (url_arg && read_url(given, sizeof(given), url_arg) != 0) {
		fprintf(stderr, "oom_sweep: cannot read %s\n", url_arg);
		return 2;
	}
	if (oom_setup_engine(&s, given) != 0)
		return 2;
	shared_progress = mmap(NULL, sizeof(*shared_progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared_progress == MAP_FAILED)
		return 2;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		if (oom_alloc_install() != 0) {
			fprintf(stderr, "oom_sweep: cannot install the allocation hook\n");
			_exit(2);
		}
		i = run(&s);
		oom_cleanup_engine(&s);
		/* exit, not _exit: LeakSanitizer checks at exit in the sanitizer build. */
		exit(i);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 2;
	if (WIFSIGNALED(status)) {
		printf("oom_sweep %s: crashes=1 signal=%d at step %s n=%ld %s\n", s.engine, WTERMSIG(status),
			shared_progress->step, shared_progress->n, shared_progress->mode == OOM_ALWAYS ? "fail-always" : "fail-once");
		oom_cleanup_engine(&s);
		return 1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* ---- the engine's database ---- */

/* Reload the mirror from the database, after a mismatch was counted. */
void oom_resync(sweep *s)
{
	dal_result *res = NULL;
	size_t i;

	memset(s->rows, 0, sizeof(s->rows));
	s->max_id = 0;
	if (dal_query(&res, s->db, "SELECT id, name, score, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM oom_users",
	              NULL, 0) == 0) {
		for (i = 0; i < dal_result_rows(res); i++) {
			int64_t id = dal_result_get(res, i, 0)->v.i;
			const dal_value *dv = dal_result_get(res, i, 3);
			mirror_add(s, id, dal_result_get(res, i, 1)->v.s, dal_result_get(res, i, 2)->v.i);
			s->rows[id].deleted = dv->type == DAL_TYPE_INT ? dv->v.i != 0 : dv->v.b;
			s->rows[id].naudit = 0;
		}
	}
	dal_result_free(res);
	res = NULL;
	if (dal_query(&res, s->db, "SELECT resource_id, CAST(COUNT(*) AS BIGINT) FROM audit_logs "
	              "WHERE resource_type = 'oom_users' GROUP BY resource_id", NULL, 0) == 0) {
		for (i = 0; i < dal_result_rows(res); i++) {
			int64_t id = dal_result_get(res, i, 0)->v.i;
			if (id > 0 && id < OOM_MAX_ID)
				s->rows[id].naudit = dal_result_get(res, i, 1)->v.i;
		}
	}
	dal_result_free(res);
	{
		fingerprint f;
		if (oom_read_fingerprint(s, &f) == 0) {
			s->audit_rows = f.audit;
			s->plain_rows = f.plain;
			s->plain_sum = f.plain_sum;
		}
	}
}

static void remove_file_db(sweep *s)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal", ".wal" };
	const char *path;
	char buf[1200];
	size_t i;

	if (!(path = strstr(s->url, ":///")) || strstr(s->url, ":memory:"))
		return;
	for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", path + 4, suffix[i]);
		unlink(buf);
	}
}

static int admin_exec(const char *url, const char *sql)
{
	dal_db *db = NULL;
	int rc;

	if ((rc = dal_open(&db, url, NULL)) == 0)
		rc = dal_exec(NULL, db, sql, NULL, 0);
	if (rc != 0)
		fprintf(stderr, "oom_sweep: %s: %s\n", sql, dal_error_last()->message);
	dal_close(db);
	return rc;
}

/* PostgreSQL: a database of the sweep's own, so other tests on the server are not touched. */
static int setup_postgres(sweep *s, const char *url)
{
	const char *slash = strrchr(url, '/'), *query = strchr(url, '?');
	char sql[128], name[64];

	if (!slash || slash < url + strlen("postgresql://") - 1)
		return -1;
	snprintf(name, sizeof(name), "dal_oom_%ld", (long)getpid());
	snprintf(s->admin_url, sizeof(s->admin_url), "%s", url);
	snprintf(s->url, sizeof(s->url), "%.*s/%s%s", (int)(slash - url), url, name, query ? query : "");
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	return admin_exec(s->admin_url, sql);
}

int oom_setup_engine(sweep *s, const char *given)
{

	dal_config_init(&s->cfg, DAL_CONFIG_VERSION);
	s->cfg.connect_retries = 1;
	if (strcmp(s->engine, "sqlite-memory") == 0) {
		snprintf(s->url, sizeof(s->url), "sqlite:///:memory:");
		return 0;
	}
	if (strcmp(s->engine, "postgres") == 0) {
		if (!given[0]) {
			fprintf(stderr, "oom_sweep: postgres needs a URL or @file\n");
			return -1;
		}
		return setup_postgres(s, given);
	}
	snprintf(s->dir, sizeof(s->dir), "/tmp/dal-oom-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	if (strcmp(s->engine, "sqlite-file") == 0)
		snprintf(s->url, sizeof(s->url), "sqlite:///%s/oom.db", s->dir);
	else if (strcmp(s->engine, "duckdb") == 0)
		snprintf(s->url, sizeof(s->url), "duckdb:///%s/oom.duckdb", s->dir);
	else
		return usage();
	return 0;
}

void oom_reset_database(sweep *s)
{
	memset(s->rows, 0, sizeof(s->rows));
	s->max_id = s->audit_rows = s->plain_rows = s->plain_sum = 0;
	s->target = 0;
	if (s->admin_url[0]) {
		dal_db *db = NULL;
		if (dal_open(&db, s->url, NULL) == 0)
			dal_exec(NULL, db, "DROP TABLE IF EXISTS oom_users, oom_plain, audit_logs, audit_chain, oom_mig_a, "
				"oom_mig_b, oom_shape, oom_shape2, dal_schema_migrations CASCADE", NULL, 0);
		dal_close(db);
		return;
	}
	remove_file_db(s);
}

void oom_cleanup_engine(sweep *s)
{
	char sql[128];

	if (s->admin_url[0]) {
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s", strrchr(s->url, '/') + 1);
		sql[strcspn(sql, "?")] = '\0';
		admin_exec(s->admin_url, sql);
		return;
	}
	remove_file_db(s);
	if (s->dir[0])
		rmdir(s->dir);
}
