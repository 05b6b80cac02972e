/* ws.c — WebSocket at /api/rooms/{roomId}/ws (§8), on civetweb's websocket API.
 *
 * civetweb's worker thread for the connection is the reader (data handler). Outbound room
 * events are written by a writer thread of our own per connection (DESIGN.md 6), which waits
 * on the room like an SSE handler. The close handler stops and joins the writer before
 * civetweb recycles the connection. Error frames (WS-17) are written by the reader; civetweb
 * serialises writes on one connection.
 */
#include <civetweb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientip.h"
#include "fault.h"
#include "handlers.h"
#include "hub.h"
#include "ipcount.h"
#include "limits.h"
#include "message.h"
#include "metrics.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/num.h"
#include "proto/query.h"
#include "proto/valid.h"
#include "relay.h"
#include "roomsig.h"

struct wsconn {
	struct relay *relay;
	struct mg_connection *conn;
	char room_id[65];
	char ip[IP_MAX];
	int64_t after;
	char name[NAME_BYTES];
	size_t name_len;
	char box[BOXPUB_BYTES];
	size_t box_len;
	bool stream_slot, longlived;
	struct room *room;
	struct sub *sub;
	struct join join;
	pthread_t writer;
	bool writer_started;
	char *frag;               /* fragmented message being reassembled */
	size_t frag_len;
	int frag_op;
};

static void send_text(struct mg_connection *conn, const char *s, size_t n)
{
	mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, s, n);
}

static void send_error(struct wsconn *ws, int code, const char *text)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "{\"type\":\"error\",\"code\":%d,\"error\":\"%s\"}", code, text);
	send_text(ws->conn, buf, (size_t)n);
	if (code == 429)
		metrics_inc(M_http_429); /* LOG-4 */
}

/* WS-1: exactly ^/api/rooms/([A-Za-z0-9_-]{4,64})/ws$ on the raw path. */
static bool parse_path(const char *path, char *id)
{
	static const char pre[] = "/api/rooms/";
	if (!path || strncmp(path, pre, sizeof(pre) - 1) != 0)
		return false;
	const char *p = path + sizeof(pre) - 1, *slash = strchr(p, '/');
	if (!slash || strcmp(slash, "/ws") != 0)
		return false;
	size_t n = (size_t)(slash - p);
	if (!val_room_id(p, n))
		return false;
	memcpy(id, p, n);
	id[n] = '\0';
	return true;
}

static void write_plain(const struct mg_connection *c, int status, const char *reason, const char *err, const char *extra)
{
	char buf[1024];
	char body[128];
	int bl = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", err);
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
			 "Connection: close\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n"
			 "X-Frame-Options: DENY\r\nPermissions-Policy: clipboard-read=(self), clipboard-write=(self)\r\n"
			 "Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline'; "
			 "style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' "
			 "https://fonts.gstatic.com; img-src 'self' data:; connect-src 'self' ws: wss:; "
			 "frame-ancestors 'none'\r\n%s\r\n%s",
			 status, reason, bl, extra, body);
	mg_write((struct mg_connection *)c, buf, (size_t)n);
	metrics_count_status(status);
}

static bool handshake_ok(const struct mg_connection *c)
{
	const char *ver = mg_get_header(c, "Sec-WebSocket-Version");
	const char *key = mg_get_header(c, "Sec-WebSocket-Key");
	return ver && strcmp(ver, "13") == 0 && key && b64_canonical(key, strlen(key), 16);
}

static int on_connect(const struct mg_connection *c, void *cbdata)
{
	struct relay *relay = cbdata;
	const struct mg_request_info *ri = mg_get_request_info(c);
	const char *path = ri->local_uri_raw ? ri->local_uri_raw : ri->request_uri;
	char id[65];
	http_access_log(relay, "GET", path ? path : ""); /* LOG-3: collapsed, never the room id */
	if (!parse_path(path, id)) {
		write_plain(c, 404, "Not Found", "not found", ""); /* WS-1 */
		return 1;
	}
	if (ri->num_headers >= MG_MAX_HEADERS) {
		write_plain(c, 431, "Request Header Fields Too Large", "request header fields too large", "");
		return 1; /* see http.c: headers past the 64th are lost */
	}
	if (!handshake_ok(c)) {
		write_plain(c, 400, "Bad Request", "bad websocket handshake", ""); /* WS-2 */
		return 1;
	}
	if (!http_longlived_take(relay)) {
		write_plain(c, 503, "Service Unavailable", "server busy", "Retry-After: 5\r\n");
		return 1;
	}
	struct wsconn *ws = calloc(1, sizeof(*ws));
	if (!ws) {
		http_longlived_release(relay);
		return 1;
	}
	ws->relay = relay;
	ws->longlived = true;
	memcpy(ws->room_id, id, sizeof(id));

	const char *xff[16];
	int nxff = 0;
	for (int i = 0; i < ri->num_headers && nxff < 16; i++)
		if (strcasecmp(ri->http_headers[i].name, "X-Forwarded-For") == 0)
			xff[nxff++] = ri->http_headers[i].value;
	clientip_ws(ri->remote_addr, mg_get_header(c, "CF-Connecting-IP"), xff, (size_t)nxff, ws->ip, sizeof(ws->ip));

	/* WS-6 after; WS-8 name and box_pub as SSE-5 does */
	struct query *q = malloc(sizeof(*q));
	if (q && query_parse(q, ri->query_string, ri->query_string ? strlen(ri->query_string) : 0) == 0) {
		const char *v;
		size_t vl;
		if (query_first(q, "after", &v, &vl) && !fault_on(FAULT_IGNORE_AFTER))
			ws->after = num_after(v, vl);
		if (query_single(q, "name", &v, &vl)) {
			size_t ok = val_presence_name(v, vl);
			if (ok && ok < NAME_BYTES) {
				memcpy(ws->name, v, ok);
				ws->name_len = ok;
			}
		}
		if (query_single(q, "box_pub", &v, &vl) && b64_box_pub_ok(v, vl) && vl < BOXPUB_BYTES) {
			memcpy(ws->box, v, vl);
			ws->box_len = vl;
		}
	}
	free(q);
	mg_set_user_connection_data(c, ws);
	return 0;
}

static void *writer_main(void *arg)
{
	struct wsconn *ws = arg;
	struct relay *relay = ws->relay;
	bool ok = true;
	/* WS-6 replay, WS-7 ready, then the live chain (presence first) */
	for (size_t i = 0; i < ws->join.nreplay && ok; i++)
		ok = mg_websocket_write(ws->conn, MG_WEBSOCKET_OPCODE_TEXT, ws->join.replay[i]->json,
					ws->join.replay[i]->len) > 0;
	if (ok)
		ok = mg_websocket_write(ws->conn, MG_WEBSOCKET_OPCODE_TEXT, ws->join.ready, ws->join.ready_len) > 0;
	join_release(&ws->join);
	while (ok) {
		struct event *first, *last;
		int got = room_next(ws->room, ws->sub, clock_mono_ms() + 60000, &first, &last);
		if (got < 0)
			break;
		if (got == 0)
			continue;
		for (struct event *e = first; ok; e = e->next) {
			ok = mg_websocket_write(ws->conn, MG_WEBSOCKET_OPCODE_TEXT, e->json, e->len) > 0; /* WS-17 */
			if (e == last)
				break;
		}
		sub_advance(ws->room, ws->sub, last);
	}
	if (!ok && !hub_closing(relay->hub))
		room_kick(ws->room, ws->sub); /* ROOM-21: a failed write removes the subscriber */
	if (ok && hub_closing(relay->hub)) {
		static const char going_away[2] = {(char)(1001 >> 8), (char)(1001 & 0xff)};
		mg_websocket_write(ws->conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, going_away, 2);
	}
	return NULL;
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
	struct relay *relay = cbdata;
	struct wsconn *ws = mg_get_user_connection_data(conn);
	bool capped;
	if (!ws)
		return;
	ws->conn = conn;
	/* WS-5 (1): stream cap, by the IP-2 address */
	if (!ipc_take(relay->ipc, ws->ip, IPC_STREAM, relay->cfg.stream_cap_per_ip)) {
		send_error(ws, 429, "too many concurrent streams from this IP");
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0); /* no code: 1005 */
		return;
	}
	ws->stream_slot = true;
	/* WS-5 (2): room cap */
	ws->room = hub_get(relay->hub, ws->room_id, true, &capped);
	if (!ws->room) {
		static const char err[] = "{\"type\":\"error\",\"error\":\"room cap reached\"}";
		send_text(conn, err, sizeof(err) - 1);
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
		return;
	}
	ws->sub = room_join(relay->hub, ws->room, SUB_WS, ws->after, ws->name, ws->name_len, ws->box,
			    ws->box_len, &ws->join);
	if (!ws->sub) {
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
		return;
	}
	if (pthread_create(&ws->writer, NULL, writer_main, ws) == 0)
		ws->writer_started = true;
	else
		room_kick(ws->room, ws->sub);
}

static void hello(struct wsconn *ws, const cJSON *msg)
{
	const char *name, *box;
	size_t name_len, box_len, ok = 0;
	if (json_str(json_get(msg, "name"), &name, &name_len))
		ok = val_presence_name(name, name_len);
	if (!ok)
		return; /* WS-9: an invalid name ignores the whole frame */
	int mode = 0;
	const cJSON *b = json_get(msg, "box_pub");
	box = NULL;
	box_len = 0;
	if (b && cJSON_IsNull(b)) {
		mode = 1;
	} else if (json_str(b, &box, &box_len) && b64_box_pub_ok(box, box_len)) {
		mode = 2;
	}
	room_hello(ws->room, ws->sub, name, ok, mode, box, box_len);
}

static void message_frame(struct wsconn *ws, const cJSON *msg)
{
	struct relay *relay = ws->relay;
	struct msg_in in;
	if (!msg_validate(msg, true, &in))
		return; /* WS-10: silently dropped */
	/* IP-3: an empty IP is "ws" as the per-key rate-limit key; RL-3 skips the global bucket */
	if (!limits_take(relay, ws->ip[0] ? ws->ip : "ws", ws->room_id, ws->ip[0] != '\0')) {
		send_error(ws, 429, "rate limited"); /* WS-11 */
		return;
	}
	if (!hub_fuse_fits(relay->hub, in.post.ct_len)) {
		send_error(ws, 503, "global room buffer full"); /* WS-12 */
		return;
	}
	if (in.is_signed) {
		int rc = roomsig_verify(relay, msg, ws->room_id, &in);
		if (rc == ROOMSIG_REPLAY_FULL) {
			send_error(ws, 503, "replay cache full \u2014 try again shortly");
			return;
		}
		if (rc) {
			send_error(ws, 401, "bad sender_sig"); /* WS-13 */
			return;
		}
	}
	int64_t seq;
	char id[37];
	switch (room_post(relay->hub, ws->room, &in.post, &seq, id)) {
	case POST_OK:
		break; /* WS-16: no ack frame, the echo carries seq and id */
	case POST_NEED_SIG:
		send_error(ws, 400, "signed_only requires sender_sig"); /* WS-14 */
		break;
	case POST_LOCKED:
		send_error(ws, 403, "signed_only"); /* WS-15 */
		break;
	case POST_FUSE:
		send_error(ws, 503, "global room buffer full");
		break;
	case POST_NOMEM:
		break;
	}
}

static void inbound(struct wsconn *ws, const char *data, size_t len)
{
	sub_touch(ws->sub); /* WS-9: every data frame, even an unparsable one */
	cJSON *msg = json_parse(data, len, JSON_MAX_DEPTH, false);
	if (!msg)
		return;
	if (cJSON_IsObject(msg)) {
		const char *type = NULL;
		size_t tl = 0;
		json_str(json_get(msg, "type"), &type, &tl);
		if (type && tl == 9 && memcmp(type, "listening", 9) == 0)
			; /* nothing else */
		else if (type && tl == 5 && memcmp(type, "hello", 5) == 0)
			hello(ws, msg); /* not rate limited */
		else
			message_frame(ws, msg);
	}
	cJSON_Delete(msg);
}

static int close_with(struct mg_connection *conn, int code)
{
	char p[2] = {(char)(code >> 8), (char)(code & 0xff)};
	mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, p, 2);
	return 0;
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
	struct relay *relay = cbdata;
	struct wsconn *ws = mg_get_user_connection_data(conn);
	int op = bits & 0x0f;
	bool fin = (bits & 0x80) != 0;
	size_t max = (size_t)relay->cfg.ws_max_payload_bytes;
	if (!ws)
		return 0;
	switch (op) {
	case MG_WEBSOCKET_OPCODE_PING:
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_PONG, data, len); /* WS-3 */
		return 1;
	case MG_WEBSOCKET_OPCODE_PONG:
		return 1;
	case MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE:
		mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, data, len >= 2 ? 2 : 0);
		return 0;
	case MG_WEBSOCKET_OPCODE_TEXT:
	case MG_WEBSOCKET_OPCODE_BINARY:
		if (ws->frag) {
			free(ws->frag); /* a new message inside a fragmented one: protocol error */
			ws->frag = NULL;
			return close_with(conn, 1002);
		}
		if (len > max)
			return close_with(conn, 1009); /* WS-4 */
		if (fin) {
			if (ws->sub)
				inbound(ws, data, len);
			return 1;
		}
		ws->frag = malloc(len ? len : 1);
		if (!ws->frag)
			return close_with(conn, 1011);
		memcpy(ws->frag, data, len);
		ws->frag_len = len;
		ws->frag_op = op;
		return 1;
	case MG_WEBSOCKET_OPCODE_CONTINUATION: {
		if (!ws->frag)
			return close_with(conn, 1002);
		if (ws->frag_len + len > max) {
			free(ws->frag);
			ws->frag = NULL;
			return close_with(conn, 1009); /* WS-4: the whole message counts */
		}
		char *nb = realloc(ws->frag, ws->frag_len + len + 1);
		if (!nb)
			return close_with(conn, 1011);
		ws->frag = nb;
		memcpy(ws->frag + ws->frag_len, data, len);
		ws->frag_len += len;
		if (fin) {
			if (ws->sub)
				inbound(ws, ws->frag, ws->frag_len);
			free(ws->frag);
			ws->frag = NULL;
		}
		return 1;
	}
	default:
		return close_with(conn, 1002);
	}
}

static void on_close(const struct mg_connection *c, void *cbdata)
{
	struct relay *relay = cbdata;
	struct wsconn *ws = mg_get_user_connection_data(c);
	if (!ws)
		return;
	mg_set_user_connection_data(c, NULL);
	if (ws->sub) {
		room_kick(ws->room, ws->sub);
		if (ws->writer_started)
			pthread_join(ws->writer, NULL);
		else
			join_release(&ws->join);
		room_leave(relay->hub, ws->room, ws->sub); /* WS-18 */
	}
	if (ws->room)
		hub_release(relay->hub, ws->room);
	if (ws->stream_slot)
		ipc_release(relay->ipc, ws->ip, IPC_STREAM);
	if (ws->longlived)
		http_longlived_release(relay);
	free(ws->frag);
	free(ws);
}

void ws_register(struct relay *relay)
{
	/* WS-3: no subprotocol. Without an explicit empty list civetweb echoes one the client
	 * offered. */
	static struct mg_websocket_subprotocols none = {0, NULL};
	mg_set_websocket_handler_with_subprotocols((struct mg_context *)relay->ctx, "/api/rooms", &none, on_connect,
						   on_ready, on_data, on_close, relay);
}
