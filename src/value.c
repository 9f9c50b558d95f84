#include "dal/value.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/error.h"
#include "value.h"

const char *dal_type_name(dal_type type)
{
	static const char *const names[] = { "null", "bool", "int", "double", "text", "blob", "timestamp", "json" };
	return (unsigned)type <= DAL_TYPE_JSON ? names[type] : "unknown";
}

bool dal_value_equal(const dal_value *a, const dal_value *b)
{
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case DAL_TYPE_NULL: return true;
	case DAL_TYPE_BOOL: return a->v.b == b->v.b;
	case DAL_TYPE_INT: return a->v.i == b->v.i;
	case DAL_TYPE_DOUBLE: return a->v.d == b->v.d || memcmp(&a->v.d, &b->v.d, sizeof(double)) == 0;
	case DAL_TYPE_TIMESTAMP: return a->v.ts == b->v.ts;
	case DAL_TYPE_TEXT:
	case DAL_TYPE_JSON:
	case DAL_TYPE_BLOB:
		return a->len == b->len && (a->len == 0 || memcmp(a->v.p, b->v.p, a->len) == 0);
	}
	return false;
}

int64_t dal_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* `v` in exactly `n` decimal digits, zero-padded. */
static void put_digits(char *p, int n, unsigned v)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int dal_timestamp_format(char *buf, int64_t us)
{
	int64_t days, rem, y;
	unsigned m, d;

	if (!buf)
		return dal__error(DAL_EINVAL, "invalid argument: 'buf' is NULL");
	days = us / 86400000000LL;
	rem = us % 86400000000LL;
	if (rem < 0) {
		rem += 86400000000LL;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 1 || y > 9999)
		return dal__error(DAL_EINVAL, "timestamp %lld is outside the years 0001-9999", (long long)us);
	/* Digits by hand, not snprintf: SQLite stores every timestamp as this text and the
	 * audit trail writes several per row, so printf dominated a bulk write's CPU. */
	put_digits(buf, 4, (unsigned)y);
	buf[4] = '-';
	put_digits(buf + 5, 2, m);
	buf[7] = '-';
	put_digits(buf + 8, 2, d);
	buf[10] = ' ';
	put_digits(buf + 11, 2, (unsigned)(rem / 3600000000LL));
	buf[13] = ':';
	put_digits(buf + 14, 2, (unsigned)(rem / 60000000LL % 60));
	buf[16] = ':';
	put_digits(buf + 17, 2, (unsigned)(rem / 1000000 % 60));
	buf[19] = '.';
	put_digits(buf + 20, 6, (unsigned)(rem % 1000000));
	buf[26] = '\0';
	return 0;
}

static bool digits(const char *p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

static bool parse_time_part(const char *p, int64_t *us)
{
	int hh, mi, ss, frac = 0, n = 0;

	if (!digits(p, 2, &hh) || p[2] != ':' || !digits(p + 3, 2, &mi) || p[5] != ':' || !digits(p + 6, 2, &ss))
		return false;
	p += 8;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 6)
				frac = frac * 10 + (*p - '0');
		if (n == 0)
			return false;
		for (; n < 6; n++)
			frac *= 10;
	}
	/* UTC only: a zero offset is accepted, others are not silently shifted. */
	if (*p == 'Z')
		p++;
	else if (strcmp(p, "+00") == 0 || strcmp(p, "+00:00") == 0 || strcmp(p, "+0000") == 0)
		p += strlen(p);
	if (*p || hh > 23 || mi > 59 || ss > 60)
		return false;
	*us = ((int64_t)hh * 3600 + mi * 60 + ss) * 1000000LL + frac;
	return true;
}

/*
 * The form every engine gives dal's own timestamps back in, "YYYY-MM-DD
 * HH:MM:SS.ffffff", read without the copy and the general parser's search for
 * an offset: the row reader meets it in every timestamp column of every row.
 * The date still goes through dal_timestamp_parse, so both accept the same
 * dates. false for any other text, which takes the general path.
 */
bool dal__timestamp_parse_canonical(int64_t *us, const char *s, size_t len)
{
	char date[11];
	int hh, mi, ss, frac;
	int64_t day;

	if (len != 26 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
	    !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &ss) ||
	    !digits(s + 20, 6, &frac) || hh > 23 || mi > 59 || ss > 60)
		return false;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (dal_timestamp_parse(&day, date) < 0)
		return false;   /* the general path reports it */
	*us = day + ((int64_t)hh * 3600 + mi * 60 + ss) * 1000000LL + frac;
	return true;
}

int dal_timestamp_parse(int64_t *out, const char *text)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	int64_t tod = 0;

	if (!out || !text)
		return dal__error(DAL_EINVAL, "invalid argument: NULL timestamp");
	if (!digits(text, 4, &y) || text[4] != '-' || !digits(text + 5, 2, &m) || text[7] != '-' ||
	    !digits(text + 8, 2, &d) || m < 1 || m > 12 || d < 1 || (unsigned)d > mdays[m - 1] || y < 1)
		goto bad;
	if (text[10] != '\0' && ((text[10] != ' ' && text[10] != 'T') || !parse_time_part(text + 11, &tod)))
		goto bad;
	*out = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400000000LL + tod;
	return 0;
bad:
	return dal__error(DAL_EINVAL, "'%.40s' is not a UTC timestamp (YYYY-MM-DD HH:MM:SS[.ffffff])", text);
}
