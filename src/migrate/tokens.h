/* A statement as words, for the linter: keywords and unquoted names folded to lower
 * case as PostgreSQL folds them, quoted names as written, literals marked. Internal. */
#ifndef DAL_MIGRATE_TOKENS_H
#define DAL_MIGRATE_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum dal__tok_kind {
	DAL__TOK_WORD,      /* a keyword or an unquoted name, lower case */
	DAL__TOK_NAME,      /* a "quoted" name, as written */
	DAL__TOK_STRING,    /* a '...' literal, its text */
	DAL__TOK_PUNCT      /* one other character */
} dal__tok_kind;

typedef struct dal__tok {
	dal__tok_kind kind;
	char text[64];      /* cut to fit: longer names are not a model's */
} dal__tok;

typedef struct dal__toks {
	dal__tok *v;
	size_t n, cap;
} dal__toks;

/* The words of `len` bytes of SQL; DAL_ENOMEM or 0. */
int dal__toks_read(dal__toks *out, const char *sql, size_t len);
void dal__toks_dispose(dal__toks *t);
/* Whether token i is the keyword `word` (a WORD token). */
bool dal__tok_is(const dal__toks *t, size_t i, const char *word);
/* Whether the keyword appears in [from, to). */
bool dal__toks_has(const dal__toks *t, size_t from, size_t to, const char *word);

#endif
