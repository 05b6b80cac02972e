/* http.* and hdr.* — PROTOCOL.md §2: routing, bodies, responses and headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "proto/clock.h"

#define MSG_OK_FIELDS "\"ciphertext\":\"AAAA\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\""

/* HTTP-1: two requests on one kept-alive connection. */
static void c_keepalive(struct conf_run *r)
{
	static const char req[] = "GET /api/health HTTP/1.1\r\nHost: relay\r\n\r\n";
	struct cbuf in;
	int fd = conf_raw_connect(r), i;

	if (fd < 0)
		return;
	cbuf_init(&in, 1024 * 1024);
	for (i = 0; i < 3; i++) {
		struct raw_resp resp;
		int64_t dl = clock_mono_ms() + conf_ms(r, 5000);

		conf_sent(r, "(raw, request %d on one connection) GET /api/health HTTP/1.1", i + 1);
		if (raw_sends(fd, req, dl) < 0 || raw_read_response(fd, &in, false, dl, &resp) < 0) {
			conf_got(r, "connection closed or no answer");
			conf_check(r, false, 0,
				   "HTTP-1: HTTP/1.1 keep-alive: the connection serves request %d", i + 1);
			break;
		}
		conf_got(r, "%d", resp.status);
		conf_check(r, resp.status == 200 && resp.minor == 1, 0,
			   "HTTP-1: HTTP/1.1 200 on request %d of a kept-alive connection", i + 1);
		raw_resp_free(&resp);
	}
	cbuf_free(&in);
	close(fd);
}

/* HTTP-2: exact, case-sensitive paths without slash tolerance. */
static void c_route_exact(struct conf_run *r)
{
	static const char *const paths[] = {
		"/api/health/", "/API/health", "/api/Health", "/api//health", "/api/health%2F",
		"/api/rooms/ABCD1234/status/", "/api/rooms/ABCD1234//status", NULL,
	};
	const char *const *p;

	for (p = paths; *p; p++) {
		struct conf_resp resp;

		if (conf_get(r, *p, &resp) < 0)
			return;
		conf_expect_error(r, &resp, 404, "not found", 0, 0,
				  "HTTP-2: paths match exactly (no case folding, no trailing-slash "
				  "tolerance) → HTTP-4");
		conf_resp_free(&resp);
	}
}

/* HTTP-3: {param} is one percent-decoded segment; a malformed escape stays raw. */
static void c_param_decode(struct conf_run *r)
{
	static const struct {
		const char *target, *room; /* room NULL: expect 400 bad roomId */
		unsigned ck;
	} t[] = {
		{ "/api/rooms/AB%43D123/status", "ABCD123", 0 },
		{ "/api/rooms/%41%42%43%44/status", "ABCD", 0 },
		{ "/api/rooms/AB%2FCD/status", NULL, 0 },
		{ "/api/rooms/%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC/status", NULL, 0 },
		{ "/api/rooms/ABCD%zz/status", NULL, CK_SR },
		{ "/api/rooms/ABCD%4/status", NULL, CK_SR },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;

		if (conf_get(r, t[i].target, &resp) < 0)
			return;
		if (t[i].room) {
			const char *got = conf_jstr(resp.json, "roomId");

			conf_check(r, resp.status == 200 && got && strcmp(got, t[i].room) == 0, t[i].ck,
				   "HTTP-3: the segment is percent-decoded before VAL-1: roomId \"%s\"",
				   t[i].room);
		} else {
			conf_expect_error(r, &resp, 400, "bad roomId", t[i].ck, t[i].ck,
					  "HTTP-3: the decoded (or, with a malformed escape, raw) segment "
					  "fails VAL-1");
		}
		conf_resp_free(&resp);
	}
}

/* HTTP-4: unknown paths → 404 {"error":"not found"}. */
static void c_not_found(struct conf_run *r)
{
	static const char *const paths[] = {
		"/nope", "/api/nope", "/api/rooms", "/api/rooms/ABCD1234",
		"/api/rooms/ABCD1234/nope", "/api/dm", "/api/identity", "/api/dm/abc/inbox", NULL,
	};
	const char *const *p;

	for (p = paths; *p; p++) {
		struct conf_resp resp;

		if (conf_get(r, *p, &resp) < 0)
			return;
		conf_expect_error(r, &resp, 404, "not found", 0, CK_SR,
				  "HTTP-4: a path matching no route → 404 {\"error\":\"not found\"}");
		conf_resp_free(&resp);
	}
}

/* Split an Allow value into a set of methods (HEAD dropped when ignore_head); false if the
 * format is not "A, B, C" upper case. */
static bool allow_set(const char *v, char out[8][16], int *n, bool ignore_head)
{
	const char *p = v;

	*n = 0;
	while (*p) {
		size_t k = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

		if (k == 0 || k >= 16 || *n >= 8)
			return false;
		if (!(ignore_head && k == 4 && memcmp(p, "HEAD", 4) == 0)) {
			memcpy(out[*n], p, k);
			out[*n][k] = '\0';
			(*n)++;
		}
		p += k;
		if (*p == '\0')
			break;
		if (strncmp(p, ", ", 2) != 0)
			return false;
		p += 2;
	}
	return true;
}

static bool same_set(char a[8][16], int na, const char *want)
{
	char b[8][16];
	int nb, i, j;

	if (!allow_set(want, b, &nb, false) || na != nb)
		return false;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

/* HTTP-5: 405 with Allow listing the path's methods. */
static void c_method(struct conf_run *r)
{
	static const struct {
		const char *method, *target, *allow;
	} t[] = {
		{ "DELETE", "/api/health", "GET" },
		{ "POST", "/api/health", "GET" },
		{ "OPTIONS", "/api/health", "GET" },
		{ "POST", "/api/rooms/ABCD1234/status", "GET" },
		{ "GET", "/api/rooms/ABCD1234/messages", "POST" },
		{ "PUT", "/api/rooms/ABCD1234/messages", "POST" },
		{ "GET", "/api/rooms/ABCD1234/listening", "POST" },
		{ "DELETE", "/api/identity/register", "GET, POST" },
		{ "POST", "/api/dm/abcd/inbox/wait", "GET, DELETE" },
		{ "GET", "/api/report", "POST" },
		{ "POST", "/api/openapi.json", "GET" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;
		char allow[128], set[8][16];
		int n = 0;
		bool fmt;

		if (conf_req(r, t[i].method, t[i].target, NULL, NULL, 0, &resp) < 0)
			return;
		if (conf_expect_error(r, &resp, 405, "method not allowed", 0, 0,
				      "HTTP-5: a known path with another method → 405 "
				      "{\"error\":\"method not allowed\"}")) {
			const char *v = conf_header(&resp, "Allow", allow, sizeof(allow));

			fmt = v && allow_set(v, set, &n, true);
			conf_check(r, fmt && same_set(set, n, t[i].allow), 0,
				   "HTTP-5: Allow: %s (upper case, joined by \", \"; HEAD may be added, "
				   "HTTP-6)", t[i].allow);
		}
		conf_resp_free(&resp);
	}
}

/* HTTP-6 (MAY): HEAD on non-streaming GET routes; streams answer HEAD with 405. */
static void c_head(struct conf_run *r)
{
	static const char req[] = "HEAD /api/health HTTP/1.1\r\nHost: relay\r\n\r\n"
				  "GET /api/health HTTP/1.1\r\nHost: relay\r\n\r\n";
	static const char *const streams[] = {
		"/api/rooms/ABCD1234/events", "/api/rooms/ABCD1234/wait?timeout=1",
		"/api/dm/abcd/inbox/wait?timeout=1", NULL,
	};
	struct conf_resp resp, del;
	char allow[128];
	bool head_ok;
	const char *const *p;

	if (conf_req(r, "HEAD", "/api/health", NULL, NULL, 0, &resp) < 0)
		return;
	head_ok = resp.status == 200;
	conf_resp_free(&resp);
	if (conf_req(r, "DELETE", "/api/health", NULL, NULL, 0, &del) < 0)
		return;
	if (!head_ok) {
		conf_check(r, !conf_header(&del, "Allow", allow, sizeof(allow)) ||
				      !strstr(allow, "HEAD"),
			   0, "HTTP-6: without HEAD support, Allow does not list HEAD");
		conf_unimplemented(r, "HTTP-6: HEAD is not answered (optional)");
		conf_resp_free(&del);
		return;
	}
	conf_check(r, conf_header(&del, "Allow", allow, sizeof(allow)) && strstr(allow, "HEAD"), 0,
		   "HTTP-6: a relay answering HEAD lists it in Allow");
	conf_resp_free(&del);
	{
		/* No body after the HEAD answer: the next pipelined answer must parse. */
		int fd = conf_raw_connect(r);
		struct cbuf in;
		struct raw_resp a, b;
		int64_t dl = clock_mono_ms() + conf_ms(r, 5000);

		if (fd < 0)
			return;
		cbuf_init(&in, 1024 * 1024);
		conf_sent(r, "(raw) HEAD /api/health then GET /api/health, pipelined");
		if (raw_sends(fd, req, dl) == 0 && raw_read_response(fd, &in, true, dl, &a) == 0) {
			if (raw_read_response(fd, &in, false, dl, &b) == 0) {
				conf_got(r, "%d then %d %s", a.status, b.status, b.body);
				conf_check(r, a.status == 200 && b.status == 200 && b.body_len > 0 &&
						      b.body[0] == '{',
					   0, "HTTP-6: HEAD sends no body");
				raw_resp_free(&b);
			} else {
				conf_check(r, false, 0, "HTTP-6: HEAD sends no body (next answer parses)");
			}
			raw_resp_free(&a);
		} else {
			conf_check(r, false, 0, "HTTP-6: HEAD is answered");
		}
		cbuf_free(&in);
		close(fd);
	}
	for (p = streams; *p; p++) {
		if (conf_req(r, "HEAD", *p, NULL, NULL, 0, &resp) < 0)
			return;
		conf_check(r, resp.status == 405, 0, "HTTP-6: HEAD on %s answers 405", *p);
		conf_resp_free(&resp);
	}
}

/* HTTP-7: a plain GET to the /ws path is an unknown path. */
static void c_ws_plain(struct conf_run *r)
{
	struct conf_resp resp;

	if (conf_get(r, "/api/rooms/ABCD1234/ws", &resp) < 0)
		return;
	conf_expect_error(r, &resp, 404, "not found", 0, CK_SR,
			  "HTTP-7: a non-upgrade request to /ws is an unknown path (HTTP-4)");
	conf_resp_free(&resp);
}

static int tx_count(struct conf_run *r, const char *room, const char *query, int64_t *first)
{
	char target[512];
	struct conf_resp resp;
	int n = -1;

	snprintf(target, sizeof(target), "/api/rooms/%s/transcript?%s", room, query);
	if (conf_get(r, target, &resp) < 0)
		return -1;
	if (resp.status == 200) {
		const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(resp.json, "messages");

		n = cJSON_GetArraySize(msgs);
		if (first)
			*first = conf_jint(cJSON_GetArrayItem(msgs, 0), "seq", -1);
	}
	conf_resp_free(&resp);
	return n;
}

/* HTTP-8: query parsing: first occurrence, '+' as space, escapes, malformed escapes. */
static void c_query(struct conf_run *r)
{
	struct conf_room room;
	int64_t s[3];
	char q[256], enc[128];
	int n;
	size_t i, k = 0;
	int64_t first;
	struct sse_conn *c;

	conf_room_new(&room);
	if (conf_post_many(r, &room, 3, "q", s) != 3)
		return;
	snprintf(q, sizeof(q), "after=%lld&after=0", (long long)s[1]);
	n = tx_count(r, room.id, q, &first);
	conf_check(r, n == 1 && first == s[2], 0,
		   "HTTP-8: a repeated numeric parameter uses its first occurrence (%s → 1 message)", q);
	n = tx_count(r, room.id, "limit=1&limit=3", NULL);
	conf_check(r, n == 1, 0, "HTTP-8: limit=1&limit=3 uses limit=1");
	snprintf(q, sizeof(q), "&&after=+%lld&", (long long)s[1]);
	n = tx_count(r, room.id, q, &first);
	conf_check(r, n == 1 && first == s[2], 0,
		   "HTTP-8: '+' is a space (P skips leading whitespace) and empty pieces are "
		   "skipped: %s → 1 message", q);
	snprintf(q, sizeof(q), "%lld", (long long)s[1]);
	for (i = 0; q[i] && k + 4 < sizeof(enc); i++)
		k += (size_t)snprintf(enc + k, sizeof(enc) - k, "%%%02X", (unsigned char)q[i]);
	snprintf(q, sizeof(q), "%%61fter=%s", enc);
	n = tx_count(r, room.id, q, &first);
	conf_check(r, n == 1 && first == s[2], 0,
		   "HTTP-8: keys and values are percent-decoded (%s → after=seq)", q);
	n = tx_count(r, room.id, "after=%zz", NULL);
	conf_check(r, n == 3, 0,
		   "HTTP-8: a value with a malformed escape is used undecoded (after=%%zz → NaN → 0)");

	/* name: a repeated key is ignored; an escaped one is decoded. */
	{
		static const struct {
			const char *q;
			const char *name; /* NULL: no name */
		} t[] = {
			{ "name=al%69ce", "alice" },
			{ "name=carol&name=dave", NULL },
		};

		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			char target[256];
			cJSON *pres;

			char rid[16];

			conf_room_id(rid); /* a fresh room: no earlier subscriber in its presence */
			snprintf(target, sizeof(target), "/api/rooms/%s/events?%s", rid, t[i].q);
			c = conf_sse(r, target, NULL);
			if (!c)
				return;
			pres = conf_sse_until(c, "presence", conf_ms(r, 5000), NULL);
			if (conf_check(r, pres != NULL, 0, "SSE-8: presence follows ready")) {
				const cJSON *names = cJSON_GetObjectItemCaseSensitive(pres, "names");
				const cJSON *n0 = cJSON_GetArrayItem(names, 0);
				char *txt = conf_jprint(names);

				conf_got(r, "presence names %s", txt ? txt : "?");
				free(txt);
				if (t[i].name)
					conf_check(r, cJSON_GetArraySize(names) == 1 && cJSON_IsString(n0) &&
							      strcmp(n0->valuestring, t[i].name) == 0,
						   0, "HTTP-8/SSE-5: ?%s gives the presence name %s", t[i].q,
						   t[i].name);
				else
					conf_check(r, cJSON_GetArraySize(names) == 0, 0,
						   "HTTP-8: with a repeated key, name is ignored (?%s)",
						   t[i].q);
			}
			cJSON_Delete(pres);
			sse_close(c);
		}
	}
}

static bool header_absent_prefix(const struct conf_resp *resp, const char *prefix)
{
	const char *p = resp->headers;
	size_t n = strlen(prefix);

	while (p && *p) {
		const char *nl = strchr(p, '\n');

		if (strncasecmp(p, prefix, n) == 0)
			return false;
		if (!nl)
			break;
		p = nl + 1;
	}
	return true;
}

/* HTTP-9: no CORS, X-Powered-By, HSTS, ETag, 304 or redirects. */
static void c_no_cors(struct conf_run *r)
{
	static const char *const hdrs[] = {
		"Origin: https://evil.example", "If-None-Match: *",
		"If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT",
		"Access-Control-Request-Method: POST", NULL,
	};
	static const char *const targets[] = { "/api/health", "/api/openapi.json", "/api/status",
					       "/", NULL };
	const char *const *t;
	struct conf_resp resp;

	for (t = targets; *t; t++) {
		if (conf_req(r, "GET", *t, hdrs, NULL, 0, &resp) < 0)
			return;
		conf_check(r, resp.status != 304, CK_SR, "HTTP-9: never 304 (GET %s with If-None-Match)",
			   *t);
		conf_check(r, header_absent_prefix(&resp, "Access-Control-"), 0,
			   "HTTP-9: no Access-Control-* header (there is no CORS)");
		conf_check(r, header_absent_prefix(&resp, "X-Powered-By:"), 0, "HTTP-9: no X-Powered-By");
		conf_check(r, header_absent_prefix(&resp, "Strict-Transport-Security:"), 0,
			   "HTTP-9: no HSTS header");
		conf_check(r, header_absent_prefix(&resp, "ETag:"), CK_SR, "HTTP-9: no ETag");
		conf_resp_free(&resp);
	}
	if (conf_req(r, "OPTIONS", "/api/rooms/ABCD1234/messages", hdrs, NULL, 0, &resp) < 0)
		return;
	conf_check(r, header_absent_prefix(&resp, "Access-Control-"), 0,
		   "HTTP-9: a CORS preflight gets no Access-Control-* header");
	conf_check(r, resp.status == 405, CK_SR,
		   "HTTP-5/HTTP-9: a CORS preflight is an OPTIONS request like any other → 405");
	conf_resp_free(&resp);
	if (conf_get(r, "/api/health/", &resp) < 0)
		return;
	conf_check(r, resp.status < 300 || resp.status >= 400, 0,
		   "HTTP-9: an API route is never redirected (GET /api/health/)");
	conf_resp_free(&resp);
}

/* HTTP-10: bodies on non-POST routes are ignored. */
static void c_body_ignored(struct conf_run *r)
{
	static const char *const ct[] = { "Content-Type: application/json", NULL };
	static const char *const targets[] = { "/api/rooms/ABCD1234/transcript",
					       "/api/rooms/ABCD1234/status", "/api/health", NULL };
	const char *const *t;

	for (t = targets; *t; t++) {
		struct conf_resp resp;

		if (conf_req(r, "GET", *t, ct, "{{{ not json", 12, &resp) < 0)
			return;
		conf_check(r, resp.status == 200, 0,
			   "HTTP-10: a GET with a malformed JSON body answers as without one (200)");
		conf_resp_free(&resp);
	}
}

/* HTTP-11: only application/json (any case, any parameters) is JSON. */
static void c_body_type(struct conf_run *r)
{
	static const struct {
		const char *ct; /* NULL: none */
		const char *extra;
		long status;
	} t[] = {
		{ "Content-Type: text/plain", NULL, 400 },
		{ NULL, NULL, 400 },
		{ "Content-Type: application/jsonx", NULL, 400 },
		{ "Content-Type: application/x-www-form-urlencoded", NULL, 400 },
		{ "Content-Type: APPLICATION/JSON; charset=iso-8859-1", NULL, 200 },
		{ "Content-Type: application/json;foo=bar", NULL, 200 },
		{ "Content-Type: Application/Json", "Content-Encoding: gzip", 200 },
	};
	struct conf_room room;
	char target[128];
	size_t i;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *hdrs[4] = { "Content-Type:", NULL, NULL, NULL };
		char *body = conf_sealed_body(&room, "ct", NULL);
		struct conf_resp resp;
		int k = 0;

		if (!body)
			return;
		hdrs[k++] = t[i].ct ? t[i].ct : "Content-Type:";
		if (t[i].extra)
			hdrs[k++] = t[i].extra;
		if (conf_req(r, "POST", target, hdrs, body, strlen(body), &resp) < 0) {
			free(body);
			return;
		}
		if (t[i].status == 200)
			conf_check(r, resp.status == 200, 0,
				   "HTTP-11: \"%s\" is JSON (media type case-insensitive, parameters "
				   "ignored, Content-Encoding not decoded) → 200",
				   t[i].ct);
		else
			conf_expect_error(r, &resp, 400, "bad message", 0, 0,
					  "HTTP-11: a body that is not application/json is {} → 400 "
					  "bad message");
		conf_resp_free(&resp);
		free(body);
	}
}

/* HTTP-12: empty body = {}, a top-level array = an object with no fields. */
static void c_body_empty(struct conf_run *r)
{
	static const char *const bodies[] = { "", "[]", "[{" MSG_OK_FIELDS "}]", NULL };
	const char *const *b;
	struct conf_room room;
	char target[128];

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	for (b = bodies; *b; b++) {
		struct conf_resp resp;

		if (conf_post_json(r, target, *b, &resp) < 0)
			return;
		conf_expect_error(r, &resp, 400, "bad message", 0, 0,
				  "HTTP-12: an empty body or a top-level array has no fields → "
				  "400 bad message (not bad json)");
		conf_resp_free(&resp);
	}
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	{
		struct conf_resp resp;

		if (conf_post_json(r, target, "", &resp) < 0)
			return;
		conf_expect_error(r, &resp, 400, "bad name", 0, 0,
				  "HTTP-12: an empty /listening body is {} → ROOM-LISTEN-2 bad name");
		conf_resp_free(&resp);
	}
}

/* HTTP-13: malformed JSON → 400 bad json; deep nesting MAY be bad json; the relay survives. */
static void c_body_bad_json(struct conf_run *r)
{
	static const char *const bodies[] = {
		"{\"a\":", "1", "\"x\"", "true", "null", "   ", "{\"a\":\"\xff\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00x\"}", "{\"a\":1,}", "{'a':1}", "{\"a\":NaN}",
		"{\"a\":01}", "{\"a\":\"\xc0\x80\"}", "{} {}", NULL,
	};
	const char *const *b;
	struct conf_room room;
	char target[128], *deep;
	size_t i, n;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	for (b = bodies; *b; b++) {
		struct conf_resp resp;

		if (conf_post_json(r, target, *b, &resp) < 0)
			return;
		conf_expect_error(r, &resp, 400, "bad json", 0, CK_SR,
				  "HTTP-13: malformed JSON, a top-level primitive, whitespace only, "
				  "invalid UTF-8 or an unpaired surrogate → 400 {\"error\":\"bad json\"}");
		conf_resp_free(&resp);
	}
	/* Nesting 33 deep: MAY be bad json, else it is a body without fields (bad message). */
	n = 90000; /* 180 000 bytes: under JSON_BODY_MAX_BYTES */
	deep = malloc(2 * n + 1);
	if (!deep)
		return;
	for (i = 0; i < 2; i++) {
		size_t d = i == 0 ? 33 : n;
		struct conf_resp resp;

		memset(deep, '[', d);
		memset(deep + d, ']', d);
		deep[2 * d] = '\0';
		if (conf_post_json(r, target, deep, &resp) < 0)
			break;
		conf_check(r, resp.status == 400 && resp.body &&
				      (strcmp(resp.body, "{\"error\":\"bad json\"}") == 0 ||
				       strcmp(resp.body, "{\"error\":\"bad message\"}") == 0),
			   0, "HTTP-13: an array nested %zu deep → 400 bad json (MAY, depth > 32) or "
			      "bad message", d);
		conf_resp_free(&resp);
	}
	free(deep);
	conf_expect_healthy(r, "HTTP-13");
}

/* A JSON text of exactly n bytes: {"x":"aaa..."}. */
static char *json_of_size(size_t n)
{
	char *b = malloc(n + 1);

	if (!b || n < 8) {
		free(b);
		return NULL;
	}
	memcpy(b, "{\"x\":\"", 6);
	memset(b + 6, 'a', n - 8);
	memcpy(b + n - 2, "\"}", 3);
	return b;
}

/* HTTP-14: bodies over JSON_BODY_MAX_BYTES → 413, by Content-Length and while chunked. */
static void c_body_too_large(struct conf_run *r)
{
	size_t max = (size_t)r->ctx->o.json_body_max;
	struct conf_room room;
	char target[128];
	char *big;
	struct conf_resp resp;

	conf_room_new(&room);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	big = json_of_size(max + 1);
	if (!big)
		return;
	if (conf_post_json(r, target, big, &resp) == 0) {
		conf_expect_error(r, &resp, 413, "payload too large", 0, CK_SR,
				  "HTTP-14: a JSON body over JSON_BODY_MAX_BYTES → 413 "
				  "{\"error\":\"payload too large\"}");
		conf_resp_free(&resp);
	}
	free(big);
	big = json_of_size(max);
	if (big && conf_post_json(r, target, big, &resp) == 0) {
		conf_expect_error(r, &resp, 400, "bad message", 0, 0,
				  "HTTP-14: a body of exactly JSON_BODY_MAX_BYTES is accepted and "
				  "parsed (→ bad message)");
		conf_resp_free(&resp);
	}
	free(big);
	{
		/* Chunked, no Content-Length: the limit holds while reading. */
		struct cbuf req;
		struct raw_resp rr;
		char chunk[16384 + 32];
		size_t sent = 0;

		cbuf_init(&req, 4 * max + 65536);
		cbuf_adds(&req, "POST ");
		cbuf_adds(&req, target);
		cbuf_adds(&req, " HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n"
				"Transfer-Encoding: chunked\r\n");
		if (r->ip[0]) {
			cbuf_adds(&req, "X-Forwarded-For: ");
			cbuf_adds(&req, r->ip);
			cbuf_adds(&req, "\r\n");
		}
		cbuf_adds(&req, "\r\n");
		snprintf(chunk, sizeof(chunk), "6\r\n{\"x\":\"\r\n");
		cbuf_adds(&req, chunk);
		while (sent < max + 65536) {
			int k = snprintf(chunk, sizeof(chunk), "4000\r\n");

			memset(chunk + k, 'a', 16384);
			memcpy(chunk + k + 16384, "\r\n", 2);
			cbuf_add(&req, chunk, (size_t)k + 16386);
			sent += 16384;
		}
		cbuf_adds(&req, "2\r\n\"}\r\n0\r\n\r\n");
		if (req.p && conf_raw_exchange(r, req.p, req.len, false, conf_ms(r, 10000), &rr,
					       "HTTP-14") == 0) {
			conf_check(r, rr.status == 413, 0,
				   "HTTP-14: a chunked body over the limit → 413 (enforced while reading)");
			conf_check(r, rr.body && strcmp(rr.body, "{\"error\":\"payload too large\"}") == 0,
				   CK_SR, "HTTP-14: body {\"error\":\"payload too large\"}");
			raw_resp_free(&rr);
		}
		cbuf_free(&req);
	}
	conf_expect_healthy(r, "HTTP-14");
}

/* HTTP-15: body errors precede route checks. */
static void c_body_precedence(struct conf_run *r)
{
	struct conf_resp resp;
	char *big;

	if (conf_post_json(r, "/api/rooms/x/messages", "{\"a\":", &resp) < 0)
		return;
	conf_check(r, resp.status == 400 && !(resp.body && strstr(resp.body, "bad roomId")), 0,
		   "HTTP-15: a bad body to /api/rooms/x/messages is a body error, not bad roomId");
	conf_expect_body(r, &resp, "{\"error\":\"bad json\"}", CK_SR, "HTTP-15/HTTP-13");
	conf_resp_free(&resp);
	big = json_of_size((size_t)r->ctx->o.json_body_max + 1);
	if (!big)
		return;
	if (conf_post_json(r, "/api/rooms/x/messages", big, &resp) == 0) {
		conf_check(r, resp.status == 413, 0,
			   "HTTP-15: an oversized body to a bad room id → 413 before bad roomId");
		conf_resp_free(&resp);
	}
	free(big);
}

/* HTTP-16: duplicate keys: last wins; unknown keys never stored or relayed. */
static void c_body_duplicates(struct conf_run *r)
{
	struct conf_room room;
	char target[128], *body;
	struct conf_resp resp;
	char *good;
	const char *ct, *nonce;
	cJSON *g;

	conf_room_new(&room);
	good = conf_sealed_body(&room, "dup", NULL);
	g = good ? cJSON_Parse(good) : NULL;
	ct = conf_jstr(g, "ciphertext");
	nonce = conf_jstr(g, "nonce");
	if (!ct || !nonce || asprintf(&body,
				      "{\"ciphertext\":\"!!\",\"nonce\":\"%s\",\"ciphertext\":\"%s\","
				      "\"zzz_unknown\":\"secret\",\"sender\":\"first\","
				      "\"sender\":\"last\"}",
				      nonce, ct) < 0) {
		cJSON_Delete(g);
		free(good);
		return;
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	if (conf_post_json(r, target, body, &resp) == 0) {
		conf_check(r, resp.status == 200, 0,
			   "HTTP-16: for duplicate keys the last occurrence wins (valid ciphertext "
			   "last → 200)");
		conf_resp_free(&resp);
		snprintf(target, sizeof(target), "/api/rooms/%s/transcript", room.id);
		if (conf_get(r, target, &resp) == 0) {
			const cJSON *m = cJSON_GetArrayItem(
				cJSON_GetObjectItemCaseSensitive(resp.json, "messages"), 0);
			const char *s = conf_jstr(m, "sender"), *c = conf_jstr(m, "ciphertext");

			conf_check(r, s && strcmp(s, "last") == 0 && c && strcmp(c, ct) == 0, 0,
				   "HTTP-16: the stored message has the last sender and ciphertext");
			conf_check(r, m && !conf_jhas(m, "zzz_unknown") &&
					      !(resp.body && strstr(resp.body, "secret")),
				   0, "HTTP-16: unknown keys are never stored or relayed");
			conf_resp_free(&resp);
		}
	}
	free(body);
	free(good);
	cJSON_Delete(g);
}

/* HTTP-17: U+0000 fails validated fields; free text is cut at it. */
static void c_body_nul(struct conf_run *r)
{
	struct conf_room room;
	char target[160], *body;
	struct conf_resp resp;
	struct sse_conn *c;

	conf_room_new(&room);
	body = conf_sealed_body(&room, "nul", ",\"sender\":\"a\\u0000b\"");
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	if (body && conf_post_json(r, target, body, &resp) == 0) {
		conf_expect_error(r, &resp, 400, "bad message", 0, 0,
				  "HTTP-17: a sender containing U+0000 → 400 bad message");
		conf_resp_free(&resp);
	}
	free(body);
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	if (conf_post_json(r, target, "{\"name\":\"al\\u0000ce\"}", &resp) == 0) {
		conf_expect_error(r, &resp, 400, "bad name", 0, 0,
				  "HTTP-17: a presence name containing U+0000 → 400 bad name");
		conf_resp_free(&resp);
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/events?name=al%%00ce", room.id);
	c = conf_sse(r, target, NULL);
	if (c) {
		cJSON *pres = conf_sse_until(c, "presence", conf_ms(r, 5000), NULL);

		conf_check(r, pres && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(pres, "names")) == 0,
			   0, "HTTP-17/SSE-5: ?name=al%%00ce fails VAL-5 and is ignored");
		cJSON_Delete(pres);
		sse_close(c);
	}
	/* Report fields are only truncated: "what" is cut at U+0000 before its length check. */
	if (conf_post_json(r, "/api/report", "{\"what\":\"hello\\u0000 world and more\"}", &resp) == 0) {
		conf_check(r, resp.status == 200, 0,
			   "HTTP-17/RPT-2: \"what\" cut at U+0000 keeps \"hello\" (5 units) → 200");
		conf_resp_free(&resp);
	}
	if (conf_post_json(r, "/api/report", "{\"what\":\"abc\\u0000defghijk\"}", &resp) == 0) {
		conf_expect_error(r, &resp, 400, "field \"what\" required (5\xe2\x80\x93" "4000 chars)", 0,
				  0, "HTTP-17/RPT-2: \"what\" cut at U+0000 to \"abc\" is too short");
		conf_resp_free(&resp);
	}
}

static void check_json_headers(struct conf_run *r, const struct conf_resp *resp, const char *what)
{
	char v[128];
	const char *ct = conf_header(resp, "Content-Type", v, sizeof(v));
	char cl[32];
	const char *len = conf_header(resp, "Content-Length", cl, sizeof(cl));

	conf_check(r, ct && strcmp(ct, "application/json; charset=utf-8") == 0, 0,
		   "HTTP-18: %s: Content-Type: application/json; charset=utf-8", what);
	conf_check(r, len && strtoul(len, NULL, 10) == resp->body_len &&
			      http_headers_count(resp->headers, resp->headers_len, "Content-Length") == 1,
		   0, "HTTP-18: %s: Content-Length equals the body length", what);
	conf_check(r, !conf_header(resp, "Transfer-Encoding", v, sizeof(v)), 0,
		   "HTTP-18: %s: a JSON answer is not chunked", what);
}

/* HTTP-18: JSON responses carry the charset and a Content-Length. */
static void c_json_headers(struct conf_run *r)
{
	static const struct {
		const char *method, *target;
	} t[] = {
		{ "GET", "/api/health" },	  { "GET", "/nope" },
		{ "DELETE", "/api/health" },	  { "GET", "/api/rooms/x/status" },
		{ "GET", "/api/rooms/ABCD1234/transcript" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;
		char what[128];

		if (conf_req(r, t[i].method, t[i].target, NULL, NULL, 0, &resp) < 0)
			return;
		snprintf(what, sizeof(what), "%s %s (%ld)", t[i].method, t[i].target, resp.status);
		check_json_headers(r, &resp, what);
		conf_resp_free(&resp);
	}
}

/* HTTP-19: every error is a JSON object with "error" first. */
static void c_error_shape(struct conf_run *r)
{
	static const struct {
		const char *method, *target, *body;
	} t[] = {
		{ "GET", "/nope", NULL },
		{ "DELETE", "/api/health", NULL },
		{ "GET", "/api/rooms/x/status", NULL },
		{ "POST", "/api/rooms/ABCD1234/messages", "{" },
		{ "POST", "/api/rooms/ABCD1234/messages", "{}" },
		{ "POST", "/api/rooms/CFNOROOM0000/listening", "{\"name\":\"a\"}" },
		{ "GET", "/api/rooms/x/events", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		static const char *const ct[] = { "Content-Type: application/json", NULL };
		struct conf_resp resp;
		const cJSON *first;

		if (conf_req(r, t[i].method, t[i].target, t[i].body ? ct : NULL, t[i].body,
			     t[i].body ? strlen(t[i].body) : 0, &resp) < 0)
			return;
		first = resp.json ? resp.json->child : NULL;
		conf_check(r, resp.status >= 400 && cJSON_IsObject(resp.json) && first && first->string &&
				      strcmp(first->string, "error") == 0 && cJSON_IsString(first) &&
				      first->valuestring[0],
			   0, "HTTP-19: an error response is JSON with \"error\" (non-empty) as the "
			      "first key");
		conf_resp_free(&resp);
	}
}

/* HTTP-20: Retry-After only where the protocol gives one. */
static void c_retry_after(struct conf_run *r)
{
	static const struct {
		const char *method, *target;
	} t[] = {
		{ "GET", "/api/health" },
		{ "GET", "/nope" },
		{ "DELETE", "/api/health" },
		{ "GET", "/api/rooms/x/status" },
		{ "GET", "/api/rooms/ABCD1234/status" },
		{ "GET", "/api/openapi.json" },
	};
	size_t i;
	struct conf_room room;
	char target[128];
	struct conf_resp resp;
	char *body;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (conf_req(r, t[i].method, t[i].target, NULL, NULL, 0, &resp) < 0)
			return;
		conf_expect_retry_after(r, &resp, -1, 0, "HTTP-20");
		conf_resp_free(&resp);
	}
	conf_room_new(&room);
	body = conf_sealed_body(&room, "ra", NULL);
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room.id);
	if (body && conf_post_json(r, target, body, &resp) == 0) {
		conf_expect_retry_after(r, &resp, -1, 0, "HTTP-20 (200 POST)");
		conf_resp_free(&resp);
	}
	free(body);
}

/* HDR-1: the security headers every response carries, name and exact value. */
static const struct {
	const char *name, *value;
} hdr1[] = {
	{ "X-Content-Type-Options", "nosniff" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Frame-Options", "DENY" },
	{ "Permissions-Policy", "clipboard-read=(self), clipboard-write=(self)" },
	{ "Content-Security-Policy",
	  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline' "
	  "https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; img-src 'self' "
	  "data:; connect-src 'self' ws: wss:; frame-ancestors 'none'" },
};

static void check_hdr1(struct conf_run *r, const char *block, size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < sizeof(hdr1) / sizeof(hdr1[0]); i++) {
		size_t vl = 0;
		const char *v = block ? http_headers_find(block, len, hdr1[i].name, &vl) : NULL;

		conf_check(r, v && vl == strlen(hdr1[i].value) && memcmp(v, hdr1[i].value, vl) == 0,
			   0, "HDR-1: %s carries %s: %s", what, hdr1[i].name, hdr1[i].value);
	}
}

/* HDR-1: the security headers on every kind of response (101 excepted). */
static void c_hdr_security(struct conf_run *r)
{
	static const struct {
		const char *method, *target, *body;
	} t[] = {
		{ "GET", "/", NULL },
		{ "GET", "/api/health", NULL },
		{ "GET", "/api/status", NULL },
		{ "GET", "/api/openapi.json", NULL },
		{ "GET", "/nope", NULL },
		{ "DELETE", "/api/health", NULL },
		{ "GET", "/api/rooms/x/status", NULL },
		{ "POST", "/api/rooms/ABCD1234/messages", "{" },
		{ "GET", "/api/rooms/x/events", NULL },
		{ "GET", "/api/rooms/CFNOROOM0000/wait", NULL },
		{ "GET", "/metrics", NULL },
	};
	size_t i;
	struct sse_conn *c;
	char target[128], room[16];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		static const char *const ct[] = { "Content-Type: application/json", NULL };
		struct conf_resp resp;
		char what[160];

		if (conf_req(r, t[i].method, t[i].target, t[i].body ? ct : NULL, t[i].body,
			     t[i].body ? strlen(t[i].body) : 0, &resp) < 0)
			return;
		snprintf(what, sizeof(what), "%s %s (%ld)", t[i].method, t[i].target, resp.status);
		check_hdr1(r, resp.headers, resp.headers_len, what);
		conf_resp_free(&resp);
	}
	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/events", room);
	c = conf_sse(r, target, NULL);
	if (c) {
		size_t len;
		const char *h = sse_conn_headers(c, &len);

		check_hdr1(r, h, len, "the SSE stream");
		sse_close(c);
	}
}

const struct conf_case conf_cases_http[] = {
	{ "http.keepalive", "HTTP-1", CONF_MUST, 0,
	  "HTTP/1.1 keep-alive: several requests on one connection", c_keepalive },
	{ "http.route.exact", "HTTP-2 HTTP-4", CONF_MUST, CF_SR,
	  "paths match exactly: no case folding, no trailing-slash tolerance", c_route_exact },
	{ "http.route.param-decode", "HTTP-3 VAL-1", CONF_MUST, 0,
	  "path parameters are percent-decoded; malformed escapes stay raw", c_param_decode },
	{ "http.route.not-found", "HTTP-4 HTTP-19", CONF_MUST, 0,
	  "unknown paths answer 404 {\"error\":\"not found\"}", c_not_found },
	{ "http.route.method", "HTTP-5", CONF_MUST, CF_SR,
	  "wrong methods answer 405 with Allow; OPTIONS too", c_method },
	{ "http.route.head", "HTTP-6", CONF_MAY, CF_FEATURE,
	  "HEAD on non-streaming routes (optional); streams answer HEAD with 405", c_head },
	{ "http.route.ws-plain", "HTTP-7 HTTP-4", CONF_MUST, 0,
	  "a plain GET to the /ws path is an unknown path", c_ws_plain },
	{ "http.query", "HTTP-8 NUM-1 NUM-3 SSE-5", CONF_MUST, 0,
	  "query strings: first occurrence, '+', escapes, malformed escapes, repeated name",
	  c_query },
	{ "http.no-cors", "HTTP-9", CONF_MUST, 0,
	  "no CORS, X-Powered-By, HSTS, ETag, 304 or redirects", c_no_cors },
	{ "http.body.non-post", "HTTP-10", CONF_MUST, CF_SR,
	  "bodies of non-POST requests are ignored", c_body_ignored },
	{ "http.body.content-type", "HTTP-11", CONF_MUST, CF_SR,
	  "only application/json bodies are JSON; charset and Content-Encoding ignored",
	  c_body_type },
	{ "http.body.empty", "HTTP-12 ROOM-12a", CONF_MUST, 0,
	  "an empty body is {}; a top-level array has no fields", c_body_empty },
	{ "http.body.bad-json", "HTTP-13", CONF_MUST, 0,
	  "malformed JSON, primitives, invalid UTF-8, lone surrogates, deep nesting → bad json",
	  c_body_bad_json },
	{ "http.body.too-large", "HTTP-14", CONF_MUST, 0,
	  "bodies over JSON_BODY_MAX_BYTES → 413, by Content-Length and chunked", c_body_too_large },
	{ "http.body.precedence", "HTTP-15", CONF_MUST, 0,
	  "body errors precede route checks", c_body_precedence },
	{ "http.body.duplicate-keys", "HTTP-16 ROOM-15", CONF_MUST, 0,
	  "duplicate keys: the last wins; unknown keys are dropped", c_body_duplicates },
	{ "http.body.nul", "HTTP-17 ROOM-12d VAL-5 RPT-2", CONF_MUST, CF_SR,
	  "U+0000 fails validated fields and cuts free text", c_body_nul },
	{ "http.json-headers", "HTTP-18", CONF_MUST, 0,
	  "JSON answers: Content-Type with charset, exact Content-Length", c_json_headers },
	{ "http.error-shape", "HTTP-19", CONF_MUST, CF_SR,
	  "every error is JSON with \"error\" as the first key", c_error_shape },
	{ "http.retry-after", "HTTP-20", CONF_MUST, 0,
	  "no Retry-After where the protocol gives none", c_retry_after },
	{ "hdr.security", "HDR-1", CONF_MUST, 0,
	  "security headers on JSON, text, error and SSE responses", c_hdr_security },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
