#include "replay.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define RP_BUCKETS_MIN 1024

struct rp_ent {
	struct rp_ent *hnext; /* bucket chain */
	struct rp_ent *qnext; /* FIFO, oldest first */
	int64_t t;            /* insertion time (monotonic ms) */
	unsigned char key[REPLAY_KEY_BYTES];
};

struct replay {
	pthread_mutex_t mu;
	unsigned char hkey[crypto_generichash_KEYBYTES];
	struct rp_ent **b;
	size_t nb;            /* power of two */
	struct rp_ent *qhead, *qtail;
	size_t count, cap;
};

struct replay *replay_new(size_t cap)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	if (!rp)
		return NULL;
	rp->nb = RP_BUCKETS_MIN;
	rp->b = calloc(rp->nb, sizeof(*rp->b));
	if (!rp->b) {
		free(rp);
		return NULL;
	}
	rp->cap = cap;
	randombytes_buf(rp->hkey, sizeof(rp->hkey));
	pthread_mutex_init(&rp->mu, NULL);
	return rp;
}

void replay_free(struct replay *rp)
{
	if (!rp)
		return;
	struct rp_ent *e = rp->qhead;
	while (e) {
		struct rp_ent *n = e->qnext;
		free(e);
		e = n;
	}
	free(rp->b);
	pthread_mutex_destroy(&rp->mu);
	free(rp);
}

static void put_part(crypto_generichash_state *st, const char *p, size_t n)
{
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	crypto_generichash_update(st, len, sizeof(len));
	if (n)
		crypto_generichash_update(st, (const unsigned char *)p, n);
}

void replay_key(const struct replay *rp, struct replay_key *k, const char *a, size_t alen, const char *b,
		size_t blen, const char *c, size_t clen)
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, rp->hkey, sizeof(rp->hkey), sizeof(k->d));
	put_part(&st, a, a ? alen : 0);
	put_part(&st, b, b ? blen : 0);
	put_part(&st, c, c ? clen : 0);
	crypto_generichash_final(&st, k->d, sizeof(k->d));
}

static size_t bucket_of(const struct replay *rp, const unsigned char *key)
{
	uint64_t h;
	memcpy(&h, key, sizeof(h)); /* already a keyed hash */
	return (size_t)h & (rp->nb - 1);
}

static struct rp_ent **find(struct replay *rp, const unsigned char *key)
{
	struct rp_ent **pp = &rp->b[bucket_of(rp, key)];
	while (*pp && memcmp((*pp)->key, key, REPLAY_KEY_BYTES) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

/* REPLAY-1: entries older than the retention leave from the FIFO head. Amortised O(1). */
static size_t expire_locked(struct replay *rp, int64_t now)
{
	size_t n = 0;
	while (rp->qhead && now - rp->qhead->t > REPLAY_RETAIN_MS) {
		struct rp_ent *e = rp->qhead;
		struct rp_ent **pp = find(rp, e->key);
		*pp = e->hnext;
		rp->qhead = e->qnext;
		if (!rp->qhead)
			rp->qtail = NULL;
		free(e);
		rp->count--;
		n++;
	}
	return n;
}

/* Double the bucket array while the load factor exceeds 1 (best effort: on allocation
 * failure the chains just get longer). */
static void maybe_grow(struct replay *rp)
{
	if (rp->count < rp->nb)
		return;
	size_t nb = rp->nb * 2;
	struct rp_ent **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < rp->nb; i++) {
		struct rp_ent *e = rp->b[i];
		while (e) {
			struct rp_ent *n = e->hnext;
			uint64_t h;
			memcpy(&h, e->key, sizeof(h));
			size_t j = (size_t)h & (nb - 1);
			e->hnext = b[j];
			b[j] = e;
			e = n;
		}
	}
	free(rp->b);
	rp->b = b;
	rp->nb = nb;
}

bool replay_seen(struct replay *rp, const struct replay_key *k, int64_t now_ms)
{
	pthread_mutex_lock(&rp->mu);
	expire_locked(rp, now_ms);
	bool seen = *find(rp, k->d) != NULL;
	pthread_mutex_unlock(&rp->mu);
	return seen;
}

enum replay_rc replay_insert(struct replay *rp, const struct replay_key *k, int64_t now_ms)
{
	enum replay_rc rc = REPLAY_OK;
	struct rp_ent *e = malloc(sizeof(*e));
	pthread_mutex_lock(&rp->mu);
	expire_locked(rp, now_ms); /* REPLAY-3: purge expired entries first */
	struct rp_ent **pp = find(rp, k->d);
	if (*pp) {
		rc = REPLAY_DUP;
	} else if (rp->count >= rp->cap) {
		rc = REPLAY_FULL;
	} else if (!e) {
		rc = REPLAY_NOMEM;
	} else {
		memcpy(e->key, k->d, sizeof(e->key));
		/* keep the FIFO sorted even when callers' clocks were read in another order */
		e->t = rp->qtail && rp->qtail->t > now_ms ? rp->qtail->t : now_ms;
		e->hnext = NULL;
		e->qnext = NULL;
		*pp = e; /* append to its chain */
		if (rp->qtail)
			rp->qtail->qnext = e;
		else
			rp->qhead = e;
		rp->qtail = e;
		rp->count++;
		e = NULL;
		maybe_grow(rp);
	}
	pthread_mutex_unlock(&rp->mu);
	free(e);
	if (rc == REPLAY_FULL)
		metrics_inc(M_replay_cache_full_total); /* REPLAY-3 */
	return rc;
}

size_t replay_expire(struct replay *rp, int64_t now_ms)
{
	pthread_mutex_lock(&rp->mu);
	size_t n = expire_locked(rp, now_ms);
	pthread_mutex_unlock(&rp->mu);
	return n;
}

size_t replay_count(struct replay *rp)
{
	pthread_mutex_lock(&rp->mu);
	size_t n = rp->count;
	pthread_mutex_unlock(&rp->mu);
	return n;
}
