/* lib/crypto primitives: crypto_init, base64 codecs, SHA-256 hex, random ids (§0 UUID,
 * CRYPTO-1, CRYPTO-5), identities and Ed25519 sign/verify (CRYPTO-3, §18.1 keys). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/ids.h"

static int setup(void **state)
{
	return crypto_init();
}

static void hex_to(unsigned char *out, size_t n, const char *hex)
{
	size_t got = 0;

	assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
	assert_int_equal(got, n);
}

/* ---- base64 codecs ---------------------------------------------------------------------- */

static void test_b64_encode_table(void **state)
{
	static const struct {
		const char *bin_hex;
		enum crypto_b64_variant v;
		const char *want;
	} cases[] = {
		{ "", CRYPTO_B64_STD, "" },
		{ "41", CRYPTO_B64_STD, "QQ==" },
		{ "4142", CRYPTO_B64_STD, "QUI=" },
		{ "414243", CRYPTO_B64_STD, "QUJD" },
		{ "fbff", CRYPTO_B64_STD, "+/8=" },
		{ "fbff", CRYPTO_B64_URL, "-_8=" },
		{ "fbff", CRYPTO_B64_URL_NOPAD, "-_8" },
		{ "41", CRYPTO_B64_URL_NOPAD, "QQ" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char bin[8];
		char out[16];
		size_t n = strlen(cases[i].bin_hex) / 2;

		hex_to(bin, n, cases[i].bin_hex);
		assert_int_equal(crypto_b64_len(n, cases[i].v), strlen(cases[i].want));
		assert_int_equal(crypto_b64_encode(out, sizeof(out), bin, n, cases[i].v),
				 (int)strlen(cases[i].want));
		assert_string_equal(out, cases[i].want);
		/* exactly one byte short of the NUL: refused, out untouched */
		memset(out, 'x', sizeof(out));
		assert_int_equal(crypto_b64_encode(out, strlen(cases[i].want), bin, n, cases[i].v),
				 -1);
		assert_int_equal(out[0], 'x');
	}
}

static void test_b64_decode_strict(void **state)
{
	static const struct {
		const char *in;
		enum crypto_b64_variant v;
		int rc;
		const char *want_hex;
	} cases[] = {
		{ "QQ==", CRYPTO_B64_STD, 0, "41" },
		{ "QUJD", CRYPTO_B64_STD, 0, "414243" },
		{ "+/8=", CRYPTO_B64_STD, 0, "fbff" },
		{ "-_8=", CRYPTO_B64_URL, 0, "fbff" },
		{ "-_8", CRYPTO_B64_URL_NOPAD, 0, "fbff" },
		{ "QQ", CRYPTO_B64_STD, -1, NULL },	    /* padding required */
		{ "QQ=", CRYPTO_B64_STD, -1, NULL },	    /* short padding */
		{ "QR==", CRYPTO_B64_STD, -1, NULL },	    /* non-zero trailing bits */
		{ "-_8=", CRYPTO_B64_STD, -1, NULL },	    /* wrong alphabet */
		{ "+/8=", CRYPTO_B64_URL, -1, NULL },	    /* wrong alphabet */
		{ "QQ==", CRYPTO_B64_URL_NOPAD, -1, NULL }, /* padding forbidden */
		{ "QU JD", CRYPTO_B64_STD, -1, NULL },	    /* nothing skipped */
		{ "QUJD=", CRYPTO_B64_STD, -1, NULL },	    /* trailing garbage */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char out[8], want[8];
		size_t n = 99;

		assert_int_equal(crypto_b64_decode(out, sizeof(out), &n, cases[i].in,
						   strlen(cases[i].in), cases[i].v),
				 cases[i].rc);
		if (cases[i].rc == 0) {
			size_t wn = strlen(cases[i].want_hex) / 2;

			hex_to(want, wn, cases[i].want_hex);
			assert_int_equal(n, wn);
			assert_memory_equal(out, want, wn);
		} else {
			assert_int_equal(n, 99); /* untouched */
		}
	}
}

static void test_b64_decode_capacity(void **state)
{
	unsigned char out[3];
	size_t n = 0;

	assert_int_equal(crypto_b64_decode(out, 3, &n, "QUJD", 4, CRYPTO_B64_STD), 0);
	assert_int_equal(n, 3);
	assert_int_equal(crypto_b64_decode(out, 2, &n, "QUJD", 4, CRYPTO_B64_STD), -1);
	/* length-delimited: the rest of the buffer is not read */
	assert_int_equal(crypto_b64_decode(out, 3, &n, "QQ==garbage", 4, CRYPTO_B64_STD), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0x41);
}

static void test_b64_decode_mixed(void **state)
{
	static const struct {
		const char *in;
		int rc;
		const char *want_hex;
	} cases[] = {
		{ "+/8=", 0, "fbff" },
		{ "-_8=", 0, "fbff" },
		{ "-/8=", 0, "fbff" }, /* both alphabets in one string, as B64-1 allows */
		{ "+_8", 0, "fbff" },  /* padding optional */
		{ "QUJD", 0, "414243" },
		{ "", 0, "" },
		{ "QR==", -1, NULL }, /* non-zero trailing bits */
		{ "Q", -1, NULL },
		{ "QQ=", -1, NULL },
		{ "QQ*=", -1, NULL },
		{ "QQ==QQ==", -1, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char out[8], want[8];
		size_t n = 99;

		assert_int_equal(crypto_b64_decode_mixed(out, sizeof(out), &n, cases[i].in,
							 strlen(cases[i].in)),
				 cases[i].rc);
		if (cases[i].rc == 0) {
			size_t wn = strlen(cases[i].want_hex) / 2;

			hex_to(want, wn, cases[i].want_hex);
			assert_int_equal(n, wn);
			assert_memory_equal(out, want, wn);
		} else {
			assert_int_equal(n, 99);
		}
	}
}

/* ---- SHA-256 ------------------------------------------------------------------------------ */

static void test_sha256_known(void **state)
{
	static const struct {
		const char *in, *hex;
	} cases[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		/* SIG-3 of §18.1: the hash of the ciphertext text as sent */
		{ "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK/31A/",
		  "aaf76bad40be65bdd276596a52a30c86f8bb421b3a4250b1152097e8b0fefdba" },
		/* SIG-4 of §18.1: the hash input */
		{ "R2izO574GUTOdq3UAWZDBoKqoj+bJw==|MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH|"
		  "2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y=",
		  "01ace9ae6345387986c9f3e3b59e70b0555f5370197b76fbd4cd2a57ab5b7e32" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[65];

		memset(out, 'x', sizeof(out));
		crypto_sha256_hex(cases[i].in, strlen(cases[i].in), out);
		assert_string_equal(out, cases[i].hex);
	}
}

static void test_sha256_incremental(void **state)
{
	static const char msg[] =
		"R2izO574GUTOdq3UAWZDBoKqoj+bJw==|MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH|"
		"2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y=";
	size_t n = sizeof(msg) - 1;
	char whole[65];

	crypto_sha256_hex(msg, n, whole);
	assert_string_equal(whole,
			    "01ace9ae6345387986c9f3e3b59e70b0555f5370197b76fbd4cd2a57ab5b7e32");
	/* every two-way split, and a zero-length update, give the same digest */
	for (size_t cut = 0; cut <= n; cut++) {
		struct crypto_sha256 h;
		char part[65];

		crypto_sha256_begin(&h);
		crypto_sha256_update(&h, msg, cut);
		crypto_sha256_update(&h, "", 0);
		crypto_sha256_update(&h, msg + cut, n - cut);
		crypto_sha256_final_hex(&h, part);
		assert_string_equal(part, whole);
	}
}

/* ---- ids -------------------------------------------------------------------------------- */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void test_uuid_v4_format(void **state)
{
	char prev[37] = "";

	for (int i = 0; i < 200; i++) {
		char u[37];

		memset(u, 'x', sizeof(u));
		crypto_uuid_v4(u);
		assert_int_equal(strlen(u), 36);
		for (int k = 0; k < 36; k++) {
			if (k == 8 || k == 13 || k == 18 || k == 23)
				assert_int_equal(u[k], '-');
			else
				assert_true(is_lower_hex(u[k]));
		}
		assert_int_equal(u[14], '4');		/* version */
		assert_non_null(strchr("89ab", u[19])); /* RFC 4122 variant */
		assert_string_not_equal(u, prev);
		memcpy(prev, u, sizeof(u));
	}
}

static void test_random_id(void **state)
{
	int seen[256] = { 0 };
	char id[65];

	/* default alphabet (CRYPTO-1), and every character of it eventually appears */
	for (int i = 0; i < 400; i++) {
		memset(id, 'x', sizeof(id));
		crypto_random_id(id, 10, NULL);
		assert_int_equal(strlen(id), 10);
		for (int k = 0; k < 10; k++) {
			assert_non_null(strchr(CRYPTO_ROOM_ALPHABET, id[k]));
			seen[(unsigned char)id[k]]++;
		}
	}
	for (const char *p = CRYPTO_ROOM_ALPHABET; *p; p++)
		assert_true(seen[(unsigned char)*p] > 0);
	assert_int_equal(seen['I'] + seen['O'] + seen['0'] + seen['1'], 0);

	crypto_random_id(id, 6, "");
	assert_int_equal(strlen(id), 6);
	crypto_random_id(id, 64, "ab");
	assert_int_equal(strlen(id), 64);
	assert_int_equal(strspn(id, "ab"), 64);
	crypto_random_id(id, 5, "z");
	assert_string_equal(id, "zzzzz");
	crypto_random_id(id, 0, NULL);
	assert_string_equal(id, "");
}

static void test_random_nonce(void **state)
{
	char prev[25] = "";

	for (int i = 0; i < 100; i++) {
		unsigned char raw[32];
		size_t n = 0;
		char nonce[25];

		memset(nonce, 'x', sizeof(nonce));
		crypto_random_nonce_b64url(nonce);
		assert_int_equal(strlen(nonce), CRYPTO_NONCE_B64URL_LEN);
		/* VAL-6 subset: base64url alphabet, never padded */
		assert_int_equal(strspn(nonce,
					"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789-_"),
				 24);
		assert_int_equal(crypto_b64_decode(raw, sizeof(raw), &n, nonce, 24, CRYPTO_B64_URL),
				 0);
		assert_int_equal(n, 18);
		assert_string_not_equal(nonce, prev);
		memcpy(prev, nonce, sizeof(nonce));
	}
}

/* ---- identities and signatures ------------------------------------------------------------ */

static const struct {
	const char *handle, *ed_seed, *x_sk, *sign_pub, *box_pub;
} idv[] = {
	{ "alice", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
	  "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
	  "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=" },
	{ "bob", "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f",
	  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f",
	  "JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0=",
	  "Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8=" },
};

static void test_identity_from_seeds_18_1(void **state)
{
	for (size_t i = 0; i < sizeof(idv) / sizeof(idv[0]); i++) {
		unsigned char ed[32], x[32], pk[32];
		struct crypto_identity id;
		size_t n = 0;

		hex_to(ed, 32, idv[i].ed_seed);
		hex_to(x, 32, idv[i].x_sk);
		assert_int_equal(crypto_identity_from_seeds(&id, idv[i].handle, ed, x), 0);
		assert_string_equal(id.handle, idv[i].handle);
		assert_string_equal(id.sign_pub_b64, idv[i].sign_pub);
		assert_string_equal(id.box_pub_b64, idv[i].box_pub);
		assert_memory_equal(id.box_sk, x, 32);
		assert_memory_equal(id.sign_sk, ed, 32); /* libsodium layout: seed || pk */
		assert_memory_equal(id.sign_sk + 32, id.sign_pk, 32);
		assert_int_equal(crypto_b64_decode(pk, 32, &n, idv[i].sign_pub, 44, CRYPTO_B64_STD),
				 0);
		assert_memory_equal(pk, id.sign_pk, 32);
		assert_int_equal(crypto_b64_decode(pk, 32, &n, idv[i].box_pub, 44, CRYPTO_B64_STD),
				 0);
		assert_memory_equal(pk, id.box_pk, 32);
	}
}

static void test_identity_handle_rules(void **state)
{
	static const char h32[] = "abcdefghijklmnopqrstuvwxyz012345";
	static const char h33[] = "abcdefghijklmnopqrstuvwxyz0123456";
	unsigned char seed[32] = { 0 };
	struct crypto_identity id, before;

	memset(&id, 0x5a, sizeof(id));
	before = id;
	assert_int_equal(crypto_identity_new(&id, h33), -1);
	assert_memory_equal(&id, &before, sizeof(id));
	assert_int_equal(crypto_identity_new(&id, NULL), -1);
	assert_int_equal(crypto_identity_from_seeds(&id, h33, seed, seed), -1);
	assert_memory_equal(&id, &before, sizeof(id));

	assert_int_equal(crypto_identity_new(&id, h32), 0);
	assert_string_equal(id.handle, h32);
	/* not validated: tests may need identities with invalid handles */
	assert_int_equal(crypto_identity_new(&id, "Not A Handle!"), 0);
	assert_string_equal(id.handle, "Not A Handle!");
	assert_int_equal(crypto_identity_new(&id, ""), 0);
}

static void test_identity_new_random(void **state)
{
	struct crypto_identity a, b;
	unsigned char pk[32];

	assert_int_equal(crypto_identity_new(&a, "alice"), 0);
	assert_int_equal(crypto_identity_new(&b, "alice"), 0);
	assert_memory_not_equal(a.sign_pk, b.sign_pk, 32);
	assert_memory_not_equal(a.box_pk, b.box_pk, 32);
	assert_int_equal(strlen(a.sign_pub_b64), CRYPTO_KEY_B64_LEN);
	assert_int_equal(strlen(a.box_pub_b64), CRYPTO_KEY_B64_LEN);
	/* the pairs belong together */
	assert_int_equal(crypto_scalarmult_base(pk, a.box_sk), 0);
	assert_memory_equal(pk, a.box_pk, 32);
	assert_memory_equal(a.sign_sk + 32, a.sign_pk, 32);
}

static void test_sign_verify(void **state)
{
	static const char msg[] = "register alice 1767225600000 "
				  "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ= "
				  "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
	static const char want[] =
		"VrO9FesEsommSr3cIeTHRdd1K14wYYo8XVyRdyEt/8R1t4fY6om0PlL829Snxy8u"
		"ZbOn9q2cPu9GOixdwR4TDA==";
	unsigned char ed[32], x[32], sig[64], sig2[64];
	struct crypto_identity alice, bob;
	char b64[89];
	size_t n = 0, len = sizeof(msg) - 1;

	hex_to(ed, 32, idv[0].ed_seed);
	hex_to(x, 32, idv[0].x_sk);
	assert_int_equal(crypto_identity_from_seeds(&alice, "alice", ed, x), 0);
	hex_to(ed, 32, idv[1].ed_seed);
	hex_to(x, 32, idv[1].x_sk);
	assert_int_equal(crypto_identity_from_seeds(&bob, "bob", ed, x), 0);

	/* §18.1 register_sig (Ed25519 is deterministic) */
	assert_int_equal(crypto_sign_b64(&alice, msg, len, b64), 0);
	assert_string_equal(b64, want);
	assert_int_equal(strlen(b64), CRYPTO_SIG_B64_LEN);
	assert_int_equal(crypto_sign_raw(&alice, msg, len, sig2), 0);
	assert_int_equal(crypto_b64_decode(sig, 64, &n, want, 88, CRYPTO_B64_STD), 0);
	assert_memory_equal(sig, sig2, 64);

	assert_true(crypto_verify(alice.sign_pk, msg, len, sig));
	assert_false(crypto_verify(bob.sign_pk, msg, len, sig));       /* other key */
	assert_false(crypto_verify(alice.sign_pk, msg, len - 1, sig)); /* other message */
	for (size_t i = 0; i < 64; i += 7) {
		sig[i] ^= 0x01;
		assert_false(crypto_verify(alice.sign_pk, msg, len, sig)); /* tampered sig */
		sig[i] ^= 0x01;
	}
	assert_true(crypto_verify(alice.sign_pk, msg, len, sig));

	/* empty message */
	assert_int_equal(crypto_sign_raw(&bob, "", 0, sig), 0);
	assert_true(crypto_verify(bob.sign_pk, "", 0, sig));
	assert_false(crypto_verify(alice.sign_pk, "", 0, sig));
}

/* ---- concurrency ------------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 50

/* Each thread uses every stateful-looking API at once; the layer has no shared mutable state,
 * so all rounds succeed (and TSan stays quiet). Returns the number of failed rounds. */
static void *worker(void *arg)
{
	const struct crypto_identity *shared = arg;
	intptr_t failures = 0;

	for (int r = 0; r < ROUNDS; r++) {
		struct crypto_identity id;
		unsigned char key[32], sig[64];
		char uuid[37], nonce[25], nonce_b64[33], *ct = NULL, *plain = NULL;
		size_t plain_len = 0;
		bool ok;

		crypto_uuid_v4(uuid);
		crypto_random_nonce_b64url(nonce);
		env_room_key_new(key);
		ok = crypto_identity_new(&id, "worker") == 0 &&
		     crypto_sign_raw(shared, nonce, 24, sig) == 0 &&
		     crypto_verify(shared->sign_pk, nonce, 24, sig) &&
		     env_room_seal(key, uuid, 36, &ct, nonce_b64) == 0 &&
		     env_room_open(key, ct, strlen(ct), nonce_b64, 32, &plain, &plain_len) == 0 &&
		     plain_len == 36 && memcmp(plain, uuid, 36) == 0;
		failures += !ok;
		free(ct);
		free(plain);
	}
	return (void *)failures;
}

static void test_threads(void **state)
{
	struct crypto_identity shared;
	pthread_t t[THREADS];

	assert_int_equal(crypto_identity_new(&shared, "shared"), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, &shared), 0);
	for (int i = 0; i < THREADS; i++) {
		void *failures = (void *)1;

		assert_int_equal(pthread_join(t[i], &failures), 0);
		assert_int_equal((intptr_t)failures, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_encode_table),
		cmocka_unit_test(test_b64_decode_strict),
		cmocka_unit_test(test_b64_decode_capacity),
		cmocka_unit_test(test_b64_decode_mixed),
		cmocka_unit_test(test_sha256_known),
		cmocka_unit_test(test_sha256_incremental),
		cmocka_unit_test(test_uuid_v4_format),
		cmocka_unit_test(test_random_id),
		cmocka_unit_test(test_random_nonce),
		cmocka_unit_test(test_identity_from_seeds_18_1),
		cmocka_unit_test(test_identity_handle_rules),
		cmocka_unit_test(test_identity_new_random),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
