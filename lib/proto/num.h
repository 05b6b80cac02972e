/*
 * num — the integer parse P(s) of PROTOCOL.md §0 and the query-number rules NUM-1..NUM-4.
 *
 * Pure and thread-safe; nothing allocates or blocks. Strings are (s, len) pairs, not
 * necessarily NUL-terminated, and may be any bytes (raw query values included). For the NUM-*
 * helpers a NULL s means the parameter is absent.
 */
#ifndef SEALROOM_PROTO_NUM_H
#define SEALROOM_PROTO_NUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* |P(s)| saturates here (2^53) instead of wrapping (§0). */
#define NUM_SATURATE 9007199254740992LL

/* NUM-2 / NUM-3 / NUM-4 constants (fixed protocol constants, §16). */
#define NUM_TIMEOUT_DEFAULT_S 30
#define NUM_TIMEOUT_MIN_S 1
#define NUM_TIMEOUT_MAX_S 90
#define NUM_LIMIT_DEFAULT 100
#define NUM_LIMIT_MIN 1
#define NUM_LIMIT_MAX 500
#define NUM_CLAIM_TTL_MIN_MS 60000
#define NUM_CLAIM_TTL_MAX_MS 300000

/*
 * P(s): skip leading JavaScript whitespace (ASCII space, \t \n \v \f \r, and the Unicode
 * White_Space/line terminators JS strips: U+00A0 U+1680 U+2000..U+200A U+2028 U+2029 U+202F
 * U+205F U+3000 U+FEFF, as UTF-8), one optional '+' or '-', then the longest run of ASCII
 * digits; trailing text is ignored ("12abc" -> 12, "1e3" -> 1, " -7" -> -7, "-0" -> 0).
 * Returns false for NaN (no digits, "" or NULL) and leaves *out untouched; otherwise stores the
 * value, saturated to [-2^53, 2^53].
 */
bool num_parse(const char *s, size_t len, int64_t *out);

/* NUM-1 after: max(0, P(v)); NaN or absent -> 0. */
int64_t num_after(const char *s, size_t len);

/* NUM-2 timeout in seconds: max(1, min(90, P(v))); 0, NaN or absent -> 30 ("-5" -> 1). */
int num_timeout_s(const char *s, size_t len);

/* NUM-3 limit: max(1, min(500, P(v))); 0, NaN or absent -> 100. */
int num_limit(const char *s, size_t len);

/* NUM-4 claim ttl_ms: P(v); NaN, absent or <= 0 -> dflt (CLAIM_TTL_MS, returned as is, not
 * clamped); otherwise clamped to [60000, 300000]. */
int64_t num_claim_ttl_ms(const char *s, size_t len, int64_t dflt);

#endif
