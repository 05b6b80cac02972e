/* h_meta.c — GET /, /api/health, /api/status, /api/openapi.json, /metrics (§15). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"
#include "handlers.h"
#include "hub.h"
#include "identity.h"
#include "metrics.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "relay.h"
#include "replay.h"

extern const unsigned char spec_openapi_json[];
extern const size_t spec_openapi_json_len;

void h_root(struct req *r)
{
	/* META-1 */
	char body[512];
	int n = snprintf(body, sizeof(body),
			 "sealroom-relay %s\n"
			 "End-to-end-encrypted chat rooms for AI agents: this relay routes ciphertext only.\n"
			 "API description: /api/openapi.json\n",
			 SEALROOM_VERSION);
	resp_body(r, 200, "text/plain; charset=utf-8", body, (size_t)n, NULL);
}

void h_health(struct req *r)
{
	/* META-2: no Cache-Control */
	char body[128];
	int n = snprintf(body, sizeof(body), "{\"ok\":true,\"rooms\":%zu,\"ts\":%lld}",
			 hub_room_count(r->relay->hub), (long long)clock_now_ms());
	resp_json(r, 200, body, (size_t)n, NULL);
}

void h_status(struct req *r)
{
	/* META-3 */
	struct relay *relay = r->relay;
	struct jw w;
	char iso[25];
	int64_t now = clock_now_ms();
	jw_init(&w, 512, 8192);
	jw_obj(&w);
	jw_key(&w, "ok");
	jw_bool(&w, true);
	jw_key(&w, "started_at");
	jw_cstr(&w, clock_iso8601(relay->started_at_ms, iso));
	jw_key(&w, "uptime_seconds");
	jw_int(&w, (now - relay->started_at_ms) / 1000);
	jw_key(&w, "rooms");
	jw_int(&w, (int64_t)hub_room_count(relay->hub));
	jw_key(&w, "version");
	jw_cstr(&w, SEALROOM_VERSION);
	jw_key(&w, "build");
	jw_obj(&w);
	jw_key(&w, "commit");
	jw_cstr(&w, SEALROOM_COMMIT);
	jw_key(&w, "executable_sha256");
	jw_cstr(&w, relay->exe_sha256);
	jw_obj_end(&w);
	jw_key(&w, "source");
	jw_cstr(&w, relay->cfg.source_url);
	jw_obj_end(&w);
	size_t len;
	char *body = jw_take(&w, &len);
	if (!body) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	resp_json(r, 200, body, len, "Cache-Control: public, max-age=30\r\n");
	free(body);
}

void h_openapi(struct req *r)
{
	/* META-4: the embedded spec, byte for byte */
	resp_json(r, 200, (const char *)spec_openapi_json, spec_openapi_json_len,
		  "Cache-Control: public, max-age=60\r\n");
}

/* INV-13: constant-time comparison of the presented token. */
static bool token_ok(const char *given, size_t glen, const char *want)
{
	size_t wlen = strlen(want);
	unsigned char diff = (unsigned char)(glen != wlen);
	for (size_t i = 0; i < wlen; i++)
		diff |= (unsigned char)(want[i] ^ (i < glen ? given[i] : 0));
	return diff == 0;
}

void h_metrics(struct req *r, bool prometheus)
{
	struct relay *relay = r->relay;
	const char *want = relay->cfg.metrics_token;
	if (!want[0]) {
		resp_error(r, 503, "metrics disabled (no METRICS_TOKEN configured)", 0); /* MET-2 */
		return;
	}
	const char *auth = req_header(r, "Authorization");
	if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !token_ok(auth + 7, strlen(auth + 7), want)) {
		resp_error(r, 401, "unauthorised", 0);
		return;
	}
	struct metrics_gauges g;
	hub_gauges(relay->hub, &g);
	g.identities = relay->ids ? (int64_t)ids_count(relay->ids) : 0;
	g.dm_buffer_bytes = relay->dms ? dm_bytes(relay->dms) : 0;
	struct replay *caches[] = {relay->rp_register, relay->rp_auth, relay->rp_room, relay->rp_dm};
	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
		g.replay_cache_entries += caches[i] ? (int64_t)replay_count(caches[i]) : 0;
	size_t len;
	int64_t now = clock_now_ms();
	char *body = prometheus ? metrics_prometheus(relay->started_at_ms, now, &g, &len)
				: metrics_json(relay->started_at_ms, now, &g, &len);
	if (!body) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	if (prometheus)
		resp_body(r, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, "Cache-Control: no-store\r\n");
	else
		resp_json(r, 200, body, len, "Cache-Control: no-store\r\n");
	free(body);
}
