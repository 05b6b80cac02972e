/*
 * sse — Server-Sent Events framing (SSE-9, SSE-11) and an incremental WHATWG-style parser for
 * clients, the conformance runner and fuzzers.
 *
 * sse_frame() is pure and thread-safe. A struct sse_parser belongs to one thread at a time; it
 * owns two heap buffers (current line, current event) that grow up to max_event_bytes and are
 * released by sse_parser_free(). Nothing blocks.
 */
#ifndef SEALROOM_PROTO_SSE_H
#define SEALROOM_PROTO_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SSE-11 keepalive comment, as written on the wire. */
#define SSE_KEEPALIVE ": keepalive\n\n"

/* Bytes sse_frame() needs for id (< 0: none) and a len-byte JSON text. */
size_t sse_frame_len(int64_t id, size_t len);

/*
 * SSE-9: writes "id: <id>\ndata: <json>\n\n" (id >= 0, message events) or "data: <json>\n\n"
 * (id < 0) into out. Returns the bytes written (no NUL is added), or 0 if cap is too small or
 * json contains CR or LF (which would break the framing; compact JSON never does).
 */
size_t sse_frame(char *out, size_t cap, int64_t id, const char *json, size_t len);

/*
 * One parsed event or comment; the pointers are owned by the parser and valid only during the
 * callback. Event: data is the data lines joined with "\n" (data_len bytes, NUL-terminated).
 * has_id is true iff this event's block had an "id" field (SSE-9: message events do, others do
 * not); id/id_len is then its value (the last one if several; not NUL-terminated). Comment
 * (is_comment): a line starting with ':'; data is the text after the colon with one leading
 * space removed (": keepalive" -> "keepalive"; not NUL-terminated); has_id is false.
 */
struct sse_event {
	const char *data;
	size_t data_len;
	const char *id;
	size_t id_len;
	bool has_id;
	bool is_comment;
};

typedef void (*sse_event_cb)(void *ud, const struct sse_event *ev);

/* Parser state; treat as opaque. */
struct sse_parser {
	size_t max;		/* max_event_bytes */
	char *line;		/* the incomplete line carried over between feeds */
	size_t line_len, line_cap;
	char *data;		/* data buffer of the current event (each data line + "\n") */
	size_t data_len, data_cap;
	char *id;		/* id of the current event block */
	size_t id_len, id_cap;
	bool has_id;
	char *last_id;		/* WHATWG "last event ID": persists across events */
	size_t last_id_len, last_id_cap;
	bool skip_lf;		/* the previous chunk ended in CR: a leading LF belongs to it */
	bool bom_done;		/* a leading U+FEFF has been checked for */
	bool failed;		/* an over-long event was seen; every feed now fails */
};

/* Initialises p; no allocation yet. max_event_bytes bounds one event's data (the data lines
 * joined, plus one byte) and its id; a single line may be 64 bytes longer (field name). 0 means
 * 1 MiB. Always returns 0. */
int sse_parser_init(struct sse_parser *p, size_t max_event_bytes);

/*
 * Feeds n bytes of the stream. Lines end in CR, LF or CRLF (also split across feeds); one
 * leading BOM is skipped; "field:value" loses one space after the colon; a line without a colon
 * is a field with an empty value; a blank line dispatches the event if any data field was seen
 * ("data" alone gives an empty event); "event", "retry" and unknown fields are ignored; an "id"
 * containing NUL is ignored. cb (may be NULL) runs synchronously for every completed event and
 * comment, in stream order. Returns 0, or -1 once a line or event exceeds max_event_bytes or
 * memory runs out; the parser then stays failed (every later feed returns -1).
 */
int sse_parser_feed(struct sse_parser *p, const char *buf, size_t n, sse_event_cb cb, void *ud);

/* The WHATWG last event ID (the latest "id" field seen so far, "" when none); owned by p, valid
 * until the next feed. */
const char *sse_parser_last_id(const struct sse_parser *p, size_t *len);

/* Forgets the current partial line and event, the last event ID and a failure; keeps buffers. */
void sse_parser_reset(struct sse_parser *p);

/* Frees the buffers; p may be initialised again. */
void sse_parser_free(struct sse_parser *p);

#endif
