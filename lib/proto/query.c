/* query — query strings (HTTP-8) and percent-decoding (HTTP-3). See query.h. */
#include "proto/query.h"

#include <string.h>

#include "proto/utf16.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t pct_decode(const char *in, size_t len, char *out, bool plus_is_space)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i = 0, o = 0;
	bool escaped = false;

	if (!in || len == 0)
		return 0;
	while (i < len) {
		if (u[i] == '%') {
			int hi = i + 2 < len ? hexval(u[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(u[i + 2]) : -1;

			if (lo < 0)
				goto raw; /* malformed escape: the whole input stays raw */
			out[o++] = (char)(hi << 4 | lo);
			escaped = true;
			i += 3;
		} else if (u[i] == '+' && plus_is_space) {
			out[o++] = ' ';
			i++;
		} else {
			out[o++] = (char)u[i++];
		}
	}
	/* Escapes must decode as UTF-8 (decodeURIComponent semantics), else the input stays raw. */
	if (!escaped || utf8_valid(out, o))
		return o;
raw:
	memcpy(out, in, len);
	return len;
}

/* Decodes one key or value into q->buf at *used and NUL-terminates it. */
static int query_put(struct query *q, size_t *used, const char *s, size_t len, uint16_t *off,
		     uint16_t *dlen)
{
	size_t n;

	if (len + 1 > QUERY_BUF_BYTES - *used)
		return -1;
	n = pct_decode(s, len, q->buf + *used, true);
	q->buf[*used + n] = '\0';
	*off = (uint16_t)*used;
	*dlen = (uint16_t)n;
	*used += n + 1;
	return 0;
}

int query_parse(struct query *q, const char *qs, size_t len)
{
	size_t used = 0, i = 0;

	q->n = 0;
	if (!qs)
		return 0;
	while (i < len) {
		const char *piece = qs + i, *amp, *eq;
		size_t plen;
		struct query_pair *p;

		amp = memchr(piece, '&', len - i);
		plen = amp ? (size_t)(amp - piece) : len - i;
		i += plen + 1;
		if (plen == 0)
			continue; /* "a=1&&b=2": empty pieces carry nothing */
		if (q->n == QUERY_MAX_PAIRS)
			goto fail;
		p = &q->pairs[q->n];
		eq = memchr(piece, '=', plen);
		if (eq) {
			size_t klen = (size_t)(eq - piece);

			if (query_put(q, &used, piece, klen, &p->key, &p->klen) < 0 ||
			    query_put(q, &used, eq + 1, plen - klen - 1, &p->val, &p->vlen) < 0)
				goto fail;
		} else if (query_put(q, &used, piece, plen, &p->key, &p->klen) < 0 ||
			   query_put(q, &used, "", 0, &p->val, &p->vlen) < 0) {
			goto fail;
		}
		q->n++;
	}
	return 0;
fail:
	q->n = 0;
	return -1;
}

static bool key_is(const struct query *q, const struct query_pair *p, const char *key,
		   size_t klen)
{
	return p->klen == klen && memcmp(q->buf + p->key, key, klen) == 0;
}

bool query_first(const struct query *q, const char *key, const char **v, size_t *vlen)
{
	size_t klen = strlen(key), i;

	for (i = 0; i < q->n; i++) {
		const struct query_pair *p = &q->pairs[i];

		if (key_is(q, p, key, klen)) {
			*v = q->buf + p->val;
			*vlen = p->vlen;
			return true;
		}
	}
	return false;
}

bool query_single(const struct query *q, const char *key, const char **v, size_t *vlen)
{
	size_t klen = strlen(key), i, hits = 0, at = 0;

	for (i = 0; i < q->n; i++) {
		if (key_is(q, &q->pairs[i], key, klen)) {
			if (hits++ == 0)
				at = i;
		}
	}
	if (hits != 1)
		return false;
	*v = q->buf + q->pairs[at].val;
	*vlen = q->pairs[at].vlen;
	return true;
}

bool query_has(const struct query *q, const char *key)
{
	size_t klen = strlen(key), i;

	for (i = 0; i < q->n; i++)
		if (key_is(q, &q->pairs[i], key, klen))
			return true;
	return false;
}
