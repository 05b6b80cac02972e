/* limits — the RL-2/RL-3 rate-limit pair used by every limited route. */
#ifndef SEALROOM_RELAY_LIMITS_H
#define SEALROOM_RELAY_LIMITS_H

#include <stdbool.h>

struct relay;

/* Take one token from the per-key bucket "<ip>|<key>" (RL-2) and then, if global and ip is
 * non-empty, from the global bucket "<ip>" (RL-3). The per-key token is consumed even when
 * the global bucket refuses (ROOM-POST-9: consumed tokens are not refunded). */
bool limits_take(struct relay *relay, const char *ip, const char *key, bool global);

#endif
