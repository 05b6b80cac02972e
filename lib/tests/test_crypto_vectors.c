/* spec/vectors/crypto.json and signed_strings.json: the committed files are byte-identical to
 * what sealroom-mkvectors computes now (crypto/vectors.h), and every entry is self-consistent
 * (envelopes open, URLs parse, strings rebuild from their fields, signatures verify), so the
 * files are safe for the conformance runner and other implementations to use. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "crypto/roomurl.h"
#include "crypto/sigstr.h"
#include "crypto/vectors.h"
#include "proto/auth.h"

#define VEC_DIR SEALROOM_SOURCE_DIR "/spec/vectors/"

static int setup(void **state)
{
	return crypto_init();
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static void expect_same(const char *file, char *(*make)(void))
{
	char *committed = read_file(file), *now = make(), *again = make();

	assert_non_null(committed);
	assert_non_null(now);
	assert_string_equal(now, again); /* deterministic */
	if (strcmp(committed, now) != 0)
		fail_msg("%s differs from what sealroom-mkvectors computes now; rerun "
			 "`sealroom-mkvectors spec/vectors` and review the diff",
			 file);
	free(committed);
	free(now);
	free(again);
}

static void test_crypto_json_current(void **state)
{
	expect_same(VEC_DIR "crypto.json", vectors_crypto_json);
}

static void test_signed_strings_json_current(void **state)
{
	expect_same(VEC_DIR "signed_strings.json", vectors_signed_strings_json);
}

/* ---- self-consistency ------------------------------------------------------------------ */

static cJSON *load(const char *name)
{
	char *text = read_file(name);
	cJSON *doc;

	assert_non_null(text);
	doc = cJSON_Parse(text);
	free(text);
	assert_non_null(doc);
	return doc;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		fail_msg("missing string \"%s\"", key);
	return v->valuestring;
}

static int64_t jnum(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("missing number \"%s\"", key);
	return (int64_t)v->valuedouble;
}

static void jhex(unsigned char *out, size_t n, const cJSON *o, const char *key)
{
	const char *hex = jstr(o, key);
	size_t got = 0;

	assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
	assert_int_equal(got, n);
}

static const cJSON *list(const cJSON *doc, const char *key, int want)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, key);

	assert_true(cJSON_IsArray(a));
	assert_int_equal(cJSON_GetArraySize(a), want);
	return a;
}

static void verify_b64(const char *sign_pub, const char *msg, size_t n, const char *sig_b64)
{
	unsigned char pk[32], sig[64];
	size_t got = 0;

	assert_int_equal(
		crypto_b64_decode(pk, 32, &got, sign_pub, strlen(sign_pub), CRYPTO_B64_STD), 0);
	assert_int_equal(crypto_b64_decode(sig, 64, &got, sig_b64, strlen(sig_b64), CRYPTO_B64_STD),
			 0);
	assert_true(crypto_verify(pk, msg, n, sig));
	sig[0] ^= 1;
	assert_false(crypto_verify(pk, msg, n, sig));
}

static void test_crypto_json_consistent(void **state)
{
	cJSON *doc = load(VEC_DIR "crypto.json");
	const cJSON *e;

	cJSON_ArrayForEach(e, list(doc, "identities", 2)) {
		unsigned char ed[32], x[32];
		struct crypto_identity id, id2;

		jhex(ed, 32, e, "ed25519_seed_hex");
		jhex(x, 32, e, "x25519_secret_hex");
		assert_int_equal(crypto_identity_from_seeds(&id, jstr(e, "handle"), ed, x), 0);
		assert_string_equal(id.sign_pub_b64, jstr(e, "sign_pub"));
		assert_string_equal(id.box_pub_b64, jstr(e, "box_pub"));
		assert_int_equal(vectors_identity(&id2, jstr(e, "handle")), 0);
		assert_memory_equal(&id, &id2, sizeof(id));
	}
	cJSON_ArrayForEach(e, list(doc, "room_urls", 2)) {
		unsigned char key[32], want[32];
		char base[64], id[65];
		bool sr = false;

		jhex(want, 32, e, "key_hex");
		assert_int_equal(roomurl_parse(jstr(e, "url"), base, sizeof(base), id, key, &sr),
				 0);
		assert_string_equal(base, jstr(e, "base"));
		assert_string_equal(id, jstr(e, "room_id"));
		assert_memory_equal(key, want, 32);
		assert_int_equal(sr, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "signed")));
		assert_int_equal(strlen(jstr(e, "k")), ROOMURL_KEY_B64_LEN);
	}
	cJSON_ArrayForEach(e, list(doc, "room_messages", 3)) {
		unsigned char key[32];
		const char *ct = jstr(e, "ciphertext"), *nonce = jstr(e, "nonce");
		char *plain = NULL;
		size_t plain_len = 0;

		jhex(key, 32, e, "key_hex");
		assert_int_equal(env_room_open(key, ct, strlen(ct), nonce, strlen(nonce), &plain,
					       &plain_len),
				 0);
		assert_int_equal(plain_len, strlen(jstr(e, "plaintext")));
		assert_string_equal(plain, jstr(e, "plaintext"));
		assert_int_equal(jnum(e, "ciphertext_bytes"), (int64_t)plain_len + 16);
		free(plain);
	}
	cJSON_ArrayForEach(e, list(doc, "dms", 2)) {
		struct crypto_identity to;
		const char *ct = jstr(e, "ciphertext"), *nonce = jstr(e, "nonce"),
			   *eph = jstr(e, "sender_eph_pub");
		unsigned char eph_sk[32], eph_pk[32];
		char *plain = NULL, eph_b64[45];
		size_t plain_len = 0;

		assert_int_equal(vectors_identity(&to, jstr(e, "to")), 0);
		assert_string_equal(to.box_pub_b64, jstr(e, "recipient_box_pub"));
		jhex(eph_sk, 32, e, "eph_secret_hex");
		assert_int_equal(crypto_scalarmult_base(eph_pk, eph_sk), 0);
		crypto_b64_encode(eph_b64, sizeof(eph_b64), eph_pk, 32, CRYPTO_B64_STD);
		assert_string_equal(eph_b64, eph);
		assert_int_equal(env_dm_open(to.box_sk, ct, strlen(ct), nonce, strlen(nonce), eph,
					     strlen(eph), &plain, &plain_len),
				 0);
		assert_string_equal(plain, jstr(e, "plaintext"));
		free(plain);
	}
	cJSON_Delete(doc);
}

static void test_signed_strings_json_consistent(void **state)
{
	cJSON *doc = load(VEC_DIR "signed_strings.json");
	const cJSON *e;
	char s[512], hex[65];
	int n;

	cJSON_ArrayForEach(e, list(doc, "register", 2)) {
		const char *h = jstr(e, "handle"), *bp = jstr(e, "box_pub"),
			   *sp = jstr(e, "sign_pub");

		n = sigstr_register(s, sizeof(s), h, strlen(h), jnum(e, "register_ts"), bp,
				    strlen(bp), sp, strlen(sp));
		assert_string_equal(s, jstr(e, "string"));
		verify_b64(sp, s, (size_t)n, jstr(e, "register_sig"));
	}
	cJSON_ArrayForEach(e, list(doc, "request", 4)) {
		const char *nonce = jstr(e, "n"), *hdr = jstr(e, "authorization");
		struct auth_parsed p;

		n = sigstr_request(s, sizeof(s), jstr(e, "method"), jstr(e, "target"),
				   jnum(e, "ts"), nonce, strlen(nonce));
		assert_string_equal(s, jstr(e, "string"));
		verify_b64(jstr(e, "sign_pub"), s, (size_t)n, jstr(e, "sig"));
		assert_true(auth_parse(hdr, strlen(hdr), &p));
		assert_int_equal(p.ts, jnum(e, "ts"));
		assert_int_equal(p.nonce_len, strlen(nonce));
		assert_memory_equal(p.nonce, nonce, p.nonce_len);
		assert_int_equal(p.sig_len, strlen(jstr(e, "sig")));
		assert_memory_equal(p.sig, jstr(e, "sig"), p.sig_len);
	}
	cJSON_ArrayForEach(e, list(doc, "room_msg", 3)) {
		const char *ct = jstr(e, "ciphertext"), *nonce = jstr(e, "sender_nonce");

		crypto_sha256_hex(ct, strlen(ct), hex);
		assert_string_equal(hex, jstr(e, "ciphertext_sha256"));
		assert_true(auth_nonce_ok(nonce, strlen(nonce))); /* SIG-7 uses VAL-6 */
		n = sigstr_room_msg(s, sizeof(s), jstr(e, "room_id"), jnum(e, "sender_ts"), nonce,
				    strlen(nonce), ct, strlen(ct));
		assert_string_equal(s, jstr(e, "string"));
		verify_b64(jstr(e, "sign_pub"), s, (size_t)n, jstr(e, "sender_sig"));
	}
	cJSON_ArrayForEach(e, list(doc, "dm", 2)) {
		const char *ct = jstr(e, "ciphertext"), *nonce = jstr(e, "nonce"),
			   *eph = jstr(e, "sender_eph_pub");
		const char *in = jstr(e, "hash_input"), *from = jstr(e, "from_handle");

		crypto_sha256_hex(in, strlen(in), hex);
		assert_string_equal(hex, jstr(e, "hash"));
		sigstr_dm_hash(ct, strlen(ct), nonce, strlen(nonce), eph, strlen(eph), hex);
		assert_string_equal(hex, jstr(e, "hash"));
		n = sigstr_dm(s, sizeof(s), jstr(e, "to_handle"), from, strlen(from),
			      jnum(e, "from_ts"), ct, strlen(ct), nonce, strlen(nonce), eph,
			      strlen(eph));
		assert_string_equal(s, jstr(e, "string"));
		verify_b64(jstr(e, "sign_pub"), s, (size_t)n, jstr(e, "from_sig"));
	}
	cJSON_Delete(doc);
}

static void test_identity_names(void **state)
{
	struct crypto_identity id;
	unsigned char b[4];

	assert_int_equal(vectors_identity(&id, "carol"), -1);
	assert_int_equal(vectors_identity(&id, NULL), -1);
	assert_int_equal(vectors_identity(&id, "bob"), 0);
	assert_string_equal(id.sign_pub_b64, "JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0=");
	vectors_seq(b, 4, 0xfe);
	assert_int_equal(b[0], 0xfe);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(b[2], 0x00);
	assert_int_equal(b[3], 0x01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypto_json_current),
		cmocka_unit_test(test_signed_strings_json_current),
		cmocka_unit_test(test_crypto_json_consistent),
		cmocka_unit_test(test_signed_strings_json_consistent),
		cmocka_unit_test(test_identity_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
