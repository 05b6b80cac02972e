/* ws.* — PROTOCOL.md §8: the WebSocket transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "proto/json.h"

static int open_ws(struct conf_run *r, const char *room, const char *query,
		   const char *const *hdrs, struct ws_conn **out)
{
	char target[300];
	int rc;

	snprintf(target, sizeof(target), "/api/rooms/%s/ws%s%s", room, query ? "?" : "",
		 query ? query : "");
	rc = conf_ws(r, target, hdrs, out, NULL, NULL);
	if (rc != 0)
		conf_check(r, false, 0, "WS-1: the upgrade on /api/rooms/<id>/ws succeeds");
	return rc;
}

static char *print(const cJSON *j)
{
	char *t = conf_jprint(j);

	return t ? t : strdup("(none)");
}

/* Wait up to ms for a frame of type type; NULL if none (frames of other types skipped). */
static cJSON *ws_type(struct conf_run *r, struct ws_conn *w, const char *type, long ms)
{
	return conf_ws_until(w, type, conf_ms(r, ms), NULL);
}

/* True iff no frame arrives within ms (a negative check over a window). */
static bool ws_quiet(struct ws_conn *w, long ms, char **what)
{
	cJSON *j = NULL;
	int rc = conf_ws_json(w, ms, &j, NULL);

	if (what)
		*what = rc == 1 ? print(j) : NULL;
	cJSON_Delete(j);
	return rc == 0;
}

/* WS-1: only the exact raw path upgrades; the query is ignored. */
static void c_path(struct conf_run *r)
{
	static const char *const bad[] = { "/api/rooms/ABCD1234/ws/", "/api/rooms/AB%43D1234/ws",
					   "/api/rooms/abc/ws", "/api/rooms/ABCD1234/WS",
					   "/api/rooms/ABCD1234/ws/x", NULL };
	const char *const *p;
	struct ws_conn *w = NULL;
	char room[16], target[200];
	int status;

	for (p = bad; *p; p++) {
		int rc = conf_ws(r, *p, NULL, &w, &status, NULL);

		conf_check(r, rc != 0, 0, "WS-1: %s is not upgraded (raw path must match exactly)", *p);
		if (rc == 0)
			ws_free(w);
		w = NULL;
	}
	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/ws?x=1&after=0", room);
	if (conf_check(r, conf_ws(r, target, NULL, &w, &status, NULL) == 0, 0,
		       "WS-1: the query is ignored when matching the path"))
		ws_free(w);
}

/* WS-2: a defective handshake on the right path → 400 bad websocket handshake. */
static void c_handshake(struct conf_run *r)
{
	static const char *const reqs[] = {
		/* no Sec-WebSocket-Key */
		"GET /api/rooms/ABCD1234/ws HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
		/* unsupported version */
		"GET /api/rooms/ABCD1234/ws HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Version: 7\r\n\r\n",
		NULL,
	};
	const char *const *q;

	for (q = reqs; *q; q++) {
		struct raw_resp rr;

		if (conf_raw_exchange(r, *q, strlen(*q), false, conf_ms(r, 5000), &rr, "WS-2") < 0)
			continue;
		conf_check(r, rr.status == 400, 0, "WS-2: a defective handshake on the right path → 400");
		conf_check(r, rr.body && strcmp(rr.body, "{\"error\":\"bad websocket handshake\"}") == 0,
			   CK_SR, "WS-2: body {\"error\":\"bad websocket handshake\"}");
		raw_resp_free(&rr);
	}
	conf_expect_healthy(r, "WS-2");
}

/* WS-3: no Origin check, subprotocol or compression; pings get pongs. */
static void c_protocol(struct conf_run *r)
{
	static const char *const hdrs[] = { "Origin: https://evil.example",
					    "Sec-WebSocket-Protocol: chat, superchat",
					    "Sec-WebSocket-Extensions: permessage-deflate", NULL };
	char room[16];
	struct ws_conn *w = NULL;
	size_t len;
	struct ws_msg m;
	int i;

	conf_room_id(room);
	if (open_ws(r, room, NULL, hdrs, &w) != 0)
		return;
	{
		const char *h = ws_headers(w, &len);

		conf_got(r, "%.300s", h ? h : "");
		conf_check(r, !http_headers_find(h, len, "Sec-WebSocket-Protocol", NULL), 0,
			   "WS-3: no subprotocol is selected");
		conf_check(r, !http_headers_find(h, len, "Sec-WebSocket-Extensions", NULL), 0,
			   "WS-3: no permessage-deflate");
	}
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	ws_send_ping(w, "conform-ping", 12);
	for (i = 0; i < 10; i++) {
		enum ws_recv_result t = ws_recv(w, &m, conf_ms(r, 3000));

		if (t == WS_RECV_PONG) {
			conf_check(r, m.len == 12 && memcmp(m.data, "conform-ping", 12) == 0, 0,
				   "WS-3: a ping is answered with a pong carrying its payload");
			ws_msg_free(&m);
			break;
		}
		if (t == WS_RECV_TEXT || t == WS_RECV_BINARY) {
			ws_msg_free(&m);
			continue;
		}
		if (t == WS_RECV_CLOSE)
			ws_msg_free(&m);
		conf_check(r, false, 0, "WS-3: a ping is answered with a pong");
		break;
	}
	ws_free(w);
}

/* WS-4: an inbound message over WS_MAX_PAYLOAD_BYTES closes with 1009. */
static void c_oversize(struct conf_run *r)
{
	size_t max = (size_t)r->ctx->o.ws_max_payload;
	char room[16];
	struct ws_conn *w = NULL;
	char *big = malloc(max + 1);
	cJSON *j = NULL;
	int code = 0, rc;

	if (!big)
		return;
	conf_room_id(room);
	if (open_ws(r, room, NULL, NULL, &w) != 0) {
		free(big);
		return;
	}
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	/* Exactly the limit is fine (not a message object: ignored, WS-9). */
	memset(big, ' ', max);
	big[0] = '[';
	big[max - 1] = ']';
	conf_sent(r, "a %zu-byte text frame, then a %zu-byte one", max, max + 1);
	ws_send_text(w, big, max);
	memset(big, ' ', max + 1);
	ws_send_text(w, big, max + 1);
	do {
		cJSON_Delete(j);
		j = NULL;
		rc = conf_ws_json(w, conf_ms(r, 5000), &j, &code);
	} while (rc == 1 || rc == -2);
	cJSON_Delete(j);
	conf_got(r, "close code %d", code);
	conf_check(r, rc == -1 && code == 1009, 0,
		   "WS-4: a message over WS_MAX_PAYLOAD_BYTES (%zu) closes the connection with 1009",
		   max);
	ws_free(w);
	free(big);
	conf_expect_healthy(r, "WS-4");
}

/* WS-6 (sealroom), WS-7: replay with ?after=, then ready with last_seq. */
static void c_replay(struct conf_run *r)
{
	enum { N = 5 };
	struct conf_room room;
	int64_t s[N];
	struct ws_conn *w = NULL;
	char q[64], keys[160], *txt;
	int i, k;

	conf_room_new(&room);
	if (conf_post_many(r, &room, N, "r", s) != N)
		return;
	for (k = 0; k < 2; k++) {
		int first = k == 0 ? 2 : 0, got = 0, bad = 0;
		cJSON *ev = NULL;

		snprintf(q, sizeof(q), "after=%lld", (long long)(k == 0 ? s[1] : 0));
		if (open_ws(r, room.id, k == 0 ? q : NULL, NULL, &w) != 0)
			return;
		for (i = first; i < N; i++) {
			if (conf_ws_json(w, conf_ms(r, 5000), &ev, NULL) != 1)
				break;
			if (!conf_jstr(ev, "type") || strcmp(conf_jstr(ev, "type"), "message") != 0)
				break;
			got++;
			bad += conf_jint(ev, "seq", -1) != s[i];
			if (i == first)
				conf_check_message(r, ev, CONF_MSG_EVENT);
			cJSON_Delete(ev);
			ev = NULL;
		}
		if (!ev)
			conf_ws_json(w, conf_ms(r, 5000), &ev, NULL);
		txt = print(ev);
		conf_got(r, "%d replayed (%d wrong); then %s", got, bad, txt);
		free(txt);
		if (k == 0)
			conf_check(r, got == N - first && bad == 0, CK_SR | CK_FEATURE,
				   "WS-6: ?after=<#2> replays exactly #3..#5 before ready");
		else
			conf_check(r, got == N && bad == 0, CK_SR | CK_FEATURE,
				   "WS-6: without after, every buffered message is replayed");
		conf_check(r, ev && conf_jstr(ev, "type") && strcmp(conf_jstr(ev, "type"), "ready") == 0,
			   0, "WS-7: ready follows");
		if (k == 0 && ev) {
			conf_check(r, strcmp(conf_keys(ev, keys, sizeof(keys)),
					     "type,roomId,size,last_seq,participants") == 0 &&
					      conf_jint(ev, "last_seq", -1) == s[N - 1],
				   CK_SR, "WS-7: ready is {type,roomId,size,last_seq,participants} with "
					  "last_seq");
			conf_check(r, conf_jstr(ev, "roomId") &&
					      strcmp(conf_jstr(ev, "roomId"), room.id) == 0 &&
					      conf_jint(ev, "size", -1) == 1,
				   0, "WS-7: roomId and size = subscribers + 1");
			conf_expect_component(r, ev, "ReadyEvent", 0, "WS-7");
		}
		cJSON_Delete(ev);
		ev = ws_type(r, w, "presence", 5000);
		conf_check(r, ev != NULL, 0, "WS-7: then presence is broadcast");
		cJSON_Delete(ev);
		ws_free(w);
		w = NULL;
	}
}

/* WS-8 (MAY, sealroom): ?name= and ?box_pub= applied before ready. */
static void c_query_name(struct conf_run *r)
{
	char room[16];
	struct ws_conn *w = NULL;
	cJSON *pres;
	const cJSON *names;

	conf_room_id(room);
	if (open_ws(r, room, "name=querier", NULL, &w) != 0)
		return;
	pres = ws_type(r, w, "presence", 5000);
	names = cJSON_GetObjectItemCaseSensitive(pres, "names");
	if (cJSON_GetArraySize(names) == 0) {
		conf_unimplemented(r, "WS-8: ?name= on the WebSocket URL is not applied (optional)");
	} else {
		conf_check(r, cJSON_GetArraySize(names) == 1 &&
				      strcmp(cJSON_GetArrayItem(names, 0)->valuestring, "querier") == 0,
			   0, "WS-8: ?name= becomes the presence name before ready");
	}
	cJSON_Delete(pres);
	ws_free(w);
}

static bool send_json(struct ws_conn *w, const char *s)
{
	return ws_send_text(w, s, strlen(s)) == 0;
}

/* WS-9, PRES-5, PRES-1: hello, rename, listening and ignored frames. */
static void c_hello(struct conf_run *r)
{
	static const char box[] = "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=";
	char room[16], buf[256], *what = NULL;
	struct ws_conn *w = NULL;
	struct sse_conn *watch;
	char target[200];
	cJSON *ev;
	const cJSON *p0;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events", room);
	watch = conf_sse(r, target, NULL);
	if (!watch)
		return;
	cJSON_Delete(conf_sse_until(watch, "presence", conf_ms(r, 5000), NULL));
	if (open_ws(r, room, NULL, NULL, &w) != 0)
		goto out;
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	cJSON_Delete(conf_sse_until(watch, "presence", conf_ms(r, 5000), NULL));
	snprintf(buf, sizeof(buf), "{\"type\":\"hello\",\"name\":\"bob\",\"box_pub\":\"%s\"}", box);
	conf_sent(r, "WS %s", buf);
	send_json(w, buf);
	ev = conf_sse_until(watch, "presence", conf_ms(r, 5000), NULL);
	p0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev, "participants"), 0);
	what = print(ev);
	conf_got(r, "%s", what);
	free(what);
	conf_check(r, p0 && conf_jstr(p0, "name") && strcmp(conf_jstr(p0, "name"), "bob") == 0 &&
			      conf_jstr(p0, "box_pub") && strcmp(conf_jstr(p0, "box_pub"), box) == 0,
		   0, "WS-9: hello sets the name and box_pub and broadcasts presence");
	cJSON_Delete(ev);
	conf_sent(r, "WS {\"type\":\"hello\",\"name\":\"carol\",\"box_pub\":null}");
	send_json(w, "{\"type\":\"hello\",\"name\":\"carol\",\"box_pub\":null}");
	ev = NULL;
	if (conf_sse_json(watch, conf_ms(r, 5000), &ev, NULL) == 1) {
		what = print(ev);
		conf_got(r, "%s", what);
		free(what);
	}
	conf_check(r, ev && strcmp(conf_jstr(ev, "type") ? conf_jstr(ev, "type") : "", "rename") == 0 &&
			      conf_jstr(ev, "from") && strcmp(conf_jstr(ev, "from"), "bob") == 0 &&
			      conf_jstr(ev, "to") && strcmp(conf_jstr(ev, "to"), "carol") == 0 &&
			      cJSON_GetArraySize(ev) == 3,
		   0, "WS-9/PRES-5: a new name broadcasts {\"type\":\"rename\",\"from\":\"bob\",\"to\":"
		      "\"carol\"}");
	if (ev)
		conf_expect_component(r, ev, "RenameEvent", 0, "PRES-5");
	cJSON_Delete(ev);
	ev = conf_sse_until(watch, "presence", conf_ms(r, 5000), NULL);
	p0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ev, "participants"), 0);
	conf_check(r, p0 && conf_jstr(p0, "name") && strcmp(conf_jstr(p0, "name"), "carol") == 0 &&
			      !conf_jhas(p0, "box_pub"),
		   0, "WS-9: then presence; box_pub:null clears the key");
	cJSON_Delete(ev);
	/* The WS subscriber itself got both presence broadcasts (and the rename): drain them. */
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	cJSON_Delete(ws_type(r, w, "rename", 5000));
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	/* Frames that must not broadcast anything. */
	{
		static const char *const quiet[] = {
			"{\"type\":\"listening\"}",
			"{\"type\":\"hello\",\"name\":\"bad name\"}",
			"not json at all",
			"[1,2,3]",
			"\"a string\"",
			"{\"type\":\"something\"}",
			NULL,
		};
		const char *const *q;

		for (q = quiet; *q; q++) {
			conf_sent(r, "WS %s", *q);
			send_json(w, *q);
		}
		bool calm = ws_quiet(w, conf_ms(r, 400), &what);

		if (what)
			conf_got(r, "WS frame %s", what);
		conf_check(r, calm, 0,
			   "WS-9/WS-10: listening, an invalid hello, non-JSON, non-objects and invalid "
			   "message frames get no answer");
		free(what);
		what = NULL;
		ev = NULL;
		{
			int rc = conf_sse_json(watch, conf_ms(r, 300), &ev, NULL);

			if (rc == 1) {
				what = print(ev);
				conf_got(r, "SSE %s", what);
				free(what);
			}
			conf_check(r, rc == 0, 0,
				   "PRES-1/WS-9: none of them broadcasts (presence only on subscribe, "
				   "unsubscribe, hello and /listening)");
		}
		cJSON_Delete(ev);
	}
	ws_free(w);
out:
	sse_close(watch);
}

/* WS-9, WS-10, WS-16, WS-17, ROOM-14: message frames. */
static void c_message(struct conf_run *r)
{
	struct conf_room room;
	struct ws_conn *w = NULL;
	char *body;
	cJSON *ev;
	int64_t s1, s2;
	char target[200];

	conf_room_new(&room);
	if (open_ws(r, room.id, NULL, NULL, &w) != 0)
		return;
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	body = conf_sealed_body(&room, "over ws", NULL);
	conf_sent(r, "WS text frame %.200s", body ? body : "");
	if (body)
		send_json(w, body);
	free(body);
	ev = ws_type(r, w, "message", 5000);
	s1 = conf_jint(ev, "seq", -1);
	conf_check(r, ev && conf_jstr(ev, "sender") && strcmp(conf_jstr(ev, "sender"), "user") == 0 &&
			      cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "sender_verified")),
		   0, "WS-16/ROOM-14: an accepted frame is echoed to its sender with the default "
		      "label \"user\" (no ack frame)");
	if (ev)
		conf_check_message(r, ev, CONF_MSG_EVENT);
	cJSON_Delete(ev);
	/* Invalid message frames are dropped silently; binary frames are messages too. */
	send_json(w, "{\"ciphertext\":\"AB==\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\"}");
	body = conf_sealed_body(&room, "binary", ",\"type\":\"whatever\"");
	if (body)
		ws_send_binary(w, body, strlen(body));
	free(body);
	ev = NULL;
	conf_ws_json(w, conf_ms(r, 5000), &ev, NULL);
	s2 = conf_jint(ev, "seq", -1);
	{
		char *t = print(ev);

		conf_got(r, "%s", t);
		free(t);
	}
	conf_check(r, ev && conf_jstr(ev, "type") && strcmp(conf_jstr(ev, "type"), "message") == 0 &&
			      s2 == s1 + 1,
		   0, "WS-10: an invalid message frame is dropped silently (no error frame, no seq); "
		      "WS-9: a binary frame with any other type is a message frame");
	cJSON_Delete(ev);
	/* Fragmented text message. */
	body = conf_sealed_body(&room, "fragmented", NULL);
	if (body) {
		size_t n = strlen(body), a = n / 3, b = 2 * n / 3;

		ws_send_frame(w, WS_OP_TEXT, false, body, a, 0);
		ws_send_frame(w, WS_OP_CONT, false, body + a, b - a, 0);
		ws_send_frame(w, WS_OP_CONT, true, body + b, n - b, 0);
		ev = ws_type(r, w, "message", 5000);
		conf_check(r, ev && conf_jint(ev, "seq", -1) == s2 + 1, 0,
			   "WS-9: a fragmented message is reassembled and accepted");
		cJSON_Delete(ev);
	}
	free(body);
	snprintf(target, sizeof(target), "/api/rooms/%s/transcript", room.id);
	ev = conf_get_json(r, target, NULL);
	conf_check(r, cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "messages")) == 3, 0,
		   "WS-16: accepted frames are stored like HTTP posts (3 in the transcript)");
	cJSON_Delete(ev);
	ws_free(w);
}

/* WS-13, WS-14, WS-17: error frames go only to the offender, which stays open. */
static void c_errors(struct conf_run *r)
{
	struct conf_room room;
	struct ws_conn *w = NULL, *other = NULL;
	char *body, keys[64], *what = NULL;
	cJSON *ev;

	conf_room_new(&room);
	if (open_ws(r, room.id, NULL, NULL, &w) != 0 || open_ws(r, room.id, NULL, NULL, &other) != 0)
		goto out;
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	cJSON_Delete(ws_type(r, w, "presence", 5000));
	cJSON_Delete(ws_type(r, other, "presence", 5000));
	body = conf_sealed_body(&room, "needs a signature", ",\"signed_only\":true");
	if (body)
		send_json(w, body);
	free(body);
	ev = ws_type(r, w, "error", 5000);
	what = print(ev);
	conf_got(r, "%s", what);
	free(what);
	conf_check(r, ev && strcmp(conf_keys(ev, keys, sizeof(keys)), "type,code,error") == 0 &&
			      conf_jint(ev, "code", -1) == 400 && conf_jstr(ev, "error") &&
			      strcmp(conf_jstr(ev, "error"), "signed_only requires sender_sig") == 0,
		   0, "WS-14: an unsigned signed_only:true frame on an unlocked room → {\"type\":\"error\","
		      "\"code\":400,\"error\":\"signed_only requires sender_sig\"}");
	if (ev)
		conf_expect_component(r, ev, "WsErrorFrame", 0, "WS-14");
	cJSON_Delete(ev);
	body = conf_sealed_body(&room, "bad signature",
				",\"sender_handle\":\"cfnosuchhandle0\",\"sender_ts\":1,"
				"\"sender_nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAA\",\"sender_sig\":\"AAAA\"");
	if (body)
		send_json(w, body);
	free(body);
	ev = ws_type(r, w, "error", 5000);
	conf_check(r, ev && conf_jint(ev, "code", -1) == 401 && conf_jstr(ev, "error") &&
			      strcmp(conf_jstr(ev, "error"), "bad sender_sig") == 0,
		   0, "WS-13: a signed frame failing SIG-5..8 → {\"type\":\"error\",\"code\":401,"
		      "\"error\":\"bad sender_sig\"}");
	cJSON_Delete(ev);
	conf_check(r, ws_quiet(other, conf_ms(r, 300), &what), 0,
		   "WS-17: error frames go only to the offending socket");
	free(what);
	body = conf_sealed_body(&room, "still open", NULL);
	if (body)
		send_json(w, body);
	free(body);
	ev = ws_type(r, w, "message", 5000);
	conf_check(r, ev != NULL, 0, "WS-17: the offending socket stays open and usable");
	cJSON_Delete(ev);
out:
	ws_free(w);
	ws_free(other);
}

/* WS-18: closing broadcasts presence to the others. */
static void c_close(struct conf_run *r)
{
	char room[16], target[200], *what;
	struct ws_conn *w = NULL;
	struct sse_conn *watch;
	cJSON *ev = NULL;
	int64_t deadline;

	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events?name=watcher", room);
	watch = conf_sse(r, target, NULL);
	if (!watch)
		return;
	cJSON_Delete(conf_sse_until(watch, "presence", conf_ms(r, 5000), NULL));
	if (open_ws(r, room, NULL, NULL, &w) != 0)
		goto out;
	send_json(w, "{\"type\":\"hello\",\"name\":\"leaver\"}");
	deadline = conf_now() + conf_ms(r, 5000);
	while ((ev = conf_sse_until(watch, "presence", (long)(deadline - conf_now()), NULL)) &&
	       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "names")) != 2) {
		cJSON_Delete(ev);
	}
	cJSON_Delete(ev);
	ws_close(w, 1000);
	ev = conf_sse_until(watch, "presence", conf_ms(r, 5000), NULL);
	what = print(ev);
	conf_got(r, "%s", what);
	free(what);
	conf_check(r, ev && conf_jint(ev, "size", -1) == 1 &&
			      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "names")) == 1,
		   0, "WS-18: on close the subscriber is removed and presence broadcast");
	cJSON_Delete(ev);
out:
	sse_close(watch);
}

const struct conf_case conf_cases_ws[] = {
	{ "ws.path", "WS-1", CONF_MUST, 0, "only the exact raw path upgrades; the query is ignored",
	  c_path },
	{ "ws.handshake", "WS-2", CONF_MUST, 0,
	  "a defective handshake → 400 {\"error\":\"bad websocket handshake\"}", c_handshake },
	{ "ws.protocol", "WS-3", CONF_MUST, 0,
	  "no Origin check, subprotocol or deflate; pings get pongs", c_protocol },
	{ "ws.oversize", "WS-4", CONF_MUST, 0, "a message over WS_MAX_PAYLOAD_BYTES closes with 1009",
	  c_oversize },
	{ "ws.replay", "WS-6 WS-7 ROOM-18", CONF_MUST, 0,
	  "?after= replay, then ready with last_seq, then presence", c_replay },
	{ "ws.query-name", "WS-8", CONF_MAY, CF_SR | CF_FEATURE,
	  "?name= applied before ready (optional)", c_query_name },
	{ "ws.hello", "WS-9 WS-10 PRES-1 PRES-5", CONF_MUST, 0,
	  "hello, rename, box_pub, and frames that broadcast nothing", c_hello },
	{ "ws.message", "WS-9 WS-10 WS-16 ROOM-14 ROOM-18", CONF_MUST, 0,
	  "message frames: echo labelled user, invalid ones dropped, binary and fragmented",
	  c_message },
	{ "ws.errors", "WS-13 WS-14 WS-17", CONF_MUST, 0,
	  "error frames only to the offender, which stays open", c_errors },
	{ "ws.close", "WS-18", CONF_MUST, 0, "a close broadcasts presence", c_close },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
