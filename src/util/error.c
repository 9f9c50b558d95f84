#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A fixed thread-local buffer, so reporting DAL_ENOMEM never allocates. */
static _Thread_local struct {
	dal_error pub;
	char message[1024];
	char sqlstate[8];
} last = { { DAL_OK, "", "", 0 }, "", "" };

static void set_fields(int code, const char *sqlstate, int engine_code)
{
	last.pub.code = code;
	last.pub.engine_code = engine_code;
	snprintf(last.sqlstate, sizeof(last.sqlstate), "%s", sqlstate ? sqlstate : "");
	last.pub.message = last.message;
	last.pub.sqlstate = last.sqlstate;
}

int dal__error(int code, const char *fmt, ...)
{
	va_list ap;

	set_fields(code, NULL, 0);
	va_start(ap, fmt);
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	va_end(ap);
	return code;
}

int dal__error_engine(int code, const char *sqlstate, int engine_code, const char *fmt, ...)
{
	va_list ap;

	set_fields(code, sqlstate, engine_code);
	va_start(ap, fmt);
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	va_end(ap);
	return code;
}

int dal__error_nomem(void)
{
	set_fields(DAL_ENOMEM, NULL, 0);
	strcpy(last.message, "out of memory");
	return DAL_ENOMEM;
}

void dal__error_save(dal__error_saved *out)
{
	out->code = last.pub.code;
	out->engine_code = last.pub.engine_code;
	memcpy(out->sqlstate, last.sqlstate, sizeof(out->sqlstate));
	memcpy(out->message, last.message, sizeof(out->message));
}

void dal__error_restore(const dal__error_saved *saved)
{
	if (saved->code == DAL_OK)
		return;
	set_fields(saved->code, saved->sqlstate, saved->engine_code);
	memcpy(last.message, saved->message, sizeof(last.message));
}

const dal_error *dal_error_last(void)
{
	last.pub.message = last.message;
	last.pub.sqlstate = last.sqlstate;
	return &last.pub;
}

void dal_error_clear(void)
{
	set_fields(DAL_OK, NULL, 0);
	last.message[0] = '\0';
}

const char *dal_strerror(int code)
{
	switch (code) {
	case DAL_OK: return "no error";
	case DAL_ERROR: return "error";
	case DAL_ENOTFOUND: return "not found";
	case DAL_EINVAL: return "invalid argument";
	case DAL_ECONSTRAINT: return "constraint violation";
	case DAL_EBUSY: return "database busy";
	case DAL_ECONN: return "connection failed";
	case DAL_ETIMEOUT: return "timed out";
	case DAL_ESERIALIZE: return "serialization failure";
	case DAL_EUNSUPPORTED: return "not supported";
	case DAL_ECOMMIT_UNKNOWN: return "commit outcome unknown";
	case DAL_ENOMEM: return "out of memory";
	case DAL_EIO: return "I/O error";
	case DAL_ESQL: return "SQL error";
	case DAL_ESCHEMA: return "schema mismatch";
	default: return "unknown error";
	}
}

int dal__check_version(unsigned int version, unsigned int known, const char *type)
{
	if (version == 0 || version > known)
		return dal__error(DAL_EINVAL, "invalid version %u on %s (this dal knows 1-%u)", version, type, known);
	return 0;
}

int dal_perror(const char *what)
{
	const dal_error *e = dal_error_last();
	const char *msg = e->message[0] ? e->message : dal_strerror(e->code);

	if (what && *what)
		fprintf(stderr, "%s: %s\n", what, msg);
	else
		fprintf(stderr, "%s\n", msg);
	return 1;
}
