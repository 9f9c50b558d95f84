/* Audit rows as the dal program prints them (dal audit list, dal history). */
#ifndef DAL_CLI_AUDIT_OUT_H
#define DAL_CLI_AUDIT_OUT_H

#include <jansson.h>

#include "cli.h"

/* Every entry as a JSON object (a new array), in the list's order or reversed. */
json_t *audit_entries_json(const dal_audit_logs *logs, bool reverse);

/* A table of the entries; @p history: one entity's, with what each change set. */
int audit_print(const cli *c, const dal_audit_logs *logs, bool reverse, bool history);

#endif
