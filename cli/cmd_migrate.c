/* dal migrate up|down|status|lint|new. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

static const char migrate_help[] =
	"usage: dal migrate up [--dir DIR]\n"
	"       dal migrate down TARGET [--dir DIR]\n"
	"       dal migrate status [--check] [--dir DIR]\n"
	"       dal migrate lint [--dir DIR]\n"
	"       dal migrate new NAME [--dir DIR]\n"
	"\n"
	"Versioned schema migrations from a folder of V<version>__<name>.sql files\n"
	"(V<version>__<name>.down.sql the way back).\n"
	"\n"
	"  up             apply every pending migration, in order\n"
	"  down TARGET    undo applied migrations, newest first, down to version TARGET (0: all)\n"
	"  status         every migration and where it stands; --check exits 5 when any is pending\n"
	"  lint           look for operations that take heavy locks on PostgreSQL; exits 1 on findings\n"
	"  new NAME       write the next V<n>__NAME.sql and its .down.sql (no database needed)\n"
	"\n"
	"  --dir DIR      the migrations folder (default: migrations)\n"
	"  --check        (status) exit 5 when migrations are pending\n";

typedef struct migrate_opts {
	const char *dir;
	bool check;
} migrate_opts;

static int migrate_opt(cli *c, int opt, const char *arg, void *st)
{
	migrate_opts *o = st;

	(void)c;
	if (opt == 'd')
		o->dir = arg;
	else if (opt == 'k')
		o->check = true;
	else
		return CLI_USAGE;
	return -1;
}

static json_t *time_or_null(int64_t us)
{
	char t[OUT_TIME_BUFSIZE];

	return us ? json_string(out_time(t, us)) : json_null();
}

static int print_report(cli *c, const dal_migrate_report *r, const char *verb)
{
	static const char *const headers[] = { "version", "name", "state", "applied at", "applied by", "now" };
	out_table *t;
	size_t i;

	if (c->json) {
		json_t *items = json_array();
		for (i = 0; i < r->count; i++) {
			const dal_migration_status *m = &r->items[i];
			json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:b}",
				"version", (json_int_t)m->version, "name", m->name, "state",
				dal_migration_state_name(m->state), "checksum", m->checksum, "file", m->file,
				"applied_at", time_or_null(m->applied_at), "duration_ms", (json_int_t)m->duration_ms,
				"applied_by", m->applied_by[0] ? json_string(m->applied_by) : json_null(),
				"changed_now", m->applied_now));
		}
		return out_json(json_pack("{s:I, s:I, s:I, s:o}", "current_version", (json_int_t)r->current_version,
			"pending", (json_int_t)r->pending, "changed_now", (json_int_t)r->applied_now, "migrations", items));
	}
	if (!(t = out_table_new(6, headers)))
		return CLI_FAIL;
	out_table_right(t, 0);
	for (i = 0; i < r->count; i++) {
		const dal_migration_status *m = &r->items[i];
		char v[32], at[OUT_TIME_BUFSIZE];
		const char *cells[6] = { v, m->name, dal_migration_state_name(m->state),
			m->applied_at ? out_time(at, m->applied_at) : "", m->applied_by, m->applied_now ? verb : "" };
		snprintf(v, sizeof(v), "%lld", m->version);
		out_table_add(t, cells);
	}
	out_table_print(c, t, stdout, false);
	out_table_free(t);
	printf("%scurrent version %lld, %zu pending%s\n", out_sgr(c, r->pending ? OUT_YELLOW : OUT_GREEN),
		r->current_version, r->pending, out_reset(c));
	return CLI_OK;
}

typedef enum { RUN_UP, RUN_DOWN, RUN_STATUS } run_kind;

static int run(cli *c, const migrate_opts *o, run_kind kind, long long target)
{
	dal_migrate_opts mo = DAL_MIGRATE_OPTS_INIT;
	dal_migrate_report *r = NULL;
	out_progress *p;
	int rc, err;

	if ((rc = cli_open(c)) != CLI_OK)
		return rc;
	mo.dir = o->dir;
	p = kind == RUN_STATUS ? NULL : out_progress_start(c, kind == RUN_UP ? "migrating up" : "migrating down");
	err = kind == RUN_UP ? dal_migrate(&r, c->db, &mo)
		: kind == RUN_DOWN ? dal_migrate_down(&r, c->db, &mo, target) : dal_migrate_status(&r, c->db, &mo);
	out_progress_stop(p);
	if (err < 0) {
		rc = cli_fail(c, kind == RUN_UP ? "applying" : kind == RUN_DOWN ? "undoing" : "reading the migrations");
		dal_migrate_report_free(r);
		return rc;
	}
	rc = print_report(c, r, kind == RUN_DOWN ? "undone" : "applied");
	if (rc == CLI_OK && kind == RUN_STATUS && o->check && r->pending)
		rc = CLI_PENDING;
	dal_migrate_report_free(r);
	return rc;
}

static int lint(cli *c, const migrate_opts *o)
{
	static const char *const headers[] = { "file", "line", "rule", "message" };
	dal_migrate_opts mo = DAL_MIGRATE_OPTS_INIT;
	dal_lint_report *r = NULL;
	out_table *t;
	size_t i;
	int rc;

	mo.dir = o->dir;
	if (dal_migrate_lint(&r, &mo, NULL, 0) < 0)
		return cli_fail(c, "reading the migrations");
	if (c->json) {
		json_t *items = json_array();
		for (i = 0; i < r->count; i++) {
			const dal_lint_finding *f = &r->items[i];
			/* The message quotes the migration's SQL, which may not be UTF-8. */
			json_array_append_new(items, json_pack("{s:o, s:I, s:i, s:s, s:o}", "file", out_jstr(f->file),
				"version", (json_int_t)f->version, "line", f->line, "rule", f->rule, "message",
				out_jstr(f->message)));
		}
		rc = out_json(json_pack("{s:I, s:o}", "count", (json_int_t)r->count, "findings", items));
	} else if ((t = out_table_new(4, headers)) != NULL) {
		for (i = 0; i < r->count; i++) {
			char line[16];
			const char *cells[4] = { r->items[i].file, line, r->items[i].rule, r->items[i].message };
			snprintf(line, sizeof(line), "%d", r->items[i].line);
			out_table_add(t, cells);
		}
		if (r->count)
			out_table_print(c, t, stdout, false);
		printf("%zu finding%s\n", r->count, r->count == 1 ? "" : "s");
		out_table_free(t);
		rc = CLI_OK;
	} else
		rc = CLI_FAIL;
	if (rc == CLI_OK && r->count)
		rc = CLI_FAIL;
	dal_lint_report_free(r);
	return rc;
}

/* The highest V<n>__ version in @p dir; 0 when none (or no folder yet). */
static long long highest_version(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long long top = 0, v;
	char *end;

	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != 'V')
			continue;
		v = strtoll(e->d_name + 1, &end, 10);
		if (end != e->d_name + 1 && strncmp(end, "__", 2) == 0 && v > top)
			top = v;
	}
	if (d)
		closedir(d);
	return top;
}

static int write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	return close(fd) == 0 && n == (ssize_t)strlen(text) ? 0 : -1;
}

static int new_migration(cli *c, const migrate_opts *o, const char *name)
{
	char up[4096], down[4096], body[512];
	long long v;
	const char *s;

	for (s = name; *s; s++)
		if (!(*s == '_' || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return cli_usage_error(c, "a migration's name is letters, digits and _, not '%s'", name);
	if (!*name || strlen(name) > 200)
		return cli_usage_error(c, "a migration's name is 1 to 200 letters, digits and _");
	if (mkdir(o->dir, 0755) < 0 && errno != EEXIST) {
		return cli_error(c, DAL_EIO, "writing the migration", "cannot make the folder '%s': %s", o->dir,
			strerror(errno));
	}
	v = highest_version(o->dir) + 1;
	snprintf(up, sizeof(up), "%s/V%lld__%s.sql", o->dir, v, name);
	snprintf(down, sizeof(down), "%s/V%lld__%s.down.sql", o->dir, v, name);
	snprintf(body, sizeof(body), "-- V%lld %s: statements separated by ';'\n", v, name);
	if (write_new(up, body) < 0 || write_new(down, "-- the way back of the migration beside this file\n") < 0) {
		return cli_error(c, DAL_EIO, "writing the migration", "cannot write '%s': %s", up, strerror(errno));
	}
	if (c->json)
		return out_json(json_pack("{s:I, s:o, s:o}", "version", (json_int_t)v, "up", out_jstr(up), "down",
			out_jstr(down)));
	printf("created %s\ncreated %s\n", up, down);
	return CLI_OK;
}

int cmd_migrate(cli *c, int argc, char **argv)
{
	static const struct option opts[] = { CLI_COMMON_OPTS, { "dir", required_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'k' }, { 0 } };
	migrate_opts o = { .dir = "migrations" };
	const char *action;
	int64_t target;
	int rc, nargs;

	if ((rc = cli_subcommand(c, argc, argv, (const char *const[]){ "up", "down", "status", "lint", "new", NULL },
		     migrate_help, &action)) != -1)
		return rc;
	if ((rc = cli_parse(c, argc - 1, argv + 1, opts, migrate_help, migrate_opt, &o)) != -1)
		return rc;
	argv += 1;
	nargs = argc - 1 - optind;
	if (o.check && strcmp(action, "status") != 0)
		return cli_usage_error(c, "--check goes with status");
	if (!strcmp(action, "up") || !strcmp(action, "status") || !strcmp(action, "lint")) {
		if (nargs)
			return cli_usage_error(c, "%s takes no argument ('%s')", action, argv[optind]);
		return action[0] == 'l' ? lint(c, &o) : run(c, &o, action[0] == 'u' ? RUN_UP : RUN_STATUS, 0);
	}
	if (!strcmp(action, "down")) {
		if (nargs != 1)
			return cli_usage_error(c, "down needs one TARGET version (0: undo all)");
		if (!cli_parse_int(argv[optind], &target) || target < 0)
			return cli_usage_error(c, "TARGET is a version, 0 or more, not '%s'", argv[optind]);
		return run(c, &o, RUN_DOWN, target);
	}
	if (nargs != 1)
		return cli_usage_error(c, "new needs one NAME");
	return new_migration(c, &o, argv[optind]);
}
