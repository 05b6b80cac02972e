/* it_util — helpers shared by the relay integration tests (relay/tests/it_*.c).
 *
 * Header-only (static inline) because every it_*.c is its own executable and the build globs
 * only *.c files; nothing here is linked into anything else. The helpers assert with cmocka,
 * so call them from the test's main thread only; the it_async_* calls run a request in a
 * thread of their own and must not assert there (results are checked after the join).
 *
 * Every message sent here is a real CRYPTO-2 sealed message (env_room_seal), never a fake
 * base64 string, except where a test deliberately sends a malformed one.
 */
#ifndef SEALROOM_RELAY_TESTS_IT_UTIL_H
#define SEALROOM_RELAY_TESTS_IT_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/http.h"
#include "crypto/envelope.h"
#include "crypto/identity.h"
#include "crypto/ids.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"
#include "testkit/relayproc.h"

#define IT_TIMEOUT_MS 10000     /* transport deadline for one ordinary request */
#define IT_METRICS_TOKEN "it-t0ken"

/* ---- small utilities -------------------------------------------------------------------- */

/* Let the wall clock move (never used to wait for the relay: that is what it_poll is for). */
static inline void it_nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Poll fn(arg) every every_ms until it returns true or timeout_ms passes. */
static inline bool it_poll_every(bool (*fn)(void *arg), void *arg, long timeout_ms, long every_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		if (fn(arg))
			return true;
		if (clock_mono_ms() >= deadline)
			return false;
		it_nap_ms(every_ms);
	}
}

static inline bool it_poll(bool (*fn)(void *arg), void *arg, long timeout_ms)
{
	return it_poll_every(fn, arg, timeout_ms, 5);
}

/* Assert that s starts with prefix. */
static inline void it_prefix(const char *s, const char *prefix)
{
	if (!s || strncmp(s, prefix, strlen(prefix)) != 0)
		fail_msg("want prefix\n  %s\ngot\n  %.400s", prefix, s ? s : "(null)");
}

/* A lower-case RFC 4122 v4 UUID. */
static inline bool it_uuid_ok(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!s || strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!s[i] || !strchr(hex, s[i])) {
			return false;
		}
	}
	return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* Parse JSON text; asserts that it parses. Caller frees with cJSON_Delete(). */
static inline cJSON *it_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("not JSON: %.300s", text);
	return j;
}

/* An integer member of a JSON text (asserts it exists). */
static inline int64_t it_json_int(const char *text, const char *key)
{
	cJSON *j = it_json(text);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
	if (!cJSON_IsNumber(v))
		fail_msg("no number %s in %.300s", key, text);
	int64_t n = (int64_t)v->valuedouble;
	cJSON_Delete(j);
	return n;
}

/* Count non-overlapping occurrences of needle in hay. */
static inline size_t it_count(const char *hay, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += nl)
		n++;
	return n;
}

/* Replace every "last_seen_ms_ago":N in s (in place) by "last_seen_ms_ago":0 after asserting
 * 0 <= N <= max_ms, so presence texts can be compared exactly (PRES-2). */
static inline void it_norm_ago(char *s, long long max_ms)
{
	static const char k[] = "\"last_seen_ms_ago\":";
	for (char *p = strstr(s, k); p; p = strstr(p, k)) {
		p += sizeof(k) - 1;
		char *e = p;
		while (*e >= '0' && *e <= '9')
			e++;
		if (e == p)
			fail_msg("last_seen_ms_ago is not a non-negative integer: %.200s", p);
		long long v = strtoll(p, NULL, 10);
		if (v > max_ms)
			fail_msg("last_seen_ms_ago %lld > %lld", v, max_ms);
		*p = '0';
		memmove(p + 1, e, strlen(e) + 1);
	}
}

/* ---- relay and HTTP ---------------------------------------------------------------------- */

static inline void it_start(struct relay_proc *rp, const char *const *args)
{
	if (relay_start(rp, args) != 0)
		fail_msg("relay did not start");
}

static inline void it_url(char *out, size_t cap, const struct relay_proc *rp, const char *path)
{
	snprintf(out, cap, "%s%s", rp->base, path);
}

/* One request; asserts the transport worked (any status). */
static inline void it_req(struct http_client *hc, const struct relay_proc *rp, const char *method,
			  const char *path, const char *const *hdrs, const char *body, size_t len,
			  struct http_resp *out)
{
	char url[2048];
	it_url(url, sizeof(url), rp, path);
	if (http_do(hc, method, url, hdrs, body, len, IT_TIMEOUT_MS, out) != 0)
		fail_msg("%s %s: transport error: %s", method, path, http_client_error(hc));
}

static inline void it_get(struct http_client *hc, const struct relay_proc *rp, const char *path,
			  struct http_resp *out)
{
	it_req(hc, rp, "GET", path, NULL, NULL, 0, out);
}

/* POST a JSON body (Content-Type: application/json). xff: NULL or an X-Forwarded-For value. */
static inline void it_post_xff(struct http_client *hc, const struct relay_proc *rp, const char *path,
			       const char *body, const char *xff, struct http_resp *out)
{
	char xh[128];
	const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};
	if (xff) {
		snprintf(xh, sizeof(xh), "X-Forwarded-For: %s", xff);
		hdrs[1] = xh;
	}
	it_req(hc, rp, "POST", path, hdrs, body, body ? strlen(body) : 0, out);
}

static inline void it_post(struct http_client *hc, const struct relay_proc *rp, const char *path,
			   const char *body, struct http_resp *out)
{
	it_post_xff(hc, rp, path, body, NULL, out);
}

/* Assert status and the exact body; with retry_after >= 0 also the exact Retry-After header
 * (0: must be absent). Also checks HTTP-18 for JSON answers. */
static inline void it_check(const struct http_resp *r, long status, const char *body, int retry_after)
{
	if (r->status != status || (body && strcmp(r->body, body) != 0))
		fail_msg("got %ld %.400s\nwant %ld %.400s", r->status, r->body, status, body ? body : "(any)");
	if (body && body[0] == '{')
		assert_true(http_header_is(r, "Content-Type", "application/json; charset=utf-8"));
	if (retry_after > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%d", retry_after);
		if (!http_header_is(r, "Retry-After", v))
			fail_msg("want Retry-After: %s on %ld %s", v, status, r->body);
	} else if (retry_after == 0) {
		assert_null(http_header(r, "Retry-After", NULL)); /* HTTP-20: nowhere else */
	}
}

/* Request and check in one go; frees the response. */
static inline void it_expect(struct http_client *hc, const struct relay_proc *rp, const char *method,
			     const char *path, const char *const *hdrs, const char *body, long status,
			     const char *want, int retry_after)
{
	struct http_resp r;
	it_req(hc, rp, method, path, hdrs, body, body ? strlen(body) : 0, &r);
	it_check(&r, status, want, retry_after);
	http_resp_free(&r);
}

static inline void it_expect_post(struct http_client *hc, const struct relay_proc *rp, const char *path,
				  const char *body, long status, const char *want, int retry_after)
{
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	it_expect(hc, rp, "POST", path, hdrs, body, status, want, retry_after);
}

/* GET /api/health answers 200 {"ok":true,...} (the robustness tests call it after every bad
 * input). */
static inline void it_health(struct http_client *hc, const struct relay_proc *rp)
{
	struct http_resp r;
	it_get(hc, rp, "/api/health", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(strncmp(r.body, "{\"ok\":true,\"rooms\":", 19), 0);
	http_resp_free(&r);
}

/* A gauge or counter from GET /api/metrics (the relay must run with --metrics-token
 * IT_METRICS_TOKEN). */
static inline int64_t it_metric(struct http_client *hc, const struct relay_proc *rp, const char *name)
{
	const char *hdrs[] = {"Authorization: Bearer " IT_METRICS_TOKEN, NULL};
	struct http_resp r;
	it_req(hc, rp, "GET", "/api/metrics", hdrs, NULL, 0, &r);
	assert_int_equal(r.status, 200);
	int64_t v = it_json_int(r.body, name);
	http_resp_free(&r);
	return v;
}

/* ---- sealed messages ------------------------------------------------------------------------ */

/* What the test sent, to rebuild the exact relayed JSON. */
struct it_msg {
	int64_t seq;
	char id[37];
	char *ct;                /* malloc'd ciphertext as sent */
	char nonce[33];
	char *plain;             /* malloc'd plaintext */
	int64_t t0, t1;          /* wall clock just before / after the POST */
	const char *sj;          /* expected JSON-escaped label; NULL = "agent" (ROOM-14) */
	const char *tail;        /* expected optional members (",\"ttl_ms\":30000"); NULL = "" */
	bool verified;           /* expected sender_verified (signed messages) */
};

static inline void it_msg_free(struct it_msg *m)
{
	free(m->ct);
	free(m->plain);
	memset(m, 0, sizeof(*m));
}

/* {"ciphertext":"…","nonce":"…"<extra>} for plain sealed with key; extra is "" or starts with
 * a comma (e.g. ",\"sender\":\"bob\""). *m (may be NULL) receives ct, nonce and plain. */
static inline char *it_sealed_body(const unsigned char key[32], const char *plain, const char *extra,
				   struct it_msg *m)
{
	char *ct;
	char nonce[33];
	if (env_room_seal(key, plain, strlen(plain), &ct, nonce) != 0)
		fail_msg("env_room_seal failed");
	size_t cap = strlen(ct) + strlen(extra) + 80;
	char *body = malloc(cap);
	assert_non_null(body);
	snprintf(body, cap, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s}", ct, nonce, extra);
	if (m) {
		memset(m, 0, sizeof(*m));
		m->ct = ct;
		memcpy(m->nonce, nonce, sizeof(nonce));
		m->plain = strdup(plain);
	} else {
		free(ct);
	}
	return body;
}

/* Assert an accepted-post answer, exactly {"ok":true,"id":"<uuid>","seq":<int>} (ROOM-POST-10);
 * returns the seq and copies the id. */
static inline int64_t it_post_answer(const struct http_resp *r, char id[37])
{
	char idb[64] = "";
	long long seq = 0;
	int used = 0;
	if (r->status != 200)
		fail_msg("post: %ld %s", r->status, r->body);
	if (sscanf(r->body, "{\"ok\":true,\"id\":\"%36[^\"]\",\"seq\":%lld}%n", idb, &seq, &used) != 2 ||
	    (size_t)used != r->body_len)
		fail_msg("post answer shape: %s", r->body);
	assert_true(it_uuid_ok(idb));
	if (id)
		memcpy(id, idb, 37);
	return seq;
}

/* Seal plain, POST it to room (extra JSON members as it_sealed_body), assert 200; fills *m
 * (may be NULL) and returns the seq. */
static inline int64_t it_send(struct http_client *hc, const struct relay_proc *rp, const char *room,
			      const unsigned char key[32], const char *plain, const char *extra,
			      struct it_msg *m)
{
	char path[160];
	struct it_msg tmp;
	struct http_resp r;
	memset(&tmp, 0, sizeof(tmp));
	char *body = it_sealed_body(key, plain, extra, &tmp);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	tmp.t0 = clock_now_ms();
	it_post(hc, rp, path, body, &r);
	tmp.t1 = clock_now_ms();
	int64_t seq = tmp.seq = it_post_answer(&r, tmp.id);
	http_resp_free(&r);
	free(body);
	if (m)
		*m = tmp;
	else
		it_msg_free(&tmp);
	return seq;
}

/* The exact relayed JSON of m (ROOM-17/18; this relay always writes the leading
 * "type":"message", which ROOM-17 allows in stored objects). The label and the optional
 * members come from m->sj and m->tail. ts is taken from the relayed text (asserted within
 * [t0, t1]), so the comparison is exact. got need not be NUL-terminated. */
static inline void it_msg_check(const char *got, size_t got_len, const struct it_msg *m)
{
	const char *sender_json = m->sj ? m->sj : "agent";
	const char *tail = m->tail ? m->tail : "";
	char *copy = strndup(got, got_len);
	assert_non_null(copy);
	got = copy;
	cJSON *j = it_json(got);
	cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
	if (!cJSON_IsNumber(ts))
		fail_msg("no ts in %.300s", got);
	int64_t t = (int64_t)ts->valuedouble;
	cJSON_Delete(j);
	if (t < m->t0 || t > m->t1)
		fail_msg("ts %lld outside [%lld, %lld]", (long long)t, (long long)m->t0, (long long)m->t1);
	size_t cap = strlen(m->ct) + strlen(sender_json) + strlen(tail) + 256;
	char *want = malloc(cap);
	assert_non_null(want);
	snprintf(want, cap,
		 "{\"type\":\"message\",\"seq\":%lld,\"id\":\"%s\",\"sender\":\"%s\",\"sender_verified\":%s,"
		 "\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"ts\":%lld%s}",
		 (long long)m->seq, m->id, sender_json, m->verified ? "true" : "false", m->ct, m->nonce,
		 (long long)t, tail);
	if (got_len != strlen(want) || memcmp(got, want, got_len) != 0)
		fail_msg("relayed message differs\n got: %.600s\nwant: %.600s", got, want);
	free(want);
	free(copy);
}

/* Split the array that follows prefix at the start of body (e.g. "{\"messages\":[") into
 * its raw elements (objects or scalars; strings may hold any bytes). Stores at most max
 * element pointers/lengths, returns the count, and points *tail just after the closing ']'.
 * Asserts that body starts with prefix and that the array is well-formed. */
static inline size_t it_split(const char *body, const char *prefix, const char **el, size_t *len,
			      size_t max, const char **tail)
{
	size_t n = 0, pl = strlen(prefix);
	if (strncmp(body, prefix, pl) != 0)
		fail_msg("want prefix %s in %.300s", prefix, body);
	const char *p = body + pl;
	if (*p == ']') {
		*tail = p + 1;
		return 0;
	}
	for (;;) {
		const char *start = p;
		int depth = 0;
		bool str = false;
		for (; *p; p++) {
			if (str) {
				if (*p == '\\')
					p++;
				else if (*p == '"')
					str = false;
			} else if (*p == '"') {
				str = true;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if (*p == '}' || *p == ']') {
				if (depth == 0)
					break;
				depth--;
			} else if (*p == ',' && depth == 0) {
				break;
			}
		}
		if (!*p)
			fail_msg("unterminated array in %.300s", body);
		if (n < max) {
			el[n] = start;
			len[n] = (size_t)(p - start);
		}
		n++;
		if (*p == ']') {
			*tail = p + 1;
			return n;
		}
		p++; /* the comma */
	}
}

/* Check a page answer exactly: prefix, then the messages want[0..n) in order (it_msg_check),
 * then the exact tail text (e.g. ",\"last_seq\":…,\"count\":2,\"exists\":true}"). */
static inline void it_page_check(const char *body, const char *prefix, struct it_msg *const *want,
				 size_t n, const char *tail)
{
	const char **el = calloc(n + 1, sizeof(*el));
	size_t *len = calloc(n + 1, sizeof(*len));
	const char *t;
	assert_true(el && len);
	size_t got = it_split(body, prefix, el, len, n + 1, &t);
	if (got != n)
		fail_msg("want %zu messages, got %zu: %.300s", n, got, body);
	for (size_t i = 0; i < n; i++)
		it_msg_check(el[i], len[i], want[i]);
	if (strcmp(t, tail) != 0)
		fail_msg("tail differs\n got: %s\nwant: %s", t, tail);
	free(el);
	free(len);
}

/* ---- identities and signed room messages (§10.1, §11.3) ----------------------------------- */

/* Register a fresh identity for handle (POST /api/identity/register, SIG-1); asserts 201. */
static inline void it_register(struct http_client *hc, const struct relay_proc *rp, const char *handle,
			       struct crypto_identity *id)
{
	char msg[512], sig[89], body[1024];
	struct http_resp r;
	assert_int_equal(crypto_identity_new(id, handle), 0);
	int64_t ts = clock_now_ms();
	int n = sigstr_register(msg, sizeof(msg), handle, strlen(handle), ts, id->box_pub_b64, 44, id->sign_pub_b64, 44);
	assert_true(n > 0);
	assert_int_equal(crypto_sign_b64(id, msg, (size_t)n, sig), 0);
	snprintf(body, sizeof(body),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"%s\"}",
		 handle, id->box_pub_b64, id->sign_pub_b64, (long long)ts, sig);
	it_post(hc, rp, "/api/identity/register", body, &r);
	if (r.status != 201)
		fail_msg("register %s: %ld %s", handle, r.status, r.body);
	http_resp_free(&r);
}

/* A sealed message signed by id for room (SIG-3): {"ciphertext","nonce","sender_handle",
 * "sender_ts","sender_nonce","sender_sig"<extra>}. *m (may be NULL) as it_sealed_body, with
 * the label "@handle" and verified set. */
static inline char *it_signed_body(const unsigned char key[32], const char *plain, const struct crypto_identity *id,
				   const char *room, const char *extra, struct it_msg *m)
{
	char *ct, nonce[33], sn[25], msg[512], sig[89];
	if (env_room_seal(key, plain, strlen(plain), &ct, nonce) != 0)
		fail_msg("env_room_seal failed");
	crypto_random_nonce_b64url(sn);
	int64_t ts = clock_now_ms();
	int n = sigstr_room_msg(msg, sizeof(msg), room, ts, sn, strlen(sn), ct, strlen(ct));
	assert_true(n > 0);
	assert_int_equal(crypto_sign_b64(id, msg, (size_t)n, sig), 0);
	size_t cap = strlen(ct) + strlen(extra) + 400;
	char *body = malloc(cap);
	assert_non_null(body);
	snprintf(body, cap,
		 "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_handle\":\"%s\",\"sender_ts\":%lld,"
		 "\"sender_nonce\":\"%s\",\"sender_sig\":\"%s\"%s}",
		 ct, nonce, id->handle, (long long)ts, sn, sig, extra);
	if (m) {
		memset(m, 0, sizeof(*m));
		m->ct = ct;
		memcpy(m->nonce, nonce, sizeof(nonce));
		m->plain = strdup(plain);
		m->verified = true;
	} else {
		free(ct);
	}
	return body;
}

/* ---- a request in a thread of its own (parked waits) --------------------------------------- */

struct it_async {
	pthread_t th;
	char url[1024];
	char xff[128];
	struct http_resp resp;
	int rc;                  /* http_do result */
	int64_t start_ms, end_ms;  /* monotonic */
	_Atomic bool done;
	long timeout_ms;
};

static inline void *it_async_main(void *arg)
{
	struct it_async *a = arg;
	struct http_client *hc = http_client_new(NULL);
	const char *hdrs[2] = {NULL, NULL};
	if (a->xff[0])
		hdrs[0] = a->xff;
	a->start_ms = clock_mono_ms();
	a->rc = hc ? http_do(hc, "GET", a->url, hdrs, NULL, 0, a->timeout_ms, &a->resp) : -1;
	a->end_ms = clock_mono_ms();
	http_client_free(hc);
	atomic_store(&a->done, true);
	return NULL;
}

/* Start GET path in a thread. xff: NULL or an X-Forwarded-For value. timeout_ms: the client's
 * transport deadline (a shorter one simulates a client that disconnects). */
static inline void it_async_get(struct it_async *a, const struct relay_proc *rp, const char *path,
				const char *xff, long timeout_ms)
{
	memset(a, 0, sizeof(*a));
	it_url(a->url, sizeof(a->url), rp, path);
	if (xff)
		snprintf(a->xff, sizeof(a->xff), "X-Forwarded-For: %s", xff);
	a->timeout_ms = timeout_ms;
	atomic_init(&a->done, false);
	if (pthread_create(&a->th, NULL, it_async_main, a) != 0)
		fail_msg("pthread_create");
}

static inline bool it_async_is_done(void *arg)
{
	return atomic_load(&((struct it_async *)arg)->done);
}

/* Join; the caller then checks a->rc / a->resp and frees a->resp. */
static inline void it_async_join(struct it_async *a)
{
	pthread_join(a->th, NULL);
}

#endif
