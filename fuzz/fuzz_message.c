/* fuzz_message — validMessage (ROOM-12a..f) and labels (ROOM-13/14) of relay/message.h on
 * the output of the relay's own JSON reader, exactly as POST …/messages and WS message
 * frames see them.
 *
 * Properties for an accepted body: ciphertext is canonical base64 of <= 131072 units; nonce
 * is canonical base64 of 24 bytes; sender is <= 64 units without U+0000; reply_to passes
 * ROOM-12e; ttl_ms is a finite number, 0 or in [30000, 31622400000]; an unsigned message
 * gets a non-empty label (its sender, else "agent"/"user"); every pointer refers into the
 * tree. The first input byte chooses HTTP or WebSocket. */
#include "fuzz.h"

#include <math.h>

#include "message.h"
#include "proto/b64.h"
#include "proto/json.h"
#include "proto/utf16.h"
#include "proto/valid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	bool ws = fz_u8(&f) & 1;
	size_t len;
	const char *body = fz_rest(&f, &len);
	cJSON *root = json_parse(body, len, JSON_MAX_DEPTH, true);
	if (!root)
		return 0;
	struct msg_in *m = malloc(sizeof(*m));
	if (!m)
		abort();
	if (msg_validate(root, ws, m)) {
		const struct post *p = &m->post;
		FUZZ_CHECK(cJSON_IsObject(root));
		FUZZ_CHECK(p->ct && p->ct_len <= 131072 && b64_canonical(p->ct, p->ct_len, -1));
		FUZZ_CHECK(p->nonce && p->nonce_len <= 64 && b64_canonical(p->nonce, p->nonce_len, 24));
		if (p->reply_to)
			FUZZ_CHECK(val_reply_to(p->reply_to, p->reply_len));
		if (p->ttl) {
			double v = p->ttl->valuedouble;
			FUZZ_CHECK(cJSON_IsNumber(p->ttl) && isfinite(v));
			FUZZ_CHECK(v == 0 || (v >= 30000 && v <= 31622400000.0));
		}
		if (!m->is_signed) {
			FUZZ_CHECK(p->sender && p->sender_len > 0);
			FUZZ_CHECK(u16_len(p->sender, p->sender_len) <= 64);
			FUZZ_CHECK(!u8_has_nul(p->sender, p->sender_len));
			FUZZ_CHECK(!p->verified); /* INV-7: only the signature path sets it */
		}
		FUZZ_CHECK(p->signed_only == cJSON_IsTrue(json_get(root, "signed_only")));
	}
	free(m);
	cJSON_Delete(root);
	return 0;
}
