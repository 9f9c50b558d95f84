/* PostgreSQL driver: being written. */
#include "driver/driver.h"
#include "util/error.h"

static int dk_connect(dal_conn **out, void *shared, const dal_url *url, const dal_config *cfg)
{
	(void)shared; (void)url; (void)cfg;
	*out = NULL;
	return dal__error(DAL_EUNSUPPORTED, "duckdbql driver not built yet");
}

static const dal_dialect dk_dialect = { .quote = '"', .placeholder = DAL_PH_QMARK };
const dal_driver dal__driver_duckdb = { .scheme = "duckdbql", .name = "duckdbql", .dialect = &dk_dialect, .connect = dk_connect };
