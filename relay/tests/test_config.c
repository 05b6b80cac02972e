/* Unit: the config module (CFG-1, CFG-2): defaults, environment, flags, bad values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

static int load(struct config *c, int argc, char **argv, char **env, char *errbuf, size_t errcap)
{
	FILE *out = fopen("/dev/null", "w");
	FILE *err = fmemopen(errbuf, errcap, "w");
	int rc = config_load(c, argc, argv, env, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

static void test_defaults(void **state)
{
	struct config c;
	char err[256] = "";
	char *argv[] = {"relay", NULL};
	assert_int_equal(load(&c, 1, argv, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.host, "0.0.0.0");
	assert_int_equal(c.port, 3000);
	assert_int_equal(c.rooms_max, 5000);
	assert_int_equal(c.room_global_max_bytes, 536870912);
	assert_int_equal(c.stream_cap_per_ip, 32);
	assert_int_equal(c.waiter_cap_per_ip, 16);
	assert_int_equal(c.room_waiters_max, 256);
	assert_int_equal(c.global_rl_cap, 600);
	assert_true(c.global_rl_refill_per_sec == 200.0);
	assert_int_equal(c.room_rl_cap, 300);
	assert_true(c.room_rl_refill_per_sec == 100.0);
	assert_int_equal(c.recent_max, 2000);
	assert_int_equal(c.recent_ttl_ms, 86400000);
	assert_int_equal(c.json_body_max_bytes, 196608);
	assert_int_equal(c.ws_max_payload_bytes, 262144);
	assert_int_equal(c.claim_ttl_ms, 60000);
	assert_int_equal(c.room_sig_seen_max, 250000);
	assert_string_equal(c.metrics_token, "");
	assert_string_equal(c.state_dir, "");
}

static void test_env_then_flag(void **state)
{
	struct config c;
	char err[256] = "";
	char *env[] = {"PORT=4000", "ROOMS_MAX=7", "GLOBAL_RL_REFILL_PER_SEC=2.5", "METRICS_TOKEN=t", NULL};
	char *argv[] = {"relay", "--rooms-max=9", "--host", "127.0.0.1", NULL};
	assert_int_equal(load(&c, 4, argv, env, err, sizeof(err)), 0);
	assert_int_equal(c.port, 4000);    /* environment over default */
	assert_int_equal(c.rooms_max, 9);  /* flag over environment (CFG-1) */
	assert_true(c.global_rl_refill_per_sec == 2.5);
	assert_string_equal(c.metrics_token, "t");
	assert_string_equal(c.host, "127.0.0.1");
}

static void test_bad_values(void **state)
{
	static const struct { const char *arg; const char *needle; } cases[] = {
		{"--rooms-max=-1", "ROOMS_MAX"},
		{"--rooms-max=12abc", "ROOMS_MAX"},
		{"--rooms-max=", "ROOMS_MAX"},
		{"--rooms-max=1.5", "ROOMS_MAX"},           /* CFG-2: integers only */
		{"--port=70000", "PORT"},
		{"--global-rl-refill-per-sec=-2", "GLOBAL_RL_REFILL_PER_SEC"},
		{"--global-rl-refill-per-sec=abc", "GLOBAL_RL_REFILL_PER_SEC"},
		{"--no-such-flag=1", "--no-such-flag"},
		{"stray", "stray"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		char err[256] = "";
		char *argv[] = {"relay", (char *)cases[i].arg, NULL};
		assert_int_equal(load(&c, 2, argv, NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, cases[i].needle));
	}
	struct config c;
	char err[256] = "";
	char *env[] = {"STREAM_CAP_PER_IP=x", NULL};
	char *argv[] = {"relay", NULL};
	assert_int_equal(load(&c, 1, argv, env, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "STREAM_CAP_PER_IP (environment)"));
	char *argv2[] = {"relay", "--port", NULL};
	assert_int_equal(load(&c, 2, argv2, NULL, err, sizeof(err)), -1); /* missing value */
}

static void test_help(void **state)
{
	char buf[16384] = "";
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	config_usage(f);
	fclose(f);
	assert_non_null(strstr(buf, "--global-rl-cap"));
	assert_non_null(strstr(buf, "env GLOBAL_RL_CAP, default 600"));
	assert_non_null(strstr(buf, "--state-dir"));
	struct config c;
	char err[64] = "";
	char *argv[] = {"relay", "--help", NULL};
	assert_int_equal(load(&c, 2, argv, NULL, err, sizeof(err)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_env_then_flag),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_help),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
