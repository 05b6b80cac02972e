/* lib/client/sse: the epoll-driven stream pool and the blocking single-stream API, against an
 * in-test TCP server that sends canned SSE responses byte for byte: chunk boundaries at and
 * inside events (SSE-12), split TCP writes, error statuses (SSE-1/SSE-2), close-delimited
 * bodies, broken chunk framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/buf.h"
#include "client/rawhttp.h"
#include "client/sse.h"
#include "proto/clock.h"
#include "testkit/tcpsrv.h"

#define SSE_HEAD                                                                                   \
	"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"                                   \
	"Cache-Control: no-cache, no-transform\r\nTransfer-Encoding: chunked\r\n"

static int hold_closed; /* atomic: /hold connections that saw the client go away */

static const char *const basic_chunks[] = {
	"id: 1\ndata: {\"seq\":1}\n\n",
	"data: {\"type\":\"ready\"}\n\n",
	": keepalive\n\n",
	/* Two events in one chunk, CRLF line ends, a multi-line data field. */
	"id: 2\r\ndata: a\r\ndata: b\r\n\r\nid: 3\ndata: {\"seq\":3}\n\n",
};

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int64_t dl(void)
{
	return clock_mono_ms() + 3000;
}

static void send_chunk(int fd, const char *data)
{
	char head[32];

	snprintf(head, sizeof(head), "%zx\r\n", strlen(data));
	raw_sends(fd, head, dl());
	raw_sends(fd, data, dl());
	raw_sends(fd, "\r\n", dl());
}

static void sse_handler(int fd, unsigned conn_no, void *ud)
{
	struct cbuf in;
	const char *req;
	long n;

	cbuf_init(&in, 65536);
	n = tcpsrv_read_request(fd, &in, 5000);
	if (n <= 0)
		goto out;
	req = in.p;
	if (strncmp(req, "GET /basic ", 11) == 0) {
		raw_sends(fd, SSE_HEAD, dl());
		if (strstr(req, "\r\nX-Custom: 1\r\n") && strstr(req, "\r\nAccept: text/event-stream\r\n"))
			raw_sends(fd, "X-Saw-Custom: yes\r\n", dl());
		raw_sends(fd, "\r\n", dl());
		/* send_chunk writes size line, data and CRLF as separate TCP writes. */
		for (size_t i = 0; i < sizeof(basic_chunks) / sizeof(basic_chunks[0]); i++)
			send_chunk(fd, basic_chunks[i]);
		raw_sends(fd, "0\r\n\r\n", dl());
	} else if (strncmp(req, "GET /split ", 11) == 0) {
		raw_sends(fd, SSE_HEAD "\r\n", dl());
		send_chunk(fd, "id: 5\ndata: {\"a\"");
		send_chunk(fd, ":1}\n\n");
		send_chunk(fd, "data: whole\n\n");
		raw_sends(fd, "0\r\n\r\n", dl());
	} else if (strncmp(req, "GET /429 ", 9) == 0) {
		static const char b[] = "{\"error\":\"too many concurrent streams from this IP\"}";
		char resp[256];

		snprintf(resp, sizeof(resp),
			 "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: "
			 "application/json; charset=utf-8\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(b), b);
		raw_sends(fd, resp, dl());
	} else if (strncmp(req, "GET /plain ", 11) == 0) {
		raw_sends(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
			      "Connection: close\r\n\r\ndata: x\n\ndata: y\n\n", dl());
		goto out; /* close delimits the body */
	} else if (strncmp(req, "GET /badchunk ", 14) == 0) {
		raw_sends(fd, SSE_HEAD "\r\n", dl());
		send_chunk(fd, "data: one\n\n");
		raw_sends(fd, "zz\r\ndata: two\n\n\r\n", dl());
	} else if (strncmp(req, "GET /big ", 9) == 0) {
		raw_sends(fd, SSE_HEAD "\r\n", dl());
		send_chunk(fd, "data: short\n\n");
		send_chunk(fd, "data: this event is longer than the sixty-four bytes allowed "
			       "by the pool's max_event_bytes setting\n\n");
	} else if (strncmp(req, "GET /count/", 11) == 0) {
		int k = atoi(req + 11);

		raw_sends(fd, SSE_HEAD "\r\n", dl());
		for (int i = 1; i <= k; i++) {
			char ev[64];

			snprintf(ev, sizeof(ev), "id: %d\ndata: {\"seq\":%d}\n\n", i, i);
			send_chunk(fd, ev);
		}
		raw_sends(fd, "0\r\n\r\n", dl());
	} else if (strncmp(req, "GET /hold ", 10) == 0) {
		raw_sends(fd, SSE_HEAD "\r\n", dl());
		send_chunk(fd, "data: first\n\n");
		if (raw_wait_closed(fd, clock_mono_ms() + 10000) == 1)
			__atomic_add_fetch(&hold_closed, 1, __ATOMIC_ACQ_REL);
		goto out;
	}
	raw_wait_closed(fd, clock_mono_ms() + 3000);
out:
	cbuf_free(&in);
}

static struct tcpsrv *srv;

static int group_setup(void **state)
{
	srv = tcpsrv_start(sse_handler, NULL);
	return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
	tcpsrv_stop(srv);
	return 0;
}

static void url(char *buf, size_t cap, const char *path)
{
	snprintf(buf, cap, "http://127.0.0.1:%d%s", tcpsrv_port(srv), path);
}

/* ---- blocking API ---- */

static void expect_event(struct sse_conn *c, const char *data, const char *id, bool comment)
{
	struct sse_event_copy ev;

	assert_int_equal(sse_next(c, &ev, 3000), 1);
	assert_string_equal(ev.data, data);
	assert_int_equal(ev.data_len, strlen(data));
	assert_int_equal(ev.is_comment, comment);
	if (id) {
		assert_true(ev.has_id);
		assert_string_equal(ev.id, id);
	} else {
		assert_false(ev.has_id);
		assert_null(ev.id);
	}
	assert_true(ev.recv_ns > 0);
	sse_event_copy_free(&ev);
}

static void test_basic_stream(void **state)
{
	static const char *const hdrs[] = { "X-Custom: 1", NULL };
	struct sse_conn *c;
	struct sse_event_copy ev;
	struct sse_stats st;
	char u[128];
	size_t n;
	const char *v;

	url(u, sizeof(u), "/basic");
	c = sse_open(u, hdrs, NULL, 3000);
	assert_non_null(c);
	assert_int_equal(sse_conn_status(c), 200);
	assert_true(sse_conn_chunked(c));
	v = sse_conn_header(c, "content-type", &n);
	assert_non_null(v);
	assert_int_equal(n, strlen("text/event-stream"));
	assert_memory_equal(v, "text/event-stream", n);
	/* The request carried our header and the default Accept. */
	assert_int_equal(sse_conn_header_count(c, "X-Saw-Custom"), 1);

	expect_event(c, "{\"seq\":1}", "1", false);
	expect_event(c, "{\"type\":\"ready\"}", NULL, false);
	expect_event(c, "keepalive", NULL, true);
	expect_event(c, "a\nb", "2", false);
	expect_event(c, "{\"seq\":3}", "3", false);
	assert_int_equal(sse_next(c, &ev, 3000), -1);
	assert_int_equal(sse_next(c, &ev, 0), -1);
	assert_null(sse_conn_error(c));

	st = sse_conn_stats(c);
	assert_int_equal(st.chunks, 4);
	assert_int_equal(st.chunks_split, 0);
	assert_int_equal(st.events, 4);
	assert_int_equal(st.comments, 1);
	/* The raw capture holds the decoded stream exactly. */
	v = sse_conn_raw(c, &n);
	assert_int_equal(n, st.bytes);
	for (size_t i = 0, off = 0; i < sizeof(basic_chunks) / sizeof(basic_chunks[0]); i++) {
		size_t l = strlen(basic_chunks[i]);

		assert_true(off + l <= n);
		assert_memory_equal(v + off, basic_chunks[i], l);
		off += l;
		if (i + 1 == sizeof(basic_chunks) / sizeof(basic_chunks[0]))
			assert_int_equal(off, n);
	}
	sse_close(c);
}

static void test_split_event_detected(void **state)
{
	struct sse_conn *c;
	struct sse_stats st;
	char u[128];

	url(u, sizeof(u), "/split");
	c = sse_open(u, NULL, NULL, 3000);
	assert_non_null(c);
	assert_int_equal(sse_wait_end(c, 3000), 1);
	/* Events still parse correctly across chunks... */
	expect_event(c, "{\"a\":1}", "5", false);
	expect_event(c, "whole", NULL, false);
	/* ...but the chunk that ended inside the event is counted (SSE-12). */
	st = sse_conn_stats(c);
	assert_int_equal(st.chunks, 3);
	assert_int_equal(st.chunks_split, 1);
	sse_close(c);
}

static void test_error_status_keeps_body(void **state)
{
	struct sse_conn *c;
	struct sse_event_copy ev;
	char u[128];
	const char *b;
	size_t n;

	url(u, sizeof(u), "/429");
	c = sse_open(u, NULL, NULL, 3000);
	assert_non_null(c);
	assert_int_equal(sse_conn_status(c), 429);
	assert_false(sse_conn_chunked(c));
	b = sse_conn_raw(c, &n);
	assert_string_equal(b, "{\"error\":\"too many concurrent streams from this IP\"}");
	assert_int_equal(n, strlen(b));
	b = sse_conn_header(c, "Retry-After", &n);
	assert_non_null(b);
	assert_memory_equal(b, "5", n);
	assert_int_equal(sse_next(c, &ev, 100), -1);
	sse_close(c);
}

static void test_close_delimited_stream(void **state)
{
	struct sse_conn *c;
	struct sse_event_copy ev;
	char u[128];

	url(u, sizeof(u), "/plain");
	c = sse_open(u, NULL, NULL, 3000);
	assert_non_null(c);
	assert_false(sse_conn_chunked(c));
	expect_event(c, "x", NULL, false);
	expect_event(c, "y", NULL, false);
	assert_int_equal(sse_next(c, &ev, 3000), -1);
	assert_int_equal(sse_conn_stats(c).chunks, 0);
	sse_close(c);
}

static void test_bad_chunk_is_error(void **state)
{
	struct sse_conn *c;
	struct sse_event_copy ev;
	char u[128];

	url(u, sizeof(u), "/badchunk");
	c = sse_open(u, NULL, NULL, 3000);
	assert_non_null(c);
	expect_event(c, "one", NULL, false);
	assert_int_equal(sse_next(c, &ev, 3000), -1);
	assert_non_null(sse_conn_error(c));
	assert_string_equal(sse_conn_error(c), "chunk size expected");
	sse_close(c);
}

static void test_next_timeout_and_close(void **state)
{
	struct sse_conn *c;
	struct sse_event_copy ev;
	char u[128];
	int64_t t0, dt;
	int before = __atomic_load_n(&hold_closed, __ATOMIC_ACQUIRE);

	url(u, sizeof(u), "/hold");
	c = sse_open(u, NULL, NULL, 3000);
	assert_non_null(c);
	expect_event(c, "first", NULL, false);
	t0 = clock_mono_ms();
	assert_int_equal(sse_next(c, &ev, 200), 0);
	dt = clock_mono_ms() - t0;
	assert_true(dt >= 195 && dt < 2000);
	assert_int_equal(sse_next(c, &ev, 0), 0);
	assert_int_equal(sse_wait_end(c, 50), 0);
	sse_close(c);
	/* The server sees the client go away. */
	for (int64_t end = clock_mono_ms() + 3000;
	     __atomic_load_n(&hold_closed, __ATOMIC_ACQUIRE) == before && clock_mono_ms() < end;)
		nap_ms(2);
	assert_int_equal(__atomic_load_n(&hold_closed, __ATOMIC_ACQUIRE), before + 1);
}

static void test_open_refused(void **state)
{
	char err[256] = "";

	assert_null(sse_open_ex("http://127.0.0.1:1/x", NULL, NULL, 2000, err, sizeof(err)));
	assert_true(strlen(err) > 0);
}

/* ---- pool ---- */

#define POOL_STREAMS 40
#define POOL_EVENTS 25

struct pool_tally {
	struct sse_pool *p;
	int opened, closed, events, out_of_order, clean;
	int last_seq[POOL_STREAMS];
	int reconnects_left;
	char u[128];
};

static void tally_event(void *pud, struct sse_stream *s, void *sud, const struct sse_event *ev)
{
	struct pool_tally *t = pud;
	int i = (int)(intptr_t)sud;
	int seq = atoi(ev->id);

	assert_true(ev->has_id);
	if (seq != t->last_seq[i] + 1)
		t->out_of_order++;
	t->last_seq[i] = seq;
	t->events++;
}

static void tally_open(void *pud, struct sse_stream *s, void *sud, long status)
{
	struct pool_tally *t = pud;

	if (status == 200)
		t->opened++;
}

static void tally_close(void *pud, struct sse_stream *s, void *sud, long status,
			const char *error)
{
	struct pool_tally *t = pud;

	t->closed++;
	if (!error && status == 200)
		t->clean++;
	/* Removing and adding streams from inside callbacks is allowed. */
	sse_pool_remove(t->p, s);
	if (t->reconnects_left > 0) {
		t->reconnects_left--;
		t->last_seq[(intptr_t)sud] = 0;
		assert_non_null(sse_pool_add(t->p, t->u, NULL, NULL, sud));
	}
}

static void run_until(struct pool_tally *t, int closed)
{
	int64_t end = clock_mono_ms() + 10000;

	while (t->closed < closed && clock_mono_ms() < end)
		assert_true(sse_pool_run(t->p, 100) >= 0);
}

static void test_pool_many_streams_exact_totals(void **state)
{
	struct pool_tally t = { 0 };
	struct sse_pool_cfg cfg = { .on_event = tally_event, .on_open = tally_open,
				    .on_close = tally_close, .ud = &t,
				    .recv_buffer_bytes = 4096 };
	char path[32];

	snprintf(path, sizeof(path), "/count/%d", POOL_EVENTS);
	url(t.u, sizeof(t.u), path);
	t.p = sse_pool_new(&cfg);
	assert_non_null(t.p);
	for (intptr_t i = 0; i < POOL_STREAMS; i++)
		assert_non_null(sse_pool_add(t.p, t.u, NULL, i % 2 ? "127.0.0.2" : NULL, (void *)i));
	assert_int_equal(sse_pool_count(t.p), POOL_STREAMS);
	run_until(&t, POOL_STREAMS);
	assert_int_equal(t.opened, POOL_STREAMS);
	assert_int_equal(t.closed, POOL_STREAMS);
	assert_int_equal(t.clean, POOL_STREAMS);
	assert_int_equal(t.events, POOL_STREAMS * POOL_EVENTS);
	assert_int_equal(t.out_of_order, 0);
	for (int i = 0; i < POOL_STREAMS; i++)
		assert_int_equal(t.last_seq[i], POOL_EVENTS);
	assert_int_equal(sse_pool_count(t.p), 0);
	sse_pool_free(t.p);
}

static void test_pool_reconnect_from_callback(void **state)
{
	struct pool_tally t = { .reconnects_left = 3 };
	struct sse_pool_cfg cfg = { .on_event = tally_event, .on_open = tally_open,
				    .on_close = tally_close, .ud = &t };

	url(t.u, sizeof(t.u), "/count/4");
	t.p = sse_pool_new(&cfg);
	assert_non_null(t.p);
	assert_non_null(sse_pool_add(t.p, t.u, NULL, NULL, (void *)(intptr_t)0));
	run_until(&t, 4);
	assert_int_equal(t.closed, 4);
	assert_int_equal(t.opened, 4);
	assert_int_equal(t.events, 16);
	assert_int_equal(t.out_of_order, 0);
	assert_int_equal(sse_pool_count(t.p), 0);
	sse_pool_free(t.p);
}

struct big_tally {
	int events, closed;
	char error[128];
};

static void big_event(void *pud, struct sse_stream *s, void *sud, const struct sse_event *ev)
{
	((struct big_tally *)pud)->events++;
}

static void big_close(void *pud, struct sse_stream *s, void *sud, long status, const char *error)
{
	struct big_tally *t = pud;

	t->closed++;
	snprintf(t->error, sizeof(t->error), "%s", error ? error : "(none)");
}

static void test_pool_event_cap(void **state)
{
	struct big_tally t = { 0 };
	struct sse_pool_cfg cfg = { .on_event = big_event, .on_close = big_close, .ud = &t,
				    .max_event_bytes = 64 };
	struct sse_pool *p = sse_pool_new(&cfg);
	struct sse_stream *s;
	char u[128];

	assert_non_null(p);
	url(u, sizeof(u), "/big");
	s = sse_pool_add(p, u, NULL, NULL, NULL);
	assert_non_null(s);
	for (int64_t end = clock_mono_ms() + 5000; !t.closed && clock_mono_ms() < end;)
		assert_true(sse_pool_run(p, 100) >= 0);
	assert_int_equal(t.events, 1);
	assert_int_equal(t.closed, 1);
	assert_string_equal(t.error, "event larger than max_event_bytes");
	/* The ended stream stays readable until removed. */
	assert_true(sse_stream_ended(s));
	assert_int_equal(sse_stream_status(s), 200);
	assert_int_equal(sse_stream_stats(s).events, 1);
	assert_int_equal(sse_pool_count(p), 1);
	sse_pool_remove(p, s);
	assert_int_equal(sse_pool_count(p), 0);
	sse_pool_free(p);
}

static void test_pool_remove_live_stream(void **state)
{
	struct big_tally t = { 0 };
	struct sse_pool_cfg cfg = { .on_event = big_event, .on_close = big_close, .ud = &t };
	struct sse_pool *p = sse_pool_new(&cfg);
	struct sse_stream *s;
	char u[128];
	int before = __atomic_load_n(&hold_closed, __ATOMIC_ACQUIRE);

	assert_non_null(p);
	url(u, sizeof(u), "/hold");
	s = sse_pool_add(p, u, NULL, NULL, NULL);
	for (int64_t end = clock_mono_ms() + 5000; !t.events && clock_mono_ms() < end;)
		assert_true(sse_pool_run(p, 100) >= 0);
	assert_int_equal(t.events, 1);
	sse_pool_remove(p, s);
	assert_int_equal(t.closed, 0); /* no on_close for a removed stream */
	for (int64_t end = clock_mono_ms() + 3000;
	     __atomic_load_n(&hold_closed, __ATOMIC_ACQUIRE) == before && clock_mono_ms() < end;)
		assert_true(sse_pool_run(p, 2) >= 0);
	assert_int_equal(__atomic_load_n(&hold_closed, __ATOMIC_ACQUIRE), before + 1);
	sse_pool_free(p);
}

static void *waker(void *arg)
{
	sse_pool_wake(arg);
	return NULL;
}

static void test_pool_wake(void **state)
{
	struct sse_pool_cfg cfg = { 0 };
	struct sse_pool *p = sse_pool_new(&cfg);
	pthread_t th;
	int64_t t0;

	assert_non_null(p);
	/* Without a wake, an idle run lasts its full timeout. */
	t0 = clock_mono_ms();
	assert_int_equal(sse_pool_run(p, 100), 0);
	assert_true(clock_mono_ms() - t0 >= 95);
	assert_int_equal(pthread_create(&th, NULL, waker, p), 0);
	t0 = clock_mono_ms();
	assert_int_equal(sse_pool_run(p, 5000), 0);
	assert_true(clock_mono_ms() - t0 < 2500);
	pthread_join(th, NULL);
	sse_pool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_stream),
		cmocka_unit_test(test_split_event_detected),
		cmocka_unit_test(test_error_status_keeps_body),
		cmocka_unit_test(test_close_delimited_stream),
		cmocka_unit_test(test_bad_chunk_is_error),
		cmocka_unit_test(test_next_timeout_and_close),
		cmocka_unit_test(test_open_refused),
		cmocka_unit_test(test_pool_many_streams_exact_totals),
		cmocka_unit_test(test_pool_reconnect_from_callback),
		cmocka_unit_test(test_pool_event_cap),
		cmocka_unit_test(test_pool_remove_live_stream),
		cmocka_unit_test(test_pool_wake),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
