/* Client-side request auth (PROTOCOL.md §11.1, SIG-2, CRYPTO-5): exact §18.1 headers, and a
 * fresh-nonce header that the relay-side parser accepts and whose signature verifies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/auth.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "proto/auth.h"

#define TS INT64_C(1767225600000)

static struct crypto_identity alice;

static int setup(void **state)
{
	unsigned char ed[32], x[32];

	if (crypto_init() != 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		ed[i] = (unsigned char)i;
		x[i] = (unsigned char)(0x20 + i);
	}
	return crypto_identity_from_seeds(&alice, "alice", ed, x);
}

static void test_header_18_1(void **state)
{
	static const struct {
		const char *method, *target, *prefix, *nonce, *want;
	} cases[] = {
		{ "GET", "/api/dm/alice/inbox/wait?after=0&timeout=30", AUTH_PREFIX_SAFEBOT,
		  "0NHS09TV1tfY2drb3N3e3-Dh",
		  "SafeBot "
		  "ts=1767225600000,n=0NHS09TV1tfY2drb3N3e3-Dh,sig=WWFK86HaT0zZjb5ig4r1bl6Lh/"
		  "Sy9e37pC/hGgzLovuv7D6sZFdX3KFzKcp/MG7d0SnISmwkL5g4UG/LWk17CA==" },
		{ "POST", "/api/rooms/ROOM2345/claim?timeout=30&ttl_ms=120000", NULL,
		  "4OHi4-Tl5ufo6err7O3u7_Dx",
		  "SafeBot "
		  "ts=1767225600000,n=4OHi4-Tl5ufo6err7O3u7_Dx,sig=0Zg7TyNQ25YW00REQzUOUKSSxaSr"
		  "X+faGjXw/v98j4/RbeQRPt2bR3NtoPTT3NglUsRaKkq/sd82j3ch15MuDg==" },
		/* AUTH-1 (sealroom): the prefix is not signed, so the sig is the same */
		{ "POST", "/api/rooms/ROOM2345/claim?timeout=30&ttl_ms=120000", AUTH_PREFIX_BOT2BOT,
		  "4OHi4-Tl5ufo6err7O3u7_Dx",
		  "Bot2Bot "
		  "ts=1767225600000,n=4OHi4-Tl5ufo6err7O3u7_Dx,sig=0Zg7TyNQ25YW00REQzUOUKSSxaSr"
		  "X+faGjXw/v98j4/RbeQRPt2bR3NtoPTT3NglUsRaKkq/sd82j3ch15MuDg==" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];
		int n = auth_header_with_nonce(out, sizeof(out), &alice, cases[i].method,
					       cases[i].target, TS, cases[i].prefix,
					       cases[i].nonce);

		assert_int_equal(n, (int)strlen(cases[i].want));
		assert_string_equal(out, cases[i].want);
		/* exact capacity */
		assert_int_equal(auth_header_with_nonce(out, (size_t)n, &alice, cases[i].method,
							cases[i].target, TS, cases[i].prefix,
							cases[i].nonce),
				 -1);
		assert_int_equal(auth_header_with_nonce(out, (size_t)n + 1, &alice, cases[i].method,
							cases[i].target, TS, cases[i].prefix,
							cases[i].nonce),
				 n);
	}
}

/* What the relay does with a fresh header: parse (AUTH-1..3), rebuild SIG-2, verify (AUTH-5). */
static void test_header_fresh_nonce_verifies(void **state)
{
	static const char target[] = "/api/dm/alice/inbox/wait?after=5&timeout=1";
	char prev_nonce[65] = "";

	for (int i = 0; i < 20; i++) {
		struct auth_parsed p;
		unsigned char sig[64];
		char out[256], msg[256];
		size_t sn = 0;
		int n = auth_header(out, sizeof(out), &alice, "GET", target, TS + i, NULL);

		assert_true(n > 0);
		assert_int_equal(strncmp(out, "SafeBot ts=", 11), 0);
		assert_true(auth_parse(out, (size_t)n, &p));
		assert_int_equal(p.ts, TS + i);
		assert_int_equal(p.nonce_len, 24); /* CRYPTO-5 */
		assert_true(auth_nonce_ok(p.nonce, p.nonce_len));
		assert_int_equal(p.sig_len, CRYPTO_SIG_B64_LEN);
		assert_int_equal(crypto_b64_decode(sig, 64, &sn, p.sig, p.sig_len, CRYPTO_B64_STD),
				 0);
		n = sigstr_request(msg, sizeof(msg), "GET", target, p.ts, p.nonce, p.nonce_len);
		assert_true(n > 0);
		assert_true(crypto_verify(alice.sign_pk, msg, (size_t)n, sig));
		/* the signature covers method and target */
		n = sigstr_request(msg, sizeof(msg), "DELETE", target, p.ts, p.nonce, p.nonce_len);
		assert_false(crypto_verify(alice.sign_pk, msg, (size_t)n, sig));
		/* a fresh nonce every time */
		assert_true(p.nonce_len < sizeof(prev_nonce));
		assert_false(strlen(prev_nonce) == p.nonce_len &&
			     memcmp(prev_nonce, p.nonce, p.nonce_len) == 0);
		memcpy(prev_nonce, p.nonce, p.nonce_len);
		prev_nonce[p.nonce_len] = '\0';
	}
}

static void test_header_errors(void **state)
{
	char out[256] = "untouched";

	assert_int_equal(auth_header(out, 20, &alice, "GET", "/x", TS, NULL), -1);
	assert_int_equal(auth_header(out, sizeof(out), &alice, NULL, "/x", TS, NULL), -1);
	assert_int_equal(auth_header(out, sizeof(out), &alice, "GET", NULL, TS, NULL), -1);
	assert_int_equal(
		auth_header_with_nonce(out, sizeof(out), &alice, "GET", "/x", TS, NULL, NULL), -1);
}

/* A long target is signed whole (the SIG-2 string is built on the heap), not truncated. */
static void test_header_long_target(void **state)
{
	static char target[8192], msg[8300];
	struct auth_parsed p;
	unsigned char sig[64];
	char out[256];
	size_t sn = 0;
	int n;

	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	n = auth_header(out, sizeof(out), &alice, "GET", target, TS, AUTH_PREFIX_BOT2BOT);
	assert_true(n > 0);
	assert_int_equal(strncmp(out, "Bot2Bot ts=", 11), 0);
	assert_true(auth_parse(out, (size_t)n, &p));
	assert_int_equal(crypto_b64_decode(sig, 64, &sn, p.sig, p.sig_len, CRYPTO_B64_STD), 0);
	n = sigstr_request(msg, sizeof(msg), "GET", target, p.ts, p.nonce, p.nonce_len);
	assert_true(n > 8191);
	assert_true(crypto_verify(alice.sign_pk, msg, (size_t)n, sig));
	target[8000] = 'b';
	n = sigstr_request(msg, sizeof(msg), "GET", target, p.ts, p.nonce, p.nonce_len);
	assert_false(crypto_verify(alice.sign_pk, msg, (size_t)n, sig));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_18_1),
		cmocka_unit_test(test_header_fresh_nonce_verifies),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_header_long_target),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
