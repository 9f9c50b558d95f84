#include "row.h"
#include "value.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/json.h"
#include "util/str.h"

struct dal_row {
	const dal_model *model;
	char *block;          /* bytes of text and blobs read together (dal__row_fill) */
	size_t block_cap;     /* kept across fills, so streaming reuses one buffer */
	char **own;           /* per-column copies made by dal_row_set; after vals[] */
	bool owns;            /* some own[] is set: a fill frees them */
	dal_value vals[];
};

static bool has_bytes(const dal_value *v)
{
	return v->type == DAL_TYPE_TEXT || v->type == DAL_TYPE_JSON || v->type == DAL_TYPE_BLOB;
}

int dal_row_new(dal_row **out, const dal_model *model)
{
	dal_row *row;
	size_t n;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(model);
	n = model->ncolumns;
	/* One allocation: the row, its values and the per-column copy pointers. */
	if (!(row = calloc(1, sizeof(*row) + n * (sizeof(dal_value) + sizeof(char *)))))
		return dal__error_nomem();
	row->own = (char **)(void *)(row->vals + n);
	row->model = model;
	*out = row;
	return 0;
}

int dal__row_new_reserved(dal_row **out, const dal_model *model, size_t bytes)
{
	int error;

	if ((error = dal_row_new(out, model)) < 0)
		return error;
	if (bytes && !((*out)->block = malloc(bytes))) {
		dal_row_free(*out);
		*out = NULL;
		return dal__error_nomem();
	}
	(*out)->block_cap = bytes;
	return 0;
}

void dal_row_free(dal_row *row)
{
	size_t i;

	if (!row)
		return;
	for (i = 0; i < row->model->ncolumns; i++)
		free(row->own[i]);
	free(row->block);
	free(row);
}

const dal_model *dal_row_model(const dal_row *row) { return row ? row->model : NULL; }
size_t dal_row_count(const dal_row *row) { return row ? row->model->ncolumns : 0; }

const dal_value *dal_row_at(const dal_row *row, size_t index)
{
	if (!row || index >= row->model->ncolumns) {
		dal__error(DAL_EINVAL, "row column index %zu out of range", index);
		return NULL;
	}
	return &row->vals[index];
}

const dal_value *dal_row_get(const dal_row *row, const char *column)
{
	int i;

	if (!row || !column) {
		dal__error(DAL_EINVAL, "invalid argument: NULL row or column");
		return NULL;
	}
	if ((i = dal_model_column_index(row->model, column)) < 0) {
		dal__error(DAL_EINVAL, "table '%s' has no column '%s'", row->model->table, column);
		return NULL;
	}
	return &row->vals[i];
}

int dal__value_check(const dal_model *m, size_t col, const dal_value *v)
{
	const dal_column *c = &m->columns[col];
	json_error_t e;
	json_t *j;
	bool nomem;

	if (v->type == DAL_TYPE_TEXT && c->length && dal__utf8_chars(v->v.s, v->len) > c->length)
		return dal__error(DAL_EINVAL, "value for '%s.%s' is longer than %u characters", m->table, c->name,
			c->length);
	if (v->type == DAL_TYPE_DOUBLE && !isfinite(v->v.d))
		return dal__error(DAL_EINVAL, "value for '%s.%s' is not a finite number (NaN and infinities are "
			"refused on every engine)", m->table, c->name);
	if (v->type != DAL_TYPE_JSON)
		return 0;
	if (!(j = dal__json_loadb(v->v.s, v->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e, &nomem)) && nomem)
		return dal__error_nomem();
	if (!j)
		return dal__error(DAL_EINVAL, "value for '%s.%s' is not JSON dal takes: %s at character %d", m->table,
			c->name, e.text, e.position);
	json_decref(j);
	return 0;
}

size_t dal__redact_of(bool *out, const dal_model *m, const bool *set)
{
	size_t i, k = 0;

	for (i = 0; i < m->ncolumns; i++)
		if (!set || set[i])
			out[k++] = (m->columns[i].flags & DAL_SENSITIVE) != 0;
	return k;
}

int dal__value_to_column(dal_value *out, const dal_model *m, size_t col, const dal_value *in)
{
	const dal_column *c = &m->columns[col];

	if (out != in)
		*out = *in;
	if (in->type == DAL_TYPE_NULL || in->type == c->type)
		return 0;
	switch (c->type) {
	case DAL_TYPE_DOUBLE:
		if (in->type == DAL_TYPE_INT) {
			*out = dal_double((double)in->v.i);
			return 0;
		}
		break;
	case DAL_TYPE_BOOL:
		if (in->type == DAL_TYPE_INT && (in->v.i == 0 || in->v.i == 1)) {
			*out = dal_bool(in->v.i != 0);
			return 0;
		}
		break;
	case DAL_TYPE_TIMESTAMP:
		if (in->type == DAL_TYPE_INT) {
			*out = dal_timestamp(in->v.i);
			return 0;
		}
		if (in->type == DAL_TYPE_TEXT && in->len < 64) {
			char buf[64];
			int64_t us;
			if (dal__timestamp_parse_canonical(&us, in->v.s, in->len)) {
				*out = dal_timestamp(us);
				return 0;
			}
			memcpy(buf, in->v.s, in->len);
			buf[in->len] = '\0';
			if (dal_timestamp_parse(&us, buf) == 0) {
				*out = dal_timestamp(us);
				return 0;
			}
		}
		break;
	case DAL_TYPE_JSON:
		if (in->type == DAL_TYPE_TEXT) {
			out->type = DAL_TYPE_JSON;
			return 0;
		}
		break;
	case DAL_TYPE_TEXT:
		if (in->type == DAL_TYPE_JSON) {
			out->type = DAL_TYPE_TEXT;
			return 0;
		}
		break;
	default:
		break;
	}
	return dal__error(DAL_EINVAL, "column '%s.%s' is %s, the value is %s", m->table, c->name,
		dal_type_name(c->type), dal_type_name(in->type));
}

int dal_row_set(dal_row *row, const char *column, const dal_value *value)
{
	dal_value v;
	char *copy = NULL;
	int i, error;

	DAL_ASSERT_ARG(row);
	DAL_ASSERT_ARG(column);
	DAL_ASSERT_ARG(value);
	if ((i = dal_model_column_index(row->model, column)) < 0)
		return dal__error(DAL_EINVAL, "table '%s' has no column '%s'", row->model->table, column);
	if ((error = dal__value_to_column(&v, row->model, (size_t)i, value)) < 0)
		return error;
	if (has_bytes(&v)) {
		if (!(copy = dal__strndup(v.len ? v.v.s : "", v.len)))
			return DAL_ENOMEM;
		v.v.s = copy;
	}
	free(row->own[i]);
	row->own[i] = copy;
	row->owns = row->owns || copy;
	row->vals[i] = v;
	return 0;
}

/* Drop the copies dal_row_set made: a fill replaces every value. */
static void drop_own(dal_row *row)
{
	size_t i;

	if (!row->owns)
		return;
	for (i = 0; i < row->model->ncolumns; i++) {
		free(row->own[i]);
		row->own[i] = NULL;
	}
	row->owns = false;
}

dal_value *dal__row_borrow(dal_row *row)
{
	drop_own(row);
	return row->vals;
}

int dal__row_fill(dal_row *row, const dal_value *vals, size_t n)
{
	size_t i, total = 0;
	char *p;

	if (n > row->model->ncolumns)
		n = row->model->ncolumns;
	for (i = 0; i < n; i++)
		if (has_bytes(&vals[i]))
			total += vals[i].len + 1;
	if (total > row->block_cap) {
		char *b = realloc(row->block, total);
		if (!b)
			return dal__error_nomem();
		row->block = b;
		row->block_cap = total;
	}
	p = row->block;
	drop_own(row);
	for (i = 0; i < n; i++) {
		row->vals[i] = vals[i];
		if (has_bytes(&vals[i])) {
			if (vals[i].len)
				memcpy(p, vals[i].v.s, vals[i].len);
			p[vals[i].len] = '\0';
			row->vals[i].v.s = p;
			p += vals[i].len + 1;
		}
	}
	return 0;
}

static const dal_value *typed(const dal_row *row, const char *column, dal_type type)
{
	int i = row ? dal_model_column_index(row->model, column) : -1;
	return i >= 0 && row->vals[i].type == type ? &row->vals[i] : NULL;
}

int64_t dal_row_int(const dal_row *row, const char *column)
{
	const dal_value *v = typed(row, column, DAL_TYPE_INT);
	return v ? v->v.i : 0;
}

int64_t dal_row_id(const dal_row *row)
{
	return dal_row_int(row, "id");
}

const char *dal_row_text(const dal_row *row, const char *column)
{
	const dal_value *v = typed(row, column, DAL_TYPE_TEXT);
	if (!v)
		v = typed(row, column, DAL_TYPE_JSON);
	return v ? v->v.s : NULL;
}

double dal_row_double(const dal_row *row, const char *column)
{
	const dal_value *v = typed(row, column, DAL_TYPE_DOUBLE);
	if (v)
		return v->v.d;
	v = typed(row, column, DAL_TYPE_INT);
	return v ? (double)v->v.i : 0.0;
}

bool dal_row_bool(const dal_row *row, const char *column)
{
	const dal_value *v = typed(row, column, DAL_TYPE_BOOL);
	return v ? v->v.b : false;
}

int64_t dal_row_timestamp(const dal_row *row, const char *column)
{
	const dal_value *v = typed(row, column, DAL_TYPE_TIMESTAMP);
	return v ? v->v.ts : 0;
}

bool dal_row_is_null(const dal_row *row, const char *column)
{
	int i = row ? dal_model_column_index(row->model, column) : -1;
	return i < 0 || row->vals[i].type == DAL_TYPE_NULL;
}
