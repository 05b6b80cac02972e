/* auth.* — PROTOCOL.md §11.1: the request-auth header, exercised on the inbox wait (an
 * envelope is waiting, so an authorised wait answers at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "crypto/auth.h"
#include "crypto/ids.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"

#define E_AUTH "bad or missing signature"

struct fixture {
	struct crypto_identity bob;
	char target[160];
};

static bool setup(struct conf_run *r, struct fixture *f)
{
	if (conf_register(r, &f->bob) < 0 || conf_dm_send(r, &f->bob, NULL, "for auth", NULL) < 0)
		return false;
	snprintf(f->target, sizeof(f->target), "/api/dm/%s/inbox/wait?after=0&timeout=1",
		 f->bob.handle);
	return true;
}

/* "Authorization: <prefix> ts=..,n=..,sig=.." with explicit pieces. */
static void header(char *out, size_t cap, const struct crypto_identity *id, const char *method,
		   const char *signed_target, int64_t ts, const char *nonce, const char *prefix)
{
	char v[300];

	if (auth_header_with_nonce(v, sizeof(v), id, method, signed_target, ts, prefix, nonce) < 0)
		v[0] = '\0';
	snprintf(out, cap, "Authorization: %s", v);
}

static long try_auth(struct conf_run *r, const char *method, const char *target, const char *h,
		     struct conf_resp *keep)
{
	const char *hdrs[2] = { h, NULL };
	struct conf_resp resp;
	long st;

	if (conf_req(r, method, target, h ? hdrs : NULL, NULL, 0, &resp) < 0)
		return -1;
	st = resp.status;
	if (keep)
		*keep = resp;
	else
		conf_resp_free(&resp);
	return st;
}

static void expect_401(struct conf_run *r, const char *target, const char *h, unsigned ck,
		       const char *rule)
{
	const char *hdrs[2] = { h, NULL };
	struct conf_resp resp;

	if (conf_req(r, "GET", target, h ? hdrs : NULL, NULL, 0, &resp) < 0)
		return;
	conf_expect_error(r, &resp, 401, E_AUTH, ck, ck, rule);
	conf_resp_free(&resp);
}

static void nonce(char out[25])
{
	crypto_random_nonce_b64url(out);
}

/* AUTH-1, AUTH-5, SIG-2, CRYPTO-5: valid headers under both prefixes. */
static void c_ok(struct conf_run *r)
{
	struct fixture f;
	char h[400], n[25];
	struct conf_resp resp;
	long st;

	if (!setup(r, &f))
		return;
	nonce(n);
	conf_check(r, strlen(n) == 24, 0, "CRYPTO-5: request nonces are 18 random bytes in base64url");
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), n, "SafeBot");
	st = try_auth(r, "GET", f.target, h, &resp);
	conf_check(r, st == 200 && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(resp.json, "messages")) == 1,
		   0, "AUTH-1/AUTH-5/SIG-2: \"SafeBot ts=,n=,sig=\" over \"GET <path+raw query> <ts> "
		      "<n>\" → 200 with the envelope");
	if (st == 200)
		conf_expect_schema(r, &resp, "/api/dm/{handle}/inbox/wait", "get", 0, "DM-7e");
	conf_resp_free(&resp);
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), n, "Bot2Bot");
	conf_check(r, try_auth(r, "GET", f.target, h, NULL) == 200, CK_SR,
		   "AUTH-1 (sealroom): the prefix Bot2Bot is accepted too");
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), n, "safebot");
	expect_401(r, f.target, h, 0, "AUTH-1: the prefix is exactly \"SafeBot \" (case-sensitive)");
	{
		/* A leading-@ path is signed as sent. */
		char at[200];

		snprintf(at, sizeof(at), "/api/dm/@%s/inbox/wait?after=0&timeout=1", f.bob.handle);
		nonce(n);
		header(h, sizeof(h), &f.bob, "GET", at, clock_now_ms(), n, "SafeBot");
		conf_check(r, try_auth(r, "GET", at, h, NULL) == 200, 0,
			   "AUTH-5: a client that wrote @handle in the path signs @handle");
	}
}

/* AUTH-2: parsing of the parameter list. */
static void c_parse(struct conf_run *r)
{
	struct fixture f;
	char h[500], n[25], sigline[400], *sig, *p;
	int64_t ts;
	int i;

	if (!setup(r, &f))
		return;
	for (i = 0; i < 5; i++) {
		nonce(n);
		ts = clock_now_ms();
		header(sigline, sizeof(sigline), &f.bob, "GET", f.target, ts, n, "SafeBot");
		sig = strstr(sigline, "sig=");
		if (!sig)
			return;
		sig += 4;
		switch (i) {
		case 0:
			snprintf(h, sizeof(h), "Authorization: SafeBot sig=%s,n=%s,ts=%lld", sig, n,
				 (long long)ts);
			break;
		case 1:
			snprintf(h, sizeof(h), "Authorization: SafeBot  ts=%lld ,  n=%s , sig=%s ",
				 (long long)ts, n, sig);
			break;
		case 2:
			snprintf(h, sizeof(h), "Authorization: SafeBot ts=1,n=xx,ts=%lld,n=%s,sig=%s",
				 (long long)ts, n, sig);
			break;
		case 3:
			snprintf(h, sizeof(h), "Authorization: SafeBot ts=%lld,v=2,junk,n=%s,sig=%s",
				 (long long)ts, n, sig);
			break;
		default:
			/* sig padding survives the split at the first '=' */
			p = strchr(sig, '=');
			snprintf(h, sizeof(h), "Authorization: SafeBot ts=%lld,n=%s,sig=%s",
				 (long long)ts, n, sig);
			(void)p;
			break;
		}
		conf_check(r, try_auth(r, "GET", f.target, h, NULL) == 200, 0,
			   "AUTH-2: parts trimmed, split at the first '=', any order, last duplicate "
			   "wins, unknown keys and bare parts ignored (variant %d)", i + 1);
	}
}

/* AUTH-3, AUTH-6, VAL-6, VAL-7: malformed or stale fields. */
static void c_fields(struct conf_run *r)
{
	struct fixture f;
	char h[500], n[25], good[400], *sig;

	if (!setup(r, &f))
		return;
	expect_401(r, f.target, NULL, 0, "AUTH-6: no Authorization header → 401");
	nonce(n);
	header(good, sizeof(good), &f.bob, "GET", f.target, clock_now_ms(), n, "SafeBot");
	sig = strstr(good, "sig=") + 4;
	snprintf(h, sizeof(h), "Authorization: SafeBot ts=0,n=%s,sig=%s", n, sig);
	expect_401(r, f.target, h, 0, "AUTH-3: ts 0 fails");
	snprintf(h, sizeof(h), "Authorization: SafeBot ts=abc,n=%s,sig=%s", n, sig);
	expect_401(r, f.target, h, 0, "AUTH-3: ts NaN fails");
	snprintf(h, sizeof(h), "Authorization: SafeBot ts=%lld,n=%s,sig=", (long long)clock_now_ms(), n);
	expect_401(r, f.target, h, 0, "AUTH-3: an empty sig fails");
	snprintf(h, sizeof(h), "Authorization: SafeBot ts=%lld,sig=%s", (long long)clock_now_ms(), sig);
	expect_401(r, f.target, h, 0, "AUTH-3: a missing n fails");
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), "short-nonce-15c", "SafeBot");
	expect_401(r, f.target, h, 0, "AUTH-3/VAL-6: a 15-character nonce fails");
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), "bad!nonce!characters", "SafeBot");
	expect_401(r, f.target, h, 0, "AUTH-3/VAL-6: a nonce outside A-Za-z0-9+/=_- fails");
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms() - 61000, n, "SafeBot");
	expect_401(r, f.target, h, 0, "AUTH-3/VAL-7: ts 61 s in the past fails");
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms() + 61000, n, "SafeBot");
	expect_401(r, f.target, h, 0, "AUTH-3/VAL-7: ts 61 s in the future fails");
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms() - 50000, n, "SafeBot");
	conf_check(r, try_auth(r, "GET", f.target, h, NULL) == 200, 0,
		   "VAL-7: ts 50 s in the past is within the skew");
}

/* AUTH-5: the signature covers the method and the raw request target. */
static void c_target(struct conf_run *r)
{
	struct fixture f;
	char h[500], n[25], path[200], raw[200], upper[200];
	size_t i;

	if (!setup(r, &f))
		return;
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait", f.bob.handle);
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", path, clock_now_ms(), n, "SafeBot");
	expect_401(r, f.target, h, 0, "AUTH-5: a signature over the path without its query fails");
	snprintf(raw, sizeof(raw), "/api/dm/%s/inbox/wait?after=%%30&timeout=1", f.bob.handle);
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), n, "SafeBot");
	expect_401(r, raw, h, 0, "AUTH-5: the query is signed raw, not decoded (after=%30 ≠ after=0)");
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", raw, clock_now_ms(), n, "SafeBot");
	conf_check(r, try_auth(r, "GET", raw, h, NULL) == 200, 0,
		   "AUTH-5: signing the raw target as sent verifies");
	nonce(n);
	header(h, sizeof(h), &f.bob, "POST", f.target, clock_now_ms(), n, "SafeBot");
	expect_401(r, f.target, h, 0, "AUTH-5: the method is part of SIG-2");
	snprintf(upper, sizeof(upper), "/api/dm/%s/inbox/wait?after=0&timeout=1", f.bob.handle);
	for (i = 8; upper[i] && upper[i] != '/'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), n, "SafeBot");
	expect_401(r, upper, h, 0,
		   "AUTH-5: the target is exactly the request line's (an upper-case path signed "
		   "lower-case fails)");
	/* B64-3: the sig is decoded leniently: stray characters are skipped. */
	{
		char v[400], *sig, mangled[500];

		nonce(n);
		header(v, sizeof(v), &f.bob, "GET", f.target, clock_now_ms(), n, "SafeBot");
		sig = strstr(v, "sig=");
		if (sig) {
			sig += 4;
			snprintf(mangled, sizeof(mangled), "%.*s%.10s.%s", (int)(sig - v), v, sig, sig + 10);
			conf_check(r, try_auth(r, "GET", f.target, mangled, NULL) == 200, 0,
				   "AUTH-5/B64-3: lenient(sig) skips a stray '.'");
		}
	}
}

/* AUTH-4, AUTH-6, REPLAY-1: registration and nonce reuse. */
static void c_replay(struct conf_run *r)
{
	struct fixture f;
	char h[500], n[25], target[200];
	struct crypto_identity ghost;

	if (!setup(r, &f))
		return;
	nonce(n);
	header(h, sizeof(h), &f.bob, "GET", f.target, clock_now_ms(), n, "SafeBot");
	conf_check(r, try_auth(r, "GET", f.target, h, NULL) == 200, 0, "AUTH-6: first use → 200");
	expect_401(r, f.target, h, 0, "AUTH-4/AUTH-6/REPLAY-1: the same nonce again → 401");
	{
		/* The same nonce with a fresh ts and signature is still a replay (per handle). */
		char h2[500];

		header(h2, sizeof(h2), &f.bob, "GET", f.target, clock_now_ms() + 1, n, "SafeBot");
		expect_401(r, f.target, h2, 0, "AUTH-4: n is unused in the handle's request-auth cache");
	}
	crypto_identity_new(&ghost, "cfnosuchhandle0");
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=0&timeout=1", ghost.handle);
	nonce(n);
	header(h, sizeof(h), &ghost, "GET", target, clock_now_ms(), n, "SafeBot");
	{
		const char *hdrs[2] = { h, NULL };
		struct conf_resp resp;

		if (conf_req(r, "GET", target, hdrs, NULL, 0, &resp) == 0) {
			conf_expect_error(r, &resp, 404, "no such handle", 0, 0,
					  "DM-7b/AUTH-4: an unregistered handle → 404 before auth");
			conf_resp_free(&resp);
		}
	}
	{
		/* A valid signature by another key fails. */
		struct crypto_identity mallory;

		crypto_identity_new(&mallory, f.bob.handle);
		nonce(n);
		header(h, sizeof(h), &mallory, "GET", f.target, clock_now_ms(), n, "SafeBot");
		expect_401(r, f.target, h, 0, "AUTH-5: verified with the handle's registered sign_pub");
	}
}

const struct conf_case conf_cases_auth[] = {
	{ "auth.ok", "AUTH-1 AUTH-5 SIG-2 CRYPTO-5 DM-7e", CONF_MUST, 0,
	  "valid request-auth headers under both prefixes; @handle paths", c_ok },
	{ "auth.parse", "AUTH-2", CONF_MUST, 0,
	  "the parameter list: order, whitespace, duplicates, unknown keys", c_parse },
	{ "auth.fields", "AUTH-3 AUTH-6 VAL-6 VAL-7", CONF_MUST, 0,
	  "ts, n and sig rules; every failure is 401 bad or missing signature", c_fields },
	{ "auth.target", "AUTH-5 B64-3", CONF_MUST, 0,
	  "the signature covers the method and the raw request target", c_target },
	{ "auth.replay", "AUTH-4 AUTH-6 REPLAY-1 DM-7b", CONF_MUST, 0,
	  "nonces are single-use per handle; unregistered handles; foreign keys", c_replay },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
