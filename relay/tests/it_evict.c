/* Integration: idle-room eviction (PROTOCOL.md ROOM-3..6) with a short configured grace
 * (--evict-grace-ms, --janitor-interval-ms): a room exists after activity and is gone after
 * grace + one janitor tick; it is not evicted while an SSE or WS subscriber or a parked wait
 * holds it; only the activities of ROOM-5 extend its life; eviction resets the lock (ROOM-6).
 * Times are wall-clock ms, as the relay's lastActive is. */
#include "it_util.h"

#include "client/sse.h"
#include "client/ws.h"

#define GRACE 1500
#define TICK 100
#define SLACK 1500 /* scheduling slack on a loaded 2-core machine (sanitizer builds too) */

static struct relay_proc rp;
static struct http_client *hc;
static unsigned char key[32];

static int setup(void **state)
{
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--metrics-token", IT_METRICS_TOKEN,
			      "--evict-grace-ms", "1500", "--janitor-interval-ms", "100", "--keepalive-ms", "200", NULL};
	if (crypto_init() != 0)
		return -1;
	env_room_key_new(key);
	if (relay_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1;
}

static bool exists_on(struct relay_proc *r, const char *room)
{
	char path[128];
	struct http_resp resp;
	snprintf(path, sizeof(path), "/api/rooms/%s/status", room);
	it_get(hc, r, path, &resp);
	assert_int_equal(resp.status, 200);
	bool e = strncmp(resp.body, "{\"exists\":true,", 15) == 0;
	if (!e) {
		char want[128];
		snprintf(want, sizeof(want), "{\"exists\":false,\"roomId\":\"%s\"}", room);
		assert_string_equal(resp.body, want);
	}
	http_resp_free(&resp);
	return e;
}

static bool exists(const char *room)
{
	return exists_on(&rp, room);
}

/* Poll until the room is gone; returns the wall-clock time it was first seen gone. Fails if
 * it is still there at deadline (wall-clock ms). */
static int64_t gone_by(struct relay_proc *r, const char *room, int64_t deadline)
{
	for (;;) {
		if (!exists_on(r, room))
			return clock_now_ms();
		if (clock_now_ms() > deadline)
			fail_msg("room %s still exists %lld ms past its deadline", room, (long long)(clock_now_ms() - deadline));
		it_nap_ms(20);
	}
}

/* The room must exist at every poll until wall-clock time until. */
static void held_until(struct relay_proc *r, const char *room, int64_t until)
{
	while (clock_now_ms() < until) {
		if (!exists_on(r, room))
			fail_msg("room %s was evicted while held", room);
		it_nap_ms(50);
	}
}

/* ROOM-3/4: a room that only ever got POSTs stays for the grace and is gone one tick later;
 * reads (status) do not keep it alive; a new POST makes a new room with new seqs. */
static void test_idle_room_evicted(void **state)
{
	struct it_msg m;
	int64_t ev0 = it_metric(hc, &rp, "rooms_evicted_total");
	it_send(hc, &rp, "EVICT001", key, "hello", "", &m);
	assert_true(exists("EVICT001"));
	int64_t gone = gone_by(&rp, "EVICT001", m.t1 + GRACE + TICK + SLACK);
	/* never before the grace: lastActive >= t0 and eviction needs now - lastActive > grace */
	if (gone < m.t0 + GRACE)
		fail_msg("evicted %lld ms after the post, grace is %d", (long long)(gone - m.t0), GRACE);
	assert_int_equal(it_metric(hc, &rp, "rooms_evicted_total"), ev0 + 1);
	it_expect(hc, &rp, "GET", "/api/rooms/EVICT001/transcript", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0);
	/* recreated: ROOM-1 seeds a fresh seq from the clock */
	struct it_msg m2;
	it_send(hc, &rp, "EVICT001", key, "again", "", &m2);
	assert_in_range(m2.seq, m2.t0, m2.t1);
	assert_true(m2.seq > m.seq);
	struct http_resp r;
	it_get(hc, &rp, "/api/rooms/EVICT001/status", &r);
	assert_non_null(strstr(r.body, "\"recent_count\":1,"));
	http_resp_free(&r);
	it_msg_free(&m);
	it_msg_free(&m2);
}

/* ROOM-3, SSE-14: an SSE subscriber holds the room (created by the subscription alone); after
 * it leaves (found by the keepalive write), the grace starts again. */
static void test_sse_subscriber_holds(void **state)
{
	char url[256];
	it_url(url, sizeof(url), &rp, "/api/rooms/EVICT002/events");
	struct sse_conn *c = sse_open(url, NULL, NULL, 5000);
	assert_non_null(c);
	assert_int_equal(sse_conn_status(c), 200);
	struct sse_event_copy ev;
	assert_int_equal(sse_next_event(c, &ev, 5000), 1);
	sse_event_copy_free(&ev);
	held_until(&rp, "EVICT002", clock_now_ms() + 2 * GRACE);
	int64_t t_close = clock_now_ms();
	sse_close(c);
	int64_t gone = gone_by(&rp, "EVICT002", t_close + GRACE + 200 + TICK + SLACK);
	if (gone < t_close + GRACE)
		fail_msg("evicted %lld ms after the subscriber left", (long long)(gone - t_close));
}

/* ROOM-3, WS-18: the same for a WebSocket subscriber. */
static void test_ws_subscriber_holds(void **state)
{
	char url[256];
	struct ws_conn *w;
	it_url(url, sizeof(url), &rp, "/api/rooms/EVICT003/ws");
	assert_int_equal(ws_connect(url, NULL, NULL, 5000, &w, NULL, NULL), 0);
	struct ws_msg m;
	assert_int_equal(ws_recv(w, &m, 5000), WS_RECV_TEXT); /* ready */
	ws_msg_free(&m);
	held_until(&rp, "EVICT003", clock_now_ms() + 2 * GRACE);
	int64_t t_close = clock_now_ms();
	assert_int_equal(ws_close(w, 1000), 1000);
	int64_t gone = gone_by(&rp, "EVICT003", t_close + GRACE + TICK + SLACK);
	if (gone < t_close + GRACE)
		fail_msg("evicted %lld ms after the socket closed", (long long)(gone - t_close));
}

/* ROOM-3, ROOM-5: a parked wait holds the room; it set lastActive when it parked, so once it
 * times out (later than the grace) the room goes at the next tick. */
static void test_parked_wait_holds(void **state)
{
	char path[160];
	int64_t s = it_send(hc, &rp, "EVICT004", key, "x", "", NULL);
	snprintf(path, sizeof(path), "/api/rooms/EVICT004/wait?after=%lld&timeout=3", (long long)s);
	struct it_async a;
	int64_t t_park = clock_now_ms();
	it_async_get(&a, &rp, path, NULL, 10000);
	while (!atomic_load(&a.done)) {
		if (!exists("EVICT004") && !atomic_load(&a.done))
			fail_msg("room evicted under a parked wait after %lld ms", (long long)(clock_now_ms() - t_park));
		it_nap_ms(50);
	}
	it_async_join(&a);
	int64_t t_ret = clock_now_ms();
	assert_int_equal(a.rc, 0);
	assert_true(t_ret - t_park >= 2900); /* it really was parked past the grace */
	char want[80];
	snprintf(want, sizeof(want), "{\"messages\":[],\"last_seq\":%lld}", (long long)s);
	it_check(&a.resp, 200, want, 0);
	http_resp_free(&a.resp);
	gone_by(&rp, "EVICT004", t_ret + TICK + SLACK);
}

/* ROOM-5: lastActive moves on /listening, a parking wait, subscribe/unsubscribe, and nothing
 * else (not status, transcript or an immediate wait). */
static void test_what_counts_as_activity(void **state)
{
	struct relay_proc r2;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--evict-grace-ms", "3000",
			      "--janitor-interval-ms", "100", NULL};
	static const char *const rooms[] = {"ACTREADS", "ACTLISTN", "ACTPARKW", "ACTWSSUB"};
	int64_t seq[4];
	it_start(&r2, args);
	int64_t t0 = clock_now_ms();
	for (int i = 0; i < 4; i++)
		seq[i] = it_send(hc, &r2, rooms[i], key, "x", "", NULL);
	while (clock_now_ms() < t0 + 1500)
		it_nap_ms(10);
	char path[160];
	struct http_resp r;
	/* reads only */
	it_get(hc, &r2, "/api/rooms/ACTREADS/status", &r);
	http_resp_free(&r);
	it_get(hc, &r2, "/api/rooms/ACTREADS/transcript", &r);
	http_resp_free(&r);
	it_get(hc, &r2, "/api/rooms/ACTREADS/wait?after=0", &r); /* answered at once */
	http_resp_free(&r);
	/* activities */
	it_expect_post(hc, &r2, "/api/rooms/ACTLISTN/listening", "{\"name\":\"hb\"}", 200, "{\"ok\":true}", 0);
	snprintf(path, sizeof(path), "/api/rooms/ACTPARKW/wait?after=%lld&timeout=1", (long long)seq[2]);
	struct it_async a;
	it_async_get(&a, &r2, path, NULL, 10000);
	char url[256];
	struct ws_conn *w;
	it_url(url, sizeof(url), &r2, "/api/rooms/ACTWSSUB/ws");
	assert_int_equal(ws_connect(url, NULL, NULL, 5000, &w, NULL, NULL), 0);
	struct ws_msg m;
	assert_int_equal(ws_recv(w, &m, 5000), WS_RECV_TEXT);
	ws_msg_free(&m);
	assert_int_equal(ws_close(w, 1000), 1000);
	int64_t t1 = clock_now_ms();
	/* the read-only room goes 3 s after its post; the others live >= 3 s after t0 + 1.5 s */
	int64_t gone = gone_by(&r2, "ACTREADS", t0 + 3000 + TICK + 900);
	assert_true(gone >= t0 + 3000);
	for (int i = 1; i < 4; i++)
		if (!exists_on(&r2, rooms[i]))
			fail_msg("%s evicted %lld ms after its activity", rooms[i], (long long)(clock_now_ms() - t1));
	it_async_join(&a);
	assert_int_equal(a.rc, 0);
	http_resp_free(&a.resp);
	for (int i = 1; i < 4; i++)
		gone_by(&r2, rooms[i], t1 + 3000 + TICK + SLACK);
	assert_int_equal(relay_stop(&r2), 0);
}

/* ROOM-6: eviction resets the signed-only lock. */
static void test_eviction_resets_lock(void **state)
{
	struct crypto_identity id;
	struct http_resp r;
	it_register(hc, &rp, "evictee", &id);
	char *b = it_signed_body(key, "lock", &id, "EVICT006", ",\"signed_only\":true", NULL);
	it_post(hc, &rp, "/api/rooms/EVICT006/messages", b, &r);
	int64_t t1 = clock_now_ms();
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	free(b);
	b = it_sealed_body(key, "unsigned", "", NULL);
	it_post(hc, &rp, "/api/rooms/EVICT006/messages", b, &r);
	it_check(&r, 403, "{\"error\":\"signed_only: this room requires sender_sig from a registered @handle\"}", 0);
	http_resp_free(&r);
	gone_by(&rp, "EVICT006", t1 + GRACE + TICK + SLACK);
	it_post(hc, &rp, "/api/rooms/EVICT006/messages", b, &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	free(b);
	it_get(hc, &rp, "/api/rooms/EVICT006/status", &r);
	assert_non_null(strstr(r.body, "\"recent_count\":1,"));
	assert_non_null(strstr(r.body, ",\"signed_only\":false}"));
	http_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_room_evicted),
		cmocka_unit_test(test_sse_subscriber_holds),
		cmocka_unit_test(test_ws_subscriber_holds),
		cmocka_unit_test(test_parked_wait_holds),
		cmocka_unit_test(test_what_counts_as_activity),
		cmocka_unit_test(test_eviction_resets_lock),
	};
	return cmocka_run_group_tests_name("it_evict", tests, setup, teardown);
}
