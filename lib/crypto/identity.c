#include "crypto/identity.h"

#include <sodium.h>
#include <string.h>

int crypto_identity_from_seeds(struct crypto_identity *id, const char *handle,
			       const unsigned char ed_seed[32], const unsigned char x_sk[32])
{
	struct crypto_identity t;
	size_t hl;
	int rc = -1;

	if (!handle)
		return -1;
	hl = strlen(handle);
	if (hl > CRYPTO_HANDLE_MAX)
		return -1;
	memset(&t, 0, sizeof(t));
	memcpy(t.handle, handle, hl + 1);
	if (crypto_sign_seed_keypair(t.sign_pk, t.sign_sk, ed_seed) != 0)
		goto out;
	memcpy(t.box_sk, x_sk, sizeof(t.box_sk));
	if (crypto_scalarmult_base(t.box_pk, t.box_sk) != 0)
		goto out;
	if (crypto_b64_encode(t.sign_pub_b64, 45, t.sign_pk, 32, CRYPTO_B64_STD) < 0)
		goto out;
	if (crypto_b64_encode(t.box_pub_b64, 45, t.box_pk, 32, CRYPTO_B64_STD) < 0)
		goto out;
	*id = t;
	rc = 0;
out:
	sodium_memzero(&t, sizeof(t));
	return rc;
}

int crypto_identity_new(struct crypto_identity *id, const char *handle)
{
	unsigned char seeds[64];
	int rc;

	randombytes_buf(seeds, sizeof(seeds));
	rc = crypto_identity_from_seeds(id, handle, seeds, seeds + 32);
	sodium_memzero(seeds, sizeof(seeds));
	return rc;
}

int crypto_sign_raw(const struct crypto_identity *id, const char *msg, size_t n,
		    unsigned char sig[64])
{
	if (crypto_sign_detached(sig, NULL, (const unsigned char *)msg, n, id->sign_sk) != 0)
		return -1;
	return 0;
}

int crypto_sign_b64(const struct crypto_identity *id, const char *msg, size_t n, char out_b64[89])
{
	unsigned char sig[crypto_sign_BYTES];

	if (crypto_sign_raw(id, msg, n, sig) != 0)
		return -1;
	return crypto_b64_encode(out_b64, 89, sig, sizeof(sig), CRYPTO_B64_STD) < 0 ? -1 : 0;
}

bool crypto_verify(const unsigned char pk[32], const char *msg, size_t n,
		   const unsigned char sig[64])
{
	return crypto_sign_verify_detached(sig, (const unsigned char *)msg, n, pk) == 0;
}
