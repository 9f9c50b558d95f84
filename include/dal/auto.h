/**
 * @file dal/auto.h
 * @brief DAL_AUTO: a pointer that is freed when it goes out of scope (GCC and Clang, C only).
 *
 * @code
 * DAL_AUTO(dal_repo) repo = NULL;      // dal_repo_close(repo) at the end of the block
 * DAL_AUTO(dal_row) row = NULL;        // dal_row_free(row), before the repository
 * if (dal_repo_open(&repo, db, &users, 0) || dal_repo_get(&row, repo, 1))
 *         return dal_perror("get");
 * @endcode
 *
 * The variable's value when the block ends is freed, once, on every path out of
 * the block (return, break, goto): so start it at NULL, and do not free it by hand
 * or overwrite it while it holds something. Variables are freed in the reverse of
 * their declaration order, so declare the dal_db first and its repositories after
 * (not for the handle of dal_default(), which is closed at exit: dal_close() leaves it).
 * Types: dal_db, dal_repo, dal_row, dal_rows, dal_result, dal_audit_logs,
 * dal_schema_report, dal_migrate_report, dal_lint_report. Never for a unit of work:
 * it must be committed or rolled back by choice. The compiler's cleanup attribute
 * (GCC, Clang) does the work, so DAL_AUTO is not defined elsewhere, nor in C++,
 * where std::unique_ptr with the same free functions does the same.
 */
#ifndef DAL_AUTO_H
#define DAL_AUTO_H

#if (defined(__GNUC__) || defined(__clang__)) && !defined(__cplusplus)

#include "dal/audit.h"
#include "dal/db.h"
#include "dal/migrate.h"
#include "dal/repo.h"
#include "dal/result.h"
#include "dal/row.h"
#include "dal/rows.h"
#include "dal/schema.h"

static inline void dal__auto_dal_db(dal_db **p) { dal_close(*p); }
static inline void dal__auto_dal_repo(dal_repo **p) { dal_repo_close(*p); }
static inline void dal__auto_dal_row(dal_row **p) { dal_row_free(*p); }
static inline void dal__auto_dal_rows(dal_rows **p) { dal_rows_free(*p); }
static inline void dal__auto_dal_result(dal_result **p) { dal_result_free(*p); }
static inline void dal__auto_dal_audit_logs(dal_audit_logs **p) { dal_audit_logs_free(*p); }
static inline void dal__auto_dal_schema_report(dal_schema_report **p) { dal_schema_report_free(*p); }
static inline void dal__auto_dal_migrate_report(dal_migrate_report **p) { dal_migrate_report_free(*p); }
static inline void dal__auto_dal_lint_report(dal_lint_report **p) { dal_lint_report_free(*p); }

/** Declare a `type *` freed with its type's free function when the block ends. */
#define DAL_AUTO(type) __attribute__((cleanup(dal__auto_##type))) type *

#endif

#endif
