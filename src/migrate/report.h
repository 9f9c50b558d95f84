/* dal_migrate_report: the source and the record merged, state by state. Internal. */
#ifndef DAL_MIGRATE_REPORT_H
#define DAL_MIGRATE_REPORT_H

#include "migrate/applied.h"
#include "migrate/source.h"

int dal__report_build(dal_migrate_report **out, const dal__mig_set *src, const dal__applied *applied);
/* Build it again from a newer record, keeping what this call applied. */
int dal__report_refresh(dal_migrate_report *rep, const dal__mig_set *src, const dal__applied *applied);
/* This call applied (or undid) `version`. */
void dal__report_mark(dal_migrate_report *rep, long long version);
/* The checksum recorded for item i ("" if none). */
const char *dal__report_recorded_checksum(const dal_migrate_report *rep, size_t i);

#endif
