/* bcast — the broadcast run behind `rooms` and `fanout`: SSE subscribers (fleet) in R rooms,
 * posting agents (posters) sending sealed messages into them, exact accounting of every
 * delivery, delivery latency from the (intended) send time, and throughput.
 *
 * rooms:  R rooms, 1 subscriber and 1 agent per room, M messages each  -> R*M deliveries
 * fanout: 1 room, A subscribers and A agents, K messages each          -> A*A*K deliveries
 *
 * Runs on the calling thread (plus the fleet's and the posters' threads); blocks until done.
 */
#ifndef SEALROOM_SOAK_BCAST_H
#define SEALROOM_SOAK_BCAST_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "report.h"

struct bcast_params {
	const char *name;		/* progress-line label */
	uint32_t rooms;
	uint32_t subs_per_room;
	uint32_t agents_per_room;
	uint32_t per_agent;		/* messages each agent sends */
	uint32_t poster_threads;	/* 0: one per agent */
	bool cache;			/* decode each distinct event once (INV-5) */
};

/* Run it, filling r (counts, latency "delivery", throughput). Failures go through
 * result_fail. Returns 0, or -1 if the run could not be set up. */
int bcast_run(struct result *r, const struct soak_opts *o, const struct bcast_params *bp);

#endif
