/*
 * query — query-string parsing (HTTP-8) and percent-decoding of path segments (HTTP-3).
 *
 * Pure and thread-safe (a struct query is used by one thread at a time); nothing blocks and
 * nothing touches the heap. A struct query owns a decoded copy of the query string, so it does
 * not refer to the input after query_parse() returns, and needs no free function. It is about
 * 4.6 KiB: fine on a relay worker stack (100 KiB), but do not nest several.
 */
#ifndef SEALROOM_PROTO_QUERY_H
#define SEALROOM_PROTO_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many k=v pairs; a query with more fails query_parse(). */
#define QUERY_MAX_PAIRS 64
/* Decoded storage: every key and value plus a NUL after each. A query string of up to
 * QUERY_MAX_PAIRS pairs and QUERY_BUF_BYTES / 2 bytes always fits. */
#define QUERY_BUF_BYTES 4096

/*
 * Layout: pairs[0..n) in query-string order. Each pair is four offsets into buf: the decoded
 * key at buf[key] (klen bytes) and the decoded value at buf[val] (vlen bytes), each followed by
 * a NUL. Decoded text may itself contain NUL bytes (from "%00"), so always use the lengths.
 */
struct query_pair {
	uint16_t key, klen, val, vlen;
};

struct query {
	size_t n;
	struct query_pair pairs[QUERY_MAX_PAIRS];
	char buf[QUERY_BUF_BYTES];
};

/*
 * HTTP-8: parses qs (without the '?'; NULL or len 0 gives an empty query) into q. Pairs are
 * separated by '&' (empty pieces are skipped) and split at their first '='; a piece without
 * '=' is a key with an empty value. Keys and values are decoded separately with
 * pct_decode(..., plus_is_space = true), so a malformed escape leaves just that key or value
 * raw. Returns 0, or -1 (q left empty) when there are more than QUERY_MAX_PAIRS pairs or the
 * decoded text does not fit in QUERY_BUF_BYTES.
 */
int query_parse(struct query *q, const char *qs, size_t len);

/* HTTP-8: the value of the first pair whose decoded key equals the C string key. On success
 * *v (NUL-terminated, owned by q) and *vlen are set; on failure they are untouched. */
bool query_first(const struct query *q, const char *key, const char **v, size_t *vlen);

/* As query_first(), but only succeeds when key occurs exactly once (HTTP-8: a repeated `name`
 * or `box_pub` is ignored). */
bool query_single(const struct query *q, const char *key, const char **v, size_t *vlen);

/* Whether key occurs at all, whatever its value (SSE-6: "if the key is present"). */
bool query_has(const struct query *q, const char *key);

/*
 * Percent-decodes len bytes of in into out, which must hold len bytes and must not overlap in.
 * plus_is_space maps '+' to ' ' (query strings; not path segments). Escapes decode to bytes.
 * If ANY escape is malformed (a '%' not followed by two hex digits) or the decoded bytes are
 * not strict UTF-8, out is the raw input unchanged ('+' included): HTTP-3, HTTP-8. Returns the
 * number of bytes in out (<= len). No NUL is written.
 */
size_t pct_decode(const char *in, size_t len, char *out, bool plus_is_space);

#endif
