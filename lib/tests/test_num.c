/* Tests for proto/num: P(s) (§0) and NUM-1..NUM-4 (§4.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/num.h"

#define NAN_ INT64_MIN /* marks "P(s) is NaN" in the tables */

struct pcase {
	const char *s; /* NULL: absent */
	int64_t want;
};

/* Calls fn on a heap copy of exactly strlen(s) bytes, so ASan catches any over-read. */
static bool parse_exact(const char *s, int64_t *out)
{
	size_t len;
	char *b;
	bool ok;

	if (!s)
		return num_parse(NULL, 0, out);
	len = strlen(s);
	b = malloc(len ? len : 1);
	assert_non_null(b);
	memcpy(b, s, len);
	ok = num_parse(b, len, out);
	free(b);
	return ok;
}

static void test_parse(void **state)
{
	static const struct pcase t[] = {
		/* §0 examples */
		{ "12abc", 12 },
		{ "1e3", 1 },
		{ "", NAN_ },
		/* sign and whitespace */
		{ "42", 42 },
		{ "  42", 42 },
		{ "\t\n\v\f\r 7", 7 },
		{ "-7", -7 },
		{ "+5", 5 },
		{ " -0", 0 },
		{ "-", NAN_ },
		{ "+", NAN_ },
		{ "+-1", NAN_ },
		{ "- 1", NAN_ },
		{ "1 2", 1 },
		{ "abc", NAN_ },
		{ "0x10", 0 },
		{ "1.9", 1 },
		{ ".5", NAN_ },
		{ "007", 7 },
		{ "1795615604052", 1795615604052 },
		/* JavaScript whitespace beyond ASCII */
		{ "\xc2\xa0" "12", 12 },		 /* U+00A0 */
		{ "\xe1\x9a\x80" "3", 3 },		 /* U+1680 */
		{ "\xe2\x80\x80\xe2\x80\x8a" "4", 4 }, /* U+2000, U+200A */
		{ "\xe2\x80\xa8\xe2\x80\xa9" "5", 5 }, /* U+2028, U+2029 */
		{ "\xe2\x80\xaf" "6", 6 },		 /* U+202F */
		{ "\xe2\x81\x9f" "8", 8 },		 /* U+205F */
		{ "\xe3\x80\x80" "9", 9 },		 /* U+3000 */
		{ "\xef\xbb\xbf" "10", 10 },		 /* U+FEFF */
		{ "\xe2\x80\x8b" "5", NAN_ },		 /* U+200B is not whitespace */
		{ "\xc2\x85" "1", NAN_ },		 /* U+0085 is not JS whitespace */
		{ "\xe2\x80\x8c" "5", NAN_ },		 /* U+200C */
		{ "\xe2\x80", NAN_ },			 /* truncated sequence */
		{ "\xc2", NAN_ },
		/* saturation at 2^53 */
		{ "9007199254740991", 9007199254740991 },
		{ "9007199254740992", 9007199254740992 },
		{ "9007199254740993", 9007199254740992 },
		{ "99999999999999999999999999", 9007199254740992 },
		{ "-99999999999999999999999999", -9007199254740992 },
		{ "00000000000000000000000000001", 1 },
		{ NULL, NAN_ },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int64_t v = 12345;
		bool ok = parse_exact(t[i].s, &v);

		if (t[i].want == NAN_) {
			if (ok)
				fail_msg("P(\"%s\") = %lld, want NaN", t[i].s, (long long)v);
			assert_int_equal(v, 12345); /* untouched */
		} else if (!ok || v != t[i].want) {
			fail_msg("P(\"%s\") = %s%lld, want %lld", t[i].s ? t[i].s : "(null)",
				 ok ? "" : "NaN ", (long long)v, (long long)t[i].want);
		}
	}
	/* Not NUL-terminated: digits beyond len do not count. */
	{
		int64_t v;

		assert_true(num_parse("1234", 2, &v));
		assert_int_equal(v, 12);
		assert_false(num_parse("  5", 2, &v));
	}
}

/* Calls one NUM helper with a heap copy (or NULL for absent). */
static int64_t call(int64_t (*fn)(const char *, size_t), const char *s)
{
	size_t len;
	char *b;
	int64_t r;

	if (!s)
		return fn(NULL, 0);
	len = strlen(s);
	b = malloc(len ? len : 1);
	assert_non_null(b);
	memcpy(b, s, len);
	r = fn(b, len);
	free(b);
	return r;
}

static int64_t timeout64(const char *s, size_t len)
{
	return num_timeout_s(s, len);
}

static int64_t limit64(const char *s, size_t len)
{
	return num_limit(s, len);
}

static int64_t ttl_default(const char *s, size_t len)
{
	return num_claim_ttl_ms(s, len, 60000);
}

static int64_t ttl_odd_default(const char *s, size_t len)
{
	return num_claim_ttl_ms(s, len, 45000); /* CLAIM_TTL_MS below the clamp: not clamped */
}

static void run(int64_t (*fn)(const char *, size_t), const char *name, const struct pcase *t,
		size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t got = call(fn, t[i].s);

		if (got != t[i].want)
			fail_msg("%s(\"%s\") = %lld, want %lld", name, t[i].s ? t[i].s : "(absent)",
				 (long long)got, (long long)t[i].want);
	}
}

static void test_after(void **state)
{
	static const struct pcase t[] = {
		{ NULL, 0 },  { "", 0 },     { "abc", 0 },	{ "-5", 0 },  { "0", 0 },
		{ "17", 17 }, { "17x", 17 }, { "1795615604052", 1795615604052 },
		{ " 3", 3 },  { "99999999999999999999", 9007199254740992 },
	};

	run(num_after, "after", t, sizeof(t) / sizeof(t[0]));
}

static void test_timeout(void **state)
{
	static const struct pcase t[] = {
		/* NUM-2 examples */
		{ "0", 30 },
		{ "-5", 1 },
		{ NULL, 30 },
		/* more */
		{ "", 30 },
		{ "abc", 30 },
		{ "-0", 30 },
		{ "1", 1 },
		{ "25", 25 },
		{ "90", 90 },
		{ "91", 90 },
		{ "30.5", 30 },
		{ "1e3", 1 },
		{ " 45", 45 },
		{ "-1", 1 },
		{ "999999999999999999999", 90 },
		{ "-999999999999999999999", 1 },
	};

	run(timeout64, "timeout", t, sizeof(t) / sizeof(t[0]));
}

static void test_limit(void **state)
{
	static const struct pcase t[] = {
		{ NULL, 100 }, { "", 100 },  { "0", 100 },   { "x", 100 },  { "-5", 1 },
		{ "1", 1 },    { "7", 7 },   { "500", 500 }, { "501", 500 }, { "100abc", 100 },
		{ "99999999999999999999", 500 },
	};

	run(limit64, "limit", t, sizeof(t) / sizeof(t[0]));
}

static void test_claim_ttl(void **state)
{
	static const struct pcase t[] = {
		{ NULL, 60000 },   { "", 60000 },	   { "0", 60000 },
		{ "-1", 60000 },   { "abc", 60000 },	   { "1", 60000 },
		{ "59999", 60000 }, { "60000", 60000 },	   { "120000", 120000 },
		{ "300000", 300000 }, { "300001", 300000 }, { "99999999999999999999", 300000 },
	};
	static const struct pcase odd[] = {
		{ NULL, 45000 }, { "0", 45000 }, { "-7", 45000 }, { "x", 45000 }, { "1", 60000 },
	};

	run(ttl_default, "ttl_ms", t, sizeof(t) / sizeof(t[0]));
	run(ttl_odd_default, "ttl_ms(45000)", odd, sizeof(odd) / sizeof(odd[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	cmocka_unit_test(test_after),
		cmocka_unit_test(test_timeout), cmocka_unit_test(test_limit),
		cmocka_unit_test(test_claim_ttl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
