/* chunked — incremental decoder for HTTP/1.1 chunked transfer coding (RFC 9112 §7.1), used by
 * the raw HTTP client and by the SSE client to see chunk boundaries (SSE-12: chunks contain
 * whole events only). Strict: chunk-size lines and data ends must be CRLF, sizes are hex
 * without sign, at most 15 hex digits. Pure; one decoder per stream, no locking. */
#ifndef SEALROOM_CLIENT_CHUNKED_H
#define SEALROOM_CLIENT_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Receives decoded payload bytes (n may be 0 when only chunk_end is reported). chunk_end is
 * true on the call that delivers the last byte of a chunk. Return 0 to continue, -1 to stop
 * decoding with an error. */
typedef int (*chunked_cb)(void *ud, const char *data, size_t n, bool chunk_end);

struct chunked_dec {
	int state;		/* internal */
	uint64_t left;		/* bytes left in the current chunk */
	unsigned digits;	/* hex digits read in the size line */
	uint64_t chunks;	/* data chunks completed so far (the final 0 chunk not counted) */
	bool done;		/* the last chunk and trailers were read */
	const char *error;	/* static text after a failure, else NULL */
};

void chunked_init(struct chunked_dec *d);

/* Feed n bytes of the chunked body. Returns the number of bytes consumed (less than n only
 * once done: the bytes after the trailers belong to the next message), or -1 on malformed
 * input or a callback error (d->error says which). Never blocks. */
ssize_t chunked_feed(struct chunked_dec *d, const char *buf, size_t n, chunked_cb cb, void *ud);

#endif
