/* dm — direct-message inboxes (PROTOCOL.md §12): envelopes, DM seqs, inbox waiters, pruning.
 *
 * An inbox hangs off its identity record (identity.h `inbox` slot) and exists while it holds
 * envelopes or parked waiters (DM-11 drops empty inboxes). Inboxes live in memory only
 * (DM-10); only the recipient's inbox_seq persists, through the identity store (INV-9).
 *
 * Each envelope is rendered to its DM-5 JSON once, into an immutable ref-counted struct
 * dm_env; pages and woken waiters reuse those bytes.
 *
 * Concurrency: one store mutex guards every inbox and the byte fuse. It is held for pointer
 * work only (the envelope is rendered before it is taken); seq assignment and the append
 * happen in one hold of it, so an inbox is always in strictly increasing seq order and a
 * rejected DM consumes no seq (INV-9). Parked waiters sleep on their inbox's condition
 * variable. Lock order: dmstore -> (identity inbox_seq atomic). Nothing here does I/O.
 */
#ifndef SEALROOM_RELAY_DM_H
#define SEALROOM_RELAY_DM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct identity;
struct idstore;

#define DM_PAGE 50         /* DM-7e */
#define DM_ENV_OVERHEAD 512 /* DM-1j / DM-11: length(ciphertext) + 512 */

struct dm_env {
	_Atomic int refs;
	int64_t seq, ts;
	char id[37];
	size_t bytes;          /* length(ciphertext) + 512 */
	const char *json;      /* DM-5 envelope (points into buf) */
	size_t len;
	char buf[];
};

void dm_env_unref(struct dm_env *e);
/* Unref n envelopes and free the array (NULL is fine). */
void dm_env_release_array(struct dm_env **evs, size_t n);

struct dmstore;

/* A new store. ids: the identity store (for inbox_seq, DM-4). cfg: INBOX_MAX, INBOX_TTL_MS,
 * INBOX_GLOBAL_MAX_BYTES (kept by pointer: it must outlive the store). */
struct dmstore *dm_new(struct idstore *ids, const struct config *cfg);
/* Free every inbox and envelope. No thread may be using the store (call dm_shutdown and stop
 * the server first). NULL is ignored. */
void dm_free(struct dmstore *s);
/* Wake every parked waiter (they return NULL) and refuse to park new ones (shutdown). */
void dm_shutdown(struct dmstore *s);

/* A validated DM (DM-1a..i passed). from: NULL for an anonymous DM (DM-3), else the verified
 * sender `fh` (DM-2). Strings are copied into the envelope. */
struct dm_in {
	const char *ct, *nonce, *eph, *from;
	size_t ct_len, nonce_len, eph_len, from_len;
};

enum dm_rc { DM_OK = 0, DM_FULL = -1, DM_NOMEM = -2 };

/* DM-1j, DM-4..6 for recipient to: check the byte fuse (DM_FULL: 503, no seq consumed),
 * take seq from inbox_seq, append, prune (DM-11), wake waiters. On DM_OK fills *seq and
 * id (37 bytes). now_ms is the envelope ts. */
enum dm_rc dm_send(struct dmstore *s, struct identity *to, const struct dm_in *in, int64_t now_ms, int64_t *seq,
		   char id[37]);

/* DM-7e: prune, then collect (refs held) up to max envelopes with seq > after, ascending;
 * *more is set when more were pending. Returns the count (0: none, *out NULL) or -1 on
 * allocation failure. *out is malloc'd: free with dm_env_release_array. */
long dm_page(struct dmstore *s, struct identity *id, int64_t after, size_t max, int64_t now_ms,
	     struct dm_env ***out, bool *more);

/* DM-7f / CAP-4: take a parked-waiter slot for id if it has fewer than cap; false when full
 * or shutting down. Every true must be paired with dm_waiter_release. */
bool dm_waiter_take(struct dmstore *s, struct identity *id, int64_t cap);
void dm_waiter_release(struct dmstore *s, struct identity *id);

/* DM-8: park (holding a waiter slot) until an envelope with seq > after is in the inbox, the
 * deadline (monotonic ms) passes or the store shuts down. Returns the first such envelope
 * (ref held) or NULL. Blocks. */
struct dm_env *dm_wait(struct dmstore *s, struct identity *id, int64_t after, int64_t deadline_mono);

/* DM-9: remove every envelope whose id is (msg_id, len); returns how many. */
size_t dm_delete(struct dmstore *s, struct identity *id, const char *msg_id, size_t len);

/* DM-11 for every inbox (the janitor tick); drops empty inboxes without waiters. Returns the
 * envelopes dropped. */
size_t dm_prune_all(struct dmstore *s, int64_t now_ms);

/* Bytes accounted against INBOX_GLOBAL_MAX_BYTES (the dm_buffer_bytes gauge). */
int64_t dm_bytes(struct dmstore *s);
/* Envelopes held in id's inbox (tests). */
size_t dm_count(struct dmstore *s, struct identity *id);

#endif
