/* fuzz_json — the JSON reader (proto/json.h): json_scan() and json_parse() with the relay's
 * depth limit (HTTP-13, JSON_MAX_DEPTH = 32), and the writer round trip.
 *
 * Properties: json_scan and json_parse agree on validity; a parsed tree is never deeper
 * than the limit; every string in the tree re-rendered with jw_str() parses back to the same
 * bytes (the U+0000 marker included, json.h); json_get/json_str/json_is_int/json_truthy are
 * safe on every node. The first input byte picks the options, so one corpus covers both
 * top_container modes and small depth limits. */
#include "fuzz.h"

#include "proto/json.h"
#include "proto/utf16.h"

static int depth_of(const cJSON *n)
{
	int d = 0;
	for (const cJSON *c = n ? n->child : NULL; c; c = c->next) {
		int k = depth_of(c);
		if (k > d)
			d = k;
	}
	return (cJSON_IsArray(n) || cJSON_IsObject(n)) ? d + 1 : d;
}

static void check_string(const char *s, size_t len)
{
	struct jw w;
	jw_init(&w, 16, 6 * len + 64);
	jw_str(&w, s, len);
	size_t out_len;
	char *out = jw_take(&w, &out_len);
	FUZZ_CHECK(out != NULL);
	cJSON *back = json_parse(out, out_len, 1, false);
	FUZZ_CHECK(back != NULL);
	const char *bs;
	size_t blen;
	FUZZ_CHECK(json_str(back, &bs, &blen));
	FUZZ_CHECK(blen == len && memcmp(bs, s, len) == 0);
	cJSON_Delete(back);
	free(out);
}

/* Visit the children of parent (at most budget nodes per level). */
static void walk(const cJSON *parent, int budget)
{
	for (const cJSON *c = parent->child; c && budget > 0; c = c->next, budget--) {
		const char *s;
		size_t len;
		(void)json_truthy(c);
		(void)json_is_int(c);
		if (json_str(c, &s, &len)) {
			check_string(s, len);
			/* The reader's output is UTF-8 except for the C0 80 marker (json.h). */
			FUZZ_CHECK(utf8_valid(s, len) || u8_has_nul(s, len));
		}
		/* HTTP-16: a member is found by its key (the last duplicate wins). */
		if (cJSON_IsObject(parent) && c->string)
			FUZZ_CHECK(json_get(parent, c->string) != NULL);
		walk(c, budget / 2);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint8_t opt = fz_u8(&f);
	bool top_container = opt & 1;
	int max_depth = (opt & 2) ? JSON_MAX_DEPTH : 1 + (opt >> 2) % 8;
	size_t len;
	const char *s = fz_rest(&f, &len);

	int d = json_scan(s, len, max_depth);
	cJSON *root = json_parse(s, len, max_depth, top_container);
	FUZZ_CHECK(d <= max_depth);
	if (root) {
		FUZZ_CHECK(d >= 0);
		FUZZ_CHECK(depth_of(root) <= max_depth);
		if (top_container)
			FUZZ_CHECK(cJSON_IsArray(root) || cJSON_IsObject(root));
		walk(root, 4096);
		const char *rs;
		size_t rlen;
		if (json_str(root, &rs, &rlen))
			check_string(rs, rlen);
		cJSON_Delete(root);
	} else if (top_container) {
		/* Rejected: either invalid/too deep (scan says so) or a top-level primitive. */
		cJSON *prim = json_parse(s, len, max_depth, false);
		FUZZ_CHECK(d < 0 || (prim && !cJSON_IsArray(prim) && !cJSON_IsObject(prim)));
		cJSON_Delete(prim);
	} else {
		FUZZ_CHECK(d < 0);
	}
	return 0;
}
