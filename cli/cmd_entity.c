/* dal history TABLE ID and dal show TABLE ID [--as-of TIME]: one entity, by a
 * table name checked against the catalog and an id bound as a parameter. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"
#include "audit_out.h"

static const char history_help[] =
	"usage: dal history TABLE ID [--json]\n"
	"\n"
	"The entity's changes from the audit trail, oldest first: when, who, what, and\n"
	"for each change the values it set (was -> now).\n";

static const char show_help[] =
	"usage: dal show TABLE ID [--as-of TIME] [--json]\n"
	"\n"
	"The entity's row as it is now (soft-deleted rows too, with their deleted_at),\n"
	"or, with --as-of, as it was at TIME, rebuilt from the audit trail.\n"
	"\n"
	"  --as-of TIME   ISO-8601 UTC (2026-12-05T10:00:00Z); changes at or before it count\n";

/* TABLE and ID, checked; *quoted owned by the caller. */
static int entity_args(cli *c, int argc, char **argv, char **quoted, int64_t *id)
{
	*quoted = NULL;
	if (argc - optind != 2)
		return cli_usage_error(c, "TABLE and ID are needed");
	if (!cli_parse_int(argv[optind + 1], id))
		return cli_usage_error(c, "ID is a whole number, not '%s'", argv[optind + 1]);
	return cli_table(c, argv[optind], quoted);
}

/* The entity's audit rows, oldest first by reading the list backwards; @p until exclusive, 0: none. */
static int entity_logs(cli *c, dal_audit_logs **logs, const char *table, int64_t id, int64_t until)
{
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;

	f.resource_type = table;
	f.resource_id = id;
	f.has_resource_id = true;
	f.end = until;
	if (dal_audit_query(logs, c->db, &f) < 0)
		return cli_fail(c, "reading the audit trail");
	return CLI_OK;
}

int cmd_history(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { 0 } };
	dal_audit_logs *logs = NULL;
	char *quoted = NULL;
	int64_t id;
	int rc;

	if ((rc = cli_parse(c, argc, argv, opts, history_help, NULL, NULL)) != -1)
		return rc;
	if ((rc = entity_args(c, argc, argv, &quoted, &id)) != CLI_OK)
		return rc;
	free(quoted);
	if ((rc = entity_logs(c, &logs, argv[optind], id, 0)) != CLI_OK)
		return rc;
	if (c->json)
		rc = out_json(json_pack("{s:o, s:I, s:I, s:o}", "table", out_jstr(argv[optind]), "id", (json_int_t)id, "count",
			(json_int_t)dal_audit_logs_count(logs), "changes", audit_entries_json(logs, true)));
	else {
		rc = audit_print(c, logs, true, true);
		if (dal_audit_logs_count(logs) == 0)
			fprintf(stderr, "%s: no audit rows for %s #%lld (only repositories opened with DAL_AUDIT record them)\n",
				c->prog, argv[optind], (long long)id);
	}
	dal_audit_logs_free(logs);
	return rc;
}

static bool is(const char *action, const char *what)
{
	/* BULK_CREATE counts as CREATE, and so on. */
	if (action && strncmp(action, "BULK_", 5) == 0)
		action += 5;
	return action && strcmp(action, what) == 0;
}

/* Replay the audit rows, oldest first, as the library's dal_repo_get_as_of() does:
 * a CREATE starts the row, DELETE ends it, SOFT_DELETE hides and RESTORE shows it,
 * and each row's new values are laid over it. NULL when it was not live. */
static json_t *replay(const dal_audit_logs *logs, int64_t id)
{
	size_t n = dal_audit_logs_count(logs), i;
	json_t *row = NULL;
	bool live = false;

	for (i = n; i-- > 0;) {
		const dal_audit_log *e = dal_audit_logs_at(logs, i);
		json_t *nv;
		if (is(e->action, "CREATE")) {
			json_decref(row);
			row = json_pack("{s:I}", "id", (json_int_t)id);
			live = true;
		} else if (is(e->action, "DELETE")) {
			live = false;
			continue;
		} else if (is(e->action, "SOFT_DELETE"))
			live = false;
		else if (is(e->action, "RESTORE"))
			live = true;
		if (row && e->new_values && (nv = json_loads(e->new_values, 0, NULL)) != NULL) {
			json_object_update(row, nv);
			json_decref(nv);
		}
	}
	if (row && !live) {
		json_decref(row);
		row = NULL;
	}
	if (row)
		json_object_set_new(row, "id", json_integer(id));
	return row;
}

static int print_object(cli *c, const char *table, int64_t id, json_t *row, const char *as_of)
{
	size_t n = json_object_size(row), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(char *)), **vals = calloc(n ? n : 1, sizeof(char *));
	char **owned = calloc(n ? n : 1, sizeof(char *));
	const char *key;
	json_t *v;
	int rc = CLI_FAIL;

	if (c->json) {
		rc = out_json(json_pack("{s:o, s:I, s:o, s:O}", "table", out_jstr(table), "id", (json_int_t)id, "as_of",
			as_of ? json_string(as_of) : json_null(), "row", row));
		goto done;
	}
	if (!keys || !vals || !owned)
		goto done;
	json_object_foreach(row, key, v) {
		keys[i] = key;
		if (json_is_string(v))
			vals[i] = json_string_value(v);
		else if (!json_is_null(v))
			vals[i] = owned[i] = json_dumps(v, JSON_ENCODE_ANY);
		i++;
	}
	out_kv(c, stdout, keys, vals, i);
	rc = CLI_OK;
done:
	for (i = 0; owned && i < n; i++)
		free(owned[i]);
	free(owned);
	free(keys);
	free(vals);
	return rc;
}

/* The row in the table now, as a JSON object keyed by column (NULL: no such row). */
static int current_row(cli *c, json_t **row, const char *quoted, int64_t id)
{
	size_t cap = strlen(quoted) + 32, i;
	char *sql = malloc(cap);
	dal_value p = dal_int(id);
	dal_result *res = NULL;
	int err;

	*row = NULL;
	if (!sql)
		return cli_error(c, DAL_ENOMEM, "reading the row", "out of memory");
	snprintf(sql, cap, "SELECT * FROM %s WHERE id = ?", quoted);
	err = dal_query(&res, c->db, sql, &p, 1);
	free(sql);
	if (err < 0)
		return cli_fail(c, "reading the row");
	if (dal_result_rows(res) > 0) {
		*row = json_object();
		for (i = 0; i < dal_result_columns(res); i++) {
			/* A key that is not UTF-8 would be refused: it is keyed by its escaped text. */
			const char *name = dal_result_column_name(res, i);
			char *key = out_escape(name, strlen(name));
			json_object_set_new(*row, key ? key : "", out_value_json(dal_result_get(res, 0, i)));
			free(key);
		}
	}
	dal_result_free(res);
	return CLI_OK;
}

/* Every key @p new_values (an audit row's JSON) records as "[REDACTED]", redacted in @p row. */
static void redact_keys(json_t *row, const char *new_values, size_t len)
{
	json_t *nv = new_values ? json_loadb(new_values, len, 0, NULL) : NULL, *v;
	const char *key;

	json_object_foreach(nv, key, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), "[REDACTED]") == 0 && json_object_get(row, key))
			json_object_set_new(row, key, json_string("[REDACTED]"));
	}
	json_decref(nv);
}

/* Columns the audit trail records as "[REDACTED]" are DAL_SENSITIVE in the program's
 * model: show them the same way here. This entity's rows may not say (a value set
 * outside the audit trail while the row recorded a null, rows cleaned up), so the
 * table's latest rows that redact anything are read too. Without an audit trail
 * there is nothing to go by, and the row is shown as the table holds it. */
static void redact_sensitive(cli *c, json_t *row, const char *table, int64_t id)
{
	static const char table_sql[] = "SELECT new_values FROM audit_logs WHERE resource_type = ? "
		"AND CAST(new_values AS TEXT) LIKE '%[REDACTED]%' ORDER BY id DESC LIMIT 100";
	dal_audit_filter f = DAL_AUDIT_FILTER_INIT;
	dal_audit_logs *logs = NULL;
	dal_value p = dal_text(table);
	dal_result *res = NULL;
	size_t i;

	f.resource_type = table;
	f.resource_id = id;
	f.has_resource_id = true;
	if (dal_audit_query(&logs, c->db, &f) == DAL_OK) {
		for (i = 0; i < dal_audit_logs_count(logs); i++) {
			const char *nv = dal_audit_logs_at(logs, i)->new_values;
			redact_keys(row, nv, nv ? strlen(nv) : 0);
		}
	}
	if (dal_query(&res, c->db, table_sql, &p, 1) == DAL_OK) {
		for (i = 0; i < dal_result_rows(res); i++) {
			const dal_value *v = dal_result_get(res, i, 0);
			if (v && (v->type == DAL_TYPE_TEXT || v->type == DAL_TYPE_JSON))
				redact_keys(row, v->v.s, v->len);
		}
	}
	dal_error_clear();
	dal_audit_logs_free(logs);
	dal_result_free(res);
}

static int as_of_opt(cli *c, int opt, const char *arg, void *st)
{
	if (opt != 'a')
		return CLI_USAGE;
	*(const char **)st = arg;
	(void)c;
	return -1;
}

int cmd_show(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { "as-of", required_argument, NULL, 'a' }, { 0 } };
	const char *as_of = NULL;
	dal_audit_logs *logs = NULL;
	char *quoted = NULL, iso[OUT_TIME_BUFSIZE];
	json_t *row = NULL;
	int64_t id, when = 0;
	int rc;

	if ((rc = cli_parse(c, argc, argv, opts, show_help, as_of_opt, &as_of)) != -1)
		return rc;
	if (as_of && dal_timestamp_parse(&when, as_of) < 0)
		return cli_usage_error(c, "--as-of takes an ISO-8601 UTC time (2026-12-05T10:00:00Z), not '%s'", as_of);
	if ((rc = entity_args(c, argc, argv, &quoted, &id)) != CLI_OK)
		return rc;
	if (!as_of) {
		if ((rc = current_row(c, &row, quoted, id)) == CLI_OK && row)
			redact_sensitive(c, row, argv[optind], id);
	} else if ((rc = entity_logs(c, &logs, argv[optind], id, when + 1)) == CLI_OK)
		row = replay(logs, id);
	if (rc == CLI_OK && !row) {
		rc = as_of ? cli_error(c, DAL_ENOTFOUND, "reading the row", "table '%s' had no live row with id %lld at %s",
				argv[optind], (long long)id, out_time(iso, when))
			   : cli_error(c, DAL_ENOTFOUND, "reading the row", "table '%s' has no row with id %lld",
				argv[optind], (long long)id);
	}
	if (rc == CLI_OK)
		rc = print_object(c, argv[optind], id, row, as_of ? out_time(iso, when) : NULL);
	json_decref(row);
	dal_audit_logs_free(logs);
	free(quoted);
	return rc;
}
