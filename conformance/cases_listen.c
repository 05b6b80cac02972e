/* listen.* — PROTOCOL.md §6.5: POST /api/rooms/{roomId}/listening (presence heartbeat). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"

static void listen_expect(struct conf_run *r, const char *room, const char *body, long status,
			  const char *error, const char *rule)
{
	char target[200];
	struct conf_resp resp;

	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room);
	if (conf_post_json(r, target, body, &resp) < 0)
		return;
	if (error)
		conf_expect_error(r, &resp, status, error, 0, 0, rule);
	else {
		conf_expect_status(r, &resp, status, 0, rule);
		conf_expect_body(r, &resp, "{\"ok\":true}", 0, rule);
	}
	conf_resp_free(&resp);
}

/* ROOM-LISTEN-1, INV-8. */
static void c_absent(struct conf_run *r)
{
	char room[16], target[160];
	cJSON *st;

	conf_room_id(room);
	listen_expect(r, room, "{\"name\":\"alice\"}", 404, "no such room",
		      "ROOM-LISTEN-1: /listening on an absent room → 404");
	listen_expect(r, room, "{\"name\":\"bad name!\"}", 404, "no such room",
		      "ROOM-LISTEN-1: the room is checked before the name");
	listen_expect(r, "x", "{\"name\":\"alice\"}", 400, "bad roomId",
		      "§6: every room route validates the room id first");
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	st = conf_get_json(r, target, NULL);
	conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "exists")), 0,
		   "INV-8/ROOM-LISTEN-1: /listening creates no room");
	cJSON_Delete(st);
}

/* ROOM-LISTEN-2, VAL-5. */
static void c_bad_name(struct conf_run *r)
{
	static const char *const bad[] = { "{}", "{\"name\":5}", "{\"name\":null}",
					   "{\"name\":\"\"}", "{\"name\":\"a b\"}",
					   "{\"name\":\"a/b\"}", "{\"name\":[\"a\"]}", NULL };
	const char *const *b;
	struct conf_room room;

	conf_room_new(&room);
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	for (b = bad; *b; b++)
		listen_expect(r, room.id, *b, 400, "bad name",
			      "ROOM-LISTEN-2: a missing, non-string or VAL-5-failing name → 400 bad name");
	listen_expect(r, room.id, "{\"name\":\"ok-name\",\"box_pub\":5}", 200, NULL,
		      "ROOM-LISTEN-2: a bad box_pub is dropped, not an error");
}

/* ROOM-LISTEN-3, PRES-2, B64-4: the heartbeat is broadcast as a participant. */
static void c_ok(struct conf_run *r)
{
	/* 32 bytes, lenient-valid but not canonical (no padding, URL-safe, a stray '.'). */
	static const char loose[] = "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYl.Q";
	struct conf_room room;
	char target[200], body[256];
	struct sse_conn *c;
	cJSON *pres;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events?name=watcher", room.id);
	c = conf_sse(r, target, NULL);
	if (!c)
		return;
	cJSON_Delete(conf_sse_until(c, "presence", conf_ms(r, 5000), NULL));
	snprintf(body, sizeof(body), "{\"name\":\"beat\",\"box_pub\":\"%s\"}", loose);
	listen_expect(r, room.id, body, 200, NULL, "ROOM-LISTEN-3: 200 {\"ok\":true}");
	pres = conf_sse_until(c, "presence", conf_ms(r, 5000), NULL);
	{
		const cJSON *parts = cJSON_GetObjectItemCaseSensitive(pres, "participants");
		const cJSON *hb = cJSON_GetArrayItem(parts, 1);
		char keys[128], *txt = conf_jprint(pres);

		conf_got(r, "%s", txt ? txt : "(no presence event)");
		free(txt);
		conf_check(r, pres != NULL, 0, "ROOM-LISTEN-3: /listening broadcasts presence");
		conf_check(r, cJSON_GetArraySize(parts) == 2 && conf_jstr(hb, "name") &&
				      strcmp(conf_jstr(hb, "name"), "beat") == 0 &&
				      strcmp(conf_keys(hb, keys, sizeof(keys)),
					     "name,last_seen_ms_ago,box_pub") == 0 &&
				      conf_jstr(hb, "box_pub") && strcmp(conf_jstr(hb, "box_pub"), loose) == 0,
			   0, "PRES-2/B64-4: the heartbeat entry {name,last_seen_ms_ago,box_pub} with "
			      "box_pub echoed unchanged");
		conf_check(r, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pres, "names")) == 1 &&
				      conf_jint(pres, "size", -1) == 1,
			   0, "PRES-3: heartbeats are not in names or size");
	}
	cJSON_Delete(pres);
	/* A box_pub that is not box_pub_ok is not kept. */
	listen_expect(r, room.id, "{\"name\":\"beat2\",\"box_pub\":\"AAAA\"}", 200, NULL,
		      "ROOM-LISTEN-2: a bad box_pub is dropped");
	pres = conf_sse_until(c, "presence", conf_ms(r, 5000), NULL);
	{
		const cJSON *parts = cJSON_GetObjectItemCaseSensitive(pres, "participants");
		const cJSON *it, *hb2 = NULL;

		cJSON_ArrayForEach(it, parts)
			if (conf_jstr(it, "name") && strcmp(conf_jstr(it, "name"), "beat2") == 0)
				hb2 = it;
		conf_check(r, hb2 && !conf_jhas(hb2, "box_pub"), 0,
			   "ROOM-LISTEN-2/B64-4: box_pub is kept only if box_pub_ok");
	}
	cJSON_Delete(pres);
	sse_close(c);
}

/* ROOM-LISTEN-4 (SHOULD, sealroom), CAP-13: heartbeats per room are capped, stalest out. */
static void c_cap(struct conf_run *r)
{
	long cap = r->ctx->o.listeners_max, i, n = cap + 6;
	struct conf_room room;
	char target[200], body[64];
	struct sse_conn *c;
	cJSON *ready;

	if (cap > 5000) {
		conf_info(r, "not exercised: --listeners-max %ld is too large", cap);
		return;
	}
	conf_room_new(&room);
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	for (i = 0; i < n; i++) {
		struct conf_resp resp;

		snprintf(body, sizeof(body), "{\"name\":\"hb%ld\"}", i);
		if (conf_post_json(r, target, body, &resp) < 0)
			return;
		if (!conf_check(r, resp.status == 200, 0,
				"ROOM-LISTEN-3: /listening is not rate limited (request %ld)", i + 1)) {
			conf_resp_free(&resp);
			return;
		}
		conf_resp_free(&resp);
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999", room.id);
	c = conf_sse(r, target, NULL);
	if (!c)
		return;
	ready = conf_sse_until(c, "ready", conf_ms(r, 10000), NULL);
	{
		/* Heartbeat order is not specified (PRES-2): compare as a set. */
		const cJSON *parts = cJSON_GetObjectItemCaseSensitive(ready, "participants");
		const cJSON *it;
		long stale = 0, fresh = 0;

		cJSON_ArrayForEach(it, parts) {
			const char *nm = conf_jstr(it, "name");
			long k = nm && strncmp(nm, "hb", 2) == 0 ? strtol(nm + 2, NULL, 10) : -1;

			if (k >= 0 && k < n - cap)
				stale++;
			else if (k >= n - cap && k < n)
				fresh++;
		}
		conf_got(r, "%d participants: %ld of the %ld stalest, %ld of the %ld newest",
			 cJSON_GetArraySize(parts), stale, n - cap, fresh, cap);
		conf_check(r, cJSON_GetArraySize(parts) == cap && stale == 0 && fresh == cap, CK_SR,
			   "ROOM-LISTEN-4/CAP-13: at most LISTENERS_MAX_PER_ROOM (%ld) heartbeats, "
			   "the stalest evicted", cap);
	}
	cJSON_Delete(ready);
	sse_close(c);
}

/* ROOM-LISTEN-4, PRES-2: heartbeats are listed for 60 s only. --long (takes ~62 s). */
static void c_expiry(struct conf_run *r)
{
	struct conf_room room;
	char target[200];
	int64_t t0, deadline, gone = -1;
	struct conf_resp resp;

	if (!r->ctx->o.long_cases) {
		conf_info(r, "skipped: takes 62 s whatever the relay's knobs (run with --long)");
		return;
	}
	conf_room_new(&room);
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999&name=keeper",
		 room.id);
	{
		struct sse_conn *keep = conf_sse(r, target, NULL); /* keeps the room alive */

		snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
		t0 = conf_now();
		if (conf_post_json(r, target, "{\"name\":\"ephemeral\"}", &resp) == 0)
			conf_resp_free(&resp);
		deadline = t0 + conf_ms(r, 64000);
		while (conf_now() < deadline) {
			struct sse_conn *c;
			cJSON *ready;
			bool listed = false;
			const cJSON *it;

			snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999",
				 room.id);
			c = conf_sse(r, target, NULL);
			ready = c ? conf_sse_until(c, "ready", conf_ms(r, 5000), NULL) : NULL;
			cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ready, "participants"))
				if (conf_jstr(it, "name") && !strcmp(conf_jstr(it, "name"), "ephemeral"))
					listed = true;
			cJSON_Delete(ready);
			sse_close(c);
			if (!listed) {
				gone = conf_now() - t0;
				break;
			}
			{
				const struct timespec ts = { 1, 0 }; /* polling interval */

				nanosleep(&ts, NULL);
			}
		}
		sse_close(keep);
	}
	conf_got(r, "heartbeat unlisted after %lld ms", (long long)gone);
	conf_check(r, gone >= 59000 && gone <= conf_ms(r, 63000), 0,
		   "PRES-2/ROOM-LISTEN-4: a heartbeat is listed while its last POST is <= 60 s old");
}

const struct conf_case conf_cases_listen[] = {
	{ "listen.absent", "ROOM-LISTEN-1 INV-8", CONF_MUST, 0,
	  "an absent room → 404 no such room, before the name; nothing created", c_absent },
	{ "listen.bad-name", "ROOM-LISTEN-2 VAL-5", CONF_MUST, 0,
	  "a bad name → 400 bad name; a bad box_pub is dropped", c_bad_name },
	{ "listen.ok", "ROOM-LISTEN-3 PRES-2 PRES-3 B64-4", CONF_MUST, 0,
	  "a heartbeat answers {\"ok\":true} and is broadcast as a participant", c_ok },
	{ "listen.cap", "ROOM-LISTEN-4 CAP-13", CONF_SHOULD, 0,
	  "heartbeats per room are capped at LISTENERS_MAX_PER_ROOM, stalest evicted", c_cap },
	{ "listen.expiry", "ROOM-LISTEN-4 PRES-2", CONF_MUST, CF_SLOW,
	  "heartbeats are listed for 60 s (--long)", c_expiry },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
