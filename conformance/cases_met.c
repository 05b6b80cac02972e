/* met.* — PROTOCOL.md §15.2 (sealroom): bearer-only metrics. The token is the operator's: pass
 * --metrics-token for the checks that need it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "proto/json.h"

static const char *const met_keys[] = {
	"started_at", "uptime_seconds", "ts", "rooms_created_total", "rooms_evicted_total",
	"messages_relayed_total", "bytes_relayed_total", "http_posts_total", "http_2xx", "http_4xx",
	"http_429", "http_5xx", "ws_connects_total", "ws_disconnects_total", "sse_connects_total",
	"sse_disconnects_total", "longpoll_waits_total", "longpoll_wakes_total",
	"longpoll_timeouts_total", "identities_registered_total", "dm_sent_total", "dm_waits_total",
	"bug_reports_total", "replay_cache_full_total", "active_rooms", "active_subs",
	"parked_waiters", "identities", "room_buffer_bytes", "dm_buffer_bytes",
	"replay_cache_entries", NULL,
};

static long get_with(struct conf_run *r, const char *target, const char *auth, struct conf_resp *out)
{
	const char *hdrs[2] = { auth, NULL };

	if (conf_req(r, "GET", target, auth ? hdrs : NULL, NULL, 0, out) < 0)
		return -1;
	return out->status;
}

static bool token_or_info(struct conf_run *r)
{
	if (!r->ctx->o.metrics_token) {
		conf_info(r, "needs the operator's METRICS_TOKEN: pass --metrics-token");
		return false;
	}
	return true;
}

/* MET-1, MET-2, INV-13. */
static void c_auth(struct conf_run *r)
{
	static const char *const targets[] = { "/metrics", "/api/metrics", NULL };
	const char *tok = r->ctx->o.metrics_token;
	const char *const *t;
	char h[400], q[300];
	struct conf_resp resp;

	for (t = targets; *t; t++) {
		if (get_with(r, *t, NULL, &resp) < 0)
			return;
		if (!tok) {
			conf_check(r, (resp.status == 503 && resp.body &&
				       !strcmp(resp.body, "{\"error\":\"metrics disabled (no METRICS_TOKEN configured)\"}")) ||
					      (resp.status == 401 && resp.body &&
					       !strcmp(resp.body, "{\"error\":\"unauthorised\"}")),
				   0, "MET-2: without a token → 503 metrics disabled (no METRICS_TOKEN "
				      "configured), or 401 unauthorised when one is configured");
			conf_resp_free(&resp);
			continue;
		}
		conf_expect_error(r, &resp, 401, "unauthorised", 0, 0, "MET-2: a missing token → 401");
		conf_resp_free(&resp);
		snprintf(h, sizeof(h), "Authorization: Bearer %s-wrong", tok);
		get_with(r, *t, h, &resp);
		conf_expect_error(r, &resp, 401, "unauthorised", 0, 0, "MET-2: a wrong token → 401");
		conf_resp_free(&resp);
		snprintf(h, sizeof(h), "Authorization: bearer %s", tok);
		get_with(r, *t, h, &resp);
		conf_expect_error(r, &resp, 401, "unauthorised", 0, 0,
				  "MET-1: the prefix is exactly \"Bearer \"");
		conf_resp_free(&resp);
		snprintf(q, sizeof(q), "%s?token=%s", *t, tok);
		get_with(r, q, NULL, &resp);
		conf_expect_error(r, &resp, 401, "unauthorised", 0, 0, "MET-1: no ?token=");
		conf_resp_free(&resp);
		snprintf(h, sizeof(h), "Authorization: Bearer %s", tok);
		get_with(r, *t, h, &resp);
		{
			char v[64];

			conf_check(r, resp.status == 200 && conf_header(&resp, "Cache-Control", v, sizeof(v)) &&
					      strcmp(v, "no-store") == 0,
				   0, "MET-1/MET-2: the right token → 200 with Cache-Control: no-store");
		}
		conf_resp_free(&resp);
	}
}

/* MET-3: the JSON metrics, keys in order, all integers (started_at aside). */
static void c_json(struct conf_run *r)
{
	char h[400];
	struct conf_resp resp;
	const cJSON *it;
	int i = 0, bad = 0;

	if (!token_or_info(r))
		return;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", r->ctx->o.metrics_token);
	if (get_with(r, "/api/metrics", h, &resp) < 0)
		return;
	for (it = resp.json ? resp.json->child : NULL; it; it = it->next, i++) {
		if (!met_keys[i] || !it->string || strcmp(it->string, met_keys[i]) != 0) {
			conf_got(r, "key #%d is %s, expected %s", i + 1, it->string ? it->string : "?",
				 met_keys[i] ? met_keys[i] : "(end)");
			bad++;
			break;
		}
		if (i > 0 && !json_is_int(it))
			bad++;
	}
	conf_check(r, resp.status == 200 && bad == 0 && met_keys[i] == NULL, 0,
		   "MET-3: started_at, uptime_seconds, ts, the counters, then the gauges, in order, "
		   "all integers");
	conf_expect_schema(r, &resp, "/api/metrics", "get", 0, "MET-3");
	conf_resp_free(&resp);
}

/* MET-4: the Prometheus rendering. */
static void c_prom(struct conf_run *r)
{
	char h[400], v[128], name[96];
	struct conf_resp resp;
	int i, missing = 0;

	if (!token_or_info(r))
		return;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", r->ctx->o.metrics_token);
	if (get_with(r, "/metrics", h, &resp) < 0)
		return;
	conf_check(r, resp.status == 200 && conf_header(&resp, "Content-Type", v, sizeof(v)) &&
			      strcmp(v, "text/plain; version=0.0.4; charset=utf-8") == 0,
		   0, "MET-1: text/plain; version=0.0.4; charset=utf-8");
	/* The counters and gauges (index 3 on); started_at, uptime_seconds and ts are not
	 * metrics of their own. */
	for (i = 3; met_keys[i]; i++) {
		if (strncmp(met_keys[i], "http_", 5) == 0)
			continue;
		snprintf(name, sizeof(name), "# TYPE sealroom_%s ", met_keys[i]);
		if (!resp.body || !strstr(resp.body, name)) {
			conf_got(r, "missing %s", name);
			missing++;
		}
		snprintf(name, sizeof(name), "# HELP sealroom_%s ", met_keys[i]);
		if (!resp.body || !strstr(resp.body, name))
			missing++;
	}
	conf_check(r, missing == 0, 0, "MET-4: sealroom_<key> with # HELP and # TYPE");
	conf_check(r, resp.body && strstr(resp.body, "sealroom_http_responses_total{class=\"2xx\"}") &&
			      strstr(resp.body, "sealroom_http_responses_total{class=\"4xx\"}") &&
			      strstr(resp.body, "sealroom_http_responses_total{class=\"429\"}") &&
			      strstr(resp.body, "sealroom_http_responses_total{class=\"5xx\"}"),
		   0, "MET-4: http_* as sealroom_http_responses_total{class=...}");
	conf_resp_free(&resp);
}

/* LOG-4, MET-5: counters move with traffic. */
static void c_counters(struct conf_run *r)
{
	char h[400];
	struct conf_resp a, b, resp;
	struct conf_room room;
	int64_t seq;

	if (!token_or_info(r))
		return;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", r->ctx->o.metrics_token);
	if (get_with(r, "/api/metrics", h, &a) < 0)
		return;
	conf_room_new(&room);
	seq = conf_post_msg(r, &room, "count me", NULL, NULL);
	if (conf_get(r, "/nope", &resp) == 0)
		conf_resp_free(&resp);
	if (get_with(r, "/api/metrics", h, &b) == 0 && seq > 0) {
#define D(k) (conf_jint(b.json, k, 0) - conf_jint(a.json, k, 0))
		conf_got(r, "deltas: messages %lld, posts %lld, bytes %lld, 2xx %lld, 4xx %lld, rooms "
			    "created %lld",
			 (long long)D("messages_relayed_total"), (long long)D("http_posts_total"),
			 (long long)D("bytes_relayed_total"), (long long)D("http_2xx"),
			 (long long)D("http_4xx"), (long long)D("rooms_created_total"));
		conf_check(r, D("messages_relayed_total") >= 1 && D("http_posts_total") >= 1 &&
				      D("bytes_relayed_total") >= 24 && D("rooms_created_total") >= 1,
			   0, "MET-5: an accepted HTTP post counts messages, posts, bytes; its room "
			      "counts as created");
		conf_check(r, D("http_2xx") >= 2 && D("http_4xx") >= 1, 0,
			   "LOG-4: every finished response is counted once by class");
#undef D
		conf_resp_free(&b);
	}
	conf_resp_free(&a);
}

const struct conf_case conf_cases_met[] = {
	{ "met.auth", "MET-1 MET-2 INV-13", CONF_MUST, CF_SR,
	  "metrics need exactly \"Bearer <METRICS_TOKEN>\"; disabled without one", c_auth },
	{ "met.json", "MET-3", CONF_MUST, CF_SR, "the JSON metrics: keys in order, integers",
	  c_json },
	{ "met.prom", "MET-4 MET-1", CONF_MUST, CF_SR, "the Prometheus rendering", c_prom },
	{ "met.counters", "LOG-4 MET-5 INV-4", CONF_MUST, CF_SR, "counters move with traffic",
	  c_counters },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
