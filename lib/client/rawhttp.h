/* rawhttp — arbitrary bytes over a plain TCP socket, for requests libcurl will not send:
 * more than 64 headers, slowloris trickles, bad chunked bodies, HTTP/1.0, bogus methods,
 * pipelining. Plus a small strict HTTP/1.x response parser (status, headers, body by
 * Content-Length, chunked, or until EOF).
 *
 * Deadlines are absolute CLOCK_MONOTONIC milliseconds (clock_mono_ms() + timeout). Sockets
 * are blocking-free: every call waits with poll() and returns at its deadline at the latest.
 * The fd belongs to the caller, who closes it with close(). No shared state: thread-safe.
 */
#ifndef SEALROOM_CLIENT_RAWHTTP_H
#define SEALROOM_CLIENT_RAWHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cbuf;

/* Cap on a parsed response's header block and body. */
#define RAW_HEADERS_MAX_BYTES (256u * 1024)
#define RAW_BODY_MAX_BYTES (128u * 1024 * 1024)

/* TCP connect to host:port (numeric IPv4/IPv6 or a name), optionally binding the local side
 * to source_ip first (e.g. "127.0.0.2"). TCP_NODELAY is set and the socket is non-blocking
 * and close-on-exec. Waits up to timeout_ms (<= 0: 10 s). Returns the fd or -1 (errno set). */
int raw_connect(const char *host, int port, const char *source_ip, long timeout_ms);

/* Parse "http://host:port/path?q" (also ws://): host (brackets removed for IPv6) into
 * host[host_cap], port (default 80) and the path+query start (pointer into url, "/" if none).
 * Returns 0 or -1 if malformed or the host does not fit. */
int raw_split_url(const char *url, char *host, size_t host_cap, int *port, const char **path);

/* Write all len bytes before the deadline. Returns 0, or -1 on timeout (errno ETIMEDOUT) or
 * socket error (EPIPE for a closed peer; SIGPIPE is never raised). */
int raw_send(int fd, const void *data, size_t len, int64_t deadline_ms);

/* As raw_send, for a NUL-terminated string. */
int raw_sends(int fd, const char *s, int64_t deadline_ms);

/* Read into buf until the peer closes, cap bytes are read, or the deadline passes; buf is
 * NUL-terminated when room remains. Returns the number of bytes read (possibly 0), or -1 on
 * a socket error other than a reset by the peer (a reset counts as end of stream). *eof (may
 * be NULL) tells whether the stream ended (close or reset). */
ssize_t raw_read_until(int fd, char *buf, size_t cap, int64_t deadline_ms, bool *eof);

/* Wait until the peer closes the connection (read returns 0 or a reset), discarding any
 * data. Returns 1 if it closed, 0 if still open at the deadline, -1 on another error. */
int raw_wait_closed(int fd, int64_t deadline_ms);

struct raw_resp {
	int status;		/* e.g. 200 */
	int minor;		/* HTTP/1.x minor version */
	char *headers;		/* malloc'd, NUL-terminated header block: status line and
				 * header lines as received, without the final empty line */
	size_t headers_len;
	char *body;		/* malloc'd decoded body, NUL-terminated (not in body_len) */
	size_t body_len;
	bool chunked;		/* Transfer-Encoding: chunked was used */
	uint64_t chunks;	/* number of data chunks (chunked only) */
	bool until_eof;		/* body delimited by connection close */
	size_t consumed;	/* bytes of the input this response used */
};

/* Parse one response from buf[0..len). eof: the peer has closed (needed to complete a body
 * delimited by close). head: the request was HEAD (no body whatever the headers say).
 * Interim 1xx answers other than 101 are skipped. Returns 1 with *out filled (caller frees
 * with raw_resp_free), 0 if more bytes are needed, -1 if malformed (out untouched). */
int raw_parse_response(const char *buf, size_t len, bool eof, bool head, struct raw_resp *out);

/* Read and parse one response before the deadline. in: NULL, or a buffer (cbuf_init'd by
 * the caller with any cap) holding bytes already received; on return it keeps the bytes
 * after this response (pipelined answers). Returns 0, or -1 on timeout, socket error or a
 * malformed response (errno ETIMEDOUT / EPROTO / the socket's). */
int raw_read_response(int fd, struct cbuf *in, bool head, int64_t deadline_ms,
		      struct raw_resp *out);

/* Header lookup in a parsed response; same rules as http_header(). */
const char *raw_header(const struct raw_resp *r, const char *name, size_t *len);

void raw_resp_free(struct raw_resp *r);

#endif
