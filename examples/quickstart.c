/* The quick start: a users model, the schema from it, and every repository call once. */
#include <inttypes.h>
#include <stdio.h>

#include <dal/dal.h>

static const dal_column user_columns[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 100),
	DAL_COL("email", DAL_TYPE_TEXT, DAL_NOT_NULL | DAL_UNIQUE, 255),
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model users = DAL_MODEL("users", user_columns);

static int failed(const char *step)
{
	fprintf(stderr, "quickstart: %s failed (%s): ", step, dal_strerror(dal_error_last()->code));
	return dal_perror(NULL);
}

static void show(const char *what, const dal_row *row)
{
	char deleted[DAL_TIMESTAMP_BUFSIZE] = "-";

	if (!dal_row_is_null(row, "deleted_at"))
		dal_timestamp_format(deleted, dal_row_timestamp(row, "deleted_at"));
	printf("%-28s id=%" PRId64 " name=\"%s\" email=%s deleted_at=%s\n", what, dal_row_int(row, "id"),
		dal_row_text(row, "name"), dal_row_text(row, "email"), deleted);
}

static int run(dal_db *db)
{
	const dal_model *models[] = { &users };
	dal_field john[] = { DAL_FIELD("name", dal_text("John Doe")), DAL_FIELD("email", dal_text("john@example.com")) };
	dal_field jane[] = { DAL_FIELD("name", dal_text("Jane Doe")) };
	dal_criteria all = DAL_CRITERIA_INIT;
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	dal_rows *rows = NULL;
	dal_page page;
	int64_t id, count;
	bool exists;
	size_t i;
	int rc;

	if (dal_init_database(db, models, 1, DAL_AUTO_MIGRATE) < 0)
		return failed("creating the schema");
	printf("schema ready: table users (created if missing)\n");
	if (dal_repo_open(&repo, db, &users, 0) < 0)
		return failed("opening the repository");
	if (dal_repo_create(&row, repo, john, DAL_COUNT(john)) < 0)
		return failed("create");
	id = dal_row_int(row, "id");
	show("created", row);
	dal_row_free(row);
	if (dal_repo_get(&row, repo, id) < 0)
		return failed("get");
	show("read back by id", row);
	dal_row_free(row);
	if (dal_repo_update(&row, repo, id, jane, DAL_COUNT(jane)) < 0)
		return failed("update");
	show("renamed", row);
	dal_row_free(row);
	if (dal_repo_delete(repo, id, true) < 0)
		return failed("soft delete");
	printf("soft-deleted user %" PRId64 "\n", id);
	rc = dal_repo_get(&row, repo, id);
	printf("get after soft delete: %s (%s)\n", rc == DAL_ENOTFOUND ? "not found, as expected" : "FOUND?!",
		dal_error_last()->message);
	all.include_deleted = true;
	if (dal_repo_find(&rows, repo, &all) < 0)
		return failed("find with include_deleted");
	for (i = 0; i < dal_rows_count(rows); i++)
		if (dal_row_int(dal_rows_at(rows, i), "id") == id)
			show("find(include_deleted) shows", dal_rows_at(rows, i));
	dal_rows_free(rows);
	if (dal_repo_restore(&row, repo, id) < 0)
		return failed("restore");
	show("restored", row);
	dal_row_free(row);
	if (dal_repo_find_by(&rows, repo, DAL_FIELDS(DAL_FIELD("email", dal_text("john@example.com")))) < 0)
		return failed("find_by email");
	for (i = 0; i < dal_rows_count(rows); i++)
		show("find_by(email) finds", dal_rows_at(rows, i));
	dal_rows_free(rows);
	if (dal_repo_all(&rows, repo, 10, 0) < 0)
		return failed("all");
	printf("all(limit 10, offset 0): %zu row(s)\n", dal_rows_count(rows));
	dal_rows_free(rows);
	if (dal_repo_paginate(&rows, &page, repo, NULL, 1, 10) < 0)
		return failed("paginate");
	printf("page %" PRId64 " of %" PRId64 ": %zu row(s), %" PRId64 " in all\n", page.page, page.total_pages,
		dal_rows_count(rows), page.total);
	dal_rows_free(rows);
	if (dal_repo_count(&count, repo, NULL) < 0 || dal_repo_exists(&exists, repo, id, false) < 0)
		return failed("count and exists");
	printf("count: %" PRId64 " live user(s); user %" PRId64 " exists: %s\n", count, id, exists ? "yes" : "no");
	if (dal_repo_delete(repo, id, false) < 0 || dal_repo_exists(&exists, repo, id, true) < 0)
		return failed("hard delete");
	printf("hard-deleted user %" PRId64 "; exists even among deleted: %s\n", id, exists ? "yes" : "no");
	dal_repo_close(repo);
	return 0;
}

int main(void)
{
	dal_config cfg;
	dal_db *db = NULL;
	int rc;

	if (dal_config_from_env(&cfg) < 0)
		return failed("reading the environment");
	if (dal_open(&db, NULL, &cfg) < 0)
		return failed("opening the database");
	printf("dal %s quick start on %s (%s)\n", dal_version(), dal_db_url_redacted(db), dal_db_engine(db));
	rc = run(db);
	dal_close(db);
	if (rc == 0)
		printf("done.\n");
	return rc;
}
