/* fuzz_router — exact route matching over the raw path (relay/router.h, HTTP-2..5, HTTP-7).
 *
 * Input: method, '\n', path. Properties: the status is 200, 404 or 405; 405 comes with a
 * non-empty Allow list of upper-case methods joined by ", "; a 200 names a real route whose
 * parameters are NUL-terminated at their lengths (or marked over-long); matching is a pure
 * function (same answer twice). */
#include "fuzz.h"

#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t mlen, plen;
	const char *m = fz_until(&f, '\n', &mlen);
	const char *p = fz_rest(&f, &plen);
	char *method = fz_strdup(m, mlen);
	char *path = fz_strdup(p, plen);
	struct route_match *r1 = malloc(sizeof(*r1)), *r2 = malloc(sizeof(*r2));
	char allow[64], allow2[64];
	if (!r1 || !r2)
		abort();
	memset(allow, 0, sizeof(allow));

	int st = router_match(method, path, r1, allow, sizeof(allow));
	FUZZ_CHECK(st == 200 || st == 404 || st == 405);
	if (st == 200) {
		FUZZ_CHECK(r1->id != R_NONE);
		FUZZ_CHECK(router_name(r1->id) != NULL);
		FUZZ_CHECK(r1->p1_len <= ROUTE_PARAM_MAX + 1);
		if (r1->p1_len <= ROUTE_PARAM_MAX)
			FUZZ_CHECK(r1->p1[r1->p1_len] == '\0');
		FUZZ_CHECK(r1->p2_len <= ROUTE_PARAM_MAX + 1);
		if (r1->p2_len <= ROUTE_PARAM_MAX)
			FUZZ_CHECK(r1->p2[r1->p2_len] == '\0');
		if (r1->p1_raw)
			FUZZ_CHECK(r1->p1_raw >= path && r1->p1_raw + r1->p1_raw_len <= path + plen);
	}
	if (st == 405) {
		size_t al = strnlen(allow, sizeof(allow));
		FUZZ_CHECK(al > 0 && al < sizeof(allow));
		for (size_t i = 0; i < al; i++)
			FUZZ_CHECK((allow[i] >= 'A' && allow[i] <= 'Z') || allow[i] == ',' || allow[i] == ' ');
	}
	int st2 = router_match(method, path, r2, allow2, sizeof(allow2));
	FUZZ_CHECK(st2 == st);
	if (st == 200)
		FUZZ_CHECK(r2->id == r1->id && r2->p1_len == r1->p1_len &&
			   memcmp(r2->p1, r1->p1, r1->p1_len <= ROUTE_PARAM_MAX ? r1->p1_len : 0) == 0);
	free(r1);
	free(r2);
	free(method);
	free(path);
	return 0;
}
