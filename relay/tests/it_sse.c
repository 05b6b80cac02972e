/* Integration: GET /api/rooms/{id}/events (PROTOCOL.md §7, §9) against a real relay — the
 * replay -> ready -> presence order (SSE-10), id: lines (SSE-9), resume by after /
 * Last-Event-ID / last_event_id with the SSE-6 precedence, chunked framing with whole events
 * per chunk read from a raw socket (SSE-12), keepalives (SSE-11, with --keepalive-ms), presence
 * and rename payloads with PRES-2 participants including /listening heartbeats, and the
 * per-IP stream cap (CAP-1) using X-Forwarded-For from loopback to act as distinct IPs. */
#include "it_util.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/buf.h"
#include "client/chunked.h"
#include "client/rawhttp.h"
#include "client/sse.h"
#include "client/ws.h"

static struct relay_proc rp;       /* default keepalive (15 s) */
static struct relay_proc ka;       /* --keepalive-ms 300 */
static struct http_client *hc;
static unsigned char key[32];

#define KA_MS 300
#define BOX1 "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ="
#define BOX2 "Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8="

static int setup(void **state)
{
	const char *args[] = {"--worker-threads", "192", "--worker-reserve", "16", "--metrics-token", IT_METRICS_TOKEN,
			      "--room-rl-cap", "100000", "--room-rl-refill-per-sec", "100000",
			      "--global-rl-cap", "100000", "--global-rl-refill-per-sec", "100000", NULL};
	const char *kargs[] = {"--worker-threads", "64", "--worker-reserve", "8", "--keepalive-ms", "300",
			       NULL};
	if (crypto_init() != 0)
		return -1;
	env_room_key_new(key);
	if (relay_start(&rp, args) != 0)
		return -1;
	if (relay_start(&ka, kargs) != 0)
		return -1;
	hc = http_client_new(NULL);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	int a = relay_stop(&rp), b = relay_stop(&ka);
	return a == 0 && b == 0 ? 0 : -1;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

/* Open a stream on relay r; hdr1/hdr2 are NULL or header lines. Asserts the status. */
static struct sse_conn *open_sse(const struct relay_proc *r, const char *path, const char *hdr1,
				 const char *hdr2, long status)
{
	char url[512];
	const char *hdrs[3] = {hdr1, hdr1 ? hdr2 : NULL, NULL};
	it_url(url, sizeof(url), r, path);
	struct sse_conn *c = sse_open(url, hdrs, NULL, 5000);
	if (!c)
		fail_msg("sse_open %s failed", path);
	if (sse_conn_status(c) != status)
		fail_msg("%s: status %ld, want %ld", path, sse_conn_status(c), status);
	return c;
}

/* The next event (comments skipped), within 5 s. */
static void next_ev(struct sse_conn *c, struct sse_event_copy *ev)
{
	int rc = sse_next_event(c, ev, 5000);
	if (rc != 1)
		fail_msg("no SSE event (rc %d, error %s)", rc, sse_conn_error(c) ? sse_conn_error(c) : "-");
}

/* The next event must be a non-message event whose text (last_seen_ms_ago normalised to 0)
 * is exactly want; returns it malloc'd and normalised if keep, else NULL. */
static char *expect_ev(struct sse_conn *c, const char *want, bool keep)
{
	struct sse_event_copy ev;
	next_ev(c, &ev);
	assert_false(ev.has_id); /* SSE-9: only message events carry id: */
	it_norm_ago(ev.data, 10000);
	if (strcmp(ev.data, want) != 0)
		fail_msg("event differs\n got: %s\nwant: %s", ev.data, want);
	char *d = keep ? strdup(ev.data) : NULL;
	sse_event_copy_free(&ev);
	return d;
}

/* The next event must be message m with "id: <seq>". */
static void expect_msg(struct sse_conn *c, const struct it_msg *m)
{
	struct sse_event_copy ev;
	char id[32];
	next_ev(c, &ev);
	snprintf(id, sizeof(id), "%lld", (long long)m->seq);
	assert_true(ev.has_id);
	assert_string_equal(ev.id, id);
	it_msg_check(ev.data, ev.data_len, m);
	sse_event_copy_free(&ev);
}

/* Read events until ready; returns the number of replayed message events before it and
 * stores their seqs. Asserts that ready comes with the given last_seq. */
static size_t until_ready(struct sse_conn *c, int64_t *seqs, size_t max, const char *room, int64_t last_seq)
{
	size_t n = 0;
	char pre[160];
	snprintf(pre, sizeof(pre), "{\"type\":\"ready\",\"roomId\":\"%s\",\"size\":", room);
	for (;;) {
		struct sse_event_copy ev;
		next_ev(c, &ev);
		if (!ev.has_id) {
			char ls[48];
			it_prefix(ev.data, pre);
			snprintf(ls, sizeof(ls), ",\"last_seq\":%lld,", (long long)last_seq);
			assert_non_null(strstr(ev.data, ls));
			sse_event_copy_free(&ev);
			return n;
		}
		if (n < max)
			seqs[n] = strtoll(ev.id, NULL, 10);
		n++;
		sse_event_copy_free(&ev);
	}
}

/* SSE-9: the decoded stream so far is exactly a sequence of blocks "id: <seq>\ndata: <json>\n\n"
 * (message events, seq equal to the JSON's) or "data: <json>\n\n" (all other types), with
 * comments (": keepalive\n\n") allowed in between. Returns the number of events. */
static size_t check_framing(struct sse_conn *c)
{
	size_t len, n = 0;
	const char *raw = sse_conn_raw(c, &len), *p = raw, *end = raw + len;
	while (p < end) {
		const char *blk = strstr(p, "\n\n");
		if (!blk)
			fail_msg("trailing partial block: %.200s", p);
		if (*p == ':') {
			p = blk + 2;
			continue;
		}
		long long id = -1;
		if (strncmp(p, "id: ", 4) == 0) {
			char *e;
			id = strtoll(p + 4, &e, 10);
			if (*e != '\n')
				fail_msg("bad id line: %.60s", p);
			p = e + 1;
		}
		if (strncmp(p, "data: {", 7) != 0)
			fail_msg("want a data line: %.100s", p);
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_ptr_equal(nl, blk); /* one data line per event */
		static const char mpre[] = "data: {\"type\":\"message\",\"seq\":";
		bool msg = strncmp(p, mpre, sizeof(mpre) - 1) == 0;
		if (msg != (id >= 0))
			fail_msg("id line iff message event: %.100s", p);
		if (msg)
			assert_int_equal(strtoll(p + sizeof(mpre) - 1, NULL, 10), id);
		n++;
		p = blk + 2;
	}
	return n;
}

/* ---- headers and errors ------------------------------------------------------------------------ */

/* SSE-1, SSE-3, HDR-1. */
static void test_headers_and_bad_room(void **state)
{
	struct sse_conn *c = open_sse(&rp, "/api/rooms/abc/events", NULL, NULL, 400);
	size_t len;
	assert_string_equal(sse_conn_raw(c, &len), "{\"error\":\"bad roomId\"}");
	assert_true(sse_conn_header(c, "Content-Type", &len) != NULL);
	assert_int_equal(strncmp(sse_conn_header(c, "Content-Type", NULL), "application/json; charset=utf-8", len), 0);
	sse_close(c);

	c = open_sse(&rp, "/api/rooms/HEADERS1/events", NULL, NULL, 200);
	static const struct { const char *name, *value; } h[] = {
		{"Content-Type", "text/event-stream"},
		{"Cache-Control", "no-cache, no-transform"},
		{"Connection", "keep-alive"},
		{"X-Accel-Buffering", "no"},
		{"Transfer-Encoding", "chunked"},
		{"X-Content-Type-Options", "nosniff"},
		{"Referrer-Policy", "no-referrer"},
		{"X-Frame-Options", "DENY"},
		{"Permissions-Policy", "clipboard-read=(self), clipboard-write=(self)"},
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		const char *v = sse_conn_header(c, h[i].name, &len);
		if (!v || len != strlen(h[i].value) || memcmp(v, h[i].value, len) != 0)
			fail_msg("header %s: %.*s", h[i].name, v ? (int)len : 6, v ? v : "absent");
	}
	assert_non_null(sse_conn_header(c, "Content-Security-Policy", NULL));
	assert_null(sse_conn_header(c, "Content-Length", NULL));
	assert_null(sse_conn_header(c, "Retry-After", NULL));
	assert_true(sse_conn_chunked(c));
	/* an empty room: ready, then presence, nothing else */
	expect_ev(c, "{\"type\":\"ready\",\"roomId\":\"HEADERS1\",\"size\":1,\"last_seq\":0,\"participants\":[]}", false);
	expect_ev(c, "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[]}", false);
	sse_close(c);
}

/* ---- order and presence ------------------------------------------------------------------------ */

/* SSE-7/8/9/10, PRES-1..3, INV-5. */
static void test_replay_ready_presence(void **state)
{
	struct it_msg m[4];
	char want[1024];
	it_send(hc, &rp, "ORDER001", key, "zero", "", &m[0]);
	it_send(hc, &rp, "ORDER001", key, "one", ",\"sender\":\"bob\"", &m[1]);
	m[1].sj = "bob";
	it_send(hc, &rp, "ORDER001", key, "two", ",\"reply_to\":\"ABCDEFGH\"", &m[2]);
	m[2].tail = ",\"reply_to\":\"ABCDEFGH\"";

	struct sse_conn *a = open_sse(&rp, "/api/rooms/ORDER001/events?name=alice", NULL, NULL, 200);
	for (int i = 0; i < 3; i++)
		expect_msg(a, &m[i]);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"ORDER001\",\"size\":1,\"last_seq\":%lld,\"participants\":[]}",
		 (long long)m[2].seq);
	expect_ev(a, want, false);
	expect_ev(a, "{\"type\":\"presence\",\"size\":1,\"names\":[\"alice\"],\"participants\":[{\"name\":\"alice\",\"last_seen_ms_ago\":0}]}", false);

	/* a second subscriber: ready lists the others only; the presence goes to both, as one text */
	struct sse_conn *b = open_sse(&rp, "/api/rooms/ORDER001/events?name=bob&box_pub=" BOX1, NULL, NULL, 200);
	for (int i = 0; i < 3; i++)
		expect_msg(b, &m[i]);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"ORDER001\",\"size\":2,\"last_seq\":%lld,"
		 "\"participants\":[{\"name\":\"alice\",\"last_seen_ms_ago\":0}]}", (long long)m[2].seq);
	expect_ev(b, want, false);
	const char *pres2 = "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob\"],\"participants\":["
			    "{\"name\":\"alice\",\"last_seen_ms_ago\":0},{\"name\":\"bob\",\"box_pub\":\"" BOX1 "\",\"last_seen_ms_ago\":0}]}";
	expect_ev(b, pres2, false);
	expect_ev(a, pres2, false);

	/* live: both get the message with its id line (ROOM-16: the poster's own stream too) */
	it_send(hc, &rp, "ORDER001", key, "three", "", &m[3]);
	expect_msg(a, &m[3]);
	expect_msg(b, &m[3]);

	/* SSE-9 exactly on the wire: 3 replayed messages, ready, 2 presences, 1 live message */
	struct sse_event_copy ev;
	assert_int_equal(sse_next(a, &ev, 0), 0); /* nothing else pending */
	assert_int_equal(check_framing(a), 7);

	/* unnamed and invalid names count only in size (SSE-5, PRES-3) */
	struct sse_conn *u = open_sse(&rp, "/api/rooms/ORDER001/events?after=999999999999999&name=has%20space&box_pub=short", NULL, NULL, 200);
	const char *parts = "\"participants\":[{\"name\":\"alice\",\"last_seen_ms_ago\":0},"
			    "{\"name\":\"bob\",\"box_pub\":\"" BOX1 "\",\"last_seen_ms_ago\":0}]}";
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"ORDER001\",\"size\":3,\"last_seq\":%lld,%s",
		 (long long)m[3].seq, parts);
	expect_ev(u, want, false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":3,\"names\":[\"alice\",\"bob\"],%s", parts);
	expect_ev(u, want, false);
	expect_ev(a, want, false);
	/* a repeated name parameter is not a single value: ignored (SSE-5) */
	struct sse_conn *d = open_sse(&rp, "/api/rooms/ORDER001/events?after=999999999999999&name=x1&name=x2", NULL, NULL, 200);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"ORDER001\",\"size\":4,\"last_seq\":%lld,%s",
		 (long long)m[3].seq, parts);
	expect_ev(d, want, false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":4,\"names\":[\"alice\",\"bob\"],%s", parts);
	expect_ev(d, want, false);
	/* a second "alice": counted in size, listed once, at the first alice's place (PRES-2/3) */
	struct sse_conn *e = open_sse(&rp, "/api/rooms/ORDER001/events?after=999999999999999&name=alice", NULL, NULL, 200);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"ORDER001\",\"size\":5,\"last_seq\":%lld,%s",
		 (long long)m[3].seq, parts);
	expect_ev(e, want, false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":5,\"names\":[\"alice\",\"bob\"],%s", parts);
	expect_ev(e, want, false);
	sse_close(d);
	sse_close(e);
	for (int i = 0; i < 4; i++)
		it_msg_free(&m[i]);
	sse_close(a);
	sse_close(b);
	sse_close(u);
}

/* ---- resume (SSE-6, SSE-7, NUM-1) ------------------------------------------------------------- */

static void test_resume_precedence(void **state)
{
	int64_t s[3];
	for (int i = 0; i < 3; i++)
		s[i] = it_send(hc, &rp, "RESUME01", key, "r", "", NULL);
	char q[16][96], h[16][64];
	int first[16];
	int k = 0;
#define CASE(query_fmt, qv, hdr_fmt, hv, f) do { \
		snprintf(q[k], sizeof(q[k]), query_fmt, (long long)(qv)); \
		snprintf(h[k], sizeof(h[k]), hdr_fmt, (long long)(hv)); \
		first[k++] = (f); \
	} while (0)
	CASE("%.0lld", 0LL, "%.0lld", 0LL, 0);                                  /* nothing: 0 */
	CASE("?after=%lld", s[0], "%.0lld", 0LL, 1);
	CASE("?after=%lld&last_event_id=1", s[0], "Last-Event-ID: %lld", s[1], 1); /* after wins */
	CASE("?after=abc%.0lld", 0LL, "Last-Event-ID: %lld", s[1], 0);          /* present, NaN -> 0 */
	CASE("?after=%.0lld", 0LL, "Last-Event-ID: %lld", s[1], 0);             /* present, empty */
	CASE("?after=-5%.0lld", 0LL, "%.0lld", 0LL, 0);
	CASE("%.0lld", 0LL, "Last-Event-ID: %lld", s[1], 2);                    /* header */
	CASE("?last_event_id=%lld", s[0], "Last-Event-ID: %lld", s[1], 2);      /* header beats param */
	CASE("?last_event_id=%lld", s[0], "%.0lld", 0LL, 1);                    /* param */
	CASE("?last_event_id=%lld", s[2], "%.0lld", 0LL, 3);
	CASE("?after=%lld", s[2], "%.0lld", 0LL, 3);
	CASE("?after=99999999999999999999%.0lld", 0LL, "%.0lld", 0LL, 3);       /* saturates */
	CASE("?after=%lld&after=0", s[1], "%.0lld", 0LL, 2);                    /* HTTP-8: first */
	CASE("%.0lld", 0LL, "Last-Event-ID: %lldxyz", s[0], 1);                 /* P(s) */
	CASE("?name=x&last_event_id=%lld", s[1], "Last-Event-ID;%.0lld", 0LL, 0); /* empty header present */
#undef CASE
	for (int c = 0; c < k; c++) {
		char path[2048];
		int64_t got[8];
		snprintf(path, sizeof(path), "/api/rooms/RESUME01/events%s", q[c]);
		struct sse_conn *sc = open_sse(&rp, path, h[c][0] ? h[c] : NULL, NULL, 200);
		size_t n = until_ready(sc, got, 8, "RESUME01", s[2]);
		if (n != (size_t)(3 - first[c]))
			fail_msg("case %d (%s | %s): replayed %zu, want %d", c, q[c], h[c], n, 3 - first[c]);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(got[i], s[first[c] + (int)i]);
		sse_close(sc);
	}
}

/* ---- raw chunk framing (SSE-3, SSE-12) --------------------------------------------------------- */

struct raw_sse {
	int fd;
	struct cbuf in;            /* undecoded bytes */
	bool headers;              /* the header block was consumed */
	struct chunked_dec dec;
	struct cbuf chunk;         /* data of the chunk being received */
	struct cbuf body;          /* all decoded data */
	uint64_t chunks, split;    /* chunks, and chunks not ending at an event boundary */
	size_t keepalives;
	int64_t first_ka_ms;       /* monotonic, 0 until seen */
};

static int raw_chunk_cb(void *ud, const char *data, size_t n, bool chunk_end)
{
	struct raw_sse *r = ud;
	if (n && cbuf_add(&r->chunk, data, n) < 0)
		return -1;
	if (!chunk_end)
		return 0;
	r->chunks++;
	/* SSE-12: a chunk holds whole events only (and the stream before it ended on one) */
	if (r->chunk.len < 2 || memcmp(r->chunk.p + r->chunk.len - 2, "\n\n", 2) != 0)
		r->split++;
	if (r->chunk.len == strlen(SSE_KEEPALIVE) && memcmp(r->chunk.p, SSE_KEEPALIVE, r->chunk.len) == 0) {
		r->keepalives++;
		if (!r->first_ka_ms)
			r->first_ka_ms = clock_mono_ms();
	}
	if (cbuf_add(&r->body, r->chunk.p, r->chunk.len) < 0)
		return -1;
	cbuf_reset(&r->chunk);
	return 0;
}

static void raw_open(struct raw_sse *r, const struct relay_proc *rl, const char *path)
{
	char req[512];
	memset(r, 0, sizeof(*r));
	cbuf_init(&r->in, 1u << 20);
	cbuf_init(&r->chunk, 8u << 20);
	cbuf_init(&r->body, 64u << 20);
	chunked_init(&r->dec);
	r->fd = raw_connect("127.0.0.1", rl->port, NULL, 5000);
	assert_true(r->fd >= 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n", path);
	assert_int_equal(raw_sends(r->fd, req, clock_mono_ms() + 5000), 0);
}

/* Read what arrives until deadline (monotonic ms) or until the decoded body holds `want`
 * occurrences of needle (needle NULL: read until the deadline). */
static void raw_pump(struct raw_sse *r, int64_t deadline, const char *needle, size_t want)
{
	enum { BUF = 65536 };
	char *buf = malloc(BUF); /* nothing big on the stack */
	assert_non_null(buf);
	for (;;) {
		if (needle && it_count(r->body.p ? r->body.p : "", needle) >= want)
			break;
		int64_t left = deadline - clock_mono_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = r->fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		ssize_t n = recv(r->fd, buf, BUF, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			fail_msg("stream closed");
		assert_int_equal(cbuf_add(&r->in, buf, (size_t)n), 0);
		if (!r->headers) {
			char *e = r->in.p ? strstr(r->in.p, "\r\n\r\n") : NULL;
			if (!e)
				continue;
			it_prefix(r->in.p, "HTTP/1.1 200 OK\r\n");
			assert_non_null(strcasestr(r->in.p, "\r\nTransfer-Encoding: chunked\r\n"));
			cbuf_consume(&r->in, (size_t)(e + 4 - r->in.p));
			r->headers = true;
		}
		ssize_t used = chunked_feed(&r->dec, r->in.p, r->in.len, raw_chunk_cb, r);
		if (used < 0)
			fail_msg("bad chunked framing: %s", r->dec.error ? r->dec.error : "?");
		cbuf_consume(&r->in, (size_t)used);
		assert_false(r->dec.done); /* the relay never ends a healthy stream (SSE-13) */
	}
	free(buf);
}

static void raw_close(struct raw_sse *r)
{
	close(r->fd);
	cbuf_free(&r->in);
	cbuf_free(&r->chunk);
	cbuf_free(&r->body);
}

/* SSE-12: every chunk holds whole events, and every event is flushed at once: each POST's
 * event is readable right after the POST answered, also in bursts. */
static void test_chunked_framing(void **state)
{
	struct raw_sse r;
	for (int i = 0; i < 5; i++)
		it_send(hc, &rp, "CHUNK001", key, "before", "", NULL);
	raw_open(&r, &rp, "/api/rooms/CHUNK001/events?name=raw");
	raw_pump(&r, clock_mono_ms() + 5000, "\"type\":\"presence\"", 1);
	assert_int_equal(it_count(r.body.p, "id: "), 5);
	assert_int_equal(it_count(r.body.p, "\"type\":\"ready\""), 1);
	/* one at a time: no event is held back */
	for (int i = 0; i < 20; i++) {
		int64_t seq = it_send(hc, &rp, "CHUNK001", key, "one by one", "", NULL);
		char idl[40];
		snprintf(idl, sizeof(idl), "id: %lld\n", (long long)seq);
		raw_pump(&r, clock_mono_ms() + 2000, idl, 1);
		if (!strstr(r.body.p, idl))
			fail_msg("event %d not flushed within 2 s", i);
	}
	/* a burst from another connection, large events included */
	char *big = malloc(60000);
	assert_non_null(big);
	memset(big, 'x', 59999);
	big[59999] = '\0';
	for (int i = 0; i < 100; i++)
		it_send(hc, &rp, "CHUNK001", key, i % 10 ? "burst" : big, "", NULL);
	raw_pump(&r, clock_mono_ms() + 10000, "id: ", 125);
	assert_int_equal(it_count(r.body.p, "id: "), 125);
	assert_true(r.chunks >= 2);
	assert_int_equal(r.split, 0);
	assert_int_equal(r.chunk.len, 0); /* nothing left half-sent */
	raw_close(&r);
	free(big);
}

/* ---- keepalive (SSE-11) and dead peers (SSE-14) ---------------------------------------------- */

static void test_keepalive(void **state)
{
	struct raw_sse r;
	int64_t t0 = clock_mono_ms();
	raw_open(&r, &ka, "/api/rooms/KEEPALV1/events");
	raw_pump(&r, t0 + 5000, "\"type\":\"presence\"", 1);
	/* first tick one period after connect, then one per period; each is its own chunk */
	raw_pump(&r, t0 + 10 * KA_MS + KA_MS / 2, NULL, 0);
	assert_true(r.first_ka_ms - t0 >= KA_MS - 50);
	assert_true(r.first_ka_ms - t0 <= KA_MS + 1000);
	if (r.keepalives < 8 || r.keepalives > 11)
		fail_msg("%zu keepalives in %d ms at %d ms", r.keepalives, 10 * KA_MS + KA_MS / 2, KA_MS);
	assert_int_equal(it_count(r.body.p, SSE_KEEPALIVE), r.keepalives);
	assert_int_equal(r.split, 0);
	raw_close(&r);

	/* SSE-11/14: a peer gone away is found by the keepalive write and removed, with presence */
	struct sse_conn *a = open_sse(&ka, "/api/rooms/KEEPALV2/events?name=alice", NULL, NULL, 200);
	expect_ev(a, "{\"type\":\"ready\",\"roomId\":\"KEEPALV2\",\"size\":1,\"last_seq\":0,\"participants\":[]}", false);
	expect_ev(a, "{\"type\":\"presence\",\"size\":1,\"names\":[\"alice\"],\"participants\":[{\"name\":\"alice\",\"last_seen_ms_ago\":0}]}", false);
	struct sse_conn *b = open_sse(&ka, "/api/rooms/KEEPALV2/events?name=bob", NULL, NULL, 200);
	expect_ev(a, "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"bob\"],\"participants\":[{\"name\":\"alice\",\"last_seen_ms_ago\":0},{\"name\":\"bob\",\"last_seen_ms_ago\":0}]}", false);
	int64_t t1 = clock_mono_ms();
	sse_close(b);
	expect_ev(a, "{\"type\":\"presence\",\"size\":1,\"names\":[\"alice\"],\"participants\":[{\"name\":\"alice\",\"last_seen_ms_ago\":0}]}", false);
	assert_true(clock_mono_ms() - t1 < 4 * KA_MS + 1000);
	struct http_resp st;
	it_get(hc, &ka, "/api/rooms/KEEPALV2/status", &st);
	it_prefix(st.body, "{\"exists\":true,\"roomId\":\"KEEPALV2\",\"participants\":1,");
	http_resp_free(&st);
	sse_close(a);
}

/* ---- presence with heartbeats (PRES-1..3, ROOM-LISTEN-3) -------------------------------------- */

static void listen_ok(const char *room, const char *body)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/rooms/%s/listening", room);
	it_expect_post(hc, &rp, path, body, 200, "{\"ok\":true}", 0);
}

static void test_presence_heartbeats(void **state)
{
	const char *A = "{\"name\":\"alice\",\"last_seen_ms_ago\":0}";
	char want[1024];
	struct sse_conn *a = open_sse(&rp, "/api/rooms/PRES0001/events?name=alice", NULL, NULL, 200);
	expect_ev(a, "{\"type\":\"ready\",\"roomId\":\"PRES0001\",\"size\":1,\"last_seq\":0,\"participants\":[]}", false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":1,\"names\":[\"alice\"],\"participants\":[%s]}", A);
	expect_ev(a, want, false);
	struct sse_conn *u = open_sse(&rp, "/api/rooms/PRES0001/events", NULL, NULL, 200);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\"],\"participants\":[%s]}", A);
	expect_ev(a, want, false);

	/* a heartbeat joins participants after the subscribers, as {name,last_seen_ms_ago[,box_pub]} */
	listen_ok("PRES0001", "{\"name\":\"carol\",\"box_pub\":\"" BOX2 "\"}");
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\"],\"participants\":[%s,"
		 "{\"name\":\"carol\",\"last_seen_ms_ago\":0,\"box_pub\":\"" BOX2 "\"}]}", A);
	expect_ev(a, want, false);
	/* a heartbeat under a subscriber's name is not listed again */
	listen_ok("PRES0001", "{\"name\":\"alice\",\"box_pub\":\"" BOX1 "\"}");
	expect_ev(a, want, false);
	/* a new heartbeat replaces the record: no box_pub now */
	listen_ok("PRES0001", "{\"name\":\"carol\"}");
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\"],\"participants\":[%s,"
		 "{\"name\":\"carol\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	listen_ok("PRES0001", "{\"name\":\"dave\",\"box_pub\":\"bogus\"}"); /* bad box_pub dropped */
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\"],\"participants\":[%s,"
		 "{\"name\":\"carol\",\"last_seen_ms_ago\":0},{\"name\":\"dave\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);

	/* dave subscribes: his ready still lists his heartbeat (he is not in yet); afterwards the
	 * subscriber entry replaces it, in subscription order before the heartbeats */
	struct sse_conn *d = open_sse(&rp, "/api/rooms/PRES0001/events?name=dave", NULL, NULL, 200);
	snprintf(want, sizeof(want), "{\"type\":\"ready\",\"roomId\":\"PRES0001\",\"size\":3,\"last_seq\":0,\"participants\":[%s,"
		 "{\"name\":\"carol\",\"last_seen_ms_ago\":0},{\"name\":\"dave\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(d, want, false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":3,\"names\":[\"alice\",\"dave\"],\"participants\":[%s,"
		 "{\"name\":\"dave\",\"last_seen_ms_ago\":0},{\"name\":\"carol\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(d, want, false);
	expect_ev(a, want, false);
	/* heartbeats are not participants in /status (ROOM-STATUS-2) */
	struct http_resp r;
	it_get(hc, &rp, "/api/rooms/PRES0001/status", &r);
	it_prefix(r.body, "{\"exists\":true,\"roomId\":\"PRES0001\",\"participants\":3,\"recent_count\":0,\"last_seq\":0,");
	http_resp_free(&r);
	/* exactly one presence per heartbeat: the next event after one more is that presence */
	struct sse_event_copy ev;
	assert_int_equal(sse_next_event(a, &ev, 0), 0);
	sse_close(a);
	sse_close(u);
	sse_close(d);
}

/* ROOM-LISTEN-4 / CAP-13: at LISTENERS_MAX_PER_ROOM heartbeats a new name evicts the stalest. */
static void test_heartbeat_cap(void **state)
{
	struct relay_proc lc;
	const char *args[] = {"--worker-threads", "32", "--worker-reserve", "8", "--listeners-max-per-room", "2", NULL};
	it_start(&lc, args);
	struct sse_conn *c = open_sse(&lc, "/api/rooms/HBCAP001/events", NULL, NULL, 200);
	expect_ev(c, "{\"type\":\"ready\",\"roomId\":\"HBCAP001\",\"size\":1,\"last_seq\":0,\"participants\":[]}", false);
	expect_ev(c, "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[]}", false);
	static const char *const names[] = {"aa", "bb", "aa", "cc"};
	for (int i = 0; i < 4; i++) {
		char body[64];
		snprintf(body, sizeof(body), "{\"name\":\"%s\"}", names[i]);
		it_expect_post(hc, &lc, "/api/rooms/HBCAP001/listening", body, 200, "{\"ok\":true}", 0);
		it_nap_ms(3); /* distinct last_seen values */
	}
#define HB(n) "{\"name\":\"" n "\",\"last_seen_ms_ago\":0}"
	const char *a = HB("aa"), *b = HB("bb"), *cc = HB("cc");
#undef HB
	char want[512];
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[%s]}", a);
	expect_ev(c, want, false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[%s,%s]}", a, b);
	expect_ev(c, want, false);
	expect_ev(c, want, false); /* aa refreshed: bb is now the stalest */
	/* cc evicts bb; the heartbeat order is not specified, so accept either */
	struct sse_event_copy ev;
	next_ev(c, &ev);
	it_norm_ago(ev.data, 10000);
	char w1[512], w2[512];
	snprintf(w1, sizeof(w1), "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[%s,%s]}", a, cc);
	snprintf(w2, sizeof(w2), "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[%s,%s]}", cc, a);
	if (strcmp(ev.data, w1) != 0 && strcmp(ev.data, w2) != 0)
		fail_msg("want aa and cc only, got %s", ev.data);
	sse_event_copy_free(&ev);
	sse_close(c);
	assert_int_equal(relay_stop(&lc), 0);
}

/* ---- rename (WS-9 hello, PRES-5) seen from SSE -------------------------------------------------- */

static struct ws_conn *ws_open(const struct relay_proc *r, const char *path, const char *hdr)
{
	char url[512];
	const char *hdrs[2] = {hdr, NULL};
	struct ws_conn *w = NULL;
	int status = 0;
	it_url(url, sizeof(url), r, path);
	if (ws_connect(url, hdrs, NULL, 5000, &w, &status, NULL) != 0)
		fail_msg("ws_connect %s: status %d", path, status);
	return w;
}

static void ws_text(struct ws_conn *w, const char *s)
{
	assert_int_equal(ws_send_text(w, s, strlen(s)), 0);
}

static void test_rename_via_ws(void **state)
{
	const char *A = "{\"name\":\"alice\",\"last_seen_ms_ago\":0}";
	char want[1024];
	struct sse_conn *a = open_sse(&rp, "/api/rooms/RENAME01/events?name=alice", NULL, NULL, 200);
	expect_ev(a, "{\"type\":\"ready\",\"roomId\":\"RENAME01\",\"size\":1,\"last_seq\":0,\"participants\":[]}", false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":1,\"names\":[\"alice\"],\"participants\":[%s]}", A);
	expect_ev(a, want, false);

	struct ws_conn *w = ws_open(&rp, "/api/rooms/RENAME01/ws?name=dave", NULL);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"dave\"],\"participants\":[%s,"
		 "{\"name\":\"dave\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	ws_text(w, "{\"type\":\"hello\",\"name\":\"dave2\"}");
	expect_ev(a, "{\"type\":\"rename\",\"from\":\"dave\",\"to\":\"dave2\"}", false);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"dave2\"],\"participants\":[%s,"
		 "{\"name\":\"dave2\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	/* the same name again: presence only; box_pub set, then cleared with null */
	ws_text(w, "{\"type\":\"hello\",\"name\":\"dave2\"}");
	expect_ev(a, want, false);
	ws_text(w, "{\"type\":\"hello\",\"name\":\"dave2\",\"box_pub\":\"" BOX1 "\"}");
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"dave2\"],\"participants\":[%s,"
		 "{\"name\":\"dave2\",\"box_pub\":\"" BOX1 "\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	ws_text(w, "{\"type\":\"hello\",\"name\":\"dave2\",\"box_pub\":7}"); /* anything else: keep */
	expect_ev(a, want, false);
	ws_text(w, "{\"type\":\"hello\",\"name\":\"dave2\",\"box_pub\":null}");
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"dave2\"],\"participants\":[%s,"
		 "{\"name\":\"dave2\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	/* an invalid name ignores the whole frame; a listening frame does nothing: the next event
	 * on the SSE side is the message sent after them */
	ws_text(w, "{\"type\":\"hello\",\"name\":\"bad name\"}");
	ws_text(w, "{\"type\":\"listening\"}");
	struct it_msg m;
	memset(&m, 0, sizeof(m));
	char *body = it_sealed_body(key, "via ws", "", &m);
	m.t0 = clock_now_ms();
	ws_text(w, body);
	struct sse_event_copy ev;
	next_ev(a, &ev);
	m.t1 = clock_now_ms();
	assert_true(ev.has_id);
	m.seq = strtoll(ev.id, NULL, 10);
	cJSON *j = it_json(ev.data);
	snprintf(m.id, sizeof(m.id), "%s", cJSON_GetObjectItemCaseSensitive(j, "id")->valuestring);
	cJSON_Delete(j);
	m.sj = "user"; /* ROOM-14: the WS default label */
	it_msg_check(ev.data, ev.data_len, &m);
	sse_event_copy_free(&ev);
	free(body);
	it_msg_free(&m);

	/* an unnamed subscriber's first hello is not a rename */
	struct ws_conn *w2 = ws_open(&rp, "/api/rooms/RENAME01/ws", NULL);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":3,\"names\":[\"alice\",\"dave2\"],\"participants\":[%s,"
		 "{\"name\":\"dave2\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	ws_text(w2, "{\"type\":\"hello\",\"name\":\"eve\"}");
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":3,\"names\":[\"alice\",\"dave2\",\"eve\"],\"participants\":[%s,"
		 "{\"name\":\"dave2\",\"last_seen_ms_ago\":0},{\"name\":\"eve\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	/* WS-18: a closed socket leaves with a presence broadcast */
	assert_int_equal(ws_close(w, 1000), 1000);
	snprintf(want, sizeof(want), "{\"type\":\"presence\",\"size\":2,\"names\":[\"alice\",\"eve\"],\"participants\":[%s,"
		 "{\"name\":\"eve\",\"last_seen_ms_ago\":0}]}", A);
	expect_ev(a, want, false);
	ws_free(w2);
	sse_close(a);
}

/* ---- stream cap (CAP-1, SSE-2, WS-5 (1), IP-1, IP-2, CAP-15) ---------------------------------- */

struct reopen {
	const char *xff;
	struct sse_conn *got;
};

static bool try_reopen(void *arg)
{
	struct reopen *ro = arg;
	char url[256];
	const char *hdrs[] = {ro->xff, NULL};
	it_send(hc, &rp, "CAPS0001", key, "poke", "", NULL); /* a write finds closed peers */
	it_url(url, sizeof(url), &rp, "/api/rooms/CAPS0001/events?after=999999999999999");
	struct sse_conn *c = sse_open(url, hdrs, NULL, 5000);
	if (c && sse_conn_status(c) == 200) {
		ro->got = c;
		return true;
	}
	sse_close(c);
	return false;
}

static void test_stream_cap(void **state)
{
	enum { CAP = 32 };
	const char *ip1 = "X-Forwarded-For: 10.2.0.1";
	struct sse_conn *s[CAP];
	for (int i = 0; i < CAP; i++)
		s[i] = open_sse(&rp, "/api/rooms/CAPS0001/events?after=999999999999999", ip1, NULL, 200);
	struct sse_conn *over = open_sse(&rp, "/api/rooms/CAPS0001/events", ip1, NULL, 429);
	size_t len;
	assert_string_equal(sse_conn_raw(over, &len), "{\"error\":\"too many concurrent streams from this IP\"}");
	const char *ra = sse_conn_header(over, "Retry-After", &len);
	assert_true(ra && len == 1 && ra[0] == '5');
	sse_close(over);
	/* IP-1: the right-most non-loopback XFF entry is the client; another IP is not capped */
	struct sse_conn *other = open_sse(&rp, "/api/rooms/CAPS0001/events", "X-Forwarded-For: 10.2.0.1, 10.2.0.2", NULL, 200);
	/* WebSocket streams count against the same cap (IP-2: last XFF entry, or CF-Connecting-IP) */
	static const char *const wsh[] = {"X-Forwarded-For: 10.2.0.9, 10.2.0.1", "CF-Connecting-IP: 10.2.0.1"};
	for (int i = 0; i < 2; i++) {
		struct ws_conn *w = ws_open(&rp, "/api/rooms/CAPS0001/ws", wsh[i]);
		struct ws_msg wm;
		assert_int_equal(ws_recv(w, &wm, 5000), WS_RECV_TEXT);
		assert_string_equal(wm.data, "{\"type\":\"error\",\"code\":429,\"error\":\"too many concurrent streams from this IP\"}");
		ws_msg_free(&wm);
		assert_int_equal(ws_recv(w, &wm, 5000), WS_RECV_CLOSE);
		assert_int_equal(wm.close_code, 1005);
		ws_msg_free(&wm);
		ws_free(w);
	}
	/* closing two streams frees exactly two slots once the relay notices (a write fails) */
	sse_close(s[0]);
	sse_close(s[1]);
	s[1] = NULL;
	struct reopen ro = {ip1, NULL};
	assert_true(it_poll_every(try_reopen, &ro, 10000, 20));
	s[0] = ro.got;
	struct ws_conn *w = NULL;
	int64_t deadline = clock_mono_ms() + 10000;
	for (;;) { /* the second slot: a WebSocket takes it */
		it_send(hc, &rp, "CAPS0001", key, "poke", "", NULL);
		w = ws_open(&rp, "/api/rooms/CAPS0001/ws?after=999999999999999", ip1);
		struct ws_msg wm;
		assert_int_equal(ws_recv(w, &wm, 5000), WS_RECV_TEXT);
		bool ok = strncmp(wm.data, "{\"type\":\"ready\",", 16) == 0;
		ws_msg_free(&wm);
		if (ok)
			break;
		ws_free(w);
		w = NULL;
		if (clock_mono_ms() > deadline)
			fail_msg("the second freed slot never came back");
		it_nap_ms(20);
	}
	over = open_sse(&rp, "/api/rooms/CAPS0001/events", ip1, NULL, 429);
	sse_close(over);
	ws_free(w);
	sse_close(other);
	for (int i = 0; i < CAP; i++)
		sse_close(s[i]);
	/* the flag sets the cap (CFG-1) */
	struct relay_proc c2;
	const char *args[] = {"--worker-threads", "32", "--worker-reserve", "8", "--stream-cap-per-ip", "2", NULL};
	it_start(&c2, args);
	struct sse_conn *x1 = open_sse(&c2, "/api/rooms/CAPS0002/events", ip1, NULL, 200);
	struct sse_conn *x2 = open_sse(&c2, "/api/rooms/CAPS0002/events", ip1, NULL, 200);
	struct sse_conn *x3 = open_sse(&c2, "/api/rooms/CAPS0002/events", ip1, NULL, 429);
	sse_close(x1);
	sse_close(x2);
	sse_close(x3);
	assert_int_equal(relay_stop(&c2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_and_bad_room),
		cmocka_unit_test(test_replay_ready_presence),
		cmocka_unit_test(test_resume_precedence),
		cmocka_unit_test(test_chunked_framing),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_presence_heartbeats),
		cmocka_unit_test(test_heartbeat_cap),
		cmocka_unit_test(test_rename_via_ws),
		cmocka_unit_test(test_stream_cap),
	};
	return cmocka_run_group_tests_name("it_sse", tests, setup, teardown);
}
