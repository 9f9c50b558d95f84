#define _XOPEN_SOURCE 700 /* wcwidth */
#include "output.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

const char *out_sgr(const cli *c, const char *sgr)
{
	return c->color ? sgr : "";
}

const char *out_reset(const cli *c)
{
	return c->color ? "\033[0m" : "";
}

const char *out_time(char buf[OUT_TIME_BUFSIZE], int64_t us)
{
	char t[DAL_TIMESTAMP_BUFSIZE];

	if (dal_timestamp_format(t, us) < 0) {
		snprintf(buf, OUT_TIME_BUFSIZE, "%" PRId64 "us", us);
		return buf;
	}
	t[10] = 'T';
	snprintf(buf, OUT_TIME_BUFSIZE, "%sZ", t);
	return buf;
}

/* The length of the valid UTF-8 sequence at @p s (of @p len bytes), 0 if none starts there. */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		: s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0, i;
	uint32_t cp = s[0] & (0x7f >> n);

	if (n == 0 || n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/* C0 and C1 controls (U+0080..U+009F: a terminal may take U+009B as CSI) and bytes
 * that are not UTF-8 become \xNN, so that the text is valid UTF-8 and inert. */
static char *escape(const char *s, size_t len, bool keep_newline)
{
	const unsigned char *u = (const unsigned char *)s;
	char *out = malloc(len * 4 + 1), *p = out;
	size_t i = 0, n, k;

	if (!out)
		return NULL;
	while (i < len) {
		n = utf8_len(u + i, len - i);
		if (u[i] == '\n' && !keep_newline)
			p += sprintf(p, "\\n");
		else if (u[i] == '\t')
			p += sprintf(p, "\\t");
		else if (n == 0 || (n == 1 && (u[i] < 0x20 || u[i] == 0x7f) && u[i] != '\n') ||
		         (n == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			for (k = 0; k < (n ? n : 1); k++)
				p += sprintf(p, "\\x%02x", u[i + k]);
		} else {
			memcpy(p, s + i, n);
			p += n;
		}
		i += n ? n : 1;
	}
	*p = '\0';
	return out;
}

char *out_escape(const char *s, size_t len)
{
	return escape(s, len, false);
}

char *out_escape_message(const char *s)
{
	return escape(s, strlen(s), true);
}

json_t *out_jstr(const char *s)
{
	json_t *j;
	char *e;

	if (!s)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	e = out_escape(s, strlen(s));
	j = json_string(e ? e : "");
	free(e);
	return j;
}

static char *hex_blob(const unsigned char *b, size_t len)
{
	char *out = malloc(len * 2 + 3), *p = out;
	size_t i;

	if (!out)
		return NULL;
	p += sprintf(p, "\\x");
	for (i = 0; i < len; i++)
		p += sprintf(p, "%02x", b[i]);
	return out;
}

/* dal's own timestamp text ("2026-12-05 10:00:00.000000", which SQLite hands back
 * for a timestamp column) as ISO-8601; NULL for any other text. */
static const char *iso_from_text(char buf[OUT_TIME_BUFSIZE], const dal_value *v)
{
	char t[DAL_TIMESTAMP_BUFSIZE];
	int64_t us;

	if (v->len != 26 || v->v.s[10] != ' ' || v->v.s[19] != '.')
		return NULL;
	memcpy(t, v->v.s, 26);
	t[26] = '\0';
	return dal_timestamp_parse(&us, t) == DAL_OK ? out_time(buf, us) : NULL;
}

/* Infinities and NaN as PostgreSQL spells them; other reals in the fewest digits
 * that read back as the same double (0.1, not 0.10000000000000001). */
static const char *real_text(char buf[64], double d)
{
	int prec;

	if (isnan(d))
		return "NaN";
	if (isinf(d))
		return d > 0 ? "Infinity" : "-Infinity";
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, 64, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return buf;
	}
	snprintf(buf, 64, "%.17g", d);
	return buf;
}

char *out_value_text(const dal_value *v)
{
	char buf[64], t[OUT_TIME_BUFSIZE];

	switch (v ? v->type : DAL_TYPE_NULL) {
	case DAL_TYPE_NULL:
		return NULL;
	case DAL_TYPE_BOOL:
		return strdup(v->v.b ? "true" : "false");
	case DAL_TYPE_INT:
		snprintf(buf, sizeof(buf), "%" PRId64, v->v.i);
		return strdup(buf);
	case DAL_TYPE_DOUBLE:
		return strdup(real_text(buf, v->v.d));
	case DAL_TYPE_TIMESTAMP:
		return strdup(out_time(t, v->v.ts));
	case DAL_TYPE_BLOB:
		return hex_blob(v->v.p, v->len);
	case DAL_TYPE_TEXT:
		if (iso_from_text(t, v))
			return strdup(t);
		return out_escape(v->v.s, v->len);
	case DAL_TYPE_JSON:
		return out_escape(v->v.s, v->len);
	}
	return NULL;
}

json_t *out_json_text(const char *text)
{
	json_t *j = text ? json_loads(text, JSON_DECODE_ANY, NULL) : json_null();

	return j ? j : json_string(text);
}

/* A JSON column as its document (one jansson refuses stays text), dal's timestamp text
 * as ISO-8601, other text as a string: escaped when it is not UTF-8, which jansson
 * refuses. */
static json_t *text_json(const dal_value *v)
{
	char t[OUT_TIME_BUFSIZE], *e;
	json_t *j;

	if (v->type == DAL_TYPE_JSON && (j = json_loadb(v->v.s, v->len, JSON_DECODE_ANY, NULL)) != NULL)
		return j;
	if (v->type == DAL_TYPE_TEXT && iso_from_text(t, v))
		return json_string(t);
	if ((j = json_stringn(v->v.s, v->len)) != NULL)
		return j;
	e = out_escape(v->v.s, v->len);
	j = json_string(e ? e : "");
	free(e);
	return j;
}

json_t *out_value_json(const dal_value *v)
{
	char t[OUT_TIME_BUFSIZE], buf[64];
	json_t *j;

	switch (v ? v->type : DAL_TYPE_NULL) {
	case DAL_TYPE_NULL:
		return json_null();
	case DAL_TYPE_BOOL:
		return json_boolean(v->v.b);
	case DAL_TYPE_INT:
		return json_integer(v->v.i);
	case DAL_TYPE_DOUBLE:
		/* JSON has no infinity or NaN: they are strings, as the table shows them. */
		return isfinite(v->v.d) ? json_real(v->v.d) : json_string(real_text(buf, v->v.d));
	case DAL_TYPE_TIMESTAMP:
		return json_string(out_time(t, v->v.ts));
	case DAL_TYPE_JSON:
	case DAL_TYPE_TEXT:
		return text_json(v);
	case DAL_TYPE_BLOB: {
		char *h = hex_blob(v->v.p, v->len);
		j = json_string(h ? h : "");
		free(h);
		return j;
	}
	}
	return json_null();
}

int out_json(json_t *doc)
{
	int rc = CLI_OK;

	if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII) < 0)
		rc = CLI_FAIL;
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

/* ---- tables ---- */

struct out_table {
	size_t ncols, nrows, cap;
	char **headers;
	char **cells;   /* nrows * ncols; NULL is a null value */
	bool *right;
};

/* Columns a terminal gives the text, by the C library's wcwidth() in a UTF-8 locale of
 * this thread's own (the program's locale may be "C", where it knows no wide
 * character): 2 for CJK and emoji, 0 for combining marks. Text here is escaped, so
 * it is valid UTF-8. */
static size_t width(const char *s)
{
	static locale_t utf8;
	locale_t before;
	size_t n = 0, len = s ? strlen(s) : 0, k;
	mbstate_t st;
	wchar_t wc;
	int w;

	if (!utf8)
		utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (!utf8) {
		for (k = 0; k < len; k++)
			n += ((unsigned char)s[k] & 0xc0) != 0x80;
		return n;
	}
	before = uselocale(utf8);
	memset(&st, 0, sizeof(st));
	while (len && (k = mbrtowc(&wc, s, len, &st)) != 0 && k <= len) {
		w = wcwidth(wc);
		n += w < 0 ? 1 : (size_t)w;
		s += k;
		len -= k;
	}
	uselocale(before);
	return n;
}

out_table *out_table_new(size_t ncols, const char *const *headers)
{
	out_table *t = calloc(1, sizeof(*t));
	size_t i;

	if (!t || !(t->headers = calloc(ncols, sizeof(char *))) || !(t->right = calloc(ncols, sizeof(bool)))) {
		out_table_free(t);
		return NULL;
	}
	t->ncols = ncols;
	for (i = 0; i < ncols; i++)
		t->headers[i] = out_escape(headers[i], strlen(headers[i]));
	return t;
}

void out_table_right(out_table *t, size_t col)
{
	if (t && col < t->ncols)
		t->right[col] = true;
}

int out_table_add(out_table *t, const char *const *cells)
{
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(char *));
		if (!n)
			return -1;
		t->cells = n;
		t->cap = cap;
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = cells[i] ? out_escape(cells[i], strlen(cells[i])) : NULL;
	t->nrows++;
	return 0;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static void cell(FILE *f, const char *s, size_t w, bool right)
{
	size_t n = width(s);

	if (right)
		pad(f, w - n);
	fputs(s, f);
	if (!right)
		pad(f, w - n);
}

/* One line to @p f without the padding its last cells left at the end. */
static void put_line(FILE *f, char *line, size_t len)
{
	while (len && line[len - 1] == ' ')
		len--;
	fwrite(line, 1, len, f);
	fputc('\n', f);
}

static void print_row(const cli *c, const out_table *t, const size_t *w, char *const *cells, bool header, FILE *f)
{
	char *line = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&line, &len);

	if (!m)
		return;
	for (i = 0; i < t->ncols; i++) {
		const char *s = cells[i] ? cells[i] : "NULL";
		fputs(i ? "  " : "", m);
		if (!cells[i] || header)
			fputs(out_sgr(c, header ? OUT_BOLD : OUT_DIM), m);
		cell(m, s, w[i], t->right[i]);
		if (!cells[i] || header)
			fputs(out_reset(c), m);
	}
	fclose(m);
	put_line(f, line, len);
	free(line);
}

void out_table_print(const cli *c, const out_table *t, FILE *f, bool footer)
{
	size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(size_t)), r, i;

	if (!w)
		return;
	for (i = 0; i < t->ncols; i++) {
		w[i] = width(t->headers[i]);
		for (r = 0; r < t->nrows; r++) {
			const char *s = t->cells[r * t->ncols + i];
			size_t n = width(s ? s : "NULL");
			w[i] = n > w[i] ? n : w[i];
		}
	}
	print_row(c, t, w, t->headers, true, f);
	for (r = 0; r < t->nrows; r++)
		print_row(c, t, w, t->cells + r * t->ncols, false, f);
	if (footer)
		fprintf(f, "(%zu row%s)\n", t->nrows, t->nrows == 1 ? "" : "s");
	free(w);
}

void out_table_free(out_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; t->headers && i < t->ncols; i++)
		free(t->headers[i]);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->headers);
	free(t->cells);
	free(t->right);
	free(t);
}

void out_kv(const cli *c, FILE *f, const char *const *keys, const char *const *values, size_t n)
{
	size_t w = 0, i;

	for (i = 0; i < n; i++)
		w = width(keys[i]) > w ? width(keys[i]) : w;
	for (i = 0; i < n; i++) {
		char *v = values[i] ? out_escape(values[i], strlen(values[i])) : NULL;
		fprintf(f, "%s%s%s", out_sgr(c, OUT_BOLD), keys[i], out_reset(c));
		pad(f, w - width(keys[i]) + 2);
		if (v)
			fprintf(f, "%s\n", v);
		else
			fprintf(f, "%sNULL%s\n", out_sgr(c, OUT_DIM), out_reset(c));
		free(v);
	}
}

/* ---- progress ---- */

struct out_progress {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	const char *label;
};

static void *progress_run(void *arg)
{
	out_progress *p = arg;
	struct timespec start, now, until;
	static const char spin[] = "|/-\\";
	unsigned tick = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	pthread_mutex_lock(&p->lock);
	while (!p->done) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &until);
		if (p->done)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		fprintf(stderr, "\r%s %c %.1f s ", p->label, spin[tick++ % 4],
			(double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9);
		fflush(stderr);
	}
	pthread_mutex_unlock(&p->lock);
	if (tick)
		fputs("\r\033[K", stderr);
	return NULL;
}

out_progress *out_progress_start(const cli *c, const char *label)
{
	out_progress *p;

	if (!c->progress || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->label = label;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, progress_run, p) != 0) {
		pthread_mutex_destroy(&p->lock);
		pthread_cond_destroy(&p->cond);
		free(p);
		return NULL;
	}
	return p;
}

void out_progress_stop(out_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->done = true;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}
