/* Leaves one audited entity through every kind of change, for the dal program's
 * history and as-of checks: create (qty 1), update (qty 2), soft delete, restore,
 * update (qty 3), hard delete. Prints its id, then after each step a time at which
 * that step is the last one recorded: "id N", "t1 YYYY-MM-DD HH:MM:SS.ffffff", ... t6;
 * then what the library's dal_repo_get_as_of() gives at each: "lib1 1" (qty) or
 * "lib3 none", the answers the program's --as-of must agree with. Runs on DATABASE_URL. */
#include <inttypes.h>
#include <stdio.h>

#include <dal/dal.h>

static const dal_column cols[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("qty", DAL_TYPE_INT, 0, 0),
	DAL_COL_CREATED_AT(), DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT(),
};
static const dal_model items = DAL_MODEL("cli_items", cols);

/* Print a time after the step's audit row, and wait until the clock has moved past
 * it, so that the next step's row is recorded strictly later. */
static int64_t marks[7];

static void mark(int step)
{
	char buf[DAL_TIMESTAMP_BUFSIZE];
	int64_t t = marks[step] = dal_now();

	dal_timestamp_format(buf, t);
	printf("t%d %s\n", step, buf);
	while (dal_now() <= t)
		;
}

static int set_qty(dal_repo *repo, int64_t id, int64_t qty)
{
	dal_field f[] = { DAL_FIELD("qty", dal_int(qty)) };

	return dal_repo_update(NULL, repo, id, f, 1);
}

int main(void)
{
	const dal_model *models[] = { &items };
	dal_audit_ctx who = DAL_AUDIT_CTX_USER("fixture", NULL);
	dal_field f[] = { DAL_FIELD("name", dal_text("widget")), DAL_FIELD("qty", dal_int(1)) };
	dal_config cfg;
	dal_db *db = NULL;
	dal_repo *repo = NULL;
	dal_row *row = NULL;
	int64_t id = 0;
	int rc = 1;

	if (dal_config_from_env(&cfg) < 0 || dal_open(&db, NULL, &cfg) < 0 || dal_init_database(db, models, 1, DAL_AUTO_MIGRATE) < 0 ||
	    dal_repo_open(&repo, db, &items, DAL_AUDIT) < 0 || dal_repo_set_context(repo, &who) < 0 ||
	    dal_repo_create(&row, repo, f, 2) < 0)
		goto done;
	id = dal_row_id(row);
	printf("id %" PRId64 "\n", id);
	mark(1);
	if (set_qty(repo, id, 2) < 0)
		goto done;
	mark(2);
	if (dal_repo_delete(repo, id, true) < 0)
		goto done;
	mark(3);
	if (dal_repo_restore(NULL, repo, id) < 0)
		goto done;
	mark(4);
	if (set_qty(repo, id, 3) < 0)
		goto done;
	mark(5);
	if (dal_repo_delete(repo, id, false) < 0)
		goto done;
	mark(6);
	for (int i = 1; i <= 6; i++) {
		dal_row *then = NULL;
		int e = dal_repo_get_as_of(&then, repo, id, marks[i]);
		if (e < 0 && e != DAL_ENOTFOUND)
			goto done;
		if (e == 0)
			printf("lib%d %" PRId64 "\n", i, dal_row_int(then, "qty"));
		else
			printf("lib%d none\n", i);
		dal_row_free(then);
	}
	rc = 0;
done:
	if (rc)
		dal_perror("history_fixture");
	dal_row_free(row);
	dal_repo_close(repo);
	dal_close(db);
	return rc;
}
