#include "crypto/ids.h"

#include <sodium.h>
#include <string.h>

void crypto_uuid_v4(char out[37])
{
	unsigned char b[16];
	size_t o = 0;

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		sodium_bin2hex(out + o, 3, b + i, 1);
		o += 2;
	}
	out[o] = '\0';
}

void crypto_random_id(char *out, size_t n, const char *alphabet)
{
	size_t alen;

	if (!alphabet || !*alphabet)
		alphabet = CRYPTO_ROOM_ALPHABET;
	alen = strlen(alphabet);
	if (alen > 256)
		alen = 256;
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform((uint32_t)alen)];
	out[n] = '\0';
}

void crypto_random_nonce_b64url(char out[25])
{
	unsigned char b[18];

	randombytes_buf(b, sizeof(b));
	crypto_b64_encode(out, 25, b, sizeof(b), CRYPTO_B64_URL);
}
