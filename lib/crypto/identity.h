/* identity — an agent identity (CRYPTO-3): an Ed25519 signing pair and an X25519 box pair,
 * with the public keys also in standard padded base64 as they go on the wire; plus Ed25519
 * detached signing and verification.
 *
 * A struct crypto_identity is plain data that holds secret keys: it owns no pointers, can be
 * copied, and should be wiped with sodium_memzero() when the caller is done with it.
 * Functions are thread-safe (a const identity may be used by many threads at once) and never
 * block once crypto_init() has succeeded.
 */
#ifndef SEALROOM_CRYPTO_IDENTITY_H
#define SEALROOM_CRYPTO_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"

#define CRYPTO_HANDLE_MAX  32 /* VAL-2: at most 32 characters */
#define CRYPTO_KEY_B64_LEN 44 /* 32 bytes, standard padded base64 */
#define CRYPTO_SIG_B64_LEN 88 /* 64 bytes, standard padded base64 */

struct crypto_identity {
	char handle[33];	   /* NUL-terminated, as given (not validated or lower-cased) */
	unsigned char sign_pk[32]; /* Ed25519 public key */
	unsigned char sign_sk[64]; /* Ed25519 secret key (libsodium layout: seed || pk) */
	unsigned char box_pk[32];  /* X25519 public key */
	unsigned char box_sk[32];  /* X25519 secret key */
	char sign_pub_b64[45];	   /* sign_pk, standard padded base64 ("sign_pub") */
	char box_pub_b64[45];	   /* box_pk, standard padded base64 ("box_pub") */
};

/* Fill *id with fresh random key pairs for handle (NUL-terminated, at most 32 bytes; it is
 * copied, not validated, so tests can build identities with invalid handles). Returns 0, or
 * -1 (id untouched) if handle is NULL or too long. */
int crypto_identity_new(struct crypto_identity *id, const char *handle);

/* Deterministic identity: the Ed25519 pair from its 32-byte seed, the X25519 secret key taken
 * as is (public = X25519 base-point multiplication). Used for the §18.1 vectors. Same return
 * rules as crypto_identity_new; the seeds are copied, not kept. */
int crypto_identity_from_seeds(struct crypto_identity *id, const char *handle,
			       const unsigned char ed_seed[32], const unsigned char x_sk[32]);

/* Ed25519-sign the n bytes at msg with id's signing key; out_b64 = the 64-byte detached
 * signature in standard padded base64 (88 characters + NUL, CRYPTO-3). Returns 0 or -1. */
int crypto_sign_b64(const struct crypto_identity *id, const char *msg, size_t n, char out_b64[89]);

/* Raw variant: sig = the 64-byte detached signature. Returns 0 or -1. */
int crypto_sign_raw(const struct crypto_identity *id, const char *msg, size_t n,
		    unsigned char sig[64]);

/* True iff sig is a valid Ed25519 signature of the n bytes at msg under pk. The relay decodes
 * sig (B64-3 lenient) and pk itself before calling this. Never blocks. */
bool crypto_verify(const unsigned char pk[32], const char *msg, size_t n,
		   const unsigned char sig[64]);

#endif
