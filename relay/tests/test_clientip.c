/* Tests for relay/clientip: IP-1 (HTTP), IP-2 (WebSocket), loopback detection (§3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clientip.h"

#define MAXH 4

struct hcase {
	const char *peer;
	const char *xff[MAXH]; /* NULL-terminated list of header values */
	const char *want;
};

static size_t count(const char *const *xff)
{
	size_t n = 0;

	while (n < MAXH && xff[n])
		n++;
	return n;
}

static void test_http(void **state)
{
	static const struct hcase t[] = {
		/* The IP-1 examples of PROTOCOL.md §3. */
		{ "127.0.0.1", { "1.1.1.1, 2.2.2.2" }, "2.2.2.2" },
		{ "127.0.0.1", { "1.1.1.1, 127.0.0.5" }, "1.1.1.1" },
		{ "127.0.0.1", { NULL }, "127.0.0.1" },
		{ "9.9.9.9", { "1.1.1.1" }, "9.9.9.9" },
		{ "::ffff:127.0.0.1", { "3.3.3.3" }, "3.3.3.3" },
		/* Repeated headers are joined with ',' and read right to left. */
		{ "127.0.0.1", { "1.1.1.1", "2.2.2.2, 127.0.0.1" }, "2.2.2.2" },
		{ "127.0.0.1", { "1.1.1.1", "127.0.0.3" }, "1.1.1.1" },
		{ "127.0.0.1", { "1.1.1.1,", ",127.0.0.2" }, "1.1.1.1" },
		/* All loopback: the left-most XFF entry. Spaces stripped, empty entries dropped. */
		{ "127.0.0.1", { " 127.0.0.9 , ,127.0.0.5,, " }, "127.0.0.9" },
		{ "::1", { "127.0.0.7", "::1" }, "127.0.0.7" },
		{ "127.0.0.1", { " , ,", "" }, "127.0.0.1" },
		{ "127.0.0.1", { "\t4.4.4.4\t" }, "4.4.4.4" },
		/* A non-IP string counts as not loopback. */
		{ "127.0.0.1", { "unknown" }, "unknown" },
		{ "127.0.0.1", { "garbage, 127.0.0.2" }, "garbage" },
		{ "127.0.0.1", { "localhost" }, "localhost" },
		/* XFF counts only from a loopback peer; text is kept as given. */
		{ "10.0.0.1", { "127.0.0.1" }, "10.0.0.1" },
		{ "::ffff:10.0.0.1", { "1.1.1.1" }, "::ffff:10.0.0.1" },
		{ "2001:db8::1", { NULL }, "2001:db8::1" },
		{ "::1", { "2001:db8::2" }, "2001:db8::2" },
		{ "127.3.4.5", { "5.5.5.5" }, "5.5.5.5" },
		/* Empty peer: "" is not an IP, so it is the result (IP-3 key ""). */
		{ "", { "1.1.1.1" }, "" },
		{ NULL, { "1.1.1.1" }, "" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[CLIENTIP_MAX];

		memset(out, '#', sizeof(out));
		clientip_http(t[i].peer, t[i].xff, count(t[i].xff), out, sizeof(out));
		if (strcmp(out, t[i].want) != 0)
			fail_msg("http case %zu: got \"%s\", want \"%s\"", i, out, t[i].want);
	}
	/* CF-Connecting-IP plays no part for HTTP: there is no parameter for it. nxff 0 with a
	 * NULL array is fine. */
	{
		char out[CLIENTIP_MAX];

		clientip_http("127.0.0.1", NULL, 0, out, sizeof(out));
		assert_string_equal(out, "127.0.0.1");
	}
}

struct wcase {
	const char *peer;
	const char *cf;
	const char *xff[MAXH];
	const char *want;
};

static void test_ws(void **state)
{
	static const struct wcase t[] = {
		/* IP-2: from an exact loopback peer, CF-Connecting-IP (trimmed) first. */
		{ "127.0.0.1", " 5.5.5.5 ", { "1.1.1.1" }, "5.5.5.5" },
		{ "::1", "5.5.5.5", { NULL }, "5.5.5.5" },
		{ "::ffff:127.0.0.1", "5.5.5.5", { NULL }, "5.5.5.5" },
		/* Then the last non-empty trimmed XFF entry (no loopback filtering). */
		{ "127.0.0.1", "", { "1.1.1.1, 2.2.2.2" }, "2.2.2.2" },
		{ "127.0.0.1", "  ", { "1.1.1.1, 2.2.2.2 " }, "2.2.2.2" },
		{ "127.0.0.1", NULL, { "1.1.1.1, " }, "1.1.1.1" },
		{ "127.0.0.1", NULL, { "1.1.1.1, 127.0.0.1" }, "127.0.0.1" },
		{ "127.0.0.1", NULL, { "1.1.1.1", "2.2.2.2" }, "2.2.2.2" },
		{ "127.0.0.1", NULL, { "1.1.1.1", " , " }, "1.1.1.1" },
		{ "127.0.0.1", NULL, { "junk" }, "junk" },
		/* Else the peer. */
		{ "127.0.0.1", NULL, { NULL }, "127.0.0.1" },
		{ "127.0.0.1", "", { ",," }, "127.0.0.1" },
		{ "::1", NULL, { NULL }, "::1" },
		/* Any other peer: headers ignored, even other loopback addresses. */
		{ "127.0.0.2", "5.5.5.5", { "1.1.1.1" }, "127.0.0.2" },
		{ "0:0:0:0:0:0:0:1", "5.5.5.5", { NULL }, "0:0:0:0:0:0:0:1" },
		{ "::ffff:127.0.0.2", "5.5.5.5", { NULL }, "::ffff:127.0.0.2" },
		{ "9.9.9.9", "5.5.5.5", { "1.1.1.1" }, "9.9.9.9" },
		{ "", "5.5.5.5", { NULL }, "" },
		{ NULL, "5.5.5.5", { NULL }, "" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[CLIENTIP_MAX];

		memset(out, '#', sizeof(out));
		clientip_ws(t[i].peer, t[i].cf, t[i].xff, count(t[i].xff), out, sizeof(out));
		if (strcmp(out, t[i].want) != 0)
			fail_msg("ws case %zu: got \"%s\", want \"%s\"", i, out, t[i].want);
	}
}

static void test_loopback(void **state)
{
	static const struct {
		const char *s;
		bool loop;
	} t[] = {
		{ "127.0.0.1", true },	     { "127.255.255.255", true }, { "127.0.0.0", true },
		{ "126.255.255.255", false }, { "128.0.0.1", false },	   { "::1", true },
		{ "0:0:0:0:0:0:0:1", true },  { "::0:1", true },	   { "::ffff:127.0.0.1", true },
		{ "::ffff:127.1.2.3", true }, { "::ffff:7f00:1", true },   { "::ffff:128.0.0.1", false },
		{ "::2", false },	     { "::", false },		   { "::127.0.0.1", false },
		{ "localhost", false },	     { "127.1", false },	   { "[::1]", false },
		{ "127.0.0.1:80", false },    { "", false },		   { " 127.0.0.1", false },
		{ "127.0.0.1 ", false },     { "127.0.0.256", false },	   { "1.2.3.4", false },
		{ "::1%lo", false },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (clientip_is_loopback(t[i].s, strlen(t[i].s)) != t[i].loop)
			fail_msg("is_loopback(\"%s\") != %d", t[i].s, t[i].loop);
	/* Only len bytes count; NUL inside or overlong text is not an IP. */
	assert_true(clientip_is_loopback("127.0.0.1xyz", 9));
	assert_false(clientip_is_loopback("127.0.0.1\0", 10));
	assert_false(clientip_is_loopback(NULL, 0));
	{
		char longs[200];

		memset(longs, '1', sizeof(longs));
		assert_false(clientip_is_loopback(longs, sizeof(longs)));
	}
}

/* Output is truncated to cap - 1 and always NUL-terminated; cap 0 writes nothing. */
static void test_truncation(void **state)
{
	const char *xff[] = { "2001:db8:85a3:8d3:1319:8a2e:370:7348" };
	char out[8];

	memset(out, '#', sizeof(out));
	clientip_http("127.0.0.1", xff, 1, out, 5);
	assert_string_equal(out, "2001");
	assert_int_equal(out[5], '#');
	memset(out, '#', sizeof(out));
	clientip_ws("9.9.9.9", NULL, NULL, 0, out, 0);
	assert_int_equal(out[0], '#');
	clientip_ws("9.9.9.9", NULL, NULL, 0, out, 1);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_ws),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
