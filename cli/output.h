/* What the dal program prints: aligned tables and key/value blocks for people,
 * one JSON document for scripts, colour only on a terminal, a progress line on
 * stderr for long work. */
#ifndef DAL_CLI_OUTPUT_H
#define DAL_CLI_OUTPUT_H

#include <jansson.h>
#include <stdio.h>

#include "cli.h"

#define OUT_BOLD "\033[1m"
#define OUT_RED "\033[31m"
#define OUT_GREEN "\033[32m"
#define OUT_YELLOW "\033[33m"
#define OUT_DIM "\033[2m"

/* @p sgr (one of OUT_*), or "" when colour is off; out_reset() ends it. */
const char *out_sgr(const cli *c, const char *sgr);
const char *out_reset(const cli *c);

/* UTC microseconds as ISO-8601 ("2026-12-06T00:55:00.000000Z"). */
#define OUT_TIME_BUFSIZE 40
const char *out_time(char buf[OUT_TIME_BUFSIZE], int64_t us);

/* Text safe to print on a terminal and valid UTF-8: controls as \n, \t, \xNN, and
 * so are bytes that are not UTF-8. Owned, free(). */
char *out_escape(const char *s, size_t len);

/* As out_escape(), for a message: its line breaks stay. Owned, free(). */
char *out_escape_message(const char *s);

/* @p s as a JSON string (escaped when it is not UTF-8), or null for NULL: a new reference. */
json_t *out_jstr(const char *s);

/* A value as text for a table cell (owned, free()); NULL for a null value. */
char *out_value_text(const dal_value *v);

/* A value as JSON (a new reference). */
json_t *out_value_json(const dal_value *v);

/* A JSON document text parsed into a value, or the text as a string if it is not JSON. */
json_t *out_json_text(const char *text);

/* Print @p doc on stdout, indented, and drop the reference. Returns CLI_OK or CLI_FAIL. */
int out_json(json_t *doc);

/* An aligned table: cells are copied; NULL prints as the null marker. */
typedef struct out_table out_table;
out_table *out_table_new(size_t ncols, const char *const *headers);
/* Right-align column @p col (numbers). */
void out_table_right(out_table *t, size_t col);
int out_table_add(out_table *t, const char *const *cells);
void out_table_print(const cli *c, const out_table *t, FILE *f, bool footer);
void out_table_free(out_table *t);

/* "key   value" lines, keys padded to the longest. */
void out_kv(const cli *c, FILE *f, const char *const *keys, const char *const *values, size_t n);

/* A progress line on stderr ("dal audit verify: working, 3 s") while a call runs,
 * from a thread of its own; nothing when stderr is not a terminal. */
typedef struct out_progress out_progress;
out_progress *out_progress_start(const cli *c, const char *label);
void out_progress_stop(out_progress *p);

#endif
