#include "client/sha1.h"

#include "proto/b64.h"

#include <string.h>

/* RFC 6455 §1.3 */
#define SHA1_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

static uint32_t sha1_rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

/* RFC 3174 §6.1, method 1. */
static void sha1_block(struct sha1_ctx *c, const uint8_t *p)
{
	uint32_t w[80], a, b, cc, d, e, t;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = sha1_rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;

		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ cc ^ d;
			k = 0xCA62C1D6;
		}
		t = sha1_rol(a, 5) + f + e + w[i] + k;
		e = d;
		d = cc;
		cc = sha1_rol(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

void sha1_init(struct sha1_ctx *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
					 0xC3D2E1F0 };

	memcpy(c->h, iv, sizeof(iv));
	c->total = 0;
	c->used = 0;
}

void sha1_update(struct sha1_ctx *c, const void *data, size_t n)
{
	const uint8_t *p = data;

	c->total += n;
	while (n) {
		size_t take = 64 - c->used;

		if (take > n)
			take = n;
		memcpy(c->block + c->used, p, take);
		c->used += take;
		p += take;
		n -= take;
		if (c->used == 64) {
			sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_DIGEST_BYTES])
{
	uint64_t bits = c->total * 8;
	uint8_t pad = 0x80, zero = 0, len[8];

	sha1_update(c, &pad, 1);
	while (c->used != 56)
		sha1_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(c, len, 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

void sha1(const void *data, size_t n, uint8_t out[SHA1_DIGEST_BYTES])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, data, n);
	sha1_final(&c, out);
}

void sha1_ws_accept(const char *key, char out[29])
{
	struct sha1_ctx c;
	uint8_t d[SHA1_DIGEST_BYTES];

	sha1_init(&c);
	sha1_update(&c, key, strlen(key));
	sha1_update(&c, SHA1_WS_GUID, strlen(SHA1_WS_GUID));
	sha1_final(&c, d);
	b64_encode(d, sizeof(d), out, 29, false, true);
}
