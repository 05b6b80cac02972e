#include "crypto/hash.h"

void crypto_sha256_hex(const void *data, size_t n, char out[65])
{
	struct crypto_sha256 h;

	crypto_sha256_begin(&h);
	crypto_sha256_update(&h, data, n);
	crypto_sha256_final_hex(&h, out);
}

void crypto_sha256_begin(struct crypto_sha256 *h)
{
	crypto_hash_sha256_init(&h->st);
}

void crypto_sha256_update(struct crypto_sha256 *h, const void *data, size_t n)
{
	if (n)
		crypto_hash_sha256_update(&h->st, data, n);
}

void crypto_sha256_final_hex(struct crypto_sha256 *h, char out[65])
{
	unsigned char md[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_final(&h->st, md);
	sodium_bin2hex(out, 65, md, sizeof(md)); /* lower-case, NUL-terminated */
}
