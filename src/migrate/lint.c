/*
 * dal_migrate_lint: operations that hold heavy locks on PostgreSQL, each named
 * with the way to do the same without blocking readers and writers. It reads
 * the statements as words (src/migrate/tokens.c), which is enough for the
 * shapes it looks for; it is a reviewer's aid, not a parser.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model.h"
#include "migrate/script.h"
#include "migrate/source.h"
#include "migrate/tokens.h"
#include "util/error.h"
#include "util/grow.h"

#define CREATED_MAX 64

typedef struct lint {
	dal_lint_report *rep;
	size_t cap;
	const dal_model *const *models;
	size_t nmodels;
	const dal__mig *m;
	int line;
	char created[CREATED_MAX][64];   /* tables made in this migration: nothing to lock out yet */
	size_t ncreated;
	bool validated;                  /* a VALIDATE CONSTRAINT came earlier, in this migration or before */
	bool no_tx;                      /* this migration runs outside a transaction */
} lint;

static int add(lint *l, const char *rule, const char *fmt, ...) DAL__PRINTF(3, 4);
static int add(lint *l, const char *rule, const char *fmt, ...)
{
	dal_lint_finding *f;
	char msg[512];
	va_list ap;

	if (dal__grow((void **)&l->rep->items, &l->cap, l->rep->count, sizeof *l->rep->items) < 0)
		return DAL_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	f = &l->rep->items[l->rep->count++];
	memset(f, 0, sizeof *f);
	f->version = l->m->version;
	f->line = l->line;
	f->file = strdup(l->m->file[0] ? l->m->file : l->m->name);
	f->rule = strdup(rule);
	f->message = strdup(msg);
	return f->file && f->rule && f->message ? 0 : dal__error_nomem();
}

/* A name, schema-qualified or not: its last part; the index after it. */
static size_t name_at(const dal__toks *t, size_t i, char out[64])
{
	out[0] = '\0';
	while (i < t->n && (t->v[i].kind == DAL__TOK_WORD || t->v[i].kind == DAL__TOK_NAME)) {
		snprintf(out, 64, "%s", t->v[i].text);
		if (i + 1 < t->n && t->v[i + 1].kind == DAL__TOK_PUNCT && t->v[i + 1].text[0] == '.')
			i += 2;
		else
			return i + 1;
	}
	return i;
}

static bool created_here(const lint *l, const char *table)
{
	size_t i;

	for (i = 0; i < l->ncreated; i++)
		if (strcasecmp(l->created[i], table) == 0)
			return true;
	return false;
}

static const dal_model *model_of(const lint *l, const char *table)
{
	size_t i;

	for (i = 0; i < l->nmodels; i++)
		if (strcasecmp(l->models[i]->table, table) == 0)
			return l->models[i];
	return NULL;
}

static bool declares(const lint *l, const char *table, const char *col)
{
	const dal_model *m = model_of(l, table);
	size_t i;

	for (i = 0; m && i < m->ncolumns; i++)
		if (strcasecmp(m->columns[i].name, col) == 0)
			return true;
	return false;
}

/* After `word`s IF [NOT] EXISTS and ONLY, which change nothing here. */
static size_t skip_noise(const dal__toks *t, size_t i)
{
	for (;;) {
		if (dal__tok_is(t, i, "if") && dal__tok_is(t, i + 1, "not") && dal__tok_is(t, i + 2, "exists"))
			i += 3;
		else if (dal__tok_is(t, i, "if") && dal__tok_is(t, i + 1, "exists"))
			i += 2;
		else if (dal__tok_is(t, i, "only"))
			i++;
		else
			return i;
	}
}

static bool seq(const dal__toks *t, size_t from, size_t to, const char *a, const char *b)
{
	size_t i;

	for (i = from; i + 1 < to; i++)
		if (dal__tok_is(t, i, a) && dal__tok_is(t, i + 1, b))
			return true;
	return false;
}

static void note_created(lint *l, const dal__toks *t)
{
	size_t i = 1;
	char name[64];

	while (dal__tok_is(t, i, "temp") || dal__tok_is(t, i, "temporary") || dal__tok_is(t, i, "unlogged"))
		i++;
	if (!dal__tok_is(t, i, "table"))
		return;
	name_at(t, skip_noise(t, i + 1), name);
	if (name[0] && l->ncreated < CREATED_MAX)
		snprintf(l->created[l->ncreated++], sizeof l->created[0], "%s", name);
}

static int rule_index(lint *l, const dal__toks *t)
{
	size_t i = 1, on;
	char table[64];

	if (dal__tok_is(t, i, "unique"))
		i++;
	if (dal__tok_is(t, i, "index") && dal__tok_is(t, i + 1, "concurrently") && !l->no_tx)
		return add(l, "concurrently-in-transaction", "CREATE INDEX CONCURRENTLY cannot run in a transaction: "
			"put it alone in a migration marked -- dal:no-transaction");
	if (!dal__tok_is(t, i, "index") || dal__tok_is(t, i + 1, "concurrently"))
		return 0;
	for (on = i; on < t->n && !dal__tok_is(t, on, "on"); on++)
		;
	name_at(t, skip_noise(t, on + 1), table);
	if (on >= t->n || created_here(l, table))
		return 0;
	return add(l, "index-not-concurrent", "CREATE INDEX on '%s' blocks its writes until the index is built: use "
		"CREATE INDEX CONCURRENTLY, alone in a migration marked -- dal:no-transaction", table);
}

static bool volatile_default(const dal__toks *t, size_t from, size_t to)
{
	static const char *const fns[] = { "random", "clock_timestamp", "gen_random_uuid", "uuid_generate_v1",
		"uuid_generate_v4", "timeofday", "nextval" };
	size_t i, k;

	for (i = from; i + 1 < to; i++)
		for (k = 0; dal__tok_is(t, i, "default") && k < sizeof fns / sizeof fns[0]; k++)
			if (dal__tok_is(t, i + 1, fns[k]))
				return true;
	return false;
}

static int action_add(lint *l, const dal__toks *t, size_t a, size_t b, const char *table)
{
	bool fresh = created_here(l, table);
	bool constraint = dal__toks_has(t, a, b, "foreign") || dal__toks_has(t, a, b, "references") ||
		dal__toks_has(t, a, b, "check");

	if (!fresh && constraint && !seq(t, a, b, "not", "valid"))
		return add(l, "constraint-not-valid", "a foreign key or CHECK on '%s' is checked against every row under a "
			"lock that blocks writes: add it NOT VALID, then VALIDATE CONSTRAINT in a later migration", table);
	if (!fresh && volatile_default(t, a, b))
		return add(l, "volatile-default", "a column of '%s' with a volatile default rewrites the table under an "
			"ACCESS EXCLUSIVE lock: add it without a default, set the default, then fill the rows in batches",
			table);
	if (!fresh && !constraint && (dal__toks_has(t, a, b, "unique") || seq(t, a, b, "primary", "key")) &&
	    !dal__toks_has(t, a, b, "using"))
		return add(l, "unique-constraint", "a UNIQUE or PRIMARY KEY constraint on '%s' builds its index under an "
			"ACCESS EXCLUSIVE lock: CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX",
			table);
	return 0;
}

static int action_alter(lint *l, const dal__toks *t, size_t a, size_t b, const char *table)
{
	size_t i = dal__tok_is(t, a + 1, "column") ? a + 2 : a + 1;
	char col[64];

	name_at(t, i, col);
	if (created_here(l, table))
		return 0;
	if (dal__toks_has(t, a, b, "type"))
		return add(l, "column-type", "ALTER COLUMN %s TYPE rewrites '%s' under an ACCESS EXCLUSIVE lock: add a "
			"column of the new type, fill it in batches, then switch to it", col, table);
	if (seq(t, a, b, "not", "null") && dal__tok_is(t, i + 1, "set") && !l->validated)
		return add(l, "set-not-null", "SET NOT NULL on %s.%s scans the whole table under an ACCESS EXCLUSIVE "
			"lock: add CHECK (%s IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it, then SET NOT NULL", table, col, col);
	return 0;
}

static int action_drop_rename(lint *l, const dal__toks *t, size_t a, const char *table)
{
	bool rename = dal__tok_is(t, a, "rename");
	size_t i = a + 1;
	char col[64];

	if (rename && dal__tok_is(t, i, "to"))
		return model_of(l, table) ? add(l, "model-table", "renaming table '%s', which a model still declares, "
			"breaks every running program: add the new table, copy, and drop the old one after the release",
			table) : 0;
	if (dal__tok_is(t, i, "constraint") || dal__tok_is(t, i, "default") || dal__tok_is(t, i, "not") ||
	    dal__tok_is(t, i, "identity") || dal__tok_is(t, i, "expression"))
		return 0;
	i = dal__tok_is(t, i, "column") ? i + 1 : i;
	name_at(t, skip_noise(t, i), col);
	if (!col[0] || !declares(l, table, col))
		return 0;
	return add(l, "model-column", "%s column %s.%s, which a model still declares, breaks the programs running "
		"now: release the model without it first, then %s it", rename ? "renaming" : "dropping", table, col,
		rename ? "rename" : "drop");
}

static int lint_action(lint *l, const dal__toks *t, size_t a, size_t b, const char *table)
{
	if (dal__tok_is(t, a, "validate"))
		l->validated = true;
	if (dal__tok_is(t, a, "add"))
		return action_add(l, t, a, b, table);
	if (dal__tok_is(t, a, "alter"))
		return action_alter(l, t, a, b, table);
	if (dal__tok_is(t, a, "drop") || dal__tok_is(t, a, "rename"))
		return action_drop_rename(l, t, a, table);
	return 0;
}

/* ALTER TABLE name action [, action...]: the actions split at commas outside parentheses. */
static int rule_alter(lint *l, const dal__toks *t)
{
	char table[64];
	size_t i = name_at(t, skip_noise(t, 2), table), a = i;
	int depth = 0, error = 0;

	for (; i <= t->n && error == 0; i++) {
		char c = i < t->n && t->v[i].kind == DAL__TOK_PUNCT ? t->v[i].text[0] : 0;

		depth += (c == '(') - (c == ')');
		if (i == t->n || (c == ',' && depth == 0)) {
			error = lint_action(l, t, a, i, table);
			a = i + 1;
		}
	}
	return error;
}

static int rule_drop_table(lint *l, const dal__toks *t)
{
	char table[64];

	name_at(t, skip_noise(t, 2), table);
	return model_of(l, table) ? add(l, "model-table", "dropping table '%s', which a model still declares, breaks "
		"the programs running now: release the model without it first", table) : 0;
}

static int rule_lock_timeout(lint *l, const dal__toks *t)
{
	size_t i = 1;

	if (dal__tok_is(t, i, "local") || dal__tok_is(t, i, "session"))
		i++;
	if (!dal__tok_is(t, i, "lock_timeout"))
		return 0;
	i += dal__tok_is(t, i + 1, "to") || (i + 1 < t->n && t->v[i + 1].text[0] == '=') ? 2 : 1;
	if (i < t->n && (strcmp(t->v[i].text, "0") == 0 || strcmp(t->v[i].text, "0ms") == 0 ||
	                 strcmp(t->v[i].text, "0s") == 0))
		return add(l, "lock-timeout-off", "lock_timeout 0 lets this migration wait for its locks without end, "
			"while every query on the table queues behind it: keep dal's lock_timeout_ms");
	return 0;
}

/* Statements that hold ACCESS EXCLUSIVE for as long as they run. */
static int rule_exclusive(lint *l, const dal__toks *t)
{
	if (dal__tok_is(t, 0, "vacuum") && dal__toks_has(t, 1, t->n, "full"))
		return add(l, "vacuum-full", "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock: plain "
			"VACUUM (or pg_repack) frees space without blocking");
	if (dal__tok_is(t, 0, "cluster"))
		return add(l, "cluster", "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock: leave ordering to "
			"an index, or use pg_repack");
	if (dal__tok_is(t, 0, "reindex") && !dal__toks_has(t, 1, t->n, "concurrently"))
		return add(l, "reindex-not-concurrent", "REINDEX blocks writes to the table: REINDEX CONCURRENTLY, "
			"alone in a migration marked -- dal:no-transaction");
	if (dal__tok_is(t, 0, "lock"))
		return add(l, "lock-table", "LOCK TABLE holds its lock to the end of the migration, and every query "
			"on the table queues behind it: let each statement take the lock it needs");
	return 0;
}

static int lint_statement(lint *l, const dal__toks *t)
{
	if (dal__tok_is(t, 0, "create")) {
		note_created(l, t);
		return rule_index(l, t);
	}
	if (dal__tok_is(t, 0, "alter") && dal__tok_is(t, 1, "table"))
		return rule_alter(l, t);
	if (dal__tok_is(t, 0, "drop") && dal__tok_is(t, 1, "table"))
		return rule_drop_table(l, t);
	if (dal__tok_is(t, 0, "set"))
		return rule_lock_timeout(l, t);
	return rule_exclusive(l, t);
}

static int lint_one(lint *l, const dal__mig *m)
{
	dal__script sc;
	const char *stmt;
	size_t len;
	int error = 0;

	l->m = m;
	l->ncreated = 0;
	l->no_tx = m->no_tx;
	dal__script_init(&sc, m->up);
	while (error == 0 && dal__script_next(&sc, &stmt, &len, &l->line)) {
		dal__toks t;

		if ((error = dal__toks_read(&t, stmt, len)) == 0)
			error = lint_statement(l, &t);
		dal__toks_dispose(&t);
	}
	return error;
}

int dal_migrate_lint(dal_lint_report **out, const dal_migrate_opts *opts, const dal_model *const *models, size_t n)
{
	dal__mig_set src;
	lint l;
	size_t i;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(opts);
	if ((error = dal__models_validate(models, n)) < 0 ||
	    (error = dal__check_version(opts->version, DAL_MIGRATE_OPTS_VERSION, "dal_migrate_opts")) < 0 ||
	    (error = dal__mig_load(&src, opts, "postgresql")) < 0)
		return error;
	memset(&l, 0, sizeof l);
	l.models = models;
	l.nmodels = n;
	if (!(l.rep = calloc(1, sizeof *l.rep)))
		error = dal__error_nomem();
	for (i = 0; i < src.n && error == 0; i++)
		error = lint_one(&l, &src.v[i]);
	dal__mig_set_dispose(&src);
	if (error < 0) {
		dal_lint_report_free(l.rep);
		return error;
	}
	*out = l.rep;
	return 0;
}

void dal_lint_report_free(dal_lint_report *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->count; i++) {
		free((char *)r->items[i].file);
		free((char *)r->items[i].rule);
		free((char *)r->items[i].message);
	}
	free(r->items);
	free(r);
}
