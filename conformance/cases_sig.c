/* sig.* — PROTOCOL.md §11.3: signed room messages (SIG-3, SIG-5..8), over HTTP and WS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "crypto/envelope.h"
#include "crypto/ids.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"

/* A body with explicit signed fields (raw JSON values; NULL: omitted). */
static char *signed_body(const struct conf_room *room, const char *ct, const char *nonce,
			 const char *handle, const char *ts, const char *snonce, const char *sig,
			 const char *extra)
{
	char *out = NULL;

	if (asprintf(&out, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s%s%s%s%s%s%s%s%s}", ct, nonce,
		     handle ? ",\"sender_handle\":" : "", handle ? handle : "",
		     ts ? ",\"sender_ts\":" : "", ts ? ts : "", snonce ? ",\"sender_nonce\":" : "",
		     snonce ? snonce : "", sig ? ",\"sender_sig\":" : "", sig ? sig : "",
		     extra ? extra : "") < 0)
		return NULL;
	(void)room;
	return out;
}

static void sign(const struct crypto_identity *id, const char *room, int64_t ts, const char *n,
		 const char *ct, char out[100])
{
	char msg[512], s[89];

	sigstr_room_msg(msg, sizeof(msg), room, ts, n, strlen(n), ct, strlen(ct));
	crypto_sign_b64(id, msg, strlen(msg), s);
	snprintf(out, 100, "\"%s\"", s);
}

static long post(struct conf_run *r, const char *room, const char *body, cJSON **json)
{
	char target[160];
	struct conf_resp resp;
	long st;

	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room);
	if (!body || conf_post_json(r, target, body, &resp) < 0)
		return -1;
	st = resp.status;
	if (json) {
		*json = resp.json;
		resp.json = NULL;
	}
	conf_resp_free(&resp);
	return st;
}

/* SIG-3, SIG-5..8, ROOM-14, INV-7: a valid signed post is relayed as "@handle", verified. */
static void c_ok(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	char *ct = NULL, nonce[33], sn[25], sig[100], hq[64], tsq[40], *body, target[160];
	int64_t ts = clock_now_ms();
	size_t i;
	cJSON *tx;
	const cJSON *m;
	int k;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	for (k = 0; k < 2; k++) {
		env_room_seal(room.key, "signed hello", 12, &ct, nonce);
		crypto_random_nonce_b64url(sn);
		sign(&id, room.id, ts, sn, ct, sig);
		/* Upper-case sender_handle: the label is "@" + lower-case; sender is ignored. */
		snprintf(hq, sizeof(hq), "\"%s\"", id.handle);
		for (i = 1; hq[i] != '"'; i++)
			if (hq[i] >= 'a' && hq[i] <= 'z')
				hq[i] = (char)(hq[i] - 'a' + 'A');
		if (k == 0)
			snprintf(tsq, sizeof(tsq), "%lld", (long long)ts);
		else
			snprintf(tsq, sizeof(tsq), "\"00%lld\"", (long long)ts);
		{
			char snq[40];

			snprintf(snq, sizeof(snq), "\"%s\"", sn);
			body = signed_body(&room, ct, nonce, hq, tsq, snq, sig,
					   ",\"sender\":\"someone-else\"");
		}
		conf_check(r, post(r, room.id, body, NULL) == 200, k ? CK_SR : 0,
			   k ? "SIG-6 (sealroom): sender_ts as a digit string (leading zeros dropped in "
			       "SIG-3) is accepted"
			     : "SIG-3/SIG-5..8: a validly signed post is accepted");
		free(body);
		free(ct);
		ct = NULL;
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/transcript", room.id);
	tx = conf_get_json(r, target, NULL);
	m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tx, "messages"), 0);
	{
		char want[48], *plain = conf_open_msg(&room, m);

		snprintf(want, sizeof(want), "@%s", id.handle);
		conf_check(r, m && conf_jstr(m, "sender") && strcmp(conf_jstr(m, "sender"), want) == 0 &&
				      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "sender_verified")),
			   0, "ROOM-14/INV-7: label \"@\"+lowercase(sender_handle), sender_verified:true; "
			      "sender ignored");
		conf_check(r, plain && strcmp(plain, "signed hello") == 0, 0,
			   "CRYPTO-2: the relayed message opens with the room key");
		conf_check(r, m && !conf_jhas(m, "sender_sig") && !conf_jhas(m, "sender_ts") &&
				      !conf_jhas(m, "sender_nonce") && !conf_jhas(m, "sender_handle"),
			   0, "ROOM-15: signature fields are never stored or relayed");
		free(plain);
	}
	cJSON_Delete(tx);
}

/* SIG-5..8, ROOM-POST-6: each failure → 401 bad sender_sig. */
static void c_bad(struct conf_run *r)
{
	struct crypto_identity id, other;
	struct conf_room room, room2;
	char *ct = NULL, nonce[33], sn[25], snq[40], sig[100], sig_other[100], sig_room2[100];
	char hq[64], tsq[40], stale[40], tsstr[48];
	int64_t ts = clock_now_ms();
	struct {
		char *body;
		unsigned ck;
		const char *rule;
	} t[16];
	size_t n = 0, i;

	if (conf_register(r, &id) < 0)
		return;
	crypto_identity_new(&other, id.handle);
	conf_room_new(&room);
	conf_room_new(&room2);
	env_room_seal(room.key, "x", 1, &ct, nonce);
	if (!ct)
		return;
	crypto_random_nonce_b64url(sn);
	snprintf(snq, sizeof(snq), "\"%s\"", sn);
	sign(&id, room.id, ts, sn, ct, sig);
	sign(&other, room.id, ts, sn, ct, sig_other);
	sign(&id, room2.id, ts, sn, ct, sig_room2);
	snprintf(hq, sizeof(hq), "\"%s\"", id.handle);
	snprintf(tsq, sizeof(tsq), "%lld", (long long)ts);
	snprintf(stale, sizeof(stale), "%lld", (long long)(ts - 61000));
	snprintf(tsstr, sizeof(tsstr), "\"%lld\"", (long long)ts);
#define ROW(B, C, R) t[n++] = (typeof(t[0])){ (B), (C), (R) }
	ROW(signed_body(&room, ct, nonce, "\"cfnosuchhandle0\"", tsq, snq, sig, NULL), 0,
	    "SIG-5: the handle must be registered");
	ROW(signed_body(&room, ct, nonce, "5", tsq, snq, sig, NULL), CK_SR,
	    "SIG-5 (sealroom): a non-string sender_handle fails");
	ROW(signed_body(&room, ct, nonce, "\"a.b\"", tsq, snq, sig, NULL), 0,
	    "SIG-5: the handle must pass VAL-3");
	ROW(signed_body(&room, ct, nonce, hq, stale, snq, sig, NULL), 0, "SIG-6/VAL-7: 61 s old");
	ROW(signed_body(&room, ct, nonce, hq, "0", snq, sig, NULL), 0, "SIG-6: sender_ts 0");
	ROW(signed_body(&room, ct, nonce, hq, "\"12a\"", snq, sig, NULL), CK_SR,
	    "SIG-6 (sealroom): a sender_ts string with a non-digit");
	ROW(signed_body(&room, ct, nonce, hq, "1767225600000.5", snq, sig, NULL), CK_SR,
	    "SIG-6 (sealroom): a non-integer sender_ts");
	ROW(signed_body(&room, ct, nonce, hq, tsq, "\"short-nonce-15c\"", sig, NULL), 0,
	    "SIG-7/VAL-6: a 15-character sender_nonce");
	ROW(signed_body(&room, ct, nonce, hq, tsq, "123456789012345678", sig, NULL), CK_SR,
	    "SIG-7 (sealroom): a non-string sender_nonce");
	ROW(signed_body(&room, ct, nonce, hq, tsq, snq, sig_other, NULL), 0,
	    "SIG-8: a signature by another key");
	ROW(signed_body(&room, ct, nonce, hq, tsq, snq, sig_room2, NULL), 0,
	    "SIG-8: a signature for another room (SIG-3 includes the room id)");
	ROW(signed_body(&room, ct, nonce, hq, tsq, snq, "[1]", NULL), 0,
	    "SIG-7: a non-string sender_sig (truthy) fails");
#undef ROW
	for (i = 0; i < n; i++) {
		char target[160];
		struct conf_resp resp;

		snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
		if (t[i].body && conf_post_json(r, target, t[i].body, &resp) == 0) {
			conf_expect_error(r, &resp, 401, "bad sender_sig", t[i].ck, t[i].ck, t[i].rule);
			conf_resp_free(&resp);
		}
		free(t[i].body);
	}
	(void)tsstr;
	free(ct);
}

/* SIG-7, REPLAY-1: a sender_nonce is single-use across all rooms. */
static void c_replay(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room a, b;
	char *ct = NULL, nonce[33], sn[25], snq[40], sig[100], hq[64], tsq[40], *body;
	int64_t ts = clock_now_ms();

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&a);
	conf_room_new(&b);
	env_room_seal(a.key, "once", 4, &ct, nonce);
	if (!ct)
		return;
	crypto_random_nonce_b64url(sn);
	snprintf(snq, sizeof(snq), "\"%s\"", sn);
	snprintf(hq, sizeof(hq), "\"%s\"", id.handle);
	snprintf(tsq, sizeof(tsq), "%lld", (long long)ts);
	sign(&id, a.id, ts, sn, ct, sig);
	body = signed_body(&a, ct, nonce, hq, tsq, snq, sig, NULL);
	conf_check(r, post(r, a.id, body, NULL) == 200, 0, "SIG-8: the first use is accepted");
	conf_check(r, post(r, a.id, body, NULL) == 401, 0,
		   "SIG-7/SIG-8/REPLAY-1: the same signed post again → 401 bad sender_sig");
	free(body);
	sign(&id, b.id, ts, sn, ct, sig);
	body = signed_body(&b, ct, nonce, hq, tsq, snq, sig, NULL);
	conf_check(r, post(r, b.id, body, NULL) == 401, 0,
		   "SIG-7: the nonce is spent across all rooms (reuse in another room → 401)");
	free(body);
	free(ct);
}

/* B64-3: sender_sig is decoded leniently. */
static void c_lenient(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	char *ct = NULL, nonce[33], sn[25], snq[40], sig[100], mangled[120], hq[64], tsq[40], *body;
	int64_t ts = clock_now_ms();

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	env_room_seal(room.key, "lenient", 7, &ct, nonce);
	if (!ct)
		return;
	crypto_random_nonce_b64url(sn);
	snprintf(snq, sizeof(snq), "\"%s\"", sn);
	snprintf(hq, sizeof(hq), "\"%s\"", id.handle);
	snprintf(tsq, sizeof(tsq), "%lld", (long long)ts);
	sign(&id, room.id, ts, sn, ct, sig);
	/* Insert a stray '.' and drop the padding: lenient() still yields the 64 bytes. */
	snprintf(mangled, sizeof(mangled), "%.21s.%.66s\"", sig, sig + 21);
	body = signed_body(&room, ct, nonce, hq, tsq, snq, mangled, NULL);
	conf_check(r, post(r, room.id, body, NULL) == 200, 0,
		   "SIG-8/B64-3: lenient(sender_sig) skips stray characters and needs no padding");
	free(body);
	free(ct);
}

/* WS-13, WS-15, INV-7: signed frames, and a locked room over WebSocket. */
static void c_ws(struct conf_run *r)
{
	struct crypto_identity id;
	struct conf_room room;
	struct ws_conn *w = NULL;
	char target[200], *body, want[48];
	cJSON *ev;

	if (conf_register(r, &id) < 0)
		return;
	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room.id);
	if (!conf_check(r, conf_ws(r, target, NULL, &w, NULL, NULL) == 0, 0, "WS-1: upgrade"))
		return;
	cJSON_Delete(conf_ws_until(w, "presence", conf_ms(r, 5000), NULL));
	body = conf_signed_body(&id, &room, "signed frame", ",\"signed_only\":true");
	if (body)
		ws_send_text(w, body, strlen(body));
	free(body);
	ev = NULL;
	conf_ws_json(w, conf_ms(r, 5000), &ev, NULL);
	conf_check(r, ev && conf_jstr(ev, "type") && strcmp(conf_jstr(ev, "type"), "locked") == 0, 0,
		   "WS-14/PRES-5: a signed frame with signed_only:true locks the room: {\"type\":"
		   "\"locked\"} first");
	cJSON_Delete(ev);
	ev = conf_ws_until(w, "message", conf_ms(r, 5000), NULL);
	snprintf(want, sizeof(want), "@%s", id.handle);
	conf_check(r, ev && conf_jstr(ev, "sender") && strcmp(conf_jstr(ev, "sender"), want) == 0 &&
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "sender_verified")),
		   0, "WS-16/INV-7: a signed frame is relayed as \"@handle\", verified");
	cJSON_Delete(ev);
	body = conf_sealed_body(&room, "unsigned", NULL);
	if (body)
		ws_send_text(w, body, strlen(body));
	free(body);
	ev = conf_ws_until(w, "error", conf_ms(r, 5000), NULL);
	conf_check(r, ev && conf_jint(ev, "code", -1) == 403 && conf_jstr(ev, "error") &&
			      strcmp(conf_jstr(ev, "error"), "signed_only") == 0,
		   0, "WS-15: an unsigned frame to a locked room → {\"type\":\"error\",\"code\":403,"
		      "\"error\":\"signed_only\"}");
	cJSON_Delete(ev);
	ws_free(w);
}

const struct conf_case conf_cases_sig[] = {
	{ "sig.room.ok", "SIG-3 SIG-5 SIG-6 SIG-7 SIG-8 ROOM-13 ROOM-14 ROOM-15 INV-7 CRYPTO-2",
	  CONF_MUST, 0, "a signed post is relayed as @handle, verified", c_ok },
	{ "sig.room.bad", "SIG-5 SIG-6 SIG-7 SIG-8 ROOM-POST-6 VAL-3 VAL-6 VAL-7", CONF_MUST, 0,
	  "every signature failure → 401 bad sender_sig", c_bad },
	{ "sig.room.replay", "SIG-7 SIG-8 REPLAY-1", CONF_MUST, 0,
	  "a sender_nonce is single-use across rooms", c_replay },
	{ "sig.room.lenient", "SIG-8 B64-3", CONF_MUST, 0, "sender_sig is decoded leniently",
	  c_lenient },
	{ "sig.ws", "WS-13 WS-14 WS-15 WS-16 INV-7 PRES-5", CONF_MUST, 0,
	  "signed frames; locking and a locked room over WebSocket", c_ws },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
