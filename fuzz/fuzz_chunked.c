/* fuzz_chunked — the client's chunked transfer-coding decoder (client/chunked.h), which
 * reads whatever a relay under test sends (SSE-3, SSE-12 checks in the conformance runner).
 *
 * Properties: chunked_feed never consumes more than it was given, reports an error text with
 * every failure and stays failed; a body decoded in input-chosen pieces gives the same bytes,
 * chunk count, chunk boundaries and verdict as the same body fed at once; once done, later
 * bytes are left unconsumed. */
#include "fuzz.h"

#include "client/chunked.h"

struct sink {
	uint64_t bytes, ends, hash;
};

static int on_data(void *ud, const char *data, size_t n, bool chunk_end)
{
	struct sink *s = ud;
	for (size_t i = 0; i < n; i++)
		s->hash = (s->hash ^ (unsigned char)data[i]) * 1099511628211ULL;
	s->bytes += n;
	if (chunk_end) {
		s->ends++;
		s->hash = s->hash * 31 + s->bytes; /* boundaries are part of the result */
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	uint32_t cuts = fz_u32(&f);
	size_t len;
	const char *s = fz_rest(&f, &len);

	struct chunked_dec a, b;
	struct sink sa = {0}, sb = {0};
	chunked_init(&a);
	size_t off = 0;
	bool failed = false;
	while (off < len && !a.done) {
		size_t piece = 1 + (cuts & 15);
		cuts = (cuts >> 4) | (cuts << 28);
		if (piece > len - off)
			piece = len - off;
		ssize_t r = chunked_feed(&a, s + off, piece, on_data, &sa);
		if (r < 0) {
			FUZZ_CHECK(a.error != NULL);
			FUZZ_CHECK(chunked_feed(&a, s, len, on_data, &sa) < 0);
			failed = true;
			break;
		}
		FUZZ_CHECK((size_t)r <= piece);
		if ((size_t)r < piece)
			FUZZ_CHECK(a.done);
		off += (size_t)r;
		if ((size_t)r < piece)
			break;
	}

	chunked_init(&b);
	ssize_t whole = chunked_feed(&b, s, len, on_data, &sb);
	if (failed) {
		FUZZ_CHECK(whole < 0);
	} else {
		FUZZ_CHECK(whole >= 0 && (size_t)whole == off);
		FUZZ_CHECK(b.done == a.done && b.chunks == a.chunks);
		FUZZ_CHECK(sa.bytes == sb.bytes && sa.ends == sb.ends && sa.hash == sb.hash);
	}
	return 0;
}
