/* Tests for proto/utf16: strict UTF-8, UTF-16 length and truncate(s,n) (§0), U+0000 marker
 * helpers (HTTP-17). Vectors: spec/vectors/utf16.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto/utf16.h"

#include "tv.h"

static size_t num_of(const cJSON *c, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);

	assert_true(cJSON_IsNumber(v));
	return (size_t)v->valuedouble;
}

static void test_utf8_valid_vectors(void **state)
{
	cJSON *doc = load_vectors("utf16.json");
	const cJSON *c;

	cJSON_ArrayForEach(c, section(doc, "utf8_valid")) {
		char b[256];
		size_t n = case_bytes(c, b, sizeof(b));
		bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"));

		if (utf8_valid(b, n) != ok)
			fail_msg("utf8_valid(%s) != %d",
				 cJSON_GetObjectItemCaseSensitive(c, "hex")->valuestring, ok);
	}
	cJSON_Delete(doc);
}

/* Every 1..3 byte sequence checked against a decoder written from RFC 3629's definition. */
static bool ref_valid(const unsigned char *u, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n, k;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((u[i] & 0xe0) == 0xc0) {
			n = 2;
			cp = u[i] & 0x1f;
		} else if ((u[i] & 0xf0) == 0xe0) {
			n = 3;
			cp = u[i] & 0x0f;
		} else if ((u[i] & 0xf8) == 0xf0) {
			n = 4;
			cp = u[i] & 0x07;
		} else {
			return false;
		}
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++) {
			if ((u[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (u[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
			return false; /* overlong */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

static void test_utf8_valid_exhaustive(void **state)
{
	unsigned char b[4];
	unsigned x, y, z;
	size_t valid3 = 0;

	for (x = 0; x < 256; x++) {
		b[0] = (unsigned char)x;
		assert_int_equal(utf8_valid((char *)b, 1), ref_valid(b, 1));
		for (y = 0; y < 256; y++) {
			b[1] = (unsigned char)y;
			assert_int_equal(utf8_valid((char *)b, 2), ref_valid(b, 2));
			for (z = 0; z < 256; z++) {
				b[2] = (unsigned char)z;
				if (utf8_valid((char *)b, 3) != ref_valid(b, 3))
					fail_msg("utf8_valid(%02x %02x %02x)", x, y, z);
				valid3 += ref_valid(b, 3);
			}
		}
	}
	/* Count of valid 3-byte strings: pins the reference itself. ASCII^3 + ASCII x 2-byte x 2
	 * orders + 3-byte chars (U+0800..U+FFFF minus 2048 surrogates). */
	assert_int_equal(valid3, 128 * 128 * 128 + 2 * 128 * 1920 + (0x10000 - 0x800 - 0x800));
	/* 4-byte boundaries. */
	assert_true(utf8_valid("\xf0\x90\x80\x80", 4));
	assert_true(utf8_valid("\xf4\x8f\xbf\xbf", 4));
	assert_false(utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(utf8_valid("\xf0\x8f\xbf\xbf", 4));
	assert_false(utf8_valid("\xf0\x90\x80\xc0", 4));
	/* Only len bytes are read: a valid prefix of an invalid buffer is valid. */
	assert_true(utf8_valid("ab\xff", 2));
	assert_false(utf8_valid("ab\xff", 3));
}

static void test_u16_len_vectors(void **state)
{
	cJSON *doc = load_vectors("utf16.json");
	const cJSON *c;

	cJSON_ArrayForEach(c, section(doc, "u16_len")) {
		char b[256];
		size_t n = case_bytes(c, b, sizeof(b));

		assert_int_equal(u16_len(b, n), num_of(c, "units"));
	}
	cJSON_Delete(doc);
}

static void test_truncate_vectors(void **state)
{
	cJSON *doc = load_vectors("utf16.json");
	const cJSON *c;

	cJSON_ArrayForEach(c, section(doc, "truncate")) {
		char b[256];
		size_t n = case_bytes(c, b, sizeof(b));

		assert_int_equal(u16_truncate(b, n, num_of(c, "n")), num_of(c, "bytes"));
	}
	cJSON_Delete(doc);
}

/* Properties over a mixed string: the cut is a character boundary with <= n units, the largest
 * such, and never splits a pair. */
static void test_truncate_property(void **state)
{
	/* a, é (2 bytes), € (3), 😀 (4), marker C0 80, b, 😀, 😀 */
	static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc0\x80"
				"b\xf0\x9f\x98\x80\xf0\x9f\x98\x80";
	/* units after each whole character, and the byte offsets */
	static const size_t units[] = { 0, 1, 2, 3, 5, 6, 7, 9, 11 };
	static const size_t bytes[] = { 0, 1, 3, 6, 10, 12, 13, 17, 21 };
	size_t len = sizeof(s) - 1, n, k;

	assert_int_equal(u16_len(s, len), 11);
	for (n = 0; n <= 13; n++) {
		size_t want = 0;

		for (k = 0; k < sizeof(units) / sizeof(units[0]); k++)
			if (units[k] <= n)
				want = bytes[k];
		assert_int_equal(u16_truncate(s, len, n), want);
		assert_true(u16_len(s, u16_truncate(s, len, n)) <= n);
	}
	/* n at the high half of a pair: n-1 units (sealroom truncate). */
	assert_int_equal(u16_len(s, u16_truncate(s, len, 4)), 3);
	assert_int_equal(u16_truncate(s, len, SIZE_MAX), len);
}

/* Random mixes of long ASCII runs and multi-byte characters: u16_len and truncate agree with
 * the units counted while building, whatever the alignment of the ASCII runs. */
static void test_len_property(void **state)
{
	static const struct {
		const char *b;
		size_t units;
	} pal[] = {
		{ "\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 }, { "\xf0\x9f\x98\x80", 2 }, { "\xc0\x80", 1 },
	};
	uint64_t x = 0x2545f4914f6cdd1dull;
	char buf[512];
	size_t marks[1024], munits[1024];
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		size_t len = 0, units = 0, nm = 0, k;
		bool marker = false;

		marks[nm] = 0;
		munits[nm++] = 0;
		while (len < 400) {
			size_t run, c;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			run = x % 24;
			for (k = 0; k < run; k++) {
				buf[len++] = (char)('a' + k % 26);
				units++;
				marks[nm] = len;
				munits[nm++] = units;
			}
			c = (x >> 8) % 4;
			marker |= c == 3;
			memcpy(buf + len, pal[c].b, strlen(pal[c].b));
			len += strlen(pal[c].b);
			units += pal[c].units;
			marks[nm] = len;
			munits[nm++] = units;
		}
		assert_int_equal(u16_len(buf, len), units);
		assert_int_equal(utf8_valid(buf, len), !marker);
		/* truncate: the longest character boundary with at most n units. */
		for (k = 0; k < 8; k++) {
			size_t n = (size_t)((x >> (8 * k)) % (units + 2)), want = 0, j;

			for (j = 0; j < nm; j++)
				if (munits[j] <= n)
					want = marks[j];
			assert_int_equal(u16_truncate(buf, len, n), want);
		}
	}
}

/* Counting never reads past len, even for invalid input ending in a lead byte. */
static void test_counting_bounds(void **state)
{
	char *b = malloc(3);

	assert_non_null(b);
	memcpy(b, "a\xf0\x9f", 3);
	/* ASan would flag any read past the 3-byte heap block. */
	assert_int_equal(u16_truncate(b, 3, 10), 3);
	assert_int_equal(u16_truncate(b, 2, 10), 2);
	assert_int_equal(u16_len(b, 3), 3);
	assert_false(utf8_valid(b, 3));
	assert_false(u8_has_nul(b, 3));
	free(b);
	assert_int_equal(u16_len("", 0), 0);
	assert_int_equal(u16_truncate("", 0, 5), 0);
}

static void test_nul_marker(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool has;
		size_t cut;
	} t[] = {
		{ "", 0, false, 0 },
		{ "abc", 3, false, 3 },
		{ "a\xc0\x80" "b", 4, true, 1 },
		{ "\xc0\x80", 2, true, 0 },
		{ "ab\xc0", 3, false, 3 },		  /* lone C0 at the end: not the marker */
		{ "ab\xc0\x81\xc0\x80", 6, true, 4 },	  /* C0 81 is not the marker */
		{ "\xc3\xa9\xc0\x80x", 5, true, 2 },
		{ "a\0b\xc0\x80", 5, true, 1 },	  /* a raw NUL counts too */
		{ "ab\xc0\x80\0", 5, true, 2 },
		{ "abc\xc0\x80", 3, false, 3 },	  /* beyond len */
		{ "ab\xc0\x80", 3, false, 3 },	  /* marker straddles len */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (u8_has_nul(t[i].s, t[i].len) != t[i].has)
			fail_msg("u8_has_nul case %zu", i);
		assert_int_equal(u8_cut_nul(t[i].s, t[i].len), t[i].cut);
	}
	assert_false(u8_has_nul(NULL, 0));
	assert_int_equal(u8_cut_nul(NULL, 0), 0);
	/* The marker is one unit, like the U+0000 it stands for. */
	assert_int_equal(u16_len("a\xc0\x80", 3), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid_vectors),
		cmocka_unit_test(test_utf8_valid_exhaustive),
		cmocka_unit_test(test_u16_len_vectors),
		cmocka_unit_test(test_truncate_vectors),
		cmocka_unit_test(test_truncate_property),
		cmocka_unit_test(test_len_property),
		cmocka_unit_test(test_counting_bounds),
		cmocka_unit_test(test_nul_marker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
