/* hub.c — rooms, buffers, the live event chain, presence. See hub.h for the locking model. */
#include "hub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ids.h"
#include "fault.h"
#include "proto/clock.h"
#include "proto/json.h"

#define HEARTBEAT_VISIBLE_MS 60000 /* PRES-2, ROOM-LISTEN-4 */

struct hub {
	const struct config *cfg;
	pthread_mutex_t mu;
	struct room **table;
	size_t nbuckets;
	_Atomic size_t nrooms;
	_Atomic int64_t buf_bytes;     /* ROOM-11 */
	_Atomic int64_t nsubs;         /* gauges */
	_Atomic int64_t nwaiters;
	_Atomic bool closing;
};

/* ---- events ------------------------------------------------------------------------------ */

void ev_ref(struct event *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

/* Iterative: freeing an event drops its reference on the next one in the chain. */
void ev_unref(struct event *e)
{
	while (e && atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
		struct event *next = e->next;
		free(e);
		e = next;
	}
}

void ev_release_array(struct event **evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ev_unref(evs[i]);
	free(evs);
}

static struct event *ev_new_extra(enum ev_type type, const char *json, size_t len, size_t extra)
{
	struct event *e = calloc(1, sizeof(*e) + len + 1 + extra);
	if (!e)
		return NULL;
	atomic_init(&e->refs, 1);
	e->type = type;
	e->len = len;
	memcpy(e->json, json, len);
	e->json[len] = '\0';
	return e;
}

static struct event *ev_new(enum ev_type type, const char *json, size_t len)
{
	return ev_new_extra(type, json, len, 0);
}

/* Append to the live chain and wake everyone waiting on the room. Takes over the caller's
 * reference to e (it becomes the room's tail reference). Room lock held. */
static void chain_append(struct room *room, struct event *e)
{
	struct event *old = room->tail;
	old->next = e;     /* the old tail's link now owns a reference ... */
	ev_ref(e);         /* ... and the room's tail pointer owns the caller's */
	room->tail = e;
	room->appended += e->len;
	ev_unref(old);     /* the room no longer points at the old tail */
	pthread_cond_broadcast(&room->cv);
}

/* ---- hub and rooms ----------------------------------------------------------------------- */

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct hub *hub_new(const struct config *cfg)
{
	struct hub *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->cfg = cfg;
	h->nbuckets = 8192;
	h->table = calloc(h->nbuckets, sizeof(*h->table));
	if (!h->table) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	return h;
}

static void room_destroy(struct hub *h, struct room *room)
{
	for (size_t i = 0; i < room->count; i++) {
		struct event *e = room->buf[(room->head + i) % room->cap];
		atomic_fetch_sub(&h->buf_bytes, (int64_t)e->bytes);
		ev_unref(e);
	}
	free(room->buf);
	ev_unref(room->tail);
	free(room->hbs);
	pthread_mutex_destroy(&room->mu);
	pthread_cond_destroy(&room->cv);
	free(room);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct room *r = h->table[i];
		while (r) {
			struct room *n = r->hnext;
			room_destroy(h, r);
			r = n;
		}
	}
	free(h->table);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

void hub_shutdown(struct hub *h)
{
	atomic_store(&h->closing, true);
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->nbuckets; i++)
		for (struct room *r = h->table[i]; r; r = r->hnext) {
			pthread_mutex_lock(&r->mu);
			r->closing = true;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
		}
	pthread_mutex_unlock(&h->mu);
}

bool hub_closing(struct hub *h)
{
	return atomic_load(&h->closing);
}

size_t hub_room_count(struct hub *h)
{
	return atomic_load(&h->nrooms);
}

void hub_gauges(struct hub *h, struct metrics_gauges *g)
{
	memset(g, 0, sizeof(*g));
	g->active_rooms = (int64_t)atomic_load(&h->nrooms);
	g->active_subs = atomic_load(&h->nsubs);
	g->parked_waiters = atomic_load(&h->nwaiters);
	g->room_buffer_bytes = atomic_load(&h->buf_bytes);
}

static struct room *room_new(const char *id, int64_t now)
{
	struct room *room = calloc(1, sizeof(*room));
	if (!room)
		return NULL;
	room->tail = ev_new(EV_START, "", 0);
	if (!room->tail) {
		free(room);
		return NULL;
	}
	snprintf(room->id, sizeof(room->id), "%s", id);
	pthread_mutex_init(&room->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&room->cv, &ca);
	pthread_condattr_destroy(&ca);
	room->created_at = room->last_active = room->next_seq = now; /* ROOM-1, ROOM-7 */
	return room;
}

/* Unlink room from the table. Hub lock held. */
static void unlink_room(struct hub *h, struct room *room)
{
	struct room **pp = &h->table[hash_id(room->id) & (h->nbuckets - 1)];
	while (*pp && *pp != room)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = room->hnext;
	atomic_fetch_sub(&h->nrooms, 1);
	metrics_inc(M_rooms_evicted_total);
}

/* ROOM-2: evict the idle room (no handler refs) with the smallest lastActive. Hub lock held. */
static bool evict_stalest(struct hub *h)
{
	struct room *best = NULL;
	int64_t best_la = 0;
	for (size_t i = 0; i < h->nbuckets; i++)
		for (struct room *r = h->table[i]; r; r = r->hnext) {
			if (r->refs)
				continue;
			pthread_mutex_lock(&r->mu);
			int64_t la = r->last_active;
			pthread_mutex_unlock(&r->mu);
			if (!best || la < best_la) {
				best = r;
				best_la = la;
			}
		}
	if (!best)
		return false;
	unlink_room(h, best);
	room_destroy(h, best);
	return true;
}

struct room *hub_get(struct hub *h, const char *id, bool create, bool *capped)
{
	struct room *room;
	size_t b = hash_id(id) & (h->nbuckets - 1);
	if (capped)
		*capped = false;
	pthread_mutex_lock(&h->mu);
	for (room = h->table[b]; room; room = room->hnext)
		if (strcmp(room->id, id) == 0)
			break;
	if (!room && create) {
		if ((int64_t)atomic_load(&h->nrooms) >= h->cfg->rooms_max && !evict_stalest(h)) {
			if (capped)
				*capped = true;
		} else if ((room = room_new(id, clock_now_ms())) != NULL) {
			room->hnext = h->table[b];
			h->table[b] = room;
			atomic_fetch_add(&h->nrooms, 1);
			metrics_inc(M_rooms_created_total);
		}
	}
	if (room)
		room->refs++;
	pthread_mutex_unlock(&h->mu);
	return room;
}

void hub_release(struct hub *h, struct room *room)
{
	if (!room)
		return;
	pthread_mutex_lock(&h->mu);
	room->refs--;
	pthread_mutex_unlock(&h->mu);
}

/* ---- buffer ------------------------------------------------------------------------------ */

static struct event *buf_at(const struct room *room, size_t i)
{
	return room->buf[(room->head + i) % room->cap];
}

static void buf_drop_head(struct hub *h, struct room *room)
{
	struct event *e = room->buf[room->head];
	room->head = (room->head + 1) % room->cap;
	room->count--;
	if (e->ttl_ms > 0)
		room->n_ttl--;
	atomic_fetch_sub(&h->buf_bytes, (int64_t)e->bytes);
	ev_unref(e);
}

/* ROOM-9, in its order. Room lock held. */
static void prune(struct hub *h, struct room *room, int64_t now)
{
	const struct config *cfg = h->cfg;
	while (room->count && buf_at(room, 0)->ts < now - cfg->recent_ttl_ms)
		buf_drop_head(h, room);
	if (room->n_ttl) {
		size_t w = 0;
		for (size_t i = 0; i < room->count; i++) {
			struct event *e = buf_at(room, i);
			if (e->ttl_ms > 0 && (double)e->ts + e->ttl_ms <= (double)now) {
				room->n_ttl--;
				atomic_fetch_sub(&h->buf_bytes, (int64_t)e->bytes);
				ev_unref(e);
				continue;
			}
			room->buf[(room->head + w) % room->cap] = e;
			w++;
		}
		room->count = w;
	}
	while (room->count > (size_t)cfg->recent_max)
		buf_drop_head(h, room);
}

static int buf_push(struct room *room, struct event *e, size_t max)
{
	if (room->count == room->cap) {
		size_t ncap = room->cap ? room->cap * 2 : 16;
		if (ncap > max + 1)
			ncap = max + 1;
		if (ncap <= room->count)
			ncap = room->count + 1;
		struct event **nb = malloc(ncap * sizeof(*nb));
		if (!nb)
			return -1;
		for (size_t i = 0; i < room->count; i++)
			nb[i] = buf_at(room, i);
		free(room->buf);
		room->buf = nb;
		room->head = 0;
		room->cap = ncap;
	}
	room->buf[(room->head + room->count) % room->cap] = e;
	room->count++;
	return 0;
}

static int64_t last_seq(const struct room *room)
{
	return room->count ? buf_at(room, room->count - 1)->seq : 0; /* ROOM-8 */
}

/* ---- presence ------------------------------------------------------------------------------ */

static bool name_listed(const struct room *room, const struct sub *upto, const char *name, size_t len)
{
	for (const struct sub *s = room->subs_head; s && s != upto; s = s->next)
		if (s->name_len == len && memcmp(s->name, name, len) == 0)
			return true;
	return false;
}

/* PRES-2 participants; `skip` (the joining subscriber) is left out. Room lock held. */
static void write_participants(struct jw *w, struct room *room, const struct sub *skip, int64_t now)
{
	jw_arr(w);
	for (struct sub *s = room->subs_head; s; s = s->next) {
		if (s == skip || !s->name_len || name_listed(room, s, s->name, s->name_len))
			continue;
		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, s->name, s->name_len);
		if (s->box_len) {
			jw_key(w, "box_pub");
			jw_str(w, s->box_pub, s->box_len);
		}
		int64_t ago = now - atomic_load(&s->last_seen);
		jw_key(w, "last_seen_ms_ago");
		jw_int(w, ago > 0 ? ago : 0);
		jw_obj_end(w);
	}
	for (size_t i = 0; i < room->nhb; i++) {
		struct hb *b = &room->hbs[i];
		if (now - b->last_seen > HEARTBEAT_VISIBLE_MS || name_listed(room, NULL, b->name, b->name_len))
			continue;
		jw_obj(w);
		jw_key(w, "name");
		jw_str(w, b->name, b->name_len);
		int64_t ago = now - b->last_seen;
		jw_key(w, "last_seen_ms_ago");
		jw_int(w, ago > 0 ? ago : 0);
		if (b->box_len) {
			jw_key(w, "box_pub");
			jw_str(w, b->box_pub, b->box_len);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void append_rendered(struct room *room, enum ev_type type, struct jw *w)
{
	size_t len;
	char *json = jw_take(w, &len);
	if (!json)
		return;
	struct event *e = ev_new(type, json, len);
	free(json);
	if (e)
		chain_append(room, e);
}

/* PRES-1. Room lock held. */
static void broadcast_presence(struct room *room, int64_t now)
{
	struct jw w;
	jw_init(&w, 256, 16 << 20);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "presence");
	jw_key(&w, "size");
	jw_int(&w, room->nsubs);
	jw_key(&w, "names");
	jw_arr(&w);
	for (struct sub *s = room->subs_head; s; s = s->next)
		if (s->name_len && !name_listed(room, s, s->name, s->name_len))
			jw_str(&w, s->name, s->name_len);
	jw_arr_end(&w);
	jw_key(&w, "participants");
	write_participants(&w, room, NULL, now);
	jw_obj_end(&w);
	append_rendered(room, EV_PRESENCE, &w);
}

static void broadcast_static(struct room *room, enum ev_type type, const char *json)
{
	struct event *e = ev_new(type, json, strlen(json));
	if (e)
		chain_append(room, e);
}

/* ---- posting ------------------------------------------------------------------------------- */

bool hub_fuse_fits(struct hub *h, size_t ct_len)
{
	return atomic_load(&h->buf_bytes) + (int64_t)ct_len + 512 <= h->cfg->room_global_max_bytes;
}

/* Render the ROOM-18 message event, recording token offsets for ROOM-19. */
static struct event *render_message(const struct post *p, int64_t seq, int64_t ts, const char *id)
{
	struct jw w;
	size_t off[12];
	jw_init(&w, p->ct_len + p->nonce_len + p->sender_len * 6 + p->reply_len + 256,
		p->ct_len + p->nonce_len + p->sender_len * 6 + p->reply_len + 512);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "message");
	jw_key(&w, "seq");
	jw_int(&w, seq);
	jw_key(&w, "id");
	off[0] = w.len;
	jw_cstr(&w, id);
	jw_key(&w, "sender");
	off[1] = w.len;
	jw_str(&w, p->sender, p->sender_len);
	off[2] = w.len;
	jw_key(&w, "sender_verified");
	jw_bool(&w, p->verified);
	jw_key(&w, "ciphertext");
	off[3] = w.len;
	jw_str(&w, p->ct, p->ct_len);
	off[4] = w.len;
	jw_key(&w, "nonce");
	off[5] = w.len;
	jw_str(&w, p->nonce, p->nonce_len);
	off[6] = w.len;
	jw_key(&w, "ts");
	jw_int(&w, ts);
	off[7] = off[8] = off[9] = off[10] = 0;
	if (p->ttl && p->ttl->valuedouble > 0) {
		jw_key(&w, "ttl_ms");
		off[7] = w.len;
		jw_num(&w, p->ttl->valuedouble); /* ROOM-15 */
		off[8] = w.len;
	}
	if (p->reply_len) {
		jw_key(&w, "reply_to");
		off[9] = w.len;
		jw_str(&w, p->reply_to, p->reply_len);
		off[10] = w.len;
	}
	jw_obj_end(&w);
	size_t len;
	char *json = jw_take(&w, &len);
	if (!json)
		return NULL;
	struct event *e = ev_new_extra(EV_MESSAGE, json, len, p->sender_len + 1);
	free(json);
	if (!e)
		return NULL;
	char *label = e->json + len + 1;
	memcpy(label, p->sender, p->sender_len);
	label[p->sender_len] = '\0';
	e->label = label;
	e->label_len = p->sender_len;
	e->seq = seq;
	e->ts = ts;
	e->ttl_ms = p->ttl && p->ttl->valuedouble > 0 ? p->ttl->valuedouble : 0;
	e->bytes = p->ct_len + 512; /* base64 is ASCII: bytes == UTF-16 units */
	e->verified = p->verified;
	e->id_off = (uint32_t)off[0];
	e->sender_off = (uint32_t)off[1];
	e->sender_len = (uint32_t)(off[2] - off[1]);
	e->ct_off = (uint32_t)off[3];
	e->ct_len = (uint32_t)(off[4] - off[3]);
	e->nonce_off = (uint32_t)off[5];
	e->nonce_len = (uint32_t)(off[6] - off[5]);
	e->ttl_off = (uint32_t)off[7];
	e->ttl_len = (uint32_t)(off[8] - off[7]);
	e->reply_off = (uint32_t)off[9];
	e->reply_len = (uint32_t)(off[10] - off[9]);
	return e;
}

enum post_rc room_post(struct hub *h, struct room *room, const struct post *p, int64_t *seq, char *id)
{
	char uuid[37];
	crypto_uuid_v4(uuid);
	enum post_rc rc = POST_OK;
	int64_t now = clock_now_ms();

	pthread_mutex_lock(&room->mu);
	if (!room->locked && p->signed_only && !p->verified) {
		rc = POST_NEED_SIG; /* ROOM-POST-7 */
		goto out;
	}
	if (room->locked && !p->verified) {
		rc = POST_LOCKED; /* ROOM-POST-8 */
		goto out;
	}
	prune(h, room, now);
	int64_t need = (int64_t)p->ct_len + 512;
	if (atomic_fetch_add(&h->buf_bytes, need) + need > h->cfg->room_global_max_bytes) {
		atomic_fetch_sub(&h->buf_bytes, need);
		rc = POST_FUSE; /* ROOM-11 */
		goto out;
	}
	int64_t s = room->next_seq;
	struct event *e = render_message(p, s, now, uuid);
	if (!e || buf_push(room, e, (size_t)h->cfg->recent_max) < 0) {
		atomic_fetch_sub(&h->buf_bytes, need);
		if (e)
			ev_unref(e);
		rc = POST_NOMEM;
		goto out;
	}
	room->next_seq += fault_on(FAULT_SEQ_GAP) ? 2 : 1; /* ROOM-7 */
	if (e->ttl_ms > 0)
		room->n_ttl++;
	if (!room->locked && p->signed_only && p->verified) {
		room->locked = true; /* ROOM-POST-7: locked goes out before the message */
		broadcast_static(room, EV_LOCKED, "{\"type\":\"locked\"}");
	}
	static _Atomic unsigned long drop_count;
	if (fault_on(FAULT_DROP_ONE_IN_100) && atomic_fetch_add(&drop_count, 1) % 100 == 99) {
		pthread_cond_broadcast(&room->cv); /* buffered (wake waiters) but never broadcast */
	} else {
		ev_ref(e); /* one reference for the buffer, one for the chain */
		chain_append(room, e);
	}
	room->last_active = now;
	prune(h, room, now); /* ROOM-POST-10: append, then prune */
	*seq = s;
	memcpy(id, uuid, 37);
	metrics_inc(M_messages_relayed_total);
	metrics_add(M_bytes_relayed_total, (int64_t)p->ct_len);
out:
	pthread_mutex_unlock(&room->mu);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* Index of the first buffered message with seq > after (seqs ascend: binary search). */
static size_t first_after(const struct room *room, int64_t after)
{
	size_t lo = 0, hi = room->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (buf_at(room, mid)->seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static long collect_locked(struct hub *h, struct room *room, int64_t after, size_t max, struct event ***out, bool *more)
{
	size_t from = first_after(room, after);
	size_t n = room->count - from;
	if (more)
		*more = n > max;
	if (n > max)
		n = max;
	*out = NULL;
	if (n == 0)
		return 0;
	struct event **evs = malloc(n * sizeof(*evs));
	if (!evs)
		return -1;
	for (size_t i = 0; i < n; i++) {
		evs[i] = buf_at(room, from + i);
		ev_ref(evs[i]);
	}
	*out = evs;
	return (long)n;
}

long room_collect(struct hub *h, struct room *room, int64_t after, size_t max, struct event ***out,
		  bool *more, int64_t *ls)
{
	pthread_mutex_lock(&room->mu);
	prune(h, room, clock_now_ms());
	long n = collect_locked(h, room, after, max, out, more);
	if (ls)
		*ls = last_seq(room);
	pthread_mutex_unlock(&room->mu);
	return n;
}

void room_status(struct hub *h, struct room *room, struct room_status *st)
{
	pthread_mutex_lock(&room->mu);
	prune(h, room, clock_now_ms());
	st->participants = room->nsubs;
	st->recent = room->count;
	st->last_seq = last_seq(room);
	st->created_at = room->created_at;
	st->last_active = room->last_active;
	st->locked = room->locked;
	pthread_mutex_unlock(&room->mu);
}

static void deadline_ts(int64_t deadline_mono, struct timespec *ts)
{
	ts->tv_sec = (time_t)(deadline_mono / 1000);
	ts->tv_nsec = (long)(deadline_mono % 1000) * 1000000;
}

bool room_waiter_take(struct hub *h, struct room *room)
{
	bool ok;
	pthread_mutex_lock(&room->mu);
	room->last_active = clock_now_ms(); /* ROOM-5: a /wait or /claim that parks */
	ok = room->waiters < h->cfg->room_waiters_max;
	if (ok) {
		room->waiters++;
		atomic_fetch_add(&h->nwaiters, 1);
	}
	pthread_mutex_unlock(&room->mu);
	return ok;
}

void room_waiter_release(struct hub *h, struct room *room)
{
	pthread_mutex_lock(&room->mu);
	room->waiters--;
	pthread_mutex_unlock(&room->mu);
	atomic_fetch_sub(&h->nwaiters, 1);
}

bool room_park(struct room *room, int64_t after, bool any_message, int64_t deadline_mono)
{
	struct timespec ts;
	bool woke = false;
	deadline_ts(deadline_mono, &ts);
	pthread_mutex_lock(&room->mu);
	struct event *mark = room->tail;
	ev_ref(mark);
	for (;;) {
		if (any_message) {
			/* CLAIM-7: any accepted message since we parked */
			for (struct event *e = mark->next; e; e = e->next)
				if (e->type == EV_MESSAGE) {
					woke = true;
					break;
				}
		} else if (last_seq(room) > after) {
			woke = true; /* ROOM-WAIT-5 */
		}
		if (woke || room->closing)
			break;
		if (pthread_cond_timedwait(&room->cv, &room->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&room->mu);
	ev_unref(mark);
	return woke;
}

/* ---- subscribers --------------------------------------------------------------------------- */

struct sub *room_join(struct hub *h, struct room *room, enum sub_kind kind, int64_t after,
		      const char *name, size_t name_len, const char *box, size_t box_len, struct join *j)
{
	struct sub *s = calloc(1, sizeof(*s));
	int64_t now = clock_now_ms();
	memset(j, 0, sizeof(*j));
	if (!s)
		return NULL;
	s->kind = kind;
	if (name && name_len && name_len < NAME_BYTES) {
		memcpy(s->name, name, name_len);
		s->name_len = name_len;
	}
	if (box && box_len && box_len < BOXPUB_BYTES) {
		memcpy(s->box_pub, box, box_len);
		s->box_len = box_len;
	}
	atomic_init(&s->last_seen, now);

	pthread_mutex_lock(&room->mu);
	prune(h, room, now);
	long n = collect_locked(h, room, after, (size_t)-1 / 2, &j->replay, NULL); /* SSE-7 / WS-6 */
	if (n < 0) {
		pthread_mutex_unlock(&room->mu);
		free(s);
		return NULL;
	}
	j->nreplay = (size_t)n;

	struct jw w; /* SSE-8 / WS-7 */
	jw_init(&w, 256, 16 << 20);
	jw_obj(&w);
	jw_key(&w, "type");
	jw_cstr(&w, "ready");
	jw_key(&w, "roomId");
	jw_cstr(&w, room->id);
	jw_key(&w, "size");
	jw_int(&w, room->nsubs + 1);
	jw_key(&w, "last_seq");
	jw_int(&w, last_seq(room));
	jw_key(&w, "participants");
	write_participants(&w, room, NULL, now);
	jw_obj_end(&w);
	j->ready = jw_take(&w, &j->ready_len);

	/* add the subscriber; its cursor is the current tail, so it sees the presence below */
	s->prev = room->subs_tail;
	if (room->subs_tail)
		room->subs_tail->next = s;
	else
		room->subs_head = s;
	room->subs_tail = s;
	room->nsubs++;
	s->cursor = room->tail;
	ev_ref(s->cursor);
	s->consumed = room->appended;
	room->last_active = now;
	broadcast_presence(room, now);
	pthread_mutex_unlock(&room->mu);
	atomic_fetch_add(&h->nsubs, 1);
	metrics_inc(kind == SUB_SSE ? M_sse_connects_total : M_ws_connects_total);
	if (!j->ready) {
		room_leave(h, room, s);
		join_release(j);
		return NULL;
	}
	return s;
}

void join_release(struct join *j)
{
	ev_release_array(j->replay, j->nreplay);
	free(j->ready);
	memset(j, 0, sizeof(*j));
}

int room_next(struct room *room, struct sub *s, int64_t deadline_mono, struct event **first, struct event **last)
{
	struct timespec ts;
	int rc = 0;
	deadline_ts(deadline_mono, &ts);
	pthread_mutex_lock(&room->mu);
	for (;;) {
		if (s->kicked || room->closing) {
			rc = -1;
			break;
		}
		if (s->cursor->next) {
			*first = s->cursor->next;
			*last = room->tail;
			s->pending = room->appended; /* what consuming up to the tail amounts to */
			ev_ref(*last);
			rc = 1;
			break;
		}
		if (pthread_cond_timedwait(&room->cv, &room->mu, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&room->mu);
	return rc;
}

void sub_advance(struct room *room, struct sub *s, struct event *last)
{
	struct event *old = s->cursor;
	pthread_mutex_lock(&room->mu);
	s->cursor = last; /* the reference taken in room_next moves to the cursor */
	s->consumed = s->pending;
	pthread_mutex_unlock(&room->mu);
	ev_unref(old);
}

void room_kick(struct room *room, struct sub *s)
{
	pthread_mutex_lock(&room->mu);
	s->kicked = true;
	pthread_cond_broadcast(&room->cv);
	pthread_mutex_unlock(&room->mu);
}

void room_leave(struct hub *h, struct room *room, struct sub *s)
{
	int64_t now = clock_now_ms();
	pthread_mutex_lock(&room->mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		room->subs_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		room->subs_tail = s->prev;
	room->nsubs--;
	room->last_active = now;
	if (!room->closing)
		broadcast_presence(room, now);
	pthread_mutex_unlock(&room->mu);
	ev_unref(s->cursor);
	atomic_fetch_sub(&h->nsubs, 1);
	metrics_inc(s->kind == SUB_SSE ? M_sse_disconnects_total : M_ws_disconnects_total);
	free(s);
}

void sub_touch(struct sub *s)
{
	atomic_store(&s->last_seen, clock_now_ms());
}

void room_hello(struct room *room, struct sub *s, const char *name, size_t name_len, int box_mode,
		const char *box, size_t box_len)
{
	int64_t now = clock_now_ms();
	if (name_len >= NAME_BYTES || box_len >= BOXPUB_BYTES)
		return;
	pthread_mutex_lock(&room->mu);
	if (s->name_len && (s->name_len != name_len || memcmp(s->name, name, name_len) != 0)) {
		struct jw w; /* WS-9: rename only when there was a different name */
		jw_init(&w, 128, 4096);
		jw_obj(&w);
		jw_key(&w, "type");
		jw_cstr(&w, "rename");
		jw_key(&w, "from");
		jw_str(&w, s->name, s->name_len);
		jw_key(&w, "to");
		jw_str(&w, name, name_len);
		jw_obj_end(&w);
		append_rendered(room, EV_RENAME, &w);
	}
	memcpy(s->name, name, name_len);
	s->name_len = name_len;
	if (box_mode == 1) {
		s->box_len = 0;
	} else if (box_mode == 2) {
		memcpy(s->box_pub, box, box_len);
		s->box_len = box_len;
	}
	broadcast_presence(room, now);
	pthread_mutex_unlock(&room->mu);
}

void room_listening(struct hub *h, struct room *room, const char *name, size_t name_len, const char *box,
		    size_t box_len)
{
	int64_t now = clock_now_ms();
	if (name_len >= NAME_BYTES || box_len >= BOXPUB_BYTES)
		return;
	pthread_mutex_lock(&room->mu);
	/* ROOM-LISTEN-4: drop stale heartbeats first */
	size_t w = 0;
	for (size_t i = 0; i < room->nhb; i++)
		if (now - room->hbs[i].last_seen <= HEARTBEAT_VISIBLE_MS)
			room->hbs[w++] = room->hbs[i];
	room->nhb = w;
	struct hb *b = NULL;
	for (size_t i = 0; i < room->nhb; i++)
		if (room->hbs[i].name_len == name_len && !memcmp(room->hbs[i].name, name, name_len))
			b = &room->hbs[i];
	if (!b) {
		if (room->nhb >= (size_t)h->cfg->listeners_max_per_room && room->nhb) {
			size_t stalest = 0; /* evict the stalest */
			for (size_t i = 1; i < room->nhb; i++)
				if (room->hbs[i].last_seen < room->hbs[stalest].last_seen)
					stalest = i;
			room->hbs[stalest] = room->hbs[--room->nhb];
		}
		if (room->nhb == room->hbcap) {
			size_t nc = room->hbcap ? room->hbcap * 2 : 4;
			struct hb *nb = realloc(room->hbs, nc * sizeof(*nb));
			if (!nb)
				goto out;
			room->hbs = nb;
			room->hbcap = nc;
		}
		if (h->cfg->listeners_max_per_room == 0)
			goto out;
		b = &room->hbs[room->nhb++];
		memcpy(b->name, name, name_len);
		b->name_len = name_len;
	}
	b->last_seen = now;
	b->box_len = 0;
	if (box && box_len) {
		memcpy(b->box_pub, box, box_len);
		b->box_len = box_len;
	}
	room->last_active = now;
	broadcast_presence(room, now);
out:
	pthread_mutex_unlock(&room->mu);
}

/* ---- janitor -------------------------------------------------------------------------------- */

size_t hub_janitor(struct hub *h, int64_t now)
{
	size_t evicted = 0;
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->nbuckets; i++) {
		struct room **pp = &h->table[i];
		while (*pp) {
			struct room *r = *pp;
			pthread_mutex_lock(&r->mu);
			prune(h, r, now);
			bool idle = r->refs == 0 && r->nsubs == 0 && r->waiters == 0 &&
				    now - r->last_active > h->cfg->evict_grace_ms;
			/* backlog cap (ROOM-24): mark subscribers that fell too far behind */
			for (struct sub *s = r->subs_head; s; s = s->next)
				if (r->appended - s->consumed > (uint64_t)h->cfg->sub_backlog_max_bytes) {
					s->kicked = true;
					pthread_cond_broadcast(&r->cv);
				}
			pthread_mutex_unlock(&r->mu);
			if (idle) {
				*pp = r->hnext;
				atomic_fetch_sub(&h->nrooms, 1);
				metrics_inc(M_rooms_evicted_total);
				room_destroy(h, r);
				evicted++;
				continue;
			}
			pp = &r->hnext;
		}
	}
	pthread_mutex_unlock(&h->mu);
	return evicted;
}

void room_pick(struct hub *h, struct room *room, int64_t after, int64_t held_seq,
	       bool (*skip)(void *arg, const struct event *e), void *arg, struct room_pick *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&room->mu);
	prune(h, room, clock_now_ms());
	out->oldest_seq = room->count ? buf_at(room, 0)->seq : 0;
	out->last_seq = last_seq(room);
	if (held_seq) {
		size_t i = first_after(room, held_seq - 1);
		out->held_buffered = i < room->count && buf_at(room, i)->seq == held_seq;
	}
	for (size_t i = first_after(room, after); i < room->count; i++) {
		struct event *e = buf_at(room, i);
		if (skip && skip(arg, e))
			continue;
		ev_ref(e);
		out->pick = e;
		break;
	}
	pthread_mutex_unlock(&room->mu);
}

/* ---- claim envelope ------------------------------------------------------------------------ */

char *ev_claim_json(const struct event *e, size_t *len)
{
	/* ROOM-19: {"seq","id","sender","ciphertext","nonce","ts","sender_verified"[,"ttl_ms"][,"reply_to"]} */
	struct jw w;
	jw_init(&w, e->len + 64, e->len + 256);
	jw_obj(&w);
	jw_key(&w, "seq");
	jw_int(&w, e->seq);
	jw_key(&w, "id");
	jw_rawval(&w, e->json + e->id_off, 38);
	jw_key(&w, "sender");
	jw_rawval(&w, e->json + e->sender_off, e->sender_len);
	jw_key(&w, "ciphertext");
	jw_rawval(&w, e->json + e->ct_off, e->ct_len);
	jw_key(&w, "nonce");
	jw_rawval(&w, e->json + e->nonce_off, e->nonce_len);
	jw_key(&w, "ts");
	jw_int(&w, e->ts);
	jw_key(&w, "sender_verified");
	jw_bool(&w, e->verified);
	if (e->ttl_len) {
		jw_key(&w, "ttl_ms");
		jw_rawval(&w, e->json + e->ttl_off, e->ttl_len);
	}
	if (e->reply_len) {
		jw_key(&w, "reply_to");
		jw_rawval(&w, e->json + e->reply_off, e->reply_len);
	}
	jw_obj_end(&w);
	return jw_take(&w, len);
}
