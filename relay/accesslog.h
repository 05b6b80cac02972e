/*
 * accesslog — the one-line-per-request access log (PROTOCOL.md §2.4, LOG-1..LOG-3, INV-4).
 *
 * accesslog_collapse() and accesslog_format() are pure and thread-safe and write only into the
 * caller's buffer. accesslog_emit() does one write(2) to a file descriptor (blocking like any
 * write to stdout), so lines from many threads never interleave.
 *
 * Privacy (INV-4, LOG-3): paths under /api/rooms/, /room/, /api/dm/, /api/identity/ and /@ are
 * replaced by their collapsed form, so room ids and handles never reach the log (a WebSocket
 * upgrade logs collapsed like any room route). The caller passes the raw path WITHOUT the query string;
 * no address, header or body is ever logged. Bytes below 0x20 and 0x7F in an uncollapsed path
 * or in the method are written as \xHH, so a request cannot forge log lines or terminal escapes;
 * every other byte is logged as it is.
 */
#ifndef RELAY_ACCESSLOG_H
#define RELAY_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

/* A line buffer this size holds any line accesslog_emit() writes (longer paths are cut). */
#define ACCESSLOG_LINE_MAX 1024

/*
 * LOG-2: collapses the raw path (len bytes, no query) by prefix, first match wins (the star
 * below is a literal '*'):
 *   /api/rooms/...     -> /api/rooms/:id/(star)
 *   /room/...          -> /room/:id
 *   /api/dm/...        -> /api/dm/:handle/(star)
 *   /api/identity/...  -> /api/identity/:handle   (register included)
 *   /@...              -> /@handle
 * Any other path is written as it is (escaped as above). Writes a NUL-terminated
 * string into out and returns its length; a result longer than cap - 1 is cut at cap - 1
 * (never inside a \xHH escape). cap == 0 writes nothing and returns 0.
 */
size_t accesslog_collapse(const char *path, size_t len, char *out, size_t cap);

/*
 * LOG-1: "[2026-01-01T00:00:00.000Z] METHOD collapsed\n" (now_ms is wall-clock ms; ISO via
 * clock_iso8601), NUL-terminated. method is a NUL-terminated C string. When cap is too small the
 * collapsed path is cut so the line still ends in "\n". Returns the length (without the NUL),
 * or 0 if cap cannot even hold the timestamp, method and "\n".
 */
size_t accesslog_format(char *out, size_t cap, int64_t now_ms, const char *method,
			const char *path, size_t pathlen);

/* Formats a LOG-1 line (at most ACCESSLOG_LINE_MAX bytes) and writes it to fd with a single
 * write(2). Returns 0, or -1 if the write failed or was short. */
int accesslog_emit(int fd, int64_t now_ms, const char *method, const char *path, size_t pathlen);

#endif
