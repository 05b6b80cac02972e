/* lib/client/ws: the raw RFC 6455 client against an in-test WebSocket server written on a raw
 * socket, so every frame on the wire is checked: masking, fragmentation both ways, pings
 * answered with pongs, close codes (incl. 1005 and 1006), handshake failures, server-side
 * protocol violations, and the malformed frames conformance needs to send (WS-3, WS-4). */
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
#include "client/http.h"
#include "client/rawhttp.h"
#include "client/sha1.h"
#include "client/ws.h"
#include "proto/clock.h"
#include "testkit/tcpsrv.h"

/* ---- in-test server ---- */

struct sframe {
	int op;
	bool fin, masked;
	int rsv;		/* the three RSV bits as a number 0..7 */
	int len_form;		/* 7-bit length code: <126, 126 or 127 */
	uint64_t len;
	char *payload;		/* unmasked; NULL if not read */
};

static pthread_mutex_t srv_lock = PTHREAD_MUTEX_INITIALIZER;
static int srv_echoed_close = -2;	/* close code the client echoed (-1: no code) */
static bool srv_got_pong;

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int64_t dl(void)
{
	return clock_mono_ms() + 5000;
}

static int read_exact(int fd, void *buf, size_t n)
{
	bool eof;

	return raw_read_until(fd, buf, n, dl(), &eof) == (ssize_t)n ? 0 : -1;
}

/* Read one client frame; the payload is read unless it is over 1 MiB. */
static int srv_read_frame(int fd, struct sframe *f)
{
	uint8_t h[2], ext[8], key[4];

	memset(f, 0, sizeof(*f));
	if (read_exact(fd, h, 2) < 0)
		return -1;
	f->fin = h[0] & 0x80;
	f->rsv = (h[0] >> 4) & 7;
	f->op = h[0] & 0x0F;
	f->masked = h[1] & 0x80;
	f->len_form = h[1] & 0x7F;
	f->len = (uint64_t)f->len_form;
	if (f->len_form == 126) {
		if (read_exact(fd, ext, 2) < 0)
			return -1;
		f->len = (uint64_t)ext[0] << 8 | ext[1];
	} else if (f->len_form == 127) {
		if (read_exact(fd, ext, 8) < 0)
			return -1;
		f->len = 0;
		for (int i = 0; i < 8; i++)
			f->len = f->len << 8 | ext[i];
	}
	if (f->masked && read_exact(fd, key, 4) < 0)
		return -1;
	if (f->len > (1u << 20))
		return 0;
	f->payload = malloc(f->len + 1);
	if (!f->payload || (f->len && read_exact(fd, f->payload, (size_t)f->len) < 0)) {
		free(f->payload);
		f->payload = NULL;
		return -1;
	}
	if (f->masked)
		for (uint64_t i = 0; i < f->len; i++)
			f->payload[i] ^= (char)key[i & 3];
	f->payload[f->len] = '\0';
	return 0;
}

/* Server frames are unmasked unless mask is set (a violation, for the error test). */
static int srv_send_frame(int fd, int op, bool fin, const void *p, size_t len, bool mask)
{
	uint8_t h[14];
	size_t hl = 0;
	int rc;

	h[hl++] = (uint8_t)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		h[hl++] = (uint8_t)((mask ? 0x80 : 0) | len);
	} else if (len <= 0xFFFF) {
		h[hl++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		h[hl++] = (uint8_t)(len >> 8);
		h[hl++] = (uint8_t)len;
	} else {
		h[hl++] = (uint8_t)((mask ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			h[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		memset(h + hl, 0, 4); /* a zero key keeps the payload readable */
		hl += 4;
	}
	if (raw_send(fd, h, hl, dl()) < 0)
		return -1;
	rc = len ? raw_send(fd, p, len, dl()) : 0;
	return rc;
}

static int srv_send_text(int fd, const char *s)
{
	return srv_send_frame(fd, 1, true, s, strlen(s), false);
}

/* Complete the handshake; returns the path or NULL. */
static const char *srv_handshake(int fd, struct cbuf *in)
{
	/* For /burst: three messages sent in the same write as the 101 answer. */
	static const char burst[] = "\x81\x03one\x81\x03two\x82\x05three";
	static const char *const paths[] = { "/echo", "/close1009", "/close-nocode", "/drop",
					     "/badaccept", "/400", "/masked", "/rsvop", "/burst",
					     "/peer", "/probe" };
	const char *key, *path = NULL;
	size_t klen;
	char k[64], accept[29], resp[512];
	long n = tcpsrv_read_request(fd, in, 5000);

	if (n <= 0)
		return NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		size_t pl = strlen(paths[i]);

		if (strncmp(in->p + 4, paths[i], pl) == 0 && in->p[4 + pl] == ' ')
			path = paths[i];
	}
	if (!path)
		return NULL;
	if (strcmp(path, "/400") == 0) {
		raw_sends(fd, "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json; "
			      "charset=utf-8\r\nContent-Length: 35\r\n\r\n"
			      "{\"error\":\"bad websocket handshake\"}", dl());
		return path;
	}
	key = http_headers_find(in->p, (size_t)n, "Sec-WebSocket-Key", &klen);
	if (!key || klen >= sizeof(k))
		return NULL;
	memcpy(k, key, klen);
	k[klen] = '\0';
	sha1_ws_accept(k, accept);
	if (strcmp(path, "/badaccept") == 0)
		accept[3] ^= 1;
	snprintf(resp, sizeof(resp),
		 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n%s",
		 accept, strcmp(path, "/burst") == 0 ? burst : "");
	raw_sends(fd, resp, dl());
	return path;
}

static void srv_echo_loop(int fd)
{
	struct cbuf msg;
	int msg_op = 0;

	cbuf_init(&msg, 32u << 20);
	for (;;) {
		struct sframe f;

		if (srv_read_frame(fd, &f) < 0 || !f.payload)
			break;
		if (!f.masked) { /* RFC 6455 §5.1: the server must fail the connection */
			free(f.payload);
			break;
		}
		if (f.op == WS_OP_CLOSE) {
			pthread_mutex_lock(&srv_lock);
			srv_echoed_close = f.len >= 2 ? ((uint8_t)f.payload[0] << 8 |
							 (uint8_t)f.payload[1])
						      : -1;
			pthread_mutex_unlock(&srv_lock);
			srv_send_frame(fd, WS_OP_CLOSE, true, f.payload, (size_t)f.len, false);
			free(f.payload);
			break;
		}
		if (f.op == WS_OP_PING) {
			srv_send_frame(fd, WS_OP_PONG, true, f.payload, (size_t)f.len, false);
		} else if (f.op == WS_OP_PONG) {
			pthread_mutex_lock(&srv_lock);
			srv_got_pong = strcmp(f.payload, "p1") == 0;
			pthread_mutex_unlock(&srv_lock);
			srv_send_text(fd, srv_got_pong ? "pong-ok" : "pong-bad");
		} else if (f.op == WS_OP_TEXT && f.fin && strcmp(f.payload, "frag") == 0) {
			/* A fragmented answer with a ping between the fragments (§5.4, §5.5). */
			srv_send_frame(fd, WS_OP_TEXT, false, "fr", 2, false);
			srv_send_frame(fd, WS_OP_PING, true, "p1", 2, false);
			srv_send_frame(fd, WS_OP_CONT, false, "ag", 2, false);
			srv_send_frame(fd, WS_OP_CONT, true, "!", 1, false);
		} else {
			if (f.op != WS_OP_CONT) {
				msg_op = f.op;
				cbuf_reset(&msg);
			}
			cbuf_add(&msg, f.payload, (size_t)f.len);
			if (f.fin)
				srv_send_frame(fd, msg_op, true, msg.p, msg.len, false);
		}
		free(f.payload);
	}
	cbuf_free(&msg);
}

static void ws_handler(int fd, unsigned conn_no, void *ud)
{
	struct cbuf in;
	const char *path;

	cbuf_init(&in, 65536);
	path = srv_handshake(fd, &in);
	if (!path)
		goto out;
	if (strcmp(path, "/echo") == 0) {
		srv_echo_loop(fd);
	} else if (strcmp(path, "/close1009") == 0) {
		struct sframe f;

		srv_send_frame(fd, WS_OP_CLOSE, true, "\x03\xf1too big", 9, false);
		if (srv_read_frame(fd, &f) == 0 && f.payload) {
			pthread_mutex_lock(&srv_lock);
			srv_echoed_close = f.op == WS_OP_CLOSE && f.len == 2
						   ? ((uint8_t)f.payload[0] << 8 | (uint8_t)f.payload[1])
						   : -3;
			pthread_mutex_unlock(&srv_lock);
			free(f.payload);
		}
	} else if (strcmp(path, "/close-nocode") == 0) {
		struct sframe f;

		srv_send_frame(fd, WS_OP_CLOSE, true, "", 0, false);
		if (srv_read_frame(fd, &f) == 0 && f.payload) {
			pthread_mutex_lock(&srv_lock);
			srv_echoed_close = f.op == WS_OP_CLOSE && f.len == 0 ? -1 : -3;
			pthread_mutex_unlock(&srv_lock);
			free(f.payload);
		}
	} else if (strcmp(path, "/drop") == 0) {
		srv_send_text(fd, "bye");
		goto out;
	} else if (strcmp(path, "/masked") == 0) {
		srv_send_frame(fd, WS_OP_TEXT, true, "m", 1, true);
	} else if (strcmp(path, "/rsvop") == 0) {
		srv_send_frame(fd, 3, true, "x", 1, false);
	} else if (strcmp(path, "/peer") == 0) {
		char ip[64], txt[200];
		const char *x;
		size_t xl = 0;

		tcpsrv_peer_ip(fd, ip, sizeof(ip));
		x = http_headers_find(in.p, in.len, "X-Forwarded-For", &xl);
		snprintf(txt, sizeof(txt), "%s|%.*s", ip, (int)xl, x ? x : "");
		srv_send_text(fd, txt);
	} else if (strcmp(path, "/probe") == 0) {
		struct sframe f;
		char txt[160];

		while (srv_read_frame(fd, &f) == 0) {
			snprintf(txt, sizeof(txt), "op=%d fin=%d rsv=%d masked=%d form=%d len=%llu %s",
				 f.op, f.fin, f.rsv, f.masked, f.len_form, (unsigned long long)f.len,
				 f.payload ? f.payload : "(unread)");
			srv_send_text(fd, txt);
			if (!f.payload)
				break;
			free(f.payload);
		}
	}
	raw_wait_closed(fd, clock_mono_ms() + 5000);
out:
	cbuf_free(&in);
}

static struct tcpsrv *srv;

static void reset_echoed_close(void)
{
	pthread_mutex_lock(&srv_lock);
	srv_echoed_close = -2;
	pthread_mutex_unlock(&srv_lock);
}

/* The server records the client's close frame asynchronously: poll until it did. */
static int wait_echoed_close(void)
{
	int v = -2;

	for (int64_t end = clock_mono_ms() + 3000; clock_mono_ms() < end; nap_ms(2)) {
		pthread_mutex_lock(&srv_lock);
		v = srv_echoed_close;
		pthread_mutex_unlock(&srv_lock);
		if (v != -2)
			break;
	}
	return v;
}

static int group_setup(void **state)
{
	srv = tcpsrv_start(ws_handler, NULL);
	return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
	tcpsrv_stop(srv);
	return 0;
}

static struct ws_conn *open_ws(const char *path)
{
	struct ws_conn *ws = NULL;
	char u[128];
	int st = 0;

	snprintf(u, sizeof(u), "ws://127.0.0.1:%d%s", tcpsrv_port(srv), path);
	assert_int_equal(ws_connect(u, NULL, NULL, 5000, &ws, &st, NULL), 0);
	assert_int_equal(st, 101);
	assert_non_null(ws);
	return ws;
}

static void expect_msg(struct ws_conn *ws, enum ws_recv_result type, const void *data, size_t len)
{
	struct ws_msg m;

	assert_int_equal(ws_recv(ws, &m, 5000), type);
	assert_int_equal(m.type, type);
	assert_int_equal(m.len, len);
	assert_memory_equal(m.data, data, len);
	assert_int_equal(m.data[len], '\0');
	ws_msg_free(&m);
}

/* ---- cases ---- */

static void test_echo_sizes(void **state)
{
	/* 0, 125 (7-bit), 126 and 65535 (16-bit), 65536 and 200 000 (64-bit, several mask
	 * pieces) bytes. */
	static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, 200000 };
	struct ws_conn *ws;
	size_t hl;

	reset_echoed_close();
	ws = open_ws("/echo");
	assert_non_null(ws_headers(ws, &hl));
	assert_memory_equal(ws_headers(ws, NULL), "HTTP/1.1 101 ", 13);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *buf = malloc(sizes[i] + 1);

		assert_non_null(buf);
		for (size_t j = 0; j < sizes[i]; j++)
			buf[j] = (char)('a' + (j * 31 + i) % 26);
		assert_int_equal(ws_send_text(ws, buf, sizes[i]), 0);
		expect_msg(ws, WS_RECV_TEXT, buf, sizes[i]);
		assert_int_equal(ws_send_binary(ws, buf, sizes[i]), 0);
		expect_msg(ws, WS_RECV_BINARY, buf, sizes[i]);
		free(buf);
	}
	assert_int_equal(ws_close(ws, 1000), 1000);
	assert_int_equal(wait_echoed_close(), 1000);
}

static void test_receive_fragmented_with_ping(void **state)
{
	struct ws_conn *ws = open_ws("/echo");
	struct ws_msg m;

	assert_int_equal(ws_send_text(ws, "frag", 4), 0);
	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_TEXT);
	assert_string_equal(m.data, "frag!");
	assert_int_equal(m.fragments, 3);
	ws_msg_free(&m);
	/* The ping between the fragments was answered with its payload. */
	assert_int_equal(ws_pings_answered(ws), 1);
	expect_msg(ws, WS_RECV_TEXT, "pong-ok", 7);
	ws_close(ws, 1000);
}

static void test_send_fragmented(void **state)
{
	struct ws_conn *ws = open_ws("/echo");
	struct ws_msg m;

	assert_int_equal(ws_send_frame(ws, WS_OP_TEXT, false, "he", 2, 0), 0);
	assert_int_equal(ws_send_frame(ws, WS_OP_CONT, false, "ll", 2, 0), 0);
	assert_int_equal(ws_send_frame(ws, WS_OP_CONT, true, "o", 1, 0), 0);
	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_TEXT);
	assert_string_equal(m.data, "hello");
	assert_int_equal(m.fragments, 1);
	ws_msg_free(&m);
	ws_close(ws, 1000);
}

static void test_ping_gets_pong(void **state)
{
	struct ws_conn *ws = open_ws("/echo");
	char big[126] = { 0 };

	assert_int_equal(ws_send_ping(ws, "hi", 2), 0);
	expect_msg(ws, WS_RECV_PONG, "hi", 2);
	assert_int_equal(ws_send_ping(ws, big, sizeof(big)), -1); /* > 125 refused */
	assert_true(strlen(ws_error(ws)) > 0);
	ws_close(ws, 1000);
}

static void test_timeout(void **state)
{
	struct ws_conn *ws = open_ws("/echo");
	struct ws_msg m;
	int64_t t0 = clock_mono_ms(), dt;

	assert_int_equal(ws_recv(ws, &m, 150), WS_RECV_TIMEOUT);
	dt = clock_mono_ms() - t0;
	assert_true(dt >= 145 && dt < 2000);
	assert_null(m.data);
	assert_int_equal(ws_recv(ws, &m, 0), WS_RECV_TIMEOUT);
	ws_close(ws, 1000);
}

static void test_close_codes(void **state)
{
	struct ws_conn *ws;
	struct ws_msg m;

	reset_echoed_close();
	ws = open_ws("/close1009");
	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_CLOSE);
	assert_int_equal(m.close_code, 1009);
	assert_string_equal(m.data, "too big");
	ws_msg_free(&m);
	/* Sticky: every later call reports the same close. */
	assert_int_equal(ws_recv(ws, &m, 0), WS_RECV_CLOSE);
	assert_int_equal(m.close_code, 1009);
	ws_msg_free(&m);
	assert_int_equal(ws_close(ws, 1000), 1009);
	assert_int_equal(wait_echoed_close(), 1009); /* §5.5.1: the code was echoed */

	/* WS-5: a close without a status code is seen as 1005, and echoed without one. */
	reset_echoed_close();
	ws = open_ws("/close-nocode");
	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_CLOSE);
	assert_int_equal(m.close_code, 1005);
	assert_int_equal(m.len, 0);
	ws_msg_free(&m);
	ws_free(ws);
	assert_int_equal(wait_echoed_close(), -1);

	/* A TCP close without a close frame is 1006. */
	ws = open_ws("/drop");
	expect_msg(ws, WS_RECV_TEXT, "bye", 3);
	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_CLOSE);
	assert_int_equal(m.close_code, 1006);
	ws_msg_free(&m);
	ws_free(ws);
}

static void test_handshake_failures(void **state)
{
	struct ws_conn *ws = NULL;
	char u[128], *body = NULL;
	int st = 0;

	snprintf(u, sizeof(u), "ws://127.0.0.1:%d/badaccept", tcpsrv_port(srv));
	assert_int_equal(ws_connect(u, NULL, NULL, 5000, &ws, &st, &body), WS_ERR_ACCEPT);
	assert_int_equal(st, 101);
	assert_null(ws);

	snprintf(u, sizeof(u), "http://127.0.0.1:%d/400", tcpsrv_port(srv));
	assert_int_equal(ws_connect(u, NULL, NULL, 5000, &ws, &st, &body), WS_ERR_STATUS);
	assert_int_equal(st, 400);
	assert_non_null(body);
	assert_string_equal(body, "{\"error\":\"bad websocket handshake\"}");
	free(body);
	assert_null(ws);

	assert_int_equal(ws_connect("ws://127.0.0.1:1/x", NULL, NULL, 2000, &ws, &st, NULL), -1);
	assert_int_equal(ws_connect("not a url", NULL, NULL, 2000, &ws, &st, NULL), -1);
	assert_null(ws);
}

static void test_server_protocol_violations(void **state)
{
	struct ws_conn *ws = open_ws("/masked");
	struct ws_msg m;

	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_ERROR);
	assert_non_null(strstr(ws_error(ws), "masked frame from server"));
	ws_free(ws);

	ws = open_ws("/rsvop");
	assert_int_equal(ws_recv(ws, &m, 5000), WS_RECV_ERROR);
	assert_non_null(strstr(ws_error(ws), "reserved opcode"));
	ws_free(ws);
}

static void test_frames_in_handshake_packet(void **state)
{
	struct ws_conn *ws = open_ws("/burst");

	expect_msg(ws, WS_RECV_TEXT, "one", 3);
	expect_msg(ws, WS_RECV_TEXT, "two", 3);
	expect_msg(ws, WS_RECV_BINARY, "three", 5);
	ws_free(ws);
}

static void test_extra_headers_and_source_ip(void **state)
{
	static const char *const hdrs[] = { "X-Forwarded-For: 1.2.3.4", NULL };
	struct ws_conn *ws = NULL;
	char u[128];

	snprintf(u, sizeof(u), "ws://127.0.0.1:%d/peer", tcpsrv_port(srv));
	assert_int_equal(ws_connect(u, hdrs, "127.0.0.3", 5000, &ws, NULL, NULL), 0);
	expect_msg(ws, WS_RECV_TEXT, "127.0.0.3|1.2.3.4", 17);
	ws_free(ws);
}

/* What the server sees for deliberately malformed frames (one connection each). */
static void test_malformed_frames_on_the_wire(void **state)
{
	static const struct {
		int op;
		bool fin;
		const char *payload;
		size_t len;
		unsigned flags;
		const char *want;
	} t[] = {
		{ WS_OP_TEXT, true, "abc", 3, 0, "op=1 fin=1 rsv=0 masked=1 form=3 len=3 abc" },
		{ WS_OP_TEXT, true, "abc", 3, WS_F_NO_MASK,
		  "op=1 fin=1 rsv=0 masked=0 form=3 len=3 abc" },
		{ WS_OP_TEXT, true, "abc", 3, WS_F_RSV1, "op=1 fin=1 rsv=4 masked=1 form=3 len=3 abc" },
		{ WS_OP_TEXT, true, "abc", 3, WS_F_RSV2 | WS_F_RSV3,
		  "op=1 fin=1 rsv=3 masked=1 form=3 len=3 abc" },
		{ 0xB, true, "abc", 3, 0, "op=11 fin=1 rsv=0 masked=1 form=3 len=3 abc" },
		{ WS_OP_PING, false, "abc", 3, 0, "op=9 fin=0 rsv=0 masked=1 form=3 len=3 abc" },
		{ WS_OP_BINARY, true, "abc", 3, WS_F_LEN64,
		  "op=2 fin=1 rsv=0 masked=1 form=127 len=3 abc" },
		{ WS_OP_BINARY, true, NULL, 1u << 30, WS_F_HEADER_ONLY,
		  "op=2 fin=1 rsv=0 masked=1 form=127 len=1073741824 (unread)" },
		{ WS_OP_BINARY, true, NULL, 300, WS_F_HEADER_ONLY | WS_F_NO_MASK,
		  "op=2 fin=1 rsv=0 masked=0 form=126 len=300 (unread)" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ws_conn *ws = open_ws("/probe");

		assert_int_equal(ws_send_frame(ws, t[i].op, t[i].fin, t[i].payload, t[i].len,
					       t[i].flags), 0);
		if (t[i].flags & WS_F_HEADER_ONLY && t[i].len < (1u << 20)) {
			/* The server waits for the declared bytes; deliver them raw. */
			char *pad = calloc(1, t[i].len);

			assert_non_null(pad);
			assert_int_equal(ws_send_raw(ws, pad, t[i].len), 0);
			free(pad);
			expect_msg(ws, WS_RECV_TEXT, "op=2 fin=1 rsv=0 masked=0 form=126 len=300 ",
				   43);
		} else {
			expect_msg(ws, WS_RECV_TEXT, t[i].want, strlen(t[i].want));
		}
		ws_free(ws);
	}
}

struct sender_arg {
	struct ws_conn *ws;
	int n;
	int failures;
};

static void *sender_main(void *arg)
{
	struct sender_arg *a = arg;

	for (int i = 0; i < a->n; i++) {
		char msg[32];

		snprintf(msg, sizeof(msg), "m%d", i);
		if (ws_send_text(a->ws, msg, strlen(msg)) < 0)
			a->failures++;
		if (i % 10 == 0 && ws_send_text(a->ws, "frag", 4) < 0)
			a->failures++;
	}
	return NULL;
}

/* One thread sends while another receives (and answers pings): every echo arrives once, in
 * order. */
static void test_concurrent_send_and_receive(void **state)
{
	struct ws_conn *ws = open_ws("/echo");
	struct sender_arg a = { .ws = ws, .n = 200 };
	pthread_t th;
	int next = 0, frags = 0, pongs = 0, other = 0;

	assert_int_equal(pthread_create(&th, NULL, sender_main, &a), 0);
	while (next < a.n || frags < 20 || pongs < 20) {
		struct ws_msg m;
		enum ws_recv_result r = ws_recv(ws, &m, 5000);

		if (r != WS_RECV_TEXT)
			fprintf(stderr, "r=%d next=%d frags=%d pongs=%d other=%d err=%s\n", r, next,
				frags, pongs, other, ws_error(ws));
		assert_int_equal(r, WS_RECV_TEXT);
		if (strcmp(m.data, "frag!") == 0) {
			frags++;
		} else if (strcmp(m.data, "pong-ok") == 0) {
			pongs++;
		} else if (m.data[0] == 'm' && atoi(m.data + 1) == next) {
			next++;
		} else {
			other++;
		}
		ws_msg_free(&m);
	}
	pthread_join(th, NULL);
	assert_int_equal(a.failures, 0);
	assert_int_equal(next, 200);
	assert_int_equal(frags, 20);
	assert_int_equal(pongs, 20);
	assert_int_equal(other, 0);
	assert_int_equal(ws_pings_answered(ws), 20);
	assert_int_equal(ws_close(ws, 1000), 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_sizes),
		cmocka_unit_test(test_receive_fragmented_with_ping),
		cmocka_unit_test(test_send_fragmented),
		cmocka_unit_test(test_ping_gets_pong),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_close_codes),
		cmocka_unit_test(test_handshake_failures),
		cmocka_unit_test(test_server_protocol_violations),
		cmocka_unit_test(test_frames_in_handshake_packet),
		cmocka_unit_test(test_extra_headers_and_source_ip),
		cmocka_unit_test(test_malformed_frames_on_the_wire),
		cmocka_unit_test(test_concurrent_send_and_receive),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
