/* crypto — libsodium start-up and the base64 codecs of the crypto layer.
 *
 * Every other lib/crypto header includes this one, so crypto_init() is always in reach.
 * The crypto layer never hand-rolls a primitive: hashing, signing, sealing, randomness and
 * base64 all come from libsodium. The codecs here are the plain libsodium ones (strict about
 * padding and trailing bits, one alphabet at a time); the relay's B64-1 "canonical" checker
 * and B64-3 "lenient" decoder live in proto/b64.h and are not used by this layer.
 *
 * Thread safety: everything here may be called from any thread once crypto_init() returned 0.
 * Nothing blocks except crypto_init() (it may read the kernel's entropy source once).
 */
#ifndef SEALROOM_CRYPTO_CRYPTO_H
#define SEALROOM_CRYPTO_CRYPTO_H

#include <stddef.h>

/* Initialise libsodium (sodium_init). Call once before any other crypto_* / sigstr_* /
 * env_* / roomurl_* / auth_header* function; further calls are harmless. Returns 0, or -1
 * when libsodium cannot start (no usable entropy source). Thread-safe. */
int crypto_init(void);

enum crypto_b64_variant {
	CRYPTO_B64_STD,	      /* A-Za-z0-9+/ with '=' padding (CRYPTO-2, -3, -4) */
	CRYPTO_B64_URL,	      /* A-Za-z0-9-_ with '=' padding (CRYPTO-5: 18 bytes need none) */
	CRYPTO_B64_URL_NOPAD, /* A-Za-z0-9-_ without padding (CRYPTO-1 room key: 43 chars) */
};

/* Encoded length of n bytes in variant v, excluding the NUL. */
size_t crypto_b64_len(size_t n, enum crypto_b64_variant v);

/* Encode n bytes of bin into out (cap bytes, NUL-terminated). Returns the string length, or
 * -1 (out untouched) if out is too small. */
int crypto_b64_encode(char *out, size_t cap, const void *bin, size_t n, enum crypto_b64_variant v);

/* Decode exactly the len bytes at s (need not be NUL-terminated) in variant v into out (cap
 * bytes). Strict: one alphabet, the variant's padding rule, zero trailing bits, no skipped
 * characters. Returns 0 and sets *out_len, or -1 (out_len untouched; out may hold garbage). */
int crypto_b64_decode(unsigned char *out, size_t cap, size_t *out_len, const char *s, size_t len,
		      enum crypto_b64_variant v);

/* Like crypto_b64_decode, but '-' and '_' may stand for '+' and '/' anywhere (as B64-1 lets
 * clients write them) and padding is optional. Used to open envelopes whose strings were
 * relayed exactly as a client sent them. Allocates a temporary copy of s; returns 0 / -1. */
int crypto_b64_decode_mixed(unsigned char *out, size_t cap, size_t *out_len, const char *s,
			    size_t len);

#endif
