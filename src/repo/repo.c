/* Create, get, update, delete, restore, exists. */
#include "repo/repo.h"

#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "conn.h"
#include "repo/undo.h"
#include "row.h"
#include "sql/build.h"
#include "uow.h"
#include "util/fault.h"

/* The text a builder made in `s` (its result: `error`), kept as an owned string. */
static int keep(char **out, dal_str *s, int error)
{
	if (error == 0 && !(*out = dal__str_detach(s)))
		error = DAL_ENOMEM;
	dal__str_dispose(s);
	return error;
}

static int build_get(char **out, const dal_repo *repo, bool live_only, bool lock)
{
	dal_str s = DAL_STR_INIT;

	return keep(out, &s, dal__sql_get(&s, repo->db->drv->dialect, repo->model, live_only, lock));
}

static int build_exists(char **out, const dal_repo *repo, bool live_only)
{
	dal_str s = DAL_STR_INIT;

	return keep(out, &s, dal__sql_exists(&s, repo->db->drv->dialect, repo->model, live_only));
}

static int build_update(char **out, const dal_repo *repo, const bool *set, int deleted, bool returning)
{
	dal_str s = DAL_STR_INIT;

	return keep(out, &s, dal__sql_update(&s, repo->db->drv->dialect, repo->model, set, deleted, returning));
}

static int build_delete(char **out, const dal_repo *repo)
{
	dal_str s = DAL_STR_INIT;

	return keep(out, &s, dal__sql_delete(&s, repo->db->drv->dialect, repo->model));
}

/* The statements whose text never changes are built when the repository opens. */
static int build_fixed(dal_repo *repo)
{
	bool *set;
	int error;

	if ((error = build_get(&repo->sql_get, repo, true, false)) < 0 ||
	    (error = build_get(&repo->sql_get_any, repo, false, false)) < 0 ||
	    (error = build_exists(&repo->sql_exists, repo, true)) < 0 ||
	    (error = build_exists(&repo->sql_exists_any, repo, false)) < 0 ||
	    (error = build_delete(&repo->sql_delete, repo)) < 0)
		return error;
	/*
	 * An audited write reads the old row first. Where writers run at once and
	 * wait on row locks (PostgreSQL), the read locks the row so the recorded old
	 * values are the ones replaced; SQLite holds the write lock from BEGIN
	 * IMMEDIATE, and DuckDB fails the later of two conflicting writers at commit.
	 * A restore that hands back the row it read locks it too (soft models).
	 */
	if ((repo->flags & DAL_AUDIT) && (error = build_get(&repo->sql_get_lock, repo, true, true)) < 0)
		return error;
	if (((repo->flags & DAL_AUDIT) || repo->soft) &&
	    (error = build_get(&repo->sql_get_any_lock, repo, false, true)) < 0)
		return error;
	if (!repo->soft)
		return 0;
	if (!(set = calloc(repo->model->ncolumns, sizeof(bool))))
		return dal__error_nomem();
	set[repo->col_deleted] = true;
	if (repo->col_updated >= 0)
		set[repo->col_updated] = true;
	error = build_update(&repo->sql_soft_delete, repo, set, -1, false);
	if (error == 0)
		error = build_update(&repo->sql_restore, repo, set, 1, false);
	free(set);
	return error;
}

static bool has_unique(const dal_model *m)
{
	for (size_t i = 0; i < m->ncolumns; i++)
		if (m->columns[i].flags & DAL_UNIQUE)
			return true;
	return false;
}

int dal_repo_open(dal_repo **out, dal_db *db, const dal_model *model, unsigned flags)
{
	return dal__repo_open_in(out, db, model, flags, 0);
}

int dal__repo_open_in(dal_repo **out, dal_db *db, const dal_model *model, unsigned flags, uint64_t unit)
{
	dal_repo *repo;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(db);
	if ((error = dal_model_validate(model)) < 0)
		return error;
	if (!(repo = calloc(1, sizeof(*repo))) ||
	    !(repo->scratch = calloc(model->ncolumns, sizeof(dal_value))) ||
	    !(repo->created_mask = calloc(model->ncolumns, sizeof(bool)))) {
		if (repo)
			free(repo->scratch);
		free(repo);
		return dal__error_nomem();
	}
	repo->db = db;
	repo->model = model;
	repo->flags = flags;
	repo->unit = unit;
	repo->col_id = dal_model_column_index(model, "id");
	/* CREATE records every column as stored but the id, which is the audit row's resource_id. */
	for (size_t i = 0; i < model->ncolumns; i++)
		repo->created_mask[i] = (int)i != repo->col_id;
	repo->col_created = dal_model_column_index(model, "created_at");
	repo->col_updated = dal_model_column_index(model, "updated_at");
	repo->col_deleted = dal_model_column_index(model, "deleted_at");
	repo->soft = dal_model_soft_delete(model);
	repo->check_unique = repo->soft && !(db->drv->caps & DAL_CAP_PARTIAL_INDEX) && has_unique(model);
	/* Every repository, cached or not, tells the cache what it writes. */
	if ((error = dal__cache_table(&repo->cache_tab, db->cache, model->table)) < 0 ||
	    (error = build_fixed(repo)) < 0) {
		dal_repo_close(repo);
		return error;
	}
	*out = repo;
	return 0;
}

void dal_repo_close(dal_repo *repo)
{
	size_t i;

	if (!repo)
		return;
	for (i = 0; i < DAL__SQL_SLOTS; i++) {
		free(repo->inserts[i].sql);
		free(repo->audited_inserts[i].sql);
		free(repo->updates[i].sql);
		free(repo->selects[i].sql);
	}
	free(repo->sql_get);
	free(repo->sql_get_any);
	free(repo->sql_exists);
	free(repo->sql_exists_any);
	free(repo->sql_delete);
	free(repo->sql_soft_delete);
	free(repo->sql_restore);
	free(repo->sql_get_lock);
	free(repo->sql_get_any_lock);
	dal__audit_ctx_free(&repo->audit_ctx);
	free(repo->scratch);
	free(repo->created_mask);
	free(repo);
}

const dal_model *dal_repo_model(const dal_repo *repo)
{
	return repo ? repo->model : NULL;
}

int dal__repo_read_row(dal_row **row, dal_repo *repo, dal_stmt *stmt)
{
	const dal_model *m = repo->model;
	size_t i;
	int error;

	for (i = 0; i < m->ncolumns; i++) {
		dal_value v;
		if ((error = stmt->conn->drv->column(stmt, (int)i, &v)) < 0)
			return error;
		if ((error = dal__value_to_column(&repo->scratch[i], m, i, &v)) < 0)
			return error;
	}
	if (!*row && (error = dal_row_new(row, m)) < 0)
		return error;
	return dal__row_fill(*row, repo->scratch, m->ncolumns);
}

/* A repository of a unit of work must not quietly go on in autocommit (or in
 * another unit, or from the cache) once its unit ended. */
static int check_unit(const dal_repo *repo)
{
	if (!repo->unit || dal__uow_open(repo->db, repo->unit))
		return 0;
	return dal__error(DAL_EINVAL, "repository of '%s' was opened in a unit of work (dal_uow_repo) that has "
		"ended or belongs to another thread; open a repository with dal_repo_open, or in the current unit",
		repo->model->table);
}

int dal__repo_session(dal_session *s, dal_repo *repo, unsigned flags)
{
	int error;

	memset(s, 0, sizeof(*s));
	if ((error = check_unit(repo)) < 0)
		return error;
	if ((error = dal__session_open(s, repo->db, flags)) < 0)
		return error;
	/* Every repository write joins its unit here: a unit's audit context that this
	 * write cannot record must not be dropped without a word. */
	if ((flags & (DAL__SESSION_WRITE | DAL__SESSION_WRITE_MANY)) && !(repo->flags & DAL_AUDIT) &&
	    dal__session_in_unit(s))
		dal__uow_warn_unaudited(repo->db, repo->model->table);
	return 0;
}

/* `ran`: the engine executed the statement (it returned a row or finished), so a
 * failure after that point, reading the row back, leaves its change in place. */
static int run_statement(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                         const dal_value *params, size_t n, const bool *redact, bool *ran)
{
	dal_stmt *stmt = NULL;
	int error;

	*ran = false;
	if ((error = dal__conn_prepare(&stmt, s->conn, sql, 0)) < 0)
		return error;
	error = dal__stmt_exec_redacted(stmt, params, n, redact);
	*ran = error == DAL__ROW || error == DAL__DONE;
	if (error == DAL__DONE && out)
		error = DAL_ENOTFOUND;
	else if (error == DAL__ROW && out && (error = dal__repo_read_row(out, repo, stmt)) == 0)
		error = DAL__ROW;
	error = dal__stmt_drain(stmt, error, changes);
	dal__stmt_release(stmt);
	return error;
}

int dal__repo_write(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                    const dal_value *params, size_t n, const bool *redact)
{
	bool ran;
	int error;

	/* A statement that failed was undone by the engine (or, on PostgreSQL, aborted the
	 * transaction, which then refuses every later call): only one the engine ran has
	 * changed something a later failure of this call would leave behind. */
	error = run_statement(out, changes, repo, s, sql, params, n, redact, &ran);
	if (ran)
		dal__session_wrote(s);
	if (error < 0)
		return error;
	return dal__repo_wrote(repo, s);
}

int dal__repo_wrote(const dal_repo *repo, const dal_session *s)
{
	/* A statement in autocommit has nothing after it but reading its row back. */
	if ((s->began || s->scoped) && dal__fault("repo.after_write"))
		return dal__error(DAL_ERROR, "failure injected after the write to '%s'", repo->model->table);
	return 0;
}

int dal__repo_run(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                  const dal_value *params, size_t n)
{
	return dal__repo_run_redacted(out, changes, repo, s, sql, params, n, NULL);
}

int dal__repo_run_redacted(dal_row **out, int64_t *changes, dal_repo *repo, dal_session *s, const char *sql,
                           const dal_value *params, size_t n, const bool *redact)
{
	bool ran;

	return run_statement(out, changes, repo, s, sql, params, n, redact, &ran);
}

/* ---- field checks ---- */

/* Check the fields and lay them out in model order: vals[col], set[col]. */
static int lay_out(dal_repo *repo, const dal_field *fields, size_t n, dal_value *vals, bool *set)
{
	const dal_model *m = repo->model;
	size_t k;
	int error;

	if (n && !fields)
		return dal__error(DAL_EINVAL, "invalid argument: 'fields' is NULL with %zu fields", n);
	for (k = 0; k < n; k++) {
		int i = fields[k].column ? dal_model_column_index(m, fields[k].column) : -1;
		if (i < 0)
			return dal__error(DAL_EINVAL, "table '%s' has no column '%s'", m->table,
				fields[k].column ? fields[k].column : "(null)");
		if (set[i])
			return dal__error(DAL_EINVAL, "column '%s.%s' is given twice", m->table, fields[k].column);
		if ((error = dal__value_to_column(&vals[i], m, (size_t)i, &fields[k].value)) < 0 ||
		    (error = dal__value_check(m, (size_t)i, &vals[i])) < 0)
			return error;
		set[i] = true;
	}
	return 0;
}

static uint64_t mask_of(const bool *set, size_t n)
{
	uint64_t mask = 0;
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		mask |= (uint64_t)set[i] << i;
	return n > 64 ? 0 : mask;
}

/* The INSERT or UPDATE text for this column set, built once. */
enum { SQL_INSERT, SQL_UPDATE_RETURNING, SQL_UPDATE, SQL_INSERT_AUDITED };

static int sql_for(const char **out, char **tmp, dal_repo *repo, dal_sql_entry *slots, const bool *set, int kind)
{
	uint64_t mask = repo->model->ncolumns < 64 ? mask_of(set, repo->model->ncolumns) : 0;
	bool insert = kind == SQL_INSERT || kind == SQL_INSERT_AUDITED;

	/* The top bit tells an UPDATE without RETURNING from one with it. */
	if (mask && kind == SQL_UPDATE)
		mask |= 1ULL << 63;
	dal_str s = DAL_STR_INIT;
	size_t i;
	int error;

	for (i = 0; mask && i < DAL__SQL_SLOTS && slots[i].sql; i++)
		if (slots[i].mask == mask) {
			*out = slots[i].sql;
			return 0;
		}
	error = insert ? dal__sql_insert(&s, repo->db->drv->dialect, repo->model, set)
	               : dal__sql_update(&s, repo->db->drv->dialect, repo->model, set, -1, kind == SQL_UPDATE_RETURNING);
	if (error == 0 && kind == SQL_INSERT_AUDITED) {
		dal_str w = DAL_STR_INIT;
		error = dal__sql_audit_create(&w, s.ptr);
		dal__str_dispose(&s);
		s = w;
	}
	if ((error = keep(tmp, &s, error)) < 0)
		return error;
	if (mask && i < DAL__SQL_SLOTS) {
		slots[i].mask = mask;
		slots[i].sql = *tmp;
		*tmp = NULL;
		*out = slots[i].sql;
	} else {
		*out = *tmp;
	}
	return 0;
}

/* Without partial indexes, unique-among-live-rows is checked inside the write's transaction. */
static int check_unique(dal_repo *repo, dal_session *s, const dal_value *vals, const bool *set, int64_t self)
{
	const dal_model *m = repo->model;
	size_t i;
	int error = 0;

	for (i = 0; i < m->ncolumns && error == 0; i++) {
		dal_str sql = DAL_STR_INIT;
		dal_value p[2] = { vals[i], dal_int(self) };
		bool redact[2] = { (m->columns[i].flags & DAL_SENSITIVE) != 0, false };
		int64_t one = 0;
		bool found = false;
		if (!(m->columns[i].flags & DAL_UNIQUE) || !set[i] || vals[i].type == DAL_TYPE_NULL)
			continue;
		error = dal__sql_unique_probe(&sql, repo->db->drv->dialect, m, (int)i);
		error = error ? error : dal__conn_scalar(&one, &found, s->conn, sql.ptr, p, 2, redact);
		dal__str_dispose(&sql);
		if (error == 0 && found)
			error = dal__error(DAL_ECONSTRAINT, "duplicate value for unique column '%s.%s' (among live rows)",
				m->table, m->columns[i].name);
	}
	return error;
}

static bool needs_unique_check(const dal_repo *repo, const bool *set)
{
	size_t i;

	if (!repo->check_unique)
		return false;
	for (i = 0; i < repo->model->ncolumns; i++)
		if (set[i] && (repo->model->columns[i].flags & DAL_UNIQUE))
			return true;
	return false;
}

/* Values of the set columns, in model order, then extra trailing params. */
static size_t pack(dal_value *params, const dal_value *vals, const bool *set, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (set[i])
			params[k++] = vals[i];
	return k;
}

typedef struct write_buf {
	dal_value *vals;
	dal_value *params;
	bool *set;
	bool *redact;   /* of params: DAL_SENSITIVE values, never echoed */
} write_buf;

static int write_buf_new(write_buf *b, size_t n)
{
	b->vals = calloc(n, sizeof(dal_value));
	b->params = calloc(n + 2, sizeof(dal_value));
	b->set = calloc(n, sizeof(bool));
	b->redact = calloc(n + 2 + DAL__AUDIT_CREATE_PARAMS, sizeof(bool));
	if (!b->vals || !b->params || !b->set || !b->redact)
		return dal__error_nomem();
	return 0;
}

static void write_buf_free(write_buf *b)
{
	free(b->vals);
	free(b->params);
	free(b->set);
	free(b->redact);
}

static void stamp(write_buf *b, int col, int64_t now)
{
	if (col >= 0 && !b->set[col]) {
		b->vals[col] = dal_timestamp(now);
		b->set[col] = true;
	}
}

/* created_at, updated_at (created_at's value) and every other DAL_DEFAULT_NOW column not given. */
static void stamp_created(write_buf *b, const dal_repo *repo, int64_t now)
{
	size_t i;

	stamp(b, repo->col_created, now);
	/* A model may have neither timestamp role: never index with -1. */
	stamp(b, repo->col_updated, repo->col_created >= 0 ? b->vals[repo->col_created].v.ts : now);
	for (i = 0; i < repo->model->ncolumns; i++)
		if (repo->model->columns[i].flags & DAL_DEFAULT_NOW)
			stamp(b, (int)i, now);
}

/* ---- read cache ---- */

/* Held from before the change (which may commit by itself) until its transaction ends. */
static void cache_hold(dal_repo *repo, dal_session *s, int64_t id)
{
	dal__cache_hold(s->tx, repo->cache_tab, &id, 1);
}

/* ---- audit ---- */

static bool audited(const dal_repo *repo)
{
	return (repo->flags & DAL_AUDIT) != 0;
}

const dal__audit_ctx *dal__repo_audit_ctx(const dal_repo *repo)
{
	const dal__audit_ctx *u;

	if (repo->has_audit_ctx)
		return &repo->audit_ctx;
	u = dal__uow_audit_ctx(repo->db);
	return u ? u : &repo->audit_ctx;
}

/* One audit row: old and new values are whole rows (model order) with masks of the columns to record. */
static int audit_one(dal_repo *repo, dal_session *s, const char *action, int64_t id,
                     const dal_value *old_vals, const bool *old_mask, const dal_value *new_vals, const bool *new_mask)
{
	char *o = NULL, *n = NULL;
	int error = 0;

	if (old_vals)
		error = dal__audit_json(&o, repo->model, old_vals, old_mask);
	if (error == 0 && new_vals)
		error = dal__audit_json(&n, repo->model, new_vals, new_mask);
	if (error == 0) {
		dal__audit_rec r = { action, repo->model->table, id, o, n, 0 };
		error = dal__audit_write(s, dal__repo_audit_ctx(repo), &r, 1);
	}
	free(o);
	free(n);
	return error;
}

/* The live (or any) row `id`, read for an audited write: locked where rows lock. */
static int audit_old(dal_row **old, dal_repo *repo, dal_session *s, int64_t id, bool live)
{
	dal_value p = dal_int(id);

	return dal__repo_run(old, NULL, repo, s, live ? repo->sql_get_lock : repo->sql_get_any_lock, &p, 1);
}

/* ---- undo in nested units emulated without savepoints (repo/undo.h) ---- */

/* deleted_at and updated_at: what soft delete and restore change. */
static bool *stamp_mask(const dal_repo *repo)
{
	bool *set = calloc(repo->model->ncolumns, sizeof(bool));

	if (set) {
		set[repo->col_deleted] = true;
		if (repo->col_updated >= 0)
			set[repo->col_updated] = true;
	}
	return set;
}

/*
 * How to undo a change of row `id` about to be made: set back the columns of
 * `set` (NULL: deleted_at and updated_at), or insert the row back (`reinsert`).
 * `old` is the row when the caller has read it already; else it is read here
 * (live only with `live`). Nothing outside an emulated nested unit, or when
 * there is no such row (the change then changes nothing).
 */
static int undo_before(dal__undo_op **op, dal_repo *repo, dal_session *s, int64_t id, bool live, bool reinsert,
                       const bool *set, const dal_row *old)
{
	dal_row *row = NULL;
	dal_value p = dal_int(id);
	bool *stamps = NULL;
	int error = 0;

	*op = NULL;
	if (!s->tx->undo)
		return 0;
	if (!old) {
		error = dal__repo_run(&row, NULL, repo, s, live ? repo->sql_get : repo->sql_get_any, &p, 1);
		if (error < 0) {
			dal_row_free(row);   /* made before reading it failed */
			return error == DAL_ENOTFOUND ? 0 : error;
		}
		old = row;
	}
	if (!reinsert && !set && !(set = stamps = stamp_mask(repo)))
		error = dal__error_nomem();
	if (error == 0)
		error = dal__undo_row(op, repo->model, dal_row_at(old, 0), reinsert, set);
	if (error < 0)
		dal__undo_broken(s->tx);
	free(stamps);
	dal_row_free(row);
	return error;
}

static int audit_created(dal_repo *repo, dal_session *s, const dal_row *row)
{
	return audit_one(repo, s, "CREATE", dal_row_int(row, "id"), NULL, NULL, dal_row_at(row, 0),
		repo->created_mask);
}

/*
 * Whether an audited create can go as one statement (DAL_CAP_WRITABLE_CTE):
 * in no unit of work (there the audit row waits for the commit) and only when
 * dal knows every stored value beforehand: no JSON column (the engine re-prints
 * documents). No default is left to the database: dal stamps every DAL_DEFAULT_NOW
 * column itself (stamp_created).
 */
static bool create_in_one(const dal_repo *repo)
{
	const dal_model *m = repo->model;
	size_t i;

	if (!audited(repo) || !(repo->db->drv->caps & DAL_CAP_WRITABLE_CTE) || dal__uow_tx(repo->db))
		return false;
	for (i = 0; i < m->ncolumns; i++)
		if (m->columns[i].type == DAL_TYPE_JSON)
			return false;
	return true;
}

static int create_audited_in_one(dal_row **row, dal_repo *repo, dal_session *s, const write_buf *b)
{
	size_t n = repo->model->ncolumns, k;
	const char *sql = NULL;
	char *tmp = NULL, *json = NULL, content[65];
	dal_value *p = calloc(n + DAL__AUDIT_CREATE_PARAMS, sizeof(dal_value));
	int error = !p ? dal__error_nomem() : 0;

	error = error ? error : sql_for(&sql, &tmp, repo, repo->audited_inserts, b->set, SQL_INSERT_AUDITED);
	error = error ? error : dal__audit_json(&json, repo->model, b->vals, repo->created_mask);
	if (error == 0) {
		k = pack(p, b->vals, b->set, n);
		error = dal__audit_create_params(p + k, content, dal__repo_audit_ctx(repo), repo->model->table, json,
			dal_now());
		error = error ? error : dal__repo_write(row, NULL, repo, s, sql, p, k + DAL__AUDIT_CREATE_PARAMS, b->redact);
	}
	free(json);
	free(tmp);
	free(p);
	return error;
}

int dal_repo_create(dal_row **out, dal_repo *repo, const dal_field *fields, size_t nfields)
{
	write_buf b = { 0 };
	dal_session s = { 0 };
	const char *sql = NULL;
	char *tmp = NULL;
	dal_row *row = NULL;
	size_t n;
	int error;
	bool unique, one;

	if (out)
		*out = NULL;
	DAL_ASSERT_ARG(repo);
	n = repo->model->ncolumns;
	if ((error = write_buf_new(&b, n)) < 0 || (error = lay_out(repo, fields, nfields, b.vals, b.set)) < 0)
		goto done;
	stamp_created(&b, repo, dal_now());
	dal__redact_of(b.redact, repo->model, b.set);
	unique = needs_unique_check(repo, b.set);
	one = !unique && create_in_one(repo);
	if (!one && (error = sql_for(&sql, &tmp, repo, repo->inserts, b.set, SQL_INSERT)) < 0)
		goto done;
	if ((error = dal__repo_session(&s, repo, DAL__SESSION_WRITE | (unique || (audited(repo) && !one) ?
	                               DAL__SESSION_TX | DAL__TX_WRITE : 0))) < 0)
		goto done;
	if (unique)
		error = check_unique(repo, &s, b.vals, b.set, INT64_MIN);
	if (error == 0 && b.set[repo->col_id])
		error = dal__repo_ids_given(repo, &s, "create", &b.vals[repo->col_id], 1, 1);
	if (error == 0 && one)
		error = create_audited_in_one(&row, repo, &s, &b);
	else if (error == 0)
		error = dal__repo_write(&row, NULL, repo, &s, sql, b.params, pack(b.params, b.vals, b.set, n), b.redact);
	if (error == 0 && s.tx->undo) {
		int64_t id = dal_row_int(row, "id");
		error = dal__undo_created(s.tx, repo->model, &id, 1);
	}
	/* A new id has no cached row to drop; held all the same, as by every write path. */
	if (error == 0)
		cache_hold(repo, &s, dal_row_int(row, "id"));
	if (error == 0 && audited(repo) && !one)
		error = audit_created(repo, &s, row);
	error = dal__session_close(&s, error);
done:
	if (error == 0 && out)
		*out = row;
	else
		dal_row_free(row);
	free(tmp);
	write_buf_free(&b);
	return error;
}

/*
 * A DAL_CACHE repository outside a unit of work reads through the shared cache.
 * Inside one it does not: the unit may see its own uncommitted writes, or an
 * older snapshot than the cache's.
 */
static bool from_cache(dal_row **out, dal__cache_ticket *t, dal_repo *repo, int64_t id)
{
	memset(t, 0, sizeof(*t));
	if (!(repo->flags & DAL_CACHE) || dal__uow_tx(repo->db))
		return false;
	return dal__cache_get(out, t, repo->cache_tab, repo->model, id) == 0;
}

int dal_repo_get(dal_row **out, dal_repo *repo, int64_t id)
{
	dal__cache_ticket ticket;
	dal_session s;
	dal_value p = dal_int(id);
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(repo);
	if ((error = check_unit(repo)) < 0)
		return error;
	if (from_cache(out, &ticket, repo, id))
		return 0;
	if ((error = dal__repo_session(&s, repo, 0)) < 0)
		return error;
	error = dal__repo_run(out, NULL, repo, &s, repo->sql_get, &p, 1);
	error = dal__session_close(&s, error);
	if (error == 0)
		dal__cache_fill(&ticket, *out);
	if (error == DAL_ENOTFOUND)
		error = dal__error(DAL_ENOTFOUND, "table '%s' has no live row with id %lld", repo->model->table, (long long)id);
	if (error < 0) {
		dal_row_free(*out);
		*out = NULL;
	}
	return error;
}

/* UPDATE: old and new values of the columns that changed, and the id. */
static int audit_update(dal_repo *repo, dal_session *s, int64_t id, const dal_row *old, const write_buf *b)
{
	size_t i, n = repo->model->ncolumns;
	const dal_value *ov = dal_row_at(old, 0);
	dal_value *nv = calloc(n, sizeof(dal_value));
	bool *mask = calloc(n, sizeof(bool));
	int error;

	if (!nv || !mask) {
		error = dal__error_nomem();
		goto done;
	}
	for (i = 0; i < n; i++) {
		nv[i] = b->set[i] ? b->vals[i] : ov[i];
		mask[i] = (int)i == repo->col_id || (b->set[i] && !dal_value_equal(&ov[i], &b->vals[i]));
	}
	error = audit_one(repo, s, "UPDATE", id, ov, mask, nv, mask);
done:
	free(nv);
	free(mask);
	return error;
}

int dal_repo_update(dal_row **out, dal_repo *repo, int64_t id, const dal_field *fields, size_t nfields)
{
	write_buf b = { 0 };
	dal_session s = { 0 };
	const char *sql = NULL;
	char *tmp = NULL;
	dal_row *row = NULL, *old = NULL;
	dal__undo_op *undo = NULL;
	int64_t changes = 0;
	size_t n, k;
	int error;
	bool unique, returning, reread;

	if (out)
		*out = NULL;
	DAL_ASSERT_ARG(repo);
	n = repo->model->ncolumns;
	returning = out && (repo->db->drv->caps & DAL_CAP_UPDATE_RETURNING);
	reread = out && !returning;
	if (nfields == 0)
		return dal__error(DAL_EINVAL, "update of '%s' id %lld: no fields given", repo->model->table, (long long)id);
	if ((error = write_buf_new(&b, n)) < 0 || (error = lay_out(repo, fields, nfields, b.vals, b.set)) < 0)
		goto done;
	if (b.set[repo->col_id]) {
		error = dal__error(DAL_EINVAL, "update of '%s': the id column cannot be changed", repo->model->table);
		goto done;
	}
	/* Soft delete and restore have their own calls and audit actions: an update must not stand in for them. */
	if (repo->soft && b.set[repo->col_deleted]) {
		error = dal__error(DAL_EINVAL, "update of '%s': deleted_at is set by dal_repo_delete and "
			"dal_repo_restore, not by an update", repo->model->table);
		goto done;
	}
	if (repo->col_updated >= 0 && !b.set[repo->col_updated])
		stamp(&b, repo->col_updated, dal_now());
	/* Without an out row there is nothing to return: a plain UPDATE is cheaper. */
	if ((error = sql_for(&sql, &tmp, repo, repo->updates, b.set, returning ? SQL_UPDATE_RETURNING : SQL_UPDATE)) < 0)
		goto done;
	k = pack(b.params, b.vals, b.set, n);
	b.params[k++] = dal_int(id);
	dal__redact_of(b.redact, repo->model, b.set);
	unique = needs_unique_check(repo, b.set);
	if ((error = dal__repo_session(&s, repo, DAL__SESSION_WRITE | (unique || reread || audited(repo) ?
	                               DAL__SESSION_TX | DAL__TX_WRITE : 0))) < 0)
		goto done;
	cache_hold(repo, &s, id);
	if (unique)
		error = check_unique(repo, &s, b.vals, b.set, id);
	if (error == 0 && audited(repo))
		error = audit_old(&old, repo, &s, id, true);
	if (error == 0)
		error = undo_before(&undo, repo, &s, id, true, false, b.set, old);
	if (error == 0)
		error = dal__repo_write(returning ? &row : NULL, &changes, repo, &s, sql, b.params, k, b.redact);
	if (error == 0 && !returning && changes == 0)
		error = DAL_ENOTFOUND;
	if (error == 0 && reread)
		error = dal__repo_run(&row, NULL, repo, &s, repo->sql_get_any, &b.params[k - 1], 1);
	if (error == 0) {
		dal__undo_push(s.tx, undo);
		undo = NULL;
	}
	if (error == 0 && audited(repo))
		error = audit_update(repo, &s, id, old, &b);
	error = dal__session_close(&s, error);
	if (error == DAL_ENOTFOUND)
		error = dal__error(DAL_ENOTFOUND, "table '%s' has no live row with id %lld", repo->model->table, (long long)id);
done:
	if (error == 0 && out)
		*out = row;
	else
		dal_row_free(row);
	dal_row_free(old);
	dal__undo_op_free(undo);
	free(tmp);
	write_buf_free(&b);
	return error;
}

/* Delete with its audit row: SOFT_DELETE records the old row and the new deleted_at
 * (and updated_at); DELETE the old row. */
static int delete_audited(dal_repo *repo, int64_t id, bool soft, const dal_value *p, size_t k)
{
	dal_session s;
	dal_row *old = NULL;
	dal__undo_op *undo = NULL;
	dal_value *nv = NULL;
	bool *mask = NULL;
	size_t n = repo->model->ncolumns;
	int error;

	if ((error = dal__repo_session(&s, repo, DAL__SESSION_WRITE | DAL__SESSION_TX | DAL__TX_WRITE)) < 0)
		return error;
	cache_hold(repo, &s, id);
	error = audit_old(&old, repo, &s, id, soft);
	if (error == 0)
		error = undo_before(&undo, repo, &s, id, soft, !soft, NULL, old);
	if (error == 0)
		error = dal__repo_write(NULL, NULL, repo, &s, soft ? repo->sql_soft_delete : repo->sql_delete, p, k, NULL);
	if (error == 0) {
		dal__undo_push(s.tx, undo);
		undo = NULL;
	}
	if (error == 0 && !soft)
		error = audit_one(repo, &s, "DELETE", id, dal_row_at(old, 0), NULL, NULL, NULL);
	if (error == 0 && soft) {
		if (!(nv = calloc(n, sizeof(dal_value))) || !(mask = calloc(n, sizeof(bool))))
			error = dal__error_nomem();
		if (error == 0) {
			memcpy(nv, dal_row_at(old, 0), n * sizeof(dal_value));
			nv[repo->col_deleted] = p[0];
			mask[repo->col_deleted] = true;
			if (repo->col_updated >= 0) {
				nv[repo->col_updated] = p[1];
				mask[repo->col_updated] = true;
			}
			error = audit_one(repo, &s, "SOFT_DELETE", id, dal_row_at(old, 0), NULL, nv, mask);
		}
	}
	error = dal__session_close(&s, error);
	if (error == DAL_ENOTFOUND)
		error = dal__error(DAL_ENOTFOUND, "table '%s' has no %srow with id %lld", repo->model->table,
			soft ? "live " : "", (long long)id);
	free(nv);
	free(mask);
	dal_row_free(old);
	dal__undo_op_free(undo);
	return error;
}

int dal_repo_delete(dal_repo *repo, int64_t id, bool soft)
{
	dal_session s;
	dal_value p[3];
	dal__undo_op *undo = NULL;
	int64_t changes = 0, now = dal_now();
	size_t k = 0;
	int error;

	DAL_ASSERT_ARG(repo);
	if (soft && !repo->soft)
		return dal__error(DAL_EUNSUPPORTED, "soft delete on '%s': the model has no deleted_at column",
			repo->model->table);
	if (soft) {
		p[k++] = dal_timestamp(now);
		if (repo->col_updated >= 0)
			p[k++] = dal_timestamp(now);
	}
	p[k++] = dal_int(id);
	if (audited(repo))
		return delete_audited(repo, id, soft, p, k);
	if ((error = dal__repo_session(&s, repo, DAL__SESSION_WRITE)) < 0)
		return error;
	cache_hold(repo, &s, id);
	error = undo_before(&undo, repo, &s, id, soft, !soft, NULL, NULL);
	if (error == 0)
		error = dal__repo_write(NULL, &changes, repo, &s, soft ? repo->sql_soft_delete : repo->sql_delete, p, k, NULL);
	if (error == 0 && changes > 0) {
		dal__undo_push(s.tx, undo);
		undo = NULL;
	}
	error = dal__session_close(&s, error);
	dal__undo_op_free(undo);
	if (error == 0 && changes == 0)
		error = dal__error(DAL_ENOTFOUND, "table '%s' has no %srow with id %lld", repo->model->table,
			soft ? "live " : "", (long long)id);
	return error;
}

/* The row restore wrote is the deleted one with deleted_at cleared and updated_at
 * stamped, both under the row lock the restore holds: no statement reads it back. */
static int restored_row(dal_row **out, dal_row **row, const dal_repo *repo, int64_t now)
{
	dal_value nul = dal_null(), at = dal_timestamp(now);
	int error;

	if ((error = dal_row_set(*row, repo->model->columns[repo->col_deleted].name, &nul)) < 0)
		return error;
	if (repo->col_updated >= 0 &&
	    (error = dal_row_set(*row, repo->model->columns[repo->col_updated].name, &at)) < 0)
		return error;
	*out = *row;
	*row = NULL;
	return 0;
}

/* The parameters of sql_restore; SET lists columns in model order. Returns how many. */
static size_t restore_params(dal_value *p, const dal_repo *repo, dal_value idv, int64_t now)
{
	size_t k = 0;

	if (repo->col_updated >= 0 && repo->col_updated < repo->col_deleted)
		p[k++] = dal_timestamp(now);
	p[k++] = dal_null();
	if (repo->col_updated > repo->col_deleted)
		p[k++] = dal_timestamp(now);
	p[k++] = idv;
	return k;
}

/*
 * A restore with nothing to read first (no audit row, no unique value that dal
 * checks): the UPDATE alone, one statement as a soft delete is. Only when it
 * changed nothing is the row read, to say whether it is missing or live.
 */
static int restore_direct(dal_repo *repo, dal_session *s, int64_t id)
{
	dal__undo_op *undo = NULL;
	dal_value p[3], idv = dal_int(id);
	dal_row *row = NULL;
	int64_t changes = 0;
	size_t k = restore_params(p, repo, idv, dal_now());
	int error;

	if ((error = undo_before(&undo, repo, s, id, false, false, NULL, NULL)) < 0)
		return error;
	error = dal__repo_write(NULL, &changes, repo, s, repo->sql_restore, p, k, NULL);
	if (error == 0 && changes > 0) {
		dal__undo_push(s->tx, undo);
		undo = NULL;
	} else if (error == 0) {
		error = dal__repo_run(&row, NULL, repo, s, repo->sql_get_any, &idv, 1);
		if (error == DAL_ENOTFOUND)
			error = dal__error(DAL_ENOTFOUND, "table '%s' has no row with id %lld", repo->model->table, (long long)id);
		else if (error == 0)
			error = dal__error(DAL_EINVAL, "restore: row %lld of '%s' is not deleted", (long long)id, repo->model->table);
	}
	dal__undo_op_free(undo);
	dal_row_free(row);
	return error;
}

/* The RESTORE audit row: deleted_at cleared and updated_at stamped on the row read. */
static int audit_restore(dal_repo *repo, dal_session *s, int64_t id, const dal_row *row, int64_t now)
{
	size_t n = repo->model->ncolumns;
	dal_value *nv = calloc(n, sizeof(dal_value));
	bool *mask = calloc(n, sizeof(bool));
	int error;

	if (!nv || !mask) {
		error = dal__error_nomem();
	} else {
		memcpy(nv, dal_row_at(row, 0), n * sizeof(dal_value));
		nv[repo->col_deleted] = dal_null();
		mask[repo->col_deleted] = true;
		if (repo->col_updated >= 0) {
			nv[repo->col_updated] = dal_timestamp(now);
			mask[repo->col_updated] = true;
		}
		error = audit_one(repo, s, "RESTORE", id, dal_row_at(row, 0), mask, nv, mask);
	}
	free(nv);
	free(mask);
	return error;
}

static int restore_in(dal_row **out, dal_repo *repo, dal_session *s, int64_t id)
{
	dal_row *row = NULL;
	dal__undo_op *undo = NULL;
	dal_value p[3], idv = dal_int(id);
	int64_t changes = 0, now = dal_now();
	size_t k = 0, i;
	bool *set = NULL;
	int error;

	/* Locked where it is recorded or handed back: it must be the row the UPDATE changes. */
	if ((error = dal__repo_run(&row, NULL, repo, s, audited(repo) || out ? repo->sql_get_any_lock : repo->sql_get_any,
	                           &idv, 1)) < 0) {
		if (error == DAL_ENOTFOUND)
			error = dal__error(DAL_ENOTFOUND, "table '%s' has no row with id %lld", repo->model->table, (long long)id);
		/* The row may have been made before reading it failed. */
		goto done;
	}
	if (dal_row_is_null(row, "deleted_at")) {
		error = dal__error(DAL_EINVAL, "restore: row %lld of '%s' is not deleted", (long long)id, repo->model->table);
		goto done;
	}
	if (repo->check_unique) {
		if (!(set = calloc(repo->model->ncolumns, sizeof(bool)))) {
			error = dal__error_nomem();
			goto done;
		}
		for (i = 0; i < repo->model->ncolumns; i++)
			set[i] = true;
		if ((error = check_unique(repo, s, dal_row_at(row, 0), set, id)) < 0)
			goto done;
	}
	k = restore_params(p, repo, idv, now);
	if ((error = undo_before(&undo, repo, s, id, false, false, NULL, row)) < 0)
		goto done;
	error = dal__repo_write(NULL, &changes, repo, s, repo->sql_restore, p, k, NULL);
	if (error == 0) {
		dal__undo_push(s->tx, undo);
		undo = NULL;
	}
	if (error == 0 && audited(repo))
		error = audit_restore(repo, s, id, row, now);
	if (error == 0 && out)
		error = restored_row(out, &row, repo, now);
done:
	dal__undo_op_free(undo);
	free(set);
	dal_row_free(row);
	return error;
}

int dal_repo_restore(dal_row **out, dal_repo *repo, int64_t id)
{
	dal_session s;
	bool direct;
	int error;

	if (out)
		*out = NULL;
	DAL_ASSERT_ARG(repo);
	if (!repo->soft)
		return dal__error(DAL_EUNSUPPORTED, "restore on '%s': the model has no deleted_at column",
			repo->model->table);
	/* The row to hand back is read before the change, under its lock: not direct. */
	direct = !out && !audited(repo) && !repo->check_unique;
	if ((error = dal__repo_session(&s, repo, direct ? DAL__SESSION_WRITE
	                                                : DAL__SESSION_WRITE | DAL__SESSION_TX | DAL__TX_WRITE)) < 0)
		return error;
	cache_hold(repo, &s, id);
	error = direct ? restore_direct(repo, &s, id) : restore_in(out, repo, &s, id);
	error = dal__session_close(&s, error);
	if (error < 0 && out) {
		dal_row_free(*out);
		*out = NULL;
	}
	return error;
}

int dal_repo_exists(bool *out, dal_repo *repo, int64_t id, bool include_deleted)
{
	dal_session s;
	dal_value p = dal_int(id);
	int64_t one = 0;
	int error;

	DAL_ASSERT_ARG(out);
	*out = false;
	DAL_ASSERT_ARG(repo);
	if ((error = dal__repo_session(&s, repo, 0)) < 0)
		return error;
	error = dal__conn_scalar(&one, out, s.conn, include_deleted ? repo->sql_exists_any : repo->sql_exists, &p, 1, NULL);
	error = dal__session_close(&s, error < 0 ? error : 0);
	if (error < 0)
		*out = false;
	return error;
}

/* Rows `ids` (NULL: the whole table) written by raw SQL: in a unit that write is not
 * committed yet, so they are held until the unit ends; else dropped now. */
static int invalidate(dal_repo *repo, const int64_t *ids, size_t n)
{
	dal__tx *tx;
	int error;

	DAL_ASSERT_ARG(repo);
	if ((error = check_unit(repo)) < 0)
		return error;
	if ((tx = dal__uow_tx(repo->db)) != NULL)
		dal__cache_hold(tx, repo->cache_tab, ids, n);
	else if (ids)
		dal__cache_invalidate(repo->cache_tab, ids, n);
	else
		dal__cache_invalidate_all(repo->cache_tab);
	return 0;
}

int dal_repo_invalidate(dal_repo *repo, int64_t id)
{
	return invalidate(repo, &id, 1);
}

int dal_repo_invalidate_all(dal_repo *repo)
{
	return invalidate(repo, NULL, 1);
}
