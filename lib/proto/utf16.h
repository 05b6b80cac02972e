/*
 * utf16 — strict UTF-8 validation and UTF-16 lengths (PROTOCOL.md §0 "length" and
 * "truncate(s,n)"), plus helpers for the U+0000 marker (HTTP-17).
 *
 * Pure and thread-safe; nothing allocates or blocks. Strings are (s, len) pairs, not
 * necessarily NUL-terminated. Every function reads at most len bytes whatever the input, so
 * the counting functions are memory-safe on invalid UTF-8 too (the count is then meaningless).
 *
 * U+0000 marker: the JSON reader stores U+0000 inside a string as the 2-byte sequence C0 80
 * ("modified UTF-8"), so decoded strings stay safe as C strings. u16_len() and u16_truncate()
 * count that pair as one unit, exactly like the U+0000 it stands for.
 */
#ifndef SEALROOM_PROTO_UTF16_H
#define SEALROOM_PROTO_UTF16_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Strict RFC 3629 UTF-8: no overlong forms, no surrogates (ED A0..BF), nothing above U+10FFFF,
 * no stray continuation bytes or truncated sequences. NUL bytes are valid. The C0 80 marker is
 * an overlong form and is therefore NOT valid here: use this on raw input, before the JSON
 * reader substitutes the marker.
 */
bool utf8_valid(const char *s, size_t len);

/* Length in UTF-16 code units of valid UTF-8 (a 4-byte character counts 2; C0 80 counts 1). */
size_t u16_len(const char *s, size_t len);

/*
 * Byte length of truncate(s, n) (§0): the longest prefix of whole characters of at most n
 * UTF-16 units. (sealroom) A 4-byte character that would straddle unit n (its high surrogate
 * would be unit n) is dropped, so the result is n-1 units and a pair is never split.
 */
size_t u16_truncate(const char *s, size_t len, size_t n);

/*
 * HTTP-17: true iff s contains U+0000, i.e. the marker C0 80 (or, defensively, a raw 0x00 byte,
 * which a correct JSON reader never produces).
 */
bool u8_has_nul(const char *s, size_t len);

/* HTTP-17: byte length of s up to (not including) its first U+0000 as u8_has_nul() defines it;
 * len if there is none. */
size_t u8_cut_nul(const char *s, size_t len);

#endif
