/*
 * clientip — client IP derivation (PROTOCOL.md §3, IP-1..IP-4). The result keys rate limits and
 * per-IP caps and feeds the bug-report hash.
 *
 * Pure and thread-safe; nothing allocates or blocks. All strings are NUL-terminated C strings
 * owned by the caller; NULL counts as "". Addresses are compared as text and returned exactly as
 * given (an IPv4-mapped peer such as "::ffff:1.2.3.4" stays in that form, for HTTP and WS
 * alike: IP-3). No trust setting exists (IP-4).
 *
 * Output: the IP is copied into out (cap bytes, always NUL-terminated when cap > 0). An entry
 * longer than cap - 1 bytes is truncated; CLIENTIP_MAX holds any real address. The result may be
 * the empty string (IP-3: callers then use the key "" or, for WS rate limits, "ws").
 */
#ifndef RELAY_CLIENTIP_H
#define RELAY_CLIENTIP_H

#include <stdbool.h>
#include <stddef.h>

/* Recommended size of out. */
#define CLIENTIP_MAX 256

/*
 * IP-1 (HTTP). peer: the socket peer address text. xff: the raw values of every
 * X-Forwarded-For header in arrival order (nxff may be 0; xff may then be NULL). The headers are
 * joined with ',', split on ',', each entry trimmed of ASCII whitespace, empty ones dropped.
 * Walking [peer, XFF entries right to left], the first entry that is not loopback is the IP; if
 * all are loopback, the last one (the left-most XFF entry, or the peer when there is none).
 * CF-Connecting-IP is never used for HTTP.
 */
void clientip_http(const char *peer, const char *const *xff, size_t nxff, char *out, size_t cap);

/*
 * IP-2 (WebSocket). If peer is exactly "127.0.0.1", "::1" or "::ffff:127.0.0.1":
 * cf_connecting_ip trimmed, if non-empty (cf may be NULL); else the last non-empty trimmed XFF
 * entry; else the peer. Any other peer: the peer, headers ignored.
 */
void clientip_ws(const char *peer, const char *cf_connecting_ip, const char *const *xff,
		 size_t nxff, char *out, size_t cap);

/* IP-1 loopback: a valid IPv4 address in 127.0.0.0/8, "::1" (any valid IPv6 spelling of it), or
 * an IPv4-mapped IPv6 address of 127.0.0.0/8 ("::ffff:127.x.y.z"). Anything that does not parse
 * as an IP address ("localhost", "127.1", "[::1]", "127.0.0.1:80") is not loopback. */
bool clientip_is_loopback(const char *s, size_t len);

#endif
