/* valid — identifier validators (PROTOCOL.md §4.1, ROOM-12e). See valid.h. */
#include "proto/valid.h"

#include <string.h>

#include "proto/utf16.h"

static bool is_lower_digit(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(unsigned char c)
{
	return is_lower_digit(c) || (c >= 'A' && c <= 'Z');
}

/* [A-Za-z0-9_-] */
static bool is_id(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

/* The whole of s is [A-Za-z0-9_-] and its length is in [lo, hi]. */
static bool all_id(const char *s, size_t len, size_t lo, size_t hi)
{
	size_t i;

	if (!s || len < lo || len > hi)
		return false;
	for (i = 0; i < len; i++)
		if (!is_id((unsigned char)s[i]))
			return false;
	return true;
}

bool val_room_id(const char *s, size_t len)
{
	return all_id(s, len, 4, 64); /* VAL-1 */
}

bool val_reply_to(const char *s, size_t len)
{
	return all_id(s, len, 8, 64); /* ROOM-12e */
}

bool val_handle_strict(const char *s, size_t len)
{
	size_t i;

	/* VAL-2: ^[a-z0-9][a-z0-9_-]{1,31}$ */
	if (!s || len < 2 || len > 32 || !is_lower_digit((unsigned char)s[0]))
		return false;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_lower_digit(c) && c != '_' && c != '-')
			return false;
	}
	return true;
}

bool val_handle_loose(const char *s, size_t len)
{
	/* VAL-3 after VAL-8: lower-casing maps [A-Z] into [a-z], so the check is [A-Za-z0-9_-]. */
	return all_id(s, len, 1, 32);
}

bool val_reserved(const char *s, size_t len)
{
	static const char *const reserved[] = {
		"anon", "admin", "safebot", "system", "root", "support", "help", "demo", "echo",
	};
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == len && memcmp(reserved[i], s, len) == 0)
			return true;
	return false;
}

size_t val_presence_name(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t t, i;

	if (!s)
		return 0;
	/* VAL-5: truncate first, then check what is left. */
	t = u16_truncate(s, len, 64);
	/* Strict UTF-8 also rejects the U+0000 marker C0 80 (HTTP-17). */
	if (t == 0 || !utf8_valid(s, t))
		return 0;
	for (i = 0; i < t; i++) {
		unsigned char c = u[i];

		if (c < 0x80) {
			if (!is_alnum(c) && c != '@' && c != '.' && c != '_' && c != '-')
				return 0;
		} else if (c == 0xc2 && u[i + 1] < 0xa0) {
			return 0; /* U+0080..U+009F: C1 controls; only >= U+00A0 is allowed */
		}
	}
	return t;
}

bool val_nonce(const char *s, size_t len)
{
	size_t i;

	/* VAL-6: 16–64 of [A-Za-z0-9+/=_-] */
	if (!s || len < 16 || len > 64)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!is_id(c) && c != '+' && c != '/' && c != '=')
			return false;
	}
	return true;
}

bool val_skew(int64_t now_ms, int64_t ts)
{
	int64_t d;

	/* VAL-7; a difference that overflows int64 is certainly out of the window. */
	if (__builtin_sub_overflow(now_ms, ts, &d))
		return false;
	return d >= -VAL_SKEW_MS && d <= VAL_SKEW_MS;
}

void val_lower_ascii(char *s, size_t len)
{
	size_t i;

	/* VAL-8: ASCII only; UTF-8 bytes >= 0x80 are untouched. */
	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}
