/* Integration: graceful shutdown (DESIGN.md §10; SSE-13/14, WS-18, ROOM-WAIT-4). SIGTERM (and
 * SIGINT) with open SSE and WebSocket streams and a parked long-poll: the relay exits with
 * status 0 within 10 s, the SSE response ends with its terminating chunk, the WebSocket gets
 * a close frame, and the parked wait gets an ordinary answer. Also with a subscriber that
 * never reads. */
#include "it_util.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/sse.h"
#include "client/ws.h"

static unsigned char key[32];

static int setup(void **state)
{
	if (crypto_init() != 0)
		return -1;
	env_room_key_new(key);
	return 0;
}

static const char *const args[] = {"--worker-threads", "64", "--worker-reserve", "8",
				   "--metrics-token", IT_METRICS_TOKEN, NULL};

/* Stop with sig (SIGTERM via relay_stop, or SIGINT) and return the exit status; asserts it
 * took less than 10 s. */
static int stop_with(struct relay_proc *rp, int sig)
{
	int64_t t0 = clock_mono_ms();
	int rc;
	if (sig == SIGTERM) {
		rc = relay_stop(rp);
	} else {
		assert_int_equal(relay_signal(rp, sig), 0);
		int status = -1;
		rc = -1;
		while (clock_mono_ms() - t0 < 10000) {
			pid_t p = waitpid(rp->pid, &status, WNOHANG);
			if (p == rp->pid) {
				rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
				rp->pid = 0;
				break;
			}
			it_nap_ms(10);
		}
		if (rc == -1) {
			relay_stop(rp); /* still running: SIGTERM, then SIGKILL; reaped */
		} else {
			if (!getenv("SEALROOM_KEEP_LOGS"))
				unlink(rp->log_path);
			memset(rp, 0, sizeof(*rp));
		}
	}
	int64_t ms = clock_mono_ms() - t0;
	print_message("shutdown by signal %d: exit status %d after %lld ms\n", sig, rc, (long long)ms);
	assert_true(ms < 10000);
	return rc;
}

static void streams_then_signal(int sig)
{
	struct relay_proc rp;
	struct http_client *hc = http_client_new(NULL);
	char url[256], path[160];
	assert_non_null(hc);
	it_start(&rp, args);
	int64_t s = it_send(hc, &rp, "SHUTDOWN", key, "before the end", "", NULL);

	it_url(url, sizeof(url), &rp, "/api/rooms/SHUTDOWN/events?name=sse");
	struct sse_conn *sc = sse_open(url, NULL, NULL, 5000);
	assert_non_null(sc);
	struct sse_event_copy ev;
	for (int i = 0; i < 3; i++) { /* replay, ready, presence */
		assert_int_equal(sse_next_event(sc, &ev, 5000), 1);
		sse_event_copy_free(&ev);
	}
	struct ws_conn *w;
	it_url(url, sizeof(url), &rp, "/api/rooms/SHUTDOWN/ws?name=ws&after=999999999999999");
	assert_int_equal(ws_connect(url, NULL, NULL, 5000, &w, NULL, NULL), 0);
	struct ws_msg m;
	for (int i = 0; i < 2; i++) { /* ready, presence */
		assert_int_equal(ws_recv(w, &m, 5000), WS_RECV_TEXT);
		ws_msg_free(&m);
	}
	struct it_async a;
	snprintf(path, sizeof(path), "/api/rooms/SHUTDOWN/wait?after=%lld&timeout=60", (long long)s);
	it_async_get(&a, &rp, path, NULL, 20000);
	int64_t dl = clock_mono_ms() + 5000;
	while (it_metric(hc, &rp, "parked_waiters") != 1) {
		if (clock_mono_ms() > dl)
			fail_msg("the wait never parked");
		it_nap_ms(5);
	}
	http_client_free(hc);

	assert_int_equal(stop_with(&rp, sig), 0);

	/* the parked wait got an ordinary answer */
	assert_true(it_poll(it_async_is_done, &a, 2000));
	it_async_join(&a);
	if (a.rc != 0)
		fail_msg("the parked wait was cut off instead of answered");
	char want[80];
	snprintf(want, sizeof(want), "{\"messages\":[],\"last_seq\":%lld}", (long long)s);
	it_check(&a.resp, 200, want, 0);
	http_resp_free(&a.resp);
	/* SSE: the presence of the WS leaving may come first; then a clean end of the response */
	assert_int_equal(sse_wait_end(sc, 2000), 1);
	while (sse_next_event(sc, &ev, 0) == 1) {
		it_prefix(ev.data, "{\"type\":\"presence\",");
		sse_event_copy_free(&ev);
	}
	if (sse_conn_error(sc))
		fail_msg("SSE stream did not end cleanly: %s", sse_conn_error(sc));
	sse_close(sc);
	/* WS: a close frame (1001 going away), not a dropped connection */
	enum ws_recv_result rc;
	do {
		rc = ws_recv(w, &m, 2000);
		if (rc == WS_RECV_TEXT)
			ws_msg_free(&m);
	} while (rc == WS_RECV_TEXT);
	assert_int_equal(rc, WS_RECV_CLOSE);
	if (m.close_code == 1006)
		fail_msg("the WebSocket was dropped without a close frame");
	assert_int_equal(m.close_code, 1001);
	ws_msg_free(&m);
	ws_free(w);
}

static void test_sigterm_with_streams(void **state)
{
	streams_then_signal(SIGTERM);
}

static void test_sigint_with_streams(void **state)
{
	streams_then_signal(SIGINT);
}

/* A subscriber that never reads (its writer is blocked on a full socket) does not hold the
 * shutdown up. */
static void test_sigterm_with_stuck_reader(void **state)
{
	struct relay_proc rp;
	const char *big[] = {"--worker-threads", "64", "--worker-reserve", "8", "--room-rl-cap", "100000",
			     "--room-rl-refill-per-sec", "100000", "--global-rl-cap", "100000",
			     "--global-rl-refill-per-sec", "100000", NULL};
	struct http_client *hc = http_client_new(NULL);
	assert_non_null(hc);
	it_start(&rp, big);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int small = 4096;
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)rp.port), .sin_addr.s_addr = htonl(0x7f000001)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	static const char req[] = "GET /api/rooms/SHUTSTUK/events HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
	char *plain = malloc(8001);
	assert_non_null(plain);
	memset(plain, 'q', 8000);
	plain[8000] = '\0';
	char *body = it_sealed_body(key, plain, "", NULL);
	struct http_resp r;
	for (int i = 0; i < 1000; i++) { /* ~11 MB: the stuck socket's writer is blocked */
		it_post(hc, &rp, "/api/rooms/SHUTSTUK/messages", body, &r);
		assert_int_equal(r.status, 200);
		http_resp_free(&r);
	}
	free(body);
	free(plain);
	http_client_free(hc);
	assert_int_equal(stop_with(&rp, SIGTERM), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigterm_with_streams),
		cmocka_unit_test(test_sigint_with_streams),
		cmocka_unit_test(test_sigterm_with_stuck_reader),
	};
	return cmocka_run_group_tests_name("it_shutdown", tests, setup, NULL);
}
