#include "crypto/envelope.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Largest plaintext we seal: keeps every size computation far from overflow. */
#define ENV_PLAIN_MAX ((size_t)1 << 30)

/* Base64 (std, padded) of n bytes into a fresh heap string; NULL on failure. */
static char *env_b64_dup(const unsigned char *bin, size_t n)
{
	size_t len = crypto_b64_len(n, CRYPTO_B64_STD);
	char *s = malloc(len + 1);

	if (s && crypto_b64_encode(s, len + 1, bin, n, CRYPTO_B64_STD) < 0) {
		free(s);
		s = NULL;
	}
	return s;
}

/* Decode a wire string that must be exactly want bytes (nonce, public key). */
static int env_decode_fixed(unsigned char *out, size_t want, const char *s, size_t len)
{
	size_t n = 0;

	if (!s || crypto_b64_decode_mixed(out, want, &n, s, len) != 0 || n != want)
		return -1;
	return 0;
}

/* Decode a ciphertext into a fresh heap buffer; it must at least hold the tag. */
static unsigned char *env_decode_ct(const char *s, size_t len, size_t *out_len)
{
	size_t cap = len / 4 * 3 + 3, n = 0;
	unsigned char *c;

	if (!s || len == 0 || len > ENV_PLAIN_MAX)
		return NULL;
	c = malloc(cap);
	if (!c)
		return NULL;
	if (crypto_b64_decode_mixed(c, cap, &n, s, len) != 0 || n < ENV_TAG_BYTES) {
		free(c);
		return NULL;
	}
	*out_len = n;
	return c;
}

void env_room_key_new(unsigned char key[32])
{
	crypto_secretbox_keygen(key);
}

int env_room_seal_with_nonce(const unsigned char key[32], const unsigned char nonce[24],
			     const char *plain, size_t n, char **ct_b64, char nonce_b64[33])
{
	unsigned char *c;
	char *ct;
	int rc = -1;

	if (n > ENV_PLAIN_MAX || (n && !plain))
		return -1;
	if (!plain)
		plain = "";
	c = malloc(n + ENV_TAG_BYTES);
	if (!c)
		return -1;
	if (crypto_secretbox_easy(c, (const unsigned char *)plain, n, nonce, key) != 0)
		goto out;
	ct = env_b64_dup(c, n + ENV_TAG_BYTES);
	if (!ct)
		goto out;
	crypto_b64_encode(nonce_b64, 33, nonce, ENV_NONCE_BYTES, CRYPTO_B64_STD);
	*ct_b64 = ct;
	rc = 0;
out:
	free(c);
	return rc;
}

int env_room_seal(const unsigned char key[32], const char *plain, size_t n, char **ct_b64,
		  char nonce_b64[33])
{
	unsigned char nonce[ENV_NONCE_BYTES];

	randombytes_buf(nonce, sizeof(nonce));
	return env_room_seal_with_nonce(key, nonce, plain, n, ct_b64, nonce_b64);
}

/* Finish an opener: hand out m (clen - tag bytes of plaintext, NUL-terminated). */
static void env_give(unsigned char *m, size_t mlen, char **plain, size_t *plain_len)
{
	m[mlen] = '\0';
	*plain = (char *)m;
	*plain_len = mlen;
}

int env_room_open(const unsigned char key[32], const char *ct_b64, size_t ct_len,
		  const char *nonce_b64, size_t nonce_len, char **plain, size_t *plain_len)
{
	unsigned char nonce[ENV_NONCE_BYTES], *c, *m = NULL;
	size_t clen = 0;
	int rc = -1;

	if (env_decode_fixed(nonce, sizeof(nonce), nonce_b64, nonce_len) != 0)
		return -1;
	c = env_decode_ct(ct_b64, ct_len, &clen);
	if (!c)
		return -1;
	m = malloc(clen - ENV_TAG_BYTES + 1);
	if (!m)
		goto out;
	if (crypto_secretbox_open_easy(m, c, clen, nonce, key) != 0)
		goto out;
	env_give(m, clen - ENV_TAG_BYTES, plain, plain_len);
	m = NULL;
	rc = 0;
out:
	free(m);
	free(c);
	return rc;
}

int env_dm_seal_with(const unsigned char recipient_box_pk[32], const unsigned char eph_sk[32],
		     const unsigned char nonce[24], const char *plain, size_t n, char **ct_b64,
		     char nonce_b64[33], char eph_pub_b64[45])
{
	unsigned char eph_pk[crypto_box_PUBLICKEYBYTES], *c;
	const unsigned char *m;
	char *ct;
	int rc = -1;

	if (n > ENV_PLAIN_MAX || (n && !plain))
		return -1;
	if (!plain)
		plain = "";
	if (crypto_scalarmult_base(eph_pk, eph_sk) != 0)
		return -1;
	c = malloc(n + crypto_box_MACBYTES);
	if (!c)
		return -1;
	/* sender = the ephemeral secret, receiver = the recipient's public key */
	m = (const unsigned char *)plain;
	if (crypto_box_easy(c, m, n, nonce, recipient_box_pk, eph_sk) != 0)
		goto out;
	ct = env_b64_dup(c, n + crypto_box_MACBYTES);
	if (!ct)
		goto out;
	crypto_b64_encode(nonce_b64, 33, nonce, ENV_NONCE_BYTES, CRYPTO_B64_STD);
	crypto_b64_encode(eph_pub_b64, 45, eph_pk, sizeof(eph_pk), CRYPTO_B64_STD);
	*ct_b64 = ct;
	rc = 0;
out:
	free(c);
	return rc;
}

int env_dm_seal(const unsigned char recipient_box_pk[32], const char *plain, size_t n,
		char **ct_b64, char nonce_b64[33], char eph_pub_b64[45])
{
	unsigned char eph_sk[crypto_box_SECRETKEYBYTES], nonce[ENV_NONCE_BYTES];
	int rc;

	randombytes_buf(eph_sk, sizeof(eph_sk));
	randombytes_buf(nonce, sizeof(nonce));
	rc = env_dm_seal_with(recipient_box_pk, eph_sk, nonce, plain, n, ct_b64, nonce_b64,
			      eph_pub_b64);
	sodium_memzero(eph_sk, sizeof(eph_sk));
	return rc;
}

int env_dm_open(const unsigned char box_sk[32], const char *ct_b64, size_t ct_len,
		const char *nonce_b64, size_t nonce_len, const char *eph_pub_b64, size_t eph_len,
		char **plain, size_t *plain_len)
{
	unsigned char nonce[ENV_NONCE_BYTES], eph_pk[crypto_box_PUBLICKEYBYTES], *c, *m = NULL;
	size_t clen = 0;
	int rc = -1;

	if (env_decode_fixed(nonce, sizeof(nonce), nonce_b64, nonce_len) != 0 ||
	    env_decode_fixed(eph_pk, sizeof(eph_pk), eph_pub_b64, eph_len) != 0)
		return -1;
	c = env_decode_ct(ct_b64, ct_len, &clen);
	if (!c)
		return -1;
	m = malloc(clen - crypto_box_MACBYTES + 1);
	if (!m)
		goto out;
	if (crypto_box_open_easy(m, c, clen, nonce, eph_pk, box_sk) != 0)
		goto out;
	env_give(m, clen - crypto_box_MACBYTES, plain, plain_len);
	m = NULL;
	rc = 0;
out:
	free(m);
	free(c);
	return rc;
}
