/*
 * Secrets never reach a message. A sentinel password in every URL shape dal
 * takes (userinfo raw and encoded, with '/', '?', '#', '@' in it, password= and
 * sslpassword= options under encoded keys, DATABASE_URL, a keyword string) goes
 * through refused URLs, a closed port, a refused login and an open database;
 * a sentinel DAL_SENSITIVE value goes through every constraint an engine can
 * violate and through values it cannot convert. Each case counts the sentinel
 * in every text dal hands out (error message, redacted URL, health JSON,
 * metrics) and in every log line, prints the count, and fails unless it is 0.
 */
#include "conformance/fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define SENTINEL "S3ntin3l"
/* The password of the role the open-database case logs in as: every URL delimiter, raw. */
#define ROLE_PW SENTINEL "/pw?x#y@z:w"
#define ROLE_PW_ENC SENTINEL "%2Fpw%3Fx%23y%40z%3Aw"
/* A DAL_SENSITIVE value. */
#define SECRET_VALUE SENTINEL "-v4lue"

static int occurrences(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	int count = 0;

	while (hay && (hay = strstr(hay, needle)) != NULL) {
		count++;
		hay += n;
	}
	return count;
}

/* Every text checked in a case, and where the sentinel was first seen. */
typedef struct tally {
	int checked;
	int found;
	char first[900];
} tally;

static struct {
	pthread_mutex_t mu;
	int lines;
	int found;
	char first[600];
} logscan = { PTHREAD_MUTEX_INITIALIZER, 0, 0, "" };

static void on_log(dal_log_level level, const char *message, void *payload)
{
	int n = occurrences(message, SENTINEL);

	(void)level;
	(void)payload;
	pthread_mutex_lock(&logscan.mu);
	logscan.lines++;
	if (n && !logscan.found)
		snprintf(logscan.first, sizeof(logscan.first), "%s", message);
	logscan.found += n;
	pthread_mutex_unlock(&logscan.mu);
}

static void tally_begin(tally *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_lock(&logscan.mu);
	logscan.lines = logscan.found = 0;
	logscan.first[0] = '\0';
	pthread_mutex_unlock(&logscan.mu);
	dal_log_set_handler(on_log, NULL);
}

static void scan(tally *t, const char *where, const char *text)
{
	int n = occurrences(text, SENTINEL);

	t->checked++;
	if (n && !t->found)
		snprintf(t->first, sizeof(t->first), "%s: %s", where, text);
	t->found += n;
}

/* Print the figure; fail if the sentinel showed anywhere. */
static void tally_end(tally *t, const char *what)
{
	dal_log_set_handler(NULL, NULL);
	pthread_mutex_lock(&logscan.mu);
	if (logscan.found && !t->found)
		snprintf(t->first, sizeof(t->first), "log: %s", logscan.first);
	t->found += logscan.found;
	print_message("secrets: %s: %d texts and %d log lines checked, sentinel occurrences: %d\n", what,
		t->checked, logscan.lines, t->found);
	pthread_mutex_unlock(&logscan.mu);
	if (t->found)
		fail_msg("%s: the sentinel showed %d time(s), first in %s", what, t->found, t->first);
}

/* A loopback port nothing listens on: bound, read, closed. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(s >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

/* The parts of the fixture's URL, postgresql://user:pw@host:port/db?query. */
typedef struct pg_parts {
	char user[64];
	char hp[128];
	char db[128];
} pg_parts;

static void pg_parts_of(pg_parts *p, const fixture *fx)
{
	const char *user = strstr(fx->url, "://"), *at = strrchr(fx->url, '@'), *slash, *q;

	if (!user || !at)
		fail_msg("the PostgreSQL URL has no user@host form");
	user += 3;
	slash = strchr(at, '/');
	q = strchr(slash, '?');
	snprintf(p->user, sizeof(p->user), "%.*s", (int)strcspn(user, ":@"), user);
	snprintf(p->hp, sizeof(p->hp), "%.*s", (int)(slash - at - 1), at + 1);
	snprintf(p->db, sizeof(p->db), "%.*s", (int)(q ? q - slash - 1 : (long)strlen(slash + 1)), slash + 1);
}

/* Expand {user}, {hp} and {db} in @p pattern. */
static void expand(char *out, size_t size, const char *pattern, const char *user, const char *hp, const char *db)
{
	size_t n = 0;

	while (*pattern && n + 1 < size) {
		const char *with = NULL;
		size_t skip = 0;
		if (strncmp(pattern, "{user}", 6) == 0)
			with = user, skip = 6;
		else if (strncmp(pattern, "{hp}", 4) == 0)
			with = hp, skip = 4;
		else if (strncmp(pattern, "{db}", 4) == 0)
			with = db, skip = 4;
		if (with) {
			n += (size_t)snprintf(out + n, size - n, "%s", with);
			pattern += skip;
		} else
			out[n++] = *pattern++;
	}
	out[n < size ? n : size - 1] = '\0';
}

/*
 * URLs that parse and hold the sentinel as a password: in the userinfo (raw,
 * with every delimiter, or encoded), as password= under any encoding of the
 * key, as sslpassword=, on a host list.
 */
static const char *const password_shapes[] = {
	"postgresql://{user}:" SENTINEL "@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "%2Fpw%3Fx%23y%40z@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "/pw@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "?pw@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "/pw?x@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "#pw@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "@pw@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "/pw?x#y@z:w@{hp}/{db}?application_name=a@b",
	"postgresql://{user}:5432/" SENTINEL "@{hp}/{db}",
	"postgresql://{user}:5432?" SENTINEL "@{hp}/{db}",
	"postgresql://{user}@{hp}/{db}?password=" SENTINEL,
	"postgresql://{user}@{hp}/{db}?pass%77ord=" SENTINEL,
	"postgresql://{user}@{hp}/{db}?%70%61%73%73%77%6F%72%64=" SENTINEL "%2Fx",
	"postgresql://{user}@{hp}/{db}?password=" SENTINEL "&sslmode=disable&password=" SENTINEL "2",
	"postgresql://{user}:" SENTINEL "@{hp}/{db}?sslpassword=" SENTINEL,
	"postgresql://{user}:" SENTINEL "@{hp}/{db}?ssl%70assword=" SENTINEL "&application_name=x",
	"postgresql://{user}:" SENTINEL "/x@{hp},{hp}/{db}",
	"postgres://{user}:" SENTINEL "/x@{hp}/{db}?connect_timeout=2",
};

/* Text dal must refuse, each holding the sentinel where a password could be. */
static const char *const refused_shapes[] = {
	"postgresql://{user}:" SENTINEL "%zz@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "%2@{hp}/{db}",
	"postgresql://{user}:" SENTINEL " x@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "\"x@{hp}/{db}",
	"postgresql://{user}:" SENTINEL "@127.0.0.1:99999/{db}",
	"postgresql://{user}:" SENTINEL "/pw?x@127.0.0.1:99999/{db}",
	"postgresql://{user}:" SENTINEL "/pw",
	"postgresql://{user}:" SENTINEL "?pw",
	"postgresql://{user}:5432/" SENTINEL "@{hp}",
	"postgresql://{user}:5432/" SENTINEL "/x@{hp}",
	"postgresql://{user}:" SENTINEL "@[::1/{db}",
	"postgresql://{user}:" SENTINEL "@{hp}/{db}?sslmode",
	"postgresql://{user}@{hp}/{db}?" SENTINEL,
	"postgresql://{user}@{hp}/{db}?passwd=" SENTINEL,
	"postgresql://{user}@{hp}/{db}?" SENTINEL "=1",
	"postgresql://{user}@{hp}/{db}?password=" SENTINEL "%zz",
	"postgresql://{user}@{hp}/{db}?sslmode=" SENTINEL,
	"postgresql://{user}@{hp}/{db}?connect_timeout=" SENTINEL,
	"postgresql://{user}@{hp}/{db}?password=" SENTINEL " x",
	"mysql://{user}:" SENTINEL "@{hp}/{db}",
	SENTINEL "://{user}@{hp}/{db}",
	"sqlite://{user}:" SENTINEL "@{hp}/x.db",
	"duckdb:///x.duckdb?password=" SENTINEL,
	"host=127.0.0.1 user={user} password=" SENTINEL " dbname={db}",
	"postgresql://{user}:" SENTINEL "@{hp}/{db}/x",
};

#define NSHAPES(a) (sizeof(a) / sizeof((a)[0]))

/* Put DATABASE_URL back as it was (@p saved: a copy, or NULL if it was unset). */
static void restore_database_url(const char *saved)
{
	if (saved)
		setenv("DATABASE_URL", saved, 1);
	else
		unsetenv("DATABASE_URL");
}

/* Open @p url, directly and through DATABASE_URL; the open must fail. Scans the message. */
static int open_fails(tally *t, const char *url, const char *label, char *sqlstate_out)
{
	dal_config cfg = DAL_CONFIG_INIT;
	const char *saved = getenv("DATABASE_URL");
	char *keep = saved ? strdup(saved) : NULL;
	dal_db *db = NULL;
	char where[96];
	int rc, rc_env;

	cfg.connect_retries = 1;
	cfg.connect_timeout_s = 2;
	rc = dal_open(&db, url, &cfg);
	if (rc == 0)
		fail_msg("%s: the open succeeded", label);
	snprintf(where, sizeof(where), "%s: dal_open message", label);
	scan(t, where, dal_error_last()->message);
	if (sqlstate_out)
		snprintf(sqlstate_out, 8, "%s", dal_error_last()->sqlstate);

	setenv("DATABASE_URL", url, 1);
	rc_env = dal_config_from_env(&cfg);
	if (rc_env == 0) {
		cfg.connect_retries = 1;
		cfg.connect_timeout_s = 2;
		rc_env = dal_open(&db, NULL, &cfg);
	}
	restore_database_url(keep);
	free(keep);
	if (rc_env == 0)
		fail_msg("%s: the open through DATABASE_URL succeeded", label);
	snprintf(where, sizeof(where), "%s: DATABASE_URL open message", label);
	scan(t, where, dal_error_last()->message);
	if (rc_env != rc)
		fail_msg("%s: %d from the URL, %d through DATABASE_URL", label, rc, rc_env);
	assert_null(db);
	return rc;
}

/* Every shape, to a loopback port nothing listens on, and every refused text. */
static void test_secrets_url_shapes_closed_port(void **state)
{
	fixture *fx = FX(state);
	char hp[32], url[512], label[32], first_wrong[96] = "";
	int rc, refused = 0, wrong = 0;
	size_t i;
	tally t;

	snprintf(hp, sizeof(hp), "127.0.0.1:%d", closed_port());
	tally_begin(&t);
	for (i = 0; i < NSHAPES(password_shapes); i++) {
		expand(url, sizeof(url), password_shapes[i], "u", hp, "db");
		snprintf(label, sizeof(label), "password shape %zu", i + 1);
		rc = open_fails(&t, url, label, NULL);
		/* Every shape parses: the failure is the connection's. */
		if (rc != DAL_ECONN && !wrong++)
			snprintf(first_wrong, sizeof(first_wrong), "%s: %d (%s)", label, rc, dal_strerror(rc));
	}
	for (i = 0; i < NSHAPES(refused_shapes); i++) {
		expand(url, sizeof(url), refused_shapes[i], "u", hp, "db");
		snprintf(label, sizeof(label), "refused shape %zu", i + 1);
		rc = open_fails(&t, url, label, NULL);
		refused += rc == DAL_EINVAL;
	}
	print_message("secrets: %zu password shapes to a closed port (%d not DAL_ECONN), %zu refused texts "
		"(%d DAL_EINVAL)\n", NSHAPES(password_shapes), wrong, NSHAPES(refused_shapes), refused);
	tally_end(&t, "URL shapes, closed port");
	if (wrong)
		fail_msg("%d password shapes were not parsed as such, the first: %s", wrong, first_wrong);
	(void)fx;
}

/* Every shape against the test server with the sentinel as a wrong password: a refused login. */
static void test_secrets_url_shapes_auth_failure(void **state)
{
	fixture *fx = FX(state);
	char url[512], label[32], state5[8], first_wrong[96] = "";
	pg_parts p;
	size_t i;
	tally t;
	int rc, wrong = 0;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("a refused login needs the PostgreSQL server");
	pg_parts_of(&p, fx);
	tally_begin(&t);
	for (i = 0; i < NSHAPES(password_shapes); i++) {
		expand(url, sizeof(url), password_shapes[i], p.user, p.hp, p.db);
		snprintf(label, sizeof(label), "password shape %zu", i + 1);
		rc = open_fails(&t, url, label, state5);
		if ((rc != DAL_ECONN || strcmp(state5, "28P01") != 0) && !wrong++)
			snprintf(first_wrong, sizeof(first_wrong), "%s: %d (%s) SQLSTATE '%s'", label, rc,
				dal_strerror(rc), state5);
	}
	print_message("secrets: %zu password shapes, %d not refused as a wrong password (28P01)\n",
		NSHAPES(password_shapes), wrong);
	tally_end(&t, "URL shapes, wrong password");
	if (wrong)
		fail_msg("%d password shapes did not reach the login, the first: %s", wrong, first_wrong);
}

/*
 * A role whose password holds every URL delimiter logs in through each shape;
 * then the redacted URL, health (ok, and failing once the password changed),
 * metrics, a failed statement's message and the log hold no sentinel.
 */
static void test_secrets_open_database(void **state)
{
	static const char *const shapes[] = {
		"postgresql://{user}:" ROLE_PW "@{hp}/{db}?sslmode=disable",
		"postgresql://{user}:" ROLE_PW_ENC "@{hp}/{db}?sslmode=disable",
		"postgresql://{user}@{hp}/{db}?sslmode=disable&password=" ROLE_PW_ENC,
		"postgresql://{user}@{hp}/{db}?pass%77ord=" ROLE_PW_ENC "&sslmode=disable",
		"postgresql://{user}@{hp}/{db}?password=" SENTINEL "&%70assword=" ROLE_PW_ENC,
		"postgresql://{user}:" ROLE_PW_ENC "@{hp}/{db}?sslmode=disable&sslpassword=" SENTINEL,
		"postgres://{user}:" ROLE_PW "@{hp},{hp}/{db}?application_name=s@x",
	};
	fixture *fx = FX(state);
	char role[48], sql[256], url[512], where[64], *text = NULL, *saved;
	pg_parts p;
	size_t i;
	tally t;
	int env;

	if (!fx_is(fx, "postgres"))
		FX_SKIP("logging in with a password needs the PostgreSQL server");
	pg_parts_of(&p, fx);
	snprintf(role, sizeof(role), "dal_sentinel_%d", (int)getpid());
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s", role);
	fx_exec(fx, sql);
	snprintf(sql, sizeof(sql), "CREATE ROLE %s LOGIN PASSWORD '%s'", role, ROLE_PW);
	fx_exec(fx, sql);
	saved = getenv("DATABASE_URL") ? strdup(getenv("DATABASE_URL")) : NULL;
	tally_begin(&t);
	for (i = 0; i < NSHAPES(shapes); i++) {
		for (env = 0; env < 2; env++) {
			dal_config cfg = DAL_CONFIG_INIT;
			dal_health h = DAL_HEALTH_INIT;
			dal_db *db = NULL;
			int rc;

			snprintf(sql, sizeof(sql), "ALTER ROLE %s PASSWORD '%s'", role, ROLE_PW);
			fx_exec(fx, sql);
			expand(url, sizeof(url), shapes[i], role, p.hp, p.db);
			if (env) {
				setenv("DATABASE_URL", url, 1);
				CHECK_OK(dal_config_from_env(&cfg));
			}
			cfg.connect_retries = 1;
			cfg.pre_ping_idle_ms = 0;
			cfg.echo = true;
			rc = dal_open(&db, env ? NULL : url, &cfg);
			/* cfg.url was borrowed from the environment until here. */
			restore_database_url(saved);
			snprintf(where, sizeof(where), "shape %zu%s: ", i + 1, env ? " (DATABASE_URL)" : "");
			scan(&t, where, dal_error_last()->message);
			if (rc != 0)
				fail_msg("%sthe login failed: %d (%s): %s", where, rc, dal_strerror(rc),
					t.found ? "(message withheld: it holds the sentinel)" : dal_error_last()->message);
			scan(&t, where, dal_db_url_redacted(db));
			if (!strstr(dal_db_url_redacted(db), role) || !strstr(dal_db_url_redacted(db), p.db))
				fail_msg("%sthe redacted URL lost the user or database: %s", where, dal_db_url_redacted(db));
			CHECK_OK(dal_health_check(&h, db));
			assert_true(h.healthy);
			scan(&t, where, h.url);
			CHECK_OK(dal_health_json(&text, db));
			scan(&t, where, text);
			dal_string_free(text);
			CHECK_OK(dal_metrics_json(&text, db));
			scan(&t, where, text);
			dal_string_free(text);
			CHECK_OK(dal_metrics_prometheus(&text, db));
			scan(&t, where, text);
			dal_string_free(text);
			CHECK_ERR(DAL_ESQL, dal_exec(NULL, db, "SELECT * FROM no_such_table_here", NULL, 0));
			scan(&t, where, dal_error_last()->message);

			/* The password changes and the session ends: the next health check cannot log in. */
			snprintf(sql, sizeof(sql), "ALTER ROLE %s PASSWORD 'changed_pw'", role);
			fx_exec(fx, sql);
			snprintf(sql, sizeof(sql), "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
				"WHERE usename = '%s'", role);
			(void)fx_scalar(fx, sql, NULL, 0);
			memset(&h, 0, sizeof(h));
			h.version = DAL_HEALTH_VERSION;
			CHECK_OK(dal_health_check(&h, db));
			assert_false(h.healthy);
			scan(&t, where, h.error);
			if (!strstr(h.error, "password") && !t.found)
				fail_msg("%sthe failed health check does not say why: %s", where, h.error);
			CHECK_OK(dal_health_json(&text, db));
			scan(&t, where, text);
			dal_string_free(text);
			dal_close(db);
		}
	}
	free(saved);
	print_message("secrets: %zu shapes logged in, directly and through DATABASE_URL\n", NSHAPES(shapes));
	tally_end(&t, "open database");
	snprintf(sql, sizeof(sql), "DROP ROLE %s", role);
	fx_exec(fx, sql);
}

/* A vault: a DAL_SENSITIVE unique column. */
static const dal_column vault_cols[] = {
	DAL_COL_ID(), DAL_COL("label", DAL_TYPE_TEXT, DAL_NOT_NULL, 40),
	DAL_COL("secret", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE | DAL_SENSITIVE, 80), DAL_COL_CREATED_AT(),
};
static const dal_model vault = DAL_MODEL("vault", vault_cols);

/* A constraint failure: DAL_ECONSTRAINT, naming @p name, holding no sentinel. */
static void check_violation(tally *t, const char *where, int rc, const char *name)
{
	if (rc != DAL_ECONSTRAINT)
		fail_msg("%s: %d (%s), expected DAL_ECONSTRAINT: %s", where, rc, dal_strerror(rc),
			dal_error_last()->message);
	scan(t, where, dal_error_last()->message);
	if (!t->found)
		print_message("  %s: %s\n", where, dal_error_last()->message);
	if (!strstr(dal_error_last()->message, name) && !(strcmp(name, "foreign key") == 0 &&
	                                                   strstr(dal_error_last()->message, "FOREIGN KEY")))
		fail_msg("%s: the message does not name '%s': %s", where, name,
			t->found ? "(withheld: it holds the sentinel)" : dal_error_last()->message);
}

/* Every repository write path violates the unique DAL_SENSITIVE column, with echo and parameters logged. */
static void test_secrets_sensitive_unique(void **state)
{
	fixture *fx = FX(state);
	const dal_model *ms[1] = { &vault };
	const char *cols[2] = { "label", "secret" };
	dal_field first[] = { DAL_FIELD("label", dal_text("a")), DAL_FIELD("secret", dal_text(SECRET_VALUE)) };
	dal_field other[] = { DAL_FIELD("label", dal_text("b")), DAL_FIELD("secret", dal_text("plain")) };
	dal_field set[] = { DAL_FIELD("secret", dal_text(SECRET_VALUE)) };
	dal_value rows[4] = { dal_text("c"), dal_text("fresh"), dal_text("d"), dal_text(SECRET_VALUE) };
	dal_config cfg = DAL_CONFIG_INIT;
	dal_row *row = NULL;
	dal_repo *repo = NULL;
	dal_uow *uow = NULL;
	dal_db *db = NULL;
	int64_t id;
	tally t;
	int rc;

	cfg.echo = true;
	cfg.echo_params = true;
	CHECK_OK(fx_open_again(&db, fx, &cfg));
	CHECK_OK(dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE));
	CHECK_OK(dal_repo_open(&repo, db, &vault, 0));
	tally_begin(&t);
	CHECK_OK(dal_repo_create(NULL, repo, first, DAL_COUNT(first)));
	CHECK_OK(dal_repo_create(&row, repo, other, DAL_COUNT(other)));
	id = dal_row_int(row, "id");
	dal_row_free(row);
	check_violation(&t, "create", dal_repo_create(NULL, repo, first, DAL_COUNT(first)), "secret");
	check_violation(&t, "update", dal_repo_update(NULL, repo, id, set, DAL_COUNT(set)), "secret");
	check_violation(&t, "bulk create", dal_repo_bulk_create(NULL, repo, cols, 2, rows, 2), "secret");
	dal_repo_close(repo);
	CHECK_OK(dal_repo_open(&repo, db, &vault, DAL_AUDIT));
	check_violation(&t, "audited create", dal_repo_create(NULL, repo, first, DAL_COUNT(first)), "secret");
	dal_repo_close(repo);
	/* In a unit of work, whose COMMIT then reports the failure again. */
	CHECK_OK(dal_uow_begin(&uow, db, NULL));
	CHECK_OK(dal_uow_repo(&repo, uow, &vault, 0));
	check_violation(&t, "create in a unit", dal_repo_create(NULL, repo, first, DAL_COUNT(first)), "secret");
	rc = dal_uow_commit(uow);
	scan(&t, "commit after the violation", rc < 0 ? dal_error_last()->message : "");
	dal_repo_close(repo);
	dal_close(db);
	tally_end(&t, "DAL_SENSITIVE unique value");
}

/*
 * Raw SQL through every kind of constraint, the sentinel in the row: unique,
 * not-null and check (PostgreSQL's "Failing row contains (...)"), foreign key
 * ("Key (p)=(...) is not present"). The message names the table, column or
 * constraint, never a value.
 */
static void test_secrets_constraint_messages(void **state)
{
	fixture *fx = FX(state);
	const char *text = fx_type(fx, DAL_TYPE_TEXT), *integer = fx_type(fx, DAL_TYPE_INT);
	const char *ins = "INSERT INTO rs_child (id, s, n, c, p) VALUES (?, ?, ?, ?, ?)";
	char sql[512];
	dal_value v[5];
	tally t;
	int rc;

	snprintf(sql, sizeof(sql), "CREATE TABLE rs_parent (k %s PRIMARY KEY)", text);
	fx_exec(fx, sql);
	snprintf(sql, sizeof(sql), "CREATE TABLE rs_child (id %s PRIMARY KEY, s %s NOT NULL, n %s NOT NULL, "
		"c %s CONSTRAINT rs_child_c_positive CHECK (c > 0), p %s REFERENCES rs_parent (k), "
		"CONSTRAINT rs_child_s_unique UNIQUE (s))", integer, text, text, integer, text);
	fx_exec(fx, sql);
	tally_begin(&t);
	v[0] = dal_int(1), v[1] = dal_text(SECRET_VALUE), v[2] = dal_text("n"), v[3] = dal_int(1), v[4] = dal_null();
	CHECK_OK(dal_exec(NULL, fx->db, ins, v, 5));
	v[0] = dal_int(2);
	check_violation(&t, "unique", dal_exec(NULL, fx->db, ins, v, 5), "s");
	v[0] = dal_int(3), v[1] = dal_text(SECRET_VALUE "-2"), v[2] = dal_null();
	check_violation(&t, "not null", dal_exec(NULL, fx->db, ins, v, 5), "n");
	v[0] = dal_int(4), v[1] = dal_text(SECRET_VALUE "-3"), v[2] = dal_text(SECRET_VALUE), v[3] = dal_int(-1);
	check_violation(&t, "check", dal_exec(NULL, fx->db, ins, v, 5), "rs_child");
	v[0] = dal_int(5), v[1] = dal_text(SECRET_VALUE "-4"), v[3] = dal_int(1), v[4] = dal_text(SECRET_VALUE "-p");
	rc = dal_exec(NULL, fx->db, ins, v, 5);
	if (rc == 0)
		print_message("secrets: %s does not enforce foreign keys here: no foreign key message to check\n",
			fx->engine);
	else
		check_violation(&t, "foreign key", rc, "foreign key");
	tally_end(&t, "constraint messages");
}

/* A document in a DAL_SENSITIVE JSON column. */
static const dal_column dossier_cols[] = {
	DAL_COL_ID(), DAL_COL("doc", DAL_TYPE_JSON, DAL_SENSITIVE, 0), DAL_COL_CREATED_AT(),
};
static const dal_model dossier = DAL_MODEL("dossier", dossier_cols);

/*
 * A value the engine cannot take: a DAL_SENSITIVE JSON column given text that
 * is not JSON (DuckDB quoted the input, PostgreSQL's DETAIL the bad token), and
 * raw SQL casting the sentinel to an integer (quoted by both). SQLite takes
 * either: there is then no message to check, and that is said.
 */
static void test_secrets_data_errors(void **state)
{
	fixture *fx = FX(state);
	dal_field bad[] = { DAL_FIELD("doc", dal_json(SECRET_VALUE " is not {json")) };
	dal_value v = dal_text(SECRET_VALUE);
	dal_result *res = NULL;
	dal_repo *repo;
	tally t;
	int rc;

	repo = fx_open_repo(fx, &dossier, 0);
	tally_begin(&t);
	rc = dal_repo_create(NULL, repo, bad, DAL_COUNT(bad));
	if (rc == 0)
		print_message("secrets: %s stores text that is not JSON: no message to check\n", fx->engine);
	else {
		scan(&t, "bad JSON", dal_error_last()->message);
		if (!t.found)
			print_message("  bad JSON: %s\n", dal_error_last()->message);
	}
	rc = dal_query(&res, fx->db, "SELECT CAST(? AS INTEGER)", &v, 1);
	dal_result_free(res);
	if (rc == 0)
		print_message("secrets: %s casts any text to an integer: no message to check\n", fx->engine);
	else {
		scan(&t, "cast", dal_error_last()->message);
		if (!t.found)
			print_message("  cast: %s\n", dal_error_last()->message);
	}
	dal_repo_close(repo);
	tally_end(&t, "data errors");
}

FX_CASES(cases_secrets,
	FX_CASE(test_secrets_url_shapes_closed_port),
	FX_CASE(test_secrets_url_shapes_auth_failure),
	FX_CASE(test_secrets_open_database),
	FX_CASE(test_secrets_sensitive_unique),
	FX_CASE(test_secrets_constraint_messages),
	FX_CASE(test_secrets_data_errors),
);
