/* dal sql, dal health, dal metrics. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "output.h"

#define MAX_PARAMS 64

static const char sql_help[] =
	"usage: dal sql [--param VALUE]... [--json] STATEMENT\n"
	"\n"
	"Run one SQL statement and print its rows as a table (or, for a statement that\n"
	"returns no rows, how many rows it changed). Parameters are written `?` in the\n"
	"statement and bound in order, never pasted into the text.\n"
	"\n"
	"  --param VALUE   the next parameter: an integer is bound as an integer, anything\n"
	"                  else as text; force a type with int:, real:, text:, bool: (true,\n"
	"                  false), ts: (ISO-8601 UTC), or give null: for NULL\n";

typedef struct sql_opts {
	dal_value params[MAX_PARAMS];
	size_t n;
} sql_opts;

static int typed_param(cli *c, dal_value *v, const char *arg)
{
	static const char *const kinds[] = { "int", "real", "text", "bool", "ts", "null", NULL };
	const char *colon = strchr(arg, ':'), *val = colon ? colon + 1 : arg;
	char kind[8] = "";
	int64_t i;
	double d;
	char *end;

	if (colon && (size_t)(colon - arg) < sizeof(kind))
		snprintf(kind, sizeof(kind), "%.*s", (int)(colon - arg), arg);
	/* Only a type's name before the colon types the value: "12:30" is text. */
	if (!known(kind, kinds)) {
		*v = cli_parse_int(arg, &i) ? dal_int(i) : dal_text(arg);
		return -1;
	}
	if (!strcmp(kind, "text"))
		*v = dal_text(val);
	else if (!strcmp(kind, "int") && cli_parse_int(val, &i))
		*v = dal_int(i);
	else if (!strcmp(kind, "real") && *val && (d = strtod(val, &end), !*end))
		*v = dal_double(d);
	else if (!strcmp(kind, "bool") && (!strcmp(val, "true") || !strcmp(val, "false")))
		*v = dal_bool(val[0] == 't');
	else if (!strcmp(kind, "ts") && dal_timestamp_parse(&i, val) == DAL_OK)
		*v = dal_timestamp(i);
	else if (!strcmp(kind, "null") && !*val)
		*v = dal_null();
	else
		return cli_usage_error(c, "--param '%s': not a %s value", arg, kind);
	return -1;
}

static int sql_opt(cli *c, int opt, const char *arg, void *st)
{
	sql_opts *o = st;

	if (opt != 'p')
		return CLI_USAGE;
	if (o->n == MAX_PARAMS)
		return cli_usage_error(c, "at most %d parameters", MAX_PARAMS);
	return typed_param(c, &o->params[o->n++], arg);
}

/* Past spaces, comments and opening parentheses. */
static const char *skip_space(const char *s)
{
	const char *e;

	for (;;) {
		while (isspace((unsigned char)*s) || *s == '(')
			s++;
		if (s[0] == '-' && s[1] == '-')
			s += strcspn(s, "\n");
		else if (s[0] == '/' && s[1] == '*')
			s = (e = strstr(s + 2, "*/")) != NULL ? e + 2 : s + strlen(s);
		else
			return s;
	}
}

/* The next word at or after *p outside quotes and comments: *p at its start, its
 * length returned; 0 at the end of the text. */
static size_t next_word(const char **p)
{
	const char *s = *p, *e;
	size_t n;

	while (*(s = skip_space(s))) {
		if (*s == '\'' || *s == '"') {
			/* A doubled quote inside is two quoted runs back to back. */
			s = (e = strchr(s + 1, *s)) != NULL ? e + 1 : s + strlen(s);
			continue;
		}
		for (n = 0; isalnum((unsigned char)s[n]) || s[n] == '_'; n++)
			;
		if (n && isalpha((unsigned char)*s)) {
			*p = s;
			return n;
		}
		s += n ? n : 1;
	}
	*p = s;
	return 0;
}

static bool word_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Statements that hand back rows go through dal_query; the rest through dal_exec,
 * which counts the rows they changed. The first word decides, or a RETURNING
 * anywhere; comments and literals are not words. */
static bool returns_rows(const char *sql)
{
	static const char *const words[] = { "select", "with", "values", "pragma", "show", "explain",
		"table", "describe", "summarize", "from" };
	const char *s = sql;
	size_t i, n = next_word(&s);

	for (i = 0; n && i < sizeof(words) / sizeof(words[0]); i++)
		if (word_is(s, n, words[i]))
			return true;
	for (; n; s += n, n = next_word(&s))
		if (word_is(s, n, "returning"))
			return true;
	return false;
}

static int result_json(const dal_result *res)
{
	size_t nr = dal_result_rows(res), nc = dal_result_columns(res), r, i;
	json_t *cols = json_array(), *rows = json_array();

	for (i = 0; i < nc; i++)
		json_array_append_new(cols, out_jstr(dal_result_column_name(res, i)));
	for (r = 0; r < nr; r++) {
		json_t *row = json_array();
		for (i = 0; i < nc; i++)
			json_array_append_new(row, out_value_json(dal_result_get(res, r, i)));
		json_array_append_new(rows, row);
	}
	return out_json(json_pack("{s:o, s:o, s:I}", "columns", cols, "rows", rows, "row_count", (json_int_t)nr));
}

/* Numbers right-aligned, as psql and sqlite3 show them. */
static int result_table(cli *c, const dal_result *res)
{
	size_t nr = dal_result_rows(res), nc = dal_result_columns(res), r, i;
	const char **names = calloc(nc ? nc : 1, sizeof(char *));
	char **cells = calloc(nc ? nc : 1, sizeof(char *));
	out_table *t = NULL;
	int rc = CLI_FAIL;

	if (!names || !cells)
		goto done;
	for (i = 0; i < nc; i++)
		names[i] = dal_result_column_name(res, i);
	if (!(t = out_table_new(nc, names)))
		goto done;
	for (r = 0; r < nr; r++) {
		for (i = 0; i < nc; i++) {
			const dal_value *v = dal_result_get(res, r, i);
			if (v && (v->type == DAL_TYPE_INT || v->type == DAL_TYPE_DOUBLE))
				out_table_right(t, i);
			cells[i] = out_value_text(v);
		}
		out_table_add(t, (const char *const *)cells);
		for (i = 0; i < nc; i++)
			free(cells[i]);
	}
	out_table_print(c, t, stdout, true);
	rc = CLI_OK;
done:
	out_table_free(t);
	free(names);
	free(cells);
	return rc;
}

int cmd_sql(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { "param", required_argument, NULL, 'p' }, { 0 } };
	sql_opts o = { .n = 0 };
	dal_result *res = NULL;
	int64_t changes = 0;
	int rc;

	if ((rc = cli_parse(c, argc, argv, opts, sql_help, sql_opt, &o)) != -1)
		return rc;
	if (argc - optind != 1)
		return cli_usage_error(c, argc == optind ? "a statement is needed" : "one statement, in one argument");
	/* Refused here: the engines disagree on an empty statement (PostgreSQL ran none). */
	if (!next_word(&(const char *){ argv[optind] }))
		return cli_usage_error(c, "the statement is empty (only spaces, comments or ';')");
	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	if (!returns_rows(argv[optind])) {
		if (dal_exec(&changes, c->db, argv[optind], o.params, o.n) < 0)
			return cli_fail(c, "the statement failed");
		if (c->json)
			return out_json(json_pack("{s:I}", "changes", (json_int_t)changes));
		printf("%lld row%s changed\n", (long long)changes, changes == 1 ? "" : "s");
		return CLI_OK;
	}
	if (dal_query(&res, c->db, argv[optind], o.params, o.n) < 0)
		return cli_fail(c, "the statement failed");
	rc = c->json ? result_json(res) : result_table(c, res);
	dal_result_free(res);
	return rc;
}

/* ---- health ---- */

static const char health_help[] =
	"usage: dal health [--json]\n"
	"\n"
	"Connect, make one round trip, count the tables and show the pool. Exits 0 when\n"
	"the database is healthy, 4 when it cannot be reached.\n";

int cmd_health(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { 0 } };
	dal_health h = DAL_HEALTH_INIT;
	char lat[32], tables[32], pool[96], at[OUT_TIME_BUFSIZE];
	int rc;

	if ((rc = cli_parse(c, argc, argv, opts, health_help, NULL, NULL)) != -1)
		return rc;
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	if (dal_health_check(&h, c->db) < 0)
		return cli_fail(c, "health check");
	rc = h.healthy ? CLI_OK : CLI_UNAVAILABLE;
	if (c->json) {
		char *text = NULL;
		json_t *doc;
		if (dal_health_json(&text, c->db) < 0)
			return cli_fail(c, "health check");
		doc = out_json_text(text);
		dal_string_free(text);
		/* The status of this check, not of the one dal_health_json() made just after. */
		json_object_set_new(doc, "healthy", json_boolean(h.healthy));
		return out_json(doc) == CLI_OK ? rc : CLI_FAIL;
	}
	snprintf(lat, sizeof(lat), "%.3f ms", h.connection_latency_s * 1e3);
	snprintf(tables, sizeof(tables), "%lld", (long long)h.table_count);
	snprintf(pool, sizeof(pool), "size %d, open %d, checked out %d", h.pool.size, h.connection_count,
		h.pool.checked_out);
	{
		const char *keys[] = { "healthy", "engine", "url", "latency", "tables", "pool", "error", "checked at" };
		const char *vals[] = { h.healthy ? "yes" : "no", h.database_type, h.url, lat, tables, pool,
			h.error[0] ? h.error : "-", out_time(at, h.checked_at_us) };
		out_kv(c, stdout, keys, vals, sizeof(keys) / sizeof(keys[0]));
	}
	return rc;
}

/* ---- metrics ---- */

static const char metrics_help[] =
	"usage: dal metrics [--prometheus | --json]\n"
	"\n"
	"The query metrics of this process's connection to the database, after one\n"
	"health check (a round trip): the shape a service exposes, with its figures.\n"
	"\n"
	"  --prometheus   the Prometheus text exposition format (0.0.4)\n";

static int metrics_opt(cli *c, int opt, const char *arg, void *st)
{
	(void)c;
	(void)arg;
	if (opt != 'P')
		return CLI_USAGE;
	*(bool *)st = true;
	return -1;
}

int cmd_metrics(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { "prometheus", no_argument, NULL, 'P' }, { 0 } };
	dal_health h = DAL_HEALTH_INIT;
	dal_metrics_summary m = DAL_METRICS_SUMMARY_INIT;
	bool prom = false;
	char *text = NULL;
	int rc;

	if ((rc = cli_parse(c, argc, argv, opts, metrics_help, metrics_opt, &prom)) != -1)
		return rc;
	if (optind != argc)
		return cli_usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (prom && c->json)
		return cli_usage_error(c, "--prometheus and --json are two formats: give one");
	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	if (dal_health_check(&h, c->db) < 0)
		return cli_fail(c, "health check");
	if (prom || c->json) {
		if ((prom ? dal_metrics_prometheus(&text, c->db) : dal_metrics_json(&text, c->db)) < 0)
			return cli_fail(c, "reading the metrics");
		rc = prom ? (fputs(text, stdout) < 0 ? CLI_FAIL : CLI_OK) : out_json(out_json_text(text));
		dal_string_free(text);
		return rc;
	}
	if (dal_metrics_summary_get(&m, c->db) < 0)
		return cli_fail(c, "reading the metrics");
	{
		char q[32], e[32], s[32], avg[32], p95[32], co[32];
		const char *keys[] = { "queries", "errors", "slow", "average", "p95", "checkouts" };
		const char *vals[] = { q, e, s, avg, p95, co };
		snprintf(q, sizeof(q), "%llu", (unsigned long long)m.query_count);
		snprintf(e, sizeof(e), "%llu", (unsigned long long)m.error_count);
		snprintf(s, sizeof(s), "%llu", (unsigned long long)m.slow_query_count);
		snprintf(avg, sizeof(avg), "%.3f ms", m.avg_query_s * 1e3);
		snprintf(p95, sizeof(p95), "%.3f ms", m.p95_s * 1e3);
		snprintf(co, sizeof(co), "%llu", (unsigned long long)m.pool_checkouts);
		out_kv(c, stdout, keys, vals, sizeof(keys) / sizeof(keys[0]));
	}
	return CLI_OK;
}
