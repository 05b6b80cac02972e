/* hash — SHA-256 as lower-case hex, the form the signed strings of PROTOCOL.md §11 use
 * (SIG-3 hashes the ciphertext text, SIG-4 the text "ciphertext|nonce|sender_eph_pub").
 *
 * Pure functions of their input (libsodium crypto_hash_sha256); thread-safe, never block.
 */
#ifndef SEALROOM_CRYPTO_HASH_H
#define SEALROOM_CRYPTO_HASH_H

#include <sodium.h>
#include <stddef.h>

#include "crypto/crypto.h"

#define CRYPTO_SHA256_HEX_LEN 64 /* characters, excluding the NUL */

/* out = lower-case hex SHA-256 of the n bytes at data, NUL-terminated (65 bytes). */
void crypto_sha256_hex(const void *data, size_t n, char out[65]);

/* Incremental hashing, to hash "a|b|c" without building the concatenation. The state lives
 * wherever the caller puts it (it is ~100 bytes, fine on a worker stack) and owns nothing:
 * abandoning it needs no cleanup. */
struct crypto_sha256 {
	crypto_hash_sha256_state st;
};

void crypto_sha256_begin(struct crypto_sha256 *h);
void crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t n);
/* Finish: out = lower-case hex digest, NUL-terminated. h must be begun again before reuse. */
void crypto_sha256_final_hex(struct crypto_sha256 *h, char out[65]);

#endif
