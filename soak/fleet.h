/* fleet — many SSE subscribers (PROTOCOL.md §7) on one thread: the client library's sse_pool
 * (libcurl multi on epoll) plus per-subscriber exact delivery tracking.
 *
 * Subscriber i joins room i % n_rooms. Streams are opened with a bounded number connecting
 * at once (and optionally at a paced rate), so tens of thousands can be held without a
 * connect storm. Every message event is opened with the room key (CRYPTO-2) and its payload
 * checked: right room, right sender label (and sender_verified for signed runs), a tracked
 * (agent, index) of an agent of that room (agent a posts to room a % n_rooms), first delivery
 * or duplicate, in seq order (ROOM-23). A subscriber whose
 * stream ends after `ready` is resumed with ?after=<last seq> (SSE-6) and counted as a
 * reconnect; one that fails before `ready` counts as rejected (its HTTP status) or an error.
 *
 * Threads: fleet_start() spawns the fleet's thread, which owns the pool and every subscriber.
 * The counters read by fleet_ready() etc. are atomics and may be polled from any thread.
 * fleet_stop() joins the thread; only then are the tallies complete.
 */
#ifndef SEALROOM_SOAK_FLEET_H
#define SEALROOM_SOAK_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "tally.h"

struct fleet_cfg {
	const char *base;			/* relay base URL, no trailing slash */
	uint32_t n_rooms;
	const char (*room_ids)[65];		/* n_rooms ids */
	const unsigned char (*keys)[32];	/* n_rooms room keys */
	uint32_t subs;				/* subscribers in total */
	uint32_t senders, per_sender;		/* agents (agent a posts to room a % n_rooms)
						 * and messages per agent */
	const char (*labels)[72];		/* expected sender label per agent, or NULL */
	bool expect_verified;			/* signed run: sender_verified must be true */
	const struct srcips *ips;		/* subscriber i binds srcips_pick(ips, i) */
	uint32_t connect_window;		/* streams connecting at once; 0 = 256 */
	double connect_rate;			/* new streams per second; 0 = unpaced */
	bool use_cache;				/* fan-out: reuse outcomes of identical
						 * events */
	long recv_buffer_bytes;			/* libcurl buffer per stream; 0 = 16 KiB */
	long connect_timeout_ms;		/* 0 = 10 s */
	struct latrec *lat;			/* delivery latency sink, or NULL */
};

struct fleet;

/* Copy cfg (the arrays it points to must outlive the fleet), start the thread and begin
 * connecting. Returns NULL on failure. */
struct fleet *fleet_start(const struct fleet_cfg *cfg);

/* Subscribers that received `ready` (SSE-8) at least once. */
uint32_t fleet_ready(struct fleet *f);
/* Subscribers that failed before `ready` (and will not be retried). */
uint32_t fleet_failed(struct fleet *f);
/* First deliveries of tracked messages so far (all subscribers). */
uint64_t fleet_delivered(struct fleet *f);
/* clock_mono_ns() of the latest first delivery, 0 if none. */
int64_t fleet_last_delivery_ns(struct fleet *f);

/* Poll until every subscriber is ready or failed, or deadline_ms (monotonic) passes.
 * Returns true if all were ready. Blocks. */
bool fleet_wait_ready(struct fleet *f, int64_t deadline_ms);

/* Stop the thread and close every stream. Then add into *t: the fleet's per-delivery counts
 * (decrypt failures, unexpected, verified, reconnects, rejections, errors) and, per
 * subscriber, expected += accepted_per_room[its room], delivered / duplicated / out_of_order
 * from its tracker. accepted_per_room may be NULL (expected unchanged). */
void fleet_stop(struct fleet *f, struct tally *t, const uint64_t *accepted_per_room);

/* Free a stopped fleet. NULL ok. */
void fleet_free(struct fleet *f);

#endif
