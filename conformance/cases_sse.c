/* sse.* — PROTOCOL.md §7: GET /api/rooms/{roomId}/events, framing, replay and resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "proto/json.h"

static struct sse_conn *open_room(struct conf_run *r, const char *room, const char *query,
				  const char *const *hdrs)
{
	char target[300];

	snprintf(target, sizeof(target), "/api/rooms/%s/events%s%s", room, query ? "?" : "",
		 query ? query : "");
	return conf_sse(r, target, hdrs);
}

static char *print(const cJSON *j)
{
	char *t = conf_jprint(j);

	return t ? t : strdup("(none)");
}

/* SSE-1: a bad room id. */
static void c_bad_room(struct conf_run *r)
{
	struct sse_conn *c = open_room(r, "x", NULL, NULL);
	size_t n;
	const char *body;

	if (!c)
		return;
	body = sse_conn_raw(c, &n);
	conf_got(r, "%ld %s", sse_conn_status(c), body);
	conf_check(r, sse_conn_status(c) == 400, 0, "SSE-1: a bad room id → 400");
	conf_check(r, body && strcmp(body, "{\"error\":\"bad roomId\"}") == 0, CK_SR,
		   "SSE-1: with body {\"error\":\"bad roomId\"}");
	sse_close(c);
}

/* SSE-3: the stream's headers, sent at once. */
static void c_headers(struct conf_run *r)
{
	static const struct {
		const char *name, *value;
	} want[] = {
		{ "Content-Type", "text/event-stream" },
		{ "Cache-Control", "no-cache, no-transform" },
		{ "Connection", "keep-alive" },
		{ "X-Accel-Buffering", "no" },
	};
	char room[16];
	struct sse_conn *c;
	size_t i, len;
	int64_t t0 = conf_now();

	conf_room_id(room);
	c = open_room(r, room, NULL, NULL);
	if (!c)
		return;
	conf_check(r, sse_conn_status(c) == 200 && conf_now() - t0 < conf_ms(r, 2000), 0,
		   "SSE-3: 200 headers at once");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const char *v = sse_conn_header(c, want[i].name, &len);

		conf_got(r, "%s: %.*s", want[i].name, v ? (int)len : 6, v ? v : "(none)");
		conf_check(r, v && len == strlen(want[i].value) && memcmp(v, want[i].value, len) == 0,
			   0, "SSE-3: %s: %s", want[i].name, want[i].value);
	}
	conf_check(r, sse_conn_chunked(c) && !sse_conn_header(c, "Content-Length", &len), 0,
		   "SSE-3: Transfer-Encoding: chunked, no Content-Length");
	sse_close(c);
}

/* SSE-4, INV-8: subscribing creates the room. */
static void c_create(struct conf_run *r)
{
	char room[16], target[160];
	struct sse_conn *c;
	cJSON *ready, *st;

	conf_room_id(room);
	c = open_room(r, room, NULL, NULL);
	if (!c)
		return;
	ready = conf_sse_until(c, "ready", conf_ms(r, 5000), NULL);
	conf_check(r, ready && conf_jint(ready, "last_seq", -1) == 0, 0,
		   "SSE-4/ROOM-8: a new room's ready has last_seq 0");
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	st = conf_get_json(r, target, NULL);
	conf_check(r, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "exists")) &&
			      conf_jint(st, "participants", -1) == 1 && conf_jint(st, "recent_count", -1) == 0,
		   0, "SSE-4: the event stream gets or creates the room (status exists:true, 1 "
		      "participant)");
	cJSON_Delete(ready);
	cJSON_Delete(st);
	sse_close(c);
}

/* SSE-5, B64-4, PRES-2: name and box_pub from the query. */
static void c_name(struct conf_run *r)
{
	static const char loose[] = "Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8";
	struct conf_room room;
	char q[200];
	struct sse_conn *c, *d;
	cJSON *pres;
	const cJSON *p0;
	char keys[128], *txt;

	conf_room_new(&room);
	snprintf(q, sizeof(q), "name=alice&box_pub=%s", loose);
	c = open_room(r, room.id, q, NULL);
	if (!c)
		return;
	pres = conf_sse_until(c, "presence", conf_ms(r, 5000), NULL);
	p0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(pres, "participants"), 0);
	txt = print(pres);
	conf_got(r, "%s", txt);
	free(txt);
	conf_check(r, p0 && conf_jstr(p0, "name") && strcmp(conf_jstr(p0, "name"), "alice") == 0 &&
			      conf_jstr(p0, "box_pub") && strcmp(conf_jstr(p0, "box_pub"), loose) == 0 &&
			      strcmp(conf_keys(p0, keys, sizeof(keys)), "name,box_pub,last_seen_ms_ago") == 0,
		   0, "SSE-5/PRES-2: ?name= and a box_pub_ok ?box_pub= give {name,box_pub,"
		      "last_seen_ms_ago} (box_pub unchanged)");
	cJSON_Delete(pres);
	d = open_room(r, room.id, "name=bad%20name&box_pub=AAAA", NULL);
	if (d) {
		cJSON_Delete(conf_sse_until(d, "ready", conf_ms(r, 5000), NULL));
		pres = conf_sse_until(d, "presence", conf_ms(r, 5000), NULL);
		txt = print(pres);
		conf_got(r, "%s", txt);
		free(txt);
		conf_check(r, pres && conf_jint(pres, "size", -1) == 2 &&
				      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pres, "names")) == 1,
			   0, "SSE-5: an invalid name is ignored (the subscriber is unnamed, counted "
			      "in size only)");
		cJSON_Delete(pres);
		sse_close(d);
	}
	sse_close(c);
}

/* SSE-7, SSE-8, SSE-10, CLIENT-1: replay, then ready, then presence. */
static void c_order(struct conf_run *r)
{
	enum { N = 5 };
	struct conf_room room;
	int64_t s[N];
	struct sse_conn *other, *c;
	cJSON *ev = NULL;
	int i, msgs = 0, bad = 0;
	char keys[160], *txt;

	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "o", s) != N)
		return;
	other = open_room(r, room.id, "after=999999999999999&name=other", NULL);
	if (!other)
		return;
	cJSON_Delete(conf_sse_until(other, "presence", conf_ms(r, 5000), NULL));
	c = open_room(r, room.id, "after=0&name=newbie", NULL);
	if (!c)
		goto out;
	for (i = 0; i < N; i++) {
		struct sse_event_copy raw;

		if (conf_sse_json(c, conf_ms(r, 5000), &ev, &raw) != 1)
			break;
		if (!conf_jstr(ev, "type") || strcmp(conf_jstr(ev, "type"), "message") != 0) {
			txt = print(ev);
			conf_got(r, "event %d: %s", i + 1, txt);
			free(txt);
			sse_event_copy_free(&raw);
			break;
		}
		msgs++;
		bad += conf_jint(ev, "seq", -1) != s[i];
		cJSON_Delete(ev);
		ev = NULL;
		sse_event_copy_free(&raw);
	}
	conf_check(r, msgs == N && bad == 0, 0,
		   "SSE-7/SSE-10: the %d buffered messages are replayed first, oldest first", N);
	if (!ev)
		conf_sse_json(c, conf_ms(r, 5000), &ev, NULL);
	txt = print(ev);
	conf_got(r, "%s", txt);
	free(txt);
	if (conf_check(r, ev && conf_jstr(ev, "type") && strcmp(conf_jstr(ev, "type"), "ready") == 0,
		       0, "SSE-8/SSE-10: ready follows the replay")) {
		const cJSON *parts = cJSON_GetObjectItemCaseSensitive(ev, "participants");
		const cJSON *p0 = cJSON_GetArrayItem(parts, 0);

		conf_check(r, strcmp(conf_keys(ev, keys, sizeof(keys)),
				     "type,roomId,size,last_seq,participants") == 0,
			   0, "SSE-8: ready keys type, roomId, size, last_seq, participants");
		conf_check(r, conf_jstr(ev, "roomId") && strcmp(conf_jstr(ev, "roomId"), room.id) == 0 &&
				      conf_jint(ev, "size", -1) == 2 && conf_jint(ev, "last_seq", -1) == s[N - 1],
			   0, "SSE-8: roomId, size = subscribers + 1, last_seq = newest (ROOM-8)");
		conf_check(r, cJSON_GetArraySize(parts) == 1 && conf_jstr(p0, "name") &&
				      strcmp(conf_jstr(p0, "name"), "other") == 0,
			   0, "SSE-8: participants (PRES-2) without the new subscriber");
		conf_expect_component(r, ev, "ReadyEvent", 0, "SSE-8");
	}
	cJSON_Delete(ev);
	ev = NULL;
	conf_sse_json(c, conf_ms(r, 5000), &ev, NULL);
	txt = print(ev);
	conf_got(r, "%s", txt);
	free(txt);
	if (conf_check(r, ev && conf_jstr(ev, "type") && strcmp(conf_jstr(ev, "type"), "presence") == 0,
		       0, "SSE-8/SSE-10: presence follows ready")) {
		const cJSON *names = cJSON_GetObjectItemCaseSensitive(ev, "names");

		conf_check(r, conf_jint(ev, "size", -1) == 2 && cJSON_GetArraySize(names) == 2 &&
				      strcmp(cJSON_GetArrayItem(names, 1)->valuestring, "newbie") == 0,
			   0, "SSE-8/PRES-1: the presence broadcast includes the new subscriber");
		conf_expect_component(r, ev, "PresenceEvent", 0, "PRES-1");
	}
	cJSON_Delete(ev);
	ev = conf_sse_until(other, "presence", conf_ms(r, 5000), NULL);
	conf_check(r, ev && conf_jint(ev, "size", -1) == 2, 0,
		   "SSE-8: presence is broadcast to the other subscribers too");
	cJSON_Delete(ev);
	sse_close(c);
out:
	sse_close(other);
}

/* Read `want` message events and compare with seqs; returns the count received in order. */
static int read_msgs(struct conf_run *r, struct sse_conn *c, const int64_t *seqs, int want,
		     int *dup, int *ooo)
{
	int got = 0;
	int64_t prev = -1;

	*dup = *ooo = 0;
	while (got < want) {
		cJSON *ev = conf_sse_until(c, "message", conf_ms(r, 5000), NULL);
		int64_t s;

		if (!ev)
			break;
		s = conf_jint(ev, "seq", -1);
		cJSON_Delete(ev);
		if (s <= prev) {
			(*dup)++;
			continue;
		}
		if (s != seqs[got])
			(*ooo)++;
		prev = s;
		got++;
	}
	return got;
}

/* SSE-6, SSE-7, NUM-1, CLIENT-2: resume by ?after=. */
static void c_resume_after(struct conf_run *r)
{
	enum { N = 10 };
	struct conf_room room;
	int64_t s[N];
	struct sse_conn *c;
	char q[128];
	int skipped = 0, dup, ooo, got;
	cJSON *ready;

	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "a", s) != N)
		return;
	snprintf(q, sizeof(q), "after=%lld", (long long)s[4]);
	c = open_room(r, room.id, q, NULL);
	if (!c)
		return;
	got = read_msgs(r, c, s + 5, 5, &dup, &ooo);
	ready = conf_sse_until(c, "ready", conf_ms(r, 5000), &skipped);
	conf_got(r, "%d replayed (%d dup, %d out of order), %d more before ready", got, dup, ooo,
		 skipped);
	conf_check(r, got == 5 && dup == 0 && ooo == 0 && ready && skipped == 0, 0,
		   "SSE-6/SSE-7: ?after=<seq of #5> replays exactly #6..#10");
	cJSON_Delete(ready);
	sse_close(c);
	c = open_room(r, room.id, "after=abc", NULL);
	if (c) {
		skipped = 0;
		ready = conf_sse_until(c, "ready", conf_ms(r, 5000), &skipped);
		conf_check(r, ready && skipped == N, 0, "NUM-1: after=abc → 0: everything is replayed");
		cJSON_Delete(ready);
		sse_close(c);
	}
	snprintf(q, sizeof(q), "after=%lld", (long long)s[N - 1]);
	c = open_room(r, room.id, q, NULL);
	if (c) {
		skipped = 0;
		ready = conf_sse_until(c, "ready", conf_ms(r, 5000), &skipped);
		conf_check(r, ready && skipped == 0, 0, "SSE-7: ?after=<newest> replays nothing");
		cJSON_Delete(ready);
		sse_close(c);
	}
}

/* SSE-6 (sealroom): Last-Event-ID and last_event_id, and their precedence. */
static void c_resume_last_event_id(struct conf_run *r)
{
	enum { N = 10 };
	struct conf_room room;
	int64_t s[N];
	char q[128], h[128];
	const char *hdrs[2] = { h, NULL };
	struct {
		const char *what;
		bool header;
		int64_t header_seq;
		const char *query_key; /* "after", "last_event_id" or NULL */
		int64_t query_seq;
		int replayed;
	} t[4];
	int i;

	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "l", s) != N)
		return;
	t[0] = (typeof(t[0])){ "Last-Event-ID: <#7>", true, s[6], NULL, 0, 3 };
	t[1] = (typeof(t[0])){ "?last_event_id=<#8>", false, 0, "last_event_id", s[7], 2 };
	t[2] = (typeof(t[0])){ "?after=<#9> beats Last-Event-ID: <#2>", true, s[1], "after",
			       s[8], 1 };
	t[3] = (typeof(t[0])){ "Last-Event-ID: <#6> beats ?last_event_id=<#2>", true, s[5],
			       "last_event_id", s[1], 4 };
	for (i = 0; i < 4; i++) {
		struct sse_conn *c;
		int skipped = 0;
		cJSON *ready;

		snprintf(h, sizeof(h), "Last-Event-ID: %lld", (long long)t[i].header_seq);
		if (t[i].query_key)
			snprintf(q, sizeof(q), "%s=%lld", t[i].query_key, (long long)t[i].query_seq);
		c = open_room(r, room.id, t[i].query_key ? q : NULL, t[i].header ? hdrs : NULL);
		if (!c)
			return;
		ready = conf_sse_until(c, "ready", conf_ms(r, 5000), &skipped);
		conf_got(r, "%d message(s) replayed", skipped);
		conf_check(r, ready && skipped == t[i].replayed, CK_SR,
			   "SSE-6: resume point %s → %d replayed", t[i].what, t[i].replayed);
		cJSON_Delete(ready);
		sse_close(c);
	}
	/* ?after= present but empty still wins (NUM-1 of "" is 0). */
	snprintf(h, sizeof(h), "Last-Event-ID: %lld", (long long)s[8]);
	{
		struct sse_conn *c = open_room(r, room.id, "after=", hdrs);
		int skipped = 0;
		cJSON *ready = c ? conf_sse_until(c, "ready", conf_ms(r, 5000), &skipped) : NULL;

		conf_got(r, "%d message(s) replayed", skipped);
		conf_check(r, ready && skipped == N, CK_SR,
			   "SSE-6: ?after= (present, empty) is used whatever its value → 0");
		cJSON_Delete(ready);
		sse_close(c);
	}
}

/* CLIENT-2, SSE-7: disconnect mid-stream, resume with ?after=<last seen>. */
static void c_resume_disconnect(struct conf_run *r)
{
	enum { N = 30 };
	struct conf_room room;
	int64_t s[N], last = 0;
	struct sse_conn *c;
	char q[128];
	int i, got, dup, ooo;

	conf_room_new(&room);
	c = open_room(r, room.id, NULL, NULL);
	if (!c)
		return;
	cJSON_Delete(conf_sse_until(c, "ready", conf_ms(r, 5000), NULL));
	if (conf_post_many(r, &room, 10, "d", s) != 10) {
		sse_close(c);
		return;
	}
	for (i = 0; i < 10; i++) {
		cJSON *ev = conf_sse_until(c, "message", conf_ms(r, 5000), NULL);

		if (!ev)
			break;
		last = conf_jint(ev, "seq", 0);
		cJSON_Delete(ev);
	}
	sse_close(c); /* abrupt, mid-stream */
	if (conf_post_many(r, &room, N - 10, "e", s + 10) != N - 10)
		return;
	snprintf(q, sizeof(q), "after=%lld", (long long)last);
	c = open_room(r, room.id, q, NULL);
	if (!c)
		return;
	got = read_msgs(r, c, s + 10, N - 10, &dup, &ooo);
	conf_got(r, "last seen %lld; %d of %d resumed, %d duplicated, %d out of order",
		 (long long)last, got, N - 10, dup, ooo);
	conf_check(r, last == s[9] && got == N - 10 && dup == 0 && ooo == 0, 0,
		   "SSE-7/CLIENT-2: a client resuming with ?after=<last seen seq> gets exactly the "
		   "messages it missed");
	sse_close(c);
}

/* ROOM-9, CAP-9, SSE-7: resume after more than RECENT_MAX messages: the gap is not filled,
 * the replay is the newest RECENT_MAX, no error. */
static void c_resume_beyond_buffer(struct conf_run *r)
{
	long R = r->ctx->o.recent_max, n = R + 100, i;
	struct conf_room room;
	int64_t s0, *s = malloc((size_t)n * sizeof(*s));
	struct sse_conn *c;
	char q[128], target[200];
	int got, dup, ooo, skipped = 0;
	cJSON *ready, *j;

	if (!s)
		return;
	if (R > 20000) {
		conf_info(r, "not exercised: --recent-max %ld is too large", R);
		goto out;
	}
	conf_room_new(&room);
	s0 = conf_post_msg(r, &room, "seen", NULL, NULL);
	if (s0 < 0 || conf_post_many(r, &room, n, "flood", s) != n)
		goto out;
	snprintf(q, sizeof(q), "after=%lld", (long long)s0);
	c = open_room(r, room.id, q, NULL);
	if (!c)
		goto out;
	got = read_msgs(r, c, s + (n - R), (int)R, &dup, &ooo);
	ready = conf_sse_until(c, "ready", conf_ms(r, 10000), &skipped);
	conf_got(r, "%d replayed (%d dup, %d out of order, %d extra), ready.last_seq %lld", got, dup,
		 ooo, skipped, (long long)conf_jint(ready, "last_seq", -1));
	conf_check(r, got == R && dup == 0 && ooo == 0 && skipped == 0 && ready &&
			      conf_jint(ready, "last_seq", -1) == s[n - 1],
		   0, "ROOM-9/SSE-7: after %ld more messages than RECENT_MAX, the replay is exactly "
		      "the newest %ld, then ready", n - R, R);
	cJSON_Delete(ready);
	sse_close(c);
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room.id);
	j = conf_get_json(r, target, NULL);
	conf_check(r, conf_jint(j, "recent_count", -1) == R, 0,
		   "ROOM-9/CAP-9: the buffer holds RECENT_MAX (%ld) messages", R);
	cJSON_Delete(j);
	snprintf(target, sizeof(target), "/api/rooms/%s/transcript?after=0&limit=1", room.id);
	j = conf_get_json(r, target, NULL);
	conf_check(r, conf_jint(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0),
				"seq", -1) == s[n - R],
		   0, "ROOM-9: the oldest messages were dropped first");
	cJSON_Delete(j);
	(void)i;
out:
	free(s);
}

/* Many clients reconnecting at once (CLIENT-2, ROOM-23, SSE-7). */
static void c_resume_storm(struct conf_run *r)
{
	enum { C = 40, PER_IP = 10, A = 20, B = 30, D = 20 };
	struct conf_room room;
	struct sse_conn *c[C] = { 0 };
	int64_t last[C], s[A + B + D];
	int i, k, perfect = 0, missing = 0, dups = 0, ooo = 0;

	int n = C;

	conf_room_new(&room);
	if (!r->ctx->o.use_xff && r->ctx->o.n_source_ips < (C + PER_IP - 1) / PER_IP) {
		/* One client IP for everyone: stay well inside its stream cap. */
		n = (int)(r->ctx->o.stream_cap / 2);
		if (n > C)
			n = C;
		conf_note(r, "no client IPs to spread over: %d clients instead of %d", n, C);
	}
	for (i = 0; i < n; i++) {
		if (i % PER_IP == 0 && i)
			conf_new_client(r);
		c[i] = open_room(r, room.id, NULL, NULL);
		if (!c[i])
			goto out;
		cJSON_Delete(conf_sse_until(c[i], "ready", conf_ms(r, 5000), NULL));
		last[i] = 0;
	}
	if (conf_post_many(r, &room, A, "pre", s) != A)
		goto out;
	for (i = 0; i < n; i++) {
		/* Each client stops at a different point, then all drop at once. */
		int want = 1 + i % A;

		for (k = 0; k < want; k++) {
			cJSON *ev = conf_sse_until(c[i], "message", conf_ms(r, 5000), NULL);

			if (!ev)
				break;
			last[i] = conf_jint(ev, "seq", 0);
			cJSON_Delete(ev);
		}
	}
	for (i = 0; i < n; i++) {
		sse_close(c[i]);
		c[i] = NULL;
	}
	if (conf_post_many(r, &room, B, "gap", s + A) != B)
		goto out;
	for (i = 0; i < n; i++) {
		char q[64];

		if (i % PER_IP == 0)
			conf_new_client(r);
		snprintf(q, sizeof(q), "after=%lld", (long long)last[i]);
		c[i] = open_room(r, room.id, q, NULL);
		if (!c[i])
			goto out;
	}
	if (conf_post_many(r, &room, D, "post", s + A + B) != D)
		goto out;
	for (i = 0; i < n; i++) {
		int first = 0, got, d, o, want;

		while (first < A && s[first] <= last[i])
			first++;
		want = A + B + D - first;
		got = read_msgs(r, c[i], s + first, want, &d, &o);
		if (got == want && d == 0 && o == 0)
			perfect++;
		missing += want - got;
		dups += d;
		ooo += o;
	}
	conf_got(r, "%d/%d clients exact; %d missing, %d duplicated, %d out of order", perfect, n,
		 missing, dups, ooo);
	conf_check(r, perfect == n, 0,
		   "ROOM-23/SSE-7: %d clients reconnecting at once with ?after= each get exactly "
		   "what they missed plus the live messages, in order", n);
out:
	for (i = 0; i < C; i++)
		sse_close(c[i]);
}

/* SSE-9, SSE-12, SSE-15: exact framing. */
static void c_framing(struct conf_run *r)
{
	struct conf_room room;
	int64_t s[3];
	struct sse_conn *c;
	const char *raw, *p;
	size_t n;
	int events = 0, bad = 0, msgs = 0;
	struct sse_stats st;
	struct conf_resp resp;
	char target[160];

	conf_room_new(&room);
	if (conf_post_many(r, &room, 2, "f", s) != 2)
		return;
	c = open_room(r, room.id, "after=0&name=framer", NULL);
	if (!c)
		return;
	cJSON_Delete(conf_sse_until(c, "presence", conf_ms(r, 5000), NULL));
	if (conf_post_many(r, &room, 1, "live", s + 2) != 1)
		goto out;
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	if (conf_post_json(r, target, "{\"name\":\"hb\"}", &resp) == 0)
		conf_resp_free(&resp);
	cJSON_Delete(conf_sse_until(c, "message", conf_ms(r, 5000), NULL));
	cJSON_Delete(conf_sse_until(c, "presence", conf_ms(r, 5000), NULL));
	raw = sse_conn_raw(c, &n);
	/* Every event: "id: <seq>\ndata: <json>\n\n" (messages), "data: <json>\n\n" (others),
	 * or ": keepalive\n\n". */
	for (p = raw; p && *p;) {
		const char *end = strstr(p, "\n\n");
		char line[64];
		cJSON *j;
		const char *data = p;
		bool has_id = false;

		if (!end)
			break;
		events++;
		if (strncmp(p, ": keepalive\n\n", 13) == 0) {
			p = end + 2;
			continue;
		}
		if (strncmp(p, "id: ", 4) == 0) {
			const char *nl = strchr(p, '\n');

			has_id = true;
			snprintf(line, sizeof(line), "%.*s", (int)(nl - p - 4), p + 4);
			data = nl + 1;
		}
		if (strncmp(data, "data: ", 6) != 0 || memchr(data, '\n', (size_t)(end - data)) != NULL) {
			conf_got(r, "event: %.120s", p);
			bad++;
		} else {
			j = json_parse(data + 6, (size_t)(end - data - 6), 64, false);
			if (!j) {
				bad++;
			} else {
				bool is_msg = conf_jstr(j, "type") && strcmp(conf_jstr(j, "type"), "message") == 0;

				msgs += is_msg;
				if (is_msg != has_id ||
				    (is_msg && strtoll(line, NULL, 10) != conf_jint(j, "seq", -1))) {
					conf_got(r, "event: %.160s", p);
					bad++;
				}
				cJSON_Delete(j);
			}
		}
		p = end + 2;
	}
	conf_check(r, events >= 6 && msgs == 3 && bad == 0, CK_SR,
		   "SSE-9: message events are \"id: <seq>\\ndata: <json>\\n\\n\", others \"data: "
		   "<json>\\n\\n\"; one data line, no event:/retry: lines");
	conf_check(r, raw && !strstr(raw, "\nevent:") && !strstr(raw, "\nretry:") &&
			      strncmp(raw, "event:", 6) != 0 && strncmp(raw, "retry:", 6) != 0,
		   0, "SSE-9: no event: or retry: lines");
	st = sse_conn_stats(c);
	conf_got(r, "%llu chunks, %llu not ending at an event boundary",
		 (unsigned long long)st.chunks, (unsigned long long)st.chunks_split);
	conf_check(r, st.chunks > 0 && st.chunks_split == 0, 0,
		   "SSE-12: chunks contain whole events only");
out:
	sse_close(c);
}

/* SSE-11, SSE-13: keepalive comments every KEEPALIVE ms (±1 s), first one KEEPALIVE after
 * connect; the stream stays open. */
static void c_keepalive(struct conf_run *r)
{
	long K = r->ctx->o.keepalive_ms;
	char room[16];
	struct sse_conn *c;
	int64_t t0, t[2] = { -1, -1 };
	int k = 0, other = 0;
	int64_t deadline;

	conf_room_id(room);
	t0 = conf_now();
	c = open_room(r, room, NULL, NULL);
	if (!c)
		return;
	deadline = t0 + 2 * K + conf_ms(r, 2500);
	while (k < 2 && conf_now() < deadline) {
		struct sse_event_copy ev;
		int rc = sse_next(c, &ev, (long)(deadline - conf_now()));

		if (rc != 1)
			break;
		if (ev.is_comment && strcmp(ev.data, "keepalive") == 0)
			t[k++] = ev.recv_ns / 1000000;
		else if (!ev.is_comment)
			other++;
		sse_event_copy_free(&ev);
	}
	conf_got(r, "keepalives at +%lld ms and +%lld ms after connecting (period %ld ms)",
		 (long long)(t[0] < 0 ? -1 : t[0] - t0), (long long)(t[1] < 0 ? -1 : t[1] - t0), K);
	conf_check(r, t[0] >= 0 && t[0] - t0 >= K - 1000 && t[0] - t0 <= K + conf_ms(r, 1000), 0,
		   "SSE-11: the first \": keepalive\" comes %ld ms (±1 s) after connecting", K);
	conf_check(r, t[1] >= 0 && t[1] - t[0] >= K - 1000 && t[1] - t[0] <= K + conf_ms(r, 1000), 0,
		   "SSE-11: then every %ld ms (±1 s)", K);
	conf_check(r, sse_conn_error(c) == NULL && !sse_wait_end(c, 0), 0,
		   "SSE-13: a healthy stream is never closed (no idle timeout)");
	sse_close(c);
}

/* SSE-14, PRES-1: a disconnect is broadcast as presence (found at the latest at the next
 * keepalive, SSE-11). */
static void c_disconnect(struct conf_run *r)
{
	struct conf_room room;
	struct sse_conn *a, *b;
	cJSON *pres = NULL;
	int64_t deadline;
	char *txt;

	conf_room_new(&room);
	a = open_room(r, room.id, "name=stay", NULL);
	if (!a)
		return;
	cJSON_Delete(conf_sse_until(a, "presence", conf_ms(r, 5000), NULL));
	b = open_room(r, room.id, "name=leave", NULL);
	if (!b) {
		sse_close(a);
		return;
	}
	cJSON_Delete(conf_sse_until(a, "presence", conf_ms(r, 5000), NULL));
	sse_close(b);
	deadline = conf_now() + r->ctx->o.keepalive_ms + conf_ms(r, 2500);
	while (conf_now() < deadline) {
		pres = conf_sse_until(a, "presence", (long)(deadline - conf_now()), NULL);
		if (!pres || conf_jint(pres, "size", -1) == 1)
			break;
		cJSON_Delete(pres);
		pres = NULL;
	}
	txt = print(pres);
	conf_got(r, "%s", txt);
	free(txt);
	conf_check(r, pres && conf_jint(pres, "size", -1) == 1 &&
			      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pres, "names")) == 1,
		   0, "SSE-14/SSE-11: a subscriber that disconnected is removed and presence "
		      "broadcast (by the next keepalive at the latest)");
	cJSON_Delete(pres);
	sse_close(a);
}

const struct conf_case conf_cases_sse[] = {
	{ "sse.bad-room", "SSE-1", CONF_MUST, 0, "a bad room id → 400 {\"error\":\"bad roomId\"}",
	  c_bad_room },
	{ "sse.headers", "SSE-3", CONF_MUST, 0, "event-stream headers, chunked, sent at once",
	  c_headers },
	{ "sse.create", "SSE-4 INV-8 ROOM-8", CONF_MUST, 0, "subscribing creates the room",
	  c_create },
	{ "sse.name", "SSE-5 B64-4 PRES-2", CONF_MUST, 0,
	  "name and box_pub from the query; invalid values ignored", c_name },
	{ "sse.order", "SSE-7 SSE-8 SSE-10 PRES-1 CLIENT-1", CONF_MUST, 0,
	  "replay, then ready, then presence, with exact shapes", c_order },
	{ "sse.resume.after", "SSE-6 SSE-7 NUM-1 CLIENT-2", CONF_MUST, 0,
	  "?after= replays exactly the messages after it", c_resume_after },
	{ "sse.resume.last-event-id", "SSE-6", CONF_MUST, CF_SR,
	  "Last-Event-ID and ?last_event_id=, and the precedence after > header > query",
	  c_resume_last_event_id },
	{ "sse.resume.disconnect", "SSE-7 CLIENT-2 ROOM-23", CONF_MUST, 0,
	  "disconnect mid-stream, resume with ?after=: nothing missing or repeated",
	  c_resume_disconnect },
	{ "sse.resume.beyond-buffer", "ROOM-9 CAP-9 SSE-7 ROOM-10", CONF_MUST, 0,
	  "resume after more than RECENT_MAX messages: the newest RECENT_MAX, no error",
	  c_resume_beyond_buffer },
	{ "sse.resume.storm", "SSE-7 ROOM-23 CLIENT-2", CONF_MUST, 0,
	  "40 clients reconnect at once with ?after=: exact accounting", c_resume_storm },
	{ "sse.framing", "SSE-9 SSE-12 SSE-15", CONF_MUST, 0,
	  "exact event framing (id lines on messages), whole events per chunk", c_framing },
	{ "sse.keepalive", "SSE-11 SSE-13", CONF_MUST, CF_SLOW,
	  "\": keepalive\" every KEEPALIVE ms (±1 s); no idle close", c_keepalive },
	{ "sse.disconnect", "SSE-14 PRES-1", CONF_MUST, CF_SLOW,
	  "a disconnect removes the subscriber and broadcasts presence", c_disconnect },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
