/*
 * Migrations from a folder of V<n>__<name>[.<engine>][.down].sql files or from
 * an array in C, resolved for one engine and checked as a whole before anything
 * runs: a bad name, a duplicate or a gap is named, never half applied.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/script.h"
#include "migrate/source.h"
#include "util/error.h"
#include "util/grow.h"
#include "util/sha256.h"

/* Larger files are refused rather than read whole into memory. */
#define FILE_MAX_BYTES (64u << 20)
#define NAME_MAX_BYTES 128

static const char *const engines[] = { "sqlite", "postgresql", "duckdb" };

/* One file (or array element), before versions are resolved. */
typedef struct entry {
	long long version;
	char name[NAME_MAX_BYTES];
	const char *engine;   /* NULL: every engine; else one of engines[] */
	bool down;
	unsigned flags;
	char *text;
	char *file;           /* "" from C */
} entry;

typedef struct entries {
	entry *v;
	size_t n, cap;
} entries;

static void entries_dispose(entries *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].text);
		free(e->v[i].file);
	}
	free(e->v);
}

static entry *entries_add(entries *e)
{
	if (dal__grow((void **)&e->v, &e->cap, e->n, sizeof *e->v) < 0)
		return NULL;
	memset(&e->v[e->n], 0, sizeof e->v[0]);
	return &e->v[e->n++];
}

static bool name_ok(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') ||
		      p[i] == '_'))
			return false;
	return n > 0 && n < NAME_MAX_BYTES;
}

static const char *engine_named(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof engines / sizeof engines[0]; i++)
		if (strlen(engines[i]) == n && memcmp(engines[i], p, n) == 0)
			return engines[i];
	return NULL;
}

/* "V<digits>__" and the version; the name follows. */
static const char *parse_version(const char *p, long long *version)
{
	long long v = 0;
	const char *q = p + 1;

	if (*p != 'V')
		return NULL;
	for (; *q >= '0' && *q <= '9'; q++) {
		if (v > 99999999999999999LL)
			return NULL;
		v = v * 10 + (*q - '0');
	}
	if (q == p + 1 || v < 1 || q[0] != '_' || q[1] != '_')
		return NULL;
	*version = v;
	return q + 2;
}

/* The dotted parts after the name: [.<engine>][.down].sql */
static int parse_suffix(entry *e, const char *p, const char *file)
{
	const char *dot;

	while (strcmp(p, ".sql") != 0) {
		size_t n;

		dot = strchr(p + 1, '.');
		n = dot ? (size_t)(dot - p - 1) : 0;
		if (!dot)
			break;
		if (n == 4 && memcmp(p + 1, "down", 4) == 0 && !e->down && strcmp(dot, ".sql") != 0)
			return dal__error(DAL_EINVAL, "migration file %s: 'down' comes last, after the engine "
				"(V<version>__<name>.<engine>.down.sql)", file);
		if (n == 4 && memcmp(p + 1, "down", 4) == 0 && !e->down && strcmp(dot, ".sql") == 0)
			e->down = true;
		else if (!e->down && !e->engine && (e->engine = engine_named(p + 1, n)) != NULL)
			;
		else
			return dal__error(DAL_EINVAL, "migration file %s: '%.*s' is neither an engine (sqlite, "
				"postgresql, duckdb) nor 'down' (names are V<version>__<name>[.<engine>][.down].sql)",
				file, (int)n, p + 1);
		p = dot;
	}
	return strcmp(p, ".sql") == 0 ? 0 : dal__error(DAL_EINVAL, "migration file %s: a name must end in .sql", file);
}

static int parse_file_name(entry *e, const char *base)
{
	const char *name = parse_version(base, &e->version), *end;

	if (!name)
		return dal__error(DAL_EINVAL, "migration file %s: the name is not V<version>__<name>.sql "
			"(version 1 or more, two underscores)", base);
	end = strchr(name, '.');
	if (!end || !name_ok(name, (size_t)(end - name)))
		return dal__error(DAL_EINVAL, "migration file %s: the name after V%lld__ must be letters, digits and "
			"_ (at most %d)", base, e->version, NAME_MAX_BYTES - 1);
	memcpy(e->name, name, (size_t)(end - name));
	return parse_suffix(e, end, base);
}

static int read_file(char **out, const char *path, const char *base)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long size = 0;
	int error = 0;

	*out = NULL;
	if (!f)
		return dal__error(DAL_EIO, "migration file %s: cannot open: %s", base, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		error = dal__error(DAL_EIO, "migration file %s: cannot read its size", base);
	else if ((unsigned long)size > FILE_MAX_BYTES)
		error = dal__error(DAL_EINVAL, "migration file %s: %ld bytes, more than %u", base, size, FILE_MAX_BYTES);
	else if (!(buf = malloc((size_t)size + 1)))
		error = dal__error_nomem();
	else if (fread(buf, 1, (size_t)size, f) != (size_t)size)
		error = dal__error(DAL_EIO, "migration file %s: read failed", base);
	fclose(f);
	if (error == 0 && memchr(buf, '\0', (size_t)size))
		error = dal__error(DAL_EINVAL, "migration file %s: holds a NUL byte (not SQL text)", base);
	if (error) {
		free(buf);
		return error;
	}
	buf[size] = '\0';
	*out = buf;
	return 0;
}

static int add_file(entries *es, const char *dir, const char *base)
{
	char path[4096];
	entry *e;
	int error;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, base) >= sizeof path)
		return dal__error(DAL_EINVAL, "migration file %s/%s: the path is too long", dir, base);
	if (!(e = entries_add(es)))
		return dal__error_nomem();
	if ((error = parse_file_name(e, base)) < 0)
		return error;
	if (!(e->file = strdup(base)))
		return dal__error_nomem();
	return read_file(&e->text, path, base);
}

/* Every *.sql file of the folder; others (a README) are left alone. */
static int load_dir(entries *es, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int error = 0;

	if (!d)
		return dal__error(errno == ENOENT ? DAL_ENOTFOUND : DAL_EIO, "migrations folder '%s': %s", dir,
			strerror(errno));
	while (error == 0 && (de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] != '.' && n > 4 && strcmp(de->d_name + n - 4, ".sql") == 0)
			error = add_file(es, dir, de->d_name);
	}
	closedir(d);
	return error;
}

static int add_one(entries *es, const dal_migration *m, const char *text, bool down, size_t i)
{
	entry *e;

	if (!(e = entries_add(es)))
		return dal__error_nomem();
	e->version = m->version;
	e->down = down;
	e->flags = m->flags;
	if (m->engine && !(e->engine = engine_named(m->engine, strlen(m->engine))))
		return dal__error(DAL_EINVAL, "migration [%zu] (version %lld): engine '%s' is not sqlite, postgresql "
			"or duckdb", i, m->version, m->engine);
	memcpy(e->name, m->name, strlen(m->name));
	if (!(e->file = strdup("")) || !(e->text = strdup(text)))
		return dal__error_nomem();
	return 0;
}

static int load_list(entries *es, const dal_migration *list, size_t n)
{
	size_t i;
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		const dal_migration *m = &list[i];

		if (m->version < 1 || !m->name || !name_ok(m->name, strlen(m->name)) || !m->up)
			return dal__error(DAL_EINVAL, "migration [%zu] (version %lld): needs a version of 1 or more, a "
				"name of letters, digits and _, and up SQL", i, m->version);
		error = add_one(es, m, m->up, false, i);
		if (error == 0 && m->down)
			error = add_one(es, m, m->down, true, i);
	}
	return error;
}

static const char *where(const entry *e)
{
	return e->file[0] ? e->file : "(given in C)";
}

/*
 * The entry of `version` and direction for `engine`: its own variant first, else the
 * one for every engine. Two of a kind are a duplicate; names must agree.
 */
static int pick(const entry **out, const entries *es, long long version, bool down, const char *engine)
{
	const entry *generic = NULL, *own = NULL, *any = NULL;
	size_t i;

	for (i = 0; i < es->n; i++) {
		const entry *e = &es->v[i];
		const entry **slot = !e->engine ? &generic : e->engine == engine ? &own : NULL;

		if (e->version != version || e->down != down)
			continue;
		if (any && strcmp(any->name, e->name) != 0)
			return dal__error(DAL_EINVAL, "migrations %s and %s: version %lld has two names ('%s', '%s')",
				where(any), where(e), version, any->name, e->name);
		any = any ? any : e;
		if (slot && *slot)
			return dal__error(DAL_EINVAL, "migrations %s and %s: version %lld is given twice", where(*slot),
				where(e), version);
		if (slot)
			*slot = e;
	}
	*out = own ? own : generic;
	return 0;
}

/* An up part of `version` for any engine, or NULL. */
static const entry *any_up(const entries *es, long long version)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		if (es->v[i].version == version && !es->v[i].down)
			return &es->v[i];
	return NULL;
}

/* Over the text with CRLF line ends read as LF: a checkout on Windows changes no checksum. */
static int checksum(char hex[65], const char *text)
{
	size_t n = strlen(text), i, k = 0;
	char *lf = malloc(n + 1);
	int error;

	if (!lf)
		return dal__error_nomem();
	for (i = 0; i < n; i++)
		if (!(text[i] == '\r' && text[i + 1] == '\n'))
			lf[k++] = text[i];
	error = dal__sha256_hex(hex, lf, k);
	free(lf);
	return error;
}

static int resolve_one(dal__mig *m, const entries *es, long long version, const char *engine)
{
	const entry *up, *down;
	const char *name;
	bool no_tx = false;
	int error;

	if ((error = pick(&up, es, version, false, engine)) < 0 || (error = pick(&down, es, version, true, engine)) < 0)
		return error;
	m->version = version;
	m->elsewhere = !up;
	/* Files for other engines only: on this one the version is a step with nothing to do. */
	name = up ? up->name : any_up(es, version)->name;
	if (up && (error = dal__script_directives(up->text, where(up), &no_tx)) < 0)
		return error;
	m->no_tx = no_tx || (up && (up->flags & DAL_MIGRATION_NO_TX));
	if (down && (error = dal__script_directives(down->text, where(down), &no_tx)) < 0)
		return error;
	m->down_no_tx = down && (no_tx || (down->flags & DAL_MIGRATION_NO_TX));
	if (!(m->name = strdup(name)) || !(m->up = strdup(up ? up->text : "")) ||
	    !(m->file = strdup(up ? up->file : "")) || !(m->down_file = strdup(down ? down->file : "")) ||
	    (down && !(m->down = strdup(down->text))))
		return dal__error_nomem();
	return checksum(m->checksum, m->up);
}

static int resolve(dal__mig_set *out, const entries *es, const char *engine)
{
	long long max = 0, v;
	size_t i;
	int error = 0;

	for (i = 0; i < es->n; i++)
		max = es->v[i].version > max ? es->v[i].version : max;
	for (i = 0; i < es->n; i++)
		if (es->v[i].down && !any_up(es, es->v[i].version))
			return dal__error(DAL_EINVAL, "migration %s: a down part of version %lld, which has no up part",
				where(&es->v[i]), es->v[i].version);
	/* Past as many versions as there are files one is surely missing: look no further. */
	for (v = 1; v <= max && v <= (long long)es->n + 1; v++)
		if (!any_up(es, v))
			return dal__error(DAL_EINVAL, "migrations: version %lld is missing (versions run 1, 2, 3... up "
				"to the highest, %lld)", v, max);
	if (max > 0 && !(out->v = calloc((size_t)max, sizeof *out->v)))
		return dal__error_nomem();
	out->n = (size_t)max;
	for (i = 0; i < out->n && error == 0; i++)
		error = resolve_one(&out->v[i], es, (long long)i + 1, engine);
	return error;
}

int dal__mig_load(dal__mig_set *out, const dal_migrate_opts *opts, const char *engine)
{
	entries es = { NULL, 0, 0 };
	const char *own = engine_named(engine, strlen(engine));
	int error;

	memset(out, 0, sizeof *out);
	if (!opts->dir == !opts->list)
		return dal__error(DAL_EINVAL, "migrations: give either a folder (dir) or a list, not %s",
			opts->dir ? "both" : "neither");
	error = opts->dir ? load_dir(&es, opts->dir) : load_list(&es, opts->list, opts->nlist);
	if (error == 0)
		error = resolve(out, &es, own);
	entries_dispose(&es);
	if (error < 0)
		dal__mig_set_dispose(out);
	return error;
}

void dal__mig_set_dispose(dal__mig_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].up);
		free(s->v[i].down);
		free(s->v[i].file);
		free(s->v[i].down_file);
	}
	free(s->v);
	memset(s, 0, sizeof *s);
}
