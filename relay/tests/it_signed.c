/* Integration: signed room messages (§11.3, SIG-5..8, ROOM-13/14, ROOM-POST-6..8, WS-13..15)
 * over HTTP and WebSocket on a real relay, with exact bodies and frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "client/ws.h"
#include "ids_fixture.h"

#define BAD_SIG "{\"error\":\"bad sender_sig\"}"

static struct relay_proc rp;
static struct http_client *hc;
static struct crypto_identity alice, bob;

static int setup(void **state)
{
	const char *args[] = {"--metrics-token", "tok", NULL};
	if (crypto_init() < 0 || fx_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	fx_identity(&alice, "sig");
	fx_identity(&bob, "sig");
	fx_register(hc, &rp, &alice);
	fx_register(hc, &rp, &bob);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1;
}

static void post(const char *room, const char *body, long status, const char *want)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	fx_expect(hc, &rp, "POST", path, body, NULL, status, want, status == 429 ? 1 : 0);
}

/* The last message of room's transcript, as "sender","sender_verified" and the rest. */
static char *last_message(const char *room)
{
	char path[128];
	struct http_resp r;
	snprintf(path, sizeof(path), "/api/rooms/%s/transcript?limit=500", room);
	fx_do(hc, &rp, "GET", path, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	/* messages are flat objects: the last one starts at the last '{' before the array end */
	char *end = strstr(r.body, "],\"last_seq\"");
	assert_non_null(end);
	char *last = end;
	while (last > r.body && *last != '{')
		last--;
	assert_true(*last == '{');
	end--;
	char *out = strndup(last, (size_t)(end - last + 1));
	http_resp_free(&r);
	return out;
}

/* ROOM-14: "@" + lowercase(handle), sender_verified; the signed fields are never stored. */
static void test_signed_post(void **state)
{
	char *body = fx_room_body(&alice, NULL, "SIGROOM1", clock_now_ms(), NULL, "\"sender\":\"ignored\"");
	post("SIGROOM1", body, 200, NULL);
	char *m = last_message("SIGROOM1"), want[128];
	snprintf(want, sizeof(want), "\"sender\":\"@%s\",\"sender_verified\":true,", alice.handle);
	assert_non_null(strstr(m, want));
	assert_null(strstr(m, "sender_ts"));
	assert_null(strstr(m, "sender_nonce"));
	assert_null(strstr(m, "sender_sig"));
	assert_null(strstr(m, "sender_handle"));
	free(m);
	free(body);
	/* SIG-5: the handle is lower-cased (SIG-3 does not contain it); SIG-6: a digit string ts,
	 * leading zeros dropped in SIG-3 */
	char upper[40];
	snprintf(upper, sizeof(upper), "%s", alice.handle);
	for (char *p = upper; *p; p++)
		*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	int64_t ts = clock_now_ms();
	body = fx_room_body(&alice, upper, "SIGROOM1", ts, NULL, NULL);
	char num[32], quoted[40];
	snprintf(num, sizeof(num), "\"sender_ts\":%lld", (long long)ts);
	snprintf(quoted, sizeof(quoted), "\"sender_ts\":\"00%lld\"", (long long)ts);
	char *b2 = malloc(strlen(body) + 8), *at = strstr(body, num);
	size_t pre = (size_t)(at - body);
	memcpy(b2, body, pre);
	strcpy(b2 + pre, quoted);
	strcat(b2, at + strlen(num));
	post("SIGROOM1", b2, 200, NULL);
	m = last_message("SIGROOM1");
	assert_non_null(strstr(m, want));
	free(m);
	free(b2);
	free(body);
	/* ROOM-13: only one of sender_handle / sender_sig -> unsigned, default label */
	body = fx_room_plain(NULL, "\"sender_handle\":\"nobody\"");
	post("SIGROOM1", body, 200, NULL);
	m = last_message("SIGROOM1");
	assert_non_null(strstr(m, "\"sender\":\"agent\",\"sender_verified\":false,"));
	free(m);
	free(body);
	body = fx_room_plain("@mallory", "\"sender_sig\":\"\"");
	post("SIGROOM1", body, 200, NULL);
	m = last_message("SIGROOM1");
	assert_non_null(strstr(m, "\"sender\":\"@mallory\",\"sender_verified\":false,")); /* any label */
	free(m);
	free(body);
}

/* Replace the first occurrence of from in s (malloc'd result). */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	assert_non_null(at);
	char *out = malloc(strlen(s) + strlen(to) + 1);
	memcpy(out, s, (size_t)(at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

/* SIG-5..8: every failure (replays included) is 401 bad sender_sig. */
static void test_signed_failures(void **state)
{
	int64_t now = clock_now_ms();
	char nonce[25], field[64];
	crypto_random_nonce_b64url(nonce);
	char *ok = fx_room_body(&alice, NULL, "SIGROOM2", now, nonce, NULL);
	post("SIGROOM2", ok, 200, NULL);
	post("SIGROOM2", ok, 401, BAD_SIG); /* replayed: nonce used */
	char *other = fx_room_body(&alice, NULL, "SIGROOM3", now, nonce, NULL);
	post("SIGROOM3", other, 401, BAD_SIG); /* the same nonce in another room (SIG-7) */
	free(other);
	/* the same nonce is still fresh for another handle */
	other = fx_room_body(&bob, NULL, "SIGROOM3", now, nonce, NULL);
	post("SIGROOM3", other, 200, NULL);
	free(other);
	free(ok);

	char *cases[16];
	int n = 0;
	cases[n++] = fx_room_body(&alice, NULL, "SIGROOM2", now - 61000, NULL, NULL); /* skew */
	cases[n++] = fx_room_body(&alice, NULL, "SIGROOM2", now + 61000, NULL, NULL);
	cases[n++] = fx_room_body(&bob, alice.handle, "SIGROOM2", now, NULL, NULL); /* wrong key */
	cases[n++] = fx_room_body(&alice, "unknown-handle", "SIGROOM2", now, NULL, NULL);
	cases[n++] = fx_room_body(&alice, "bad handle", "SIGROOM2", now, NULL, NULL); /* VAL-3 */
	cases[n++] = fx_room_body(&alice, NULL, "OTHERROOM", now, NULL, NULL);    /* signed for another room */
	cases[n++] = fx_room_body(&alice, NULL, "SIGROOM2", now, "short", NULL);   /* VAL-6 */
	cases[n++] = fx_room_body(&alice, NULL, "SIGROOM2", 0, NULL, NULL);        /* ts 0 */
	char *base = fx_room_body(&alice, NULL, "SIGROOM2", now, NULL, NULL);
	snprintf(field, sizeof(field), "\"sender_ts\":%lld", (long long)now);
	cases[n++] = replace(base, field, "\"sender_ts\":1.5");
	cases[n++] = replace(base, field, "\"sender_ts\":\"12a\"");
	cases[n++] = replace(base, field, "\"sender_ts\":\"\"");
	cases[n++] = replace(base, "\"sender_sig\":\"", "\"sender_sig\":5,\"x\":\""); /* truthy, not a string */
	cases[n++] = replace(base, "\"sender_nonce\":\"", "\"sender_nonce\":7,\"y\":\"");
	cases[n++] = replace(base, "\"ciphertext\":\"", "\"ciphertext\":\"AAAA\",\"z\":\""); /* another ct */
	for (int i = 0; i < n; i++) {
		post("SIGROOM2", cases[i], 401, BAD_SIG);
		free(cases[i]);
	}
	/* none of the failures consumed the valid body's nonce (REPLAY-2) */
	post("SIGROOM2", base, 200, NULL);
	free(base);
}

/* ROOM-POST-7/8: signed_only locks the room; the lock then needs signed posts. */
static void test_signed_only_http(void **state)
{
	char *plain = fx_room_plain("x", "\"signed_only\":true");
	post("LOCKROOM1", plain, 400, "{\"error\":\"signed_only requires sender_sig\"}");
	free(plain);
	plain = fx_room_plain("x", "\"signed_only\":1"); /* not exactly true: no effect */
	post("LOCKROOM1", plain, 200, NULL);
	free(plain);
	char *s = fx_room_body(&alice, NULL, "LOCKROOM1", clock_now_ms(), NULL, "\"signed_only\":true");
	post("LOCKROOM1", s, 200, NULL);
	free(s);
	fx_expect(hc, &rp, "GET", "/api/rooms/LOCKROOM1/status", NULL, NULL, 200, NULL, 0);
	struct http_resp r;
	fx_do(hc, &rp, "GET", "/api/rooms/LOCKROOM1/status", NULL, NULL, &r);
	assert_non_null(strstr(r.body, "\"signed_only\":true}"));
	http_resp_free(&r);
	plain = fx_room_plain("x", NULL);
	post("LOCKROOM1", plain, 403, "{\"error\":\"signed_only: this room requires sender_sig from a registered @handle\"}");
	free(plain);
	s = fx_room_body(&bob, NULL, "LOCKROOM1", clock_now_ms(), NULL, NULL);
	post("LOCKROOM1", s, 200, NULL);
	free(s);
	/* a bad signature on a locked room is 401, not 403 (ROOM-POST-6 precedes 8) */
	s = fx_room_body(&bob, alice.handle, "LOCKROOM1", clock_now_ms(), NULL, NULL);
	post("LOCKROOM1", s, 401, BAD_SIG);
	free(s);
}

/* Receive text frames until one contains needle (deadline 5 s); returns it malloc'd. */
static char *ws_until(struct ws_conn *ws, const char *needle)
{
	int64_t end = clock_mono_ms() + 5000;
	while (clock_mono_ms() < end) {
		struct ws_msg m;
		enum ws_recv_result rc = ws_recv(ws, &m, 200);
		if (rc == WS_RECV_TEXT) {
			if (strstr(m.data, needle))
				return m.data;
			ws_msg_free(&m);
		} else if (rc != WS_RECV_TIMEOUT) {
			if (rc != WS_RECV_ERROR)
				ws_msg_free(&m);
			fail_msg("websocket ended while waiting for %s", needle);
		}
	}
	fail_msg("no frame with %s", needle);
	return NULL;
}

/* WS-13..16 over a real WebSocket. */
static void test_signed_ws(void **state)
{
	char url[128];
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/api/rooms/WSLOCK01/ws", rp.port);
	struct ws_conn *ws;
	assert_int_equal(ws_connect(url, NULL, NULL, 5000, &ws, NULL, NULL), 0);
	free(ws_until(ws, "\"type\":\"ready\""));
	char *plain = fx_room_plain(NULL, "\"signed_only\":true");
	assert_int_equal(ws_send_text(ws, plain, strlen(plain)), 0);
	char *f = ws_until(ws, "\"type\":\"error\"");
	assert_string_equal(f, "{\"type\":\"error\",\"code\":400,\"error\":\"signed_only requires sender_sig\"}");
	free(f);
	free(plain);
	char *s = fx_room_body(&alice, NULL, "WSLOCK01", clock_now_ms(), NULL, "\"signed_only\":true");
	assert_int_equal(ws_send_text(ws, s, strlen(s)), 0);
	free(ws_until(ws, "{\"type\":\"locked\"}"));
	f = ws_until(ws, "\"type\":\"message\"");
	char want[128];
	snprintf(want, sizeof(want), "\"sender\":\"@%s\",\"sender_verified\":true,", alice.handle);
	assert_non_null(strstr(f, want));
	free(f);
	/* replay of the same frame */
	assert_int_equal(ws_send_text(ws, s, strlen(s)), 0);
	f = ws_until(ws, "\"type\":\"error\"");
	assert_string_equal(f, "{\"type\":\"error\",\"code\":401,\"error\":\"bad sender_sig\"}");
	free(f);
	free(s);
	plain = fx_room_plain(NULL, NULL);
	assert_int_equal(ws_send_text(ws, plain, strlen(plain)), 0);
	f = ws_until(ws, "\"type\":\"error\"");
	assert_string_equal(f, "{\"type\":\"error\",\"code\":403,\"error\":\"signed_only\"}");
	free(f);
	free(plain);
	ws_close(ws, 1000);
}

/* INV-10: rate limiting precedes verification; a rate-limited request consumes no nonce. */
static void test_rate_limit_first(void **state)
{
	struct relay_proc small;
	const char *args[] = {"--room-rl-cap", "1", "--room-rl-refill-per-sec", "2", NULL};
	assert_int_equal(fx_start(&small, args), 0);
	fx_register(hc, &small, &alice);
	char *a = fx_room_body(&alice, NULL, "RLROOM01", clock_now_ms(), NULL, NULL);
	char *b = fx_room_body(&alice, NULL, "RLROOM01", clock_now_ms(), NULL, NULL);
	char *forged = fx_room_body(&bob, alice.handle, "RLROOM01", clock_now_ms(), NULL, NULL);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM01/messages", a, NULL, 200, NULL, 0);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM01/messages", forged, NULL, 429, "{\"error\":\"rate limited\"}", 1);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM01/messages", b, NULL, 429, "{\"error\":\"rate limited\"}", 1);
	/* once a token is back, b passes: its nonce was not recorded while rate limited */
	int64_t end = clock_mono_ms() + 5000;
	long status = 429;
	while (status == 429 && clock_mono_ms() < end) {
		struct http_resp r;
		fx_do(hc, &small, "POST", "/api/rooms/RLROOM01/messages", b, NULL, &r);
		status = r.status;
		http_resp_free(&r);
	}
	assert_int_equal(status, 200);
	free(a);
	free(b);
	free(forged);
	assert_int_equal(relay_stop(&small), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_post),
		cmocka_unit_test(test_signed_failures),
		cmocka_unit_test(test_signed_only_http),
		cmocka_unit_test(test_signed_ws),
		cmocka_unit_test(test_rate_limit_first),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
