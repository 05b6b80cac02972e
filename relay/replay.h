/* replay — the signature replay caches of PROTOCOL.md §11.2 (REPLAY-1..3, CAP-12).
 *
 * One struct replay per cache (register sigs, request-auth nonces, room-sig nonces, DM
 * envelopes). Each remembers keys for at least REPLAY_RETAIN_MS after insertion (REPLAY-1:
 * twice the VAL-7 skew, so a signed ts that could still pass is never forgotten) and is bound
 * only by its global cap (REPLAY-2: no per-handle cap).
 *
 * Keys are built with replay_key() from up to three parts (e.g. handle and nonce) and stored as
 * a keyed BLAKE2b digest (random key per cache), so entries have a fixed size and clients
 * cannot aim at one hash bucket. Lookup, insert and expiry are O(1): a hash table for
 * membership plus a FIFO in insertion order, whose head is always the oldest entry.
 *
 * Usage on a signed route: replay_seen() as the cheap "unused" check before verifying, then
 * replay_insert() only after the signature verified (REPLAY-2). Two identical requests racing
 * past replay_seen() are still told apart: exactly one replay_insert() returns REPLAY_OK.
 *
 * Thread-safe: one mutex per cache, held for a hash lookup and pointer updates only (hashing
 * is done outside it). Nothing blocks or does I/O. Time is a caller-supplied monotonic ms
 * clock (clock_mono_ms()), so tests inject it.
 */
#ifndef SEALROOM_RELAY_REPLAY_H
#define SEALROOM_RELAY_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLAY_RETAIN_MS 120000 /* REPLAY-1: >= 2 x the 60 s skew */
#define REPLAY_KEY_BYTES 16

enum replay_rc {
	REPLAY_OK = 0,     /* inserted */
	REPLAY_DUP = -1,   /* already present: the route's replay error */
	REPLAY_FULL = -2,  /* REPLAY-3: full even after purging expired entries (503) */
	REPLAY_NOMEM = -3, /* allocation failure (500) */
};

struct replay;

/* A digest of the parts of a cache key; plain data, fine on the stack. */
struct replay_key {
	unsigned char d[REPLAY_KEY_BYTES];
};

/* A new empty cache holding at most cap entries; NULL on allocation failure. */
struct replay *replay_new(size_t cap);
/* Free the cache and its entries; no other thread may use it. NULL is ignored. */
void replay_free(struct replay *rp);

/* Build the key of (a, b, c) for rp; unused parts are NULL/0. Each part is length-prefixed,
 * so ("ab","c") and ("a","bc") differ. */
void replay_key(const struct replay *rp, struct replay_key *k, const char *a, size_t alen, const char *b,
		size_t blen, const char *c, size_t clen);

/* True iff k was inserted and has not expired (REPLAY-1). Does not modify the cache. */
bool replay_seen(struct replay *rp, const struct replay_key *k, int64_t now_ms);

/* Insert k. At the cap, expired entries are purged first; if none can go the cache refuses
 * (REPLAY_FULL, counting replay_cache_full_total). A key already present gives REPLAY_DUP
 * and is left as it is. */
enum replay_rc replay_insert(struct replay *rp, const struct replay_key *k, int64_t now_ms);

/* Drop every entry older than REPLAY_RETAIN_MS (the janitor calls this each tick). Returns
 * the number dropped. */
size_t replay_expire(struct replay *rp, int64_t now_ms);

/* Entries currently held (the replay_cache_entries gauge sums the four caches). */
size_t replay_count(struct replay *rp);

#endif
