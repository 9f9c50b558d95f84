#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

/* The libpq connection keywords a URL may carry as query options. */
static const char *const pg_options[] = {
	"sslmode", "connect_timeout", "application_name", "fallback_application_name",
	"options", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword",
	"target_session_attrs", "keepalives", "keepalives_idle", "keepalives_interval",
	"keepalives_count", "tcp_user_timeout", "gssencmode", "channel_binding",
	"client_encoding", "krbsrvname", "service", "passfile", "sslcompression",
	"ssl_min_protocol_version", "ssl_max_protocol_version", "requirepeer",
	"hostaddr", "host", "port", "user", "password", "dbname", NULL
};

static const char *const sslmodes[] = {
	"disable", "allow", "prefer", "require", "verify-ca", "verify-full", NULL
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* RFC 3986 unreserved, sub-delims, ':', '@', '/', '?', '[', ']', '%'. */
static bool url_char_ok(unsigned char c)
{
	return isalnum(c) || (c && strchr("-._~!$&'()*+,;=:@/?[]%", c));
}

/* Decode [p, p+n); reject bad escapes and an encoded NUL. */
static int decode(char **out, const char *p, size_t n, const char *what)
{
	dal_str s = DAL_STR_INIT;
	size_t i;
	int hi, lo, error = 0;

	*out = NULL;
	for (i = 0; i < n && error == 0; i++) {
		if (p[i] != '%') {
			error = dal__str_putc(&s, p[i]);
			continue;
		}
		if (i + 2 >= n) {
			error = dal__error(DAL_EINVAL, "bad URL: incomplete percent-encoding in the %s", what);
			break;
		}
		hi = hexval(p[i + 1]);
		lo = hexval(p[i + 2]);
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			error = dal__error(DAL_EINVAL, "bad URL: invalid percent-encoding in the %s", what);
			break;
		}
		error = dal__str_putc(&s, (char)(hi * 16 + lo));
		i += 2;
	}
	if (error == 0 && !(*out = dal__str_detach(&s)))
		error = DAL_ENOMEM;
	dal__str_dispose(&s);
	return error;
}

static int check_chars(const char *text)
{
	const unsigned char *p;

	for (p = (const unsigned char *)text; *p; p++)
		if (!url_char_ok(*p))
			return dal__error(DAL_EINVAL, "bad URL: stray character '%s%c' at position %zu (percent-encode it)",
				*p < 32 || *p > 126 ? "\\x" : "", *p < 32 || *p > 126 ? '?' : (char)*p,
				(size_t)(p - (const unsigned char *)text));
	return 0;
}

static int parse_file_url(dal_url *u, const char *rest)
{
	if (rest[0] != '/')
		return dal__error(DAL_EINVAL, "bad URL: a %s URL has no host; write %s:///relative.db, "
			"%s:////abs/path.db or %s:///:memory:", u->scheme, u->scheme, u->scheme, u->scheme);
	rest++;
	if (strchr(rest, '?'))
		return dal__error(DAL_EINVAL, "bad URL: %s URLs take no query options", u->scheme);
	if (rest[0] == '\0')
		return dal__error(DAL_EINVAL, "bad URL: missing path after %s:///", u->scheme);
	if (decode(&u->path, rest, strlen(rest), "path") < 0)
		return DAL_EINVAL;
	u->memory = strcmp(u->path, ":memory:") == 0;
	return 0;
}

static int check_port(const char *p, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		goto bad;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			goto bad;
		v = v * 10 + (p[i] - '0');
	}
	if (v >= 1 && v <= 65535)
		return 0;
bad:
	return dal__error(DAL_EINVAL, "bad URL: bad port '%.*s' (expected 1-65535)", (int)(n > 16 ? 16 : n), p);
}

/* One "host[:port]" or "[v6]:port" of a comma-separated list. */
static int parse_one_host(dal_str *hosts, dal_str *ports, const char *p, size_t n)
{
	const char *colon = NULL, *host = p;
	size_t hlen = n;
	char *dec = NULL;
	int error;

	if (n && p[0] == '[') {
		const char *close = memchr(p, ']', n);
		if (!close)
			return dal__error(DAL_EINVAL, "bad URL: unclosed '[' in the host");
		host = p + 1;
		hlen = (size_t)(close - p - 1);
		if ((size_t)(close - p) + 1 < n) {
			if (close[1] != ':')
				return dal__error(DAL_EINVAL, "bad URL: stray characters after ']' in the host");
			colon = close + 1;
		}
	} else if ((colon = memchr(p, ':', n)) != NULL) {
		hlen = (size_t)(colon - p);
	}
	if (colon && (error = check_port(colon + 1, (size_t)(p + n - colon - 1))) < 0)
		return error;
	if ((error = decode(&dec, host, hlen, "host")) < 0)
		return error;
	if (hosts->len || ports->len)
		error = dal__str_putc(hosts, ',');
	error = error ? error : dal__str_puts(hosts, dec);
	free(dec);
	if (error == 0 && colon)
		error = dal__str_putn(ports, colon + 1, (size_t)(p + n - colon - 1));
	return error;
}

/* libpq takes "h1,h2" and "p1,p2" lists of the same length; an empty port means the default. */
static int parse_hosts(dal_url *u, const char *p, size_t n)
{
	dal_str hosts = DAL_STR_INIT, ports = DAL_STR_INIT;
	size_t start = 0, i, count = 0;
	bool any_port = false;
	int error = 0;

	for (i = 0; i <= n && error == 0; i++) {
		if (i < n && p[i] != ',')
			continue;
		if (count && (error = dal__str_putc(&ports, ',')) < 0)
			break;
		size_t before = ports.len;
		error = parse_one_host(&hosts, &ports, p + start, i - start);
		any_port |= ports.len > before;
		count++;
		start = i + 1;
	}
	if (error == 0) {
		u->hosts = dal__str_detach(&hosts);
		u->ports = any_port ? dal__str_detach(&ports) : dal__strdup("");
		if (!u->hosts || !u->ports)
			error = DAL_ENOMEM;
	}
	dal__str_dispose(&hosts);
	dal__str_dispose(&ports);
	return error;
}

static int parse_userinfo(dal_url *u, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	int error;

	if (n == 0)
		return dal__error(DAL_EINVAL, "bad URL: empty user name before '@'");
	if (!colon)
		return decode(&u->user, p, n, "user name");
	if ((error = decode(&u->user, p, (size_t)(colon - p), "user name")) < 0)
		return error;
	/* Never quote the password in a message. */
	if (decode(&u->password, colon + 1, (size_t)(p + n - colon - 1), "password") < 0)
		return dal__error(DAL_EINVAL, "bad URL: invalid percent-encoding in the password");
	return 0;
}

static int add_option(dal_url *u, const char *p, size_t n)
{
	const char *eq = memchr(p, '=', n);
	char *key = NULL, *val = NULL, **keys, **vals;
	int error;

	if (n == 0)
		return 0;
	if (!eq)
		return dal__error(DAL_EINVAL, "bad URL: query option '%.*s' has no '='", (int)(n > 40 ? 40 : n), p);
	if ((error = decode(&key, p, (size_t)(eq - p), "query option")) < 0)
		return error;
	if (!in_list(pg_options, key)) {
		error = dal__error(DAL_EINVAL, "bad URL: unknown PostgreSQL option '%s'", key);
		goto fail;
	}
	if ((error = decode(&val, eq + 1, (size_t)(p + n - eq - 1), "query option value")) < 0)
		goto fail;
	if (strcmp(key, "sslmode") == 0 && !in_list(sslmodes, val)) {
		error = dal__error(DAL_EINVAL, "bad URL: sslmode '%s' is not one of disable, allow, prefer, "
			"require, verify-ca, verify-full", val);
		goto fail;
	}
	if (strcmp(key, "connect_timeout") == 0 && (val[0] == '\0' || strspn(val, "0123456789") != strlen(val))) {
		error = dal__error(DAL_EINVAL, "bad URL: connect_timeout '%s' is not a whole number of seconds", val);
		goto fail;
	}
	keys = realloc(u->keys, (u->noptions + 1) * sizeof(*keys));
	if (keys)
		u->keys = keys;
	vals = realloc(u->values, (u->noptions + 1) * sizeof(*vals));
	if (vals)
		u->values = vals;
	if (!keys || !vals) {
		error = dal__error_nomem();
		goto fail;
	}
	u->keys[u->noptions] = key;
	u->values[u->noptions++] = val;
	return 0;
fail:
	free(key);
	free(val);
	return error;
}

static int parse_query(dal_url *u, const char *q)
{
	const char *amp;
	int error;

	while (*q) {
		amp = strchr(q, '&');
		if ((error = add_option(u, q, amp ? (size_t)(amp - q) : strlen(q))) < 0)
			return error;
		if (!amp)
			break;
		q = amp + 1;
	}
	return 0;
}

/* Copy the URL with the userinfo password and any password= option as "***". */
static int build_redacted(dal_url *u, const char *text)
{
	dal_str s = DAL_STR_INIT;
	const char *auth = strstr(text, "://") + 3;
	const char *end = auth + strcspn(auth, "/?");
	const char *at = NULL, *p, *colon, *q;
	int error = 0;

	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	q = strchr(text, '?');
	if (colon) {
		error = dal__str_putn(&s, text, (size_t)(colon - text + 1));
		error = error ? error : dal__str_puts(&s, "***");
		error = error ? error : dal__str_putn(&s, at, (size_t)((q ? q : at + strlen(at)) - at));
	} else {
		error = dal__str_putn(&s, text, (size_t)((q ? q : text + strlen(text)) - text));
	}
	while (error == 0 && q && *q) {
		size_t len = strcspn(q + 1, "&");
		error = dal__str_putc(&s, *q);
		if (error == 0 && strncmp(q + 1, "password=", 9) == 0)
			error = dal__str_puts(&s, "password=***");
		else if (error == 0)
			error = dal__str_putn(&s, q + 1, len);
		q += 1 + len;
	}
	if (error == 0 && !(u->redacted = dal__str_detach(&s)))
		error = DAL_ENOMEM;
	dal__str_dispose(&s);
	return error;
}

static int parse_pg_url(dal_url *u, const char *rest)
{
	const char *auth_end = rest + strcspn(rest, "/?");
	const char *at = NULL, *p, *hosts = rest;
	int error;

	for (p = rest; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at) {
		if ((error = parse_userinfo(u, rest, (size_t)(at - rest))) < 0)
			return error;
		hosts = at + 1;
	}
	if ((error = parse_hosts(u, hosts, (size_t)(auth_end - hosts))) < 0)
		return error;
	if (*auth_end != '/' || auth_end[1] == '\0' || auth_end[1] == '?')
		return dal__error(DAL_EINVAL, "bad URL: missing database name (postgresql://user@host:port/dbname)");
	p = auth_end + 1;
	if ((error = decode(&u->dbname, p, strcspn(p, "?"), "database name")) < 0)
		return error;
	if (strchr(u->dbname, '/'))
		return dal__error(DAL_EINVAL, "bad URL: database name '%s' holds a '/'", u->dbname);
	p += strcspn(p, "?");
	return *p == '?' ? parse_query(u, p + 1) : 0;
}

int dal__url_parse(dal_url *u, const char *text)
{
	const char *sep;
	size_t i;
	int error;

	memset(u, 0, sizeof(*u));
	if (!text)
		return dal__error(DAL_EINVAL, "bad URL: NULL");
	if (!*text)
		return dal__error(DAL_EINVAL, "bad URL: empty string (expected e.g. sqlite:///./app.db)");
	if (!(sep = strstr(text, "://")) || sep == text)
		return dal__error(DAL_EINVAL, "bad URL: no scheme (expected sqlite://, duckdb:// or postgresql://)");
	if ((error = check_chars(text)) < 0)
		return error;
	if (!(u->scheme = dal__strndup(text, (size_t)(sep - text))))
		return DAL_ENOMEM;
	for (i = 0; u->scheme[i]; i++)
		u->scheme[i] = (char)tolower((unsigned char)u->scheme[i]);
	if (strcmp(u->scheme, "postgres") == 0) {
		free(u->scheme);
		if (!(u->scheme = dal__strdup("postgresql")))
			return DAL_ENOMEM;
	}
	if (strcmp(u->scheme, "sqlite") == 0 || strcmp(u->scheme, "duckdb") == 0)
		error = parse_file_url(u, sep + 3);
	else if (strcmp(u->scheme, "postgresql") == 0)
		error = parse_pg_url(u, sep + 3);
	else
		error = dal__error(DAL_EINVAL, "bad URL: unknown scheme '%.20s' (expected sqlite, duckdb, postgresql)",
			u->scheme);
	if (error == 0)
		error = build_redacted(u, text);
	if (error < 0)
		dal__url_dispose(u);
	return error;
}

void dal__url_dispose(dal_url *u)
{
	size_t i;

	if (!u)
		return;
	for (i = 0; i < u->noptions; i++) {
		free(u->keys[i]);
		free(u->values[i]);
	}
	free(u->keys);
	free(u->values);
	free(u->scheme);
	free(u->path);
	free(u->user);
	free(u->password);
	free(u->hosts);
	free(u->ports);
	free(u->dbname);
	free(u->redacted);
	memset(u, 0, sizeof(*u));
}

const char *dal__url_option(const dal_url *u, const char *key)
{
	size_t i;

	for (i = 0; i < u->noptions; i++)
		if (strcmp(u->keys[i], key) == 0)
			return u->values[i];
	return NULL;
}
