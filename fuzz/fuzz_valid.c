/* fuzz_valid — the identifier validators of PROTOCOL.md §4.1 (proto/valid.h): room ids
 * (VAL-1), strict and loose handles (VAL-2/3), reserved names (VAL-4), presence names
 * (VAL-5), signature nonces (VAL-6), the skew window (VAL-7), ASCII lower-casing (VAL-8) and
 * reply_to (ROOM-12e).
 *
 * Properties: each validator reads only len bytes; accepted values obey the regex they
 * implement (re-checked here byte by byte); a strict handle is also a loose handle; an
 * accepted presence name is a prefix of the input and is accepted again, unchanged;
 * lower-casing touches only A-Z; val_skew is symmetric and never overflows. */
#include "fuzz.h"

#include "proto/valid.h"

static bool in_set(unsigned char c, const char *extra)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       (c && strchr(extra, c));
}

static bool all_in(const char *s, size_t len, const char *extra, bool lower_only)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!in_set(c, extra) || (lower_only && c >= 'A' && c <= 'Z'))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	int64_t now = (int64_t)fz_u64(&f), ts = (int64_t)fz_u64(&f);
	size_t len;
	const char *in = fz_rest(&f, &len);
	char *s = fz_memdup(in, len);

	if (val_room_id(s, len))
		FUZZ_CHECK(len >= 4 && len <= 64 && all_in(s, len, "_-", false));
	bool strict = val_handle_strict(s, len);
	if (strict) {
		FUZZ_CHECK(len >= 2 && len <= 32 && all_in(s, len, "_-", true));
		FUZZ_CHECK(s[0] != '_' && s[0] != '-');
	}
	bool loose = val_handle_loose(s, len);
	if (strict)
		FUZZ_CHECK(loose);
	if (loose)
		FUZZ_CHECK(len >= 1 && len <= 32 && all_in(s, len, "_-", false));
	if (val_reserved(s, len))
		FUZZ_CHECK(strict);
	if (val_nonce(s, len))
		FUZZ_CHECK(len >= 16 && len <= 64 && all_in(s, len, "+/=_-", false));
	if (val_reply_to(s, len))
		FUZZ_CHECK(len >= 8 && len <= 64 && all_in(s, len, "_-", false));

	size_t name = val_presence_name(s, len);
	if (name) {
		FUZZ_CHECK(name <= len && name <= 256);
		FUZZ_CHECK(val_presence_name(s, name) == name);
		for (size_t i = 0; i < name; i++) {
			unsigned char c = (unsigned char)s[i];
			FUZZ_CHECK(c >= 0x80 || in_set(c, "@._-"));
		}
	}

	char *low = fz_memdup(s, len);
	val_lower_ascii(low, len);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		FUZZ_CHECK((unsigned char)low[i] == (c >= 'A' && c <= 'Z' ? c + 32 : c));
	}
	FUZZ_CHECK(val_handle_loose(low, len) == loose);
	free(low);

	FUZZ_CHECK(val_skew(now, ts) == val_skew(ts, now));
	FUZZ_CHECK(val_skew(now, now));
	free(s);
	return 0;
}
