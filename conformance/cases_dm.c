/* dm.* — PROTOCOL.md §12: direct messages, inbox waits and deletes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "crypto/envelope.h"
#include "crypto/ids.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"
#include "proto/json.h"

static void auth_for(const struct crypto_identity *id, const char *method, const char *target,
		     char out[320])
{
	conf_auth_header(id, method, target, out);
}

/* An authorised inbox wait; returns the parsed body (caller deletes) and the status. */
static cJSON *inbox(struct conf_run *r, const struct crypto_identity *id, int64_t after, int timeout,
		    long *status)
{
	char target[200], h[320];
	const char *hdrs[2] = { h, NULL };
	struct conf_resp resp;
	cJSON *j;

	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=%lld&timeout=%d", id->handle,
		 (long long)after, timeout);
	auth_for(id, "GET", target, h);
	r->req_timeout_ms = conf_ms(r, (timeout + 10) * 1000L);
	*status = 0;
	if (conf_req(r, "GET", target, hdrs, NULL, 0, &resp) < 0) {
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

static void expect_dm(struct conf_run *r, const char *to, const char *body, long status,
		      const char *error, unsigned ck, const char *rule)
{
	char target[200];
	struct conf_resp resp;

	snprintf(target, sizeof(target), "/api/dm/%s", to);
	if (!body || conf_post_json(r, target, body, &resp) < 0)
		return;
	conf_expect_error(r, &resp, status, error, ck, ck, rule);
	conf_resp_free(&resp);
}

/* DM-3..6, CRYPTO-4: an anonymous DM end to end. */
static void c_anon(struct conf_run *r)
{
	struct crypto_identity bob;
	char *body, target[160], keys[256], id[40];
	struct conf_resp resp;
	int64_t now = clock_now_ms(), seq;
	long st;
	cJSON *j;
	const cJSON *m;

	if (conf_register(r, &bob) < 0)
		return;
	body = conf_dm_body(&bob, NULL, "hi bob", NULL);
	snprintf(target, sizeof(target), "/api/dm/%s", bob.handle);
	if (!body || conf_post_json(r, target, body, &resp) < 0) {
		free(body);
		return;
	}
	free(body);
	seq = conf_jint(resp.json, "seq", -1);
	snprintf(id, sizeof(id), "%s", conf_jstr(resp.json, "id") ? conf_jstr(resp.json, "id") : "");
	conf_check(r, resp.status == 200 &&
			      strcmp(conf_keys(resp.json, keys, sizeof(keys)), "ok,id,seq") == 0 &&
			      conf_is_uuid(id),
		   0, "DM-6: 200 {\"ok\":true,\"id\":\"<uuid>\",\"seq\":<int>}");
	conf_check(r, llabs(seq - now) < 60000, 0,
		   "DM-4: the first seq of a fresh inbox is now + 1 (inbox_seq 0 → now)");
	conf_expect_schema(r, &resp, "/api/dm/{handle}", "post", 0, "DM-6");
	conf_resp_free(&resp);
	j = inbox(r, &bob, 0, 1, &st);
	m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0);
	conf_check(r, st == 200 && m && conf_jint(m, "seq", -1) == seq && conf_jstr(m, "id") &&
			      strcmp(conf_jstr(m, "id"), id) == 0,
		   0, "DM-7e: the inbox wait returns the envelope");
	conf_check(r, m && strcmp(conf_keys(m, keys, sizeof(keys)),
				  "seq,id,ciphertext,nonce,sender_eph_pub,from_handle,from_verified,ts") == 0,
		   0, "DM-5: envelope keys seq, id, ciphertext, nonce, sender_eph_pub, from_handle, "
		      "from_verified, ts (no _bytes)");
	conf_check(r, m && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "from_handle")) &&
			      cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "from_verified")),
		   0, "DM-3: an unsigned DM is anonymous: from_handle null, from_verified false");
	conf_check(r, j && conf_jint(j, "last_seq", -1) == seq &&
			      cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "has_more")),
		   0, "DM-7e: last_seq of the last returned; has_more false");
	if (m) {
		const char *ct = conf_jstr(m, "ciphertext"), *nn = conf_jstr(m, "nonce"),
			   *eph = conf_jstr(m, "sender_eph_pub");
		char *plain = NULL;
		size_t len;

		conf_check(r, ct && nn && eph &&
				      env_dm_open(bob.box_sk, ct, strlen(ct), nn, strlen(nn), eph,
						  strlen(eph), &plain, &len) == 0 &&
				      strcmp(plain, "hi bob") == 0,
			   0, "CRYPTO-4/INV-6: the relayed envelope opens with the recipient's box key");
		free(plain);
		conf_expect_component(r, m, "DmEnvelope", 0, "DM-5");
	}
	cJSON_Delete(j);
}

/* DM-2, SIG-4, INV-7, REPLAY-1: verified senders. */
static void c_verified(struct conf_run *r)
{
	struct crypto_identity alice, bob, stranger;
	char *body, target[160];
	long st;
	cJSON *j;
	const cJSON *m;
	struct conf_resp resp;

	if (conf_register(r, &alice) < 0 || conf_register(r, &bob) < 0)
		return;
	body = conf_dm_body(&bob, &alice, "signed hi", NULL);
	snprintf(target, sizeof(target), "/api/dm/%s", bob.handle);
	if (!body || conf_post_json(r, target, body, &resp) < 0) {
		free(body);
		return;
	}
	conf_check(r, resp.status == 200, 0, "DM-2: a validly signed DM is accepted");
	conf_resp_free(&resp);
	j = inbox(r, &bob, 0, 1, &st);
	m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0);
	conf_check(r, m && conf_jstr(m, "from_handle") &&
			      strcmp(conf_jstr(m, "from_handle"), alice.handle) == 0 &&
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "from_verified")),
		   0, "DM-2/INV-7: a verified DM carries from_handle and from_verified:true");
	cJSON_Delete(j);
	expect_dm(r, bob.handle, body, 401, "envelope already seen", 0,
		  "DM-2/REPLAY-1: the same signed envelope again → 401 envelope already seen");
	free(body);
	/* Failures of DM-2, in order. */
	body = conf_dm_body(&bob, &alice, "x", NULL);
	if (body) {
		char *p = strstr(body, "\"from_sig\":\"");

		if (p) {
			p[12] = p[12] == 'A' ? 'B' : 'A'; /* still canonical, wrong signature */
			expect_dm(r, bob.handle, body, 401, "bad from_handle signature", 0,
				  "DM-2: SIG-4 must verify with from_handle's sign_pub");
		}
		free(body);
	}
	crypto_identity_new(&stranger, "cfnosuchsender0");
	body = conf_dm_body(&bob, &stranger, "x", NULL);
	expect_dm(r, bob.handle, body, 400, "from_handle not registered", 0,
		  "DM-2: an unregistered from_handle → 400");
	free(body);
	body = conf_dm_body(&bob, &alice, "x", NULL);
	if (body) {
		char *p = strstr(body, "\"from_sig\":\"");

		if (p) {
			memmove(p + 12, p + 14, strlen(p + 14) + 1); /* 86 characters: not canonical */
			expect_dm(r, bob.handle, body, 400,
				  "from_sig must be strict canonical base64 of 64 bytes", 0,
				  "DM-2: from_sig must be canonical(·,64)");
		}
		free(body);
	}
	body = conf_dm_body(&bob, &alice, "x", NULL);
	if (body) {
		char *p = strstr(body, "\"from_ts\":");

		if (p) {
			char *end = strchr(p, ',');
			char *nb = NULL;

			if (end && asprintf(&nb, "%.*s\"from_ts\":%lld%s", (int)(p - body), body,
					    (long long)(clock_now_ms() - 61000), end) >= 0)
				expect_dm(r, bob.handle, nb, 400, "from_ts skew too large", 0,
					  "DM-2/VAL-7: from_ts outside the skew → 400");
			free(nb);
			if (end && asprintf(&nb, "%.*s\"from_ts\":%lld.5%s", (int)(p - body), body,
					    (long long)clock_now_ms(), end) >= 0)
				expect_dm(r, bob.handle, nb, 400, "from_ts skew too large", CK_SR,
					  "DM-2 (sealroom): a non-integer from_ts → 400 from_ts skew too large");
			free(nb);
			/* A non-number from_ts: DM-2 does not run: anonymous. */
			if (end && asprintf(&nb, "%.*s\"from_ts\":\"soon\"%s", (int)(p - body), body, end) >= 0) {
				snprintf(target, sizeof(target), "/api/dm/%s", bob.handle);
				if (conf_post_json(r, target, nb, &resp) == 0) {
					conf_check(r, resp.status == 200, 0,
						   "DM-3: a DM whose from_ts is not a number is anonymous "
						   "(accepted)");
					conf_resp_free(&resp);
				}
				j = inbox(r, &bob, 0, 1, &st);
				m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"),
						       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages")) - 1);
				conf_check(r, m && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "from_handle")) &&
						      cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "from_verified")),
					   0, "DM-3/INV-7: a claimed sender without a valid signature is never "
					      "relayed (from_handle null)");
				cJSON_Delete(j);
			}
			free(nb);
		}
		free(body);
	}
}

/* DM-1a..1h: the checks in order. */
static void c_checks(struct conf_run *r)
{
	struct crypto_identity bob;
	char *good, *b = NULL, big[200];
	cJSON *g;
	const char *ct, *nn, *eph;

	if (conf_register(r, &bob) < 0)
		return;
	good = conf_dm_body(&bob, NULL, "x", NULL);
	g = good ? cJSON_Parse(good) : NULL;
	ct = conf_jstr(g, "ciphertext");
	nn = conf_jstr(g, "nonce");
	eph = conf_jstr(g, "sender_eph_pub");
	if (!ct || !nn || !eph)
		goto out;
	expect_dm(r, "A!", "{}", 400, "invalid handle", 0, "DM-1a: a recipient failing VAL-2");
	expect_dm(r, "a", good, 400, "invalid handle", 0, "DM-1a: one character is too short");
	expect_dm(r, "cfnosuchhandle0", "{}", 404, "no such handle", 0,
		  "DM-1c: an unregistered recipient (before the body checks)");
	expect_dm(r, bob.handle, "{}", 400, "ciphertext, nonce, sender_eph_pub required (all base64)",
		  0, "DM-1d: missing fields");
#define TRY(FMT, A1, A2, A3, ST, ERR, RULE)                                               \
	do {                                                                               \
		if (asprintf(&b, FMT, A1, A2, A3) >= 0)                                    \
			expect_dm(r, bob.handle, b, ST, ERR, 0, RULE);                     \
		free(b);                                                                   \
		b = NULL;                                                                  \
	} while (0)
	TRY("{\"ciphertext\":5,\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"%s}", nn, eph, "", 400,
	    "ciphertext, nonce, sender_eph_pub required (all base64)", "DM-1d: a non-string field");
	TRY("{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"}", "AB==", nn, eph, 400,
	    "ciphertext must be strict canonical base64", "DM-1f: a non-canonical ciphertext");
	TRY("{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"}", ct,
	    "oKGio6SlpqeoqaqrrK2ur7CxsrO0tQ==", eph, 400,
	    "nonce must be strict canonical base64 of 24 bytes", "DM-1g: a 23-byte nonce");
	TRY("{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"}", ct, nn,
	    "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYl==", 400,
	    "sender_eph_pub must be strict canonical base64 of 32 bytes",
	    "DM-1h: a 31-byte sender_eph_pub");
#undef TRY
	/* DM-1e: more than 131 072 decoded bytes (lenient) → too large, before canonical. */
	{
		size_t n = 174764; /* 131 073 bytes of base64 (plus slack), not canonical: "A" */
		char *huge = malloc(n + 400);

		if (huge) {
			int k = snprintf(huge, 400, "{\"ciphertext\":\"");

			memset(huge + k, 'A', n);
			snprintf(huge + k + n, 400, "!\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"}", nn, eph);
			expect_dm(r, bob.handle, huge, 400, "ciphertext too large", 0,
				  "DM-1e: lenient(ciphertext) over 131 072 bytes");
			free(huge);
		}
	}
	snprintf(big, sizeof(big), "/api/dm/@%s", bob.handle);
	{
		struct conf_resp resp;

		if (conf_post_json(r, big, good, &resp) == 0) {
			conf_check(r, resp.status == 200, 0,
				   "§12.1: the recipient is the path handle minus one leading @");
			conf_resp_free(&resp);
		}
	}
out:
	cJSON_Delete(g);
	free(good);
}

/* DM-4, INV-9: consecutive seqs; a rejected DM consumes none. */
static void c_seq(struct conf_run *r)
{
	struct crypto_identity bob;
	int64_t a, b;

	if (conf_register(r, &bob) < 0)
		return;
	a = conf_dm_send(r, &bob, NULL, "one", NULL);
	expect_dm(r, bob.handle, "{\"ciphertext\":\"AB==\",\"nonce\":\"x\",\"sender_eph_pub\":\"y\"}",
		  400, "ciphertext must be strict canonical base64", 0, "DM-1f");
	b = conf_dm_send(r, &bob, NULL, "two", NULL);
	conf_got(r, "seqs %lld then %lld", (long long)a, (long long)b);
	conf_check(r, a > 0 && b == a + 1, 0,
		   "DM-4/INV-9: seq = inbox_seq + 1; a rejected DM consumes no seq");
}

/* DM-7h, DM-8: parking, waking, timeouts and paging. */
static void c_wait(struct conf_run *r)
{
	struct crypto_identity bob;
	char target[200], h[320], extra[400];
	long st;
	int fd;
	int64_t s1, t0;
	cJSON *j;

	if (conf_register(r, &bob) < 0)
		return;
	/* Park on an empty inbox, then a DM wakes it with exactly that envelope. */
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=0&timeout=10", bob.handle);
	auth_for(&bob, "GET", target, h);
	snprintf(extra, sizeof(extra), "%s\r\n", h);
	fd = conf_raw_park(r, "GET", target, NULL, extra);
	if (fd < 0)
		return;
	if (!conf_check(r, conf_raw_parked(fd, conf_ms(r, 300)), 0,
			"DM-7h: an inbox wait on an empty inbox parks")) {
		close(fd);
		return;
	}
	s1 = conf_dm_send(r, &bob, NULL, "wake", NULL);
	{
		struct raw_resp rr;

		if (conf_raw_read(fd, conf_ms(r, 5000), &rr) == 0) {
			char keys[64];

			j = json_parse(rr.body, rr.body_len, 64, false);
			conf_got(r, "%d %.200s", rr.status, rr.body);
			conf_check(r, rr.status == 200 &&
					      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages")) == 1 &&
					      conf_jint(j, "last_seq", -1) == s1 &&
					      strcmp(conf_keys(j, keys, sizeof(keys)), "messages,last_seq") == 0,
				   0, "DM-8: a new envelope wakes the waiter: {\"messages\":[it],\"last_seq\":"
				      "its seq}");
			cJSON_Delete(j);
			raw_resp_free(&rr);
		} else {
			conf_check(r, false, 0, "DM-8: a new envelope wakes the parked inbox wait");
		}
	}
	close(fd);
	/* Timeout: {"messages":[],"last_seq":after}. */
	t0 = conf_now();
	j = inbox(r, &bob, s1, 1, &st);
	{
		char *txt = conf_jprint(j);

		conf_got(r, "%ld %s after %lld ms", st, txt ? txt : "", (long long)(conf_now() - t0));
		free(txt);
	}
	conf_check(r, st == 200 && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages")) == 0 &&
			      conf_jint(j, "last_seq", -1) == s1 && conf_now() - t0 >= 900,
		   0, "DM-7h/DM-8: on timeout → {\"messages\":[],\"last_seq\":<after>}");
	cJSON_Delete(j);
	/* Paging: 50 per answer with has_more; reading removes nothing. */
	{
		int i, n = 0;

		for (i = 0; i < 55; i++)
			if (conf_dm_send(r, &bob, NULL, "page", NULL) < 0)
				return;
		j = inbox(r, &bob, 0, 1, &st);
		n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages"));
		conf_check(r, n == 50 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_more")) &&
				      conf_jint(j, "last_seq", -1) ==
					      conf_jint(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 49),
							"seq", -2),
			   0, "DM-7e: the first 50 envelopes, has_more:true, last_seq of the last returned");
		cJSON_Delete(j);
		j = inbox(r, &bob, 0, 1, &st);
		conf_check(r, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages")) == 50, 0,
			   "DM-8: reading never removes envelopes");
		cJSON_Delete(j);
	}
}

/* DM-9: deleting envelopes by id. */
static void c_delete(struct conf_run *r)
{
	struct crypto_identity bob, carol;
	char id[40], target[200], h[320];
	const char *hdrs[2] = { h, NULL };
	struct conf_resp resp;
	long st;
	cJSON *j;
	int k;

	if (conf_register(r, &bob) < 0 || conf_register(r, &carol) < 0)
		return;
	if (conf_dm_send(r, &bob, NULL, "delete me", id) < 0 ||
	    conf_dm_send(r, &bob, NULL, "keep me", NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/%s", bob.handle, id);
	for (k = 0; k < 2; k++) {
		auth_for(&bob, "DELETE", target, h);
		if (conf_req(r, "DELETE", target, hdrs, NULL, 0, &resp) < 0)
			return;
		conf_expect_status(r, &resp, 200, 0, "DM-9");
		conf_expect_body(r, &resp, k == 0 ? "{\"ok\":true,\"removed\":1}" : "{\"ok\":true,\"removed\":0}",
				 0, k == 0 ? "DM-9: the envelope is removed" : "DM-9: nothing left to remove");
		conf_resp_free(&resp);
	}
	j = inbox(r, &bob, 0, 1, &st);
	conf_check(r, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "messages")) == 1, 0,
		   "DM-9: the deleted envelope is no longer returned");
	cJSON_Delete(j);
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/%s", carol.handle, id);
	auth_for(&carol, "DELETE", target, h);
	if (conf_req(r, "DELETE", target, hdrs, NULL, 0, &resp) == 0) {
		conf_expect_body(r, &resp, "{\"ok\":true,\"removed\":0}", 0,
				 "DM-9: {\"ok\":true,\"removed\":0} when there is no inbox");
		conf_resp_free(&resp);
	}
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/%s", bob.handle, id);
	if (conf_req(r, "DELETE", target, NULL, NULL, 0, &resp) == 0) {
		conf_expect_error(r, &resp, 401, "bad or missing signature", 0, 0,
				  "DM-9: DM-7d request auth applies");
		conf_resp_free(&resp);
	}
}

/* DM-11, CAP-10: the inbox keeps INBOX_MAX envelopes, dropping the oldest. */
static void c_prune(struct conf_run *r)
{
	long max = r->ctx->o.inbox_max, n = max + 4, i;
	struct crypto_identity bob;
	int64_t first = -1, s;
	long st;
	cJSON *j;

	if (max > 2000) {
		conf_info(r, "not exercised: --inbox-max %ld is too large", max);
		return;
	}
	if (conf_register(r, &bob) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (i && i % 250 == 0 && r->ctx->o.use_xff)
			conf_fresh_ip(r, r->ip); /* the dm:<handle> bucket is per IP (RL-7) */
		s = conf_dm_send(r, &bob, NULL, "prune", NULL);
		if (s < 0)
			return;
		if (i == 0)
			first = s;
	}
	j = inbox(r, &bob, 0, 1, &st);
	conf_got(r, "first seq returned %lld; first sent %lld",
		 (long long)conf_jint(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0), "seq", -1),
		 (long long)first);
	conf_check(r, conf_jint(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "messages"), 0),
				"seq", -1) == first + 4,
		   0, "DM-11/CAP-10: beyond INBOX_MAX (%ld) the oldest envelopes are dropped", max);
	cJSON_Delete(j);
}

/* DM-7f, DM-7g, CAP-2, CAP-4: inbox waiter caps. */
static void c_waiter_caps(struct conf_run *r)
{
	long per_ip = r->ctx->o.waiter_cap, per_handle = r->ctx->o.dm_waiters_max, i;
	int fds[512], n = 0;
	struct crypto_identity bob;
	char target[200], h[320], extra[400], ip[48];
	int64_t s0;

	if (!r->ctx->o.use_xff || per_handle + 1 > 500 || per_ip < 1) {
		conf_info(r, "not exercised: needs per-case client IPs (XFF from loopback) and small "
			     "caps");
		return;
	}
	if (conf_register(r, &bob) < 0)
		return;
	s0 = conf_dm_send(r, &bob, NULL, "cursor", NULL);
	if (s0 < 0)
		return;
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=%lld&timeout=20", bob.handle,
		 (long long)s0);
	/* Per IP: the (cap+1)th from one IP is refused. */
	for (i = 0; i <= per_handle; i++) {
		int fd;

		if (i % per_ip == 0)
			conf_fresh_ip(r, ip);
		auth_for(&bob, "GET", target, h);
		snprintf(extra, sizeof(extra), "%s\r\n", h);
		fd = conf_raw_park(r, "GET", target, ip, extra);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	{
		/* Which of the concurrent requests is refused is not ordered; that exactly one is,
		 * with the handle cap's text, is. */
		struct raw_resp rr;
		bool answered[512];
		int k = conf_raw_answers(fds, n, conf_ms(r, 1500), answered, &rr);

		conf_got(r, "%d of %d inbox waits answered at once: %d %s", k, n, rr.status,
			 rr.body ? rr.body : "");
		conf_check(r, n == per_handle + 1 && k == 1 && rr.status == 429 && rr.body &&
				      strcmp(rr.body, "{\"error\":\"too many concurrent waiters for this handle\"}") == 0,
			   0, "DM-7f/CAP-4: exactly the wait beyond DM_WAITERS_MAX_PER_HANDLE (%ld) → 429 "
			      "too many concurrent waiters for this handle", per_handle);
		raw_resp_free(&rr);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	(void)per_ip;
}

/* DM-10: inboxes are memory-only (not observable remotely). */
static void c_memory(struct conf_run *r)
{
	conf_info(r, "not observable remotely: with --state-dir, ops.state checks that only "
		     "identities.json is written");
}

const struct conf_case conf_cases_dm[] = {
	{ "dm.send.anon", "DM-1c DM-3 DM-4 DM-5 DM-6 DM-7e CRYPTO-4 INV-6", CONF_MUST, 0,
	  "an anonymous DM end to end: send, wait, open", c_anon },
	{ "dm.send.verified", "DM-1i DM-2 DM-3 SIG-4 INV-7 REPLAY-1", CONF_MUST, 0,
	  "verified senders, and every DM-2 failure", c_verified },
	{ "dm.send.checks", "DM-1a DM-1c DM-1d DM-1e DM-1f DM-1g DM-1h B64-2", CONF_MUST, 0,
	  "the DM checks in order, with their exact errors", c_checks },
	{ "dm.seq", "DM-4 INV-9", CONF_MUST, 0, "consecutive seqs; rejected DMs consume none",
	  c_seq },
	{ "dm.wait", "DM-7e DM-7h DM-8", CONF_MUST, 0,
	  "inbox waits: wake, timeout, pages of 50", c_wait },
	{ "dm.delete", "DM-9 DM-7d", CONF_MUST, 0, "deleting envelopes by id", c_delete },
	{ "dm.prune", "DM-11 CAP-10", CONF_MUST, 0, "INBOX_MAX envelopes per inbox", c_prune },
	{ "dm.waiter-caps", "DM-7f DM-7g CAP-4 CAP-2", CONF_MUST, 0,
	  "inbox waiters per handle are capped", c_waiter_caps },
	{ "dm.memory", "DM-10 DM-1j CAP-7", CONF_MUST, 0,
	  "inboxes in memory; the DM byte fuse (informational)", c_memory },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
