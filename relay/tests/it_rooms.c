/* Integration: the room HTTP routes of PROTOCOL.md §5–6 against a real relay — POST
 * messages (ROOM-POST-1..10 in order), status, transcript, wait shapes and clamps (NUM-1..3),
 * has_more over 500, ttl_ms expiry (ROOM-9/10), RECENT_MAX, the byte fuse (ROOM-11), the room
 * cap with eviction of the stalest idle room (ROOM-2), /listening, and wall-clock seqs (ROOM-7).
 * Every message is a real sealed one (CRYPTO-2). */
#include "it_util.h"

#include <signal.h>

#include "client/sse.h"
#include "client/ws.h"

static struct relay_proc rp;       /* the main relay: raised rate limits */
static struct http_client *hc;
static unsigned char key[32];

/* Posted in setup, checked last (test_ttl_expiry): ROOM-9 (2) needs >= 30 s of real time. */
#define TTL_ROOM "TTLROOM1"
#define TTL_ROOM2 "TTLROOM2"
static struct it_msg ttl_m[7];
static struct it_msg ttl_single;
/* Subscribers that keep the two ttl rooms alive: idle rooms are evicted 30-45 s after their
 * last activity (ROOM-3/4), which is exactly when the ttl check runs. */
static struct sse_conn *ttl_hold[2];

static const char *const main_args[] = {
	"--worker-threads", "128", "--worker-reserve", "16", "--metrics-token", IT_METRICS_TOKEN,
	"--room-rl-cap", "100000", "--room-rl-refill-per-sec", "100000",
	"--global-rl-cap", "100000", "--global-rl-refill-per-sec", "100000", NULL,
};

static int setup(void **state)
{
	if (crypto_init() != 0)
		return -1;
	env_room_key_new(key);
	if (relay_start(&rp, main_args) != 0)
		return -1;
	hc = http_client_new(NULL);
	if (!hc)
		return -1;
	/* ROOM-15: ttl_ms stored only when > 0, integral values as integers, others shortest
	 * round-trip; reply_to stored after ttl_ms. */
	static const struct { const char *extra, *tail; } t[7] = {
		{"", ""},
		{",\"ttl_ms\":30000", ",\"ttl_ms\":30000"},
		{",\"ttl_ms\":31622400000,\"reply_to\":\"abcdefgh\"", ",\"ttl_ms\":31622400000,\"reply_to\":\"abcdefgh\""},
		{",\"ttl_ms\":30000.5", ",\"ttl_ms\":30000.5"},
		{",\"ttl_ms\":0,\"reply_to\":null", ""},
		{",\"ttl_ms\":3e4", ",\"ttl_ms\":30000"},
		{",\"ttl_ms\":30000.0", ",\"ttl_ms\":30000"},
	};
	for (int i = 0; i < 7; i++) {
		char plain[32];
		snprintf(plain, sizeof(plain), "ttl message %d", i);
		it_send(hc, &rp, TTL_ROOM, key, plain, t[i].extra, &ttl_m[i]);
		ttl_m[i].tail = t[i].tail;
	}
	it_send(hc, &rp, TTL_ROOM2, key, "lonely", ",\"ttl_ms\":30000", &ttl_single);
	ttl_single.tail = ",\"ttl_ms\":30000";
	char url[256];
	it_url(url, sizeof(url), &rp, "/api/rooms/" TTL_ROOM "/events?after=999999999999999");
	ttl_hold[0] = sse_open(url, NULL, NULL, 5000);
	it_url(url, sizeof(url), &rp, "/api/rooms/" TTL_ROOM2 "/events?after=999999999999999");
	ttl_hold[1] = sse_open(url, NULL, NULL, 5000);
	return ttl_hold[0] && ttl_hold[1] ? 0 : -1;
}

static int teardown(void **state)
{
	for (int i = 0; i < 7; i++)
		it_msg_free(&ttl_m[i]);
	it_msg_free(&ttl_single);
	sse_close(ttl_hold[0]);
	sse_close(ttl_hold[1]);
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1; /* SIGTERM -> exit 0 */
}

static void transcript_path(char *out, size_t cap, const char *room, const char *query)
{
	if (snprintf(out, cap, "/api/rooms/%s/transcript%s", room, query) >= (int)cap)
		fail_msg("transcript path too long");
}

/* ---- POST ------------------------------------------------------------------------------------ */

/* ROOM-POST-10 shape, ROOM-7 seqs: first = createdAt = now, then +1 however much time passes;
 * ROOM-14 labels; HTTP-18 headers; ROOM-17 stored shape. */
static void test_post_success_and_seq(void **state)
{
	struct it_msg m[6];
	static const struct { const char *extra, *sj; } lab[6] = {
		{"", "agent"},
		{",\"sender\":\"bob\"", "bob"},
		{",\"sender\":\"@alice\"", "@alice"},      /* any label, a leading @ included */
		{",\"sender\":\"\"", "agent"},             /* empty -> agent */
		{",\"sender\":null", "agent"},
		{",\"sender\":\"\\u00e9t\\u00e9 \\\"q\\\" \\\\ /\"", "\xc3\xa9t\xc3\xa9 \\\"q\\\" \\\\ /"},
	};
	struct http_resp r;

	it_send(hc, &rp, "SEQROOM1", key, "first", lab[0].extra, &m[0]);
	/* ROOM-7: the first message's seq is the room's createdAt, a wall-clock ms timestamp */
	assert_in_range(m[0].seq, m[0].t0, m[0].t1);
	/* let the wall clock move well past the seq: later seqs are still +1 */
	while (clock_now_ms() < m[0].seq + 25)
		it_nap_ms(5);
	for (int i = 1; i < 6; i++) {
		it_send(hc, &rp, "SEQROOM1", key, "next", lab[i].extra, &m[i]);
		assert_int_equal(m[i].seq, m[0].seq + i);
	}
	for (int i = 0; i < 6; i++)
		m[i].sj = lab[i].sj;

	/* a second room has its own seqs, seeded from its own creation time */
	struct it_msg o;
	it_send(hc, &rp, "SEQROOM2", key, "other", "", &o);
	assert_in_range(o.seq, o.t0, o.t1);
	assert_true(o.seq >= m[0].seq + 25);
	it_msg_free(&o);

	/* headers of the accepted post */
	char *body = it_sealed_body(key, "hdr", "", NULL);
	it_post(hc, &rp, "/api/rooms/SEQROOM1/messages", body, &r);
	free(body);
	assert_int_equal(it_post_answer(&r, NULL), m[0].seq + 6);
	assert_true(http_header_is(&r, "Content-Type", "application/json; charset=utf-8"));
	char cl[16];
	snprintf(cl, sizeof(cl), "%zu", r.body_len);
	assert_true(http_header_is(&r, "Content-Length", cl));
	assert_null(http_header(&r, "Retry-After", NULL));
	http_resp_free(&r);

	/* ROOM-17 exactly, in order */
	it_get(hc, &rp, "/api/rooms/SEQROOM1/transcript?limit=6", &r);
	struct it_msg *want[6] = {&m[0], &m[1], &m[2], &m[3], &m[4], &m[5]};
	char tail[128];
	snprintf(tail, sizeof(tail), ",\"last_seq\":%lld,\"count\":6,\"exists\":true}", (long long)(m[0].seq + 6));
	it_page_check(r.body, "{\"messages\":[", want, 6, tail);
	http_resp_free(&r);
	for (int i = 0; i < 6; i++)
		it_msg_free(&m[i]);
}

/* ROOM-POST-1, HTTP-3: the decoded segment is validated; a malformed escape stays raw. */
static void test_post_bad_room_id(void **state)
{
	static const char *const bad[] = {
		"abc", "ab%2Fcd", "bad.room", "ROOM%20234", "ROOM%zz12", "%E2%82%AC%E2%82%AC",
		"A234567890123456789012345678901234567890123456789012345678901234X", /* 65 */
	};
	char *body = it_sealed_body(key, "x", "", NULL);
	char path[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/api/rooms/%s/messages", bad[i]);
		it_expect_post(hc, &rp, path, body, 400, "{\"error\":\"bad roomId\"}", 0);
	}
	/* the first check wins: bad roomId before bad message (ROOM-POST-1 before -2) */
	it_expect_post(hc, &rp, "/api/rooms/abc/messages", "{}", 400, "{\"error\":\"bad roomId\"}", 0);
	/* HTTP-15: a bad body beats the room check */
	it_expect_post(hc, &rp, "/api/rooms/abc/messages", "{", 400, "{\"error\":\"bad json\"}", 0);

	/* 4 and 64 characters pass; an escaped valid id is decoded first */
	struct http_resp r;
	it_post(hc, &rp, "/api/rooms/A-_z/messages", body, &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	it_post(hc, &rp, "/api/rooms/A23456789012345678901234567890123456789012345678901234567890123Z/messages", body, &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	it_post(hc, &rp, "/api/rooms/ESC%5FROOM/messages", body, &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	it_get(hc, &rp, "/api/rooms/ESC_ROOM/status", &r);
	it_prefix(r.body, "{\"exists\":true,\"roomId\":\"ESC_ROOM\",\"participants\":0,\"recent_count\":1,");
	http_resp_free(&r);
	free(body);
}

/* ROOM-POST-2 / ROOM-12 over HTTP (the full clause table is test_message.c): every failure
 * is exactly 400 bad message, and nothing is stored or created. */
static void test_post_bad_message(void **state)
{
	char ct[200], nonce[33];
	struct it_msg m;
	char *good = it_sealed_body(key, "valid", "", &m);
	snprintf(ct, sizeof(ct), "%s", m.ct);
	snprintf(nonce, sizeof(nonce), "%s", m.nonce);
	free(good);
	it_msg_free(&m);

	char *big = malloc(140000);
	assert_non_null(big);
	/* 131 076 'A's: canonical, but over 131 072 units (ROOM-12b) */
	int n = snprintf(big, 140000, "{\"ciphertext\":\"");
	memset(big + n, 'A', 131076);
	snprintf(big + n + 131076, 140000 - (size_t)n - 131076, "\",\"nonce\":\"%s\"}", nonce);

	char (*cases)[400] = calloc(24, sizeof(*cases)); /* nothing big on the stack */
	assert_non_null(cases);
	int k = 0;
	snprintf(cases[k++], 400, "{}");
	snprintf(cases[k++], 400, "[]");                                        /* HTTP-12: no fields */
	snprintf(cases[k++], 400, "{\"nonce\":\"%s\"}", nonce);                 /* 12b missing */
	snprintf(cases[k++], 400, "{\"ciphertext\":7,\"nonce\":\"%s\"}", nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"\",\"nonce\":\"%s\"}", nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"AB==\",\"nonce\":\"%s\"}", nonce); /* B64-1 bits */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"QQ\",\"nonce\":\"%s\"}", nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\"}", ct);               /* 12c missing */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}", ct); /* 22 bytes */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender\":7}", ct, nonce); /* 12d */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender\":\"a\\u0000b\"}", ct, nonce); /* HTTP-17 */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender\":\"%s\"}", ct, nonce,
		 "12345678901234567890123456789012345678901234567890123456789012345"); /* 65 units */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"reply_to\":\"abcdefg\"}", ct, nonce); /* 12e: 7 */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"reply_to\":\"abcd.efgh\"}", ct, nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"reply_to\":12345678}", ct, nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ttl_ms\":\"30000\"}", ct, nonce); /* 12f */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ttl_ms\":29999}", ct, nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ttl_ms\":31622400001}", ct, nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ttl_ms\":-1}", ct, nonce);
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ttl_ms\":true}", ct, nonce);
	/* HTTP-16: the last duplicate wins, so a bad last ciphertext fails */
	snprintf(cases[k++], 400, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ciphertext\":\"AB==\"}", ct, nonce);
	for (int i = 0; i < k; i++)
		it_expect_post(hc, &rp, "/api/rooms/BADMSG01/messages", cases[i], 400, "{\"error\":\"bad message\"}", 0);
	it_expect_post(hc, &rp, "/api/rooms/BADMSG01/messages", big, 400, "{\"error\":\"bad message\"}", 0);
	free(big);
	free(cases);

	/* HTTP-11: not application/json means the body is {} */
	char body[400];
	snprintf(body, sizeof(body), "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"}", ct, nonce);
	const char *plain[] = {"Content-Type: text/plain", NULL};
	it_expect(hc, &rp, "POST", "/api/rooms/BADMSG01/messages", plain, body, 400, "{\"error\":\"bad message\"}", 0);
	const char *none[] = {NULL};
	it_expect(hc, &rp, "POST", "/api/rooms/BADMSG01/messages", none, body, 400, "{\"error\":\"bad message\"}", 0);

	/* ROOM-POST-2 precedes room creation (ROOM-POST-4): nothing was created */
	it_expect(hc, &rp, "GET", "/api/rooms/BADMSG01/status", NULL, NULL, 200,
		  "{\"exists\":false,\"roomId\":\"BADMSG01\"}", 0);

	/* the media type is case-insensitive with any parameters; the duplicate rule again */
	const char *odd[] = {"Content-Type: Application/JSON ; charset=latin1", NULL};
	struct http_resp r;
	it_req(hc, &rp, "POST", "/api/rooms/BADMSG01/messages", odd, body, strlen(body), &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "{\"ciphertext\":\"AB==\",\"nonce\":\"%s\",\"ciphertext\":\"%s\"}", nonce, ct);
	it_post(hc, &rp, "/api/rooms/BADMSG01/messages", body, &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
}

/* ROOM-POST-5..8 order and ROOM-POST-9 side effects. Signed messages cannot verify yet (no
 * identity is registered), which itself is SIG-5's 401. */
static void test_post_check_order(void **state)
{
	struct http_resp r;
	char *b;

	/* ROOM-POST-7: unsigned + signed_only:true -> 400, but the room created at step 4 stays */
	b = it_sealed_body(key, "x", ",\"signed_only\":true", NULL);
	it_expect_post(hc, &rp, "/api/rooms/LOCKRM01/messages", b, 400,
		       "{\"error\":\"signed_only requires sender_sig\"}", 0);
	free(b);
	it_get(hc, &rp, "/api/rooms/LOCKRM01/status", &r);
	it_prefix(r.body, "{\"exists\":true,\"roomId\":\"LOCKRM01\",\"participants\":0,\"recent_count\":0,\"last_seq\":0,");
	assert_non_null(strstr(r.body, ",\"signed_only\":false}"));
	http_resp_free(&r);
	it_expect(hc, &rp, "GET", "/api/rooms/LOCKRM01/transcript", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"count\":0,\"exists\":true}", 0);

	/* ROOM-POST-6 before -7: a signed post that does not verify is 401 */
	b = it_sealed_body(key, "x", ",\"signed_only\":true,\"sender_handle\":\"alice\",\"sender_sig\":\"AAAA\","
			   "\"sender_ts\":1767225600000,\"sender_nonce\":\"wMHCw8TFxsfIycrLzM3Oz9DR\"", NULL);
	it_expect_post(hc, &rp, "/api/rooms/LOCKRM01/messages", b, 401, "{\"error\":\"bad sender_sig\"}", 0);
	free(b);
	/* ROOM-13: only one of the two signed fields -> unsigned, label from sender */
	b = it_sealed_body(key, "x", ",\"sender_handle\":\"alice\",\"sender_sig\":\"\",\"sender\":\"carl\"", NULL);
	it_post(hc, &rp, "/api/rooms/LOCKRM01/messages", b, &r);
	int64_t seq = it_post_answer(&r, NULL);
	http_resp_free(&r);
	free(b);
	/* "exactly true": other truthy values do not ask for a lock */
	static const char *const soft[] = {",\"signed_only\":\"true\"", ",\"signed_only\":1", ",\"signed_only\":false"};
	for (int i = 0; i < 3; i++) {
		b = it_sealed_body(key, "x", soft[i], NULL);
		it_post(hc, &rp, "/api/rooms/LOCKRM01/messages", b, &r);
		assert_int_equal(it_post_answer(&r, NULL), seq + 1 + i);
		http_resp_free(&r);
		free(b);
	}
	/* the unsigned label survived: ROOM-14, sender_verified false */
	it_get(hc, &rp, "/api/rooms/LOCKRM01/transcript?limit=1", &r);
	assert_non_null(strstr(r.body, "\"sender\":\"carl\",\"sender_verified\":false,"));
	http_resp_free(&r);
}

/* ROOM-POST-6..9, ROOM-6, ROOM-13/14 with a registered identity: a validly signed post with
 * signed_only:true locks the room and broadcasts {"type":"locked"} before its message; then
 * unsigned posts get the exact 403 (CLIENT-5). */
static void test_locked_room(void **state)
{
	struct crypto_identity alice, upper;
	struct http_resp r;
	struct it_msg m[2];
	char url[256];
	it_register(hc, &rp, "alice", &alice);
	it_url(url, sizeof(url), &rp, "/api/rooms/LOCKED01/events");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_non_null(sc);
	struct sse_event_copy ev;
	for (int i = 0; i < 2; i++) { /* ready, presence */
		assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
		sse_event_copy_free(&ev);
	}
	char *b = it_signed_body(key, "locking", &alice, "LOCKED01", ",\"signed_only\":true,\"sender\":\"ignored\"", &m[0]);
	m[0].t0 = clock_now_ms();
	it_post(hc, &rp, "/api/rooms/LOCKED01/messages", b, &r);
	m[0].t1 = clock_now_ms();
	m[0].seq = it_post_answer(&r, m[0].id);
	m[0].sj = "@alice";
	http_resp_free(&r);
	free(b);
	/* SSE: locked, then the message (ROOM-POST-7) */
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
	assert_string_equal(ev.data, "{\"type\":\"locked\"}");
	assert_false(ev.has_id);
	sse_event_copy_free(&ev);
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
	it_msg_check(ev.data, ev.data_len, &m[0]);
	sse_event_copy_free(&ev);
	it_get(hc, &rp, "/api/rooms/LOCKED01/status", &r);
	assert_non_null(strstr(r.body, ",\"signed_only\":true}"));
	http_resp_free(&r);

	/* ROOM-POST-8: unsigned posts, with or without signed_only, get the exact 403 */
	static const char *const extra[] = {"", ",\"signed_only\":true", ",\"sender_handle\":\"alice\""};
	for (int i = 0; i < 3; i++) {
		b = it_sealed_body(key, "nope", extra[i], NULL);
		it_post(hc, &rp, "/api/rooms/LOCKED01/messages", b, &r);
		it_check(&r, 403, "{\"error\":\"signed_only: this room requires sender_sig from a registered @handle\"}", 0);
		http_resp_free(&r);
		free(b);
	}
	/* signed posts still pass; a second lock request broadcasts no second locked event;
	 * ROOM-14: the label is "@" + lowercase(sender_handle) */
	upper = alice;
	snprintf(upper.handle, sizeof(upper.handle), "ALICE");
	b = it_signed_body(key, "again", &upper, "LOCKED01", ",\"signed_only\":true", &m[1]);
	m[1].t0 = clock_now_ms();
	it_post(hc, &rp, "/api/rooms/LOCKED01/messages", b, &r);
	m[1].t1 = clock_now_ms();
	m[1].seq = it_post_answer(&r, m[1].id);
	m[1].sj = "@alice";
	assert_int_equal(m[1].seq, m[0].seq + 1);
	http_resp_free(&r);
	/* SIG-7: the very same signed body again is a replay -> 401 */
	it_post(hc, &rp, "/api/rooms/LOCKED01/messages", b, &r);
	it_check(&r, 401, "{\"error\":\"bad sender_sig\"}", 0);
	http_resp_free(&r);
	free(b);
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
	it_msg_check(ev.data, ev.data_len, &m[1]);
	sse_event_copy_free(&ev);
	/* transcript: both signed messages, verified */
	it_get(hc, &rp, "/api/rooms/LOCKED01/transcript", &r);
	struct it_msg *w[2] = {&m[0], &m[1]};
	char tail[128];
	snprintf(tail, sizeof(tail), ",\"last_seq\":%lld,\"count\":2,\"exists\":true}", (long long)m[1].seq);
	it_page_check(r.body, "{\"messages\":[", w, 2, tail);
	http_resp_free(&r);
	it_msg_free(&m[0]);
	it_msg_free(&m[1]);
	sse_close(sc);
}

/* ROOM-POST-3 / RL-2 / RL-3, with small buckets that do not refill during the test. */
static void test_post_rate_limits(void **state)
{
	struct relay_proc rl;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--room-rl-cap", "3",
			      "--room-rl-refill-per-sec", "0.001", "--global-rl-cap", "5",
			      "--global-rl-refill-per-sec", "0.001", NULL};
	struct http_resp r;
	it_start(&rl, args);
	char *b = it_sealed_body(key, "rl", "", NULL);

	/* per (ip, room): 3 pass, the 4th is 429 with Retry-After: 1 */
	for (int i = 0; i < 3; i++) {
		it_post_xff(hc, &rl, "/api/rooms/RLROOM01/messages", b, "10.1.0.1", &r);
		it_post_answer(&r, NULL);
		http_resp_free(&r);
	}
	it_post_xff(hc, &rl, "/api/rooms/RLROOM01/messages", b, "10.1.0.1", &r);
	it_check(&r, 429, "{\"error\":\"rate limited\"}", 1);
	http_resp_free(&r);
	/* validation precedes the bucket (ROOM-POST-2 before -3) */
	it_post_xff(hc, &rl, "/api/rooms/RLROOM01/messages", "{}", "10.1.0.1", &r);
	it_check(&r, 400, "{\"error\":\"bad message\"}", 0);
	http_resp_free(&r);
	/* RL-3: the per-key refusal did not consume the global bucket (3 of 5 used): 2 more
	 * pass in another room, then the global bucket refuses */
	for (int i = 0; i < 2; i++) {
		it_post_xff(hc, &rl, "/api/rooms/RLROOM02/messages", b, "10.1.0.1", &r);
		it_post_answer(&r, NULL);
		http_resp_free(&r);
	}
	it_post_xff(hc, &rl, "/api/rooms/RLROOM03/messages", b, "10.1.0.1", &r);
	it_check(&r, 429, "{\"error\":\"rate limited\"}", 1);
	http_resp_free(&r);
	/* ROOM-POST-3 precedes creation: RLROOM03 was not created */
	it_expect(hc, &rl, "GET", "/api/rooms/RLROOM03/status", NULL, NULL, 200,
		  "{\"exists\":false,\"roomId\":\"RLROOM03\"}", 0);
	/* another client IP (IP-1: XFF from a loopback peer) has its own buckets */
	it_post_xff(hc, &rl, "/api/rooms/RLROOM01/messages", b, "10.1.0.2", &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);

	/* ROOM-POST-9: tokens consumed by a post rejected later (ROOM-POST-7) are not refunded */
	char *so = it_sealed_body(key, "rl", ",\"signed_only\":true", NULL);
	for (int i = 0; i < 3; i++) {
		it_post_xff(hc, &rl, "/api/rooms/RLROOM04/messages", so, "10.1.0.3", &r);
		it_check(&r, 400, "{\"error\":\"signed_only requires sender_sig\"}", 0);
		http_resp_free(&r);
	}
	it_post_xff(hc, &rl, "/api/rooms/RLROOM04/messages", b, "10.1.0.3", &r);
	it_check(&r, 429, "{\"error\":\"rate limited\"}", 1);
	http_resp_free(&r);
	free(so);
	free(b);
	assert_int_equal(relay_stop(&rl), 0);
}

/* ROOM-2 / ROOM-POST-4 / SSE-4 / WS-5(2): at ROOMS_MAX the stalest idle room is evicted;
 * rooms held by a subscriber or a parked wait are not; with none idle creation fails. */
static void test_room_cap(void **state)
{
	struct relay_proc cap;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--rooms-max", "3",
			      "--metrics-token", IT_METRICS_TOKEN, NULL};
	struct http_resp r;
	char url[256];
	it_start(&cap, args);

	it_send(hc, &cap, "CAPROOMA", key, "a", "", NULL);
	it_nap_ms(3); /* distinct lastActive values */
	it_send(hc, &cap, "CAPROOMB", key, "b", "", NULL);
	it_nap_ms(3);
	it_send(hc, &cap, "CAPROOMC", key, "c", "", NULL);
	it_nap_ms(3);
	it_send(hc, &cap, "CAPROOMA", key, "a again", "", NULL); /* A is now the freshest */
	/* reads never create rooms (INV-8) and do not count against the cap */
	it_expect(hc, &cap, "GET", "/api/rooms/CAPROOMX/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"CAPROOMX\"}", 0);
	it_expect(hc, &cap, "GET", "/api/rooms/CAPROOMX/transcript", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0);
	it_expect(hc, &cap, "GET", "/api/rooms/CAPROOMX/wait?timeout=5", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0);
	assert_int_equal(it_metric(hc, &cap, "active_rooms"), 3);

	/* a 4th room evicts the idle room with the smallest lastActive: B */
	int64_t dseq = it_send(hc, &cap, "CAPROOMD", key, "d", "", NULL);
	it_expect(hc, &cap, "GET", "/api/rooms/CAPROOMB/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"CAPROOMB\"}", 0);
	static const char *const live[] = {"CAPROOMA", "CAPROOMC", "CAPROOMD"};
	for (int i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/api/rooms/%s/status", live[i]);
		it_get(hc, &cap, p, &r);
		it_prefix(r.body, "{\"exists\":true,");
		http_resp_free(&r);
	}
	assert_int_equal(it_metric(hc, &cap, "rooms_evicted_total"), 1);

	/* hold every room: SSE on A and C, a parked wait on D */
	it_url(url, sizeof(url), &cap, "/api/rooms/CAPROOMA/events?after=999999999999999");
	struct sse_conn *sa = sse_open(url, NULL, NULL, 5000);
	it_url(url, sizeof(url), &cap, "/api/rooms/CAPROOMC/events?after=999999999999999");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_true(sa && sc);
	struct sse_event_copy ev;
	assert_int_equal(sse_next_event(sa, &ev, 5000), 1); /* ready: the subscriber is joined */
	sse_event_copy_free(&ev);
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
	sse_event_copy_free(&ev);
	struct it_async w;
	char wpath[128];
	snprintf(wpath, sizeof(wpath), "/api/rooms/CAPROOMD/wait?after=%lld&timeout=30", (long long)dseq);
	it_async_get(&w, &cap, wpath, NULL, 20000);
	int64_t deadline = clock_mono_ms() + 5000;
	while (it_metric(hc, &cap, "parked_waiters") != 1 && clock_mono_ms() < deadline)
		it_nap_ms(5);
	if (atomic_load(&w.done))
		fail_msg("wait returned early: rc %d status %ld %s", w.rc, w.resp.status, w.resp.body);
	assert_int_equal(it_metric(hc, &cap, "parked_waiters"), 1);

	/* no idle room: POST -> 503 room cap reached, Retry-After: 60, nothing created */
	char *b = it_sealed_body(key, "e", "", NULL);
	it_post(hc, &cap, "/api/rooms/CAPROOME/messages", b, &r);
	it_check(&r, 503, "{\"error\":\"room cap reached\"}", 60);
	http_resp_free(&r);
	it_expect(hc, &cap, "GET", "/api/rooms/CAPROOME/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"CAPROOME\"}", 0);
	/* SSE-4: 200 stream, one error event, then the response ends */
	it_url(url, sizeof(url), &cap, "/api/rooms/CAPROOME/events");
	struct sse_conn *se = sse_open(url, NULL, NULL, 5000);
	assert_non_null(se);
	assert_int_equal(sse_conn_status(se), 200);
	assert_int_equal(sse_wait_end(se, 5000), 1);
	size_t rawlen;
	const char *raw = sse_conn_raw(se, &rawlen);
	assert_string_equal(raw, "data: {\"type\":\"error\",\"error\":\"room cap reached\"}\n\n");
	assert_null(sse_conn_error(se));
	sse_close(se);
	/* WS-5 (2): an error frame, then a close without a status code (1005) */
	it_url(url, sizeof(url), &cap, "/api/rooms/CAPROOME/ws");
	struct ws_conn *ws;
	assert_int_equal(ws_connect(url, NULL, NULL, 5000, &ws, NULL, NULL), 0);
	struct ws_msg wm;
	assert_int_equal(ws_recv(ws, &wm, 5000), WS_RECV_TEXT);
	assert_string_equal(wm.data, "{\"type\":\"error\",\"error\":\"room cap reached\"}");
	ws_msg_free(&wm);
	assert_int_equal(ws_recv(ws, &wm, 5000), WS_RECV_CLOSE);
	assert_int_equal(wm.close_code, 1005);
	ws_msg_free(&wm);
	ws_free(ws);

	/* release D's waiter with a message; D becomes the only idle room and is evicted next */
	it_send(hc, &cap, "CAPROOMD", key, "wake", "", NULL);
	assert_true(it_poll(it_async_is_done, &w, 5000));
	it_async_join(&w);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.resp.status, 200);
	http_resp_free(&w.resp);
	deadline = clock_mono_ms() + 5000;
	for (;;) {
		it_post(hc, &cap, "/api/rooms/CAPROOME/messages", b, &r);
		if (r.status == 200 || clock_mono_ms() > deadline)
			break;
		it_check(&r, 503, "{\"error\":\"room cap reached\"}", 60);
		http_resp_free(&r);
		it_nap_ms(10);
	}
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	it_expect(hc, &cap, "GET", "/api/rooms/CAPROOMD/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"CAPROOMD\"}", 0);
	it_get(hc, &cap, "/api/rooms/CAPROOMA/status", &r);
	it_prefix(r.body, "{\"exists\":true,\"roomId\":\"CAPROOMA\",\"participants\":1,");
	http_resp_free(&r);
	free(b);
	sse_close(sa);
	sse_close(sc);
	assert_int_equal(relay_stop(&cap), 0);
}

/* ROOM-11 / ROOM-POST-5: length(ciphertext)+512 per buffered message; "over the limit" is
 * refused (equal is fine); dropping a message releases its bytes; the room created at step 4
 * stays (ROOM-POST-9). With --recent-max 2 pruning releases bytes. */
static void test_byte_fuse(void **state)
{
	struct relay_proc fz;
	struct it_msg m;
	char *b = it_sealed_body(key, "sixteen bytes!!!", "", &m); /* 32 bytes -> 44 chars */
	size_t per = strlen(m.ct) + 512;
	assert_int_equal(strlen(m.ct), 44);
	char max[32];
	snprintf(max, sizeof(max), "%zu", 3 * per);
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--recent-max", "2",
			      "--room-global-max-bytes", max, "--metrics-token", IT_METRICS_TOKEN, NULL};
	struct http_resp r;
	it_start(&fz, args);

	for (int i = 0; i < 3; i++) { /* the third lands exactly on the limit, then prunes one */
		it_post(hc, &fz, "/api/rooms/FUSEROOM/messages", b, &r);
		it_post_answer(&r, NULL);
		http_resp_free(&r);
	}
	assert_int_equal(it_metric(hc, &fz, "room_buffer_bytes"), (int64_t)(2 * per));
	it_post(hc, &fz, "/api/rooms/FUSEROO2/messages", b, &r);
	it_post_answer(&r, NULL);
	http_resp_free(&r);
	assert_int_equal(it_metric(hc, &fz, "room_buffer_bytes"), (int64_t)(3 * per));
	/* full: any room, even one whose own prune would free space afterwards */
	static const char *const rooms[] = {"FUSEROO2", "FUSEROOM", "FUSEROO3"};
	for (int i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/api/rooms/%s/messages", rooms[i]);
		it_post(hc, &fz, p, b, &r);
		it_check(&r, 503, "{\"error\":\"global room buffer full \xe2\x80\x94 try again shortly\"}", 60);
		http_resp_free(&r);
	}
	/* ROOM-POST-9: FUSEROO3 was created at step 4 and stays, empty */
	it_get(hc, &fz, "/api/rooms/FUSEROO3/status", &r);
	it_prefix(r.body, "{\"exists\":true,\"roomId\":\"FUSEROO3\",\"participants\":0,\"recent_count\":0,\"last_seq\":0,");
	http_resp_free(&r);
	assert_int_equal(it_metric(hc, &fz, "room_buffer_bytes"), (int64_t)(3 * per));
	/* a smaller message does not fit either: 3*per + (24+512) > limit */
	char *small = it_sealed_body(key, "s", "", NULL);
	it_post(hc, &fz, "/api/rooms/FUSEROOM/messages", small, &r);
	it_check(&r, 503, "{\"error\":\"global room buffer full \xe2\x80\x94 try again shortly\"}", 60);
	http_resp_free(&r);
	free(small);
	free(b);
	it_msg_free(&m);
	assert_int_equal(relay_stop(&fz), 0);
}

/* ---- status / transcript / wait ------------------------------------------------------------ */

/* ROOM-STATUS-1/2: exact shapes; participants = SSE+WS subscribers (heartbeats not counted). */
static void test_status(void **state)
{
	struct http_resp r;
	char url[256];
	it_expect(hc, &rp, "GET", "/api/rooms/STATUS01/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"STATUS01\"}", 0);
	it_expect(hc, &rp, "GET", "/api/rooms/STATU%5301/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"STATUS01\"}", 0);
	it_expect(hc, &rp, "GET", "/api/rooms/ST/status", NULL, NULL, 400, "{\"error\":\"bad roomId\"}", 0);

	int64_t t0 = clock_now_ms();
	it_send(hc, &rp, "STATUS01", key, "one", "", NULL);
	int64_t s2 = it_send(hc, &rp, "STATUS01", key, "two", "", NULL);
	it_url(url, sizeof(url), &rp, "/api/rooms/STATUS01/events?after=999999999999999");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_non_null(sc);
	struct sse_event_copy ev;
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1); /* ready */
	sse_event_copy_free(&ev);
	it_expect_post(hc, &rp, "/api/rooms/STATUS01/listening", "{\"name\":\"hb\"}", 200, "{\"ok\":true}", 0);

	it_get(hc, &rp, "/api/rooms/STATUS01/status", &r);
	int64_t age = (clock_now_ms() - t0) / 1000 + 1;
	char want[512];
	long long a = -1, idle = -1;
	const char *p = strstr(r.body, "\"age_seconds\":");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "\"age_seconds\":%lld,\"idle_seconds\":%lld", &a, &idle), 2);
	assert_in_range(a, 0, age);
	assert_in_range(idle, 0, a);
	snprintf(want, sizeof(want),
		 "{\"exists\":true,\"roomId\":\"STATUS01\",\"participants\":1,\"recent_count\":2,\"last_seq\":%lld,"
		 "\"age_seconds\":%lld,\"idle_seconds\":%lld,\"signed_only\":false}",
		 (long long)s2, a, idle);
	it_check(&r, 200, want, 0);
	http_resp_free(&r);
	sse_close(sc);
}

/* ROOM-TX-1/2 with NUM-1 and NUM-3: the oldest `limit` messages with seq > after. */
static void test_transcript(void **state)
{
	struct it_msg m[5];
	struct http_resp r;
	for (int i = 0; i < 5; i++)
		it_send(hc, &rp, "TXROOM01", key, "tx", "", &m[i]);
	int64_t s0 = m[0].seq;
	char q[8][64];
	q[0][0] = '\0';
	snprintf(q[1], 64, "?after=%lld&limit=2", (long long)(s0 + 1));
	snprintf(q[2], 64, "?after=%lld", (long long)(s0 + 4));
	snprintf(q[3], 64, "?limit=-5");                    /* max(1, …) */
	snprintf(q[4], 64, "?limit=0&after=-7");            /* 0 -> 100; negative after -> 0 */
	snprintf(q[5], 64, "?limit=abc&after=xyz");         /* NaN -> 100 and 0 */
	snprintf(q[6], 64, "?after=%lld&after=0&limit=3.9", (long long)(s0 + 2)); /* first wins; P */
	snprintf(q[7], 64, "?after=+%lld&limit=%%202", (long long)(s0)); /* "+", leading space */
	static const struct { int from, n; } want[8] = {
		{0, 5}, {2, 2}, {0, 0}, {0, 1}, {0, 5}, {0, 5}, {3, 2}, {1, 2},
	};
	for (int c = 0; c < 8; c++) {
		char path[160], tail[128];
		struct it_msg *w[5];
		transcript_path(path, sizeof(path), "TXROOM01", q[c]);
		it_get(hc, &rp, path, &r);
		assert_int_equal(r.status, 200);
		for (int i = 0; i < want[c].n; i++)
			w[i] = &m[want[c].from + i];
		snprintf(tail, sizeof(tail), ",\"last_seq\":%lld,\"count\":%d,\"exists\":true}", (long long)m[4].seq, want[c].n);
		it_page_check(r.body, "{\"messages\":[", w, (size_t)want[c].n, tail);
		http_resp_free(&r);
	}
	it_expect(hc, &rp, "GET", "/api/rooms/TXNONE01/transcript?after=5", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0);
	it_expect(hc, &rp, "GET", "/api/rooms/TX/transcript", NULL, NULL, 400, "{\"error\":\"bad roomId\"}", 0);
	for (int i = 0; i < 5; i++)
		it_msg_free(&m[i]);
}

/* ROOM-WAIT-1/2 immediate answers, has_more beyond 500 (sealroom), NUM-3's 500 clamp. */
static void test_pages_over_500(void **state)
{
	enum { N = 620 };
	int64_t *seq = calloc(N, sizeof(*seq));
	struct http_resp r;
	const char *el[501], *tail;
	size_t len[501];
	char path[160], want[160];
	assert_non_null(seq);
	char *b = it_sealed_body(key, "bulk", "", NULL);
	for (int i = 0; i < N; i++) {
		it_post(hc, &rp, "/api/rooms/BIGROOM1/messages", b, &r);
		seq[i] = it_post_answer(&r, NULL);
		http_resp_free(&r);
		assert_int_equal(seq[i], seq[0] + i);
	}
	free(b);
	static const struct { int after_idx; int n; bool more; const char *route; } c[] = {
		{-1, 500, true, "wait"},        /* 620 pending: the oldest 500 + has_more */
		{119, 500, false, "wait"},      /* exactly 500 pending: no has_more */
		{118, 500, true, "wait"},       /* 501 pending */
		{499, 120, false, "wait"},
		{-1, 500, false, "transcript"}, /* limit=1000 clamps to 500 */
		{599, 20, false, "transcript"},
	};
	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		long long after = c[k].after_idx < 0 ? 0 : (long long)seq[c[k].after_idx];
		snprintf(path, sizeof(path), "/api/rooms/BIGROOM1/%s?after=%lld&limit=1000&timeout=1", c[k].route, after);
		int64_t t = clock_mono_ms();
		it_get(hc, &rp, path, &r);
		assert_true(clock_mono_ms() - t < 900); /* immediate, not parked */
		assert_int_equal(r.status, 200);
		size_t n = it_split(r.body, "{\"messages\":[", el, len, 501, &tail);
		assert_int_equal(n, (size_t)c[k].n);
		int first = c[k].after_idx + 1;
		for (size_t i = 0; i < n; i++) {
			char s[40];
			snprintf(s, sizeof(s), "{\"type\":\"message\",\"seq\":%lld,", (long long)seq[first + (int)i]);
			assert_int_equal(strncmp(el[i], s, strlen(s)), 0);
		}
		if (strcmp(c[k].route, "wait") == 0)
			snprintf(want, sizeof(want), ",\"last_seq\":%lld%s}", (long long)seq[N - 1], c[k].more ? ",\"has_more\":true" : "");
		else
			snprintf(want, sizeof(want), ",\"last_seq\":%lld,\"count\":%d,\"exists\":true}", (long long)seq[N - 1], c[k].n);
		assert_string_equal(tail, want);
		http_resp_free(&r);
	}
	free(seq);
}

/* CAP-9 / ROOM-9 (3): --recent-max 50 keeps the newest 50 everywhere, and the dropped
 * messages' bytes are released (ROOM-11). */
static void test_recent_max(void **state)
{
	struct relay_proc rm;
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8", "--recent-max", "50",
			      "--metrics-token", IT_METRICS_TOKEN, NULL};
	struct http_resp r;
	const char *el[64], *tail;
	size_t len[64];
	char url[256], want[160];
	it_start(&rm, args);
	int64_t seq[60];
	struct it_msg m;
	char *b = it_sealed_body(key, "recent", "", &m);
	for (int i = 0; i < 60; i++) {
		it_post(hc, &rm, "/api/rooms/RECENT01/messages", b, &r);
		seq[i] = it_post_answer(&r, NULL);
		http_resp_free(&r);
	}
	free(b);
	it_get(hc, &rm, "/api/rooms/RECENT01/transcript?limit=500", &r);
	assert_int_equal(it_split(r.body, "{\"messages\":[", el, len, 64, &tail), 50);
	char s[64];
	snprintf(s, sizeof(s), "{\"type\":\"message\",\"seq\":%lld,", (long long)seq[10]);
	assert_int_equal(strncmp(el[0], s, strlen(s)), 0);
	snprintf(want, sizeof(want), ",\"last_seq\":%lld,\"count\":50,\"exists\":true}", (long long)seq[59]);
	assert_string_equal(tail, want);
	http_resp_free(&r);
	it_get(hc, &rm, "/api/rooms/RECENT01/wait?after=0", &r);
	assert_int_equal(it_split(r.body, "{\"messages\":[", el, len, 64, &tail), 50);
	assert_int_equal(strncmp(el[0], s, strlen(s)), 0);
	http_resp_free(&r);
	it_get(hc, &rm, "/api/rooms/RECENT01/status", &r);
	snprintf(want, sizeof(want), "\"recent_count\":50,\"last_seq\":%lld,", (long long)seq[59]);
	assert_non_null(strstr(r.body, want));
	http_resp_free(&r);
	assert_int_equal(it_metric(hc, &rm, "room_buffer_bytes"), (int64_t)(50 * (strlen(m.ct) + 512)));
	/* SSE replay: 50 messages, then ready */
	it_url(url, sizeof(url), &rm, "/api/rooms/RECENT01/events");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_non_null(sc);
	struct sse_event_copy ev;
	for (int i = 10; i < 60; i++) {
		char id[32];
		assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
		snprintf(id, sizeof(id), "%lld", (long long)seq[i]);
		assert_true(ev.has_id);
		assert_string_equal(ev.id, id);
		sse_event_copy_free(&ev);
	}
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
	assert_int_equal(strncmp(ev.data, "{\"type\":\"ready\",", 16), 0);
	sse_event_copy_free(&ev);
	sse_close(sc);
	it_msg_free(&m);
	assert_int_equal(relay_stop(&rm), 0);
}

/* ---- /listening ----------------------------------------------------------------------------- */

/* ROOM-LISTEN-1..3 and VAL-5 (the name is truncated to 64 units before the check). */
static void test_listening(void **state)
{
	/* absent room: 404 before the name is looked at, and nothing is created */
	it_expect_post(hc, &rp, "/api/rooms/LISTEN01/listening", "{\"name\":\"bob\"}", 404, "{\"error\":\"no such room\"}", 0);
	it_expect_post(hc, &rp, "/api/rooms/LISTEN01/listening", "{}", 404, "{\"error\":\"no such room\"}", 0);
	it_expect(hc, &rp, "GET", "/api/rooms/LISTEN01/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"LISTEN01\"}", 0);
	it_expect_post(hc, &rp, "/api/rooms/LIS/listening", "{\"name\":\"bob\"}", 400, "{\"error\":\"bad roomId\"}", 0);
	it_expect_post(hc, &rp, "/api/rooms/LIS/listening", "[", 400, "{\"error\":\"bad json\"}", 0);

	it_send(hc, &rp, "LISTEN01", key, "hello", "", NULL);
	static const char *const bad[] = {
		"{}", "{\"name\":7}", "{\"name\":null}", "{\"name\":\"\"}", "{\"name\":\"has space\"}",
		"{\"name\":\"a+b\"}", "{\"name\":\"a/b\"}", "{\"name\":\"a#b\"}", "{\"name\":\"a:b\"}",
		"{\"name\":\"tab\\there\"}", "{\"name\":\"nul\\u0000\"}", "{\"name\":\"\\u0085x\"}",
		"{\"name\":[\"bob\"]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		it_expect_post(hc, &rp, "/api/rooms/LISTEN01/listening", bad[i], 400, "{\"error\":\"bad name\"}", 0);
	static const char *const good[] = {
		"{\"name\":\"bob\"}", "{\"name\":\"Al.ice_@-9\"}", "{\"name\":\"\\u00e9l\\u00e8ve\"}",
		"{\"name\":\"bob\",\"box_pub\":\"not base64\"}",  /* a bad box_pub is ignored */
		/* 70 units: truncated to 64 first, and the cut-off tail may hold anything */
		"{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa x!#:\"}",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		it_expect_post(hc, &rp, "/api/rooms/LISTEN01/listening", good[i], 200, "{\"ok\":true}", 0);
	/* HTTP-11: not JSON -> {} -> no name */
	const char *plain[] = {"Content-Type: text/plain", NULL};
	it_expect(hc, &rp, "POST", "/api/rooms/LISTEN01/listening", plain, "{\"name\":\"bob\"}", 400, "{\"error\":\"bad name\"}", 0);
}

/* HTTP-2/4/5/6 on the room routes: exact paths only, 404 / 405 with Allow, HEAD never on the
 * streaming routes; HTTP-10: a body on a GET is ignored. */
static void test_room_paths_and_methods(void **state)
{
	static const struct { const char *method, *path; long status; const char *allow; } c[] = {
		{"GET", "/api/rooms/ROOMPATH", 404, NULL},
		{"GET", "/api/rooms/", 404, NULL},
		{"GET", "/api/rooms/ROOMPATH/status/", 404, NULL},
		{"GET", "/api/rooms//status", 404, NULL},
		{"GET", "/api/rooms/ROOMPATH/STATUS", 404, NULL},
		{"POST", "/api/rooms/ROOMPATH/messages/", 404, NULL},
		{"GET", "/api/rooms/ROOMPATH/nothing", 404, NULL},
		{"GET", "/api/rooms/ROOMPATH/messages", 405, "POST"},
		{"PUT", "/api/rooms/ROOMPATH/messages", 405, "POST"},
		{"GET", "/api/rooms/ROOMPATH/listening", 405, "POST"},
		{"POST", "/api/rooms/ROOMPATH/status", 405, NULL},
		{"DELETE", "/api/rooms/ROOMPATH/transcript", 405, NULL},
		{"POST", "/api/rooms/ROOMPATH/wait", 405, NULL},
		{"HEAD", "/api/rooms/ROOMPATH/wait", 405, NULL},     /* HTTP-6: never HEAD on wait */
		{"HEAD", "/api/rooms/ROOMPATH/events", 405, NULL},   /* ... or on events */
		{"OPTIONS", "/api/rooms/ROOMPATH/events", 405, NULL},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct http_resp r;
		it_req(hc, &rp, c[i].method, c[i].path, NULL, NULL, 0, &r);
		if (r.status != c[i].status)
			fail_msg("%s %s: %ld %s", c[i].method, c[i].path, r.status, r.body);
		if (strcmp(c[i].method, "HEAD") != 0)
			assert_string_equal(r.body, c[i].status == 404 ? "{\"error\":\"not found\"}" : "{\"error\":\"method not allowed\"}");
		if (c[i].status == 405) {
			size_t alen = 0;
			const char *allow = http_header(&r, "Allow", &alen);
			assert_non_null(allow);
			if (c[i].allow)
				assert_true(http_header_is(&r, "Allow", c[i].allow));
			else
				assert_int_equal(strncmp(allow, "GET", 3), 0);
			if (strstr(c[i].path, "/wait") || strstr(c[i].path, "/events"))
				assert_null(memmem(allow, alen, "HEAD", 4)); /* HTTP-6 */
		}
		http_resp_free(&r);
	}
	/* nothing above created the room (INV-8) */
	it_expect(hc, &rp, "GET", "/api/rooms/ROOMPATH/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"ROOMPATH\"}", 0);
	/* HTTP-10: a body on a GET is not parsed */
	const char *json[] = {"Content-Type: application/json", NULL};
	it_expect(hc, &rp, "GET", "/api/rooms/ROOMPATH/status", json, "{not json", 200, "{\"exists\":false,\"roomId\":\"ROOMPATH\"}", 0);
}

/* ROOM-7 / INV-9: seqs are seeded from the wall clock, so a restarted relay never goes back. */
static void test_seq_across_restart(void **state)
{
	struct relay_proc a;
	const char *args[] = {"--worker-threads", "32", "--worker-reserve", "8", NULL};
	it_start(&a, args);
	struct it_msg m1, m2;
	it_send(hc, &a, "RESTART1", key, "before", "", &m1);
	it_send(hc, &a, "RESTART1", key, "before", "", NULL);
	assert_int_equal(relay_stop(&a), 0);
	while (clock_now_ms() <= m1.seq + 1)
		it_nap_ms(2);
	it_start(&a, args);
	it_send(hc, &a, "RESTART1", key, "after", "", &m2);
	assert_true(m2.seq > m1.seq + 1);
	assert_in_range(m2.seq, m2.t0, m2.t1);
	assert_int_equal(relay_stop(&a), 0);
	it_msg_free(&m1);
	it_msg_free(&m2);
}

/* ---- ttl expiry (last: needs the 30 s minimum ttl to pass) ------------------------------------ */

struct ttl_poll {
	int64_t seen_at;           /* wall clock when the expired state was first observed */
};

static bool ttl_expired(void *arg)
{
	struct ttl_poll *tp = arg;
	struct http_resp r;
	it_get(hc, &rp, "/api/rooms/" TTL_ROOM "/transcript", &r);
	bool done = strstr(r.body, ",\"count\":3,") != NULL;
	http_resp_free(&r);
	if (done)
		tp->seen_at = clock_now_ms();
	return done;
}

/* ROOM-9 (2): every message with ttl_ms and ts + ttl_ms <= now is removed anywhere in the
 * buffer; ROOM-10: reads prune, so it is gone at once (not at the next 15 s janitor tick);
 * ROOM-8: last_seq becomes the newest survivor, or 0 when none is left. */
static void test_ttl_expiry(void **state)
{
	struct http_resp r;
	char tail[160];
	/* before expiry all 7 are served, with their stored ttl_ms / reply_to */
	if (clock_now_ms() < ttl_m[1].t0 + 29000) {
		struct it_msg *all[7] = {&ttl_m[0], &ttl_m[1], &ttl_m[2], &ttl_m[3], &ttl_m[4], &ttl_m[5], &ttl_m[6]};
		it_get(hc, &rp, "/api/rooms/" TTL_ROOM "/transcript", &r);
		snprintf(tail, sizeof(tail), ",\"last_seq\":%lld,\"count\":7,\"exists\":true}", (long long)ttl_m[6].seq);
		it_page_check(r.body, "{\"messages\":[", all, 7, tail);
		http_resp_free(&r);
	} else {
		print_message("ttl: the earlier tests took too long to check the pre-expiry state\n");
	}
	/* expiry of the last ttl message (30000 ms) */
	int64_t expire = ttl_m[6].t1 + 30000;
	struct ttl_poll tp = {0};
	long budget = (long)(expire - clock_now_ms()) + 5000;
	if (!it_poll_every(ttl_expired, &tp, budget > 0 ? budget : 5000, 50)) {
		it_get(hc, &rp, "/api/rooms/" TTL_ROOM "/transcript", &r);
		fail_msg("ttl messages not expired by %lld: %s", (long long)clock_now_ms(), r.body);
	}
	/* never early: the state was first seen after the last one could expire by the relay's
	 * clock (its ts >= t0), and promptly (reads prune; the janitor would take up to 15 s) */
	assert_true(tp.seen_at >= ttl_m[6].t0 + 30000);
	assert_true(tp.seen_at <= expire + 2000);

	struct it_msg *left[3] = {&ttl_m[0], &ttl_m[2], &ttl_m[4]};
	it_get(hc, &rp, "/api/rooms/" TTL_ROOM "/transcript", &r);
	snprintf(tail, sizeof(tail), ",\"last_seq\":%lld,\"count\":3,\"exists\":true}", (long long)ttl_m[4].seq);
	it_page_check(r.body, "{\"messages\":[", left, 3, tail);
	http_resp_free(&r);
	it_get(hc, &rp, "/api/rooms/" TTL_ROOM "/wait?after=0", &r);
	snprintf(tail, sizeof(tail), ",\"last_seq\":%lld}", (long long)ttl_m[4].seq);
	it_page_check(r.body, "{\"messages\":[", left, 3, tail);
	http_resp_free(&r);
	it_get(hc, &rp, "/api/rooms/" TTL_ROOM "/status", &r);
	snprintf(tail, sizeof(tail), "\"participants\":1,\"recent_count\":3,\"last_seq\":%lld,", (long long)ttl_m[4].seq);
	assert_non_null(strstr(r.body, tail));
	long long age = -1;
	assert_int_equal(sscanf(strstr(r.body, "\"age_seconds\":"), "\"age_seconds\":%lld", &age), 1);
	assert_true(age >= 30);
	http_resp_free(&r);

	/* ROOM-8: an emptied buffer has last_seq 0, never nextSeq-1 */
	it_get(hc, &rp, "/api/rooms/" TTL_ROOM2 "/status", &r);
	assert_non_null(strstr(r.body, "\"recent_count\":0,\"last_seq\":0,"));
	http_resp_free(&r);
	it_expect(hc, &rp, "GET", "/api/rooms/" TTL_ROOM2 "/transcript", NULL, NULL, 200,
		  "{\"messages\":[],\"last_seq\":0,\"count\":0,\"exists\":true}", 0);
	/* and the next message still continues the room's seqs */
	assert_int_equal(it_send(hc, &rp, TTL_ROOM2, key, "again", "", NULL), ttl_single.seq + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_post_success_and_seq),
		cmocka_unit_test(test_post_bad_room_id),
		cmocka_unit_test(test_post_bad_message),
		cmocka_unit_test(test_post_check_order),
		cmocka_unit_test(test_locked_room),
		cmocka_unit_test(test_post_rate_limits),
		cmocka_unit_test(test_room_cap),
		cmocka_unit_test(test_byte_fuse),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_transcript),
		cmocka_unit_test(test_pages_over_500),
		cmocka_unit_test(test_recent_max),
		cmocka_unit_test(test_listening),
		cmocka_unit_test(test_room_paths_and_methods),
		cmocka_unit_test(test_seq_across_restart),
		cmocka_unit_test(test_ttl_expiry),
	};
	return cmocka_run_group_tests_name("it_rooms", tests, setup, teardown);
}
