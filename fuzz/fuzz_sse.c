/* fuzz_sse — the incremental Server-Sent Events parser and the SSE-9 framer (proto/sse.h),
 * which the conformance runner and the soak drivers feed with whatever a relay sends.
 *
 * The input is fed in pieces whose sizes come from the input itself, so line ends split
 * across feeds (CR | LF) are exercised. Properties: events respect max_event_bytes; data is
 * NUL-terminated at data_len; an id never contains NUL; once the parser failed it stays
 * failed; feeding the same stream in one piece gives the same events (chunking does not
 * change the result); every frame sse_frame() writes parses back to the same event. */
#include "fuzz.h"

#include "proto/sse.h"

struct tally {
	uint64_t events, comments, hash;
	size_t max;
};

static uint64_t mix(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h * 31 + n;
}

static void on_event(void *ud, const struct sse_event *ev)
{
	struct tally *t = ud;
	if (ev->is_comment) {
		t->comments++;
		FUZZ_CHECK(!ev->has_id);
		t->hash = mix(t->hash, ev->data, ev->data_len);
		return;
	}
	t->events++;
	FUZZ_CHECK(ev->data_len < t->max);
	FUZZ_CHECK(ev->data[ev->data_len] == '\0');
	if (ev->has_id)
		FUZZ_CHECK(!memchr(ev->id, 0, ev->id_len));
	t->hash = mix(t->hash, ev->data, ev->data_len);
	t->hash = mix(t->hash, ev->has_id ? ev->id : "-", ev->has_id ? ev->id_len : 1);
}

struct one {
	int n;
	bool has_id;
	size_t len;
	char data[256];
};

static void on_one(void *ud, const struct sse_event *ev)
{
	struct one *o = ud;
	if (ev->is_comment)
		return;
	o->n++;
	o->has_id = ev->has_id;
	o->len = ev->data_len;
	if (ev->data_len <= sizeof(o->data))
		memcpy(o->data, ev->data, ev->data_len);
}

static void check_frame(const char *json, size_t len, int64_t id)
{
	size_t need = sse_frame_len(id, len);
	char *buf = malloc(need);
	if (!buf)
		abort();
	size_t n = sse_frame(buf, need, id, json, len);
	if (memchr(json, '\r', len) || memchr(json, '\n', len)) {
		FUZZ_CHECK(n == 0);
	} else if (len <= 256) {
		FUZZ_CHECK(n == need);
		FUZZ_CHECK(sse_frame(buf, need - 1, id, json, len) == 0);
		struct sse_parser p;
		struct one o = {0};
		sse_parser_init(&p, 4096);
		FUZZ_CHECK(sse_parser_feed(&p, buf, n, on_one, &o) == 0);
		/* A frame holding NUL loses nothing: data is length-counted. */
		FUZZ_CHECK(o.n == 1 && o.has_id == (id >= 0) && o.len == len);
		FUZZ_CHECK(memcmp(o.data, json, len) == 0);
		sse_parser_free(&p);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t max = 16 + fz_u8(&f) * 16;
	uint32_t cuts = fz_u32(&f);
	size_t len;
	const char *s = fz_rest(&f, &len);

	struct sse_parser p;
	struct tally a = {.max = max}, b = {.max = max};
	sse_parser_init(&p, max);
	int rc = 0;
	size_t off = 0;
	while (off < len) {
		size_t piece = 1 + (cuts & 7);
		cuts = (cuts >> 3) | (cuts << 29);
		if (piece > len - off)
			piece = len - off;
		int r = sse_parser_feed(&p, s + off, piece, on_event, &a);
		if (rc < 0)
			FUZZ_CHECK(r < 0); /* failed stays failed */
		rc = r < 0 ? r : rc;
		off += piece;
	}
	size_t lid_len;
	const char *lid = sse_parser_last_id(&p, &lid_len);
	FUZZ_CHECK(lid != NULL);
	sse_parser_reset(&p);
	int whole = sse_parser_feed(&p, s, len, on_event, &b);
	if (rc == 0) {
		FUZZ_CHECK(whole == 0);
		FUZZ_CHECK(a.events == b.events && a.comments == b.comments && a.hash == b.hash);
	}
	sse_parser_free(&p);

	check_frame(s, len < 300 ? len : 300, (int64_t)(cuts % 3) - 1);
	return 0;
}
