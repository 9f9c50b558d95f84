/*
 * Words of a statement for the linter. It only needs to tell keywords, names and
 * literals apart, so this is no SQL parser: comments are dropped, literals kept as
 * one token each, everything else one character at a time.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/tokens.h"
#include "sql/placeholder.h"
#include "util/error.h"
#include "util/grow.h"

static bool word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static int push(dal__toks *t, dal__tok_kind kind, const char *p, size_t n, bool fold)
{
	dal__tok *k;
	size_t i;

	if (dal__grow((void **)&t->v, &t->cap, t->n, sizeof *t->v) < 0)
		return DAL_ENOMEM;
	k = &t->v[t->n++];
	k->kind = kind;
	n = n < sizeof k->text - 1 ? n : sizeof k->text - 1;
	for (i = 0; i < n; i++)
		k->text[i] = fold ? (char)tolower((unsigned char)p[i]) : p[i];
	k->text[n] = '\0';
	return 0;
}

/* A quoted run (its quotes doubled inside) as its text. */
static int push_quoted(dal__toks *t, dal__tok_kind kind, const char *p, size_t n)
{
	return push(t, kind, p + 1, n >= 2 ? n - 2 : 0, false);
}

int dal__toks_read(dal__toks *out, const char *sql, size_t len)
{
	const char *p = sql, *end = sql + len;
	size_t n;
	int error = 0;

	memset(out, 0, sizeof *out);
	while (p < end && error == 0) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if ((n = dal__sql_skip_quoted(sql, p)) > 0) {
			n = n <= (size_t)(end - p) ? n : (size_t)(end - p);
			if (*p == '"')
				error = push_quoted(out, DAL__TOK_NAME, p, n);
			else if (*p == '\'')
				error = push_quoted(out, DAL__TOK_STRING, p, n);
			else if (*p == 'E' || *p == 'e')
				error = push_quoted(out, DAL__TOK_STRING, p + 1, n - 1);
			p += n;   /* comments and $$ bodies are dropped */
		} else if (word_char((unsigned char)*p)) {
			for (n = 0; p + n < end && word_char((unsigned char)p[n]); n++)
				;
			error = push(out, DAL__TOK_WORD, p, n, true);
			p += n;
		} else {
			error = push(out, DAL__TOK_PUNCT, p, 1, false);
			p++;
		}
	}
	return error;
}

void dal__toks_dispose(dal__toks *t)
{
	free(t->v);
	memset(t, 0, sizeof *t);
}

bool dal__tok_is(const dal__toks *t, size_t i, const char *word)
{
	return i < t->n && t->v[i].kind == DAL__TOK_WORD && strcmp(t->v[i].text, word) == 0;
}

bool dal__toks_has(const dal__toks *t, size_t from, size_t to, const char *word)
{
	size_t i;

	for (i = from; i < to && i < t->n; i++)
		if (dal__tok_is(t, i, word))
			return true;
	return false;
}
