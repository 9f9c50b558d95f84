/* The tour: what dal adds to CRUD, once each. An audited account with its
 * history and an as-of read, a unit of work whose nested part rolls back, a bulk
 * create, cached reads, the tamper-evident chain verified, and the metrics. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <dal/dal.h>

static const dal_column account_columns[] = {
	DAL_COL_ID(),
	DAL_COL("owner", DAL_TYPE_TEXT, DAL_NOT_NULL, 100),
	DAL_COL("balance", DAL_TYPE_INT, DAL_NOT_NULL, 0),
	DAL_COL("pin_hash", DAL_TYPE_TEXT, DAL_SENSITIVE, 0),   /* recorded as [REDACTED] */
	DAL_COL_CREATED_AT(),
	DAL_COL_UPDATED_AT(),
	DAL_COL_DELETED_AT(),
};
static const dal_model accounts = DAL_MODEL("tour_accounts", account_columns);

static int failed(const char *step)
{
	const dal_error *e = dal_error_last();
	fprintf(stderr, "tour: %s failed: %s: %s\n", step, dal_strerror(e->code), e->message);
	return 1;
}

static int64_t open_account(dal_repo *repo, const char *owner, int64_t balance)
{
	dal_field f[] = { DAL_FIELD("owner", dal_text(owner)), DAL_FIELD("balance", dal_int(balance)),
		DAL_FIELD("pin_hash", dal_text("$argon2id$not-for-the-log")) };
	dal_row *row = NULL;
	int64_t id;

	if (dal_repo_create(&row, repo, f, DAL_COUNT(f)) < 0)
		return -1;
	id = dal_row_int(row, "id");
	dal_row_free(row);
	return id;
}

static int set_balance(dal_repo *repo, int64_t id, int64_t balance)
{
	dal_field f[] = { DAL_FIELD("balance", dal_int(balance)) };

	return dal_repo_update(NULL, repo, id, f, 1);
}

/* The account's trail, oldest first, and what it held before its last change. */
static int audit_part(dal_repo *repo, int64_t id, int64_t before_last)
{
	dal_audit_logs *logs = NULL;
	dal_row *then = NULL;
	size_t i, n;

	if (dal_repo_history(&logs, repo, id) < 0)
		return failed("history");
	n = dal_audit_logs_count(logs);
	printf("history of account %" PRId64 " (%zu changes):\n", id, n);
	for (i = 0; i < n; i++) {
		const dal_audit_log *e = dal_audit_logs_at(logs, i);
		printf("  #%" PRId64 " %-11s by %-6s new=%s\n", e->id, e->action, e->user_id ? e->user_id : "-",
			e->new_values ? e->new_values : "-");
	}
	dal_audit_logs_free(logs);
	if (dal_repo_get_as_of(&then, repo, id, before_last) < 0)
		return failed("as-of read");
	printf("as of before the last change: balance %" PRId64 "\n", dal_row_int(then, "balance"));
	dal_row_free(then);
	return 0;
}

/* A transfer in a unit of work; a nested unit's fee is rolled back, the transfer commits. */
static int unit_part(dal_db *db, int64_t from, int64_t to)
{
	dal_audit_ctx who = DAL_AUDIT_CTX_INIT;
	dal_uow_opts opts = DAL_UOW_OPTS_INIT;
	dal_uow *uow = NULL, *fee = NULL;
	dal_repo *repo = NULL;
	int rc;

	who.user_id = "teller";
	who.correlation_id = "transfer-1";
	opts.audit_ctx = &who;
	if (dal_uow_begin(&uow, db, &opts) < 0)
		return failed("begin a unit of work");
	rc = dal_uow_repo(&repo, uow, &accounts, DAL_AUDIT);
	rc = rc < 0 ? rc : set_balance(repo, from, 70);
	rc = rc < 0 ? rc : set_balance(repo, to, 80);
	rc = rc < 0 ? rc : dal_uow_begin(&fee, db, NULL);
	rc = rc < 0 ? rc : set_balance(repo, from, 69);
	rc = rc < 0 ? rc : dal_uow_rollback(fee);
	if (rc < 0) {
		dal_repo_close(repo);
		dal_uow_rollback(uow);
		return failed("the transfer");
	}
	rc = dal_uow_commit(uow);
	dal_repo_close(repo);
	if (rc < 0)
		return failed("commit");
	printf("transfer of 30 committed; the nested fee was rolled back\n");
	return 0;
}

static int bulk_part(dal_repo *repo)
{
	static const char *const columns[] = { "owner", "balance" };
	char owners[100][16];
	dal_value v[200];
	int64_t ids[100];
	size_t i;

	for (i = 0; i < 100; i++) {
		snprintf(owners[i], sizeof(owners[i]), "bulk-%zu", i);
		v[2 * i] = dal_text(owners[i]);
		v[2 * i + 1] = dal_int((int64_t)i);
	}
	if (dal_repo_bulk_create(ids, repo, columns, 2, v, 100) < 0)
		return failed("bulk create");
	printf("bulk-created 100 accounts (ids %" PRId64 "..%" PRId64 "), one audit row each\n", ids[0], ids[99]);
	return 0;
}

static int cache_part(dal_db *db, int64_t id)
{
	dal_repo *cached = NULL;
	dal_row *row = NULL;
	dal_metrics_summary m = DAL_METRICS_SUMMARY_INIT;
	int i;

	if (dal_repo_open(&cached, db, &accounts, DAL_CACHE) < 0)
		return failed("open a cached repository");
	for (i = 0; i < 3; i++) {
		if (dal_repo_get(&row, cached, id) < 0) {
			dal_repo_close(cached);
			return failed("cached get");
		}
		dal_row_free(row);
	}
	dal_repo_close(cached);
	if (dal_metrics_summary_get(&m, db) < 0)
		return failed("metrics");
	printf("3 cached gets: %" PRIu64 " read the database, %" PRIu64 " came from the cache\n", m.cache_misses,
		m.cache_hits);
	return 0;
}

static int chain_part(dal_db *db)
{
	dal_audit_report r;
	dal_metrics_summary m = DAL_METRICS_SUMMARY_INIT;

	if (dal_audit_verify(&r, db) < 0)
		return failed("verify");
	printf("audit chain: %s, %" PRId64 " rows checked, head #%" PRId64 " %.16s...\n", r.ok ? "intact" : r.reason,
		r.rows_checked, r.head_id, r.head_hash);
	if (dal_metrics_summary_get(&m, db) < 0)
		return failed("metrics");
	printf("metrics: %" PRIu64 " statements, p95 %.3f ms, %" PRIu64 " slow, %" PRIu64 " connection checkouts\n",
		m.query_count, m.p95_s * 1e3, m.slow_query_count, m.pool_checkouts);
	return r.ok ? 0 : 1;
}

static int run(dal_db *db)
{
	const dal_model *models[] = { &accounts };
	dal_audit_ctx who = DAL_AUDIT_CTX_INIT;
	dal_repo *repo = NULL;
	int64_t ann, bob, before_last;
	int rc;

	if (dal_init_database(db, models, 1, DAL_AUTO_MIGRATE) < 0)
		return failed("creating the schema");
	if (dal_repo_open(&repo, db, &accounts, DAL_AUDIT) < 0)
		return failed("opening the repository");
	who.user_id = "alice";
	if (dal_repo_set_context(repo, &who) < 0 || (ann = open_account(repo, "Ann", 100)) < 0 ||
	    (bob = open_account(repo, "Bob", 50)) < 0 || set_balance(repo, ann, 120) < 0) {
		dal_repo_close(repo);
		return failed("audited writes");
	}
	before_last = dal_now();
	rc = set_balance(repo, ann, 100) < 0 ? failed("update") : 0;
	rc = rc ? rc : audit_part(repo, ann, before_last);
	rc = rc ? rc : unit_part(db, ann, bob);
	rc = rc ? rc : bulk_part(repo);
	dal_repo_close(repo);
	rc = rc ? rc : cache_part(db, bob);
	return rc ? rc : chain_part(db);
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
	printf("dal %s tour on %s (%s)\n", dal_version(), dal_db_url_redacted(db), dal_db_engine(db));
	rc = run(db);
	dal_close(db);
	if (rc == 0)
		printf("done.\n");
	return rc;
}
