#include <stddef.h>

#include "conform.h"

const struct conf_case conf_cases_meta[] = {
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
