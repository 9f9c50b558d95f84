/**
 * @file dal/repo.h
 * @brief dal_repo: the generic repository over one model.
 *
 * Constructor dal_repo_open(), destructor dal_repo_close(). One thread at a time.
 *
 * Outside a unit of work each call runs in its own transaction. Soft-deleted
 * rows (deleted_at set) are invisible to get, find, each, count, exists and
 * paginate unless include_deleted is set. Column names in fields, filters and
 * order must be the model's; anything else is DAL_EINVAL before any SQL is built.
 */
#ifndef DAL_REPO_H
#define DAL_REPO_H

#include "dal/common.h"
#include "dal/criteria.h"
#include "dal/db.h"
#include "dal/model.h"
#include "dal/row.h"
#include "dal/rows.h"
#include "dal/value.h"

DAL_BEGIN_DECLS

typedef struct dal_repo dal_repo;

/** Repository flags. */
typedef enum dal_repo_flag {
	DAL_AUDIT = 1u << 0,  /**< record every change in audit_logs (docs/audit.md) */
	DAL_CACHE = 1u << 1   /**< serve dal_repo_get from the db's read cache (docs/cache.md) */
} dal_repo_flag;

/** A column and its value, for create and update. */
typedef struct dal_field {
	const char *column;
	dal_value value;
} dal_field;

#define DAL_FIELD(col, val) { (col), (val) }

#ifndef __cplusplus
/**
 * Fields written in place, for the `fields, nfields` pair of create, update and
 * find_by (C only: a compound literal):
 * `dal_repo_create(&row, repo, DAL_FIELDS(DAL_FIELD("name", dal_text("Ann"))))`.
 */
#define DAL_FIELDS(...) ((const dal_field[]){ __VA_ARGS__ }), \
	(sizeof((const dal_field[]){ __VA_ARGS__ }) / sizeof(dal_field))
#endif

/**
 * Open a repository.
 *
 * @param out   the repository; owned by the caller, close with dal_repo_close(). NULL on failure.
 * @param db    the database (borrowed: must outlive the repository)
 * @param model the table (borrowed: must outlive the repository); checked with dal_model_validate()
 * @param flags dal_repo_flag bits
 * @return DAL_OK; DAL_EINVAL for a NULL argument or an invalid model; DAL_ENOMEM.
 */
DAL_API int dal_repo_open(dal_repo **out, dal_db *db, const dal_model *model, unsigned flags);

/** Close a repository. NULL is a no-op. */
DAL_API void dal_repo_close(dal_repo *repo);

/**
 * Insert a row. id, created_at and updated_at are filled by dal when not given. A
 * given id moves the table's id sequence past it, so later ids never repeat it.
 *
 * @param out    the stored row with its id and defaults; owned, free with dal_row_free(). May be NULL.
 * @param fields values by column name (copied for the call)
 * @return DAL_OK; DAL_EINVAL for an unknown column or a value of the wrong type (naming
 *         both); DAL_ECONSTRAINT for NULL in a not-null column or a duplicate unique value;
 *         DAL_EUNSUPPORTED for a given id the engine cannot move its id sequence past
 *         (DuckDB: more than 2^24 ahead of it; docs/engines.md); DAL_ECONN, DAL_EBUSY from the engine.
 */
DAL_API int dal_repo_create(dal_row **out, dal_repo *repo, const dal_field *fields, size_t nfields);

/**
 * Read one live row by primary key. With DAL_CACHE and outside a unit of work the
 * row may come from the db's read cache (a copy; docs/cache.md).
 *
 * @param out the row; owned by the caller, free with dal_row_free(). NULL on failure.
 * @return DAL_OK; DAL_ENOTFOUND if absent or soft-deleted; DAL_ECONN, DAL_EBUSY from the engine.
 */
DAL_API int dal_repo_get(dal_row **out, dal_repo *repo, int64_t id);

/**
 * Change some columns of a live row; updated_at is set to now.
 *
 * @param out the new row; owned, free with dal_row_free(). May be NULL.
 * @return DAL_OK; DAL_ENOTFOUND if absent or soft-deleted; DAL_EINVAL for an unknown
 *         column, the id column, a wrong type or no fields; DAL_ECONSTRAINT.
 */
DAL_API int dal_repo_update(dal_row **out, dal_repo *repo, int64_t id, const dal_field *fields, size_t nfields);

/**
 * Delete a row: soft (set deleted_at) or hard (remove for good; also a soft-deleted row).
 *
 * @return DAL_OK; DAL_ENOTFOUND if there is no such (live, for soft) row;
 *         DAL_EUNSUPPORTED for soft on a model without deleted_at.
 */
DAL_API int dal_repo_delete(dal_repo *repo, int64_t id, bool soft);

/**
 * Bring a soft-deleted row back: deleted_at is cleared and updated_at set to now.
 *
 * @param out the restored row, as dal_repo_get() would now read it; owned, free with
 *            dal_row_free(). May be NULL.
 * @return DAL_OK; DAL_ENOTFOUND if absent; DAL_EINVAL if the row is not deleted;
 *         DAL_EUNSUPPORTED on a model without deleted_at; DAL_ECONSTRAINT if a live row
 *         now holds one of its unique values.
 */
DAL_API int dal_repo_restore(dal_row **out, dal_repo *repo, int64_t id);

/**
 * Rows matching @p criteria (NULL: all live rows by id).
 *
 * @param out the rows; owned, free with dal_rows_free(). NULL on failure.
 * @return DAL_OK (also for no rows); DAL_EINVAL for an unknown column, a negative
 *         limit or offset, or a filter value of the wrong type.
 */
DAL_API int dal_repo_find(dal_rows **out, dal_repo *repo, const dal_criteria *criteria);

/**
 * Called by dal_repo_each() per row; the row is borrowed for the call. Non-zero stops.
 * What a dal call made from it does: see dal_repo_each().
 */
typedef int (*dal_repo_row_cb)(const dal_row *row, void *payload);

/**
 * Every live row by id, @p limit from @p offset: dal_repo_find() with only those set.
 *
 * @param limit  0 = no limit
 * @return as dal_repo_find(): DAL_EINVAL for a negative limit or offset.
 */
DAL_API int dal_repo_all(dal_rows **out, dal_repo *repo, int64_t limit, int64_t offset);

/**
 * Live rows whose columns equal the given values (all of them: AND), by id. A
 * DAL_TYPE_NULL value matches rows where that column IS NULL. No fields: every live row.
 * For other operators, order or a limit, use dal_repo_find() (DAL_CRITERIA_WHERE).
 *
 * @param equal  @p nequal columns and values (borrowed for the call)
 * @return as dal_repo_find(): DAL_EINVAL for an unknown column (naming it) or a value
 *         of the wrong type.
 */
DAL_API int dal_repo_find_by(dal_rows **out, dal_repo *repo, const dal_field *equal, size_t nequal);

/**
 * Stream matching rows to @p callback in constant memory.
 *
 * A dal call on the same dal_db from inside the callback, the same on every engine
 * (docs/threading.md): outside a unit of work it runs on another pooled connection,
 * and fails at once with DAL_EINVAL, instead of waiting for the pool, when this
 * thread's callbacks already hold every connection the pool may open (an SQLite
 * :memory: database has one). In a unit of work the rows stream on the unit's
 * connection: every call on that dal_db that would use it (repository calls,
 * dal_exec(), dal_query(), dal_query_each(), dal_uow_begin(), dal_uow_commit(),
 * dal_uow_rollback()) fails at once with DAL_EINVAL and leaves the stream and the
 * unit as they were. Instead, collect the ids in the callback and make the calls
 * after dal_repo_each() returns, or read the rows with dal_repo_find() first.
 *
 * @return DAL_OK; the callback's non-zero value if it stopped; errors as dal_repo_find().
 */
DAL_API int dal_repo_each(dal_repo *repo, const dal_criteria *criteria, dal_repo_row_cb callback, void *payload);

/** Where a page sits in the whole result. */
typedef struct dal_page {
	int64_t total;        /**< rows matching the filters, within the criteria's limit/offset window if set */
	int64_t page;         /**< from 1 */
	int64_t page_size;
	int64_t total_pages;  /**< ceil(total / page_size); 0 when total is 0 */
} dal_page;

/**
 * One page of matching rows and where it sits. A page past the end is empty, not an error.
 * Count and page are read by one statement (one snapshot on every engine), so they agree.
 *
 * @param rows_out the page's rows; owned, free with dal_rows_free(). NULL on failure.
 * @param page_out totals
 * @param page     from 1
 * @param page_size 1 .. config max_page_size
 * @return DAL_OK; DAL_EINVAL for page < 1, page_size out of range or bad criteria.
 */
DAL_API int dal_repo_paginate(dal_rows **rows_out, dal_page *page_out, dal_repo *repo,
                              const dal_criteria *criteria, int64_t page, int64_t page_size);

/**
 * One page of matching rows without counting every match: dal_repo_paginate()'s page
 * (the same rows, the same criteria window), and whether another page follows, read
 * as one row more than the page. Its cost follows the page's offset, not the
 * number of matches, where the exact total costs a count of them all: use it for
 * large tables, and keyset pages (criteria.after) for deep walks (docs/reads.md).
 *
 * @param rows_out the page's rows; owned, free with dal_rows_free(). NULL on failure.
 * @param more_out true if at least one matching row follows the page
 * @return as dal_repo_paginate().
 */
DAL_API int dal_repo_paginate_uncounted(dal_rows **rows_out, bool *more_out, dal_repo *repo,
                                        const dal_criteria *criteria, int64_t page, int64_t page_size);

/**
 * Count matching rows (limit and offset ignored).
 *
 * @return DAL_OK; errors as dal_repo_find().
 */
DAL_API int dal_repo_count(int64_t *out, dal_repo *repo, const dal_criteria *criteria);

/**
 * Whether a live row with this id exists (any row with include_deleted).
 *
 * @return DAL_OK; errors from the engine.
 */
DAL_API int dal_repo_exists(bool *out, dal_repo *repo, int64_t id, bool include_deleted);

/*
 * Bulk operations. Each call is atomic: all rows or none; inside a unit of work
 * it joins the unit, and a failure undoes only the call (on DuckDB, which has no
 * savepoints, the unit can then only roll back). Every value is checked before
 * any SQL is sent. Errors name the row index (from 0) where they can be told:
 * "bulk create of 'users': row 500: ...". Large inputs go to the engine in
 * chunks, so the memory dal adds stays bounded. Fast paths: SQLite one
 * transaction and one reused prepared statement; PostgreSQL COPY and set-based
 * UPDATE/DELETE; DuckDB the Appender and set-based UPDATE/DELETE. On a
 * repository opened with DAL_AUDIT each call writes one BULK_CREATE, BULK_UPDATE
 * or BULK_DELETE audit row per entity it changed, in the call's transaction
 * (dal/audit.h); an update or delete then first reads the old rows, set-based.
 */

/**
 * Insert many rows. id, created_at and updated_at are filled as by dal_repo_create(),
 * and given ids move the id sequence as there.
 *
 * @param ids_out  NULL, or an array of @p nrows: the new ids, in input order
 * @param repo     the repository (one thread at a time)
 * @param columns  @p ncolumns column names (copied for the call)
 * @param values   row-major, @p nrows x @p ncolumns (copied for the call); DAL_TYPE_NULL for NULL
 * @param nrows    0 is a no-op once the columns are checked
 * @return DAL_OK; DAL_EINVAL for an unknown or repeated column, a value of the wrong
 *         type or too long (naming the column and row), a NULL array; DAL_ECONSTRAINT
 *         for NULL in a not-null column or a duplicate unique value (naming the row
 *         where the engine tells it); DAL_EUNSUPPORTED (also for given ids as by
 *         dal_repo_create()); DAL_ECONN, DAL_EBUSY from the engine.
 */
DAL_API int dal_repo_bulk_create(int64_t *ids_out, dal_repo *repo, const char *const *columns, size_t ncolumns,
                                 const dal_value *values, size_t nrows);

/**
 * dal_repo_bulk_create() that hands back the stored rows (ids, defaults, timestamps)
 * in input order, read in the call's transaction. Costs one more read of the new rows.
 *
 * @param out the rows; owned, free with dal_rows_free(). NULL on failure.
 * @return as dal_repo_bulk_create().
 */
DAL_API int dal_repo_bulk_create_rows(dal_rows **out, dal_repo *repo, const char *const *columns, size_t ncolumns,
                                      const dal_value *values, size_t nrows);

/**
 * Change the same columns of many live rows: row i of @p values goes to @p ids[i];
 * updated_at is set to now unless given. Ids that are absent or soft-deleted are
 * left alone (not an error): @p count_out says how many rows changed.
 *
 * @param count_out NULL, or the number of rows changed
 * @param ids       @p nrows ids, no id twice
 * @param columns   @p ncolumns column names, not id; different calls may use different columns
 * @param values    row-major, @p nrows x @p ncolumns
 * @return DAL_OK; DAL_EINVAL for no columns, the id column, an unknown or repeated
 *         column, a wrong or too long value, an id given twice (naming the row);
 *         DAL_ECONSTRAINT; DAL_EUNSUPPORTED; DAL_ECONN, DAL_EBUSY from the engine.
 */
DAL_API int dal_repo_bulk_update(int64_t *count_out, dal_repo *repo, const int64_t *ids,
                                 const char *const *columns, size_t ncolumns, const dal_value *values,
                                 size_t nrows);

/**
 * Delete many rows: soft (set deleted_at on the live ones) or hard (remove for good,
 * soft-deleted ones too). Absent ids are not an error; repeated ids count once.
 *
 * @param count_out NULL, or the number of rows deleted
 * @param ids       @p n ids (copied for the call)
 * @param soft      true: soft delete (dal_repo_restore() brings a row back)
 * @return DAL_OK; DAL_EINVAL for NULL @p ids with n > 0; DAL_EUNSUPPORTED for soft on a
 *         model without deleted_at; DAL_ECONN, DAL_EBUSY from the engine.
 */
DAL_API int dal_repo_bulk_delete(int64_t *count_out, dal_repo *repo, const int64_t *ids, size_t n, bool soft);

/*
 * The read cache (DAL_CACHE; docs/cache.md). Every repository of a dal_db, with
 * DAL_CACHE or without, drops the rows it writes from the cache when its write
 * commits. Raw SQL (dal_exec) and other programs do not: after such a write, say
 * which rows changed with these calls, or wait for the cache's TTL.
 */

/**
 * Drop the cached row @p id of the repository's table, for every repository of its
 * dal_db. Inside a unit of work the row is kept out of the cache until the unit ends
 * and dropped if it commits: call it in the unit that makes the raw write.
 *
 * @param repo the repository (with or without DAL_CACHE)
 * @param id   primary key; an id that is not cached is not an error
 * @return DAL_OK; DAL_EINVAL if repo is NULL.
 */
DAL_API int dal_repo_invalidate(dal_repo *repo, int64_t id);

/**
 * Drop every cached row of the repository's table, as dal_repo_invalidate() does for one.
 *
 * @return DAL_OK; DAL_EINVAL if repo is NULL.
 */
DAL_API int dal_repo_invalidate_all(dal_repo *repo);

/** The repository's model (borrowed). */
DAL_API const dal_model *dal_repo_model(const dal_repo *repo);

DAL_END_DECLS

#endif
