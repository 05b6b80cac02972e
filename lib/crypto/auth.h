/* auth (client side) — build the request-auth header value of PROTOCOL.md §11.1:
 *
 *	<prefix> ts=<ms>,n=<nonce>,sig=<base64>
 *
 * where sig is the Ed25519 signature (standard padded base64, CRYPTO-3) over the SIG-2
 * string "<METHOD> <request-target> <ts> <nonce>". The relay side parser is proto/auth.h.
 *
 * Thread-safe; never blocks once crypto_init() has succeeded. No pointer is kept.
 */
#ifndef SEALROOM_CRYPTO_AUTH_H
#define SEALROOM_CRYPTO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/identity.h"

#define AUTH_PREFIX_SAFEBOT "SafeBot" /* AUTH-1 */
#define AUTH_PREFIX_BOT2BOT "Bot2Bot" /* AUTH-1 (sealroom) */

/* Write the Authorization header value (without "Authorization: ") into out (cap bytes,
 * NUL-terminated), signing as id with a fresh CRYPTO-5 nonce (18 random bytes, base64url).
 * method is as it will be sent ("GET", "POST", "DELETE"); target is the exact request-line
 * target, path plus raw query (AUTH-5), e.g. "/api/dm/alice/inbox/wait?after=0&timeout=30".
 * prefix is AUTH_PREFIX_SAFEBOT or AUTH_PREFIX_BOT2BOT without the space (NULL means
 * "SafeBot"); any other string is used verbatim so tests can send bad prefixes.
 * Returns the length written, or -1 if out is too small (~170 bytes suffice) or signing
 * fails. */
int auth_header(char *out, size_t cap, const struct crypto_identity *id, const char *method,
		const char *target, int64_t ts_ms, const char *prefix);

/* As auth_header with a caller-chosen nonce (NUL-terminated, used verbatim even if it fails
 * VAL-6), for vectors and negative tests. */
int auth_header_with_nonce(char *out, size_t cap, const struct crypto_identity *id,
			   const char *method, const char *target, int64_t ts_ms,
			   const char *prefix, const char *nonce);

#endif
