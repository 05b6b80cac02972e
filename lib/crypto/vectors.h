/* vectors — the fixed test keys and worked examples of PROTOCOL.md §18.1, as data.
 *
 * sealroom-mkvectors writes vectors_crypto_json() to spec/vectors/crypto.json and
 * vectors_signed_strings_json() to spec/vectors/signed_strings.json; the unit tests compare
 * the committed files with what these functions compute now, so the files can never drift
 * from the code. Everything is deterministic: the same bytes on every run.
 *
 * Thread-safe after crypto_init(); never blocks. Returned strings are malloc'd and owned by
 * the caller (free()).
 */
#ifndef SEALROOM_CRYPTO_VECTORS_H
#define SEALROOM_CRYPTO_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/identity.h"

#define VECTORS_TS INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */

/* out[i] = (first + i) mod 256: the "bytes 80..9f" notation of §18.1. */
void vectors_seq(unsigned char *out, size_t n, unsigned first);

/* The §18.1 identity "alice" (Ed25519 seed 00..1f, X25519 secret 20..3f) or "bob" (40..5f,
 * 60..7f). Returns 0, or -1 for any other handle. */
int vectors_identity(struct crypto_identity *id, const char *handle);

/* The JSON texts of spec/vectors/crypto.json and spec/vectors/signed_strings.json (cJSON
 * formatted, with a trailing newline). NULL on allocation failure. */
char *vectors_crypto_json(void);
char *vectors_signed_strings_json(void);

#endif
