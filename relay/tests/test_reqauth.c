/* Tests for relay/reqauth: AUTH-1..6 on the server side, with the §18.1 vectors and real
 * signatures from the client-side builder (crypto/auth.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/auth.h"
#include "crypto/identity.h"
#include "crypto/vectors.h"
#include "identity.h"
#include "replay.h"
#include "reqauth.h"

#define T VECTORS_TS
#define WAIT "/api/dm/alice/inbox/wait?after=0&timeout=30"
#define CLAIM "/api/rooms/ROOM2345/claim?timeout=30&ttl_ms=120000"

static struct crypto_identity alice, bob;
static struct identity *rec_alice;

static int setup(void **state)
{
	if (crypto_init() < 0 || vectors_identity(&alice, "alice") < 0 || vectors_identity(&bob, "bob") < 0)
		return -1;
	rec_alice = ids_make("alice", 5, alice.box_pub_b64, alice.sign_pub_b64, T, false, "", 0);
	return rec_alice ? 0 : -1;
}

static int teardown(void **state)
{
	ids_record_free(rec_alice);
	return 0;
}

/* §18.1: the published headers verify at their own ts, once each. */
static void test_vectors(void **state)
{
	struct replay *rp = replay_new(100);
	const char *h1 = "SafeBot ts=1767225600000,n=0NHS09TV1tfY2drb3N3e3-Dh,sig=WWFK86HaT0zZjb5ig4r1bl6Lh/Sy9e37pC/hGgzL"
			 "ovuv7D6sZFdX3KFzKcp/MG7d0SnISmwkL5g4UG/LWk17CA==";
	const char *h2 = "SafeBot ts=1767225600000,n=4OHi4-Tl5ufo6err7O3u7_Dx,sig=0Zg7TyNQ25YW00REQzUOUKSSxaSrX+faGjXw/v98"
			 "j4/RbeQRPt2bR3NtoPTT3NglUsRaKkq/sd82j3ch15MuDg==";
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h1, T, 0), REQAUTH_OK);
	assert_int_equal(reqauth_check(rp, rec_alice, "POST", CLAIM, h2, T + 60000, 0), REQAUTH_OK);
	/* AUTH-4: the nonce is now used */
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h1, T, 1), REQAUTH_BAD);
	assert_int_equal(replay_count(rp), 2);
	replay_free(rp);
}

static void hdr(char *out, size_t cap, const struct crypto_identity *id, const char *method, const char *target,
		int64_t ts, const char *prefix, const char *nonce)
{
	assert_true(auth_header_with_nonce(out, cap, id, method, target, ts, prefix, nonce) > 0);
}

/* Every AUTH failure is REQAUTH_BAD; nothing is cached for a failure (REPLAY-2). */
static void test_failures(void **state)
{
	struct replay *rp = replay_new(100);
	char h[512];
	const char *n = "abcdefghijklmnop_-+/=123";
	/* AUTH-1 */
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, NULL, T, 0), REQAUTH_BAD);
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, "Bearer", n);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_BAD);
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, "safebot", n);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_BAD);
	/* VAL-7 skew, both sides, just outside */
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, n);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T + 60001, 0), REQAUTH_BAD);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T - 60001, 0), REQAUTH_BAD);
	/* AUTH-5: wrong key, method, target (query is signed too) */
	hdr(h, sizeof(h), &bob, "GET", WAIT, T, NULL, n);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_BAD);
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, n);
	assert_int_equal(reqauth_check(rp, rec_alice, "DELETE", WAIT, h, T, 0), REQAUTH_BAD);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", "/api/dm/alice/inbox/wait?after=1&timeout=30", h, T, 0),
			 REQAUTH_BAD);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", "/api/dm/@alice/inbox/wait?after=0&timeout=30", h, T, 0),
			 REQAUTH_BAD);
	/* AUTH-3: nonce shape (VAL-6), missing sig */
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, "short");
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_BAD);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, "SafeBot ts=1767225600000,n=abcdefghijklmnopqr,sig=",
				       T, 0), REQAUTH_BAD);
	/* a signature that is not 64 bytes */
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, "SafeBot ts=1767225600000,n=abcdefghijklmnopqr,sig=AAAA",
				       T, 0), REQAUTH_BAD);
	assert_int_equal(replay_count(rp), 0);
	/* and the valid one still passes afterwards, at the edges of the skew window */
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_BAD); /* "short" nonce */
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, n);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T + 60000, 0), REQAUTH_OK);
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, "abcdefghijklmnop_-+/=124");
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T - 60000, 0), REQAUTH_OK);
	replay_free(rp);
}

/* AUTH-1 (sealroom) Bot2Bot; AUTH-2 order and spacing; AUTH-5 lenient sig (URL-safe, no
 * padding). */
static void test_accepted_forms(void **state)
{
	struct replay *rp = replay_new(100);
	char h[512], sig[89], v[512];
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, "Bot2Bot", "nonce-bot2bot-0000000000");
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_OK);
	/* re-order the parts, add spaces and an unknown key, and write the sig URL-safe, unpadded */
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, "nonce-reorder-0000000000");
	const char *s = strstr(h, "sig=") + 4;
	snprintf(sig, sizeof(sig), "%s", s);
	for (char *p = sig; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	*strchr(sig, '=') = '\0';
	snprintf(v, sizeof(v), "SafeBot  sig=%s , x=1,n=nonce-reorder-0000000000,  ts=1767225600000", sig);
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, v, T, 0), REQAUTH_OK);
	replay_free(rp);
}

/* AUTH-6 / REPLAY-3: a verified request into a full cache is refused, never accepted
 * unrecorded. */
static void test_cache_full(void **state)
{
	struct replay *rp = replay_new(1);
	char h[512];
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, "nonce-one-00000000000000");
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 0), REQAUTH_OK);
	hdr(h, sizeof(h), &alice, "GET", WAIT, T, NULL, "nonce-two-00000000000000");
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, 1000), REQAUTH_FULL);
	/* once the first entry expired, the same request passes */
	assert_int_equal(reqauth_check(rp, rec_alice, "GET", WAIT, h, T, REPLAY_RETAIN_MS + 1), REQAUTH_OK);
	replay_free(rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_accepted_forms),
		cmocka_unit_test(test_cache_full),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
