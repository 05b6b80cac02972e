/* Unit tests for relay/hub (rooms without sockets): seqs seeded from the wall clock and +1
 * (ROOM-1, ROOM-7), last_seq (ROOM-8), the prune order (ROOM-9, with injected time through
 * hub_janitor), the byte fuse accounting (ROOM-11), the lock and its broadcast order
 * (ROOM-POST-7/8), the room cap and eviction (ROOM-2, ROOM-3), waiter slots (CAP-3),
 * parking (ROOM-WAIT-5), ready/presence JSON (SSE-8, PRES-1..3), and the live chain's
 * reference counts: join / advance / leave must leave nothing behind (checked by ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>

#include "config.h"
#include "hub.h"
#include "proto/clock.h"

#define NONCE "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static struct config cfg;

static int setup(void **state)
{
	char *argv[] = {"test_hub", NULL};
	char *envp[] = {NULL};
	if (config_load(&cfg, 1, argv, envp, stdout, stderr) != 0)
		return -1;
	*state = hub_new(&cfg);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	hub_free(*state);
	return 0;
}

static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Let the wall clock pass t (strictly). */
static void clock_past(int64_t t)
{
	while (clock_now_ms() <= t)
		nap_ms(1);
}

/* Post ct to room; ttl 0 = none. Returns the post_rc; *seq set on success. */
static enum post_rc post_ex(struct hub *h, struct room *room, const char *ct, double ttl, bool verified,
			    bool signed_only, int64_t *seq)
{
	struct post p;
	char id[37];
	int64_t s = 0;
	cJSON *t = ttl > 0 ? cJSON_CreateNumber(ttl) : NULL;
	memset(&p, 0, sizeof(p));
	p.ct = ct;
	p.ct_len = strlen(ct);
	p.nonce = NONCE;
	p.nonce_len = 32;
	p.sender = verified ? "@alice" : "agent";
	p.sender_len = strlen(p.sender);
	p.verified = verified;
	p.signed_only = signed_only;
	p.ttl = t;
	enum post_rc rc = room_post(h, room, &p, &s, id);
	cJSON_Delete(t);
	if (seq)
		*seq = s;
	return rc;
}

static int64_t post(struct hub *h, struct room *room, const char *ct, double ttl)
{
	int64_t seq;
	assert_int_equal(post_ex(h, room, ct, ttl, false, false, &seq), POST_OK);
	return seq;
}

/* Seqs of every buffered message with seq > after (room_collect prunes with the real clock). */
static long seqs(struct hub *h, struct room *room, int64_t *out, size_t max, int64_t *last_seq)
{
	struct event **evs;
	bool more;
	long n = room_collect(h, room, 0, max, &evs, &more, last_seq);
	assert_true(n >= 0);
	for (long i = 0; i < n; i++)
		out[i] = evs[i]->seq;
	ev_release_array(evs, (size_t)n);
	return n;
}

static int64_t gauge_bytes(struct hub *h)
{
	struct metrics_gauges g;
	hub_gauges(h, &g);
	return g.room_buffer_bytes;
}

/* ---- seqs ------------------------------------------------------------------------------------ */

/* ROOM-1/7/8: createdAt = nextSeq = now; the first seq is createdAt, then +1 regardless of
 * time; last_seq is the newest buffered seq, 0 for an empty buffer. */
static void test_seq_seed_and_last_seq(void **state)
{
	struct hub *h = *state;
	bool capped = true;
	int64_t t0 = clock_now_ms();
	struct room *r = hub_get(h, "SEQROOM1", true, &capped);
	int64_t t1 = clock_now_ms();
	assert_non_null(r);
	assert_false(capped);
	assert_in_range(r->created_at, t0, t1);
	assert_int_equal(r->last_active, r->created_at);
	struct room_status st;
	room_status(h, r, &st);
	assert_int_equal(st.last_seq, 0);
	assert_int_equal(st.recent, 0);
	assert_false(st.locked);

	int64_t s1 = post(h, r, "AAAA", 0);
	assert_int_equal(s1, r->created_at);
	clock_past(s1 + 20);
	assert_int_equal(post(h, r, "AAAA", 0), s1 + 1);
	assert_int_equal(post(h, r, "AAAA", 0), s1 + 2);
	room_status(h, r, &st);
	assert_int_equal(st.last_seq, s1 + 2);
	assert_int_equal(st.recent, 3);

	/* absent without create: NULL, nothing made (INV-8) */
	assert_null(hub_get(h, "NOTHERE1", false, NULL));
	assert_int_equal(hub_room_count(h), 1);

	/* ROOM-8: when every message is gone, last_seq is 0 (not nextSeq-1); seqs go on */
	cfg.recent_ttl_ms = 1000;
	hub_janitor(h, clock_now_ms() + 5000);
	cfg.recent_ttl_ms = 86400000;
	room_status(h, r, &st);
	assert_int_equal(st.recent, 0);
	assert_int_equal(st.last_seq, 0);
	assert_int_equal(gauge_bytes(h), 0);
	assert_int_equal(post(h, r, "AAAA", 0), s1 + 3);
	hub_release(h, r);
}

/* ---- prune (ROOM-9) ------------------------------------------------------------------------------ */

static void test_prune_recent_ttl_head(void **state)
{
	struct hub *h = *state;
	struct room *r = hub_get(h, "PRUNE001", true, NULL);
	int64_t s[3], got[8], ls;
	s[0] = post(h, r, "AAAA", 0);
	clock_past(s[0] + 30);
	struct event **evs;
	room_collect(h, r, 0, 8, &evs, NULL, &ls);
	int64_t ts0 = evs[0]->ts;
	ev_release_array(evs, 1);
	s[1] = post(h, r, "AAAA", 0);
	s[2] = post(h, r, "AAAA", 0);
	/* (1): ts < now - RECENT_TTL_MS, from the head: at now = ts0 + ttl only equality, kept */
	cfg.recent_ttl_ms = 1000;
	hub_janitor(h, ts0 + 1000);
	assert_int_equal(seqs(h, r, got, 8, &ls), 3);
	hub_janitor(h, ts0 + 1001);
	cfg.recent_ttl_ms = 86400000;
	assert_int_equal(seqs(h, r, got, 8, &ls), 2);
	assert_int_equal(got[0], s[1]);
	assert_int_equal(got[1], s[2]);
	assert_int_equal(ls, s[2]);
	assert_int_equal(gauge_bytes(h), 2 * (4 + 512));
	hub_release(h, r);
	hub_janitor(h, clock_now_ms() + 3600000); /* evict: releases the rest */
	assert_int_equal(gauge_bytes(h), 0);
}

/* (2): every message with ttl_ms and ts + ttl_ms <= now, anywhere in the buffer. */
static void test_prune_ttl_anywhere(void **state)
{
	struct hub *h = *state;
	struct room *r = hub_get(h, "PRUNE002", true, NULL);
	int64_t s[5], got[8], ls;
	s[0] = post(h, r, "AAAA", 0);
	s[1] = post(h, r, "AAAA", 100000);
	s[2] = post(h, r, "AAAA", 0);
	s[3] = post(h, r, "AAAA", 50000.5);
	s[4] = post(h, r, "AAAA", 0);
	struct event **evs;
	assert_int_equal(room_collect(h, r, 0, 8, &evs, NULL, &ls), 5);
	int64_t ts1 = evs[1]->ts, ts3 = evs[3]->ts;
	assert_true(evs[3]->ttl_ms == 50000.5);
	ev_release_array(evs, 5);
	/* s3 expires at ts3 + 50000.5: still there at ts3 + 50000, gone at ts3 + 50001 */
	hub_janitor(h, ts3 + 50000);
	assert_int_equal(seqs(h, r, got, 8, &ls), 5);
	hub_janitor(h, ts3 + 50001);
	assert_int_equal(seqs(h, r, got, 8, &ls), 4);
	assert_int_equal(got[0], s[0]);
	assert_int_equal(got[1], s[1]);
	assert_int_equal(got[2], s[2]);
	assert_int_equal(got[3], s[4]);
	/* s1 at exactly ts1 + 100000 (<= now removes) */
	hub_janitor(h, ts1 + 99999);
	assert_int_equal(seqs(h, r, got, 8, &ls), 4);
	hub_janitor(h, ts1 + 100000);
	assert_int_equal(seqs(h, r, got, 8, &ls), 3);
	assert_int_equal(got[0], s[0]);
	assert_int_equal(got[1], s[2]);
	assert_int_equal(got[2], s[4]);
	assert_int_equal(ls, s[4]);
	assert_int_equal(gauge_bytes(h), 3 * (4 + 512));
	/* the survivors keep their order and new posts append after them */
	int64_t s5 = post(h, r, "AAAA", 0);
	assert_int_equal(s5, s[4] + 1);
	assert_int_equal(seqs(h, r, got, 8, &ls), 4);
	assert_int_equal(got[3], s5);
	hub_release(h, r);
	hub_janitor(h, clock_now_ms() + 3600000);
	assert_int_equal(gauge_bytes(h), 0);
}

/* (3) RECENT_MAX, and the order: ttl expiry (2) runs before the count cap (3), so an expired
 * message does not push a live one out. */
static void test_prune_order_ttl_before_max(void **state)
{
	struct hub *h = *state;
	struct room *r = hub_get(h, "PRUNE003", true, NULL);
	int64_t s[6], got[8], ls;
	cfg.recent_max = 3;
	for (int i = 0; i < 5; i++)
		s[i] = post(h, r, "AAAA", 0);
	assert_int_equal(seqs(h, r, got, 8, &ls), 3);
	assert_int_equal(got[0], s[2]);
	assert_int_equal(gauge_bytes(h), 3 * (4 + 512));
	hub_release(h, r);
	hub_janitor(h, clock_now_ms() + 3600000);

	cfg.recent_max = 10;
	r = hub_get(h, "PRUNE004", true, NULL);
	s[0] = post(h, r, "AAAA", 0);
	s[1] = post(h, r, "AAAA", 30000); /* expires first */
	s[2] = post(h, r, "AAAA", 0);
	s[3] = post(h, r, "AAAA", 0);
	struct event **evs;
	assert_int_equal(room_collect(h, r, 0, 8, &evs, NULL, &ls), 4);
	int64_t ts1 = evs[1]->ts;
	ev_release_array(evs, 4);
	cfg.recent_max = 3; /* the janitor now sees 4 > 3 with one of them expired */
	hub_janitor(h, ts1 + 30000);
	cfg.recent_max = 2000;
	assert_int_equal(seqs(h, r, got, 8, &ls), 3);
	assert_int_equal(got[0], s[0]); /* with (3) before (2), s0 would be gone too */
	assert_int_equal(got[1], s[2]);
	assert_int_equal(got[2], s[3]);
	hub_release(h, r);
	hub_janitor(h, clock_now_ms() + 3600000);
	assert_int_equal(gauge_bytes(h), 0);
}

/* ---- byte fuse (ROOM-11) --------------------------------------------------------------------------- */

/* length(ciphertext) + 512 per buffered message over all rooms; equal to the limit fits; a
 * refused post accounts nothing and consumes no seq; dropping messages releases their bytes. */
static void test_fuse_accounting(void **state)
{
	struct hub *h = *state;
	int64_t seq = 0;
	cfg.room_global_max_bytes = 3 * (4 + 512) + (8 + 512);
	struct room *a = hub_get(h, "FUSEROOA", true, NULL);
	struct room *b = hub_get(h, "FUSEROOB", true, NULL);
	post(h, a, "AAAA", 0);
	post(h, a, "AAAA", 0);
	int64_t sb = post(h, b, "AAAA", 0);
	assert_int_equal(gauge_bytes(h), 3 * 516);
	assert_true(hub_fuse_fits(h, 8));         /* exactly up to the limit */
	assert_false(hub_fuse_fits(h, 12));
	assert_int_equal(post_ex(h, b, "AAAAAAAAAAAA", 0, false, false, &seq), POST_FUSE);
	assert_int_equal(gauge_bytes(h), 3 * 516);   /* the refusal accounted nothing */
	assert_int_equal(post(h, b, "AAAAAAAA", 0), sb + 1); /* and consumed no seq */
	assert_int_equal(gauge_bytes(h), cfg.room_global_max_bytes);
	assert_false(hub_fuse_fits(h, 0));
	assert_int_equal(post_ex(h, a, "AAAA", 0, false, false, &seq), POST_FUSE);
	/* the lock checks come first and account nothing either */
	assert_int_equal(post_ex(h, a, "AAAA", 0, false, true, &seq), POST_NEED_SIG);
	assert_int_equal(gauge_bytes(h), cfg.room_global_max_bytes);
	/* pruning releases: keep one message per room */
	cfg.recent_max = 1;
	hub_janitor(h, clock_now_ms());
	cfg.recent_max = 2000;
	assert_int_equal(gauge_bytes(h), 516 + 520);
	post(h, a, "AAAA", 0);
	assert_int_equal(gauge_bytes(h), 2 * 516 + 520);
	/* eviction releases everything */
	hub_release(h, a);
	hub_release(h, b);
	assert_int_equal(hub_janitor(h, clock_now_ms() + 3600000), 2);
	assert_int_equal(gauge_bytes(h), 0);
	cfg.room_global_max_bytes = 536870912;
}

/* ---- lock (ROOM-POST-7/8, ROOM-6) ------------------------------------------------------------------ */

static void test_lock_broadcast_order(void **state)
{
	struct hub *h = *state;
	struct join j;
	int64_t seq = 0;
	struct room *r = hub_get(h, "LOCKROOM", true, NULL);
	struct sub *s = room_join(h, r, SUB_SSE, 0, "alice", 5, NULL, 0, &j);
	assert_non_null(s);
	assert_int_equal(j.nreplay, 0);
	assert_string_equal(j.ready, "{\"type\":\"ready\",\"roomId\":\"LOCKROOM\",\"size\":1,\"last_seq\":0,\"participants\":[]}");
	join_release(&j);

	assert_int_equal(post_ex(h, r, "AAAA", 0, false, true, &seq), POST_NEED_SIG);
	assert_false(r->locked);
	assert_int_equal(post_ex(h, r, "AAAA", 0, true, true, &seq), POST_OK);
	int64_t s1 = seq;
	assert_int_equal(s1, r->created_at); /* the refused post consumed no seq */
	assert_true(r->locked);
	assert_int_equal(post_ex(h, r, "AAAA", 0, false, false, &seq), POST_LOCKED);
	assert_int_equal(post_ex(h, r, "AAAA", 0, false, true, &seq), POST_LOCKED); /* -8, not -7 */
	assert_int_equal(post_ex(h, r, "AAAA", 0, true, true, &seq), POST_OK);
	assert_int_equal(seq, s1 + 1);
	struct room_status st;
	room_status(h, r, &st);
	assert_true(st.locked);

	/* the subscriber sees: its presence, locked, then the two messages (one locked only) */
	struct event *first, *last;
	assert_int_equal(room_next(r, s, clock_mono_ms() + 1000, &first, &last), 1);
	enum ev_type want[4] = {EV_PRESENCE, EV_LOCKED, EV_MESSAGE, EV_MESSAGE};
	int n = 0;
	for (struct event *e = first;; e = e->next) {
		assert_true(n < 4);
		assert_int_equal(e->type, want[n]);
		if (e->type == EV_LOCKED)
			assert_string_equal(e->json, "{\"type\":\"locked\"}");
		if (e->type == EV_MESSAGE) {
			assert_int_equal(e->seq, s1 + (n - 2));
			assert_true(e->verified);
			assert_non_null(strstr(e->json, ",\"sender\":\"@alice\",\"sender_verified\":true,"));
		}
		n++;
		if (e == last)
			break;
	}
	assert_int_equal(n, 4);
	sub_advance(r, s, last);
	assert_int_equal(room_next(r, s, clock_mono_ms() + 20, &first, &last), 0);
	room_leave(h, r, s);
	hub_release(h, r);
	/* ROOM-6: eviction resets the lock */
	hub_janitor(h, clock_now_ms() + 3600000);
	r = hub_get(h, "LOCKROOM", true, NULL);
	assert_false(r->locked);
	assert_int_equal(post_ex(h, r, "AAAA", 0, false, false, &seq), POST_OK);
	hub_release(h, r);
}

/* ---- room cap and janitor (ROOM-2, ROOM-3) ---------------------------------------------------------- */

static void test_room_cap_evicts_stalest(void **state)
{
	struct hub *h = *state;
	bool capped;
	cfg.rooms_max = 2;
	struct room *a = hub_get(h, "CAPROOMA", true, &capped);
	hub_release(h, a);
	struct room *b = hub_get(h, "CAPROOMB", true, &capped);
	int64_t tb = b->last_active;
	hub_release(h, b);
	clock_past(tb);
	a = hub_get(h, "CAPROOMA", false, NULL);
	post(h, a, "AAAA", 0); /* A is now the freshest */
	hub_release(h, a);
	struct room *c = hub_get(h, "CAPROOMC", true, &capped);
	assert_non_null(c);
	assert_false(capped);
	assert_null(hub_get(h, "CAPROOMB", false, NULL));
	a = hub_get(h, "CAPROOMA", false, NULL);
	assert_non_null(a);
	assert_int_equal(hub_room_count(h), 2);
	/* every room held: creation fails, nothing is evicted */
	assert_null(hub_get(h, "CAPROOMD", true, &capped));
	assert_true(capped);
	assert_int_equal(hub_room_count(h), 2);
	/* a held room is never the victim, however stale */
	hub_release(h, c);
	struct room *d = hub_get(h, "CAPROOMD", true, &capped);
	assert_non_null(d);
	assert_false(capped);
	assert_null(hub_get(h, "CAPROOMC", false, NULL));
	struct room *a2 = hub_get(h, "CAPROOMA", false, NULL);
	assert_ptr_equal(a2, a);
	hub_release(h, a2);
	hub_release(h, a);
	hub_release(h, d);
	cfg.rooms_max = 5000;
}

static void test_janitor_rules(void **state)
{
	struct hub *h = *state;
	struct join j;
	cfg.evict_grace_ms = 1000;
	/* idle: now - lastActive > grace, strictly */
	struct room *r = hub_get(h, "JANITOR1", true, NULL);
	int64_t la = r->last_active;
	hub_release(h, r);
	assert_int_equal(hub_janitor(h, la + 1000), 0);
	assert_int_equal(hub_room_count(h), 1);
	assert_int_equal(hub_janitor(h, la + 1001), 1);
	assert_int_equal(hub_room_count(h), 0);
	/* a handler reference, a subscriber or a waiter each keep it */
	struct room *held = hub_get(h, "JANITOR2", true, NULL);
	struct room *sub = hub_get(h, "JANITOR3", true, NULL);
	struct sub *s = room_join(h, sub, SUB_WS, 0, NULL, 0, NULL, 0, &j);
	join_release(&j);
	hub_release(h, sub);
	struct room *w = hub_get(h, "JANITOR4", true, NULL);
	assert_true(room_waiter_take(h, w));
	hub_release(h, w);
	assert_int_equal(hub_janitor(h, clock_now_ms() + 3600000), 0);
	assert_int_equal(hub_room_count(h), 3);
	hub_release(h, held);
	room_leave(h, sub, s);
	room_waiter_release(h, w);
	assert_int_equal(hub_janitor(h, clock_now_ms() + 3600000), 3);
	assert_int_equal(hub_room_count(h), 0);
	cfg.evict_grace_ms = 30000;
}

/* ---- waiters and parking (CAP-3, ROOM-WAIT-5, CLAIM-7) ------------------------------------------- */

struct poster {
	struct hub *h;
	struct room *r;
	long delay_ms;
	int count;
};

static void *poster_main(void *arg)
{
	struct poster *p = arg;
	nap_ms(p->delay_ms);
	for (int i = 0; i < p->count; i++)
		post_ex(p->h, p->r, "AAAA", 0, false, false, NULL);
	return NULL;
}

static void test_waiters_and_park(void **state)
{
	struct hub *h = *state;
	struct metrics_gauges g;
	cfg.room_waiters_max = 2;
	struct room *r = hub_get(h, "PARKROOM", true, NULL);
	assert_true(room_waiter_take(h, r));
	assert_true(room_waiter_take(h, r));
	assert_false(room_waiter_take(h, r)); /* tested before incrementing (CAP-15) */
	hub_gauges(h, &g);
	assert_int_equal(g.parked_waiters, 2);
	room_waiter_release(h, r);
	assert_true(room_waiter_take(h, r));
	room_waiter_release(h, r);
	room_waiter_release(h, r);
	hub_gauges(h, &g);
	assert_int_equal(g.parked_waiters, 0);
	assert_int_equal(r->waiters, 0);
	cfg.room_waiters_max = 256;

	/* timeout */
	int64_t t = clock_mono_ms();
	assert_false(room_park(r, 0, false, t + 60));
	assert_true(clock_mono_ms() - t >= 55);
	/* woken by a later message with seq > after */
	int64_t s0 = post(h, r, "AAAA", 0);
	pthread_t th;
	struct poster p = {h, r, 30, 1};
	assert_int_equal(pthread_create(&th, NULL, poster_main, &p), 0);
	t = clock_mono_ms();
	assert_true(room_park(r, s0, false, t + 5000));
	assert_true(clock_mono_ms() - t < 2000);
	pthread_join(th, NULL);
	/* not woken by seqs <= after */
	p.count = 2;
	assert_int_equal(pthread_create(&th, NULL, poster_main, &p), 0);
	t = clock_mono_ms();
	assert_false(room_park(r, s0 + 3, false, t + 300));
	assert_true(clock_mono_ms() - t >= 290);
	pthread_join(th, NULL);
	/* a pending message answers at once */
	assert_true(room_park(r, s0, false, clock_mono_ms() + 5000));
	/* claims: any accepted message after parking, whatever the seqs */
	p.count = 1;
	assert_int_equal(pthread_create(&th, NULL, poster_main, &p), 0);
	assert_true(room_park(r, INT64_MAX, true, clock_mono_ms() + 5000));
	pthread_join(th, NULL);
	/* shutdown wakes everyone at once */
	hub_shutdown(h);
	assert_true(hub_closing(h));
	t = clock_mono_ms();
	assert_false(room_park(r, INT64_MAX, false, t + 5000));
	assert_true(clock_mono_ms() - t < 1000);
	hub_release(h, r);
}

/* ---- subscribers: ready, presence, rename, the live chain -------------------------------------------- */

/* Replace the digits after each "last_seen_ms_ago": with 0 (they depend on the clock). */
static void norm_ago(char *s)
{
	static const char k[] = "\"last_seen_ms_ago\":";
	for (char *p = strstr(s, k); p; p = strstr(p, k)) {
		p += sizeof(k) - 1;
		char *e = p;
		while (*e >= '0' && *e <= '9')
			e++;
		assert_true(e > p && e - p < 6);
		*p = '0';
		memmove(p + 1, e, strlen(e) + 1);
	}
}

/* Take the next batch of events of s and check their texts in order; advances the cursor. */
static void expect_events(struct room *r, struct sub *s, const char *const *want, int n)
{
	struct event *first, *last;
	assert_int_equal(room_next(r, s, clock_mono_ms() + 1000, &first, &last), 1);
	int i = 0;
	for (struct event *e = first;; e = e->next) {
		if (i >= n)
			fail_msg("more events than expected: %s", e->json);
		char *t = strdup(e->json);
		norm_ago(t);
		if (want[i] && strcmp(t, want[i]) != 0)
			fail_msg("event %d\n got: %s\nwant: %s", i, t, want[i]);
		free(t);
		i++;
		if (e == last)
			break;
	}
	assert_int_equal(i, n);
	sub_advance(r, s, last);
}

static void test_join_presence_and_chain(void **state)
{
	struct hub *h = *state;
	struct join ja, jb;
	struct room *r = hub_get(h, "JOINROOM", true, NULL);
	int64_t s1 = post(h, r, "AAAA", 0), s2 = post(h, r, "AAAA", 0), s3 = post(h, r, "AAAA", 0);
	(void)s2;
	char want[512];

	/* SSE-7/8: replay after the resume point, then ready without the joiner */
	struct sub *a = room_join(h, r, SUB_SSE, s1, "alice", 5, "BOXA", 4, &ja);
	assert_non_null(a);
	assert_int_equal(ja.nreplay, 2);
	assert_int_equal(ja.replay[0]->seq, s1 + 1);
	assert_int_equal(ja.replay[1]->seq, s3);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"JOINROOM\",\"size\":1,\"last_seq\":%lld,\"participants\":[]}",
		 (long long)s3);
	assert_string_equal(ja.ready, want);
	join_release(&ja);
	struct sub *b = room_join(h, r, SUB_WS, 0, NULL, 0, NULL, 0, &jb);
	assert_int_equal(jb.nreplay, 3);
	norm_ago(jb.ready);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"JOINROOM\",\"size\":2,\"last_seq\":%lld,"
		 "\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0}]}", (long long)s3);
	assert_string_equal(jb.ready, want);
	join_release(&jb);
	struct metrics_gauges g;
	hub_gauges(h, &g);
	assert_int_equal(g.active_subs, 2);

	const char *pa[] = {
		"{\"type\":\"presence\",\"size\":1,\"names\":[\"alice\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0}]}",
		"{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0}]}",
	};
	expect_events(r, a, pa, 2);
	expect_events(r, b, pa + 1, 1);

	/* WS-9 hello: first name is no rename; a new one is, then presence; box modes */
	room_hello(r, b, "bob", 3, 2, "BOXB", 4);
	room_hello(r, b, "bob2", 4, 1, NULL, 0);
	room_hello(r, b, "bob2", 4, 0, NULL, 0);
	room_listening(h, r, "carol", 5, NULL, 0);
	room_listening(h, r, "alice", 5, "HBBOX", 5);
	const char *pb[] = {
		"{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0},{\"name\":\"bob\",\"box_pub\":\"BOXB\",\"last_seen_ms_ago\":0}]}",
		"{\"type\":\"rename\",\"from\":\"bob\",\"to\":\"bob2\"}",
		"{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob2\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0},{\"name\":\"bob2\",\"last_seen_ms_ago\":0}]}",
		"{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob2\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0},{\"name\":\"bob2\",\"last_seen_ms_ago\":0}]}",
		"{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob2\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0},{\"name\":\"bob2\",\"last_seen_ms_ago\":0},{\"name\":\"carol\",\"last_seen_ms_ago\":0}]}",
		"{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob2\"],\"participants\":[{\"name\":\"alice\",\"box_pub\":\"BOXA\",\"last_seen_ms_ago\":0},{\"name\":\"bob2\",\"last_seen_ms_ago\":0},{\"name\":\"carol\",\"last_seen_ms_ago\":0}]}",
	};
	expect_events(r, b, pb, 6);

	/* the live chain: b keeps up, a falls behind by 200 messages, then catches up at once */
	for (int i = 0; i < 200; i++) {
		post(h, r, "AAAA", 0);
		struct event *first, *last;
		assert_int_equal(room_next(r, b, clock_mono_ms() + 1000, &first, &last), 1);
		assert_ptr_equal(first, last);
		assert_int_equal(first->seq, s3 + 1 + i);
		sub_advance(r, b, last);
	}
	struct event *first, *last;
	assert_int_equal(room_next(r, a, clock_mono_ms() + 1000, &first, &last), 1);
	int n = 0, msgs = 0;
	for (struct event *e = first;; e = e->next) {
		n++;
		msgs += e->type == EV_MESSAGE;
		if (e == last)
			break;
	}
	assert_int_equal(n, 206);
	assert_int_equal(msgs, 200);
	assert_int_equal(last->seq, s3 + 200);
	sub_advance(r, a, last);

	/* CAP-14 / ROOM-24: a subscriber too far behind is kicked by the janitor pass */
	cfg.sub_backlog_max_bytes = 1000;
	for (int i = 0; i < 10; i++)
		post(h, r, "AAAA", 0);
	assert_int_equal(room_next(r, b, clock_mono_ms() + 1000, &first, &last), 1);
	sub_advance(r, b, last); /* b is caught up */
	hub_janitor(h, clock_now_ms());
	cfg.sub_backlog_max_bytes = 268435456;
	assert_int_equal(room_next(r, a, clock_mono_ms() + 1000, &first, &last), -1);
	post(h, r, "AAAA", 0);
	assert_int_equal(room_next(r, b, clock_mono_ms() + 1000, &first, &last), 1);
	sub_advance(r, b, last);
	/* SSE-14 / WS-18: leaving broadcasts presence to the rest */
	room_leave(h, r, a);
	const char *pl[] = {
		"{\"type\":\"presence\",\"size\":1,\"names\":[\"bob2\"],\"participants\":[{\"name\":\"bob2\",\"last_seen_ms_ago\":0},{\"name\":\"carol\",\"last_seen_ms_ago\":0},{\"name\":\"alice\",\"last_seen_ms_ago\":0,\"box_pub\":\"HBBOX\"}]}",
	};
	expect_events(r, b, pl, 1);
	room_kick(r, b);
	assert_int_equal(room_next(r, b, clock_mono_ms() + 1000, &first, &last), -1);
	room_leave(h, r, b);
	hub_gauges(h, &g);
	assert_int_equal(g.active_subs, 0);
	hub_release(h, r);
	/* teardown frees the hub: under ASan any event kept alive by a wrong count is a leak */
}

/* A message's ROOM-19 claim envelope is built from the same tokens. */
static void test_claim_envelope(void **state)
{
	struct hub *h = *state;
	struct room *r = hub_get(h, "CLAIMENV", true, NULL);
	int64_t s = post(h, r, "AAAA", 60000);
	struct event **evs;
	int64_t ls;
	assert_int_equal(room_collect(h, r, 0, 1, &evs, NULL, &ls), 1);
	size_t len;
	char *c = ev_claim_json(evs[0], &len);
	assert_non_null(c);
	char want[512];
	const char *id = strstr(evs[0]->json, "\"id\":\"") + 6;
	snprintf(want, sizeof(want), "{\"seq\":%lld,\"id\":\"%.36s\",\"sender\":\"agent\",\"ciphertext\":\"AAAA\",\"nonce\":\"" NONCE
		 "\",\"ts\":%lld,\"sender_verified\":false,\"ttl_ms\":60000}", (long long)s, id, (long long)evs[0]->ts);
	assert_string_equal(c, want);
	assert_int_equal(len, strlen(want));
	free(c);
	ev_release_array(evs, 1);
	hub_release(h, r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seq_seed_and_last_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_recent_ttl_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_ttl_anywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_order_ttl_before_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fuse_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_broadcast_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_room_cap_evicts_stalest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_janitor_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiters_and_park, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_presence_and_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_claim_envelope, setup, teardown),
	};
	return cmocka_run_group_tests_name("test_hub", tests, NULL, NULL);
}
