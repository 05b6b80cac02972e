#include "bcast.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet.h"
#include "posters.h"
#include "proto/clock.h"
#include "scen.h"

static uint64_t get_delivered(void *ud)
{
	return fleet_delivered(ud);
}

int bcast_run(struct result *r, const struct soak_opts *o, const struct bcast_params *bp)
{
	uint32_t agents = bp->rooms * bp->agents_per_room, subs = bp->rooms * bp->subs_per_room;
	char (*ids)[65] = NULL, (*labels)[72] = NULL;
	unsigned char (*keys)[32] = NULL;
	struct crypto_identity *signers = NULL;
	uint64_t *accepted = NULL, expected = 0;
	struct fleet *fl = NULL;
	struct posters *ps;
	struct latrec lat;
	struct hist *h = NULL;
	struct ticker tk;
	int64_t deadline, t0, t_end, t_last;
	int rc = -1;

	if (latrec_init(&lat) < 0) {
		result_fail(r, "out of memory");
		return -1;
	}
	if (scen_probe(r, o) < 0)
		goto out;
	accepted = calloc(bp->rooms, sizeof(*accepted));
	if (!accepted || scen_rooms_new(bp->rooms, &ids, &keys) < 0) {
		result_fail(r, "out of memory");
		goto out;
	}
	if (o->is_signed) {
		signers = scen_identities(agents, "sk");
		labels = signers ? scen_signed_labels(signers, agents) : NULL;
		if (!labels) {
			result_fail(r, "out of memory");
			goto out;
		}
		if (scen_register(r, o, signers, agents) < 0)
			goto out;
	} else {
		labels = scen_labels(agents, "soak-a");
		if (!labels) {
			result_fail(r, "out of memory");
			goto out;
		}
	}

	ticker_init(&tk, o->quiet, &r->rm);
	struct fleet_cfg fc = {
		.base = o->base,
		.n_rooms = bp->rooms,
		.room_ids = (const char(*)[65])ids,
		.keys = (const unsigned char(*)[32])keys,
		.subs = subs,
		.senders = agents,
		.per_sender = bp->per_agent,
		.labels = (const char(*)[72])labels,
		.expect_verified = o->is_signed,
		.ips = &o->ips,
		.use_cache = bp->cache,
		.connect_timeout_ms = (long)(o->timeout_s * 1000),
		.lat = &lat,
	};
	fl = fleet_start(&fc);
	if (!fl) {
		result_fail(r, "cannot start the subscribers");
		goto out;
	}
	deadline = clock_mono_ms() + (int64_t)(o->timeout_s * 1000);
	while (fleet_ready(fl) + fleet_failed(fl) < subs && clock_mono_ms() < deadline) {
		ticker_maybe(&tk, bp->name, "subscribers ready %u/%u", fleet_ready(fl), subs);
		usleep(2000);
	}
	if (fleet_ready(fl) != subs) {
		result_fail(r, "only %u of %u subscribers got ready (SSE-8)", fleet_ready(fl),
			    subs);
		goto stop;
	}

	struct poster_cfg pc = {
		.base = o->base,
		.n_rooms = bp->rooms,
		.room_ids = (const char(*)[65])ids,
		.keys = (const unsigned char(*)[32])keys,
		.agents = agents,
		.per_agent = bp->per_agent,
		.threads = bp->poster_threads ? bp->poster_threads : agents,
		.rate = o->rate,
		.pad = o->size,
		.labels = (const char(*)[72])labels,
		.signers = signers,
		.ips = &o->ips,
		.ip_offset = subs,
		.timeout_ms = (long)(o->timeout_s * 1000),
	};
	ps = posters_start(&pc);
	if (!ps) {
		result_fail(r, "cannot start the posting agents");
		goto stop;
	}
	while (!posters_done(ps)) {
		ticker_maybe(&tk, bp->name, "sent %llu/%llu  delivered %llu",
			     (unsigned long long)posters_sent(ps),
			     (unsigned long long)agents * bp->per_agent,
			     (unsigned long long)fleet_delivered(fl));
		usleep(2000);
	}
	t0 = posters_t0_ns(ps);
	t_end = posters_join(ps, &r->t, accepted);
	for (uint32_t i = 0; i < bp->rooms; i++)
		expected += accepted[i] * bp->subs_per_room;
	scen_drain(&tk, bp->name, get_delivered, fl, expected,
		   clock_mono_ms() + (int64_t)(o->timeout_s * 1000));
	/* Let late duplicates surface before the books close (not part of any timing). */
	usleep(100 * 1000);
	t_last = fleet_last_delivery_ns(fl);
	ticker_done(&tk);
	fleet_stop(fl, &r->t, accepted);
	r->duration_s = scen_secs(t0, t_last > t_end ? t_last : t_end);
	result_rate(r, "sent_per_s", (double)r->t.sent / scen_secs(t0, t_end));
	result_rate(r, "delivered_per_s", (double)r->t.delivered / r->duration_s);
	h = hist_new();
	if (h) {
		latrec_merge_total(&lat, h);
		result_latency(r, "delivery", h);
	}
	rc = 0;
	goto out;
stop:
	ticker_done(&tk);
	fleet_stop(fl, &r->t, NULL);
out:
	fleet_free(fl);
	hist_free(h);
	latrec_free(&lat);
	free(accepted);
	free(ids);
	free(keys);
	free(labels);
	if (signers) {
		memset(signers, 0, (size_t)agents * sizeof(*signers));
		free(signers);
	}
	return rc;
}
