/* fuzz_num — P(s) and the query-number rules NUM-1..NUM-4 (proto/num.h).
 *
 * Properties: num_parse saturates at +-2^53 and leaves *out untouched on NaN; after >= 0;
 * timeout in [1, 90]; limit in [1, 500]; ttl_ms is the default for NaN/<= 0, else within
 * [60000, 300000]; each helper agrees with num_parse on the same bytes. */
#include "fuzz.h"

#include "proto/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	int64_t dflt = (int64_t)(fz_u32(&f) % 1000000);
	size_t len;
	const char *in = fz_rest(&f, &len);
	char *s = fz_memdup(in, len);

	int64_t v = 0x5eed;
	bool ok = num_parse(s, len, &v);
	if (ok)
		FUZZ_CHECK(v >= -NUM_SATURATE && v <= NUM_SATURATE);
	else
		FUZZ_CHECK(v == 0x5eed);

	int64_t after = num_after(s, len);
	FUZZ_CHECK(after >= 0);
	FUZZ_CHECK(after == (ok && v > 0 ? v : 0));

	int t = num_timeout_s(s, len);
	FUZZ_CHECK(t >= NUM_TIMEOUT_MIN_S && t <= NUM_TIMEOUT_MAX_S);
	if (!ok || v == 0)
		FUZZ_CHECK(t == NUM_TIMEOUT_DEFAULT_S);

	int l = num_limit(s, len);
	FUZZ_CHECK(l >= NUM_LIMIT_MIN && l <= NUM_LIMIT_MAX);
	if (!ok || v == 0)
		FUZZ_CHECK(l == NUM_LIMIT_DEFAULT);

	int64_t ttl = num_claim_ttl_ms(s, len, dflt);
	if (!ok || v <= 0)
		FUZZ_CHECK(ttl == dflt);
	else
		FUZZ_CHECK(ttl >= NUM_CLAIM_TTL_MIN_MS && ttl <= NUM_CLAIM_TTL_MAX_MS);

	/* Absent parameters (NULL) take the defaults. */
	FUZZ_CHECK(num_after(NULL, 0) == 0);
	FUZZ_CHECK(num_timeout_s(NULL, 0) == NUM_TIMEOUT_DEFAULT_S);
	free(s);
	return 0;
}
