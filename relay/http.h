/* http — the civetweb adapter. The only relay file besides ws.c that includes civetweb.h.
 *
 * It owns the server lifecycle (worker budget, tcp_nodelay, no document root), turns every
 * request into a struct req (method, raw path, query, client IP, body on the heap), routes it
 * (router.h) and gives handlers one way to answer: resp_*() build status line, headers (HDR-1
 * security headers always) and body in one heap buffer and send it with a single write
 * (DESIGN.md 3). Streaming handlers (SSE) use stream_*(), which frame chunks by hand.
 */
#ifndef SEALROOM_RELAY_HTTP_H
#define SEALROOM_RELAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/query.h"

struct relay;

#define IP_MAX 64

struct inproc;

struct req {
	void *conn;             /* struct mg_connection *, opaque to handlers */
	struct inproc *inproc;  /* in-process request (http_inproc), else NULL */
	struct relay *relay;
	const char *method;
	const char *raw_uri;    /* path as sent, without query, not decoded */
	const char *raw_query;  /* NULL if none */
	char target[2048];      /* request-target as sent: path + "?" + raw query (AUTH-5) */
	struct query query;
	char ip[IP_MAX];        /* IP-1 */
	char *body;             /* POST only (HTTP-10); NUL-terminated heap copy, may be NULL */
	size_t body_len;
	bool body_json;         /* HTTP-11: Content-Type is application/json */
	struct cJSON *json;     /* POST only: the parsed body, {} when absent (HTTP-11/12) */
	bool keep_alive;
	bool responded;
	int peer_fd;            /* http_peer_gone(): 0 = not looked up yet, -1 = unknown */
	int status;             /* status sent, for LOG-4 counting */
};

/* Header lookup on the request (case-insensitive, first occurrence); NULL if absent. */
const char *req_header(const struct req *r, const char *name);
/* All values of a repeated header into out (at most max); returns the count. */
int req_headers(const struct req *r, const char *name, const char **out, int max);

/* Send a complete JSON response. extra: NULL or additional header lines, each ending "\r\n". */
void resp_json(struct req *r, int status, const char *json, size_t len, const char *extra);
/* {"error":"text"} (HTTP-19), with Retry-After when retry_after > 0 (HTTP-20). */
void resp_error(struct req *r, int status, const char *text, int retry_after);
/* Any other content type (text/plain for GET /, Prometheus text). */
void resp_body(struct req *r, int status, const char *ctype, const char *body, size_t len, const char *extra);

/* SSE (SSE-3): send the streaming headers; then each stream_chunk() sends bytes as exactly
 * one HTTP chunk (whole events only, SSE-12). Return 0 or -1 once the peer is gone. */
int stream_begin(struct req *r);
int stream_chunk(struct req *r, const char *data, size_t len);
void stream_end(struct req *r);
/* Zero-copy variant: data has STREAM_HEADROOM writable bytes before it and 2 after it, where
 * the chunk framing is written; then one write. */
#define STREAM_HEADROOM 16
int stream_chunk_framed(struct req *r, char *data, size_t len);

/* Serve one request in-process, without a socket (fuzzing, tests): method, request-target
 * (path + optional "?query"), NULL-terminated "Name: value" headers, body. The complete raw
 * HTTP response is returned in *resp (malloc'd) and the status as the result, or -1.
 * The client IP is 127.0.0.1 (XFF applies). Streaming and parking routes (events, wait,
 * inbox wait, claim) answer 500 here. relay must be set up as by main.c (hub, rl, ipc...). */
int http_inproc(struct relay *relay, const char *method, const char *target, const char *const *headers,
		const char *body, size_t body_len, char **resp, size_t *resp_len);

/* Start/stop the server. http_start prints "sealroom listening on http://HOST:PORT" (LOG-5)
 * once the listener is ready and returns 0, or -1 with a message on stderr. */
int http_start(struct relay *relay);
void http_stop(struct relay *relay);

/* True once the client has closed its end of this connection (a parked request uses this to
 * release its slots when the peer goes away, ROOM-WAIT-6, DM-8, CLAIM-7). civetweb exposes no
 * socket, so the first call finds it by the connection's address pair; cheap afterwards. */
bool http_peer_gone(struct req *r);

/* Park a request until park() reports a wake-up, the deadline (monotonic ms) passes, or the
 * peer disconnects, calling park(arg, until) in slices of at most a second and checking the
 * peer between slices. Returns 1 (woken), 0 (deadline) or -1 (peer gone: answer nothing,
 * call http_abandon, release slots). park must return true when woken. */
int http_park(struct req *r, int64_t deadline_mono, bool (*park)(void *arg, int64_t until), void *arg);
/* The peer is gone: send nothing, and let civetweb close the connection. */
void http_abandon(struct req *r);

/* LOG-1..3: one access-log line (collapsed path, no query) with a single write. */
void http_access_log(struct relay *relay, const char *method, const char *path);

/* Long-lived handler accounting (DESIGN.md 1): take a slot for a stream/parked request, or
 * fail when only the reserve is left (the caller answers 503 "server busy"). */
bool http_longlived_take(struct relay *relay);
void http_longlived_release(struct relay *relay);

#endif
