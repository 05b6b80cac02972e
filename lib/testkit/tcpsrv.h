/* tcpsrv — a scripted TCP server on 127.0.0.1 for client-side tests (HTTP, SSE, WebSocket
 * framing): every accepted connection runs the caller's handler in its own thread, so the
 * test controls every byte and every pause on the wire.
 *
 * Accepted sockets are non-blocking and close-on-exec; handlers use the deadline-based calls
 * of client/rawhttp.h (raw_send, raw_read_until, ...) or tcpsrv_read_request(). The handler
 * owns nothing: the server closes the fd after the handler returns.
 * tcpsrv_stop() shuts every open connection down (their reads return EOF), joins all
 * threads, and frees the server. Thread-safe as described; one tcpsrv per test is typical.
 */
#ifndef SEALROOM_TESTKIT_TCPSRV_H
#define SEALROOM_TESTKIT_TCPSRV_H

#include <stddef.h>
#include <stdint.h>

struct cbuf;
struct tcpsrv;

/* Runs in a connection thread. conn_no counts accepted connections from 1. */
typedef void (*tcpsrv_handler)(int fd, unsigned conn_no, void *ud);

/* Listen on 127.0.0.1 (port 0 = any free port) and start accepting. Returns NULL on
 * failure. ud is passed to every handler call. */
struct tcpsrv *tcpsrv_start(tcpsrv_handler h, void *ud);

/* The bound port. */
int tcpsrv_port(const struct tcpsrv *s);

/* Connections accepted so far (thread-safe). */
unsigned tcpsrv_accepted(const struct tcpsrv *s);

/* Stop accepting, shut down open connections, join every thread, free. NULL is a no-op. */
void tcpsrv_stop(struct tcpsrv *s);

/* Read until out (a cbuf the caller initialised; it may already hold bytes of a pipelined
 * request) starts with one complete HTTP request: head through the empty line plus a
 * Content-Length body. Returns that request's length n (out[0..n) is the request, any later
 * bytes belong to the next one; the caller cbuf_consume()s n), 0 if the peer closed before a
 * complete request, -1 on timeout or error. */
long tcpsrv_read_request(int fd, struct cbuf *out, long timeout_ms);

/* Peer address of fd as text (e.g. "127.0.0.2") into buf. Returns 0 or -1. */
int tcpsrv_peer_ip(int fd, char *buf, size_t cap);

#endif
