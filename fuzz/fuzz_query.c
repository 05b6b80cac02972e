/* fuzz_query — query strings (HTTP-8) and percent-decoding of path segments (HTTP-3),
 * proto/query.h.
 *
 * Properties: pct_decode never writes more than len bytes and, when the input has no '%' or
 * '+', is the identity; query_parse either succeeds with at most QUERY_MAX_PAIRS pairs whose
 * offsets lie inside the buffer, or fails leaving q empty; query_first/single/has agree with
 * each other for every key that occurs. */
#include "fuzz.h"

#include "proto/query.h"

static const char *const keys[] = {"after", "timeout", "limit", "ttl_ms", "last_event_id",
				   "name", "box_pub", ""};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	bool plus = fz_u8(&f) & 1;
	size_t len;
	const char *in = fz_rest(&f, &len);
	char *s = fz_memdup(in, len);

	/* HTTP-3 / HTTP-8 decoding; out is sized exactly len (+1 so len 0 is a valid buffer). */
	char *out = malloc(len + 1);
	if (!out)
		abort();
	size_t k = pct_decode(s, len, out, plus);
	FUZZ_CHECK(k <= len);
	if (!memchr(s, '%', len) && !memchr(s, '+', len))
		FUZZ_CHECK(k == len && memcmp(out, s, len) == 0);
	free(out);

	struct query *q = malloc(sizeof(*q));
	if (!q)
		abort();
	if (query_parse(q, s, len) == 0) {
		FUZZ_CHECK(q->n <= QUERY_MAX_PAIRS);
		for (size_t i = 0; i < q->n; i++) {
			const struct query_pair *p = &q->pairs[i];
			FUZZ_CHECK((size_t)p->key + p->klen < QUERY_BUF_BYTES);
			FUZZ_CHECK((size_t)p->val + p->vlen < QUERY_BUF_BYTES);
			FUZZ_CHECK(q->buf[p->key + p->klen] == '\0' && q->buf[p->val + p->vlen] == '\0');
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			const char *v = NULL, *v1 = NULL;
			size_t vl = 0, vl1 = 0;
			bool has = query_has(q, keys[i]);
			bool first = query_first(q, keys[i], &v, &vl);
			bool single = query_single(q, keys[i], &v1, &vl1);
			FUZZ_CHECK(has == first);
			FUZZ_CHECK(!single || (first && v1 == v && vl1 == vl));
			if (first)
				FUZZ_CHECK(v[vl] == '\0');
		}
		/* Look every decoded key up again (keys may contain NUL: compare by C string). */
		for (size_t i = 0; i < q->n; i++) {
			const char *key = q->buf + q->pairs[i].key;
			if (strlen(key) == q->pairs[i].klen)
				FUZZ_CHECK(query_has(q, key));
		}
	} else {
		FUZZ_CHECK(q->n == 0);
	}
	free(q);
	free(s);
	return 0;
}
