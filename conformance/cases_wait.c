/* wait.* — PROTOCOL.md §6.4: the long-poll GET /api/rooms/{roomId}/wait. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "proto/json.h"

/* ROOM-WAIT-1, INV-8: an absent room answers at once and is not created. */
static void c_absent(struct conf_run *r)
{
	char room[16], target[200];
	struct conf_resp resp;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=0&timeout=20", room);
	if (conf_get(r, target, &resp) < 0)
		return;
	conf_expect_status(r, &resp, 200, 0, "ROOM-WAIT-1");
	conf_expect_body(r, &resp, "{\"messages\":[],\"last_seq\":0,\"exists\":false}", 0,
			 "ROOM-WAIT-1: an absent room");
	conf_check(r, resp.ms < conf_ms(r, 2000), 0,
		   "ROOM-WAIT-1: answered immediately (took %lld ms with timeout=20)",
		   (long long)resp.ms);
	conf_resp_free(&resp);
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	{
		cJSON *st = conf_get_json(r, target, NULL);

		conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "exists")), 0,
			   "INV-8: a wait does not create the room");
		cJSON_Delete(st);
	}
}

/* ROOM-WAIT-2: pending messages are answered at once, oldest first. */
static void c_immediate(struct conf_run *r)
{
	struct conf_room room;
	int64_t s[3];
	char target[200], keys[128];
	struct conf_resp resp;
	const cJSON *msgs;

	conf_room_new(&room);
	if (conf_post_many(r, &room, 3, "w", s) != 3)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=%lld&timeout=20", room.id,
		 (long long)s[0]);
	if (conf_get(r, target, &resp) < 0)
		return;
	msgs = cJSON_GetObjectItemCaseSensitive(resp.json, "messages");
	conf_check(r, resp.status == 200 && cJSON_GetArraySize(msgs) == 2 &&
			      conf_jint(cJSON_GetArrayItem(msgs, 0), "seq", -1) == s[1] &&
			      conf_jint(cJSON_GetArrayItem(msgs, 1), "seq", -1) == s[2] &&
			      conf_jint(resp.json, "last_seq", -1) == s[2] && resp.ms < conf_ms(r, 2000),
		   0, "ROOM-WAIT-2: messages with seq > after are answered at once, ascending, with "
		      "last_seq");
	conf_check(r, strcmp(conf_keys(resp.json, keys, sizeof(keys)), "messages,last_seq") == 0, 0,
		   "ROOM-WAIT-2: keys messages, last_seq (has_more only when truncated)");
	if (cJSON_GetArraySize(msgs) > 0)
		conf_check_message(r, cJSON_GetArrayItem(msgs, 0), CONF_MSG_STORED);
	conf_expect_schema(r, &resp, "/api/rooms/{roomId}/wait", "get", 0, "ROOM-WAIT-2");
	conf_resp_free(&resp);
}

/* ROOM-WAIT-2 (sealroom): at most 500, with has_more:true as the last key. */
static void c_has_more(struct conf_run *r)
{
	enum { N = 501 };
	struct conf_room room;
	int64_t *s = malloc(N * sizeof(*s));
	char target[200], keys[128];
	struct conf_resp resp;

	if (!s)
		return;
	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "h", s) != N)
		goto out;
	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=0", room.id);
	if (conf_get(r, target, &resp) < 0)
		goto out;
	{
		const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(resp.json, "messages");

		conf_got(r, "%d messages, keys %s", cJSON_GetArraySize(msgs),
			 conf_keys(resp.json, keys, sizeof(keys)));
		conf_check(r, cJSON_GetArraySize(msgs) == 500 &&
				      conf_jint(cJSON_GetArrayItem(msgs, 0), "seq", -1) == s[0] &&
				      conf_jint(cJSON_GetArrayItem(msgs, 499), "seq", -1) == s[499],
			   0, "ROOM-WAIT-2: the oldest 500 pending messages");
		conf_check(r, strcmp(keys, "messages,last_seq,has_more") == 0 &&
				      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.json, "has_more")),
			   CK_SR, "ROOM-WAIT-2: ,\"has_more\":true as the last key when more were pending");
	}
	conf_resp_free(&resp);
out:
	free(s);
}

/* ROOM-WAIT-4, NUM-2: timeouts. */
static void c_timeout(struct conf_run *r)
{
	static const struct {
		const char *t;
		bool one; /* resolves after ~1 s; else the 30 s default (checked for 2.5 s) */
		const char *rule;
	} t[] = {
		{ "1", true, "NUM-2: timeout=1" },
		{ "-5", true, "NUM-2: timeout=-5 → 1" },
		{ "1.9", true, "NUM-2: timeout=1.9 → P() = 1" },
		{ "0", false, "NUM-2: timeout=0 → 30" },
		{ "abc", false, "NUM-2: timeout=abc (NaN) → 30" },
	};
	struct conf_room room;
	int64_t s, t0;
	size_t i, n = sizeof(t) / sizeof(t[0]);
	char target[200], want[128];
	int fds[8];

	conf_room_new(&room);
	s = conf_post_msg(r, &room, "t", NULL, NULL);
	if (s < 0)
		return;
	snprintf(want, sizeof(want), "{\"messages\":[],\"last_seq\":%lld}", (long long)s);
	/* All variants park at once; each answer is timed from the common start. */
	t0 = conf_now();
	for (i = 0; i < n; i++) {
		snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=%lld&timeout=%s", room.id,
			 (long long)s, t[i].t);
		fds[i] = conf_raw_park(r, "GET", target, NULL, NULL);
	}
	for (i = 0; i < n; i++) {
		struct raw_resp rr;
		int64_t left = t0 + (t[i].one ? conf_ms(r, 3000) : 2500) - conf_now();
		int rc;

		if (fds[i] < 0)
			continue;
		rc = conf_raw_read(fds[i], left > 0 ? (long)left : 0, &rr);
		conf_sent(r, "GET /api/rooms/<room>/wait?after=<last>&timeout=%s", t[i].t);
		if (t[i].one) {
			int64_t took = conf_now() - t0;

			conf_got(r, "%d %s after %lld ms", rc == 0 ? rr.status : 0,
				 rc == 0 && rr.body ? rr.body : "(nothing)", (long long)took);
			conf_check(r, rc == 0 && rr.status == 200 && rr.body && strcmp(rr.body, want) == 0 &&
					      took >= 900,
				   0, "ROOM-WAIT-4/%s: after ~1 s → 200 %s", t[i].rule, want);
		} else {
			conf_got(r, "%s within 2.5 s", rc == 0 ? "an answer" : "nothing");
			conf_check(r, rc != 0, 0, "ROOM-WAIT-3/%s: still parked after 2.5 s", t[i].rule);
		}
		if (rc == 0)
			raw_resp_free(&rr);
		close(fds[i]);
	}
}

static int read_wake(struct conf_run *r, int fd, long ms, cJSON **out)
{
	struct raw_resp rr;
	int rc;

	*out = NULL;
	rc = conf_raw_read(fd, ms, &rr);
	if (rc < 0)
		return -1;
	conf_got(r, "%d %.300s", rr.status, rr.body);
	*out = json_parse(rr.body, rr.body_len, 64, false);
	raw_resp_free(&rr);
	return 0;
}

/* ROOM-WAIT-5 (sealroom), ROOM-22: which messages wake a parked wait, and what it returns. */
static void c_wake(struct conf_run *r)
{
	struct conf_room room;
	int64_t s0, s[6];
	char target[200], keys[128], buf[64];
	int fd;
	cJSON *j;
	bool eof = false;
	ssize_t n;

	conf_room_new(&room);
	s0 = conf_post_msg(r, &room, "base", NULL, NULL);
	if (s0 < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=%lld&timeout=20", room.id,
		 (long long)s0);
	fd = conf_raw_park(r, "GET", target, NULL, NULL);
	if (fd < 0)
		return;
	if (!conf_check(r, conf_raw_parked(fd, conf_ms(r, 300)), 0,
			"ROOM-WAIT-3: a wait with nothing after `after` parks")) {
		close(fd);
		return;
	}
	if (conf_post_many(r, &room, 1, "wake", s) != 1) {
		close(fd);
		return;
	}
	if (read_wake(r, fd, conf_ms(r, 5000), &j) == 0) {
		const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");

		conf_check(r, cJSON_GetArraySize(msgs) == 1 &&
				      conf_jint(cJSON_GetArrayItem(msgs, 0), "seq", -1) == s[0] &&
				      conf_jint(j, "last_seq", -1) == s[0] &&
				      strcmp(conf_keys(j, keys, sizeof(keys)), "messages,last_seq") == 0,
			   0, "ROOM-WAIT-5/ROOM-22: a parked wait is woken by the new message and "
			      "answers {messages:[it],last_seq}");
		cJSON_Delete(j);
	} else {
		conf_check(r, false, 0, "ROOM-WAIT-5: a new message wakes the parked wait");
	}
	close(fd);

	/* Parked with an `after` in the future: messages at or below it leave it parked. */
	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=%lld&timeout=20", room.id,
		 (long long)(s[0] + 3));
	fd = conf_raw_park(r, "GET", target, NULL, NULL);
	if (fd < 0)
		return;
	if (!conf_raw_parked(fd, conf_ms(r, 300))) {
		conf_check(r, false, 0, "ROOM-WAIT-3: a wait with `after` in the future parks");
		close(fd);
		return;
	}
	if (conf_post_many(r, &room, 3, "low", s + 1) != 3) {
		close(fd);
		return;
	}
	n = raw_read_until(fd, buf, sizeof(buf), conf_now() + conf_ms(r, 500), &eof);
	conf_sent(r, "wait parked with after=%lld; messages up to seq %lld posted",
		  (long long)(s[0] + 3), (long long)s[3]);
	conf_got(r, "%zd byte(s) on the parked wait", n);
	conf_check(r, n == 0 && !eof, CK_SR,
		   "ROOM-WAIT-5: a message with seq <= after leaves the wait parked");
	if (n == 0 && conf_post_many(r, &room, 1, "high", s + 4) == 1 &&
	    read_wake(r, fd, conf_ms(r, 5000), &j) == 0) {
		const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");

		conf_check(r, cJSON_GetArraySize(msgs) == 1 &&
				      conf_jint(cJSON_GetArrayItem(msgs, 0), "seq", -1) == s[4],
			   CK_SR, "ROOM-WAIT-5: the first message with seq > after wakes it, answered "
				  "with every buffered message with seq > after");
		cJSON_Delete(j);
	}
	close(fd);
}

const struct conf_case conf_cases_wait[] = {
	{ "wait.absent", "ROOM-WAIT-1 INV-8", CONF_MUST, 0,
	  "an absent room answers at once and is not created", c_absent },
	{ "wait.immediate", "ROOM-WAIT-2 ROOM-17", CONF_MUST, 0,
	  "pending messages are answered at once", c_immediate },
	{ "wait.has-more", "ROOM-WAIT-2", CONF_MUST, 0,
	  "at most 500 per answer, with has_more:true (sealroom)", c_has_more },
	{ "wait.timeout", "ROOM-WAIT-4 ROOM-WAIT-3 NUM-2", CONF_MUST, CF_SLOW,
	  "timeouts and the timeout parameter's clamping", c_timeout },
	{ "wait.wake", "ROOM-WAIT-5 ROOM-22", CONF_MUST, 0,
	  "which messages wake a parked wait and what it answers", c_wake },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
