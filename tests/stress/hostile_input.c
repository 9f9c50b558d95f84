/*
 * Probe: hostile input. 10,000 hostile names (every kind of quote, brackets,
 * comments, placeholders, unicode direction and zero-width marks, overlong,
 * empty, whitespace, SQL keywords, dal's and the engines' own table names,
 * case variants of real columns) go through every call that takes a name:
 * filter and order columns of find, count, each and paginate; field names of
 * create and update; columns of bulk create and update; row get and set; a
 * model's table and column names. Each must be DAL_EINVAL naming it, with no
 * SQL sent beyond what the same calls send with good names, and the engine's
 * catalog unchanged. Then names dal takes (keywords, catalog names, 63 bytes)
 * are declared as tables and columns: a full CRUD round trip, and the catalog
 * holds exactly that name. Then raw SQL with dollar quotes and E-strings, a
 * 70,000-value IN list of hostile texts, and 1 MiB audit context strings.
 *
 *   hostile_input <engine> <url|@file> [names]
 *
 * Prints one line: hostile_input <engine>: names=... accepted=0 unnamed=0
 * unquoted=0 catalog_changed=0 declared_roundtrip=N/N declared_failed=0 ...
 * and exits 1 if a figure that must be zero is not.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dal/dal.h>

#include "stress/probe_db.h"

static dal_db *db;
static const char *engine_name;

#define FAIL(...) do { fprintf(stderr, "hostile_input: " __VA_ARGS__); fputc('\n', stderr); } while (0)

static void die(const char *what)
{
	FAIL("%s: %s", what, dal_error_last()->message);
	exit(2);
}

/* ---- the names ---- */

static const char *const fragments[] = {
	"", " ", "\t", "\n", "\"", "\"\"", "'", "''", "`", "[", "]", "[]", "(", ")", ";", ",", ".", "*", "--", "/*", "*/",
	"$", "$$", "$1", "$tag$", "?", ":name", "@name", "%s", "%n", "\\", "\\\"", "\\'", "{", "}", "=", "1=1", " OR 1=1",
	"'; DROP TABLE hostile_t; --", "\"; DROP TABLE hostile_t; --", "id) OR (1=1", "COUNT(*)", "name --", "name /*",
	"\xe2\x80\xae", "\xe2\x80\x8b", "\xe2\x80\x8f", "\xef\xbb\xbf", "\xd7\x90", "\xe5\x90\x8d\xe5\x89\x8d",
	"\xef\xbd\x8e\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x85", "\xc4\xb0" "d", "\xc4\xb1" "d", "\xf0\x9f\x98\x80", "\xff\xfe",
	"\xc0\x80", "SELECT", "select", "DROP", "table", "where", "NULL", "null", "true", "audit_logs", "audit_chain",
	"dal_schema_migrations", "_dal_stage", "sqlite_master", "sqlite_sequence", "pg_class", "pg_catalog.pg_class",
	"information_schema.columns", "duckdb_tables", "main.hostile_t", "public.hostile_t", "hostile_t.name",
	"\"hostile_t\".\"name\"", "ID", "Id", "NAME", "Name", "CREATED_AT", "Deleted_At", " id", "id ", "name\t",
	"na\"\"me", "\"name\"", "`name`", "[name]", "name;", "name,id", "name AS x", "name DESC", "1", "0name",
};
#define NFRAG (sizeof(fragments) / sizeof(fragments[0]))

static const char *const declared_cols[] = { "id", "name", "n", "created_at", "updated_at", "deleted_at" };

static bool is_declared(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(declared_cols) / sizeof(declared_cols[0]); i++)
		if (strcmp(s, declared_cols[i]) == 0)
			return true;
	return false;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, f);
	n = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	if (n < 0 || !(s = malloc((size_t)n + 1)))
		exit(2);
	va_start(ap, f);
	vsnprintf(s, (size_t)n + 1, f, ap);
	va_end(ap);
	return s;
}

/* A run of `n` bytes of `c`, after `head`. */
static char *run_of(const char *head, char c, size_t n)
{
	size_t h = strlen(head);
	char *s = malloc(h + n + 1);

	if (!s)
		exit(2);
	memcpy(s, head, h);
	memset(s + h, c, n);
	s[h + n] = '\0';
	return s;
}

static char *random_name(void)
{
	static const char alphabet[] = "abcXYZ_09\"'`[]();,.*-/$?:@%\\{}= \t\n";
	size_t len = 1 + rnd() % 80, i;
	char *s = malloc(len + 1);

	if (!s)
		exit(2);
	for (i = 0; i < len; i++) {
		uint64_t r = rnd();
		/* Mostly delimiters and letters; some raw bytes 0x01-0xff, UTF-8 or not. */
		s[i] = r % 5 ? alphabet[(r >> 8) % (sizeof(alphabet) - 1)] : (char)(1 + (r >> 8) % 255);
	}
	s[len] = '\0';
	return s;
}

typedef struct names {
	char **v;
	size_t n, cap;
} names;

static void add(names *l, char *s)
{
	if (is_declared(s)) {
		free(s);
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		if (!(l->v = realloc(l->v, l->cap * sizeof(*l->v))))
			exit(2);
	}
	l->v[l->n++] = s;
}

static void make_names(names *l, size_t want)
{
	size_t i, j;

	for (i = 0; i < NFRAG; i++)
		add(l, strdup(fragments[i]));
	for (i = 0; i < NFRAG; i++)
		for (j = 0; j < sizeof(declared_cols) / sizeof(declared_cols[0]); j++) {
			add(l, fmt("%s%s", declared_cols[j], fragments[i]));
			add(l, fmt("%s%s", fragments[i], declared_cols[j]));
			add(l, fmt("%s%s%s", fragments[i], declared_cols[j], fragments[i]));
		}
	add(l, run_of("", 'a', 64));
	add(l, run_of("n", 'x', 63));
	add(l, run_of("", 'n', 1025));
	add(l, run_of("name", 'x', 2000));
	add(l, run_of("\"", '"', 300));
	while (l->n < want) {
		if (rnd() % 3)
			add(l, random_name());
		else
			add(l, fmt("%s%s", fragments[rnd() % NFRAG], fragments[rnd() % NFRAG]));
	}
	while (l->n > want)
		free(l->v[--l->n]);
}

/* ---- what reaches the engine: the echo log ---- */

typedef struct sqlset {
	char **v;
	size_t n, cap;
} sqlset;

static struct {
	int phase;              /* 0 off, 1 baseline, 2 hostile */
	sqlset baseline;
	long unexpected;
	char first[512];
} echo;

static bool in_set(const sqlset *s, const char *sql)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], sql) == 0)
			return true;
	return false;
}

/* Transaction control a refused call may still send (a scope opened, then rolled back). */
static bool tx_control(const char *sql)
{
	static const char *const verbs[] = { "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "START " };
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strncmp(sql, verbs[i], strlen(verbs[i])) == 0)
			return true;
	return false;
}

static void on_log(dal_log_level level, const char *message, void *payload)
{
	const char *sql = strstr(message, " ms: ");

	(void)level;
	(void)payload;
	if (!sql || echo.phase == 0)
		return;
	sql += 5;
	if (echo.phase == 1 && !in_set(&echo.baseline, sql)) {
		sqlset *s = &echo.baseline;
		if (s->n == s->cap && !(s->v = realloc(s->v, (s->cap = s->cap ? s->cap * 2 : 64) * sizeof(*s->v))))
			exit(2);
		s->v[s->n++] = strdup(sql);
	} else if (echo.phase == 2 && !tx_control(sql) && !in_set(&echo.baseline, sql)) {
		if (!echo.unexpected++)
			snprintf(echo.first, sizeof(echo.first), "%s", sql);
	}
}

/* ---- the engine's catalog ---- */

static bool is(const char *engine)
{
	return strcmp(dal_db_engine(db), engine) == 0;
}

/* Every table and column of the current schema, one text. */
static char *catalog(void)
{
	const char *sql = is("sqlite") ?
		"SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p "
		"WHERE m.type = 'table' ORDER BY 1" :
		is("duckdb") ?
		"SELECT table_name || '.' || column_name FROM duckdb_columns() WHERE schema_name = current_schema() "
		"AND database_name = current_database() ORDER BY 1" :
		"SELECT table_name || '.' || column_name FROM information_schema.columns "
		"WHERE table_schema = current_schema() ORDER BY 1";
	dal_result *res = NULL;
	size_t i, len = 0;
	char *out;

	if (dal_query(&res, db, sql, NULL, 0) != 0)
		die("catalog");
	for (i = 0; i < dal_result_rows(res); i++)
		len += dal_result_get(res, i, 0)->len + 1;
	if (!(out = calloc(1, len + 1)))
		exit(2);
	for (i = 0, len = 0; i < dal_result_rows(res); i++) {
		const dal_value *v = dal_result_get(res, i, 0);
		memcpy(out + len, v->v.s, v->len);
		len += v->len;
		out[len++] = '\n';
	}
	dal_result_free(res);
	return out;
}

/* Whether the catalog has table `t` with column `c`, by exact (case-sensitive) name. */
static bool catalog_has(const char *t, const char *c)
{
	const char *sql = is("sqlite") ?
		"SELECT COUNT(*) FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' "
		"AND m.name = ? AND p.name = ?" :
		is("duckdb") ?
		"SELECT COUNT(*) FROM duckdb_columns() WHERE schema_name = current_schema() "
		"AND database_name = current_database() AND table_name = ? AND column_name = ?" :
		"SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() "
		"AND table_name = ? AND column_name = ?";
	dal_value p[2] = { dal_text(t), dal_text(c) };
	dal_result *res = NULL;
	bool found;

	if (dal_query(&res, db, sql, p, 2) != 0)
		die("catalog_has");
	found = dal_result_get(res, 0, 0)->v.i == 1;
	dal_result_free(res);
	return found;
}

/* ---- every call that takes a name ---- */

static const dal_column cols[] = {
	DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, 0, 0), DAL_COL("n", DAL_TYPE_INT, 0, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
};
static const dal_model model = DAL_MODEL("hostile_t", cols);

typedef struct tally {
	long calls, accepted, unnamed;
	char first_accepted[160], first_unnamed[400];
} tally;

static int each_cb(const dal_row *row, void *payload)
{
	(void)row;
	(void)payload;
	return 0;
}

/* The message must show the name: its first bytes, or that it is empty or missing. */
static bool names_it(const char *name, const char *msg)
{
	char prefix[17];

	/* NULL: "(null)", or the argument named ("invalid argument: 'column'"). */
	if (!name)
		return strstr(msg, "(null)") || strstr(msg, "invalid argument");
	if (!*name)
		return strstr(msg, "''") || strstr(msg, "empty");
	snprintf(prefix, sizeof(prefix), "%s", name);
	return strstr(msg, prefix) != NULL;
}

static void expect_refused(tally *t, const char *call, const char *name, int rc)
{
	t->calls++;
	if (rc != DAL_EINVAL) {
		if (!t->accepted++)
			snprintf(t->first_accepted, sizeof(t->first_accepted), "%s('%.60s') -> %d", call,
				name ? name : "(null)", rc);
		return;
	}
	if (!names_it(name, dal_error_last()->message) && !t->unnamed++)
		snprintf(t->first_unnamed, sizeof(t->first_unnamed), "%s('%.40s'): %s", call, name ? name : "(null)",
			dal_error_last()->message);
}

/* What dal takes as a table or column name: [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes. */
static bool identifier(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      (i > 0 && s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* A model naming a table or column `name`: refused unless it is an identifier (those are
 * declared for real in roundtrip()). */
static void model_calls(tally *t, const char *name)
{
	dal_column c2[] = { DAL_COL_ID(), DAL_COL(name, DAL_TYPE_TEXT, 0, 0) };
	dal_model as_table = { name, cols, sizeof(cols) / sizeof(cols[0]) };
	dal_model as_column = { "hostile_m", c2, 2 };
	const dal_model *m1[1] = { &as_table }, *m2[1] = { &as_column };
	dal_repo *repo = NULL;

	expect_refused(t, "dal_model_validate(table)", name, dal_model_validate(&as_table));
	expect_refused(t, "dal_init_database(table)", name, dal_init_database(db, m1, 1, DAL_AUTO_MIGRATE));
	expect_refused(t, "dal_repo_open(table)", name, dal_repo_open(&repo, db, &as_table, 0));
	dal_repo_close(repo);
	repo = NULL;
	expect_refused(t, "dal_model_validate(column)", name, dal_model_validate(&as_column));
	expect_refused(t, "dal_init_database(column)", name, dal_init_database(db, m2, 1, DAL_AUTO_MIGRATE));
	expect_refused(t, "dal_repo_open(column)", name, dal_repo_open(&repo, db, &as_column, 0));
	dal_repo_close(repo);
}

/* Every call with `name` where a column name goes; with a good name they all succeed. */
static void name_calls(tally *t, dal_repo *repo, dal_row *row, int64_t id, const char *name)
{
	dal_value in3[3] = { dal_int(1), dal_int(2), dal_int(3) }, text = dal_text("v"), one = dal_int(1);
	dal_filter eq[1] = { DAL_WHERE(name, DAL_OP_EQ, dal_int(1)) };
	dal_filter in[1] = { DAL_WHERE_IN(name, in3, 3) };
	dal_filter isnull[1] = { DAL_WHERE(name, DAL_OP_IS_NULL, dal_null()) };
	dal_order up[1] = { { name, false } }, down[1] = { { name, true } };
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_field f[1] = { DAL_FIELD(name, dal_int(5)) };
	const char *colv[1] = { name };
	dal_rows *rows = NULL;
	dal_page page;
	int64_t n;

	c.filters = eq, c.nfilters = 1;
	expect_refused(t, "dal_repo_find(filter)", name, dal_repo_find(&rows, repo, &c));
	dal_rows_free(rows);
	c.filters = in;
	expect_refused(t, "dal_repo_count(IN filter)", name, dal_repo_count(&n, repo, &c));
	c.filters = isnull;
	expect_refused(t, "dal_repo_each(IS NULL filter)", name, dal_repo_each(repo, &c, each_cb, NULL));
	c.filters = NULL, c.nfilters = 0, c.order = up, c.norder = 1;
	expect_refused(t, "dal_repo_find(order)", name, dal_repo_find(&rows, repo, &c));
	dal_rows_free(rows);
	expect_refused(t, "dal_repo_each(order)", name, dal_repo_each(repo, &c, each_cb, NULL));
	c.order = down;
	expect_refused(t, "dal_repo_paginate(order)", name, dal_repo_paginate(&rows, &page, repo, &c, 1, 10));
	dal_rows_free(rows);
	expect_refused(t, "dal_repo_create(field)", name, dal_repo_create(NULL, repo, f, 1));
	expect_refused(t, "dal_repo_update(field)", name, dal_repo_update(NULL, repo, id, f, 1));
	expect_refused(t, "dal_repo_bulk_create(column)", name, dal_repo_bulk_create(NULL, repo, colv, 1, &one, 1));
	expect_refused(t, "dal_repo_bulk_update(column)", name, dal_repo_bulk_update(NULL, repo, &id, colv, 1, &one, 1));
	t->calls++;
	if (dal_row_get(row, name) != NULL && !t->accepted++)
		snprintf(t->first_accepted, sizeof(t->first_accepted), "dal_row_get('%.60s')", name);
	expect_refused(t, "dal_row_set", name, dal_row_set(row, name, &text));
}

/* The calls once with good names, so the SQL they send is known. */
static void baseline(dal_repo *repo, dal_row *row, int64_t id)
{
	static const char *const good[] = { "n", "name" };
	size_t i;
	tally t = { 0 };

	for (i = 0; i < 2; i++)
		name_calls(&t, repo, row, id, good[i]);
}

/* ---- declared names ---- */

static const char *const keywords[] = {
	"select", "from", "where", "order", "group", "by", "table", "user", "limit", "offset", "desc", "asc", "null",
	"true", "false", "and", "or", "not", "in", "is", "like", "between", "case", "when", "then", "else", "end",
	"join", "union", "all", "any", "some", "exists", "primary", "key", "foreign", "references", "check", "default",
	"constraint", "index", "unique", "create", "drop", "alter", "insert", "update", "delete", "values", "set",
	"into", "returning", "with", "as", "on", "using", "natural", "cross", "inner", "outer", "left", "right", "full",
	"cast", "collate", "column", "grant", "revoke", "analyse", "analyze", "array", "both", "current_date",
	"current_time", "current_timestamp", "current_user", "session_user", "do", "fetch", "for", "leading",
	"trailing", "localtime", "only", "placing", "symmetric", "variadic", "window", "lateral", "pragma", "vacuum",
	"attach", "detach", "glob", "regexp", "match", "escape", "row", "rows", "distinct", "having", "intersect",
	"except", "transaction", "begin", "commit", "rollback", "savepoint", "release", "to", "of", "no", "action",
	"if", "temp", "temporary", "view", "trigger", "sequence", "schema", "database", "type", "function", "returns",
	"language", "plpgsql", "explain", "copy", "notify", "listen", "execute", "prepare", "deallocate", "lock",
	"share", "nowait", "skip", "locked", "over", "partition", "range", "groups", "filter", "within",
	"ordinality", "tablesample", "qualify", "pivot", "unpivot", "struct", "map", "list", "macro", "install", "load",
	"pg_class", "pg_type", "pg_attribute", "pg_tables", "pg_index", "pg_namespace", "sqlite_master",
	"sqlite_sequence", "sqlite_stat1", "sqlite_temp_master", "duckdb_tables", "duckdb_columns",
	"information_schema", "audit_logs", "AUDIT_LOGS", "Audit_Chain", "DAL_SCHEMA_MIGRATIONS", "_DAL_stage",
	"_", "__", "_1", "a1", "A", "MixedCase", "UPPER_CASE", "x__y",
};
#define NKEY (sizeof(keywords) / sizeof(keywords[0]))

typedef struct declared {
	long tried, refused, ok, failed;
	char first_failed[600];
} declared;

static void declared_fail(declared *d, const char *name, const char *what)
{
	if (getenv("HOSTILE_VERBOSE"))
		FAIL("declared '%s': %s: %s", name, what, dal_error_last()->message);
	if (!d->failed++)
		snprintf(d->first_failed, sizeof(d->first_failed), "'%s': %s: %s", name, what, dal_error_last()->message);
}

/* One name as a table and as a column of it: create, get, update, find by it, order by
 * it, count, delete; the catalog then has exactly that table and column. */
static void roundtrip(declared *d, const char *name)
{
	const char *col = strcmp(name, "id") == 0 ? "v" : name;
	dal_column c[] = { DAL_COL_ID(), DAL_COL(col, DAL_TYPE_TEXT, DAL_INDEX, 0) };
	dal_model m = { name, c, 2 };
	const dal_model *ms[1] = { &m };
	dal_field f1[1] = { DAL_FIELD(col, dal_text("one")) }, f2[1] = { DAL_FIELD(col, dal_text("two")) };
	dal_filter fl[1] = { DAL_WHERE(col, DAL_OP_EQ, dal_text("two")) };
	dal_order o[1] = { { col, true } };
	dal_criteria cr = DAL_CRITERIA_INIT;
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	dal_rows *rows = NULL;
	int64_t id = 0, n = -1;
	int rc;

	d->tried++;
	if ((rc = dal_model_validate(&m)) != 0) {
		d->refused++;
		return;
	}
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) != 0 || dal_repo_open(&repo, db, &m, DAL_AUDIT) != 0) {
		declared_fail(d, name, "init/open");
		return;
	}
	cr.filters = fl, cr.nfilters = 1, cr.order = o, cr.norder = 1;
	if (dal_repo_create(&row, repo, f1, 1) != 0)
		declared_fail(d, name, "create");
	else if ((id = dal_row_int(row, "id")), dal_repo_update(NULL, repo, id, f2, 1) != 0)
		declared_fail(d, name, "update");
	else if (dal_repo_find(&rows, repo, &cr) != 0 || dal_rows_count(rows) != 1 ||
	         strcmp(dal_row_text(dal_rows_at(rows, 0), col), "two") != 0)
		declared_fail(d, name, "find");
	else if (dal_repo_delete(repo, id, false) != 0 || dal_repo_count(&n, repo, NULL) != 0 || n != 0)
		declared_fail(d, name, "delete/count");
	else if (!catalog_has(name, col))
		declared_fail(d, name, "the catalog has no table and column of exactly that name");
	else
		d->ok++;
	dal_row_free(row);
	dal_rows_free(rows);
	dal_repo_close(repo);
}

/* Well-formed UTF-8 (no overlong forms, no surrogates): the text every engine takes. */
static bool utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned char c = *p++, lo = 0x80, hi = 0xbf;
		int n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
		if (n < 0)
			return false;
		lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : lo;
		hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : hi;
		for (; n > 0; n--, p++, lo = 0x80, hi = 0xbf)
			if (*p < lo || *p > hi)
				return false;
	}
	return true;
}

/* ---- raw SQL, IN lists, audit context ---- */

static bool expect_text(const char *sql, const dal_value *p, size_t n, const char *want)
{
	dal_result *res = NULL;
	const dal_value *v;
	bool ok;

	if (dal_query(&res, db, sql, p, n) != 0) {
		FAIL("%s: %s", sql, dal_error_last()->message);
		return false;
	}
	v = dal_result_get(res, 0, dal_result_columns(res) - 1);
	ok = v && v->type == DAL_TYPE_TEXT && v->len == strlen(want) && memcmp(v->v.s, want, v->len) == 0;
	if (!ok)
		FAIL("%s: read back '%.*s', expected '%s'", sql, v ? (int)v->len : 0, v && v->v.s ? v->v.s : "", want);
	dal_result_free(res);
	return ok;
}

/* Literals that hold placeholders and quotes of their own; each fragment back as a parameter. */
static long sqltext_failures(void)
{
	dal_value one = dal_text("one");
	long bad = 0;
	size_t i;

	bad += !expect_text("SELECT 'a?b' || ? /* ? */", &one, 1, "a?bone");
	bad += !expect_text("SELECT 'it''s ?' || ? -- ?\n", &one, 1, "it's ?one");
	if (is("postgresql")) {
		bad += !expect_text("SELECT $$a?b$$::text || ?::text", &one, 1, "a?bone");
		bad += !expect_text("SELECT $tag$ ? $$ ? $tag$::text || ?::text", &one, 1, " ? $$ ? one");
		bad += !expect_text("SELECT E'it\\'s?'::text || ?::text", &one, 1, "it's?one");
		bad += !expect_text("SELECT e'\\\\'::text || ?::text", &one, 1, "\\one");
		bad += !expect_text("SELECT ?::text /* a /* ? */ b ? */", &one, 1, "one");
		bad += !expect_text("SELECT $a$ $b$ ? $b$ $a$::text || ?::text", &one, 1, " $b$ ? $b$ one");
	}
	for (i = 0; i < NFRAG; i++) {
		dal_value v = dal_text(fragments[i]);
		/* Bytes that are not UTF-8 are no text an engine must take. */
		if (!utf8(fragments[i]))
			continue;
		bad += !expect_text(is("postgresql") ? "SELECT ?::text" : "SELECT CAST(? AS TEXT)", &v, 1, fragments[i]);
	}
	return bad;
}

/* Rows holding hostile texts, found again through a 70,000-value IN list of them. */
static const char *in_list_70k(dal_repo *repo, const names *l)
{
	/* STORED values are a short list: its rows, by the per-parameter path, are the answer. */
	enum { LONG = 70000, STORED = 32 };
	dal_value *v = calloc(LONG, sizeof(*v));
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_filter f[1];
	int64_t want = 0, n = -1;
	size_t i, k;

	if (!v)
		exit(2);
	for (i = 0; i < STORED; i++) {
		dal_field fl[1] = { DAL_FIELD("name", dal_text(fragments[i])) };
		if (dal_repo_create(NULL, repo, fl, 1) != 0)
			die("create for the IN list");
	}
	/* Every stored text once, then the hostile names that are UTF-8 (no engine takes other
	 * text), over and over: those equal to a stored text match it, the rest nothing. */
	for (k = 0; k < STORED; k++)
		v[k] = dal_text(fragments[k]);
	for (i = 0; k < LONG; i++)
		if (utf8(l->v[i % l->n]))
			v[k++] = dal_text(l->v[i % l->n]);
	f[0] = (dal_filter)DAL_WHERE_IN("name", v, LONG);
	c.filters = f, c.nfilters = 1;
	if (dal_repo_count(&n, repo, &c) != 0) {
		FAIL("70k IN list: %s", dal_error_last()->message);
		free(v);
		return "error";
	}
	c.filters = (dal_filter[]){ DAL_WHERE_IN("name", v, STORED) };
	if (dal_repo_count(&want, repo, &c) != 0)
		die("short IN list");
	free(v);
	if (n != want || want < STORED) {
		FAIL("70k IN list: %lld rows, the same texts as a short list: %lld", (long long)n, (long long)want);
		return "wrong";
	}
	return "ok";
}

/* Each field of an audit context 1 MiB long, on a repository and on a unit of work. */
static int ctx_1mib(dal_repo *repo)
{
	char *big = run_of("", 'x', 1 << 20);
	int einval = 0, k;

	for (k = 0; k < 5; k++) {
		dal_audit_ctx ctx = DAL_AUDIT_CTX_INIT;
		dal_uow_opts o = DAL_UOW_OPTS_INIT;
		dal_uow *uow = NULL;
		const char **field[5] = { &ctx.user_id, &ctx.session_id, &ctx.correlation_id, &ctx.ip_address,
		                          &ctx.user_agent };
		*field[k] = big;
		einval += dal_repo_set_context(repo, &ctx) == DAL_EINVAL;
		o.audit_ctx = &ctx;
		if (dal_uow_begin(&uow, db, &o) == DAL_EINVAL)
			einval++;
		else
			dal_uow_rollback(uow);
	}
	free(big);
	return einval;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	dal_config cfg = DAL_CONFIG_INIT;
	const dal_model *ms[1] = { &model };
	dal_field f[1] = { DAL_FIELD("name", dal_text("seed")) };
	size_t want = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 10000, i;
	char *url, *base, *before, *after, dbname[48];
	const char *in70k;
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	names l = { 0 };
	tally t = { 0 };
	declared d = { 0 };
	long sqlbad;
	int ctx, catalog_changed, failed;
	int64_t id;

	if (argc < 3) {
		fprintf(stderr, "usage: hostile_input <engine> <url|@file> [names]\n");
		return 2;
	}
	engine_name = argv[1];
	base = probe_read_url(argv[2]);
	snprintf(dbname, sizeof(dbname), "dal_hostile_%d", (int)getpid());
	url = probe_own_database(base, dbname);
	cfg.echo = true;
	cfg.slow_query_ms = 0;
	dal_log_set_handler(on_log, NULL);
	if (dal_open(&db, url, &cfg) != 0)
		die("dal_open");
	if (dal_init_database(db, ms, 1, DAL_AUTO_MIGRATE) != 0 || dal_repo_open(&repo, db, &model, DAL_AUDIT) != 0)
		die("init");
	if (dal_repo_create(&row, repo, f, 1) != 0)
		die("create");
	id = dal_row_int(row, "id");
	make_names(&l, want);

	echo.phase = 1;
	baseline(repo, row, id);
	before = catalog();
	echo.phase = 2;
	name_calls(&t, repo, row, id, NULL);
	for (i = 0; i < l.n; i++) {
		name_calls(&t, repo, row, id, l.v[i]);
		if (!identifier(l.v[i]))
			model_calls(&t, l.v[i]);
	}
	echo.phase = 0;
	after = catalog();
	catalog_changed = strcmp(before, after) != 0;
	if (catalog_changed)
		FAIL("the catalog changed:\n--- before\n%s--- after\n%s", before, after);

	for (i = 0; i < NKEY; i++)
		roundtrip(&d, keywords[i]);
	sqlbad = sqltext_failures();
	in70k = in_list_70k(repo, &l);
	ctx = ctx_1mib(repo);

	printf("hostile_input %s: names=%zu calls=%ld accepted=%ld unnamed=%ld unquoted=%ld catalog_changed=%d "
	       "declared_roundtrip=%ld/%ld declared_refused=%ld declared_failed=%ld sqltext_failed=%ld "
	       "in_list_70k=%s ctx_1MiB=%s\n",
		engine_name, l.n, t.calls, t.accepted, t.unnamed, echo.unexpected, catalog_changed, d.ok,
		d.tried - d.refused, d.refused, d.failed, sqlbad, in70k, ctx == 10 ? "einval" : "ACCEPTED");
	if (t.accepted)
		FAIL("accepted, the first: %s", t.first_accepted);
	if (t.unnamed)
		FAIL("refused without naming it, the first: %s", t.first_unnamed);
	if (echo.unexpected)
		FAIL("SQL sent that good names do not send, the first: %.300s", echo.first);
	if (d.failed)
		FAIL("declared names that failed, the first: %s", d.first_failed);
	failed = t.accepted || t.unnamed || echo.unexpected || catalog_changed || d.failed || sqlbad ||
	         strcmp(in70k, "ok") != 0 || ctx != 10;
	dal_row_free(row);
	dal_repo_close(repo);
	dal_close(db);
	dal_log_set_handler(NULL, NULL);
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	free(before);
	free(after);
	probe_drop_database(base, dbname);
	free(url);
	free(base);
	return failed ? 1 : 0;
}
