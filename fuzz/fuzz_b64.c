/* fuzz_b64 — strict canonical base64 (B64-1/B64-2), lenient base64 (B64-3) and box_pub_ok
 * (B64-4) from proto/b64.h, plus the encoder.
 *
 * Properties, straight from PROTOCOL.md §4.2/§4.3:
 *   - canonical(s) holds iff s (after '-'->'+', '_'->'/') is byte-identical to the standard
 *     padded encoding of its decoded bytes: checked by decoding and re-encoding;
 *   - canonical(s, n) holds iff canonical(s) and the decoded length is n;
 *   - the lenient decoder writes min(cap, lenient_len(s)) bytes, and lenient_len counts
 *     floor(6k/8) for the k alphabet characters before the first '=';
 *   - box_pub_ok(s) implies lenient_len(s) == 32;
 *   - encoding any bytes, in either alphabet and with padding, gives a canonical string. */
#include "fuzz.h"

#include "proto/b64.h"
#include "proto/utf16.h"

static bool b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '-' || c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t opt = fz_u8(&f);
	size_t len;
	const char *in = fz_rest(&f, &len);
	char *s = fz_memdup(in, len);
	size_t cap = len + 8;
	unsigned char *dec = malloc(cap);
	char *enc = malloc(2 * cap + 8);
	if (!dec || !enc)
		abort();

	/* B64-1 */
	bool canon = b64_canonical(s, len, -1);
	long n = b64_decode_canonical(s, len, dec, cap);
	FUZZ_CHECK(canon == (n >= 0));
	if (canon) {
		FUZZ_CHECK(len > 0 && len % 4 == 0);
		FUZZ_CHECK(b64_canonical(s, len, n));
		FUZZ_CHECK(!b64_canonical(s, len, n + 1));
		size_t k = b64_encode(dec, (size_t)n, enc, 2 * cap + 8, false, true);
		FUZZ_CHECK(k == len);
		for (size_t i = 0; i < len; i++) {
			char c = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
			FUZZ_CHECK(enc[i] == c);
		}
		/* A too-small output buffer fails and leaves nothing half-written behind. */
		if (n > 0)
			FUZZ_CHECK(b64_decode_canonical(s, len, dec, (size_t)n - 1) == -1);
	} else {
		FUZZ_CHECK(!b64_canonical(s, len, opt));
	}

	/* B64-3 */
	size_t k = 0;
	for (size_t i = 0; i < len && s[i] != '='; i++)
		k += b64_char((unsigned char)s[i]);
	size_t ll = b64_lenient_len(s, len);
	FUZZ_CHECK(ll == k * 6 / 8);
	size_t lcap = opt % 2 ? ll : opt % (ll + 1);
	size_t got = b64_lenient_decode(s, len, dec, lcap <= cap ? lcap : cap);
	FUZZ_CHECK(got == (ll < lcap ? ll : lcap) || lcap > cap);
	if (canon)
		FUZZ_CHECK(ll == (size_t)n);

	/* B64-4: only meaningful on UTF-8 (its length is in UTF-16 units). */
	if (utf8_valid(s, len) && b64_box_pub_ok(s, len)) {
		FUZZ_CHECK(ll == 32);
		size_t units = u16_len(s, len);
		FUZZ_CHECK(units >= 40 && units <= 64);
	}

	/* Encoder: anything encodes to a canonical string of the predicted length. */
	bool url = opt & 1, pad = true;
	size_t e = b64_encode((const unsigned char *)s, len, enc, 2 * cap + 8, url, pad);
	FUZZ_CHECK(e == b64_encoded_len(len, pad));
	if (len)
		FUZZ_CHECK(b64_canonical(enc, e, (long)len));
	size_t eu = b64_encode((const unsigned char *)s, len, enc, 2 * cap + 8, url, false);
	FUZZ_CHECK(eu == b64_encoded_len(len, false));
	FUZZ_CHECK(b64_lenient_len(enc, eu) == len);
	FUZZ_CHECK(b64_encode((const unsigned char *)s, len, enc, e, url, true) == 0 || len == 0);

	free(s);
	free(dec);
	free(enc);
	return 0;
}
