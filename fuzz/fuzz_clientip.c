/* fuzz_clientip — client IP derivation (relay/clientip.h, IP-1..IP-4).
 *
 * Input: peer, CF-Connecting-IP and up to 8 X-Forwarded-For header values separated by '\n',
 * plus an output capacity. Properties: the result is always NUL-terminated within cap; with
 * a non-loopback peer, HTTP and WS both return the peer itself (XFF counts only from a
 * loopback peer, IP-1/IP-2); the HTTP result is the peer or one of the trimmed XFF entries;
 * clientip_is_loopback is false for anything that does not look like an address. */
#include "fuzz.h"

#include "clientip.h"

#define MAXH 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t cap = 1 + fz_u8(&f) % (CLIENTIP_MAX + 8);
	size_t len;
	const char *s = fz_until(&f, '\n', &len);
	char *peer = fz_strdup(s, len);
	s = fz_until(&f, '\n', &len);
	char *cf = fz_strdup(s, len);
	char *xff[MAXH];
	size_t n = 0;
	while (f.n && n < MAXH) {
		s = fz_until(&f, '\n', &len);
		xff[n++] = fz_strdup(s, len);
	}
	char *out = malloc(cap);
	char *out2 = malloc(CLIENTIP_MAX);
	if (!out || !out2)
		abort();

	clientip_http(peer, (const char *const *)xff, n, out, cap);
	FUZZ_CHECK(memchr(out, 0, cap) != NULL);
	/* A socket peer is an address: no blanks or commas (it is not split or trimmed). */
	bool plain_peer = strspn(peer, "0123456789abcdefABCDEF.:") == strlen(peer);
	bool peer_lo = clientip_is_loopback(peer, strlen(peer));
	if (plain_peer && !peer_lo && strlen(peer) < cap)
		FUZZ_CHECK(strcmp(out, peer) == 0);

	clientip_http(peer, (const char *const *)xff, n, out2, CLIENTIP_MAX);
	/* The result is the peer or an XFF entry, possibly cut to CLIENTIP_MAX - 1 bytes. */
	if (strlen(out2) > 0 && strncmp(out2, peer, strlen(out2)) != 0) {
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = strstr(xff[i], out2) != NULL;
		FUZZ_CHECK(found);
	}

	clientip_ws(peer, cf, (const char *const *)xff, n, out, cap);
	FUZZ_CHECK(memchr(out, 0, cap) != NULL);
	bool exact_lo = !strcmp(peer, "127.0.0.1") || !strcmp(peer, "::1") ||
			!strcmp(peer, "::ffff:127.0.0.1");
	if (plain_peer && !exact_lo && strlen(peer) < cap)
		FUZZ_CHECK(strcmp(out, peer) == 0);
	clientip_ws(NULL, NULL, NULL, 0, out, cap);
	FUZZ_CHECK(out[0] == '\0');

	if (clientip_is_loopback(peer, strlen(peer)))
		FUZZ_CHECK(strchr(peer, ':') || strncmp(peer, "127.", 4) == 0);

	free(out);
	free(out2);
	for (size_t i = 0; i < n; i++)
		free(xff[i]);
	free(peer);
	free(cf);
	return 0;
}
