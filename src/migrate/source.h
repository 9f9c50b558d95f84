/* Migrations as dal runs them, from a folder or from C, checked. Internal. */
#ifndef DAL_MIGRATE_SOURCE_H
#define DAL_MIGRATE_SOURCE_H

#include "dal/migrate.h"

typedef struct dal__mig {
	long long version;
	char *name;
	char *up;            /* "" where the version has files for other engines only */
	char *down;          /* NULL: no way back */
	char *file;          /* the up file, "" from C */
	char *down_file;     /* the down file, "" from C or none */
	bool no_tx;
	bool down_no_tx;     /* the down part's own -- dal:no-transaction */
	bool elsewhere;      /* only other engines have parts: up and down do nothing here */
	char checksum[65];   /* SHA-256 of up */
} dal__mig;

typedef struct dal__mig_set {
	dal__mig *v;         /* by version, 1..n */
	size_t n;
} dal__mig_set;

/*
 * The migrations of opts->dir or opts->list for engine `engine` (a driver name):
 * versions 1..n without a gap or a duplicate, each name [A-Za-z0-9_]+, directives
 * known. DAL_EINVAL naming the file (and line) at fault; nothing is loaded then.
 */
int dal__mig_load(dal__mig_set *out, const dal_migrate_opts *opts, const char *engine);
void dal__mig_set_dispose(dal__mig_set *s);

#endif
