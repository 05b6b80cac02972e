/* Integration: GET /api/rooms/{id}/wait (PROTOCOL.md §6.4) against a real relay — immediate
 * answers, parking and waking by a later POST within milliseconds, wake only above `after`
 * (ROOM-WAIT-5), the timeout clamp (NUM-2), has_more, the waiter caps CAP-2/CAP-3 with exact
 * 429 bodies and Retry-After: 5, and slot release exactly once on wake, timeout and
 * disconnect (ROOM-WAIT-6, CAP-15). Client IPs are made distinct with X-Forwarded-For from
 * loopback (IP-1). */
#include "it_util.h"

static struct relay_proc rp;
static struct http_client *hc;
static unsigned char key[32];

static int setup(void **state)
{
	const char *args[] = {"--worker-threads", "192", "--worker-reserve", "16", "--metrics-token", IT_METRICS_TOKEN,
			      "--room-rl-cap", "100000", "--room-rl-refill-per-sec", "100000",
			      "--global-rl-cap", "100000", "--global-rl-refill-per-sec", "100000", NULL};
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

struct gauge {
	struct relay_proc *r;
	const char *name;
	int64_t want;
};

static bool gauge_is(void *arg)
{
	struct gauge *g = arg;
	return it_metric(hc, g->r, g->name) == g->want;
}

/* Wait until the relay reports exactly n parked waiters. */
static void parked(struct relay_proc *r, int64_t n)
{
	struct gauge g = {r, "parked_waiters", n};
	if (!it_poll(gauge_is, &g, 5000))
		fail_msg("parked_waiters is %lld, want %lld", (long long)it_metric(hc, r, "parked_waiters"), (long long)n);
}

static void wait_path(char *out, size_t cap, const char *room, int64_t after, const char *timeout)
{
	snprintf(out, cap, "/api/rooms/%s/wait?after=%lld&timeout=%s", room, (long long)after, timeout);
}

/* Join an async wait that must have been answered; check status and body (NULL: any). */
static void joined(struct it_async *a, long status, const char *body, int retry_after)
{
	if (!it_poll(it_async_is_done, a, 10000))
		fail_msg("wait %s never answered", a->url);
	it_async_join(a);
	if (a->rc != 0)
		fail_msg("wait %s: transport error", a->url);
	it_check(&a->resp, status, body, retry_after);
	http_resp_free(&a->resp);
}

/* ROOM-WAIT-1/2: absent rooms and pending messages answer at once. */
static void test_absent_and_immediate(void **state)
{
	struct http_resp r;
	int64_t t = clock_mono_ms();
	it_expect(hc, &rp, "GET", "/api/rooms/WAITNONE/wait?timeout=30", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0);
	assert_true(clock_mono_ms() - t < 1000);
	it_expect(hc, &rp, "GET", "/api/rooms/WAITNONE/status", NULL, NULL, 200,
		  "{\"exists\":false,\"roomId\":\"WAITNONE\"}", 0); /* INV-8: not created */
	it_expect(hc, &rp, "GET", "/api/rooms/WA!T/wait", NULL, NULL, 400, "{\"error\":\"bad roomId\"}", 0);

	struct it_msg m[3];
	for (int i = 0; i < 3; i++)
		it_send(hc, &rp, "WAITIMM1", key, "pending", "", &m[i]);
	char path[160], tail[64];
	struct it_msg *w[3] = {&m[0], &m[1], &m[2]};
	wait_path(path, sizeof(path), "WAITIMM1", m[0].seq, "30");
	t = clock_mono_ms();
	it_get(hc, &rp, path, &r);
	assert_true(clock_mono_ms() - t < 1000);
	snprintf(tail, sizeof(tail), ",\"last_seq\":%lld}", (long long)m[2].seq);
	it_page_check(r.body, "{\"messages\":[", w + 1, 2, tail);
	http_resp_free(&r);
	it_get(hc, &rp, "/api/rooms/WAITIMM1/wait?after=-3", &r); /* NUM-1: max(0, P) */
	it_page_check(r.body, "{\"messages\":[", w, 3, tail);
	http_resp_free(&r);
	for (int i = 0; i < 3; i++)
		it_msg_free(&m[i]);
	assert_int_equal(it_metric(hc, &rp, "parked_waiters"), 0);
}

/* ROOM-WAIT-3/5, ROOM-22: a parked wait is answered by the next message within milliseconds,
 * with every message above `after`. */
static void test_park_and_wake(void **state)
{
	struct it_msg m;
	char path[160], want[64];
	int64_t s0 = it_send(hc, &rp, "WAKE0001", key, "first", "", NULL);
	int64_t waits0 = it_metric(hc, &rp, "longpoll_waits_total");
	int64_t wakes0 = it_metric(hc, &rp, "longpoll_wakes_total");
	for (int round = 0; round < 5; round++) {
		struct it_async a;
		wait_path(path, sizeof(path), "WAKE0001", s0 + round, "30");
		it_async_get(&a, &rp, path, NULL, 20000);
		parked(&rp, 1);
		assert_false(atomic_load(&a.done));
		int64_t t = clock_mono_ms();
		it_send(hc, &rp, "WAKE0001", key, "wake up", "", &m);
		assert_true(it_poll(it_async_is_done, &a, 5000));
		it_async_join(&a);
		int64_t lat = a.end_ms - t;
		if (lat > 250)
			fail_msg("wake took %lld ms", (long long)lat);
		assert_int_equal(a.rc, 0);
		assert_int_equal(m.seq, s0 + round + 1);
		struct it_msg *w[1] = {&m};
		snprintf(want, sizeof(want), ",\"last_seq\":%lld}", (long long)m.seq);
		it_page_check(a.resp.body, "{\"messages\":[", w, 1, want);
		http_resp_free(&a.resp);
		it_msg_free(&m);
	}
	parked(&rp, 0);
	int64_t waits = it_metric(hc, &rp, "longpoll_waits_total"), wakes = it_metric(hc, &rp, "longpoll_wakes_total");
	if (waits != waits0 + 5 || wakes != wakes0 + 5)
		fail_msg("MET-5: waits %lld -> %lld, wakes %lld -> %lld for 5 woken waits", (long long)waits0,
			 (long long)waits, (long long)wakes0, (long long)wakes);
}

/* ROOM-WAIT-5: a message with seq <= after leaves the wait parked. */
static void test_wake_only_above_after(void **state)
{
	struct it_msg m;
	char path[160], want[64];
	int64_t s0 = it_send(hc, &rp, "WAKE0002", key, "first", "", NULL);
	struct it_async a;
	wait_path(path, sizeof(path), "WAKE0002", s0 + 2, "30");
	it_async_get(&a, &rp, path, NULL, 20000);
	parked(&rp, 1);
	it_send(hc, &rp, "WAKE0002", key, "s0+1", "", NULL);
	it_send(hc, &rp, "WAKE0002", key, "s0+2", "", NULL);
	/* the relay handles the wake synchronously in the POST (ROOM-POST-10 resolves waiters
	 * before answering), so after both answers the wait must still be parked */
	it_nap_ms(100);
	assert_false(atomic_load(&a.done));
	assert_int_equal(it_metric(hc, &rp, "parked_waiters"), 1);
	it_send(hc, &rp, "WAKE0002", key, "s0+3", "", &m);
	assert_int_equal(m.seq, s0 + 3);
	assert_true(it_poll(it_async_is_done, &a, 5000));
	it_async_join(&a);
	struct it_msg *w[1] = {&m};
	snprintf(want, sizeof(want), ",\"last_seq\":%lld}", (long long)m.seq);
	it_page_check(a.resp.body, "{\"messages\":[", w, 1, want);
	http_resp_free(&a.resp);
	it_msg_free(&m);
	parked(&rp, 0);
}

/* ROOM-WAIT-4 and NUM-2: max(1, min(90, P(v))), with 0 / NaN / absent -> 30. */
static void test_timeout_clamp(void **state)
{
	static const struct { const char *t; bool one_second; } c[] = {
		{"1", true}, {"-5", true}, {"1.9", true}, {"%2B1", true},
		{"0", false}, {"abc", false}, {"0.5", false}, {"1000", false}, {"", false},
	};
	enum { N = sizeof(c) / sizeof(c[0]) };
	struct it_async a[N];
	char path[160], want[80];
	/* its own relay: the waits abandoned below stay parked there until their own timeout */
	struct relay_proc tr;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--metrics-token", IT_METRICS_TOKEN, NULL};
	it_start(&tr, args);
	int64_t s0 = it_send(hc, &tr, "TIMEOUT1", key, "only", "", NULL);
	for (int i = 0; i < (int)N; i++) {
		wait_path(path, sizeof(path), "TIMEOUT1", s0, c[i].t);
		it_async_get(&a[i], &tr, path, NULL, 2600);
	}
	snprintf(want, sizeof(want), "{\"messages\":[],\"last_seq\":%lld}", (long long)s0);
	int ones = 0;
	for (int i = 0; i < (int)N; i++) {
		it_async_join(&a[i]);
		int64_t el = a[i].end_ms - a[i].start_ms;
		if (c[i].one_second) {
			if (a[i].rc != 0 || el < 900 || el > 2500)
				fail_msg("timeout=%s: rc %d after %lld ms", c[i].t, a[i].rc, (long long)el);
			it_check(&a[i].resp, 200, want, 0);
			http_resp_free(&a[i].resp);
			ones++;
		} else if (a[i].rc == 0) {
			fail_msg("timeout=%s answered after %lld ms: %s", c[i].t, (long long)el, a[i].resp.body);
		}
	}
	assert_int_equal(it_metric(hc, &tr, "longpoll_timeouts_total"), ones);
	assert_int_equal(it_metric(hc, &tr, "longpoll_waits_total"), (int64_t)N);
	assert_int_equal(relay_stop(&tr), 0); /* parked waits do not block shutdown */
}

/* ROOM-WAIT-2 (sealroom): an immediate answer is at most 500 messages, has_more last. */
static void test_has_more(void **state)
{
	struct http_resp r;
	char path[160];
	int64_t first = 0, last = 0;
	char *b = it_sealed_body(key, "many", "", NULL);
	for (int i = 0; i < 501; i++) {
		it_post(hc, &rp, "/api/rooms/HASMORE1/messages", b, &r);
		last = it_post_answer(&r, NULL);
		if (i == 0)
			first = last;
		http_resp_free(&r);
	}
	free(b);
	const char *el[502], *tail;
	size_t len[502];
	char want[80];
	it_get(hc, &rp, "/api/rooms/HASMORE1/wait?after=0", &r);
	assert_int_equal(it_split(r.body, "{\"messages\":[", el, len, 502, &tail), 500);
	snprintf(want, sizeof(want), ",\"last_seq\":%lld,\"has_more\":true}", (long long)last);
	assert_string_equal(tail, want);
	http_resp_free(&r);
	wait_path(path, sizeof(path), "HASMORE1", first, "30");
	it_get(hc, &rp, path, &r);
	assert_int_equal(it_split(r.body, "{\"messages\":[", el, len, 502, &tail), 500);
	snprintf(want, sizeof(want), ",\"last_seq\":%lld}", (long long)last);
	assert_string_equal(tail, want);
	http_resp_free(&r);
}

/* CAP-2 (WAITER_CAP_PER_IP 16) with the exact 429, then release exactly once on wake. */
static void test_ip_cap(void **state)
{
	enum { CAP = 16 };
	struct it_async a[CAP];
	char path[160];
	int64_t s1 = it_send(hc, &rp, "IPCAP001", key, "x", "", NULL);
	int64_t s2 = it_send(hc, &rp, "IPCAP002", key, "x", "", NULL);
	for (int i = 0; i < CAP; i++) {
		wait_path(path, sizeof(path), i % 2 ? "IPCAP001" : "IPCAP002", i % 2 ? s1 : s2, "60");
		it_async_get(&a[i], &rp, path, "10.3.1.1", 30000);
	}
	parked(&rp, CAP);
	const char *xff[] = {"X-Forwarded-For: 10.3.1.1", NULL};
	wait_path(path, sizeof(path), "IPCAP001", s1, "60");
	for (int k = 0; k < 3; k++) /* a refused wait takes nothing: still refused */
		it_expect(hc, &rp, "GET", path, xff, NULL, 429, "{\"error\":\"too many concurrent waiters from this IP\"}", 5);
	/* an answer that does not park needs no slot */
	it_expect(hc, &rp, "GET", "/api/rooms/IPCAP001/wait?after=0", xff, NULL, 200, NULL, 0);
	/* another client IP is not affected */
	struct it_async o;
	it_async_get(&o, &rp, path, "10.3.1.2", 30000);
	parked(&rp, CAP + 1);
	/* wake everyone: each answered once, and every slot comes back */
	it_send(hc, &rp, "IPCAP001", key, "wake", "", NULL);
	it_send(hc, &rp, "IPCAP002", key, "wake", "", NULL);
	for (int i = 0; i < CAP; i++)
		joined(&a[i], 200, NULL, 0);
	joined(&o, 200, NULL, 0);
	parked(&rp, 0);
	s1 = it_send(hc, &rp, "IPCAP001", key, "x", "", NULL);
	for (int i = 0; i < CAP; i++) {
		wait_path(path, sizeof(path), "IPCAP001", s1, "60");
		it_async_get(&a[i], &rp, path, "10.3.1.1", 30000);
	}
	parked(&rp, CAP);
	it_expect(hc, &rp, "GET", path, xff, NULL, 429, "{\"error\":\"too many concurrent waiters from this IP\"}", 5);
	it_send(hc, &rp, "IPCAP001", key, "wake", "", NULL);
	for (int i = 0; i < CAP; i++)
		joined(&a[i], 200, NULL, 0);
	parked(&rp, 0);
}

/* CAP-3 (ROOM_WAITERS_MAX) and the ROOM-WAIT-3 order: the room cap is checked before the IP
 * cap, and a refusal by one takes no slot of the other. */
static void test_room_cap_and_order(void **state)
{
	struct relay_proc rc;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--metrics-token", IT_METRICS_TOKEN,
			      "--room-waiters-max", "4", "--waiter-cap-per-ip", "2", NULL};
	struct it_async a[4], b[2];
	char path[160], path2[160];
	it_start(&rc, args);
	int64_t s1 = it_send(hc, &rc, "RWCAP001", key, "x", "", NULL);
	int64_t s2 = it_send(hc, &rc, "RWCAP002", key, "x", "", NULL);
	wait_path(path, sizeof(path), "RWCAP001", s1, "60");
	wait_path(path2, sizeof(path2), "RWCAP002", s2, "60");
	static const char *const ips[4] = {"10.4.0.1", "10.4.0.1", "10.4.0.2", "10.4.0.3"};
	for (int i = 0; i < 4; i++)
		it_async_get(&a[i], &rc, path, ips[i], 30000);
	parked(&rc, 4);
	const char *ip1[] = {"X-Forwarded-For: 10.4.0.1", NULL};
	const char *ip4[] = {"X-Forwarded-For: 10.4.0.4", NULL};
	/* room full and IP full: the room's 429 comes first */
	it_expect(hc, &rc, "GET", path, ip1, NULL, 429, "{\"error\":\"too many concurrent waiters for this room\"}", 5);
	/* IP full, other room: the IP's 429 */
	it_expect(hc, &rc, "GET", path2, ip1, NULL, 429, "{\"error\":\"too many concurrent waiters from this IP\"}", 5);
	/* a fresh IP refused by the room cap keeps both of its IP slots */
	it_expect(hc, &rc, "GET", path, ip4, NULL, 429, "{\"error\":\"too many concurrent waiters for this room\"}", 5);
	for (int i = 0; i < 2; i++)
		it_async_get(&b[i], &rc, path2, "10.4.0.4", 30000);
	parked(&rc, 6);
	/* and the other room's refusal (IP cap) took no room slot there: one more IP fits */
	struct it_async c;
	it_async_get(&c, &rc, path2, "10.4.0.5", 30000);
	parked(&rc, 7);
	it_send(hc, &rc, "RWCAP001", key, "wake", "", NULL);
	it_send(hc, &rc, "RWCAP002", key, "wake", "", NULL);
	for (int i = 0; i < 4; i++)
		joined(&a[i], 200, NULL, 0);
	for (int i = 0; i < 2; i++)
		joined(&b[i], 200, NULL, 0);
	joined(&c, 200, NULL, 0);
	parked(&rc, 0);
	assert_int_equal(relay_stop(&rc), 0);
}

struct retry_wait {
	struct relay_proc *r;
	const char *path;
	const char *xff;
	long last_status;
};

/* One short wait from the IP: true once it is not refused by the IP cap. */
static bool not_capped(void *arg)
{
	struct retry_wait *rw = arg;
	const char *hdrs[] = {rw->xff, NULL};
	struct http_resp r;
	it_req(hc, rw->r, "GET", rw->path, hdrs, NULL, 0, &r);
	rw->last_status = r.status;
	http_resp_free(&r);
	return rw->last_status == 200;
}

/* ROOM-WAIT-6 / CAP-15: a client that disconnects from a parked wait releases both slots,
 * exactly once, without waiting for the wait's own timeout. */
static void test_disconnect_releases(void **state)
{
	struct relay_proc dc;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--metrics-token", IT_METRICS_TOKEN,
			      "--waiter-cap-per-ip", "2", "--room-waiters-max", "2", NULL};
	struct it_async a[2];
	char path[160];
	it_start(&dc, args);
	int64_t s1 = it_send(hc, &dc, "DISCON01", key, "x", "", NULL);
	wait_path(path, sizeof(path), "DISCON01", s1, "60");
	for (int i = 0; i < 2; i++)
		it_async_get(&a[i], &dc, path, "10.5.0.1", 600); /* the client gives up after 0.6 s */
	parked(&dc, 2);
	for (int i = 0; i < 2; i++) {
		it_async_join(&a[i]);
		assert_int_equal(a[i].rc, -1); /* it did disconnect while parked */
	}
	/* both caps are at 2: a third wait from the same IP in the same room is refused until the
	 * relay has released the two abandoned slots */
	char p1[160];
	wait_path(p1, sizeof(p1), "DISCON01", s1, "1");
	struct retry_wait rw = {&dc, p1, "X-Forwarded-For: 10.5.0.1", 0};
	if (!it_poll_every(not_capped, &rw, 8000, 50))
		fail_msg("slots of disconnected waits still held after 8 s (last answer %ld); parked_waiters %lld",
			 rw.last_status, (long long)it_metric(hc, &dc, "parked_waiters"));
	parked(&dc, 0);
	/* released exactly once: the caps still hold at exactly 2 */
	for (int i = 0; i < 2; i++)
		it_async_get(&a[i], &dc, path, "10.5.0.1", 30000);
	parked(&dc, 2);
	const char *xff[] = {"X-Forwarded-For: 10.5.0.2", NULL};
	it_expect(hc, &dc, "GET", path, xff, NULL, 429, "{\"error\":\"too many concurrent waiters for this room\"}", 5);
	it_send(hc, &dc, "DISCON01", key, "wake", "", NULL);
	for (int i = 0; i < 2; i++)
		joined(&a[i], 200, NULL, 0);
	parked(&dc, 0);
	assert_int_equal(relay_stop(&dc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_absent_and_immediate),
		cmocka_unit_test(test_park_and_wake),
		cmocka_unit_test(test_wake_only_above_after),
		cmocka_unit_test(test_timeout_clamp),
		cmocka_unit_test(test_has_more),
		cmocka_unit_test(test_ip_cap),
		cmocka_unit_test(test_room_cap_and_order),
		cmocka_unit_test(test_disconnect_releases),
	};
	return cmocka_run_group_tests_name("it_wait", tests, setup, teardown);
}
