/* connections — hold C concurrent SSE subscribers over R rooms, broadcast one sealed message
 * per room, and check every subscriber got its room's message exactly once (DESIGN.md:
 * 10,000 over 100 rooms; relay RSS <= 400 MB, measured with --relay-pid).
 *
 * Load from one address hits the per-IP stream cap (CAP-1, 32 by default): spread the
 * subscribers with --source-ips (e.g. 127.0.0.2-127.0.1.250, 505 addresses: ~20 each), and
 * give the relay --worker-threads above C (DESIGN.md "Relay architecture" 1) and a raised
 * ulimit -n. This driver raises its own RLIMIT_NOFILE to the hard limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fleet.h"
#include "posters.h"
#include "proto/clock.h"
#include "report.h"
#include "scen.h"
#include "scenarios.h"

struct conn_args {
	uint32_t subs, rooms, window;
};

static int conn_flag(void *ud, const char *name, const char *v)
{
	struct conn_args *a = ud;

	if (strcmp(name, "subscribers") == 0)
		return soak_parse_u32("connections", name, v, 1, 1000000, &a->subs);
	if (strcmp(name, "rooms") == 0)
		return soak_parse_u32("connections", name, v, 1, 100000, &a->rooms);
	return soak_parse_u32("connections", name, v, 1, 100000, &a->window);
}

static const struct soak_flag conn_flags[] = {
	{ "subscribers", true },
	{ "rooms", true },
	{ "window", true },
	{ NULL, false },
};

static uint64_t get_delivered(void *ud)
{
	return fleet_delivered(ud);
}

static void conn_run(struct result *r, const struct soak_opts *o, const struct conn_args *a)
{
	char (*ids)[65] = NULL, (*labels)[72] = NULL;
	unsigned char (*keys)[32] = NULL;
	uint64_t *accepted = NULL, expected = 0;
	struct fleet *fl = NULL;
	struct posters *ps;
	struct latrec lat;
	struct ticker tk;
	struct hist *h;
	int64_t t0, t_ready, deadline, hold_until, t_post0, t_last;
	long nofile = soak_raise_nofile();

	/* One socket per subscriber, plus the posters and some slack. */
	if (nofile >= 0 && (uint64_t)nofile < (uint64_t)a->subs + 128) {
		result_fail(r, "RLIMIT_NOFILE is %ld (hard limit); %u subscribers need %u", nofile,
			    a->subs, a->subs + 128);
		return;
	}
	if (latrec_init(&lat) < 0) {
		result_fail(r, "out of memory");
		return;
	}
	if (scen_probe(r, o) < 0)
		goto out;
	accepted = calloc(a->rooms, sizeof(*accepted));
	labels = scen_labels(a->rooms, "soak-a");
	if (!accepted || !labels || scen_rooms_new(a->rooms, &ids, &keys) < 0) {
		result_fail(r, "out of memory");
		goto out;
	}
	ticker_init(&tk, o->quiet, &r->rm);
	/* The broadcaster of room i is agent i: each subscriber tracks rooms x 1 messages. */
	const struct fleet_cfg fc = {
		.base = o->base,
		.n_rooms = a->rooms,
		.room_ids = (const char(*)[65])ids,
		.keys = (const unsigned char(*)[32])keys,
		.subs = a->subs,
		.senders = a->rooms,
		.per_sender = 1,
		.labels = (const char(*)[72])labels,
		.ips = &o->ips,
		.connect_window = a->window,
		.connect_rate = o->rate,
		.recv_buffer_bytes = 4096,
		.connect_timeout_ms = (long)(o->timeout_s * 1000),
		.lat = &lat,
	};
	t0 = clock_mono_ns();
	fl = fleet_start(&fc);
	if (!fl) {
		result_fail(r, "cannot start the subscribers");
		goto out;
	}
	deadline = clock_mono_ms() + (int64_t)(o->timeout_s * 1000);
	while (fleet_ready(fl) + fleet_failed(fl) < a->subs && clock_mono_ms() < deadline) {
		ticker_maybe(&tk, "connections", "ready %u/%u  failed %u", fleet_ready(fl), a->subs,
			     fleet_failed(fl));
		usleep(5000);
	}
	t_ready = clock_mono_ns();
	if (fleet_ready(fl) != a->subs) {
		result_fail(r, "only %u of %u subscribers got ready (SSE-8), %u failed",
			    fleet_ready(fl), a->subs, fleet_failed(fl));
		goto stop;
	}
	result_rate(r, "connects_per_s", (double)a->subs / scen_secs(t0, t_ready));
	/* Hold every stream open (--duration) before the broadcast. */
	hold_until = clock_mono_ms() + (int64_t)(o->duration_s * 1000);
	while (clock_mono_ms() < hold_until) {
		ticker_maybe(&tk, "connections", "holding %u streams", fleet_ready(fl));
		usleep(5000);
	}
	const struct poster_cfg pc = {
		.base = o->base,
		.n_rooms = a->rooms,
		.room_ids = (const char(*)[65])ids,
		.keys = (const unsigned char(*)[32])keys,
		.agents = a->rooms,
		.per_agent = 1,
		.threads = a->rooms < 8 ? a->rooms : 8,
		.pad = o->size,
		.labels = (const char(*)[72])labels,
		.ips = &o->ips,
		.ip_offset = a->subs,
		.timeout_ms = (long)(o->timeout_s * 1000),
	};
	ps = posters_start(&pc);
	if (!ps) {
		result_fail(r, "cannot start the broadcaster");
		goto stop;
	}
	while (!posters_done(ps))
		usleep(1000);
	t_post0 = posters_t0_ns(ps);
	posters_join(ps, &r->t, accepted);
	for (uint32_t i = 0; i < a->rooms; i++) /* subscriber j is in room j % rooms */
		expected += accepted[i] * (a->subs / a->rooms + (i < a->subs % a->rooms));
	scen_drain(&tk, "connections", get_delivered, fl, expected,
		   clock_mono_ms() + (int64_t)(o->timeout_s * 1000));
	usleep(100 * 1000); /* late duplicates, outside any timing */
	t_last = fleet_last_delivery_ns(fl);
	ticker_done(&tk);
	fleet_stop(fl, &r->t, accepted);
	r->duration_s = scen_secs(t0, clock_mono_ns());
	result_rate(r, "broadcast_delivered_per_s",
		    (double)r->t.delivered / scen_secs(t_post0, t_last));
	h = hist_new();
	if (h) {
		latrec_merge_total(&lat, h);
		result_latency(r, "delivery", h);
		hist_free(h);
	}
	goto out;
stop:
	ticker_done(&tk);
	fleet_stop(fl, &r->t, NULL);
	r->duration_s = scen_secs(t0, clock_mono_ns());
out:
	fleet_free(fl);
	latrec_free(&lat);
	free(accepted);
	free(labels);
	free(ids);
	free(keys);
}

int sc_connections(int argc, char **argv)
{
	struct conn_args a = { .subs = 10000, .rooms = 100, .window = 256 };
	const struct soak_cmd cmd = {
		.name = "connections",
		.usage = "Open C SSE subscribers spread over R rooms (subscriber j in room\n"
			 "j % R), hold them, then broadcast one sealed message per room. Exact:\n"
			 "every subscriber gets its room's message once; no stream may fail.\n\n"
			 "  --subscribers C     concurrent SSE streams (default 10000)\n"
			 "  --rooms R           rooms (default 100)\n"
			 "  --window W          streams connecting at once (default 256)\n"
			 "  (--duration S: hold time before the broadcast, default 0)\n"
			 "  (--rate R: new streams per second, default unpaced)\n"
			 "  (--source-ips: needed beyond 32 streams per address, CAP-1)\n",
		.common = OPT_RATE | OPT_DURATION | OPT_SOURCE_IPS,
		.flags = conn_flags,
		.extra = conn_flag,
		.ud = &a,
	};
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "connections", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	result_param_num(&r, "subscribers", a.subs);
	result_param_num(&r, "rooms", a.rooms);
	result_param_num(&r, "window", a.window);
	result_param_num(&r, "hold_s", o.duration_s);
	result_param_num(&r, "rate", o.rate);
	conn_run(&r, &o, &a);
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
