#include "limits.h"

#include <stdio.h>
#include <string.h>

#include "proto/clock.h"
#include "ratelimit.h"
#include "relay.h"

bool limits_take(struct relay *relay, const char *ip, const char *key, bool global)
{
	char k[512];
	const struct config *cfg = &relay->cfg;
	int64_t now = clock_mono_ms();
	int n = snprintf(k, sizeof(k), "%s|%s", ip, key);
	if (n < 0 || (size_t)n >= sizeof(k))
		n = sizeof(k) - 1;
	if (!rl_take(relay->rl, k, (size_t)n, (double)cfg->room_rl_cap, cfg->room_rl_refill_per_sec, now))
		return false;
	if (global && ip[0] &&
	    !rl_take(relay->rlg, ip, strlen(ip), (double)cfg->global_rl_cap, cfg->global_rl_refill_per_sec, now))
		return false;
	return true;
}
