/* utf16 — strict UTF-8 validation, UTF-16 lengths, U+0000 marker helpers. See utf16.h. */
#include "proto/utf16.h"

#include <stdint.h>
#include <string.h>

#define ASCII_MASK 0x8080808080808080ull

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		unsigned char b = u[i];

		/* Fast path: eight ASCII bytes at a time. */
		if (b < 0x80) {
			uint64_t w;

			while (i + 8 <= len) {
				memcpy(&w, u + i, 8);
				if (w & ASCII_MASK)
					break;
				i += 8;
			}
			while (i < len && u[i] < 0x80)
				i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			if (i + 1 >= len || (u[i + 1] & 0xc0) != 0x80)
				return false;
			i += 2;
		} else if (b >= 0xe0 && b <= 0xef) {
			unsigned char lo = 0x80, hi = 0xbf;

			if (b == 0xe0)
				lo = 0xa0; /* overlong */
			else if (b == 0xed)
				hi = 0x9f; /* U+D800..U+DFFF surrogates */
			if (i + 2 >= len || u[i + 1] < lo || u[i + 1] > hi ||
			    (u[i + 2] & 0xc0) != 0x80)
				return false;
			i += 3;
		} else if (b >= 0xf0 && b <= 0xf4) {
			unsigned char lo = 0x80, hi = 0xbf;

			if (b == 0xf0)
				lo = 0x90; /* overlong */
			else if (b == 0xf4)
				hi = 0x8f; /* > U+10FFFF */
			if (i + 3 >= len || u[i + 1] < lo || u[i + 1] > hi ||
			    (u[i + 2] & 0xc0) != 0x80 || (u[i + 3] & 0xc0) != 0x80)
				return false;
			i += 4;
		} else {
			/* 80..BF stray continuation, C0/C1 overlong, F5..FF out of range. */
			return false;
		}
	}
	return true;
}

size_t u16_len(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t units = 0, i = 0;
	uint64_t w;

	/* ASCII runs (every base64 ciphertext) eight bytes at a time. */
	while (i + 8 <= len) {
		memcpy(&w, u + i, 8);
		if (w & ASCII_MASK)
			break;
		i += 8;
	}
	units = i;
	/* One unit per lead byte, a second one for 4-byte (astral) characters. */
	for (; i < len; i++)
		units += ((u[i] & 0xc0) != 0x80) + (u[i] >= 0xf0);
	return units;
}

size_t u16_truncate(const char *s, size_t len, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, units = 0;

	while (i < len) {
		unsigned char b = u[i];
		size_t clen, cu = 1;

		if (b < 0xc0) {
			clen = 1; /* ASCII (or a stray continuation byte in invalid input) */
		} else if (b < 0xe0) {
			clen = 2;
		} else if (b < 0xf0) {
			clen = 3;
		} else {
			clen = 4;
			cu = 2;
		}
		/* (sealroom) truncate: a pair that would straddle unit n is dropped whole. */
		if (units + cu > n)
			break;
		units += cu;
		i += clen > len - i ? len - i : clen;
	}
	return i;
}

size_t u8_cut_nul(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	const unsigned char *z, *p;
	size_t end = len, i = 0;

	if (!s)
		return 0;
	z = memchr(u, 0, len);
	if (z)
		end = (size_t)(z - u);
	while (i < end && (p = memchr(u + i, 0xc0, end - i)) != NULL) {
		i = (size_t)(p - u);
		if (i + 1 < len && u[i + 1] == 0x80)
			return i;
		i++;
	}
	return end;
}

bool u8_has_nul(const char *s, size_t len)
{
	return s && u8_cut_nul(s, len) != len;
}
