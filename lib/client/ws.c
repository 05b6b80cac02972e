#include "client/ws.h"

#include "client/buf.h"
#include "client/http.h"
#include "client/rawhttp.h"
#include "client/sha1.h"
#include "proto/b64.h"
#include "proto/clock.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define WS_READ_CHUNK 65536
#define WS_MASK_CHUNK 65536

struct ws_conn {
	int fd;
	pthread_mutex_t wlock;		/* serialises writes */
	struct cbuf in;			/* received, not yet parsed bytes */
	size_t in_off;			/* parse position in in */
	struct cbuf msg;		/* fragments of the message being reassembled */
	int msg_op;			/* opcode of that message, 0 when none */
	unsigned msg_frames;
	bool close_sent;		/* guarded by wlock */
	bool closed;			/* a close frame arrived or the TCP stream ended */
	int close_code;
	char *close_reason;
	size_t close_reason_len;
	char *headers;			/* the 101 answer */
	size_t headers_len;
	uint64_t pings;
	char err[160];
};

static void ws_set_err(struct ws_conn *ws, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ws_set_err(struct ws_conn *ws, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ws->err, sizeof(ws->err), fmt, ap);
	va_end(ap);
}

/* ---- sending ---- */

static int64_t ws_send_deadline(void)
{
	return clock_mono_ms() + WS_SEND_TIMEOUT_MS;
}

/* Caller holds wlock. */
static int ws_write_frame_locked(struct ws_conn *ws, int opcode, bool fin, const void *payload,
				 size_t len, unsigned flags)
{
	uint8_t hdr[14], key[4];
	size_t hl = 0;
	bool mask = !(flags & WS_F_NO_MASK);
	int64_t deadline = ws_send_deadline();
	uint8_t *tmp = NULL;
	int ret = -1;

	hdr[hl++] = (uint8_t)((fin ? 0x80 : 0) | ((flags & WS_F_RSV1) ? 0x40 : 0) |
			      ((flags & WS_F_RSV2) ? 0x20 : 0) | ((flags & WS_F_RSV3) ? 0x10 : 0) |
			      (opcode & 0x0F));
	if (len < 126 && !(flags & WS_F_LEN64)) {
		hdr[hl++] = (uint8_t)((mask ? 0x80 : 0) | len);
	} else if (len <= 0xFFFF && !(flags & WS_F_LEN64)) {
		hdr[hl++] = (uint8_t)((mask ? 0x80 : 0) | 126);
		hdr[hl++] = (uint8_t)(len >> 8);
		hdr[hl++] = (uint8_t)len;
	} else {
		hdr[hl++] = (uint8_t)((mask ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			hdr[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	if (mask) {
		randombytes_buf(key, sizeof(key));
		memcpy(hdr + hl, key, 4);
		hl += 4;
	}
	if ((flags & WS_F_HEADER_ONLY) || len == 0 || !mask) {
		if (raw_send(ws->fd, hdr, hl, deadline) < 0)
			goto io;
		if (!(flags & WS_F_HEADER_ONLY) && len &&
		    raw_send(ws->fd, payload, len, deadline) < 0)
			goto io;
		return 0;
	}
	/* Mask into a heap buffer piecewise; the first piece goes out with the header. */
	tmp = malloc(hl + (len < WS_MASK_CHUNK ? len : WS_MASK_CHUNK));
	if (!tmp) {
		ws_set_err(ws, "out of memory");
		return -1;
	}
	memcpy(tmp, hdr, hl);
	for (size_t off = 0, first = 1; off < len; first = 0) {
		size_t n = len - off < WS_MASK_CHUNK ? len - off : WS_MASK_CHUNK;
		uint8_t *dst = first ? tmp + hl : tmp;
		const uint8_t *src = (const uint8_t *)payload + off;

		for (size_t i = 0; i < n; i++)
			dst[i] = src[i] ^ key[(off + i) & 3];
		if (raw_send(ws->fd, tmp, (first ? hl : 0) + n, deadline) < 0)
			goto io;
		off += n;
	}
	ret = 0;
	goto out;
io:
	ws_set_err(ws, "send failed: %m");
out:
	free(tmp);
	return ret;
}

int ws_send_frame(struct ws_conn *ws, int opcode, bool fin, const void *payload, size_t len,
		  unsigned flags)
{
	int rc;

	pthread_mutex_lock(&ws->wlock);
	rc = ws_write_frame_locked(ws, opcode, fin, payload, len, flags);
	if (rc == 0 && opcode == WS_OP_CLOSE)
		ws->close_sent = true;
	pthread_mutex_unlock(&ws->wlock);
	return rc;
}

int ws_send_text(struct ws_conn *ws, const char *text, size_t len)
{
	return ws_send_frame(ws, WS_OP_TEXT, true, text, len, 0);
}

int ws_send_binary(struct ws_conn *ws, const void *data, size_t len)
{
	return ws_send_frame(ws, WS_OP_BINARY, true, data, len, 0);
}

int ws_send_ping(struct ws_conn *ws, const void *data, size_t len)
{
	if (len > 125) {
		ws_set_err(ws, "ping payload over 125 bytes");
		return -1;
	}
	return ws_send_frame(ws, WS_OP_PING, true, data, len, 0);
}

static size_t ws_close_payload(uint8_t out[125], int code, const char *reason)
{
	size_t n = 0, rl;

	if (code <= 0)
		return 0;
	out[n++] = (uint8_t)(code >> 8);
	out[n++] = (uint8_t)code;
	if (reason) {
		rl = strlen(reason);
		if (rl > 123)
			rl = 123;
		memcpy(out + n, reason, rl);
		n += rl;
	}
	return n;
}

int ws_send_close(struct ws_conn *ws, int code, const char *reason)
{
	uint8_t pl[125];

	return ws_send_frame(ws, WS_OP_CLOSE, true, pl, ws_close_payload(pl, code, reason), 0);
}

int ws_send_raw(struct ws_conn *ws, const void *data, size_t len)
{
	int rc;

	pthread_mutex_lock(&ws->wlock);
	rc = raw_send(ws->fd, data, len, ws_send_deadline());
	pthread_mutex_unlock(&ws->wlock);
	if (rc < 0)
		ws_set_err(ws, "send failed: %m");
	return rc;
}

/* ---- receiving ---- */

void ws_msg_free(struct ws_msg *msg)
{
	if (!msg)
		return;
	free(msg->data);
	memset(msg, 0, sizeof(*msg));
}

static int ws_fill_msg(struct ws_msg *msg, enum ws_recv_result type, const void *data,
		       size_t len)
{
	memset(msg, 0, sizeof(*msg));
	msg->type = type;
	msg->data = malloc(len + 1);
	if (!msg->data)
		return -1;
	if (len)
		memcpy(msg->data, data, len);
	msg->data[len] = '\0';
	msg->len = len;
	msg->recv_ns = clock_mono_ns();
	return 0;
}

static enum ws_recv_result ws_closed_msg(struct ws_conn *ws, struct ws_msg *msg)
{
	if (ws_fill_msg(msg, WS_RECV_CLOSE, ws->close_reason, ws->close_reason_len) < 0) {
		ws_set_err(ws, "out of memory");
		msg->type = WS_RECV_ERROR;
		return WS_RECV_ERROR;
	}
	msg->close_code = ws->close_code;
	msg->fragments = 1;
	return WS_RECV_CLOSE;
}

static enum ws_recv_result ws_proto_error(struct ws_conn *ws, struct ws_msg *msg, const char *why)
{
	ws_set_err(ws, "protocol error: %s", why);
	memset(msg, 0, sizeof(*msg));
	msg->type = WS_RECV_ERROR;
	return WS_RECV_ERROR;
}

/* Try to parse one frame from the buffer. Returns 1 with a result in *res (message complete,
 * close or error), 0 if a frame was consumed without a result (ping, fragment), -1 if more
 * bytes are needed. */
static int ws_parse_one(struct ws_conn *ws, struct ws_msg *msg, enum ws_recv_result *res)
{
	const uint8_t *p, *pl;
	size_t avail = ws->in.len - ws->in_off, hl = 2;
	uint64_t plen;
	bool fin, masked;
	int op;

	if (avail < 2)
		return -1;
	p = (const uint8_t *)ws->in.p + ws->in_off;
	fin = p[0] & 0x80;
	op = p[0] & 0x0F;
	masked = p[1] & 0x80;
	plen = p[1] & 0x7F;
	if (plen == 126) {
		if (avail < 4)
			return -1;
		plen = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (plen == 127) {
		if (avail < 10)
			return -1;
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | p[2 + i];
		hl = 10;
		if (plen >> 63) {
			*res = ws_proto_error(ws, msg, "64-bit length with the high bit set");
			return 1;
		}
	}
	/* RFC 6455 §5.1: a server MUST NOT mask; §5.2: no extension, so RSV bits are 0. */
	if (masked) {
		*res = ws_proto_error(ws, msg, "masked frame from server");
		return 1;
	}
	if (p[0] & 0x70) {
		*res = ws_proto_error(ws, msg, "reserved bits set");
		return 1;
	}
	if ((op >= 3 && op <= 7) || op >= 11) {
		*res = ws_proto_error(ws, msg, "reserved opcode");
		return 1;
	}
	if (op >= 8 && (!fin || plen > 125)) {
		*res = ws_proto_error(ws, msg, "fragmented or oversized control frame");
		return 1;
	}
	if (plen > WS_MESSAGE_MAX_BYTES || ws->msg.len + plen > WS_MESSAGE_MAX_BYTES) {
		*res = ws_proto_error(ws, msg, "message larger than WS_MESSAGE_MAX_BYTES");
		return 1;
	}
	if (avail - hl < plen)
		return -1;
	pl = p + hl;
	ws->in_off += hl + (size_t)plen;

	switch (op) {
	case WS_OP_PING: {
		/* Answer at once (§5.5.2), unless we already sent a close. */
		int rc = 0;

		pthread_mutex_lock(&ws->wlock);
		if (!ws->close_sent)
			rc = ws_write_frame_locked(ws, WS_OP_PONG, true, pl, (size_t)plen, 0);
		pthread_mutex_unlock(&ws->wlock);
		if (rc < 0) {
			msg->type = *res = WS_RECV_ERROR;
			return 1;
		}
		ws->pings++;
		return 0;
	}
	case WS_OP_PONG:
		if (ws_fill_msg(msg, WS_RECV_PONG, pl, (size_t)plen) < 0) {
			*res = ws_proto_error(ws, msg, "out of memory");
			return 1;
		}
		msg->fragments = 1;
		*res = WS_RECV_PONG;
		return 1;
	case WS_OP_CLOSE: {
		uint8_t echo[2];
		size_t elen = 0;

		if (plen == 1) {
			*res = ws_proto_error(ws, msg, "close frame with a 1-byte payload");
			return 1;
		}
		ws->closed = true;
		ws->close_code = plen >= 2 ? (pl[0] << 8 | pl[1]) : 1005; /* §7.1.5 */
		if (plen > 2) {
			ws->close_reason = malloc((size_t)plen - 2 + 1);
			if (ws->close_reason) {
				memcpy(ws->close_reason, pl + 2, (size_t)plen - 2);
				ws->close_reason[plen - 2] = '\0';
				ws->close_reason_len = (size_t)plen - 2;
			}
		}
		if (plen >= 2) {
			echo[0] = pl[0];
			echo[1] = pl[1];
			elen = 2;
		}
		pthread_mutex_lock(&ws->wlock);
		if (!ws->close_sent) {
			/* §5.5.1: answer with a close frame echoing the code. */
			if (ws_write_frame_locked(ws, WS_OP_CLOSE, true, echo, elen, 0) == 0)
				ws->close_sent = true;
		}
		pthread_mutex_unlock(&ws->wlock);
		*res = ws_closed_msg(ws, msg);
		return 1;
	}
	case WS_OP_CONT:
		if (!ws->msg_op) {
			*res = ws_proto_error(ws, msg, "continuation without a started message");
			return 1;
		}
		break;
	default: /* TEXT, BINARY */
		if (ws->msg_op) {
			*res = ws_proto_error(ws, msg, "new message inside a fragmented one");
			return 1;
		}
		ws->msg_op = op;
		ws->msg_frames = 0;
		cbuf_reset(&ws->msg);
		break;
	}
	ws->msg_frames++;
	if (fin && ws->msg_frames == 1) {
		/* Unfragmented: copy straight out. */
		enum ws_recv_result t = op == WS_OP_TEXT ? WS_RECV_TEXT : WS_RECV_BINARY;

		ws->msg_op = 0;
		if (ws_fill_msg(msg, t, pl, (size_t)plen) < 0) {
			*res = ws_proto_error(ws, msg, "out of memory");
			return 1;
		}
		msg->fragments = 1;
		*res = t;
		return 1;
	}
	if (cbuf_add(&ws->msg, pl, (size_t)plen) < 0) {
		*res = ws_proto_error(ws, msg, "message too large");
		return 1;
	}
	if (!fin)
		return 0;
	memset(msg, 0, sizeof(*msg));
	msg->type = ws->msg_op == WS_OP_TEXT ? WS_RECV_TEXT : WS_RECV_BINARY;
	msg->data = cbuf_take(&ws->msg, &msg->len);
	msg->fragments = ws->msg_frames;
	msg->recv_ns = clock_mono_ns();
	ws->msg_op = 0;
	if (!msg->data) {
		*res = ws_proto_error(ws, msg, "out of memory");
		return 1;
	}
	*res = msg->type;
	return 1;
}

/* Read what is available (waiting up to the deadline). 1 got bytes, 0 timeout, -1 EOF or
 * error (ws->closed set on EOF). */
static int ws_read_more(struct ws_conn *ws, int64_t deadline)
{
	if (ws->in_off > 0 && (ws->in_off == ws->in.len || ws->in_off > ws->in.len / 2)) {
		cbuf_consume(&ws->in, ws->in_off);
		ws->in_off = 0;
	}
	if (cbuf_reserve(&ws->in, WS_READ_CHUNK) < 0) {
		ws_set_err(ws, "receive buffer full");
		return -1;
	}
	for (;;) {
		ssize_t n = recv(ws->fd, ws->in.p + ws->in.len, ws->in.alloc - ws->in.len - 1, 0);
		struct pollfd pfd = { .fd = ws->fd, .events = POLLIN };
		int64_t left;
		int rc;

		if (n > 0) {
			ws->in.len += (size_t)n;
			ws->in.p[ws->in.len] = '\0';
			return 1;
		}
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			ws->closed = true;
			ws->close_code = 1006; /* §7.1.5: closed without a close frame */
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ws_set_err(ws, "recv: %m");
			return -1;
		}
		left = deadline - clock_mono_ms();
		if (left <= 0)
			return 0;
		rc = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc < 0 && errno != EINTR) {
			ws_set_err(ws, "poll: %m");
			return -1;
		}
		if (rc == 0)
			return 0;
	}
}

enum ws_recv_result ws_recv(struct ws_conn *ws, struct ws_msg *msg, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	memset(msg, 0, sizeof(*msg));
	for (;;) {
		enum ws_recv_result res;
		int rc;

		if (ws->closed && ws->close_code != 0)
			return ws_closed_msg(ws, msg);
		rc = ws_parse_one(ws, msg, &res);
		if (rc == 1) {
			msg->type = res;
			return res;
		}
		if (rc == 0)
			continue;
		rc = ws_read_more(ws, deadline);
		if (rc == 0) {
			msg->type = WS_RECV_TIMEOUT;
			return WS_RECV_TIMEOUT;
		}
		if (rc < 0) {
			if (ws->closed)
				return ws_closed_msg(ws, msg);
			msg->type = WS_RECV_ERROR;
			return WS_RECV_ERROR;
		}
	}
}

/* ---- handshake ---- */

/* Does the comma-separated header value contain token (case-insensitive)? */
static bool ws_has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);

	while (n) {
		size_t i = 0, s, e;

		while (i < n && v[i] != ',')
			i++;
		s = 0;
		e = i;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
			return true;
		if (i == n)
			break;
		v += i + 1;
		n -= i + 1;
	}
	return false;
}

static struct ws_conn *ws_alloc(int fd)
{
	struct ws_conn *ws = calloc(1, sizeof(*ws));

	if (!ws)
		return NULL;
	ws->fd = fd;
	pthread_mutex_init(&ws->wlock, NULL);
	cbuf_init(&ws->in, WS_MESSAGE_MAX_BYTES + WS_READ_CHUNK + 16);
	cbuf_init(&ws->msg, WS_MESSAGE_MAX_BYTES);
	return ws;
}

void ws_free(struct ws_conn *ws)
{
	if (!ws)
		return;
	if (ws->fd >= 0)
		close(ws->fd);
	pthread_mutex_destroy(&ws->wlock);
	cbuf_free(&ws->in);
	cbuf_free(&ws->msg);
	free(ws->close_reason);
	free(ws->headers);
	free(ws);
}

int ws_connect(const char *url, const char *const *extra_headers, const char *source_ip,
	       long timeout_ms, struct ws_conn **out, int *http_status, char **body)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 10000);
	char host[256], key[32], expect[29];
	const char *path, *v;
	uint8_t nonce[16];
	struct cbuf req;
	struct ws_conn *ws = NULL;
	struct raw_resp r;
	bool have_resp = false, eof = false, v6, ok;
	char *head = NULL;
	size_t vlen, hend = 0;
	int port, fd, ret = -1;

	if (raw_split_url(url, host, sizeof(host), &port, &path) < 0)
		return -1;
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(nonce, sizeof(nonce));
	b64_encode(nonce, sizeof(nonce), key, sizeof(key), false, true);
	sha1_ws_accept(key, expect);

	fd = raw_connect(host, port, source_ip, deadline - clock_mono_ms());
	if (fd < 0)
		return -1;
	ws = ws_alloc(fd);
	if (!ws) {
		close(fd);
		return -1;
	}
	/* RFC 6455 §4.1 opening handshake; an IPv6 literal host is bracketed. */
	v6 = strchr(host, ':') != NULL;
	if (asprintf(&head,
		     "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n",
		     path, v6 ? "[" : "", host, v6 ? "]" : "", port, key) < 0)
		goto out;
	cbuf_init(&req, WS_HANDSHAKE_MAX_BYTES);
	ok = cbuf_adds(&req, head) == 0;
	free(head);
	for (const char *const *h = extra_headers; ok && h && *h; h++)
		ok = cbuf_adds(&req, *h) == 0 && cbuf_adds(&req, "\r\n") == 0;
	ok = ok && cbuf_adds(&req, "\r\n") == 0 && raw_send(fd, req.p, req.len, deadline) == 0;
	cbuf_free(&req);
	if (!ok)
		goto out;

	/* Read the answer's header block; bytes after it are already WebSocket frames. */
	for (;;) {
		int rc;

		if (ws->in.len) {
			char *e = strstr(ws->in.p, "\r\n\r\n");

			if (e) {
				hend = (size_t)(e - ws->in.p) + 4;
				break;
			}
		}
		if (ws->in.len > WS_HANDSHAKE_MAX_BYTES)
			goto out;
		rc = ws_read_more(ws, deadline);
		if (rc <= 0)
			goto out;
	}
	ws->closed = false;
	ws->close_code = 0;
	if (raw_parse_response(ws->in.p, hend, false, true, &r) != 1)
		goto out;
	have_resp = true;
	if (http_status)
		*http_status = r.status;
	if (r.status != 101) {
		/* Read the error body too (bounded by the deadline). */
		raw_resp_free(&r);
		have_resp = false;
		for (;;) {
			int rc = raw_parse_response(ws->in.p, ws->in.len, eof, false, &r);

			if (rc == 1) {
				have_resp = true;
				break;
			}
			if (rc < 0 || eof)
				break;
			rc = ws_read_more(ws, deadline);
			if (rc == 0)
				break;
			if (rc < 0)
				eof = true;
		}
		if (body)
			*body = have_resp ? r.body : NULL;
		if (have_resp && body)
			r.body = NULL;
		ret = WS_ERR_STATUS;
		goto out;
	}
	/* RFC 6455 §4.1, client steps 2–4 of validating the server's handshake. */
	v = raw_header(&r, "Upgrade", &vlen);
	if (!v || vlen != 9 || strncasecmp(v, "websocket", 9) != 0)
		goto bad_accept;
	v = raw_header(&r, "Connection", &vlen);
	if (!v || !ws_has_token(v, vlen, "upgrade"))
		goto bad_accept;
	v = raw_header(&r, "Sec-WebSocket-Accept", &vlen);
	if (!v || vlen != 28 || memcmp(v, expect, 28) != 0)
		goto bad_accept;
	ws->headers = r.headers;
	ws->headers_len = r.headers_len;
	r.headers = NULL;
	ws->in_off = hend;
	*out = ws;
	ws = NULL;
	ret = 0;
	goto out;
bad_accept:
	ret = WS_ERR_ACCEPT;
out:
	if (have_resp)
		raw_resp_free(&r);
	ws_free(ws);
	return ret;
}

/* ---- misc ---- */

const char *ws_headers(const struct ws_conn *ws, size_t *len)
{
	if (len)
		*len = ws->headers_len;
	return ws->headers;
}

const char *ws_error(const struct ws_conn *ws)
{
	return ws->err;
}

int ws_fd(const struct ws_conn *ws)
{
	return ws->fd;
}

uint64_t ws_pings_answered(const struct ws_conn *ws)
{
	return ws->pings;
}

int ws_close(struct ws_conn *ws, int code)
{
	int64_t deadline;
	int result = 1006;
	bool need_send;

	if (!ws)
		return 1006;
	pthread_mutex_lock(&ws->wlock);
	need_send = !ws->close_sent;
	pthread_mutex_unlock(&ws->wlock);
	if (need_send && !ws->closed)
		ws_send_close(ws, code, NULL);
	deadline = clock_mono_ms() + WS_CLOSE_WAIT_MS;
	for (;;) {
		struct ws_msg m;
		enum ws_recv_result rr;
		int64_t left = deadline - clock_mono_ms();

		rr = ws_recv(ws, &m, left > 0 ? (long)left : 0);
		if (rr == WS_RECV_CLOSE) {
			result = m.close_code;
			ws_msg_free(&m);
			break;
		}
		ws_msg_free(&m);
		if (rr == WS_RECV_ERROR || rr == WS_RECV_TIMEOUT)
			break;
	}
	ws_free(ws);
	return result;
}
