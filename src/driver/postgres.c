/* PostgreSQL driver: being written. */
#include "driver/driver.h"
#include "util/error.h"

static int pg_connect(dal_conn **out, void *shared, const dal_url *url, const dal_config *cfg)
{
	(void)shared; (void)url; (void)cfg;
	*out = NULL;
	return dal__error(DAL_EUNSUPPORTED, "postgresql driver not built yet");
}

static const dal_dialect pg_dialect = { .quote = '"', .placeholder = DAL_PH_DOLLAR };
const dal_driver dal__driver_postgres = { .scheme = "postgresql", .name = "postgresql", .dialect = &pg_dialect, .connect = pg_connect };
