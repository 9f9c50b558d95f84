#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dal/value.h>

#include "bench.h"

typedef struct h {
	PGconn *pg;
} h;

static int done(PGresult *r, ExecStatusType want, int min_rows)
{
	int ok = PQresultStatus(r) == want && PQntuples(r) >= min_rows;
	volatile size_t sink = 0;
	int i, j;

	if (!ok)
		fprintf(stderr, "raw postgres: %s", PQresultErrorMessage(r));
	for (i = 0; ok && i < PQntuples(r); i++)
		for (j = 0; j < PQnfields(r); j++)
			sink += (size_t)PQgetlength(r, i, j);
	(void)sink;
	PQclear(r);
	return ok ? 0 : -1;
}

static void prep(PGconn *pg, const char *name, const char *sql)
{
	PQclear(PQprepare(pg, name, sql, 0, NULL));
}

/* The shared SQL with $1, $2, ... for its ? placeholders. */
static void prep_q(PGconn *pg, const char *name, const char *sql)
{
	char buf[512];
	size_t k = 0;
	int n = 0;

	for (; *sql && k < sizeof(buf) - 4; sql++) {
		if (*sql == '?')
			k += (size_t)snprintf(buf + k, sizeof(buf) - k, "$%d", ++n);
		else
			buf[k++] = *sql;
	}
	buf[k] = '\0';
	prep(pg, name, buf);
}

static void *p_open(const char *conninfo)
{
	h *x = calloc(1, sizeof(*x));

	x->pg = PQconnectdb(conninfo);
	if (PQstatus(x->pg) != CONNECTION_OK) {
		fprintf(stderr, "raw postgres: %s", PQerrorMessage(x->pg));
		return NULL;
	}
	PQclear(PQexec(x->pg, "SET TimeZone='UTC'"));
	prep(x->pg, "ins", "INSERT INTO bench_raw (name, email, score, created_at, updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING id");
	prep(x->pg, "get", "SELECT id, name, email, score, created_at, updated_at, deleted_at FROM bench_raw WHERE id = $1 AND deleted_at IS NULL");
	prep(x->pg, "upd", "UPDATE bench_raw SET name = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL");
	prep(x->pg, "find", "SELECT id, name, email, score, created_at, updated_at, deleted_at FROM bench_raw WHERE email = $1 AND deleted_at IS NULL ORDER BY id");
	prep_q(x->pg, "page_count", RAW_PAGE_COUNT);
	prep_q(x->pg, "page", RAW_PAGE);
	prep_q(x->pg, "count", RAW_COUNT);
	prep_q(x->pg, "exists", RAW_EXISTS);
	prep_q(x->pg, "sdel", RAW_SOFT_DELETE);
	prep_q(x->pg, "rest", RAW_RESTORE);
	prep_q(x->pg, "hdel", RAW_HARD_DELETE);
	prep_q(x->pg, "each", RAW_EACH);
	return x;
}

static void p_close(void *p)
{
	h *x = p;
	PQfinish(x->pg);
	free(x);
}

static int p_create(void *p, int64_t i)
{
	h *x = p;
	char name[32], email[64], score[32], ts[DAL_TIMESTAMP_BUFSIZE];
	const char *v[5] = { name, email, score, ts, ts };

	snprintf(name, sizeof(name), "user %lld", (long long)i);
	bench_email(email, sizeof(email), i);
	snprintf(score, sizeof(score), "%.17g", (double)i * 0.5);
	dal_timestamp_format(ts, bench_now());
	return done(PQexecPrepared(x->pg, "ins", 5, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1);
}

static int p_get(void *p, int64_t id)
{
	h *x = p;
	char ids[32];
	const char *v[1] = { ids };

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return done(PQexecPrepared(x->pg, "get", 1, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1);
}

static int p_update(void *p, int64_t id, int64_t i)
{
	h *x = p;
	char name[32], ids[32], ts[DAL_TIMESTAMP_BUFSIZE];
	const char *v[3] = { name, ts, ids };

	snprintf(name, sizeof(name), "renamed %lld", (long long)i);
	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	dal_timestamp_format(ts, bench_now());
	return done(PQexecPrepared(x->pg, "upd", 3, v, NULL, NULL, 0), PGRES_COMMAND_OK, 0);
}

static int p_find(void *p, const char *email)
{
	h *x = p;
	const char *v[1] = { email };

	return done(PQexecPrepared(x->pg, "find", 1, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1);
}

/* A write of exactly one row. */
static int write_one(PGresult *r)
{
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(r), "1") == 0;

	if (!ok)
		fprintf(stderr, "raw postgres: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static int p_paginate(void *p, double below, int64_t page, int64_t size)
{
	h *x = p;
	char b[32], lim[32], off[32];
	const char *v[3] = { b, lim, off };

	snprintf(b, sizeof(b), "%.17g", below);
	snprintf(lim, sizeof(lim), "%lld", (long long)size);
	snprintf(off, sizeof(off), "%lld", (long long)((page - 1) * size));
	if (done(PQexecPrepared(x->pg, "page_count", 1, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1) < 0)
		return -1;
	return done(PQexecPrepared(x->pg, "page", 3, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1);
}

static int p_count(void *p, const char *email)
{
	h *x = p;
	const char *v[1] = { email };

	return done(PQexecPrepared(x->pg, "count", 1, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1);
}

static int p_exists(void *p, int64_t id)
{
	h *x = p;
	char ids[32];
	const char *v[1] = { ids };

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return done(PQexecPrepared(x->pg, "exists", 1, v, NULL, NULL, 0), PGRES_TUPLES_OK, 1);
}

static int p_soft_delete(void *p, int64_t id)
{
	h *x = p;
	char ids[32], ts[DAL_TIMESTAMP_BUFSIZE];
	const char *v[3] = { ts, ts, ids };

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	dal_timestamp_format(ts, bench_now());
	return write_one(PQexecPrepared(x->pg, "sdel", 3, v, NULL, NULL, 0));
}

static int p_restore(void *p, int64_t id)
{
	h *x = p;
	char ids[32], ts[DAL_TIMESTAMP_BUFSIZE];
	const char *v[2] = { ts, ids };

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	dal_timestamp_format(ts, bench_now());
	return write_one(PQexecPrepared(x->pg, "rest", 2, v, NULL, NULL, 0));
}

static int p_hard_delete(void *p, int64_t id)
{
	h *x = p;
	char ids[32];
	const char *v[1] = { ids };

	snprintf(ids, sizeof(ids), "%lld", (long long)id);
	return write_one(PQexecPrepared(x->pg, "hdel", 1, v, NULL, NULL, 0));
}

/* Every value as the type a row callback gets: numbers and timestamps parsed, text by length. */
static int64_t p_each(void *p)
{
	h *x = p;
	PGresult *r = PQexecPrepared(x->pg, "each", 0, NULL, NULL, NULL, 0);
	volatile int64_t sink = 0;
	int64_t n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1, us;
	int i;

	for (i = 0; i < n; i++) {
		sink += strtoll(PQgetvalue(r, i, 0), NULL, 10);
		sink += PQgetlength(r, i, 1) + PQgetlength(r, i, 2);
		sink += (int64_t)strtod(PQgetvalue(r, i, 3), NULL);
		if (dal_timestamp_parse(&us, PQgetvalue(r, i, 4)) == 0 && dal_timestamp_parse(&us, PQgetvalue(r, i, 5)) == 0)
			sink += us;
		if (!PQgetisnull(r, i, 6) && dal_timestamp_parse(&us, PQgetvalue(r, i, 6)) == 0)
			sink += us;
	}
	(void)sink;
	PQclear(r);
	return n;
}

const raw_ops raw_postgres = { "postgresql", p_open, p_close, p_create, p_get, p_update, p_find,
	p_paginate, p_count, p_exists, p_soft_delete, p_restore, p_hard_delete, p_each };
