/* sha1 — SHA-1 (RFC 3174), only for the WebSocket handshake check (RFC 6455 §4.2.2:
 * Sec-WebSocket-Accept = base64(SHA-1(key + GUID))). libsodium has no SHA-1 and SHA-1 must
 * not be used for anything security-relevant here. Pure, no shared state. */
#ifndef SEALROOM_CLIENT_SHA1_H
#define SEALROOM_CLIENT_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_BYTES 20

struct sha1_ctx {
	uint32_t h[5];
	uint64_t total;		/* bytes hashed so far */
	uint8_t block[64];
	size_t used;		/* bytes in block */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t n);
/* Write the digest and wipe nothing (not a secret); c must be re-initialised for reuse. */
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_DIGEST_BYTES]);

/* One-shot digest of n bytes. */
void sha1(const void *data, size_t n, uint8_t out[SHA1_DIGEST_BYTES]);

/* RFC 6455 Sec-WebSocket-Accept for a Sec-WebSocket-Key value: base64 of SHA-1(key + GUID),
 * 28 characters + NUL into out. */
void sha1_ws_accept(const char *key, char out[29]);

#endif
