/* h_rooms.c — POST messages, GET status / transcript / wait, POST listening (§6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "h_gate.h"
#include "handlers.h"
#include "hub.h"
#include "ipcount.h"
#include "limits.h"
#include "message.h"
#include "metrics.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/num.h"
#include "proto/valid.h"
#include "relay.h"
#include "roomsig.h"

#define WAIT_PAGE 500 /* ROOM-WAIT-2 */

static bool room_id_ok(const struct route_match *m)
{
	return val_room_id(m->p1, m->p1_len);
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

void h_room_messages(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	struct msg_in in;
	bool capped;

	if (!room_id_ok(m)) {
		resp_error(r, 400, "bad roomId", 0); /* ROOM-POST-1 */
		return;
	}
	if (!msg_validate(r->json, false, &in)) {
		resp_error(r, 400, fault_on(FAULT_WRONG_ERROR_STRING) ? "invalid message" : "bad message", 0); /* ROOM-POST-2 */
		return;
	}
	if (!limits_take(relay, r->ip, m->p1, true)) {
		resp_error(r, 429, "rate limited", 1); /* ROOM-POST-3 */
		return;
	}
	struct room *room = hub_get(relay->hub, m->p1, true, &capped);
	if (!room) {
		resp_error(r, 503, "room cap reached", 60); /* ROOM-POST-4 */
		return;
	}
	if (!hub_fuse_fits(relay->hub, in.post.ct_len)) {
		resp_error(r, 503, "global room buffer full \u2014 try again shortly", 60); /* ROOM-POST-5 */
		goto out;
	}
	if (in.is_signed) {
		int rc = roomsig_verify(relay, r->json, m->p1, &in); /* ROOM-POST-6 */
		if (rc == ROOMSIG_REPLAY_FULL) {
			resp_error(r, 503, "replay cache full \u2014 try again shortly", 5);
			goto out;
		}
		if (rc != 0) {
			resp_error(r, 401, "bad sender_sig", 0);
			goto out;
		}
	}
	int64_t seq;
	char id[37];
	switch (room_post(relay->hub, room, &in.post, &seq, id)) {
	case POST_OK: {
		char body[128];
		int n = snprintf(body, sizeof(body), "{\"ok\":true,\"id\":\"%s\",\"seq\":%lld}", id, (long long)seq);
		metrics_inc(M_http_posts_total);
		resp_json(r, 200, body, (size_t)n, NULL); /* ROOM-POST-10 */
		break;
	}
	case POST_NEED_SIG:
		resp_error(r, 400, "signed_only requires sender_sig", 0); /* ROOM-POST-7 */
		break;
	case POST_LOCKED:
		resp_error(r, 403, "signed_only: this room requires sender_sig from a registered @handle", 0);
		break;
	case POST_FUSE:
		resp_error(r, 503, "global room buffer full \u2014 try again shortly", 60);
		break;
	case POST_NOMEM:
		resp_error(r, 500, "internal error", 0);
		break;
	}
out:
	hub_release(relay->hub, room);
}

void h_room_status(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	struct jw w;
	if (!room_id_ok(m)) {
		resp_error(r, 400, "bad roomId", 0);
		return;
	}
	jw_init(&w, 256, 4096);
	jw_obj(&w);
	struct room *room = hub_get(relay->hub, m->p1, false, NULL);
	if (!room) {
		jw_key(&w, "exists"); /* ROOM-STATUS-1 */
		jw_bool(&w, false);
		jw_key(&w, "roomId");
		jw_str(&w, m->p1, m->p1_len);
		jw_obj_end(&w);
		send_jw(r, 200, &w);
		return;
	}
	struct room_status st;
	int64_t now = clock_now_ms();
	room_status(relay->hub, room, &st);
	hub_release(relay->hub, room);
	jw_key(&w, "exists"); /* ROOM-STATUS-2 */
	jw_bool(&w, true);
	jw_key(&w, "roomId");
	jw_str(&w, m->p1, m->p1_len);
	jw_key(&w, "participants");
	jw_int(&w, st.participants);
	jw_key(&w, "recent_count");
	jw_int(&w, (int64_t)st.recent);
	jw_key(&w, "last_seq");
	jw_int(&w, st.last_seq);
	jw_key(&w, "age_seconds");
	jw_int(&w, (now - st.created_at) / 1000);
	jw_key(&w, "idle_seconds");
	jw_int(&w, (now - st.last_active) / 1000);
	jw_key(&w, "signed_only");
	jw_bool(&w, st.locked);
	jw_obj_end(&w);
	send_jw(r, 200, &w);
}

static void write_messages(struct jw *w, struct event **evs, long n)
{
	jw_key(w, "messages");
	jw_arr(w);
	for (long i = 0; i < n; i++)
		jw_rawval(w, evs[i]->json, evs[i]->len); /* ROOM-17 with the optional leading type */
	jw_arr_end(w);
}

static size_t evs_bytes(struct event **evs, long n)
{
	size_t b = 256;
	for (long i = 0; i < n; i++)
		b += evs[i]->len + 1;
	return b;
}

static void absent_room(struct req *r)
{
	/* ROOM-TX-1, ROOM-WAIT-1 */
	resp_json(r, 200, "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 43, NULL);
}

static int64_t q_after(const struct req *r)
{
	const char *v;
	size_t len;
	return query_first(&r->query, "after", &v, &len) ? num_after(v, len) : 0;
}

void h_room_transcript(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	const char *v = NULL;
	size_t vlen = 0;
	if (!room_id_ok(m)) {
		resp_error(r, 400, "bad roomId", 0);
		return;
	}
	struct room *room = hub_get(relay->hub, m->p1, false, NULL);
	if (!room) {
		absent_room(r);
		return;
	}
	int limit = query_first(&r->query, "limit", &v, &vlen) ? num_limit(v, vlen) : num_limit(NULL, 0);
	struct event **evs;
	int64_t ls;
	long n = room_collect(relay->hub, room, q_after(r), (size_t)limit, &evs, NULL, &ls);
	hub_release(relay->hub, room);
	if (n < 0) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	struct jw w; /* ROOM-TX-2 */
	size_t cap = evs_bytes(evs, n);
	jw_init(&w, cap, cap);
	jw_obj(&w);
	write_messages(&w, evs, n);
	jw_key(&w, "last_seq");
	jw_int(&w, ls);
	jw_key(&w, "count");
	jw_int(&w, n);
	jw_key(&w, "exists");
	jw_bool(&w, true);
	jw_obj_end(&w);
	ev_release_array(evs, (size_t)n);
	send_jw(r, 200, &w);
}

static void wait_answer(struct req *r, struct event **evs, long n, bool more, int64_t ls)
{
	struct jw w;
	size_t cap = evs_bytes(evs, n);
	jw_init(&w, cap, cap);
	jw_obj(&w);
	write_messages(&w, evs, n);
	jw_key(&w, "last_seq");
	jw_int(&w, ls);
	if (more) {
		jw_key(&w, "has_more"); /* ROOM-WAIT-2 (sealroom) */
		jw_bool(&w, true);
	}
	jw_obj_end(&w);
	send_jw(r, 200, &w);
}

struct park_arg {
	struct room *room;
	int64_t after;
};

static bool park_room(void *arg, int64_t until)
{
	struct park_arg *p = arg;
	return room_park(p->room, p->after, false, until);
}

void h_room_wait(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	const char *v = NULL;
	size_t vlen = 0;
	if (!room_id_ok(m)) {
		resp_error(r, 400, "bad roomId", 0);
		return;
	}
	struct room *room = hub_get(relay->hub, m->p1, false, NULL);
	if (!room) {
		absent_room(r);
		return;
	}
	int64_t after = q_after(r);
	int timeout_s = query_first(&r->query, "timeout", &v, &vlen) ? num_timeout_s(v, vlen) : num_timeout_s(NULL, 0);
	struct event **evs;
	bool more;
	int64_t ls;
	long n = room_collect(relay->hub, room, after, WAIT_PAGE, &evs, &more, &ls);
	if (n != 0) {
		if (n < 0)
			resp_error(r, 500, "internal error", 0);
		else
			wait_answer(r, evs, n, more, ls); /* ROOM-WAIT-2 */
		ev_release_array(evs, n > 0 ? (size_t)n : 0);
		goto out;
	}
	if (!gate_park(r, room)) /* ROOM-WAIT-3: sets lastActive, room cap, then IP cap */
		goto out;
	metrics_inc(M_longpoll_waits_total);
	struct park_arg pa = {room, after};
	int woke = http_park(r, clock_mono_ms() + (int64_t)timeout_s * 1000, park_room, &pa);
	if (woke < 0) {
		http_abandon(r); /* ROOM-WAIT-6: a disconnect releases the slots, silently */
	} else {
		n = room_collect(relay->hub, room, after, WAIT_PAGE, &evs, &more, &ls);
		metrics_inc(woke ? M_longpoll_wakes_total : M_longpoll_timeouts_total);
		if (n < 0)
			resp_error(r, 500, "internal error", 0);
		else
			wait_answer(r, evs, n, more, ls); /* ROOM-WAIT-4/5 */
		ev_release_array(evs, n > 0 ? (size_t)n : 0);
	}
	gate_unpark(r, room); /* ROOM-WAIT-6: exactly once */
out:
	hub_release(relay->hub, room);
}

void h_room_listening(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	const char *name, *box = NULL;
	size_t name_len, box_len = 0;
	if (!room_id_ok(m)) {
		resp_error(r, 400, "bad roomId", 0);
		return;
	}
	struct room *room = hub_get(relay->hub, m->p1, false, NULL);
	if (!room) {
		resp_error(r, 404, "no such room", 0); /* ROOM-LISTEN-1: nothing is created */
		return;
	}
	size_t ok = 0;
	if (json_str(json_get(r->json, "name"), &name, &name_len))
		ok = val_presence_name(name, name_len);
	if (!ok) {
		resp_error(r, 400, "bad name", 0); /* ROOM-LISTEN-2 */
		goto out;
	}
	if (json_str(json_get(r->json, "box_pub"), &box, &box_len) && !b64_box_pub_ok(box, box_len)) {
		box = NULL;
		box_len = 0;
	}
	room_listening(relay->hub, room, name, ok, box, box_len); /* ROOM-LISTEN-3 */
	resp_json(r, 200, "{\"ok\":true}", 11, NULL);
out:
	hub_release(relay->hub, room);
}
