#include "fleet.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/sse.h"
#include "payload.h"
#include "proto/clock.h"

/* A subscriber whose stream drops after `ready` is resumed at most this often. */
#define FLEET_MAX_RECONNECTS 20

enum sub_state { SUB_IDLE, SUB_CONNECTING, SUB_OPEN, SUB_READY, SUB_FAILED };

struct sub {
	uint32_t idx, room;
	enum sub_state state;
	bool was_ready;		/* got `ready` at least once */
	int reconnects;
	int64_t last_seq;	/* highest message seq seen on any of its streams */
	struct sse_stream *s;
	struct track tr;
};

struct fleet {
	struct fleet_cfg cfg;
	struct sub *subs;
	struct sse_pool *pool;
	struct rxcache *cache;
	struct tally t;		/* per-delivery counts (fleet thread only) */
	pthread_t th;
	bool started;
	atomic_bool stop;
	atomic_uint ready, failed;
	atomic_uint_fast64_t delivered;
	atomic_int_fast64_t last_ns;
	uint32_t next;		/* next subscriber to connect */
	uint32_t connecting;
	int64_t t_connect0;	/* mono ns of the first connect (rate pacing) */
	bool reported;		/* first failure reason printed */
};

static bool has_prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	return n >= k && memcmp(s, pre, k) == 0;
}

static void fleet_apply(struct fleet *f, struct sub *u, const struct rx_outcome *o)
{
	enum track_result tr;
	int64_t now;

	if (o->seq > u->last_seq)
		u->last_seq = o->seq;
	if (o->open == -1) {
		f->t.decrypt_failed++;
		return;
	}
	if (o->open != 0 || o->p.room != u->room || o->p.agent >= f->cfg.senders ||
	    o->p.agent % f->cfg.n_rooms != u->room) {
		f->t.unexpected++;
		return;
	}
	if (f->cfg.labels && strcmp(o->label, f->cfg.labels[o->p.agent]) != 0) {
		f->t.unexpected++; /* ROOM-14: the label must be the one the sender gets */
		return;
	}
	if (f->cfg.expect_verified) {
		if (!o->verified) {
			f->t.unexpected++;
			return;
		}
		f->t.verified++;
	}
	/* The tracker covers this room's agents only: agent a is its (a / n_rooms)-th. */
	tr = track_note(&u->tr, o->p.agent / f->cfg.n_rooms, o->p.idx, o->seq);
	if (tr == TRACK_RANGE) {
		f->t.unexpected++;
		return;
	}
	if (tr != TRACK_NEW)
		return;
	now = clock_mono_ns();
	if (f->cfg.lat)
		latrec_record(f->cfg.lat, now - o->p.t_ns);
	atomic_fetch_add_explicit(&f->delivered, 1, memory_order_relaxed);
	atomic_store_explicit(&f->last_ns, now, memory_order_relaxed);
}

static void fleet_on_event(void *pool_ud, struct sse_stream *s, void *stream_ud,
			   const struct sse_event *ev)
{
	struct fleet *f = pool_ud;
	struct sub *u = stream_ud;
	const unsigned char *key = f->cfg.keys[u->room];
	struct rx_outcome o;
	struct rx m;
	enum rx_type t;

	if (ev->is_comment)
		return;
	if (has_prefix(ev->data, ev->data_len, "{\"type\":\"message\"")) {
		if (f->cache && rxcache_get(f->cache, u->room, ev->data, ev->data_len, &o)) {
			fleet_apply(f, u, &o);
			return;
		}
		if (rx_outcome_of(key, ev->data, ev->data_len, &o) == RX_MESSAGE) {
			if (f->cache)
				rxcache_put(f->cache, u->room, ev->data, ev->data_len, &o);
			fleet_apply(f, u, &o);
		} else {
			f->t.unexpected++;
		}
		return;
	}
	t = rx_parse(ev->data, ev->data_len, &m);
	switch (t) {
	case RX_READY: /* SSE-8: replay is over, the subscriber is live */
		u->state = SUB_READY;
		if (!u->was_ready) {
			u->was_ready = true;
			atomic_fetch_add(&f->ready, 1);
		}
		break;
	case RX_MESSAGE: /* a relay whose JSON is not compact: no fast path */
		rx_free(&m);
		if (rx_outcome_of(key, ev->data, ev->data_len, &o) == RX_MESSAGE)
			fleet_apply(f, u, &o);
		return;
	case RX_ERROR: /* SSE-4: room cap reached */
		f->t.errors++;
		if (!f->reported) {
			f->reported = true;
			fprintf(stderr, "sealroom-soak: stream error event: %.*s\n",
				(int)ev->data_len, ev->data);
		}
		break;
	case RX_BAD:
		f->t.unexpected++;
		break;
	case RX_OTHER:
		break;
	}
	rx_free(&m);
}

static void fleet_on_open(void *pool_ud, struct sse_stream *s, void *stream_ud, long status)
{
	struct fleet *f = pool_ud;
	struct sub *u = stream_ud;

	if (u->state == SUB_CONNECTING) {
		f->connecting--;
		u->state = SUB_OPEN;
	}
}

static int fleet_connect(struct fleet *f, struct sub *u)
{
	char url[768];

	if (u->last_seq > 0) /* SSE-6: resume losslessly after the last seq seen */
		snprintf(url, sizeof(url), "%s/api/rooms/%s/events?after=%lld", f->cfg.base,
			 f->cfg.room_ids[u->room], (long long)u->last_seq);
	else
		snprintf(url, sizeof(url), "%s/api/rooms/%s/events", f->cfg.base,
			 f->cfg.room_ids[u->room]);
	u->s = sse_pool_add(f->pool, url, NULL, srcips_pick(f->cfg.ips, u->idx), u);
	if (!u->s)
		return -1;
	u->state = SUB_CONNECTING;
	f->connecting++;
	return 0;
}

static void fleet_on_close(void *pool_ud, struct sse_stream *s, void *stream_ud, long status,
			   const char *error)
{
	struct fleet *f = pool_ud;
	struct sub *u = stream_ud;
	bool live = u->state == SUB_READY;

	if (u->state == SUB_CONNECTING)
		f->connecting--;
	if (atomic_load(&f->stop)) {
		u->state = SUB_IDLE;
		return;
	}
	if (live && u->reconnects < FLEET_MAX_RECONNECTS) {
		/* The relay may close a subscriber that fell too far behind (ROOM-24); resume. */
		sse_pool_remove(f->pool, s);
		u->s = NULL;
		u->reconnects++;
		f->t.reconnects++;
		if (fleet_connect(f, u) == 0)
			return;
	}
	if (!f->reported) {
		size_t bl = 0;
		const char *body = sse_stream_body(s, &bl);

		f->reported = true;
		fprintf(stderr,
			"sealroom-soak: subscriber %u (room %s) ended: status %ld%s%s %.*s\n",
			u->idx, f->cfg.room_ids[u->room], status, error ? ", " : "",
			error ? error : "", (int)(bl > 200 ? 200 : bl), body);
	}
	if (status >= 300 || (status >= 100 && status < 200))
		tally_reject(&f->t, status);
	else
		f->t.errors++;
	if (!u->was_ready)
		atomic_fetch_add(&f->failed, 1);
	u->state = SUB_FAILED;
}

/* Start new streams within the connect window and the pacing rate. */
static void fleet_ramp(struct fleet *f)
{
	uint32_t window = f->cfg.connect_window ? f->cfg.connect_window : 256;
	int64_t now = clock_mono_ns();

	if (f->next < f->cfg.subs && f->t_connect0 == 0)
		f->t_connect0 = now;
	while (f->next < f->cfg.subs && f->connecting < window) {
		struct sub *u = &f->subs[f->next];

		if (f->cfg.connect_rate > 0 &&
		    (double)(now - f->t_connect0) / 1e9 * f->cfg.connect_rate < (double)f->next)
			break;
		f->next++;
		if (fleet_connect(f, u) < 0) {
			f->t.errors++;
			atomic_fetch_add(&f->failed, 1);
			u->state = SUB_FAILED;
		}
	}
}

static void *fleet_main(void *arg)
{
	struct fleet *f = arg;

	while (!atomic_load(&f->stop)) {
		fleet_ramp(f);
		if (sse_pool_run(f->pool, f->next < f->cfg.subs ? 5 : 100) < 0) {
			f->t.errors++;
			fprintf(stderr, "sealroom-soak: SSE pool failure\n");
			break;
		}
	}
	return NULL;
}

struct fleet *fleet_start(const struct fleet_cfg *cfg)
{
	struct fleet *f = calloc(1, sizeof(*f));
	struct sse_pool_cfg pc = { 0 };

	if (!f)
		return NULL;
	f->cfg = *cfg;
	tally_init(&f->t);
	atomic_init(&f->stop, false);
	atomic_init(&f->ready, 0);
	atomic_init(&f->failed, 0);
	atomic_init(&f->delivered, 0);
	atomic_init(&f->last_ns, 0);
	f->subs = calloc(cfg->subs ? cfg->subs : 1, sizeof(*f->subs));
	if (!f->subs)
		goto fail;
	for (uint32_t i = 0; i < cfg->subs; i++) {
		f->subs[i].idx = i;
		f->subs[i].room = i % cfg->n_rooms;
		f->subs[i].last_seq = -1;
		if (track_init(&f->subs[i].tr, (cfg->senders + cfg->n_rooms - 1) / cfg->n_rooms,
			       cfg->per_sender) < 0)
			goto fail;
	}
	if (cfg->use_cache) {
		f->cache = rxcache_new(8192);
		if (!f->cache)
			goto fail;
	}
	pc.on_event = fleet_on_event;
	pc.on_open = fleet_on_open;
	pc.on_close = fleet_on_close;
	pc.ud = f;
	pc.recv_buffer_bytes = cfg->recv_buffer_bytes;
	pc.connect_timeout_ms = cfg->connect_timeout_ms;
	f->pool = sse_pool_new(&pc);
	if (!f->pool)
		goto fail;
	if (pthread_create(&f->th, NULL, fleet_main, f) != 0)
		goto fail;
	f->started = true;
	return f;
fail:
	fleet_free(f);
	return NULL;
}

uint32_t fleet_ready(struct fleet *f)
{
	return atomic_load(&f->ready);
}

uint32_t fleet_failed(struct fleet *f)
{
	return atomic_load(&f->failed);
}

uint64_t fleet_delivered(struct fleet *f)
{
	return atomic_load_explicit(&f->delivered, memory_order_relaxed);
}

int64_t fleet_last_delivery_ns(struct fleet *f)
{
	return atomic_load_explicit(&f->last_ns, memory_order_relaxed);
}

bool fleet_wait_ready(struct fleet *f, int64_t deadline_ms)
{
	while (fleet_ready(f) + fleet_failed(f) < f->cfg.subs && clock_mono_ms() < deadline_ms)
		usleep(5000);
	return fleet_ready(f) == f->cfg.subs;
}

void fleet_stop(struct fleet *f, struct tally *t, const uint64_t *accepted_per_room)
{
	if (f->started) {
		atomic_store(&f->stop, true);
		sse_pool_wake(f->pool);
		pthread_join(f->th, NULL);
		f->started = false;
		sse_pool_free(f->pool); /* no callbacks: closes every stream */
		f->pool = NULL;
	}
	tally_merge(t, &f->t);
	tally_init(&f->t);
	for (uint32_t i = 0; i < f->cfg.subs; i++) {
		struct sub *u = &f->subs[i];

		if (accepted_per_room)
			t->expected += accepted_per_room[u->room];
		t->delivered += u->tr.delivered;
		t->duplicated += u->tr.duplicated;
		t->out_of_order += u->tr.out_of_order;
		u->tr.delivered = u->tr.duplicated = u->tr.out_of_order = 0;
	}
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	if (f->started) {
		struct tally scratch;

		tally_init(&scratch);
		fleet_stop(f, &scratch, NULL);
	}
	sse_pool_free(f->pool);
	rxcache_free(f->cache);
	if (f->subs) {
		for (uint32_t i = 0; i < f->cfg.subs; i++)
			track_free(&f->subs[i].tr);
	}
	free(f->subs);
	free(f);
}
