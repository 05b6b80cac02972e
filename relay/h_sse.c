/* h_sse.c — GET /api/rooms/{roomId}/events (§7). The handler thread is the subscriber's
 * writer: it waits on the room and writes its own batched frames, so a peer that stops
 * reading only ever blocks this thread (DESIGN.md 6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "handlers.h"
#include "hub.h"
#include "ipcount.h"
#include "metrics.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/num.h"
#include "proto/valid.h"
#include "relay.h"

#define BATCH_BYTES (64 * 1024) /* flush threshold */
#define BATCH_KEEP (8 * 1024)   /* a buffer larger than this is freed after its flush */

/* Frames waiting to go out as one chunk. buf has STREAM_HEADROOM bytes before the frames and
 * 2 after them for the chunk framing (stream_chunk_framed). Idle streams hold at most
 * BATCH_KEEP bytes: with thousands of streams that is most of their memory. */
struct batch {
	char *buf;
	size_t len, cap;
};

static int batch_flush(struct req *r, struct batch *b)
{
	int rc = 0;
	if (b->len)
		rc = stream_chunk_framed(r, b->buf + STREAM_HEADROOM, b->len);
	b->len = 0;
	if (b->cap > BATCH_KEEP) {
		free(b->buf);
		b->buf = NULL;
		b->cap = 0;
	}
	return rc;
}

/* SSE-9: "id: <seq>\n" for messages (seq >= 0), then "data: <json>\n\n". */
static int batch_add_json(struct req *r, struct batch *b, int64_t seq, const char *json, size_t len)
{
	size_t need = len + 40;
	if (b->len && b->len + need > BATCH_BYTES && batch_flush(r, b))
		return -1;
	if (b->len + need > b->cap) {
		size_t nc = b->len + need;
		nc = nc < 1024 ? 1024 : nc + nc / 2;
		char *nb = realloc(b->buf, nc + STREAM_HEADROOM + 2);
		if (!nb)
			return -1;
		b->buf = nb;
		b->cap = nc;
	}
	if (!b->buf)
		return -1;
	char *p = b->buf + STREAM_HEADROOM + b->len;
	if (seq >= 0)
		p += snprintf(p, 32, "id: %lld\n", (long long)seq);
	memcpy(p, "data: ", 6);
	p += 6;
	memcpy(p, json, len);
	p += len;
	memcpy(p, "\n\n", 2);
	p += 2;
	b->len = (size_t)(p - (b->buf + STREAM_HEADROOM));
	return 0;
}

static int batch_add(struct req *r, struct batch *b, const struct event *e)
{
	return batch_add_json(r, b, e->type == EV_MESSAGE ? e->seq : -1, e->json, e->len);
}

static int64_t resume_point(const struct req *r)
{
	const char *v;
	size_t len;
	if (fault_on(FAULT_IGNORE_AFTER))
		return 0;
	/* SSE-6: after (whatever its value), else Last-Event-ID, else last_event_id, else 0 */
	if (query_first(&r->query, "after", &v, &len))
		return num_after(v, len);
	const char *h = req_header(r, "Last-Event-ID");
	if (h)
		return num_after(h, strlen(h));
	if (query_first(&r->query, "last_event_id", &v, &len))
		return num_after(v, len);
	return 0;
}

void h_room_events(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	if (!val_room_id(m->p1, m->p1_len)) {
		resp_error(r, 400, "bad roomId", 0); /* SSE-1 */
		return;
	}
	if (!ipc_take(relay->ipc, r->ip, IPC_STREAM, relay->cfg.stream_cap_per_ip)) {
		resp_error(r, 429, "too many concurrent streams from this IP", 5); /* SSE-2 */
		return;
	}
	if (!http_longlived_take(relay)) {
		ipc_release(relay->ipc, r->ip, IPC_STREAM);
		resp_error(r, 503, "server busy", 5); /* DESIGN.md 1: never civetweb's silent stall */
		return;
	}
	struct batch b = {0};
	struct join j;
	struct sub *s = NULL;
	bool capped;
	int64_t after = resume_point(r);
	if (stream_begin(r) < 0) /* SSE-3 */
		goto out;
	struct room *room = hub_get(relay->hub, m->p1, true, &capped);
	if (!room) { /* SSE-4 */
		static const char err[] = "data: {\"type\":\"error\",\"error\":\"room cap reached\"}\n\n";
		stream_chunk(r, err, sizeof(err) - 1);
		stream_end(r);
		goto out;
	}
	/* SSE-5: a single valid name / box_pub */
	const char *name = NULL, *box = NULL;
	size_t name_len = 0, box_len = 0;
	if (query_single(&r->query, "name", &name, &name_len))
		name_len = val_presence_name(name, name_len);
	if (!query_single(&r->query, "box_pub", &box, &box_len) || !b64_box_pub_ok(box, box_len))
		box_len = 0;

	s = room_join(relay->hub, room, SUB_SSE, after, name, name_len, box, box_len, &j);
	if (!s) {
		hub_release(relay->hub, room);
		stream_end(r);
		goto out;
	}
	/* SSE-7, SSE-8, SSE-10: replay, then ready; presence follows from the live chain */
	int rc = 0;
	bool ready_first = fault_on(FAULT_READY_BEFORE_REPLAY);
	for (size_t i = 0; i < j.nreplay && !rc && !ready_first; i++)
		rc = batch_add(r, &b, j.replay[i]);
	if (!rc)
		rc = batch_add_json(r, &b, -1, j.ready, j.ready_len); /* ready carries no id line */
	for (size_t i = 0; i < j.nreplay && !rc && ready_first; i++)
		rc = batch_add(r, &b, j.replay[i]);
	join_release(&j);
	if (!rc)
		rc = batch_flush(r, &b);

	int64_t keepalive = relay->cfg.keepalive_ms;
	int64_t next_ka = clock_mono_ms() + keepalive; /* SSE-11: first tick 15 s after connect */
	while (!rc) {
		struct event *first, *last;
		int got = room_next(room, s, next_ka, &first, &last);
		if (got < 0)
			break;
		if (got == 0) {
			if (clock_mono_ms() >= next_ka) {
				static const char ka[] = ": keepalive\n\n";
				if (!fault_on(FAULT_NO_KEEPALIVE))
					rc = stream_chunk(r, ka, sizeof(ka) - 1); /* a failed write: peer gone */
				next_ka += keepalive;
			}
			continue;
		}
		for (struct event *e = first; !rc; e = e->next) {
			rc = batch_add(r, &b, e);
			if (e == last)
				break;
		}
		if (!rc)
			rc = batch_flush(r, &b); /* SSE-12: flush as soon as produced */
		if (!rc)
			sub_touch(s); /* PRES-4: the last event written */
		sub_advance(room, s, last);
	}
	room_leave(relay->hub, room, s); /* SSE-14 */
	hub_release(relay->hub, room);
	if (!rc)
		stream_end(r);
out:
	free(b.buf);
	r->keep_alive = false;
	http_longlived_release(relay);
	ipc_release(relay->ipc, r->ip, IPC_STREAM);
}
