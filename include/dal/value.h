/**
 * @file dal/value.h
 * @brief dal_value: a small tagged value (null, bool, int64, double, text, blob, timestamp, JSON).
 *
 * A dal_value never owns memory: text and blob values point at bytes owned by
 * whoever made the value (the caller for inputs, the row or result for outputs).
 * Not synchronized, may move between threads.
 */
#ifndef DAL_VALUE_H
#define DAL_VALUE_H

#include "dal/common.h"

DAL_BEGIN_DECLS

/** The type of a value or of a model column. */
typedef enum dal_type {
	DAL_TYPE_NULL = 0,
	DAL_TYPE_BOOL,
	DAL_TYPE_INT,        /**< int64 */
	DAL_TYPE_DOUBLE,
	DAL_TYPE_TEXT,       /**< UTF-8; len bytes, NUL-terminated when dal made it */
	DAL_TYPE_BLOB,
	DAL_TYPE_TIMESTAMP,  /**< microseconds since 1970-01-01 00:00:00 UTC */
	DAL_TYPE_JSON        /**< JSON document as UTF-8 text */
} dal_type;

/** A tagged value. Text, JSON and blob point at memory the value does not own. */
typedef struct dal_value {
	dal_type type;
	size_t len;            /**< byte length of text, JSON or blob */
	union {
		bool b;
		int64_t i;
		double d;
		const char *s;     /**< text or JSON */
		const void *p;     /**< blob */
		int64_t ts;        /**< timestamp, UTC microseconds */
	} v;
} dal_value;

static inline dal_value dal_null(void) { dal_value x; x.type = DAL_TYPE_NULL; x.len = 0; x.v.i = 0; return x; }
static inline dal_value dal_bool(bool b) { dal_value x; x.type = DAL_TYPE_BOOL; x.len = 0; x.v.b = b; return x; }
static inline dal_value dal_int(int64_t i) { dal_value x; x.type = DAL_TYPE_INT; x.len = 0; x.v.i = i; return x; }
static inline dal_value dal_double(double d) { dal_value x; x.type = DAL_TYPE_DOUBLE; x.len = 0; x.v.d = d; return x; }
static inline dal_value dal_timestamp(int64_t us) { dal_value x; x.type = DAL_TYPE_TIMESTAMP; x.len = 0; x.v.ts = us; return x; }
/** Text of @p len bytes (need not be NUL-terminated). Borrowed: @p s must outlive the value's use. */
static inline dal_value dal_textn(const char *s, size_t len) { dal_value x; x.type = DAL_TYPE_TEXT; x.len = len; x.v.s = s; return x; }
/** NUL-terminated text; NULL gives a null value. Borrowed. */
static inline dal_value dal_text(const char *s)
{
	size_t n = 0;
	if (!s)
		return dal_null();
	while (s[n])
		n++;
	return dal_textn(s, n);
}
/** A JSON document given as text. Borrowed. */
static inline dal_value dal_json(const char *s) { dal_value x = dal_text(s); if (s) x.type = DAL_TYPE_JSON; return x; }
/** A blob of @p len bytes. Borrowed. */
static inline dal_value dal_blob(const void *p, size_t len) { dal_value x; x.type = DAL_TYPE_BLOB; x.len = len; x.v.p = p; return x; }

static inline bool dal_value_is_null(const dal_value *v) { return !v || v->type == DAL_TYPE_NULL; }

/** The name of a type, e.g. "int". Static storage. */
DAL_API const char *dal_type_name(dal_type type);

/**
 * Whether two values are equal: same type and same content (NULL equals NULL).
 * Doubles compare bitwise-equal values as equal.
 */
DAL_API bool dal_value_equal(const dal_value *a, const dal_value *b);

/** Current time as UTC microseconds since the epoch. */
DAL_API int64_t dal_now(void);

/** Length of the buffer dal_timestamp_format() needs, NUL included. */
#define DAL_TIMESTAMP_BUFSIZE 32

/**
 * Format UTC microseconds as "YYYY-MM-DD HH:MM:SS.ffffff".
 *
 * @param buf at least DAL_TIMESTAMP_BUFSIZE bytes
 * @param us  microseconds since the epoch (may be negative)
 * @return DAL_OK; DAL_EINVAL if buf is NULL or the year falls outside 0001-9999.
 */
DAL_API int dal_timestamp_format(char *buf, int64_t us);

/**
 * Parse "YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][Z|+00[:00]]" or "YYYY-MM-DD" as UTC.
 *
 * @param out microseconds since the epoch
 * @param text NUL-terminated
 * @return DAL_OK; DAL_EINVAL naming the text if it is not such a timestamp.
 */
DAL_API int dal_timestamp_parse(int64_t *out, const char *text);

DAL_END_DECLS

#endif
