#include "claim.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ids.h"
#include "hub.h"
#include "identity.h"
#include "proto/json.h"
#include "proto/utf16.h"

struct crec {
	struct crec *prev, *next;     /* most recently touched first */
	char room[65];
	int64_t cursor;
	bool inflight;
	char claim_id[37];
	int64_t seq, claimed_at, ttl_ms;
};

struct claim_handle {
	pthread_mutex_t mu;
	struct claim_handle *all_next; /* store list; store mutex */
	struct identity *owner;
	struct crec *head, *tail;
	size_t n;
};

struct claims {
	pthread_mutex_t mu;
	size_t max;
	struct claim_handle *all;
};

struct claims *claims_new(int64_t per_handle_max)
{
	struct claims *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->max = per_handle_max < 1 ? 1 : (size_t)per_handle_max;
	pthread_mutex_init(&cs->mu, NULL);
	return cs;
}

void claims_free(struct claims *cs)
{
	if (!cs)
		return;
	struct claim_handle *ch = cs->all;
	while (ch) {
		struct claim_handle *next = ch->all_next;
		struct crec *r = ch->head;
		while (r) {
			struct crec *rn = r->next;
			free(r);
			r = rn;
		}
		ch->owner->claims = NULL;
		pthread_mutex_destroy(&ch->mu);
		free(ch);
		ch = next;
	}
	pthread_mutex_destroy(&cs->mu);
	free(cs);
}

/* ---- exclude set (CLAIM-4) ----------------------------------------------------------------- */

static int item_cmp(const void *a, const void *b)
{
	const struct claim_excl_item *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->s, y->s, x->len);
}

int claim_excl_build(struct claim_excl *ex, const char *handle, size_t handle_len, const cJSON *exclude_senders)
{
	size_t cap = 2;
	memset(ex, 0, sizeof(*ex));
	if (handle_len > sizeof(ex->at_handle) - 2)
		return -1;
	if (cJSON_IsArray(exclude_senders))
		cap += (size_t)cJSON_GetArraySize(exclude_senders);
	ex->items = malloc(cap * sizeof(*ex->items));
	if (!ex->items)
		return -1;
	ex->at_handle[0] = '@';
	memcpy(ex->at_handle + 1, handle, handle_len);
	ex->items[ex->n++] = (struct claim_excl_item){handle, handle_len};
	ex->items[ex->n++] = (struct claim_excl_item){ex->at_handle, handle_len + 1};
	if (cJSON_IsArray(exclude_senders)) {
		for (const cJSON *v = exclude_senders->child; v; v = v->next) {
			const char *s;
			size_t len, units;
			if (!json_str(v, &s, &len))
				continue; /* only string elements */
			units = u16_len(s, len);
			if (units >= 1 && units <= 64)
				ex->items[ex->n++] = (struct claim_excl_item){s, len};
		}
	}
	qsort(ex->items, ex->n, sizeof(*ex->items), item_cmp);
	return 0;
}

void claim_excl_free(struct claim_excl *ex)
{
	free(ex->items);
	ex->items = NULL;
	ex->n = 0;
}

bool claim_excl_has(const struct claim_excl *ex, const char *label, size_t len)
{
	struct claim_excl_item key = {label, len};
	return ex->n && bsearch(&key, ex->items, ex->n, sizeof(*ex->items), item_cmp) != NULL;
}

/* room_pick's skip callback: runs under the room lock, touches nothing else. */
static bool skip_excluded(void *arg, const struct event *e)
{
	return claim_excl_has(arg, e->label, e->label_len);
}

/* ---- records ----------------------------------------------------------------------------- */

static struct claim_handle *handle_get(struct claims *cs, struct identity *id, bool create)
{
	pthread_mutex_lock(&cs->mu);
	struct claim_handle *ch = id->claims;
	if (!ch && create) {
		ch = calloc(1, sizeof(*ch));
		if (ch) {
			pthread_mutex_init(&ch->mu, NULL);
			ch->owner = id;
			ch->all_next = cs->all;
			cs->all = ch;
			id->claims = ch;
		}
	}
	pthread_mutex_unlock(&cs->mu);
	return ch;
}

static struct crec *rec_find(struct claim_handle *ch, const char *room_id)
{
	for (struct crec *r = ch->head; r; r = r->next)
		if (strcmp(r->room, room_id) == 0)
			return r;
	return NULL;
}

static void rec_unlink(struct claim_handle *ch, struct crec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		ch->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		ch->tail = r->prev;
	r->prev = r->next = NULL;
	ch->n--;
}

static void rec_push_front(struct claim_handle *ch, struct crec *r)
{
	r->prev = NULL;
	r->next = ch->head;
	if (ch->head)
		ch->head->prev = r;
	else
		ch->tail = r;
	ch->head = r;
	ch->n++;
}

/* CLAIM-2: get or create, touching it; a new record beyond the cap evicts the stalest
 * (CAP-11). New records start at cursor 0 with no inflight. */
static struct crec *rec_touch(struct claims *cs, struct claim_handle *ch, const char *room_id)
{
	struct crec *r = rec_find(ch, room_id);
	if (r) {
		rec_unlink(ch, r);
		rec_push_front(ch, r);
		return r;
	}
	size_t len = strlen(room_id);
	if (len >= sizeof(r->room))
		return NULL;
	if (ch->n >= cs->max) {
		/* CAP-11: records are added one at a time, so at most the stalest one goes */
		struct crec *old = ch->tail;
		if (!old)
			return NULL; /* a cap of 0 refuses every record */
		rec_unlink(ch, old);
		free(old);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	memcpy(r->room, room_id, len + 1);
	rec_push_front(ch, r);
	return r;
}

static bool expired(const struct crec *r, int64_t now)
{
	return now - r->claimed_at > r->ttl_ms; /* §13: expired when now - claimed_at > ttl_ms */
}

int claim_take(struct claims *cs, struct hub *h, struct room *room, struct identity *id, const char *room_id,
	       const struct claim_excl *ex, int64_t ttl_ms, bool clamp, int64_t now_ms, struct claim_out *out)
{
	struct room_pick p;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	struct claim_handle *ch = handle_get(cs, id, true);
	if (!ch)
		return -1;
	pthread_mutex_lock(&ch->mu);
	struct crec *r = rec_touch(cs, ch, room_id);
	if (!r) {
		rc = -1;
		goto out;
	}
	if (r->inflight && !expired(r, now_ms)) {
		/* CLAIM-3: a live lease whose message is still buffered is returned again */
		room_pick(h, room, r->seq - 1, r->seq, NULL, NULL, &p);
		if (clamp && p.oldest_seq && r->cursor < p.oldest_seq - 1)
			r->cursor = p.oldest_seq - 1; /* CLAIM-2 */
		if (p.held_buffered && p.pick && p.pick->seq == r->seq) {
			out->got = out->again = true;
			memcpy(out->claim_id, r->claim_id, sizeof(out->claim_id));
			out->ev = p.pick;
			out->cursor = r->cursor;
			out->last_seq = p.last_seq;
			goto out;
		}
		if (p.pick)
			ev_unref(p.pick);
	}
	r->inflight = false; /* expired, pruned, or none */
	room_pick(h, room, r->cursor, 0, skip_excluded, (void *)ex, &p);
	if (clamp && p.oldest_seq && r->cursor < p.oldest_seq - 1)
		r->cursor = p.oldest_seq - 1; /* CLAIM-2 (the pick above is the same either way:
						 * every buffered seq is >= oldest_seq) */
	out->cursor = r->cursor;
	out->last_seq = p.last_seq;
	if (p.pick) {
		/* CLAIM-5 */
		crypto_uuid_v4(r->claim_id);
		r->inflight = true;
		r->seq = p.pick->seq;
		r->claimed_at = now_ms;
		r->ttl_ms = ttl_ms;
		out->got = true;
		memcpy(out->claim_id, r->claim_id, sizeof(out->claim_id));
		out->ev = p.pick;
	}
out:
	pthread_mutex_unlock(&ch->mu);
	return rc;
}

enum claim_ack_rc claim_ack(struct claims *cs, struct identity *id, const char *room_id, const char *claim_id,
			    size_t claim_id_len, int64_t seq, int64_t now_ms, int64_t *cursor)
{
	enum claim_ack_rc rc;
	*cursor = 0;
	struct claim_handle *ch = handle_get(cs, id, false);
	if (!ch)
		return CLAIM_ACK_NO_RECORD; /* ACK-1 */
	pthread_mutex_lock(&ch->mu);
	struct crec *r = rec_find(ch, room_id); /* not touched */
	if (!r) {
		rc = CLAIM_ACK_NO_RECORD; /* ACK-1 */
	} else if (seq != 0 && seq <= r->cursor) {
		rc = CLAIM_ACK_BEHIND; /* ACK-2 */
	} else if (!r->inflight || expired(r, now_ms) || claim_id_len != 36 ||
		   memcmp(claim_id, r->claim_id, 36) != 0 || seq != r->seq) {
		rc = CLAIM_ACK_STALE; /* ACK-3 */
	} else {
		r->cursor = seq; /* ACK-4 */
		r->inflight = false;
		rc = CLAIM_ACK_ADVANCED;
	}
	if (r)
		*cursor = r->cursor;
	pthread_mutex_unlock(&ch->mu);
	return rc;
}

size_t claim_records(struct claims *cs, struct identity *id)
{
	struct claim_handle *ch = handle_get(cs, id, false);
	if (!ch)
		return 0;
	pthread_mutex_lock(&ch->mu);
	size_t n = ch->n;
	pthread_mutex_unlock(&ch->mu);
	return n;
}
