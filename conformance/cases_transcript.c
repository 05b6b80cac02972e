/* transcript.* — PROTOCOL.md §6.3: GET /api/rooms/{roomId}/transcript. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "proto/json.h"

/* ROOM-TX-1: an absent room. */
static void c_tx_absent(struct conf_run *r)
{
	char room[16], target[160];
	struct conf_resp resp;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/transcript?after=0&limit=5", room);
	if (conf_get(r, target, &resp) < 0)
		return;
	conf_expect_status(r, &resp, 200, 0, "ROOM-TX-1");
	conf_expect_body(r, &resp, "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0,
			 "ROOM-TX-1: an absent room");
	conf_resp_free(&resp);
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	{
		cJSON *st = conf_get_json(r, target, NULL);

		conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "exists")), 0,
			   "INV-8: a transcript request does not create the room");
		cJSON_Delete(st);
	}
}

static bool page_is(struct conf_run *r, const char *room, const char *query, const int64_t *seqs,
		    int from, int count, int64_t last, const char *rule)
{
	char target[256], keys[128];
	struct conf_resp resp;
	const cJSON *msgs;
	bool ok;
	int i;

	snprintf(target, sizeof(target), "/api/rooms/%s/transcript?%s", room, query);
	if (conf_get(r, target, &resp) < 0)
		return false;
	msgs = cJSON_GetObjectItemCaseSensitive(resp.json, "messages");
	ok = resp.status == 200 && cJSON_GetArraySize(msgs) == count &&
	     conf_jint(resp.json, "count", -1) == count && conf_jint(resp.json, "last_seq", -1) == last &&
	     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.json, "exists")) &&
	     strcmp(conf_keys(resp.json, keys, sizeof(keys)), "messages,last_seq,count,exists") == 0;
	for (i = 0; ok && i < count; i++)
		ok = conf_jint(cJSON_GetArrayItem(msgs, i), "seq", -1) == seqs[from + i];
	conf_check(r, ok, 0, "%s: ?%s → %d message(s) from #%d ascending; {messages,last_seq,count,"
			     "exists:true}", rule, query, count, from + 1);
	if (ok && count)
		conf_check_message(r, cJSON_GetArrayItem(msgs, 0), CONF_MSG_STORED);
	if (ok)
		conf_expect_schema(r, &resp, "/api/rooms/{roomId}/transcript", "get", 0, rule);
	conf_resp_free(&resp);
	return ok;
}

/* ROOM-TX-2, NUM-1, NUM-3: paging. */
static void c_tx_page(struct conf_run *r)
{
	enum { N = 7 };
	struct conf_room room;
	int64_t s[N], L;
	char q[128];

	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "t", s) != N)
		return;
	L = s[N - 1];
	page_is(r, room.id, "after=0", s, 0, N, L, "ROOM-TX-2");
	snprintf(q, sizeof(q), "after=%lld&limit=3", (long long)s[1]);
	page_is(r, room.id, q, s, 2, 3, L, "ROOM-TX-2: the oldest `limit` messages with seq > after");
	snprintf(q, sizeof(q), "after=%lld", (long long)L);
	page_is(r, room.id, q, s, 0, 0, L, "ROOM-TX-2: nothing after the newest");
	page_is(r, room.id, "after=-5&limit=2", s, 0, 2, L, "NUM-1: after=-5 → 0");
	page_is(r, room.id, "after=abc&limit=2", s, 0, 2, L, "NUM-1: after=abc (NaN) → 0");
	snprintf(q, sizeof(q), "after=%lld.9abc&limit=1", (long long)s[2]);
	page_is(r, room.id, q, s, 3, 1, L, "NUM-1: P() ignores trailing text");
	page_is(r, room.id, "limit=-3", s, 0, 1, L, "NUM-3: limit=-3 → 1");
	page_is(r, room.id, "limit=0", s, 0, N, L, "NUM-3: limit=0 → 100");
	page_is(r, room.id, "limit=x", s, 0, N, L, "NUM-3: limit=x (NaN) → 100");
	page_is(r, room.id, "limit=%205", s, 0, 5, L, "NUM-3: P() skips leading whitespace");
}

/* NUM-3: the page size clamps at 500 and defaults to 100. */
static void c_tx_limit_max(struct conf_run *r)
{
	enum { N = 501 };
	struct conf_room room;
	int64_t *s = malloc(N * sizeof(*s));

	if (!s)
		return;
	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "m", s) == N) {
		page_is(r, room.id, "limit=9999", s, 0, 500, s[N - 1], "NUM-3: limit=9999 → 500");
		page_is(r, room.id, "after=0", s, 0, 100, s[N - 1], "NUM-3: no limit → 100");
	}
	free(s);
}

const struct conf_case conf_cases_transcript[] = {
	{ "transcript.absent", "ROOM-TX-1 INV-8", CONF_MUST, 0,
	  "an absent room: {\"messages\":[],\"last_seq\":0,\"exists\":false}", c_tx_absent },
	{ "transcript.page", "ROOM-TX-2 NUM-1 NUM-3 ROOM-17", CONF_MUST, 0,
	  "oldest-first pages by after and limit; number parsing", c_tx_page },
	{ "transcript.limit-max", "NUM-3 ROOM-TX-2", CONF_MUST, 0,
	  "limit clamps at 500 and defaults to 100", c_tx_limit_max },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
