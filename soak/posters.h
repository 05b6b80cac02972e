/* posters — agents that POST sealed room messages (ROOM-POST-*), closed loop at maximum rate
 * or open loop at a fixed rate per agent.
 *
 * Agent a posts per_agent messages to room a % n_rooms over its own keep-alive connection
 * (lib/client http, libcurl easy), bound to srcips_pick(ips, ip_offset + a). Agents are
 * spread over `threads` threads; a thread serves its agents round-robin, one request at a
 * time, so closed-loop concurrency equals the thread count. Open loop: message k of agent a
 * is due at t0 + (k + a / agents) / rate; a late thread sends at once and the payload's
 * timestamp stays the intended time, so stalls show up as latency (no coordinated omission).
 *
 * Threads: posters_start() spawns the threads; the atomic counters may be polled from any
 * thread; posters_join() joins them and hands over the tallies.
 */
#ifndef SEALROOM_SOAK_POSTERS_H
#define SEALROOM_SOAK_POSTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "opts.h"
#include "tally.h"

struct poster_cfg {
	const char *base;
	uint32_t n_rooms;
	const char (*room_ids)[65];
	const unsigned char (*keys)[32];
	uint32_t agents, per_agent;
	uint32_t threads;			/* 1..agents */
	double rate;				/* messages/s per agent; 0 = closed loop */
	size_t pad;				/* plaintext size */
	const char (*labels)[72];		/* unsigned sender label per agent */
	const struct crypto_identity *signers;	/* per agent (signed run) or NULL */
	const struct srcips *ips;
	uint64_t ip_offset;
	long timeout_ms;			/* per request */
	struct latrec *lat;			/* POST answer latency from the (intended)
						 * send time, or NULL */
};

struct posters;

/* Start the threads (they begin at once). The arrays cfg points to must outlive the
 * posters. Returns NULL on failure. */
struct posters *posters_start(const struct poster_cfg *cfg);

/* Messages handed to the relay so far. */
uint64_t posters_sent(struct posters *p);
/* true once every thread finished. */
bool posters_done(struct posters *p);
/* clock_mono_ns() when the threads started. */
int64_t posters_t0_ns(struct posters *p);
/* Ask the threads to stop after their current request (duration-bound runs). */
void posters_stop(struct posters *p);

/* Join the threads, add sent/accepted/rejected/errors into *t, and the accepted count per
 * room into accepted_per_room[n_rooms] (added, so the caller zeroes it first). Returns the
 * clock_mono_ns() at which the last thread finished. Frees p. */
int64_t posters_join(struct posters *p, struct tally *t, uint64_t *accepted_per_room);

#endif
