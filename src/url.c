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

/*
 * The keywords whose value is a secret: the ones libpq's PQconndefaults() marks
 * with dispchar "*" ("Password field - hide value"): password, sslpassword and,
 * from libpq 18, oauth_client_secret. passfile is a path, not a secret.
 */
static const char *const secret_keys[] = { "password", "sslpassword", "oauth_client_secret", NULL };

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

bool dal__url_key_secret(const char *key)
{
	return key && in_list(secret_keys, key);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/*
 * The characters a part may hold unencoded: RFC 3986's unreserved and
 * sub-delims and ':', plus a set per part (PART_*). '#' is only ever taken in
 * the userinfo, where a password may hold any delimiter (see parse_pg_url).
 */
#define PART_HOST ""
#define PART_DBNAME ""
#define PART_KEY ""
#define PART_USERINFO "/?#@[]"
#define PART_VALUE "/?@[]"
#define PART_PATH "/@[]"

static bool part_char_ok(unsigned char c, const char *extra)
{
	return isalnum(c) || (c && (strchr("-._~!$&'()*+,;=:", c) || strchr(extra, c)));
}

/*
 * Decode [p, p+n) of the part named @p what. No message quotes the text: a
 * password read as another part (a host, a port) must not show in one.
 */
static int decode(char **out, const char *p, size_t n, const char *what, const char *extra)
{
	dal_str s = DAL_STR_INIT;
	size_t i;
	int hi, lo, error = 0;

	*out = NULL;
	for (i = 0; i < n && error == 0; i++) {
		if (p[i] != '%') {
			if (!part_char_ok((unsigned char)p[i], extra))
				error = dal__error(DAL_EINVAL, "bad URL: the %s holds a character that must be "
					"percent-encoded", what);
			else
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

static int parse_file_url(dal_url *u, const char *rest)
{
	int error;

	if (rest[0] != '/')
		return dal__error(DAL_EINVAL, "bad URL: a %s URL has no host; write %s:///relative.db, "
			"%s:////abs/path.db or %s:///:memory:", u->scheme, u->scheme, u->scheme, u->scheme);
	rest++;
	if (strchr(rest, '?'))
		return dal__error(DAL_EINVAL, "bad URL: %s URLs take no query options", u->scheme);
	if (rest[0] == '\0')
		return dal__error(DAL_EINVAL, "bad URL: missing path after %s:///", u->scheme);
	if ((error = decode(&u->path, rest, strlen(rest), "path", PART_PATH)) < 0)
		return error;
	u->memory = strcmp(u->path, ":memory:") == 0;
	return 0;
}

static int check_port(const char *p, size_t n, size_t host_no)
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
	return dal__error(DAL_EINVAL, "bad URL: bad port for host %zu of the URL (expected 1-65535)", host_no);
}

/* One "host[:port]" or "[v6]:port" of a comma-separated list. */
static int parse_one_host(dal_str *hosts, dal_str *ports, const char *p, size_t n, size_t host_no)
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
	if (colon && (error = check_port(colon + 1, (size_t)(p + n - colon - 1), host_no)) < 0)
		return error;
	/* Inside brackets an IPv6 address holds ':'; outside, ':' began the port. */
	if ((error = decode(&dec, host, hlen, "host", host == p ? PART_HOST : ":")) < 0)
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
		error = parse_one_host(&hosts, &ports, p + start, i - start, count + 1);
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
		return decode(&u->user, p, n, "user name", PART_USERINFO);
	if ((error = decode(&u->user, p, (size_t)(colon - p), "user name", PART_USERINFO)) < 0)
		return error;
	return decode(&u->password, colon + 1, (size_t)(p + n - colon - 1), "password", PART_USERINFO);
}

static int add_option(dal_url *u, const char *p, size_t n, size_t option_no)
{
	const char *eq = memchr(p, '=', n);
	char *key = NULL, *val = NULL, **keys, **vals;
	int error;

	if (n == 0)
		return 0;
	/* Named by place, never quoted: a key may be a password typed in the wrong place. */
	if (!eq)
		return dal__error(DAL_EINVAL, "bad URL: query option %zu has no '='", option_no);
	if ((error = decode(&key, p, (size_t)(eq - p), "query option key", PART_KEY)) < 0)
		return error;
	if (!in_list(pg_options, key)) {
		error = dal__error(DAL_EINVAL, "bad URL: unknown PostgreSQL option (query option %zu); dal takes "
			"libpq's connection keywords", option_no);
		goto fail;
	}
	if ((error = decode(&val, eq + 1, (size_t)(p + n - eq - 1), "query option value", PART_VALUE)) < 0)
		goto fail;
	if (strcmp(key, "sslmode") == 0 && !in_list(sslmodes, val)) {
		error = dal__error(DAL_EINVAL, "bad URL: sslmode is not one of disable, allow, prefer, "
			"require, verify-ca, verify-full");
		goto fail;
	}
	if (strcmp(key, "connect_timeout") == 0 && (val[0] == '\0' || strspn(val, "0123456789") != strlen(val))) {
		error = dal__error(DAL_EINVAL, "bad URL: connect_timeout is not a whole number of seconds");
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
	size_t option_no = 1;
	int error;

	while (*q) {
		amp = strchr(q, '&');
		if ((error = add_option(u, q, amp ? (size_t)(amp - q) : strlen(q), option_no++)) < 0)
			return error;
		if (!amp)
			break;
		q = amp + 1;
	}
	return 0;
}

/* Percent-encode @p v but for unreserved characters and those in @p keep. */
static int put_encoded(dal_str *s, const char *v, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	int error = 0;

	for (p = (const unsigned char *)v; *p && error == 0; p++) {
		if (isalnum(*p) || strchr("-._~", *p) || strchr(keep, *p))
			error = dal__str_putc(s, (char)*p);
		else if ((error = dal__str_putc(s, '%')) == 0 && (error = dal__str_putc(s, hex[*p >> 4])) == 0)
			error = dal__str_putc(s, hex[*p & 15]);
	}
	return error;
}

/* "h1:p1,[::1]:p2" from the parallel lists u->hosts and u->ports. */
static int put_hosts(dal_str *s, const dal_url *u)
{
	const char *h = u->hosts, *p = u->ports;
	int error = 0;

	while (error == 0 && (*h || *p)) {
		size_t hn = strcspn(h, ","), pn = strcspn(p, ",");
		char *host = dal__strndup(h, hn);

		if (!host)
			return dal__error_nomem();
		if (strchr(host, ':')) {
			error = dal__str_putc(s, '[');
			error = error ? error : put_encoded(s, host, ":");
			error = error ? error : dal__str_putc(s, ']');
		} else
			error = put_encoded(s, host, "");
		free(host);
		if (error == 0 && pn)
			error = dal__str_printf(s, ":%.*s", (int)pn, p);
		h += hn + (h[hn] == ',');
		p += pn + (p[pn] == ',');
		if (error == 0 && (*h || *p))
			error = dal__str_putc(s, ',');
	}
	return error;
}

/*
 * The URL for messages and reports, rebuilt from the parsed parts, never
 * copied from the text: the password and the value of every secret keyword
 * (by its decoded name, so pass%77ord= too) are "***". What dal did not read
 * as a part of the URL cannot show in it.
 */
static int build_redacted(dal_url *u)
{
	dal_str s = DAL_STR_INIT;
	size_t i;
	int error;

	if ((error = dal__str_printf(&s, "%s://", u->scheme)) < 0)
		goto done;
	if (u->path) {
		if ((error = dal__str_putc(&s, '/')) == 0)
			error = put_encoded(&s, u->path, "/:");
		goto done;
	}
	if (u->user) {
		error = put_encoded(&s, u->user, "");
		if (error == 0 && u->password)
			error = dal__str_puts(&s, ":***");
		if (error == 0)
			error = dal__str_putc(&s, '@');
	}
	if (error == 0)
		error = put_hosts(&s, u);
	if (error == 0 && (error = dal__str_putc(&s, '/')) == 0)
		error = put_encoded(&s, u->dbname, "");
	for (i = 0; i < u->noptions && error == 0; i++) {
		error = dal__str_putc(&s, i ? '&' : '?');
		error = error ? error : put_encoded(&s, u->keys[i], "");
		error = error ? error : dal__str_putc(&s, '=');
		if (error == 0)
			error = dal__url_key_secret(u->keys[i]) ? dal__str_puts(&s, "***")
			                                         : put_encoded(&s, u->values[i], "/:,");
	}
done:
	if (error == 0 && !(u->redacted = dal__str_detach(&s)))
		error = DAL_ENOMEM;
	dal__str_dispose(&s);
	return error;
}

static void clear_pg_parts(dal_url *u)
{
	size_t i;

	for (i = 0; i < u->noptions; i++) {
		free(u->keys[i]);
		free(u->values[i]);
	}
	free(u->keys);
	free(u->values);
	free(u->user);
	free(u->password);
	free(u->hosts);
	free(u->ports);
	free(u->dbname);
	u->keys = u->values = NULL;
	u->user = u->password = u->hosts = u->ports = u->dbname = NULL;
	u->noptions = 0;
}

/* "[userinfo@]hosts/dbname[?query]", the userinfo ending at @p at (NULL: none). */
static int parse_pg_at(dal_url *u, const char *rest, const char *at)
{
	const char *hosts = at ? at + 1 : rest;
	const char *auth_end = hosts + strcspn(hosts, "/?#"), *p;
	int error;

	if (at && (error = parse_userinfo(u, rest, (size_t)(at - rest))) < 0)
		return error;
	if ((error = parse_hosts(u, hosts, (size_t)(auth_end - hosts))) < 0)
		return error;
	if (*auth_end != '/' || auth_end[1] == '\0' || auth_end[1] == '?')
		return dal__error(DAL_EINVAL, "bad URL: missing database name (postgresql://user@host:port/dbname)");
	p = auth_end + 1;
	if ((error = decode(&u->dbname, p, strcspn(p, "?"), "database name", PART_DBNAME)) < 0)
		return error;
	if (strchr(u->dbname, '/'))
		return dal__error(DAL_EINVAL, "bad URL: the database name holds a '/'");
	p += strcspn(p, "?");
	return *p == '?' ? parse_query(u, p + 1) : 0;
}

/*
 * RFC 3986 ends the authority at the first '/', '?' or '#', and the userinfo
 * at its last '@'. A password holding one of those unencoded would then read
 * as a host and port or a path; so when that first reading is not a valid
 * URL, the userinfo is taken to end at each later '@' in turn, the last first
 * (a host list never holds '@', nor does the database name unencoded), and the
 * first reading that is a whole valid URL is the one. If none is, the first
 * reading's error stands. No message quotes URL text, whichever part it is.
 */
static int parse_pg_url(dal_url *u, const char *rest)
{
	const char *auth_end = rest + strcspn(rest, "/?#"), *at = NULL, *p;
	dal__error_saved first;
	int error;

	for (p = rest; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if ((error = parse_pg_at(u, rest, at)) != DAL_EINVAL)
		return error;
	dal__error_save(&first);
	for (p = rest + strlen(rest); p > auth_end;) {
		if (*--p != '@')
			continue;
		clear_pg_parts(u);
		if ((error = parse_pg_at(u, rest, p)) != DAL_EINVAL)
			return error;
	}
	clear_pg_parts(u);
	dal__error_restore(&first);
	return DAL_EINVAL;
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
	if (!(u->scheme = dal__strndup(text, (size_t)(sep - text))))
		return dal__error_nomem();
	for (i = 0; u->scheme[i]; i++)
		u->scheme[i] = (char)tolower((unsigned char)u->scheme[i]);
	if (strcmp(u->scheme, "postgres") == 0) {
		free(u->scheme);
		if (!(u->scheme = dal__strdup("postgresql")))
			return dal__error_nomem();
	}
	if (strcmp(u->scheme, "sqlite") == 0 || strcmp(u->scheme, "duckdb") == 0)
		error = parse_file_url(u, sep + 3);
	else if (strcmp(u->scheme, "postgresql") == 0)
		error = parse_pg_url(u, sep + 3);
	else
		error = dal__error(DAL_EINVAL, "bad URL: unknown scheme (expected sqlite://, duckdb:// or postgresql://)");
	if (error == 0)
		error = build_redacted(u);
	if (error < 0)
		dal__url_dispose(u);
	return error;
}

void dal__url_dispose(dal_url *u)
{
	if (!u)
		return;
	clear_pg_parts(u);
	free(u->scheme);
	free(u->path);
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
