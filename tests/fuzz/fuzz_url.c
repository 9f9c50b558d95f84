/*
 * Fuzz the URL parser and the placeholder rewriter: any input gives DAL_OK or
 * DAL_EINVAL, never a crash, and a parsed password never shows in the redacted
 * URL or an error message. Built as a plain program that mutates seed URLs
 * (a ctest, label fuzz, meant to run under ASan), or with -DDAL_LIBFUZZER as a
 * libFuzzer target (clang -fsanitize=fuzzer).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/placeholder.h"
#include "url.h"

/* Whether @p secret could show in the redacted URL as part of something not secret. */
static bool shown_elsewhere(const dal_url *u, const char *secret)
{
	size_t i;

	if ((u->user && strstr(u->user, secret)) || strstr(u->hosts ? u->hosts : "", secret) ||
	    strstr(u->ports ? u->ports : "", secret) || (u->dbname && strstr(u->dbname, secret)) ||
	    strstr("postgresql://***", secret))
		return true;
	for (i = 0; i < u->noptions; i++)
		if (!dal__url_key_secret(u->keys[i]) && (strstr(u->keys[i], secret) || strstr(u->values[i], secret)))
			return true;
	return false;
}

/* A secret of 4 bytes or more shows in the redacted URL only where it is also something else. */
static void check_secret(const dal_url *u, const char *secret)
{
	if (secret && strlen(secret) >= 4 && strstr(u->redacted, secret) && !shown_elsewhere(u, secret))
		abort();
}

static void check(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	dal_str s = DAL_STR_INIT;
	dal_url u;
	int rc;

	memcpy(text, data, size);
	text[size] = '\0';
	rc = dal__url_parse(&u, text);
	if (rc != 0 && rc != DAL_EINVAL && rc != DAL_ENOMEM)
		abort();
	if (rc == 0) {
		size_t i;

		check_secret(&u, u.password);
		for (i = 0; i < u.noptions; i++)
			if (dal__url_key_secret(u.keys[i]))
				check_secret(&u, u.values[i]);
		dal__url_dispose(&u);
	}
	rc = dal__sql_placeholders(&s, text, DAL_PH_DOLLAR);
	if (rc != 0)
		abort();
	dal__str_dispose(&s);
	free(text);
}

#include "fuzz/driver.h"

static const char *const seeds[] = {
	"sqlite:///relative.db", "sqlite:////abs/path.db", "sqlite:///:memory:", "duckdb:///x.duckdb",
	"postgresql://user:pa%40ss@host:5432/db?sslmode=require&connect_timeout=5",
	"postgres://u@h1:1,h2:2,[::1]:3/db?target_session_attrs=read-write", "postgresql:///db?host=/tmp",
	"postgresql://u:p/w?x#y@z@h/db?pass%77ord=secret&sslpassword=s3cret&application_name=a@b",
	"SELECT '?', \"?\", ? -- ?\n/* ? */ $1", "",
};

DAL_FUZZ_MAIN(check, "fuzz_url", 200000, seeds, ":/@?&=%[],.-_~'\";\\$# \t\nabcdefgh0123456789\x01\xff")
