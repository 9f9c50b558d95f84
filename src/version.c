#include "dal/version.h"

const char *dal_version(void)
{
	return DAL_VERSION;
}

int dal_version_number(void)
{
	return DAL_VERSION_NUMBER;
}
