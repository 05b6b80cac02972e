#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "client/sse.h"
#include "client/ws.h"
#include "proto/clock.h"

struct qnode {
	struct qnode *next;
	struct peer_msg m;
};

struct peer {
	struct peer_cfg cfg;
	unsigned char key[32];
	char base[512], room[65], src[64];
	struct http_client *http;	/* posts (sse, longpoll) and waits (longpoll) */
	struct sse_pool *pool;		/* sse */
	struct sse_stream *s;
	bool ready, ended;
	struct ws_conn *ws;		/* ws */
	struct qnode *head, *tail;	/* received, not yet returned */
	int64_t last_seq;		/* largest message seq returned (resume point) */
	int64_t lp_after;		/* longpoll: the `after` of the next wait */
	char err[256];
};

const char *xport_name(enum xport x)
{
	switch (x) {
	case XP_SSE:
		return "sse";
	case XP_WS:
		return "ws";
	case XP_LONGPOLL:
		return "longpoll";
	}
	return "?";
}

int xport_parse(const char *s, enum xport *x)
{
	if (strcmp(s, "sse") == 0)
		*x = XP_SSE;
	else if (strcmp(s, "ws") == 0)
		*x = XP_WS;
	else if (strcmp(s, "longpoll") == 0)
		*x = XP_LONGPOLL;
	else
		return -1;
	return 0;
}

static void peer_push(struct peer *p, const struct peer_msg *m)
{
	struct qnode *q = malloc(sizeof(*q));

	if (!q) {
		snprintf(p->err, sizeof(p->err), "out of memory");
		p->ended = true;
		return;
	}
	q->m = *m;
	q->next = NULL;
	if (p->tail)
		p->tail->next = q;
	else
		p->head = q;
	p->tail = q;
}

static bool peer_pop(struct peer *p, struct peer_msg *m)
{
	struct qnode *q = p->head;

	if (!q)
		return false;
	p->head = q->next;
	if (!p->head)
		p->tail = NULL;
	*m = q->m;
	free(q);
	if (m->type == RX_MESSAGE && m->o.seq > p->last_seq)
		p->last_seq = m->o.seq;
	return true;
}

static void peer_clear(struct peer *p)
{
	struct peer_msg m;

	while (peer_pop(p, &m)) {
	}
}

/* One event or frame of a stream (sse, ws): ready, message or error. */
static void peer_event(struct peer *p, const char *data, size_t len)
{
	struct peer_msg pm;
	struct rx m;
	enum rx_type t = rx_parse(data, len, &m);

	memset(&pm, 0, sizeof(pm));
	pm.recv_ns = clock_mono_ns();
	switch (t) {
	case RX_READY:
		p->ready = true;
		break;
	case RX_MESSAGE:
		pm.type = RX_MESSAGE;
		pm.o.seq = m.seq;
		pm.o.verified = m.verified;
		if (m.sender)
			snprintf(pm.o.label, sizeof(pm.o.label), "%s", m.sender);
		pm.o.open = rx_open_room(p->key, &m, &pm.o.p);
		peer_push(p, &pm);
		break;
	case RX_ERROR:
		pm.type = RX_ERROR;
		pm.code = m.code;
		peer_push(p, &pm);
		break;
	case RX_BAD:
	case RX_OTHER:
		break;
	}
	rx_free(&m);
}

static void peer_sse_event(void *pool_ud, struct sse_stream *s, void *stream_ud,
			   const struct sse_event *ev)
{
	if (!ev->is_comment)
		peer_event(pool_ud, ev->data, ev->data_len);
}

static void peer_sse_close(void *pool_ud, struct sse_stream *s, void *stream_ud, long status,
			   const char *error)
{
	struct peer *p = pool_ud;

	p->ended = true;
	snprintf(p->err, sizeof(p->err), "SSE stream ended (status %ld%s%s)", status,
		 error ? ", " : "", error ? error : "");
}

/* Open the stream of an sse or ws peer after p->last_seq and wait for `ready`. */
static int peer_connect(struct peer *p)
{
	int64_t deadline = clock_mono_ms() + p->cfg.timeout_ms;
	char url[768];
	int status = 0;

	p->ready = false;
	p->ended = false;
	if (p->cfg.xp == XP_SSE) {
		struct sse_pool_cfg pc = {
			.on_event = peer_sse_event,
			.on_close = peer_sse_close,
			.ud = p,
			.connect_timeout_ms = p->cfg.timeout_ms,
		};

		if (!p->pool)
			p->pool = sse_pool_new(&pc);
		if (!p->pool) {
			snprintf(p->err, sizeof(p->err), "out of memory");
			return -1;
		}
		snprintf(url, sizeof(url), "%s/api/rooms/%s/events?after=%lld", p->base, p->room,
			 (long long)(p->last_seq > 0 ? p->last_seq : 0));
		p->s = sse_pool_add(p->pool, url, NULL, p->src[0] ? p->src : NULL, NULL);
		if (!p->s) {
			snprintf(p->err, sizeof(p->err), "out of memory");
			return -1;
		}
		while (!p->ready && !p->ended && clock_mono_ms() < deadline) {
			if (sse_pool_run(p->pool, 50) < 0) {
				snprintf(p->err, sizeof(p->err), "SSE pool failure");
				return -1;
			}
		}
	} else {
		struct ws_msg m;

		snprintf(url, sizeof(url), "%s/api/rooms/%s/ws?after=%lld", p->base, p->room,
			 (long long)(p->last_seq > 0 ? p->last_seq : 0));
		if (ws_connect(url, NULL, p->src[0] ? p->src : NULL, p->cfg.timeout_ms, &p->ws,
			       &status, NULL) != 0) {
			snprintf(p->err, sizeof(p->err), "WebSocket handshake failed (status %d)",
				 status);
			p->ws = NULL;
			return -1;
		}
		while (!p->ready && !p->ended && clock_mono_ms() < deadline) {
			enum ws_recv_result r = ws_recv(p->ws, &m, deadline - clock_mono_ms());

			if (r == WS_RECV_TEXT || r == WS_RECV_BINARY)
				peer_event(p, m.data, m.len);
			else if (r == WS_RECV_CLOSE || r == WS_RECV_ERROR)
				p->ended = true;
			if (r != WS_RECV_TIMEOUT && r != WS_RECV_ERROR)
				ws_msg_free(&m);
		}
	}
	if (!p->ready) {
		if (!p->ended)
			snprintf(p->err, sizeof(p->err), "no ready event within %ld ms",
				 p->cfg.timeout_ms);
		return -1;
	}
	return 0;
}

int peer_open(const struct peer_cfg *cfg, int64_t after, struct peer **out, char *err,
	      size_t errcap)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	p->cfg = *cfg;
	memcpy(p->key, cfg->key, 32);
	snprintf(p->base, sizeof(p->base), "%s", cfg->base);
	snprintf(p->room, sizeof(p->room), "%s", cfg->room);
	if (cfg->source_ip)
		snprintf(p->src, sizeof(p->src), "%s", cfg->source_ip);
	p->cfg.base = p->base;
	p->cfg.room = p->room;
	p->cfg.key = p->key;
	p->last_seq = after;
	p->lp_after = after;
	if (p->cfg.timeout_ms <= 0)
		p->cfg.timeout_ms = 30000;
	if (cfg->xp != XP_WS) {
		p->http = http_client_new(p->src[0] ? p->src : NULL);
		if (!p->http) {
			snprintf(err, errcap, "out of memory");
			peer_close(p);
			return -1;
		}
	}
	if (cfg->xp != XP_LONGPOLL && peer_connect(p) < 0) {
		snprintf(err, errcap, "%s", p->err);
		peer_close(p);
		return -1;
	}
	*out = p;
	return 0;
}

static int64_t json_seq(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "seq");
	int64_t v = cJSON_IsNumber(s) ? (int64_t)s->valuedouble : -1;

	cJSON_Delete(root);
	return v;
}

int peer_post(struct peer *p, const char *body, size_t len, long *status, int64_t *seq)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	struct http_resp r;
	char url[640];

	*status = 0;
	*seq = -1;
	if (p->cfg.xp == XP_WS) {
		if (!p->ws || ws_send_text(p->ws, body, len) < 0) {
			snprintf(p->err, sizeof(p->err), "WebSocket send failed: %s",
				 p->ws ? ws_error(p->ws) : "not connected");
			return -1;
		}
		return 0;
	}
	snprintf(url, sizeof(url), "%s/api/rooms/%s/messages", p->base, p->room);
	if (http_do(p->http, "POST", url, hdrs, body, len, p->cfg.timeout_ms, &r) < 0) {
		snprintf(p->err, sizeof(p->err), "POST failed: %s", http_client_error(p->http));
		return -1;
	}
	*status = r.status;
	if (r.status == 200)
		*seq = json_seq(r.body, r.body_len);
	http_resp_free(&r);
	return 0;
}

/* One /wait round (ROOM-WAIT-2, -4, -5): queue every message with seq > after. */
static int peer_lp_wait(struct peer *p, long timeout_ms)
{
	long secs = (timeout_ms + 999) / 1000;
	struct http_resp r;
	const cJSON *msgs, *it;
	cJSON *root;
	char url[768];
	int n = 0;

	if (secs < 1)
		secs = 1; /* NUM-2 clamps to 1..90 */
	if (secs > 90)
		secs = 90;
	snprintf(url, sizeof(url), "%s/api/rooms/%s/wait?after=%lld&timeout=%ld", p->base, p->room,
		 (long long)p->lp_after, secs);
	if (http_do(p->http, "GET", url, NULL, NULL, 0, secs * 1000 + p->cfg.timeout_ms, &r) < 0) {
		snprintf(p->err, sizeof(p->err), "wait failed: %s", http_client_error(p->http));
		return -1;
	}
	if (r.status != 200) {
		snprintf(p->err, sizeof(p->err), "wait answered %ld %.160s", r.status,
			 r.body ? r.body : "");
		http_resp_free(&r);
		return -1;
	}
	root = cJSON_ParseWithLength(r.body, r.body_len);
	msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
	cJSON_ArrayForEach(it, msgs)
	{
		struct peer_msg pm;
		struct rx m;

		if (rx_from_obj(it, &m) != RX_MESSAGE || m.seq <= p->lp_after)
			continue;
		memset(&pm, 0, sizeof(pm));
		pm.type = RX_MESSAGE;
		pm.recv_ns = clock_mono_ns();
		pm.o.seq = m.seq;
		pm.o.verified = m.verified;
		if (m.sender)
			snprintf(pm.o.label, sizeof(pm.o.label), "%s", m.sender);
		pm.o.open = rx_open_room(p->key, &m, &pm.o.p);
		peer_push(p, &pm);
		if (m.seq > p->lp_after)
			p->lp_after = m.seq;
		n++;
	}
	if (!cJSON_IsArray(msgs)) {
		snprintf(p->err, sizeof(p->err), "wait answer without messages");
		n = -1;
	}
	cJSON_Delete(root);
	http_resp_free(&r);
	return n;
}

int peer_next(struct peer *p, struct peer_msg *m, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		int64_t left;

		if (peer_pop(p, m))
			return 1;
		if (p->ended)
			return -1;
		left = deadline - clock_mono_ms();
		if (left <= 0 && p->cfg.xp != XP_LONGPOLL)
			return 0;
		switch (p->cfg.xp) {
		case XP_SSE:
			if (sse_pool_run(p->pool, (long)left) < 0) {
				snprintf(p->err, sizeof(p->err), "SSE pool failure");
				return -1;
			}
			break;
		case XP_WS: {
			struct ws_msg wm;
			enum ws_recv_result r = ws_recv(p->ws, &wm, (long)left);

			if (r == WS_RECV_TEXT || r == WS_RECV_BINARY) {
				peer_event(p, wm.data, wm.len);
			} else if (r == WS_RECV_CLOSE) {
				snprintf(p->err, sizeof(p->err), "WebSocket closed (%d)",
					 wm.close_code);
				p->ended = true;
			} else if (r == WS_RECV_ERROR) {
				snprintf(p->err, sizeof(p->err), "WebSocket error: %s",
					 ws_error(p->ws));
				p->ended = true;
				break;
			}
			if (r != WS_RECV_TIMEOUT)
				ws_msg_free(&wm);
			break;
		}
		case XP_LONGPOLL: {
			int n = peer_lp_wait(p, left > 0 ? (long)left : 1000);

			if (n < 0)
				return -1;
			if (n == 0 && clock_mono_ms() >= deadline)
				return 0;
			break;
		}
		}
	}
}

void peer_skip_to(struct peer *p, int64_t seq)
{
	if (p->cfg.xp == XP_LONGPOLL && seq > p->lp_after)
		p->lp_after = seq;
}

int peer_reconnect(struct peer *p)
{
	if (p->cfg.xp == XP_LONGPOLL) {
		p->ended = false;
		return 0;
	}
	/* Messages already queued were delivered; keep them, resume after the last one. */
	for (struct qnode *q = p->head; q; q = q->next) {
		if (q->m.type == RX_MESSAGE && q->m.o.seq > p->last_seq)
			p->last_seq = q->m.o.seq;
	}
	if (p->cfg.xp == XP_SSE) {
		if (p->s)
			sse_pool_remove(p->pool, p->s);
		p->s = NULL;
	} else {
		ws_free(p->ws);
		p->ws = NULL;
	}
	return peer_connect(p);
}

const char *peer_error(const struct peer *p)
{
	return p->err;
}

void peer_close(struct peer *p)
{
	if (!p)
		return;
	peer_clear(p);
	sse_pool_free(p->pool);
	if (p->ws)
		ws_close(p->ws, 1000);
	http_client_free(p->http);
	free(p);
}
