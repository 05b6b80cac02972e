/* fuzz_utf16 — strict UTF-8 validation, UTF-16 lengths and truncate(s,n) (PROTOCOL.md §0)
 * and the U+0000 marker helpers (HTTP-17) of proto/utf16.h.
 *
 * Properties: every function stays inside len bytes on any input; on valid UTF-8 (and on the
 * reader's output, which may hold the C0 80 marker) truncate(s,n) is a prefix of whole
 * characters of at most n units that is never more than one unit short of min(n, length)
 * (the sealroom surrogate rule), and is itself valid; u8_cut_nul stops exactly at the
 * first marker. */
#include "fuzz.h"

#include "proto/utf16.h"

/* Replace every raw 0x00 by the C0 80 marker, as the JSON reader does (utf16.h). */
static char *with_markers(const char *s, size_t len, size_t *out_len)
{
	char *o = malloc(2 * len + 1);
	size_t k = 0;
	if (!o)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0) {
			o[k++] = (char)0xC0;
			o[k++] = (char)0x80;
		} else {
			o[k++] = s[i];
		}
	}
	*out_len = k;
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t n = fz_u8(&f);
	size_t len;
	const char *in = fz_rest(&f, &len);
	char *s = fz_memdup(in, len);

	bool valid = utf8_valid(s, len);
	size_t units = u16_len(s, len);
	size_t t = u16_truncate(s, len, n);
	FUZZ_CHECK(t <= len);
	(void)u8_has_nul(s, len);
	FUZZ_CHECK(u8_cut_nul(s, len) <= len);
	if (valid) {
		FUZZ_CHECK(units <= len);
		size_t tu = u16_len(s, t);
		size_t want = n < units ? n : units;
		FUZZ_CHECK(tu <= want && tu + 1 >= want);
		FUZZ_CHECK(utf8_valid(s, t));
		FUZZ_CHECK(u16_truncate(s, len, units) == len);
		FUZZ_CHECK(u8_has_nul(s, len) == (memchr(s, 0, len) != NULL));

		/* The same text with the marker instead of raw NULs counts the same. */
		size_t mlen;
		char *m = with_markers(s, len, &mlen);
		FUZZ_CHECK(u16_len(m, mlen) == units);
		size_t mt = u16_truncate(m, mlen, n);
		FUZZ_CHECK(u16_len(m, mt) == u16_len(s, t));
		size_t cut = u8_cut_nul(m, mlen);
		const char *nul = memchr(s, 0, len);
		FUZZ_CHECK(cut == (nul ? (size_t)(nul - s) : mlen));
		free(m);
	}
	free(s);
	return 0;
}
