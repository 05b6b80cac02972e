/* meta.* — PROTOCOL.md §15.1: public meta endpoints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "crypto/hash.h"
#include "proto/clock.h"
#include "proto/json.h"

static bool header_is(const struct conf_resp *resp, const char *name, const char *value)
{
	char v[256];
	const char *h = conf_header(resp, name, v, sizeof(v));

	return value ? h && strcmp(h, value) == 0 : h == NULL;
}

/* META-1 (sealroom): GET / is a short text page. */
static void c_root(struct conf_run *r)
{
	struct conf_resp resp;

	if (conf_get(r, "/", &resp) < 0)
		return;
	conf_check(r, resp.status == 200 && header_is(&resp, "Content-Type", "text/plain; charset=utf-8"),
		   0, "META-1: GET / → 200 text/plain; charset=utf-8");
	conf_check(r, resp.body && resp.body_len > 0 && strstr(resp.body, "/api/openapi.json"), 0,
		   "META-1: the text names the relay and contains /api/openapi.json");
	conf_resp_free(&resp);
}

/* META-2: /api/health. */
static void c_health(struct conf_run *r)
{
	struct conf_resp resp;
	char keys[64];
	int64_t now = clock_now_ms();

	if (conf_get(r, "/api/health", &resp) < 0)
		return;
	conf_check(r, resp.status == 200 && strcmp(conf_keys(resp.json, keys, sizeof(keys)), "ok,rooms,ts") == 0 &&
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.json, "ok")) &&
			      json_is_int(cJSON_GetObjectItemCaseSensitive(resp.json, "rooms")) &&
			      conf_jint(resp.json, "rooms", -1) >= 0,
		   0, "META-2: 200 {\"ok\":true,\"rooms\":<n>,\"ts\":<ms>}");
	conf_check(r, llabs(conf_jint(resp.json, "ts", 0) - now) < 10 * 60 * 1000, 0,
		   "META-2: ts is the relay's clock in ms");
	conf_check(r, header_is(&resp, "Cache-Control", NULL), 0, "META-2: no Cache-Control");
	conf_expect_schema(r, &resp, "/api/health", "get", 0, "META-2");
	conf_resp_free(&resp);
}

static bool iso_ms(const char *s)
{
	static const char tpl[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (!s || strlen(s) != 24)
		return false;
	for (i = 0; i < 24; i++)
		if (tpl[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != tpl[i])
			return false;
	return true;
}

static bool hex64(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* META-3 (sealroom): /api/status. */
static void c_status(struct conf_run *r)
{
	struct conf_resp resp;
	char keys[160];
	const cJSON *b;

	if (conf_get(r, "/api/status", &resp) < 0)
		return;
	b = cJSON_GetObjectItemCaseSensitive(resp.json, "build");
	conf_check(r, resp.status == 200 &&
			      strcmp(conf_keys(resp.json, keys, sizeof(keys)),
				     "ok,started_at,uptime_seconds,rooms,version,build,source") == 0,
		   0, "META-3: keys ok, started_at, uptime_seconds, rooms, version, build, source");
	conf_check(r, iso_ms(conf_jstr(resp.json, "started_at")) &&
			      json_is_int(cJSON_GetObjectItemCaseSensitive(resp.json, "uptime_seconds")) &&
			      conf_jstr(resp.json, "version") && conf_jstr(resp.json, "version")[0] &&
			      conf_jstr(resp.json, "source"),
		   0, "META-3: started_at ISO with ms, integer uptime, a version, a source string");
	conf_check(r, strcmp(conf_keys(b, keys, sizeof(keys)), "commit,executable_sha256") == 0 &&
			      conf_jstr(b, "commit") && hex64(conf_jstr(b, "executable_sha256")),
		   0, "META-3: build {commit, executable_sha256 (64 lower-case hex)}");
	conf_check(r, header_is(&resp, "Cache-Control", "public, max-age=30"), 0,
		   "META-3: Cache-Control: public, max-age=30");
	conf_expect_schema(r, &resp, "/api/status", "get", 0, "META-3");
	if (r->ctx->o.relay_bin && b) {
		FILE *f = fopen(r->ctx->o.relay_bin, "rb");
		struct crypto_sha256 h;
		char hex[65], buf[65536];
		size_t n;

		if (f) {
			crypto_sha256_begin(&h);
			while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
				crypto_sha256_update(&h, buf, n);
			fclose(f);
			crypto_sha256_final_hex(&h, hex);
			conf_got(r, "relay reports %s, --relay-bin hashes to %s",
				 conf_jstr(b, "executable_sha256") ? conf_jstr(b, "executable_sha256") : "-", hex);
			conf_check(r, conf_jstr(b, "executable_sha256") &&
					      strcmp(conf_jstr(b, "executable_sha256"), hex) == 0,
				   0, "META-3: executable_sha256 is the SHA-256 of the running executable");
		}
	}
	conf_resp_free(&resp);
}

/* META-4: the OpenAPI document. */
static void c_openapi(struct conf_run *r)
{
	static const char *const paths[] = {
		"/", "/api/health", "/api/status", "/api/openapi.json", "/metrics", "/api/metrics",
		"/api/report", "/api/rooms/{roomId}/messages", "/api/rooms/{roomId}/events",
		"/api/rooms/{roomId}/ws", "/api/rooms/{roomId}/status",
		"/api/rooms/{roomId}/transcript", "/api/rooms/{roomId}/wait",
		"/api/rooms/{roomId}/listening", "/api/rooms/{roomId}/claim",
		"/api/rooms/{roomId}/ack", "/api/identity/register", "/api/identity/{handle}",
		"/api/dm/{handle}", "/api/dm/{handle}/inbox/wait", "/api/dm/{handle}/inbox/{id}", NULL,
	};
	struct conf_resp resp;
	const char *const *p;
	const cJSON *ps;
	int missing = 0;

	if (conf_get(r, "/api/openapi.json", &resp) < 0)
		return;
	conf_check(r, resp.status == 200 && conf_jstr(resp.json, "openapi") &&
			      strncmp(conf_jstr(resp.json, "openapi"), "3.1", 3) == 0,
		   0, "META-4: an OpenAPI 3.1 document");
	ps = cJSON_GetObjectItemCaseSensitive(resp.json, "paths");
	for (p = paths; *p; p++)
		if (!cJSON_GetObjectItemCaseSensitive(ps, *p)) {
			conf_got(r, "no path %s", *p);
			missing++;
		}
	conf_check(r, missing == 0, 0, "META-4: it describes every route of §2.1");
	conf_check(r, header_is(&resp, "Cache-Control", "public, max-age=60"), 0,
		   "META-4: Cache-Control: public, max-age=60");
	conf_resp_free(&resp);
}

/* META-5 (sealroom): what is not provided. */
static void c_not_provided(struct conf_run *r)
{
	static const char *const paths[] = {
		"/api/contact", "/api/metrics/hourly", "/admin/stats", "/stats", "/api/docs", "/docs",
		"/room/ABCD1234", "/sdk/safebot.py", "/llms.txt", "/mcp/server", "/source",
		"/favicon.ico", "/index.html", "/static/app.js", NULL,
	};
	const char *const *p;

	for (p = paths; *p; p++) {
		struct conf_resp resp;

		if (conf_get(r, *p, &resp) < 0)
			return;
		conf_expect_error(r, &resp, 404, "not found", 0, 0, "META-5: not provided → HTTP-4");
		conf_resp_free(&resp);
	}
}

const struct conf_case conf_cases_meta[] = {
	{ "meta.root", "META-1", CONF_MUST, CF_SR, "GET / is a text page naming /api/openapi.json",
	  c_root },
	{ "meta.health", "META-2", CONF_MUST, 0, "GET /api/health", c_health },
	{ "meta.status", "META-3", CONF_MUST, CF_SR,
	  "GET /api/status: version, build (commit, executable hash), source", c_status },
	{ "meta.openapi", "META-4", CONF_MUST, 0, "GET /api/openapi.json describes §2.1", c_openapi },
	{ "meta.not-provided", "META-5", CONF_MUST, CF_SR,
	  "pages and endpoints of the existing relay that sealroom does not serve", c_not_provided },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
