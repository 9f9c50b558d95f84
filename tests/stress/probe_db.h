/* Databases of a probe's own, for the probes that share the test server. */
#ifndef DAL_TEST_PROBE_DB_H
#define DAL_TEST_PROBE_DB_H

/* On PostgreSQL, `url` with the database part replaced by `name`, created afresh (tests
 * share the server); other engines: a copy of the URL as it is. Exits 2 on failure. */
char *probe_own_database(const char *url, const char *name);
/* Drop what probe_own_database made (PostgreSQL only). */
void probe_drop_database(const char *url, const char *name);
/* The URL given, or with "@file" the first line of that file. Exits 2 if unreadable. */
char *probe_read_url(const char *arg);

#endif
