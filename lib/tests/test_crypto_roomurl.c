/* Room URLs (PROTOCOL.md CRYPTO-1): parse and format tables, §18.1 fragment. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "crypto/roomurl.h"

/* §18.1: key bytes 80..9f */
#define K80 "gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp8"
/* key bytes e0..ff: exercises '-' and '_' */
#define KE0 "4OHi4-Tl5ufo6err7O3u7_Dx8vP09fb3-Pn6-_z9_v8"

static int setup(void **state)
{
	return crypto_init();
}

static void seq(unsigned char *out, size_t n, unsigned first)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(first + i);
}

static void test_parse_valid(void **state)
{
	static const struct {
		const char *url, *base, *room_id;
		unsigned key_first;
		bool signed_room;
	} cases[] = {
		{ "https://relay.example/room/ROOM2345#k=" K80, "https://relay.example", "ROOM2345",
		  0x80, false },
		{ "http://127.0.0.1:3000/room/k7_Qz-2x#k=" KE0 "&signed=1", "http://127.0.0.1:3000",
		  "k7_Qz-2x", 0xe0, true },
		/* trailing slash allowed by the path pattern */
		{ "https://h/room/ABCD/#k=" K80, "https://h", "ABCD", 0x80, false },
		/* part order is free; unknown parts ignored */
		{ "https://h/room/ABCD#signed=1&x=y&k=" K80, "https://h", "ABCD", 0x80, true },
		/* signed must be exactly "1" */
		{ "https://h/room/ABCD#k=" K80 "&signed=true", "https://h", "ABCD", 0x80, false },
		{ "https://h/room/ABCD#k=" K80 "&signed", "https://h", "ABCD", 0x80, false },
		{ "https://h/room/ABCD#k=" K80 "&signed=10", "https://h", "ABCD", 0x80, false },
		/* last duplicate wins */
		{ "https://h/room/ABCD#k=" KE0 "&k=" K80 "&signed=1&signed=0", "https://h", "ABCD",
		  0x80, false },
		/* a query between path and fragment is ignored */
		{ "https://h/room/ABCD?ref=x#k=" K80, "https://h", "ABCD", 0x80, false },
		/* 64-character id; empty fragment parts */
		{ "http://h/room/"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#&k=" K80 "&",
		  "http://h", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  0x80, false },
		{ "x+y.z-1://user@host:8/room/_-_-#k=" K80, "x+y.z-1://user@host:8", "_-_-", 0x80,
		  false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char key[32], want[32];
		char base[64], id[65];
		bool sr = !cases[i].signed_room;

		seq(want, 32, cases[i].key_first);
		assert_int_equal(roomurl_parse(cases[i].url, base, sizeof(base), id, key, &sr), 0);
		assert_string_equal(base, cases[i].base);
		assert_string_equal(id, cases[i].room_id);
		assert_memory_equal(key, want, 32);
		assert_int_equal(sr, cases[i].signed_room);
	}
}

static void test_parse_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"relay.example/room/ROOM2345#k=" K80, /* no scheme */
		"://h/room/ROOM2345#k=" K80,	      /* empty scheme */
		"1http://h/room/ROOM2345#k=" K80,     /* scheme starts with a digit */
		"https:/h/room/ROOM2345#k=" K80,
		"https:///room/ROOM2345#k=" K80,    /* empty host */
		"https://h h/room/ROOM2345#k=" K80, /* space in host */
		"https://h/room/ROOM2345",	    /* no fragment */
		"https://h/room/ROOM2345#",	    /* no key */
		"https://h/room/ROOM2345#signed=1",
		"https://h/room/ROOM2345#k=",
		"https://h/room/ROOM2345#K=" K80,     /* names are case-sensitive */
		"https://h/room/ROOM2345#k=" K80 "A", /* 44 characters */
		"https://h/room/ROOM2345#k=" K80 "=", /* padded */
		/* 42 characters; non-zero trailing bits; standard alphabet */
		"https://h/room/ROOM2345#k=gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp",
		"https://h/room/ROOM2345#k=gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp9",
		"https://h/room/ROOM2345#k=4OHi4+Tl5ufo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8",
		"https://h/room/ROOM2345#k=" K80 "&k=short", /* last duplicate wins */
		"https://h/room/ABC#k=" K80,		     /* id too short */
		"https://h/room/"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa#k=" K80,
		"https://h/room/ROOM.2345#k=" K80,  /* bad id character */
		"https://h/room/ROOM%32345#k=" K80, /* escapes are not decoded */
		"https://h/room/ROOM2345//#k=" K80,
		"https://h/room/ROOM2345/x#k=" K80,
		"https://h/rooms/ROOM2345#k=" K80,
		"https://h/api/rooms/ROOM2345#k=" K80,
		"https://h/x/room/ROOM2345#k=" K80, /* the path must be exactly /room/<id> */
		"https://h/room/#k=" K80,
		"https://h#k=" K80,
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char key[32];
		char base[64] = "untouched", id[65] = "untouched";
		bool sr = true;

		memset(key, 0xee, sizeof(key));
		if (roomurl_parse(cases[i], base, sizeof(base), id, key, &sr) != -1)
			fail_msg("parsed: %s", cases[i]);
		assert_string_equal(base, "untouched");
		assert_string_equal(id, "untouched");
		assert_int_equal(key[0], 0xee);
		assert_true(sr);
	}
	assert_int_equal(roomurl_parse(NULL, NULL, 0, NULL, NULL, NULL), -1);
}

static void test_parse_base_capacity(void **state)
{
	static const char url[] = "https://relay.example/room/ROOM2345#k=" K80;
	unsigned char key[32];
	char base[64], id[65];
	bool sr;

	/* "https://relay.example" is 21 characters: it needs 22 bytes */
	assert_int_equal(roomurl_parse(url, base, 21, id, key, &sr), -1);
	assert_int_equal(roomurl_parse(url, base, 22, id, key, &sr), 0);
	assert_string_equal(base, "https://relay.example");
}

static void test_format(void **state)
{
	static const struct {
		const char *base, *room_id;
		unsigned key_first;
		bool signed_room;
		const char *want, *api;
	} cases[] = {
		{ "https://relay.example", "ROOM2345", 0x80, false,
		  "https://relay.example/room/ROOM2345#k=" K80,
		  "https://relay.example/api/rooms/ROOM2345" },
		{ "http://127.0.0.1:3000/", "k7_Qz-2x", 0xe0, true,
		  "http://127.0.0.1:3000/room/k7_Qz-2x#k=" KE0 "&signed=1",
		  "http://127.0.0.1:3000/api/rooms/k7_Qz-2x" },
		{ "http://h//", "ABCD", 0x80, false, "http://h/room/ABCD#k=" K80,
		  "http://h/api/rooms/ABCD" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char key[32], key2[32];
		char out[200], base[64], id[65];
		bool sr = !cases[i].signed_room;
		int n;

		seq(key, 32, cases[i].key_first);
		n = roomurl_format(out, sizeof(out), cases[i].base, cases[i].room_id, key,
				   cases[i].signed_room);
		assert_int_equal(n, (int)strlen(cases[i].want));
		assert_string_equal(out, cases[i].want);
		/* round trip */
		assert_int_equal(roomurl_parse(out, base, sizeof(base), id, key2, &sr), 0);
		assert_string_equal(id, cases[i].room_id);
		assert_memory_equal(key, key2, 32);
		assert_int_equal(sr, cases[i].signed_room);
		/* exact capacity */
		assert_int_equal(roomurl_format(out, (size_t)n, cases[i].base, cases[i].room_id,
						key, cases[i].signed_room),
				 -1);
		assert_int_equal(roomurl_format(out, (size_t)n + 1, cases[i].base, cases[i].room_id,
						key, cases[i].signed_room),
				 n);

		n = roomurl_api_base(out, sizeof(out), cases[i].base, cases[i].room_id);
		assert_int_equal(n, (int)strlen(cases[i].api));
		assert_string_equal(out, cases[i].api);
		assert_int_equal(roomurl_api_base(out, (size_t)n, cases[i].base, cases[i].room_id),
				 -1);
	}
}

static void test_format_invalid(void **state)
{
	unsigned char key[32] = { 0 };
	char out[200];

	assert_int_equal(roomurl_format(out, sizeof(out), "http://h", "ABC", key, false), -1);
	assert_int_equal(roomurl_format(out, sizeof(out), "http://h", "AB CD", key, false), -1);
	assert_int_equal(roomurl_format(out, sizeof(out), "http://h", NULL, key, false), -1);
	assert_int_equal(roomurl_format(out, sizeof(out), "", "ABCD", key, false), -1);
	assert_int_equal(roomurl_format(out, sizeof(out), "/", "ABCD", key, false), -1);
	assert_int_equal(roomurl_format(out, sizeof(out), NULL, "ABCD", key, false), -1);
	assert_int_equal(roomurl_api_base(out, sizeof(out), "http://h", "ROOM!"), -1);
	assert_int_equal(roomurl_api_base(out, sizeof(out), "", "ROOM"), -1);
}

static void test_id_ok(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "ABCD", true },
		{ "abc", false },
		{ "a_b-9Z", true },
		{ "", false },
		{ "ROOM 1", false },
		{ "RÖOM", false },
		{ "ROOM/1", false },
		{ "ROOM2345", true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(roomurl_id_ok(cases[i].s), cases[i].ok);
	assert_false(roomurl_id_ok(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_base_capacity),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_invalid),
		cmocka_unit_test(test_id_ok),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
