/* room-post.* — PROTOCOL.md §6.1: POST /api/rooms/{roomId}/messages, checks in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "proto/json.h"

static void post_expect(struct conf_run *r, const char *room, const char *body, long status,
			const char *error, const char *rule)
{
	char target[200];
	struct conf_resp resp;

	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room);
	if (conf_post_json(r, target, body, &resp) < 0)
		return;
	conf_expect_error(r, &resp, status, error, 0, 0, rule);
	conf_resp_free(&resp);
}

static int room_exists(struct conf_run *r, const char *room, cJSON **out)
{
	char target[160];
	cJSON *st;
	const cJSON *e;
	int v;

	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	st = conf_get_json(r, target, NULL);
	e = cJSON_GetObjectItemCaseSensitive(st, "exists");
	v = cJSON_IsBool(e) ? cJSON_IsTrue(e) : -1;
	if (out)
		*out = st;
	else
		cJSON_Delete(st);
	return v;
}

/* ROOM-POST-1: the room id first, before the body's own validity. */
static void c_bad_room(struct conf_run *r)
{
	static const char *const rooms[] = {
		"abc", "ab.cd", "AB%20CD", "0123456789012345678901234567890123456789012345678901234567890123X",
		NULL,
	};
	const char *const *p;
	struct conf_room ok;
	char *body;

	conf_room_new(&ok);
	body = conf_sealed_body(&ok, "x", NULL);
	if (!body)
		return;
	for (p = rooms; *p; p++)
		post_expect(r, *p, body, 400, "bad roomId",
			    "ROOM-POST-1: a room id failing VAL-1 → 400 {\"error\":\"bad roomId\"}");
	post_expect(r, "abc", "{}", 400, "bad roomId",
		    "ROOM-POST-1: the room id is checked before the message (ROOM-POST-2)");
	free(body);
}

/* ROOM-POST-10: the success answer. */
static void c_ok(struct conf_run *r)
{
	struct conf_room room;
	char target[160], keys[128];
	char *body;
	struct conf_resp resp;

	conf_room_new(&room);
	body = conf_sealed_body(&room, "ok", NULL);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	if (!body || conf_post_json(r, target, body, &resp) < 0) {
		free(body);
		return;
	}
	conf_check(r, resp.status == 200 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.json, "ok")) &&
			      strcmp(conf_keys(resp.json, keys, sizeof(keys)), "ok,id,seq") == 0 &&
			      conf_is_uuid(conf_jstr(resp.json, "id")) &&
			      json_is_int(cJSON_GetObjectItemCaseSensitive(resp.json, "seq")),
		   0, "ROOM-POST-10: 200 {\"ok\":true,\"id\":\"<uuid>\",\"seq\":<int>} in this key order");
	conf_expect_schema(r, &resp, "/api/rooms/{roomId}/messages", "post", 0, "ROOM-POST-10");
	{
		char tt[160];
		cJSON *tx;
		const cJSON *m;

		snprintf(tt, sizeof(tt), "/api/rooms/%s/transcript", room.id);
		tx = conf_get_json(r, tt, NULL);
		m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tx, "messages"), 0);
		conf_check(r, m && conf_jint(m, "seq", -1) == conf_jint(resp.json, "seq", -2) &&
				      conf_jstr(m, "id") && conf_jstr(resp.json, "id") &&
				      strcmp(conf_jstr(m, "id"), conf_jstr(resp.json, "id")) == 0,
			   0, "ROOM-POST-10: the answer's id and seq are the stored message's");
		cJSON_Delete(tx);
	}
	conf_resp_free(&resp);
	free(body);
}

/* ROOM-POST-9, ROOM-POST-7, ROOM-POST-6: rejected posts still created their room. */
static void c_side_effects(struct conf_run *r)
{
	struct conf_room a, b;
	char *body;
	cJSON *st = NULL;

	conf_room_new(&a);
	body = conf_sealed_body(&a, "x", ",\"signed_only\":true");
	if (!body)
		return;
	post_expect(r, a.id, body, 400, "signed_only requires sender_sig",
		    "ROOM-POST-7: an unsigned post with signed_only:true on an unlocked room → 400");
	free(body);
	conf_check(r, room_exists(r, a.id, &st) == 1, 0,
		   "ROOM-POST-9: the room created at step 4 stays after the rejection");
	conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "signed_only")) &&
			      conf_jint(st, "recent_count", -1) == 0,
		   0, "ROOM-POST-7: the rejected post neither locked the room nor was stored");
	cJSON_Delete(st);
	/* Only sender_sig (no sender_handle) is unsigned (ROOM-13): still refused. */
	body = conf_sealed_body(&a, "x", ",\"signed_only\":true,\"sender_sig\":\"AAAA\"");
	if (body)
		post_expect(r, a.id, body, 400, "signed_only requires sender_sig",
			    "ROOM-POST-7/ROOM-13: sender_sig without sender_handle is unsigned");
	free(body);
	conf_room_new(&b);
	body = conf_sealed_body(&b, "x",
				",\"sender_handle\":\"cfnosuchhandle0\",\"sender_ts\":1,"
				"\"sender_nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"sender_sig\":\"AAAA\"");
	if (body)
		post_expect(r, b.id, body, 401, "bad sender_sig",
			    "ROOM-POST-6: a signed post that fails SIG-5..8 → 401 bad sender_sig");
	free(body);
	conf_check(r, room_exists(r, b.id, NULL) == 1, 0,
		   "ROOM-POST-9: a room created before a failed signature check stays");
}

/* ROOM-POST-7, ROOM-POST-8, ROOM-6, PRES-5, ROOM-STATUS-2: signed_only locking. */
static void c_lock(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	char target[160], *body;
	struct sse_conn *c;
	struct conf_resp resp;
	cJSON *ev, *st = NULL;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	if (conf_post_msg(r, &room, "before the lock", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999", room.id);
	c = conf_sse(r, target, NULL);
	if (!c)
		return;
	cJSON_Delete(conf_sse_until(c, "presence", conf_ms(r, 5000), NULL));
	body = conf_signed_body(&id, &room, "locking", ",\"signed_only\":true");
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	if (body && conf_post_json(r, target, body, &resp) == 0) {
		conf_check(r, resp.status == 200, 0,
			   "ROOM-POST-7: a signed post with signed_only:true is accepted and locks");
		conf_resp_free(&resp);
	}
	free(body);
	ev = NULL;
	if (conf_sse_json(c, conf_ms(r, 5000), &ev, NULL) == 1) {
		char *txt = conf_jprint(ev);

		conf_got(r, "first event after the post: %s", txt ? txt : "?");
		free(txt);
	}
	conf_check(r, ev && cJSON_GetArraySize(ev) == 1 && conf_jstr(ev, "type") &&
			      strcmp(conf_jstr(ev, "type"), "locked") == 0,
		   0, "ROOM-POST-7/PRES-5: {\"type\":\"locked\"} is broadcast before the message");
	cJSON_Delete(ev);
	ev = conf_sse_until(c, "message", conf_ms(r, 5000), NULL);
	conf_check(r, ev && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "sender_verified")), 0,
		   "ROOM-POST-7: then the signed message");
	cJSON_Delete(ev);
	body = conf_sealed_body(&room, "unsigned", NULL);
	if (body)
		post_expect(r, room.id, body, 403,
			    "signed_only: this room requires sender_sig from a registered @handle",
			    "ROOM-POST-8: an unsigned post to a locked room → 403");
	free(body);
	body = conf_sealed_body(&room, "unsigned", ",\"signed_only\":false");
	if (body)
		post_expect(r, room.id, body, 403,
			    "signed_only: this room requires sender_sig from a registered @handle",
			    "ROOM-6: signed_only:false does not unlock a room");
	free(body);
	body = conf_signed_body(&id, &room, "signed, no flag", NULL);
	if (body && conf_post_json(r, target, body, &resp) == 0) {
		conf_check(r, resp.status == 200, 0,
			   "ROOM-POST-8: a signed post to a locked room is accepted");
		conf_resp_free(&resp);
	}
	free(body);
	conf_check(r, room_exists(r, room.id, &st) == 1 &&
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "signed_only")),
		   0, "ROOM-STATUS-2/ROOM-6: status reports signed_only:true while the room lives");
	cJSON_Delete(st);
	sse_close(c);
}

const struct conf_case conf_cases_room_post[] = {
	{ "room-post.bad-room", "ROOM-POST-1 VAL-1", CONF_MUST, 0,
	  "bad room ids → 400 bad roomId, before the body is judged", c_bad_room },
	{ "room-post.ok", "ROOM-POST-10 ROOM-7", CONF_MUST, 0,
	  "the success answer: ok, id, seq, matching the stored message", c_ok },
	{ "room-post.side-effects", "ROOM-POST-9 ROOM-POST-7 ROOM-POST-6 ROOM-13", CONF_MUST, 0,
	  "rejected posts leave their room created and unlocked", c_side_effects },
	{ "room-post.lock", "ROOM-POST-7 ROOM-POST-8 ROOM-6 PRES-5 ROOM-STATUS-2", CONF_MUST, 0,
	  "signed_only: a signed post locks the room; unsigned posts then get 403", c_lock },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
