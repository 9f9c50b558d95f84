/*
 * Statements of a migration, split where the engine would end them: at a ';'
 * outside literals, quoted identifiers and comments (the lexer the placeholder
 * rewriter uses), so that a failure names the line its statement starts on. A
 * trigger's body (CREATE TRIGGER ... BEGIN ...; ...; END) stays one statement.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

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

static bool word_at(const char *p, const char *word)
{
	size_t n = strlen(word);

	return strncasecmp(p, word, n) == 0 && !isalnum((unsigned char)p[n]) && p[n] != '_';
}

/* Whether the word BEGIN comes before the first ';' (outside literals). */
static bool begin_before_semicolon(const char *text, const char *p)
{
	size_t n;

	for (; *p && *p != ';'; p++) {
		if ((n = dal__sql_skip_quoted(text, p)) > 0)
			p += n - 1;
		else if (word_at(p, "BEGIN") && (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')))
			return true;
	}
	return false;
}

/* SQLite's CREATE [TEMP] TRIGGER ... BEGIN ...; ...; END: its body holds ';'s up to the
 * END that closes it. (PostgreSQL's CREATE TRIGGER ... EXECUTE FUNCTION f() has none.) */
static bool is_trigger(const char *text, const char *p)
{
	const char *start = p;

	if (!word_at(p, "CREATE"))
		return false;
	p += 6;
	while (isspace((unsigned char)*p))
		p++;
	if (word_at(p, "TEMP") || word_at(p, "TEMPORARY")) {
		p += word_at(p, "TEMP") ? 4 : 9;
		while (isspace((unsigned char)*p))
			p++;
	}
	return word_at(p, "TRIGGER") && begin_before_semicolon(text, start);
}

/* Whether the text before `end` closes with the word END. */
static bool ends_with_end(const char *start, const char *end)
{
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	return end - start >= 3 && strncasecmp(end - 3, "END", 3) == 0 &&
	       (end - start == 3 || !(isalnum((unsigned char)end[-4]) || end[-4] == '_'));
}

bool dal__script_next(dal__script *s, const char **stmt, size_t *len, int *line)
{
	const char *q;
	size_t n;
	bool trigger;

	skip_blank(s);
	if (!*s->p)
		return false;
	*stmt = s->p;
	*line = s->line;
	trigger = is_trigger(s->text, s->p);
	for (q = s->p; *q && (*q != ';' || (trigger && !ends_with_end(s->p, q))); q++)
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

/* Directives are comment lines before the first statement: none later, none in a literal. */
int dal__script_directives(const char *text, const char *file, bool *no_tx)
{
	const char *p;
	int line = 1;

	*no_tx = false;
	for (p = text; *p; line++) {
		p += strspn(p, " \t\r");
		if (*p != '\n' && strncmp(p, "--", 2) != 0)
			break;
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
