#include "crypto/auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ids.h"
#include "crypto/sigstr.h"

int auth_header_with_nonce(char *out, size_t cap, const struct crypto_identity *id,
			   const char *method, const char *target, int64_t ts_ms,
			   const char *prefix, const char *nonce)
{
	char sig[CRYPTO_SIG_B64_LEN + 1];
	char *msg;
	size_t mcap;
	int n, rc = -1;

	if (!method || !target || !nonce)
		return -1;
	/* SIG-2; the target may be long, so the signed string lives on the heap */
	mcap = strlen(method) + strlen(target) + strlen(nonce) + 32;
	msg = malloc(mcap);
	if (!msg)
		return -1;
	n = sigstr_request(msg, mcap, method, target, ts_ms, nonce, strlen(nonce));
	if (n < 0 || crypto_sign_b64(id, msg, (size_t)n, sig) != 0)
		goto out;
	n = snprintf(out, cap, "%s ts=%" PRId64 ",n=%s,sig=%s",
		     prefix ? prefix : AUTH_PREFIX_SAFEBOT, ts_ms, nonce, sig);
	if (n >= 0 && (size_t)n < cap)
		rc = n;
out:
	free(msg);
	return rc;
}

int auth_header(char *out, size_t cap, const struct crypto_identity *id, const char *method,
		const char *target, int64_t ts_ms, const char *prefix)
{
	char nonce[CRYPTO_NONCE_B64URL_LEN + 1];

	crypto_random_nonce_b64url(nonce);
	return auth_header_with_nonce(out, cap, id, method, target, ts_ms, prefix, nonce);
}
