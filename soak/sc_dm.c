/* dm — S concurrent senders x D signed DMs to one inbox (DESIGN.md: 500 signed DMs from 20
 * concurrent senders, 100% verified). Every DM is sealed to the receiver's box key
 * (CRYPTO-4) and signed over SIG-4; the receiver long-polls its inbox with request auth
 * (§11.1), checks every envelope is from_verified:true from the right registered sender
 * (DM-2, INV-7), opens it, and accounts it exactly (DM-4: inbox seqs only rise).
 *
 * Envelopes are sealed and signed before the clock starts (from_ts stays well inside the
 * 60 s skew of VAL-7), so the timed part is the relay's work: POST, verify, store, wake.
 * Latency is from each POST's start until the receiver has the envelope.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "crypto/auth.h"
#include "crypto/crypto.h"
#include "payload.h"
#include "proto/clock.h"
#include "report.h"
#include "scen.h"
#include "scenarios.h"

struct dm_args {
	uint32_t senders, dms;
};

struct dm_run {
	const struct soak_opts *o;
	uint32_t senders, dms;
	struct crypto_identity *ids;	/* ids[0] = receiver, ids[1 + s] = sender s */
	char **bodies;			/* senders * dms prebuilt POST bodies */
	size_t *lens;
	atomic_int_fast64_t *sent_ns;	/* per DM: clock_mono_ns() before its POST */
	atomic_uint_fast64_t sent, got;
	atomic_bool stop;
	int64_t t0_ns;
	struct latrec lat;
	/* receiver (its own thread) */
	struct tally rt;
	struct track tr;
	int64_t last_ns;
	char rerr[256];
};

struct dm_sender {
	struct dm_run *run;
	uint32_t s;
	struct tally t;
	int64_t end_ns;
	pthread_t th;
	bool started;
};

static void sleep_until_ns(int64_t t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
	}
}

static void *dm_sender_main(void *arg)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	struct dm_sender *sd = arg;
	struct dm_run *run = sd->run;
	const struct soak_opts *o = run->o;
	struct http_client *c = http_client_new(srcips_pick(&o->ips, 1 + sd->s));
	char url[640];

	snprintf(url, sizeof(url), "%s/api/dm/%s", o->base, run->ids[0].handle);
	sleep_until_ns(run->t0_ns);
	for (uint32_t i = 0; c && i < run->dms && !atomic_load(&run->stop); i++) {
		size_t k = (size_t)sd->s * run->dms + i;
		struct http_resp r;

		if (o->rate > 0) /* open loop: DM i of sender s due at t0 + (i + s/S)/rate */
			sleep_until_ns(run->t0_ns + (int64_t)(((double)i + (double)sd->s /
								 run->senders) / o->rate * 1e9));
		atomic_store(&run->sent_ns[k], clock_mono_ns());
		sd->t.sent++;
		atomic_fetch_add(&run->sent, 1);
		if (http_do(c, "POST", url, hdrs, run->bodies[k], run->lens[k],
			    (long)(o->timeout_s * 1000), &r) < 0) {
			sd->t.errors++;
			fprintf(stderr, "sealroom-soak dm: POST failed: %s\n",
				http_client_error(c));
			continue;
		}
		if (r.status == 200) {
			sd->t.accepted++; /* DM-6 */
		} else {
			tally_reject(&sd->t, r.status);
			if (sd->t.rejected == 1)
				fprintf(stderr, "sealroom-soak dm: POST answered %ld %.200s\n",
					r.status,
					r.body ? r.body : "");
		}
		http_resp_free(&r);
	}
	if (!c)
		sd->t.errors++;
	http_client_free(c);
	sd->end_ns = clock_mono_ns();
	return NULL;
}

/* One envelope of an inbox answer (DM-5). */
static void dm_take(struct dm_run *run, const cJSON *obj, int64_t *after)
{
	struct payload p;
	struct rx m;
	int rc;

	if (rx_from_obj(obj, &m) != RX_MESSAGE) {
		run->rt.unexpected++;
		return;
	}
	if (m.seq > *after)
		*after = m.seq;
	rc = rx_open_dm(run->ids[0].box_sk, &m, &p);
	if (rc == -1) {
		run->rt.decrypt_failed++;
		return;
	}
	/* INV-7 / DM-2: the relay marks a sender verified only after SIG-4 checked out; it must
	 * be the registered handle that sealed this very payload. */
	if (rc != 0 || p.agent >= run->senders || !m.sender || !m.verified ||
	    strcmp(m.sender, run->ids[1 + p.agent].handle) != 0) {
		run->rt.unexpected++;
		return;
	}
	run->rt.verified++;
	if (track_note(&run->tr, p.agent, p.idx, m.seq) != TRACK_NEW)
		return;
	run->last_ns = clock_mono_ns();
	latrec_record(&run->lat,
		      run->last_ns -
			      atomic_load(&run->sent_ns[(size_t)p.agent * run->dms + p.idx]));
	atomic_fetch_add(&run->got, 1);
}

static void *dm_receiver_main(void *arg)
{
	struct dm_run *run = arg;
	const struct soak_opts *o = run->o;
	const struct crypto_identity *me = &run->ids[0];
	struct http_client *c = http_client_new(srcips_pick(&o->ips, 0));
	int64_t after = 0;

	while (c && !atomic_load(&run->stop)) {
		char target[256], url[800], auth[256], hdr[280];
		const char *hdrs[2] = { hdr, NULL };
		struct http_resp r;
		const cJSON *it;
		cJSON *root;

		/* DM-7: request auth over "GET <target> <ts> <nonce>" (SIG-2, AUTH-5) */
		snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=%lld&timeout=2",
			 me->handle, (long long)after);
		if (auth_header(auth, sizeof(auth), me, "GET", target, clock_now_ms(), NULL) < 0) {
			snprintf(run->rerr, sizeof(run->rerr), "cannot sign the inbox request");
			run->rt.errors++;
			break;
		}
		snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		snprintf(url, sizeof(url), "%s%s", o->base, target);
		if (http_do(c, "GET", url, hdrs, NULL, 0, 2000 + (long)(o->timeout_s * 1000), &r) <
		    0) {
			snprintf(run->rerr, sizeof(run->rerr), "inbox wait failed: %s",
				 http_client_error(c));
			run->rt.errors++;
			break;
		}
		if (r.status != 200) {
			snprintf(run->rerr, sizeof(run->rerr), "inbox wait answered %ld %.160s",
				 r.status, r.body ? r.body : "");
			run->rt.errors++;
			http_resp_free(&r);
			break;
		}
		root = cJSON_ParseWithLength(r.body, r.body_len);
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "messages"))
			dm_take(run, it, &after);
		cJSON_Delete(root);
		http_resp_free(&r);
	}
	if (!c)
		run->rt.errors++;
	http_client_free(c);
	return NULL;
}

static uint64_t dm_got(void *ud)
{
	return atomic_load(&((struct dm_run *)ud)->got);
}

static int dm_flag(void *ud, const char *name, const char *v)
{
	struct dm_args *a = ud;

	if (strcmp(name, "senders") == 0)
		return soak_parse_u32("dm", name, v, 1, 1000, &a->senders);
	return soak_parse_u32("dm", name, v, 1, 1000000, &a->dms);
}

static const struct soak_flag dm_flags[] = {
	{ "senders", true },
	{ "dms", true },
	{ NULL, false },
};

static int dm_prepare(struct result *r, struct dm_run *run)
{
	size_t n = (size_t)run->senders * run->dms;
	int64_t ts = clock_now_ms();

	run->ids = scen_identities(run->senders + 1, "dm");
	run->bodies = calloc(n, sizeof(*run->bodies));
	run->lens = calloc(n, sizeof(*run->lens));
	run->sent_ns = calloc(n, sizeof(*run->sent_ns));
	if (!run->ids || !run->bodies || !run->lens || !run->sent_ns ||
	    track_init(&run->tr, run->senders, run->dms) < 0 || latrec_init(&run->lat) < 0) {
		result_fail(r, "out of memory");
		return -1;
	}
	if (scen_register(r, run->o, run->ids, run->senders + 1) < 0)
		return -1;
	for (uint32_t s = 0; s < run->senders; s++) {
		for (uint32_t i = 0; i < run->dms; i++) {
			size_t k = (size_t)s * run->dms + i;
			struct payload p = { .room = 0, .agent = s, .idx = i, .t_ns = 0 };

			atomic_init(&run->sent_ns[k], 0);
			run->bodies[k] = payload_dm_body(run->ids[0].box_pk, run->ids[0].handle, &p,
							 run->o->size, &run->ids[1 + s], ts,
							 &run->lens[k]);
			if (!run->bodies[k]) {
				result_fail(r, "cannot seal DM %zu", k);
				return -1;
			}
		}
	}
	return 0;
}

static void dm_run_free(struct dm_run *run)
{
	size_t n = (size_t)run->senders * run->dms;

	for (size_t k = 0; run->bodies && k < n; k++)
		free(run->bodies[k]);
	free(run->bodies);
	free(run->lens);
	free(run->sent_ns);
	if (run->ids) {
		memset(run->ids, 0, (run->senders + 1) * sizeof(*run->ids));
		free(run->ids);
	}
	track_free(&run->tr);
	latrec_free(&run->lat);
}

static void dm_execute(struct result *r, struct dm_run *run)
{
	const struct soak_opts *o = run->o;
	struct dm_sender *sd = calloc(run->senders, sizeof(*sd));
	pthread_t rth;
	struct ticker tk;
	struct hist *h;
	int64_t t_end = 0;
	uint64_t accepted = 0;
	bool rstarted;

	if (!sd) {
		result_fail(r, "out of memory");
		return;
	}
	ticker_init(&tk, o->quiet, &r->rm);
	run->t0_ns = clock_mono_ns() + 20 * 1000000LL;
	rstarted = pthread_create(&rth, NULL, dm_receiver_main, run) == 0;
	for (uint32_t s = 0; rstarted && s < run->senders; s++) {
		sd[s].run = run;
		sd[s].s = s;
		tally_init(&sd[s].t);
		sd[s].started = pthread_create(&sd[s].th, NULL, dm_sender_main, &sd[s]) == 0;
		if (!sd[s].started)
			r->t.errors++;
	}
	for (uint32_t s = 0; s < run->senders; s++) {
		if (!sd[s].started)
			continue;
		for (;;) {
			struct timespec ts;

			ticker_maybe(&tk, "dm", "sent %llu/%llu  verified %llu",
				     (unsigned long long)atomic_load(&run->sent),
				     (unsigned long long)run->senders * run->dms,
				     (unsigned long long)atomic_load(&run->got));
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 2000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(sd[s].th, NULL, &ts) == 0)
				break;
		}
		tally_merge(&r->t, &sd[s].t);
		accepted += sd[s].t.accepted;
		if (sd[s].end_ns > t_end)
			t_end = sd[s].end_ns;
	}
	if (rstarted) {
		scen_drain(&tk, "dm", dm_got, run, accepted,
			   clock_mono_ms() + (int64_t)(o->timeout_s * 1000));
		atomic_store(&run->stop, true);
		pthread_join(rth, NULL); /* its wait ends within 2 s */
	} else {
		r->t.errors++;
	}
	ticker_done(&tk);
	if (run->rerr[0])
		result_fail(r, "receiver: %s", run->rerr);
	tally_merge(&r->t, &run->rt);
	r->t.expected += accepted;
	r->t.delivered += run->tr.delivered;
	r->t.duplicated += run->tr.duplicated;
	r->t.out_of_order += run->tr.out_of_order;
	if (r->t.verified != run->tr.delivered + run->tr.duplicated)
		result_fail(r, "verified %" PRIu64 " of %" PRIu64 " DMs (DM-2)", r->t.verified,
			    run->tr.delivered + run->tr.duplicated);
	r->duration_s = scen_secs(run->t0_ns, run->last_ns > t_end ? run->last_ns : t_end);
	result_rate(r, "sent_per_s", (double)r->t.accepted / scen_secs(run->t0_ns, t_end));
	result_rate(r, "verified_per_s", (double)run->tr.delivered / r->duration_s);
	h = hist_new();
	if (h) {
		latrec_merge_total(&run->lat, h);
		result_latency(r, "delivery", h);
		hist_free(h);
	}
	free(sd);
}

int sc_dm(int argc, char **argv)
{
	struct dm_args a = { .senders = 20, .dms = 25 };
	const struct soak_cmd cmd = {
		.name = "dm",
		.usage = "S registered senders each send D signed, sealed DMs (SIG-4, CRYPTO-4)\n"
			 "to one registered receiver, which long-polls its inbox with request\n"
			 "auth and verifies and opens every envelope. Exact: S*D delivered, all\n"
			 "verified. The relay needs --inbox-max >= S*D unless the receiver keeps\n"
			 "up (DM-11).\n\n"
			 "  --senders S         concurrent senders (default 20)\n"
			 "  --dms D             DMs per sender (default 25)\n"
			 "  (--rate R: DMs/s per sender, open loop; default closed loop)\n",
		.common = OPT_RATE | OPT_SOURCE_IPS,
		.flags = dm_flags,
		.extra = dm_flag,
		.ud = &a,
	};
	struct dm_run run;
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "dm", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	result_param_num(&r, "senders", a.senders);
	result_param_num(&r, "dms", a.dms);
	result_param_num(&r, "rate", o.rate);
	memset(&run, 0, sizeof(run));
	run.o = &o;
	run.senders = a.senders;
	run.dms = a.dms;
	atomic_init(&run.sent, 0);
	atomic_init(&run.got, 0);
	atomic_init(&run.stop, false);
	tally_init(&run.rt);
	if (scen_probe(&r, &o) == 0 && dm_prepare(&r, &run) == 0)
		dm_execute(&r, &run);
	dm_run_free(&run);
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
