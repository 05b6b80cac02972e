#include "dm.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ids.h"
#include "identity.h"
#include "proto/json.h"

/* Room in front of the rendered object for `{"seq":<int64>,`, written once the seq is known
 * (under the store lock) so the envelope is rendered only once and outside the lock. */
#define SEQ_ROOM 32

struct inbox {
	struct inbox *prev, *next;    /* every inbox of the store (janitor, free) */
	struct identity *owner;
	struct dm_env **env;          /* ascending seq */
	size_t n, cap;
	int waiters;
	pthread_cond_t cv;            /* CLOCK_MONOTONIC */
};

struct dmstore {
	pthread_mutex_t mu;
	struct idstore *ids;
	const struct config *cfg;
	struct inbox *head;
	_Atomic int64_t bytes;        /* updated under mu; read lock-free for the gauge */
	bool closing;
};

void dm_env_unref(struct dm_env *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		free(e);
}

void dm_env_release_array(struct dm_env **evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dm_env_unref(evs[i]);
	free(evs);
}

struct dmstore *dm_new(struct idstore *ids, const struct config *cfg)
{
	struct dmstore *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ids = ids;
	s->cfg = cfg;
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

static void inbox_destroy(struct inbox *in)
{
	for (size_t i = 0; i < in->n; i++)
		dm_env_unref(in->env[i]);
	free(in->env);
	pthread_cond_destroy(&in->cv);
	free(in);
}

void dm_free(struct dmstore *s)
{
	if (!s)
		return;
	struct inbox *in = s->head;
	while (in) {
		struct inbox *next = in->next;
		in->owner->inbox = NULL;
		inbox_destroy(in);
		in = next;
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void dm_shutdown(struct dmstore *s)
{
	pthread_mutex_lock(&s->mu);
	s->closing = true;
	for (struct inbox *in = s->head; in; in = in->next)
		pthread_cond_broadcast(&in->cv);
	pthread_mutex_unlock(&s->mu);
}

static struct inbox *inbox_get(struct dmstore *s, struct identity *id, bool create)
{
	struct inbox *in = id->inbox;
	if (in || !create)
		return in;
	in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&in->cv, &ca);
	pthread_condattr_destroy(&ca);
	in->owner = id;
	in->next = s->head;
	if (s->head)
		s->head->prev = in;
	s->head = in;
	id->inbox = in;
	return in;
}

/* DM-11: drop empty inboxes (unless a waiter holds them). */
static void inbox_maybe_free(struct dmstore *s, struct inbox *in)
{
	if (in->n || in->waiters)
		return;
	if (in->prev)
		in->prev->next = in->next;
	else
		s->head = in->next;
	if (in->next)
		in->next->prev = in->prev;
	in->owner->inbox = NULL;
	inbox_destroy(in);
}

/* DM-11: drop from the head the envelopes older than INBOX_TTL_MS, then the oldest beyond
 * INBOX_MAX, releasing their bytes. Returns the number dropped. */
static size_t prune_locked(struct dmstore *s, struct inbox *in, int64_t now)
{
	size_t k = 0;
	int64_t max = s->cfg->inbox_max;
	while (k < in->n && in->env[k]->ts < now - s->cfg->inbox_ttl_ms)
		k++;
	if ((int64_t)(in->n - k) > max)
		k = in->n - (size_t)(max > 0 ? max : 0);
	for (size_t i = 0; i < k; i++) {
		atomic_fetch_sub(&s->bytes, (int64_t)in->env[i]->bytes);
		dm_env_unref(in->env[i]);
	}
	if (k) {
		memmove(in->env, in->env + k, (in->n - k) * sizeof(*in->env));
		in->n -= k;
	}
	return k;
}

/* DM-5 envelope minus its seq: `{"id":…,"ts":…}` rendered at buf + SEQ_ROOM. */
static struct dm_env *render(const struct dm_in *in, int64_t now, const char *id)
{
	struct jw w;
	size_t est = in->ct_len + in->nonce_len + in->eph_len + in->from_len * 6 + 192;
	jw_init(&w, est, est + 64);
	jw_obj(&w);
	jw_key(&w, "id");
	jw_cstr(&w, id);
	jw_key(&w, "ciphertext");
	jw_str(&w, in->ct, in->ct_len);
	jw_key(&w, "nonce");
	jw_str(&w, in->nonce, in->nonce_len);
	jw_key(&w, "sender_eph_pub");
	jw_str(&w, in->eph, in->eph_len);
	jw_key(&w, "from_handle");
	if (in->from)
		jw_str(&w, in->from, in->from_len);
	else
		jw_null(&w); /* DM-3 */
	jw_key(&w, "from_verified");
	jw_bool(&w, in->from != NULL);
	jw_key(&w, "ts");
	jw_int(&w, now);
	jw_obj_end(&w);
	size_t len;
	char *tail = jw_take(&w, &len);
	if (!tail)
		return NULL;
	struct dm_env *e = malloc(sizeof(*e) + SEQ_ROOM + len + 1);
	if (e) {
		atomic_init(&e->refs, 1);
		e->ts = now;
		memcpy(e->id, id, sizeof(e->id));
		e->bytes = in->ct_len + DM_ENV_OVERHEAD; /* base64 is ASCII: bytes == units */
		memcpy(e->buf + SEQ_ROOM, tail, len + 1);
		e->len = len;
		e->json = e->buf + SEQ_ROOM;
	}
	free(tail);
	return e;
}

/* Turn the rendered `{"id":…` into `{"seq":N,"id":…` in place (DM-5 key order). */
static void set_seq(struct dm_env *e, int64_t seq)
{
	char pre[SEQ_ROOM];
	int n = snprintf(pre, sizeof(pre), "{\"seq\":%" PRId64 ",", seq);
	char *start = e->buf + SEQ_ROOM + 1 - n; /* the prefix replaces the object's '{' */
	memcpy(start, pre, (size_t)n);
	e->seq = seq;
	e->json = start;
	e->len += (size_t)n - 1;
}

enum dm_rc dm_send(struct dmstore *s, struct identity *to, const struct dm_in *in, int64_t now_ms, int64_t *seq,
		   char id[37])
{
	char uuid[37];
	crypto_uuid_v4(uuid);
	struct dm_env *e = render(in, now_ms, uuid);
	if (!e)
		return DM_NOMEM;
	enum dm_rc rc = DM_OK;
	pthread_mutex_lock(&s->mu);
	if (atomic_load(&s->bytes) + (int64_t)e->bytes > s->cfg->inbox_global_max_bytes) {
		rc = DM_FULL; /* DM-1j: refused before a seq is taken (INV-9) */
		goto out;
	}
	struct inbox *box = inbox_get(s, to, true);
	if (!box) {
		rc = DM_NOMEM;
		goto out;
	}
	if (box->n == box->cap) {
		size_t ncap = box->cap ? box->cap * 2 : 16;
		struct dm_env **nv = realloc(box->env, ncap * sizeof(*nv));
		if (!nv) {
			inbox_maybe_free(s, box);
			rc = DM_NOMEM;
			goto out;
		}
		box->env = nv;
		box->cap = ncap;
	}
	set_seq(e, ids_next_inbox_seq(s->ids, to, now_ms)); /* DM-4, in append order */
	box->env[box->n++] = e;
	atomic_fetch_add(&s->bytes, (int64_t)e->bytes);
	*seq = e->seq;
	memcpy(id, uuid, 37);
	e = NULL; /* the inbox owns it */
	prune_locked(s, box, now_ms); /* DM-6: append, prune */
	if (box->n && strcmp(box->env[box->n - 1]->id, uuid) == 0)
		pthread_cond_broadcast(&box->cv); /* wake waiters if it survived */
	inbox_maybe_free(s, box);
out:
	pthread_mutex_unlock(&s->mu);
	free(e);
	return rc;
}

/* Index of the first envelope with seq > after (inboxes are in ascending seq order). */
static size_t first_after(const struct inbox *in, int64_t after)
{
	size_t lo = 0, hi = in->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (in->env[mid]->seq > after)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

long dm_page(struct dmstore *s, struct identity *id, int64_t after, size_t max, int64_t now_ms,
	     struct dm_env ***out, bool *more)
{
	long n = 0;
	*out = NULL;
	*more = false;
	pthread_mutex_lock(&s->mu);
	struct inbox *in = inbox_get(s, id, false);
	if (in) {
		prune_locked(s, in, now_ms); /* DM-11: prune on inbox wait */
		size_t i = first_after(in, after), avail = in->n - i;
		size_t take = avail < max ? avail : max;
		if (take) {
			*out = malloc(take * sizeof(**out));
			if (!*out) {
				n = -1;
			} else {
				for (size_t k = 0; k < take; k++) {
					atomic_fetch_add(&in->env[i + k]->refs, 1);
					(*out)[k] = in->env[i + k];
				}
				n = (long)take;
				*more = avail > take;
			}
		}
		inbox_maybe_free(s, in);
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

bool dm_waiter_take(struct dmstore *s, struct identity *id, int64_t cap)
{
	bool ok = false;
	pthread_mutex_lock(&s->mu);
	struct inbox *in = s->closing ? NULL : inbox_get(s, id, true);
	if (in) {
		ok = in->waiters < cap; /* CAP-15: tested before incrementing */
		if (ok)
			in->waiters++;
		else
			inbox_maybe_free(s, in);
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

void dm_waiter_release(struct dmstore *s, struct identity *id)
{
	pthread_mutex_lock(&s->mu);
	struct inbox *in = id->inbox;
	if (in) {
		in->waiters--;
		inbox_maybe_free(s, in);
	}
	pthread_mutex_unlock(&s->mu);
}

struct dm_env *dm_wait(struct dmstore *s, struct identity *id, int64_t after, int64_t deadline_mono)
{
	struct dm_env *e = NULL;
	struct timespec ts = {.tv_sec = (time_t)(deadline_mono / 1000), .tv_nsec = (long)(deadline_mono % 1000) * 1000000};
	pthread_mutex_lock(&s->mu);
	struct inbox *in = id->inbox; /* held by our waiter slot */
	while (in && !s->closing) {
		size_t i = first_after(in, after);
		if (i < in->n) {
			e = in->env[i]; /* DM-8: the new envelope */
			atomic_fetch_add(&e->refs, 1);
			break;
		}
		if (pthread_cond_timedwait(&in->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return e;
}

size_t dm_delete(struct dmstore *s, struct identity *id, const char *msg_id, size_t len)
{
	size_t removed = 0;
	pthread_mutex_lock(&s->mu);
	struct inbox *in = id->inbox;
	if (in) {
		size_t o = 0;
		for (size_t i = 0; i < in->n; i++) {
			struct dm_env *e = in->env[i];
			if (len == 36 && memcmp(e->id, msg_id, 36) == 0) {
				atomic_fetch_sub(&s->bytes, (int64_t)e->bytes);
				dm_env_unref(e);
				removed++;
			} else {
				in->env[o++] = e;
			}
		}
		in->n = o;
		inbox_maybe_free(s, in);
	}
	pthread_mutex_unlock(&s->mu);
	return removed;
}

size_t dm_prune_all(struct dmstore *s, int64_t now_ms)
{
	size_t n = 0;
	pthread_mutex_lock(&s->mu);
	struct inbox *in = s->head;
	while (in) {
		struct inbox *next = in->next;
		n += prune_locked(s, in, now_ms);
		inbox_maybe_free(s, in);
		in = next;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

int64_t dm_bytes(struct dmstore *s)
{
	return atomic_load(&s->bytes);
}

size_t dm_count(struct dmstore *s, struct identity *id)
{
	pthread_mutex_lock(&s->mu);
	size_t n = id->inbox ? id->inbox->n : 0;
	pthread_mutex_unlock(&s->mu);
	return n;
}
