/* Integration: the WebSocket at /api/rooms/{id}/ws (PROTOCOL.md §8) against a real relay —
 * replay honouring ?after= (WS-6), ready with last_seq (WS-7), hello / listening / message
 * frames (WS-9, WS-16, default label "user"), error frames 429 / 400 / 401 / 403 / 503 with
 * exact JSON (WS-11..15, WS-17), the 256 KiB cap with close 1009 (WS-4) for single and
 * fragmented messages, ping -> pong (WS-3), the close handshake, no upgrade on a bad path
 * (WS-1) and the JSON 400 for a defective handshake (WS-2). Real sealed messages only. */
#include "it_util.h"

#include <unistd.h>

#include "client/rawhttp.h"
#include "client/sse.h"
#include "client/ws.h"

static struct relay_proc rp;
static struct http_client *hc;
static unsigned char key[32];

#define BOX1 "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ="

static int setup(void **state)
{
	const char *args[] = {"--worker-threads", "128", "--worker-reserve", "16", "--metrics-token", IT_METRICS_TOKEN,
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

/* ---- helpers ----------------------------------------------------------------------------------- */

static struct ws_conn *ws_open(const struct relay_proc *r, const char *path, const char *hdr)
{
	char url[512];
	const char *hdrs[2] = {hdr, NULL};
	struct ws_conn *w = NULL;
	int status = 0;
	it_url(url, sizeof(url), r, path);
	if (ws_connect(url, hdrs, NULL, 5000, &w, &status, NULL) != 0)
		fail_msg("ws_connect %s: status %d", path, status);
	return w;
}

static void ws_text(struct ws_conn *w, const char *s)
{
	assert_int_equal(ws_send_text(w, s, strlen(s)), 0);
}

/* The next message must be one unfragmented text frame; returned malloc'd (free()). */
static char *next_text(struct ws_conn *w)
{
	struct ws_msg m;
	enum ws_recv_result rc = ws_recv(w, &m, 5000);
	if (rc != WS_RECV_TEXT)
		fail_msg("want a text frame, got %d (%s, close %d)", rc, ws_error(w), rc == WS_RECV_CLOSE ? m.close_code : 0);
	assert_int_equal(m.fragments, 1); /* WS-17: one text frame per JSON object */
	char *s = m.data;
	m.data = NULL;
	ws_msg_free(&m);
	return s;
}

/* The next frame must be exactly want (after last_seen_ms_ago normalisation). */
static void expect_text(struct ws_conn *w, const char *want)
{
	char *s = next_text(w);
	it_norm_ago(s, 10000);
	if (strcmp(s, want) != 0)
		fail_msg("frame differs\n got: %s\nwant: %s", s, want);
	free(s);
}

/* The next frame must be message m (sender label and tail in m). */
static void expect_msg(struct ws_conn *w, const struct it_msg *m)
{
	char *s = next_text(w);
	it_msg_check(s, strlen(s), m);
	free(s);
}

/* Nothing may be pending on w right now. */
static void expect_quiet(struct ws_conn *w)
{
	struct ws_msg m;
	enum ws_recv_result rc = ws_recv(w, &m, 0);
	if (rc != WS_RECV_TIMEOUT)
		fail_msg("unexpected frame (%d): %s", rc, m.data ? m.data : "");
}

/* Send a sealed message frame; fills m with what is needed to check its echo, taking seq and
 * id from the echo that the poster receives (WS-16: no ack frame). */
static void send_and_echo(struct ws_conn *w, const char *plain, const char *extra, const char *sj,
			  const char *tail, struct it_msg *m)
{
	char *body = it_sealed_body(key, plain, extra, m);
	m->sj = sj;
	m->tail = tail;
	m->t0 = clock_now_ms();
	ws_text(w, body);
	char *s = next_text(w);
	m->t1 = clock_now_ms();
	cJSON *j = it_json(s);
	cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq"), *id = cJSON_GetObjectItemCaseSensitive(j, "id");
	if (!cJSON_IsNumber(seq) || !cJSON_IsString(id))
		fail_msg("want the echo of a message, got %s", s);
	m->seq = (int64_t)seq->valuedouble;
	snprintf(m->id, sizeof(m->id), "%s", id->valuestring);
	cJSON_Delete(j);
	it_msg_check(s, strlen(s), m);
	free(s);
	free(body);
}

/* ---- replay, ready, presence -------------------------------------------------------------------- */

/* WS-6/7/8: replay after ?after=, then ready with last_seq, then presence. */
static void test_replay_ready(void **state)
{
	struct it_msg m[3];
	char want[512];
	for (int i = 0; i < 3; i++)
		it_send(hc, &rp, "WSREPLAY", key, "history", "", &m[i]);
	char path[160];
	snprintf(path, sizeof(path), "/api/rooms/WSREPLAY/ws?after=%lld&name=eve&box_pub=" BOX1, (long long)m[0].seq);
	struct ws_conn *w = ws_open(&rp, path, NULL);
	expect_msg(w, &m[1]);
	expect_msg(w, &m[2]);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"WSREPLAY\",\"size\":1,\"last_seq\":%lld,\"participants\":[]}",
		 (long long)m[2].seq);
	expect_text(w, want);
	expect_text(w, "{\"type\":\"presence\",\"size\":1,\"names\":[\"eve\"],\"participants\":[{\"name\":\"eve\",\"box_pub\":\"" BOX1 "\",\"last_seen_ms_ago\":0}]}");
	expect_quiet(w);

	/* no or a junk after: everything; the second socket's ready lists eve */
	struct ws_conn *w2 = ws_open(&rp, "/api/rooms/WSREPLAY/ws?after=junk", NULL);
	for (int i = 0; i < 3; i++)
		expect_msg(w2, &m[i]);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"WSREPLAY\",\"size\":2,\"last_seq\":%lld,"
		 "\"participants\":[{\"name\":\"eve\",\"box_pub\":\"" BOX1 "\",\"last_seen_ms_ago\":0}]}", (long long)m[2].seq);
	expect_text(w2, want);
	const char *pres = "{\"type\":\"presence\",\"size\":2,\"names\":[\"eve\"],\"participants\":[{\"name\":\"eve\",\"box_pub\":\"" BOX1 "\",\"last_seen_ms_ago\":0}]}";
	expect_text(w2, pres);
	expect_text(w, pres);
	/* an empty room: last_seq 0 */
	struct ws_conn *w3 = ws_open(&rp, "/api/rooms/WSEMPTY1/ws", NULL);
	expect_text(w3, "{\"type\":\"ready\",\"roomId\":\"WSEMPTY1\",\"size\":1,\"last_seq\":0,\"participants\":[]}");
	expect_text(w3, "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[]}");
	ws_close(w, 1000);
	ws_close(w2, 1000);
	ws_close(w3, 1000);
	for (int i = 0; i < 3; i++)
		it_msg_free(&m[i]);
}

/* ---- frames in ---------------------------------------------------------------------------------- */

/* WS-9, WS-10, WS-16, ROOM-14, ROOM-16, INV-5: message frames are echoed to everyone (the
 * poster included) as the same text as on SSE; bad frames are dropped without a word. */
static void test_message_frames(void **state)
{
	char url[256];
	struct it_msg m[5];
	struct ws_conn *w = ws_open(&rp, "/api/rooms/WSFRAME1/ws", NULL);
	it_url(url, sizeof(url), &rp, "/api/rooms/WSFRAME1/events");
	expect_text(w, "{\"type\":\"ready\",\"roomId\":\"WSFRAME1\",\"size\":1,\"last_seq\":0,\"participants\":[]}");
	expect_text(w, "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[]}");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_non_null(sc);
	expect_text(w, "{\"type\":\"presence\",\"size\":2,\"names\":[],\"participants\":[]}");
	struct sse_event_copy ev;
	for (int i = 0; i < 2; i++) { /* ready, presence */
		assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
		sse_event_copy_free(&ev);
	}

	send_and_echo(w, "plain frame", "", "user", NULL, &m[0]);            /* default label */
	send_and_echo(w, "named", ",\"sender\":\"zed\",\"type\":\"chat\"", "zed", NULL, &m[1]); /* any type */
	send_and_echo(w, "ttl", ",\"ttl_ms\":60000,\"reply_to\":\"abcdefgh\",\"sender\":\"\"", "user",
		      ",\"ttl_ms\":60000,\"reply_to\":\"abcdefgh\"", &m[2]);
	/* dropped silently: not JSON, not an object, invalid messages; hello with a bad name;
	 * listening. The next frame anyone sees is the next valid message's echo. */
	static const char *const junk[] = {
		"not json", "[1,2]", "\"str\"", "{}", "{\"type\":\"message\"}",
		"{\"ciphertext\":\"AB==\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
		"{\"type\":\"hello\",\"name\":\"no spaces allowed\"}", "{\"type\":\"listening\"}",
		"{\"type\":\"listening\",\"ciphertext\":\"AAAA\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		ws_text(w, junk[i]);
	/* a binary frame holding JSON is a frame like any other */
	char *bin = it_sealed_body(key, "binary", "", &m[3]);
	m[3].sj = "user";
	m[3].t0 = clock_now_ms();
	assert_int_equal(ws_send_binary(w, bin, strlen(bin)), 0);
	char *s = next_text(w);
	m[3].t1 = clock_now_ms();
	cJSON *j = it_json(s);
	m[3].seq = (int64_t)cJSON_GetObjectItemCaseSensitive(j, "seq")->valuedouble;
	snprintf(m[3].id, sizeof(m[3].id), "%s", cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
	cJSON_Delete(j);
	it_msg_check(s, strlen(s), &m[3]);
	free(s);
	free(bin);
	assert_int_equal(m[1].seq, m[0].seq + 1);
	assert_int_equal(m[3].seq, m[0].seq + 3);
	/* an HTTP post reaches the socket with the HTTP label */
	it_send(hc, &rp, "WSFRAME1", key, "over http", "", &m[4]);
	expect_msg(w, &m[4]);
	expect_quiet(w);
	/* the SSE subscriber got exactly the same five texts (INV-5) */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
		it_msg_check(ev.data, ev.data_len, &m[i]);
		sse_event_copy_free(&ev);
	}
	/* and the transcript stores them the same way */
	struct http_resp r;
	it_get(hc, &rp, "/api/rooms/WSFRAME1/transcript", &r);
	struct it_msg *all[5] = {&m[0], &m[1], &m[2], &m[3], &m[4]};
	char tail[128];
	snprintf(tail, sizeof(tail), ",\"last_seq\":%lld,\"count\":5,\"exists\":true}", (long long)m[4].seq);
	it_page_check(r.body, "{\"messages\":[", all, 5, tail);
	http_resp_free(&r);
	/* hello is broadcast to the sender too */
	ws_text(w, "{\"type\":\"hello\",\"name\":\"wsguy\"}");
	expect_text(w, "{\"type\":\"presence\",\"size\":2,\"names\":[\"wsguy\"],\"participants\":[{\"name\":\"wsguy\",\"last_seen_ms_ago\":0}]}");
	for (int i = 0; i < 5; i++)
		it_msg_free(&m[i]);
	sse_close(sc);
	ws_close(w, 1000);
}

/* ---- error frames (WS-11..15, WS-17) ------------------------------------------------------------ */

static void test_error_frames(void **state)
{
	struct it_msg m;
	char *b;
	struct ws_conn *w = ws_open(&rp, "/api/rooms/WSERROR1/ws?after=0", NULL);
	struct ws_conn *o = ws_open(&rp, "/api/rooms/WSERROR1/ws", NULL);
	expect_text(w, "{\"type\":\"ready\",\"roomId\":\"WSERROR1\",\"size\":1,\"last_seq\":0,\"participants\":[]}");
	expect_text(w, "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[]}");
	expect_text(w, "{\"type\":\"presence\",\"size\":2,\"names\":[],\"participants\":[]}");
	expect_text(o, "{\"type\":\"ready\",\"roomId\":\"WSERROR1\",\"size\":2,\"last_seq\":0,\"participants\":[]}");
	expect_text(o, "{\"type\":\"presence\",\"size\":2,\"names\":[],\"participants\":[]}");

	/* WS-14: signed_only on an unlocked room without a signature */
	b = it_sealed_body(key, "x", ",\"signed_only\":true", NULL);
	ws_text(w, b);
	free(b);
	expect_text(w, "{\"type\":\"error\",\"code\":400,\"error\":\"signed_only requires sender_sig\"}");
	/* WS-13: a signature that does not verify (unknown handle) */
	b = it_sealed_body(key, "x", ",\"sender_handle\":\"nobody\",\"sender_sig\":\"AAAA\",\"sender_ts\":1,\"sender_nonce\":\"wMHCw8TFxsfIycrLzM3Oz9DR\"", NULL);
	ws_text(w, b);
	free(b);
	expect_text(w, "{\"type\":\"error\",\"code\":401,\"error\":\"bad sender_sig\"}");
	/* WS-17: the socket stays open and only the offender got the errors */
	send_and_echo(w, "still open", "", "user", NULL, &m);
	expect_msg(o, &m);
	expect_quiet(o);
	it_msg_free(&m);

	/* WS-14 with a valid signature locks the room: locked, then the message, to everyone */
	struct crypto_identity id;
	it_register(hc, &rp, "wslocker", &id);
	b = it_signed_body(key, "lock it", &id, "WSERROR1", ",\"signed_only\":true", &m);
	m.sj = "@wslocker";
	m.t0 = clock_now_ms();
	ws_text(o, b);
	free(b);
	expect_text(o, "{\"type\":\"locked\"}");
	expect_text(w, "{\"type\":\"locked\"}");
	char *s = next_text(o);
	m.t1 = clock_now_ms();
	cJSON *j = it_json(s);
	m.seq = (int64_t)cJSON_GetObjectItemCaseSensitive(j, "seq")->valuedouble;
	snprintf(m.id, sizeof(m.id), "%s", cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
	cJSON_Delete(j);
	it_msg_check(s, strlen(s), &m);
	free(s);
	expect_msg(w, &m);
	it_msg_free(&m);
	/* WS-15: unsigned frames on a locked room */
	b = it_sealed_body(key, "x", "", NULL);
	ws_text(w, b);
	free(b);
	expect_text(w, "{\"type\":\"error\",\"code\":403,\"error\":\"signed_only\"}");
	expect_quiet(o);
	ws_close(w, 1000);
	ws_close(o, 1000);

	/* WS-11 (a relay with a 2-token bucket) and WS-12 (a full byte fuse) */
	struct relay_proc lim;
	char max[32];
	b = it_sealed_body(key, "sixteen bytes!!!", "", &m); /* 44 ciphertext chars: 556 bytes */
	snprintf(max, sizeof(max), "%d", 3 * 556);
	const char *args[] = {"--worker-threads", "32", "--worker-reserve", "8", "--room-rl-cap", "2",
			      "--room-rl-refill-per-sec", "0.001", "--room-global-max-bytes", max, NULL};
	it_start(&lim, args);
	w = ws_open(&lim, "/api/rooms/WSLIMIT1/ws", "X-Forwarded-For: 10.6.0.1");
	o = ws_open(&lim, "/api/rooms/WSLIMIT1/ws", "X-Forwarded-For: 10.6.0.2");
	for (int i = 0; i < 3; i++)
		free(next_text(w)); /* ready, presence, presence */
	for (int i = 0; i < 2; i++)
		free(next_text(o));
	for (int i = 0; i < 2; i++) {
		ws_text(w, b);
		free(next_text(w));
		free(next_text(o));
	}
	ws_text(w, b);
	expect_text(w, "{\"type\":\"error\",\"code\":429,\"error\":\"rate limited\"}");
	ws_text(w, "{\"type\":\"hello\",\"name\":\"still\"}"); /* hello is not rate limited */
	expect_text(w, "{\"type\":\"presence\",\"size\":2,\"names\":[\"still\"],\"participants\":[{\"name\":\"still\",\"last_seen_ms_ago\":0}]}");
	expect_text(o, "{\"type\":\"presence\",\"size\":2,\"names\":[\"still\"],\"participants\":[{\"name\":\"still\",\"last_seen_ms_ago\":0}]}");
	/* the other IP: one more fits the fuse exactly, the next does not */
	ws_text(o, b);
	free(next_text(o));
	free(next_text(w));
	ws_text(o, b);
	expect_text(o, "{\"type\":\"error\",\"code\":503,\"error\":\"global room buffer full\"}");
	expect_quiet(w);
	free(b);
	it_msg_free(&m);
	ws_close(w, 1000);
	ws_close(o, 1000);
	assert_int_equal(relay_stop(&lim), 0);
}

/* ---- size cap (WS-4) ---------------------------------------------------------------------------- */

/* A valid message frame padded with JSON whitespace to exactly len bytes. */
static char *padded_frame(size_t len, struct it_msg *m)
{
	char *body = it_sealed_body(key, "padded", "", m);
	size_t n = strlen(body);
	assert_true(n < len);
	char *f = malloc(len);
	assert_non_null(f);
	memcpy(f, body, n - 1);            /* without the closing brace */
	memset(f + n - 1, ' ', len - n);
	f[len - 1] = '}';
	free(body);
	return f;
}

static void expect_close(struct ws_conn *w, int code)
{
	struct ws_msg m;
	enum ws_recv_result rc;
	do { /* frames already queued before the close may come first */
		rc = ws_recv(w, &m, 5000);
		if (rc == WS_RECV_TEXT)
			ws_msg_free(&m);
	} while (rc == WS_RECV_TEXT);
	if (rc != WS_RECV_CLOSE)
		fail_msg("want close %d, got %d (%s)", code, rc, ws_error(w));
	assert_int_equal(m.close_code, code);
	ws_msg_free(&m);
}

static void test_size_cap(void **state)
{
	enum { MAX = 262144 };
	struct it_msg m;
	struct ws_conn *w = ws_open(&rp, "/api/rooms/WSSIZE01/ws", NULL);
	free(next_text(w));
	free(next_text(w));
	/* exactly the limit: accepted, one frame */
	char *f = padded_frame(MAX, &m);
	m.sj = "user";
	m.t0 = clock_now_ms();
	assert_int_equal(ws_send_text(w, f, MAX), 0);
	char *s = next_text(w);
	m.t1 = clock_now_ms();
	m.seq = it_json_int(s, "seq");
	cJSON *j = it_json(s);
	snprintf(m.id, sizeof(m.id), "%s", cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
	cJSON_Delete(j);
	it_msg_check(s, strlen(s), &m);
	free(s);
	/* exactly the limit in three fragments: accepted */
	assert_int_equal(ws_send_frame(w, WS_OP_TEXT, false, f, 100000, 0), 0);
	assert_int_equal(ws_send_frame(w, WS_OP_CONT, false, f + 100000, 100000, 0), 0);
	assert_int_equal(ws_send_frame(w, WS_OP_CONT, true, f + 200000, MAX - 200000, 0), 0);
	s = next_text(w);
	assert_int_equal(it_json_int(s, "seq"), m.seq + 1);
	free(s);
	free(f);
	it_msg_free(&m);
	/* one byte over, fragmented: 1009 */
	f = padded_frame(MAX + 1, &m);
	assert_int_equal(ws_send_frame(w, WS_OP_TEXT, false, f, 200000, 0), 0);
	assert_int_equal(ws_send_frame(w, WS_OP_CONT, true, f + 200000, MAX + 1 - 200000, 0), 0);
	expect_close(w, 1009);
	ws_free(w);
	/* one byte over in one frame: 1009 */
	w = ws_open(&rp, "/api/rooms/WSSIZE01/ws?after=999999999999999", NULL);
	free(next_text(w));
	free(next_text(w));
	assert_int_equal(ws_send_text(w, f, MAX + 1), 0);
	expect_close(w, 1009);
	ws_free(w);
	free(f);
	it_msg_free(&m);
	/* nothing over the limit was stored */
	struct http_resp r;
	it_get(hc, &rp, "/api/rooms/WSSIZE01/status", &r);
	assert_non_null(strstr(r.body, "\"recent_count\":2,"));
	http_resp_free(&r);
	it_health(hc, &rp);
}

/* WS-4 as early as civetweb's API allows (DESIGN.md 8): civetweb hands the relay a frame only
 * once it is complete, so an oversize frame is refused with 1009 when its payload has arrived
 * (here sent slowly, in 64 KiB pieces, after a bare header), a declaration civetweb cannot even
 * allocate drops the connection, and a declared-but-never-sent payload stalls only its own
 * connection: the room keeps delivering to others and the relay stays healthy. */
static void test_size_cap_declared(void **state)
{
	const size_t over = 262145;
	struct ws_conn *w = ws_open(&rp, "/api/rooms/WSSIZE02/ws?after=999999999999999", NULL);
	free(next_text(w));
	free(next_text(w));
	unsigned char hdr[14] = {0x81, 0x80 | 127};
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (unsigned char)((uint64_t)over >> (56 - 8 * i));
	/* mask key 0: the payload goes out as is */
	assert_int_equal(ws_send_raw(w, hdr, sizeof(hdr)), 0);
	char *chunk = malloc(65536);
	memset(chunk, 'a', 65536);
	for (size_t sent = 0; sent < over;) {
		size_t n = over - sent < 65536 ? over - sent : 65536;
		assert_int_equal(ws_send_raw(w, chunk, n), 0);
		sent += n;
	}
	free(chunk);
	expect_close(w, 1009);
	ws_free(w);

	/* an unallocatable declaration: the connection is dropped, nothing else is hurt */
	w = ws_open(&rp, "/api/rooms/WSSIZE02/ws?after=999999999999999", NULL);
	free(next_text(w));
	free(next_text(w));
	assert_int_equal(ws_send_frame(w, WS_OP_TEXT, true, NULL, (size_t)1 << 40, WS_F_HEADER_ONLY), 0);
	struct ws_msg m;
	enum ws_recv_result rc;
	do {
		rc = ws_recv(w, &m, 5000);
		if (rc == WS_RECV_TEXT)
			ws_msg_free(&m);
	} while (rc == WS_RECV_TEXT);
	assert_true(rc == WS_RECV_CLOSE || rc == WS_RECV_ERROR);
	if (rc == WS_RECV_CLOSE)
		ws_msg_free(&m);
	ws_free(w);

	/* a stalled 16 MiB declaration: another subscriber of the room still gets every message */
	struct ws_conn *stalled = ws_open(&rp, "/api/rooms/WSSIZE02/ws?after=999999999999999", NULL);
	free(next_text(stalled));
	free(next_text(stalled));
	assert_int_equal(ws_send_frame(stalled, WS_OP_TEXT, true, NULL, (size_t)16 << 20, WS_F_HEADER_ONLY), 0);
	struct ws_conn *other = ws_open(&rp, "/api/rooms/WSSIZE02/ws?after=999999999999999", NULL);
	free(next_text(other));
	free(next_text(other));
	for (int i = 0; i < 5; i++)
		it_send(hc, &rp, "WSSIZE02", key, "still flowing", "", NULL);
	int got = 0;
	int64_t dl = clock_mono_ms() + 5000;
	while (got < 5 && clock_mono_ms() < dl) {
		if (ws_recv(other, &m, 500) != WS_RECV_TEXT)
			continue;
		if (m.data && strstr(m.data, "\"type\":\"message\""))
			got++;
		ws_msg_free(&m);
	}
	assert_int_equal(got, 5);
	ws_free(other);
	ws_free(stalled);
	it_health(hc, &rp);
}

/* ---- control frames ------------------------------------------------------------------------------ */

/* WS-3 ping -> pong with the payload; the close handshake echoes the code (or none). */
static void test_ping_and_close(void **state)
{
	struct ws_conn *w = ws_open(&rp, "/api/rooms/WSPING01/ws?name=pinger", NULL);
	struct ws_conn *o = ws_open(&rp, "/api/rooms/WSPING01/ws?name=other", NULL);
	for (int i = 0; i < 3; i++)
		free(next_text(w));
	for (int i = 0; i < 2; i++)
		free(next_text(o));
	struct ws_msg m;
	for (int i = 0; i < 3; i++) {
		char p[16];
		snprintf(p, sizeof(p), "ping-%d", i);
		assert_int_equal(ws_send_ping(w, p, strlen(p)), 0);
		assert_int_equal(ws_recv(w, &m, 5000), WS_RECV_PONG);
		assert_string_equal(m.data, p);
		ws_msg_free(&m);
	}
	assert_int_equal(ws_send_ping(w, "", 0), 0);
	assert_int_equal(ws_recv(w, &m, 5000), WS_RECV_PONG);
	assert_int_equal(m.len, 0);
	ws_msg_free(&m);
	/* the relay's own pings, if any, are answered by the client: nothing else arrives */
	expect_quiet(w);
	/* close with a code: echoed; the other subscriber sees the presence drop (WS-18) */
	assert_int_equal(ws_close(w, 1000), 1000);
	expect_text(o, "{\"type\":\"presence\",\"size\":1,\"names\":[\"other\"],\"participants\":[{\"name\":\"other\",\"last_seen_ms_ago\":0}]}");
	w = ws_open(&rp, "/api/rooms/WSPING01/ws?after=999999999999999", NULL);
	for (int i = 0; i < 2; i++)
		free(next_text(w));
	free(next_text(o));
	assert_int_equal(ws_close(w, 4001), 4001);
	free(next_text(o));
	w = ws_open(&rp, "/api/rooms/WSPING01/ws?after=999999999999999", NULL);
	for (int i = 0; i < 2; i++)
		free(next_text(w));
	free(next_text(o));
	assert_int_equal(ws_close(w, 0), 1005); /* no code -> none back */
	free(next_text(o));
	/* an abrupt drop (no close frame) is also a leave */
	w = ws_open(&rp, "/api/rooms/WSPING01/ws?after=999999999999999", NULL);
	for (int i = 0; i < 2; i++)
		free(next_text(w));
	free(next_text(o));
	ws_free(w);
	expect_text(o, "{\"type\":\"presence\",\"size\":1,\"names\":[\"other\"],\"participants\":[{\"name\":\"other\",\"last_seen_ms_ago\":0}]}");
	struct http_resp r;
	it_get(hc, &rp, "/api/rooms/WSPING01/status", &r);
	it_prefix(r.body, "{\"exists\":true,\"roomId\":\"WSPING01\",\"participants\":1,");
	http_resp_free(&r);
	ws_close(o, 1000);
}

/* ---- last_seen (WS-9, PRES-4) --------------------------------------------------------------------- */

/* last_seen_ms_ago of name in a ready/presence text. */
static long long ago_of(const char *json, const char *name)
{
	char k[96];
	snprintf(k, sizeof(k), "{\"name\":\"%s\",", name);
	const char *p = strstr(json, k);
	if (!p)
		fail_msg("%s not in %s", name, json);
	p = strstr(p, "\"last_seen_ms_ago\":");
	assert_non_null(p);
	return strtoll(p + 19, NULL, 10);
}

/* WS: last_seen is the last inbound data frame (any, even unparsable), not our writes to it;
 * SSE: the last event written to the subscriber. */
static void test_last_seen(void **state)
{
	char url[256];
	struct ws_conn *q = ws_open(&rp, "/api/rooms/WSSEEN01/ws?name=quiet", NULL);
	free(next_text(q));
	free(next_text(q));
	it_url(url, sizeof(url), &rp, "/api/rooms/WSSEEN01/events?name=sse");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_non_null(sc);
	struct sse_event_copy ev;
	for (int i = 0; i < 2; i++) { /* ready, presence */
		assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
		sse_event_copy_free(&ev);
	}
	free(next_text(q)); /* the SSE join's presence */
	int64_t t0 = clock_mono_ms();
	while (clock_mono_ms() < t0 + 1200)
		it_nap_ms(20); /* both stay silent; the relay writes nothing to them meanwhile */
	struct ws_conn *x = ws_open(&rp, "/api/rooms/WSSEEN01/ws", NULL);
	char *ready = next_text(x);
	assert_true(ago_of(ready, "quiet") >= 1100);
	assert_true(ago_of(ready, "sse") >= 1100);
	free(ready);
	free(next_text(x));
	/* the SSE subscriber is written x's presence; the quiet socket sends garbage, then a
	 * ping whose pong proves the garbage was read */
	assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
	sse_event_copy_free(&ev);
	ws_text(q, "this is not JSON");
	assert_int_equal(ws_send_ping(q, "sync", 4), 0);
	struct ws_msg m;
	enum ws_recv_result rc;
	do {
		rc = ws_recv(q, &m, 5000);
		if (rc == WS_RECV_TEXT)
			ws_msg_free(&m);
	} while (rc == WS_RECV_TEXT);
	assert_int_equal(rc, WS_RECV_PONG);
	ws_msg_free(&m);
	struct ws_conn *y = ws_open(&rp, "/api/rooms/WSSEEN01/ws", NULL);
	ready = next_text(y);
	assert_true(ago_of(ready, "quiet") < 1000);
	assert_true(ago_of(ready, "sse") < 1000);
	free(ready);
	ws_free(y);
	ws_free(x);
	ws_free(q);
	sse_close(sc);
}

/* ---- handshake ------------------------------------------------------------------------------------ */

/* WS-1 / HTTP-7: only ^/api/rooms/<id>/ws$ on the raw path upgrades; nothing is created. */
static void test_bad_path_no_upgrade(void **state)
{
	static const char *const paths[] = {
		"/api/rooms/abc/ws", "/api/rooms/ROOMPATH/ws/", "/api/rooms/ROOM%50ATH/ws", "/api/rooms/ROOMPATH/wsx",
		"/api/rooms/ROOMPATH/WS", "/api/room/ROOMPATH/ws", "/api/rooms/ROOMPATH/events/ws", "/ws",
		"/api/rooms//ws", "/api/rooms/ROOM.PATH/ws",
	};
	char url[256];
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct ws_conn *w = NULL;
		int status = 0;
		char *body = NULL;
		it_url(url, sizeof(url), &rp, paths[i]);
		int rc = ws_connect(url, NULL, NULL, 5000, &w, &status, &body);
		if (rc == 0) {
			ws_free(w);
			fail_msg("%s upgraded", paths[i]);
		}
		/* either a plain 404 or a closed connection, never a 101 */
		if (rc == WS_ERR_STATUS) {
			assert_int_equal(status, 404);
			assert_string_equal(body, "{\"error\":\"not found\"}");
		} else {
			assert_int_equal(rc, -1);
		}
		free(body);
	}
	it_expect(hc, &rp, "GET", "/api/rooms/ROOMPATH/status", NULL, NULL, 200, "{\"exists\":false,\"roomId\":\"ROOMPATH\"}", 0);
	it_health(hc, &rp);
}

/* Send a raw upgrade request and read the answer. */
static void raw_upgrade(const char *path, const char *headers, struct raw_resp *out)
{
	char req[1024];
	int fd = raw_connect("127.0.0.1", rp.port, NULL, 5000);
	assert_true(fd >= 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s\r\n",
		 path, headers);
	assert_int_equal(raw_sends(fd, req, clock_mono_ms() + 5000), 0);
	assert_int_equal(raw_read_response(fd, NULL, false, clock_mono_ms() + 5000, out), 0);
	close(fd);
}

/* WS-2: a defective handshake on the right path -> 400 {"error":"bad websocket handshake"}. */
static void test_bad_handshake(void **state)
{
	static const char *const h[] = {
		"Sec-WebSocket-Version: 13\r\n",                                                   /* no key */
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",                                  /* no version */
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n",      /* old version */
		"Sec-WebSocket-Key: abc\r\nSec-WebSocket-Version: 13\r\n",                          /* not 16 bytes */
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\nSec-WebSocket-Version: 13\r\n",       /* not canonical */
	};
	char bad[1024] = "";
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		struct raw_resp r;
		size_t len;
		raw_upgrade("/api/rooms/HSHAKE01/ws", h[i], &r);
		const char *ct = raw_header(&r, "Content-Type", &len);
		if (r.status != 400 || strcmp(r.body, "{\"error\":\"bad websocket handshake\"}") != 0 ||
		    !ct || len != 31 || memcmp(ct, "application/json; charset=utf-8", 31) != 0 ||
		    !raw_header(&r, "X-Content-Type-Options", NULL)) /* HDR-1 */
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "\n  case %zu: %d %s", i, r.status, r.body);
		raw_resp_free(&r);
	}
	if (bad[0])
		fail_msg("defective handshakes not answered 400 bad websocket handshake:%s", bad);
	/* the same handshake, correct: 101 */
	struct raw_resp r;
	raw_upgrade("/api/rooms/HSHAKE01/ws", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n", &r);
	assert_int_equal(r.status, 101);
	size_t len;
	const char *acc = raw_header(&r, "Sec-WebSocket-Accept", &len);
	assert_true(acc && len == 28 && memcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0);
	raw_resp_free(&r);
	it_health(hc, &rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_ready),
		cmocka_unit_test(test_message_frames),
		cmocka_unit_test(test_error_frames),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_ping_and_close),
		cmocka_unit_test(test_last_seen),
		cmocka_unit_test(test_bad_path_no_upgrade),
		cmocka_unit_test(test_bad_handshake),
		cmocka_unit_test(test_size_cap_declared),
	};
	return cmocka_run_group_tests_name("it_ws", tests, setup, teardown);
}
