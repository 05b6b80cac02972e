/* Tests for proto/query: HTTP-8 query strings and HTTP-3 percent-decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/query.h"
#include "proto/valid.h"

/* struct query is ~4.6 KiB: keep it off the test stack like relay code should. */
static struct query *parse(const char *qs, int want_rc)
{
	struct query *q = malloc(sizeof(*q));

	assert_non_null(q);
	assert_int_equal(query_parse(q, qs, qs ? strlen(qs) : 0), want_rc);
	return q;
}

static void expect_first(const struct query *q, const char *key, const char *want, size_t wlen)
{
	const char *v = NULL;
	size_t vlen = 0;

	if (!query_first(q, key, &v, &vlen))
		fail_msg("key %s missing", key);
	assert_int_equal(vlen, wlen);
	assert_memory_equal(v, want, wlen);
	assert_int_equal(v[vlen], '\0'); /* NUL-terminated */
}

static void test_basic(void **state)
{
	struct query *q = parse("after=5&timeout=30&name=alice", 0);
	const char *v = "unchanged";
	size_t vlen = 99;

	assert_int_equal(q->n, 3);
	expect_first(q, "after", "5", 1);
	expect_first(q, "timeout", "30", 2);
	expect_first(q, "name", "alice", 5);
	assert_true(query_has(q, "name"));
	assert_false(query_has(q, "box_pub"));
	assert_false(query_has(q, "afte"));
	assert_false(query_has(q, "after="));
	/* Missing key: out-params untouched. */
	assert_false(query_first(q, "limit", &v, &vlen));
	assert_false(query_single(q, "limit", &v, &vlen));
	assert_string_equal(v, "unchanged");
	assert_int_equal(vlen, 99);
	free(q);
}

/* HTTP-8: numeric parameters use the first occurrence; name/box_pub are ignored when repeated. */
static void test_repeated(void **state)
{
	struct query *q = parse("after=1&name=a&after=2&name=b&box_pub=k", 0);
	const char *v;
	size_t vlen;

	expect_first(q, "after", "1", 1);
	assert_false(query_single(q, "after", &v, &vlen));
	assert_false(query_single(q, "name", &v, &vlen));
	assert_true(query_has(q, "name"));
	assert_true(query_single(q, "box_pub", &v, &vlen));
	assert_int_equal(vlen, 1);
	assert_memory_equal(v, "k", 1);
	free(q);
}

static void test_shapes(void **state)
{
	struct query *q;
	const char *v;
	size_t vlen;

	/* Empty pieces are skipped; a piece without '=' has an empty value. */
	q = parse("&&after=7&&flag&", 0);
	assert_int_equal(q->n, 2);
	expect_first(q, "after", "7", 1);
	expect_first(q, "flag", "", 0);
	assert_true(query_single(q, "flag", &v, &vlen));
	free(q);
	/* Split at the first '='. */
	q = parse("a==b&=x&after=", 0);
	assert_int_equal(q->n, 3);
	expect_first(q, "a", "=b", 2);
	expect_first(q, "", "x", 1);
	expect_first(q, "after", "", 0);
	assert_true(query_has(q, "after")); /* SSE-6: present whatever its value */
	free(q);
	/* NULL / empty. */
	q = parse(NULL, 0);
	assert_int_equal(q->n, 0);
	assert_false(query_has(q, "after"));
	free(q);
	q = parse("", 0);
	assert_int_equal(q->n, 0);
	free(q);
	/* Only len bytes are parsed. */
	q = malloc(sizeof(*q));
	assert_non_null(q);
	assert_int_equal(query_parse(q, "a=1&b=2", 3), 0);
	assert_int_equal(q->n, 1);
	assert_false(query_has(q, "b"));
	free(q);
}

/* HTTP-8 decoding: '+' is a space, escapes are UTF-8, a malformed value stays raw. */
static void test_decoding(void **state)
{
	struct query *q = parse("n1=a+b&n2=%41%62&n3=caf%C3%A9&n4=%e2%82%ac&n5=%zz&n6=a+b%2&"
				"n7=%ff&n8=%ED%A0%80&n9=%00&af%74er=9&n10=%2B&n11=%25&n12=%C3",
				0);

	expect_first(q, "n1", "a b", 3);
	expect_first(q, "n2", "Ab", 2);
	expect_first(q, "n3", "caf\xc3\xa9", 5);
	expect_first(q, "n4", "\xe2\x82\xac", 3);
	expect_first(q, "n5", "%zz", 3);
	expect_first(q, "n6", "a+b%2", 5);	   /* raw: '+' not mapped either */
	expect_first(q, "n7", "%ff", 3);	   /* not UTF-8 */
	expect_first(q, "n8", "%ED%A0%80", 9);	   /* surrogate */
	expect_first(q, "n9", "\0", 1);		   /* decoded NUL: use the length */
	expect_first(q, "after", "9", 1);	   /* keys are decoded too */
	expect_first(q, "n10", "+", 1);
	expect_first(q, "n11", "%", 1);
	expect_first(q, "n12", "%C3", 3);	   /* truncated sequence */
	free(q);
}

static void test_limits(void **state)
{
	char *qs = malloc(8192);
	struct query *q;
	size_t i, o = 0;

	assert_non_null(qs);
	/* 64 pairs: fine; the 65th fails and leaves q empty. */
	for (i = 0; i < 64; i++)
		o += (size_t)sprintf(qs + o, "%sk%zu=%zu", i ? "&" : "", i, i);
	q = parse(qs, 0);
	assert_int_equal(q->n, 64);
	expect_first(q, "k63", "63", 2);
	free(q);
	sprintf(qs + o, "&k64=64");
	q = parse(qs, -1);
	assert_int_equal(q->n, 0);
	assert_false(query_has(q, "k0"));
	free(q);
	/* Empty pieces do not count toward the pair limit. */
	o = 0;
	for (i = 0; i < 64; i++)
		o += (size_t)sprintf(qs + o, "&&k%zu=%zu", i, i);
	q = parse(qs, 0);
	assert_int_equal(q->n, 64);
	free(q);
	/* Storage: a 2000-byte value fits, a 4100-byte one does not. */
	memcpy(qs, "name=", 5);
	memset(qs + 5, 'x', 2000);
	qs[2005] = '\0';
	q = parse(qs, 0);
	expect_first(q, "name", qs + 5, 2000);
	free(q);
	memset(qs + 5, 'x', 4100);
	qs[4105] = '\0';
	q = parse(qs, -1);
	assert_int_equal(q->n, 0);
	free(q);
	/* The documented guarantee: QUERY_BUF_BYTES / 2 bytes in 64 pairs always fit. */
	memset(qs, 0, 8192);
	o = 0;
	for (i = 0; i < 64; i++)
		o += (size_t)sprintf(qs + o, "%s%c", i ? "&" : "", 'a' + (int)(i % 26));
	memset(qs + o, 'z', QUERY_BUF_BYTES / 2 - o);
	qs[QUERY_BUF_BYTES / 2] = '\0';
	q = parse(qs, 0);
	assert_int_equal(q->n, 64);
	free(q);
	free(qs);
}

struct pcase {
	const char *in;
	bool plus;
	const char *out;
};

/* HTTP-3: path segments are decoded without '+' mapping; malformed stays raw. */
static void test_pct_decode(void **state)
{
	static const struct pcase t[] = {
		{ "ROOM2345", false, "ROOM2345" },
		{ "ROOM%32345", false, "ROOM2345" },
		{ "a+b", false, "a+b" },
		{ "a+b", true, "a b" },
		{ "%2F", false, "/" },
		{ "%40alice", false, "@alice" },
		{ "ab%", false, "ab%" },
		{ "ab%4", false, "ab%4" },
		{ "ab%4g", false, "ab%4g" },
		{ "%41%", false, "%41%" },	   /* any malformed escape: all raw */
		{ "%e2%82", false, "%e2%82" },	   /* truncated UTF-8 */
		{ "%c0%80", false, "%c0%80" },	   /* overlong */
		{ "%F0%9F%98%80", false, "\xf0\x9f\x98\x80" },
		{ "a+%zz", true, "a+%zz" },
		{ "", false, "" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = strlen(t[i].in), n;
		char *in = malloc(len ? len : 1), *out = malloc(len ? len : 1);

		assert_non_null(in);
		assert_non_null(out);
		memcpy(in, t[i].in, len);
		n = pct_decode(in, len, out, t[i].plus);
		if (n != strlen(t[i].out) || memcmp(out, t[i].out, n) != 0)
			fail_msg("pct_decode(\"%s\") = \"%.*s\"", t[i].in, (int)n, out);
		free(in);
		free(out);
	}
	assert_int_equal(pct_decode(NULL, 0, NULL, false), 0);
}

/* HTTP-3 end to end: a malformed escape is used raw and then fails the route's own check. */
static void test_segment_then_validate(void **state)
{
	char out[32];
	size_t n;

	n = pct_decode("ROOM%32345", 10, out, false);
	assert_true(val_room_id(out, n));
	n = pct_decode("ROOM%zz45", 9, out, false);
	assert_int_equal(n, 9);
	assert_false(val_room_id(out, n));
	n = pct_decode("ab%2Dcd", 7, out, false);
	assert_true(val_room_id(out, n));
	assert_memory_equal(out, "ab-cd", 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	   cmocka_unit_test(test_repeated),
		cmocka_unit_test(test_shapes),	   cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_limits),	   cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_segment_then_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
