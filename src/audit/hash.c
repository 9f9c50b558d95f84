/* The audit row's SHA-256: its content, then its link into the chain (docs/audit.md). */
#include <string.h>

#include "audit/audit.h"
#include "util/sha256.h"

static int put_field(dal_str *o, const char *s, size_t len)
{
	unsigned char b[9];
	int i, error;

	if (!s)
		return dal__str_putc(o, 'z');
	b[0] = 's';
	for (i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
	if ((error = dal__str_putn(o, (const char *)b, 9)) < 0)
		return error;
	return dal__str_putn(o, s, len);
}

static int put_str(dal_str *o, const char *s)
{
	return put_field(o, s, s ? strlen(s) : 0);
}

static int put_json(dal_str *o, const char *s, size_t len)
{
	int error;

	if (!s)
		return dal__str_putc(o, 'z');
	if ((error = dal__str_putc(o, 'j')) < 0)
		return error;
	/* Not valid JSON: it was not written by dal; hash the bytes, which then do not match.
	 * Out of memory is no such verdict: a hash of the bytes would be a wrong hash. */
	if ((error = dal__json_canonical(o, s, len)) == DAL_ENOMEM)
		return error;
	if (error < 0)
		return put_field(o, s, len);
	return dal__str_putc(o, 'J');
}

/* `v` in decimal then `end`. */
static int put_i64(dal_str *o, int64_t v, char end)
{
	int error = dal__str_put_i64(o, v);

	return error ? error : dal__str_putc(o, end);
}

/* Everything but the row's place in the chain and its resource id: known before the
 * row is written, so PostgreSQL can link it in the statement that writes it. */
int dal__audit_content_hash(char hex[65], const dal__audit_content *c, dal_str *scratch)
{
	dal_str own = DAL_STR_INIT, *o = scratch ? scratch : &own;
	int error;

	dal__str_clear(o);
	error = dal__str_puts(o, "dal-audit-2c;");
	error = error ? error : put_i64(o, c->timestamp, ';');
	error = error ? error : put_str(o, c->action);
	error = error ? error : put_str(o, c->resource_type);
	error = error ? error : put_str(o, c->user_id);
	error = error ? error : put_str(o, c->session_id);
	error = error ? error : put_str(o, c->correlation_id);
	error = error ? error : put_str(o, c->ip_address);
	error = error ? error : put_str(o, c->user_agent);
	error = error ? error : put_json(o, c->old_values, c->old_len);
	error = error ? error : put_json(o, c->new_values, c->new_len);
	error = error ? error : dal__sha256_hex(hex, o->ptr, o->len);
	dal__str_dispose(&own);
	return error;
}

/* The link, as plain text so that SQL can compute it too (see sql_create_cte):
 * "dal-audit-2;<id>;<prev_hash>;<resource_id or nothing>;<content hash>". */
int dal__audit_link(char hex[65], int64_t id, const char *prev, bool has_rid, int64_t rid, const char content[65],
                    dal_str *scratch)
{
	dal_str own = DAL_STR_INIT, *o = scratch ? scratch : &own;
	int error;

	dal__str_clear(o);
	error = dal__str_puts(o, "dal-audit-2;");
	error = error ? error : put_i64(o, id, ';');
	error = error ? error : dal__str_puts(o, prev);
	error = error ? error : dal__str_putc(o, ';');
	error = error || !has_rid ? error : put_i64(o, rid, ';');
	error = error || has_rid ? error : dal__str_putc(o, ';');
	error = error ? error : dal__str_puts(o, content);
	error = error ? error : dal__sha256_hex(hex, o->ptr, o->len);
	dal__str_dispose(&own);
	return error;
}

int dal__audit_hash(char hex[65], const dal__audit_content *c, dal_str *scratch)
{
	char content[65];
	int error;

	if ((error = dal__audit_content_hash(content, c, scratch)) < 0)
		return error;
	return dal__audit_link(hex, c->id, c->prev_hash ? c->prev_hash : "", c->has_resource_id, c->resource_id, content,
		scratch);
}
