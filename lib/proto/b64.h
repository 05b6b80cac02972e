/*
 * b64 — strict canonical base64 (PROTOCOL.md §4.2, B64-1/B64-2), lenient base64 (§4.3, B64-3/
 * B64-4) and an encoder for both alphabets.
 *
 * Pure and thread-safe; nothing allocates or blocks. Input strings are (s, len) pairs that need
 * not be NUL-terminated; every function reads exactly len bytes and accepts any bytes (non-ASCII
 * input simply fails the alphabet checks). Output buffers are owned by the caller.
 *
 * All per-character work is a lookup in one 256-entry table, so validating a 131 072-character
 * ciphertext (ROOM-12b) is a tight loop without per-character branches.
 */
#ifndef SEALROOM_PROTO_B64_H
#define SEALROOM_PROTO_B64_H

#include <stdbool.h>
#include <stddef.h>

/*
 * B64-1: true iff s is non-empty, matches ^[A-Za-z0-9+/_-]*={0,2}$, and after '-'->'+' and
 * '_'->'/' is byte-identical to the standard padded base64 of its decoded bytes. In practice:
 * len % 4 == 0, '=' only as 1–2 trailing pad characters, and zero trailing bits. want >= 0
 * additionally requires exactly that many decoded bytes; want < 0 accepts any count.
 */
bool b64_canonical(const char *s, size_t len, long want);

/*
 * B64-3: byte count of lenient(s): both alphabets, every other character skipped, stops at the
 * first '='; k alphabet characters give floor(6k/8) bytes ("AAAA=AAAA"->3, "AA!AA"->3, "QUJ"->2).
 */
size_t b64_lenient_len(const char *s, size_t len);

/*
 * B64-3: decodes lenient(s) into out and returns the number of bytes written (<= cap). When cap
 * is smaller than b64_lenient_len(s, len), the output is the first cap bytes.
 */
size_t b64_lenient_decode(const char *s, size_t len, unsigned char *out, size_t cap);

/*
 * B64-4 box_pub_ok: s has a length of 40–64 UTF-16 units and lenient(s) is exactly 32 bytes.
 * s is expected to be valid UTF-8 (the length is counted as u16_len() does).
 */
bool b64_box_pub_ok(const char *s, size_t len);

/* Characters needed to encode n bytes (without the NUL): 4*ceil(n/3) padded, ceil(4n/3) not. */
size_t b64_encoded_len(size_t n, bool pad);

/*
 * Encodes n bytes of in into out in the standard (url=false: "+/") or URL-safe (url=true: "-_")
 * alphabet, with or without '=' padding, and NUL-terminates. Returns the number of characters
 * written (without the NUL), or 0 when cap < b64_encoded_len(n, pad) + 1 (out then untouched).
 * n == 0 writes "" and returns 0.
 */
size_t b64_encode(const unsigned char *in, size_t n, char *out, size_t cap, bool url, bool pad);

/*
 * Decodes a B64-1 canonical string (any byte count) into out. Returns the byte count, or -1 if s
 * is not canonical or the decoded bytes do not fit in cap (out is then untouched).
 */
long b64_decode_canonical(const char *s, size_t len, unsigned char *out, size_t cap);

#endif
