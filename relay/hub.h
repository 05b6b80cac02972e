/* hub — rooms: the message buffer, seqs, subscribers, presence, the live event chain.
 *
 * Concurrency (DESIGN.md 4-6, 9):
 *   - The hub lock guards the room table and each room's handler reference count (refs).
 *     Lookup and ref-taking happen under it, and the janitor evicts only rooms with refs == 0,
 *     so eviction can never race a join. Lock order: hub -> room.
 *   - Each room has a mutex and one condition variable. Every broadcast appends an immutable,
 *     ref-counted struct event (serialised once, INV-5) to the room's live chain and signals
 *     the condition. Subscriber threads (SSE handler, WS writer) and parked /wait or /claim
 *     threads wait on it and write to their own sockets with no lock held, so a stuck reader
 *     only ever stalls its own thread (ROOM-24).
 *   - A subscriber's cursor is a reference to the last event it consumed; the chain after it
 *     stays alive through the events' `next` links and is freed as the slowest cursor moves on.
 * Nothing here touches a socket or the disk.
 */
#ifndef SEALROOM_RELAY_HUB_H
#define SEALROOM_RELAY_HUB_H

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "metrics.h"

enum ev_type { EV_START, EV_MESSAGE, EV_PRESENCE, EV_LOCKED, EV_RENAME };

/* A serialised event. Immutable once published; freed by the last ev_unref(). */
struct event {
	_Atomic int refs;
	enum ev_type type;
	int64_t seq, ts;          /* messages */
	double ttl_ms;            /* messages: 0 = none */
	size_t bytes;             /* ROOM-11: length(ciphertext) + 512 */
	bool verified;
	/* Offsets into json of the raw JSON tokens, for the ROOM-19 claim envelope. */
	uint32_t sender_off, sender_len, ct_off, ct_len, nonce_off, nonce_len, id_off;
	uint32_t ttl_off, ttl_len, reply_off, reply_len;
	const char *label;        /* messages: the unescaped sender label (ROOM-14), for CLAIM-4 */
	size_t label_len;
	struct event *next;       /* live chain; written once under the room lock */
	size_t len;               /* bytes of json */
	char json[];              /* ROOM-18 for messages; PRES-1 / PRES-5 otherwise */
};

void ev_ref(struct event *e);
void ev_unref(struct event *e);

enum sub_kind { SUB_SSE, SUB_WS };

#define NAME_BYTES 260 /* VAL-5: 64 UTF-16 units are at most 256 UTF-8 bytes */
#define BOXPUB_BYTES 260

struct sub {
	struct sub *prev, *next;  /* room order = subscription order (PRES-2) */
	enum sub_kind kind;
	char name[NAME_BYTES];
	size_t name_len;          /* 0 = unnamed */
	char box_pub[BOXPUB_BYTES];
	size_t box_len;           /* 0 = none */
	_Atomic int64_t last_seen;
	struct event *cursor;     /* last consumed event (ref held) */
	uint64_t consumed;        /* room->appended as of the last event consumed (CAP-14) */
	uint64_t pending;         /* room->appended as of the batch room_next handed out */
	bool kicked;
};

struct hb {                       /* /listening heartbeat (ROOM-LISTEN-3) */
	char name[NAME_BYTES];
	size_t name_len;
	char box_pub[BOXPUB_BYTES];
	size_t box_len;
	int64_t last_seen;
};

struct room {
	char id[65];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;                 /* handler references; hub lock */
	struct room *hnext;       /* hash chain; hub lock */
	int64_t created_at, last_active, next_seq;
	bool locked;              /* ROOM-6 */
	bool closing;             /* relay shutting down */
	struct event **buf;       /* message ring (ROOM-9): buf[(head + i) % cap] */
	size_t head, count, cap;
	size_t n_ttl;             /* messages with ttl_ms, to skip the ROOM-9 (2) scan */
	struct event *tail;       /* newest event in the live chain (ref held) */
	uint64_t appended;        /* bytes appended to the chain */
	struct sub *subs_head, *subs_tail;
	int nsubs;
	int waiters;              /* parked waits + claims (CAP-3) */
	struct hb *hbs;
	size_t nhb, hbcap;
};

struct hub;

struct hub *hub_new(const struct config *cfg);
void hub_free(struct hub *h);
/* Wake every waiter and subscriber so their threads return (shutdown). */
void hub_shutdown(struct hub *h);
bool hub_closing(struct hub *h);
size_t hub_room_count(struct hub *h);
void hub_gauges(struct hub *h, struct metrics_gauges *g);

/* Find a room and take a reference. With create, make it if absent (ROOM-1), evicting the
 * stalest idle room at the cap (ROOM-2); *capped is set when the cap refuses. NULL when absent
 * (or refused). Every non-NULL result must be given back with hub_release(). */
struct room *hub_get(struct hub *h, const char *id, bool create, bool *capped);
void hub_release(struct hub *h, struct room *room);

/* One janitor pass (ROOM-3): prune every room, evict idle ones. Returns rooms evicted. */
size_t hub_janitor(struct hub *h, int64_t now);

/* ---- posting (ROOM-POST-4..10, WS-12..16) --------------------------------------------- */

struct post {
	const char *ct, *nonce, *sender, *reply_to;
	size_t ct_len, nonce_len, sender_len, reply_len;
	bool verified;            /* signed and verified (ROOM-14) */
	bool signed_only;         /* body signed_only is exactly true */
	const cJSON *ttl;         /* NULL, or the validated ttl_ms number */
};

enum post_rc { POST_OK = 0, POST_FUSE = -1, POST_NEED_SIG = -2, POST_LOCKED = -3, POST_NOMEM = -4 };

/* True if a message of this ciphertext length fits the byte fuse now (ROOM-POST-5 pre-check). */
bool hub_fuse_fits(struct hub *h, size_t ct_len);
/* Append a validated message: lock rules, fuse, seq, buffer, broadcast, wake waiters.
 * On POST_OK fills *seq and id (37 bytes). */
enum post_rc room_post(struct hub *h, struct room *room, const struct post *p, int64_t *seq, char *id);

/* ---- reading ---------------------------------------------------------------------------- */

/* Collect (with refs) up to max buffered messages with seq > after, oldest first, after a
 * prune. *more is set when more than max were pending; *last_seq is ROOM-8. Returns count or
 * -1 on allocation failure; *out is malloc'd (free with ev_release_array). */
long room_collect(struct hub *h, struct room *room, int64_t after, size_t max, struct event ***out,
		  bool *more, int64_t *last_seq);
void ev_release_array(struct event **evs, size_t n);
/* Room status fields (ROOM-STATUS-2) after a prune. */
struct room_status { int participants; size_t recent; int64_t last_seq, created_at, last_active; bool locked; };
void room_status(struct hub *h, struct room *room, struct room_status *st);

/* Park until a message with seq > after is buffered, the deadline (monotonic ms) passes or
 * the relay stops. Caller has checked caps via room_waiter_take. any_message: wake on any
 * accepted message (CLAIM-7) instead. Returns true if woken by a message. */
bool room_park(struct room *room, int64_t after, bool any_message, int64_t deadline_mono);
/* CAP-3: take/release a parked-waiter slot in this room; also sets lastActive (ROOM-5). */
bool room_waiter_take(struct hub *h, struct room *room);
void room_waiter_release(struct hub *h, struct room *room);

/* ---- subscribers ------------------------------------------------------------------------- */

struct join {
	struct event **replay;    /* SSE-7 / WS-6, refs held */
	size_t nreplay;
	char *ready;              /* SSE-8 / WS-7 JSON, malloc'd */
	size_t ready_len;
};

/* SSE-5..8 / WS-6..7 in one critical section: prune, snapshot the replay, render ready, add
 * the subscriber, set lastActive, broadcast presence. name/box_pub already validated (or NULL).
 * Returns the subscriber, or NULL on allocation failure. */
struct sub *room_join(struct hub *h, struct room *room, enum sub_kind kind, int64_t after,
		      const char *name, size_t name_len, const char *box, size_t box_len, struct join *j);
void join_release(struct join *j);

/* Wait for events after the cursor until deadline_mono. Returns 1 with [*first, *last] (the
 * caller writes first..last following ->next, then calls sub_advance(sub, last)), 0 on
 * timeout, -1 when the subscriber must stop (kicked for backlog, relay stopping). */
int room_next(struct room *room, struct sub *s, int64_t deadline_mono, struct event **first, struct event **last);
void sub_advance(struct room *room, struct sub *s, struct event *last);
/* Make room_next return -1 for s (its writer must stop). */
void room_kick(struct room *room, struct sub *s);
/* SSE-14 / WS-18: remove, set lastActive, broadcast presence. Frees s. */
void room_leave(struct hub *h, struct room *room, struct sub *s);

/* WS-9 hello: box_mode 0 keep, 1 clear, 2 replace with box. */
void room_hello(struct room *room, struct sub *s, const char *name, size_t name_len, int box_mode,
		const char *box, size_t box_len);
/* WS-9: any inbound data frame updates last_seen. */
void sub_touch(struct sub *s);
/* ROOM-LISTEN-3/4 */
void room_listening(struct hub *h, struct room *room, const char *name, size_t name_len, const char *box,
		    size_t box_len);

/* Claim support (CLAIM-2..5), all under one hold of the room lock after a prune:
 * oldest_seq (0 if empty) and last_seq (ROOM-8); whether a message with seq == held_seq is
 * still buffered; and pick = the first message with seq > after for which skip() is false
 * (ref held; NULL if none). skip runs under the room lock: it must not block or lock. */
struct room_pick {
	int64_t oldest_seq, last_seq;
	bool held_buffered;
	struct event *pick;
};
void room_pick(struct hub *h, struct room *room, int64_t after, int64_t held_seq,
	       bool (*skip)(void *arg, const struct event *e), void *arg, struct room_pick *out);

/* The ROOM-19 claim envelope of a message event, malloc'd. */
char *ev_claim_json(const struct event *e, size_t *len);

#endif
