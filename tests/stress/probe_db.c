/* Databases of a probe's own (see probe_db.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dal/dal.h>

#include "stress/probe_db.h"

/* On PostgreSQL, a database of the probe's own (tests share the server's): `url` with the
 * database part replaced by `name`, created afresh. Other engines: the URL as it is. */
char *probe_own_database(const char *url, const char *name)
{
	const char *slash, *q;
	char sql[160], *out;
	dal_db *server = NULL;

	if (strncmp(url, "postgres", 8) != 0)
		return strdup(url);
	slash = strchr(strrchr(url, '@') ? strrchr(url, '@') : url + 11, '/');
	q = slash ? strchr(slash, '?') : NULL;
	if (!slash || dal_open(&server, url, NULL) != 0) {
		fprintf(stderr, "cannot reach PostgreSQL: %s\n", dal_error_last()->message);
		exit(2);
	}
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	dal_exec(NULL, server, sql, NULL, 0);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	if (dal_exec(NULL, server, sql, NULL, 0) != 0) {
		fprintf(stderr, "%s: %s\n", sql, dal_error_last()->message);
		exit(2);
	}
	dal_close(server);
	if (!(out = malloc(strlen(url) + strlen(name) + 2)))
		exit(2);
	sprintf(out, "%.*s/%s%s", (int)(slash - url), url, name, q ? q : "");
	return out;
}

void probe_drop_database(const char *url, const char *name)
{
	char sql[160];
	dal_db *server = NULL;

	if (strncmp(url, "postgres", 8) != 0 || dal_open(&server, url, NULL) != 0)
		return;
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	dal_exec(NULL, server, sql, NULL, 0);
	dal_close(server);
}

char *probe_read_url(const char *arg)
{
	char buf[1024] = "";
	FILE *f;

	if (arg[0] != '@')
		return strdup(arg);
	if (!(f = fopen(arg + 1, "r")) || !fgets(buf, sizeof(buf), f)) {
		fprintf(stderr, "cannot read the URL from %s\n", arg + 1);
		exit(2);
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}
