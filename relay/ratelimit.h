/*
 * ratelimit — token buckets keyed by string (PROTOCOL.md §14, RL-1..RL-3).
 *
 * One table holds every bucket (RL-2: all keys share one namespace; callers build keys such as
 * "<ip>|<roomId>", "<ip>|register", "<ip>" for the global bucket). Thread-safe: the table is
 * split into shards, each with its own mutex, held only for a hash lookup and a few arithmetic
 * operations (never across I/O), so any number of threads may call rl_take concurrently.
 * Nothing else blocks.
 *
 * Time: now_ms is a caller-supplied MONOTONIC millisecond clock (clock_mono_ms() from
 * proto/clock.h), so wall-clock jumps neither refill nor drain buckets; a now_ms older than a
 * bucket's last update counts as no time elapsed. Tests inject time freely.
 *
 * Memory: each bucket is one allocation of ~64 bytes plus its key. Keys longer than
 * RL_KEY_MAX bytes (e.g. a garbage X-Forwarded-For entry) are stored as their 32-byte BLAKE2b
 * digest, so a bucket never exceeds ~64 + RL_KEY_MAX bytes. The table holds at most
 * rl_set_max() buckets (INV-11); see rl_take for what happens at the cap. Bucket lookup uses
 * SipHash with a per-table random key, so clients cannot force hash collisions.
 */
#ifndef RELAY_RATELIMIT_H
#define RELAY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_KEY_MAX 256
/* Default bucket cap of a new table. */
#define RL_DEFAULT_MAX_BUCKETS 262144
/* RL-1: buckets idle for longer than this MAY be discarded (the janitor's idle_ms). */
#define RL_IDLE_MS (5 * 60 * 1000)

struct rl_table;

/* A new empty table with RL_DEFAULT_MAX_BUCKETS; NULL if memory or libsodium init fails. */
struct rl_table *rl_new(void);
/* Frees t and every bucket; no other thread may be using t. NULL is ignored. */
void rl_free(struct rl_table *t);

/*
 * Caps the number of buckets (split evenly across the shards; at least one per shard). Takes
 * effect for later insertions; existing buckets are kept. Thread-safe.
 */
void rl_set_max(struct rl_table *t, size_t max_buckets);

/*
 * RL-1: takes one token from the bucket of key (keylen bytes, any bytes), creating it full
 * (cap tokens) on first use. Before taking, the bucket refills continuously:
 * tokens = min(cap, tokens + elapsed_ms * rate_per_s / 1000). Returns true iff at least 1
 * token was available (and takes it); false leaves the bucket as it is. cap and rate_per_s
 * should be the same for every call with one key.
 * At the bucket cap, a new key first evicts the buckets of its shard that have refilled to
 * full (indistinguishable from absent ones); if none can go, the call returns false (refused,
 * INV-11: a full cap never skips the check). Allocation failure also returns false.
 */
bool rl_take(struct rl_table *t, const char *key, size_t keylen, double cap, double rate_per_s,
	     int64_t now_ms);

/* RL-1: drops every bucket not used (rl_take) for more than idle_ms before now_ms (the janitor
 * calls this with RL_IDLE_MS). Returns the number dropped. */
size_t rl_sweep(struct rl_table *t, int64_t now_ms, int64_t idle_ms);

/* Number of buckets currently held. */
size_t rl_count(struct rl_table *t);

#endif
