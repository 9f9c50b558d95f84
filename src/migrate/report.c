/* The report of a migration call: every version known, from the source and the record. */
#include <stdlib.h>
#include <string.h>

#include "migrate/report.h"
#include "util/error.h"

/* The public report first, so that dal_migrate_report_free gets back the whole. */
typedef struct report {
	dal_migrate_report pub;
	char (*recorded)[65];    /* per item: the checksum in dal_schema_migrations, "" if none */
} report;

static const char empty[] = "";

static char *dup_or_empty(const char *s)
{
	return s && *s ? strdup(s) : (char *)empty;
}

static void free_text(const char *s)
{
	if (s != empty)
		free((char *)s);
}

static void free_items(report *r)
{
	size_t i;

	for (i = 0; i < r->pub.count; i++) {
		free_text(r->pub.items[i].name);
		free_text(r->pub.items[i].checksum);
		free_text(r->pub.items[i].file);
		free_text(r->pub.items[i].applied_by);
	}
	free(r->pub.items);
	free(r->recorded);
	memset(r, 0, sizeof *r);
}

static dal_migration_state state_of(const dal__mig *m, const dal__applied_row *a)
{
	if (!a)
		return DAL_MIGRATION_PENDING;
	if (!m)
		return DAL_MIGRATION_MISSING;
	return strcmp(m->checksum, a->checksum) == 0 ? DAL_MIGRATION_APPLIED : DAL_MIGRATION_CHANGED;
}

static int fill(report *r, size_t k, const dal__mig *m, const dal__applied_row *a)
{
	dal_migration_status *it = &r->pub.items[k];

	it->version = m ? m->version : a->version;
	it->state = state_of(m, a);
	it->name = dup_or_empty(m ? m->name : a->name);
	it->checksum = dup_or_empty(m ? m->checksum : NULL);
	it->file = dup_or_empty(m ? m->file : NULL);
	it->applied_by = dup_or_empty(a ? a->applied_by : NULL);
	it->applied_at = a ? a->applied_at : 0;
	it->duration_ms = a ? a->duration_ms : 0;
	memcpy(r->recorded[k], a ? a->checksum : "", a ? sizeof r->recorded[k] : 1);
	if (!it->name || !it->checksum || !it->file || !it->applied_by)
		return dal__error_nomem();
	if (it->state == DAL_MIGRATION_PENDING)
		r->pub.pending++;
	else if (it->version > r->pub.current_version)
		r->pub.current_version = it->version;
	return 0;
}

/* The source (versions 1..n) and the record (by version) merged, in order. */
static int build(report *r, const dal__mig_set *src, const dal__applied *applied)
{
	size_t most = src->n + applied->n, i = 0, j = 0, k = 0;
	int error = 0;

	memset(r, 0, sizeof *r);
	if (most > 0 && (!(r->pub.items = calloc(most, sizeof *r->pub.items)) ||
	                 !(r->recorded = calloc(most, sizeof *r->recorded))))
		return dal__error_nomem();
	while ((i < src->n || j < applied->n) && error == 0) {
		const dal__mig *m = i < src->n ? &src->v[i] : NULL;
		const dal__applied_row *a = j < applied->n ? &applied->v[j] : NULL;

		if (m && a && a->version != m->version) {
			if (a->version < m->version)
				m = NULL;
			else
				a = NULL;
		}
		i += m != NULL;
		j += a != NULL;
		r->pub.count = k + 1;
		error = fill(r, k++, m, a);
	}
	return error;
}

int dal__report_build(dal_migrate_report **out, const dal__mig_set *src, const dal__applied *applied)
{
	report *r = malloc(sizeof *r);
	int error;

	*out = NULL;
	if (!r)
		return dal__error_nomem();
	if ((error = build(r, src, applied)) < 0) {
		free_items(r);
		free(r);
		return error;
	}
	*out = &r->pub;
	return 0;
}

int dal__report_refresh(dal_migrate_report *rep, const dal__mig_set *src, const dal__applied *applied)
{
	report *r = (report *)rep, fresh;
	size_t i, j;
	int error = build(&fresh, src, applied);

	if (error < 0) {
		free_items(&fresh);
		return error;
	}
	for (i = 0; i < r->pub.count; i++)
		for (j = 0; j < fresh.pub.count && r->pub.items[i].applied_now; j++)
			if (fresh.pub.items[j].version == r->pub.items[i].version)
				fresh.pub.items[j].applied_now = true;
	fresh.pub.applied_now = r->pub.applied_now;
	free_items(r);
	*r = fresh;
	return 0;
}

void dal__report_mark(dal_migrate_report *rep, long long version)
{
	size_t i;

	for (i = 0; i < rep->count; i++)
		if (rep->items[i].version == version && !rep->items[i].applied_now) {
			rep->items[i].applied_now = true;
			rep->applied_now++;
		}
}

const char *dal__report_recorded_checksum(const dal_migrate_report *rep, size_t i)
{
	return ((const report *)rep)->recorded[i];
}

void dal_migrate_report_free(dal_migrate_report *rep)
{
	if (!rep)
		return;
	free_items((report *)rep);
	free(rep);
}

const char *dal_migration_state_name(dal_migration_state state)
{
	switch (state) {
	case DAL_MIGRATION_APPLIED: return "applied";
	case DAL_MIGRATION_PENDING: return "pending";
	case DAL_MIGRATION_CHANGED: return "changed";
	case DAL_MIGRATION_MISSING: return "missing";
	}
	return "unknown";
}
