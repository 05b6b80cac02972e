#include "proto/auth.h"

#include <string.h>

static bool auth_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* §0 P(s): skip leading whitespace, one optional sign, the longest run of ASCII digits;
 * trailing text ignored. false for NaN (no digits). Magnitudes saturate at 2^53. */
static bool auth_p(const char *s, size_t n, int64_t *v)
{
	size_t i = 0;
	bool neg = false, digits = false;
	int64_t acc = 0;

	while (i < n && auth_space(s[i]))
		i++;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		digits = true;
		if (acc < AUTH_TS_MAX)
			acc = acc * 10 + (s[i] - '0');
		if (acc > AUTH_TS_MAX)
			acc = AUTH_TS_MAX;
	}
	if (!digits)
		return false;
	*v = neg ? -acc : acc;
	return true;
}

bool auth_nonce_ok(const char *s, size_t n)
{
	if (!s || n < AUTH_NONCE_MIN || n > AUTH_NONCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '=' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool auth_parse(const char *value, size_t len, struct auth_parsed *out)
{
	static const char *const prefixes[] = { "SafeBot ", "Bot2Bot " };
	const char *ts = NULL, *n = NULL, *sig = NULL;
	size_t ts_len = 0, n_len = 0, sig_len = 0, i;
	struct auth_parsed r;
	bool prefixed = false;

	if (!value)
		return false;
	/* AUTH-1 */
	for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++)
		if (len >= 8 && memcmp(value, prefixes[k], 8) == 0)
			prefixed = true;
	if (!prefixed)
		return false;

	/* AUTH-2: parts at ',', trimmed, split at the first '='; last duplicate wins */
	for (i = 8; i <= len;) {
		size_t start = i, end, klen;
		const char *part, *eq, *val;
		size_t plen, vlen;

		while (i < len && value[i] != ',')
			i++;
		end = i++; /* skip the ',' (or step past len to stop) */
		while (start < end && auth_space(value[start]))
			start++;
		while (end > start && auth_space(value[end - 1]))
			end--;
		part = value + start;
		plen = end - start;
		eq = memchr(part, '=', plen);
		klen = eq ? (size_t)(eq - part) : plen;
		val = eq ? eq + 1 : part + plen;
		vlen = (size_t)(part + plen - val);
		if (klen == 2 && memcmp(part, "ts", 2) == 0) {
			ts = val;
			ts_len = vlen;
		} else if (klen == 1 && part[0] == 'n') {
			n = val;
			n_len = vlen;
		} else if (klen == 3 && memcmp(part, "sig", 3) == 0) {
			sig = val;
			sig_len = vlen;
		}
	}

	/* AUTH-3 (the VAL-7 skew is the caller's) */
	if (!ts || !auth_p(ts, ts_len, &r.ts) || r.ts == 0)
		return false;
	if (!sig || sig_len == 0)
		return false;
	if (!n || !auth_nonce_ok(n, n_len))
		return false;
	r.nonce = n;
	r.nonce_len = n_len;
	r.sig = sig;
	r.sig_len = sig_len;
	*out = r;
	return true;
}
