/* How an existing table differs from its model, by the engine's catalog. Internal. */
#ifndef DAL_REPO_SHAPE_H
#define DAL_REPO_SHAPE_H

#include "dal/model.h"
#include "driver/driver.h"
#include "sql/build.h"
#include "util/str.h"

/* Catalog names longer than a model's identifiers (63 bytes) match no model column. */
#define DAL__SHAPE_NAME_MAX 64

/* The differences a repository call would fail on come first (dal__shape_fatal). */
typedef enum dal__shape_kind {
	DAL__SHAPE_NO_COLUMN,     /* a column the model declares is missing */
	DAL__SHAPE_TYPE,          /* the column holds another kind of type than the model's */
	DAL__SHAPE_NOT_NULL,      /* NOT NULL without a default in the table, nullable in the model */
	DAL__SHAPE_EXTRA_NOT_NULL,/* NOT NULL without a default, and the model does not declare it */
	DAL__SHAPE_NULLABLE,      /* NOT NULL in the model, not in the table */
	DAL__SHAPE_LENGTH,        /* another text length, where the engine keeps one */
	DAL__SHAPE_EXTRA          /* a column the model does not declare */
} dal__shape_kind;

static inline bool dal__shape_fatal(dal__shape_kind kind)
{
	return kind <= DAL__SHAPE_EXTRA_NOT_NULL;
}

typedef struct dal__shape_diff {
	dal__shape_kind kind;
	const dal_column *col;                 /* the model's column; NULL for EXTRA_NOT_NULL */
	char name[DAL__SHAPE_NAME_MAX];        /* the table's column, as the catalog names it */
	char type[DAL__SHAPE_NAME_MAX];        /* the engine's name of its type, cut to fit */
	long length;                           /* LENGTH: the table's (0: none) */
} dal__shape_diff;

typedef struct dal__shape {
	dal__shape_diff *v;
	size_t n, cap;
} dal__shape;

/* Every difference between existing table m->table and `m`; those a repository call
 * would fail on are dal__shape_fatal: a declared column missing or not of its type's
 * family, a NOT NULL column without a default where creates may leave the value out.
 * Free with dal__shape_dispose, on failure too. */
int dal__shape_read(dal__shape *out, dal_conn *conn, const dal_model *m);
/* DAL_ESCHEMA naming the table and every fatal difference, or 0 if there is none. `unfixed`
 * says why DAL_AUTO_MIGRATE left them (NULL: it was not asked to fix them). */
int dal__shape_error(const dal__shape *s, const dal_model *m, const char *unfixed);
void dal__shape_dispose(dal__shape *s);
/* One difference in words, appended to `out`. */
int dal__shape_describe(dal_str *out, const dal__shape_diff *d);

/* Whether table m->table exists. */
int dal__shape_table_exists(bool *out, dal_conn *conn, const dal_model *m);

/* What the catalog shows of a table's indexes, for one index dal declares. */
typedef struct dal__shape_index_look {
	const dal__sql_index *want;
	bool found;  /* an index on the column alone, as declared, under any name (an older dal's too) */
	bool named;  /* an index on the table under the name dal gives it */
} dal__shape_index_look;

int dal__shape_index(dal__shape_index_look *out, dal_conn *conn, const dal_model *m, const dal_column *c,
                     const dal__sql_index *want);

#endif
