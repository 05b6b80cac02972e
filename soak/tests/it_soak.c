/* Integration: every sealroom-soak scenario, small, in-process against a real relay, with
 * exact counts read back from its --json result. The same ground as ci/stages/60-soak-smoke.sh,
 * but inside CTest so the sanitizer builds (ci/sanitize.sh) check the driver's threads too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scenarios.h"
#include "testkit/relayproc.h"

static struct relay_proc rp;
static char json_path[256];

static int setup(void **state)
{
	static const char *const args[] = {
		"--access-log", "0",
		"--room-rl-cap", "1000000000", "--room-rl-refill-per-sec", "1000000000",
		"--global-rl-cap", "1000000000", "--global-rl-refill-per-sec", "1000000000",
		"--stream-cap-per-ip", "40", "--waiter-cap-per-ip", "1000",
		"--worker-threads", "512", NULL,
	};
	int fd;

	snprintf(json_path, sizeof(json_path), "%s/soak-it.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	fd = mkstemp(json_path);
	if (fd < 0)
		return -1;
	close(fd);
	return relay_start(&rp, args);
}

static int teardown(void **state)
{
	unlink(json_path);
	return relay_stop(&rp) == 0 ? 0 : -1; /* DESIGN.md §10: SIGTERM exits 0 */
}

/* Run a scenario with --base/--json/--quiet appended; the exit status must be want. */
static void run(int (*fn)(int, char **), int want, const char *const *args)
{
	char *argv[64];
	int argc = 0;

	for (; args[argc]; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc++] = "--base";
	argv[argc++] = rp.base;
	argv[argc++] = "--json";
	argv[argc++] = json_path;
	argv[argc++] = "--quiet";
	argv[argc] = NULL;
	fflush(stdout);
	assert_int_equal(fn(argc, argv), want);
}

/* Assert "PATH=VALUE" pairs in the last result (through the `check` subcommand). */
static void expect(const char *const *pairs)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "check";
	argv[argc++] = json_path;
	for (; *pairs; pairs++)
		argv[argc++] = (char *)*pairs;
	argv[argc] = NULL;
	assert_int_equal(sc_check(argc, argv), 0);
}

#define ZERO                                                                                   \
	"ok=true", "counts.missing=0", "counts.duplicated=0", "counts.out_of_order=0",           \
		"counts.decrypt_failed=0", "counts.unexpected=0", "counts.rejected=0",          \
		"counts.errors=0"

static void test_rooms(void **state)
{
	run(sc_rooms, 0,
	    (const char *const[]){ "rooms", "--rooms", "3", "--messages", "10", NULL });
	expect((const char *const[]){ ZERO, "counts.sent=30", "counts.expected=30",
				      "counts.delivered=30", "latency_ms.delivery.count=30",
				      NULL });
}

static void test_fanout_open_loop(void **state)
{
	run(sc_fanout, 0,
	    (const char *const[]){ "fanout", "--agents", "4", "--messages", "3", "--rate", "50",
				   NULL });
	expect((const char *const[]){ ZERO, "counts.sent=12", "counts.delivered=48", NULL });
}

static void test_dialogue_resume(void **state)
{
	run(sc_dialogue, 0,
	    (const char *const[]){ "dialogue", "--turns", "12", "--reconnect-every", "5", NULL });
	/* B resumes at turns 5 and 10, over sse and ws */
	expect((const char *const[]){ ZERO, "counts.sent=72", "counts.delivered=72",
				      "counts.reconnects=4", NULL });
}

static void test_rtt(void **state)
{
	run(sc_rtt, 0,
	    (const char *const[]){ "rtt", "--samples", "30", "--transport", "ws", NULL });
	expect((const char *const[]){ ZERO, "counts.sent=60", "latency_ms.ws.count=30", NULL });
}

static void test_dm(void **state)
{
	run(sc_dm, 0, (const char *const[]){ "dm", "--senders", "3", "--dms", "4", NULL });
	expect((const char *const[]){ ZERO, "counts.sent=12", "counts.delivered=12",
				      "counts.verified=12", NULL });
}

/* 60 streams exceed the relay's per-IP cap of 40 unless spread over source addresses. */
static void test_connections(void **state)
{
	run(sc_connections, 0,
	    (const char *const[]){ "connections", "--subscribers", "60", "--rooms", "6",
				   "--source-ips", "127.0.0.2-127.0.0.4", NULL });
	expect((const char *const[]){ ZERO, "counts.sent=6", "counts.delivered=60", NULL });
}

static void test_soak(void **state)
{
	run(sc_soak, 0,
	    (const char *const[]){ "soak", "--duration", "2", "--interval", "1", "--pairs", "1",
				   "--turns", "5", "--subscribers", "3", "--rate", "10",
				   "--source-ips", "127.0.0.10-127.0.0.14", NULL });
	expect((const char *const[]){ ZERO, "latency_ms.fanout.count=60", NULL });
}

static void test_post(void **state)
{
	run(sc_post, 0,
	    (const char *const[]){ "post", "--connections", "4", "--messages", "25", NULL });
	expect((const char *const[]){ ZERO, "counts.sent=100", "counts.accepted=100",
				      "latency_ms.post.count=100", NULL });
}

/* The failure path: a relay that is not there is a failed run (exit 1), not a crash. */
static void test_unreachable(void **state)
{
	char *argv[] = { "rooms", "--base", "http://127.0.0.1:1", "--quiet", "--rooms", "1", NULL };

	assert_int_equal(sc_rooms(6, argv), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rooms),	    cmocka_unit_test(test_fanout_open_loop),
		cmocka_unit_test(test_dialogue_resume), cmocka_unit_test(test_rtt),
		cmocka_unit_test(test_dm),	    cmocka_unit_test(test_connections),
		cmocka_unit_test(test_soak),	    cmocka_unit_test(test_post),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
