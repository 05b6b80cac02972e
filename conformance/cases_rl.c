/* rl.* — PROTOCOL.md §14: token buckets. Each case drains a bucket of its own fresh client
 * IP, so it runs only when the relay's caps (told by --rl-cap / --global-rl-cap) are at most
 * --rl-probe-max; they run last (CF_LATE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "crypto/identity.h"
#include "proto/json.h"

static bool probe_ok(struct conf_run *r, long cap, const char *what)
{
	if (cap > r->ctx->o.rl_probe_max) {
		conf_info(r, "not exercised: %s %ld is above --rl-probe-max %ld", what, cap,
			  r->ctx->o.rl_probe_max);
		return false;
	}
	r->expect_refusals = true; /* the 429s are the point here */
	conf_settle_buckets(r);
	return true;
}

static bool no_ratelimit_headers(const struct conf_resp *resp)
{
	const char *p = resp->headers;

	while (p && *p) {
		if (strncasecmp(p, "X-RateLimit", 11) == 0)
			return false;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return true;
}

/* Send requests (built by next()) until the first 429 or limit; returns how many were
 * accepted (status != 429) and leaves the 429 in *refused. */
typedef int (*req_fn)(struct conf_run *r, void *ud, long i, struct conf_resp *out);

static long drain(struct conf_run *r, req_fn next, void *ud, long limit, struct conf_resp *refused,
		  int64_t *elapsed)
{
	long i;
	int64_t t0 = conf_now();

	memset(refused, 0, sizeof(*refused));
	for (i = 0; i < limit; i++) {
		struct conf_resp resp;

		if (next(r, ud, i, &resp) < 0)
			break;
		if (resp.status == 429) {
			*refused = resp;
			break;
		}
		conf_resp_free(&resp);
	}
	*elapsed = conf_now() - t0;
	return i;
}

static void check_refusal(struct conf_run *r, long accepted, long cap, double refill,
			  int64_t elapsed, const struct conf_resp *refused, int retry_after,
			  const char *rule)
{
	long slack = (long)(refill * (double)elapsed / 1000.0) + 2;

	conf_got(r, "%ld accepted in %lld ms before the first 429", accepted, (long long)elapsed);
	conf_check(r, refused->status == 429, 0, "%s: the bucket empties (429 after %ld)", rule, cap);
	if (refused->status != 429)
		return;
	conf_check(r, accepted >= cap && accepted <= cap + slack, 0,
		   "RL-1/%s: a full bucket of %ld tokens, refilled continuously at %g/s, one per "
		   "request", rule, cap, refill);
	conf_expect_error(r, refused, 429, "rate limited", 0, 0, rule);
	conf_expect_retry_after(r, refused, retry_after, 0, rule);
	conf_check(r, no_ratelimit_headers(refused), 0, "RL-1: no X-RateLimit-* headers");
}

struct room_ud {
	char target[160];
	char *body;
	int rooms; /* > 0: spread over this many rooms (global bucket only) */
	struct conf_room room[8];
};

static int post_room(struct conf_run *r, void *p, long i, struct conf_resp *out)
{
	struct room_ud *u = p;

	if (u->rooms > 0) {
		char target[160];

		snprintf(target, sizeof(target), "/api/rooms/%s/messages", u->room[i % u->rooms].id);
		return conf_post_json(r, target, u->body, out);
	}
	return conf_post_json(r, u->target, u->body, out);
}

/* RL-1, RL-2, RL-4, ROOM-POST-3, HTTP-20: the per-key bucket <ip>|<roomId>. */
static void c_room(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct room_ud u = { 0 };
	struct conf_resp refused, resp;
	struct conf_room other;
	long accepted;
	int64_t elapsed, t0;

	if (!probe_ok(r, o->rl_cap, "--rl-cap"))
		return;
	conf_room_new(&u.room[0]);
	snprintf(u.target, sizeof(u.target), "/api/rooms/%s/messages", u.room[0].id);
	u.body = conf_sealed_body(&u.room[0], "rl", NULL);
	if (!u.body)
		return;
	accepted = drain(r, post_room, &u, o->rl_cap * 3 + 100, &refused, &elapsed);
	check_refusal(r, accepted, o->rl_cap, o->rl_refill, elapsed, &refused, 1,
		      "RL-2/RL-4/ROOM-POST-3");
	conf_resp_free(&refused);
	/* Per key: another room from the same IP is unaffected. */
	conf_room_new(&other);
	if (conf_post_msg(r, &other, "other room", NULL, NULL) < 0)
		conf_check(r, false, 0, "RL-2: the bucket is per <ip>|<roomId>");
	/* Continuous refill: a token is back within about 1/refill s. */
	t0 = conf_now();
	for (;;) {
		if (post_room(r, &u, 0, &resp) < 0)
			break;
		if (resp.status == 200 || conf_now() - t0 > conf_ms(r, 5000)) {
			conf_got(r, "accepted again after %lld ms", (long long)(conf_now() - t0));
			conf_check(r, resp.status == 200 &&
					      conf_now() - t0 <= (int64_t)(2000.0 / o->rl_refill) + conf_ms(r, 500),
				   0, "RL-1: tokens refill continuously (%g/s)", o->rl_refill);
			conf_resp_free(&resp);
			break;
		}
		conf_resp_free(&resp);
		usleep(2000);
	}
	free(u.body);
}

/* RL-3: the global per-IP bucket, consumed only after the per-key one passed. */
static void c_global(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct room_ud u = { 0 };
	struct conf_resp refused;
	long accepted;
	int64_t elapsed;
	int i;

	if (!probe_ok(r, o->global_rl_cap, "--global-rl-cap"))
		return;
	u.rooms = 8;
	for (i = 0; i < u.rooms; i++)
		conf_room_new(&u.room[i]);
	if (o->global_rl_cap / u.rooms >= o->rl_cap) {
		conf_info(r, "not exercised: the global cap is not below 8 per-key caps");
		return;
	}
	u.body = conf_sealed_body(&u.room[0], "global", NULL);
	if (!u.body)
		return;
	accepted = drain(r, post_room, &u, o->global_rl_cap * 3 + 100, &refused, &elapsed);
	check_refusal(r, accepted, o->global_rl_cap, o->global_rl_refill, elapsed, &refused, 1,
		      "RL-3");
	conf_resp_free(&refused);
	free(u.body);
}

struct report_ud {
	const char *target;
	const char *body;
};

static int post_any(struct conf_run *r, void *p, long i, struct conf_resp *out)
{
	struct report_ud *u = p;

	return conf_post_json(r, u->target, u->body, out);
}

/* RL-5, RPT-1, RL-2: /api/report has bucket "bugs", no global bucket, shared with a room
 * named "bugs". */
static void c_report(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct report_ud u = { "/api/report", "{\"what\":\"conformance rate-limit probe\"}" };
	struct conf_resp refused, resp;
	long accepted, i, ok = 0;
	int64_t elapsed;
	struct conf_room rooms[3];

	if (!probe_ok(r, o->rl_cap, "--rl-cap"))
		return;
	accepted = drain(r, post_any, &u, o->rl_cap * 3 + 100, &refused, &elapsed);
	check_refusal(r, accepted, o->rl_cap, o->rl_refill, elapsed, &refused, 10, "RL-5/RPT-1");
	conf_resp_free(&refused);
	/* The same bucket key: a room called "bugs" is refused too. */
	if (conf_post_json(r, "/api/rooms/bugs/messages",
			   "{\"ciphertext\":\"AAAA\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\"}",
			   &resp) == 0) {
		conf_check(r, resp.status == 429, 0,
			   "RL-2: all keys share one namespace: room \"bugs\" shares the report bucket");
		conf_resp_free(&resp);
	}
	/* No global bucket for reports: the IP still has its whole global budget. */
	if (o->global_rl_cap > 3 * o->rl_cap || o->global_rl_cap > o->rl_probe_max) {
		conf_info(r, "global-bucket independence not exercised for these caps");
		return;
	}
	for (i = 0; i < 3; i++)
		conf_room_new(&rooms[i]);
	for (i = 0; i < o->global_rl_cap - 1; i++) {
		char *body = conf_sealed_body(&rooms[i % 3], "g", NULL);
		char target[160];

		snprintf(target, sizeof(target), "/api/rooms/%s/messages", rooms[i % 3].id);
		if (!body || conf_post_json(r, target, body, &resp) < 0) {
			free(body);
			break;
		}
		free(body);
		ok += resp.status == 200;
		conf_resp_free(&resp);
	}
	conf_got(r, "%ld of %ld room posts accepted after the reports", ok, o->global_rl_cap - 1);
	conf_check(r, ok == o->global_rl_cap - 1, 0,
		   "RL-5: reports do not consume the global bucket");
}

/* RL-6, ID-REG-1: the register bucket precedes every other registration check. */
static void c_register(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct report_ud u = { "/api/identity/register", "{\"handle\":\"X\"}" };
	struct conf_resp refused;
	long accepted;
	int64_t elapsed;

	if (!probe_ok(r, o->rl_cap, "--rl-cap"))
		return;
	accepted = drain(r, post_any, &u, o->rl_cap * 3 + 100, &refused, &elapsed);
	check_refusal(r, accepted, o->rl_cap, o->rl_refill, elapsed, &refused, 5, "RL-6/ID-REG-1");
	conf_resp_free(&refused);
}

/* RL-7, DM-1b: DMs per recipient; the bucket precedes the registration check. */
static void c_dm(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct report_ud u = { "/api/dm/cfnobodyhere00", "{}" };
	struct conf_resp refused;
	long accepted;
	int64_t elapsed;

	if (!probe_ok(r, o->rl_cap, "--rl-cap"))
		return;
	accepted = drain(r, post_any, &u, o->rl_cap * 3 + 100, &refused, &elapsed);
	check_refusal(r, accepted, o->rl_cap, o->rl_refill, elapsed, &refused, 1, "RL-7/DM-1b");
	conf_resp_free(&refused);
}

struct auth_ud {
	char target[200];
};

static int bad_auth(struct conf_run *r, void *p, long i, struct conf_resp *out)
{
	struct auth_ud *u = p;
	static const char *const h[] = {
		"Authorization: SafeBot ts=1,n=AAAAAAAAAAAAAAAAAAAAAAAA,sig=AAAA", NULL
	};

	return conf_req(r, "GET", u->target, h, NULL, 0, out);
}

/* RL-8, DM-7c, INV-10: the auth:<handle> bucket, before signature verification. */
static void c_auth(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct crypto_identity id;
	struct auth_ud u;
	struct conf_resp refused;
	long accepted;
	int64_t elapsed;

	if (!probe_ok(r, o->rl_cap, "--rl-cap") || conf_register(r, &id) < 0)
		return;
	snprintf(u.target, sizeof(u.target), "/api/dm/%s/inbox/wait?timeout=1", id.handle);
	accepted = drain(r, bad_auth, &u, o->rl_cap * 3 + 100, &refused, &elapsed);
	check_refusal(r, accepted, o->rl_cap, o->rl_refill, elapsed, &refused, 5,
		      "RL-8/DM-7c/INV-10 (bad signatures still consume tokens)");
	conf_resp_free(&refused);
	{
		/* The claim route shares the handle's auth:<handle> bucket (CLAIM-1d). */
		char target[160], body[100];
		static const char *const h[] = {
			"Content-Type: application/json",
			"Authorization: SafeBot ts=1,n=AAAAAAAAAAAAAAAAAAAAAAAA,sig=AAAA", NULL
		};
		struct conf_resp resp;
		char room[16];

		conf_room_id(room);
		snprintf(target, sizeof(target), "/api/rooms/%s/claim", room);
		snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", id.handle);
		if (conf_req(r, "POST", target, h, body, strlen(body), &resp) == 0) {
			conf_expect_error(r, &resp, 429, "rate limited", 0, 0,
					  "CLAIM-1d/RL-8: claims share the auth:<handle> bucket");
			conf_expect_retry_after(r, &resp, 5, 0, "CLAIM-1d");
			conf_resp_free(&resp);
		}
	}
}

/* WS-11, RL-4: message frames share the room bucket; the refusal is an error frame. */
static void c_ws(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	struct conf_room room;
	struct ws_conn *w = NULL;
	char target[200], *body;
	long i, n = o->rl_cap + 50, echoes = 0, errors = 0, bad = 0;
	int64_t deadline;

	if (!probe_ok(r, o->rl_cap, "--rl-cap"))
		return;
	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room.id);
	if (!conf_check(r, conf_ws(r, target, NULL, &w, NULL, NULL) == 0, 0, "WS-1: upgrade"))
		return;
	cJSON_Delete(conf_ws_until(w, "presence", conf_ms(r, 5000), NULL));
	body = conf_sealed_body(&room, "ws rl", NULL);
	for (i = 0; body && i < n; i++)
		ws_send_text(w, body, strlen(body));
	free(body);
	deadline = conf_now() + conf_ms(r, 10000);
	while (echoes + errors < n && conf_now() < deadline) {
		cJSON *ev = NULL;
		int rc = conf_ws_json(w, (long)(deadline - conf_now()), &ev, NULL);
		const char *t;

		if (rc != 1) {
			cJSON_Delete(ev);
			break;
		}
		t = conf_jstr(ev, "type");
		if (t && !strcmp(t, "message"))
			echoes++;
		else if (t && !strcmp(t, "error")) {
			char *txt = conf_jprint(ev);

			if (!txt ||
			    strcmp(txt, "{\"type\":\"error\",\"code\":429,\"error\":\"rate limited\"}") != 0)
				bad++;
			errors++;
			free(txt);
		}
		cJSON_Delete(ev);
	}
	conf_got(r, "%ld frames sent: %ld accepted, %ld error frames (%ld malformed)", n, echoes,
		 errors, bad);
	conf_check(r, echoes >= o->rl_cap && errors > 0 && bad == 0 && echoes + errors == n, 0,
		   "WS-11/RL-4: frames beyond the bucket get {\"type\":\"error\",\"code\":429,"
		   "\"error\":\"rate limited\"}; the socket stays open");
	ws_free(w);
}

/* "Nothing else is rate limited" (§14): reads and heartbeats are free. */
static void c_unlimited(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	long n = o->global_rl_cap + 50, i, ok = 0;
	struct conf_room room;
	char st[160], li[160];

	if (!probe_ok(r, o->global_rl_cap, "--global-rl-cap"))
		return;
	conf_room_new(&room);
	if (conf_post_msg(r, &room, "x", NULL, NULL) < 0)
		return;
	snprintf(st, sizeof(st), "/api/rooms/%s/transcript", room.id);
	snprintf(li, sizeof(li), "/api/rooms/%s/listening", room.id);
	for (i = 0; i < n; i++) {
		struct conf_resp resp;

		if ((i % 2 ? conf_get(r, st, &resp) : conf_post_json(r, li, "{\"name\":\"n\"}", &resp)) < 0)
			break;
		ok += resp.status == 200;
		conf_resp_free(&resp);
	}
	conf_got(r, "%ld/%ld transcript and /listening requests answered 200", ok, n);
	conf_check(r, ok == n, 0,
		   "RL-1/RL-3: nothing else is rate limited (transcript, /listening beyond the "
		   "global cap)");
}

const struct conf_case conf_cases_rl[] = {
	{ "rl.room", "RL-1 RL-2 RL-4 ROOM-POST-3 HTTP-20", CONF_MUST, CF_LATE,
	  "the per-key bucket of room posts: cap, 429 + Retry-After 1, refill", c_room },
	{ "rl.global", "RL-3", CONF_MUST, CF_LATE, "the global per-IP bucket", c_global },
	{ "rl.report", "RL-5 RPT-1 RL-2", CONF_MUST, CF_LATE,
	  "reports: bucket bugs (shared with room bugs), Retry-After 10, no global", c_report },
	{ "rl.register", "RL-6 ID-REG-1", CONF_MUST, CF_LATE,
	  "registrations: bucket register, Retry-After 5", c_register },
	{ "rl.dm", "RL-7 DM-1b", CONF_MUST, CF_LATE, "DMs: bucket dm:<handle>, Retry-After 1", c_dm },
	{ "rl.auth", "RL-8 DM-7c CLAIM-1d INV-10", CONF_MUST, CF_LATE,
	  "authenticated routes: bucket auth:<handle> before verification", c_auth },
	{ "rl.ws", "WS-11 RL-4", CONF_MUST, CF_LATE, "WebSocket frames: the 429 error frame", c_ws },
	{ "rl.unlimited", "RL-1 RL-3", CONF_MUST, CF_LATE, "nothing else is rate limited",
	  c_unlimited },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
