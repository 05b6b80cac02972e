/* h_identity.c — POST /api/identity/register and GET /api/identity/{handle} (§10). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "handlers.h"
#include "identity.h"
#include "limits.h"
#include "metrics.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/utf16.h"
#include "proto/valid.h"
#include "relay.h"
#include "replay.h"

#define SIG1_MAX 192 /* SIG-1 with a 32-char handle and 44-char keys is < 160 bytes */

#define E_HANDLE "invalid handle (regex: ^[a-z0-9][a-z0-9_-]{1,31}$)"
#define E_KEYS_REQ "box_pub and sign_pub required (base64 32-byte keys)"
#define E_KEYS_B64 "box_pub and sign_pub must be strict canonical base64 of 32 bytes"
#define E_SIG_REQ "register_sig (base64 Ed25519) and register_ts (ms) required \u2014 sign " \
		  "\"register <handle> <register_ts> <box_pub> <sign_pub>\" with sign_sk"
#define E_SIG_B64 "register_sig must be strict canonical base64 of 64 bytes"
#define E_SIG_BAD "bad register_sig \u2014 does not verify against sign_pub (sign " \
		  "\"register <handle> <ts> <box_pub> <sign_pub>\")"
#define E_REPLAY_FULL "replay cache full \u2014 try again shortly"

/* ID-REG-3: IDENTITY_ADMIN_TOKEN is set and equals the Authorization value minus a leading
 * case-insensitive "Bearer" and its whitespace. Compared in constant time (INV-13): both sides
 * are hashed first, so neither the content nor the length of the token leaks. */
static bool is_operator(const struct relay *relay, const char *authz)
{
	const char *want = relay->cfg.identity_admin_token;
	unsigned char a[32], b[32];
	if (!want[0] || !authz)
		return false;
	if (strncasecmp(authz, "bearer", 6) == 0) {
		authz += 6;
		while (*authz == ' ' || *authz == '\t')
			authz++;
	}
	crypto_generichash(a, sizeof(a), (const unsigned char *)authz, strlen(authz), NULL, 0);
	crypto_generichash(b, sizeof(b), (const unsigned char *)want, strlen(want), NULL, 0);
	return sodium_memcmp(a, b, sizeof(a)) == 0;
}

/* The register replay cache is keyed by the decoded signature bytes, so the same signature
 * re-encoded in the URL-safe alphabet (also canonical, B64-1) is still a reuse. */
static void sig_key(struct relay *relay, const char *sig, size_t len, struct replay_key *k)
{
	unsigned char raw[64];
	b64_decode_canonical(sig, len, raw, sizeof(raw));
	replay_key(relay->rp_register, k, (const char *)raw, sizeof(raw), NULL, 0, NULL, 0);
}

static bool sig1_verifies(const char *handle, size_t hl, int64_t ts, const char *box, const char *sign,
			  const char *sig, size_t sl)
{
	char msg[SIG1_MAX];
	unsigned char raw[64], pk[32];
	int n = sigstr_register(msg, sizeof(msg), handle, hl, ts, box, strlen(box), sign, strlen(sign));
	return n >= 0 && b64_decode_canonical(sig, sl, raw, sizeof(raw)) == 64 &&
	       b64_decode_canonical(sign, strlen(sign), pk, sizeof(pk)) == 32 &&
	       crypto_verify(pk, msg, (size_t)n, raw);
}

static void answer_created(struct req *r, const char *handle, int64_t registered_at)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "{\"ok\":true,\"handle\":\"%s\",\"registered_at\":%lld}", handle,
			 (long long)registered_at);
	resp_json(r, 201, body, (size_t)n, NULL); /* ID-REG-15 (handle is VAL-2: no escaping) */
}

/* ID-REG-14: a re-register of an existing handle. 201 with the original registered_at only if
 * the request is a fresh, valid signature by the stored sign_pub; anything else (an identical
 * resend included) is 409 handle taken. The stored record never changes. */
static void reregister(struct req *r, const struct identity *old, const char *box, const char *sign)
{
	struct relay *relay = r->relay;
	const cJSON *ts = json_get(r->json, "register_ts");
	const char *sig;
	size_t sl;
	struct replay_key k;

	if (strcmp(sign, old->sign_pub) != 0 || !json_str(json_get(r->json, "register_sig"), &sig, &sl) ||
	    !b64_canonical(sig, sl, 64) || !json_is_int(ts) || !val_skew(clock_now_ms(), (int64_t)ts->valuedouble))
		goto taken;
	sig_key(relay, sig, sl, &k);
	int64_t mono = clock_mono_ms();
	if (replay_seen(relay->rp_register, &k, mono) ||
	    !sig1_verifies(old->handle, old->handle_len, (int64_t)ts->valuedouble, box, sign, sig, sl))
		goto taken;
	switch (replay_insert(relay->rp_register, &k, mono)) { /* "on success the sig is cached" */
	case REPLAY_OK:
		answer_created(r, old->handle, old->registered_at);
		return;
	case REPLAY_FULL:
		resp_error(r, 503, E_REPLAY_FULL, 5); /* REPLAY-3 */
		return;
	case REPLAY_NOMEM:
		resp_error(r, 500, "internal error", 0);
		return;
	case REPLAY_DUP:
		break;
	}
taken:
	resp_error(r, 409, "handle taken", 0);
}

void h_identity_register(struct req *r)
{
	struct relay *relay = r->relay;
	const cJSON *body = r->json;
	const char *handle, *box, *sign, *sig;
	size_t hl, bl, snl, sl;

	if (!limits_take(relay, r->ip, "register", true)) {
		resp_error(r, 429, "rate limited", 5); /* ID-REG-1 */
		return;
	}
	if ((int64_t)ids_count(relay->ids) >= relay->cfg.identities_max) {
		resp_error(r, 503, "identity cap reached", 3600); /* ID-REG-2 */
		return;
	}
	bool op = is_operator(relay, req_header(r, "Authorization")); /* ID-REG-3 */
	if (!json_str(json_get(body, "handle"), &handle, &hl) || !val_handle_strict(handle, hl)) {
		resp_error(r, 400, E_HANDLE, 0); /* ID-REG-4: no lower-casing */
		return;
	}
	if (val_reserved(handle, hl) && !op) {
		resp_error(r, 409, "handle reserved", 0); /* ID-REG-5 */
		return;
	}
	if (!json_str(json_get(body, "box_pub"), &box, &bl) || !json_str(json_get(body, "sign_pub"), &sign, &snl)) {
		resp_error(r, 400, E_KEYS_REQ, 0); /* ID-REG-6 */
		return;
	}
	if (!b64_canonical(box, bl, 32) || !b64_canonical(sign, snl, 32)) {
		resp_error(r, 400, E_KEYS_B64, 0); /* ID-REG-7 */
		return;
	}
	const struct identity *old = ids_get(relay->ids, handle, hl);
	if (old) {
		reregister(r, old, box, sign); /* ID-REG-8 -> ID-REG-14 */
		return;
	}
	const cJSON *ts = json_get(body, "register_ts");
	if (!json_str(json_get(body, "register_sig"), &sig, &sl) || !json_is_int(ts)) {
		resp_error(r, 400, E_SIG_REQ, 0); /* ID-REG-9 */
		return;
	}
	if (!b64_canonical(sig, sl, 64)) {
		resp_error(r, 400, E_SIG_B64, 0); /* ID-REG-10 */
		return;
	}
	int64_t tsv = (int64_t)ts->valuedouble, now = clock_now_ms();
	if (!val_skew(now, tsv)) {
		resp_error(r, 400, "register_ts skew too large", 0); /* ID-REG-11 */
		return;
	}
	struct replay_key k;
	int64_t mono = clock_mono_ms();
	sig_key(relay, sig, sl, &k);
	if (replay_seen(relay->rp_register, &k, mono)) {
		resp_error(r, 401, "register_sig already used", 0); /* ID-REG-12 */
		return;
	}
	if (!sig1_verifies(handle, hl, tsv, box, sign, sig, sl)) {
		resp_error(r, 401, E_SIG_BAD, 0); /* ID-REG-13 */
		return;
	}
	switch (replay_insert(relay->rp_register, &k, mono)) { /* REPLAY-2: after verifying */
	case REPLAY_OK:
		break;
	case REPLAY_DUP:
		resp_error(r, 401, "register_sig already used", 0); /* a concurrent twin won */
		return;
	case REPLAY_FULL:
		resp_error(r, 503, E_REPLAY_FULL, 5); /* REPLAY-3 */
		return;
	case REPLAY_NOMEM:
		resp_error(r, 500, "internal error", 0);
		return;
	}
	/* ID-REG-16: meta object or array -> {"bio":truncate(bio,280)}, bio "" unless a string;
	 * any other meta -> {} */
	const cJSON *meta = json_get(body, "meta");
	bool has_meta = cJSON_IsObject(meta) || cJSON_IsArray(meta);
	const char *bio = "";
	size_t biol = 0;
	if (cJSON_IsObject(meta) && json_str(json_get(meta, "bio"), &bio, &biol))
		biol = u16_truncate(bio, u8_cut_nul(bio, biol), IDS_BIO_UNITS); /* HTTP-17: cut at U+0000 */
	struct identity *rec = ids_make(handle, hl, box, sign, now, has_meta, bio, biol), *existing = NULL;
	if (!rec) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	switch (ids_add(relay->ids, rec, &existing)) {
	case IDS_OK:
		break;
	case IDS_EXISTS:
		/* registered concurrently: our signature verified and was unused, so this is the
		 * ID-REG-14 outcome for that record */
		ids_record_free(rec);
		if (strcmp(sign, existing->sign_pub) == 0)
			answer_created(r, existing->handle, existing->registered_at);
		else
			resp_error(r, 409, "handle taken", 0);
		return;
	case IDS_CAP:
		ids_record_free(rec);
		resp_error(r, 503, "identity cap reached", 3600);
		return;
	}
	ids_persist(relay->ids); /* ID-REG-15: before answering; a failure is only logged */
	metrics_inc(M_identities_registered_total);
	answer_created(r, handle, now);
}

void h_identity_get(struct req *r, const struct route_match *m)
{
	char h[IDS_HANDLE_MAX + 1];
	const char *p = m->p1;
	size_t len = m->p1_len;
	if (len && p[0] == '@') { /* ID-GET-1: strip one '@', lower-case, no regex */
		p++;
		len--;
	}
	const struct identity *id = NULL;
	if (len <= IDS_HANDLE_MAX) {
		memcpy(h, p, len);
		val_lower_ascii(h, len);
		id = ids_get(r->relay->ids, h, len);
	}
	if (!id) {
		resp_error(r, 404, "no such handle", 0);
		return;
	}
	struct jw w; /* ID-GET-2: inbox_seq is never exposed */
	jw_init(&w, 512, 8192);
	jw_obj(&w);
	jw_key(&w, "handle");
	jw_str(&w, id->handle, id->handle_len);
	jw_key(&w, "box_pub");
	jw_cstr(&w, id->box_pub);
	jw_key(&w, "sign_pub");
	jw_cstr(&w, id->sign_pub);
	jw_key(&w, "registered_at");
	jw_int(&w, id->registered_at);
	jw_key(&w, "meta");
	jw_obj(&w);
	if (id->has_meta) {
		jw_key(&w, "bio");
		jw_str(&w, id->bio, id->bio_len);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	size_t n;
	char *body = jw_take(&w, &n);
	if (!body) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	resp_json(r, 200, body, n, NULL);
	free(body);
}
