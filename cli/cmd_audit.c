/* dal audit list|cleanup|verify. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "audit_out.h"

static const char audit_help[] =
	"usage: dal audit list [FILTERS] [--limit N] [--offset N]\n"
	"       dal audit cleanup --retention-days N\n"
	"       dal audit verify\n"
	"\n"
	"  list       audit rows, newest first (at most 100 unless --limit says otherwise;\n"
	"             --limit 0: all). Filters, combined with AND:\n"
	"               --resource-type TABLE  --resource-id ID  --user USER  --action ACTION\n"
	"               --correlation-id ID  --since TIME (inclusive)  --until TIME (exclusive)\n"
	"             TIME is ISO-8601 UTC: 2026-12-05, 2026-12-05T10:00:00Z\n"
	"  cleanup    delete rows older than N days from the start of the chain; the chain\n"
	"             stays verifiable\n"
	"  verify     walk the hash chain; exits 3 and names the first row at fault when\n"
	"             the trail was altered outside dal\n";

typedef struct audit_opts {
	dal_audit_filter f;
	int64_t retention;
	bool has_retention;
} audit_opts;

static int want_int(cli *c, const char *opt, const char *arg, int64_t *out, int64_t min)
{
	if (!cli_parse_int(arg, out) || *out < min)
		return cli_usage_error(c, "--%s takes a whole number, %lld or more, not '%s'", opt, (long long)min, arg);
	return -1;
}

/* DuckDB refuses a LIMIT or OFFSET above 2^62. No table holds that many rows: a
 * larger --limit is all rows (0) and a larger --offset is past the end, as asked. */
static int want_rows(cli *c, const char *opt, const char *arg, int64_t *out)
{
	const int64_t most = (int64_t)1 << 62;
	int rc = want_int(c, opt, arg, out, 0);

	if (rc == -1 && *out > most)
		*out = strcmp(opt, "limit") == 0 ? 0 : most;
	return rc;
}

static int want_time(cli *c, const char *opt, const char *arg, int64_t *out)
{
	if (dal_timestamp_parse(out, arg) < 0)
		return cli_usage_error(c, "--%s takes an ISO-8601 UTC time (2026-12-05 or 2026-12-05T10:00:00Z), not '%s'",
			opt, arg);
	return -1;
}

static int audit_opt(cli *c, int opt, const char *arg, void *st)
{
	audit_opts *o = st;
	int rc;

	switch (opt) {
	case 't': o->f.resource_type = arg; return -1;
	case 'i': o->f.has_resource_id = true; return want_int(c, "resource-id", arg, &o->f.resource_id, INT64_MIN);
	case 'u': o->f.user_id = arg; return -1;
	case 'a': o->f.action = arg; return -1;
	case 'c': o->f.correlation_id = arg; return -1;
	case 's': return want_time(c, "since", arg, &o->f.start);
	case 'e':
		rc = want_time(c, "until", arg, &o->f.end);
		/* An end of 0 would be no end at all: before 1970-01-01 is before -1 us. */
		o->f.end = rc == -1 && o->f.end == 0 ? -1 : o->f.end;
		return rc;
	case 'l': return want_rows(c, "limit", arg, &o->f.limit);
	case 'o': return want_rows(c, "offset", arg, &o->f.offset);
	case 'r': o->has_retention = true; return want_int(c, "retention-days", arg, &o->retention, 0);
	}
	return CLI_USAGE;
}

static int list(cli *c, const audit_opts *o)
{
	dal_audit_logs *logs = NULL;
	int rc;

	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	if (dal_audit_query(&logs, c->db, &o->f) < 0)
		return cli_fail(c, "reading the audit trail");
	rc = c->json ? out_json(json_pack("{s:I, s:o}", "count", (json_int_t)dal_audit_logs_count(logs), "entries",
		audit_entries_json(logs, false))) : audit_print(c, logs, false, false);
	dal_audit_logs_free(logs);
	return rc;
}

static int cleanup(cli *c, const audit_opts *o)
{
	out_progress *p;
	int64_t deleted = 0;
	int rc, err;

	if (o->retention > 100000)
		return cli_usage_error(c, "--retention-days %lld is more than the calendar holds", (long long)o->retention);
	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	p = out_progress_start(c, "cleaning up the audit trail");
	err = dal_audit_cleanup(&deleted, c->db, (int)o->retention);
	out_progress_stop(p);
	if (err < 0) {
		fprintf(stderr, "%s: %lld rows deleted before the failure\n", c->prog, (long long)deleted);
		return cli_fail(c, "deleting old rows");
	}
	if (c->json)
		return out_json(json_pack("{s:I, s:I}", "deleted", (json_int_t)deleted, "retention_days",
			(json_int_t)o->retention));
	printf("%lld audit row%s deleted (older than %lld days)\n", (long long)deleted, deleted == 1 ? "" : "s",
		(long long)o->retention);
	return CLI_OK;
}

static int verify(cli *c)
{
	dal_audit_report r;
	out_progress *p;
	int rc, err;

	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	p = out_progress_start(c, "verifying the audit chain");
	err = dal_audit_verify(&r, c->db);
	out_progress_stop(p);
	if (err < 0)
		return cli_fail(c, "walking the chain");
	rc = r.ok ? CLI_OK : CLI_TAMPERED;
	if (!r.ok)
		fprintf(stderr, "%s: the audit chain was altered at row %lld: %s\n", c->prog, (long long)r.bad_id, r.reason);
	if (c->json)
		return out_json(json_pack("{s:b, s:I, s:o, s:s, s:I, s:s}", "ok", r.ok, "rows_checked",
			(json_int_t)r.rows_checked, "bad_id", r.ok ? json_null() : json_integer(r.bad_id), "reason", r.reason,
			"head_id", (json_int_t)r.head_id, "head_hash", r.head_hash)) == CLI_OK ? rc : CLI_FAIL;
	if (r.ok)
		printf("%saudit chain intact%s: %lld rows checked, head #%lld %s\n", out_sgr(c, OUT_GREEN), out_reset(c),
			(long long)r.rows_checked, (long long)r.head_id, r.head_hash);
	else
		printf("%saudit chain TAMPERED%s at row %lld: %s (%lld rows checked)\n", out_sgr(c, OUT_RED), out_reset(c),
			(long long)r.bad_id, r.reason, (long long)r.rows_checked);
	return rc;
}

int cmd_audit(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS,
		{ "resource-type", required_argument, NULL, 't' }, { "resource-id", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' }, { "action", required_argument, NULL, 'a' },
		{ "correlation-id", required_argument, NULL, 'c' }, { "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'e' }, { "limit", required_argument, NULL, 'l' },
		{ "offset", required_argument, NULL, 'o' }, { "retention-days", required_argument, NULL, 'r' }, { 0 } };
	audit_opts o = { .f = DAL_AUDIT_FILTER_INIT };
	const char *action;
	bool filters;
	int rc;

	o.f.limit = 100;
	if ((rc = cli_subcommand(c, argc, argv, (const char *const[]){ "list", "cleanup", "verify", NULL }, audit_help,
		     &action)) != -1)
		return rc;
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, audit_help, audit_opt, &o)) != -1)
		return rc;
	if (optind != argc - 1)
		return cli_usage_error(c, "unexpected argument '%s'", argv[1 + optind]);
	filters = o.f.resource_type || o.f.has_resource_id || o.f.user_id || o.f.action || o.f.correlation_id ||
		o.f.start || o.f.end || o.f.limit != 100 || o.f.offset;
	if (o.f.start && o.f.end && o.f.end <= o.f.start)
		return cli_usage_error(c, "--until must come after --since");
	if (!strcmp(action, "list")) {
		if (o.has_retention)
			return cli_usage_error(c, "--retention-days goes with cleanup");
		return list(c, &o);
	}
	if (filters)
		return cli_usage_error(c, "filters, --limit and --offset go with list");
	if (!strcmp(action, "cleanup")) {
		if (!o.has_retention)
			return cli_usage_error(c, "cleanup needs --retention-days N");
		return cleanup(c, &o);
	}
	if (o.has_retention)
		return cli_usage_error(c, "--retention-days goes with cleanup");
	return verify(c);
}
