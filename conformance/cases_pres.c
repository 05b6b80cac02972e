/* pres.* — PROTOCOL.md §9: presence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

static char *print(const cJSON *j)
{
	char *t = conf_jprint(j);

	return t ? t : strdup("(none)");
}

static void send_str(struct ws_conn *w, const char *s)
{
	ws_send_text(w, s, strlen(s));
}

static void listening(struct conf_run *r, const char *room, const char *body)
{
	char target[200];
	struct conf_resp resp;

	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room);
	if (conf_post_json(r, target, body, &resp) == 0) {
		conf_check(r, resp.status == 200, 0, "ROOM-LISTEN-3: /listening answers 200");
		conf_resp_free(&resp);
	}
}

/* PRES-1..3: the presence event and participant entries. */
static void c_shape(struct conf_run *r)
{
	static const char boxa[] = "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=";
	static const char boxc[] = "Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8=";
	char room[16], target[300], body[200], keys[128], *txt;
	struct sse_conn *a = NULL, *u = NULL, *a2 = NULL, *obs = NULL;
	struct ws_conn *b = NULL;
	cJSON *ready = NULL, *pres = NULL;
	const cJSON *parts, *names;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events?name=alice&box_pub=%s", room, boxa);
	a = conf_sse(r, target, NULL);
	snprintf(target, sizeof(target), "/api/rooms/%s/events", room);
	u = conf_sse(r, target, NULL);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room);
	if (!a || !u || conf_ws(r, target, NULL, &b, NULL, NULL) != 0)
		goto out;
	cJSON_Delete(conf_ws_until(b, "presence", conf_ms(r, 5000), NULL));
	send_str(b, "{\"type\":\"hello\",\"name\":\"bob\"}");
	cJSON_Delete(conf_ws_until(b, "presence", conf_ms(r, 5000), NULL));
	snprintf(target, sizeof(target), "/api/rooms/%s/events?name=alice&box_pub=%s", room, boxa);
	a2 = conf_sse(r, target, NULL);
	snprintf(body, sizeof(body), "{\"name\":\"carol\",\"box_pub\":\"%s\"}", boxc);
	listening(r, room, body);
	listening(r, room, "{\"name\":\"alice\"}");
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=0", room);
	obs = conf_sse(r, target, NULL);
	if (!a2 || !obs)
		goto out;
	ready = conf_sse_until(obs, "ready", conf_ms(r, 5000), NULL);
	parts = cJSON_GetObjectItemCaseSensitive(ready, "participants");
	txt = print(parts);
	conf_got(r, "ready.participants %s", txt);
	free(txt);
	conf_check(r, cJSON_GetArraySize(parts) == 3, 0,
		   "PRES-2: one entry per distinct subscriber name, then heartbeats not listed yet "
		   "(alice, bob, carol)");
	{
		const cJSON *p0 = cJSON_GetArrayItem(parts, 0), *p1 = cJSON_GetArrayItem(parts, 1),
			    *p2 = cJSON_GetArrayItem(parts, 2);

		conf_check(r, p0 && strcmp(conf_jstr(p0, "name") ? conf_jstr(p0, "name") : "", "alice") == 0 &&
				      strcmp(conf_keys(p0, keys, sizeof(keys)), "name,box_pub,last_seen_ms_ago") == 0 &&
				      strcmp(conf_jstr(p0, "box_pub"), boxa) == 0,
			   0, "PRES-2: a subscriber entry is {name[,box_pub],last_seen_ms_ago}, in "
			      "subscription order");
		conf_check(r, p1 && strcmp(conf_jstr(p1, "name") ? conf_jstr(p1, "name") : "", "bob") == 0 &&
				      strcmp(conf_keys(p1, keys, sizeof(keys)), "name,last_seen_ms_ago") == 0,
			   0, "PRES-2: box_pub appears only when set");
		conf_check(r, p2 && strcmp(conf_jstr(p2, "name") ? conf_jstr(p2, "name") : "", "carol") == 0 &&
				      strcmp(conf_keys(p2, keys, sizeof(keys)), "name,last_seen_ms_ago,box_pub") == 0,
			   0, "PRES-2: a heartbeat entry is {name,last_seen_ms_ago[,box_pub]} (note the "
			      "order)");
		conf_check(r, conf_jint(p0, "last_seen_ms_ago", -1) >= 0 &&
				      conf_jint(p2, "last_seen_ms_ago", -1) >= 0,
			   0, "PRES-2: last_seen_ms_ago = max(0, now - last_seen)");
	}
	pres = conf_sse_until(obs, "presence", conf_ms(r, 5000), NULL);
	names = cJSON_GetObjectItemCaseSensitive(pres, "names");
	txt = print(pres);
	conf_got(r, "%s", txt);
	free(txt);
	conf_check(r, pres && conf_jint(pres, "size", -1) == 5 && cJSON_GetArraySize(names) == 2 &&
			      strcmp(cJSON_GetArrayItem(names, 0)->valuestring, "alice") == 0 &&
			      strcmp(cJSON_GetArrayItem(names, 1)->valuestring, "bob") == 0 &&
			      strcmp(conf_keys(pres, keys, sizeof(keys)), "type,size,names,participants") == 0,
		   0, "PRES-1/PRES-3: {type,size,names,participants}: size counts all 5 subscribers, "
		      "names the distinct subscriber names in subscription order (no heartbeats)");
	if (pres)
		conf_expect_component(r, pres, "PresenceEvent", 0, "PRES-1");
out:
	cJSON_Delete(ready);
	cJSON_Delete(pres);
	sse_close(a);
	sse_close(u);
	sse_close(a2);
	sse_close(obs);
	ws_free(b);
}

/* PRES-1: messages and WS listening frames broadcast no presence. */
static void c_triggers(struct conf_run *r)
{
	struct conf_room room;
	char target[200], *txt;
	struct sse_conn *s;
	struct ws_conn *w = NULL;
	cJSON *ev = NULL;
	int rc;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events", room.id);
	s = conf_sse(r, target, NULL);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room.id);
	if (!s || conf_ws(r, target, NULL, &w, NULL, NULL) != 0)
		goto out;
	cJSON_Delete(conf_sse_until(s, "ready", conf_ms(r, 5000), NULL));
	/* presence of s itself, then of the WS subscriber */
	cJSON_Delete(conf_sse_until(s, "presence", conf_ms(r, 5000), NULL));
	cJSON_Delete(conf_sse_until(s, "presence", conf_ms(r, 5000), NULL));
	if (conf_post_msg(r, &room, "no presence", NULL, NULL) < 0)
		goto out;
	send_str(w, "{\"type\":\"listening\"}");
	cJSON_Delete(conf_sse_until(s, "message", conf_ms(r, 5000), NULL));
	rc = conf_sse_json(s, conf_ms(r, 400), &ev, NULL);
	txt = rc == 1 ? print(ev) : strdup("nothing");
	conf_got(r, "after a post and a WS listening frame: %s", txt);
	free(txt);
	conf_check(r, rc == 0, 0,
		   "PRES-1: presence is broadcast only on subscribe, unsubscribe, hello and "
		   "/listening");
	cJSON_Delete(ev);
out:
	sse_close(s);
	ws_free(w);
}

/* PRES-4: last_seen of WS subscribers (last inbound frame) and heartbeats (last POST). */
static void c_last_seen(struct conf_run *r)
{
	char room[16], target[200];
	struct ws_conn *w = NULL;
	struct sse_conn *obs = NULL;
	cJSON *pres;
	const cJSON *it;
	int64_t ws_ago = -1, hb_ago = -1;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room);
	if (conf_ws(r, target, NULL, &w, NULL, NULL) != 0)
		return;
	send_str(w, "{\"type\":\"hello\",\"name\":\"idler\"}");
	listening(r, room, "{\"name\":\"beater\"}");
	usleep(1500000); /* let last_seen age: the quantity under test is elapsed time */
	snprintf(target, sizeof(target), "/api/rooms/%s/events", room);
	obs = conf_sse(r, target, NULL);
	pres = obs ? conf_sse_until(obs, "ready", conf_ms(r, 5000), NULL) : NULL;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pres, "participants")) {
		const char *n = conf_jstr(it, "name");

		if (n && !strcmp(n, "idler"))
			ws_ago = conf_jint(it, "last_seen_ms_ago", -1);
		if (n && !strcmp(n, "beater"))
			hb_ago = conf_jint(it, "last_seen_ms_ago", -1);
	}
	conf_got(r, "after ~1.5 s: WS subscriber %lld ms ago, heartbeat %lld ms ago",
		 (long long)ws_ago, (long long)hb_ago);
	conf_check(r, ws_ago >= 1000 && ws_ago < conf_ms(r, 10000) && hb_ago >= 1000 &&
			      hb_ago < conf_ms(r, 10000),
		   0, "PRES-4: last_seen is the last inbound WS frame / the last /listening");
	cJSON_Delete(pres);
	send_str(w, "{\"type\":\"listening\"}");
	/* The frame gets no answer, so poll: trigger presence broadcasts until the WS entry shows
	 * the refreshed last_seen, or a deadline well below the 1.5 s it had aged. */
	{
		int64_t deadline = conf_now() + conf_ms(r, 800);
		int k = 0;

		ws_ago = -1;
		while (conf_now() < deadline && (ws_ago < 0 || ws_ago >= 1000)) {
			char body[64];

			snprintf(body, sizeof(body), "{\"name\":\"trigger%d\"}", k++);
			listening(r, room, body);
			pres = obs ? conf_sse_until(obs, "presence", conf_ms(r, 5000), NULL) : NULL;
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(pres, "participants")) {
				const char *n = conf_jstr(it, "name");

				if (n && !strcmp(n, "idler"))
					ws_ago = conf_jint(it, "last_seen_ms_ago", -1);
			}
			cJSON_Delete(pres);
			pres = NULL;
		}
	}
	conf_got(r, "after a WS listening frame: %lld ms ago", (long long)ws_ago);
	conf_check(r, ws_ago >= 0 && ws_ago < 1000, 0,
		   "PRES-4/WS-9: any inbound WS frame (listening included) refreshes last_seen");
	cJSON_Delete(pres);
	sse_close(obs);
	ws_free(w);
}

const struct conf_case conf_cases_pres[] = {
	{ "pres.shape", "PRES-1 PRES-2 PRES-3", CONF_MUST, 0,
	  "presence events and participant entries: keys, order, distinct names", c_shape },
	{ "pres.triggers", "PRES-1", CONF_MUST, 0,
	  "messages and WS listening frames broadcast no presence", c_triggers },
	{ "pres.last-seen", "PRES-4 WS-9", CONF_MUST, CF_SLOW,
	  "last_seen of WS subscribers and heartbeats", c_last_seen },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
