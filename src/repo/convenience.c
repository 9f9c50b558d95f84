/* The everyday calls of other data layers (get all, find by equality), each a
 * thin form of dal_repo_find(). */
#include <stdlib.h>

#include "repo/repo.h"
#include "util/error.h"

int dal_repo_all(dal_rows **out, dal_repo *repo, int64_t limit, int64_t offset)
{
	dal_criteria c = DAL_CRITERIA_INIT;

	c.limit = limit;
	c.offset = offset;
	return dal_repo_find(out, repo, &c);
}

int dal_repo_find_by(dal_rows **out, dal_repo *repo, const dal_field *equal, size_t nequal)
{
	dal_criteria c = DAL_CRITERIA_INIT;
	dal_filter *f = NULL;
	size_t i;
	int error;

	DAL_ASSERT_ARG(out);
	*out = NULL;
	DAL_ASSERT_ARG(repo);
	if (nequal && !equal)
		return dal__error(DAL_EINVAL, "find_by on '%s': %zu fields but no array", repo->model->table, nequal);
	if (nequal && !(f = calloc(nequal, sizeof(*f))))
		return dal__error_nomem();
	/* NULL as a value means "is NULL", as in the seed's keyword filters: `= NULL` matches nothing. */
	for (i = 0; i < nequal; i++) {
		f[i].column = equal[i].column;
		f[i].op = equal[i].value.type == DAL_TYPE_NULL ? DAL_OP_IS_NULL : DAL_OP_EQ;
		f[i].value = equal[i].value;
	}
	c.filters = f;
	c.nfilters = nequal;
	error = dal_repo_find(out, repo, &c);
	free(f);
	return error;
}
