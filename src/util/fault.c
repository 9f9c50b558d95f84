#include "util/fault.h"

_Thread_local const char *dal__fault_armed;
