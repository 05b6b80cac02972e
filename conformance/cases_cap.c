/* cap.* — PROTOCOL.md §14 caps on concurrency: streams and parked waiters per IP and per
 * room, released exactly once (CAP-15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "crypto/identity.h"
#include "proto/json.h"

#define MAX_FDS 600

static struct sse_conn *sse_as(struct conf_run *r, const char *room, const char *ip)
{
	char target[160], saved[48];
	struct sse_conn *c;

	memcpy(saved, r->ip, sizeof(saved));
	snprintf(r->ip, sizeof(r->ip), "%s", ip);
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999", room);
	c = conf_sse(r, target, NULL);
	memcpy(r->ip, saved, sizeof(saved));
	return c;
}

/* CAP-1, SSE-2, WS-5, CAP-15: streams per IP. */
static void c_streams(struct conf_run *r)
{
	long cap = r->ctx->o.stream_cap, i;
	struct sse_conn *c[MAX_FDS] = { 0 };
	char room[16], ip[48];
	struct sse_conn *probe;
	struct ws_conn *w = NULL;
	int64_t deadline;
	bool reopened = false;

	if (!r->ctx->o.use_xff || cap >= MAX_FDS) {
		conf_info(r, "not exercised: needs per-case client IPs (XFF from loopback)");
		return;
	}
	r->expect_refusals = true;
	conf_room_id(room);
	conf_fresh_ip(r, ip);
	for (i = 0; i < cap; i++) {
		c[i] = sse_as(r, room, ip);
		if (!c[i] || sse_conn_status(c[i]) != 200)
			break;
	}
	conf_check(r, i == cap, 0, "CAP-1: STREAM_CAP_PER_IP (%ld) streams are accepted", cap);
	probe = sse_as(r, room, ip);
	if (probe) {
		size_t n;
		const char *body = sse_conn_raw(probe, &n);
		char ra[16];
		size_t len;
		const char *v = sse_conn_header(probe, "Retry-After", &len);

		snprintf(ra, sizeof(ra), "%.*s", v ? (int)len : 0, v ? v : "");
		conf_got(r, "%ld %s (Retry-After %s)", sse_conn_status(probe), body ? body : "", ra);
		conf_check(r, sse_conn_status(probe) == 429 && body &&
				      strcmp(body, "{\"error\":\"too many concurrent streams from this IP\"}") == 0 &&
				      strcmp(ra, "5") == 0,
			   0, "SSE-2: one more → 429 {\"error\":\"too many concurrent streams from this "
			      "IP\"}, Retry-After: 5");
		sse_close(probe);
	}
	{
		char target[160], saved[48];
		cJSON *ev = NULL;
		int code = 0;

		memcpy(saved, r->ip, sizeof(saved));
		snprintf(r->ip, sizeof(r->ip), "%s", ip);
		snprintf(target, sizeof(target), "/api/rooms/%s/ws", room);
		if (conf_ws(r, target, NULL, &w, NULL, NULL) == 0) {
			char *txt;

			conf_ws_json(w, conf_ms(r, 5000), &ev, NULL);
			txt = conf_jprint(ev);
			conf_got(r, "%s", txt ? txt : "(none)");
			free(txt);
			conf_check(r, ev && conf_jint(ev, "code", 0) == 429 && conf_jstr(ev, "error") &&
					      strcmp(conf_jstr(ev, "error"),
						     "too many concurrent streams from this IP") == 0,
				   0, "WS-5: a WebSocket over the cap gets {\"type\":\"error\",\"code\":429,"
				      "\"error\":\"too many concurrent streams from this IP\"}");
			cJSON_Delete(ev);
			ev = NULL;
			while (conf_ws_json(w, conf_ms(r, 5000), &ev, &code) == 1) {
				cJSON_Delete(ev);
				ev = NULL;
			}
			conf_check(r, code == 1005, 0, "WS-5: then a close without status code (1005)");
			ws_free(w);
		} else {
			conf_check(r, false, 0, "WS-5: the upgrade happens, then the error frame");
		}
		memcpy(r->ip, saved, sizeof(saved));
	}
	/* CAP-15: closing one stream frees exactly one slot (found at the next keepalive at the
	 * latest, SSE-11). */
	sse_close(c[0]);
	c[0] = NULL;
	deadline = conf_now() + r->ctx->o.keepalive_ms + conf_ms(r, 3000);
	while (conf_now() < deadline) {
		probe = sse_as(r, room, ip);
		if (probe && sse_conn_status(probe) == 200) {
			c[0] = probe;
			reopened = true;
			break;
		}
		sse_close(probe);
		usleep(100000);
	}
	conf_check(r, reopened, 0, "CAP-15/SSE-14: a closed stream releases its slot");
	if (reopened) {
		probe = sse_as(r, room, ip);
		conf_check(r, probe && sse_conn_status(probe) == 429, 0,
			   "CAP-15: released exactly once (the cap holds again)");
		sse_close(probe);
	}
	for (i = 0; i < cap; i++)
		sse_close(c[i]);
}

/* Park a room wait as ip; -1 on failure. */
static int park_wait(struct conf_run *r, const char *room, int64_t after, int timeout,
		     const char *ip)
{
	char target[200];

	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=%lld&timeout=%d", room,
		 (long long)after, timeout);
	return conf_raw_park(r, "GET", target, ip, NULL);
}

/* A probe: parks, or gets an immediate answer within ms (returned in *rr). 1 = answered. */
static int answered(int fd, long ms, struct raw_resp *rr)
{
	return conf_raw_read(fd, ms, rr) == 0 ? 1 : 0;
}

/* CAP-2, ROOM-WAIT-3, ROOM-WAIT-6, CAP-15, DM-7g: parked waiters per IP. */
static void c_waiters_ip(struct conf_run *r)
{
	long cap = r->ctx->o.waiter_cap, i;
	int fds[MAX_FDS], n = 0;
	struct conf_room room;
	int64_t s;
	char ip[48];
	struct raw_resp rr;
	int fd;
	bool released = false;
	int64_t deadline;

	if (!r->ctx->o.use_xff || cap >= MAX_FDS / 2) {
		conf_info(r, "not exercised: needs per-case client IPs (XFF from loopback)");
		return;
	}
	conf_room_new(&room);
	s = conf_post_msg(r, &room, "x", NULL, NULL);
	if (s < 0)
		return;
	conf_fresh_ip(r, ip);
	for (i = 0; i <= cap; i++) {
		fd = park_wait(r, room.id, s, 6, ip);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	conf_sent(r, "%ld parked waits from %s at once", cap + 1, ip);
	{
		bool ans[MAX_FDS];
		int k = conf_raw_answers(fds, n, conf_ms(r, 1500), ans, &rr), j, m = 0;

		conf_got(r, "%d of %d answered at once: %d %s", k, n, rr.status, rr.body ? rr.body : "");
		conf_check(r, n == cap + 1 && k == 1 && rr.status == 429 && rr.body &&
				      strcmp(rr.body, "{\"error\":\"too many concurrent waiters from this IP\"}") == 0,
			   0, "ROOM-WAIT-3/CAP-2: exactly the wait beyond WAITER_CAP_PER_IP → 429 too many "
			      "concurrent waiters from this IP");
		if (k == 1) {
			char v[16];
			size_t len;
			const char *h = raw_header(&rr, "Retry-After", &len);

			snprintf(v, sizeof(v), "%.*s", h ? (int)len : 0, h ? h : "");
			conf_check(r, strcmp(v, "5") == 0, 0, "ROOM-WAIT-3: Retry-After: 5");
		}
		raw_resp_free(&rr);
		/* Keep the parked ones only. */
		for (j = 0; j < n; j++) {
			if (ans[j])
				close(fds[j]);
			else
				fds[m++] = fds[j];
		}
		n = m;
	}
	/* An inbox wait from the same IP counts against the same cap (DM-7g). */
	{
		struct crypto_identity bob;
		char target[200], h[320], extra[400];

		if (conf_register(r, &bob) == 0) {
			snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?timeout=2", bob.handle);
			conf_auth_header(&bob, "GET", target, h);
			snprintf(extra, sizeof(extra), "%s\r\n", h);
			fd = conf_raw_park(r, "GET", target, ip, extra);
			if (fd >= 0 && answered(fd, conf_ms(r, 2000), &rr)) {
				conf_got(r, "%d %s", rr.status, rr.body);
				conf_check(r, rr.status == 429 &&
						      strcmp(rr.body, "{\"error\":\"too many concurrent waiters from this IP\"}") == 0,
					   0, "DM-7g/CAP-2: inbox waits count against the same per-IP cap");
				raw_resp_free(&rr);
			} else {
				conf_check(r, false, 0, "DM-7g: an inbox wait beyond the per-IP cap is refused");
			}
			if (fd >= 0)
				close(fd);
		}
	}
	/* ROOM-WAIT-6, CAP-15: disconnects release the slots exactly once. */
	for (i = 0; i < n; i++)
		close(fds[i]);
	n = 0;
	deadline = conf_now() + conf_ms(r, 8000);
	while (!released && conf_now() < deadline) {
		int k;

		for (k = n; k < cap; k++) {
			fd = park_wait(r, room.id, s, 10, ip);
			if (fd < 0)
				break;
			if (answered(fd, 150, &rr)) {
				raw_resp_free(&rr);
				close(fd);
				break;
			}
			fds[n++] = fd;
		}
		released = n == cap;
		if (!released)
			usleep(200000);
	}
	conf_check(r, released, 0,
		   "ROOM-WAIT-6/CAP-15: after the waiters disconnect, %ld waits park again", cap);
	fd = park_wait(r, room.id, s, 2, ip);
	if (fd >= 0 && answered(fd, conf_ms(r, 1500), &rr)) {
		conf_check(r, rr.status == 429, 0, "CAP-15: slots were released exactly once");
		raw_resp_free(&rr);
	} else if (released) {
		conf_check(r, false, 0, "CAP-15: slots were released exactly once (cap holds again)");
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* CAP-3, ROOM-WAIT-3, CLAIM-6: parked waits and claims per room. */
static void c_waiters_room(struct conf_run *r)
{
	long cap = r->ctx->o.room_waiters_max, per_ip = r->ctx->o.waiter_cap, i;
	int *fds, n = 0, fd;
	struct conf_room room;
	int64_t s;
	char ip[48] = "";
	struct raw_resp rr = { 0 }; /* stays empty if the answers cannot be watched */

	if (!r->ctx->o.use_xff || cap + 1 >= MAX_FDS || per_ip < 1) {
		conf_info(r, "not exercised: needs per-case client IPs (XFF from loopback) and "
			     "--room-waiters-max below %d", MAX_FDS);
		return;
	}
	fds = calloc((size_t)cap + 2, sizeof(int));
	if (!fds)
		return;
	conf_room_new(&room);
	s = conf_post_msg(r, &room, "x", NULL, NULL);
	if (s < 0)
		goto out;
	for (i = 0; i < cap; i++) {
		if (i % per_ip == 0)
			conf_fresh_ip(r, ip);
		fd = park_wait(r, room.id, s, 6, ip);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	conf_fresh_ip(r, ip);
	fd = park_wait(r, room.id, s, 6, ip);
	if (fd >= 0)
		fds[n++] = fd;
	conf_sent(r, "%ld parked waits on one room from %ld IPs, then one from a fresh IP", cap,
		  (cap + per_ip - 1) / per_ip);
	{
		bool *ans = calloc((size_t)n + 1, sizeof(bool));
		int k = ans ? conf_raw_answers(fds, n, conf_ms(r, 1500), ans, &rr) : -1, j, m = 0;

		conf_got(r, "%d of %d answered at once: %d %s", k, n, rr.status, rr.body ? rr.body : "");
		conf_check(r, n == cap + 1 && k == 1 && rr.status == 429 && rr.body &&
				      strcmp(rr.body, "{\"error\":\"too many concurrent waiters for this room\"}") == 0,
			   0, "ROOM-WAIT-3/CAP-3: exactly the wait beyond ROOM_WAITERS_MAX → 429 too many "
			      "concurrent waiters for this room");
		raw_resp_free(&rr);
		for (j = 0; ans && j < n; j++) {
			if (ans[j])
				close(fds[j]);
			else
				fds[m++] = fds[j];
		}
		if (ans)
			n = m;
		free(ans);
	}
	/* A claim counts against the same room cap (CLAIM-6). */
	{
		struct crypto_identity id;
		char target[200], h[320], req[1200], body[100];

		if (conf_register(r, &id) == 0 && (fd = conf_raw_connect(r)) >= 0) {
			snprintf(target, sizeof(target), "/api/rooms/%s/claim?timeout=2", room.id);
			conf_auth_header(&id, "POST", target, h);
			snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"exclude_senders\":[\"agent\"]}",
				 id.handle);
			snprintf(req, sizeof(req),
				 "POST %s HTTP/1.1\r\nHost: relay\r\nX-Forwarded-For: %s\r\n%s\r\n"
				 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				 target, ip, h, strlen(body), body);
			raw_sends(fd, req, conf_now() + conf_ms(r, 5000));
			if (answered(fd, conf_ms(r, 1500), &rr)) {
				conf_got(r, "%d %s", rr.status, rr.body);
				conf_check(r, rr.status == 429 &&
						      strcmp(rr.body, "{\"error\":\"too many concurrent waiters for this room\"}") == 0,
					   0, "CLAIM-6/CAP-3: a claim that would park counts against the "
					      "room cap");
				raw_resp_free(&rr);
			} else {
				conf_check(r, false, 0, "CLAIM-6: the claim beyond the room cap is refused");
			}
			close(fd);
		}
	}
out:
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

const struct conf_case conf_cases_cap[] = {
	{ "cap.streams", "CAP-1 SSE-2 WS-5 CAP-15 SSE-14 INV-11", CONF_MUST, CF_SLOW,
	  "SSE+WS streams per IP: 429 / error frame beyond the cap; slots released once",
	  c_streams },
	{ "cap.waiters-ip", "CAP-2 ROOM-WAIT-3 ROOM-WAIT-6 CAP-15 DM-7g INV-11", CONF_MUST, 0,
	  "parked waits per IP: 429 beyond the cap; disconnects release slots once",
	  c_waiters_ip },
	{ "cap.waiters-room", "CAP-3 ROOM-WAIT-3 CLAIM-6 INV-11", CONF_MUST, 0,
	  "parked waits and claims per room: 429 beyond ROOM_WAITERS_MAX", c_waiters_room },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
