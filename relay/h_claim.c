/* h_claim.c — POST /api/rooms/{roomId}/claim and /ack (§13). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "h_gate.h"
#include "handlers.h"
#include "hub.h"
#include "identity.h"
#include "ipcount.h"
#include "limits.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/num.h"
#include "proto/valid.h"
#include "relay.h"
#include "reqauth.h"

#define E_REPLAY_FULL "replay cache full \u2014 try again shortly"

/* CLAIM-1a..e (ACK uses the same): room id, body handle, registered, rate limit, request
 * auth. On success returns the identity and leaves the lower-cased handle in h; otherwise
 * answers and returns NULL. */
static struct identity *claim_auth(struct req *r, const struct route_match *m, char h[IDS_HANDLE_MAX + 1])
{
	struct relay *relay = r->relay;
	const char *s;
	size_t n;
	if (!val_room_id(m->p1, m->p1_len)) {
		resp_error(r, 400, "bad roomId", 0); /* CLAIM-1a */
		return NULL;
	}
	if (!json_str(json_get(r->json, "handle"), &s, &n) || !val_handle_loose(s, n)) {
		resp_error(r, 400, "bad handle", 0); /* CLAIM-1b */
		return NULL;
	}
	memcpy(h, s, n);
	h[n] = '\0';
	val_lower_ascii(h, n);
	struct identity *id = ids_get(relay->ids, h, n);
	if (!id) {
		resp_error(r, 404, "no such handle", 0); /* CLAIM-1c */
		return NULL;
	}
	return gate_auth(r, id, h) ? id : NULL; /* CLAIM-1d, then CLAIM-1e (INV-10) */
}

static void send_jw(struct req *r, int status, struct jw *w)
{
	size_t len;
	char *body = jw_take(w, &len);
	if (!body) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	resp_json(r, status, body, len, NULL);
	free(body);
}

/* CLAIM-5: {"ok":true,"claim_id","message":ROOM-19,"cursor","last_seq"} */
static void answer_claim(struct req *r, const struct claim_out *o)
{
	size_t ml;
	char *msg = ev_claim_json(o->ev, &ml);
	if (!msg) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	struct jw w;
	jw_init(&w, ml + 160, ml + 256);
	jw_obj(&w);
	jw_key(&w, "ok");
	jw_bool(&w, true);
	jw_key(&w, "claim_id");
	jw_cstr(&w, o->claim_id);
	jw_key(&w, "message");
	jw_rawval(&w, msg, ml);
	jw_key(&w, "cursor");
	jw_int(&w, o->cursor);
	jw_key(&w, "last_seq");
	jw_int(&w, o->last_seq);
	jw_obj_end(&w);
	free(msg);
	send_jw(r, 200, &w);
}

/* CLAIM-1f / CLAIM-7: {"ok":true,"empty":true,"last_seq","cursor"[,"exists":false]} */
static void answer_empty(struct req *r, int64_t last_seq, int64_t cursor, bool absent)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"ok\":true,\"empty\":true,\"last_seq\":%lld,\"cursor\":%lld%s}",
			 (long long)last_seq, (long long)cursor, absent ? ",\"exists\":false" : "");
	resp_json(r, 200, body, (size_t)n, NULL);
}

struct claim_park {
	struct room *room;
	int64_t after;
};

static bool park_claim(void *arg, int64_t until)
{
	struct claim_park *p = arg;
	return room_park(p->room, p->after, false, until);
}

void h_room_claim(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	char h[IDS_HANDLE_MAX + 1];
	const char *v = NULL;
	size_t vl = 0;
	struct identity *id = claim_auth(r, m, h);
	if (!id)
		return;
	struct room *room = hub_get(relay->hub, m->p1, false, NULL);
	if (!room) {
		answer_empty(r, 0, 0, true); /* CLAIM-1f: nothing is created */
		return;
	}
	int timeout_s = query_first(&r->query, "timeout", &v, &vl) ? num_timeout_s(v, vl) : num_timeout_s(NULL, 0);
	int64_t ttl = query_first(&r->query, "ttl_ms", &v, &vl) ? num_claim_ttl_ms(v, vl, relay->cfg.claim_ttl_ms)
								 : num_claim_ttl_ms(NULL, 0, relay->cfg.claim_ttl_ms);
	struct claim_excl ex;
	struct claim_out o;
	if (claim_excl_build(&ex, h, strlen(h), json_get(r->json, "exclude_senders")) < 0) { /* CLAIM-4 */
		resp_error(r, 500, "internal error", 0);
		goto out;
	}
	/* CLAIM-2, 3, 5 */
	if (claim_take(relay->claims, relay->hub, room, id, m->p1, &ex, ttl, true, clock_now_ms(), &o) < 0) {
		resp_error(r, 500, "internal error", 0);
		goto out_ex;
	}
	if (o.got) {
		answer_claim(r, &o);
		ev_unref(o.ev);
		goto out_ex;
	}
	/* CLAIM-6: park as ROOM-WAIT-3 (sets lastActive; room cap, then IP cap) */
	if (!gate_park(r, room))
		goto out_ex;
	/* CLAIM-7: resolved by any message accepted after our pick. Every new message has a
	 * seq above the last_seq the pick saw, so waiting for last_seq to pass it cannot miss
	 * one posted between the pick and the park. */
	struct claim_park pa = {room, o.last_seq};
	if (http_park(r, clock_mono_ms() + (int64_t)timeout_s * 1000, park_claim, &pa) < 0)
		http_abandon(r); /* CLAIM-7: a disconnect releases the slots */
	else if (claim_take(relay->claims, relay->hub, room, id, m->p1, &ex, ttl, false, clock_now_ms(), &o) < 0)
		resp_error(r, 500, "internal error", 0);
	else if (o.got)
		answer_claim(r, &o); /* never parks again */
	else
		answer_empty(r, o.last_seq, o.cursor, false);
	if (o.got)
		ev_unref(o.ev);
	gate_unpark(r, room);
out_ex:
	claim_excl_free(&ex);
out:
	hub_release(relay->hub, room);
}

/* §13.2: a JSON number gives its integer part, a string P(s), anything else (and NaN) 0. */
static int64_t ack_seq(const cJSON *v)
{
	const char *s;
	size_t n;
	int64_t out = 0;
	if (cJSON_IsNumber(v)) {
		double d = trunc(v->valuedouble);
		if (d >= 9.2e18)
			return INT64_MAX;
		if (d <= -9.2e18)
			return INT64_MIN;
		return (int64_t)d;
	}
	if (json_str(v, &s, &n) && num_parse(s, n, &out))
		return out;
	return 0;
}

void h_room_ack(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	char h[IDS_HANDLE_MAX + 1];
	struct identity *id = claim_auth(r, m, h); /* CLAIM-1a..e; the room need not exist */
	if (!id)
		return;
	const char *cid = "";
	size_t cl = 0;
	if (!json_str(json_get(r->json, "claim_id"), &cid, &cl)) {
		cid = ""; /* a non-string claim_id is "" */
		cl = 0;
	}
	int64_t seq = ack_seq(json_get(r->json, "seq")), cursor;
	char body[128];
	int n;
	switch (claim_ack(relay->claims, id, m->p1, cid, cl, seq, clock_now_ms(), &cursor)) {
	case CLAIM_ACK_NO_RECORD: /* ACK-1 */
	case CLAIM_ACK_BEHIND:    /* ACK-2 */
		n = snprintf(body, sizeof(body), "{\"ok\":true,\"advanced\":false,\"cursor\":%lld}", (long long)cursor);
		resp_json(r, 200, body, (size_t)n, NULL);
		break;
	case CLAIM_ACK_STALE: /* ACK-3 */
		n = snprintf(body, sizeof(body), "{\"error\":\"stale or unknown claim\",\"cursor\":%lld}", (long long)cursor);
		resp_json(r, 409, body, (size_t)n, NULL);
		break;
	case CLAIM_ACK_ADVANCED: /* ACK-4 */
		n = snprintf(body, sizeof(body), "{\"ok\":true,\"advanced\":true,\"cursor\":%lld}", (long long)cursor);
		resp_json(r, 200, body, (size_t)n, NULL);
		break;
	}
}
