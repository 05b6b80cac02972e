/* ids_fixture.h — helpers shared by the identity/DM/claim/signed integration tests
 * (it_identity, it_dm, it_claim, it_signed, it_persist): HTTP calls with exact bodies, and
 * the client side of every signed string (SIG-1..4) built with the real crypto layer.
 * Header-only (static inline), included after cmocka.h by exactly one test file each. */
#ifndef SEALROOM_RELAY_TESTS_IDS_FIXTURE_H
#define SEALROOM_RELAY_TESTS_IDS_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "crypto/auth.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/ids.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"
#include "testkit/relayproc.h"

#define FX_BODY_MAX (512 * 1024)
#define FX_WORKERS "256" /* a modest worker budget: test relays run side by side */

/* relay_start() with --worker-threads FX_WORKERS in front of args (NULL-terminated, <= 30). */
static inline int fx_start(struct relay_proc *rp, const char *const *args)
{
	const char *all[34] = {"--worker-threads", FX_WORKERS};
	int n = 2;
	for (; args && args[n - 2] && n < 33; n++)
		all[n] = args[n - 2];
	all[n] = NULL;
	return relay_start(rp, all);
}

/* One request; asserts the transport worked. body NULL = no body. json: add the JSON
 * Content-Type. extra: NULL or one more header line ("Authorization: ..."). */
static inline void fx_do(struct http_client *hc, const struct relay_proc *rp, const char *method, const char *path,
			 const char *body, const char *extra, struct http_resp *out)
{
	char url[4096];
	const char *hdrs[3] = {NULL, NULL, NULL};
	int n = 0;
	if (body)
		hdrs[n++] = "Content-Type: application/json";
	if (extra)
		hdrs[n++] = extra;
	snprintf(url, sizeof(url), "%s%s", rp->base, path);
	int rc = http_do(hc, method, url, hdrs, body, body ? strlen(body) : 0, 100000, out);
	if (rc != 0)
		fprintf(stderr, "transport error: %s\n", http_client_error(hc));
	assert_int_equal(rc, 0);
}

/* Assert status, exact body, and Retry-After (0 = must be absent; HTTP-20). */
static inline void fx_expect(struct http_client *hc, const struct relay_proc *rp, const char *method, const char *path,
			     const char *body, const char *extra, long status, const char *want, int retry_after)
{
	struct http_resp r;
	fx_do(hc, rp, method, path, body, extra, &r);
	if (r.status != status || (want && strcmp(r.body, want) != 0))
		fprintf(stderr, "%s %s: got %ld %s\n", method, path, r.status, r.body);
	assert_int_equal(r.status, status);
	if (want)
		assert_string_equal(r.body, want);
	if (retry_after) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry_after);
		assert_true(http_header_is(&r, "Retry-After", ra));
	} else {
		assert_null(http_header(&r, "Retry-After", NULL));
	}
	http_resp_free(&r);
}

/* SIG-1 registration body, signed with id at ts, with handle/box/sign as given (NULL: id's). */
static inline char *fx_register_body(const struct crypto_identity *id, const char *handle, int64_t ts, const char *box,
				     const char *extra_json)
{
	char msg[256], sig[89];
	char *body = malloc(1024);
	handle = handle ? handle : id->handle;
	box = box ? box : id->box_pub_b64;
	int n = sigstr_register(msg, sizeof(msg), handle, strlen(handle), ts, box, strlen(box), id->sign_pub_b64,
				strlen(id->sign_pub_b64));
	assert_true(n > 0);
	assert_int_equal(crypto_sign_b64(id, msg, (size_t)n, sig), 0);
	snprintf(body, 1024,
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"%s\"%s%s}",
		 handle, box, id->sign_pub_b64, (long long)ts, sig, extra_json ? "," : "", extra_json ? extra_json : "");
	return body;
}

/* Register id; returns registered_at from the 201 answer. */
static inline int64_t fx_register(struct http_client *hc, const struct relay_proc *rp, const struct crypto_identity *id)
{
	struct http_resp r;
	char *body = fx_register_body(id, NULL, clock_now_ms(), NULL, NULL);
	fx_do(hc, rp, "POST", "/api/identity/register", body, NULL, &r);
	free(body);
	if (r.status != 201)
		fprintf(stderr, "register %s: %ld %s\n", id->handle, r.status, r.body);
	assert_int_equal(r.status, 201);
	char pre[96];
	int n = snprintf(pre, sizeof(pre), "{\"ok\":true,\"handle\":\"%s\",\"registered_at\":", id->handle);
	assert_int_equal(strncmp(r.body, pre, (size_t)n), 0);
	long long at = atoll(r.body + n);
	assert_true(at > 0);
	http_resp_free(&r);
	return at;
}

/* "Authorization: SafeBot ts=…,n=…,sig=…" for method + target, signed by id at ts. */
static inline void fx_auth(char *out, size_t cap, const struct crypto_identity *id, const char *method,
			   const char *target, int64_t ts)
{
	int n = snprintf(out, cap, "Authorization: ");
	assert_true(auth_header(out + n, cap - (size_t)n, id, method, target, ts, NULL) > 0);
}

/* A signed room message body (SIG-3) with a fresh nonce unless nonce is given; extra_json is
 * appended inside the object (e.g. "\"signed_only\":true"). Returns malloc'd JSON; the room
 * ciphertext is a real secretbox under a throwaway key. */
static inline char *fx_room_body(const struct crypto_identity *id, const char *handle, const char *room, int64_t ts,
				 const char *nonce, const char *extra_json)
{
	unsigned char key[32];
	char *ct, nb64[33], n[25], msg[320], sig[89];
	env_room_key_new(key);
	assert_int_equal(env_room_seal(key, "hello, room", 11, &ct, nb64), 0);
	if (!nonce) {
		crypto_random_nonce_b64url(n);
		nonce = n;
	}
	int len = sigstr_room_msg(msg, sizeof(msg), room, ts, nonce, strlen(nonce), ct, strlen(ct));
	assert_true(len > 0);
	assert_int_equal(crypto_sign_b64(id, msg, (size_t)len, sig), 0);
	char *body = malloc(2048);
	snprintf(body, 2048,
		 "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_handle\":\"%s\",\"sender_ts\":%lld,"
		 "\"sender_nonce\":\"%s\",\"sender_sig\":\"%s\"%s%s}",
		 ct, nb64, handle ? handle : id->handle, (long long)ts, nonce, sig, extra_json ? "," : "",
		 extra_json ? extra_json : "");
	free(ct);
	return body;
}

/* An unsigned room message body. */
static inline char *fx_room_plain(const char *sender, const char *extra_json)
{
	unsigned char key[32];
	char *ct, nb64[33];
	env_room_key_new(key);
	assert_int_equal(env_room_seal(key, "plain", 5, &ct, nb64), 0);
	char *body = malloc(1024);
	snprintf(body, 1024, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s%s%s%s%s}", ct, nb64, sender ? ",\"sender\":\"" : "",
		 sender ? sender : "", sender ? "\"" : "", extra_json ? "," : "", extra_json ? extra_json : "");
	free(ct);
	return body;
}

/* A DM body sealed to `to` (CRYPTO-4); signed by from (SIG-4) unless from is NULL. */
static inline char *fx_dm_body(const struct crypto_identity *to, const struct crypto_identity *from, int64_t ts,
			       const char *plain)
{
	char *ct, nb64[33], eph[45], msg[400], sig[89];
	assert_int_equal(env_dm_seal(to->box_pk, plain, strlen(plain), &ct, nb64, eph), 0);
	char *body = malloc(4096);
	if (!from) {
		snprintf(body, 4096, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"}", ct, nb64, eph);
	} else {
		int n = sigstr_dm(msg, sizeof(msg), to->handle, from->handle, strlen(from->handle), ts, ct, strlen(ct),
				  nb64, strlen(nb64), eph, strlen(eph));
		assert_true(n > 0);
		assert_int_equal(crypto_sign_b64(from, msg, (size_t)n, sig), 0);
		snprintf(body, 4096,
			 "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\",\"from_handle\":\"%s\","
			 "\"from_ts\":%lld,\"from_sig\":\"%s\"}",
			 ct, nb64, eph, from->handle, (long long)ts, sig);
	}
	free(ct);
	return body;
}

/* A fresh identity with a unique handle "<prefix><n>". */
static inline void fx_identity(struct crypto_identity *id, const char *prefix)
{
	static int seq;
	char h[33];
	snprintf(h, sizeof(h), "%s%d", prefix, __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	assert_int_equal(crypto_identity_new(id, h), 0);
}

/* Counter value name from GET /api/metrics (the relay must run with --metrics-token tok). */
static inline long long fx_metric(struct http_client *hc, const struct relay_proc *rp, const char *name)
{
	struct http_resp r;
	char key[96];
	fx_do(hc, rp, "GET", "/api/metrics", NULL, "Authorization: Bearer tok", &r);
	assert_int_equal(r.status, 200);
	snprintf(key, sizeof(key), "\"%s\":", name);
	const char *p = strstr(r.body, key);
	assert_non_null(p);
	long long v = atoll(p + strlen(key));
	http_resp_free(&r);
	return v;
}

#endif
