#ifndef DAL_URL_H
#define DAL_URL_H

#include <stdbool.h>
#include <stddef.h>

/** A parsed database URL; every string is percent-decoded and owned. */
typedef struct dal_url {
	char *scheme;     /* "sqlite", "duckdb" or "postgresql" */
	char *path;       /* sqlite, duckdb: file path or ":memory:" */
	bool memory;
	char *user;       /* postgresql; NULL if absent */
	char *password;   /* postgresql; NULL if absent; never printed */
	char *hosts;      /* "h1,h2" as libpq takes it; "" for the default */
	char *ports;      /* "5432,5433" or "" */
	char *dbname;
	size_t noptions;
	char **keys;      /* query options: keys[i]=values[i] */
	char **values;
	char *redacted;   /* rebuilt from the parts, every secret as "***" */
} dal_url;

/**
 * Parse @p text; on failure DAL_EINVAL names the part at fault (never quoting
 * the text) and @p out is empty.
 */
int dal__url_parse(dal_url *out, const char *text);
void dal__url_dispose(dal_url *url);
/** Whether the value of connection keyword @p key is a secret (password, sslpassword...). */
bool dal__url_key_secret(const char *key);
/** The value of query option @p key, or NULL. */
const char *dal__url_option(const dal_url *url, const char *key);

#endif
