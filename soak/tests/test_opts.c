/* Tests for soak/opts: source-address lists and the shared flag parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "opts.h"

static void test_srcips_good(void **state)
{
	static const struct {
		const char *spec;
		size_t n;
		const char *first, *last;
	} t[] = {
		{ "127.0.0.2-127.0.1.250", 505, "127.0.0.2", "127.0.1.250" },
		{ "127.0.0.2,127.0.0.3", 2, "127.0.0.2", "127.0.0.3" },
		{ "10.0.0.1", 1, "10.0.0.1", "10.0.0.1" },
		{ " 127.0.0.9 - 127.0.0.10 ,127.0.0.2", 3, "127.0.0.9", "127.0.0.2" },
		{ "127.0.0.255-127.0.1.0", 2, "127.0.0.255", "127.0.1.0" },
		{ "10.0.0.0-10.0.255.255", 65536, "10.0.0.0", "10.0.255.255" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct srcips s = { 0 };
		char err[128] = "";

		assert_int_equal(srcips_parse(t[i].spec, &s, err, sizeof(err)), 0);
		assert_int_equal(s.n, t[i].n);
		assert_string_equal(s.ips[0], t[i].first);
		assert_string_equal(s.ips[s.n - 1], t[i].last);
		assert_string_equal(srcips_pick(&s, s.n), t[i].first); /* round robin */
		srcips_free(&s);
		assert_null(s.ips);
	}
}

static void test_srcips_bad(void **state)
{
	static const char *const bad[] = {
		"127.0.0.3-127.0.0.2", "1.2.3", "a-b", "127.0.0.1-", ",", "127.0.0.1,,127.0.0.2",
		"10.0.0.0-10.1.0.0", /* 65537 > SRCIPS_MAX */
		"::1", "127.0.0.256",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct srcips s = { .ips = NULL, .n = 7 };
		char err[128] = "";

		assert_int_equal(srcips_parse(bad[i], &s, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_int_equal(s.n, 7); /* untouched on failure */
	}
}

static void test_srcips_empty(void **state)
{
	struct srcips s = { 0 };
	char err[64];

	assert_int_equal(srcips_parse("", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_null(srcips_pick(&s, 3));
}

struct seen {
	char rooms[16];
	int calls;
};

static int extra(void *ud, const char *name, const char *v)
{
	struct seen *s = ud;

	s->calls++;
	if (strcmp(name, "rooms") == 0 && v)
		snprintf(s->rooms, sizeof(s->rooms), "%s", v);
	return strcmp(v ? v : "", "bad") == 0 ? -1 : 0;
}

static const struct soak_flag flags[] = { { "rooms", true }, { NULL, false } };

static int parse(struct soak_opts *o, struct seen *s, unsigned common, int argc, char **argv)
{
	const struct soak_cmd cmd = {
		.name = "t",
		.usage = "",
		.common = common,
		.flags = flags,
		.extra = extra,
		.ud = s,
	};

	return soak_opts_parse(o, &cmd, argc, argv);
}

static void test_parse_ok(void **state)
{
	char *argv[] = { "t", "--base", "http://127.0.0.1:9/", "--rate=2.5", "--rooms", "7",
			 "--source-ips", "127.0.0.2-127.0.0.4", "--json", "out.json", "--quiet",
			 "--size", "100", "--timeout", "3", "--relay-pid", "42", NULL };
	struct seen s = { "", 0 };
	struct soak_opts o;

	assert_int_equal(parse(&o, &s, OPT_RATE | OPT_SOURCE_IPS, 17, argv), 0);
	assert_string_equal(o.base, "http://127.0.0.1:9");
	assert_true(o.rate == 2.5);
	assert_string_equal(s.rooms, "7");
	assert_int_equal(s.calls, 1);
	assert_int_equal(o.ips.n, 3);
	assert_string_equal(o.json_path, "out.json");
	assert_true(o.quiet);
	assert_int_equal(o.size, 100);
	assert_true(o.timeout_s == 3);
	assert_int_equal(o.relay_pid, 42);
	assert_false(o.is_signed);
	soak_opts_free(&o);
}

static void test_parse_defaults(void **state)
{
	char *argv[] = { "t", NULL };
	struct seen s = { "", 0 };
	struct soak_opts o;

	assert_int_equal(parse(&o, &s, 0, 1, argv), 0);
	assert_string_equal(o.base, "http://127.0.0.1:3000");
	assert_true(o.rate == 0);
	assert_true(o.timeout_s == 30);
	assert_int_equal(o.size, 64);
	assert_null(o.json_path);
	assert_null(o.transport);
	soak_opts_free(&o);
}

static void test_parse_errors(void **state)
{
	static const struct {
		unsigned common;
		const char *a, *b;
	} t[] = {
		{ OPT_RATE, "--duration", "5" },     /* does not apply to this command */
		{ OPT_RATE, "--rate", "abc" },	     /* not a number */
		{ OPT_RATE, "--rate", "-1" },	     /* negative */
		{ 0, "--size", "10" },		     /* below 40 */
		{ 0, "--nope", "1" },		     /* unknown */
		{ 0, "--base", "ftp://x" },	     /* not http */
		{ OPT_TRANSPORT, "--transport", "udp" },
		{ 0, "--rooms", "bad" },	     /* the scenario's own check */
		{ 0, "positional", NULL },
		{ 0, "--quiet=1", NULL },	     /* takes no value */
		{ 0, "--json", NULL },		     /* needs a value */
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *argv[] = { "t", (char *)t[i].a, (char *)t[i].b, NULL };
		struct seen s = { "", 0 };
		struct soak_opts o;

		assert_int_equal(parse(&o, &s, t[i].common, t[i].b ? 3 : 2, argv), -1);
		soak_opts_free(&o);
	}
}

static void test_parse_help(void **state)
{
	char *argv[] = { "t", "--help", NULL };
	struct seen s = { "", 0 };
	struct soak_opts o;

	assert_int_equal(parse(&o, &s, OPT_RATE, 2, argv), 1);
	soak_opts_free(&o);
}

static void test_numbers(void **state)
{
	uint32_t u = 99;
	double d = 99;

	assert_int_equal(soak_parse_u32("t", "n", "17", 1, 20, &u), 0);
	assert_int_equal(u, 17);
	assert_int_equal(soak_parse_u32("t", "n", "21", 1, 20, &u), -1);
	assert_int_equal(soak_parse_u32("t", "n", "0", 1, 20, &u), -1);
	assert_int_equal(soak_parse_u32("t", "n", "1x", 1, 20, &u), -1);
	assert_int_equal(soak_parse_u32("t", "n", "-3", 0, 20, &u), -1);
	assert_int_equal(u, 17);
	assert_int_equal(soak_parse_double("t", "x", "0.25", 0, 1, &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(soak_parse_double("t", "x", "inf", 0, 1e9, &d), -1);
	assert_int_equal(soak_parse_double("t", "x", "2", 0, 1, &d), -1);
	assert_true(d == 0.25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srcips_good),   cmocka_unit_test(test_srcips_bad),
		cmocka_unit_test(test_srcips_empty),  cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_defaults), cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_help),    cmocka_unit_test(test_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
