/* reqauth — server side of request authentication (PROTOCOL.md §11.1, AUTH-1..6), used by the
 * inbox wait and delete (DM-7d, DM-9) and by claim/ack (CLAIM-1e).
 *
 *	Authorization: SafeBot ts=<ms>,n=<nonce>,sig=<base64>   (or "Bot2Bot ")
 *
 * The caller has already found the handle's record (AUTH-4, first half) and taken the rate
 * limit token (INV-10: rate limiting precedes Ed25519 verification). Thread-safe; never
 * blocks (the replay cache lock is held only for a lookup).
 */
#ifndef SEALROOM_RELAY_REQAUTH_H
#define SEALROOM_RELAY_REQAUTH_H

#include <stddef.h>
#include <stdint.h>

struct identity;
struct replay;

enum reqauth_rc {
	REQAUTH_OK = 0,
	REQAUTH_BAD = -1,   /* AUTH-6: 401 {"error":"bad or missing signature"} */
	REQAUTH_FULL = -2,  /* REPLAY-3: 503 replay cache full, Retry-After 5 */
	REQAUTH_NOMEM = -3, /* 500 internal error */
};

/* Check the Authorization value authz (NULL when the header is absent) of a request
 * method + target (the raw request-line target, path plus raw query, AUTH-5) against id:
 * AUTH-1..3 parse (proto/auth.h), VAL-7 skew against now_ms (wall clock), the nonce unused
 * in cache for (handle, n) (AUTH-4), lenient(sig) of exactly 64 bytes verifying over SIG-2
 * with id's sign_pub (AUTH-5). On success the nonce is recorded (REPLAY-2: only after the
 * signature verified; mono_ms is the cache's monotonic clock). */
enum reqauth_rc reqauth_check(struct replay *cache, const struct identity *id, const char *method,
			      const char *target, const char *authz, int64_t now_ms, int64_t mono_ms);

#endif
