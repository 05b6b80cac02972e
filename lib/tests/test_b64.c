/* Tests for proto/b64: B64-1..B64-4 vectors (spec/vectors/base64.json) and properties. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto/b64.h"

#include "tv.h"

static const char *str_of(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static size_t unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex) / 2, i;

	assert_true(n <= cap);
	for (i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	return n;
}

/* B64-1 / B64-2 vectors, plus b64_decode_canonical agreeing with b64_canonical. */
static void test_canonical_vectors(void **state)
{
	cJSON *doc = load_vectors("base64.json");
	const cJSON *c;
	int seen = 0;

	cJSON_ArrayForEach(c, section(doc, "canonical")) {
		const char *s = str_of(c, "s");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "n");
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"));
		long want = cJSON_IsNumber(n) ? (long)n->valuedouble : -1;
		unsigned char out[128];
		long got;

		if (b64_canonical(s, strlen(s), want) != ok)
			fail_msg("canonical(\"%s\", %ld) != %d", s, want, ok);
		got = b64_decode_canonical(s, strlen(s), out, sizeof(out));
		if (want < 0 && !ok)
			assert_int_equal(got, -1);
		if (ok) {
			assert_true(got >= 0);
			if (want >= 0)
				assert_int_equal(got, want);
		}
		seen++;
	}
	assert_true(seen >= 40);
	cJSON_Delete(doc);
}

/* B64-3 vectors: byte count and decoded bytes; a short cap gives a prefix. */
static void test_lenient_vectors(void **state)
{
	cJSON *doc = load_vectors("base64.json");
	const cJSON *c;

	cJSON_ArrayForEach(c, section(doc, "lenient")) {
		const char *s = str_of(c, "s");
		size_t want = (size_t)cJSON_GetObjectItemCaseSensitive(c, "bytes")->valuedouble;
		unsigned char exp[128], got[128];
		size_t n = unhex(str_of(c, "hex"), exp, sizeof(exp));

		assert_int_equal(n, want);
		if (b64_lenient_len(s, strlen(s)) != want)
			fail_msg("lenient_len(\"%s\") = %zu, want %zu", s,
				 b64_lenient_len(s, strlen(s)), want);
		assert_int_equal(b64_lenient_decode(s, strlen(s), got, sizeof(got)), want);
		assert_memory_equal(got, exp, want);
		if (want > 1) {
			memset(got, 0xee, sizeof(got));
			assert_int_equal(b64_lenient_decode(s, strlen(s), got, want - 1), want - 1);
			assert_memory_equal(got, exp, want - 1);
			assert_int_equal(got[want - 1], 0xee);
		}
	}
	cJSON_Delete(doc);
}

/* The B64-3 examples, spelled out here too so this test fails if the vectors file drifts. */
static void test_lenient_examples(void **state)
{
	static const struct {
		const char *s;
		size_t bytes;
	} t[] = {
		{ "AAAA=AAAA", 3 }, { "AA!AA", 3 }, { "AAAAA", 3 }, { "QUJ", 2 }, { "Q", 0 },
		{ "", 0 },	    { "=AAAA", 0 }, { "A-_B", 3 },  { "Q\xc3\xa9UJD", 3 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(b64_lenient_len(t[i].s, strlen(t[i].s)), t[i].bytes);
	assert_int_equal(b64_lenient_len(NULL, 0), 0);
	/* Not NUL-terminated: only len bytes count. */
	assert_int_equal(b64_lenient_len("QUJDQUJD", 4), 3);
}

static void test_box_pub_vectors(void **state)
{
	cJSON *doc = load_vectors("base64.json");
	const cJSON *c;

	cJSON_ArrayForEach(c, section(doc, "box_pub_ok")) {
		const char *s = str_of(c, "s");
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"));

		if (b64_box_pub_ok(s, strlen(s)) != ok)
			fail_msg("box_pub_ok(\"%s\") != %d", s, ok);
	}
	assert_false(b64_box_pub_ok(NULL, 0));
	cJSON_Delete(doc);
}

static void test_encode_vectors(void **state)
{
	static const struct {
		const char *key;
		bool url, pad;
	} variants[] = {
		{ "std", false, true },
		{ "url", true, true },
		{ "std_nopad", false, false },
		{ "url_nopad", true, false },
	};
	cJSON *doc = load_vectors("base64.json");
	const cJSON *c;

	cJSON_ArrayForEach(c, section(doc, "encode")) {
		unsigned char in[64];
		size_t n = unhex(str_of(c, "hex"), in, sizeof(in)), v;

		for (v = 0; v < 4; v++) {
			const char *want = str_of(c, variants[v].key);
			size_t wl = strlen(want);
			char out[128];

			assert_int_equal(b64_encoded_len(n, variants[v].pad), wl);
			assert_int_equal(b64_encode(in, n, out, sizeof(out), variants[v].url,
						    variants[v].pad),
					 wl);
			assert_string_equal(out, want);
			/* Exact fit needs room for the NUL; one less fails untouched. */
			memset(out, '#', sizeof(out));
			assert_int_equal(b64_encode(in, n, out, wl + 1, variants[v].url,
						    variants[v].pad),
					 wl);
			assert_string_equal(out, want);
			memset(out, '#', sizeof(out));
			assert_int_equal(b64_encode(in, n, out, wl, variants[v].url,
						    variants[v].pad),
					 0);
			assert_int_equal(out[0], '#');
		}
	}
	cJSON_Delete(doc);
}

/* Deterministic xorshift so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* encode -> canonical -> decode round trip for lengths 0..300, both alphabets. */
static void test_roundtrip_property(void **state)
{
	unsigned char in[300], out[300];
	char enc[512];
	size_t n, rep;

	for (n = 0; n <= 300; n++) {
		for (rep = 0; rep < 4; rep++) {
			bool url = rep & 1;
			size_t i, el;

			for (i = 0; i < n; i++)
				in[i] = (unsigned char)rng();
			/* Padded: canonical with exactly n bytes (B64-1 needs non-empty s). */
			el = b64_encode(in, n, enc, sizeof(enc), url, true);
			assert_int_equal(el, b64_encoded_len(n, true));
			assert_int_equal(b64_canonical(enc, el, (long)n), n > 0);
			assert_false(b64_canonical(enc, el, (long)n + 1));
			assert_true(n == 0 || b64_canonical(enc, el, -1));
			if (n > 0) {
				assert_int_equal(b64_decode_canonical(enc, el, out, sizeof(out)),
						 (long)n);
				assert_memory_equal(in, out, n);
				/* One byte too little room: refused. */
				assert_int_equal(b64_decode_canonical(enc, el, out, n - 1), -1);
			}
			assert_int_equal(b64_lenient_len(enc, el), n);
			assert_int_equal(b64_lenient_decode(enc, el, out, sizeof(out)), n);
			assert_memory_equal(in, out, n);
			/* Unpadded: canonical only when no padding was needed. */
			el = b64_encode(in, n, enc, sizeof(enc), url, false);
			assert_int_equal(el, b64_encoded_len(n, false));
			assert_int_equal(b64_canonical(enc, el, -1), n > 0 && n % 3 == 0);
			assert_int_equal(b64_lenient_len(enc, el), n);
			assert_int_equal(b64_lenient_decode(enc, el, out, sizeof(out)), n);
			assert_memory_equal(in, out, n);
		}
	}
}

/*
 * B64-1 taken literally, as an independent reference: s matches ^[A-Za-z0-9+/_-]*={0,2}$,
 * and s with '-'->'+', '_'->'/' equals the standard padded encoding of its lenient decoding.
 */
static bool ref_canonical(const char *s, size_t len)
{
	unsigned char raw[64];
	char enc[128], mapped[128];
	size_t i, pads = 0, n;

	if (len == 0 || len > 80)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '-' || c == '_';

		if (c == '=') {
			pads++;
		} else if (!alpha || pads) {
			return false;
		}
		mapped[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	if (pads > 2)
		return false;
	n = b64_lenient_decode(s, len, raw, sizeof(raw));
	return b64_encode(raw, n, enc, sizeof(enc), false, true) == len &&
	       memcmp(enc, mapped, len) == 0;
}

/* Every 4-character string over a 68-character set (first char from a subset), compared with
 * the reference; this covers every pad/trailing-bit/alphabet combination of a final quad. */
static void test_canonical_exhaustive_quad(void **state)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=.";
	static const char first[] = "AQg_-=/9";
	size_t a, b, c, d, ns = sizeof(set) - 1, pass = 0;
	char s[8];

	for (a = 0; a < sizeof(first) - 1; a++)
		for (b = 0; b < ns; b++)
			for (c = 0; c < ns; c++)
				for (d = 0; d < ns; d++) {
					bool want;

					s[0] = first[a];
					s[1] = set[b];
					s[2] = set[c];
					s[3] = set[d];
					want = ref_canonical(s, 4);
					if (b64_canonical(s, 4, -1) != want)
						fail_msg("canonical(\"%.4s\") != %d", s, want);
					pass += want;
				}
	/*
	 * 7 first chars are in the alphabet ('=' never starts a quad). Per first char: 66^3 with
	 * no pad (64 + '-' '_'), 66 * 16 with one pad (3rd char value % 4 == 0), 4 with two pads
	 * (A, Q, g, w: value % 16 == 0).
	 */
	assert_int_equal(pass, 7 * (66 * 66 * 66 + 66 * 16 + 4));
	/* Behind a full quad, the final quads behave the same. */
	for (b = 0; b < ns; b++)
		for (c = 0; c < ns; c++) {
			char t[9] = "QUJDAAAA";

			t[6] = set[b];
			t[7] = set[c];
			assert_int_equal(b64_canonical(t, 8, -1), ref_canonical(t, 8));
		}
}

/* Random strings of length 1..40 over a small set (so many are canonical), vs the reference. */
static void test_canonical_random(void **state)
{
	static const char set[] = "AQgw+/-_=A=";
	char s[48];
	size_t iter, i, hits = 0;

	for (iter = 0; iter < 200000; iter++) {
		size_t len = 1 + rng() % 40;

		for (i = 0; i < len; i++)
			s[i] = set[rng() % (sizeof(set) - 1)];
		/* Bias toward well-formed tails. */
		if (iter & 1)
			for (i = 0; i < len; i++)
				if (s[i] == '=' && i + 2 < len)
					s[i] = 'A';
		if (iter & 2)
			len -= len % 4;
		if (len == 0)
			continue;
		assert_int_equal(b64_canonical(s, len, -1), ref_canonical(s, len));
		hits += ref_canonical(s, len);
	}
	assert_true(hits > 1000);
}

/* A maximal ROOM-12b ciphertext (131072 characters) validates, and one bad byte anywhere
 * fails. */
static void test_canonical_large(void **state)
{
	size_t n = 98304, len = 131072, i;
	unsigned char *raw = malloc(n);
	char *enc = malloc(len + 1);

	assert_non_null(raw);
	assert_non_null(enc);
	for (i = 0; i < n; i++)
		raw[i] = (unsigned char)rng();
	assert_int_equal(b64_encode(raw, n, enc, len + 1, false, true), len);
	assert_true(b64_canonical(enc, len, -1));
	assert_true(b64_canonical(enc, len, (long)n));
	for (i = 0; i < len; i += 4099) {
		char saved = enc[i];

		enc[i] = '.';
		assert_false(b64_canonical(enc, len, -1));
		enc[i] = '=';
		assert_false(b64_canonical(enc, len, -1));
		enc[i] = saved;
	}
	assert_true(b64_canonical(enc, len, -1));
	free(raw);
	free(enc);
}

static void test_decode_canonical_errors(void **state)
{
	unsigned char out[8];

	memset(out, 0x5a, sizeof(out));
	assert_int_equal(b64_decode_canonical("AB==", 4, out, sizeof(out)), -1);
	assert_int_equal(b64_decode_canonical("", 0, out, sizeof(out)), -1);
	assert_int_equal(b64_decode_canonical(NULL, 0, out, sizeof(out)), -1);
	assert_int_equal(b64_decode_canonical("QUJD", 4, out, 2), -1);
	assert_int_equal(out[0], 0x5a); /* untouched on failure */
	assert_int_equal(b64_decode_canonical("QUJD", 4, out, 3), 3);
	assert_memory_equal(out, "ABC", 3);
	assert_int_equal(b64_decode_canonical("QQ==", 4, out, 1), 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(b64_decode_canonical("-_8=", 4, out, sizeof(out)), 2);
	assert_int_equal(out[0], 0xfb);
	assert_int_equal(out[1], 0xff);
	assert_false(b64_canonical(NULL, 0, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_vectors),
		cmocka_unit_test(test_lenient_vectors),
		cmocka_unit_test(test_lenient_examples),
		cmocka_unit_test(test_box_pub_vectors),
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_roundtrip_property),
		cmocka_unit_test(test_canonical_exhaustive_quad),
		cmocka_unit_test(test_canonical_random),
		cmocka_unit_test(test_canonical_large),
		cmocka_unit_test(test_decode_canonical_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
