/* num — P(s) and NUM-1..NUM-4 (PROTOCOL.md §0, §4.1). See num.h. */
#include "proto/num.h"

/*
 * Byte length of the JavaScript whitespace character (StrWhiteSpaceChar: WhiteSpace plus
 * LineTerminator) at u, or 0 if u does not start with one.
 */
static size_t js_space(const unsigned char *u, size_t len)
{
	unsigned char b = u[0];

	if (b == ' ' || (b >= '\t' && b <= '\r'))
		return 1;
	if (b == 0xc2 && len >= 2 && u[1] == 0xa0)
		return 2; /* U+00A0 */
	if (len < 3)
		return 0;
	if (b == 0xe1 && u[1] == 0x9a && u[2] == 0x80)
		return 3; /* U+1680 */
	if (b == 0xe2 && u[1] == 0x80 &&
	    (u[2] <= 0x8a || u[2] == 0xa8 || u[2] == 0xa9 || u[2] == 0xaf) && u[2] >= 0x80)
		return 3; /* U+2000..U+200A, U+2028, U+2029, U+202F */
	if (b == 0xe2 && u[1] == 0x81 && u[2] == 0x9f)
		return 3; /* U+205F */
	if (b == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
		return 3; /* U+3000 */
	if (b == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		return 3; /* U+FEFF */
	return 0;
}

bool num_parse(const char *s, size_t len, int64_t *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, w;
	bool neg = false, any = false;
	int64_t v = 0;

	if (!s)
		return false;
	while (i < len && (w = js_space(u + i, len - i)) != 0)
		i += w;
	if (i < len && (u[i] == '+' || u[i] == '-'))
		neg = u[i++] == '-';
	for (; i < len && u[i] >= '0' && u[i] <= '9'; i++) {
		any = true;
		/* §0: beyond 2^53 saturate, never wrap; keep consuming the digit run. */
		if (v < NUM_SATURATE)
			v = v * 10 + (u[i] - '0');
		if (v > NUM_SATURATE)
			v = NUM_SATURATE;
	}
	if (!any)
		return false;
	*out = neg ? -v : v;
	return true;
}

int64_t num_after(const char *s, size_t len)
{
	int64_t v;

	/* NUM-1 */
	if (!num_parse(s, len, &v) || v < 0)
		return 0;
	return v;
}

/* max(lo, min(hi, P(v))), where 0, NaN or absent give dflt (NUM-2, NUM-3). */
static int clamp_or_default(const char *s, size_t len, int lo, int hi, int dflt)
{
	int64_t v;

	if (!num_parse(s, len, &v) || v == 0)
		return dflt;
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return (int)v;
}

int num_timeout_s(const char *s, size_t len)
{
	return clamp_or_default(s, len, NUM_TIMEOUT_MIN_S, NUM_TIMEOUT_MAX_S,
				NUM_TIMEOUT_DEFAULT_S);
}

int num_limit(const char *s, size_t len)
{
	return clamp_or_default(s, len, NUM_LIMIT_MIN, NUM_LIMIT_MAX, NUM_LIMIT_DEFAULT);
}

int64_t num_claim_ttl_ms(const char *s, size_t len, int64_t dflt)
{
	int64_t v;

	/* NUM-4: the default is used as configured, only client values are clamped. */
	if (!num_parse(s, len, &v) || v <= 0)
		return dflt;
	if (v < NUM_CLAIM_TTL_MIN_MS)
		return NUM_CLAIM_TTL_MIN_MS;
	if (v > NUM_CLAIM_TTL_MAX_MS)
		return NUM_CLAIM_TTL_MAX_MS;
	return v;
}
