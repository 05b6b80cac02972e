/* status.* — PROTOCOL.md §6.2: GET /api/rooms/{roomId}/status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "proto/json.h"

/* ROOM-STATUS-1, INV-8: an absent room, and asking does not create it. */
static void c_absent(struct conf_run *r)
{
	char room[16], target[160], want[160];
	int i;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	snprintf(want, sizeof(want), "{\"exists\":false,\"roomId\":\"%s\"}", room);
	for (i = 0; i < 2; i++) {
		struct conf_resp resp;

		if (conf_get(r, target, &resp) < 0)
			return;
		conf_expect_status(r, &resp, 200, 0, "ROOM-STATUS-1");
		conf_expect_body(r, &resp, want, 0,
				 i == 0 ? "ROOM-STATUS-1: an absent room"
					: "INV-8: a status request does not create the room");
		conf_expect_schema(r, &resp, "/api/rooms/{roomId}/status", "get", 0, "ROOM-STATUS-1");
		conf_resp_free(&resp);
	}
}

/* ROOM-STATUS-2: counts and ages of a live room. */
static void c_present(struct conf_run *r)
{
	struct conf_room room;
	char target[160], keys[256];
	struct sse_conn *s = NULL;
	struct ws_conn *w = NULL;
	struct conf_resp resp;
	int64_t last = -1;
	int i;

	conf_room_new(&room);
	for (i = 0; i < 3; i++)
		last = conf_post_msg(r, &room, "status", NULL, NULL);
	if (last < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=%lld", room.id, (long long)last);
	s = conf_sse(r, target, NULL);
	if (s)
		cJSON_Delete(conf_sse_until(s, "ready", conf_ms(r, 5000), NULL));
	snprintf(target, sizeof(target), "/api/rooms/%s/ws?after=%lld", room.id, (long long)last);
	if (conf_ws(r, target, NULL, &w, NULL, NULL) == 0)
		cJSON_Delete(conf_ws_until(w, "ready", conf_ms(r, 5000), NULL));
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	if (conf_post_json(r, target, "{\"name\":\"heartbeat-only\"}", &resp) == 0)
		conf_resp_free(&resp);
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room.id);
	if (conf_get(r, target, &resp) == 0) {
		const cJSON *j = resp.json;

		conf_check(r, resp.status == 200 &&
				      strcmp(conf_keys(j, keys, sizeof(keys)),
					     "exists,roomId,participants,recent_count,last_seq,"
					     "age_seconds,idle_seconds,signed_only") == 0,
			   0, "ROOM-STATUS-2: keys exists, roomId, participants, recent_count, "
			      "last_seq, age_seconds, idle_seconds, signed_only in this order");
		conf_check(r, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "exists")) &&
				      conf_jstr(j, "roomId") && strcmp(conf_jstr(j, "roomId"), room.id) == 0,
			   0, "ROOM-STATUS-2: exists:true and the roomId");
		conf_check(r, conf_jint(j, "participants", -1) == (s != NULL) + (w != NULL), 0,
			   "ROOM-STATUS-2: participants counts SSE + WS subscribers, not heartbeats");
		conf_check(r, conf_jint(j, "recent_count", -1) == 3 && conf_jint(j, "last_seq", -1) == last,
			   0, "ROOM-STATUS-2: recent_count 3 and last_seq = the newest seq (ROOM-8)");
		conf_check(r, json_is_int(cJSON_GetObjectItemCaseSensitive(j, "age_seconds")) &&
				      json_is_int(cJSON_GetObjectItemCaseSensitive(j, "idle_seconds")) &&
				      conf_jint(j, "age_seconds", -1) >= 0 &&
				      conf_jint(j, "idle_seconds", -1) >= 0 &&
				      conf_jint(j, "idle_seconds", 0) <= conf_jint(j, "age_seconds", 0) &&
				      conf_jint(j, "age_seconds", 99) < 60,
			   0, "ROOM-STATUS-2: age_seconds and idle_seconds are whole seconds, "
			      "0 <= idle <= age");
		conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "signed_only")), 0,
			   "ROOM-STATUS-2: signed_only:false for an unlocked room");
		conf_expect_schema(r, &resp, "/api/rooms/{roomId}/status", "get", 0, "ROOM-STATUS-2");
		conf_resp_free(&resp);
	}
	sse_close(s);
	ws_free(w);
}

const struct conf_case conf_cases_status[] = {
	{ "status.absent", "ROOM-STATUS-1 INV-8", CONF_MUST, 0,
	  "an absent room: {\"exists\":false,\"roomId\"}; asking creates nothing", c_absent },
	{ "status.present", "ROOM-STATUS-2 ROOM-8", CONF_MUST, 0,
	  "a live room's counts, last_seq, ages and lock flag", c_present },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
