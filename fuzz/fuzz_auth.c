/* fuzz_auth — the request-auth Authorization parser (proto/auth.h, AUTH-1..3, VAL-6).
 *
 * Properties: auth_parse never reads outside the value; on success the nonce and sig point
 * inside the value, the nonce passes VAL-6 (auth_nonce_ok), sig is non-empty, ts is non-zero
 * and within +-2^53 (§0 P(s) saturates, never wraps), and the value starts with one of the
 * two AUTH-1 prefixes. */
#include "fuzz.h"

#include "proto/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v = fz_memdup((const char *)data, size);
	struct auth_parsed a;
	memset(&a, 0xA5, sizeof(a));
	struct auth_parsed before = a;
	bool ok = auth_parse(v, size, &a);
	if (ok) {
		FUZZ_CHECK(size >= 8);
		FUZZ_CHECK(memcmp(v, "SafeBot ", 8) == 0 || memcmp(v, "Bot2Bot ", 8) == 0);
		FUZZ_CHECK(a.ts != 0 && a.ts <= AUTH_TS_MAX && a.ts >= -AUTH_TS_MAX);
		FUZZ_CHECK(a.nonce >= v && a.nonce + a.nonce_len <= v + size);
		FUZZ_CHECK(a.sig >= v && a.sig + a.sig_len <= v + size);
		FUZZ_CHECK(a.sig_len > 0);
		FUZZ_CHECK(a.nonce_len >= AUTH_NONCE_MIN && a.nonce_len <= AUTH_NONCE_MAX);
		FUZZ_CHECK(auth_nonce_ok(a.nonce, a.nonce_len));
	} else {
		FUZZ_CHECK(memcmp(&a, &before, sizeof(a)) == 0); /* *out untouched on failure */
	}
	(void)auth_nonce_ok(v, size);
	free(v);
	return 0;
}
