/* Envelopes of PROTOCOL.md §18: room messages (CRYPTO-2) and DMs (CRYPTO-4). Exact §18.1
 * outputs, round trips with random keys, and every way an open must fail. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/identity.h"

#define ROOM_CT	   "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK/31A/"
#define ROOM_NONCE "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3"
#define DM_CT	   "R2izO574GUTOdq3UAWZDBoKqoj+bJw=="
#define DM_NONCE   "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH"
#define DM_EPH	   "2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y="

static int setup(void **state)
{
	return crypto_init();
}

static void seq(unsigned char *out, size_t n, unsigned first)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(first + i);
}

/* bob of §18.1: X25519 secret 60..7f */
static void bob_identity(struct crypto_identity *id)
{
	unsigned char ed[32], x[32];

	seq(ed, 32, 0x40);
	seq(x, 32, 0x60);
	assert_int_equal(crypto_identity_from_seeds(id, "bob", ed, x), 0);
}

/* ---- CRYPTO-2 ------------------------------------------------------------------------- */

static void test_room_18_1(void **state)
{
	unsigned char key[32], nonce[24];
	char nonce_b64[33], *ct = NULL, *plain = NULL;
	size_t plain_len = 0;

	seq(key, 32, 0x80);
	seq(nonce, 24, 0xa0);
	assert_int_equal(env_room_seal_with_nonce(key, nonce, "hello, room", 11, &ct, nonce_b64),
			 0);
	assert_string_equal(ct, ROOM_CT);
	assert_string_equal(nonce_b64, ROOM_NONCE);
	free(ct);

	assert_int_equal(
		env_room_open(key, ROOM_CT, strlen(ROOM_CT), ROOM_NONCE, 32, &plain, &plain_len),
		0);
	assert_int_equal(plain_len, 11);
	assert_string_equal(plain, "hello, room");
	free(plain);
}

static void test_room_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 4096, 131072, 200000 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char key[32];
		char nonce_b64[33], nonce2[33], *msg = malloc(sizes[i] + 1), *ct = NULL,
						*ct2 = NULL;
		char *plain = NULL;
		size_t plain_len = 0;

		assert_non_null(msg);
		randombytes_buf(msg, sizes[i]);
		env_room_key_new(key);
		assert_int_equal(env_room_seal(key, msg, sizes[i], &ct, nonce_b64), 0);
		/* CRYPTO-2 wire form: base64 of tag + message, 32-char nonce */
		assert_int_equal(strlen(ct), (sizes[i] + 16 + 2) / 3 * 4);
		assert_int_equal(strlen(nonce_b64), ENV_NONCE_B64_LEN);
		assert_int_equal(env_room_open(key, ct, strlen(ct), nonce_b64, strlen(nonce_b64),
					       &plain, &plain_len),
				 0);
		assert_int_equal(plain_len, sizes[i]);
		assert_memory_equal(plain, msg, sizes[i]);
		assert_int_equal(plain[plain_len], '\0');
		/* a second seal uses a fresh nonce */
		assert_int_equal(env_room_seal(key, msg, sizes[i], &ct2, nonce2), 0);
		assert_string_not_equal(nonce_b64, nonce2);
		assert_string_not_equal(ct, ct2);
		free(plain);
		free(ct);
		free(ct2);
		free(msg);
	}
}

/* Every failing open returns -1 and leaves *plain and *plain_len untouched. */
static void expect_room_open_fails(const unsigned char key[32], const char *ct, size_t ct_len,
				   const char *nonce, size_t nonce_len)
{
	char sentinel = 0, *plain = &sentinel;
	size_t plain_len = 12345;

	assert_int_equal(env_room_open(key, ct, ct_len, nonce, nonce_len, &plain, &plain_len), -1);
	assert_ptr_equal(plain, &sentinel);
	assert_int_equal(plain_len, 12345);
}

static void test_room_open_failures(void **state)
{
	unsigned char key[32], other[32];
	char ct[64], nonce[40];
	size_t ct_len = strlen(ROOM_CT);

	seq(key, 32, 0x80);
	seq(other, 32, 0x81);
	/* wrong key; wrong nonce; nonce of 21, 27 and 0 bytes */
	expect_room_open_fails(other, ROOM_CT, ct_len, ROOM_NONCE, 32);
	expect_room_open_fails(key, ROOM_CT, ct_len, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 32);
	expect_room_open_fails(key, ROOM_CT, ct_len, ROOM_NONCE, 28);
	expect_room_open_fails(key, ROOM_CT, ct_len, ROOM_NONCE "AAAA", 36);
	expect_room_open_fails(key, ROOM_CT, ct_len, "", 0);
	expect_room_open_fails(key, ROOM_CT, ct_len, NULL, 0);
	/* truncated; 15 bytes (shorter than the tag); empty; not base64 */
	expect_room_open_fails(key, ROOM_CT, ct_len - 4, ROOM_NONCE, 32);
	expect_room_open_fails(key, "AAAAAAAAAAAAAAAAAAAA", 20, ROOM_NONCE, 32);
	expect_room_open_fails(key, "", 0, ROOM_NONCE, 32);
	expect_room_open_fails(key, NULL, 0, ROOM_NONCE, 32);
	expect_room_open_fails(key, "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK/31A*", ct_len, ROOM_NONCE, 32);

	/* flip one base64 character anywhere in the ciphertext (tag or body): tampered */
	for (size_t i = 0; i < ct_len; i++) {
		memcpy(ct, ROOM_CT, ct_len + 1);
		ct[i] = ct[i] == 'A' ? 'B' : 'A';
		expect_room_open_fails(key, ct, ct_len, ROOM_NONCE, 32);
	}
	/* and one nonce character */
	memcpy(nonce, ROOM_NONCE, 33);
	nonce[5] = nonce[5] == 'A' ? 'B' : 'A';
	expect_room_open_fails(key, ROOM_CT, ct_len, nonce, 32);
}

/* Relays forward strings exactly as sent; B64-1 lets a client use '-' and '_'. */
static void test_room_open_url_safe(void **state)
{
	unsigned char key[32];
	char ct[] = ROOM_CT, *plain = NULL;
	size_t plain_len = 0;

	seq(key, 32, 0x80);
	for (char *p = ct; *p; p++)
		*p = *p == '/' ? '_' : *p == '+' ? '-' : *p;
	assert_string_equal(ct, "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK_31A_");
	assert_int_equal(env_room_open(key, ct, strlen(ct), ROOM_NONCE, 32, &plain, &plain_len), 0);
	assert_string_equal(plain, "hello, room");
	free(plain);
	/* slices: bytes after the lengths are ignored */
	assert_int_equal(env_room_open(key, ROOM_CT "\"}", strlen(ROOM_CT), ROOM_NONCE "\",", 32,
				       &plain, &plain_len),
			 0);
	assert_string_equal(plain, "hello, room");
	free(plain);
}

/* ---- CRYPTO-4 ------------------------------------------------------------------------- */

static void test_dm_18_1(void **state)
{
	struct crypto_identity bob;
	unsigned char eph[32], nonce[24];
	char nonce_b64[33], eph_b64[45], *ct = NULL, *plain = NULL;
	size_t plain_len = 0;

	bob_identity(&bob);
	seq(eph, 32, 0x10);
	seq(nonce, 24, 0x30);
	assert_int_equal(
		env_dm_seal_with(bob.box_pk, eph, nonce, "hi bob", 6, &ct, nonce_b64, eph_b64), 0);
	assert_string_equal(eph_b64, DM_EPH);
	assert_string_equal(nonce_b64, DM_NONCE);
	assert_string_equal(ct, DM_CT);
	free(ct);

	assert_int_equal(env_dm_open(bob.box_sk, DM_CT, strlen(DM_CT), DM_NONCE, 32, DM_EPH, 44,
				     &plain, &plain_len),
			 0);
	assert_int_equal(plain_len, 6);
	assert_string_equal(plain, "hi bob");
	free(plain);
}

static void test_dm_round_trip(void **state)
{
	static const size_t sizes[] = { 0, 1, 6, 1000, 131072 };
	struct crypto_identity rcpt, other;

	assert_int_equal(crypto_identity_new(&rcpt, "rcpt"), 0);
	assert_int_equal(crypto_identity_new(&other, "other"), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char nonce[33], eph[45], nonce2[33], eph2[45], *msg = malloc(sizes[i] + 1);
		char *ct = NULL, *ct2 = NULL, *plain = NULL, sentinel = 0;
		size_t plain_len = 0;

		assert_non_null(msg);
		randombytes_buf(msg, sizes[i]);
		assert_int_equal(env_dm_seal(rcpt.box_pk, msg, sizes[i], &ct, nonce, eph), 0);
		assert_int_equal(strlen(ct), (sizes[i] + 16 + 2) / 3 * 4);
		assert_int_equal(strlen(nonce), ENV_NONCE_B64_LEN);
		assert_int_equal(strlen(eph), ENV_KEY_B64_LEN);
		assert_int_equal(env_dm_open(rcpt.box_sk, ct, strlen(ct), nonce, 32, eph, 44,
					     &plain, &plain_len),
				 0);
		assert_int_equal(plain_len, sizes[i]);
		assert_memory_equal(plain, msg, sizes[i]);
		free(plain);
		/* a fresh ephemeral key and nonce every time */
		assert_int_equal(env_dm_seal(rcpt.box_pk, msg, sizes[i], &ct2, nonce2, eph2), 0);
		assert_string_not_equal(eph, eph2);
		assert_string_not_equal(nonce, nonce2);
		/* wrong recipient key */
		plain = &sentinel;
		assert_int_equal(env_dm_open(other.box_sk, ct, strlen(ct), nonce, 32, eph, 44,
					     &plain, &plain_len),
				 -1);
		assert_ptr_equal(plain, &sentinel);
		/* the other envelope's ephemeral key or nonce does not open this one */
		assert_int_equal(env_dm_open(rcpt.box_sk, ct, strlen(ct), nonce, 32, eph2, 44,
					     &plain, &plain_len),
				 -1);
		assert_int_equal(env_dm_open(rcpt.box_sk, ct, strlen(ct), nonce2, 32, eph, 44,
					     &plain, &plain_len),
				 -1);
		assert_ptr_equal(plain, &sentinel);
		free(ct);
		free(ct2);
		free(msg);
	}
}

static void test_dm_open_failures(void **state)
{
	struct crypto_identity bob;
	char ct[64], eph[48], *plain = NULL;
	size_t plain_len = 777, ct_len = strlen(DM_CT);

	bob_identity(&bob);
	for (size_t i = 0; i < ct_len - 2; i++) { /* the last two characters are "==" */
		memcpy(ct, DM_CT, ct_len + 1);
		ct[i] = ct[i] == 'A' ? 'B' : 'A';
		assert_int_equal(env_dm_open(bob.box_sk, ct, ct_len, DM_NONCE, 32, DM_EPH, 44,
					     &plain, &plain_len),
				 -1);
	}
	for (size_t i = 0; i < 42; i += 3) {
		memcpy(eph, DM_EPH, 45);
		eph[i] = eph[i] == 'A' ? 'B' : 'A';
		assert_int_equal(env_dm_open(bob.box_sk, DM_CT, ct_len, DM_NONCE, 32, eph, 44,
					     &plain, &plain_len),
				 -1);
	}
	assert_int_equal(env_dm_open(bob.box_sk, DM_CT, ct_len, DM_NONCE, 32, DM_EPH, 40, &plain,
				     &plain_len),
			 -1); /* 30-byte key */
	assert_int_equal(
		env_dm_open(bob.box_sk, DM_CT, ct_len, DM_NONCE, 32, NULL, 0, &plain, &plain_len),
		-1);
	assert_int_equal(env_dm_open(bob.box_sk, DM_CT, ct_len, DM_NONCE, 31, DM_EPH, 44, &plain,
				     &plain_len),
			 -1);
	assert_int_equal(
		env_dm_open(bob.box_sk, "AAAA", 4, DM_NONCE, 32, DM_EPH, 44, &plain, &plain_len),
		-1);
	/* alice's key (the sender's long-term key) cannot open it either */
	{
		unsigned char alice_x[32];

		seq(alice_x, 32, 0x20);
		assert_int_equal(env_dm_open(alice_x, DM_CT, ct_len, DM_NONCE, 32, DM_EPH, 44,
					     &plain, &plain_len),
				 -1);
	}
	assert_null(plain);
	assert_int_equal(plain_len, 777);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_18_1),
		cmocka_unit_test(test_room_round_trip),
		cmocka_unit_test(test_room_open_failures),
		cmocka_unit_test(test_room_open_url_safe),
		cmocka_unit_test(test_dm_18_1),
		cmocka_unit_test(test_dm_round_trip),
		cmocka_unit_test(test_dm_open_failures),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
