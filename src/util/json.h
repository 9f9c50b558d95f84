/*
 * JSON text to and from jansson, without its two ways of hiding a failed allocation.
 *
 * Parsing tells a refusal from a lack of memory.
 * jansson reports some failed allocations as syntax errors ("invalid token"), so
 * a text it refuses is parsed once more: a refusal that repeats while the memory
 * the parse needs cannot be had either is taken as out of memory. Internal.
 */
#ifndef DAL_UTIL_JSON_H
#define DAL_UTIL_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

static inline json_t *dal__json_loadb(const char *s, size_t len, size_t flags, json_error_t *e, bool *nomem)
{
	json_t *j;
	void *probe;

	*nomem = false;
	if ((j = json_loadb(s, len, flags, e)) != NULL || (j = json_loadb(s, len, flags, e)) != NULL)
		return j;
	if (json_error_code(e) == json_error_out_of_memory || !(probe = malloc(2 * len + 4096)))
		*nomem = true;
	else
		free(probe);
	return NULL;
}

/*
 * A document whose content is kept: jansson's lexer does not check the growth of the
 * buffer it saves each token's text in, so a failed allocation there can drop bytes
 * from a string or number and still parse. A second parse must give the same
 * document; when it does not, an allocation failed in one of them.
 */
static inline json_t *dal__json_load_doc(const char *s, size_t len, size_t flags, json_error_t *e, bool *nomem)
{
	json_t *j, *again;

	if (!(j = dal__json_loadb(s, len, flags, e, nomem)))
		return NULL;
	if ((again = json_loadb(s, len, flags, e)) != NULL && json_equal(j, again)) {
		json_decref(again);
		return j;
	}
	json_decref(again);
	json_decref(j);
	*nomem = true;
	return NULL;
}

/*
 * json_dumps() drops an object key whose bytes it could not append (jansson does not
 * check that append), leaving text with a hole; json_dumpb() into a buffer of the
 * size it asked for first cannot fail half-way. Free the text with free().
 */
static inline char *dal__json_dumps(const json_t *j, size_t flags)
{
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *text;

	if (n == 0 || !(text = malloc(n + 1)))
		return NULL;
	if (json_dumpb(j, text, n, flags) != n) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

#endif
