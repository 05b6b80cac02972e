#include "crypto/crypto.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int crypto_init(void)
{
	/* 0: initialised now, 1: already initialised (sodium_init is itself thread-safe) */
	return sodium_init() < 0 ? -1 : 0;
}

static int crypto_sodium_variant(enum crypto_b64_variant v)
{
	switch (v) {
	case CRYPTO_B64_URL:
		return sodium_base64_VARIANT_URLSAFE;
	case CRYPTO_B64_URL_NOPAD:
		return sodium_base64_VARIANT_URLSAFE_NO_PADDING;
	case CRYPTO_B64_STD:
	default:
		return sodium_base64_VARIANT_ORIGINAL;
	}
}

size_t crypto_b64_len(size_t n, enum crypto_b64_variant v)
{
	/* sodium_base64_encoded_len counts the NUL */
	return sodium_base64_encoded_len(n, crypto_sodium_variant(v)) - 1;
}

int crypto_b64_encode(char *out, size_t cap, const void *bin, size_t n, enum crypto_b64_variant v)
{
	size_t need = crypto_b64_len(n, v);

	if (need >= cap || need > (size_t)0x7fffffff)
		return -1;
	sodium_bin2base64(out, cap, bin, n, crypto_sodium_variant(v));
	return (int)need;
}

int crypto_b64_decode(unsigned char *out, size_t cap, size_t *out_len, const char *s, size_t len,
		      enum crypto_b64_variant v)
{
	size_t n = 0;

	/* b64_end == NULL: libsodium fails unless every input character was consumed */
	if (sodium_base642bin(out, cap, s, len, NULL, &n, NULL, crypto_sodium_variant(v)) != 0)
		return -1;
	*out_len = n;
	return 0;
}

int crypto_b64_decode_mixed(unsigned char *out, size_t cap, size_t *out_len, const char *s,
			    size_t len)
{
	char *norm;
	size_t n = 0;
	int variant, rc;

	if (len == 0) {
		*out_len = 0;
		return 0;
	}
	norm = malloc(len);
	if (!norm)
		return -1;
	for (size_t i = 0; i < len; i++)
		norm[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	/* padding is optional: unpadded input whose length is not a multiple of 4 */
	variant = sodium_base64_VARIANT_ORIGINAL;
	if (len % 4 != 0 && !memchr(norm, '=', len))
		variant = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
	rc = sodium_base642bin(out, cap, norm, len, NULL, &n, NULL, variant);
	free(norm);
	if (rc != 0)
		return -1;
	*out_len = n;
	return 0;
}
