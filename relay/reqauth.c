#include "reqauth.h"

#include <string.h>

#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "identity.h"
#include "proto/auth.h"
#include "proto/b64.h"
#include "proto/valid.h"
#include "replay.h"

/* SIG-2 is the target (< 2048 bytes, http.h) plus method, ts and nonce. */
#define REQAUTH_SIGSTR_MAX 2300

enum reqauth_rc reqauth_check(struct replay *cache, const struct identity *id, const char *method,
			      const char *target, const char *authz, int64_t now_ms, int64_t mono_ms)
{
	struct auth_parsed a;
	struct replay_key k;
	unsigned char sig[64];
	char msg[REQAUTH_SIGSTR_MAX];

	if (!authz || !auth_parse(authz, strlen(authz), &a)) /* AUTH-1..3 */
		return REQAUTH_BAD;
	if (!val_skew(now_ms, a.ts)) /* AUTH-3: VAL-7 */
		return REQAUTH_BAD;
	replay_key(cache, &k, id->handle, id->handle_len, a.nonce, a.nonce_len, NULL, 0);
	if (replay_seen(cache, &k, mono_ms)) /* AUTH-4: n unused for this handle */
		return REQAUTH_BAD;
	if (b64_lenient_len(a.sig, a.sig_len) != sizeof(sig)) /* AUTH-5: lenient(sig), 64 bytes */
		return REQAUTH_BAD;
	b64_lenient_decode(a.sig, a.sig_len, sig, sizeof(sig));
	int n = sigstr_request(msg, sizeof(msg), method, target, a.ts, a.nonce, a.nonce_len);
	if (n < 0 || !crypto_verify(id->sign_pk, msg, (size_t)n, sig))
		return REQAUTH_BAD;
	switch (replay_insert(cache, &k, mono_ms)) { /* AUTH-6: cache the nonce */
	case REPLAY_OK:
		return REQAUTH_OK;
	case REPLAY_DUP:
		return REQAUTH_BAD; /* a concurrent twin got there first */
	case REPLAY_FULL:
		return REQAUTH_FULL;
	case REPLAY_NOMEM:
		break;
	}
	return REQAUTH_NOMEM;
}
