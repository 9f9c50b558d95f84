/* The repository's state, shared by its files. Internal. */
#ifndef DAL_REPO_INTERNAL_H
#define DAL_REPO_INTERNAL_H

#include "dal/repo.h"
#include "audit/audit.h"
#include "db.h"
#include "session.h"
#include "util/str.h"

/* SQL built once per (operation, column set). */
typedef struct dal_sql_entry {
	uint64_t mask;
	char *sql;
} dal_sql_entry;

#define DAL__SQL_SLOTS 16

/* A SELECT by the shape of its criteria (columns, operators, flags; no values). */
typedef struct dal_select_entry {
	uint8_t sig[64];
	size_t len;
	char *sql;
} dal_select_entry;

struct dal_repo {
	dal_db *db;
	const dal_model *model;
	unsigned flags;
	int col_id, col_created, col_updated, col_deleted;
	bool soft;
	bool check_unique;              /* a unique column whose unique-among-live dal checks (no partial indexes) */
	char *sql_get, *sql_get_any, *sql_delete, *sql_soft_delete, *sql_restore;
	char *sql_exists, *sql_exists_any;  /* SELECT 1 of a live row / of any row */
	dal_sql_entry inserts[DAL__SQL_SLOTS];
	dal_sql_entry audited_inserts[DAL__SQL_SLOTS];   /* an INSERT with its audit row (DAL_CAP_WRITABLE_CTE) */
	dal_sql_entry updates[DAL__SQL_SLOTS];
	dal_select_entry selects[DAL__SQL_SLOTS];
	dal_value *scratch;             /* ncolumns values for reading a row */
	bool *created_mask;             /* the columns a CREATE's audit values record: all but id */
	char *sql_get_lock, *sql_get_any_lock;  /* the old row of an audited write, locked where rows lock */
	dal__audit_ctx audit_ctx;
	bool has_audit_ctx;             /* set by dal_repo_set_context: it wins over a unit's */
	struct dal__cache_tab *cache_tab;  /* the table in the db's read cache; NULL when it is off */
	uint64_t unit;                  /* opened in this unit of work (dal_uow_repo); 0: none */
};

/* dal_repo_open() for a repository bound to the unit of work named `unit` (0: none). */
int dal__repo_open_in(dal_repo **out, dal_db *db, const dal_model *model, unsigned flags, uint64_t unit);
/* Open the session a call of `repo` runs in (dal__session_open() flags); DAL_EINVAL
 * for a repository whose unit of work has ended. */
int dal__repo_session(dal_session *s, dal_repo *repo, unsigned flags);

/* The context of the repository's audit rows: its own, else its unit of work's, else none. */
const dal__audit_ctx *dal__repo_audit_ctx(const dal_repo *repo);

/* A create is given ids (`n` values, `stride` apart; `what` names the call in messages):
 * move the table's id sequence past the largest, before the insert (dialect
 * id_seq_past_sql). DAL_EUNSUPPORTED if the engine cannot move it that far. */
int dal__repo_ids_given(dal_repo *repo, dal_session *s, const char *what, const dal_value *ids, size_t stride,
                        size_t n);

/* dal_repo_find() on an open session: the rows go to `rows` (pushed, in result order). */
int dal__repo_find_in(dal_rows *rows, dal_repo *repo, dal_session *s, const dal_criteria *c);
/* A bulk call outside any unit of work changed `changed` rows of the repository's
 * table: refresh the planner's statistics where the engine needs it (repo/stats.c).
 * Never fails: a failure is logged. */
void dal__repo_stats_after_bulk(dal_repo *repo, int64_t changed);
/* Read the current row of `stmt` (every model column, in order) into a new or reused row. */
int dal__repo_read_row(dal_row **row, dal_repo *repo, dal_stmt *stmt);
/* The write statement of a call, as dal__repo_run(): from here on a failure must undo it. */
int dal__repo_write(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                    const dal_value *params, size_t n, const bool *redact);
/* A write of the call has run: the test failure point "repo.after_write" (util/fault.h). */
int dal__repo_wrote(const dal_repo *repo, const dal_session *s);
/* Run SQL with params on the session; the first row (if any) goes to *out. ENOTFOUND if none and out wanted. */
int dal__repo_run(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                  const dal_value *params, size_t n);
/* As dal__repo_run(); `redact` (NULL: none) flags the params that hold DAL_SENSITIVE values. */
int dal__repo_run_redacted(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                           const dal_value *params, size_t n, const bool *redact);

#endif
