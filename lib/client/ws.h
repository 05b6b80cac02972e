/* ws — raw RFC 6455 WebSocket client over a TCP socket (DESIGN.md "Clients"; PROTOCOL.md §8).
 *
 * civetweb's client uses a fixed key and cannot send headers, and the conformance runner needs
 * exact control of the wire, so this client does the handshake itself (random
 * Sec-WebSocket-Key, checked Sec-WebSocket-Accept), masks what it sends, reassembles
 * fragmented messages, answers pings, reports close codes, and can send deliberately
 * malformed frames (unmasked, reserved bits, bad opcodes, lengths it never delivers).
 *
 * Threads: one thread may receive while another sends (sends are serialised by a mutex, and
 * so are the automatic pong and close answers); two threads must not receive at once.
 * Epoll users watch ws_fd() for input and call ws_recv(ws, &m, 0) until it returns
 * WS_RECV_TIMEOUT. Sends block until written or WS_SEND_TIMEOUT_MS passed.
 */
#ifndef SEALROOM_CLIENT_WS_H
#define SEALROOM_CLIENT_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cap on one reassembled inbound message and on a handshake answer. */
#define WS_MESSAGE_MAX_BYTES (16u * 1024 * 1024)
#define WS_HANDSHAKE_MAX_BYTES (64u * 1024)
#define WS_SEND_TIMEOUT_MS 10000
/* How long ws_close() waits for the peer's close frame or EOF. */
#define WS_CLOSE_WAIT_MS 2000

/* Opcodes (RFC 6455 §5.2); any 0..15 may be sent with ws_send_frame. */
enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* ws_send_frame flags. */
#define WS_F_NO_MASK 0x001	/* unmasked (violates §5.1: client frames are masked) */
#define WS_F_RSV1 0x010		/* set reserved bits (§5.2; no extension is negotiated) */
#define WS_F_RSV2 0x020
#define WS_F_RSV3 0x040
#define WS_F_HEADER_ONLY 0x100	/* declare len payload bytes but send only the header
				 * (payload may be NULL): oversize-declaration probes (WS-4) */
#define WS_F_LEN64 0x200	/* always use the 64-bit length form (non-minimal encoding) */

/* ws_connect results besides 0 and -1. */
#define WS_ERR_STATUS (-2)	/* the answer was not 101: see *http_status and *body */
#define WS_ERR_ACCEPT (-3)	/* 101 with a wrong/missing Sec-WebSocket-Accept or Upgrade */

enum ws_recv_result {
	WS_RECV_ERROR = -1,	/* protocol violation by the peer or socket error: ws_error() */
	WS_RECV_TIMEOUT = 0,	/* no complete message before the deadline */
	WS_RECV_TEXT = 1,
	WS_RECV_BINARY = 2,
	WS_RECV_CLOSE = 3,	/* close frame (code, or 1005 without one) or TCP close (1006) */
	WS_RECV_PONG = 4,	/* a pong (only if we pinged; unsolicited ones are returned too) */
};

struct ws_msg {
	enum ws_recv_result type;
	char *data;		/* malloc'd payload, NUL-terminated (not in len); for CLOSE
				 * the reason text; NULL for TIMEOUT/ERROR */
	size_t len;
	int close_code;		/* CLOSE: the code, 1005 if the frame had none, 1006 if the
				 * connection dropped without a close frame */
	unsigned fragments;	/* frames the message arrived in (1 = unfragmented) */
	int64_t recv_ns;	/* clock_mono_ns() when the message completed */
};

struct ws_conn;

/* Open a WebSocket: url is "ws://host:port/path?query" (http:// also accepted; no TLS).
 * extra_headers: NULL or a NULL-terminated array of "Name: value" lines added to the
 * handshake (e.g. "X-Forwarded-For: 1.2.3.4", "CF-Connecting-IP: 5.6.7.8"). source_ip: NULL
 * or a local address to bind. Blocks up to timeout_ms (<= 0: 10 s) for connect + handshake.
 * Returns 0 with *out set (101 and a correct Sec-WebSocket-Accept), WS_ERR_STATUS for
 * another status (then *http_status is set and, if body is not NULL, *body is the malloc'd
 * answer body, caller frees), WS_ERR_ACCEPT, or -1 on a transport error or timeout. http_status
 * may be NULL; it is set to the status whenever one was received (101 on success). */
int ws_connect(const char *url, const char *const *extra_headers, const char *source_ip,
	       long timeout_ms, struct ws_conn **out, int *http_status, char **body);

/* The 101 answer's header block (status line first), valid for the connection's life. */
const char *ws_headers(const struct ws_conn *ws, size_t *len);

/* Send a complete text / binary message as one masked frame. 0 or -1. */
int ws_send_text(struct ws_conn *ws, const char *text, size_t len);
int ws_send_binary(struct ws_conn *ws, const void *data, size_t len);
/* Ping with an application payload (<= 125 bytes). */
int ws_send_ping(struct ws_conn *ws, const void *data, size_t len);
/* Close frame with code (0: no code, empty payload) and optional reason (NULL ok). Marks
 * the connection as closing; receiving continues to work. */
int ws_send_close(struct ws_conn *ws, int code, const char *reason);

/* One frame exactly as described: opcode (0..15, not checked), FIN bit, payload (len bytes;
 * NULL only with WS_F_HEADER_ONLY) and WS_F_* flags. Control-frame limits are not enforced,
 * so conformance can send what the RFC forbids. 0 or -1. */
int ws_send_frame(struct ws_conn *ws, int opcode, bool fin, const void *payload, size_t len,
		  unsigned flags);

/* Arbitrary bytes on the socket (garbage, half frames). 0 or -1. */
int ws_send_raw(struct ws_conn *ws, const void *data, size_t len);

/* Receive the next message within timeout_ms (0: only what is already available). Pings are
 * answered automatically and not returned; fragments are reassembled. On a close frame the
 * close is echoed (if we had not sent one) and WS_RECV_CLOSE is returned, and again on every
 * later call. Returns the type (also in msg->type); for TEXT/BINARY/CLOSE/PONG the caller
 * frees msg with ws_msg_free(). */
enum ws_recv_result ws_recv(struct ws_conn *ws, struct ws_msg *msg, long timeout_ms);

void ws_msg_free(struct ws_msg *msg);

/* Text describing the last WS_RECV_ERROR or send failure ("" if none). */
const char *ws_error(const struct ws_conn *ws);

/* The socket, for epoll (EPOLLIN). Do not read or write it directly. */
int ws_fd(const struct ws_conn *ws);

/* Pings answered so far by the automatic pong. */
uint64_t ws_pings_answered(const struct ws_conn *ws);

/* Polite close: send a close frame with code (if none was sent yet; 0 = without code), wait
 * up to WS_CLOSE_WAIT_MS for the peer's close frame or EOF, then close the socket and free
 * everything. Returns the peer's close code (1005 without one), or 1006 if it closed without
 * a close frame or did not answer in time. NULL ws: returns 1006. */
int ws_close(struct ws_conn *ws, int code);

/* Abrupt close: drop the TCP connection without a close frame and free. NULL ok. */
void ws_free(struct ws_conn *ws);

#endif
