/* The dal program: what every command shares (the options all take, the
 * database, exit codes). Uses only the public API (include/dal). */
#ifndef DAL_CLI_H
#define DAL_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include <dal/dal.h>

/* Exit codes; docs/cli.md and dal.1 list them, scripts depend on them. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2,
	CLI_TAMPERED = 3,     /* dal audit verify found the chain altered */
	CLI_UNAVAILABLE = 4,  /* the database could not be opened or reached */
	CLI_PENDING = 5       /* dal migrate status --check: migrations are pending */
};

typedef struct cli {
	const char *url;      /* --url, else DATABASE_URL, else sqlite:///./app.db */
	bool json;
	bool color;           /* stdout is a terminal and colour is not turned off */
	bool color_err;       /* the same for stderr (messages) */
	bool progress;        /* stderr is a terminal: long work shows a progress line */
	int color_mode;       /* -1 never, 0 auto, 1 always */
	dal_db *db;
	const char *prog;     /* "dal audit list", for messages */
	char prog_buf[64];
} cli;

/* Options every command takes, appended to each command's own table. */
#define CLI_COMMON_OPTS \
	{ "url", required_argument, NULL, 'U' }, \
	{ "json", no_argument, NULL, 'J' }, \
	{ "color", required_argument, NULL, 'C' }, \
	{ "no-color", no_argument, NULL, 'N' }, \
	{ "help", no_argument, NULL, 'h' }

/* Handle one of CLI_COMMON_OPTS. Returns 1 if handled, 0 if not one of them, -1 on a bad value. */
int cli_common_opt(cli *c, int opt, const char *arg);

/* A command's own option: returns -1 to go on, else the exit code (after a message). */
typedef int (*cli_opt_fn)(cli *c, int opt, const char *arg, void *st);

/* Read a command's options (getopt_long: they may follow the arguments; `--` ends
 * them): the common ones, -h/--help (prints @p help), the rest through @p each.
 * Returns -1 with optind at the first argument, or the exit code to end with. */
int cli_parse(cli *c, int argc, char **argv, const struct option *opts, const char *help, cli_opt_fn each, void *st);

/* Decide colour and progress once the options are read. */
void cli_settle(cli *c);

/* Open the database (once). Returns CLI_OK, or the exit code after printing why. */
int cli_open(cli *c);

/* Print "dal CMD: what: <dal's last error>" on stderr (and a JSON error document on
 * stdout with --json); returns the exit code that error maps to. */
int cli_fail(cli *c, const char *what);

/* As cli_fail(), for a failure the program found itself: @p code a DAL_E* code. */
int cli_error(cli *c, int code, const char *what, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A usage error: "dal CMD: message", then a pointer to --help; returns CLI_USAGE. */
int cli_usage_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A group's command (dal audit list): argv[1], one of the NULL-terminated @p names;
 * c->prog becomes "dal GROUP NAME". -h/--help there prints @p help. Returns -1 with
 * *action set, or the exit code to end with. */
int cli_subcommand(cli *c, int argc, char **argv, const char *const *names, const char *help, const char **action);

/* Whether @p word is one of the NULL-terminated @p words. */
bool known(const char *word, const char *const *words);

/* Parse a base-10 int64; false if it is not one. */
bool cli_parse_int(const char *text, int64_t *out);

/* Check TABLE against the engine's catalog; on success *quoted is "TABLE" as an
 * identifier (owned, free()). Returns CLI_OK or the exit code after printing why. */
int cli_table(cli *c, const char *table, char **quoted);

/* Command groups: argv[0] is the command's name. */
int cmd_sql(cli *c, int argc, char **argv);
int cmd_health(cli *c, int argc, char **argv);
int cmd_metrics(cli *c, int argc, char **argv);
int cmd_migrate(cli *c, int argc, char **argv);
int cmd_audit(cli *c, int argc, char **argv);
int cmd_history(cli *c, int argc, char **argv);
int cmd_show(cli *c, int argc, char **argv);

#endif
