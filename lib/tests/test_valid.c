/* Tests for proto/valid: VAL-1..VAL-8 and ROOM-12e. Vectors: spec/vectors/names.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto/valid.h"

#include "tv.h"

static bool case_ok(const cJSON *c)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c, "ok");

	assert_true(cJSON_IsBool(ok));
	return cJSON_IsTrue(ok);
}

/* Runs one boolean validator over a vectors section; returns the number of cases. */
static int run_bool(const char *sec, bool (*fn)(const char *, size_t))
{
	cJSON *doc = load_vectors("names.json");
	const cJSON *c;
	int n = 0;

	cJSON_ArrayForEach(c, section(doc, sec)) {
		/* Heap copy of exactly len bytes: ASan catches any read past the end. */
		char tmp[512], *b;
		size_t len = case_bytes(c, tmp, sizeof(tmp));

		b = malloc(len ? len : 1);
		assert_non_null(b);
		memcpy(b, tmp, len);
		if (fn(b, len) != case_ok(c))
			fail_msg("%s(\"%.*s\") != %d", sec, (int)len, b, case_ok(c));
		free(b);
		n++;
	}
	cJSON_Delete(doc);
	return n;
}

static void test_room_id(void **state)
{
	assert_true(run_bool("room_id", val_room_id) >= 10);
	assert_false(val_room_id(NULL, 0));
	/* Only len bytes count. */
	assert_true(val_room_id("abcd!", 4));
}

static void test_handle_strict(void **state)
{
	assert_true(run_bool("handle_strict", val_handle_strict) >= 10);
	assert_false(val_handle_strict(NULL, 0));
}

static void test_handle_loose(void **state)
{
	assert_true(run_bool("handle_loose", val_handle_loose) >= 10);
	assert_false(val_handle_loose(NULL, 0));
}

static void test_reserved(void **state)
{
	assert_int_equal(run_bool("reserved", val_reserved), 14);
	assert_false(val_reserved(NULL, 0));
	assert_true(val_reserved("admins", 5));
}

static void test_nonce(void **state)
{
	assert_true(run_bool("nonce", val_nonce) >= 8);
	assert_false(val_nonce(NULL, 0));
}

static void test_reply_to(void **state)
{
	assert_true(run_bool("reply_to", val_reply_to) >= 6);
	assert_false(val_reply_to(NULL, 0));
}

/* VAL-5 vectors: validity and, when truncated, the accepted prefix ("out"). */
static void test_presence_name_vectors(void **state)
{
	cJSON *doc = load_vectors("names.json");
	const cJSON *c;
	int n = 0;

	cJSON_ArrayForEach(c, section(doc, "presence_name")) {
		char tmp[512], *b;
		size_t len = case_bytes(c, tmp, sizeof(tmp)), got;
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(c, "out");

		b = malloc(len ? len : 1);
		assert_non_null(b);
		memcpy(b, tmp, len);
		got = val_presence_name(b, len);
		if ((got != 0) != case_ok(c))
			fail_msg("presence_name(\"%.*s\") = %zu, want ok=%d", (int)len, b, got,
				 case_ok(c));
		if (case_ok(c)) {
			const char *want = cJSON_IsString(out) ? out->valuestring : tmp;
			size_t wl = cJSON_IsString(out) ? strlen(out->valuestring) : len;

			assert_int_equal(got, wl);
			assert_memory_equal(b, want, wl);
		}
		free(b);
		n++;
	}
	assert_true(n >= 30);
	cJSON_Delete(doc);
}

/* VAL-5 edge cases spelled out: 64 vs 65 units, astral, U+00A0 / U+009F, forbidden ASCII. */
static void test_presence_name_edges(void **state)
{
	char b[300];
	size_t i;

	memset(b, 'x', sizeof(b));
	assert_int_equal(val_presence_name(b, 64), 64);
	assert_int_equal(val_presence_name(b, 65), 64);
	assert_int_equal(val_presence_name(b, 300), 64);
	/* 63 x + 😀: the pair straddles unit 64 and is dropped. */
	memcpy(b + 63, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(val_presence_name(b, 67), 63);
	/* 62 x + 😀 = 64 units, kept. */
	memset(b, 'x', sizeof(b));
	memcpy(b + 62, "\xf0\x9f\x98\x80", 4);
	assert_int_equal(val_presence_name(b, 66), 66);
	/* Every ASCII byte alone: only A-Z a-z 0-9 @ . _ - pass. */
	for (i = 0; i < 128; i++) {
		char c = (char)i;
		bool want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || c == '@' || c == '.' || c == '_' || c == '-';

		assert_int_equal(val_presence_name(&c, 1) == 1, want);
	}
	/* Every 2-byte character: U+0080..U+009F fail, U+00A0..U+07FF pass. */
	for (i = 0x80; i < 0x800; i++) {
		char u[2] = { (char)(0xc0 | (i >> 6)), (char)(0x80 | (i & 0x3f)) };

		assert_int_equal(val_presence_name(u, 2) == 2, i >= 0xa0);
	}
	assert_int_equal(val_presence_name("a\xc0\x80", 3), 0);	 /* U+0000 marker */
	assert_int_equal(val_presence_name("ab\xe2\x80", 4), 0);	 /* truncated UTF-8 */
	assert_int_equal(val_presence_name(NULL, 0), 0);
	assert_int_equal(val_presence_name("", 0), 0);
}

static void test_skew(void **state)
{
	static const struct {
		int64_t now, ts;
		bool ok;
	} t[] = {
		{ 1767225600000, 1767225600000, true },
		{ 1767225600000, 1767225660000, true },
		{ 1767225600000, 1767225540000, true },
		{ 1767225600000, 1767225660001, false },
		{ 1767225600000, 1767225539999, false },
		{ 1767225600000, 0, false },
		{ 1767225600000, -1767225600000, false },
		{ INT64_MAX, INT64_MIN, false },
		{ INT64_MIN, INT64_MAX, false },
		{ INT64_MIN, INT64_MIN + 60000, true },
		{ INT64_MAX, INT64_MAX - 60001, false },
		{ 0, 60000, true },
		{ 0, -60000, true },
		{ 0, -60001, false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (val_skew(t[i].now, t[i].ts) != t[i].ok)
			fail_msg("val_skew case %zu", i);
}

static void test_lower_ascii(void **state)
{
	char s[] = "AbC-_Z09@\xc3\x89\xc4\xb0xYz";

	val_lower_ascii(s, sizeof(s) - 1);
	/* VAL-8: É (C3 89) and İ (C4 B0) are not folded. */
	assert_string_equal(s, "abc-_z09@\xc3\x89\xc4\xb0xyz");
	/* Only len bytes are touched. */
	memcpy(s, "ABCD", 4);
	val_lower_ascii(s, 2);
	assert_memory_equal(s, "abCD", 4);
	/* VAL-3 after lower-casing: "ALICE" is loose-valid but not strict-valid as given. */
	assert_true(val_handle_loose("ALICE", 5));
	assert_false(val_handle_strict("ALICE", 5));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_room_id),
		cmocka_unit_test(test_handle_strict),
		cmocka_unit_test(test_handle_loose),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_reply_to),
		cmocka_unit_test(test_presence_name_vectors),
		cmocka_unit_test(test_presence_name_edges),
		cmocka_unit_test(test_skew),
		cmocka_unit_test(test_lower_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
