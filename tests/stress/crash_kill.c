/*
 * Crash consistency: SIGKILL at random moments must never lose an
 * acknowledged commit, leave a partial batch, or break the audit trail.
 *
 * The parent forks writers (two on SQLite and PostgreSQL, one on DuckDB, which
 * opens a file in one process only) that write through dal (crash_kill_work.c:
 * audited creates, bulk creates, updates, soft deletes, units of work with
 * nested units, some rolled back) and report each op's intent and
 * acknowledgement on a pipe (crash_kill.h). After a random number of
 * acknowledgements and a random delay of up to a few milliseconds the parent
 * kills the first writer with SIGKILL, lets the other make a few more (it must
 * go on past a peer that died mid-write), kills it too, reads everything they
 * sent, opens the database afresh as a restarting program would and checks
 * (crash_kill_check.c):
 *
 *   lost          an acknowledged row or change is not there
 *   partial       an op in flight at the kill is half there, or work of a
 *                 unit that rolled back is there
 *   duplicated    a key stored twice
 *   unexpected    a row or change that no op made
 *   audit_missing a change present without its audit row
 *   audit_orphans an audit row without its change
 *   verify        dal_audit_verify() finds the chain intact, every row walked
 *   integrity     SQLite PRAGMA integrity_check; PostgreSQL amcheck on every
 *                 index and heap; DuckDB: every query answers
 *   errors        a writer failed or hung, or the reopen failed
 *
 * then starts the next writers on the same database. First, a quarter as many
 * kills again land while a new (emptied) database is set up. The first failing
 * check stops the run; the seed printed replays the same ops (the kill moments
 * differ with timing). A clean run ends by planting faults with raw SQL, which
 * the checks must see.
 *
 *   crash_kill --engine sqlite-file|duckdb --dir DIR [--kills N] [--seed S] [--writers 1|2]
 *   crash_kill --engine postgres --dir DIR --pg-script pg-test-server.sh [same options]
 *
 * DIR holds the database file, or for postgres a durable server of the
 * probe's own (started and stopped here, fsync and synchronous_commit on:
 * otherwise the server itself could drop an acknowledged commit). Kills
 * default to 20, or 100 with DAL_STRESS_LONG=1 (make stress).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stress/crash_kill.h"

#define MAX_TARGET 30          /* acknowledgements before a kill, at most */
#define MAX_DELAY_US 3000      /* then a delay of up to this */
#define QUIET_MS 30000         /* a child silent this long is hung */
#define CHILD_APP "crash_kill_child"
#define MAX_WRITERS 2

typedef struct reader {
	int fd;
	char buf[1 << 16];
	size_t len;
	bool eof, ready;
	int64_t acks;
	int64_t op;                /* the intent being read or waiting for its ack; -1 none */
	size_t want;
	bool complete;
	ck_effect *eff;
	size_t neff, cap;
} reader;

typedef struct totals {
	int64_t acked, lost, partial, duplicated, unexpected, audit_missing, audit_orphans, errors;
	int64_t at_startup, in_flight_committed, in_flight_absent, between_ops;
	int startup_kills;       /* kills done while a new database was set up */
	int64_t check_us;        /* time spent reopening and checking */
	bool verify_ok, integrity_ok;
	ck_figures last;
} totals;

static const char *engine, *dir, *script;
static char url[1200], child_url[1300], db_path[1100];

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(int64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

static int run_script(const char *cmd)
{
	char line[1400];

	snprintf(line, sizeof(line), "'%s' %s '%s' >/dev/null", script, cmd, dir);
	return system(line);
}

static int add_effect(reader *r, char kind, int64_t key, int64_t arg)
{
	if (r->neff == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		ck_effect *p = realloc(r->eff, cap * sizeof(*p));

		if (!p)
			return -1;
		r->eff = p;
		r->cap = cap;
	}
	r->eff[r->neff].kind = kind;
	r->eff[r->neff].key = key;
	r->eff[r->neff].arg = arg;
	r->neff++;
	r->complete = r->neff == r->want;
	return 0;
}

static int parse_line(reader *r, ck_expect *e, const char *line)
{
	long long a = 0, b = 0;
	char kind = line[0];

	if (kind == 'R')
		r->ready = true;
	else if (kind == 'I' && sscanf(line, "I %lld %lld", &a, &b) == 2) {
		r->op = a;
		r->want = (size_t)b;
		r->neff = 0;
		r->complete = b == 0;
	} else if ((kind == 'C' || kind == 'U') && sscanf(line + 1, "%lld %lld", &a, &b) == 2 && r->op >= 0)
		return add_effect(r, kind, a, b);
	else if (kind == 'D' && sscanf(line + 1, "%lld", &a) == 1 && r->op >= 0)
		return add_effect(r, kind, a, 0);
	else if (kind == 'A' && sscanf(line, "A %lld", &a) == 1 && a == r->op && r->complete) {
		if (ck_expect_apply(e, r->eff, r->neff) < 0)
			return -1;
		r->acks++;
		r->op = -1;
		r->complete = false;
	} else {
		fprintf(stderr, "crash_kill: the child sent a line out of turn: %s\n", line);
		return -1;
	}
	return 0;
}

/* Read once from a child whose pipe has data; whole lines are parsed, a cut one waits. */
static int consume(reader *r, ck_expect *e)
{
	char *line, *nl;
	ssize_t n;
	size_t used;

	n = read(r->fd, r->buf + r->len, sizeof(r->buf) - r->len);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	r->len += (size_t)n;
	for (line = r->buf; (nl = memchr(line, '\n', r->len - (size_t)(line - r->buf))); line = nl + 1) {
		*nl = '\0';
		if (parse_line(r, e, line) < 0)
			return -1;
	}
	used = (size_t)(line - r->buf);
	memmove(r->buf, line, r->len - used);
	r->len -= used;
	return 0;
}

/* Read what the writers sent within @p timeout_ms: 0, 1 if none sent anything, -1 on error. */
static int pump(reader *rd, int n, ck_expect *e, int timeout_ms)
{
	struct pollfd p[MAX_WRITERS];
	int i, k = 0, idx[MAX_WRITERS], rc;

	for (i = 0; i < n; i++)
		if (!rd[i].eof) {
			p[k].fd = rd[i].fd;
			p[k].events = POLLIN;
			p[k].revents = 0;
			idx[k++] = i;
		}
	if (k == 0)
		return 0;
	if ((rc = poll(p, (nfds_t)k, timeout_ms)) == 0)
		return 1;
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < k; i++)
		if (p[i].revents && consume(&rd[idx[i]], e) < 0)
			return -1;
	return 0;
}

/* The killed child's backends end when the server sees its socket close; a COMMIT it
 * sent completes first. Wait for them, so that the check sees the final state. */
static int wait_backends_gone(dal_db *db)
{
	int64_t end = now_us() + 30000000;

	while (now_us() < end) {
		dal_result *res = NULL;
		int64_t n;

		if (dal_query(&res, db, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '" CHILD_APP "'",
			      NULL, 0) < 0)
			return -1;
		n = dal_result_get(res, 0, 0)->v.i;
		dal_result_free(res);
		if (n == 0)
			return 0;
		sleep_us(5000);
	}
	fprintf(stderr, "crash_kill: the killed child's backends were still there after 30 s\n");
	return -1;
}

static void add_figures(totals *t, const ck_figures *f)
{
	t->lost += f->lost;
	t->partial += f->partial;
	t->duplicated += f->duplicated;
	t->unexpected += f->unexpected;
	t->audit_missing += f->audit_missing;
	t->audit_orphans += f->audit_orphans;
	t->verify_ok = t->verify_ok && f->verify_ok;
	t->integrity_ok = t->integrity_ok && f->integrity_ok;
	t->last = *f;
}

static bool failed(const totals *t)
{
	return t->lost || t->partial || t->duplicated || t->unexpected || t->audit_missing || t->audit_orphans ||
	       t->errors || !t->verify_ok || !t->integrity_ok;
}

/* Reopen as a program restarting after the crash would (dal_open, dal_init_database:
 * a kill inside the first one may have left the schema half made), then check. */
static int check_after_kill(totals *t, ck_expect *e, const reader *rd, int n, int kill_no)
{
	const dal_model *models[1] = { &ck_model };
	ck_pending pend[MAX_WRITERS];
	dal_db *db = NULL;
	ck_figures f;
	int64_t t0 = now_us();
	int i, np = 0;

	if (dal_open(&db, url, NULL) < 0 || (!strcmp(engine, "postgres") && wait_backends_gone(db) < 0) ||
	    dal_init_database(db, models, 1, DAL_AUTO_MIGRATE) < 0) {
		fprintf(stderr, "crash_kill: after kill %d: reopening: %s\n", kill_no, dal_error_last()->message);
		dal_close(db);
		t->errors++;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (rd[i].op >= 0 && rd[i].complete) {
			pend[np].eff = rd[i].eff;
			pend[np].n = rd[i].neff;
			pend[np++].committed = false;
		}
	ck_check(&f, db, e, pend, (size_t)np);
	dal_close(db);
	t->check_us += now_us() - t0;
	for (i = 0; i < n; i++) {
		t->at_startup += !rd[i].ready;
		t->between_ops += rd[i].ready && !(rd[i].op >= 0 && rd[i].complete);
	}
	for (i = 0; i < np; i++) {
		t->in_flight_committed += pend[i].committed;
		t->in_flight_absent += !pend[i].committed;
	}
	add_figures(t, &f);
	if (f.why[0])
		fprintf(stderr, "crash_kill: after kill %d: %s\n", kill_no, f.why);
	return f.why[0] ? -1 : 0;
}

/*
 * When to kill. A regular kill: once the writers together made @p acks
 * acknowledgements, after @p delay_us, the first writer; then, once the others
 * made @p after more (they must go on past a peer that died mid-write), the
 * rest. A startup kill: all of them once all are ready or @p delay_us has
 * passed, whichever comes first.
 */
typedef struct moment {
	int64_t acks, delay_us, after;
	bool startup;
} moment;

typedef struct team {
	int n;
	pid_t pid[MAX_WRITERS];
	reader *rd;
	int64_t started, ready_at;   /* when spawned; when all were first seen ready, or 0 */
} team;

static int64_t acks_of(const team *w, int from)
{
	int64_t a = 0;
	int i;

	for (i = from; i < w->n; i++)
		a += w->rd[i].acks;
	return a;
}

static bool all(const team *w, bool ready)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (ready ? !w->rd[i].ready : !w->rd[i].eof)
			return false;
	return true;
}

/* Read until @p until_acks acknowledgements from writers @p from.. (-1: until all
 * are ready, or @p end); a writer's end of pipe before its kill is an error. */
static int read_until(team *w, ck_expect *e, int from, int64_t until_acks, int64_t end, int kill_no)
{
	int i, rc;

	for (;;) {
		int64_t left = end - now_us();

		if (!w->ready_at && all(w, true))
			w->ready_at = now_us();
		if (until_acks >= 0 ? acks_of(w, from) >= until_acks : (w->ready_at || left <= 0))
			return 0;
		for (i = from; i < w->n; i++)
			if (w->rd[i].eof)
				return -1;
		rc = pump(w->rd, w->n, e, until_acks >= 0 ? QUIET_MS : (int)((left + 999) / 1000));
		if (rc < 0)
			return -1;
		if (rc > 0 && until_acks >= 0) {
			fprintf(stderr, "crash_kill: kill %d: the writers sent nothing for %d s\n", kill_no, QUIET_MS / 1000);
			return -1;
		}
	}
}

static int spawn(team *w, uint64_t seed, int gen)
{
	int i, p[2];

	w->started = now_us();
	w->ready_at = 0;
	for (i = 0; i < w->n; i++) {
		reader *r = &w->rd[i];

		if (pipe(p) < 0)
			return -1;
		fflush(NULL);
		if ((w->pid[i] = fork()) < 0)
			return -1;
		if (w->pid[i] == 0) {
			close(p[0]);
			_exit(ck_child_run(child_url, p[1], seed, gen + i));
		}
		close(p[1]);
		memset(r, 0, offsetof(reader, eff));
		r->fd = p[0];
		r->op = -1;
		r->neff = 0;
	}
	return 0;
}

static int let_run_and_kill(team *w, ck_expect *e, const moment *m, int kill_no)
{
	int i, rc;

	if (m->startup) {
		rc = read_until(w, e, 0, -1, now_us() + m->delay_us, kill_no);
	} else {
		rc = read_until(w, e, 0, m->acks, 0, kill_no);
		if (rc == 0)
			sleep_us(m->delay_us);
		kill(w->pid[0], SIGKILL);
		if (rc == 0 && w->n > 1)
			rc = read_until(w, e, 1, acks_of(w, 1) + m->after, 0, kill_no);
	}
	for (i = 0; i < w->n; i++)
		kill(w->pid[i], SIGKILL);
	while (rc == 0 && !all(w, false))
		rc = pump(w->rd, w->n, e, QUIET_MS) < 0 ? -1 : 0;
	return rc;
}

/* One life of the writers: start them, let them write, kill them, read all they said, check. */
static int one_kill(totals *t, ck_expect *e, team *w, uint64_t seed, const moment *m, int *gen, int kill_no)
{
	int i, st, rc = spawn(w, seed, *gen);

	*gen += w->n;
	if (rc == 0)
		rc = let_run_and_kill(w, e, m, kill_no);
	for (i = 0; i < w->n; i++) {
		if (w->pid[i] <= 0)
			continue;
		kill(w->pid[i], SIGKILL);
		close(w->rd[i].fd);
		waitpid(w->pid[i], &st, 0);
		w->pid[i] = 0;
		t->acked += w->rd[i].acks;
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			fprintf(stderr, "crash_kill: kill %d: writer %d %s before the kill (after %lld acknowledgements)\n",
				kill_no, i, WIFEXITED(st) ? "exited" : "died", (long long)w->rd[i].acks);
			rc = -1;
		}
	}
	if (rc < 0) {
		t->errors++;
		return -1;
	}
	return check_after_kill(t, e, w->rd, w->n, kill_no);
}

/* An empty database, as before the program's first start. */
static int wipe(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", ".wal" };
	char path[1100];
	dal_db *db = NULL;
	size_t i;
	int rc;

	if (strcmp(engine, "postgres")) {
		for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", db_path, suffixes[i]);
			if (unlink(path) < 0 && errno != ENOENT)
				return -1;
		}
		return 0;
	}
	if ((rc = dal_open(&db, url, NULL)) == 0 &&
	    (rc = dal_exec(NULL, db, "DROP SCHEMA public CASCADE", NULL, 0)) == 0)
		rc = dal_exec(NULL, db, "CREATE SCHEMA public", NULL, 0);
	if (rc < 0)
		fprintf(stderr, "crash_kill: emptying the database: %s\n", dal_error_last()->message);
	dal_close(db);
	return rc;
}

/*
 * Kills while a new database is being set up (the first dal_open() and
 * dal_init_database(), by every writer at once): each time the database
 * starts empty, and the next start must finish what the killed ones began.
 * The first start is timed to its end; the others are killed within that time.
 */
static int startup_kills(totals *t, ck_expect **e, team *w, uint64_t seed, uint64_t *rng, int n, int *gen)
{
	moment m = { 0, (int64_t)QUIET_MS * 1000, 0, true };
	int64_t took = 0;
	int i;

	for (i = 0; i < n; i++) {
		ck_expect_free(*e);
		if (!(*e = ck_expect_new()) || wipe() < 0) {
			t->errors++;
			return -1;
		}
		if (i > 0)
			m.delay_us = ck_between(rng, 0, took);
		if (one_kill(t, *e, w, seed, &m, gen, i + 1) < 0)
			return -1;
		t->startup_kills++;
		if (i == 0)
			took = w->ready_at ? w->ready_at - w->started : m.delay_us;
	}
	return 0;
}

/*
 * The checks must see what they look for: with raw SQL (no audit row), delete
 * one acknowledged row, bump another's v and mark a third as made by a unit
 * that rolled back, then check again. Run last, as it
 * spoils the database.
 */
static int plant_faults(ck_expect *e)
{
	static const char del[] = "DELETE FROM crash_rows WHERE id = (SELECT MIN(id) FROM crash_rows)";
	static const char bump[] = "UPDATE crash_rows SET v = v + 1 WHERE id = (SELECT MAX(id) FROM crash_rows)";
	static const char doom[] = "UPDATE crash_rows SET doomed = 1 WHERE id = (SELECT MIN(id) FROM crash_rows)";
	dal_db *db = NULL;
	ck_figures f;
	int64_t gone = 0, bumped = 0, doomed = 0;
	bool found;

	if (dal_open(&db, url, NULL) < 0 || dal_exec(&gone, db, del, NULL, 0) < 0 ||
	    dal_exec(&bumped, db, bump, NULL, 0) < 0 || dal_exec(&doomed, db, doom, NULL, 0) < 0) {
		fprintf(stderr, "crash_kill: planting faults: %s\n", dal_error_last()->message);
		dal_close(db);
		return -1;
	}
	ck_check(&f, db, e, NULL, 0);
	dal_close(db);
	found = f.lost >= 1 && f.partial >= 1 && f.unexpected >= 1 && f.audit_missing >= 1 && f.audit_orphans >= 1;
	printf("crash_kill %s: planted faults (raw SQL, no audit: a row deleted, one changed, one marked rolled back) "
	       "found: lost=%lld partial=%lld unexpected=%lld audit_missing=%lld audit_orphans=%lld: %s\n", engine,
	       (long long)f.lost, (long long)f.partial, (long long)f.unexpected, (long long)f.audit_missing,
	       (long long)f.audit_orphans, found ? "all seen" : "NOT ALL SEEN");
	return gone == 1 && bumped == 1 && doomed == 1 && found ? 0 : -1;
}

/* A hung run must not leave its server behind: a process of its own stops it. */
static pid_t start_watchdog(int seconds)
{
	pid_t parent = getpid(), pid = fork();
	int64_t end = now_us() + (int64_t)seconds * 1000000;

	if (pid != 0)
		return pid;
	while (getppid() == parent && now_us() < end)
		sleep_us(200000);
	if (getppid() == parent) {
		fprintf(stderr, "crash_kill: not done after %d s: stopping\n", seconds);
		kill(parent, SIGKILL);
	}
	if (script)
		run_script("stop");
	_exit(1);
}

static int read_url(void)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/url", dir);
	if (!(f = fopen(path, "r")) || !fgets(url, sizeof(url), f)) {
		fprintf(stderr, "crash_kill: cannot read the URL from %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	url[strcspn(url, "\r\n")] = '\0';
	snprintf(child_url, sizeof(child_url), "%s%sapplication_name=" CHILD_APP, url, strchr(url, '?') ? "&" : "?");
	return 0;
}

/* A fresh database for the run: a new file, or a durable server of our own. */
static int setup(void)
{
	char abs[1024];

	if (!strcmp(engine, "postgres")) {
		setenv("DAL_PG_DURABLE", "1", 1);
		if (run_script("start") != 0) {
			fprintf(stderr, "crash_kill: cannot start a PostgreSQL server in %s\n", dir);
			return -1;
		}
		return read_url();
	}
	mkdir(dir, 0777);
	if (!realpath(dir, abs)) {
		fprintf(stderr, "crash_kill: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(db_path, sizeof(db_path), "%s/crash.%s", abs, !strcmp(engine, "duckdb") ? "duckdb" : "db");
	snprintf(url, sizeof(url), "%s:///%s", !strcmp(engine, "duckdb") ? "duckdb" : "sqlite", db_path);
	snprintf(child_url, sizeof(child_url), "%s", url);
	return 0;
}

static void print_figures(const totals *t, int kills, int writers, uint64_t seed, double secs)
{
	const char *how = !strcmp(engine, "sqlite-file") ? "integrity_check" :
			  !strcmp(engine, "postgres") ? "amcheck" : "queries";

	printf("crash_kill %s: kills=%d startup_kills=%d writers=%d acknowledged=%lld rows=%lld present=%lld lost=%lld "
	       "partial=%lld duplicated=%lld unexpected=%lld audit_rows=%lld audit_missing=%lld audit_orphans=%lld "
	       "verify=%s integrity=%s(%s) errors=%lld seed=%llu\n",
	       engine, kills, t->startup_kills, writers, (long long)t->acked, (long long)t->last.rows,
	       (long long)t->last.present, (long long)t->lost, (long long)t->partial, (long long)t->duplicated,
	       (long long)t->unexpected, (long long)t->last.audit_rows, (long long)t->audit_missing,
	       (long long)t->audit_orphans, t->verify_ok ? "ok" : "FAILED", t->integrity_ok ? "ok" : "FAILED", how,
	       (long long)t->errors, (unsigned long long)seed);
	printf("crash_kill %s: writers killed during startup %lld, between ops %lld, in an op %lld (found committed "
	       "%lld, rolled back %lld); %.1f s, %.1f of them reopening and checking\n",
	       engine, (long long)t->at_startup, (long long)t->between_ops,
	       (long long)(t->in_flight_committed + t->in_flight_absent), (long long)t->in_flight_committed,
	       (long long)t->in_flight_absent, secs, (double)t->check_us / 1e6);
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s --engine sqlite-file|duckdb|postgres --dir DIR [--kills N] [--seed S] "
		"[--writers 1|2] [--pg-script pg-test-server.sh]\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	const char *long_mode = getenv("DAL_STRESS_LONG");
	int kills = long_mode && !strcmp(long_mode, "1") ? 100 : 20, writers = 0, nstart, gen = 1, done = 0, i;
	uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32), rng;
	totals t;
	team w;
	ck_expect *e = ck_expect_new();
	int64_t t0 = now_us();
	pid_t dog;

	memset(&w, 0, sizeof(w));
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--engine"))
			engine = argv[i + 1];
		else if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
		else if (!strcmp(argv[i], "--kills"))
			kills = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--writers"))
			writers = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--pg-script"))
			script = argv[i + 1];
		else
			return usage(argv[0]);
	}
	if (i != argc || !engine || !dir || kills < 1 || writers < 0 || writers > MAX_WRITERS || !e ||
	    !(w.rd = calloc(MAX_WRITERS, sizeof(reader))) ||
	    (strcmp(engine, "sqlite-file") && strcmp(engine, "duckdb") && strcmp(engine, "postgres")) ||
	    (!strcmp(engine, "postgres") != (script != NULL)))
		return usage(argv[0]);
	/* DuckDB allows one process per database file. */
	w.n = writers ? writers : !strcmp(engine, "duckdb") ? 1 : 2;
	nstart = kills / 4 > 0 ? kills / 4 : 1;
	memset(&t, 0, sizeof(t));
	t.verify_ok = t.integrity_ok = true;
	rng = seed | 1;
	printf("crash_kill %s: seed=%llu kills=%d (and %d while a new database is set up), %d writer(s)\n", engine,
	       (unsigned long long)seed, kills, nstart, w.n);
	dog = start_watchdog(60 + (kills + nstart) * 6);
	if (setup() < 0)
		t.errors++;
	else if (startup_kills(&t, &e, &w, seed, &rng, nstart, &gen) == 0)
		for (; done < kills; done++) {
			moment m;

			m.acks = ck_between(&rng, 0, 9) == 0 ? 0 : ck_between(&rng, 1, MAX_TARGET);
			m.delay_us = ck_between(&rng, 0, MAX_DELAY_US);
			m.after = ck_between(&rng, 0, 5);
			m.startup = false;
			if (one_kill(&t, e, &w, seed, &m, &gen, nstart + done + 1) < 0)
				break;
		}
	print_figures(&t, done, w.n, seed, (double)(now_us() - t0) / 1e6);
	if (done == kills && !failed(&t) && plant_faults(e) < 0)
		t.errors++;
	if (script)
		run_script("stop");
	kill(dog, SIGKILL);
	waitpid(dog, NULL, 0);
	for (i = 0; i < MAX_WRITERS; i++)
		free(w.rd[i].eff);
	free(w.rd);
	ck_expect_free(e);
	return failed(&t) || done < kills;
}
