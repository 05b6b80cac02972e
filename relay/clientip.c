/* clientip — client IP derivation (PROTOCOL.md §3). See clientip.h. */
#include "clientip.h"

#include <arpa/inet.h>
#include <string.h>

static bool is_ws(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Trims ASCII whitespace from both ends of s[*b, *e). */
static void trim(const char *s, size_t *b, size_t *e)
{
	while (*b < *e && is_ws(s[*b]))
		(*b)++;
	while (*e > *b && is_ws(s[*e - 1]))
		(*e)--;
}

static void put(char *out, size_t cap, const char *s, size_t len)
{
	if (cap == 0)
		return;
	if (len > cap - 1)
		len = cap - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

bool clientip_is_loopback(const char *s, size_t len)
{
	unsigned char a[16];
	char buf[64];

	if (!s || len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, a) == 1)
		return a[0] == 127; /* 127.0.0.0/8 */
	if (inet_pton(AF_INET6, buf, a) != 1)
		return false; /* a non-IP string counts as not loopback */
	/* ::1 */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0)
		return true;
	/* ::ffff:127.x.y.z */
	return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 && a[12] == 127;
}

/*
 * Iterates the XFF entries right to left over all headers (the headers joined with ','), trimmed
 * and non-empty. *h and *end hold the position; start with *h = nxff and *end = (size_t)-1.
 */
static bool xff_prev(const char *const *xff, size_t *h, size_t *end, const char **s,
		     size_t *len)
{
	for (;;) {
		const char *v, *comma;
		size_t b, e;

		if (*end == (size_t)-1) {
			if (*h == 0)
				return false;
			(*h)--;
			*end = xff[*h] ? strlen(xff[*h]) : 0;
		}
		v = xff[*h] ? xff[*h] : "";
		comma = *end ? memrchr(v, ',', *end) : NULL;
		b = comma ? (size_t)(comma - v) + 1 : 0;
		e = *end;
		/* Next time: left of this comma, or on to the previous header. */
		*end = comma ? (size_t)(comma - v) : (size_t)-1;
		trim(v, &b, &e);
		if (e > b) {
			*s = v + b;
			*len = e - b;
			return true;
		}
	}
}

void clientip_http(const char *peer, const char *const *xff, size_t nxff, char *out, size_t cap)
{
	const char *last = peer ? peer : "", *s;
	size_t last_len = strlen(last), h = nxff, end = (size_t)-1, len;

	/* IP-1: [peer, XFF right to left]; the first non-loopback entry wins. */
	if (!clientip_is_loopback(last, last_len)) {
		put(out, cap, last, last_len);
		return;
	}
	while (xff && xff_prev(xff, &h, &end, &s, &len)) {
		last = s;
		last_len = len;
		if (!clientip_is_loopback(s, len))
			break;
	}
	/* Either the first non-loopback entry or, all loopback, the last one (left-most XFF). */
	put(out, cap, last, last_len);
}

void clientip_ws(const char *peer, const char *cf_connecting_ip, const char *const *xff,
		 size_t nxff, char *out, size_t cap)
{
	const char *p = peer ? peer : "", *s;
	size_t h = nxff, end = (size_t)-1, len;

	/* IP-2: headers count only from these exact loopback peers. */
	if (strcmp(p, "127.0.0.1") != 0 && strcmp(p, "::1") != 0 &&
	    strcmp(p, "::ffff:127.0.0.1") != 0) {
		put(out, cap, p, strlen(p));
		return;
	}
	if (cf_connecting_ip) {
		size_t b = 0, e = strlen(cf_connecting_ip);

		trim(cf_connecting_ip, &b, &e);
		if (e > b) {
			put(out, cap, cf_connecting_ip + b, e - b);
			return;
		}
	}
	/* The last (right-most) non-empty XFF entry. */
	if (xff && xff_prev(xff, &h, &end, &s, &len)) {
		put(out, cap, s, len);
		return;
	}
	put(out, cap, p, strlen(p));
}
