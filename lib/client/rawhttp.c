#include "client/rawhttp.h"

#include "client/buf.h"
#include "client/chunked.h"
#include "client/http.h"
#include "proto/clock.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RAW_DEFAULT_CONNECT_MS 10000

/* Wait for events on fd until the deadline. Returns >0 ready, 0 timeout, -1 error. */
static int raw_poll(int fd, short events, int64_t deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline_ms - clock_mono_ms();
		int rc;

		if (left < 0)
			left = 0;
		rc = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc < 0 && errno == EINTR)
			continue;
		return rc;
	}
}

static int raw_bind_source(int fd, int family, const char *source_ip)
{
	struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	int rc;

	if (getaddrinfo(source_ip, "0", &hints, &ai) != 0 || !ai) {
		errno = EINVAL;
		return -1;
	}
	rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return rc;
}

int raw_connect(const char *host, int port, const char *source_ip, long timeout_ms)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai;
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : RAW_DEFAULT_CONNECT_MS);
	char portstr[16];
	int fd = -1, err = ECONNREFUSED;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0 || !res) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int one = 1, soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (source_ip && *source_ip && raw_bind_source(fd, ai->ai_family, source_ip) < 0)
			goto next;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno != EINPROGRESS)
			goto next;
		if (raw_poll(fd, POLLOUT, deadline) <= 0) {
			errno = ETIMEDOUT;
			goto next;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			break;
		errno = soerr ? soerr : EIO;
next:
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		errno = err;
	return fd;
}

int raw_split_url(const char *url, char *host, size_t host_cap, int *port, const char **path)
{
	const char *h = strstr(url, "://"), *end, *hs, *he, *colon = NULL;
	long p = 80;

	if (!h)
		return -1;
	h += 3;
	end = h + strcspn(h, "/?#");
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (!rb)
			return -1;
		hs = h + 1;
		he = rb;
		if (rb + 1 < end) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
	} else {
		hs = h;
		colon = memchr(h, ':', (size_t)(end - h));
		he = colon ? colon : end;
	}
	if (colon) {
		char *ep;

		p = strtol(colon + 1, &ep, 10);
		if (ep != end || p <= 0 || p > 65535)
			return -1;
	}
	if (he <= hs || (size_t)(he - hs) >= host_cap)
		return -1;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	*port = (int)p;
	*path = *end == '/' ? end : (*end == '?' ? end : "/");
	return 0;
}

int raw_send(int fd, const void *data, size_t len, int64_t deadline_ms)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (raw_poll(fd, POLLOUT, deadline_ms) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

int raw_sends(int fd, const char *s, int64_t deadline_ms)
{
	return raw_send(fd, s, strlen(s), deadline_ms);
}

/* One read attempt: >0 bytes, 0 EOF/reset, -1 error, -2 timeout. */
static ssize_t raw_read_some(int fd, char *buf, size_t cap, int64_t deadline_ms)
{
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		n = raw_poll(fd, POLLIN, deadline_ms);
		if (n == 0)
			return -2;
		if (n < 0)
			return -1;
	}
}

ssize_t raw_read_until(int fd, char *buf, size_t cap, int64_t deadline_ms, bool *eof)
{
	size_t got = 0;
	bool ended = false;

	while (got < cap) {
		ssize_t n = raw_read_some(fd, buf + got, cap - got, deadline_ms);

		if (n == -1)
			return -1;
		if (n == -2)
			break;
		if (n == 0) {
			ended = true;
			break;
		}
		got += (size_t)n;
	}
	if (got < cap)
		buf[got] = '\0';
	if (eof)
		*eof = ended;
	return (ssize_t)got;
}

int raw_wait_closed(int fd, int64_t deadline_ms)
{
	char sink[4096];

	for (;;) {
		ssize_t n = raw_read_some(fd, sink, sizeof(sink), deadline_ms);

		if (n == 0)
			return 1;
		if (n == -2)
			return 0;
		if (n < 0)
			return -1;
	}
}

/* ---- response parser ---- */

struct raw_body_ctx {
	struct cbuf *body;
};

static int raw_chunk_cb(void *ud, const char *data, size_t n, bool chunk_end)
{
	struct raw_body_ctx *ctx = ud;

	return cbuf_add(ctx->body, data, n);
}

/* End of the header block: offset of the first byte after the empty line, or 0. */
static size_t raw_header_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* "HTTP/1.x SSS ..." -> status and minor, or -1. */
static int raw_status_line(const char *buf, size_t len, int *minor)
{
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' || buf[7] > '9' ||
	    buf[8] != ' ' || buf[9] < '1' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9' || (len > 12 && buf[12] != ' ' && buf[12] != '\r' &&
					       buf[12] != '\n'))
		return -1;
	*minor = buf[7] - '0';
	return (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
}

/* Does the comma-separated header value list end with the token "chunked"? */
static bool raw_te_chunked(const char *v, size_t n)
{
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n >= 7 && strncasecmp(v + n - 7, "chunked", 7) == 0 &&
	       (n == 7 || v[n - 8] == ',' || v[n - 8] == ' ');
}

int raw_parse_response(const char *buf, size_t len, bool eof, bool head, struct raw_resp *out)
{
	size_t hend, off = 0;
	int status, minor;
	const char *v;
	size_t vlen;
	struct raw_resp r;
	struct cbuf body;
	bool has_cl = false;
	uint64_t cl = 0;

	/* Skip interim 1xx answers (100 Continue), but not 101. */
	for (;;) {
		hend = raw_header_end(buf + off, len - off);
		if (!hend)
			return len - off > RAW_HEADERS_MAX_BYTES ? -1 : 0;
		status = raw_status_line(buf + off, hend, &minor);
		if (status < 0)
			return -1;
		if (status >= 200 || status == 101)
			break;
		off += hend;
	}
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.minor = minor;
	v = http_headers_find(buf + off, hend, "Transfer-Encoding", &vlen);
	r.chunked = v && raw_te_chunked(v, vlen);
	if (http_headers_count(buf + off, hend, "Content-Length") > 1)
		return -1;
	v = http_headers_find(buf + off, hend, "Content-Length", &vlen);
	if (v) {
		if (vlen == 0 || vlen > 18)
			return -1;
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			cl = cl * 10 + (uint64_t)(v[i] - '0');
		}
		if (cl > RAW_BODY_MAX_BYTES)
			return -1;
		has_cl = true;
	}

	cbuf_init(&body, RAW_BODY_MAX_BYTES);
	if (head || status == 204 || status == 304 || status == 101) {
		r.consumed = off + hend;
	} else if (r.chunked) {
		struct chunked_dec d;
		struct raw_body_ctx ctx = { &body };
		ssize_t used;

		chunked_init(&d);
		used = chunked_feed(&d, buf + off + hend, len - off - hend, raw_chunk_cb, &ctx);
		if (used < 0) {
			cbuf_free(&body);
			return -1;
		}
		if (!d.done) {
			cbuf_free(&body);
			return eof ? -1 : 0;
		}
		r.chunks = d.chunks;
		r.consumed = off + hend + (size_t)used;
	} else if (has_cl) {
		if (len - off - hend < cl)
			return eof ? -1 : 0;
		if (cbuf_add(&body, buf + off + hend, (size_t)cl) < 0)
			return -1;
		r.consumed = off + hend + (size_t)cl;
	} else {
		/* No length: the body runs until the peer closes (RFC 9112 §6.3). */
		if (!eof)
			return len - off - hend > RAW_BODY_MAX_BYTES ? -1 : 0;
		if (cbuf_add(&body, buf + off + hend, len - off - hend) < 0)
			return -1;
		r.until_eof = true;
		r.consumed = len;
	}

	/* Header block without the terminating empty line. */
	{
		size_t hl = hend;

		if (hl >= 2 && buf[off + hl - 1] == '\n' && buf[off + hl - 2] == '\n')
			hl -= 1;
		else if (hl >= 2 && buf[off + hl - 1] == '\n' && buf[off + hl - 2] == '\r')
			hl -= 2;
		r.headers = malloc(hl + 1);
		if (!r.headers) {
			cbuf_free(&body);
			return -1;
		}
		memcpy(r.headers, buf + off, hl);
		r.headers[hl] = '\0';
		r.headers_len = hl;
	}
	r.body = cbuf_take(&body, &r.body_len);
	if (!r.body) {
		free(r.headers);
		return -1;
	}
	*out = r;
	return 1;
}

int raw_read_response(int fd, struct cbuf *in, bool head, int64_t deadline_ms,
		      struct raw_resp *out)
{
	struct cbuf local;
	struct cbuf *b = in;
	bool eof = false;
	int ret = -1;

	if (!b) {
		cbuf_init(&local, RAW_HEADERS_MAX_BYTES + RAW_BODY_MAX_BYTES);
		b = &local;
	}
	for (;;) {
		int rc = raw_parse_response(b->p ? b->p : "", b->len, eof, head, out);
		ssize_t n;

		if (rc == 1) {
			cbuf_consume(b, out->consumed);
			ret = 0;
			break;
		}
		if (rc < 0 || eof) {
			/* A peer that closes without a byte of answer is a reset, not garbage. */
			errno = (eof && b->len == 0) ? ECONNRESET : EPROTO;
			break;
		}
		if (cbuf_reserve(b, 16384) < 0) {
			errno = ENOMEM;
			break;
		}
		n = raw_read_some(fd, b->p + b->len, b->alloc - b->len - 1, deadline_ms);
		if (n == -2) {
			errno = ETIMEDOUT;
			break;
		}
		if (n == -1)
			break;
		if (n == 0)
			eof = true;
		b->len += (size_t)n;
		b->p[b->len] = '\0';
	}
	if (b == &local)
		cbuf_free(&local);
	return ret;
}

const char *raw_header(const struct raw_resp *r, const char *name, size_t *len)
{
	if (!r->headers)
		return NULL;
	return http_headers_find(r->headers, r->headers_len, name, len);
}

void raw_resp_free(struct raw_resp *r)
{
	if (!r)
		return;
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
