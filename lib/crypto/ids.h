/* ids — random identifiers: UUIDs (§0), room ids (CRYPTO-1) and signature nonces (CRYPTO-5).
 *
 * All randomness comes from libsodium's randombytes (crypto_init() first). Thread-safe; the
 * functions never fail and never block once libsodium is initialised.
 */
#ifndef SEALROOM_CRYPTO_IDS_H
#define SEALROOM_CRYPTO_IDS_H

#include <stddef.h>

#include "crypto/crypto.h"

/* CRYPTO-1: the alphabet clients draw room ids from (no I, O, 0, 1). */
#define CRYPTO_ROOM_ALPHABET	"ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#define CRYPTO_NONCE_B64URL_LEN 24 /* CRYPTO-5: 18 random bytes in base64url */

/* A fresh lower-case RFC 4122 version-4 UUID, "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx",
 * NUL-terminated (37 bytes). */
void crypto_uuid_v4(char out[37]);

/* n characters drawn uniformly (no modulo bias) from alphabet, then a NUL: out must hold n+1
 * bytes. alphabet NULL or "" means CRYPTO_ROOM_ALPHABET; at most 256 characters are used.
 * For a room id pick n in 4..64 (VAL-1); clients use 10 (browser) or 6 (MCP server). */
void crypto_random_id(char *out, size_t n, const char *alphabet);

/* CRYPTO-5: 18 random bytes as base64url (24 characters, never padded), NUL-terminated. The
 * result passes VAL-6. */
void crypto_random_nonce_b64url(char out[25]);

#endif
