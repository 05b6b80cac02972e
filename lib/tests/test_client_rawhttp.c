/* lib/client/rawhttp and lib/client/chunked: the strict response parser and chunk decoder
 * (table-driven, every input also fed byte by byte), URL splitting, and the raw socket calls
 * against an in-test server (pipelining, close detection, source address binding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/buf.h"
#include "client/chunked.h"
#include "client/rawhttp.h"
#include "proto/clock.h"
#include "testkit/tcpsrv.h"

/* ---- chunked decoder ---- */

struct collect {
	struct cbuf out;
	int chunk_ends;
};

static int collect_cb(void *ud, const char *data, size_t n, bool chunk_end)
{
	struct collect *c = ud;

	if (chunk_end)
		c->chunk_ends++;
	return cbuf_add(&c->out, data, n);
}

static void test_chunked_table(void **state)
{
	static const struct {
		const char *in;
		long done;		/* 1 complete, 0 needs more, -1 error */
		const char *body;	/* decoded (when done >= 0) */
		long chunks;
		size_t consumed;	/* when done == 1 */
		const char *error;	/* when done == -1 */
	} t[] = {
		{ "5\r\nhello\r\n0\r\n\r\n", 1, "hello", 1, 15, NULL },
		{ "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", 1, "hello world", 2, 26, NULL },
		{ "A;ext=1\r\n0123456789\r\n0\r\n\r\n", 1, "0123456789", 1, 26, NULL },
		{ "3\r\nabc\r\n0\r\nTrailer: x\r\n\r\n", 1, "abc", 1, 25, NULL },
		{ "0\r\n\r\n", 1, "", 0, 5, NULL },
		{ "ff\r\nab", 0, "ab", 0, 0, NULL },
		{ "5\r\nhello\r\n", 0, "hello", 1, 0, NULL },
		{ "zz\r\n", -1, NULL, 0, 0, "chunk size expected" },
		{ "5\nhello\r\n", -1, NULL, 0, 0, "bad chunk size line" },
		{ "3\r\nabcd\r\n", -1, NULL, 0, 0, "chunk data longer than its size" },
		{ "3\r\nabc\rX", -1, NULL, 0, 0, "CR without LF after chunk data" },
		{ "1234567890abcdef0\r\n", -1, NULL, 0, 0, "chunk size too long" },
		{ "-1\r\n", -1, NULL, 0, 0, "chunk size expected" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		/* pass 0: whole input at once; pass 1: one byte per feed */
		for (int pass = 0; pass < 2; pass++) {
			struct chunked_dec d;
			struct collect c = { .chunk_ends = 0 };
			size_t len = strlen(t[i].in), used = 0;
			ssize_t rc = 0;

			cbuf_init(&c.out, 4096);
			chunked_init(&d);
			if (pass == 0) {
				rc = chunked_feed(&d, t[i].in, len, collect_cb, &c);
				used = rc > 0 ? (size_t)rc : 0;
			} else {
				for (size_t k = 0; k < len && !d.done; k++) {
					rc = chunked_feed(&d, t[i].in + k, 1, collect_cb, &c);
					if (rc < 0)
						break;
					used += (size_t)rc;
				}
			}
			if (t[i].done < 0) {
				assert_int_equal(rc, -1);
				assert_string_equal(d.error, t[i].error);
				/* A failed decoder stays failed. */
				assert_int_equal(chunked_feed(&d, "0\r\n\r\n", 5, collect_cb, &c), -1);
			} else {
				assert_true(rc >= 0);
				assert_int_equal(d.done, t[i].done == 1);
				assert_int_equal(c.out.len, strlen(t[i].body));
				if (c.out.len)
					assert_memory_equal(c.out.p, t[i].body, c.out.len);
				assert_int_equal(d.chunks, t[i].chunks);
				assert_int_equal(c.chunk_ends, t[i].chunks);
				if (t[i].done == 1)
					assert_int_equal(used, t[i].consumed);
			}
			cbuf_free(&c.out);
		}
	}
}

/* ---- response parser ---- */

static void test_parse_response_table(void **state)
{
	static const struct {
		const char *in;
		int eof, head;		/* ints, not bools: no padding in the table */
		int rc;
		int status;
		const char *body;
		int chunked, until_eof;
		size_t consumed;
		const char *hdr;	/* a header name to look up, with want value */
		const char *hval;
	} t[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", false, false, 1, 200, "hi",
		  false, false, 40, "content-length", "2" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1", false, false, 1, 200,
		  "hi", false, false, 40, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi", false, false, 0, 0, "", false,
		  false, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi", true, false, -1, 0, "", false,
		  false, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", false,
		  false, 1, 200, "hi", true, false, 59, "Transfer-Encoding", "chunked" },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", false,
		  false, 1, 200, "", true, false, 58, NULL, NULL },
		{ "HTTP/1.0 200 OK\r\nX: y\r\n\r\nuntil close", false, false, 0, 0, "", false,
		  false, 0, NULL, NULL },
		{ "HTTP/1.0 200 OK\r\nX: y\r\n\r\nuntil close", true, false, 1, 200, "until close",
		  false, true, 36, "x", "y" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", false, true, 1, 200, "", false,
		  false, 41, NULL, NULL },
		{ "HTTP/1.1 204 No Content\r\n\r\n", false, false, 1, 204, "", false, false, 27, NULL,
		  NULL },
		{ "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\nContent-Length: 2\r\n"
		  "\r\n{}",
		  false, false, 1, 413, "{}", false, false, 80, NULL, NULL },
		{ "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00", false,
		  false, 1, 101, "", false, false, 56, "upgrade", "websocket" },
		{ "HTTP/1.1 200 OK\nContent-Length: 1\n\nx", false, false, 1, 200, "x", false, false,
		  36, "Content-Length", "1" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", false, false,
		  -1, 0, "", false, false, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx", false, false, -1, 0, "", false,
		  false, 0, NULL, NULL },
		{ "HTTP/2 200\r\n\r\n", false, false, -1, 0, "", false, false, 0, NULL, NULL },
		{ "HTTP/1.1 20 OK\r\n\r\n", false, false, -1, 0, "", false, false, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxx\r\n", false, false, -1, 0,
		  NULL, false, false, 0, NULL, NULL },
		{ "HTTP/1.1 200", false, false, 0, 0, "", false, false, 0, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct raw_resp r;
		size_t len = strlen(t[i].in);
		int rc;

		if (strstr(t[i].in, "\x81\x00"))
			len = strstr(t[i].in, "\x81") - t[i].in + 2;
		memset(&r, 0x5a, sizeof(r));
		rc = raw_parse_response(t[i].in, len, t[i].eof, t[i].head, &r);
		assert_int_equal(rc, t[i].rc);
		if (rc != 1)
			continue;
		assert_int_equal(r.status, t[i].status);
		assert_string_equal(r.body, t[i].body);
		assert_int_equal(r.body_len, strlen(t[i].body));
		assert_int_equal(r.chunked, t[i].chunked);
		assert_int_equal(r.until_eof, t[i].until_eof);
		assert_int_equal(r.consumed, t[i].consumed);
		assert_memory_equal(r.headers, "HTTP/1.", 7);
		if (t[i].hdr) {
			size_t vl;
			const char *v = raw_header(&r, t[i].hdr, &vl);

			assert_non_null(v);
			assert_int_equal(vl, strlen(t[i].hval));
			assert_memory_equal(v, t[i].hval, vl);
		}
		/* Every proper prefix of a complete response without EOF needs more bytes. */
		for (size_t cut = 0; cut < r.consumed && !t[i].until_eof && !t[i].head; cut++) {
			struct raw_resp p;

			assert_int_equal(raw_parse_response(t[i].in, cut, false, false, &p), 0);
		}
		raw_resp_free(&r);
		assert_null(r.body);
	}
}

static void test_split_url_table(void **state)
{
	static const struct {
		const char *url;
		long rc;
		const char *host;
		long port;
		const char *path;
	} t[] = {
		{ "http://127.0.0.1:8080/api/health", 0, "127.0.0.1", 8080, "/api/health" },
		{ "ws://localhost/api/rooms/ROOM/ws?after=5", 0, "localhost", 80,
		  "/api/rooms/ROOM/ws?after=5" },
		{ "http://[::1]:3000/x", 0, "::1", 3000, "/x" },
		{ "http://h:1?q=1", 0, "h", 1, "?q=1" },
		{ "http://h:2", 0, "h", 2, "/" },
		{ "http://h:0/", -1, NULL, 0, NULL },
		{ "http://h:70000/", -1, NULL, 0, NULL },
		{ "http://h:12x/", -1, NULL, 0, NULL },
		{ "http:///x", -1, NULL, 0, NULL },
		{ "h:1/x", -1, NULL, 0, NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char host[64] = "";
		int port = -1;
		const char *path = NULL;

		assert_int_equal(raw_split_url(t[i].url, host, sizeof(host), &port, &path), t[i].rc);
		if (t[i].rc)
			continue;
		assert_string_equal(host, t[i].host);
		assert_int_equal(port, t[i].port);
		assert_string_equal(path, t[i].path);
	}
}

/* ---- sockets ---- */

static void raw_handler(int fd, unsigned conn_no, void *ud)
{
	struct cbuf in;
	long n;

	cbuf_init(&in, 65536);
	n = tcpsrv_read_request(fd, &in, 5000);
	if (n <= 0)
		goto out;
	if (strncmp(in.p, "GET /pipeline ", 14) == 0) {
		/* Two answers in one write; the second is chunked. */
		raw_sends(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\noneHTTP/1.1 404 Not "
			      "Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n",
			  clock_mono_ms() + 2000);
	} else if (strncmp(in.p, "GET /close ", 11) == 0) {
		raw_sends(fd, "HTTP/1.0 200 OK\r\n\r\nbody until close", clock_mono_ms() + 2000);
		goto out;
	} else if (strncmp(in.p, "GET /peer ", 10) == 0) {
		char ip[64], resp[128];

		tcpsrv_peer_ip(fd, ip, sizeof(ip));
		snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(ip), ip);
		raw_sends(fd, resp, clock_mono_ms() + 2000);
	} else if (strncmp(in.p, "GET /nothing ", 13) == 0) {
		goto out; /* close without answering */
	}
	raw_wait_closed(fd, clock_mono_ms() + 5000);
out:
	cbuf_free(&in);
}

static struct tcpsrv *srv;

static int sock_setup(void **state)
{
	srv = tcpsrv_start(raw_handler, NULL);
	return srv ? 0 : -1;
}

static int sock_teardown(void **state)
{
	tcpsrv_stop(srv);
	return 0;
}

static int conn(const char *src)
{
	int fd = raw_connect("127.0.0.1", tcpsrv_port(srv), src, 2000);

	assert_true(fd >= 0);
	return fd;
}

static void test_pipelined_responses(void **state)
{
	int fd = conn(NULL);
	struct cbuf in;
	struct raw_resp r;

	assert_int_equal(raw_sends(fd, "GET /pipeline HTTP/1.1\r\nHost: x\r\n\r\n",
				   clock_mono_ms() + 2000), 0);
	cbuf_init(&in, 1u << 20);
	assert_int_equal(raw_read_response(fd, &in, false, clock_mono_ms() + 3000, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "one");
	raw_resp_free(&r);
	/* The second answer was already buffered in `in`. */
	assert_int_equal(raw_read_response(fd, &in, false, clock_mono_ms() + 3000, &r), 0);
	assert_int_equal(r.status, 404);
	assert_true(r.chunked);
	assert_int_equal(r.chunks, 1);
	assert_string_equal(r.body, "two");
	raw_resp_free(&r);
	assert_int_equal(in.len, 0);
	cbuf_free(&in);
	/* Nothing more: a third read times out. */
	assert_int_equal(raw_read_response(fd, NULL, false, clock_mono_ms() + 100, &r), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(fd);
}

static void test_close_delimited_and_wait_closed(void **state)
{
	int fd = conn(NULL);
	struct raw_resp r;
	char buf[256];
	bool eof = false;
	ssize_t n;

	assert_int_equal(raw_sends(fd, "GET /close HTTP/1.0\r\n\r\n", clock_mono_ms() + 2000), 0);
	assert_int_equal(raw_read_response(fd, NULL, false, clock_mono_ms() + 3000, &r), 0);
	assert_true(r.until_eof);
	assert_string_equal(r.body, "body until close");
	raw_resp_free(&r);
	assert_int_equal(raw_wait_closed(fd, clock_mono_ms() + 2000), 1);
	close(fd);

	/* raw_read_until collects everything up to EOF. */
	fd = conn(NULL);
	assert_int_equal(raw_sends(fd, "GET /close HTTP/1.0\r\n\r\n", clock_mono_ms() + 2000), 0);
	n = raw_read_until(fd, buf, sizeof(buf), clock_mono_ms() + 3000, &eof);
	assert_int_equal(n, 35);
	assert_true(eof);
	assert_string_equal(buf, "HTTP/1.0 200 OK\r\n\r\nbody until close");
	close(fd);

	/* A peer that closes without answering: ECONNRESET from raw_read_response. */
	fd = conn(NULL);
	assert_int_equal(raw_sends(fd, "GET /nothing HTTP/1.1\r\n\r\n", clock_mono_ms() + 2000), 0);
	assert_int_equal(raw_read_response(fd, NULL, false, clock_mono_ms() + 3000, &r), -1);
	assert_int_equal(errno, ECONNRESET);
	close(fd);
}

static void test_still_open_and_partial_read(void **state)
{
	int fd = conn(NULL);
	char buf[64];
	bool eof = true;
	int64_t t0;

	/* An incomplete request: the server keeps waiting, nothing arrives. */
	assert_int_equal(raw_sends(fd, "GET /slow HTTP/1.1\r\nX-Trickle: ", clock_mono_ms() + 2000),
			 0);
	t0 = clock_mono_ms();
	assert_int_equal(raw_wait_closed(fd, clock_mono_ms() + 100), 0);
	assert_true(clock_mono_ms() - t0 >= 95);
	assert_int_equal(raw_read_until(fd, buf, sizeof(buf), clock_mono_ms() + 50, &eof), 0);
	assert_false(eof);
	close(fd);
}

static void test_source_ip(void **state)
{
	int fd = conn("127.0.0.5");
	struct raw_resp r;

	assert_int_equal(raw_sends(fd, "GET /peer HTTP/1.1\r\n\r\n", clock_mono_ms() + 2000), 0);
	assert_int_equal(raw_read_response(fd, NULL, false, clock_mono_ms() + 3000, &r), 0);
	assert_string_equal(r.body, "127.0.0.5");
	raw_resp_free(&r);
	close(fd);
	assert_int_equal(raw_connect("127.0.0.1", tcpsrv_port(srv), "not-an-ip", 1000), -1);
	assert_int_equal(raw_connect("127.0.0.1", 1, NULL, 1000), -1);
	assert_int_equal(errno, ECONNREFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_table),
		cmocka_unit_test(test_parse_response_table),
		cmocka_unit_test(test_split_url_table),
		cmocka_unit_test_setup_teardown(test_pipelined_responses, sock_setup, sock_teardown),
		cmocka_unit_test_setup_teardown(test_close_delimited_and_wait_closed, sock_setup,
						sock_teardown),
		cmocka_unit_test_setup_teardown(test_still_open_and_partial_read, sock_setup,
						sock_teardown),
		cmocka_unit_test_setup_teardown(test_source_ip, sock_setup, sock_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
