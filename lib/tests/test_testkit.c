/* Tests for lib/testkit/relayproc: the relay process fixture (STYLE.md "Fixtures").
 *
 * Most cases run this very executable as a fake relay (TESTKIT_FAKE_RELAY=1 in its
 * environment): it prints the LOG-5 listening line, answers GET /api/health, and exits with
 * a chosen status on SIGTERM. That makes exit-status propagation, start failures and
 * environment/argument passing testable without the real relay. The last case starts the
 * real sealroom-relay (SEALROOM_RELAY_BIN) and checks that it shuts down cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "proto/clock.h"
#include "testkit/relayproc.h"

/* ---- the fake relay (runs in a child process) ---- */

static volatile sig_atomic_t fake_term;

static void fake_on_term(int sig)
{
	fake_term = 1;
}

static void fake_serve_one(int cfd)
{
	char req[2048];
	size_t got = 0;
	struct pollfd pfd = { .fd = cfd, .events = POLLIN };
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json; "
				 "charset=utf-8\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"
				 "{\"status\":\"ok\"}";
	static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 21\r\n"
				 "Connection: close\r\n\r\n{\"error\":\"not found\"}";
	const char *ans;

	while (got < sizeof(req) - 1 && poll(&pfd, 1, 2000) > 0) {
		ssize_t n = read(cfd, req + got, sizeof(req) - 1 - got);

		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[got] = '\0';
	ans = strncmp(req, "GET /api/health ", 16) == 0 ? ok : nf;
	if (write(cfd, ans, strlen(ans)) < 0)
		perror("fake write");
	printf("[fake] %.*s\n", (int)strcspn(req, "\r\n"), req);
	fflush(stdout);
	close(cfd);
}

static int fake_relay_main(int argc, char **argv)
{
	const char *mode = getenv("TESTKIT_FAKE_MODE");
	const char *code = getenv("TESTKIT_FAKE_EXIT");
	const char *var = getenv("FAKE_VAR");
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct sigaction act;
	int lfd, one = 1;

	printf("fake args:");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nfake env FAKE_VAR=%s\n", var ? var : "(unset)");
	fflush(stdout);
	if (mode && strcmp(mode, "die") == 0) {
		fprintf(stderr, "fake: dying before listening\n");
		_exit(3);
	}
	if (!mode || strcmp(mode, "sigdeath") != 0) {
		memset(&act, 0, sizeof(act));
		act.sa_handler = fake_on_term;
		sigaction(SIGTERM, &act, NULL);
	}
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		perror("fake listen");
		return 2;
	}
	printf("sealroom listening on http://127.0.0.1:%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	while (!fake_term) {
		struct pollfd pfd = { .fd = lfd, .events = POLLIN };

		if (poll(&pfd, 1, 50) > 0) {
			int cfd = accept(lfd, NULL, NULL);

			if (cfd >= 0)
				fake_serve_one(cfd);
		}
	}
	printf("fake: SIGTERM, exiting\n");
	fflush(stdout);
	/* _exit: a sanitizer's exit-time leak check has nothing to say about the fake relay,
	 * and on a loaded machine it can stall or fail, which would turn into a false result. */
	_exit(code ? atoi(code) : 0);
}

/* ---- helpers ---- */

static char self_path[4096];

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static long health_status(const char *base)
{
	struct http_client *c = http_client_new(NULL);
	struct http_resp r;
	char url[128];
	long st = -1;

	assert_non_null(c);
	snprintf(url, sizeof(url), "%s/api/health", base);
	if (http_do(c, "GET", url, NULL, NULL, 0, 2000, &r) == 0) {
		st = r.status;
		http_resp_free(&r);
	}
	http_client_free(c);
	return st;
}

static int start_fake(struct relay_proc *rp, const char *const *args, const char *mode,
		      const char *exit_code)
{
	char m[64], e[64];
	const char *env[5];
	int n = 0;

	env[n++] = "TESTKIT_FAKE_RELAY=1";
	env[n++] = "FAKE_VAR=hello world";
	if (mode) {
		snprintf(m, sizeof(m), "TESTKIT_FAKE_MODE=%s", mode);
		env[n++] = m;
	}
	if (exit_code) {
		snprintf(e, sizeof(e), "TESTKIT_FAKE_EXIT=%s", exit_code);
		env[n++] = e;
	}
	env[n] = NULL;
	return relay_start_bin(rp, self_path, args, env);
}

/* ---- cases ---- */

static void test_fake_start_stop_clean(void **state)
{
	static const char *const args[] = { "--foo", "bar baz", NULL };
	struct relay_proc rp;
	char want[64], log_path[256];
	char *log;

	assert_int_equal(start_fake(&rp, args, NULL, NULL), 0);
	assert_false(rp.external);
	assert_true(rp.pid > 0);
	assert_true(rp.port > 0 && rp.port < 65536);
	snprintf(want, sizeof(want), "http://127.0.0.1:%d", rp.port);
	assert_string_equal(rp.base, want);
	assert_int_equal(health_status(rp.base), 200);

	log = relay_log_read(&rp);
	assert_non_null(log);
	/* The fixed arguments come first, then the caller's, unsplit. */
	assert_non_null(strstr(log, "fake args: --host 127.0.0.1 --port 0 --foo bar baz\n"));
	/* Extra environment reaches the child. */
	assert_non_null(strstr(log, "fake env FAKE_VAR=hello world\n"));
	free(log);
	assert_true(relay_log_wait(&rp, "[fake] GET /api/health HTTP/1.1", 2000));
	assert_false(relay_log_wait(&rp, "never printed", 20));

	snprintf(log_path, sizeof(log_path), "%s", rp.log_path);
	assert_int_equal(access(log_path, F_OK), 0);
	assert_int_equal(relay_stop(&rp), 0);
	/* The log is removed and the fixture reset; a second stop is a no-op. */
	assert_int_not_equal(access(log_path, F_OK), 0);
	assert_int_equal(rp.pid, 0);
	assert_int_equal(relay_stop(&rp), 0);
}

static void test_fake_exit_status_propagates(void **state)
{
	struct relay_proc rp;

	assert_int_equal(start_fake(&rp, NULL, NULL, "7"), 0);
	assert_int_equal(relay_stop(&rp), 7);
}

static void test_fake_signal_death_is_minus_one(void **state)
{
	struct relay_proc rp;

	/* No SIGTERM handler: the default action kills it. */
	assert_int_equal(start_fake(&rp, NULL, "sigdeath", NULL), 0);
	assert_int_equal(relay_stop(&rp), -1);
}

static void test_fake_kill_then_stop(void **state)
{
	struct relay_proc rp;

	assert_int_equal(start_fake(&rp, NULL, NULL, NULL), 0);
	assert_int_equal(relay_signal(&rp, SIGKILL), 0);
	assert_int_equal(relay_stop(&rp), -1);
	assert_int_equal(relay_signal(&rp, SIGTERM), -1); /* no child any more */
}

static void test_fake_dies_before_listening(void **state)
{
	struct relay_proc rp;

	memset(&rp, 0x55, sizeof(rp));
	assert_int_equal(start_fake(&rp, NULL, "die", NULL), -1);
	assert_int_equal(rp.pid, 0);
	assert_int_equal(rp.port, 0);
	assert_string_equal(rp.log_path, "");
}

static void test_missing_binary_fails(void **state)
{
	struct relay_proc rp;

	assert_int_equal(relay_start_bin(&rp, "/nonexistent/sealroom-relay", NULL, NULL), -1);
	assert_int_equal(relay_start_bin(&rp, NULL, NULL, NULL), -1);
	assert_int_equal(rp.pid, 0);
}

static void test_keep_logs(void **state)
{
	struct relay_proc rp;
	char log_path[256];

	setenv("SEALROOM_KEEP_LOGS", "1", 1);
	assert_int_equal(start_fake(&rp, NULL, NULL, NULL), 0);
	snprintf(log_path, sizeof(log_path), "%s", rp.log_path);
	assert_int_equal(relay_stop(&rp), 0);
	unsetenv("SEALROOM_KEEP_LOGS");
	assert_int_equal(access(log_path, F_OK), 0);
	unlink(log_path);
}

static void test_log_count(void **state)
{
	struct relay_proc rp;

	assert_int_equal(start_fake(&rp, NULL, NULL, NULL), 0);
	assert_int_equal(health_status(rp.base), 200);
	assert_int_equal(health_status(rp.base), 200);
	/* relay_start's own readiness probe plus our two; the fake logs after answering. */
	for (int64_t end = clock_mono_ms() + 2000;
	     relay_log_count(&rp, "[fake] GET /api/health") < 3 && clock_mono_ms() < end;)
		nap_ms(2);
	assert_int_equal(relay_log_count(&rp, "[fake] GET /api/health"), 3);
	assert_int_equal(relay_log_count(&rp, "no such text"), 0);
	assert_int_equal(relay_stop(&rp), 0);
}

static void test_external_base(void **state)
{
	struct relay_proc fake, ext;
	char base[80];

	assert_int_equal(start_fake(&fake, NULL, NULL, NULL), 0);
	snprintf(base, sizeof(base), "%s/", fake.base); /* a trailing slash is tolerated */
	setenv("SEALROOM_BASE", base, 1);
	assert_int_equal(relay_start(&ext, NULL), 0);
	unsetenv("SEALROOM_BASE");
	assert_true(ext.external);
	assert_int_equal(ext.pid, 0);
	assert_int_equal(ext.port, fake.port);
	assert_string_equal(ext.base, fake.base);
	assert_null(relay_log_read(&ext));
	assert_int_equal(relay_stop(&ext), 0);
	/* Stopping the external fixture left the relay alone. */
	assert_int_equal(health_status(fake.base), 200);
	assert_int_equal(relay_stop(&fake), 0);
}

static void test_external_base_unreachable(void **state)
{
	struct relay_proc ext;

	/* Port 1 on loopback: refused; the fixture gives up after RELAY_EXTERNAL_TIMEOUT_MS. */
	setenv("SEALROOM_BASE", "http://127.0.0.1:1", 1);
	assert_int_equal(relay_start(&ext, NULL), -1);
	unsetenv("SEALROOM_BASE");
	assert_false(ext.external);
}

static void test_bin_path_env_override(void **state)
{
	assert_string_equal(relay_bin_path("/compiled/default"), "/compiled/default");
	setenv("SEALROOM_RELAY_BIN", "/from/env", 1);
	assert_string_equal(relay_bin_path("/compiled/default"), "/from/env");
	setenv("SEALROOM_RELAY_BIN", "", 1);
	assert_string_equal(relay_bin_path("/compiled/default"), "/compiled/default");
	unsetenv("SEALROOM_RELAY_BIN");
	assert_null(relay_bin_path(NULL));
}

static void test_real_relay_health_and_clean_stop(void **state)
{
	/* CFG-1: settings are environment variables too. A small worker budget keeps the
	 * start fast and within the thread limits of a machine running many relays. */
	static const char *const env[] = { "WORKER_THREADS=64", "WORKER_RESERVE=16", NULL };
	struct relay_proc rp;
	struct http_client *c;
	struct http_resp r;
	char url[128];

	assert_int_equal(relay_start_env(&rp, NULL, env), 0);
	assert_true(rp.port > 0);
	c = http_client_new(NULL);
	assert_non_null(c);
	snprintf(url, sizeof(url), "%s/api/health", rp.base);
	assert_int_equal(http_do(c, "GET", url, NULL, NULL, 0, 5000, &r), 0);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	http_client_free(c);
	/* DESIGN.md §10: SIGTERM ends the relay with status 0. */
	assert_int_equal(relay_stop(&rp), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_start_stop_clean),
		cmocka_unit_test(test_fake_exit_status_propagates),
		cmocka_unit_test(test_fake_signal_death_is_minus_one),
		cmocka_unit_test(test_fake_kill_then_stop),
		cmocka_unit_test(test_fake_dies_before_listening),
		cmocka_unit_test(test_missing_binary_fails),
		cmocka_unit_test(test_keep_logs),
		cmocka_unit_test(test_log_count),
		cmocka_unit_test(test_external_base),
		cmocka_unit_test(test_external_base_unreachable),
		cmocka_unit_test(test_bin_path_env_override),
		cmocka_unit_test(test_real_relay_health_and_clean_stop),
	};
	ssize_t n;

	if (getenv("TESTKIT_FAKE_RELAY"))
		return fake_relay_main(argc, argv); /* never returns normally */
	/* A suite-wide SEALROOM_BASE would turn the fake-relay cases into external ones. */
	if (getenv("SEALROOM_BASE")) {
		fprintf(stderr, "test_testkit: unset SEALROOM_BASE; this suite tests the fixture\n");
		unsetenv("SEALROOM_BASE");
	}
	n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n <= 0)
		return 1;
	self_path[n] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
