/* sse — Server-Sent Events client streams (DESIGN.md "Clients", PROTOCOL.md §7).
 *
 * Two layers:
 *  - struct sse_pool: MANY streams in one thread on libcurl multi driven by epoll
 *    (curl_multi_socket_action), parsed events delivered through callbacks. For soak drivers
 *    holding thousands of subscribers.
 *  - struct sse_conn: one blocking stream for conformance cases: sse_open() waits for the
 *    response headers, sse_next() returns the next event or comment with a deadline.
 *
 * Events are parsed with the incremental parser of proto/sse.h. The client switches off
 * libcurl's chunked decoding and decodes chunks itself, so it can report whether the
 * response was chunked and whether every chunk held whole events only (SSE-3, SSE-12).
 * Responses with a non-2xx status are not parsed: their body is kept (up to
 * SSE_BODY_MAX_BYTES) for the error checks (SSE-1, SSE-2).
 *
 * Threads: a pool and its streams belong to the thread that calls sse_pool_run(); every
 * function except sse_pool_wake() must be called from that thread. Different pools may run
 * in different threads. Each stream costs one socket (mind RLIMIT_NOFILE for big soaks) and
 * one libcurl receive buffer (sse_pool_cfg.recv_buffer_bytes).
 */
#ifndef SEALROOM_CLIENT_SSE_H
#define SEALROOM_CLIENT_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/sse.h"

/* Cap on the kept body of a non-2xx answer and on the raw capture of a blocking stream. */
#define SSE_BODY_MAX_BYTES (1024u * 1024)
/* Default cap on one event (sse_parser max_event_bytes): a message event carries at most a
 * 196 608-byte body worth of JSON (HTTP-14) plus the relay's fields. */
#define SSE_EVENT_MAX_BYTES (1024u * 1024)
#define SSE_HEADERS_MAX_BYTES (64u * 1024)

/* Per-stream counters, updated as bytes arrive. */
struct sse_stats {
	uint64_t bytes;		/* decoded body bytes */
	uint64_t chunks;	/* chunks received (chunked responses) */
	uint64_t chunks_split;	/* chunks not ending at an event boundary (SSE-12) */
	uint64_t events;	/* events dispatched (comments excluded) */
	uint64_t comments;	/* comment lines (": keepalive") */
};

struct sse_pool;
struct sse_stream;

/* Called for every parsed event and comment of a 2xx stream, in stream order. ev and its
 * pointers are valid only during the call. */
typedef void (*sse_pool_event_cb)(void *pool_ud, struct sse_stream *s, void *stream_ud,
				  const struct sse_event *ev);
/* Called once when the final response headers arrived; status is the HTTP status. */
typedef void (*sse_pool_open_cb)(void *pool_ud, struct sse_stream *s, void *stream_ud,
				 long status);
/* Called once when the stream ended: the server closed it, it failed, or it timed out while
 * connecting. status is the HTTP status (0 if no response), error NULL for a clean end of
 * the response, else a short text. The stream stays allocated (its status, headers, body and
 * stats remain readable) until sse_pool_remove(). */
typedef void (*sse_pool_close_cb)(void *pool_ud, struct sse_stream *s, void *stream_ud,
				  long status, const char *error);

struct sse_pool_cfg {
	sse_pool_event_cb on_event;	/* may be NULL (events are then only counted) */
	sse_pool_open_cb on_open;	/* may be NULL */
	sse_pool_close_cb on_close;	/* may be NULL */
	void *ud;			/* passed to every callback as pool_ud */
	size_t max_event_bytes;		/* 0: SSE_EVENT_MAX_BYTES */
	long connect_timeout_ms;	/* 0: 10 000 */
	long recv_buffer_bytes;		/* libcurl receive buffer per stream; 0: 16 KiB */
};

/* Create a pool (an epoll instance, an eventfd and a curl multi handle). cfg is copied.
 * Returns NULL on failure. */
struct sse_pool *sse_pool_new(const struct sse_pool_cfg *cfg);

/* Remove every stream (no on_close calls) and free the pool. NULL is a no-op. */
void sse_pool_free(struct sse_pool *p);

/* Start a GET stream to url (absolute http URL, sent as given). headers: NULL or a
 * NULL-terminated array of "Name: value" lines (copied; "Accept: text/event-stream" is sent
 * unless given). source_ip: NULL or a local address to bind (copied). stream_ud is handed to
 * the callbacks. The connection is made during later sse_pool_run() calls. May be called from
 * callbacks (the transfer then starts after the current dispatch). Returns NULL on
 * allocation failure. */
struct sse_stream *sse_pool_add(struct sse_pool *p, const char *url, const char *const *headers,
				const char *source_ip, void *stream_ud);

/* Stop and free a stream; no callback is made for it afterwards. Safe inside any callback,
 * also for the stream being dispatched (freed after the dispatch returns). */
void sse_pool_remove(struct sse_pool *p, struct sse_stream *s);

/* Wait up to timeout_ms (0: do not wait) for network activity or curl timers, dispatch what
 * is ready (callbacks run here) and return the number of events and comments dispatched, or
 * -1 on an epoll/curl failure. Returns early when sse_pool_wake() is called. Blocks. */
int sse_pool_run(struct sse_pool *p, long timeout_ms);

/* Make a concurrent or the next sse_pool_run() return promptly. Thread-safe, signal-safe. */
void sse_pool_wake(struct sse_pool *p);

/* Streams currently added (including ended ones not yet removed). */
size_t sse_pool_count(const struct sse_pool *p);

/* ---- stream accessors (pool thread only; pointers valid until sse_pool_remove) ---- */

void *sse_stream_ud(const struct sse_stream *s);
/* HTTP status, 0 before the headers arrived or if none did. */
long sse_stream_status(const struct sse_stream *s);
/* true once on_close has been (or would have been) called. */
bool sse_stream_ended(const struct sse_stream *s);
/* Raw header block of the final response (status line first), or NULL before it arrived. */
const char *sse_stream_headers(const struct sse_stream *s, size_t *len);
/* First header called name, as http_header(). */
const char *sse_stream_header(const struct sse_stream *s, const char *name, size_t *len);
/* Number of headers called name. */
int sse_stream_header_count(const struct sse_stream *s, const char *name);
/* Transfer-Encoding: chunked was used. */
bool sse_stream_chunked(const struct sse_stream *s);
struct sse_stats sse_stream_stats(const struct sse_stream *s);
/* Body of a non-2xx answer (NUL-terminated), or "" for a 2xx stream. */
const char *sse_stream_body(const struct sse_stream *s, size_t *len);
/* The error text passed to on_close, or NULL. */
const char *sse_stream_error(const struct sse_stream *s);

/* ---- blocking single stream ---- */

/* One event or comment, owned by the caller (free with sse_event_copy_free). */
struct sse_event_copy {
	char *data;		/* NUL-terminated */
	size_t data_len;
	char *id;		/* NUL-terminated, NULL when !has_id */
	size_t id_len;
	bool has_id;
	bool is_comment;
	int64_t recv_ns;	/* clock_mono_ns() when the event was parsed */
};

void sse_event_copy_free(struct sse_event_copy *ev);

struct sse_conn;

/* Open a stream and wait up to timeout_ms (<= 0: 10 s) for its response headers; for a
 * non-2xx answer, also for its whole body. Returns NULL on a transport error or timeout
 * (with the reason in err[errcap] when err is not NULL). Any status returns a conn. */
struct sse_conn *sse_open_ex(const char *url, const char *const *headers, const char *source_ip,
			     long timeout_ms, char *err, size_t errcap);

static inline struct sse_conn *sse_open(const char *url, const char *const *headers,
					const char *source_ip, long timeout_ms)
{
	return sse_open_ex(url, headers, source_ip, timeout_ms, NULL, 0);
}

/* Next event or comment (in stream order; keepalive comments included, is_comment set).
 * Returns 1 with *ev filled, 0 if none arrived within timeout_ms (0: poll only), -1 once the
 * stream has ended (or failed) and every received event was returned, or for a non-2xx
 * answer. Blocks up to timeout_ms. */
int sse_next(struct sse_conn *c, struct sse_event_copy *ev, long timeout_ms);

/* As sse_next, skipping comments. */
int sse_next_event(struct sse_conn *c, struct sse_event_copy *ev, long timeout_ms);

/* Wait until the server ends the stream (discarding nothing: events stay queued for
 * sse_next). Returns 1 if it ended within timeout_ms, else 0. */
int sse_wait_end(struct sse_conn *c, long timeout_ms);

long sse_conn_status(const struct sse_conn *c);
const char *sse_conn_headers(const struct sse_conn *c, size_t *len);
const char *sse_conn_header(const struct sse_conn *c, const char *name, size_t *len);
int sse_conn_header_count(const struct sse_conn *c, const char *name);
bool sse_conn_chunked(const struct sse_conn *c);
struct sse_stats sse_conn_stats(const struct sse_conn *c);
/* Non-2xx: the body. 2xx: the decoded stream bytes received so far (first
 * SSE_BODY_MAX_BYTES only), for exact framing checks (SSE-9). NUL-terminated. */
const char *sse_conn_raw(const struct sse_conn *c, size_t *len);
/* NULL while the stream is open or after a clean end, else the failure text. */
const char *sse_conn_error(const struct sse_conn *c);

/* Close the connection (abruptly, as a client going away) and free everything. NULL ok. */
void sse_close(struct sse_conn *c);

#endif
