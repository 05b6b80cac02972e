/* claim.* and ack.* — PROTOCOL.md §13: claim/ack cursors over a room's buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "crypto/identity.h"
#include "proto/json.h"

static cJSON *claim_q(struct conf_run *r, const struct crypto_identity *id, const char *room,
		      const char *query, const char *body_override, long *status)
{
	char target[300], h[320], body[512];
	const char *hdrs[3] = { h, "Content-Type: application/json", NULL };
	struct conf_resp resp;
	cJSON *j;

	snprintf(target, sizeof(target), "/api/rooms/%s/claim%s%s", room, query ? "?" : "",
		 query ? query : "");
	conf_auth_header(id, "POST", target, h);
	if (body_override)
		snprintf(body, sizeof(body), "%s", body_override);
	else
		snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", id->handle);
	r->req_timeout_ms = conf_ms(r, 100000);
	*status = 0;
	if (conf_req(r, "POST", target, hdrs, body, strlen(body), &resp) < 0) {
		r->req_timeout_ms = 0;
		return NULL;
	}
	r->req_timeout_ms = 0;
	*status = resp.status;
	j = resp.json;
	resp.json = NULL;
	conf_resp_free(&resp);
	return j;
}

static cJSON *ack(struct conf_run *r, const struct crypto_identity *id, const char *room,
		  const char *claim_id, const char *seq_json, long *status)
{
	char target[200], h[320], body[512];
	const char *hdrs[3] = { h, "Content-Type: application/json", NULL };
	struct conf_resp resp;
	cJSON *j;

	snprintf(target, sizeof(target), "/api/rooms/%s/ack", room);
	conf_auth_header(id, "POST", target, h);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"claim_id\":\"%s\",\"seq\":%s}", id->handle,
		 claim_id, seq_json);
	*status = 0;
	if (conf_req(r, "POST", target, hdrs, body, strlen(body), &resp) < 0)
		return NULL;
	*status = resp.status;
	j = resp.json;
	resp.json = NULL;
	conf_resp_free(&resp);
	return j;
}

static bool body_is(const cJSON *j, const char *exact)
{
	char *t = conf_jprint(j);
	bool ok = t && strcmp(t, exact) == 0;

	free(t);
	return ok;
}

/* CLAIM-1a..f, INV-8. */
static void c_checks(struct conf_run *r)
{
	struct crypto_identity id, ghost;
	char room[16], target[200], h[320], *txt;
	const char *hdrs[3] = { h, "Content-Type: application/json", NULL };
	struct conf_resp resp;
	long st;
	cJSON *j;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_id(room);
	j = claim_q(r, &id, "x", NULL, NULL, &st);
	conf_check(r, st == 400 && body_is(j, "{\"error\":\"bad roomId\"}"), 0, "CLAIM-1a: bad roomId");
	cJSON_Delete(j);
	j = claim_q(r, &id, room, NULL, "{\"handle\":5}", &st);
	conf_check(r, st == 400 && body_is(j, "{\"error\":\"bad handle\"}"), CK_SR,
		   "CLAIM-1b (sealroom): a non-string handle → 400 bad handle");
	cJSON_Delete(j);
	j = claim_q(r, &id, room, NULL, "{}", &st);
	conf_check(r, st == 400 && body_is(j, "{\"error\":\"bad handle\"}"), 0,
		   "CLAIM-1b: a missing handle → 400 bad handle");
	cJSON_Delete(j);
	crypto_identity_new(&ghost, "cfnosuchhandle0");
	j = claim_q(r, &ghost, room, NULL, NULL, &st);
	conf_check(r, st == 404 && body_is(j, "{\"error\":\"no such handle\"}"), 0,
		   "CLAIM-1c: an unregistered handle → 404");
	cJSON_Delete(j);
	snprintf(target, sizeof(target), "/api/rooms/%s/claim", room);
	snprintf(h, sizeof(h), "Authorization: SafeBot ts=1,n=AAAAAAAAAAAAAAAAAAAAAAAA,sig=AAAA");
	{
		char body[128];

		snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", id.handle);
		if (conf_req(r, "POST", target, hdrs, body, strlen(body), &resp) == 0) {
			conf_expect_error(r, &resp, 401, "bad or missing signature", 0, 0,
					  "CLAIM-1e: request auth");
			conf_resp_free(&resp);
		}
	}
	j = claim_q(r, &id, room, NULL, NULL, &st);
	txt = conf_jprint(j);
	conf_got(r, "%ld %s", st, txt ? txt : "");
	free(txt);
	conf_check(r, st == 200 &&
			      body_is(j, "{\"ok\":true,\"empty\":true,\"last_seq\":0,\"cursor\":0,\"exists\":false}"),
		   0, "CLAIM-1f: an absent room → {\"ok\":true,\"empty\":true,\"last_seq\":0,\"cursor\":0,"
		      "\"exists\":false}");
	cJSON_Delete(j);
	snprintf(target, sizeof(target), "/api/rooms/%s/status", room);
	j = conf_get_json(r, target, NULL);
	conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "exists")), 0,
		   "CLAIM-1f/INV-8: a claim creates no room");
	cJSON_Delete(j);
}

/* CLAIM-2..5, ROOM-19, ACK-2..4, CLAIM-4: claim, re-claim, ack, exclusion. */
static void c_flow(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	int64_t s1, s2, s3, s4;
	char at[48], extra[96], cid[40], *txt, keys[160];
	long st;
	cJSON *j, *j2;
	const cJSON *m;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	snprintf(at, sizeof(at), ",\"sender\":\"@%s\"", id.handle);
	snprintf(extra, sizeof(extra), ",\"sender\":\"%s\"", id.handle);
	s1 = conf_post_msg(r, &room, "from bob", ",\"sender\":\"bob\",\"ttl_ms\":30000", NULL);
	s2 = conf_post_msg(r, &room, "my own (@handle)", at, NULL);
	s3 = conf_post_msg(r, &room, "my own (handle)", extra, NULL);
	s4 = conf_post_msg(r, &room, "from carol", ",\"sender\":\"carol\",\"reply_to\":\"abcdefgh\"", NULL);
	if (s1 < 0 || s2 < 0 || s3 < 0 || s4 < 0)
		return;
	j = claim_q(r, &id, room.id, "timeout=1", NULL, &st);
	m = cJSON_GetObjectItemCaseSensitive(j, "message");
	txt = conf_jprint(j);
	conf_got(r, "%ld %.300s", st, txt ? txt : "");
	free(txt);
	conf_keys(j, keys, sizeof(keys));
	conf_check(r, st == 200 && strcmp(keys, "ok,claim_id,message,cursor,last_seq") == 0 &&
			      conf_is_uuid(conf_jstr(j, "claim_id")) && conf_jint(m, "seq", -1) == s1 &&
			      conf_jint(j, "cursor", -1) == s1 - 1 && conf_jint(j, "last_seq", -1) == s4,
		   0, "CLAIM-5/CLAIM-2: {\"ok\":true,\"claim_id\",\"message\",\"cursor\",\"last_seq\"} "
		      "with the first message after the cursor (a new cursor 0 clamped to oldest - 1)");
	if (m)
		conf_check_message(r, m, CONF_MSG_CLAIM);
	snprintf(cid, sizeof(cid), "%s", conf_jstr(j, "claim_id") ? conf_jstr(j, "claim_id") : "");
	cJSON_Delete(j);
	{
		char body[200];

		snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"exclude_senders\":[\"bob\"]}", id.handle);
		j = claim_q(r, &id, room.id, "timeout=1&ttl_ms=300000", body, &st);
	}
	conf_check(r, st == 200 && conf_jstr(j, "claim_id") && strcmp(conf_jstr(j, "claim_id"), cid) == 0 &&
			      conf_jint(cJSON_GetObjectItemCaseSensitive(j, "message"), "seq", -1) == s1,
		   0, "CLAIM-3: a live inflight is returned again with the same claim_id (new "
		      "exclude_senders and ttl_ms ignored)");
	cJSON_Delete(j);
	/* ACK-3: wrong claim_id or seq → 409 with the cursor. */
	j = ack(r, &id, room.id, "00000000-0000-4000-8000-000000000000", "0", &st);
	txt = conf_jprint(j);
	conf_got(r, "%ld %s", st, txt ? txt : "");
	free(txt);
	snprintf(extra, sizeof(extra), "{\"error\":\"stale or unknown claim\",\"cursor\":%lld}",
		 (long long)(s1 - 1));
	conf_check(r, st == 409 && body_is(j, extra), 0,
		   "ACK-3: a wrong claim_id → 409 {\"error\":\"stale or unknown claim\",\"cursor\"}");
	cJSON_Delete(j);
	{
		char sq[32];

		snprintf(sq, sizeof(sq), "%lld", (long long)(s1 + 1));
		j = ack(r, &id, room.id, cid, sq, &st);
		conf_check(r, st == 409, 0, "ACK-3: the right claim_id with another seq → 409");
		cJSON_Delete(j);
		snprintf(sq, sizeof(sq), "%lld", (long long)s1);
		j = ack(r, &id, room.id, cid, sq, &st);
		snprintf(extra, sizeof(extra), "{\"ok\":true,\"advanced\":true,\"cursor\":%lld}", (long long)s1);
		conf_check(r, st == 200 && body_is(j, extra), 0,
			   "ACK-4: the right claim_id and seq → {\"ok\":true,\"advanced\":true,\"cursor\":seq}");
		cJSON_Delete(j);
		j = ack(r, &id, room.id, cid, sq, &st);
		snprintf(extra, sizeof(extra), "{\"ok\":true,\"advanced\":false,\"cursor\":%lld}", (long long)s1);
		conf_check(r, st == 200 && body_is(j, extra), 0,
			   "ACK-2: seq <= cursor → {\"ok\":true,\"advanced\":false,\"cursor\":cursor}");
		cJSON_Delete(j);
	}
	/* CLAIM-4: the handle's own messages (handle and @handle) are excluded; then carol. */
	j = claim_q(r, &id, room.id, "timeout=1", NULL, &st);
	m = cJSON_GetObjectItemCaseSensitive(j, "message");
	conf_check(r, st == 200 && conf_jint(m, "seq", -1) == s4 && conf_jint(j, "cursor", -1) == s1, 0,
		   "CLAIM-4/CLAIM-5: messages whose sender is the handle or \"@\"+handle are "
		   "skipped; cursor is the acknowledged one");
	if (m)
		conf_check(r, conf_jstr(m, "reply_to") != NULL, 0, "ROOM-19: reply_to is kept in the claim envelope");
	cJSON_Delete(j);
	/* exclude_senders: a second handle excludes carol and gets nothing. */
	{
		struct crypto_identity id2;
		char body[200];

		if (conf_register(r, &id2) < 0)
			return;
		snprintf(body, sizeof(body),
			 "{\"handle\":\"%s\",\"exclude_senders\":[\"bob\",\"carol\",5,\"\",\"@%s\",\"%s\"]}",
			 id2.handle, id.handle, id.handle);
		j2 = claim_q(r, &id2, room.id, "timeout=1", body, &st);
		txt = conf_jprint(j2);
		conf_got(r, "%ld %s", st, txt ? txt : "");
		free(txt);
		snprintf(extra, sizeof(extra), "{\"ok\":true,\"empty\":true,\"last_seq\":%lld,\"cursor\":%lld}",
			 (long long)s4, (long long)(s1 - 1));
		conf_check(r, st == 200 && body_is(j2, extra), 0,
			   "CLAIM-4/CLAIM-7: every sender excluded → after the timeout {\"ok\":true,"
			   "\"empty\":true,\"last_seq\",\"cursor\"}");
		cJSON_Delete(j2);
	}
}

/* CLAIM-6, CLAIM-7: a parked claim is resolved by any message. */
static void c_park(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	int64_t s0, s1;
	char target[200], h[320], extra[1200], body[100];
	int fd;
	struct raw_resp rr;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	snprintf(extra, sizeof(extra), ",\"sender\":\"%s\"", id.handle);
	s0 = conf_post_msg(r, &room, "own", extra, NULL);
	if (s0 < 0)
		return;
	/* Park a claim on a raw connection: only the handle's own message is buffered. */
	snprintf(target, sizeof(target), "/api/rooms/%s/claim?timeout=10", room.id);
	conf_auth_header(&id, "POST", target, h);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", id.handle);
	fd = conf_raw_connect(r);
	if (fd < 0)
		return;
	snprintf(extra, sizeof(extra),
		 "POST %s HTTP/1.1\r\nHost: relay\r\n%s%s%s%s\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 target, r->ip[0] ? "X-Forwarded-For: " : "", r->ip, r->ip[0] ? "\r\n" : "", h,
		 strlen(body), body);
	raw_sends(fd, extra, conf_now() + conf_ms(r, 5000));
	if (!conf_check(r, conf_raw_parked(fd, conf_ms(r, 300)), 0,
			"CLAIM-6: with nothing claimable the claim parks")) {
		close(fd);
		return;
	}
	s1 = conf_post_msg(r, &room, "wake", ",\"sender\":\"other\"", NULL);
	conf_sent(r, "claim parked (own message only), then a message from another sender");
	if (s1 > 0 && conf_raw_read(fd, conf_ms(r, 5000), &rr) == 0) {
		cJSON *j = json_parse(rr.body, rr.body_len, 64, false);

		conf_got(r, "%d %.200s", rr.status, rr.body);
		conf_check(r, rr.status == 200 &&
				      conf_jint(cJSON_GetObjectItemCaseSensitive(j, "message"), "seq", -1) == s1,
			   0, "CLAIM-6/CLAIM-7: a parked claim is resolved at once by the new message");
		cJSON_Delete(j);
		raw_resp_free(&rr);
	} else {
		conf_check(r, false, 0, "CLAIM-7: a parked claim is resolved by the new message");
	}
	close(fd);
}

/* NUM-4, CLAIM-3: ttl_ms is clamped to at least 60 s, so an immediate re-claim finds the
 * lease live. */
static void c_ttl(struct conf_run *r)
{
	static const char *const q[] = { "timeout=1&ttl_ms=1", "timeout=1&ttl_ms=-5",
					 "timeout=1&ttl_ms=abc", NULL };
	const char *const *p;
	struct crypto_identity id;
	struct conf_room room;
	long st;

	if (conf_register(r, &id) < 0)
		return;
	for (p = q; *p; p++) {
		cJSON *a, *b;

		conf_room_new(&room);
		if (conf_post_msg(r, &room, "leased", NULL, NULL) < 0)
			return;
		a = claim_q(r, &id, room.id, *p, NULL, &st);
		b = claim_q(r, &id, room.id, "timeout=1", NULL, &st);
		conf_check(r, conf_jstr(a, "claim_id") && conf_jstr(b, "claim_id") &&
				      strcmp(conf_jstr(a, "claim_id"), conf_jstr(b, "claim_id")) == 0,
			   0, "NUM-4: ?%s gives a lease of at least 60 s (CLAIM_TTL_MS or the clamp)", *p);
		cJSON_Delete(a);
		cJSON_Delete(b);
	}
}

/* CLAIM-2: the cursor is clamped to just below the oldest buffered message. */
static void c_clamp(struct conf_run *r)
{
	long R = r->ctx->o.recent_max, n = R + 5;
	struct crypto_identity id;
	struct conf_room room;
	int64_t *s = malloc((size_t)n * sizeof(*s));
	long st;
	cJSON *j;

	if (!s)
		return;
	if (R > 20000) {
		conf_info(r, "not exercised: --recent-max %ld is too large", R);
		goto out;
	}
	if (conf_register(r, &id) < 0)
		goto out;
	conf_room_new(&room);
	if (conf_post_many(r, &room, n, "c", s) != n)
		goto out;
	j = claim_q(r, &id, room.id, "timeout=1", NULL, &st);
	{
		char *t = conf_jprint(j);

		conf_got(r, "%ld %.300s", st, t ? t : "");
		free(t);
	}
	conf_check(r, st == 200 && conf_jint(cJSON_GetObjectItemCaseSensitive(j, "message"), "seq", -1) == s[5] &&
			      conf_jint(j, "cursor", -1) == s[5] - 1,
		   0, "CLAIM-2: a new record's cursor 0 is clamped to oldest_seq - 1");
	cJSON_Delete(j);
out:
	free(s);
}

/* CLAIM-3 (expiry), CLAIM-8: an unacked claim is delivered again after its lease (60 s). */
static void c_lease(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	long st;
	cJSON *a, *b;

	if (!r->ctx->o.long_cases) {
		conf_info(r, "skipped: the minimum lease is 60 s (run with --long)");
		return;
	}
	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	if (conf_post_msg(r, &room, "redeliver", NULL, NULL) < 0)
		return;
	a = claim_q(r, &id, room.id, "timeout=1&ttl_ms=60000", NULL, &st);
	{
		struct timespec ts = { 62, 0 }; /* the lease under test */

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	b = claim_q(r, &id, room.id, "timeout=1", NULL, &st);
	conf_check(r, conf_jstr(a, "claim_id") && conf_jstr(b, "claim_id") &&
			      strcmp(conf_jstr(a, "claim_id"), conf_jstr(b, "claim_id")) != 0 &&
			      conf_jint(cJSON_GetObjectItemCaseSensitive(b, "message"), "seq", -1) ==
				      conf_jint(cJSON_GetObjectItemCaseSensitive(a, "message"), "seq", -2),
		   0, "CLAIM-3/CLAIM-8: after the lease, the same seq is claimed again under a new id");
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* CAP-11: cursors per handle are capped (LRU). */
static void c_cursors(struct conf_run *r)
{
	long cap = r->ctx->o.cursors_max, i;
	struct crypto_identity id;
	struct conf_room first, other;
	long st;
	cJSON *j;
	char cid[40], sq[32], want[128];
	int64_t s;

	if (cap > 500) {
		conf_info(r, "not exercised: --cursors-max %ld is too large", cap);
		return;
	}
	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&first);
	s = conf_post_msg(r, &first, "first", NULL, NULL);
	j = claim_q(r, &id, first.id, "timeout=1", NULL, &st);
	snprintf(cid, sizeof(cid), "%s", conf_jstr(j, "claim_id") ? conf_jstr(j, "claim_id") : "");
	cJSON_Delete(j);
	snprintf(sq, sizeof(sq), "%lld", (long long)s);
	cJSON_Delete(ack(r, &id, first.id, cid, sq, &st));
	/* Touch cap more rooms: the first record is the least recently touched and is evicted. */
	for (i = 0; i < cap; i++) {
		if (i && i % 100 == 0 && r->ctx->o.use_xff)
			conf_fresh_ip(r, r->ip);
		conf_room_new(&other);
		if (conf_post_msg(r, &other, "o", NULL, NULL) < 0)
			return;
		cJSON_Delete(claim_q(r, &id, other.id, "timeout=1", NULL, &st));
	}
	j = ack(r, &id, first.id, cid, sq, &st);
	snprintf(want, sizeof(want), "{\"ok\":true,\"advanced\":false,\"cursor\":0}");
	{
		char *t = conf_jprint(j);

		conf_got(r, "%ld %s", st, t ? t : "");
		free(t);
	}
	conf_check(r, st == 200 && body_is(j, want), 0,
		   "CAP-11/ACK-1: after %ld other rooms, the oldest cursor record is evicted (ack "
		   "finds no record)", cap);
	cJSON_Delete(j);
}

/* ACK-1 and the seq parsing of §13.2. */
static void c_ack_parse(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	long st;
	cJSON *j;
	char cid[40], sq[48];
	int64_t s;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	j = ack(r, &id, room.id, "x", "1", &st);
	conf_check(r, st == 200 && body_is(j, "{\"ok\":true,\"advanced\":false,\"cursor\":0}"), 0,
		   "ACK-1: no record (the room need not exist) → {\"ok\":true,\"advanced\":false,"
		   "\"cursor\":0}");
	cJSON_Delete(j);
	s = conf_post_msg(r, &room, "ack me", NULL, NULL);
	j = claim_q(r, &id, room.id, "timeout=1", NULL, &st);
	snprintf(cid, sizeof(cid), "%s", conf_jstr(j, "claim_id") ? conf_jstr(j, "claim_id") : "");
	cJSON_Delete(j);
	j = ack(r, &id, room.id, cid, "[1]", &st);
	conf_check(r, st == 409, CK_SR, "§13.2 (sealroom): an array seq counts as 0 (→ ACK-3 409)");
	cJSON_Delete(j);
	snprintf(sq, sizeof(sq), "\"%lldabc\"", (long long)s);
	j = ack(r, &id, room.id, cid, sq, &st);
	conf_check(r, st == 200 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "advanced")), 0,
		   "§13.2: a string seq is parsed with P() (\"<seq>abc\")");
	cJSON_Delete(j);
}

const struct conf_case conf_cases_claim[] = {
	{ "claim.checks", "CLAIM-1a CLAIM-1b CLAIM-1c CLAIM-1e CLAIM-1f INV-8", CONF_MUST, 0,
	  "claim checks in order; an absent room is not created", c_checks },
	{ "claim.flow", "CLAIM-2 CLAIM-3 CLAIM-4 CLAIM-5 CLAIM-7 ROOM-19 ACK-2 ACK-3 ACK-4",
	  CONF_MUST, 0, "claim, re-claim, ack, exclusions, empty answers", c_flow },
	{ "claim.park", "CLAIM-6 CLAIM-7 ROOM-22", CONF_MUST, 0,
	  "a parked claim is resolved by the next message", c_park },
	{ "claim.ttl", "NUM-4 CLAIM-3", CONF_MUST, 0, "ttl_ms is clamped to at least 60 s", c_ttl },
	{ "claim.clamp", "CLAIM-2", CONF_MUST, 0, "the cursor is clamped below the oldest message",
	  c_clamp },
	{ "claim.lease", "CLAIM-3 CLAIM-8", CONF_MUST, CF_SLOW,
	  "an unacked claim is redelivered after its lease (--long)", c_lease },
	{ "claim.cursors", "CAP-11 ACK-1", CONF_MUST, 0, "cursor records per handle are capped (LRU)",
	  c_cursors },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};

const struct conf_case conf_cases_ack[] = {
	{ "ack.parse", "ACK-1 ACK-3 ACK-4", CONF_MUST, 0,
	  "ack without a record; seq parsing (numbers, strings, arrays)", c_ack_parse },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
