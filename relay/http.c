/* http.c — civetweb adapter: lifecycle, request intake, routing, single-write responses. */
#include "http.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "accesslog.h"
#include "clientip.h"
#include "handlers.h"
#include "hub.h"
#include "metrics.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "proto/valid.h"
#include "relay.h"
#include "router.h"

/* HDR-1: on every response except 101. */
#define SECURITY_HEADERS \
	"X-Content-Type-Options: nosniff\r\n" \
	"Referrer-Policy: no-referrer\r\n" \
	"X-Frame-Options: DENY\r\n" \
	"Permissions-Policy: clipboard-read=(self), clipboard-write=(self)\r\n" \
	"Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline'; " \
	"style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' " \
	"https://fonts.gstatic.com; img-src 'self' data:; connect-src 'self' ws: wss:; " \
	"frame-ancestors 'none'\r\n"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/* In-process requests (http_inproc) carry their headers and collect their output here. */
struct inproc {
	const char *const *headers; /* "Name: value" strings */
	const char *body;
	size_t body_len, body_pos;
	char *out;
	size_t out_len, out_cap;
};

static int io_write(struct req *r, const char *buf, size_t n)
{
	if (!r->inproc)
		return mg_write((struct mg_connection *)r->conn, buf, n);
	struct inproc *ip = r->inproc;
	if (n == 0)
		return 0;
	if (ip->out_len + n > ip->out_cap) {
		size_t nc = (ip->out_len + n) * 2;
		char *nb = realloc(ip->out, nc);
		if (!nb)
			return -1;
		ip->out = nb;
		ip->out_cap = nc;
	}
	memcpy(ip->out + ip->out_len, buf, n);
	ip->out_len += n;
	return (int)n;
}

static int io_read(struct req *r, char *buf, size_t n)
{
	if (!r->inproc)
		return mg_read((struct mg_connection *)r->conn, buf, n);
	struct inproc *ip = r->inproc;
	size_t k = ip->body_len - ip->body_pos < n ? ip->body_len - ip->body_pos : n;
	memcpy(buf, ip->body + ip->body_pos, k);
	ip->body_pos += k;
	return (int)k;
}

int req_headers(const struct req *r, const char *name, const char **out, int max)
{
	int n = 0;
	size_t nl = strlen(name);
	if (r->inproc) {
		for (const char *const *h = r->inproc->headers; h && *h && n < max; h++)
			if (strncasecmp(*h, name, nl) == 0 && (*h)[nl] == ':') {
				const char *v = *h + nl + 1;
				while (*v == ' ')
					v++;
				out[n++] = v;
			}
		return n;
	}
	const struct mg_request_info *ri = mg_get_request_info((const struct mg_connection *)r->conn);
	for (int i = 0; i < ri->num_headers && n < max; i++)
		if (strcasecmp(ri->http_headers[i].name, name) == 0)
			out[n++] = ri->http_headers[i].value;
	return n;
}

const char *req_header(const struct req *r, const char *name)
{
	const char *v = NULL;
	return req_headers(r, name, &v, 1) ? v : NULL;
}

static void finish(struct req *r, int status)
{
	r->responded = true;
	r->status = status;
	metrics_count_status(status);
}

void resp_body(struct req *r, int status, const char *ctype, const char *body, size_t len, const char *extra)
{
	if (r->responded)
		return;
	size_t cap = 1024 + sizeof(SECURITY_HEADERS) + (extra ? strlen(extra) : 0) + len;
	char *buf = malloc(cap);
	if (!buf) {
		finish(r, 500);
		return;
	}
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: %s\r\n"
			 SECURITY_HEADERS "%s\r\n",
			 status, reason(status), ctype, len, r->keep_alive ? "keep-alive" : "close",
			 extra ? extra : "");
	if (n < 0 || (size_t)n + len > cap) {
		free(buf);
		finish(r, 500);
		return;
	}
	memcpy(buf + n, body, len);
	io_write(r, buf, (size_t)n + len); /* one write (DESIGN.md 3) */
	free(buf);
	finish(r, status);
}

void resp_json(struct req *r, int status, const char *json, size_t len, const char *extra)
{
	resp_body(r, status, "application/json; charset=utf-8", json, len, extra);
}

void resp_error(struct req *r, int status, const char *text, int retry_after)
{
	char body[512], extra[64] = "";
	size_t n = 0;
	memcpy(body, "{\"error\":", 9);
	n = 9 + json_escape(body + 9, sizeof(body) - 11, text, strlen(text));
	body[n++] = '}';
	if (retry_after > 0)
		snprintf(extra, sizeof(extra), "Retry-After: %d\r\n", retry_after);
	resp_json(r, status, body, n, extra);
}

int stream_begin(struct req *r)
{
	/* SSE-3: headers at once, chunked, no Content-Length. */
	static const char hdr[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
		"Cache-Control: no-cache, no-transform\r\nConnection: keep-alive\r\n"
		"X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n" SECURITY_HEADERS "\r\n";
	finish(r, 200);
	return io_write(r, hdr, sizeof(hdr) - 1) > 0 ? 0 : -1;
}

int stream_chunk(struct req *r, const char *data, size_t len)
{
	/* SSE-12: the chunk framing goes out in the same write as the events. */
	char *buf = malloc(len + 32);
	if (!buf)
		return -1;
	int h = snprintf(buf, 32, "%zx\r\n", len);
	memcpy(buf + h, data, len);
	memcpy(buf + h + len, "\r\n", 2);
	int rc = io_write(r, buf, (size_t)h + len + 2);
	free(buf);
	return rc > 0 ? 0 : -1;
}

int stream_chunk_framed(struct req *r, char *data, size_t len)
{
	char hex[STREAM_HEADROOM];
	int h = snprintf(hex, sizeof(hex), "%zx\r\n", len);
	char *start = data - h;
	memcpy(start, hex, (size_t)h);
	memcpy(data + len, "\r\n", 2);
	return io_write(r, start, (size_t)h + len + 2) > 0 ? 0 : -1;
}

void stream_end(struct req *r)
{
	io_write(r, "0\r\n\r\n", 5);
	r->keep_alive = false;
}

static int sa_port(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

static int find_peer_fd(const struct mg_request_info *ri)
{
	DIR *d = opendir("/proc/self/fd");
	int found = -1, matches = 0;
	if (!d)
		return -1;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		char *end;
		long fdl = strtol(de->d_name, &end, 10);
		if (*end || fdl < 0 || fdl > INT32_MAX)
			continue; /* "." and ".." */
		int fd = (int)fdl;
		struct sockaddr_storage peer, local;
		socklen_t pl = sizeof(peer), ll = sizeof(local);
		memset(&peer, 0, sizeof(peer));
		memset(&local, 0, sizeof(local));
		if (fd <= 2 || fd == dirfd(d))
			continue;
		if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
		    getsockname(fd, (struct sockaddr *)&local, &ll) != 0)
			continue;
		if (sa_port(&peer) != ri->remote_port || sa_port(&local) != ri->server_port)
			continue;
		char txt[INET6_ADDRSTRLEN] = "";
		if (peer.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, txt, sizeof(txt));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, txt, sizeof(txt));
		if (strcmp(txt, ri->remote_addr) == 0 || strstr(txt, ri->remote_addr)) {
			found = fd;
			matches++;
		}
	}
	closedir(d);
	return matches == 1 ? found : -1;
}

bool http_peer_gone(struct req *r)
{
	if (r->inproc || !r->conn)
		return false;
	if (r->peer_fd == 0)
		r->peer_fd = find_peer_fd(mg_get_request_info((const struct mg_connection *)r->conn));
	if (r->peer_fd < 0)
		return false;
	/* The worker owns the connection until we return, so the fd cannot be reused meanwhile. */
	char c;
	ssize_t n = recv(r->peer_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

int http_park(struct req *r, int64_t deadline_mono, bool (*park)(void *arg, int64_t until), void *arg)
{
	for (;;) {
		int64_t now = clock_mono_ms();
		if (now >= deadline_mono)
			return 0;
		int64_t until = now + 1000 < deadline_mono ? now + 1000 : deadline_mono;
		if (park(arg, until))
			return 1;
		if (hub_closing(r->relay->hub))
			return 0;
		if (http_peer_gone(r))
			return -1;
	}
}

void http_abandon(struct req *r)
{
	r->responded = true;
	r->keep_alive = false;
	if (r->conn)
		mg_disable_connection_keep_alive((struct mg_connection *)r->conn);
}

bool http_longlived_take(struct relay *relay)
{
	int limit = (int)(relay->cfg.worker_threads - relay->cfg.worker_reserve);
	int cur = atomic_fetch_add(&relay->longlived, 1);
	if (cur >= limit) {
		atomic_fetch_sub(&relay->longlived, 1);
		return false;
	}
	return true;
}

void http_longlived_release(struct relay *relay)
{
	atomic_fetch_sub(&relay->longlived, 1);
}

static bool wants_keep_alive(const struct mg_request_info *ri, const struct mg_connection *c)
{
	const char *h = mg_get_header(c, "Connection");
	if (h)
		return strcasestr(h, "keep-alive") != NULL || (strcasestr(h, "close") == NULL && strcmp(ri->http_version, "1.1") == 0);
	return strcmp(ri->http_version, "1.1") == 0;
}

static bool is_json_type(const char *ct)
{
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, "; \t");
	return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* Read the body into r->body, at most max bytes. Returns 0, 413 when over, -1 on I/O error. */
static int read_body(struct req *r, long long content_length, size_t max)
{
	if (content_length > (long long)max)
		return 413; /* HTTP-14: decided from Content-Length */
	size_t cap = content_length >= 0 ? (size_t)content_length : 4096;
	char *buf = malloc(cap + 1);
	size_t len = 0;
	if (!buf)
		return -1;
	for (;;) {
		if (len == cap) {
			if (content_length >= 0)
				break;
			if (cap > max) {
				free(buf);
				return 413; /* chunked body over the limit */
			}
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap = ncap;
		}
		int n = io_read(r, buf + len, cap - len);
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return 413;
	}
	buf[len] = '\0';
	r->body = buf;
	r->body_len = len;
	return 0;
}

void http_access_log(struct relay *relay, const char *method, const char *path)
{
	char line[512];
	if (!relay->cfg.access_log)
		return;
	size_t n = accesslog_format(line, sizeof(line), clock_now_ms(), method, path, strlen(path));
	if (n && write(STDOUT_FILENO, line, n) < 0) {
		/* stdout gone: nothing useful to do, and never fatal */
	}
}

/* Everything after request parsing, for civetweb requests and in-process ones alike. */
static void serve(struct req *r, const char *path, const char *peer, long long content_length)
{
	struct relay *relay = r->relay;
	struct route_match *m = malloc(sizeof(*m));
	char allow[64];
	if (!m) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	r->raw_uri = path ? path : "";
	snprintf(r->target, sizeof(r->target), "%s%s%s", r->raw_uri, r->raw_query ? "?" : "",
		 r->raw_query ? r->raw_query : "");
	http_access_log(relay, r->method, r->raw_uri); /* LOG-1: on arrival */

	const char *xff[16];
	int nxff = req_headers(r, "X-Forwarded-For", xff, 16);
	clientip_http(peer, xff, (size_t)nxff, r->ip, sizeof(r->ip));

	if (!path || path[0] != '/') {
		resp_error(r, 404, "not found", 0);
		goto out;
	}
	int status = router_match(r->method, path, m, allow, sizeof(allow));
	if (status == 404) {
		resp_error(r, 404, "not found", 0); /* HTTP-4, HTTP-7 */
		goto out;
	}
	if (status == 405) {
		char extra[96];
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", allow);
		resp_body(r, 405, "application/json; charset=utf-8", "{\"error\":\"method not allowed\"}", 30, extra);
		goto out;
	}
	if (r->inproc && (m->id == R_ROOM_EVENTS || m->id == R_ROOM_WAIT || m->id == R_DM_WAIT ||
			  m->id == R_ROOM_CLAIM)) {
		resp_error(r, 500, "internal error", 0); /* streaming/parking routes need a socket */
		goto out;
	}
	if (query_parse(&r->query, r->raw_query, r->raw_query ? strlen(r->raw_query) : 0) < 0)
		memset(&r->query, 0, sizeof(r->query)); /* oversize query: treat as absent */

	if (strcmp(r->method, "POST") == 0) {
		/* HTTP-10..15: bodies only on POST, JSON only by media type, errors first. */
		r->body_json = is_json_type(req_header(r, "Content-Type"));
		int rc = read_body(r, content_length, (size_t)relay->cfg.json_body_max_bytes);
		if (rc == 413) {
			r->keep_alive = false; /* the rest of the body is not read */
			if (r->conn)
				mg_disable_connection_keep_alive((struct mg_connection *)r->conn);
			resp_error(r, 413, "payload too large", 0);
			goto out;
		}
		if (rc < 0) {
			r->keep_alive = false;
			if (r->conn)
				mg_disable_connection_keep_alive((struct mg_connection *)r->conn);
			resp_error(r, 400, "bad json", 0);
			goto out;
		}
		if (r->body_json && r->body_len > 0)
			r->json = json_parse(r->body, r->body_len, JSON_MAX_DEPTH, true); /* HTTP-13 */
		else
			r->json = cJSON_CreateObject(); /* HTTP-11/12: not JSON, or empty, is {} */
		if (!r->json) {
			resp_error(r, 400, "bad json", 0);
			goto out;
		}
	} else if (content_length > 0) {
		r->keep_alive = false; /* HTTP-10: ignored, and not worth draining */
		if (r->conn)
			mg_disable_connection_keep_alive((struct mg_connection *)r->conn);
	}
	handlers_dispatch(r, m);
	if (!r->responded)
		resp_error(r, 500, "internal error", 0); /* HTTP-19 */
out:
	cJSON_Delete(r->json);
	r->json = NULL;
	free(r->body);
	r->body = NULL;
	free(m);
}

static int handle(struct mg_connection *conn, void *cbdata)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	struct req *r = calloc(1, sizeof(*r));
	if (!r) {
		mg_write(conn, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 75);
		return 500;
	}
	r->conn = conn;
	r->relay = cbdata;
	r->method = ri->request_method;
	r->raw_query = ri->query_string;
	r->keep_alive = wants_keep_alive(ri, conn);
	if (ri->num_headers >= MG_MAX_HEADERS) {
		/* civetweb keeps only the first 64 headers: a Content-Length or Transfer-Encoding past
		 * them would be lost and the body read as another request (smuggling). Refuse, and
		 * close the connection without reading further. */
		r->raw_uri = ri->local_uri_raw ? ri->local_uri_raw : "";
		http_access_log(r->relay, r->method, r->raw_uri);
		r->keep_alive = false;
		mg_disable_connection_keep_alive(conn);
		resp_error(r, 431, "request header fields too large", 0);
		free(r);
		return 431;
	}
	serve(r, ri->local_uri_raw ? ri->local_uri_raw : ri->request_uri, ri->remote_addr, ri->content_length);
	int status = r->status;
	free(r);
	return status ? status : 200;
}

int http_inproc(struct relay *relay, const char *method, const char *target, const char *const *headers,
		const char *body, size_t body_len, char **resp, size_t *resp_len)
{
	struct inproc ip = {.headers = headers, .body = body, .body_len = body_len};
	struct req *r = calloc(1, sizeof(*r));
	char *path = strdup(target);
	if (!r || !path) {
		free(r);
		free(path);
		return -1;
	}
	char *q = strchr(path, '?');
	if (q)
		*q++ = '\0';
	r->inproc = &ip;
	r->relay = relay;
	r->method = method;
	r->raw_query = q;
	r->keep_alive = true;
	serve(r, path, "127.0.0.1", body ? (long long)body_len : -1);
	int status = r->status;
	free(r);
	free(path);
	*resp = ip.out;
	*resp_len = ip.out_len;
	return status;
}

/* civetweb's own errors (malformed request line, header overflow...) as JSON too (HTTP-19). */
static int on_http_error(struct mg_connection *conn, int status, const char *msg)
{
	const char *text = status == 413 ? "payload too large" : status == 404 ? "not found" :
			   status >= 500 ? "internal error" : "bad request";
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *up = mg_get_header(conn, "Upgrade");
	if ((status == 400 || status == 426) && ri && up && strcasecmp(up, "websocket") == 0) {
		/* civetweb refused the handshake itself: WS-2 on the WebSocket path, else WS-1 */
		const char *path = ri->local_uri_raw ? ri->local_uri_raw : ri->request_uri;
		size_t pl = path ? strlen(path) : 0;
		bool ws_path = path && strncmp(path, "/api/rooms/", 11) == 0 && pl > 14 &&
			       strcmp(path + pl - 3, "/ws") == 0 && val_room_id(path + 11, pl - 14);
		status = ws_path ? 400 : 404;
		text = ws_path ? "bad websocket handshake" : "not found";
	}
	char buf[1024], body[128];
	int bl = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", text);
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
			 "Content-Length: %d\r\nConnection: close\r\n" SECURITY_HEADERS "\r\n%s",
			 status, reason(status), bl, body);
	if (n > 0 && (size_t)n < sizeof(buf))
		mg_write(conn, buf, (size_t)n);
	metrics_count_status(status);
	return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *msg)
{
	return 1; /* civetweb's error log may contain URIs (INV-4): swallow it */
}

int http_start(struct relay *relay)
{
	char ports[300], threads[32];
	const struct config *cfg = &relay->cfg;
	if (strchr(cfg->host, ':'))
		snprintf(ports, sizeof(ports), "[%s]:%lld", cfg->host, (long long)cfg->port);
	else
		snprintf(ports, sizeof(ports), "%s:%lld", cfg->host, (long long)cfg->port);
	snprintf(threads, sizeof(threads), "%lld", (long long)cfg->worker_threads);
	const char *options[] = {
		"listening_ports", ports,
		"num_threads", threads,
		"tcp_nodelay", "1",                  /* DESIGN.md 3 */
		"decode_url", "no",                  /* HTTP-2/3: we route on the raw path */
		"enable_keep_alive", "yes",          /* HTTP-1 */
		"keep_alive_timeout_ms", "120000",   /* HTTP-1: idle connections >= 120 s */
		"request_timeout_ms", "125000",      /* HTTP-1: >= 125 s for headers; per I/O op */
		"enable_websocket_ping_pong", "no",
		"websocket_timeout_ms", "3600000",
		"listen_backlog", "1024",
		"access_control_allow_origin", "",   /* HTTP-9: no CORS, and OPTIONS is ours (405) */
		"access_control_allow_methods", "",
		"access_control_allow_headers", "",
		NULL,
	};
	struct mg_callbacks cb;
	memset(&cb, 0, sizeof(cb));
	cb.http_error = on_http_error;
	cb.log_message = on_log_message;
	struct mg_context *ctx = mg_start(&cb, relay, options);
	if (!ctx) {
		fprintf(stderr, "sealroom-relay: cannot listen on %s (address in use, or too many threads?)\n", ports);
		return -1;
	}
	relay->ctx = ctx;
	mg_set_request_handler(ctx, "**", handle, relay);
	ws_register(relay);
	struct mg_server_port sp[4];
	int np = mg_get_server_ports(ctx, 4, sp);
	relay->port = np > 0 ? sp[0].port : (int)cfg->port;
	if (strchr(cfg->host, ':'))
		printf("sealroom listening on http://[%s]:%d\n", cfg->host, relay->port); /* LOG-5 */
	else
		printf("sealroom listening on http://%s:%d\n", cfg->host, relay->port);
	fflush(stdout);
	return 0;
}

void http_stop(struct relay *relay)
{
	if (relay->ctx)
		mg_stop((struct mg_context *)relay->ctx);
	relay->ctx = NULL;
}
