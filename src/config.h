/* dal_config across its versions. Internal. */
#ifndef DAL_CONFIG_INTERNAL_H
#define DAL_CONFIG_INTERNAL_H

#include "dal/config.h"

/* Copy a caller's config of any known version into a full one: the members its
 * version lacks get their defaults (an older caller's struct is shorter). */
void dal__config_copy(dal_config *dst, const dal_config *src);

#endif
