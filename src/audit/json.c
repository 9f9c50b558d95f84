/* Audit JSON: values to JSON and back, UTF-8 repair, and the canonical form hashed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit/audit.h"
#include "row.h"
#include "util/json.h"
#include "util/log.h"

#define REDACTED DAL__REDACTED

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at p (NUL excluded), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;   /* no UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	if (n < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		unsigned char b = p[i];
		if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
			return 0;
	}
	return need + 1;
}

int dal__utf8_sanitize(char **out, const char *s, size_t len)
{
	dal_str o = DAL_STR_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	int error = 0;

	*out = NULL;
	if (!s)
		return 0;
	if ((error = dal__str_grow(&o, len + 1)) < 0)
		return error;
	while (i < len && error == 0) {
		if ((k = utf8_seq(p + i, len - i)) > 0) {
			error = dal__str_putn(&o, s + i, k);
			i += k;
		} else {
			error = dal__str_puts(&o, "\xEF\xBF\xBD");
			i++;
		}
	}
	if (error == 0 && !o.ptr)
		error = dal__str_puts(&o, "");
	if (error == 0 && !(*out = dal__str_detach(&o)))
		error = DAL_ENOMEM;
	dal__str_dispose(&o);
	return error;
}

/* ---- values to JSON ---- */

static json_t *text_json(const char *s, size_t len)
{
	char *clean = NULL;
	json_t *j;

	if (dal__utf8_sanitize(&clean, s ? s : "", s ? len : 0) < 0)
		return NULL;
	j = json_stringn_nocheck(clean, strlen(clean));
	free(clean);
	return j;
}

static int jsonb_key_cmp(const void *a, const void *b);

/* A copy of a document with every object's keys in jsonb's order (see jsonb_key_cmp). */
static json_t *jsonb_order(json_t *j)
{
	json_t *out, *child;
	const char **keys;
	const char *key;
	size_t i, n;

	if (json_is_array(j)) {
		if (!(out = json_array()))
			return NULL;
		json_array_foreach(j, i, child)
			if (json_array_append_new(out, jsonb_order(child)) < 0) {
				json_decref(out);
				return NULL;
			}
		return out;
	}
	if (!json_is_object(j))
		return json_incref(j);
	n = json_object_size(j);
	if (!(out = json_object()) || !(keys = malloc((n + 1) * sizeof(*keys)))) {
		json_decref(out);
		return NULL;
	}
	i = 0;
	json_object_foreach(j, key, child)
		keys[i++] = key;
	qsort(keys, n, sizeof(*keys), jsonb_key_cmp);
	for (i = 0; i < n; i++)
		if (json_object_set_new_nocheck(out, keys[i], jsonb_order(json_object_get(j, keys[i]))) < 0) {
			json_decref(out);
			out = NULL;
			break;
		}
	free(keys);
	return out;
}

static json_t *value_json(const dal_value *v)
{
	json_error_t jerr;
	bool nomem;
	char buf[DAL_TIMESTAMP_BUFSIZE + 2];
	unsigned char *b64;
	json_t *j;
	size_t n;

	switch (v->type) {
	case DAL_TYPE_NULL: return json_null();
	case DAL_TYPE_BOOL: return json_boolean(v->v.b);
	case DAL_TYPE_INT: return json_integer((json_int_t)v->v.i);
	case DAL_TYPE_DOUBLE:
		if (isnan(v->v.d))
			return json_string("NaN");
		if (isinf(v->v.d))
			return json_string(v->v.d > 0 ? "Infinity" : "-Infinity");
		return json_real(v->v.d);
	case DAL_TYPE_TIMESTAMP:
		if (dal_timestamp_format(buf, v->v.ts) < 0)
			return json_integer((json_int_t)v->v.ts);
		buf[10] = 'T';
		strcat(buf, "Z");
		return json_string(buf);
	case DAL_TYPE_BLOB:
		n = 4 * ((v->len + 2) / 3) + 1;
		if (!(b64 = malloc(n)))
			return NULL;
		EVP_EncodeBlock(b64, v->len ? v->v.p : (const void *)"", (int)v->len);
		j = json_string((const char *)b64);
		free(b64);
		return j;
	case DAL_TYPE_JSON:
		/* The document itself, so it can be queried; text that is not JSON stays text. */
		if ((j = dal__json_load_doc(v->v.s ? v->v.s : "", v->len, JSON_DECODE_ANY, &jerr, &nomem)) != NULL) {
			json_t *ordered = jsonb_order(j);
			json_decref(j);
			return ordered;
		}
		return nomem ? NULL : text_json(v->v.s, v->len);
	case DAL_TYPE_TEXT:
		return text_json(v->v.s, v->len);
	}
	return NULL;
}

/* PostgreSQL's jsonb orders keys by length, then bytes; dal writes them in that
 * order so the stored text keeps the order of the text that was hashed. */
static int jsonb_key_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* A JSON string of `s`: invalid UTF-8 and NUL replaced by U+FFFD, as text_json() does. */
static int put_json_string(dal_str *o, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, start, k;
	int error = dal__str_putc(o, '"');

	while (i < len && error == 0) {
		for (start = i; i < len && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\'; i++)
			;
		if (i > start && (error = dal__str_putn(o, s + start, i - start)) < 0)
			break;
		if (i == len)
			break;
		if (p[i] == '"' || p[i] == '\\') {
			char e[2] = { '\\', (char)p[i] };
			error = dal__str_putn(o, e, 2);
			i++;
		} else if (p[i] < 0x20 && p[i] != 0) {
			char e[6] = { '\\', 'u', '0', '0', hexd[p[i] >> 4], hexd[p[i] & 15] };
			error = dal__str_putn(o, e, 6);
			i++;
		} else if ((k = utf8_seq(p + i, len - i)) > 0) {
			error = dal__str_putn(o, s + i, k);
			i += k;
		} else {
			error = dal__str_puts(o, "\xEF\xBF\xBD");
			i++;
		}
	}
	return error ? error : dal__str_putc(o, '"');
}

/* The object written directly, for the common column types (the bulk path writes one per
 * row); 1 if a value needs jansson (JSON documents, blobs), then nothing is kept. */
static int fast_json(char **out, const dal_model *m, const dal_value *vals, const char **names, size_t n)
{
	dal_str o = DAL_STR_INIT;
	char buf[DAL_TIMESTAMP_BUFSIZE + 40];
	size_t i;
	int error = dal__str_putc(&o, '{');

	for (i = 0; i < n && error == 0; i++) {
		int col = dal_model_column_index(m, names[i]);
		const dal_value *v = &vals[col];
		int len;
		error = i ? dal__str_putc(&o, ',') : 0;
		error = error ? error : put_json_string(&o, names[i], strlen(names[i]));
		error = error ? error : dal__str_putc(&o, ':');
		if (error)
			break;
		if ((m->columns[col].flags & DAL_SENSITIVE) && v->type != DAL_TYPE_NULL) {
			error = dal__str_puts(&o, "\"" REDACTED "\"");
			continue;
		}
		switch (v->type) {
		case DAL_TYPE_NULL: error = dal__str_puts(&o, "null"); break;
		case DAL_TYPE_BOOL: error = dal__str_puts(&o, v->v.b ? "true" : "false"); break;
		case DAL_TYPE_INT: error = dal__str_put_i64(&o, v->v.i); break;
		case DAL_TYPE_DOUBLE:
			if (isnan(v->v.d) || isinf(v->v.d)) {
				error = dal__str_puts(&o, isnan(v->v.d) ? "\"NaN\"" : v->v.d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
				break;
			}
			len = snprintf(buf, sizeof(buf), "%.17g", v->v.d);
			if (!strpbrk(buf, ".eE"))
				len += snprintf(buf + len, sizeof(buf) - (size_t)len, ".0");
			error = dal__str_putn(&o, buf, (size_t)len);
			break;
		case DAL_TYPE_TIMESTAMP:
			if (dal_timestamp_format(buf, v->v.ts) < 0) {
				len = snprintf(buf, sizeof(buf), "%lld", (long long)v->v.ts);
				error = dal__str_putn(&o, buf, (size_t)len);
				break;
			}
			buf[10] = 'T';
			strcat(buf, "Z");
			error = put_json_string(&o, buf, strlen(buf));
			break;
		case DAL_TYPE_TEXT: error = put_json_string(&o, v->v.s ? v->v.s : "", v->v.s ? v->len : 0); break;
		default:
			dal__str_dispose(&o);
			return 1;
		}
	}
	error = error ? error : dal__str_putc(&o, '}');
	if (error == 0 && !(*out = dal__str_detach(&o)))
		error = dal__error_nomem();
	dal__str_dispose(&o);
	return error;
}

int dal__audit_json(char **out, const dal_model *m, const dal_value *vals, const bool *mask)
{
	const char **names = NULL;
	json_t *obj = NULL;
	size_t i, n = 0;
	int error = 0;

	*out = NULL;
	if (!(names = malloc((m->ncolumns + 1) * sizeof(*names)))) {
		error = dal__error_nomem();
		goto done;
	}
	for (i = 0; i < m->ncolumns; i++)
		if (!mask || mask[i])
			names[n++] = m->columns[i].name;
	qsort(names, n, sizeof(*names), jsonb_key_cmp);
	if ((error = fast_json(out, m, vals, names, n)) <= 0)
		goto done;
	error = 0;
	if (!(obj = json_object())) {
		error = dal__error_nomem();
		goto done;
	}
	for (i = 0; i < n && error == 0; i++) {
		int col = dal_model_column_index(m, names[i]);
		json_t *j = (m->columns[col].flags & DAL_SENSITIVE) && vals[col].type != DAL_TYPE_NULL
		            ? json_string(REDACTED) : value_json(&vals[col]);
		if (!j || json_object_set_new_nocheck(obj, names[i], j) < 0)
			error = dal__error_nomem();
	}
	if (error == 0 && !(*out = dal__json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(17))))
		error = dal__error_nomem();
done:
	json_decref(obj);
	free(names);
	return error;
}

/* ---- JSON back to values ---- */

static int json_value(dal_row *row, const dal_column *c, json_t *j)
{
	dal_value v = dal_null();
	unsigned char *bytes = NULL;
	char *text = NULL;
	int error = 0;

	if (json_is_null(j) || ((c->flags & DAL_SENSITIVE) && json_is_string(j) && strcmp(json_string_value(j), REDACTED) == 0))
		goto set;
	switch (c->type) {
	case DAL_TYPE_BOOL:
		if (!json_is_boolean(j))
			goto bad;
		v = dal_bool(json_is_true(j));
		break;
	case DAL_TYPE_INT:
		if (json_is_integer(j))
			v = dal_int(json_integer_value(j));
		else if (json_is_real(j))
			v = dal_int((int64_t)json_real_value(j));
		else
			goto bad;
		break;
	case DAL_TYPE_DOUBLE:
		if (json_is_number(j))
			v = dal_double(json_number_value(j));
		else if (json_is_string(j) && strcmp(json_string_value(j), "NaN") == 0)
			v = dal_double(NAN);
		else if (json_is_string(j) && strcmp(json_string_value(j), "Infinity") == 0)
			v = dal_double(INFINITY);
		else if (json_is_string(j) && strcmp(json_string_value(j), "-Infinity") == 0)
			v = dal_double(-INFINITY);
		else
			goto bad;
		break;
	case DAL_TYPE_TIMESTAMP:
		if (json_is_integer(j))
			v = dal_timestamp(json_integer_value(j));
		else if (!json_is_string(j) || dal_timestamp_parse(&v.v.ts, json_string_value(j)) < 0)
			goto bad;
		else
			v = dal_timestamp(v.v.ts);
		break;
	case DAL_TYPE_BLOB: {
		const char *s;
		size_t len, pad = 0;
		int n;
		if (!json_is_string(j))
			goto bad;
		s = json_string_value(j);
		len = json_string_length(j);
		if (len % 4)
			goto bad;
		if (!(bytes = malloc(len / 4 * 3 + 1)))
			return dal__error_nomem();
		if ((n = EVP_DecodeBlock(bytes, (const unsigned char *)s, (int)len)) < 0)
			goto bad;
		while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
			pad++;
		v = dal_blob(bytes, (size_t)n - pad);
		break;
	}
	case DAL_TYPE_JSON:
		if (!(text = dal__json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17))))
			return dal__error_nomem();
		v = dal_json(text);
		break;
	case DAL_TYPE_TEXT:
	default:
		if (!json_is_string(j))
			goto bad;
		v = dal_textn(json_string_value(j), json_string_length(j));
		break;
	}
set:
	error = dal_row_set(row, c->name, &v);
	free(bytes);
	free(text);
	return error;
bad:
	free(bytes);
	free(text);
	return dal__error(DAL_EINVAL, "audit trail: the recorded value of '%s' does not fit its %s column",
		c->name, dal_type_name(c->type));
}

int dal__audit_json_apply(dal_row *row, const char *json, size_t len)
{
	const dal_model *m = dal_row_model(row);
	json_error_t jerr;
	json_t *obj, *j;
	const char *key;
	bool nomem;
	int error = 0;

	obj = dal__json_load_doc(json, len, 0, &jerr, &nomem);
	/* jsonb prints a large double in plain digits, which jansson only reads as a real. */
	if (!obj && !nomem)
		obj = dal__json_load_doc(json, len, JSON_DECODE_INT_AS_REAL, &jerr, &nomem);
	if (nomem)
		return dal__error_nomem();
	if (!obj || !json_is_object(obj)) {
		json_decref(obj);
		return dal__error(DAL_EINVAL, "audit trail: recorded values are not a JSON object: %s", jerr.text);
	}
	json_object_foreach(obj, key, j) {
		int col = dal_model_column_index(m, key);
		if (col < 0)
			continue;   /* a column since dropped from the model */
		if ((error = json_value(row, &m->columns[col], j)) < 0)
			break;
	}
	json_decref(obj);
	return error;
}

/* ---- canonical form ---- */

static int put_len(dal_str *o, char tag, size_t n)
{
	unsigned char b[9];
	int i;

	b[0] = (unsigned char)tag;
	for (i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	return dal__str_putn(o, (const char *)b, 9);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int put_utf8(dal_str *o, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) { b[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { b[0] = (char)(0xC0 | (cp >> 6)); b[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
	else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12)); b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
	} else {
		b[0] = (char)(0xF0 | (cp >> 18)); b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); b[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
	}
	return dal__str_putn(o, b, n);
}

static int u4(const char *p, size_t n, size_t i, unsigned long *cp)
{
	int k, h;

	if (i + 4 > n)
		return -1;
	for (*cp = 0, k = 0; k < 4; k++) {
		if ((h = hexval(p[i + k])) < 0)
			return -1;
		*cp = *cp * 16 + (unsigned long)h;
	}
	return 0;
}

/* A string token at p[*i] == '"': its decoded bytes, length-prefixed. */
static int canon_string(dal_str *o, const char *p, size_t n, size_t *i)
{
	dal_str s = DAL_STR_INIT;
	size_t k = *i + 1;
	int error = 0;

	/* Without escapes (column names, most values) the bytes are already decoded. */
	while (k < n && p[k] != '"' && p[k] != '\\')
		k++;
	if (k < n && p[k] == '"') {
		error = put_len(o, 's', k - *i - 1);
		error = error ? error : dal__str_putn(o, p + *i + 1, k - *i - 1);
		*i = k + 1;
		return error;
	}
	k = *i + 1;

	while (error == 0) {
		unsigned long cp, lo;
		if (k >= n) {
			error = DAL_EINVAL;
			break;
		}
		if (p[k] == '"')
			break;
		if (p[k] != '\\') {
			error = dal__str_putc(&s, p[k++]);
			continue;
		}
		if (++k >= n) {
			error = DAL_EINVAL;
			break;
		}
		switch (p[k]) {
		case 'b': error = dal__str_putc(&s, '\b'); k++; break;
		case 'f': error = dal__str_putc(&s, '\f'); k++; break;
		case 'n': error = dal__str_putc(&s, '\n'); k++; break;
		case 'r': error = dal__str_putc(&s, '\r'); k++; break;
		case 't': error = dal__str_putc(&s, '\t'); k++; break;
		case 'u':
			if (u4(p, n, k + 1, &cp) < 0) {
				error = DAL_EINVAL;
				break;
			}
			k += 5;
			if (cp >= 0xD800 && cp <= 0xDBFF && k + 6 <= n && p[k] == '\\' && p[k + 1] == 'u' &&
			    u4(p, n, k + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				k += 6;
			}
			error = put_utf8(&s, cp);
			break;
		default: error = dal__str_putc(&s, p[k++]); break;
		}
	}
	if (error == 0) {
		error = put_len(o, 's', s.len);
		error = error ? error : dal__str_putn(o, s.ptr ? s.ptr : "", s.len);
		*i = k + 1;
	}
	dal__str_dispose(&s);
	return error;
}

/* A number as sign, significant digits and a power of ten: "1.50", "15e-1" and
 * jsonb's plain digits of a large double all come out the same. */
static int canon_number(dal_str *o, const char *p, size_t n, size_t *i)
{
	char small[64], *d = small;   /* the digits without the point; on the stack unless very many */
	size_t k = *i, end, nd = 0, a, b;
	long long exp = 0, e = 0;
	bool neg = false, eneg = false;
	int error;

	if (k < n && p[k] == '-') {
		neg = true;
		k++;
	}
	for (end = k; end < n && ((p[end] >= '0' && p[end] <= '9') || p[end] == '.'); end++)
		;
	if (end - k > sizeof(small) && !(d = malloc(end - k)))
		return dal__error_nomem();
	for (; k < n && p[k] >= '0' && p[k] <= '9'; k++)
		d[nd++] = p[k];
	if (k < n && p[k] == '.')
		for (k++; k < n && p[k] >= '0' && p[k] <= '9'; k++, exp--)
			d[nd++] = p[k];
	if (k < n && (p[k] == 'e' || p[k] == 'E')) {
		k++;
		if (k < n && (p[k] == '+' || p[k] == '-'))
			eneg = p[k++] == '-';
		for (; k < n && p[k] >= '0' && p[k] <= '9'; k++)
			if (e < 100000000)
				e = e * 10 + (p[k] - '0');
	}
	*i = k;
	exp += eneg ? -e : e;
	for (a = 0; a < nd && d[a] == '0'; a++)
		;
	for (b = nd; b > a && d[b - 1] == '0'; b--)
		exp++;
	if (a == b)
		error = dal__str_puts(o, "n0;");
	else {
		error = dal__str_puts(o, neg ? "n-" : "n");
		error = error ? error : dal__str_putn(o, d + a, b - a);
		error = error ? error : dal__str_putc(o, 'e');
		error = error ? error : dal__str_put_i64(o, exp);
		error = error ? error : dal__str_putc(o, ';');
	}
	if (d != small)
		free(d);
	return error;
}

int dal__json_canonical(dal_str *out, const char *p, size_t n)
{
	size_t i = 0;
	int error = 0;

	while (i < n && error == 0) {
		char c = p[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':')
			i++;
		else if (c == '{' || c == '}' || c == '[' || c == ']') {
			error = dal__str_putc(out, c);
			i++;
		} else if (c == '"')
			error = canon_string(out, p, n, &i);
		else if (c == '-' || (c >= '0' && c <= '9'))
			error = canon_number(out, p, n, &i);
		else if (n - i >= 4 && memcmp(p + i, "true", 4) == 0) {
			error = dal__str_putc(out, 'T');
			i += 4;
		} else if (n - i >= 5 && memcmp(p + i, "false", 5) == 0) {
			error = dal__str_putc(out, 'F');
			i += 5;
		} else if (n - i >= 4 && memcmp(p + i, "null", 4) == 0) {
			error = dal__str_putc(out, 'Z');
			i += 4;
		} else
			error = DAL_EINVAL;
	}
	return error;
}
