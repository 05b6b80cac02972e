/* Integration: claim/ack (§13) end to end on a real relay — CLAIM-1a..7 and ACK-1..4 with
 * exact bodies, parking and waking, caps and rate limits. Lease expiry is covered by
 * test_claim.c with injected time (ttl_ms clamps to >= 60 s). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "ids_fixture.h"
#include "proto/json.h"

#define BAD_AUTH "{\"error\":\"bad or missing signature\"}"
#define STALE "{\"error\":\"stale or unknown claim\",\"cursor\":%lld}"

static struct relay_proc rp;
static struct http_client *hc;
static struct crypto_identity alice, bob;

static int setup(void **state)
{
	const char *args[] = {"--metrics-token", "tok", "--room-waiters-max", "1", "--waiter-cap-per-ip", "2", NULL};
	if (crypto_init() < 0 || fx_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	fx_identity(&alice, "cla");
	fx_identity(&bob, "clb");
	fx_register(hc, &rp, &alice);
	fx_register(hc, &rp, &bob);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1;
}

/* A signed claim or ack by who; query may be "" (ack) or "?timeout=…". */
static void call(struct http_client *c, const struct crypto_identity *who, const char *room, const char *what,
		 const char *query, const char *body, struct http_resp *out)
{
	char target[256], auth[320];
	snprintf(target, sizeof(target), "/api/rooms/%s/%s%s", room, what, query);
	fx_auth(auth, sizeof(auth), who, "POST", target, clock_now_ms());
	fx_do(c, &rp, "POST", target, body, auth, out);
}

static void claim_body(char *out, size_t cap, const struct crypto_identity *who, const char *extra)
{
	snprintf(out, cap, "{\"handle\":\"%s\"%s%s}", who->handle, extra ? "," : "", extra ? extra : "");
}

static int64_t post_plain(const char *room, const char *sender)
{
	char path[128];
	struct http_resp r;
	char *body = fx_room_plain(sender, NULL);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	fx_do(hc, &rp, "POST", path, body, NULL, &r);
	assert_int_equal(r.status, 200);
	int64_t seq = atoll(strstr(r.body, "\"seq\":") + 6);
	http_resp_free(&r);
	free(body);
	return seq;
}

/* CLAIM-1a..f: the checks in order; an absent room is not created. */
static void test_claim_checks(void **state)
{
	char body[128];
	claim_body(body, sizeof(body), &alice, NULL);
	fx_expect(hc, &rp, "POST", "/api/rooms/abc/claim", body, NULL, 400, "{\"error\":\"bad roomId\"}", 0);
	fx_expect(hc, &rp, "POST", "/api/rooms/abc/ack", body, NULL, 400, "{\"error\":\"bad roomId\"}", 0);
	const char *bad[] = {"{}", "{\"handle\":5}", "{\"handle\":\"a b\"}", "{\"handle\":\"\"}",
			     "{\"handle\":\"abcdefghijklmnopqrstuvwxyz0123456\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fx_expect(hc, &rp, "POST", "/api/rooms/NOROOM01/claim", bad[i], NULL, 400, "{\"error\":\"bad handle\"}", 0);
		fx_expect(hc, &rp, "POST", "/api/rooms/NOROOM01/ack", bad[i], NULL, 400, "{\"error\":\"bad handle\"}", 0);
	}
	fx_expect(hc, &rp, "POST", "/api/rooms/NOROOM01/claim", "{\"handle\":\"_nobody\"}", NULL, 404,
		  "{\"error\":\"no such handle\"}", 0);
	fx_expect(hc, &rp, "POST", "/api/rooms/NOROOM01/claim", body, NULL, 401, BAD_AUTH, 0);
	fx_expect(hc, &rp, "POST", "/api/rooms/NOROOM01/ack", body, NULL, 401, BAD_AUTH, 0);
	/* upper-case handle in the body is lower-cased (VAL-3) */
	char upper[128];
	snprintf(upper, sizeof(upper), "{\"handle\":\"%s\"}", alice.handle);
	for (char *p = upper + 11; *p != '"'; p++)
		*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	struct http_resp r;
	call(hc, &alice, "NOROOM01", "claim", "?timeout=1", upper, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true,\"empty\":true,\"last_seq\":0,\"cursor\":0,\"exists\":false}");
	http_resp_free(&r);
	fx_expect(hc, &rp, "GET", "/api/rooms/NOROOM01/status", NULL, NULL, 200,
		  "{\"exists\":false,\"roomId\":\"NOROOM01\"}", 0);
	/* ACK-1: the room need not exist */
	call(hc, &alice, "NOROOM01", "ack", "", body, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true,\"advanced\":false,\"cursor\":0}");
	http_resp_free(&r);
	/* AUTH-5: the query is part of the signed target */
	char target[128], auth[320];
	fx_auth(auth, sizeof(auth), &alice, "POST", "/api/rooms/NOROOM01/claim", clock_now_ms());
	snprintf(target, sizeof(target), "/api/rooms/NOROOM01/claim?timeout=1");
	fx_expect(hc, &rp, "POST", target, body, auth, 401, BAD_AUTH, 0);
}

/* CLAIM-2..5, ACK-2..4: claim, re-claim, ack, and the ROOM-19 envelope. */
static void test_claim_and_ack(void **state)
{
	int64_t s1 = post_plain("CLAIMRM1", "bob-agent"), s2 = post_plain("CLAIMRM1", "bob-agent");
	char body[256], want[256];
	claim_body(body, sizeof(body), &alice, NULL);
	struct http_resp r;
	call(hc, &alice, "CLAIMRM1", "claim", "?timeout=5&ttl_ms=120000", body, &r);
	assert_int_equal(r.status, 200);
	cJSON *j = json_parse(r.body, r.body_len, 32, true);
	const char *keys[] = {"ok", "claim_id", "message", "cursor", "last_seq"};
	const cJSON *k = j->child;
	for (size_t i = 0; i < 5; i++, k = k->next)
		assert_string_equal(k->string, keys[i]);
	const char *mkeys[] = {"seq", "id", "sender", "ciphertext", "nonce", "ts", "sender_verified"}; /* ROOM-19 */
	k = json_get(j, "message")->child;
	for (size_t i = 0; i < 7; i++, k = k->next)
		assert_string_equal(k->string, mkeys[i]);
	assert_null(k);
	char claim_id[37];
	snprintf(claim_id, sizeof(claim_id), "%s", json_get(j, "claim_id")->valuestring);
	assert_int_equal(strlen(claim_id), 36);
	assert_int_equal((int64_t)json_get(json_get(j, "message"), "seq")->valuedouble, s1);
	assert_string_equal(json_get(json_get(j, "message"), "sender")->valuestring, "bob-agent");
	assert_int_equal((int64_t)json_get(j, "cursor")->valuedouble, s1 - 1); /* CLAIM-2 clamp */
	assert_int_equal((int64_t)json_get(j, "last_seq")->valuedouble, s2);
	char *first = strdup(r.body);
	cJSON_Delete(j);
	http_resp_free(&r);
	/* CLAIM-3: the same answer again (same claim_id), whatever the new exclude list says */
	char excl[256];
	claim_body(excl, sizeof(excl), &alice, "\"exclude_senders\":[\"bob-agent\"]");
	call(hc, &alice, "CLAIMRM1", "claim", "?timeout=5", excl, &r);
	assert_string_equal(r.body, first);
	http_resp_free(&r);
	free(first);
	/* ACK-3: wrong id; wrong seq; seq as an array counts as 0 */
	char ack[256];
	snprintf(want, sizeof(want), STALE, (long long)(s1 - 1));
	snprintf(ack, sizeof(ack), "{\"handle\":\"%s\",\"claim_id\":\"00000000-0000-4000-8000-000000000000\",\"seq\":%lld}",
		 alice.handle, (long long)s1);
	call(hc, &alice, "CLAIMRM1", "ack", "", ack, &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(r.body, want);
	http_resp_free(&r);
	snprintf(ack, sizeof(ack), "{\"handle\":\"%s\",\"claim_id\":\"%s\",\"seq\":[%lld]}", alice.handle, claim_id,
		 (long long)s1);
	call(hc, &alice, "CLAIMRM1", "ack", "", ack, &r);
	assert_int_equal(r.status, 409);
	assert_string_equal(r.body, want);
	http_resp_free(&r);
	/* ACK-4 with seq as a number with a fraction (its integer part) */
	snprintf(ack, sizeof(ack), "{\"handle\":\"%s\",\"claim_id\":\"%s\",\"seq\":%lld.75}", alice.handle, claim_id,
		 (long long)s1);
	call(hc, &alice, "CLAIMRM1", "ack", "", ack, &r);
	snprintf(want, sizeof(want), "{\"ok\":true,\"advanced\":true,\"cursor\":%lld}", (long long)s1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, want);
	http_resp_free(&r);
	/* ACK-2 */
	call(hc, &alice, "CLAIMRM1", "ack", "", ack, &r);
	snprintf(want, sizeof(want), "{\"ok\":true,\"advanced\":false,\"cursor\":%lld}", (long long)s1);
	assert_string_equal(r.body, want);
	http_resp_free(&r);
	/* next claim: s2; ack with seq as a string (P(s)) */
	call(hc, &alice, "CLAIMRM1", "claim", "?timeout=5", body, &r);
	j = json_parse(r.body, r.body_len, 32, true);
	assert_int_equal((int64_t)json_get(json_get(j, "message"), "seq")->valuedouble, s2);
	assert_int_equal((int64_t)json_get(j, "cursor")->valuedouble, s1);
	snprintf(ack, sizeof(ack), "{\"handle\":\"%s\",\"claim_id\":\"%s\",\"seq\":\" %lldxyz\"}", alice.handle,
		 json_get(j, "claim_id")->valuestring, (long long)s2);
	cJSON_Delete(j);
	http_resp_free(&r);
	call(hc, &alice, "CLAIMRM1", "ack", "", ack, &r);
	snprintf(want, sizeof(want), "{\"ok\":true,\"advanced\":true,\"cursor\":%lld}", (long long)s2);
	assert_string_equal(r.body, want);
	http_resp_free(&r);
	/* bob's cursor is his own (per handle) */
	claim_body(body, sizeof(body), &bob, NULL);
	call(hc, &bob, "CLAIMRM1", "claim", "?timeout=5", body, &r);
	assert_non_null(strstr(r.body, "\"cursor\":"));
	j = json_parse(r.body, r.body_len, 32, true);
	assert_int_equal((int64_t)json_get(json_get(j, "message"), "seq")->valuedouble, s1);
	cJSON_Delete(j);
	http_resp_free(&r);
}

struct claimer {
	const struct crypto_identity *who;
	const char *room, *query, *extra;
	long status;
	char *body;
	int64_t ms;
};

static void *claim_thread(void *arg)
{
	struct claimer *c = arg;
	struct http_client *cl = http_client_new(NULL);
	char body[256];
	struct http_resp r;
	claim_body(body, sizeof(body), c->who, c->extra);
	int64_t t0 = clock_mono_ms();
	call(cl, c->who, c->room, "claim", c->query, body, &r);
	c->ms = clock_mono_ms() - t0;
	c->status = r.status;
	c->body = strdup(r.body);
	http_resp_free(&r);
	http_client_free(cl);
	return NULL;
}

static void await_parked(long long want)
{
	int64_t end = clock_mono_ms() + 5000;
	while (fx_metric(hc, &rp, "parked_waiters") != want && clock_mono_ms() < end)
		;
	assert_int_equal(fx_metric(hc, &rp, "parked_waiters"), want);
}

/* CLAIM-4/6/7: own and excluded messages are skipped; a parked claim is resolved by any
 * accepted message and never parks again. */
static void test_park_and_wake(void **state)
{
	char *own = fx_room_body(&alice, NULL, "PARKRM01", clock_now_ms(), NULL, NULL);
	fx_expect(hc, &rp, "POST", "/api/rooms/PARKRM01/messages", own, NULL, 200, NULL, 0);
	free(own);
	int64_t s2 = post_plain("PARKRM01", "carol");
	/* all excluded: parks, then times out empty */
	struct claimer c = {&alice, "PARKRM01", "?timeout=1", "\"exclude_senders\":[\"carol\",7]", 0, NULL, 0};
	claim_thread(&c);
	assert_int_equal(c.status, 200);
	char want[256];
	snprintf(want, sizeof(want), "{\"ok\":true,\"empty\":true,\"last_seq\":%lld,\"cursor\":%lld}", (long long)s2,
		 (long long)(s2 - 2));
	assert_string_equal(c.body, want);
	assert_true(c.ms >= 900);
	free(c.body);
	/* woken by another sender's message: gets it */
	pthread_t t;
	c = (struct claimer){&alice, "PARKRM01", "?timeout=30", "\"exclude_senders\":[\"carol\"]", 0, NULL, 0};
	assert_int_equal(pthread_create(&t, NULL, claim_thread, &c), 0);
	await_parked(1);
	int64_t s3 = post_plain("PARKRM01", "dave");
	pthread_join(t, NULL);
	assert_int_equal(c.status, 200);
	cJSON *j = json_parse(c.body, strlen(c.body), 32, true);
	assert_int_equal((int64_t)json_get(json_get(j, "message"), "seq")->valuedouble, s3);
	char claim_id[37];
	snprintf(claim_id, sizeof(claim_id), "%s", json_get(j, "claim_id")->valuestring);
	cJSON_Delete(j);
	free(c.body);
	await_parked(0);
	/* ack it, then a claim parks and is woken by the caller's own message: empty at once */
	char ack[256];
	struct http_resp r;
	snprintf(ack, sizeof(ack), "{\"handle\":\"%s\",\"claim_id\":\"%s\",\"seq\":%lld}", alice.handle, claim_id,
		 (long long)s3);
	call(hc, &alice, "PARKRM01", "ack", "", ack, &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	c = (struct claimer){&alice, "PARKRM01", "?timeout=30", NULL, 0, NULL, 0};
	assert_int_equal(pthread_create(&t, NULL, claim_thread, &c), 0);
	await_parked(1);
	own = fx_room_body(&alice, NULL, "PARKRM01", clock_now_ms(), NULL, NULL);
	struct http_resp pr;
	fx_do(hc, &rp, "POST", "/api/rooms/PARKRM01/messages", own, NULL, &pr);
	int64_t s4 = atoll(strstr(pr.body, "\"seq\":") + 6);
	http_resp_free(&pr);
	free(own);
	pthread_join(t, NULL);
	snprintf(want, sizeof(want), "{\"ok\":true,\"empty\":true,\"last_seq\":%lld,\"cursor\":%lld}", (long long)s4,
		 (long long)s3);
	assert_string_equal(c.body, want);
	assert_true(c.ms < 20000);
	free(c.body);
}

/* CLAIM-6: the room cap (ROOM_WAITERS_MAX = 1 here), then the IP cap (WAITER_CAP_PER_IP = 2). */
static void test_caps(void **state)
{
	pthread_t t1, t2;
	struct claimer c1 = {&alice, "CAPROOM1", "?timeout=30", NULL, 0, NULL, 0};
	post_plain("CAPROOM1", "@x"); /* create the room */
	post_plain("CAPROOM2", "@x");
	char body[128];
	struct http_resp r;
	claim_body(body, sizeof(body), &alice, "\"exclude_senders\":[\"@x\"]");
	c1.extra = "\"exclude_senders\":[\"@x\"]";
	assert_int_equal(pthread_create(&t1, NULL, claim_thread, &c1), 0);
	await_parked(1);
	call(hc, &alice, "CAPROOM1", "claim", "?timeout=30", body, &r);
	assert_int_equal(r.status, 429);
	assert_string_equal(r.body, "{\"error\":\"too many concurrent waiters for this room\"}");
	assert_true(http_header_is(&r, "Retry-After", "5"));
	http_resp_free(&r);
	/* a claim parked in another room takes the second IP slot */
	struct claimer c2 = {&bob, "CAPROOM2", "?timeout=30", "\"exclude_senders\":[\"@x\"]", 0, NULL, 0};
	assert_int_equal(pthread_create(&t2, NULL, claim_thread, &c2), 0);
	await_parked(2);
	post_plain("CAPROOM3", "@x");
	call(hc, &alice, "CAPROOM3", "claim", "?timeout=30", body, &r);
	assert_int_equal(r.status, 429);
	assert_string_equal(r.body, "{\"error\":\"too many concurrent waiters from this IP\"}");
	assert_true(http_header_is(&r, "Retry-After", "5"));
	http_resp_free(&r);
	post_plain("CAPROOM1", "eve");
	post_plain("CAPROOM2", "eve");
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	assert_int_equal(c1.status, 200);
	assert_int_equal(c2.status, 200);
	free(c1.body);
	free(c2.body);
	await_parked(0);
}

/* CLAIM-1d: the rate limit (auth:<handle>, shared by claim and ack) precedes the auth. */
static void test_rate_limit(void **state)
{
	struct relay_proc small;
	const char *args[] = {"--room-rl-cap", "2", "--room-rl-refill-per-sec", "0.001", NULL};
	assert_int_equal(fx_start(&small, args), 0);
	fx_register(hc, &small, &alice);
	char body[128];
	claim_body(body, sizeof(body), &alice, NULL);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM01/claim", body, NULL, 401, BAD_AUTH, 0);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM01/ack", body, NULL, 401, BAD_AUTH, 0);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM01/claim", body, NULL, 429, "{\"error\":\"rate limited\"}", 5);
	fx_expect(hc, &small, "POST", "/api/rooms/RLROOM02/ack", body, NULL, 429, "{\"error\":\"rate limited\"}", 5);
	assert_int_equal(relay_stop(&small), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_checks),
		cmocka_unit_test(test_claim_and_ack),
		cmocka_unit_test(test_park_and_wake),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_rate_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
