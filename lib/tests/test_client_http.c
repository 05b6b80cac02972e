/* lib/client/http: request/response client on libcurl easy, against an in-test TCP server
 * (testkit/tcpsrv) that echoes the exact request bytes it received. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/buf.h"
#include "client/http.h"
#include "client/rawhttp.h"
#include "proto/clock.h"
#include "testkit/tcpsrv.h"

/* Answers every request on the connection with its raw bytes as the body. */
static void echo_handler(int fd, unsigned conn_no, void *ud)
{
	struct cbuf in;

	cbuf_init(&in, 1u << 20);
	for (;;) {
		long n = tcpsrv_read_request(fd, &in, 5000);
		char head[256];

		if (n <= 0)
			break;
		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: a\r\n"
			 "x-dup:  b \r\nX-Conn: %u\r\nContent-Length: %ld\r\n\r\n",
			 conn_no, n);
		if (raw_sends(fd, head, clock_mono_ms() + 2000) < 0 ||
		    raw_send(fd, in.p, (size_t)n, clock_mono_ms() + 2000) < 0)
			break;
		cbuf_consume(&in, (size_t)n);
	}
	cbuf_free(&in);
}

/* Fixed answers by request path. */
static void script_handler(int fd, unsigned conn_no, void *ud)
{
	struct cbuf in;
	long n;
	char ip[64];

	cbuf_init(&in, 1u << 20);
	n = tcpsrv_read_request(fd, &in, 5000);
	if (n <= 0)
		goto out;
	if (strncmp(in.p, "GET /404 ", 9) == 0) {
		raw_sends(fd, "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
			      "Content-Length: 21\r\n\r\n{\"error\":\"not found\"}",
			  clock_mono_ms() + 2000);
	} else if (strncmp(in.p, "GET /silent ", 12) == 0) {
		raw_wait_closed(fd, clock_mono_ms() + 10000);
	} else if (strncmp(in.p, "GET /peer ", 10) == 0) {
		char resp[160];

		tcpsrv_peer_ip(fd, ip, sizeof(ip));
		snprintf(resp, sizeof(resp),
			 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(ip), ip);
		raw_sends(fd, resp, clock_mono_ms() + 2000);
	} else if (strncmp(in.p, "HEAD /head ", 11) == 0) {
		raw_sends(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
			      "Content-Length: 1000\r\n\r\n",
			  clock_mono_ms() + 2000);
	} else if (strncmp(in.p, "GET /interim ", 13) == 0) {
		raw_sends(fd, "HTTP/1.1 100 Continue\r\nX-Interim: yes\r\n\r\n"
			      "HTTP/1.1 201 Created\r\nX-Final: yes\r\nConnection: close\r\n"
			      "Content-Length: 2\r\n\r\nok",
			  clock_mono_ms() + 2000);
	}
	/* One request per connection: the fd is closed on return, and libcurl, which would
	 * otherwise reuse it, sees "Connection: close" in every answer. */
out:
	cbuf_free(&in);
}

struct fx {
	struct tcpsrv *srv;
	struct http_client *c;
	char base[64];
};

static int fx_setup(void **state, tcpsrv_handler h)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->srv = tcpsrv_start(h, NULL);
	f->c = http_client_new(NULL);
	*state = f;
	if (!f->srv || !f->c) {
		http_client_free(f->c);
		tcpsrv_stop(f->srv);
		free(f);
		*state = NULL;
		return -1;
	}
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", tcpsrv_port(f->srv));
	*state = f;
	return 0;
}

static int setup_echo(void **state)
{
	return fx_setup(state, echo_handler);
}

static int setup_script(void **state)
{
	return fx_setup(state, script_handler);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	http_client_free(f->c);
	tcpsrv_stop(f->srv);
	free(f);
	return 0;
}

static void test_get_sends_exact_headers(void **state)
{
	struct fx *f = *state;
	static const char *const hdrs[] = { "X-Forwarded-For: 1.2.3.4", "Accept:", NULL };
	struct http_resp r;
	char url[128];

	snprintf(url, sizeof(url), "%s/api/rooms/ROOM2345/status?x=1%%2F2", f->base);
	assert_int_equal(http_do(f->c, "GET", url, hdrs, NULL, 0, 5000, &r), 0);
	assert_int_equal(r.status, 200);
	/* The path and query go out as given (no normalisation of %2F). */
	assert_memory_equal(r.body, "GET /api/rooms/ROOM2345/status?x=1%2F2 HTTP/1.1\r\n", 48);
	assert_non_null(strstr(r.body, "\r\nX-Forwarded-For: 1.2.3.4\r\n"));
	/* "Accept:" removed libcurl's default; nothing adds a type or Expect to a GET. */
	assert_null(strstr(r.body, "Accept"));
	assert_null(strstr(r.body, "Content-Type"));
	assert_null(strstr(r.body, "Expect"));
	assert_int_equal(strlen(r.body), r.body_len);
	assert_true(r.total_s > 0);
	http_resp_free(&r);
	assert_null(r.body);
}

static void test_header_lookup(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	const char *v;
	size_t n;
	char url[128];

	snprintf(url, sizeof(url), "%s/x", f->base);
	assert_int_equal(http_do(f->c, "GET", url, NULL, NULL, 0, 5000, &r), 0);
	v = http_header(&r, "x-DUP", &n);
	assert_non_null(v);
	assert_int_equal(n, 1);
	assert_memory_equal(v, "a", 1);
	assert_int_equal(http_header_count(&r, "X-Dup"), 2);
	assert_int_equal(http_header_count(&r, "X-Du"), 0);
	assert_int_equal(http_header_count(&r, "Content-Type"), 1);
	assert_true(http_header_is(&r, "content-type", "text/plain"));
	assert_false(http_header_is(&r, "content-type", "text/plai"));
	assert_null(http_header(&r, "X-Missing", NULL));
	/* The status line is not a header. */
	assert_null(http_header(&r, "HTTP/1.1 200 OK", NULL));
	assert_memory_equal(r.headers, "HTTP/1.1 200 OK\r\n", 17);
	http_resp_free(&r);
}

static void test_post_body_binary_and_no_default_type(void **state)
{
	struct fx *f = *state;
	static const char body[] = { '{', '"', 'a', '"', ':', '\0', '1', '}' };
	static const char *const typed[] = { "Content-Type: text/plain", NULL };
	struct http_resp r;
	char url[128];

	snprintf(url, sizeof(url), "%s/api/rooms/ROOM2345/messages", f->base);
	assert_int_equal(http_do(f->c, "POST", url, NULL, body, sizeof(body), 5000, &r), 0);
	assert_memory_equal(r.body, "POST /api/rooms/ROOM2345/messages HTTP/1.1\r\n", 44);
	assert_non_null(strstr(r.body, "\r\nContent-Length: 8\r\n"));
	/* HTTP-11 cases need a body without a type: libcurl's form default is gone. */
	assert_null(strstr(r.body, "Content-Type"));
	assert_null(strstr(r.body, "Expect"));
	/* The body arrives byte for byte, NUL included. */
	assert_memory_equal(r.body + r.body_len - sizeof(body), body, sizeof(body));
	http_resp_free(&r);

	assert_int_equal(http_do(f->c, "POST", url, typed, "{}", 2, 5000, &r), 0);
	assert_non_null(strstr(r.body, "\r\nContent-Type: text/plain\r\n"));
	assert_int_equal(strstr(r.body, "Content-Type") - r.body,
			 strstr(r.body, "Content-Type: text/plain") - r.body);
	http_resp_free(&r);

	/* POST without a body sends Content-Length: 0. */
	assert_int_equal(http_do(f->c, "POST", url, NULL, NULL, 0, 5000, &r), 0);
	assert_non_null(strstr(r.body, "\r\nContent-Length: 0\r\n"));
	http_resp_free(&r);
}

static void test_other_methods(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char url[128];

	snprintf(url, sizeof(url), "%s/api/dm/bob/inbox/7", f->base);
	assert_int_equal(http_do(f->c, "DELETE", url, NULL, NULL, 0, 5000, &r), 0);
	assert_memory_equal(r.body, "DELETE /api/dm/bob/inbox/7 HTTP/1.1\r\n", 37);
	http_resp_free(&r);
	assert_int_equal(http_do(f->c, "BREW", url, NULL, "x", 1, 5000, &r), 0);
	assert_memory_equal(r.body, "BREW /api/dm/bob/inbox/7 HTTP/1.1\r\n", 35);
	assert_non_null(strstr(r.body, "\r\nContent-Length: 1\r\n"));
	http_resp_free(&r);
	/* HTTP-10 cases: a GET may carry a body. */
	assert_int_equal(http_do(f->c, "GET", url, NULL, "{}", 2, 5000, &r), 0);
	assert_memory_equal(r.body, "GET /api/dm/bob/inbox/7 HTTP/1.1\r\n", 34);
	assert_memory_equal(r.body + r.body_len - 2, "{}", 2);
	http_resp_free(&r);
}

static void test_keepalive_reuses_connection(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char url[128];

	snprintf(url, sizeof(url), "%s/k", f->base);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(http_do(f->c, i % 2 ? "POST" : "GET", url, NULL, i % 2 ? "{}" : NULL,
					 i % 2 ? 2 : 0, 5000, &r), 0);
		assert_true(http_header_is(&r, "X-Conn", "1"));
		http_resp_free(&r);
	}
	assert_int_equal(tcpsrv_accepted(f->srv), 1);
}

static void test_status_codes_and_interim(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char url[128];

	snprintf(url, sizeof(url), "%s/404", f->base);
	assert_int_equal(http_do(f->c, "GET", url, NULL, NULL, 0, 5000, &r), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "{\"error\":\"not found\"}");
	assert_int_equal(r.body_len, 21);
	http_resp_free(&r);

	/* Only the final header block is kept. */
	snprintf(url, sizeof(url), "%s/interim", f->base);
	assert_int_equal(http_do(f->c, "GET", url, NULL, NULL, 0, 5000, &r), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body, "ok");
	assert_true(http_header_is(&r, "X-Final", "yes"));
	assert_null(http_header(&r, "X-Interim", NULL));
	http_resp_free(&r);
}

static void test_head_reads_no_body(void **state)
{
	struct fx *f = *state;
	struct http_resp r;
	char url[128];

	snprintf(url, sizeof(url), "%s/head", f->base);
	assert_int_equal(http_do(f->c, "HEAD", url, NULL, NULL, 0, 5000, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	assert_string_equal(r.body, "");
	assert_true(http_header_is(&r, "Content-Length", "1000"));
	http_resp_free(&r);
}

static void test_timeout_is_transport_error(void **state)
{
	struct fx *f = *state;
	struct http_resp r = { .status = 12345 };
	char url[128];
	int64_t t0 = clock_mono_ms(), dt;

	snprintf(url, sizeof(url), "%s/silent", f->base);
	assert_int_equal(http_do(f->c, "GET", url, NULL, NULL, 0, 300, &r), -1);
	dt = clock_mono_ms() - t0;
	assert_true(dt >= 290 && dt < 3000);
	assert_int_equal(r.status, 12345); /* untouched */
	assert_true(strlen(http_client_error(f->c)) > 0);
}

static void test_source_ip_binding(void **state)
{
	struct fx *f = *state;
	struct http_client *c2 = http_client_new("127.0.0.2");
	struct http_resp r;
	char url[128];

	assert_non_null(c2);
	snprintf(url, sizeof(url), "%s/peer", f->base);
	assert_int_equal(http_do(c2, "GET", url, NULL, NULL, 0, 5000, &r), 0);
	assert_string_equal(r.body, "127.0.0.2");
	http_resp_free(&r);
	assert_int_equal(http_do(f->c, "GET", url, NULL, NULL, 0, 5000, &r), 0);
	assert_string_equal(r.body, "127.0.0.1");
	http_resp_free(&r);
	http_client_free(c2);
}

static void test_connection_refused(void **state)
{
	struct http_client *c = http_client_new(NULL);
	struct http_resp r;

	assert_non_null(c);
	assert_int_equal(http_do(c, "GET", "http://127.0.0.1:1/", NULL, NULL, 0, 2000, &r), -1);
	assert_true(strlen(http_client_error(c)) > 0);
	http_client_free(c);
}

/* http_headers_find over raw blocks: table of (block, name, value or NULL). */
static void test_headers_find_table(void **state)
{
	static const struct {
		const char *block, *name, *want;
		int count;
	} t[] = {
		{ "HTTP/1.1 200 OK\r\nA: 1\r\nB:2\r\n\r\n", "b", "2", 1 },
		{ "HTTP/1.1 200 OK\r\nA: 1\r\nB:2\r\n\r\n", "A", "1", 1 },
		{ "HTTP/1.1 200 OK\r\nA: \t x y \t\r\n\r\n", "a", "x y", 1 },
		{ "HTTP/1.1 200 OK\nA: lf\nA: two\n\n", "A", "lf", 2 },
		{ "HTTP/1.1 200 OK\r\nAB: 1\r\n\r\n", "A", NULL, 0 },
		{ "HTTP/1.1 200 OK\r\nA: 1\r\n\r\nB: body\r\n", "B", NULL, 0 },
		{ "A: status line is skipped\r\nX: 1\r\n\r\n", "A", NULL, 0 },
		{ "HTTP/1.1 200 OK\r\nE:\r\n\r\n", "E", "", 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = 99;
		const char *v = http_headers_find(t[i].block, strlen(t[i].block), t[i].name, &n);

		if (!t[i].want) {
			assert_null(v);
		} else {
			assert_non_null(v);
			assert_int_equal(n, strlen(t[i].want));
			assert_memory_equal(v, t[i].want, n);
		}
		assert_int_equal(http_headers_count(t[i].block, strlen(t[i].block), t[i].name),
				 t[i].count);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_sends_exact_headers, setup_echo, teardown),
		cmocka_unit_test_setup_teardown(test_header_lookup, setup_echo, teardown),
		cmocka_unit_test_setup_teardown(test_post_body_binary_and_no_default_type,
						setup_echo, teardown),
		cmocka_unit_test_setup_teardown(test_other_methods, setup_echo, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_reuses_connection, setup_echo,
						teardown),
		cmocka_unit_test_setup_teardown(test_status_codes_and_interim, setup_script,
						teardown),
		cmocka_unit_test_setup_teardown(test_head_reads_no_body, setup_script, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_is_transport_error, setup_script,
						teardown),
		cmocka_unit_test_setup_teardown(test_source_ip_binding, setup_script, teardown),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_headers_find_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
