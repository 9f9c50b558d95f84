/*
 * Statements of a migration, split where the engine would end them: at a ';'
 * outside literals, quoted identifiers and comments (the lexer the placeholder
 * rewriter uses), so that a failure names the line its statement starts on.
 */
#include <ctype.h>
#include <string.h>

#include "migrate/script.h"
#include "sql/placeholder.h"
#include "util/error.h"

#define DIRECTIVE "-- dal:"

void dal__script_init(dal__script *s, const char *text)
{
	s->text = text;
	s->p = text;
	s->line = 1;
}

static int lines_in(const char *p, size_t n)
{
	int k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* Past blanks and comments, counting lines. */
static void skip_blank(dal__script *s)
{
	size_t n;

	for (;;) {
		if (isspace((unsigned char)*s->p)) {
			s->line += *s->p++ == '\n';
		} else if ((s->p[0] == '-' && s->p[1] == '-') || (s->p[0] == '/' && s->p[1] == '*')) {
			n = dal__sql_skip_quoted(s->text, s->p);
			s->line += lines_in(s->p, n);
			s->p += n;
		} else if (*s->p == ';') {
			s->p++;   /* an empty statement */
		} else {
			return;
		}
	}
}

bool dal__script_next(dal__script *s, const char **stmt, size_t *len, int *line)
{
	const char *q;
	size_t n;

	skip_blank(s);
	if (!*s->p)
		return false;
	*stmt = s->p;
	*line = s->line;
	for (q = s->p; *q && *q != ';'; q++)
		if ((n = dal__sql_skip_quoted(s->text, q)) > 0)
			q += n - 1;
	*len = (size_t)(q - s->p);
	s->line += lines_in(s->p, *len);
	s->p = *q ? q + 1 : q;
	return true;
}

static bool directive_is(const char *p, const char *name)
{
	size_t n = strlen(name);

	return strncmp(p, name, n) == 0 && (p[n] == '\0' || isspace((unsigned char)p[n]));
}

int dal__script_directives(const char *text, const char *file, bool *no_tx)
{
	const char *p;
	int line = 1;

	*no_tx = false;
	for (p = text; *p; line++) {
		if (strncmp(p, DIRECTIVE, strlen(DIRECTIVE)) == 0) {
			const char *d = p + strlen(DIRECTIVE);

			size_t n = strcspn(p, "\r\n");

			if (!directive_is(d, "no-transaction"))
				return dal__error(DAL_EINVAL, "migration %s, line %d: unknown directive '%.*s' (known: "
					"-- dal:no-transaction)", file, line, (int)(n < 80 ? n : 80), p);
			*no_tx = true;
		}
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return 0;
}
