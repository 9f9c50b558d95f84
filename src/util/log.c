#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static dal_log_fn handler;
static void *handler_payload;

void dal_log_set_handler(dal_log_fn fn, void *payload)
{
	pthread_mutex_lock(&lock);
	handler = fn;
	handler_payload = payload;
	pthread_mutex_unlock(&lock);
}

void dal__log(dal_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	char buf[2048];
	dal_log_fn fn;
	void *payload;
	va_list ap;

	pthread_mutex_lock(&lock);
	fn = handler;
	payload = handler_payload;
	pthread_mutex_unlock(&lock);
	if (!fn && level < DAL_LOG_WARN)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (fn)
		fn(level, buf, payload);
	else
		fprintf(stderr, "dal: %s: %s\n", names[level], buf);
}
