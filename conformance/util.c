/* util — what cases share: checks and their grading, HTTP/SSE/WebSocket/raw helpers with the
 * run's client IP, sealed room messages, identities and signatures. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "crypto/auth.h"
#include "crypto/envelope.h"
#include "crypto/ids.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"
#include "proto/jschema.h"
#include "proto/json.h"

int64_t conf_now(void)
{
	return clock_mono_ms();
}

long conf_ms(const struct conf_run *r, long ms)
{
	double s = r->ctx->o.timeout_scale;

	return s > 0 ? (long)((double)ms * s) : ms;
}

/* ---- detail text ----------------------------------------------------------------------- */

/* strerror is not thread-safe (cases run on several threads); strerror_r into the
 * caller's buffer is. */
static const char *errstr(int e, char *buf, size_t cap)
{
	return strerror_r(e, buf, cap); /* GNU: returns the message to use */
}

/* Printable, one-line excerpt of n bytes: controls and invalid bytes as \xNN, cut at max. */
static void excerpt(char *out, size_t cap, const char *s, size_t n, size_t max)
{
	size_t k = 0, i;

	for (i = 0; i < n && k + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max) {
			k += (size_t)snprintf(out + k, cap - k, "...(%zu bytes)", n);
			break;
		}
		if (c < 0x20 || c == 0x7f)
			k += (size_t)snprintf(out + k, cap - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	out[k < cap ? k : cap - 1] = '\0';
}

static void vadd(struct cbuf *b, const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return;
	cbuf_adds(b, s);
	free(s);
}

static void add(struct cbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct cbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vadd(b, fmt, ap);
	va_end(ap);
}

static void raise_verdict(struct conf_run *r, enum conf_verdict v)
{
	if (v > r->verdict)
		r->verdict = v;
}

bool conf_check(struct conf_run *r, bool ok, unsigned ck, const char *fmt, ...)
{
	enum conf_verdict v;
	const struct conf_opts *o = &r->ctx->o;
	va_list ap;

	r->checks++;
	if (ok)
		return true;
	r->failed++;
	v = conf_grade(r->cs->level, r->cs->flags, ck, o->profile, o->strict);
	raise_verdict(r, v);
	if (r->detail.len > 64 * 1024)
		return false; /* enough detail for one case */
	add(&r->detail, "    %-13s ", conf_verdict_name(v));
	va_start(ap, fmt);
	vadd(&r->detail, fmt, ap);
	va_end(ap);
	if ((r->cs->flags & CF_SR) || (ck & CK_SR))
		add(&r->detail, "  [(sealroom)]");
	add(&r->detail, "\n");
	if (r->last_sent[0])
		add(&r->detail, "        sent: %s\n", r->last_sent);
	if (r->last_got[0])
		add(&r->detail, "        got:  %s\n", r->last_got);
	return false;
}

void conf_info(struct conf_run *r, const char *fmt, ...)
{
	va_list ap;

	raise_verdict(r, CONF_INFORMATIONAL);
	add(&r->detail, "    INFO          ");
	va_start(ap, fmt);
	vadd(&r->detail, fmt, ap);
	va_end(ap);
	add(&r->detail, "\n");
}

void conf_unimplemented(struct conf_run *r, const char *fmt, ...)
{
	va_list ap;

	raise_verdict(r, CONF_UNIMPLEMENTED);
	add(&r->detail, "    UNIMPLEMENTED ");
	va_start(ap, fmt);
	vadd(&r->detail, fmt, ap);
	va_end(ap);
	add(&r->detail, "\n");
}

void conf_note(struct conf_run *r, const char *fmt, ...)
{
	va_list ap;

	add(&r->notes, "    note: ");
	va_start(ap, fmt);
	vadd(&r->notes, fmt, ap);
	va_end(ap);
	add(&r->notes, "\n");
}

void conf_sent(struct conf_run *r, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	excerpt(r->last_sent, sizeof(r->last_sent), tmp, strlen(tmp), 300);
	r->last_got[0] = '\0';
}

void conf_got(struct conf_run *r, const char *fmt, ...)
{
	va_list ap;
	char tmp[1024];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	excerpt(r->last_got, sizeof(r->last_got), tmp, strlen(tmp), 300);
}

/* ---- ids ------------------------------------------------------------------------------- */

void conf_fresh_ip(struct conf_run *r, char out[48])
{
	unsigned k = atomic_fetch_add(&r->ctx->ip_counter, 1);

	snprintf(out, 48, "10.%u.%u.%u", r->ctx->ip_octet, 1 + (k / 250) % 250, 1 + k % 250);
}

void conf_room_id(char out[16])
{
	out[0] = 'C';
	out[1] = 'F';
	crypto_random_id(out + 2, 10, NULL);
}

void conf_handle(char out[16])
{
	out[0] = 'c';
	out[1] = 'f';
	crypto_random_id(out + 2, 12, "abcdefghijklmnopqrstuvwxyz0123456789");
}

bool conf_base_is_loopback(const struct conf_ctx *ctx)
{
	const char *h = ctx->o.host;

	return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 || strcmp(h, "localhost") == 0;
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static bool has_header(const char *const *hdrs, const char *name)
{
	size_t n = strlen(name);

	for (; hdrs && *hdrs; hdrs++)
		if (strncasecmp(*hdrs, name, n) == 0 && ((*hdrs)[n] == ':' || (*hdrs)[n] == ';'))
			return true;
	return false;
}

/* hdrs plus the run's X-Forwarded-For, into a NULL-terminated array (max 70 entries). */
static const char **with_ip(const struct conf_run *r, const char *const *hdrs, char xff[80],
			    const char *arr[72])
{
	size_t n = 0;

	for (; hdrs && *hdrs && n < 70; hdrs++)
		arr[n++] = *hdrs;
	arr[n] = NULL;
	if (r->ip[0] && !has_header(arr, "X-Forwarded-For")) {
		snprintf(xff, 80, "X-Forwarded-For: %s", r->ip);
		arr[n++] = xff;
	}
	arr[n] = NULL;
	return arr;
}

void conf_resp_free(struct conf_resp *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->headers);
	cJSON_Delete(resp->json);
	memset(resp, 0, sizeof(*resp));
}

const char *conf_header(const struct conf_resp *resp, const char *name, char *buf, size_t cap)
{
	size_t len;
	const char *v;

	if (!resp->headers)
		return NULL;
	v = http_headers_find(resp->headers, resp->headers_len, name, &len);
	if (!v)
		return NULL;
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return buf;
}

static void describe_resp(struct conf_run *r, const struct conf_resp *resp)
{
	char ct[128], body[700], tmp[1024];

	if (!conf_header(resp, "Content-Type", ct, sizeof(ct)))
		snprintf(ct, sizeof(ct), "(no Content-Type)");
	excerpt(body, sizeof(body), resp->body ? resp->body : "", resp->body_len, 240);
	snprintf(tmp, sizeof(tmp), "%ld [%s] %s", resp->status, ct, body);
	memcpy(r->last_got, tmp, sizeof(r->last_got) - 1);
	r->last_got[sizeof(r->last_got) - 1] = '\0';
}

int conf_req(struct conf_run *r, const char *method, const char *target, const char *const *hdrs,
	     const char *body, size_t len, struct conf_resp *out)
{
	char url[2048], xff[80], tmp[1024], b[400];
	const char *arr[72];
	struct http_resp hr;
	long timeout = r->req_timeout_ms ? r->req_timeout_ms : conf_ms(r, 20000);
	int64_t t0;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", r->ctx->o.base, target);
	with_ip(r, hdrs, xff, arr);
	excerpt(tmp, sizeof(tmp), target, strlen(target), 200);
	excerpt(b, sizeof(b), body ? body : "", body ? len : 0, 200);
	{
		char all[1600];

		snprintf(all, sizeof(all), "%s %s%s%s%s%s%s", method, tmp, r->ip[0] ? " (XFF " : "",
			 r->ip, r->ip[0] ? ")" : "", body && len ? " body: " : "",
			 body && len ? b : "");
		memcpy(r->last_sent, all, sizeof(r->last_sent) - 1);
		r->last_sent[sizeof(r->last_sent) - 1] = '\0';
	}
	r->last_got[0] = '\0';
	t0 = conf_now();
	for (;;) {
		char ra[16];
		long secs;

		if (http_do(r->http, method, url, arr, body, len, timeout, &hr) < 0) {
			conf_got(r, "transport error: %s", http_client_error(r->http));
			conf_check(r, false, 0, "HTTP-1: the relay answers the request (%s %s)",
				   method, target);
			return -1;
		}
		/* One client IP shared by every case: pace to the relay's buckets instead of
		 * failing cases that are not about rate limits (rate limiting precedes every
		 * signature and replay check, INV-10, so resending is safe). */
		if (hr.status != 429 || r->ip[0] || r->expect_refusals || !hr.body ||
		    strcmp(hr.body, "{\"error\":\"rate limited\"}") != 0 ||
		    conf_now() - t0 > conf_ms(r, 60000))
			break;
		secs = 1;
		{
			size_t vl = 0;
			const char *v = http_headers_find(hr.headers, hr.headers_len, "Retry-After", &vl);

			if (v && vl < sizeof(ra)) {
				memcpy(ra, v, vl);
				ra[vl] = '\0';
				secs = strtol(ra, NULL, 10);
			}
		}
		http_resp_free(&hr);
		usleep((useconds_t)((secs > 0 && secs <= 10 ? secs : 1) * 1000000L));
	}
	out->ms = conf_now() - t0;
	out->status = hr.status;
	out->body = hr.body;
	out->body_len = hr.body_len;
	out->headers = hr.headers;
	out->headers_len = hr.headers_len;
	if (out->body && out->body_len)
		out->json = json_parse(out->body, out->body_len, 64, false);
	describe_resp(r, out);
	return 0;
}

int conf_get(struct conf_run *r, const char *target, struct conf_resp *out)
{
	return conf_req(r, "GET", target, NULL, NULL, 0, out);
}

int conf_post_json(struct conf_run *r, const char *target, const char *json, struct conf_resp *out)
{
	static const char *const ct[] = { "Content-Type: application/json", NULL };

	return conf_req(r, "POST", target, ct, json, json ? strlen(json) : 0, out);
}

bool conf_expect_status(struct conf_run *r, const struct conf_resp *resp, long status,
			unsigned ck, const char *rule)
{
	return conf_check(r, resp->status == status, ck, "%s: status %ld", rule, status);
}

bool conf_expect_body(struct conf_run *r, const struct conf_resp *resp, const char *exact,
		      unsigned ck, const char *rule)
{
	size_t n = strlen(exact);

	return conf_check(r, resp->body && resp->body_len == n && memcmp(resp->body, exact, n) == 0,
			  ck, "%s: body exactly %s", rule, exact);
}

bool conf_expect_error(struct conf_run *r, const struct conf_resp *resp, long status,
		       const char *text, unsigned ck_status, unsigned ck_body, const char *rule)
{
	char want[1024], esc[900];
	size_t n = json_escape(esc, sizeof(esc) - 1, text, strlen(text));
	bool ok;

	esc[n] = '\0';
	snprintf(want, sizeof(want), "{\"error\":%s}", esc);
	ok = conf_check(r, resp->status == status, ck_status, "%s: status %ld", rule, status);
	if (!ok)
		return false;
	return conf_expect_body(r, resp, want, ck_body, rule);
}

bool conf_expect_retry_after(struct conf_run *r, const struct conf_resp *resp, int secs,
			     unsigned ck, const char *rule)
{
	char v[64];
	const char *h = conf_header(resp, "Retry-After", v, sizeof(v));
	int count = resp->headers ? http_headers_count(resp->headers, resp->headers_len,
						       "Retry-After")
				  : 0;

	if (secs < 0)
		return conf_check(r, h == NULL, ck, "%s: no Retry-After header here (HTTP-20)", rule);
	return conf_check(r, h && count == 1 && strtol(h, NULL, 10) == secs &&
				     strspn(h, "0123456789") == strlen(h),
			  ck, "%s: Retry-After: %d", rule, secs);
}

bool conf_expect_component(struct conf_run *r, const cJSON *v, const char *component, unsigned ck,
			   const char *rule)
{
	const cJSON *sch = r->ctx->spec ? jschema_component(r->ctx->spec, component) : NULL;
	char err[512];

	if (!sch) {
		conf_note(r, "no schema %s in the spec; shape not validated", component);
		return true;
	}
	if (!v)
		return conf_check(r, false, ck | CK_SR, "%s: a JSON body matching schema %s", rule,
				  component);
	if (jschema_validate(r->ctx->spec, sch, v, err, sizeof(err)) == 0)
		return conf_check(r, true, 0, "schema");
	return conf_check(r, false, ck | CK_SR, "%s: matches schema %s (%s)", rule, component, err);
}

bool conf_expect_schema(struct conf_run *r, const struct conf_resp *resp, const char *path_tpl,
			const char *method, unsigned ck, const char *rule)
{
	const cJSON *sch = r->ctx->spec ? jschema_response(r->ctx->spec, path_tpl, method,
							   (int)resp->status)
					: NULL;
	char err[512];

	if (!sch) {
		conf_note(r, "spec has no JSON schema for %s %s %ld", method, path_tpl, resp->status);
		return true;
	}
	if (!resp->json)
		return conf_check(r, false, ck | CK_SR, "%s: a JSON body per spec %s %s %ld", rule,
				  method, path_tpl, resp->status);
	if (jschema_validate(r->ctx->spec, sch, resp->json, err, sizeof(err)) == 0)
		return conf_check(r, true, 0, "schema");
	return conf_check(r, false, ck | CK_SR, "%s: body matches the spec schema of %s %s %ld (%s)",
			  rule, method, path_tpl, resp->status, err);
}

const char *conf_keys(const cJSON *obj, char *buf, size_t cap)
{
	const cJSON *it;
	size_t k = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, obj) {
		int n = snprintf(buf + k, cap - k, "%s%s", k ? "," : "", it->string ? it->string : "");

		if (n < 0 || (size_t)n >= cap - k)
			break;
		k += (size_t)n;
	}
	return buf;
}

int64_t conf_jint(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

const char *conf_jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool conf_jhas(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key) != NULL;
}

bool conf_jeq(const cJSON *o, const char *key, const char *want)
{
	const char *v = conf_jstr(o, key);

	return v && want && strcmp(v, want) == 0;
}

char *conf_jprint(const cJSON *v)
{
	return v ? cJSON_PrintUnformatted(v) : NULL;
}

cJSON *conf_get_json(struct conf_run *r, const char *target, long *status)
{
	struct conf_resp resp;
	cJSON *j;

	if (status)
		*status = 0;
	if (conf_get(r, target, &resp) < 0)
		return NULL;
	if (status)
		*status = resp.status;
	j = resp.json;
	resp.json = NULL;
	conf_resp_free(&resp);
	return j;
}

bool conf_is_uuid(const char *s)
{
	static const char tpl[] = "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx";
	size_t i;

	if (!s || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		char c = s[i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');

		if (tpl[i] == '-' || tpl[i] == '4') {
			if (c != tpl[i])
				return false;
		} else if (tpl[i] == 'y') {
			if (c != '8' && c != '9' && c != 'a' && c != 'b')
				return false;
		} else if (!hex) {
			return false;
		}
	}
	return true;
}

bool conf_check_message(struct conf_run *r, const cJSON *m, enum conf_msg_kind kind)
{
	static const char *const stored[] = { "seq", "id", "sender", "sender_verified",
					      "ciphertext", "nonce", "ts", NULL };
	static const char *const claim[] = { "seq", "id", "sender", "ciphertext", "nonce", "ts",
					     "sender_verified", NULL };
	const char *const *want = kind == CONF_MSG_CLAIM ? claim : stored;
	const char *rule = kind == CONF_MSG_STORED ? "ROOM-17"
			   : kind == CONF_MSG_EVENT ? "ROOM-18"
						    : "ROOM-19";
	const cJSON *it = m ? m->child : NULL;
	char keys[512];
	bool ok = true;
	int i;

	conf_keys(m, keys, sizeof(keys));
	conf_got(r, "keys %s", keys);
	if (kind == CONF_MSG_EVENT) {
		ok &= conf_check(r, it && it->string && strcmp(it->string, "type") == 0 &&
					    cJSON_IsString(it) && strcmp(it->valuestring, "message") == 0,
				 0, "ROOM-18: a message event starts with \"type\":\"message\"");
		it = it ? it->next : NULL;
	} else if (kind == CONF_MSG_STORED && it && it->string && strcmp(it->string, "type") == 0) {
		ok &= conf_check(r, cJSON_IsString(it) && strcmp(it->valuestring, "message") == 0,
				 CK_SR, "ROOM-17: a stored object MAY start with \"type\":\"message\"");
		it = it->next;
	}
	for (i = 0; want[i]; i++, it = it ? it->next : NULL)
		if (!it || !it->string || strcmp(it->string, want[i]) != 0)
			break;
	ok &= conf_check(r, want[i] == NULL, 0, "%s: keys in the order %s%s[,ttl_ms][,reply_to]",
			 rule, kind == CONF_MSG_EVENT ? "type," : "",
			 kind == CONF_MSG_CLAIM ? "seq,id,sender,ciphertext,nonce,ts,sender_verified"
						: "seq,id,sender,sender_verified,ciphertext,nonce,ts");
	if (it && it->string && strcmp(it->string, "ttl_ms") == 0)
		it = it->next;
	if (it && it->string && strcmp(it->string, "reply_to") == 0)
		it = it->next;
	if (want[i] == NULL) {
		bool only_bytes = it && it->string && strcmp(it->string, "_bytes") == 0 && !it->next;

		ok &= conf_check(r, it == NULL || only_bytes, 0,
				 "%s: nothing after ts except ttl_ms and reply_to", rule);
		ok &= conf_check(r, !conf_jhas(m, "_bytes"), CK_SR, "ROOM-20: no _bytes key");
	}
	ok &= conf_check(r, json_is_int(cJSON_GetObjectItemCaseSensitive(m, "seq")) &&
				    json_is_int(cJSON_GetObjectItemCaseSensitive(m, "ts")) &&
				    conf_is_uuid(conf_jstr(m, "id")) && conf_jstr(m, "sender") &&
				    cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(m, "sender_verified")) &&
				    conf_jstr(m, "ciphertext") && conf_jstr(m, "nonce"),
			 0, "%s: seq and ts integers, id a UUID, sender/ciphertext/nonce strings, "
			    "sender_verified a boolean", rule);
	ok &= conf_expect_component(r, m,
				    kind == CONF_MSG_STORED ? "Message"
				    : kind == CONF_MSG_EVENT ? "MessageEvent"
							     : "ClaimEnvelope",
				    0, rule);
	return ok;
}

/* ---- rooms ----------------------------------------------------------------------------- */

void conf_room_new(struct conf_room *room)
{
	conf_room_id(room->id);
	env_room_key_new(room->key);
}

char *conf_sealed_body(const struct conf_room *room, const char *plain, const char *extra)
{
	char *ct = NULL, *out = NULL;
	char nonce[33];

	if (env_room_seal(room->key, plain, strlen(plain), &ct, nonce) < 0)
		return NULL;
	if (asprintf(&out, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s}", ct, nonce,
		     extra ? extra : "") < 0)
		out = NULL;
	free(ct);
	return out;
}

bool conf_new_client(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;

	if (o->use_xff) {
		conf_fresh_ip(r, r->ip);
		return true;
	}
	if (o->n_source_ips > 1) {
		unsigned k = atomic_fetch_add(&r->ctx->src_counter, 1);

		r->src = o->source_ips[k % (unsigned)o->n_source_ips];
		http_client_free(r->http);
		r->http = http_client_new(r->src);
		return r->http != NULL;
	}
	return false;
}

void conf_settle_buckets(struct conf_run *r)
{
	const struct conf_opts *o = &r->ctx->o;
	double a = o->rl_refill > 0 ? (double)o->rl_cap / o->rl_refill : 0;
	double b = o->global_rl_refill > 0 ? (double)o->global_rl_cap / o->global_rl_refill : 0;
	double s = (a > b ? a : b) + 0.2;

	if (o->use_xff || s > 30)
		return;
	conf_note(r, "waited %.1f s for the shared rate-limit buckets to refill", s);
	usleep((useconds_t)(s * 1e6)); /* pacing to the relay's refill rate */
}

/* After a 429: continue as another client (fresh XFF IP, or the next --source-ips address),
 * or wait out Retry-After when neither is available. */
static void rotate_identity(struct conf_run *r, const struct conf_resp *resp)
{
	if (!conf_new_client(r)) {
		char v[32];
		long secs = conf_header(resp, "Retry-After", v, sizeof(v)) ? strtol(v, NULL, 10) : 1;
		struct timespec ts = { secs > 0 && secs < 60 ? secs : 1, 0 };

		nanosleep(&ts, NULL); /* pacing to the relay's refill, not synchronisation */
	}
}

int64_t conf_post_msg(struct conf_run *r, const struct conf_room *room, const char *plain,
		      const char *extra, char id[40])
{
	char target[128];
	char *body = conf_sealed_body(room, plain, extra);
	int64_t deadline = conf_now() + conf_ms(r, 60000), seq = -1;

	if (!body) {
		conf_check(r, false, 0, "CRYPTO-2: the runner could not seal a message");
		return -1;
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/messages", room->id);
	for (;;) {
		struct conf_resp resp;

		if (conf_post_json(r, target, body, &resp) < 0)
			break;
		if (resp.status == 429 && conf_now() < deadline && r->http) {
			rotate_identity(r, &resp);
			conf_resp_free(&resp);
			if (!r->http)
				break;
			continue;
		}
		if (conf_check(r, resp.status == 200 && json_is_int(cJSON_GetObjectItemCaseSensitive(
								  resp.json, "seq")),
			       0, "ROOM-POST-10: a valid sealed message is accepted: 200 {\"ok\":true,\"id\",\"seq\"}")) {
			seq = conf_jint(resp.json, "seq", -1);
			if (id) {
				const char *s = conf_jstr(resp.json, "id");

				snprintf(id, 40, "%s", s ? s : "");
			}
		}
		conf_resp_free(&resp);
		break;
	}
	free(body);
	return seq;
}

long conf_post_many(struct conf_run *r, const struct conf_room *room, long n, const char *prefix,
		    int64_t *seqs)
{
	long i;
	char plain[128];

	for (i = 0; i < n; i++) {
		int64_t s;

		snprintf(plain, sizeof(plain), "%s%ld", prefix, i);
		s = conf_post_msg(r, room, plain, NULL, NULL);
		if (s < 0)
			return i;
		if (seqs)
			seqs[i] = s;
	}
	return n;
}

char *conf_open_msg(const struct conf_room *room, const cJSON *msg)
{
	const char *ct = conf_jstr(msg, "ciphertext"), *nonce = conf_jstr(msg, "nonce");
	char *plain = NULL;
	size_t len;

	if (!ct || !nonce)
		return NULL;
	if (env_room_open(room->key, ct, strlen(ct), nonce, strlen(nonce), &plain, &len) < 0)
		return NULL;
	return plain;
}

/* ---- identities ------------------------------------------------------------------------ */

char *conf_register_body(const struct crypto_identity *id, int64_t ts, const char *meta)
{
	char msg[512], sig[89], *out = NULL;

	if (sigstr_register(msg, sizeof(msg), id->handle, strlen(id->handle), ts, id->box_pub_b64,
			    strlen(id->box_pub_b64), id->sign_pub_b64, strlen(id->sign_pub_b64)) < 0 ||
	    crypto_sign_b64(id, msg, strlen(msg), sig) < 0)
		return NULL;
	if (asprintf(&out,
		     "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,"
		     "\"register_sig\":\"%s\"%s%s}",
		     id->handle, id->box_pub_b64, id->sign_pub_b64, (long long)ts, sig,
		     meta ? ",\"meta\":" : "", meta ? meta : "") < 0)
		out = NULL;
	return out;
}

int conf_register(struct conf_run *r, struct crypto_identity *id)
{
	char handle[16];
	char *body;
	struct conf_resp resp;
	bool ok;

	conf_handle(handle);
	if (crypto_identity_new(id, handle) < 0)
		return -1;
	body = conf_register_body(id, clock_now_ms(), NULL);
	if (!body)
		return -1;
	if (conf_post_json(r, "/api/identity/register", body, &resp) < 0) {
		free(body);
		return -1;
	}
	free(body);
	ok = conf_check(r, resp.status == 201, 0,
			"ID-REG-15: registering a fresh identity answers 201 (needed by this case)");
	conf_resp_free(&resp);
	return ok ? 0 : -1;
}

void conf_auth_header(const struct crypto_identity *id, const char *method, const char *target,
		      char out[320])
{
	int n = snprintf(out, 320, "Authorization: ");

	if (auth_header(out + n, 320 - (size_t)n, id, method, target, clock_now_ms(), NULL) < 0)
		out[n] = '\0';
}

int conf_sign_fields(const struct crypto_identity *id, const char *room_id, const char *ct,
		     int64_t ts, const char *nonce, char *out, size_t cap)
{
	char msg[512], sig[89], n[25];

	if (!nonce) {
		crypto_random_nonce_b64url(n);
		nonce = n;
	}
	if (sigstr_room_msg(msg, sizeof(msg), room_id, ts, nonce, strlen(nonce), ct, strlen(ct)) < 0 ||
	    crypto_sign_b64(id, msg, strlen(msg), sig) < 0)
		return -1;
	if ((size_t)snprintf(out, cap,
			     ",\"sender_handle\":\"%s\",\"sender_ts\":%lld,\"sender_nonce\":\"%s\","
			     "\"sender_sig\":\"%s\"",
			     id->handle, (long long)ts, nonce, sig) >= cap)
		return -1;
	return 0;
}

char *conf_signed_body(const struct crypto_identity *id, const struct conf_room *room,
		       const char *plain, const char *extra)
{
	char *ct = NULL, *out = NULL;
	char nonce[33], fields[512];

	if (env_room_seal(room->key, plain, strlen(plain), &ct, nonce) < 0)
		return NULL;
	if (conf_sign_fields(id, room->id, ct, clock_now_ms(), NULL, fields, sizeof(fields)) == 0 &&
	    asprintf(&out, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s%s}", ct, nonce, fields,
		     extra ? extra : "") < 0)
		out = NULL;
	free(ct);
	return out;
}

char *conf_dm_body(const struct crypto_identity *to, const struct crypto_identity *from,
		   const char *plain, const char *extra)
{
	char *ct = NULL, *out = NULL;
	char nonce[33], eph[45], sigf[400] = "";

	if (env_dm_seal(to->box_pk, plain, strlen(plain), &ct, nonce, eph) < 0)
		return NULL;
	if (from) {
		char msg[512], sig[89];
		int64_t ts = clock_now_ms();

		if (sigstr_dm(msg, sizeof(msg), to->handle, from->handle, strlen(from->handle), ts, ct,
			      strlen(ct), nonce, strlen(nonce), eph, strlen(eph)) < 0 ||
		    crypto_sign_b64(from, msg, strlen(msg), sig) < 0) {
			free(ct);
			return NULL;
		}
		snprintf(sigf, sizeof(sigf), ",\"from_handle\":\"%s\",\"from_ts\":%lld,\"from_sig\":\"%s\"",
			 from->handle, (long long)ts, sig);
	}
	if (asprintf(&out, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"%s%s}", ct,
		     nonce, eph, sigf, extra ? extra : "") < 0)
		out = NULL;
	free(ct);
	return out;
}

int64_t conf_dm_send(struct conf_run *r, const struct crypto_identity *to,
		     const struct crypto_identity *from, const char *plain, char id[40])
{
	char target[128];
	char *body = conf_dm_body(to, from, plain, NULL);
	struct conf_resp resp;
	int64_t seq = -1;

	if (!body)
		return -1;
	snprintf(target, sizeof(target), "/api/dm/%s", to->handle);
	if (conf_post_json(r, target, body, &resp) == 0) {
		if (conf_check(r, resp.status == 200 &&
					  json_is_int(cJSON_GetObjectItemCaseSensitive(resp.json, "seq")),
			       0, "DM-6: a valid DM is accepted: 200 {\"ok\":true,\"id\",\"seq\"}")) {
			seq = conf_jint(resp.json, "seq", -1);
			if (id)
				snprintf(id, 40, "%s", conf_jstr(resp.json, "id") ? conf_jstr(resp.json, "id") : "");
		}
		conf_resp_free(&resp);
	}
	free(body);
	return seq;
}

/* ---- streams --------------------------------------------------------------------------- */

struct sse_conn *conf_sse(struct conf_run *r, const char *target, const char *const *hdrs)
{
	char url[2048], xff[80], err[256];
	const char *arr[72];
	struct sse_conn *c;

	snprintf(url, sizeof(url), "%s%s", r->ctx->o.base, target);
	with_ip(r, hdrs, xff, arr);
	conf_sent(r, "GET %s (SSE%s%s)", target, r->ip[0] ? ", XFF " : "", r->ip);
	err[0] = '\0';
	c = sse_open_ex(url, arr, r->src, conf_ms(r, 10000), err, sizeof(err));
	if (c && sse_conn_status(c) == 429 && !r->expect_refusals && !r->ip[0]) {
		int64_t deadline = conf_now() + r->ctx->o.keepalive_ms + conf_ms(r, 3000);

		while (c && sse_conn_status(c) == 429 && conf_now() < deadline) {
			sse_close(c);
			usleep(200000); /* closed streams of earlier cases are found dead at keepalives */
			c = sse_open_ex(url, arr, r->src, conf_ms(r, 10000), err, sizeof(err));
		}
	}
	if (!c) {
		conf_got(r, "transport error: %s", err);
		conf_check(r, false, 0, "SSE-3: the relay answers an event-stream request");
	} else {
		size_t n;
		const char *body = sse_conn_raw(c, &n);

		conf_got(r, "%ld %s", sse_conn_status(c), sse_conn_status(c) == 200 ? "(stream)" : body);
	}
	return c;
}

int conf_sse_json(struct sse_conn *c, long timeout_ms, cJSON **out, struct sse_event_copy *raw)
{
	struct sse_event_copy ev;
	int rc = sse_next_event(c, &ev, timeout_ms);

	*out = NULL;
	if (rc != 1)
		return rc;
	*out = json_parse(ev.data, ev.data_len, 64, false);
	if (raw)
		*raw = ev;
	else
		sse_event_copy_free(&ev);
	return *out ? 1 : -1;
}

cJSON *conf_sse_until(struct sse_conn *c, const char *type, long timeout_ms, int *skipped)
{
	int64_t deadline = conf_now() + timeout_ms;

	for (;;) {
		cJSON *ev = NULL;
		long left = (long)(deadline - conf_now());
		int rc;
		const char *t;

		if (left < 0)
			return NULL;
		rc = conf_sse_json(c, left, &ev, NULL);
		if (rc == 0 || (rc < 0 && !ev && sse_conn_error(c)))
			return NULL;
		if (rc < 0) {
			cJSON_Delete(ev);
			if (sse_wait_end(c, 0))
				return NULL;
			continue;
		}
		t = conf_jstr(ev, "type");
		if (t && strcmp(t, type) == 0)
			return ev;
		if (skipped && t && strcmp(t, "message") == 0)
			(*skipped)++;
		cJSON_Delete(ev);
	}
}

int conf_ws(struct conf_run *r, const char *target, const char *const *hdrs, struct ws_conn **out,
	    int *status, char **body)
{
	char url[2048], xff[80];
	const char *arr[72];
	int st = 0, rc;

	snprintf(url, sizeof(url), "ws://%s%s", r->ctx->o.base + 7, target);
	with_ip(r, hdrs, xff, arr);
	conf_sent(r, "GET %s (WebSocket upgrade%s%s)", target, r->ip[0] ? ", XFF " : "", r->ip);
	rc = ws_connect(url, arr, r->src, conf_ms(r, 10000), out, &st, body);
	if (status)
		*status = st;
	conf_got(r, "%s (status %d)", rc == 0 ? "101 upgraded" : "not upgraded", st);
	return rc;
}

int conf_ws_json(struct ws_conn *ws, long timeout_ms, cJSON **out, int *close_code)
{
	int64_t deadline = conf_now() + timeout_ms;

	*out = NULL;
	for (;;) {
		struct ws_msg m;
		long left = (long)(deadline - conf_now());
		enum ws_recv_result t;

		t = ws_recv(ws, &m, left > 0 ? left : 0);
		switch (t) {
		case WS_RECV_TEXT:
		case WS_RECV_BINARY:
			*out = json_parse(m.data, m.len, 64, false);
			ws_msg_free(&m);
			return *out ? 1 : -2;
		case WS_RECV_PONG:
			ws_msg_free(&m);
			continue;
		case WS_RECV_CLOSE:
			if (close_code)
				*close_code = m.close_code;
			ws_msg_free(&m);
			return -1;
		case WS_RECV_TIMEOUT:
			return 0;
		default:
			if (close_code)
				*close_code = 1006;
			return -1;
		}
	}
}

cJSON *conf_ws_until(struct ws_conn *ws, const char *type, long timeout_ms, int *skipped)
{
	int64_t deadline = conf_now() + timeout_ms;

	for (;;) {
		cJSON *ev = NULL;
		long left = (long)(deadline - conf_now());
		int rc;
		const char *t;

		if (left < 0)
			return NULL;
		rc = conf_ws_json(ws, left, &ev, NULL);
		if (rc == 0 || rc == -1)
			return NULL;
		if (rc < 0)
			continue;
		t = conf_jstr(ev, "type");
		if (t && strcmp(t, type) == 0)
			return ev;
		if (skipped && t && strcmp(t, "message") == 0)
			(*skipped)++;
		cJSON_Delete(ev);
	}
}

/* ---- raw sockets ----------------------------------------------------------------------- */

int conf_raw_connect(struct conf_run *r)
{
	int fd = raw_connect(r->ctx->o.host, r->ctx->o.port, r->src, conf_ms(r, 5000));
	char eb[128];

	if (fd < 0) {
		conf_got(r, "connect failed: %s", errstr(errno, eb, sizeof(eb)));
		conf_check(r, false, 0, "HTTP-1: the relay accepts TCP connections");
	}
	return fd;
}

int conf_raw_park(struct conf_run *r, const char *method, const char *target, const char *ip,
		  const char *extra_headers)
{
	char req[2048];
	int fd = conf_raw_connect(r);

	if (fd < 0)
		return -1;
	if (!ip)
		ip = r->ip;
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s%s\r\n", method, target,
		 r->ctx->o.host, r->ctx->o.port, ip && ip[0] ? "X-Forwarded-For: " : "",
		 ip && ip[0] ? ip : "", ip && ip[0] ? "\r\n" : "", extra_headers ? extra_headers : "");
	if (raw_sends(fd, req, clock_mono_ms() + conf_ms(r, 5000)) < 0) {
		close(fd);
		conf_check(r, false, 0, "HTTP-1: the relay accepts a request");
		return -1;
	}
	return fd;
}

bool conf_raw_parked(int fd, long ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&p, 1, (int)ms);
	} while (n < 0 && errno == EINTR);
	return n == 0;
}

int conf_raw_answers(const int *fds, int n, long ms, bool *answered, struct raw_resp *first)
{
	struct pollfd *p = calloc((size_t)n + 1, sizeof(*p));
	int64_t deadline = conf_now() + ms;
	int count = 0, i;
	bool have_first = false;

	if (first)
		memset(first, 0, sizeof(*first)); /* freeable whatever happens below */
	if (!p)
		return -1;
	for (i = 0; i < n; i++) {
		p[i].fd = fds[i];
		p[i].events = POLLIN;
		answered[i] = false;
	}
	for (;;) {
		long left = (long)(deadline - conf_now());
		int k;

		if (left <= 0)
			break;
		k = poll(p, (nfds_t)n, (int)left);
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			struct raw_resp rr;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			p[i].fd = -1; /* poll ignores negative fds */
			answered[i] = true;
			count++;
			if (raw_read_response(fds[i], NULL, false, clock_mono_ms() + 1000, &rr) == 0) {
				if (first && !have_first) {
					*first = rr;
					have_first = true;
				} else {
					raw_resp_free(&rr);
				}
			}
		}
	}
	free(p);
	return count;
}

int conf_raw_read(int fd, long timeout_ms, struct raw_resp *out)
{
	return raw_read_response(fd, NULL, false, clock_mono_ms() + timeout_ms, out);
}

int conf_raw_exchange(struct conf_run *r, const char *req, size_t len, bool head, long timeout_ms,
		      struct raw_resp *out, const char *rule)
{
	int fd = conf_raw_connect(r);
	int64_t deadline = clock_mono_ms() + timeout_ms;
	char b[400], eb[128];

	excerpt(b, sizeof(b), req, len, 300);
	conf_sent(r, "(raw) %s", b);
	r->last_got[0] = '\0';
	if (fd < 0)
		return -1;
	(void)raw_send(fd, req, len, deadline); /* the relay may answer early and close */
	if (raw_read_response(fd, NULL, head, deadline, out) < 0) {
		conf_got(r, "no parsable response: %s", errstr(errno, eb, sizeof(eb)));
		close(fd);
		conf_check(r, false, 0, "%s: the relay answers", rule);
		return -1;
	}
	close(fd);
	excerpt(b, sizeof(b), out->body ? out->body : "", out->body_len, 240);
	conf_got(r, "%d %s", out->status, b);
	return 0;
}

bool conf_expect_healthy(struct conf_run *r, const char *rule)
{
	struct conf_resp resp;
	bool ok;

	if (conf_get(r, "/api/health", &resp) < 0)
		return false;
	ok = conf_check(r, resp.status == 200, 0, "%s: GET /api/health still answers 200", rule);
	conf_resp_free(&resp);
	return ok;
}
