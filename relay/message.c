#include "message.h"

#include <math.h>
#include <string.h>

#include "proto/b64.h"
#include "proto/json.h"
#include "proto/utf16.h"
#include "proto/valid.h"

bool msg_validate(const cJSON *body, bool ws, struct msg_in *m)
{
	const char *s;
	size_t len;
	memset(m, 0, sizeof(*m));
	if (!cJSON_IsObject(body))
		return false; /* ROOM-12a (a top-level array has no fields, so it fails below) */

	/* ROOM-12b: ciphertext, <= 131072 units, canonical with no byte count */
	if (!json_str(json_get(body, "ciphertext"), &s, &len) || len > 131072 || !b64_canonical(s, len, -1))
		return false;
	m->post.ct = s;
	m->post.ct_len = len;
	/* ROOM-12c: nonce, <= 64, canonical(24) */
	if (!json_str(json_get(body, "nonce"), &s, &len) || len > 64 || !b64_canonical(s, len, 24))
		return false;
	m->post.nonce = s;
	m->post.nonce_len = len;
	/* ROOM-12d: sender absent/null or string <= 64 units without U+0000 */
	const cJSON *sender = json_get(body, "sender");
	if (sender && !cJSON_IsNull(sender)) {
		if (!json_str(sender, &s, &len) || u16_len(s, len) > 64 || u8_has_nul(s, len))
			return false;
		m->post.sender = s;
		m->post.sender_len = len;
	}
	/* ROOM-12e: reply_to absent/null or 8..64 of [A-Za-z0-9_-] */
	const cJSON *reply = json_get(body, "reply_to");
	if (reply && !cJSON_IsNull(reply)) {
		if (!json_str(reply, &s, &len) || !val_reply_to(s, len))
			return false;
		m->post.reply_to = s;
		m->post.reply_len = len;
	}
	/* ROOM-12f: ttl_ms absent/null or a finite number, 0 or in [30000, 31622400000] */
	const cJSON *ttl = json_get(body, "ttl_ms");
	if (ttl && !cJSON_IsNull(ttl)) {
		if (!cJSON_IsNumber(ttl) || !isfinite(ttl->valuedouble))
			return false;
		double v = ttl->valuedouble;
		if (!(v == 0 || (v >= 30000 && v <= 31622400000.0)))
			return false;
		m->post.ttl = ttl;
	}
	const cJSON *so = json_get(body, "signed_only");
	m->post.signed_only = cJSON_IsTrue(so); /* "exactly true" */

	/* ROOM-13/14 */
	m->is_signed = json_truthy(json_get(body, "sender_handle")) && json_truthy(json_get(body, "sender_sig"));
	if (!m->is_signed && !m->post.sender_len) {
		m->post.sender = ws ? "user" : "agent";
		m->post.sender_len = ws ? 4 : 5;
	}
	return true;
}
