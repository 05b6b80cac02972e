/* peer — one agent in one room over one transport, with a uniform blocking API: post a
 * sealed message, receive the next message event (already opened with the room key).
 *
 *   sse       POST /messages to send; GET /events (SSE, §7) to receive
 *   ws        message frames to send, frames to receive, one WebSocket (§8)
 *   longpoll  POST /messages to send; GET /wait?after= (§6.4) to receive
 *
 * Streams (sse, ws) are opened with ?after=<seq> and are "ready" once the relay's ready event
 * arrived (SSE-8, WS-7); peer_reconnect() resumes after the last seq returned, losslessly
 * (SSE-6, WS-6). Long-poll keeps `after` = the largest seq returned (CLIENT-6).
 *
 * A struct peer belongs to one thread; nothing is shared between peers. Every call may block
 * up to its timeout. Returned messages are plain data (no pointers to free).
 */
#ifndef SEALROOM_SOAK_PEER_H
#define SEALROOM_SOAK_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "payload.h"

enum xport { XP_SSE, XP_WS, XP_LONGPOLL };

const char *xport_name(enum xport x);
/* "sse", "ws", "longpoll" -> 0 and *x; else -1. */
int xport_parse(const char *s, enum xport *x);

struct peer_cfg {
	enum xport xp;
	const char *base;		/* http://host:port */
	const char *room;		/* room id */
	const unsigned char *key;	/* 32-byte room key (copied) */
	const char *source_ip;		/* local address to bind, or NULL */
	long timeout_ms;		/* connect / ready / request deadline */
};

struct peer_msg {
	enum rx_type type;	/* RX_MESSAGE, or RX_ERROR (a WS error frame, WS-11..15) */
	struct rx_outcome o;	/* RX_MESSAGE: seq, label, verified, open result, payload */
	long code;		/* RX_ERROR: the frame's code */
	int64_t recv_ns;	/* clock_mono_ns() when it was received */
};

struct peer;

/* Connect (streams: until `ready`). after: resume point (0 = everything buffered). Returns 0
 * with *out set, or -1 with the reason in err[errcap]. */
int peer_open(const struct peer_cfg *cfg, int64_t after, struct peer **out, char *err,
	      size_t errcap);

/* Send one room-message body (a JSON object text). HTTP transports: *status is the answer's
 * status and *seq the accepted seq (ROOM-POST-10) or -1. WS: *status 0 and *seq -1 (the
 * relay acknowledges through the echo, WS-16). Returns 0, or -1 on a transport failure. */
int peer_post(struct peer *p, const char *body, size_t len, long *status, int64_t *seq);

/* The next message event (or WS error frame) within timeout_ms. Returns 1 with *m filled, 0
 * on timeout, -1 if the stream ended or the request failed (see peer_error()). */
int peer_next(struct peer *p, struct peer_msg *m, long timeout_ms);

/* Long-poll only: continue after seq (the caller's own accepted message in a strict
 * two-party exchange, so its echo is not fetched). No-op for streams. */
void peer_skip_to(struct peer *p, int64_t seq);

/* Close the stream and open it again after the last seq returned. 0 or -1. */
int peer_reconnect(struct peer *p);

/* Text of the last failure. */
const char *peer_error(const struct peer *p);

void peer_close(struct peer *p);

#endif
