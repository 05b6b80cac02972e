#include "metrics.h"

#include <stdio.h>
#include <string.h>

#include "proto/clock.h"
#include "proto/json.h"

_Atomic int64_t metrics_counter[M_NCOUNTERS];

static const char *const counter_names[] = {
#define M_NAME(n) #n,
	METRICS_COUNTERS(M_NAME)
#undef M_NAME
};

void metrics_count_status(int status)
{
	if (status >= 500)
		metrics_inc(M_http_5xx);
	else if (status == 429)
		metrics_inc(M_http_429);
	else if (status >= 400)
		metrics_inc(M_http_4xx);
	else
		metrics_inc(M_http_2xx);
}

static int64_t get(enum metric m)
{
	return atomic_load_explicit(&metrics_counter[m], memory_order_relaxed);
}

char *metrics_json(int64_t started_at_ms, int64_t now_ms, const struct metrics_gauges *g, size_t *len)
{
	struct jw w;
	char iso[25];
	jw_init(&w, 2048, 65536);
	jw_obj(&w);
	jw_key(&w, "started_at");
	jw_cstr(&w, clock_iso8601(started_at_ms, iso));
	jw_key(&w, "uptime_seconds");
	jw_int(&w, (now_ms - started_at_ms) / 1000);
	jw_key(&w, "ts");
	jw_int(&w, now_ms);
	for (int i = 0; i < M_NCOUNTERS; i++) {
		jw_key(&w, counter_names[i]);
		jw_int(&w, get((enum metric)i));
	}
#define M_GAUGE(n) jw_key(&w, #n); jw_int(&w, g->n);
	METRICS_GAUGES(M_GAUGE)
#undef M_GAUGE
	jw_obj_end(&w);
	return jw_take(&w, len);
}

char *metrics_prometheus(int64_t started_at_ms, int64_t now_ms, const struct metrics_gauges *g, size_t *len)
{
	struct jw w; /* used as a plain byte buffer */
	char line[256];
	int n;
	jw_init(&w, 8192, 1 << 20);
	n = snprintf(line, sizeof(line),
		     "# HELP sealroom_uptime_seconds Seconds since the relay started.\n"
		     "# TYPE sealroom_uptime_seconds gauge\nsealroom_uptime_seconds %lld\n",
		     (long long)((now_ms - started_at_ms) / 1000));
	jw_bytes(&w, line, (size_t)n);
	n = snprintf(line, sizeof(line),
		     "# HELP sealroom_http_responses_total HTTP responses by status class.\n"
		     "# TYPE sealroom_http_responses_total counter\n");
	jw_bytes(&w, line, (size_t)n);
	static const struct { enum metric m; const char *cls; } http[] = {
		{M_http_2xx, "2xx"}, {M_http_4xx, "4xx"}, {M_http_429, "429"}, {M_http_5xx, "5xx"}};
	for (size_t i = 0; i < 4; i++) {
		n = snprintf(line, sizeof(line), "sealroom_http_responses_total{class=\"%s\"} %lld\n",
			     http[i].cls, (long long)get(http[i].m));
		jw_bytes(&w, line, (size_t)n);
	}
	for (int i = 0; i < M_NCOUNTERS; i++) {
		if (strncmp(counter_names[i], "http_", 5) == 0 && strcmp(counter_names[i], "http_posts_total") != 0)
			continue; /* MET-4: exposed as sealroom_http_responses_total above */
		n = snprintf(line, sizeof(line), "# HELP sealroom_%s Counter since start.\n# TYPE sealroom_%s counter\nsealroom_%s %lld\n",
			     counter_names[i], counter_names[i], counter_names[i], (long long)get((enum metric)i));
		jw_bytes(&w, line, (size_t)n);
	}
#define M_PROM(name) \
	n = snprintf(line, sizeof(line), "# HELP sealroom_" #name " Current value.\n# TYPE sealroom_" #name " gauge\nsealroom_" #name " %lld\n", (long long)g->name); \
	jw_bytes(&w, line, (size_t)n);
	METRICS_GAUGES(M_PROM)
#undef M_PROM
	return jw_take(&w, len);
}
