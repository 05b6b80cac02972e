/* h_dm.c — POST /api/dm/{handle}, GET …/inbox/wait, DELETE …/inbox/{id} (§12). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "dm.h"
#include "h_gate.h"
#include "handlers.h"
#include "identity.h"
#include "ipcount.h"
#include "limits.h"
#include "metrics.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/num.h"
#include "proto/utf16.h"
#include "proto/valid.h"
#include "relay.h"
#include "replay.h"
#include "reqauth.h"

#define DM_CT_MAX_BYTES 131072 /* DM-1e */
#define FH_UNITS 34            /* DM-2: truncate(fh, 34) */
#define FH_MAX (FH_UNITS * 4)
#define SIG4_MAX 256           /* SIG-4 with a 34-unit fh is < 300 bytes; see sig4_verifies */
#define E_REPLAY_FULL "replay cache full \u2014 try again shortly"

/* The path handle minus one leading '@', lower-cased (DM-1a, DM-7a), passing VAL-2. */
static bool path_handle(const struct route_match *m, char out[IDS_HANDLE_MAX + 1], size_t *len)
{
	const char *p = m->p1;
	size_t n = m->p1_len;
	if (n && p[0] == '@') {
		p++;
		n--;
	}
	if (n > IDS_HANDLE_MAX)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	val_lower_ascii(out, n);
	*len = n;
	return val_handle_strict(out, n);
}

static bool rl_key(struct relay *relay, const char *ip, const char *prefix, const char *handle)
{
	char key[48];
	snprintf(key, sizeof(key), "%s%s", prefix, handle);
	return limits_take(relay, ip, key, true);
}

/* SIG-4 over (to, fh, from_ts, envelope) with fh's sign_pub. */
static bool sig4_verifies(const struct identity *from, const char *to, const char *fh, size_t fhl, int64_t ts,
			  const char *ct, size_t ctl, const char *nonce, size_t nl, const char *eph, size_t el,
			  const char *sig, size_t sl)
{
	char msg[SIG4_MAX + FH_MAX];
	unsigned char raw[64];
	int n = sigstr_dm(msg, sizeof(msg), to, fh, fhl, ts, ct, ctl, nonce, nl, eph, el);
	return n >= 0 && b64_decode_canonical(sig, sl, raw, sizeof(raw)) == 64 &&
	       crypto_verify(from->sign_pk, msg, (size_t)n, raw);
}

void h_dm_send(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	const cJSON *body = r->json;
	char to_h[IDS_HANDLE_MAX + 1], fh[FH_MAX + 1];
	size_t to_len, fhl = 0;
	const char *ct, *nonce, *eph, *from, *fsig;
	size_t ctl, nl, el, froml, fsl;

	if (!path_handle(m, to_h, &to_len)) {
		resp_error(r, 400, "invalid handle", 0); /* DM-1a */
		return;
	}
	if (!rl_key(relay, r->ip, "dm:", to_h)) {
		resp_error(r, 429, "rate limited", 1); /* DM-1b */
		return;
	}
	struct identity *to = ids_get(relay->ids, to_h, to_len);
	if (!to) {
		resp_error(r, 404, "no such handle", 0); /* DM-1c */
		return;
	}
	if (!json_str(json_get(body, "ciphertext"), &ct, &ctl) || !json_str(json_get(body, "nonce"), &nonce, &nl) ||
	    !json_str(json_get(body, "sender_eph_pub"), &eph, &el)) {
		resp_error(r, 400, "ciphertext, nonce, sender_eph_pub required (all base64)", 0); /* DM-1d */
		return;
	}
	if (b64_lenient_len(ct, ctl) > DM_CT_MAX_BYTES) {
		resp_error(r, 400, "ciphertext too large", 0); /* DM-1e */
		return;
	}
	if (!b64_canonical(ct, ctl, -1)) {
		resp_error(r, 400, "ciphertext must be strict canonical base64", 0); /* DM-1f */
		return;
	}
	if (!b64_canonical(nonce, nl, 24)) {
		resp_error(r, 400, "nonce must be strict canonical base64 of 24 bytes", 0); /* DM-1g */
		return;
	}
	if (!b64_canonical(eph, el, 32)) {
		resp_error(r, 400, "sender_eph_pub must be strict canonical base64 of 32 bytes", 0); /* DM-1h */
		return;
	}
	/* DM-1i / DM-2: only with a non-empty string from_handle, a string from_sig and a number
	 * from_ts; otherwise the DM is anonymous (DM-3). */
	const cJSON *fts = json_get(body, "from_ts");
	bool verified = json_str(json_get(body, "from_handle"), &from, &froml) && froml > 0 &&
			json_str(json_get(body, "from_sig"), &fsig, &fsl) && cJSON_IsNumber(fts);
	if (verified) {
		if (from[0] == '@') {
			from++;
			froml--;
		}
		fhl = u16_truncate(from, froml, FH_UNITS);
		memcpy(fh, from, fhl);
		fh[fhl] = '\0';
		val_lower_ascii(fh, fhl);
		if (!b64_canonical(fsig, fsl, 64)) {
			resp_error(r, 400, "from_sig must be strict canonical base64 of 64 bytes", 0);
			return;
		}
		int64_t tsv = json_is_int(fts) ? (int64_t)fts->valuedouble : 0;
		if (!json_is_int(fts) || !val_skew(clock_now_ms(), tsv)) {
			resp_error(r, 400, "from_ts skew too large", 0);
			return;
		}
		const struct identity *fid = ids_get(relay->ids, fh, fhl);
		if (!fid) {
			resp_error(r, 400, "from_handle not registered", 0);
			return;
		}
		if (!sig4_verifies(fid, to_h, fh, fhl, tsv, ct, ctl, nonce, nl, eph, el, fsig, fsl)) {
			resp_error(r, 401, "bad from_handle signature", 0);
			return;
		}
		/* §11.2: keyed by (verified sender, recipient, envelope hash) */
		char hash[65];
		struct replay_key k;
		sigstr_dm_hash(ct, ctl, nonce, nl, eph, el, hash);
		replay_key(relay->rp_dm, &k, fh, fhl, to_h, to_len, hash, 64);
		switch (replay_insert(relay->rp_dm, &k, clock_mono_ms())) {
		case REPLAY_OK:
			break;
		case REPLAY_DUP:
			resp_error(r, 401, "envelope already seen", 0);
			return;
		case REPLAY_FULL:
			resp_error(r, 503, E_REPLAY_FULL, 5); /* REPLAY-3 */
			return;
		case REPLAY_NOMEM:
			resp_error(r, 500, "internal error", 0);
			return;
		}
	}
	struct dm_in in = {.ct = ct, .ct_len = ctl, .nonce = nonce, .nonce_len = nl, .eph = eph, .eph_len = el,
			   .from = verified ? fh : NULL, .from_len = fhl};
	int64_t seq;
	char id[37];
	switch (dm_send(relay->dms, to, &in, clock_now_ms(), &seq, id)) {
	case DM_OK:
		break;
	case DM_FULL:
		resp_error(r, 503, "global DM buffer full \u2014 try again shortly", 60); /* DM-1j */
		return;
	case DM_NOMEM:
		resp_error(r, 500, "internal error", 0);
		return;
	}
	metrics_inc(M_dm_sent_total);
	metrics_add(M_bytes_relayed_total, (int64_t)ctl); /* MET-5 */
	char out[128];
	int n = snprintf(out, sizeof(out), "{\"ok\":true,\"id\":\"%s\",\"seq\":%lld}", id, (long long)seq);
	resp_json(r, 200, out, (size_t)n, NULL); /* DM-6 */
}

/* DM-7a..d (and DM-9's): handle, registered, rate limit, request auth. Answers and returns
 * NULL on failure. */
static struct identity *inbox_auth(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	char h[IDS_HANDLE_MAX + 1];
	size_t hl;
	if (!path_handle(m, h, &hl)) {
		resp_error(r, 400, "invalid handle", 0); /* DM-7a */
		return NULL;
	}
	struct identity *id = ids_get(relay->ids, h, hl);
	if (!id) {
		resp_error(r, 404, "no such handle", 0); /* DM-7b */
		return NULL;
	}
	return gate_auth(r, id, h) ? id : NULL; /* DM-7c, then DM-7d (INV-10) */
}

static void send_messages(struct req *r, struct dm_env **evs, size_t n, int64_t last_seq, int has_more)
{
	struct jw w;
	size_t cap = 128;
	for (size_t i = 0; i < n; i++)
		cap += evs[i]->len + 1;
	jw_init(&w, cap, cap);
	jw_obj(&w);
	jw_key(&w, "messages");
	jw_arr(&w);
	for (size_t i = 0; i < n; i++)
		jw_rawval(&w, evs[i]->json, evs[i]->len);
	jw_arr_end(&w);
	jw_key(&w, "last_seq");
	jw_int(&w, last_seq);
	if (has_more >= 0) {
		jw_key(&w, "has_more");
		jw_bool(&w, has_more);
	}
	jw_obj_end(&w);
	size_t len;
	char *body = jw_take(&w, &len);
	if (!body) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	resp_json(r, 200, body, len, NULL);
	free(body);
}

struct dm_park {
	struct dmstore *dms;
	struct identity *id;
	int64_t after;
	struct dm_env *env;
};

static bool park_dm(void *arg, int64_t until)
{
	struct dm_park *p = arg;
	p->env = dm_wait(p->dms, p->id, p->after, until);
	return p->env != NULL;
}

void h_dm_wait(struct req *r, const struct route_match *m)
{
	struct relay *relay = r->relay;
	const char *v = NULL;
	size_t vl = 0;
	struct identity *id = inbox_auth(r, m);
	if (!id)
		return;
	int64_t after = query_first(&r->query, "after", &v, &vl) ? num_after(v, vl) : 0;
	int timeout_s = query_first(&r->query, "timeout", &v, &vl) ? num_timeout_s(v, vl) : num_timeout_s(NULL, 0);
	struct dm_env **evs;
	bool more;
	long n = dm_page(relay->dms, id, after, DM_PAGE, clock_now_ms(), &evs, &more);
	if (n < 0) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	if (n > 0) {
		send_messages(r, evs, (size_t)n, evs[n - 1]->seq, more); /* DM-7e */
		dm_env_release_array(evs, (size_t)n);
		return;
	}
	if (!dm_waiter_take(relay->dms, id, relay->cfg.dm_waiters_max_per_handle)) {
		resp_error(r, 429, "too many concurrent waiters for this handle", 5); /* DM-7f */
		return;
	}
	if (!ipc_take(relay->ipc, r->ip, IPC_WAITER, relay->cfg.waiter_cap_per_ip)) {
		dm_waiter_release(relay->dms, id);
		resp_error(r, 429, "too many concurrent waiters from this IP", 5); /* DM-7g */
		return;
	}
	if (!http_longlived_take(relay)) {
		ipc_release(relay->ipc, r->ip, IPC_WAITER);
		dm_waiter_release(relay->dms, id);
		resp_error(r, 503, "server busy", 5);
		return;
	}
	metrics_inc(M_dm_waits_total); /* DM-7h */
	struct dm_park pa = {relay->dms, id, after, NULL};
	int woke = http_park(r, clock_mono_ms() + (int64_t)timeout_s * 1000, park_dm, &pa);
	struct dm_env *e = pa.env;
	if (woke < 0) {
		http_abandon(r); /* DM-8: a disconnect releases the slots silently */
	} else if (e) {
		send_messages(r, &e, 1, e->seq, -1); /* DM-8 */
		dm_env_unref(e);
	} else {
		send_messages(r, NULL, 0, after, -1); /* DM-8: timeout */
	}
	if (woke < 0 && e)
		dm_env_unref(e);
	http_longlived_release(relay);
	ipc_release(relay->ipc, r->ip, IPC_WAITER); /* released exactly once (CAP-15) */
	dm_waiter_release(relay->dms, id);
}

void h_dm_delete(struct req *r, const struct route_match *m)
{
	struct identity *id = inbox_auth(r, m); /* DM-9: DM-7a..d */
	if (!id)
		return;
	size_t removed = dm_delete(r->relay->dms, id, m->p2, m->p2_len);
	char body[64];
	int n = snprintf(body, sizeof(body), "{\"ok\":true,\"removed\":%zu}", removed);
	resp_json(r, 200, body, (size_t)n, NULL);
}
