/* Defects found in review, each case failing before its fix. */
#include "conformance/fixture.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static char logged[512];

static void capture(dal_log_level level, const char *message, void *payload)
{
	(void)payload;
	if (level >= DAL_LOG_WARN)
		snprintf(logged, sizeof(logged), "%s", message);
}

/*
 * dal_close() on the handle of dal_default() (as DAL_AUTO(dal_db) does at the end of
 * its block) must not free it: the handle is closed again at exit, and every later
 * dal_default() hands back the same pointer. The call is refused with a warning and
 * the handle keeps working. The default database is an SQLite :memory: one on every
 * engine: it stays open until the runner exits, past every fixture's files.
 */
static void test_close_of_default_handle_is_refused(void **state)
{
	dal_db *first = NULL, *again = NULL;
	int64_t n = 0;

	(void)state;
	setenv("DATABASE_URL", "sqlite:///:memory:", 1);
	CHECK_OK(dal_default(&first));
	logged[0] = '\0';
	dal_log_set_handler(capture, NULL);
	dal_close(first);
	dal_log_set_handler(NULL, NULL);
	if (!strstr(logged, "dal_default()"))
		fail_msg("no warning naming dal_default(): \"%s\"", logged);
	CHECK_OK(dal_default(&again));
	assert_ptr_equal(first, again);
	CHECK_OK(dal_exec(&n, again, "CREATE TABLE IF NOT EXISTS rv_default (x INTEGER)", NULL, 0));
}

static const dal_column user_cols[] = { FX_USER_COLUMNS };
static const dal_model users = DAL_MODEL("rv_users", user_cols);

typedef struct restorer {
	dal_db *db;
	int64_t id;
	int rc;
	char name[32];
} restorer;

static void *restore_thread(void *arg)
{
	restorer *r = arg;
	dal_repo *repo = NULL;
	dal_row *row = NULL;

	if ((r->rc = dal_repo_open(&repo, r->db, &users, 0)) == 0 &&
	    (r->rc = dal_repo_restore(&row, repo, r->id)) == 0)
		snprintf(r->name, sizeof(r->name), "%s", dal_row_text(row, "name"));
	dal_row_free(row);
	dal_repo_close(repo);
	return NULL;
}

/*
 * The row dal_repo_restore() hands back is the one it read, with deleted_at and
 * updated_at set: that read must lock the row, or a change committed by another
 * transaction between the read and the UPDATE (which waits for it) is missing
 * from the row handed back. Here another connection has renamed the soft-deleted
 * row and not committed; the restore starts, is seen waiting on the row lock, and
 * the rename commits. On PostgreSQL only: SQLite and DuckDB let one writer in at a
 * time from BEGIN, so no read of a restore can come before another writer's commit.
 */
static void test_restore_hands_back_the_row_it_restored(void **state)
{
	fixture *fx = FX(state);
	dal_repo *repo;
	dal_db *other = NULL;
	dal_uow *uow = NULL;
	dal_row *now = NULL;
	restorer r = { fx->db, 0, -1, "" };
	pthread_t t;
	int64_t n = 0;
	dal_value p[1];

	if (!fx_is(fx, "postgres"))
		FX_SKIP("writers run one at a time from BEGIN on this engine");
	repo = fx_open_repo(fx, &users, 0);
	r.id = fx_create(repo, (dal_field[]){ DAL_FIELD("name", dal_text("old")), DAL_FIELD("email", dal_text("a@x.org")) }, 2);
	CHECK_OK(dal_repo_delete(repo, r.id, true));
	CHECK_OK(fx_open_again(&other, fx, NULL));
	CHECK_OK(dal_uow_begin(&uow, other, NULL));
	p[0] = dal_int(r.id);
	CHECK_OK(dal_exec(&n, other, "UPDATE rv_users SET name = 'new' WHERE id = ?", p, 1));
	assert_int_equal(pthread_create(&t, NULL, restore_thread, &r), 0);
	fx_wait_for_lock_wait(fx);
	CHECK_OK(dal_uow_commit(uow));
	pthread_join(t, NULL);
	CHECK_OK(r.rc);
	CHECK_OK(dal_repo_get(&now, repo, r.id));
	assert_string_equal(dal_row_text(now, "name"), "new");
	assert_string_equal(r.name, "new");
	dal_row_free(now);
	dal_repo_close(repo);
	dal_close(other);
}

FX_CASES(cases_review,
	FX_CASE(test_close_of_default_handle_is_refused),
	FX_CASE(test_restore_hands_back_the_row_it_restored),
);
