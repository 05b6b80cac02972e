/* ratelimit — sharded token-bucket table (RL-1..RL-3). See ratelimit.h. */
#include "ratelimit.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RL_SHARDS 64
#define RL_MIN_SLOTS 16
/* Slack for binary rounding of continuous refill (10 x 0.1 token is 0.9999999999999999). */
#define RL_EPS 1e-9

struct rl_bucket {
	struct rl_bucket *next;
	uint64_t hash;
	int64_t last_ms; /* last refill, i.e. last rl_take */
	double tokens;
	double cap, rate;
	uint16_t keylen;
	bool digest; /* key holds the BLAKE2b digest of a key longer than RL_KEY_MAX */
	char key[];
};

struct rl_shard {
	pthread_mutex_t mu;
	struct rl_bucket **slots; /* chained hash table, nslots a power of two */
	size_t nslots;
	size_t count;
	char pad[64]; /* keep neighbouring shards' hot fields off one cache line */
};

struct rl_table {
	unsigned char sipkey[crypto_shorthash_KEYBYTES];
	atomic_size_t per_shard_max;
	struct rl_shard shards[RL_SHARDS];
};

struct rl_table *rl_new(void)
{
	struct rl_table *t;
	size_t i;

	if (sodium_init() < 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	randombytes_buf(t->sipkey, sizeof(t->sipkey));
	atomic_init(&t->per_shard_max, RL_DEFAULT_MAX_BUCKETS / RL_SHARDS);
	for (i = 0; i < RL_SHARDS; i++)
		pthread_mutex_init(&t->shards[i].mu, NULL);
	for (i = 0; i < RL_SHARDS; i++) {
		t->shards[i].slots = calloc(RL_MIN_SLOTS, sizeof(struct rl_bucket *));
		if (!t->shards[i].slots) {
			rl_free(t); /* shards without slots have nslots == 0 */
			return NULL;
		}
		t->shards[i].nslots = RL_MIN_SLOTS;
	}
	return t;
}

void rl_free(struct rl_table *t)
{
	size_t i, j;

	if (!t)
		return;
	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shards[i];

		for (j = 0; j < sh->nslots; j++) {
			struct rl_bucket *b = sh->slots[j], *next;

			for (; b; b = next) {
				next = b->next;
				free(b);
			}
		}
		free(sh->slots);
		pthread_mutex_destroy(&sh->mu);
	}
	free(t);
}

void rl_set_max(struct rl_table *t, size_t max_buckets)
{
	size_t per = max_buckets / RL_SHARDS;

	atomic_store(&t->per_shard_max, per ? per : 1);
}

/* Tokens after refilling b up to now_ms (b unchanged). */
static double rl_refilled(const struct rl_bucket *b, int64_t now_ms)
{
	double tokens = b->tokens;

	if (now_ms > b->last_ms && b->rate > 0) {
		/* Multiply first: integral rates then refill exact integers (10 ms at 100/s = 1). */
		tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
		if (tokens > b->cap)
			tokens = b->cap;
	}
	return tokens;
}

/* Removes, in one pass over the shard, every bucket idle for more than idle_ms, or with
 * full_only every bucket that has refilled to cap by now_ms; returns how many. */
static size_t rl_shard_drop(struct rl_shard *sh, int64_t now_ms, int64_t idle_ms, bool full_only)
{
	size_t i, n = 0;

	for (i = 0; i < sh->nslots; i++) {
		struct rl_bucket **pp = &sh->slots[i];

		while (*pp) {
			struct rl_bucket *b = *pp;
			bool drop;

			if (full_only)
				drop = rl_refilled(b, now_ms) >= b->cap - RL_EPS;
			else
				drop = now_ms - b->last_ms > idle_ms;
			if (drop) {
				*pp = b->next;
				free(b);
				n++;
			} else {
				pp = &b->next;
			}
		}
	}
	sh->count -= n;
	return n;
}

/* Doubles the slot array; on allocation failure the table just stays denser. */
static void rl_shard_grow(struct rl_shard *sh)
{
	size_t nn = sh->nslots * 2, i;
	struct rl_bucket **ns = calloc(nn, sizeof(struct rl_bucket *));

	if (!ns)
		return;
	for (i = 0; i < sh->nslots; i++) {
		struct rl_bucket *b = sh->slots[i], *next;

		for (; b; b = next) {
			size_t k = (size_t)(b->hash >> 6) & (nn - 1);

			next = b->next;
			b->next = ns[k];
			ns[k] = b;
		}
	}
	free(sh->slots);
	sh->slots = ns;
	sh->nslots = nn;
}

bool rl_take(struct rl_table *t, const char *key, size_t keylen, double cap, double rate_per_s,
	     int64_t now_ms)
{
	unsigned char digest[crypto_generichash_BYTES];
	unsigned char hbuf[crypto_shorthash_BYTES];
	bool hashed = false, ok;
	struct rl_shard *sh;
	struct rl_bucket *b;
	uint64_t h;
	size_t slot;

	if (keylen > RL_KEY_MAX) {
		crypto_generichash(digest, sizeof(digest), (const unsigned char *)key, keylen, NULL, 0);
		key = (const char *)digest;
		keylen = sizeof(digest);
		hashed = true;
	}
	crypto_shorthash(hbuf, (const unsigned char *)key, keylen, t->sipkey);
	memcpy(&h, hbuf, sizeof(h));
	/* Low 6 bits pick the shard, the rest the slot. */
	sh = &t->shards[h & (RL_SHARDS - 1)];

	pthread_mutex_lock(&sh->mu);
	slot = (size_t)(h >> 6) & (sh->nslots - 1);
	for (b = sh->slots[slot]; b; b = b->next)
		if (b->hash == h && b->keylen == keylen && b->digest == hashed &&
		    memcmp(b->key, key, keylen) == 0)
			break;
	if (!b) {
		if (sh->count >= atomic_load(&t->per_shard_max) &&
		    (rl_shard_drop(sh, now_ms, 0, true) == 0 ||
		     sh->count >= atomic_load(&t->per_shard_max))) {
			pthread_mutex_unlock(&sh->mu);
			return false; /* INV-11: full, refuse rather than skip the check */
		}
		b = malloc(sizeof(*b) + keylen);
		if (!b) {
			pthread_mutex_unlock(&sh->mu);
			return false;
		}
		b->hash = h;
		b->last_ms = now_ms;
		b->tokens = cap; /* RL-1: a bucket starts full */
		b->keylen = (uint16_t)keylen;
		b->digest = hashed;
		memcpy(b->key, key, keylen);
		if (sh->count >= sh->nslots) {
			rl_shard_grow(sh);
			slot = (size_t)(h >> 6) & (sh->nslots - 1);
		}
		b->next = sh->slots[slot];
		sh->slots[slot] = b;
		sh->count++;
	}
	b->cap = cap;
	b->rate = rate_per_s;
	b->tokens = rl_refilled(b, now_ms);
	if (now_ms > b->last_ms)
		b->last_ms = now_ms;
	/* RL-1: a request needs >= 1 token and takes 1. */
	ok = b->tokens >= 1.0 - RL_EPS;
	if (ok)
		b->tokens = b->tokens > 1.0 ? b->tokens - 1.0 : 0.0;
	pthread_mutex_unlock(&sh->mu);
	return ok;
}

size_t rl_sweep(struct rl_table *t, int64_t now_ms, int64_t idle_ms)
{
	size_t i, n = 0;

	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shards[i];

		pthread_mutex_lock(&sh->mu);
		n += rl_shard_drop(sh, now_ms, idle_ms, false);
		pthread_mutex_unlock(&sh->mu);
	}
	return n;
}

size_t rl_count(struct rl_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < RL_SHARDS; i++) {
		struct rl_shard *sh = &t->shards[i];

		pthread_mutex_lock(&sh->mu);
		n += sh->count;
		pthread_mutex_unlock(&sh->mu);
	}
	return n;
}
