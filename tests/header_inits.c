/* Every initializer and helper macro of the public headers, used as documented;
 * compiled as C11 and as C++17 with -Wall -Wextra -pedantic -Werror. */
#include <dal/dal.h>

int dal_headertest_inits(void);

#ifndef __cplusplus
/* DAL_FIELDS is C only (a compound literal): it fills a (fields, nfields) pair. */
static size_t count_fields(const dal_field *fields, size_t n)
{
	return fields ? n : 0;
}

static size_t count_models(const dal_model *const *models, size_t n)
{
	return models ? n : 0;
}
#endif

int dal_headertest_inits(void)
{
	static const dal_column cols[] = { DAL_COL_ID(), DAL_COL("name", DAL_TYPE_TEXT, 0, 10), DAL_COL_CREATED_AT(),
	                                   DAL_COL_UPDATED_AT(), DAL_COL_DELETED_AT() };
	static const dal_model model = DAL_MODEL("t", cols);
	dal_config c = DAL_CONFIG_INIT;
	dal_metrics m = DAL_METRICS_INIT;
	dal_health h = DAL_HEALTH_INIT;
	dal_metrics_summary ms = DAL_METRICS_SUMMARY_INIT;
	dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
	dal_uow_opts u = DAL_UOW_OPTS_INIT;
	dal_audit_ctx a = DAL_AUDIT_CTX_INIT;
	dal_audit_ctx who = DAL_AUDIT_CTX_USER("admin", "s1");
	dal_audit_filter af = DAL_AUDIT_FILTER_INIT;
	dal_filter f[] = { DAL_EQ("name", dal_text("x")), DAL_WHERE("id", DAL_OP_GT, dal_int(1)) };
	dal_criteria all = DAL_CRITERIA_INIT;
	dal_criteria some = DAL_CRITERIA_WHERE(f);
	dal_field fields[] = { DAL_FIELD("name", dal_text("y")) };
	unsigned sum = c.version + m.version + h.version + o.version + u.version + a.version + who.version + af.version;

	sum += ms.version;
	sum += all.version + some.version + (unsigned)DAL_COUNT(fields) + (unsigned)model.ncolumns;
#ifndef __cplusplus
	{
		DAL_AUTO(dal_rows) rows = NULL;
		DAL_AUTO(dal_row) row = NULL;
		sum += (unsigned)(rows == NULL) + (unsigned)(row == NULL);
	}
	sum += (unsigned)count_models(DAL_MODELS(&model, &model));
	sum += (unsigned)count_fields(DAL_FIELDS(DAL_FIELD("name", dal_text("z")), DAL_FIELD("id", dal_int(2))));
#endif
	return (int)sum;
}
