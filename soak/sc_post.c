/* post — request throughput: C keep-alive connections each POSTing N sealed messages, closed
 * loop, no subscribers (DESIGN.md "Performance targets": POST, 32 keep-alive connections,
 * >= 40,000 req/s). Latency is each POST's answer time. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "posters.h"
#include "proto/clock.h"
#include "report.h"
#include "scen.h"
#include "scenarios.h"

struct post_args {
	uint32_t conns, messages;
};

static int post_flag(void *ud, const char *name, const char *v)
{
	struct post_args *a = ud;

	if (strcmp(name, "connections") == 0)
		return soak_parse_u32("post", name, v, 1, 5000, &a->conns);
	return soak_parse_u32("post", name, v, 1, 100000000, &a->messages);
}

static const struct soak_flag post_flags[] = {
	{ "connections", true },
	{ "messages", true },
	{ NULL, false },
};

static void post_run(struct result *r, const struct soak_opts *o, const struct post_args *a)
{
	char (*ids)[65] = NULL, (*labels)[72] = NULL;
	unsigned char (*keys)[32] = NULL;
	uint64_t *accepted = calloc(a->conns, sizeof(*accepted));
	struct posters *ps;
	struct latrec lat;
	struct ticker tk;
	struct hist *h;
	int64_t t_end;

	if (latrec_init(&lat) < 0) {
		result_fail(r, "out of memory");
		free(accepted);
		return;
	}
	labels = scen_labels(a->conns, "soak-a");
	if (!accepted || !labels || scen_rooms_new(a->conns, &ids, &keys) < 0) {
		result_fail(r, "out of memory");
		goto out;
	}
	if (scen_probe(r, o) < 0)
		goto out;
	ticker_init(&tk, o->quiet, &r->rm);
	/* Connection i posts into its own room (ROOM-POST-3 buckets are per room). */
	const struct poster_cfg pc = {
		.base = o->base,
		.n_rooms = a->conns,
		.room_ids = (const char(*)[65])ids,
		.keys = (const unsigned char(*)[32])keys,
		.agents = a->conns,
		.per_agent = a->messages,
		.threads = a->conns,
		.rate = o->rate,
		.pad = o->size,
		.labels = (const char(*)[72])labels,
		.signers = NULL,
		.ips = &o->ips,
		.timeout_ms = (long)(o->timeout_s * 1000),
		.lat = &lat,
	};
	ps = posters_start(&pc);
	if (!ps) {
		result_fail(r, "cannot start the posting threads");
		goto out;
	}
	while (!posters_done(ps)) {
		ticker_maybe(&tk, "post", "sent %llu/%llu", (unsigned long long)posters_sent(ps),
			     (unsigned long long)a->conns * a->messages);
		usleep(5000);
	}
	int64_t t0 = posters_t0_ns(ps);

	t_end = posters_join(ps, &r->t, accepted);
	ticker_done(&tk);
	r->duration_s = scen_secs(t0, t_end);
	result_rate(r, "requests_per_s", (double)r->t.accepted / r->duration_s);
	h = hist_new();
	if (h) {
		latrec_merge_total(&lat, h);
		result_latency(r, "post", h);
		hist_free(h);
	}
out:
	latrec_free(&lat);
	free(accepted);
	free(labels);
	free(ids);
	free(keys);
}

int sc_post(int argc, char **argv)
{
	struct post_args a = { .conns = 32, .messages = 2000 };
	const struct soak_cmd cmd = {
		.name = "post",
		.usage = "C keep-alive connections (one thread each) POST N sealed messages\n"
			 "each into their own room, with nobody subscribed: the relay's request\n"
			 "rate.\n"
			 "Exact: every POST answered 200 (ROOM-POST-10).\n\n"
			 "  --connections C     keep-alive connections (default 32)\n"
			 "  --messages N        POSTs per connection (default 2000)\n"
			 "  (--rate R: POSTs/s per connection, open loop)\n",
		.common = OPT_RATE | OPT_SOURCE_IPS,
		.flags = post_flags,
		.extra = post_flag,
		.ud = &a,
	};
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "post", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	result_param_num(&r, "connections", a.conns);
	result_param_num(&r, "messages", a.messages);
	result_param_num(&r, "rate", o.rate);
	post_run(&r, &o, &a);
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
