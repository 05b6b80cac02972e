/* auth (relay side) — parse a request-auth Authorization value (PROTOCOL.md §11.1,
 * AUTH-1..3):
 *
 *	SafeBot ts=<ms>,n=<nonce>,sig=<base64>      (or "Bot2Bot " in the sealroom profile)
 *
 * Pure (no libsodium, no allocation); thread-safe, never blocks. The caller then checks the
 * skew (VAL-7), looks the handle up and the nonce in its replay cache (AUTH-4), decodes sig
 * with B64-3 lenient and verifies it over SIG-2 (AUTH-5); any failure is AUTH-6's 401.
 */
#ifndef SEALROOM_PROTO_AUTH_H
#define SEALROOM_PROTO_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_NONCE_MIN 16		  /* VAL-6 */
#define AUTH_NONCE_MAX 64		  /* VAL-6 */
#define AUTH_TS_MAX    ((int64_t)1 << 53) /* |ts| saturates here (§0 P(s)); never wraps */

struct auth_parsed {
	int64_t ts;	   /* P(ts value): non-zero, within +-2^53 (may be negative) */
	const char *nonce; /* `n` value: points into the parsed value, not NUL-terminated */
	size_t nonce_len;
	const char *sig;   /* `sig` value, untouched (padding kept): points into the value */
	size_t sig_len;
};

/* Parse the len bytes at value (need not be NUL-terminated; the header value as received).
 * AUTH-1: value starts with exactly "SafeBot " or "Bot2Bot " (case-sensitive).
 * AUTH-2: the rest is split on ','; each part is trimmed of ASCII whitespace and split at its
 *	   first '=' (a part without '=' is a key with an empty value); the last duplicate
 *	   wins, order is free, unknown keys are ignored. Keys are not trimmed separately.
 * AUTH-3: ts = P(ts) must be a number and non-zero ("12abc" -> 12, "0"/""/"x" fail); sig must
 *	   be non-empty; n must be non-empty and pass VAL-6 (16-64 chars of A-Za-z0-9+/=_-).
 * Returns true and fills *out (pointers into value, valid while value is), or false with *out
 * untouched. */
bool auth_parse(const char *value, size_t len, struct auth_parsed *out);

/* VAL-6: true iff the n bytes at s are 16-64 characters of A-Za-z0-9+/=_- (also used for the
 * room `sender_nonce`, SIG-7). */
bool auth_nonce_ok(const char *s, size_t n);

#endif
