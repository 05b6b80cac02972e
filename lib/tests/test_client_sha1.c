/* SHA-1 (lib/client/sha1) against the RFC 3174 §7.3 test vectors, and the RFC 6455 §1.3
 * Sec-WebSocket-Accept example. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sha1.h"

static void hex(const uint8_t d[SHA1_DIGEST_BYTES], char out[41])
{
	for (int i = 0; i < SHA1_DIGEST_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

struct vec {
	const char *in;
	size_t repeat;
	const char *want;
};

/* RFC 3174 §7.3 TEST1..TEST4 (with their repeat counts) plus the empty message. */
static const struct vec vectors[] = {
	{ "abc", 1, "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
	  "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ "a", 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
	{ "0123456701234567012345670123456701234567012345670123456701234567", 10,
	  "dea356a2cddd90c7a7ecedc5ebb563934f460452" },
	{ "", 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
};

static void test_rfc3174_vectors_incremental(void **state)
{
	for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
		struct sha1_ctx c;
		uint8_t d[SHA1_DIGEST_BYTES];
		char h[41];

		sha1_init(&c);
		for (size_t i = 0; i < vectors[v].repeat; i++)
			sha1_update(&c, vectors[v].in, strlen(vectors[v].in));
		sha1_final(&c, d);
		hex(d, h);
		assert_string_equal(h, vectors[v].want);
	}
}

static void test_rfc3174_vectors_one_shot(void **state)
{
	for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
		size_t l = strlen(vectors[v].in), n = l * vectors[v].repeat;
		char *buf = malloc(n + 1);
		uint8_t d[SHA1_DIGEST_BYTES];
		char h[41];

		assert_non_null(buf);
		for (size_t i = 0; i < vectors[v].repeat; i++)
			memcpy(buf + i * l, vectors[v].in, l);
		sha1(buf, n, d);
		hex(d, h);
		assert_string_equal(h, vectors[v].want);
		free(buf);
	}
}

/* Every split of a 3-block message gives the same digest (block-boundary handling). */
static void test_split_points(void **state)
{
	char msg[200];
	uint8_t whole[SHA1_DIGEST_BYTES], part[SHA1_DIGEST_BYTES];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i * 7 + 1);
	sha1(msg, sizeof(msg), whole);
	for (size_t cut = 0; cut <= sizeof(msg); cut++) {
		struct sha1_ctx c;

		sha1_init(&c);
		sha1_update(&c, msg, cut);
		sha1_update(&c, msg + cut, sizeof(msg) - cut);
		sha1_final(&c, part);
		assert_memory_equal(whole, part, SHA1_DIGEST_BYTES);
	}
	/* Messages of 55, 56 and 64 bytes straddle the padding boundary. */
	for (size_t n = 54; n <= 65; n++) {
		uint8_t a[SHA1_DIGEST_BYTES], b[SHA1_DIGEST_BYTES];
		struct sha1_ctx c;

		sha1(msg, n, a);
		sha1_init(&c);
		for (size_t i = 0; i < n; i++)
			sha1_update(&c, msg + i, 1);
		sha1_final(&c, b);
		assert_memory_equal(a, b, SHA1_DIGEST_BYTES);
	}
}

static void test_ws_accept_rfc6455_example(void **state)
{
	char out[29];

	/* RFC 6455 §1.3 (the value printed in the RFC; cross-checked with Python hashlib). */
	sha1_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	/* A different key gives a different answer. */
	sha1_ws_accept("AQIDBAUGBwgJCgsMDQ4PEA==", out);
	assert_string_not_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(strlen(out), 28);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3174_vectors_incremental),
		cmocka_unit_test(test_rfc3174_vectors_one_shot),
		cmocka_unit_test(test_split_points),
		cmocka_unit_test(test_ws_accept_rfc6455_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
