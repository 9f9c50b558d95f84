#include "audit_out.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"

static const dal_audit_log *entry(const dal_audit_logs *logs, size_t i, bool reverse)
{
	size_t n = dal_audit_logs_count(logs);

	return dal_audit_logs_at(logs, reverse ? n - 1 - i : i);
}

json_t *audit_entries_json(const dal_audit_logs *logs, bool reverse)
{
	json_t *a = json_array();
	size_t i, n = dal_audit_logs_count(logs);
	char t[OUT_TIME_BUFSIZE];

	for (i = 0; i < n; i++) {
		const dal_audit_log *e = entry(logs, i, reverse);
		json_t *o = json_object();
		json_object_set_new(o, "id", json_integer(e->id));
		json_object_set_new(o, "timestamp", json_string(out_time(t, e->timestamp)));
		json_object_set_new(o, "user_id", out_jstr(e->user_id));
		json_object_set_new(o, "action", out_jstr(e->action));
		json_object_set_new(o, "resource_type", out_jstr(e->resource_type));
		json_object_set_new(o, "resource_id", json_integer(e->resource_id));
		json_object_set_new(o, "old_values", e->old_values ? out_json_text(e->old_values) : json_null());
		json_object_set_new(o, "new_values", e->new_values ? out_json_text(e->new_values) : json_null());
		json_object_set_new(o, "session_id", out_jstr(e->session_id));
		json_object_set_new(o, "correlation_id", out_jstr(e->correlation_id));
		json_object_set_new(o, "ip_address", out_jstr(e->ip_address));
		json_object_set_new(o, "user_agent", out_jstr(e->user_agent));
		json_object_set_new(o, "prev_hash", out_jstr(e->prev_hash));
		json_object_set_new(o, "row_hash", out_jstr(e->row_hash));
		json_array_append_new(a, o);
	}
	return a;
}

/* "balance: 120 -> 100, owner: Ann": the fields @p e set that differ from before. */
static char *changes(const dal_audit_log *e)
{
	json_t *nv = e->new_values ? json_loads(e->new_values, 0, NULL) : NULL;
	json_t *ov = e->old_values ? json_loads(e->old_values, 0, NULL) : NULL;
	size_t cap = 256, len = 0;
	char *out = malloc(cap);
	const char *key;
	json_t *v;

	if (!out)
		goto done;
	out[0] = '\0';
	json_object_foreach(nv, key, v) {
		json_t *was = ov ? json_object_get(ov, key) : NULL;
		char *now_s = json_dumps(v, JSON_ENCODE_ANY), *was_s = was ? json_dumps(was, JSON_ENCODE_ANY) : NULL;
		size_t need = strlen(key) + (now_s ? strlen(now_s) : 0) + (was_s ? strlen(was_s) : 0) + 16;
		if (!(was && json_equal(was, v))) {
			if (len + need >= cap) {
				char *n = realloc(out, cap = (len + need) * 2);
				if (!n) {
					free(now_s);
					free(was_s);
					break;
				}
				out = n;
			}
			len += (size_t)sprintf(out + len, "%s%s: %s%s%s", len ? ", " : "", key, was_s ? was_s : "",
				was_s ? " -> " : "", now_s ? now_s : "");
		}
		free(now_s);
		free(was_s);
	}
done:
	json_decref(nv);
	json_decref(ov);
	return out;
}

int audit_print(const cli *c, const dal_audit_logs *logs, bool reverse, bool history)
{
	static const char *const list_headers[] = { "id", "time", "user", "action", "resource", "correlation" };
	static const char *const hist_headers[] = { "id", "time", "user", "action", "changes" };
	size_t i, n = dal_audit_logs_count(logs);
	out_table *t = out_table_new(history ? 5 : 6, history ? hist_headers : list_headers);

	if (!t)
		return CLI_FAIL;
	out_table_right(t, 0);
	for (i = 0; i < n; i++) {
		const dal_audit_log *e = entry(logs, i, reverse);
		char id[32], tm[OUT_TIME_BUFSIZE], res[320], *ch = history ? changes(e) : NULL;
		const char *cells[6] = { id, out_time(tm, e->timestamp), e->user_id, e->action, res, e->correlation_id };
		snprintf(id, sizeof(id), "%lld", (long long)e->id);
		if (history)
			cells[4] = ch ? ch : "";
		else
			snprintf(res, sizeof(res), "%s #%lld", e->resource_type ? e->resource_type : "",
				(long long)e->resource_id);
		out_table_add(t, cells);
		free(ch);
	}
	out_table_print(c, t, stdout, true);
	out_table_free(t);
	return CLI_OK;
}
