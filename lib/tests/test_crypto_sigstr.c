/* Signed strings of PROTOCOL.md §11 (SIG-1..4), checked against the §18.1 worked examples:
 * exact strings, hashes, and the Ed25519 signatures over them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"

#define TS	    INT64_C(1767225600000)
#define ALICE_BOX   "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ="
#define ALICE_SIGN  "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
#define ROOM_CT	    "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK/31A/"
#define ROOM_CT_SHA "aaf76bad40be65bdd276596a52a30c86f8bb421b3a4250b1152097e8b0fefdba"
#define DM_CT	    "R2izO574GUTOdq3UAWZDBoKqoj+bJw=="
#define DM_NONCE    "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH"
#define DM_EPH	    "2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y="
#define DM_HASH	    "01ace9ae6345387986c9f3e3b59e70b0555f5370197b76fbd4cd2a57ab5b7e32"

static struct crypto_identity alice;

static int setup(void **state)
{
	unsigned char ed[32], x[32];

	if (crypto_init() != 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		ed[i] = (unsigned char)i;	  /* 00..1f */
		x[i] = (unsigned char)(0x20 + i); /* 20..3f */
	}
	return crypto_identity_from_seeds(&alice, "alice", ed, x);
}

/* out must equal want; alice's signature over it must be want_sig and must verify. */
static void check_signed(const char *out, int n, const char *want, const char *want_sig)
{
	unsigned char sig[64];
	char b64[89];
	size_t sn = 0;

	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(crypto_sign_b64(&alice, out, (size_t)n, b64), 0);
	assert_string_equal(b64, want_sig);
	assert_int_equal(
		crypto_b64_decode(sig, 64, &sn, want_sig, strlen(want_sig), CRYPTO_B64_STD), 0);
	assert_true(crypto_verify(alice.sign_pk, out, (size_t)n, sig));
}

static void test_sig1_register(void **state)
{
	char out[256];
	int n = sigstr_register(out, sizeof(out), "alice", 5, TS, ALICE_BOX, strlen(ALICE_BOX),
				ALICE_SIGN, strlen(ALICE_SIGN));

	check_signed(
		out, n, "register alice 1767225600000 " ALICE_BOX " " ALICE_SIGN,
		"VrO9FesEsommSr3cIeTHRdd1K14wYYo8XVyRdyEt/8R1t4fY6om0PlL829Snxy8uZbOn9q2cPu9GOix"
		"dwR4TDA==");
}

static void test_sig2_request(void **state)
{
	static const struct {
		const char *method, *target, *nonce, *want, *sig;
	} cases[] = {
		{ "GET", "/api/dm/alice/inbox/wait?after=0&timeout=30", "0NHS09TV1tfY2drb3N3e3-Dh",
		  "GET /api/dm/alice/inbox/wait?after=0&timeout=30 1767225600000 "
		  "0NHS09TV1tfY2drb3N3e3-Dh",
		  "WWFK86HaT0zZjb5ig4r1bl6Lh/Sy9e37pC/hGgzLovuv7D6sZFdX3KFzKcp/MG7d0SnISmwkL5g4UG/"
		  "LWk17CA==" },
		{ "POST", "/api/rooms/ROOM2345/claim?timeout=30&ttl_ms=120000",
		  "4OHi4-Tl5ufo6err7O3u7_Dx",
		  "POST /api/rooms/ROOM2345/claim?timeout=30&ttl_ms=120000 1767225600000 "
		  "4OHi4-Tl5ufo6err7O3u7_Dx",
		  "0Zg7TyNQ25YW00REQzUOUKSSxaSrX+faGjXw/v98j4/RbeQRPt2bR3NtoPTT3NglUsRaKkq/"
		  "sd82j3ch15MuDg==" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[256];
		int n = sigstr_request(out, sizeof(out), cases[i].method, cases[i].target, TS,
				       cases[i].nonce, strlen(cases[i].nonce));

		check_signed(out, n, cases[i].want, cases[i].sig);
	}
}

static void test_sig3_room_msg(void **state)
{
	char out[256];
	int n = sigstr_room_msg(out, sizeof(out), "ROOM2345", TS, "wMHCw8TFxsfIycrLzM3Oz9DR", 24,
				ROOM_CT, strlen(ROOM_CT));

	check_signed(
		out, n, "room-msg ROOM2345 1767225600000 wMHCw8TFxsfIycrLzM3Oz9DR " ROOM_CT_SHA,
		"atujpONZ3h/xpe9ZV7oYHr4KKPisJh1ddW54UPtCng0axtdXs+69drujih7hz7dewbZTD+U0t4VhLa0F"
		"SWLiCw==");
}

static void test_sig4_dm(void **state)
{
	char out[256], hex[65];
	int n;

	sigstr_dm_hash(DM_CT, strlen(DM_CT), DM_NONCE, strlen(DM_NONCE), DM_EPH, strlen(DM_EPH),
		       hex);
	assert_string_equal(hex, DM_HASH);
	crypto_sha256_hex(DM_CT "|" DM_NONCE "|" DM_EPH, strlen(DM_CT "|" DM_NONCE "|" DM_EPH),
			  hex);
	assert_string_equal(hex, DM_HASH);

	n = sigstr_dm(out, sizeof(out), "bob", "alice", 5, TS, DM_CT, strlen(DM_CT), DM_NONCE,
		      strlen(DM_NONCE), DM_EPH, strlen(DM_EPH));
	check_signed(
		out, n, "dm bob alice 1767225600000 " DM_HASH,
		"DyxBf6IENPgqWJhlRA40i1/GOnT0TCReQvAiSbdI+7ncXuxlZ+IT7ORu8ekFX3O/MF93X/cYSuV4EK/p"
		"JZm5Ag==");
}

/* (ptr, len) arguments are slices: bytes past len are never read (JSON/header slices). */
static void test_slices(void **state)
{
	static const char body[] = "alice\"," ALICE_BOX "\"," ALICE_SIGN "\"}";
	static const char hdr[] = "0NHS09TV1tfY2drb3N3e3-Dh,sig=xyz";
	char out[256], a[65], b[65];
	int n;

	n = sigstr_register(out, sizeof(out), body, 5, TS, body + 7, 44, body + 7 + 44 + 2, 44);
	assert_int_equal(n, 29 + 44 + 1 + 44);
	assert_string_equal(out, "register alice 1767225600000 " ALICE_BOX " " ALICE_SIGN);

	n = sigstr_request(out, sizeof(out), "DELETE", "/api/dm/@bob/inbox/x", -42, hdr, 24);
	assert_string_equal(out, "DELETE /api/dm/@bob/inbox/x -42 0NHS09TV1tfY2drb3N3e3-Dh");
	assert_int_equal(n, (int)strlen(out));

	/* the room hash covers exactly ct_len bytes */
	n = sigstr_room_msg(out, sizeof(out), "ROOM2345", 7, "abc", 3, ROOM_CT "trailing",
			    strlen(ROOM_CT));
	assert_string_equal(out, "room-msg ROOM2345 7 abc " ROOM_CT_SHA);
	assert_int_equal(n, (int)strlen(out));

	/* the DM hash separates its parts: moving a byte across '|' changes it */
	sigstr_dm_hash("ab", 2, "c", 1, "d", 1, a);
	sigstr_dm_hash("a", 1, "bc", 2, "d", 1, b);
	assert_string_not_equal(a, b);
	n = sigstr_dm(out, sizeof(out), "bob", "alicexyz", 5, 0, "", 0, "", 0, "", 0);
	crypto_sha256_hex("||", 2, a);
	assert_int_equal(strncmp(out, "dm bob alice 0 ", 15), 0);
	assert_string_equal(out + 15, a);
	assert_int_equal(n, 15 + 64);
}

/* Numbers are plain decimal (SIG-6: a digit string loses leading zeros before it gets here). */
static void test_numbers(void **state)
{
	static const struct {
		int64_t ts;
		const char *want;
	} cases[] = {
		{ 0, "GET / 0 n" },
		{ 1, "GET / 1 n" },
		{ -1, "GET / -1 n" },
		{ INT64_C(9007199254740991), "GET / 9007199254740991 n" },
		{ INT64_MAX, "GET / 9223372036854775807 n" },
		{ INT64_MIN, "GET / -9223372036854775808 n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];

		assert_int_equal(sigstr_request(out, sizeof(out), "GET", "/", cases[i].ts, "n", 1),
				 (int)strlen(cases[i].want));
		assert_string_equal(out, cases[i].want);
	}
}

/* Capacity: exactly len+1 fits; anything smaller is -1. */
static void test_capacity(void **state)
{
	static const char want[] =
		"room-msg ROOM2345 1767225600000 wMHCw8TFxsfIycrLzM3Oz9DR " ROOM_CT_SHA;
	size_t len = sizeof(want) - 1;
	char out[256];

	for (size_t cap = 0; cap <= len + 1; cap++) {
		int n = sigstr_room_msg(cap ? out : NULL, cap, "ROOM2345", TS,
					"wMHCw8TFxsfIycrLzM3Oz9DR", 24, ROOM_CT, strlen(ROOM_CT));

		if (cap == len + 1) {
			assert_int_equal(n, (int)len);
			assert_string_equal(out, want);
		} else {
			assert_int_equal(n, -1);
		}
	}
	assert_int_equal(sigstr_register(out, 30, "alice", 5, TS, "", 0, "", 0), -1);
	assert_int_equal(sigstr_register(out, 31, "alice", 5, TS, "", 0, "", 0), 30);
	assert_string_equal(out, "register alice 1767225600000  ");
	assert_int_equal(sigstr_request(out, 5, "GET", "/x", 1, "n", 1), -1);
	assert_int_equal(sigstr_dm(out, 50, "bob", "alice", 5, TS, "", 0, "", 0, "", 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sig1_register),
		cmocka_unit_test(test_sig2_request),
		cmocka_unit_test(test_sig3_room_msg),
		cmocka_unit_test(test_sig4_dm),
		cmocka_unit_test(test_slices),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_capacity),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
