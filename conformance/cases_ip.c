/* ip.* — PROTOCOL.md §3: client IP derivation, observed through the per-IP stream cap
 * (CAP-1): streams whose headers must resolve to the same client IP fill the cap together. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

#define MAX_STREAMS 256

static bool loopback_or_info(struct conf_run *r)
{
	r->expect_refusals = true;
	if (!conf_base_is_loopback(r->ctx) || !r->ctx->o.use_xff) {
		conf_info(r, "not observable: X-Forwarded-For counts only from a loopback peer "
			     "(IP-1); run the runner on the relay's host with --base http://127.0.0.1:PORT");
		return false;
	}
	if (r->ctx->o.stream_cap > MAX_STREAMS - 8) {
		conf_info(r, "not exercised: --stream-cap %ld is too large", r->ctx->o.stream_cap);
		return false;
	}
	return true;
}

/* Up to two headers; each is pre + key + post (post NULL: pre alone, no key). */
struct variant {
	const char *pre1, *post1, *pre2, *post2;
};

static void build(char *out, size_t cap, const char *pre, const char *post, const char *key)
{
	if (post)
		snprintf(out, cap, "%s%s%s", pre, key, post);
	else
		snprintf(out, cap, "%s", pre);
}

/* Open one SSE stream with headers built from v and key; returns the conn (status in it). */
static struct sse_conn *open_with(struct conf_run *r, const char *room, const struct variant *v,
				  const char *key)
{
	char a[200], b[200], target[160];
	const char *hdrs[3] = { NULL, NULL, NULL };
	int n = 0;
	struct sse_conn *c;
	char saved[48];

	if (v->pre1) {
		build(a, sizeof(a), v->pre1, v->post1, key);
		hdrs[n++] = a;
	}
	if (v->pre2) {
		build(b, sizeof(b), v->pre2, v->post2, key);
		hdrs[n++] = b;
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999", room);
	memcpy(saved, r->ip, sizeof(saved));
	r->ip[0] = '\0'; /* the variant's own headers only */
	c = conf_sse(r, target, hdrs);
	memcpy(r->ip, saved, sizeof(saved));
	if (c)
		conf_sent(r, "GET %s with %s%s%s", target, hdrs[0] ? hdrs[0] : "(no headers)",
			  hdrs[1] ? " + " : "", hdrs[1] ? hdrs[1] : "");
	return c;
}

/* Fill the cap of key with the variants, then check that key's next stream is refused and
 * another key's is not. */
static void fill_and_probe(struct conf_run *r, const struct variant *vars, size_t nv,
			   const char *key, const char *rule)
{
	long cap = r->ctx->o.stream_cap, i, ok = 0;
	struct sse_conn *c[MAX_STREAMS] = { 0 };
	char room[16], other[48];
	static const struct variant plain = { "X-Forwarded-For: ", "", NULL, NULL };
	struct sse_conn *probe;

	conf_room_id(room);
	for (i = 0; i < cap; i++) {
		c[i] = open_with(r, room, &vars[i % (long)nv], key);
		if (!c[i] || sse_conn_status(c[i]) != 200) {
			conf_got(r, "stream %ld of %ld refused (status %ld)", i + 1, cap,
				 c[i] ? sse_conn_status(c[i]) : 0);
			break;
		}
		ok++;
	}
	conf_check(r, ok == cap, 0, "%s: %ld streams of one client IP are within STREAM_CAP_PER_IP",
		   rule, cap);
	probe = open_with(r, room, &plain, key);
	if (probe) {
		size_t n;
		const char *body = sse_conn_raw(probe, &n);

		conf_got(r, "%ld %s", sse_conn_status(probe), body ? body : "");
		conf_check(r, sse_conn_status(probe) == 429, 0,
			   "%s: every header form above resolved to %s: the next stream of %s is "
			   "refused (429)", rule, key, key);
		sse_close(probe);
	}
	conf_fresh_ip(r, other);
	probe = open_with(r, room, &plain, other);
	if (probe) {
		conf_check(r, sse_conn_status(probe) == 200, 0,
			   "%s: another client IP is not affected", rule);
		sse_close(probe);
	}
	for (i = 0; i < cap; i++)
		sse_close(c[i]);
}

/* IP-1, IP-3, IP-4: XFF from a loopback peer, right to left, skipping loopback entries. */
static void c_xff(struct conf_run *r)
{
	static const struct variant forms[] = {
		{ "X-Forwarded-For: ", "", NULL, NULL },
		{ "X-Forwarded-For: 9.9.9.9, ", "", NULL, NULL },
		{ "X-Forwarded-For: ", ", 127.0.0.5", NULL, NULL },
		{ "X-Forwarded-For: ", ", ::1", NULL, NULL },
		{ "X-Forwarded-For: ", ", ::ffff:127.0.0.9", NULL, NULL },
		{ "X-Forwarded-For: 9.9.9.9", NULL, "X-Forwarded-For: ", "" },
		{ "X-Forwarded-For: ", ",, ,127.0.0.1", NULL, NULL },
		{ "X-Forwarded-For: ", "", "CF-Connecting-IP: 1.2.3.4", NULL },
		{ "X-Forwarded-For:    ", "   ", NULL, NULL },
	};
	static const struct variant garbage[] = {
		{ "X-Forwarded-For: ", "", NULL, NULL },
		{ "X-Forwarded-For: ", ", 127.0.0.1", NULL, NULL },
		{ "X-Forwarded-For: 8.8.8.8, ", "", NULL, NULL },
	};
	char key[48], junk[64];

	if (!loopback_or_info(r))
		return;
	conf_fresh_ip(r, key);
	fill_and_probe(r, forms, sizeof(forms) / sizeof(forms[0]), key,
		       "IP-1 (X-Forwarded-For right to left, loopback entries skipped, repeated "
		       "headers joined, empty entries dropped, CF-Connecting-IP ignored for HTTP)");
	snprintf(junk, sizeof(junk), "not-an-ip-%s", key);
	fill_and_probe(r, garbage, sizeof(garbage) / sizeof(garbage[0]), junk,
		       "IP-1 (a non-IP string counts as not loopback)");
}

/* IP-2, IP-3: the WebSocket rule: CF-Connecting-IP, else the last XFF entry. */
static void c_ws(struct conf_run *r)
{
	long cap = r->ctx->o.stream_cap, i;
	struct sse_conn *c[MAX_STREAMS] = { 0 };
	char room[16], key[48], k2[48], target[160], saved[48];
	char h[5][2][120];
	static const struct variant plain = { "X-Forwarded-For: ", "", NULL, NULL };
	static const struct {
		bool refused;
		const char *what;
	} t[] = {
		{ false, "CF-Connecting-IP wins over X-Forwarded-For" },
		{ false, "the LAST X-Forwarded-For entry counts (here 7.7.7.7)" },
		{ true, "the last X-Forwarded-For entry is the capped IP" },
		{ true, "CF-Connecting-IP is trimmed" },
		{ true, "an empty CF-Connecting-IP falls back to X-Forwarded-For" },
	};
	size_t k;

	if (!loopback_or_info(r))
		return;
	conf_room_id(room);
	conf_fresh_ip(r, key);
	conf_fresh_ip(r, k2);
	snprintf(h[0][0], 120, "CF-Connecting-IP: %s", k2);
	snprintf(h[0][1], 120, "X-Forwarded-For: %s", key);
	snprintf(h[1][0], 120, "X-Forwarded-For: %s, 7.7.7.7", key);
	h[1][1][0] = '\0';
	snprintf(h[2][0], 120, "X-Forwarded-For: 7.7.7.7, %s", key);
	h[2][1][0] = '\0';
	snprintf(h[3][0], 120, "CF-Connecting-IP:   %s  ", key);
	h[3][1][0] = '\0';
	snprintf(h[4][0], 120, "CF-Connecting-IP: ");
	snprintf(h[4][1], 120, "X-Forwarded-For: %s", key);
	/* The capped IP: all STREAM_CAP_PER_IP streams in use. */
	for (i = 0; i < cap; i++) {
		c[i] = open_with(r, room, &plain, key);
		if (!c[i] || sse_conn_status(c[i]) != 200)
			break;
	}
	conf_check(r, i == cap, 0, "IP-1: %ld streams of one client IP are within the cap", cap);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room);
	memcpy(saved, r->ip, sizeof(saved));
	r->ip[0] = '\0';
	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		const char *hdrs[3] = { h[k][0], h[k][1][0] ? h[k][1] : NULL, NULL };
		struct ws_conn *w = NULL;
		cJSON *ev = NULL;
		bool refused;
		const char *kind;
		char *txt;

		if (conf_ws(r, target, hdrs, &w, NULL, NULL) != 0) {
			conf_check(r, false, 0, "IP-2: the upgrade succeeds");
			continue;
		}
		conf_sent(r, "WS upgrade with %s%s%s (capped IP %s)", hdrs[0], hdrs[1] ? " + " : "",
			  hdrs[1] ? hdrs[1] : "", key);
		conf_ws_json(w, conf_ms(r, 5000), &ev, NULL);
		kind = conf_jstr(ev, "type");
		refused = kind && strcmp(kind, "error") == 0 && conf_jint(ev, "code", 0) == 429;
		txt = conf_jprint(ev);
		conf_got(r, "first frame %s", txt ? txt : "(none)");
		free(txt);
		conf_check(r, refused == t[k].refused, 0, "IP-2/IP-3: %s → %s", t[k].what,
			   t[k].refused ? "refused by that IP's stream cap (WS-5)" : "accepted");
		cJSON_Delete(ev);
		ws_free(w);
	}
	memcpy(r->ip, saved, sizeof(saved));
	for (i = 0; i < cap; i++)
		sse_close(c[i]);
}

const struct conf_case conf_cases_ip[] = {
	{ "ip.xff", "IP-1 IP-3 IP-4 CAP-1 SSE-2", CONF_MUST, 0,
	  "HTTP client IP: XFF from a loopback peer, right to left, loopback entries skipped",
	  c_xff },
	{ "ip.ws", "IP-2 IP-3 WS-5", CONF_MUST, 0,
	  "WebSocket client IP: CF-Connecting-IP, else the last XFF entry", c_ws },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
