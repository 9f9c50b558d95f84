#define _POSIX_C_SOURCE 200809L
#include "stress/pg_server.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_server_run(pg_server *s, const char *cmd, const char *args)
{
	char line[1400];

	snprintf(line, sizeof(line), "'%s' %s '%s' %s", s->script, cmd, s->dir, args ? args : "");
	return system(line);
}

int pg_server_url(pg_server *s, char *url, size_t n)
{
	char path[1100];
	FILE *f;

	snprintf(path, sizeof(path), "%s/url", s->dir);
	if (!(f = fopen(path, "r")) || !fgets(url, (int)n, f)) {
		fprintf(stderr, "pg_server: cannot read the URL from %s\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	url[strcspn(url, "\r\n")] = '\0';
	return 0;
}

/* The postmaster's pid: the first line of data/postmaster.pid. */
static int postmaster_pid(const pg_server *s)
{
	char path[1100];
	FILE *f;
	int pid = -1;

	snprintf(path, sizeof(path), "%s/data/postmaster.pid", s->dir);
	if ((f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%d", &pid) != 1)
			pid = -1;
		fclose(f);
	}
	return pid;
}

/* The parent pid from /proc/<pid>/stat: "pid (comm) state ppid ...", comm may hold spaces. */
static int parent_of(const char *pid)
{
	char path[300], buf[512], *p;
	FILE *f;
	size_t n;
	int ppid = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) != NULL && sscanf(p + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	return ppid;
}

static int stop_one(pg_server *s, int pid)
{
	if (s->frozen >= (int)(sizeof(s->pids) / sizeof(s->pids[0])) || kill(pid, SIGSTOP) != 0)
		return -1;
	s->pids[s->frozen++] = pid;
	return 0;
}

int pg_server_freeze(pg_server *s)
{
	struct dirent *e;
	DIR *d;
	int pm = postmaster_pid(s);

	if (pm <= 0 || stop_one(s, pm) < 0) {
		fprintf(stderr, "pg_server: no postmaster to freeze in %s\n", s->dir);
		return -1;
	}
	if (!(d = opendir("/proc")))
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && parent_of(e->d_name) == pm)
			stop_one(s, atoi(e->d_name));
	closedir(d);
	return s->frozen;
}

void pg_server_thaw(pg_server *s)
{
	int i;

	for (i = s->frozen - 1; i >= 0; i--)
		kill(s->pids[i], SIGCONT);
	s->frozen = 0;
}
