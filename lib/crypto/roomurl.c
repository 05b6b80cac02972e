#include "crypto/roomurl.h"

#include <stdio.h>
#include <string.h>

static bool roomurl_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* VAL-1 character class */
static bool roomurl_id_char(char c)
{
	return roomurl_alnum(c) || c == '_' || c == '-';
}

static bool roomurl_id_span_ok(const char *s, size_t n)
{
	if (n < 4 || n > ROOMURL_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!roomurl_id_char(s[i]))
			return false;
	return true;
}

bool roomurl_id_ok(const char *s)
{
	return s && roomurl_id_span_ok(s, strlen(s));
}

/* Length of "<scheme>://<host>" at the start of url, or 0 if it is not there. */
static size_t roomurl_base_len(const char *url)
{
	const char *p = url;
	const char *host;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return 0;
	while (roomurl_alnum(*p) || *p == '+' || *p == '.' || *p == '-')
		p++;
	if (strncmp(p, "://", 3) != 0)
		return 0;
	host = p += 3;
	while (*p && *p != '/' && *p != '?' && *p != '#') {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
		p++;
	}
	return p == host ? 0 : (size_t)(p - url);
}

int roomurl_parse(const char *url, char *base, size_t basecap, char room_id[65],
		  unsigned char key[32], bool *signed_room)
{
	static const char room_prefix[] = "/room/";
	unsigned char k[32];
	const char *path, *id, *end, *frag, *kval = NULL;
	size_t blen, idlen, klen = 0, kn = 0;
	bool is_signed = false;

	if (!url)
		return -1;
	blen = roomurl_base_len(url);
	if (blen == 0)
		return -1;

	/* CRYPTO-1: the path matches ^/room/([A-Za-z0-9_-]{4,64})/?$ */
	path = url + blen;
	if (strncmp(path, room_prefix, sizeof(room_prefix) - 1) != 0)
		return -1;
	id = path + sizeof(room_prefix) - 1;
	end = id + strcspn(id, "?#");
	idlen = (size_t)(end - id);
	if (idlen > 0 && id[idlen - 1] == '/')
		idlen--;
	if (!roomurl_id_span_ok(id, idlen))
		return -1;

	frag = strchr(end, '#');
	if (!frag)
		return -1;
	for (const char *part = frag + 1;;) {
		size_t plen = strcspn(part, "&");
		const char *eq = memchr(part, '=', plen);
		size_t nlen = eq ? (size_t)(eq - part) : plen;
		const char *val = eq ? eq + 1 : part + plen;
		size_t vlen = (size_t)(part + plen - val);

		if (nlen == 1 && part[0] == 'k') {
			kval = val;
			klen = vlen;
		} else if (nlen == 6 && memcmp(part, "signed", 6) == 0) {
			is_signed = vlen == 1 && val[0] == '1';
		}
		if (part[plen] == '\0')
			break;
		part += plen + 1;
	}
	if (!kval || klen != ROOMURL_KEY_B64_LEN ||
	    crypto_b64_decode(k, sizeof(k), &kn, kval, klen, CRYPTO_B64_URL_NOPAD) != 0 ||
	    kn != sizeof(k))
		return -1;
	if (blen >= basecap)
		return -1;

	memcpy(base, url, blen);
	base[blen] = '\0';
	memcpy(room_id, id, idlen);
	room_id[idlen] = '\0';
	memcpy(key, k, sizeof(k));
	*signed_room = is_signed;
	return 0;
}

/* Length of base without trailing slashes. */
static size_t roomurl_trim_base(const char *base)
{
	size_t n = base ? strlen(base) : 0;

	while (n > 0 && base[n - 1] == '/')
		n--;
	return n;
}

static int roomurl_fit(int n, size_t cap)
{
	return (n < 0 || (size_t)n >= cap) ? -1 : n;
}

int roomurl_format(char *out, size_t cap, const char *base, const char *room_id,
		   const unsigned char key[32], bool signed_room)
{
	char k[ROOMURL_KEY_B64_LEN + 1];
	size_t blen = roomurl_trim_base(base);
	int n;

	if (blen == 0 || blen > 0x7fffffff || !roomurl_id_ok(room_id))
		return -1;
	if (crypto_b64_encode(k, sizeof(k), key, 32, CRYPTO_B64_URL_NOPAD) < 0)
		return -1;
	n = snprintf(out, cap, "%.*s/room/%s#k=%s%s", (int)blen, base, room_id, k,
		     signed_room ? "&signed=1" : "");
	return roomurl_fit(n, cap);
}

int roomurl_api_base(char *out, size_t cap, const char *base, const char *room_id)
{
	size_t blen = roomurl_trim_base(base);
	int n;

	if (blen == 0 || blen > 0x7fffffff || !roomurl_id_ok(room_id))
		return -1;
	n = snprintf(out, cap, "%.*s/api/rooms/%s", (int)blen, base, room_id);
	return roomurl_fit(n, cap);
}
