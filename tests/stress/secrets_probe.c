/*
 * Probe: secrets never reach a text dal hands out. A sentinel password in every
 * URL shape (userinfo raw with '/', '?', '@', '#', percent-encoded, password=
 * under an encoded key, sslpassword=, a keyword/value string, DATABASE_URL,
 * PGPASSWORD) goes through a closed port, a refused login and, on PostgreSQL,
 * a real login; a sentinel DAL_SENSITIVE value goes through every write path,
 * unique clashes, a too-long value, filters (short and 70,000-value IN lists)
 * and the audit trail. Captured and counted: every error message, every log
 * line (echo, echo_params, slow queries with slow_query_ms=1), the redacted URL,
 * health, metrics (struct, JSON, Prometheus) and the audit rows (API and table).
 *
 *   secrets_probe <engine> <url|@file>
 *
 * Prints: secrets_probe <engine>: texts_checked=... log_lines=... occurrences=0
 * and exits 1 if the sentinel showed anywhere.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <dal/dal.h>

#include "stress/probe_db.h"

#define SENTINEL "S3ntin3l"
#define PW SENTINEL "-pw/?x"
#define PW_ENC SENTINEL "-pw%2F%3Fx"
#define VALUE SENTINEL "-v4lue"

static const char *engine_name;
static long checked, occurrences, log_lines;
/* Steps that did not run as planned (a login that failed): the figure would not mean what it says. */
static long problems;
static char first[700];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void count_in(const char *where, const char *text)
{
	const char *p = text;
	long n = 0;

	while (p && (p = strstr(p, SENTINEL)) != NULL) {
		n++;
		p += strlen(SENTINEL);
	}
	pthread_mutex_lock(&mu);
	if (n && !occurrences)
		snprintf(first, sizeof(first), "%s: %.600s", where, text);
	occurrences += n;
	pthread_mutex_unlock(&mu);
}

static void scan(const char *where, const char *text)
{
	checked++;
	count_in(where, text);
}

static void scan_error(const char *where)
{
	scan(where, dal_error_last()->message);
}

static void on_log(dal_log_level level, const char *message, void *payload)
{
	(void)level;
	(void)payload;
	pthread_mutex_lock(&mu);
	log_lines++;
	pthread_mutex_unlock(&mu);
	count_in("log", message);
}

static void die(const char *what)
{
	fprintf(stderr, "secrets_probe: %s: %s\n", what, occurrences ? "(message withheld)" : dal_error_last()->message);
	exit(2);
}

/* ---- reports of a dal_db ---- */

static void scan_reports(dal_db *db, const char *where)
{
	dal_metrics *m = calloc(1, sizeof(*m));
	dal_health h = DAL_HEALTH_INIT;
	char *text = NULL;
	size_t i;

	if (!m)
		exit(2);
	scan(where, dal_db_url_redacted(db));
	if (dal_health_check(&h, db) == 0) {
		scan(where, h.url);
		scan(where, h.error);
	}
	if (dal_health_json(&text, db) == 0)
		scan(where, text);
	dal_string_free(text);
	if (dal_metrics_json(&text, db) == 0)
		scan(where, text);
	dal_string_free(text);
	if (dal_metrics_prometheus(&text, db) == 0)
		scan(where, text);
	dal_string_free(text);
	m->version = DAL_METRICS_VERSION;
	if (dal_metrics_get(m, db) == 0) {
		for (i = 0; i < m->slow_count; i++)
			scan(where, m->slow[i].sql);
		for (i = 0; i < m->top_count; i++)
			scan(where, m->top[i].sql);
	}
	free(m);
}

/* ---- URL shapes ---- */

static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0)
		exit(2);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* {u} user, {hp} host:port, {db} database, {pw} the password as the shape spells it. */
static const char *const shapes[] = {
	"postgresql://{u}:" PW "@{hp}/{db}",
	"postgresql://{u}:" PW_ENC "@{hp}/{db}",
	"postgresql://{u}:" SENTINEL "-pw#x@{hp}/{db}",
	"postgresql://{u}:" SENTINEL "-pw@x@{hp}/{db}",
	"postgresql://{u}:" SENTINEL "/?@#:x@{hp}/{db}?application_name=a@b",
	"postgresql://{u}@{hp}/{db}?password=" PW_ENC,
	"postgresql://{u}@{hp}/{db}?pass%77ord=" PW_ENC,
	"postgresql://{u}@{hp}/{db}?%70%61%73%73%77%6f%72%64=" PW_ENC,
	"postgresql://{u}@{hp}/{db}?sslmode=disable&password=" PW_ENC "&password=" SENTINEL "2",
	"postgresql://{u}:" PW_ENC "@{hp}/{db}?sslpassword=" PW_ENC,
	"postgresql://{u}:" PW_ENC "@{hp}/{db}?ssl%70assword=" SENTINEL,
	"postgres://{u}:" PW "@{hp},{hp}/{db}?connect_timeout=2",
	"host={h} port={p} user={u} password=" SENTINEL " dbname={db}",
	"postgresql://{u}:" SENTINEL "%zz@{hp}/{db}",
	"postgresql://{u}:" SENTINEL " x@{hp}/{db}",
	"postgresql://{u}@{hp}/{db}?passwd=" SENTINEL,
	"postgresql://{u}@{hp}/{db}?" SENTINEL "=1",
	"sqlite://{u}:" SENTINEL "@{hp}/x.db",
	"duckdb:///x.duckdb?password=" SENTINEL,
	"mysql://{u}:" SENTINEL "@{hp}/{db}",
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

typedef struct target {
	char u[64], h[64], p[16], db[64];
} target;

static void expand(char *out, size_t size, const char *pat, const target *t)
{
	char hp[96];
	size_t n = 0;

	snprintf(hp, sizeof(hp), "%s:%s", t->h, t->p);
	while (*pat && n + 1 < size) {
		static const char *const keys[] = { "{u}", "{hp}", "{h}", "{p}", "{db}" };
		const char *with[] = { t->u, hp, t->h, t->p, t->db };
		size_t k;
		for (k = 0; k < 5; k++)
			if (strncmp(pat, keys[k], strlen(keys[k])) == 0)
				break;
		if (k < 5) {
			n += (size_t)snprintf(out + n, size - n, "%s", with[k]);
			pat += strlen(keys[k]);
		} else
			out[n++] = *pat++;
	}
	out[n < size ? n : size - 1] = '\0';
}

/* Open `url` directly, through DATABASE_URL, and with PGPASSWORD set; each must fail.
 * Returns how many opens succeeded (a shape that logs in). */
static int open_all_ways(const char *url, const char *label)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_db *db = NULL;
	int ok = 0, way;

	for (way = 0; way < 3; way++) {
		int rc;
		cfg = (dal_config)DAL_CONFIG_INIT;
		if (way == 1) {
			setenv("DATABASE_URL", url, 1);
			rc = dal_config_from_env(&cfg);
			if (rc != 0) {
				scan_error(label);
				unsetenv("DATABASE_URL");
				continue;
			}
		}
		if (way == 2)
			setenv("PGPASSWORD", PW, 1);
		cfg.connect_retries = 1;
		cfg.connect_timeout_s = 2;
		cfg.echo = true;
		rc = dal_open(&db, way == 1 ? NULL : url, &cfg);
		unsetenv("DATABASE_URL");
		unsetenv("PGPASSWORD");
		scan_error(label);
		if (rc == 0) {
			ok++;
			scan_reports(db, label);
			dal_close(db);
			db = NULL;
		}
	}
	return ok;
}

static void url_shapes(const target *server)
{
	target t = { "u", "127.0.0.1", "", "db" };
	char url[600];
	size_t i;
	int opened = 0;

	snprintf(t.p, sizeof(t.p), "%d", closed_port());
	for (i = 0; i < NSHAPES; i++) {
		expand(url, sizeof(url), shapes[i], &t);
		opened += open_all_ways(url, "closed port");
	}
	/* The same shapes against the real server: the sentinel is a wrong password. */
	for (i = 0; server && i < NSHAPES; i++) {
		expand(url, sizeof(url), shapes[i], server);
		opened += open_all_ways(url, "wrong password");
	}
	/* PGPASSWORD alone, no password in the URL: libpq sends it, the login fails. */
	if (server) {
		expand(url, sizeof(url), "postgresql://{u}@{hp}/{db}?sslmode=disable", server);
		setenv("PGPASSWORD", PW, 1);
		opened += dal_open(&(dal_db *){ NULL }, url, NULL) == 0;
		unsetenv("PGPASSWORD");
		scan_error("PGPASSWORD");
	}
	if (opened) {
		fprintf(stderr, "secrets_probe: %d opens with the sentinel password succeeded\n", opened);
		problems++;
	}
}

/* On PostgreSQL: a role whose password is the sentinel logs in through each shape; then
 * the redacted URL, health, metrics, a failed statement and the log. */
static void real_login(dal_db *admin, const target *server)
{
	static const char *const ok_shapes[] = {
		"postgresql://{u}:" PW "@{hp}/{db}?sslmode=disable",
		"postgresql://{u}:" PW_ENC "@{hp}/{db}?sslmode=disable",
		"postgresql://{u}@{hp}/{db}?pass%77ord=" PW_ENC "&sslmode=disable",
		"postgresql://{u}:" PW_ENC "@{hp}/{db}?sslmode=disable&sslpassword=" PW_ENC,
	};
	char sql[256], url[600];
	target t = *server;
	size_t i;

	snprintf(t.u, sizeof(t.u), "dal_secrets_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", t.u);
	dal_exec(NULL, admin, sql, NULL, 0);
	/* The role's password is SQL text here, once, on a connection with echo off. */
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN PASSWORD '%s'", t.u, PW);
	if (dal_exec(NULL, admin, sql, NULL, 0) != 0)
		die("CREATE ROLE");
	for (i = 0; i < sizeof(ok_shapes) / sizeof(ok_shapes[0]); i++) {
		dal_config cfg = DAL_CONFIG_INIT;
		dal_db *db = NULL;
		cfg.echo = cfg.echo_params = true;
		cfg.slow_query_ms = 1;
		cfg.connect_retries = 1;
		expand(url, sizeof(url), ok_shapes[i], &t);
		if (dal_open(&db, url, &cfg) != 0) {
			scan_error("login");
			fprintf(stderr, "secrets_probe: login shape %zu failed\n", i + 1);
			problems++;
			continue;
		}
		scan_reports(db, "logged in");
		if (dal_exec(NULL, db, "SELECT * FROM no_such_table_here", NULL, 0) == 0)
			die("a missing table");
		scan_error("failed statement");
		/* The password changes under the open database: health fails, and says why. */
		snprintf(sql, sizeof(sql), "ALTER ROLE %s PASSWORD 'changed'", t.u);
		dal_exec(NULL, admin, sql, NULL, 0);
		snprintf(sql, sizeof(sql), "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
			"WHERE usename = '%s'", t.u);
		dal_exec(NULL, admin, sql, NULL, 0);
		scan_reports(db, "password changed");
		dal_close(db);
		snprintf(sql, sizeof(sql), "ALTER ROLE %s PASSWORD '%s'", t.u, PW);
		dal_exec(NULL, admin, sql, NULL, 0);
	}
	snprintf(sql, sizeof(sql), "DROP ROLE %s", t.u);
	dal_exec(NULL, admin, sql, NULL, 0);
}

/* ---- a DAL_SENSITIVE value ---- */

static const dal_column vault_cols[] = {
	DAL_COL_ID(), DAL_COL("label", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("secret", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE | DAL_SENSITIVE, 40),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
};
static const dal_model vault = DAL_MODEL("vault", vault_cols);

/* `rc` must be an error (the call clashes or is refused); its message is scanned. */
static void expect_error(const char *where, int rc)
{
	if (rc == 0) {
		fprintf(stderr, "secrets_probe: %s succeeded\n", where);
		exit(2);
	}
	scan_error(where);
}

static void scan_audit(dal_db *db)
{
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_audit_logs *logs = NULL;
	dal_result *res = NULL;
	size_t i, j;

	f.resource_type = "vault";
	if (dal_audit_query(&logs, db, &f) != 0)
		die("dal_audit_query");
	if (dal_audit_logs_count(logs) < 5)
		die("too few audit rows");
	for (i = 0; i < dal_audit_logs_count(logs); i++) {
		const dal_audit_log *a = dal_audit_logs_at(logs, i);
		scan("audit old_values", a->old_values ? a->old_values : "");
		scan("audit new_values", a->new_values ? a->new_values : "");
	}
	dal_audit_logs_free(logs);
	/* And the table as stored, every column as text. */
	if (dal_query(&res, db, "SELECT * FROM audit_logs", NULL, 0) != 0)
		die("SELECT audit_logs");
	for (i = 0; i < dal_result_rows(res); i++)
		for (j = 0; j < dal_result_columns(res); j++) {
			const dal_value *v = dal_result_get(res, i, j);
			if (v->type == DAL_TYPE_TEXT || v->type == DAL_TYPE_JSON) {
				char *s = strndup(v->v.s, v->len);
				scan("audit_logs table", s);
				free(s);
			}
		}
	dal_result_free(res);
}

static void sensitive_value(const char *url)
{
	enum { LONG = 70000 };
	const dal_model *ms[1] = { &vault };
	const char *cols[2] = { "label", "secret" };
	dal_field first_row[] = { DAL_FIELD("label", dal_text("a")), DAL_FIELD("secret", dal_text(VALUE)) };
	dal_field other[] = { DAL_FIELD("label", dal_text("b")), DAL_FIELD("secret", dal_text("plain")) };
	dal_field clash[] = { DAL_FIELD("secret", dal_text(VALUE)) };
	dal_field too_long[] = { DAL_FIELD("secret", dal_text(VALUE "-and-then-some-more-text-past-forty")) };
	dal_value rows[4] = { dal_text("c"), dal_text("fresh"), dal_text("d"), dal_text(VALUE) };
	dal_value *in = calloc(LONG, sizeof(*in));
	dal_config cfg = DAL_CONFIG_INIT;
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_rows *found = NULL;
	dal_repo *repo = NULL;
	dal_uow *uow = NULL;
	dal_row *row = NULL;
	dal_db *db = NULL;
	int64_t id, bid;
	size_t i;

	cfg.echo = cfg.echo_params = true;
	cfg.slow_query_ms = 1;
	if (!in || dal_open(&db, url, &cfg) != 0)
		die("open");
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) != 0 || dal_repo_open(&repo, db, &vault, DAL_AUDIT) != 0)
		die("init");
	if (dal_repo_create(NULL, repo, first_row, 2) != 0 || dal_repo_create(&row, repo, other, 2) != 0)
		die("create");
	id = dal_row_int(row, "id");
	dal_row_free(row);
	expect_error("create clash", dal_repo_create(NULL, repo, first_row, 2));
	expect_error("update clash", dal_repo_update(NULL, repo, id, clash, 1));
	expect_error("bulk create clash", dal_repo_bulk_create(NULL, repo, cols, 2, rows, 2));
	bid = id;
	expect_error("bulk update clash", dal_repo_bulk_update(NULL, repo, &bid, &cols[1], 1, &rows[3], 1));
	expect_error("too long", dal_repo_create(NULL, repo, (dal_field[]){ first_row[0], too_long[0] }, 2));
	if (dal_uow_begin(&uow, db, NULL) != 0)
		die("begin");
	expect_error("clash in a unit", dal_repo_update(NULL, repo, id, clash, 1));
	/* PostgreSQL aborts the transaction on the failed statement, so COMMIT fails there too. */
	if (dal_uow_commit(uow) != 0)
		scan_error("commit after the clash");
	/* Writes that succeed, so the audit trail holds the value's changes. */
	if (dal_repo_update(NULL, repo, id, (dal_field[]){ DAL_FIELD("secret", dal_text(VALUE "-2")) }, 1) != 0 ||
	    dal_repo_delete(repo, id, true) != 0 || dal_repo_restore(NULL, repo, id) != 0)
		die("update/delete/restore");
	/* Filters on the value: a short and a 70,000-value IN list, logged with echo_params. */
	c.filters = (dal_filter[]){ DAL_WHERE("secret", DAL_OP_EQ, dal_text(VALUE)) };
	c.nfilters = 1;
	if (dal_repo_find(&found, repo, &c) != 0 || dal_rows_count(found) != 1)
		die("find by the value");
	dal_rows_free(found);
	for (i = 0; i < LONG; i++)
		in[i] = dal_text(i % 2 ? VALUE : VALUE "-2");
	c.filters = (dal_filter[]){ DAL_WHERE_IN("secret", in, LONG) };
	if (dal_repo_find(&found, repo, &c) != 0 || dal_rows_count(found) != 2)
		die("find by a long IN list");
	dal_rows_free(found);
	c.filters = (dal_filter[]){ DAL_WHERE_IN("secret", in, 3) };
	if (dal_repo_find(&found, repo, &c) != 0)
		die("find by a short IN list");
	dal_rows_free(found);
	scan_audit(db);
	scan_reports(db, "sensitive value");
	dal_repo_close(repo);
	dal_close(db);
	free(in);
}

/* The capture sees a secret where dal is told to show one: raw SQL parameters are not
 * known to be secret, and echo_params logs them. Then the counts start from 0. */
static void self_check(const char *url)
{
	dal_config cfg = DAL_CONFIG_INIT;
	dal_value v = dal_text(VALUE);
	dal_result *res = NULL;
	dal_db *db = NULL;

	cfg.echo = cfg.echo_params = true;
	if (dal_open(&db, url, &cfg) != 0 || dal_query(&res, db, "SELECT ?", &v, 1) != 0)
		die("self check");
	dal_result_free(res);
	dal_close(db);
	if (occurrences == 0) {
		fprintf(stderr, "secrets_probe: the log capture missed a sentinel logged on purpose\n");
		exit(2);
	}
	occurrences = checked = log_lines = 0;
	first[0] = '\0';
}

/* ---- main ---- */

/* postgresql://user:pw@host:port/db?query */
static void target_of(target *t, const char *url)
{
	const char *u = strstr(url, "://") + 3, *at = strrchr(url, '@'), *colon, *slash = strchr(at, '/');

	snprintf(t->u, sizeof(t->u), "%.*s", (int)strcspn(u, ":@"), u);
	colon = memchr(at, ':', (size_t)(slash - at));
	snprintf(t->h, sizeof(t->h), "%.*s", (int)(colon - at - 1), at + 1);
	snprintf(t->p, sizeof(t->p), "%.*s", (int)(slash - colon - 1), colon + 1);
	snprintf(t->db, sizeof(t->db), "%.*s", (int)strcspn(slash + 1, "?"), slash + 1);
}

int main(int argc, char **argv)
{
	dal_config quiet = DAL_CONFIG_INIT;
	target server;
	dal_db *admin = NULL;
	char *url, *own, dbname[48];
	bool pg;

	if (argc < 3) {
		fprintf(stderr, "usage: secrets_probe <engine> <url|@file>\n");
		return 2;
	}
	engine_name = argv[1];
	url = probe_read_url(argv[2]);
	pg = strncmp(url, "postgres", 8) == 0;
	snprintf(dbname, sizeof(dbname), "dal_secrets_%d", (int)getpid());
	own = probe_own_database(url, dbname);
	dal_log_set_handler(on_log, NULL);
	self_check(own);
	if (pg) {
		target_of(&server, own);
		/* No echo and no slow-query log: this connection sends the role's password as SQL text. */
		quiet.slow_query_ms = 0;
		if (dal_open(&admin, own, &quiet) != 0)
			die("open");
	}
	url_shapes(pg ? &server : NULL);
	if (pg)
		real_login(admin, &server);
	sensitive_value(own);
	dal_close(admin);
	probe_drop_database(url, dbname);
	free(own);
	dal_log_set_handler(NULL, NULL);
	printf("secrets_probe %s: texts_checked=%ld log_lines=%ld occurrences=%ld problems=%ld\n", engine_name, checked,
		log_lines, occurrences, problems);
	if (occurrences)
		fprintf(stderr, "secrets_probe: the sentinel showed %ld time(s), first in %s\n", occurrences, first);
	free(url);
	return occurrences || problems ? 1 : 0;
}
