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

const raw_ops raw_postgres = { "postgresql", p_open, p_close, p_create, p_get, p_update, p_find };
