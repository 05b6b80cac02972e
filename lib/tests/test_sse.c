/* Tests for proto/sse: SSE-9 framing, the SSE-11 keepalive, and the incremental parser
 * (WHATWG line rules, chunking at every split point, limits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/sse.h"

static void test_frame(void **state)
{
	static const char json[] = "{\"type\":\"message\",\"seq\":1795615604052}";
	static const char want_id[] =
		"id: 1795615604052\ndata: {\"type\":\"message\",\"seq\":1795615604052}\n\n";
	static const char want_noid[] = "data: {\"type\":\"message\",\"seq\":1795615604052}\n\n";
	size_t jl = sizeof(json) - 1;
	char out[256];

	/* SSE-9: message events carry id: <seq>; others none. */
	assert_int_equal(sse_frame_len(1795615604052, jl), sizeof(want_id) - 1);
	assert_int_equal(sse_frame(out, sizeof(out), 1795615604052, json, jl), sizeof(want_id) - 1);
	assert_memory_equal(out, want_id, sizeof(want_id) - 1);
	assert_int_equal(sse_frame_len(-1, jl), sizeof(want_noid) - 1);
	assert_int_equal(sse_frame(out, sizeof(out), -1, json, jl), sizeof(want_noid) - 1);
	assert_memory_equal(out, want_noid, sizeof(want_noid) - 1);
	/* Exact fit works (no NUL written); one byte less fails. */
	memset(out, '#', sizeof(out));
	assert_int_equal(sse_frame(out, sizeof(want_id) - 1, 1795615604052, json, jl),
			 sizeof(want_id) - 1);
	assert_int_equal(out[sizeof(want_id) - 1], '#');
	assert_int_equal(sse_frame(out, sizeof(want_id) - 2, 1795615604052, json, jl), 0);
	/* id 0 and an empty payload. */
	assert_int_equal(sse_frame(out, sizeof(out), 0, "{}", 2), 16);
	assert_memory_equal(out, "id: 0\ndata: {}\n\n", 16);
	assert_int_equal(sse_frame(out, sizeof(out), -1, NULL, 0), 8);
	assert_memory_equal(out, "data: \n\n", 8);
	/* A raw newline would split the data line: refused. */
	assert_int_equal(sse_frame(out, sizeof(out), 1, "{\"a\":\n1}", 8), 0);
	assert_int_equal(sse_frame(out, sizeof(out), 1, "{\"a\":\r1}", 8), 0);
	/* SSE-11 keepalive text. */
	assert_string_equal(SSE_KEEPALIVE, ": keepalive\n\n");
}

/* Records events as "E[id]data" / "C:text" strings for easy comparison. */
struct rec {
	char log[4096];
	size_t len;
	int events, comments;
};

static void on_event(void *ud, const struct sse_event *ev)
{
	struct rec *r = ud;
	int n;

	if (ev->is_comment) {
		assert_false(ev->has_id);
		n = snprintf(r->log + r->len, sizeof(r->log) - r->len, "C:%.*s|", (int)ev->data_len,
			     ev->data);
		r->comments++;
	} else {
		assert_int_equal(ev->data[ev->data_len], '\0');
		if (ev->has_id)
			n = snprintf(r->log + r->len, sizeof(r->log) - r->len, "E[%.*s]%.*s|",
				     (int)ev->id_len, ev->id, (int)ev->data_len, ev->data);
		else
			n = snprintf(r->log + r->len, sizeof(r->log) - r->len, "E%.*s|",
				     (int)ev->data_len, ev->data);
		r->events++;
	}
	assert_true(n > 0 && (size_t)n < sizeof(r->log) - r->len);
	r->len += (size_t)n;
}

static const char *parse_all(struct rec *r, const char *in, size_t len)
{
	struct sse_parser p;

	memset(r, 0, sizeof(*r));
	assert_int_equal(sse_parser_init(&p, 4096), 0);
	assert_int_equal(sse_parser_feed(&p, in, len, on_event, r), 0);
	sse_parser_free(&p);
	return r->log;
}

struct pcase {
	const char *in;
	const char *want;
};

static void test_parser_rules(void **state)
{
	static const struct pcase t[] = {
		{ "data: a\n\n", "Ea|" },
		{ "id: 5\ndata: {}\n\n", "E[5]{}|" },
		{ "data:a\r\n\r\n", "Ea|" },				/* CRLF */
		{ "data: a\r\rdata: b\r\r", "Ea|Eb|" },			/* CR only */
		{ "data: a\ndata: b\n\n", "Ea\nb|" },			/* joined with LF */
		{ "data\n\n", "E|" },					/* no colon: empty value */
		{ "data:\n\n", "E|" },
		{ "data:  two\n\n", "E two|" },			/* one space removed */
		{ ": keepalive\n\n", "C:keepalive|" },			/* comment; no event */
		{ ":\n", "C:|" },
		{ ":x: y\n", "C:x: y|" },
		{ "event: foo\ndata: x\nretry: 10\n\n", "Ex|" },	/* ignored fields */
		{ "foo: bar\ndata: x\n\n", "Ex|" },
		{ "id: 7\n\n", "" },					/* no data: nothing */
		{ "id: 7\ndata: a\n\ndata: b\n\n", "E[7]a|Eb|" },	/* id per block */
		{ "id: 1\nid: 2\ndata: a\n\n", "E[2]a|" },
		{ "id\ndata: a\n\n", "E[]a|" },				/* empty id */
		{ "\xef\xbb\xbf" "data: a\n\n", "Ea|" },		/* leading BOM */
		{ "data: a\n\n\xef\xbb\xbf" "data: b\n\n", "Ea|" },	/* BOM only at start */
		{ "data: a\n", "" },					/* not terminated */
		{ "data: a", "" },
		{ "\n\n\ndata: a\n\n", "Ea|" },
		{ "DATA: a\n\n", "" },					/* case-sensitive */
		{ "data : a\n\n", "" },				/* field "data " */
		{ "data: x:y\n\n", "Ex:y|" },
		{ "data: a\r\n\ndata: b\n\r\n", "Ea|Eb|" },		/* mixed endings */
		{ ": keepalive\n\ndata: {\"type\":\"ready\"}\n\n", "C:keepalive|E{\"type\":\"ready\"}|" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rec r;
		const char *got = parse_all(&r, t[i].in, strlen(t[i].in));

		if (strcmp(got, t[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, got, t[i].want);
	}
}

/* WHATWG: an id containing NUL is ignored; the last event id persists across events. */
static void test_parser_ids(void **state)
{
	static const char in[] = "id: 3\ndata: a\n\nid: x\0y\ndata: b\n\ndata: c\n\n";
	struct sse_parser p;
	struct rec r;
	const char *id;
	size_t len;

	memset(&r, 0, sizeof(r));
	sse_parser_init(&p, 0);
	id = sse_parser_last_id(&p, &len);
	assert_int_equal(len, 0);
	assert_string_equal(id, "");
	assert_int_equal(sse_parser_feed(&p, in, sizeof(in) - 1, on_event, &r), 0);
	assert_string_equal(r.log, "E[3]a|Eb|Ec|");
	id = sse_parser_last_id(&p, &len);
	assert_int_equal(len, 1);
	assert_memory_equal(id, "3", 1);
	sse_parser_reset(&p);
	id = sse_parser_last_id(&p, &len);
	assert_int_equal(len, 0);
	assert_string_equal(id, "");
	sse_parser_free(&p);
}

/* A stream exercising every rule, fed in two chunks at every split point and byte by byte:
 * the result never depends on chunking (CRLF split across feeds included). */
static void test_parser_chunking(void **state)
{
	static const char in[] = "\xef\xbb\xbf: hi\r\nid: 17\r\ndata: {\"a\":1}\r\n\r\n"
				 "data: x\rdata: y\r\r: keepalive\n\nevent: e\ndata\n\n"
				 "id: 9\ndata: z\r\n\r\ndata: tail\n\n";
	static const char want[] = "C:hi|E[17]{\"a\":1}|Ex\ny|C:keepalive|E|E[9]z|Etail|";
	size_t len = sizeof(in) - 1, cut, i;

	for (cut = 0; cut <= len; cut++) {
		struct sse_parser p;
		struct rec r;

		memset(&r, 0, sizeof(r));
		sse_parser_init(&p, 256);
		assert_int_equal(sse_parser_feed(&p, in, cut, on_event, &r), 0);
		assert_int_equal(sse_parser_feed(&p, in + cut, 0, on_event, &r), 0);
		assert_int_equal(sse_parser_feed(&p, in + cut, len - cut, on_event, &r), 0);
		if (strcmp(r.log, want) != 0)
			fail_msg("cut %zu: got \"%s\"", cut, r.log);
		sse_parser_free(&p);
	}
	{
		struct sse_parser p;
		struct rec r;

		memset(&r, 0, sizeof(r));
		sse_parser_init(&p, 256);
		for (i = 0; i < len; i++)
			assert_int_equal(sse_parser_feed(&p, in + i, 1, on_event, &r), 0);
		assert_string_equal(r.log, want);
		assert_int_equal(r.events, 5);
		assert_int_equal(r.comments, 2);
		sse_parser_free(&p);
	}
}

/* Frames built by sse_frame parse back to the same id and JSON; 128-byte reads (CLIENT-3). */
static void test_frame_roundtrip(void **state)
{
	char *stream = malloc(65536);
	size_t o = 0, i;
	struct sse_parser p;
	struct rec r;
	char json[64], want[4096];
	size_t wo = 0;

	assert_non_null(stream);
	for (i = 0; i < 40; i++) {
		int n = snprintf(json, sizeof(json), "{\"type\":\"message\",\"seq\":%zu}", 1000 + i);
		int64_t id = i % 3 ? (int64_t)(1000 + i) : -1;

		o += sse_frame(stream + o, 65536 - o, id, json, (size_t)n);
		if (i % 7 == 0) {
			memcpy(stream + o, SSE_KEEPALIVE, sizeof(SSE_KEEPALIVE) - 1);
			o += sizeof(SSE_KEEPALIVE) - 1;
		}
		if (id >= 0)
			wo += (size_t)snprintf(want + wo, sizeof(want) - wo, "E[%lld]%s|",
					       (long long)id, json);
		else
			wo += (size_t)snprintf(want + wo, sizeof(want) - wo, "E%s|", json);
		if (i % 7 == 0)
			wo += (size_t)snprintf(want + wo, sizeof(want) - wo, "C:keepalive|");
	}
	memset(&r, 0, sizeof(r));
	sse_parser_init(&p, 1024);
	for (i = 0; i < o; i += 128)
		assert_int_equal(sse_parser_feed(&p, stream + i, o - i < 128 ? o - i : 128, on_event,
						 &r),
				 0);
	assert_string_equal(r.log, want);
	assert_int_equal(r.events, 40);
	assert_int_equal(r.comments, 6);
	sse_parser_free(&p);
	free(stream);
}

static void test_parser_limits(void **state)
{
	struct sse_parser p;
	struct rec r;
	char line[64];

	/* Data up to max bytes (value + its "\n") passes. */
	memset(&r, 0, sizeof(r));
	sse_parser_init(&p, 16);
	snprintf(line, sizeof(line), "data:%s\n\n", "0123456789abcde"); /* 15 + 1 */
	assert_int_equal(sse_parser_feed(&p, line, strlen(line), on_event, &r), 0);
	assert_string_equal(r.log, "E0123456789abcde|");
	/* Two data lines adding up beyond max fail, and the failure sticks. */
	assert_int_equal(sse_parser_feed(&p, "data:01234567\ndata:01234567\n\n", 30, on_event, &r),
			 -1);
	assert_int_equal(sse_parser_feed(&p, "data: a\n\n", 9, on_event, &r), -1);
	assert_int_equal(r.events, 1);
	/* reset clears the failure. */
	sse_parser_reset(&p);
	assert_int_equal(sse_parser_feed(&p, "data: a\n\n", 9, on_event, &r), 0);
	assert_int_equal(r.events, 2);
	sse_parser_free(&p);

	/* An over-long incomplete line (beyond max + 64 for the field name) fails while still
	 * buffering; up to the limit it is kept. */
	memset(&r, 0, sizeof(r));
	sse_parser_init(&p, 16);
	memset(line, 'x', sizeof(line));
	assert_int_equal(sse_parser_feed(&p, line, 64, on_event, &r), 0);
	assert_int_equal(sse_parser_feed(&p, line, 16, on_event, &r), 0);
	assert_int_equal(sse_parser_feed(&p, line, 1, on_event, &r), -1);
	sse_parser_free(&p);

	/* A complete line with 16 data bytes (+1) exceeds 16. */
	sse_parser_init(&p, 16);
	assert_int_equal(sse_parser_feed(&p, "data: 0123456789abcdef\n\n", 24, on_event, &r), -1);
	assert_int_equal(r.events, 0);
	sse_parser_free(&p);

	/* Over-long id. */
	sse_parser_init(&p, 16);
	assert_int_equal(sse_parser_feed(&p, "id: 01234567890123456\n", 22, on_event, &r), -1);
	sse_parser_free(&p);

	/* NULL callback is allowed; the parser still tracks ids. */
	sse_parser_init(&p, 0);
	assert_int_equal(sse_parser_feed(&p, "id: 4\ndata: a\n\n: c\n", 20, NULL, NULL), 0);
	{
		size_t len;
		const char *id = sse_parser_last_id(&p, &len);

		assert_int_equal(len, 1);
		assert_memory_equal(id, "4", 1);
	}
	sse_parser_free(&p);
}

/* Large event with a small max growth path: a 100 KiB data line in 1 KiB chunks. */
static void test_parser_large(void **state)
{
	size_t n = 100 * 1024, i;
	char *buf = malloc(n + 16);
	struct sse_parser p;
	struct rec r;

	assert_non_null(buf);
	memcpy(buf, "data: ", 6);
	memset(buf + 6, 'q', n);
	memcpy(buf + 6 + n, "\n\n", 2);
	memset(&r, 0, sizeof(r));
	sse_parser_init(&p, 128 * 1024);
	for (i = 0; i < n + 8; i += 1024)
		assert_int_equal(sse_parser_feed(&p, buf + i, n + 8 - i < 1024 ? n + 8 - i : 1024,
						 NULL, NULL),
				 0);
	sse_parser_free(&p);
	/* Same stream with max below the line length fails. */
	sse_parser_init(&p, 64 * 1024);
	assert_int_equal(sse_parser_feed(&p, buf, n + 8, on_event, &r), -1);
	assert_int_equal(r.events, 0);
	sse_parser_free(&p);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),	       cmocka_unit_test(test_parser_rules),
		cmocka_unit_test(test_parser_ids),      cmocka_unit_test(test_parser_chunking),
		cmocka_unit_test(test_frame_roundtrip), cmocka_unit_test(test_parser_limits),
		cmocka_unit_test(test_parser_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
