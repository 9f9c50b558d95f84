/* A migration's SQL text: its statements with their line numbers, and its directives. Internal. */
#ifndef DAL_MIGRATE_SCRIPT_H
#define DAL_MIGRATE_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

typedef struct dal__script {
	const char *text;   /* the whole script */
	const char *p;      /* where the next statement is looked for */
	int line;           /* the line p is on, from 1 */
} dal__script;

void dal__script_init(dal__script *s, const char *text);
/* The next statement: it starts at *stmt (after blanks and comments), is *len bytes
 * without its ';', and starts on *line. False when only blanks and comments are left. */
bool dal__script_next(dal__script *s, const char **stmt, size_t *len, int *line);

/* The `-- dal:<name>` lines of a script, among the comment lines before its first
 * statement. Known: no-transaction. An unknown one is DAL_EINVAL naming `file` and
 * its line. */
int dal__script_directives(const char *text, const char *file, bool *no_tx);

#endif
