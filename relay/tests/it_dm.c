/* Integration: direct messages (§12) on a real relay — send checks DM-1a..j and DM-2/3 with
 * exact bodies, request auth on the inbox routes (§11.1), long-poll waits, pages, deletes,
 * caps, and a concurrent run: 20 senders x 25 signed DMs to one inbox, all verified, seqs
 * gap-free, with DMs/s and signed room posts/s printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "ids_fixture.h"
#include "proto/json.h"

#define BAD_AUTH "{\"error\":\"bad or missing signature\"}"

static struct relay_proc rp;
static struct http_client *hc;
static struct crypto_identity alice, bob, carol;

static int setup(void **state)
{
	const char *args[] = {"--metrics-token", "tok", "--inbox-max", "1000", "--dm-waiters-max-per-handle", "1",
			      "--waiter-cap-per-ip", "3", "--room-rl-cap", "100000", "--room-rl-refill-per-sec",
			      "100000", "--global-rl-cap", "100000", "--global-rl-refill-per-sec", "100000", NULL};
	if (crypto_init() < 0 || fx_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	fx_identity(&alice, "dma");
	fx_identity(&bob, "dmb");
	fx_identity(&carol, "dmc");
	fx_register(hc, &rp, &alice);
	fx_register(hc, &rp, &bob);
	fx_register(hc, &rp, &carol);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1;
}

/* POST a DM to `to` (path handle as given); returns the seq of a 200, else checks the error. */
static int64_t dm(const char *to, const char *body, long status, const char *want)
{
	char path[128];
	struct http_resp r;
	snprintf(path, sizeof(path), "/api/dm/%s", to);
	fx_do(hc, &rp, "POST", path, body, NULL, &r);
	if (r.status != status)
		fprintf(stderr, "POST %s: %ld %s\n", path, r.status, r.body);
	assert_int_equal(r.status, status);
	int64_t seq = 0;
	if (status == 200) {
		/* DM-6: {"ok":true,"id":"<uuid>","seq":<int>} */
		assert_int_equal(strncmp(r.body, "{\"ok\":true,\"id\":\"", 17), 0);
		assert_int_equal(r.body[17 + 36], '"');
		assert_int_equal(strncmp(r.body + 54, ",\"seq\":", 7), 0);
		seq = atoll(r.body + 61);
		assert_true(seq > 0);
	} else {
		assert_string_equal(r.body, want);
		assert_null(http_header(&r, "Retry-After", NULL));
	}
	http_resp_free(&r);
	return seq;
}

/* Signed GET of an inbox page; returns the response (caller frees). */
static void inbox(const struct crypto_identity *who, const char *path_handle, int64_t after, int timeout,
		  struct http_resp *out)
{
	char target[160], auth[320];
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=%lld&timeout=%d", path_handle, (long long)after,
		 timeout);
	fx_auth(auth, sizeof(auth), who, "GET", target, clock_now_ms());
	fx_do(hc, &rp, "GET", target, NULL, auth, out);
}

/* DM-3/5/7e: anonymous and verified DMs, exact envelopes, bytes relayed unchanged. */
static void test_send_and_read(void **state)
{
	char *anon = fx_dm_body(&carol, NULL, 0, "hello anon");
	char *signed_body = fx_dm_body(&carol, &alice, clock_now_ms(), "hi from alice");
	int64_t t0 = clock_now_ms();
	int64_t s1 = dm(carol.handle, anon, 200, NULL);
	int64_t s2 = dm(carol.handle, signed_body, 200, NULL);
	assert_true(s1 > t0); /* DM-4: a fresh inbox starts at now + 1 */
	assert_int_equal(s2, s1 + 1);
	struct http_resp r;
	inbox(&carol, carol.handle, 0, 30, &r);
	assert_int_equal(r.status, 200);
	cJSON *j = json_parse(r.body, r.body_len, 32, true);
	assert_non_null(j);
	cJSON *msgs = json_get(j, "messages");
	assert_int_equal(cJSON_GetArraySize(msgs), 2);
	assert_int_equal((int64_t)json_get(j, "last_seq")->valuedouble, s2);
	assert_true(cJSON_IsFalse(json_get(j, "has_more")));
	/* exact key order of DM-5, and of the page (messages, last_seq, has_more) */
	char want_tail[64];
	snprintf(want_tail, sizeof(want_tail), "],\"last_seq\":%lld,\"has_more\":false}", (long long)s2);
	assert_non_null(strstr(r.body, want_tail));
	assert_non_null(strstr(r.body, ",\"from_handle\":null,\"from_verified\":false,\"ts\":"));
	char fv[96];
	snprintf(fv, sizeof(fv), ",\"from_handle\":\"%s\",\"from_verified\":true,\"ts\":", alice.handle);
	assert_non_null(strstr(r.body, fv));
	const char *keys[] = {"seq", "id", "ciphertext", "nonce", "sender_eph_pub", "from_handle", "from_verified", "ts"};
	const cJSON *e = cJSON_GetArrayItem(msgs, 1);
	const cJSON *k = e->child;
	for (size_t i = 0; i < 8; i++, k = k->next)
		assert_string_equal(k->string, keys[i]);
	assert_null(k);
	/* the relayed strings open with carol's key */
	const char *ct = json_get(e, "ciphertext")->valuestring, *nonce = json_get(e, "nonce")->valuestring,
		   *eph = json_get(e, "sender_eph_pub")->valuestring;
	char *plain;
	size_t plen;
	assert_int_equal(env_dm_open(carol.box_sk, ct, strlen(ct), nonce, strlen(nonce), eph, strlen(eph), &plain, &plen), 0);
	assert_string_equal(plain, "hi from alice");
	free(plain);
	cJSON_Delete(j);
	http_resp_free(&r);
	free(anon);
	free(signed_body);
}

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

/* DM-1a..j and DM-2 in order, exact texts; rejected DMs consume no seq (INV-9). */
static void test_send_errors(void **state)
{
	int64_t now = clock_now_ms();
	char *first = fx_dm_body(&bob, NULL, 0, "x");
	int64_t before = dm(bob.handle, first, 200, NULL);
	free(first);
	dm("Bad%20Handle", "{}", 400, "{\"error\":\"invalid handle\"}");
	dm("a", "{}", 400, "{\"error\":\"invalid handle\"}");
	dm("-ab", "{}", 400, "{\"error\":\"invalid handle\"}");
	dm("nobody-registered", "{}", 404, "{\"error\":\"no such handle\"}");
	dm(bob.handle, "{}", 400, "{\"error\":\"ciphertext, nonce, sender_eph_pub required (all base64)\"}");
	dm(bob.handle, "{\"ciphertext\":\"AAAA\",\"nonce\":5,\"sender_eph_pub\":\"x\"}", 400,
	   "{\"error\":\"ciphertext, nonce, sender_eph_pub required (all base64)\"}");
	/* DM-1e: 131 073 decoded bytes */
	size_t big = crypto_b64_len(131073, CRYPTO_B64_STD); /* 174 764 'A's: lenient gives 131 073 */
	char *huge = malloc(big + 128);
	int n = snprintf(huge, 128, "{\"ciphertext\":\"");
	memset(huge + n, 'A', big);
	strcpy(huge + n + big, "\",\"nonce\":\"x\",\"sender_eph_pub\":\"x\"}");
	dm(bob.handle, huge, 400, "{\"error\":\"ciphertext too large\"}");
	free(huge);
	char *good = fx_dm_body(&bob, &alice, now, "payload");
	const char *ct = strstr(good, "\"ciphertext\":\"") + 14;
	char ctfield[512];
	snprintf(ctfield, sizeof(ctfield), "\"ciphertext\":\"%.*s\"", (int)(strchr(ct, '"') - ct), ct);
	char *c1 = replace(good, ctfield, "\"ciphertext\":\"AB==\"");
	dm(bob.handle, c1, 400, "{\"error\":\"ciphertext must be strict canonical base64\"}");
	char *c2 = replace(good, "\"nonce\":\"", "\"nonce\":\"AAAA\",\"n2\":\"");
	dm(bob.handle, c2, 400, "{\"error\":\"nonce must be strict canonical base64 of 24 bytes\"}");
	char *c3 = replace(good, "\"sender_eph_pub\":\"", "\"sender_eph_pub\":\"AAAA\",\"e2\":\"");
	dm(bob.handle, c3, 400, "{\"error\":\"sender_eph_pub must be strict canonical base64 of 32 bytes\"}");
	char *c4 = replace(good, "\"from_sig\":\"", "\"from_sig\":\"AAAA\",\"s2\":\"");
	dm(bob.handle, c4, 400, "{\"error\":\"from_sig must be strict canonical base64 of 64 bytes\"}");
	free(c1);
	free(c2);
	free(c3);
	free(c4);
	char tsf[48];
	snprintf(tsf, sizeof(tsf), "\"from_ts\":%lld", (long long)now);
	c1 = replace(good, tsf, "\"from_ts\":1.5");
	dm(bob.handle, c1, 400, "{\"error\":\"from_ts skew too large\"}"); /* a number, not an integer */
	free(c1);
	char *skewed = fx_dm_body(&bob, &alice, now - 61000, "old");
	dm(bob.handle, skewed, 400, "{\"error\":\"from_ts skew too large\"}");
	free(skewed);
	struct crypto_identity ghost;
	fx_identity(&ghost, "ghost");
	char *g = fx_dm_body(&bob, &ghost, now, "boo");
	dm(bob.handle, g, 400, "{\"error\":\"from_handle not registered\"}");
	free(g);
	/* a signature by carol's key claiming alice */
	struct crypto_identity fake = carol;
	snprintf(fake.handle, sizeof(fake.handle), "%s", alice.handle);
	char *forged = fx_dm_body(&bob, &fake, now, "forged");
	dm(bob.handle, forged, 401, "{\"error\":\"bad from_handle signature\"}");
	free(forged);
	/* signed for another recipient */
	char *other = fx_dm_body(&carol, &alice, now, "elsewhere");
	dm(bob.handle, other, 401, "{\"error\":\"bad from_handle signature\"}");
	/* none of these took a seq: the next accepted DM is before + 1 */
	int64_t s = dm(bob.handle, good, 200, NULL);
	assert_int_equal(s, before + 1);
	dm(bob.handle, good, 401, "{\"error\":\"envelope already seen\"}"); /* replay */
	/* DM-3: without a number from_ts, or with an empty from_handle, the DM is anonymous */
	c1 = replace(good, tsf, "\"from_ts\":\"1\"");
	assert_int_equal(dm(bob.handle, c1, 200, NULL), before + 2);
	free(c1);
	c1 = replace(good, "\"from_handle\":\"", "\"from_handle\":\"\",\"f2\":\"");
	assert_int_equal(dm(bob.handle, c1, 200, NULL), before + 3);
	free(c1);
	/* DM-2 fh: one leading '@' removed and lower-cased; the path handle too */
	char up[64], at_up[64];
	snprintf(up, sizeof(up), "\"from_handle\":\"%s\"", alice.handle);
	snprintf(at_up, sizeof(at_up), "\"from_handle\":\"@%s\"", alice.handle);
	for (char *p = at_up + 16; *p != '"'; p++)
		*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	char *fresh = fx_dm_body(&bob, &alice, now, "fresh");
	c1 = replace(fresh, up, at_up);
	char path_at[48];
	snprintf(path_at, sizeof(path_at), "@%s", bob.handle);
	assert_int_equal(dm(path_at, c1, 200, NULL), before + 4);
	free(c1);
	free(fresh);
	free(other);
	free(good);
	struct http_resp r;
	inbox(&bob, bob.handle, before + 3, 30, &r);
	char fv[96];
	snprintf(fv, sizeof(fv), "\"from_handle\":\"%s\",\"from_verified\":true", alice.handle);
	assert_non_null(strstr(r.body, fv));
	http_resp_free(&r);
}

/* §11.1 on the inbox routes: every failure is 401 bad or missing signature. */
static void test_inbox_auth(void **state)
{
	char target[128], auth[320], path_at[160];
	struct http_resp r;
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=0&timeout=1", alice.handle);
	fx_expect(hc, &rp, "GET", target, NULL, NULL, 401, BAD_AUTH, 0);
	fx_auth(auth, sizeof(auth), &alice, "GET", target, clock_now_ms());
	fx_do(hc, &rp, "GET", target, NULL, auth, &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	fx_expect(hc, &rp, "GET", target, NULL, auth, 401, BAD_AUTH, 0); /* replayed nonce */
	fx_auth(auth, sizeof(auth), &alice, "GET", target, clock_now_ms() - 61000);
	fx_expect(hc, &rp, "GET", target, NULL, auth, 401, BAD_AUTH, 0); /* skewed */
	fx_auth(auth, sizeof(auth), &bob, "GET", target, clock_now_ms());
	fx_expect(hc, &rp, "GET", target, NULL, auth, 401, BAD_AUTH, 0); /* wrong key */
	fx_auth(auth, sizeof(auth), &alice, "GET", target, clock_now_ms());
	snprintf(path_at, sizeof(path_at), "/api/dm/%s/inbox/wait?after=1&timeout=1", alice.handle);
	fx_expect(hc, &rp, "GET", path_at, NULL, auth, 401, BAD_AUTH, 0); /* the query is signed */
	/* AUTH-5: "@alice" in the path is signed as sent */
	snprintf(path_at, sizeof(path_at), "/api/dm/@%s/inbox/wait?after=0&timeout=1", alice.handle);
	fx_expect(hc, &rp, "GET", path_at, NULL, auth, 401, BAD_AUTH, 0);
	fx_auth(auth, sizeof(auth), &alice, "GET", path_at, clock_now_ms());
	fx_do(hc, &rp, "GET", path_at, NULL, auth, &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	/* AUTH-1 (sealroom): Bot2Bot */
	int n = snprintf(auth, sizeof(auth), "Authorization: ");
	assert_true(auth_header(auth + n, sizeof(auth) - (size_t)n, &alice, "GET", target, clock_now_ms(), "Bot2Bot") > 0);
	fx_do(hc, &rp, "GET", target, NULL, auth, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"messages\":[],\"last_seq\":0}"); /* DM-8 timeout answer */
	http_resp_free(&r);
	/* DM-7a/b precede the rate limit and the auth */
	fx_expect(hc, &rp, "GET", "/api/dm/X%20Y/inbox/wait", NULL, NULL, 400, "{\"error\":\"invalid handle\"}", 0);
	fx_expect(hc, &rp, "GET", "/api/dm/nobody-registered/inbox/wait", NULL, NULL, 404, "{\"error\":\"no such handle\"}", 0);
	fx_expect(hc, &rp, "DELETE", "/api/dm/nobody-registered/inbox/x", NULL, NULL, 404, "{\"error\":\"no such handle\"}", 0);
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/00000000-0000-4000-8000-000000000000", alice.handle);
	fx_expect(hc, &rp, "DELETE", target, NULL, NULL, 401, BAD_AUTH, 0);
}

struct waiter {
	const struct crypto_identity *who;
	int64_t after;
	int timeout;
	long status;
	char *body;
	struct http_client *c;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	char target[160], auth[320];
	struct http_resp r;
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=%lld&timeout=%d", w->who->handle,
		 (long long)w->after, w->timeout);
	fx_auth(auth, sizeof(auth), w->who, "GET", target, clock_now_ms());
	char url[256];
	const char *hdrs[] = {auth, NULL};
	snprintf(url, sizeof(url), "%s%s", rp.base, target);
	if (http_do(w->c, "GET", url, hdrs, NULL, 0, 100000, &r) == 0) {
		w->status = r.status;
		w->body = strdup(r.body);
		http_resp_free(&r);
	}
	return NULL;
}

/* Poll the dm_waits_total counter until it reaches want (a waiter has parked). */
static void await_parked(long long want)
{
	int64_t end = clock_mono_ms() + 5000;
	while (fx_metric(hc, &rp, "dm_waits_total") < want && clock_mono_ms() < end)
		;
	assert_true(fx_metric(hc, &rp, "dm_waits_total") >= want);
}

/* DM-7f..h and DM-8: park, wake with exactly the new envelope; caps; timeout. */
static void test_long_poll(void **state)
{
	struct crypto_identity d;
	fx_identity(&d, "dmd");
	fx_register(hc, &rp, &d);
	long long parked = fx_metric(hc, &rp, "dm_waits_total");
	struct waiter w = {&d, 0, 30, 0, NULL, http_client_new(NULL)};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, wait_thread, &w), 0);
	await_parked(parked + 1);
	/* CAP-4: one waiter per handle on this relay */
	char target[160], auth[320];
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=0&timeout=1", d.handle);
	fx_auth(auth, sizeof(auth), &d, "GET", target, clock_now_ms());
	fx_expect(hc, &rp, "GET", target, NULL, auth, 429, "{\"error\":\"too many concurrent waiters for this handle\"}", 5);
	char *body = fx_dm_body(&d, &alice, clock_now_ms(), "wake up");
	int64_t seq = dm(d.handle, body, 200, NULL);
	free(body);
	pthread_join(t, NULL);
	assert_int_equal(w.status, 200);
	char pre[64], tail[64];
	snprintf(pre, sizeof(pre), "{\"messages\":[{\"seq\":%lld,", (long long)seq);
	snprintf(tail, sizeof(tail), "}],\"last_seq\":%lld}", (long long)seq); /* no has_more */
	assert_int_equal(strncmp(w.body, pre, strlen(pre)), 0);
	assert_string_equal(w.body + strlen(w.body) - strlen(tail), tail);
	free(w.body);
	/* a timeout answers with the caller's after */
	int64_t t0 = clock_mono_ms();
	struct http_resp r;
	inbox(&d, d.handle, seq, 1, &r);
	assert_int_equal(r.status, 200);
	char want[64];
	snprintf(want, sizeof(want), "{\"messages\":[],\"last_seq\":%lld}", (long long)seq);
	assert_string_equal(r.body, want);
	assert_true(clock_mono_ms() - t0 >= 900);
	http_resp_free(&r);
	http_client_free(w.c);
}

/* CAP-2: parked room waits, claims and inbox waits share WAITER_CAP_PER_IP (3 here). */
static void test_ip_waiter_cap(void **state)
{
	struct crypto_identity ids[4];
	struct waiter w[3];
	pthread_t t[3];
	long long parked = fx_metric(hc, &rp, "dm_waits_total");
	for (int i = 0; i < 4; i++) {
		fx_identity(&ids[i], "cap");
		fx_register(hc, &rp, &ids[i]);
	}
	for (int i = 0; i < 3; i++) {
		w[i] = (struct waiter){&ids[i], 0, 30, 0, NULL, http_client_new(NULL)};
		assert_int_equal(pthread_create(&t[i], NULL, wait_thread, &w[i]), 0);
	}
	await_parked(parked + 3);
	char target[160], auth[320];
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=0&timeout=1", ids[3].handle);
	fx_auth(auth, sizeof(auth), &ids[3], "GET", target, clock_now_ms());
	fx_expect(hc, &rp, "GET", target, NULL, auth, 429, "{\"error\":\"too many concurrent waiters from this IP\"}", 5);
	for (int i = 0; i < 3; i++) {
		char *body = fx_dm_body(&ids[i], NULL, 0, "wake");
		dm(ids[i].handle, body, 200, NULL);
		free(body);
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].status, 200);
		free(w[i].body);
		http_client_free(w[i].c);
	}
	/* all slots were released exactly once: a waiter parks again */
	struct http_resp r;
	inbox(&ids[3], ids[3].handle, 0, 1, &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
}

/* DM-7e pages of 50 and DM-9 deletes. */
static void test_pages_and_delete(void **state)
{
	struct crypto_identity e;
	fx_identity(&e, "dme");
	fx_register(hc, &rp, &e);
	char *body = fx_dm_body(&e, NULL, 0, "m");
	int64_t first = 0;
	for (int i = 0; i < 60; i++) {
		int64_t s = dm(e.handle, body, 200, NULL);
		if (!first)
			first = s;
		assert_int_equal(s, first + i);
	}
	free(body);
	struct http_resp r;
	inbox(&e, e.handle, 0, 30, &r);
	cJSON *j = json_parse(r.body, r.body_len, 32, true);
	assert_int_equal(cJSON_GetArraySize(json_get(j, "messages")), 50);
	assert_int_equal((int64_t)json_get(j, "last_seq")->valuedouble, first + 49);
	assert_true(cJSON_IsTrue(json_get(j, "has_more")));
	char id[37];
	snprintf(id, sizeof(id), "%s", json_get(cJSON_GetArrayItem(json_get(j, "messages"), 0), "id")->valuestring);
	cJSON_Delete(j);
	http_resp_free(&r);
	inbox(&e, e.handle, first + 49, 30, &r);
	j = json_parse(r.body, r.body_len, 32, true);
	assert_int_equal(cJSON_GetArraySize(json_get(j, "messages")), 10);
	assert_true(cJSON_IsFalse(json_get(j, "has_more")));
	cJSON_Delete(j);
	http_resp_free(&r);
	/* DM-9: signed over DELETE <path as sent> */
	char target[160], auth[320];
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/%s", e.handle, id);
	fx_auth(auth, sizeof(auth), &e, "DELETE", target, clock_now_ms());
	fx_expect(hc, &rp, "DELETE", target, NULL, auth, 200, "{\"ok\":true,\"removed\":1}", 0);
	fx_auth(auth, sizeof(auth), &e, "DELETE", target, clock_now_ms());
	fx_expect(hc, &rp, "DELETE", target, NULL, auth, 200, "{\"ok\":true,\"removed\":0}", 0);
	inbox(&e, e.handle, 0, 30, &r);
	j = json_parse(r.body, r.body_len, 32, true);
	assert_int_equal((int64_t)cJSON_GetArrayItem(json_get(j, "messages"), 0)->child->valuedouble, first + 1);
	cJSON_Delete(j);
	http_resp_free(&r);
	/* no inbox at all: removed 0 */
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/%s", alice.handle, id);
	fx_auth(auth, sizeof(auth), &alice, "DELETE", target, clock_now_ms());
	fx_expect(hc, &rp, "DELETE", target, NULL, auth, 200, "{\"ok\":true,\"removed\":0}", 0);
}

/* DM-1b / DM-7c: the rate limits, before registration (send) and before auth (inbox). */
static void test_rate_limits(void **state)
{
	struct relay_proc small;
	const char *args[] = {"--room-rl-cap", "2", "--room-rl-refill-per-sec", "0.001", NULL};
	assert_int_equal(fx_start(&small, args), 0);
	fx_register(hc, &small, &alice);
	for (int i = 0; i < 2; i++)
		fx_expect(hc, &small, "POST", "/api/dm/nobody-registered", "{}", NULL, 404, "{\"error\":\"no such handle\"}", 0);
	fx_expect(hc, &small, "POST", "/api/dm/nobody-registered", "{}", NULL, 429, "{\"error\":\"rate limited\"}", 1);
	fx_expect(hc, &small, "POST", "/api/dm/@NOBODY-registered", "{}", NULL, 429, "{\"error\":\"rate limited\"}", 1);
	char target[160];
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait", alice.handle);
	for (int i = 0; i < 2; i++)
		fx_expect(hc, &small, "GET", target, NULL, NULL, 401, BAD_AUTH, 0);
	fx_expect(hc, &small, "GET", target, NULL, NULL, 429, "{\"error\":\"rate limited\"}", 5);
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/some-id", alice.handle);
	fx_expect(hc, &small, "DELETE", target, NULL, NULL, 429, "{\"error\":\"rate limited\"}", 5); /* auth:<h> shared */
	assert_int_equal(relay_stop(&small), 0);
}

/* ---- the concurrent run ------------------------------------------------------------------ */

#define SENDERS 20
#define PER_SENDER 25

struct sender {
	struct crypto_identity id;
	char *bodies[PER_SENDER];
	const char *path;
	int ok;
	pthread_barrier_t *go;
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	struct http_client *c = http_client_new(NULL);
	char url[256];
	snprintf(url, sizeof(url), "%s%s", rp.base, s->path);
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	pthread_barrier_wait(s->go);
	for (int i = 0; i < PER_SENDER; i++) {
		struct http_resp r;
		if (http_do(c, "POST", url, hdrs, s->bodies[i], strlen(s->bodies[i]), 30000, &r) == 0) {
			s->ok += r.status == 200;
			http_resp_free(&r);
		}
	}
	http_client_free(c);
	return NULL;
}

/* Run SENDERS threads posting their prepared bodies to path; returns elapsed seconds. */
static double run_senders(struct sender *s, const char *path)
{
	pthread_t t[SENDERS];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, SENDERS + 1);
	for (int i = 0; i < SENDERS; i++) {
		s[i].path = path;
		s[i].ok = 0;
		s[i].go = &go;
		assert_int_equal(pthread_create(&t[i], NULL, send_thread, &s[i]), 0);
	}
	pthread_barrier_wait(&go);
	int64_t t0 = clock_mono_ns();
	for (int i = 0; i < SENDERS; i++)
		pthread_join(t[i], NULL);
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	pthread_barrier_destroy(&go);
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(s[i].ok, PER_SENDER);
	return secs;
}

/* 20 concurrent senders x 25 signed DMs to one inbox: exactly 500 envelopes, all from_verified,
 * seqs strictly increasing without gaps (INV-9), 25 from each sender. */
static void test_concurrent_signed_dms(void **state)
{
	static struct sender s[SENDERS];
	struct crypto_identity inboxid;
	fx_identity(&inboxid, "sink");
	fx_register(hc, &rp, &inboxid);
	for (int i = 0; i < SENDERS; i++) {
		fx_identity(&s[i].id, "snd");
		fx_register(hc, &rp, &s[i].id);
		for (int k = 0; k < PER_SENDER; k++) {
			char plain[32];
			snprintf(plain, sizeof(plain), "%d/%d", i, k);
			s[i].bodies[k] = fx_dm_body(&inboxid, &s[i].id, clock_now_ms(), plain);
		}
	}
	char path[96];
	snprintf(path, sizeof(path), "/api/dm/%s", inboxid.handle);
	double secs = run_senders(s, path);
	printf("[ PERF     ] %d signed DMs from %d concurrent senders in %.3f s: %.0f DM/s\n", SENDERS * PER_SENDER,
	       SENDERS, secs, SENDERS * PER_SENDER / secs);

	/* read the inbox in pages */
	int64_t after = 0, prev = 0;
	int total = 0, per[SENDERS] = {0};
	for (;;) {
		struct http_resp r;
		inbox(&inboxid, inboxid.handle, after, 1, &r);
		assert_int_equal(r.status, 200);
		cJSON *j = json_parse(r.body, r.body_len, 32, true);
		cJSON *msgs = json_get(j, "messages");
		int n = cJSON_GetArraySize(msgs);
		for (int i = 0; i < n; i++) {
			cJSON *e = cJSON_GetArrayItem(msgs, i);
			int64_t seq = (int64_t)json_get(e, "seq")->valuedouble;
			if (prev)
				assert_int_equal(seq, prev + 1); /* strictly increasing, no gaps */
			prev = seq;
			assert_true(cJSON_IsTrue(json_get(e, "from_verified")));
			const char *from = json_get(e, "from_handle")->valuestring;
			for (int k = 0; k < SENDERS; k++)
				per[k] += strcmp(from, s[k].id.handle) == 0;
			total++;
		}
		bool more = n > 0 && cJSON_IsTrue(json_get(j, "has_more"));
		if (n > 0)
			after = (int64_t)json_get(j, "last_seq")->valuedouble;
		cJSON_Delete(j);
		http_resp_free(&r);
		if (!more)
			break;
	}
	assert_int_equal(total, SENDERS * PER_SENDER);
	for (int k = 0; k < SENDERS; k++)
		assert_int_equal(per[k], PER_SENDER);
	for (int i = 0; i < SENDERS; i++)
		for (int k = 0; k < PER_SENDER; k++)
			free(s[i].bodies[k]);

	/* the same shape for signed room posts, into one room */
	for (int i = 0; i < SENDERS; i++)
		for (int k = 0; k < PER_SENDER; k++)
			s[i].bodies[k] = fx_room_body(&s[i].id, NULL, "PERFROOM", clock_now_ms(), NULL, NULL);
	secs = run_senders(s, "/api/rooms/PERFROOM/messages");
	printf("[ PERF     ] %d signed room posts from %d concurrent senders in %.3f s: %.0f posts/s\n",
	       SENDERS * PER_SENDER, SENDERS, secs, SENDERS * PER_SENDER / secs);
	struct http_resp r;
	fx_do(hc, &rp, "GET", "/api/rooms/PERFROOM/transcript?limit=500", NULL, NULL, &r);
	cJSON *j = json_parse(r.body, r.body_len, 32, true);
	assert_int_equal((int)json_get(j, "count")->valuedouble, SENDERS * PER_SENDER);
	cJSON *msgs = json_get(j, "messages");
	for (int i = 0; i < SENDERS * PER_SENDER; i++)
		assert_true(cJSON_IsTrue(json_get(cJSON_GetArrayItem(msgs, i), "sender_verified")));
	cJSON_Delete(j);
	http_resp_free(&r);
	for (int i = 0; i < SENDERS; i++)
		for (int k = 0; k < PER_SENDER; k++)
			free(s[i].bodies[k]);
	fflush(stdout);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_and_read),
		cmocka_unit_test(test_send_errors),
		cmocka_unit_test(test_inbox_auth),
		cmocka_unit_test(test_long_poll),
		cmocka_unit_test(test_ip_waiter_cap),
		cmocka_unit_test(test_pages_and_delete),
		cmocka_unit_test(test_rate_limits),
		cmocka_unit_test(test_concurrent_signed_dms),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
