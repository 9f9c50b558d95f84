/* dal_init_database: tables and indexes from models. */
#include <stdlib.h>
#include <string.h>

#include "dal/schema.h"
#include "audit/audit.h"
#include "conn.h"
#include "session.h"
#include "sql/build.h"

static int table_exists(bool *out, dal_session *s, const dal_model *m)
{
	dal_str sql = DAL_STR_INIT;
	int error;

	*out = false;
	error = dal__sql_table_probe(&sql, s->conn->drv->dialect, m);
	/* A probe on the table itself works the same on every engine's catalog. */
	if (error == 0) {
		error = s->conn->drv->exec(s->conn, sql.ptr);
		*out = error == 0;
		error = error == DAL_ESQL ? 0 : error;
	}
	dal__str_dispose(&sql);
	return error;
}

static int create_model(dal_session *s, const dal_model *m)
{
	dal_str ddl = DAL_STR_INIT;
	int error;

	if ((error = dal__sql_create_table(&ddl, s->conn->drv, m)) == 0)
		error = dal__conn_exec_script(s->conn, ddl.ptr);
	dal__str_dispose(&ddl);
	return error;
}

int dal_init_database(dal_db *db, const dal_model *const *models, size_t n, unsigned flags)
{
	dal_session s;
	size_t i;
	bool exists;
	int error = 0;

	DAL_ASSERT_ARG(db);
	if (n && !models)
		return dal__error(DAL_EINVAL, "invalid argument: 'models' is NULL with n = %zu", n);
	for (i = 0; i < n; i++)
		if ((error = dal_model_validate(models[i])) < 0)
			return error;
	if (!(flags & DAL_AUTO_MIGRATE)) {
		if ((error = dal__session_open(&s, db, 0)) < 0)
			return error;
		for (i = 0; i < n && error == 0; i++)
			if ((error = table_exists(&exists, &s, models[i])) == 0 && !exists)
				error = dal__error(DAL_ENOTFOUND, "table '%s' does not exist (pass DAL_AUTO_MIGRATE to create it)",
					models[i]->table);
		return dal__session_close(&s, error);
	}
	/*
	 * All or nothing where DDL is transactional. DuckDB 1.4 fails to commit a
	 * CREATE INDEX in one transaction with its table when an index of that name
	 * was dropped since the file was opened, so there each statement commits on
	 * its own; every one is IF NOT EXISTS, so a rerun completes a partial schema.
	 */
	if ((error = dal__session_open(&s, db, (db->drv->caps & DAL_CAP_TX_DDL) ? DAL__SESSION_TX | DAL__TX_WRITE : 0)) < 0)
		return error;
	for (i = 0; i < n && error == 0; i++)
		error = create_model(&s, models[i]);
	/* The audit trail's tables come with any schema, so DAL_AUDIT works on any model. */
	if (error == 0 && n > 0)
		error = dal__audit_create_schema(&s);
	return dal__session_close(&s, error);
}
