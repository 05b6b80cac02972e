#include "roomsig.h"

#include <string.h>

#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "identity.h"
#include "proto/auth.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/valid.h"
#include "relay.h"
#include "replay.h"

#define SIG3_MAX 256 /* SIG-3 with a 64-char room id and nonce is < 230 bytes (sigstr.h) */

/* SIG-6: a JSON integer, or a string of ASCII digits (sealroom); the value, saturated at
 * 2^53 like P(s), must be non-zero. */
static bool sender_ts(const cJSON *v, int64_t *ts)
{
	const char *s;
	size_t n;
	if (json_is_int(v)) {
		*ts = (int64_t)v->valuedouble;
	} else if (json_str(v, &s, &n) && n > 0) {
		int64_t acc = 0;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			acc = acc * 10 + (s[i] - '0');
			if (acc > AUTH_TS_MAX)
				acc = AUTH_TS_MAX;
		}
		*ts = acc; /* leading zeros are lost: SIG-3 writes plain decimal */
	} else {
		return false;
	}
	return *ts != 0;
}

int roomsig_verify(struct relay *relay, const cJSON *body, const char *room_id, struct msg_in *m)
{
	const char *h, *nonce, *sig;
	size_t hl, nl, sl;
	char handle[IDS_HANDLE_MAX + 1];
	int64_t ts;

	/* SIG-5: lowercase(sender_handle) is a string passing VAL-3, and registered */
	if (!json_str(json_get(body, "sender_handle"), &h, &hl) || !val_handle_loose(h, hl))
		return ROOMSIG_BAD;
	memcpy(handle, h, hl);
	handle[hl] = '\0';
	val_lower_ascii(handle, hl);
	const struct identity *id = ids_get(relay->ids, handle, hl);
	if (!id)
		return ROOMSIG_BAD;
	/* SIG-6 */
	if (!sender_ts(json_get(body, "sender_ts"), &ts) || !val_skew(clock_now_ms(), ts))
		return ROOMSIG_BAD;
	/* SIG-7: the nonce is unused in the handle's room-sig cache, across all rooms */
	if (!json_str(json_get(body, "sender_nonce"), &nonce, &nl) || !val_nonce(nonce, nl))
		return ROOMSIG_BAD;
	if (!json_str(json_get(body, "sender_sig"), &sig, &sl))
		return ROOMSIG_BAD;
	int64_t mono = clock_mono_ms();
	struct replay_key k;
	replay_key(relay->rp_room, &k, handle, hl, nonce, nl, NULL, 0);
	if (replay_seen(relay->rp_room, &k, mono))
		return ROOMSIG_BAD;
	/* SIG-8: lenient(sender_sig) verifies over SIG-3 */
	unsigned char raw[64];
	char msg[SIG3_MAX];
	if (b64_lenient_len(sig, sl) != sizeof(raw))
		return ROOMSIG_BAD;
	b64_lenient_decode(sig, sl, raw, sizeof(raw));
	int n = sigstr_room_msg(msg, sizeof(msg), room_id, ts, nonce, nl, m->post.ct, m->post.ct_len);
	if (n < 0 || !crypto_verify(id->sign_pk, msg, (size_t)n, raw))
		return ROOMSIG_BAD;
	switch (replay_insert(relay->rp_room, &k, mono)) { /* REPLAY-2: only after verifying */
	case REPLAY_OK:
		break;
	case REPLAY_FULL:
		return ROOMSIG_REPLAY_FULL; /* REPLAY-3 */
	case REPLAY_DUP:   /* a concurrent twin was accepted first: a replay */
	case REPLAY_NOMEM: /* never accept a signed item unrecorded (REPLAY-3) */
		return ROOMSIG_BAD;
	}
	/* ROOM-14: the label of a signed message is "@" + lowercase(sender_handle) */
	m->label[0] = '@';
	memcpy(m->label + 1, handle, hl + 1);
	m->post.sender = m->label;
	m->post.sender_len = hl + 1;
	m->post.verified = true;
	return 0;
}
