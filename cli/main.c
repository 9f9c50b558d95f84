/* dal: run, inspect and repair a dal database from a shell. Dispatch, the
 * options every command takes, opening the database, errors and exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

static const char usage_text[] =
	"usage: dal [--url URL] [--json] [--color WHEN] COMMAND [ARGS]\n"
	"\n"
	"Run, inspect and repair a dal database (SQLite, DuckDB, PostgreSQL).\n"
	"\n"
	"commands:\n"
	"  sql STATEMENT [--param V]...     run one statement, print its rows\n"
	"  health                           is the database reachable, how fast\n"
	"  metrics [--prometheus]           this process's query metrics\n"
	"  migrate up|down|status|lint|new  versioned schema migrations\n"
	"  audit list|cleanup|verify        the audit trail and its hash chain\n"
	"  history TABLE ID                 one entity's changes, oldest first\n"
	"  show TABLE ID [--as-of TIME]     one entity, now or as it was\n"
	"\n"
	"options (every command takes them):\n"
	"  --url URL       database URL; default $DATABASE_URL, else sqlite:///./app.db\n"
	"  --json          one JSON document on stdout, for scripts\n"
	"  --color WHEN    auto (default: on a terminal, unless NO_COLOR is set), always, never\n"
	"  --no-color      the same as --color never\n"
	"  -h, --help      help; `dal COMMAND --help` for a command's own\n"
	"  --version       the program's and library's version\n"
	"\n"
	"exit codes: 0 success, 1 failure, 2 usage error, 3 audit chain tampered,\n"
	"            4 database unavailable, 5 migrations pending (migrate status --check)\n"
	"See dal(1) and docs/cli.md.\n";

/* The password of the URL as given, so that no message can carry it even if a
 * layer below ever let it through. */
static char scrub_secret[512];

static void remember_secret(const char *url)
{
	const char *s = url ? strstr(url, "://") : NULL, *at, *colon;

	scrub_secret[0] = '\0';
	if (!s)
		return;
	s += 3;
	at = strrchr(s, '@');
	colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
	if (colon && (size_t)(at - colon - 1) < sizeof(scrub_secret) && at > colon + 1)
		snprintf(scrub_secret, sizeof(scrub_secret), "%.*s", (int)(at - colon - 1), colon + 1);
}

/* @p msg with every copy of the URL's password as "***" (owned, free()). */
static char *scrub(const char *msg)
{
	size_t n = strlen(scrub_secret), cap = strlen(msg) + 1;
	char *out = malloc(cap), *p = out;
	const char *hit;

	if (!out)
		return NULL;
	while (n >= 3 && (hit = strstr(msg, scrub_secret)) != NULL) {
		memcpy(p, msg, (size_t)(hit - msg));
		p += hit - msg;
		memcpy(p, "***", 3);
		p += 3;
		msg = hit + n;
	}
	strcpy(p, msg);
	return out;
}

static const char *code_name(int code)
{
	switch (code) {
	case DAL_ENOTFOUND: return "not_found";
	case DAL_EINVAL: return "invalid";
	case DAL_ECONSTRAINT: return "constraint";
	case DAL_EBUSY: return "busy";
	case DAL_ECONN: return "connection";
	case DAL_ETIMEOUT: return "timeout";
	case DAL_ESERIALIZE: return "serialization";
	case DAL_EUNSUPPORTED: return "unsupported";
	case DAL_ECOMMIT_UNKNOWN: return "commit_unknown";
	case DAL_ENOMEM: return "out_of_memory";
	case DAL_EIO: return "io";
	case DAL_ESQL: return "sql";
	case DAL_ESCHEMA: return "schema";
	default: return "error";
	}
}

/* The message on stderr, and with --json the error document on stdout. The engine's
 * message may quote data: terminal controls in it are escaped, and bytes that are
 * not UTF-8 too, or the JSON document could not be written. */
static int report(cli *c, int code, const char *what, const char *message)
{
	char *scrubbed = scrub(message), *msg = scrubbed ? out_escape_message(scrubbed) : NULL;
	/* A timeout once connected is a statement that ran too long, not a database out
	 * of reach: cli_open() maps its own failures to CLI_UNAVAILABLE. */
	int rc = code == DAL_ECONN ? CLI_UNAVAILABLE : CLI_FAIL;

	fprintf(stderr, "%s%s%s %s: %s\n", c->color_err ? OUT_RED : "", c->prog, c->color_err ? "\033[0m:" : ":", what,
		msg ? msg : "");
	if (c->json) {
		json_t *err = json_pack("{s:s, s:s, s:o}", "code", code_name(code), "what", what, "message",
			out_jstr(msg ? msg : ""));
		out_json(json_pack("{s:o}", "error", err));
	}
	free(scrubbed);
	free(msg);
	return rc;
}

int cli_fail(cli *c, const char *what)
{
	return report(c, dal_error_last()->code, what, dal_error_last()->message);
}

int cli_error(cli *c, int code, const char *what, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(c, code, what, msg);
}

int cli_usage_error(cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", c->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", c->prog);
	return CLI_USAGE;
}

/* getopt_long's '?' or ':' as a usage message naming the option as given: a short
 * option inside a cluster (-xy) is optopt, not the argument getopt stands on. */
static int bad_option(cli *c, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return cli_usage_error(c, "option '%s' needs a value", arg);
	if (strncmp(arg, "--", 2) != 0 && optopt)
		return cli_usage_error(c, "unknown option '-%c'", optopt);
	return cli_usage_error(c, "unknown option '%s'", arg);
}

bool cli_parse_int(const char *text, int64_t *out)
{
	char *end;
	long long v;

	if (!text || !*text)
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int cli_subcommand(cli *c, int argc, char **argv, const char *const *names, const char *help, const char **action)
{
	char list[128] = "";
	size_t i, n = 0;

	*action = argc >= 2 ? argv[1] : "";
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help, stdout);
		return CLI_OK;
	}
	if (argc >= 2 && argv[1][0] != '-' && known(argv[1], names)) {
		snprintf(c->prog_buf, sizeof(c->prog_buf), "%s %s", c->prog, argv[1]);
		c->prog = c->prog_buf;
		return -1;
	}
	while (names[n])
		n++;
	for (i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i == 0 ? "" : i + 1 < n ? ", " : " or ",
			names[i]);
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage_error(c, "%s is needed", list);
	return cli_usage_error(c, "unknown command '%s': %s", argv[1], list);
}

bool known(const char *word, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(word, *words) == 0)
			return true;
	return false;
}

int cli_common_opt(cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 'U':
		c->url = arg;
		return 1;
	case 'J':
		c->json = true;
		return 1;
	case 'N':
		c->color_mode = -1;
		return 1;
	case 'C':
		if (strcmp(arg, "auto") == 0)
			c->color_mode = 0;
		else if (strcmp(arg, "always") == 0)
			c->color_mode = 1;
		else if (strcmp(arg, "never") == 0)
			c->color_mode = -1;
		else
			return -1;
		return 1;
	}
	return 0;
}

void cli_settle(cli *c)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	/* Each stream is coloured by whether it is a terminal itself: on a terminal,
	 * `dal ... 2>err.log` must not write escapes into the log. */
	if (c->color_mode > 0)
		c->color = c->color_err = true;
	else if (c->color_mode < 0 || (no && *no) || (term && strcmp(term, "dumb") == 0))
		c->color = c->color_err = false;
	else {
		c->color = isatty(STDOUT_FILENO) && !c->json;
		c->color_err = isatty(STDERR_FILENO);
	}
	c->progress = isatty(STDERR_FILENO) != 0;
}

int cli_open(cli *c)
{
	dal_config cfg;

	if (c->db)
		return CLI_OK;
	if (!c->url)
		c->url = getenv("DATABASE_URL");
	if (!c->url || !*c->url)
		c->url = "sqlite:///./app.db";
	remember_secret(c->url);
	if (dal_config_from_env(&cfg) < 0)
		return cli_fail(c, "reading the DAL_* environment");
	/* A shell command should fail fast on a server that is not there. */
	if (!getenv("DAL_CONNECT_RETRIES"))
		cfg.connect_retries = 1;
	if (!getenv("DAL_CONNECT_TIMEOUT"))
		cfg.connect_timeout_s = 5;
	cfg.pool_size = 2;
	if (dal_open(&c->db, c->url, &cfg) < 0) {
		int rc = cli_fail(c, "cannot open the database");
		int code = dal_error_last()->code;
		return code == DAL_EINVAL || code == DAL_EUNSUPPORTED ? rc : CLI_UNAVAILABLE;
	}
	return CLI_OK;
}

int cli_parse(cli *c, int argc, char **argv, const struct option *opts, const char *help, cli_opt_fn each, void *st)
{
	int opt, r;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if ((r = cli_common_opt(c, opt, optarg)) < 0)
			return cli_usage_error(c, "--color takes auto, always or never, not '%s'", optarg);
		if (r > 0)
			continue;
		if (opt == 'h') {
			fputs(help, stdout);
			return CLI_OK;
		}
		if (opt == ':' || opt == '?')
			return bad_option(c, opt, argv);
		if ((r = each ? each(c, opt, optarg, st) : CLI_USAGE) != -1)
			return r;
	}
	cli_settle(c);
	return -1;
}

/* ---- tables named on the command line ---- */

static const char *catalog_sql(const char *engine)
{
	if (strcmp(engine, "sqlite") == 0)
		return "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?";
	return "SELECT table_name FROM information_schema.tables "
	       "WHERE table_schema = current_schema() AND table_name = ?";
}

int cli_table(cli *c, const char *table, char **quoted)
{
	dal_value p = dal_text(table);
	dal_result *res = NULL;
	char *q, *o;
	const char *s;
	int rc;

	*quoted = NULL;
	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	if (dal_query(&res, c->db, catalog_sql(dal_db_engine(c->db)), &p, 1) < 0)
		return cli_fail(c, "reading the catalog");
	if (dal_result_rows(res) == 0) {
		char *e = out_escape(table, strlen(table));
		dal_result_free(res);
		rc = cli_error(c, DAL_ENOTFOUND, "checking the table", "no table named '%s' in the database", e ? e : "");
		free(e);
		return rc;
	}
	dal_result_free(res);
	/* Known to the catalog; still quoted, doubling any quote inside. */
	if (!(q = o = malloc(strlen(table) * 2 + 3)))
		return CLI_FAIL;
	*o++ = '"';
	for (s = table; *s; s++) {
		if (*s == '"')
			*o++ = '"';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	*quoted = q;
	return CLI_OK;
}

/* dal's warnings, one line each on stderr, over a progress line rather than after
 * it; the URL's password scrubbed as in every other message. */
static void log_line(dal_log_level level, const char *message, void *payload)
{
	const cli *c = payload;
	char *msg;
	size_t n;

	if (level < DAL_LOG_WARN || !(msg = scrub(message)))
		return;
	for (n = strlen(msg); n && msg[n - 1] == '\n'; n--)
		msg[n - 1] = '\0';
	fprintf(stderr, "%sdal: %s: %s\n", c->progress ? "\r\033[K" : "", level == DAL_LOG_WARN ? "warning" : "error",
		msg);
	free(msg);
}

/* ---- dispatch ---- */

static const struct command {
	const char *name;
	int (*run)(cli *c, int argc, char **argv);
} commands[] = {
	{ "sql", cmd_sql }, { "health", cmd_health }, { "metrics", cmd_metrics }, { "migrate", cmd_migrate },
	{ "audit", cmd_audit }, { "history", cmd_history }, { "show", cmd_show },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { "version", no_argument, NULL, 'V' }, { 0 } };
	cli c = { .prog = "dal" };
	char prog[64];
	size_t i;
	int opt, rc;

	dal_log_set_handler(log_line, &c);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		int r = cli_common_opt(&c, opt, optarg);
		if (r < 0)
			return cli_usage_error(&c, "--color takes auto, always or never, not '%s'", optarg);
		if (r > 0)
			continue;
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return CLI_OK;
		}
		if (opt == 'V') {
			printf("dal %s\n", dal_version());
			return CLI_OK;
		}
		return bad_option(&c, opt, argv);
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		fputs(usage_text, stdout);
		return CLI_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		snprintf(prog, sizeof(prog), "dal %s", commands[i].name);
		c.prog = prog;
		rc = commands[i].run(&c, argc - optind, argv + optind);
		dal_close(c.db);
		dal_log_set_handler(NULL, NULL);
		fflush(stdout);
		return rc;
	}
	return cli_usage_error(&c, "unknown command '%s'", argv[optind]);
}
