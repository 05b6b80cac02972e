/* b64 — strict canonical and lenient base64 (PROTOCOL.md §4.2, §4.3). See b64.h. */
#include "proto/b64.h"

#include <string.h>

#include "proto/utf16.h"

/*
 * One table for both alphabets: 0..63 = sextet value ('+' and '-' are 62, '/' and '_' are 63),
 * B64_PAD for '=', B64_BAD for every other byte. OR-ing table values over a run of characters
 * and testing the two high bits validates the whole run without a branch per character.
 */
#define B64_PAD 0x40
#define B64_BAD 0x80

static const unsigned char b64_tbl[256] = {
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x3e, 0x80, 0x3e, 0x80, 0x3f,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x80, 0x80, 0x80, 0x40, 0x80, 0x80,
	0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x80, 0x80, 0x80, 0x80, 0x3f,
	0x80, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

static const char b64_std[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * B64-1 shape check. On success stores the decoded byte count. Canonical means the string is
 * what the standard padded encoder would print, so: a multiple of 4 characters, '=' only as
 * 1–2 trailing pads, and the bits below the last full byte are zero ("AB==" and "QQ" fail).
 */
static bool b64_canonical_len(const unsigned char *u, size_t len, size_t *nbytes)
{
	size_t pad = 0, data, i;
	unsigned acc = 0;

	if (len == 0 || (len & 3) != 0)
		return false;
	if (u[len - 1] == '=') {
		pad = 1;
		if (u[len - 2] == '=')
			pad = 2;
	}
	data = len - pad;
	for (i = 0; i < data; i++)
		acc |= b64_tbl[u[i]];
	if (acc & (B64_PAD | B64_BAD))
		return false;
	/* pad 1: the last sextet carries 2 unused bits; pad 2: 4 unused bits. */
	if (pad == 1 && (b64_tbl[u[data - 1]] & 0x03))
		return false;
	if (pad == 2 && (b64_tbl[u[data - 1]] & 0x0f))
		return false;
	*nbytes = len / 4 * 3 - pad;
	return true;
}

bool b64_canonical(const char *s, size_t len, long want)
{
	size_t n;

	if (!s || !b64_canonical_len((const unsigned char *)s, len, &n))
		return false;
	return want < 0 || (size_t)want == n;
}

size_t b64_lenient_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	const unsigned char *eq;
	size_t k = 0, i;

	if (!s)
		return 0;
	/* B64-3: stop at the first '='. */
	eq = memchr(u, '=', len);
	if (eq)
		len = (size_t)(eq - u);
	for (i = 0; i < len; i++)
		k += b64_tbl[u[i]] < 64;
	return k / 4 * 3 + (k % 4) * 6 / 8;
}

size_t b64_lenient_decode(const char *s, size_t len, unsigned char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t i, n = 0;

	if (!s)
		return 0;
	for (i = 0; i < len && n < cap; i++) {
		unsigned v = b64_tbl[u[i]];

		if (v == B64_PAD)
			break;
		if (v & B64_BAD)
			continue; /* B64-3: every other character is skipped */
		acc = (acc << 6 | v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	return n;
}

bool b64_box_pub_ok(const char *s, size_t len)
{
	size_t units;

	if (!s)
		return false;
	units = u16_len(s, len);
	return units >= 40 && units <= 64 && b64_lenient_len(s, len) == 32;
}

size_t b64_encoded_len(size_t n, bool pad)
{
	if (pad)
		return (n + 2) / 3 * 4;
	return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

size_t b64_encode(const unsigned char *in, size_t n, char *out, size_t cap, bool url, bool pad)
{
	const char *a = url ? b64_url : b64_std;
	size_t need = b64_encoded_len(n, pad), i, o = 0;

	if (cap < need + 1)
		return 0;
	for (i = 0; i + 3 <= n; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		unsigned long v = (unsigned long)in[i] << 16;

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		unsigned long v = (unsigned long)in[i] << 16 | (unsigned long)in[i + 1] << 8;

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

long b64_decode_canonical(const char *s, size_t len, unsigned char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i, o = 0;

	if (!s || !b64_canonical_len(u, len, &n) || n > cap || n > (size_t)__LONG_MAX__)
		return -1;
	/* Canonical: every quad is full except the last, whose pads have table value B64_PAD. */
	for (i = 0; i < len; i += 4) {
		unsigned long v = (unsigned long)(b64_tbl[u[i]] & 63) << 18 |
				  (unsigned long)(b64_tbl[u[i + 1]] & 63) << 12 |
				  (unsigned long)(b64_tbl[u[i + 2]] & 63) << 6 |
				  (unsigned long)(b64_tbl[u[i + 3]] & 63);

		out[o++] = (unsigned char)(v >> 16);
		if (o < n)
			out[o++] = (unsigned char)(v >> 8);
		if (o < n)
			out[o++] = (unsigned char)v;
	}
	return (long)n;
}
