/*
 * Disk full: audited writes (single creates, units of work that create and update,
 * bulk creates) on a database file in a tiny tmpfs until the file system is full.
 *
 *   disk_full sqlite-file|duckdb [rounds, default 1]
 *
 * Each round mounts a tmpfs, fills it next to a filler file, frees the filler and
 * checks the same dal_db, then closes, reopens and checks again. Rounds differ in
 * the filler's size and the order of writes; odd rounds run SQLite with synchronous
 * FULL and DuckDB with a checkpoint after each commit (so the disk fills in one).
 *
 *   eio           failed writes, all DAL_EIO
 *   refused       DuckDB: of those, writes dal refused after a failed commit on the
 *                 same dal_db (docs/engines.md); SQLite writes again once space is free
 *   other_errors  a failed write whose code is not DAL_EIO (e.g. DAL_ESERIALIZE)
 *   retried       dal_run_tx attempts after the first (dal_metrics.retries), and
 *                 units whose function ran more than once
 *   after_free_acked  writes acknowledged on the same dal_db once the filler is
 *                 gone: all of them on SQLite, none on DuckDB (refused)
 *   corrupt_before_reopen  an acknowledged row read back with other values through
 *                 the dal_db that saw the disk fill
 *   reads_refused DAL_EIO reading there (DuckDB refuses every statement then)
 *   verify_before_reopen   dal_audit_verify there: a broken chain is a false alarm
 *   lost          a write dal acknowledged that is missing after the reopen, or
 *                 whose row holds other values (a corrupted string counts here)
 *   unreported    a row or value present although its call failed (not a defect:
 *                 the outcome of a failed commit is the engine's)
 *   reopen_errors writes after the reopen that failed
 *   integrity     SQLite PRAGMA integrity_check; DuckDB CHECKPOINT and a full
 *                 read of every table (block checksums are checked on read)
 *   verify        dal_audit_verify on the reopened database, again after more writes
 *
 * Must be zero: other_errors, retried, corrupt_before_reopen, lost, reopen_errors.
 * after_free_acked as said above; integrity, verify and verify_before_reopen ok
 * (refused counts as ok); and the disk must have filled. The tmpfs is unmounted at the end, on failure and on a fatal signal too.
 * Not permitted to mount (not root, no CAP_SYS_ADMIN): a skip with the reason, exit
 * code 77.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <dal/dal.h>

#define SKIP_CODE 77
#define TMPFS_SIZE "6m"
/*
 * More by a step each round (over five), so the disk fills at other writes. Half
 * the tmpfs or more: freed, it must hold what DuckDB copies from the WAL into the
 * database file at its first checkpoint after the reopen, a little more than the
 * WAL itself (with less, that checkpoint fails and invalidates the instance).
 */
#define FILLER_BYTES (3 * 1024 * 1024)
#define FILLER_STEP (192 * 1024)
#define MAX_ROWS 200000
/* After the first failure, this many more write calls run on the full disk. */
#define CALLS_AFTER_FULL 60
#define WRITES_AFTER_FREE 20

static const dal_column item_cols[] = {
	DAL_COL_ID(), DAL_COL("tag", DAL_TYPE_INT, DAL_NOT_NULL, 0), DAL_COL("payload", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(),
};
static const dal_model items = DAL_MODEL("df_items", item_cols);

/* A row dal acknowledged: its id, and the version of its payload that must be stored. */
typedef struct acked {
	int64_t id;
	int tag;
	int version;
	int pending;              /* a failed update's version, which may have landed; -1 if none */
} acked;

typedef struct probe {
	const char *engine;
	char mnt[64], url[128], filler[96];
	bool mounted;
	dal_db *db;
	dal_repo *repo;
	acked *rows;
	size_t nrows;
	int next_tag;
	int round;
	bool reopened_once;       /* this round's database was closed and opened again */
	bool reopened;            /* failures now are reopen_errors */
	/* figures */
	long writes, acknowledged, eio, other_errors, retried, refused, lost, unreported, reopen_errors;
	long corrupt_before_reopen;     /* read back with other values through the dal_db that saw the disk fill */
	long after_free_acked;          /* writes acknowledged on that dal_db once space was free */
	long reads_refused;             /* DAL_EIO reading it there (DuckDB refuses every statement then) */
	bool integrity_ok, verify_ok, verify_before_reopen_ok, verify_before_reopen_refused;
	char round_eio[200], first_other[300], bad[300];
} probe;

static probe *current;   /* for the signal handler and atexit */

static void unmount_now(void)
{
	if (current && current->mounted) {
		umount2(current->mnt, MNT_DETACH);
		rmdir(current->mnt);
		current->mounted = false;
	}
}

static void on_fatal(int sig)
{
	unmount_now();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The payload of (tag, version): its length and bytes depend on both, so a mix-up shows. */
static size_t payload(char *buf, size_t size, int tag, int version)
{
	size_t n = 40 + ((size_t)tag * 7919 + (size_t)version * 31) % 700, i;
	int k = snprintf(buf, size, "t%d.v%d:", tag, version);

	for (i = (size_t)k; i < n && i + 1 < size; i++)
		buf[i] = (char)('a' + (tag + version + (int)i) % 26);
	buf[i] = '\0';
	return i;
}

/* The first fault is the one printed: later ones often follow from it. */
static void fault(probe *p, const char *fmt, ...)
{
	va_list ap;

	if (p->bad[0])
		return;
	va_start(ap, fmt);
	vsnprintf(p->bad, sizeof(p->bad), fmt, ap);
	va_end(ap);
}

static void count_failure(probe *p, int rc)
{
	const char *msg = dal_error_last()->message;

	if (p->reopened) {
		p->reopen_errors++;
		fault(p, "a write after the reopen: %s (%s)", msg, dal_strerror(rc));
		return;
	}
	if (rc == DAL_EIO) {
		p->eio++;
		if (!p->round_eio[0])
			snprintf(p->round_eio, sizeof(p->round_eio), "%s", msg);
		if (strstr(msg, "statements are refused"))
			p->refused++;
		return;
	}
	p->other_errors++;
	if (!p->first_other[0])
		snprintf(p->first_other, sizeof(p->first_other), "%s (%s)", msg, dal_strerror(rc));
}

static void add_acked(probe *p, int64_t id, int tag)
{
	if (p->nrows % 1024 == 0) {
		acked *a = realloc(p->rows, (p->nrows + 1024) * sizeof(*a));
		if (!a) {
			fprintf(stderr, "disk_full: out of memory\n");
			exit(1);
		}
		p->rows = a;
	}
	p->rows[p->nrows++] = (acked){ id, tag, 0, -1 };
}

static int create_one(dal_repo *repo, int64_t *id_out, int tag)
{
	char text[800];
	dal_row *row = NULL;
	dal_field f[2];
	int rc;

	payload(text, sizeof(text), tag, 0);
	f[0] = (dal_field)DAL_FIELD("tag", dal_int(tag));
	f[1] = (dal_field)DAL_FIELD("payload", dal_text(text));
	rc = dal_repo_create(&row, repo, f, 2);
	if (rc == 0)
		*id_out = dal_row_int(row, "id");
	dal_row_free(row);
	return rc;
}

static void single_create(probe *p)
{
	int tag = p->next_tag++;
	int64_t id = 0;
	int rc = create_one(p->repo, &id, tag);

	p->writes++;
	if (rc == 0) {
		p->acknowledged++;
		add_acked(p, id, tag);
	} else {
		count_failure(p, rc);
	}
}

/* A unit: two creates and an update of a row acknowledged earlier. */
typedef struct unit_job {
	probe *p;
	int tags[2];
	int64_t ids[2];
	acked *target;
	int calls;
} unit_job;

static int unit_fn(dal_uow *uow, void *payload_arg)
{
	unit_job *j = payload_arg;
	dal_repo *repo = NULL;
	char text[800];
	int rc, k;

	j->calls++;
	if ((rc = dal_uow_repo(&repo, uow, &items, DAL_AUDIT)) < 0)
		return rc;
	for (k = 0; k < 2 && rc == 0; k++)
		rc = create_one(repo, &j->ids[k], j->tags[k]);
	if (rc == 0 && j->target) {
		dal_field f[1];
		payload(text, sizeof(text), j->target->tag, j->target->version + 1);
		f[0] = (dal_field)DAL_FIELD("payload", dal_text(text));
		rc = dal_repo_update(NULL, repo, j->target->id, f, 1);
	}
	dal_repo_close(repo);
	return rc;
}

static void unit(probe *p)
{
	unit_job j = { p, { p->next_tag, p->next_tag + 1 }, { 0, 0 }, NULL, 0 };
	int rc, k;

	p->next_tag += 2;
	if (p->nrows)
		j.target = &p->rows[(size_t)(p->writes * 7) % p->nrows];
	rc = dal_run_tx(p->db, NULL, unit_fn, &j);
	p->writes++;
	/* Refused at begin, the function never runs: 0 calls. */
	if (j.calls > 1)
		p->retried += j.calls - 1;
	if (rc != 0) {
		count_failure(p, rc);
		if (j.target)
			j.target->pending = j.target->version + 1;
		return;
	}
	p->acknowledged++;
	if (j.target) {
		j.target->version++;
		j.target->pending = -1;
	}
	for (k = 0; k < 2; k++)
		add_acked(p, j.ids[k], j.tags[k]);
}

enum { BULK = 10 };

static void bulk(probe *p)
{
	static const char *const cols[] = { "tag", "payload" };
	static char texts[BULK][800];
	dal_value v[BULK * 2];
	int64_t ids[BULK];
	int k, tag0 = p->next_tag, rc;

	p->next_tag += BULK;
	for (k = 0; k < BULK; k++) {
		payload(texts[k], sizeof(texts[k]), tag0 + k, 0);
		v[2 * k] = dal_int(tag0 + k);
		v[2 * k + 1] = dal_text(texts[k]);
	}
	rc = dal_repo_bulk_create(ids, p->repo, cols, 2, v, BULK);
	p->writes++;
	if (rc != 0) {
		count_failure(p, rc);
		return;
	}
	p->acknowledged++;
	for (k = 0; k < BULK; k++)
		add_acked(p, ids[k], tag0 + k);
}

static void one_write(probe *p, long i)
{
	switch ((i + p->round) % 4) {
	case 0:
	case 1: single_create(p); break;
	case 2: unit(p); break;
	default: bulk(p); break;
	}
}

/* SQLite: synchronous FULL every other round (an fsync per commit), NORMAL otherwise. */
static int open_db(probe *p)
{
	const dal_model *models[] = { &items };
	dal_config cfg = DAL_CONFIG_INIT;
	int rc;

	cfg.sqlite_synchronous = p->round % 2 ? DAL_SQLITE_SYNC_FULL : DAL_SQLITE_SYNC_NORMAL;
	if ((rc = dal_open(&p->db, p->url, &cfg)) < 0 ||
	    (rc = dal_init_database(p->db, models, 1, DAL_AUTO_MIGRATE)) < 0 ||
	    (rc = dal_repo_open(&p->repo, p->db, &items, DAL_AUDIT)) < 0) {
		fault(p, "open %s: %s", p->url, dal_error_last()->message);
		return rc;
	}
	return 0;
}

static void close_db(probe *p)
{
	dal_repo_close(p->repo);
	dal_close(p->db);
	p->repo = NULL;
	p->db = NULL;
}

static int write_filler(const char *path, size_t bytes)
{
	static char block[64 * 1024];
	FILE *f = fopen(path, "wb");
	size_t n;

	memset(block, 'F', sizeof(block));
	if (!f)
		return -1;
	for (n = 0; n < bytes; n += sizeof(block))
		if (fwrite(block, 1, sizeof(block), f) != sizeof(block))
			break;
	return fclose(f) == 0 && n >= bytes ? 0 : -1;
}

/* Returns SKIP_CODE (with the reason printed) if a tmpfs cannot be mounted here. */
static int mount_tmpfs(probe *p)
{
	snprintf(p->mnt, sizeof(p->mnt), "/tmp/dal-diskfull-XXXXXX");
	if (!mkdtemp(p->mnt)) {
		printf("disk_full %s: cannot make a temporary folder: %s\n", p->engine, strerror(errno));
		return 1;
	}
	if (mount("tmpfs", p->mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=" TMPFS_SIZE) != 0) {
		int e = errno;
		rmdir(p->mnt);
		printf("disk_full %s: skipped: cannot mount a tmpfs on %s (%s); the probe needs root or CAP_SYS_ADMIN\n",
			p->engine, p->mnt, strerror(e));
		return SKIP_CODE;
	}
	p->mounted = true;
	snprintf(p->filler, sizeof(p->filler), "%s/filler", p->mnt);
	snprintf(p->url, sizeof(p->url), "%s:///%s/db.%s", strncmp(p->engine, "sqlite", 6) == 0 ? "sqlite" : "duckdb",
		p->mnt, strncmp(p->engine, "sqlite", 6) == 0 ? "sqlite" : "duckdb");
	if (write_filler(p->filler, FILLER_BYTES + (size_t)(p->round % 5) * FILLER_STEP) < 0) {
		printf("disk_full %s: cannot write the filler file %s\n", p->engine, p->filler);
		return 1;
	}
	return 0;
}

/* Writes until the file system is full, then CALLS_AFTER_FULL more. */
static void fill(probe *p)
{
	long i, full_at = -1;

	for (i = 0; p->nrows < MAX_ROWS; i++) {
		long eio = p->eio, other = p->other_errors;

		one_write(p, i);
		if (full_at < 0 && (p->eio != eio || p->other_errors != other))
			full_at = i;
		if (full_at >= 0 && i - full_at >= CALLS_AFTER_FULL)
			break;
	}
}

/* Space freed, the same dal_db: SQLite writes again; DuckDB refuses after a failed commit. */
static void after_free(probe *p)
{
	long acknowledged = p->acknowledged;
	int k;

	unlink(p->filler);
	for (k = 0; k < WRITES_AFTER_FREE; k++)
		one_write(p, k);
	p->after_free_acked += p->acknowledged - acknowledged;
}

static bool check_integrity(probe *p)
{
	dal_result *res = NULL;
	const char *const *sqls;
	static const char *const sqlite_sqls[] = { "PRAGMA integrity_check", NULL };
	static const char *const duck_sqls[] = { "CHECKPOINT", "SELECT * FROM df_items", "SELECT * FROM audit_logs", NULL };
	bool ok = true;

	sqls = strncmp(p->engine, "sqlite", 6) == 0 ? sqlite_sqls : duck_sqls;
	for (; *sqls && ok; sqls++) {
		if (dal_query(&res, p->db, *sqls, NULL, 0) < 0) {
			fault(p, "%s: %s", *sqls, dal_error_last()->message);
			ok = false;
		} else if (strncmp(*sqls, "PRAGMA", 6) == 0) {
			const dal_value *v = dal_result_rows(res) ? dal_result_get(res, 0, 0) : NULL;
			ok = v && v->type == DAL_TYPE_TEXT && strcmp(v->v.s, "ok") == 0;
			if (!ok)
				fault(p, "integrity_check: %s", v && v->v.s ? v->v.s : "(no row)");
		}
		dal_result_free(res);
		res = NULL;
	}
	return ok;
}

/*
 * Every acknowledged row with the payload of its acknowledged version (or of a failed
 * update that landed). After the reopen a row that cannot be read is lost; before it,
 * on the instance that saw the disk fill, a DAL_EIO read is counted apart: DuckDB
 * fails every call on an instance a failed checkpoint invalidated.
 */
static void check_rows(probe *p, bool reopened)
{
	char want[800];
	size_t i;

	for (i = 0; i < p->nrows; i++) {
		acked *a = &p->rows[i];
		dal_row *row = NULL;
		const char *got;
		int rc = dal_repo_get(&row, p->repo, a->id);

		got = rc == 0 ? dal_row_text(row, "payload") : NULL;
		payload(want, sizeof(want), a->tag, a->version);
		if (got && strcmp(got, want) == 0 && dal_row_int(row, "tag") == a->tag) {
			dal_row_free(row);
			continue;
		}
		if (got && a->pending >= 0 && (payload(want, sizeof(want), a->tag, a->pending), strcmp(got, want) == 0)) {
			p->unreported += reopened;
			dal_row_free(row);
			continue;
		}
		dal_row_free(row);
		if (!reopened && rc == DAL_EIO) {
			p->reads_refused++;
			continue;
		}
		if (reopened)
			p->lost++;
		else
			p->corrupt_before_reopen++;
		fault(p, "row %lld (tag %d, version %d)%s: %s", (long long)a->id, a->tag, a->version,
			reopened ? "" : " before the reopen", rc ? dal_error_last()->message : "another value");
	}
}

static void count_unreported(probe *p)
{
	int64_t total = 0;

	if (dal_repo_count(&total, p->repo, NULL) == 0 && total > (int64_t)p->nrows)
		p->unreported += (long)(total - (int64_t)p->nrows);
}

enum { CHAIN_OK, CHAIN_BROKEN, CHAIN_UNREADABLE };

static int verify(probe *p)
{
	dal_audit_report r;
	int rc = dal_audit_verify(&r, p->db);

	if (rc == DAL_EIO && !p->reopened_once)
		return CHAIN_UNREADABLE;
	if (rc < 0) {
		fault(p, "dal_audit_verify: %s", dal_error_last()->message);
		return CHAIN_BROKEN;
	}
	if (!r.ok)
		fault(p, "audit chain: row %lld: %s", (long long)r.bad_id, r.reason);
	return r.ok ? CHAIN_OK : CHAIN_BROKEN;
}

/* Reopened: integrity, every acknowledged write, the chain; then more writes must succeed. */
static void after_reopen(probe *p)
{
	int k;

	p->reopened_once = true;
	p->integrity_ok = check_integrity(p) && p->integrity_ok;
	p->verify_ok = verify(p) == CHAIN_OK && p->verify_ok;
	p->reopened = true;
	for (k = 0; k < WRITES_AFTER_FREE; k++)
		one_write(p, k);
	p->reopened = false;
	check_rows(p, true);
	count_unreported(p);
	p->verify_ok = verify(p) == CHAIN_OK && p->verify_ok;
}

/*
 * DuckDB moves its WAL into the database file at a checkpoint, by default once the
 * WAL passes 16 MiB, more than the tmpfs holds: every other round checkpoints after
 * each commit, so that the disk fills during a checkpoint too (DuckDB then
 * invalidates the instance: FATAL).
 */
static int small_checkpoints(probe *p, int round)
{
	if (strcmp(p->engine, "duckdb") != 0 || round % 2 == 0)
		return 0;
	if (dal_exec(NULL, p->db, "SET checkpoint_threshold = '64KB'", NULL, 0) < 0) {
		fault(p, "SET checkpoint_threshold: %s", dal_error_last()->message);
		return -1;
	}
	return 0;
}

static int round_once(probe *p, int round)
{
	dal_metrics *m = calloc(1, sizeof(*m));
	long writes = p->writes, acknowledged = p->acknowledged, eio = p->eio, refused = p->refused;
	int rc;

	if (!m)
		return 1;
	if ((rc = mount_tmpfs(p)) != 0) {
		free(m);
		return rc;
	}
	if (open_db(p) < 0 || small_checkpoints(p, round) < 0) {
		free(m);
		return 1;
	}
	fill(p);
	after_free(p);
	/* Before the reopen, on the instance that saw the failure. */
	check_rows(p, false);
	switch (verify(p)) {
	case CHAIN_BROKEN: p->verify_before_reopen_ok = false; break;
	case CHAIN_UNREADABLE: p->verify_before_reopen_refused = true; break;
	}
	m->version = DAL_METRICS_VERSION;
	if (dal_metrics_get(m, p->db) == 0)
		p->retried += (long)m->retries;
	close_db(p);
	if (open_db(p) < 0) {
		p->reopen_errors++;
		p->integrity_ok = p->verify_ok = false;
	} else {
		after_reopen(p);
	}
	close_db(p);
	unmount_now();
	free(m);
	printf("  round %d%s%s: writes=%ld acknowledged=%ld eio=%ld refused=%ld; first DAL_EIO: %s\n", round + 1,
		strcmp(p->engine, "duckdb") == 0 && round % 2 ? " (checkpoint after each commit)" : "",
		strcmp(p->engine, "duckdb") != 0 && round % 2 ? " (synchronous FULL)" : "",
		p->writes - writes, p->acknowledged - acknowledged, p->eio - eio, p->refused - refused,
		p->round_eio[0] ? p->round_eio : "none");
	p->round_eio[0] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	static probe pr;
	probe *p = &pr;
	int rounds = argc > 2 ? atoi(argv[2]) : 1, r, rc = 0;
	long expect_after_free;
	bool failed;

	if (argc < 2 || (strcmp(argv[1], "sqlite-file") != 0 && strcmp(argv[1], "duckdb") != 0) || rounds < 1) {
		fprintf(stderr, "usage: disk_full sqlite-file|duckdb [rounds]\n");
		return 2;
	}
	p->engine = argv[1];
	p->integrity_ok = p->verify_ok = p->verify_before_reopen_ok = true;
	current = p;
	atexit(unmount_now);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGTERM, on_fatal);
	signal(SIGINT, on_fatal);
	for (r = 0; r < rounds && rc == 0; r++) {
		/* Each round starts on an empty file system: rows of the last one are gone with it. */
		p->nrows = 0;
		p->round = r;
		p->reopened_once = false;
		rc = round_once(p, r);
	}
	if (rc != 0)
		return rc;
	/* SQLite goes on once space is free; DuckDB refuses (docs/engines.md). */
	expect_after_free = strcmp(p->engine, "duckdb") == 0 ? 0 : (long)rounds * WRITES_AFTER_FREE;
	failed = p->other_errors || p->retried || p->lost || p->corrupt_before_reopen || p->reopen_errors ||
		!p->integrity_ok || !p->verify_ok || !p->verify_before_reopen_ok || p->eio + p->other_errors == 0 ||
		p->after_free_acked != expect_after_free;
	printf("disk_full %s: rounds=%d writes=%ld acknowledged=%ld eio=%ld refused=%ld other_errors=%ld retried=%ld "
		"after_free_acked=%ld/%d corrupt_before_reopen=%ld reads_refused=%ld verify_before_reopen=%s lost=%ld "
		"unreported=%ld reopen_errors=%ld integrity=%s verify=%s\n", p->engine, rounds, p->writes,
		p->acknowledged, p->eio, p->refused, p->other_errors, p->retried, p->after_free_acked,
		rounds * WRITES_AFTER_FREE, p->corrupt_before_reopen, p->reads_refused,
		!p->verify_before_reopen_ok ? "FAILED" : p->verify_before_reopen_refused ? "refused" : "ok", p->lost,
		p->unreported, p->reopen_errors, p->integrity_ok ? "ok" : "FAILED", p->verify_ok ? "ok" : "FAILED");
	if (p->first_other[0])
		printf("  first other error: %s\n", p->first_other);
	if (p->bad[0])
		printf("  first fault: %s\n", p->bad);
	if (p->eio + p->other_errors == 0)
		printf("  the disk never filled: nothing was tested\n");
	free(p->rows);
	return failed ? 1 : 0;
}
