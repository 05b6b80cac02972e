/* inv.* — PROTOCOL.md §1 design invariants that are observable from outside. The others are
 * cited by the cases that check them (INV-5..11 and INV-13 throughout). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

/* INV-5: one serialisation: SSE data and WS text of a broadcast are the same bytes. */
static void c_serialise_once(struct conf_run *r)
{
	struct conf_room room;
	char target[200];
	struct sse_conn *s;
	struct ws_conn *w = NULL;
	struct sse_event_copy ev;
	struct ws_msg m;
	bool got_sse = false, got_ws = false;
	int i;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events", room.id);
	s = conf_sse(r, target, NULL);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", room.id);
	if (!s || conf_ws(r, target, NULL, &w, NULL, NULL) != 0)
		goto out;
	cJSON_Delete(conf_ws_until(w, "presence", conf_ms(r, 5000), NULL));
	if (conf_post_msg(r, &room, "once", ",\"sender\":\"same-bytes\",\"ttl_ms\":30000.25", NULL) < 0)
		goto out;
	memset(&ev, 0, sizeof(ev));
	for (i = 0; i < 10 && !got_sse; i++) {
		if (sse_next_event(s, &ev, conf_ms(r, 5000)) != 1)
			break;
		if (strstr(ev.data, "\"type\":\"message\""))
			got_sse = true;
		else
			sse_event_copy_free(&ev);
	}
	memset(&m, 0, sizeof(m));
	for (i = 0; i < 10 && !got_ws; i++) {
		enum ws_recv_result t = ws_recv(w, &m, conf_ms(r, 5000));

		if (t != WS_RECV_TEXT) {
			if (t == WS_RECV_BINARY || t == WS_RECV_PONG || t == WS_RECV_CLOSE)
				ws_msg_free(&m);
			if (t == WS_RECV_TIMEOUT || t == WS_RECV_ERROR || t == WS_RECV_CLOSE)
				break;
			continue;
		}
		if (strstr(m.data, "\"type\":\"message\""))
			got_ws = true;
		else
			ws_msg_free(&m);
	}
	if (got_sse && got_ws)
		conf_got(r, "SSE %.200s | WS %.200s", ev.data, m.data);
	conf_check(r, got_sse && got_ws && ev.data_len == m.len && memcmp(ev.data, m.data, m.len) == 0,
		   0, "INV-5/SSE-9/WS-17: every subscriber receives the same JSON text, only framed "
		      "for its transport");
	if (got_sse)
		sse_event_copy_free(&ev);
	if (got_ws)
		ws_msg_free(&m);
out:
	sse_close(s);
	ws_free(w);
}

/* INV-1, INV-4: what must never reach the access log (needs --relay-log). */
static void c_log_content(struct conf_run *r)
{
	struct conf_room room;
	char *body, *ct = NULL, *text = NULL;
	cJSON *j;
	struct crypto_identity id;
	int64_t deadline;

	if (!r->ctx->o.relay_log) {
		conf_info(r, "not observable remotely: pass --relay-log FILE (the relay's stdout)");
		return;
	}
	conf_room_new(&room);
	body = conf_sealed_body(&room, "never logged", NULL);
	j = body ? cJSON_Parse(body) : NULL;
	if (conf_jstr(j, "ciphertext"))
		ct = strdup(conf_jstr(j, "ciphertext"));
	cJSON_Delete(j);
	free(body);
	if (conf_post_msg(r, &room, "never logged either", NULL, NULL) < 0 ||
	    conf_register(r, &id) < 0) {
		free(ct);
		return;
	}
	deadline = conf_now() + conf_ms(r, 1000);
	while (conf_now() < deadline) {
		FILE *f = fopen(r->ctx->o.relay_log, "rb");
		size_t cap = 0;
		char *l = NULL;
		bool bad = false;

		if (!f)
			break;
		while (getline(&l, &cap, f) > 0)
			if (strstr(l, room.id) || strstr(l, id.handle) || strstr(l, id.sign_pub_b64) ||
			    (r->ip[0] && strstr(l, r->ip))) {
				free(text);
				text = strdup(l);
				bad = true;
			}
		free(l);
		fclose(f);
		if (bad)
			break;
		usleep(100000);
	}
	conf_got(r, "%s", text ? text : "(nothing identifying found)");
	conf_check(r, text == NULL, 0,
		   "INV-1/INV-4: no room ids, handles, keys, bodies or IPs in the log");
	free(text);
	free(ct);
}

/* INV-2, INV-3, STATE-4, DM-10: nothing but identities.json in STATE_DIR (needs --state-dir). */
static void c_disk(struct conf_run *r)
{
	DIR *d;
	struct dirent *e;
	struct crypto_identity bob;
	int others = 0;
	char list[512] = "";

	if (!r->ctx->o.state_dir) {
		conf_info(r, "not observable remotely: pass --state-dir DIR (the relay's STATE_DIR)");
		return;
	}
	if (conf_register(r, &bob) < 0 || conf_dm_send(r, &bob, NULL, "not on disk", NULL) < 0)
		return;
	usleep(2500000); /* STATE-2: inbox_seq changes are written within 2 s */
	d = opendir(r->ctx->o.state_dir);
	conf_check(r, d != NULL, 0, "STATE-1: STATE_DIR exists");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "identities.json"))
			continue;
		others++;
		strncat(list, e->d_name, sizeof(list) - strlen(list) - 2);
		strcat(list, " ");
	}
	closedir(d);
	conf_got(r, "other files: %s", others ? list : "(none)");
	conf_check(r, others == 0, 0,
		   "INV-2/INV-3/STATE-4/DM-10: STATE_DIR holds identities.json only (no rooms, inboxes, "
		   "caches or metrics)");
}

const struct conf_case conf_cases_inv[] = {
	{ "inv.serialise-once", "INV-5 SSE-9 WS-17", CONF_MUST, 0,
	  "SSE and WS subscribers get byte-identical JSON for a broadcast", c_serialise_once },
	{ "inv.log-content", "INV-1 INV-4", CONF_MUST, CF_SLOW,
	  "nothing identifying in the access log (needs --relay-log)", c_log_content },
	{ "inv.disk", "INV-2 INV-3 STATE-4 DM-10", CONF_MUST, CF_SLOW,
	  "only identities.json is written (needs --state-dir)", c_disk },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
