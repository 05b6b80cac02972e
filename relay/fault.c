#include "fault.h"

#include <string.h>

#ifdef SEALROOM_FAULTS
enum fault fault_active = FAULT_NONE;
#endif

static const char *const names[] = {
	"", "ready-before-replay", "seq-gap", "ignore-after", "no-keepalive", "wrong-error-string",
	"drop-one-in-100",
};

int fault_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}
