/* claim — per-(handle, room) claim cursors and leases (PROTOCOL.md §13, CLAIM-2..5, ACK-1..4,
 * CAP-11).
 *
 * Each registered handle that ever claimed gets a claim_handle hanging off its identity record
 * (identity.h `claims` slot) holding at most ROOM_CURSORS_PER_HANDLE_MAX records
 * {room, cursor, inflight}, in least-recently-touched order; creating one more evicts the
 * stalest (CAP-11). Memory only (INV-2).
 *
 * Concurrency: a store mutex only creates claim_handles; each claim_handle has its own mutex,
 * held across one claim decision including the room_pick() scan of the room buffer, so
 * processes sharing a handle (CLAIM-8) never get two leases on one record. Lock order:
 * claim_handle -> room (hub.h). Nothing blocks except on those locks; no I/O.
 *
 * Time: callers pass now_ms (wall clock) so tests inject it; the room buffer is pruned by the
 * hub with its own clock.
 */
#ifndef SEALROOM_RELAY_CLAIM_H
#define SEALROOM_RELAY_CLAIM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hub;
struct room;
struct event;
struct identity;
struct claims;

/* A new store keeping at most per_handle_max records per handle (values < 1 count as 1). */
struct claims *claims_new(int64_t per_handle_max);
/* Free every record; clears the identities' slots. No other thread may use the store. */
void claims_free(struct claims *cs);

/* CLAIM-4: the exclude set, sorted for binary search under the room lock. */
struct claim_excl {
	struct claim_excl_item {
		const char *s;
		size_t len;
	} *items;
	size_t n;
	char at_handle[34]; /* "@" + handle */
};

/* Build the set {handle, "@"+handle} ∪ {each string element of exclude_senders of length
 * 1–64 units}; a non-array exclude_senders is ignored. The items point into handle and into
 * the cJSON tree, which must outlive the set. Returns 0 or -1 (allocation failure). */
int claim_excl_build(struct claim_excl *ex, const char *handle, size_t handle_len, const cJSON *exclude_senders);
void claim_excl_free(struct claim_excl *ex);
/* True iff a sender label is in the set (exact bytes). */
bool claim_excl_has(const struct claim_excl *ex, const char *label, size_t len);

struct claim_out {
	bool got;                 /* a message was claimed (new or returned again) */
	bool again;               /* CLAIM-3: the live inflight was returned again */
	char claim_id[37];
	struct event *ev;         /* got: the claimed message, ref held (ev_unref) */
	int64_t cursor;           /* the acknowledged cursor */
	int64_t last_seq;         /* ROOM-8 */
};

/* One claim attempt by id in room (room_id its id, room a referenced room of hub h):
 * CLAIM-2 (get or create the record, which touches it; with clamp, raise the cursor to
 * oldest_seq-1 when below), CLAIM-3 (return a live inflight still buffered again, same
 * claim_id; drop an expired or pruned one), CLAIM-5 (claim the first message after the
 * cursor whose sender is not excluded: a new UUID, seq, claimed_at = now_ms, ttl_ms).
 * Fills *out. Returns 0, or -1 on allocation failure. */
int claim_take(struct claims *cs, struct hub *h, struct room *room, struct identity *id, const char *room_id,
	       const struct claim_excl *ex, int64_t ttl_ms, bool clamp, int64_t now_ms, struct claim_out *out);

enum claim_ack_rc {
	CLAIM_ACK_NO_RECORD, /* ACK-1: 200 advanced:false, cursor 0 */
	CLAIM_ACK_BEHIND,    /* ACK-2: 200 advanced:false */
	CLAIM_ACK_STALE,     /* ACK-3: 409 stale or unknown claim */
	CLAIM_ACK_ADVANCED,  /* ACK-4: 200 advanced:true */
};

/* ACK-1..4 for (id, room_id): the lookup does not touch the record. *cursor is the cursor to
 * answer with (0 for ACK-1). */
enum claim_ack_rc claim_ack(struct claims *cs, struct identity *id, const char *room_id, const char *claim_id,
			    size_t claim_id_len, int64_t seq, int64_t now_ms, int64_t *cursor);

/* Records held for id (tests). */
size_t claim_records(struct claims *cs, struct identity *id);

#endif
