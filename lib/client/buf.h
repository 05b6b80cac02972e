/* buf — growable byte buffer with a hard cap, used by the client modules (STYLE.md: every
 * growable buffer has a cap fixed when it is created and gives up ownership only through
 * cbuf_take). Not thread-safe; the owner serialises access. */
#ifndef SEALROOM_CLIENT_BUF_H
#define SEALROOM_CLIENT_BUF_H

#include <stddef.h>

struct cbuf {
	char *p;	/* heap storage, NUL-terminated when non-NULL (NUL not in len) */
	size_t len;	/* bytes in use */
	size_t alloc;	/* bytes allocated */
	size_t max;	/* hard cap on len */
};

/* An empty buffer that will hold at most max bytes. Allocates nothing yet. */
void cbuf_init(struct cbuf *b, size_t max);

/* Append n bytes. Returns 0, or -1 (buffer unchanged) if the cap would be exceeded or
 * memory ran out. */
int cbuf_add(struct cbuf *b, const void *data, size_t n);

/* Append a NUL-terminated string. Same results as cbuf_add. */
int cbuf_adds(struct cbuf *b, const char *s);

/* Make sure at least n more bytes fit without reallocating; returns 0 or -1 (cap/memory). */
int cbuf_reserve(struct cbuf *b, size_t n);

/* Drop the first n bytes (n <= len), moving the rest to the front. */
void cbuf_consume(struct cbuf *b, size_t n);

/* Empty the buffer but keep its storage. */
void cbuf_reset(struct cbuf *b);

/* Hand the storage to the caller (NUL-terminated, never NULL unless out of memory; an empty
 * buffer yields a malloc'd ""), store its length in *len (len may be NULL) and leave b
 * empty with the same cap. The caller frees the result. */
char *cbuf_take(struct cbuf *b, size_t *len);

/* Release the storage; b is empty afterwards and may be reused. */
void cbuf_free(struct cbuf *b);

#endif
