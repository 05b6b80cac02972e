/* b64.* — PROTOCOL.md §4.2-4.3: strict canonical base64 and lenient base64 (box_pub_ok). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

/* B64-1, B64-2: canonical(s[,n]) on room ciphertext and nonce. */
static void c_canonical(struct conf_run *r)
{
	static const struct {
		const char *ct, *nonce;
		bool ok;
		const char *why;
	} t[] = {
		{ "AAAA", NULL, true, "AAAA passes" },
		{ "AB==", NULL, false, "AB== has non-zero trailing bits" },
		{ "QQ", NULL, false, "QQ is unpadded with a length not a multiple of 4" },
		{ "QQ==", NULL, true, "QQ== passes" },
		{ "AQ==", NULL, true, "AQ== passes" },
		{ "AR==", NULL, false, "AR== has non-zero trailing bits" },
		{ "AAB=", NULL, false, "AAB= has non-zero trailing bits" },
		{ "AAA=", NULL, true, "AAA= passes" },
		{ "-_-_", NULL, true, "the URL-safe alphabet passes" },
		{ "+/+/", NULL, true, "+/+/ passes" },
		{ "+_-/", NULL, true, "mixed alphabets pass" },
		{ "AAAAA", NULL, false, "5 characters fail" },
		{ "AA=A", NULL, false, "'=' inside fails" },
		{ "A===", NULL, false, "three '=' fail" },
		{ "AAAA====", NULL, false, "padding beyond 2 fails" },
		{ " AAAA", NULL, false, "whitespace fails" },
		{ "AA.A", NULL, false, "foreign characters fail" },
		{ NULL, "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3", true, "a 24-byte nonce passes" },
		{ NULL, "oKGio6SlpqeoqaqrrK2ur7Cx-_O0tba3", true, "a URL-safe 24-byte nonce passes" },
		{ NULL, "oKGio6SlpqeoqaqrrK2ur7CxsrO0tQ==", false, "a 23-byte nonce fails" },
		{ NULL, "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3AAAA", false, "a 27-byte nonce fails" },
	};
	struct conf_room room;
	char target[160], body[256];
	size_t i;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;

		snprintf(body, sizeof(body), "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"}",
			 t[i].ct ? t[i].ct : "AAAA",
			 t[i].nonce ? t[i].nonce : "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3");
		if (conf_post_json(r, target, body, &resp) < 0)
			return;
		conf_check(r, resp.status == (t[i].ok ? 200 : 400), 0, "B64-1/B64-2: %s (→ %d)",
			   t[i].why, t[i].ok ? 200 : 400);
		conf_resp_free(&resp);
	}
	/* INV-6: relayed exactly as received (URL-safe characters kept). */
	{
		struct conf_resp resp;
		cJSON *tx;
		const cJSON *m;

		snprintf(body, sizeof(body), "{\"ciphertext\":\"+_-/\",\"nonce\":\"%s\"}",
			 "oKGio6SlpqeoqaqrrK2ur7Cx-_O0tba3");
		if (conf_post_json(r, target, body, &resp) < 0)
			return;
		conf_resp_free(&resp);
		snprintf(target, sizeof(target), "/api/rooms/%s/transcript?limit=500", room.id);
		tx = conf_get_json(r, target, NULL);
		m = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(tx, "messages"),
				       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tx, "messages")) - 1);
		conf_check(r, m && strcmp(conf_jstr(m, "ciphertext") ? conf_jstr(m, "ciphertext") : "", "+_-/") == 0 &&
				      strcmp(conf_jstr(m, "nonce") ? conf_jstr(m, "nonce") : "",
					     "oKGio6SlpqeoqaqrrK2ur7Cx-_O0tba3") == 0,
			   0, "INV-6: ciphertext and nonce are stored and relayed exactly as received");
		cJSON_Delete(tx);
	}
}

/* B64-3, B64-4: box_pub_ok = length 40-64 and lenient(s) is 32 bytes; echoed unchanged. */
static void c_box_pub_ok(struct conf_run *r)
{
	static const struct {
		const char *box;
		bool kept;
		const char *why;
	} t[] = {
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=", true, "standard padded (44)" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ", true, "unpadded (43)" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=AAAA", true,
		  "lenient stops at the first '='" },
		{ "NYBy1jZY.gNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ", true, "other characters are skipped" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGi-_t16WXQ0s0WYlQ", true, "both alphabets" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYl", false, "31 bytes (42 characters)" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQAA", false, "33 bytes" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=.....................", false,
		  "65 characters (longer than 64)" },
		{ "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=...................", true,
		  "64 characters" },
	};
	struct conf_room room;
	char target[200], body[300], name[16];
	size_t i;
	struct sse_conn *c;
	cJSON *ready;

	conf_room_new(&room);
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;

		snprintf(body, sizeof(body), "{\"name\":\"hb%zu\",\"box_pub\":\"%s\"}", i, t[i].box);
		if (conf_post_json(r, target, body, &resp) < 0)
			return;
		conf_resp_free(&resp);
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999", room.id);
	c = conf_sse(r, target, NULL);
	if (!c)
		return;
	ready = conf_sse_until(c, "ready", conf_ms(r, 5000), NULL);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const cJSON *it, *entry = NULL;

		snprintf(name, sizeof(name), "hb%zu", i);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ready, "participants"))
			if (conf_jstr(it, "name") && strcmp(conf_jstr(it, "name"), name) == 0)
				entry = it;
		conf_sent(r, "POST /listening {\"name\":\"%s\",\"box_pub\":\"%s\"}", name, t[i].box);
		conf_got(r, "box_pub %s", conf_jstr(entry, "box_pub") ? conf_jstr(entry, "box_pub")
								     : "(absent)");
		if (t[i].kept)
			conf_check(r, entry && conf_jstr(entry, "box_pub") &&
					      strcmp(conf_jstr(entry, "box_pub"), t[i].box) == 0,
				   0, "B64-3/B64-4: %s is box_pub_ok: kept and echoed unchanged", t[i].why);
		else
			conf_check(r, entry && !conf_jhas(entry, "box_pub"), 0,
				   "B64-4: %s is not box_pub_ok: not kept", t[i].why);
	}
	cJSON_Delete(ready);
	sse_close(c);
}

const struct conf_case conf_cases_b64[] = {
	{ "b64.canonical", "B64-1 B64-2 INV-6 ROOM-12b ROOM-12c", CONF_MUST, 0,
	  "strict canonical base64 on room ciphertext and nonce; relayed as received",
	  c_canonical },
	{ "b64.box-pub-ok", "B64-3 B64-4", CONF_MUST, 0,
	  "lenient base64: box_pub_ok accepts any 32-byte lenient string of 40-64 units",
	  c_box_pub_ok },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
