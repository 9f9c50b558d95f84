/*
 * A PostgreSQL server of a fault test's own, driven through
 * scripts/pg-test-server.sh (start, restart, stop), and frozen the way a
 * stopped VM or a stuck host freezes it: SIGSTOP to the postmaster and every
 * process it started, SIGCONT to thaw.
 */
#ifndef DAL_TEST_PG_SERVER_H
#define DAL_TEST_PG_SERVER_H

#include <stddef.h>

typedef struct pg_server {
	const char *script;   /* scripts/pg-test-server.sh */
	const char *dir;      /* the server's folder */
	int frozen;           /* processes stopped by pg_server_freeze(), to thaw */
	int pids[256];
} pg_server;

/* Run `script <cmd> <dir> [args]`; the shell's exit status. */
int pg_server_run(pg_server *s, const char *cmd, const char *args);
/* The URL the script wrote to <dir>/url; -1 (with a message) if none. */
int pg_server_url(pg_server *s, char *url, size_t n);
/* SIGSTOP the postmaster (first, so it starts no one new) and then its children. Number stopped, or -1. */
int pg_server_freeze(pg_server *s);
/* SIGCONT every process pg_server_freeze() stopped. */
void pg_server_thaw(pg_server *s);

#endif
