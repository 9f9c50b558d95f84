/* Migrations: what is pending, applied in order, then nothing pending; the linter's
 * view of the same folder; and a model checked against the migrated table.
 * Runs on DATABASE_URL, else on an in-memory SQLite database so that each run
 * starts empty. The folder is examples/migrations (DAL_EXAMPLE_MIGRATIONS). */
#include <stdio.h>
#include <stdlib.h>

#include <dal/dal.h>

#ifndef DAL_EXAMPLE_MIGRATIONS
#define DAL_EXAMPLE_MIGRATIONS "examples/migrations"
#endif

static const dal_column product_columns[] = {
	DAL_COL_ID(),
	DAL_COL("name", DAL_TYPE_TEXT, DAL_NOT_NULL, 0),
	DAL_COL("price_cents", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("stock", DAL_TYPE_INT, 0, 0),
};
static const dal_model products = DAL_MODEL("products", product_columns);

static int failed(const char *step)
{
	const dal_error *e = dal_error_last();

	fprintf(stderr, "migrations: %s failed: %s: %s\n", step, dal_strerror(e->code), e->message);
	return 1;
}

static void show(const char *title, const dal_migrate_report *r)
{
	size_t i;

	printf("%s: %zu pending, at version %lld\n", title, r->pending, r->current_version);
	for (i = 0; i < r->count; i++)
		printf("  V%lld %-16s %-8s%s\n", r->items[i].version, r->items[i].name,
			dal_migration_state_name(r->items[i].state), r->items[i].applied_now ? "  (applied just now)" : "");
}

static int run(dal_db *db)
{
	static const dal_model *const models[] = { &products };
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
	dal_migrate_report *r = NULL;
	dal_lint_report *lint = NULL;

	o.dir = DAL_EXAMPLE_MIGRATIONS;
	if (dal_migrate_status(&r, db, &o) < 0)
		return failed("reading the status");
	show("before", r);
	dal_migrate_report_free(r);
	if (dal_migrate(&r, db, &o) < 0)
		return failed("migrating");
	show("after dal_migrate", r);
	dal_migrate_report_free(r);
	if (dal_migrate_lint(&lint, &o, models, 1) < 0)
		return failed("linting");
	printf("lint: %zu lock-heavy operations in %s\n", lint->count, o.dir);
	dal_lint_report_free(lint);
	/* The model matches the table the migrations made, or this names every difference. */
	if (dal_init_database(db, models, 1, 0) < 0)
		return failed("checking the model against the table");
	printf("model 'products' matches its table\n");
	return 0;
}

int main(void)
{
	dal_config cfg;
	dal_db *db = NULL;
	int rc;

	if (dal_config_from_env(&cfg) < 0)
		return failed("reading the environment");
	if (!getenv("DATABASE_URL"))
		cfg.url = "sqlite:///:memory:";
	if (dal_open(&db, NULL, &cfg) < 0)
		return failed("opening the database");
	printf("dal %s migrations on %s (%s)\n", dal_version(), dal_db_url_redacted(db), dal_db_engine(db));
	rc = run(db);
	dal_close(db);
	return rc;
}
