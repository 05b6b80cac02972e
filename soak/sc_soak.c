/* soak — a mixed long run for --duration: a steady background fan-out room (F SSE
 * subscribers, one agent posting at --rate) while P pairs of agents churn through fresh rooms,
 * each room a short dialogue over the next transport (sse -> ws -> longpoll -> ...), with
 * stream drops and resumes (SSE-6, WS-6) along the way. Every message is accounted exactly;
 * per --interval the run reports deliveries, errors, reconnects and latency percentiles, and
 * at the end how far the latency drifted from the first interval to the last.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "dlg.h"
#include "fleet.h"
#include "posters.h"
#include "proto/clock.h"
#include "report.h"
#include "scen.h"
#include "scenarios.h"

struct soak_args {
	uint32_t pairs, turns, subs, reconnect_every;
	double interval_s, turn_rate;
};

struct soak_run {
	const struct soak_opts *o;
	const struct soak_args *a;
	int64_t end_ms;			/* churn stops starting new rooms after this */
	struct latrec dlat;		/* dialogue one-way latency */
	pthread_mutex_t mu;		/* guards t and err */
	struct tally t;			/* churn counts */
	char err[256];
	atomic_uint_fast64_t cycles[3], errors, reconnects, failed_cycles, turns;
};

struct churn {
	struct soak_run *run;
	uint32_t w;
	pthread_t th;
	bool started;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	struct soak_run *run = c->run;
	const struct soak_opts *o = run->o;

	for (uint32_t cycle = 0; clock_mono_ms() < run->end_ms; cycle++) {
		struct dlg_params dp = {
			.xp = (enum xport)((c->w + cycle) % 3),
			.turns = run->a->turns,
			.rate = run->a->turn_rate,
			.pad = o->size,
			.reconnect_every = run->a->reconnect_every,
			.src_a = srcips_pick(&o->ips, 2 * c->w),
			.src_b = srcips_pick(&o->ips, 2 * c->w + 1),
			.timeout_ms = (long)(o->timeout_s * 1000),
			.progress = &run->turns,
		};
		struct tally t;
		char err[256];
		int rc;

		tally_init(&t);
		rc = dlg_run(o->base, &dp, &t, &run->dlat, err, sizeof(err));
		atomic_fetch_add(&run->cycles[dp.xp], 1);
		atomic_fetch_add(&run->errors, t.errors + t.rejected);
		atomic_fetch_add(&run->reconnects, t.reconnects);
		pthread_mutex_lock(&run->mu);
		tally_merge(&run->t, &t);
		if (rc < 0 && !run->err[0])
			snprintf(run->err, sizeof(run->err), "%s room: %.200s", xport_name(dp.xp),
				 err);
		pthread_mutex_unlock(&run->mu);
		if (rc < 0)
			atomic_fetch_add(&run->failed_cycles, 1);
	}
	return NULL;
}

static uint64_t get_delivered(void *ud)
{
	return fleet_delivered(ud);
}

/* ns -> ms rounded to the microsecond. */
static double ns_to_ms(int64_t ns)
{
	return round((double)ns / 1e3) / 1e3;
}

static cJSON *lat_obj(const struct hist *h)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "count", (double)hist_count(h));
	cJSON_AddNumberToObject(o, "p50", ns_to_ms(hist_percentile(h, 50)));
	cJSON_AddNumberToObject(o, "p99", ns_to_ms(hist_percentile(h, 99)));
	cJSON_AddNumberToObject(o, "max", ns_to_ms(hist_max(h)));
	return o;
}

static double ratio(int64_t last, int64_t first)
{
	return first > 0 ? round((double)last / (double)first * 1000.0) / 1000.0 : 0;
}

static void soak_execute(struct result *r, struct soak_run *run)
{
	const struct soak_opts *o = run->o;
	const struct soak_args *a = run->a;
	char (*ids)[65] = NULL, (*labels)[72] = NULL;
	unsigned char (*keys)[32] = NULL;
	uint64_t accepted[1] = { 0 };
	struct churn *ch = calloc(a->pairs ? a->pairs : 1, sizeof(*ch));
	struct hist *fi = hist_new(), *di = hist_new(), *first_f = hist_new(),
		    *first_d = hist_new(), *h = hist_new();
	cJSON *intervals = cJSON_CreateArray();
	struct fleet *fl = NULL;
	struct posters *ps = NULL;
	struct latrec flat;
	struct ticker tk;
	int64_t t0 = clock_mono_ns(), next, t_end;
	uint64_t prev_err = 0, prev_rec = 0;
	int n_int = 0;

	if (latrec_init(&flat) < 0 || !ch || !fi || !di || !first_f || !first_d || !h ||
	    !intervals || scen_rooms_new(1, &ids, &keys) < 0 ||
	    !(labels = scen_labels(1, "soak-a"))) {
		result_fail(r, "out of memory");
		goto out;
	}
	ticker_init(&tk, true, &r->rm);
	/* Background fan-out: F subscribers, one agent at --rate for the whole duration. */
	const struct fleet_cfg fc = {
		.base = o->base,
		.n_rooms = 1,
		.room_ids = (const char(*)[65])ids,
		.keys = (const unsigned char(*)[32])keys,
		.subs = a->subs,
		.senders = 1,
		.per_sender = (uint32_t)(o->rate * o->duration_s) + 1,
		.labels = (const char(*)[72])labels,
		.ips = &o->ips,
		.use_cache = true,
		.connect_timeout_ms = (long)(o->timeout_s * 1000),
		.lat = &flat,
	};
	if (a->subs) {
		fl = fleet_start(&fc);
		if (!fl ||
		    !fleet_wait_ready(fl, clock_mono_ms() + (int64_t)(o->timeout_s * 1000))) {
			result_fail(r, "background subscribers not ready (SSE-8)");
			goto out;
		}
		const struct poster_cfg pc = {
			.base = o->base,
			.n_rooms = 1,
			.room_ids = (const char(*)[65])ids,
			.keys = (const unsigned char(*)[32])keys,
			.agents = 1,
			.per_agent = (uint32_t)(o->rate * o->duration_s),
			.threads = 1,
			.rate = o->rate,
			.pad = o->size,
			.labels = (const char(*)[72])labels,
			.ips = &o->ips,
			.ip_offset = a->subs,
			.timeout_ms = (long)(o->timeout_s * 1000),
		};
		ps = posters_start(&pc);
		if (!ps) {
			result_fail(r, "cannot start the background poster");
			goto out;
		}
	}
	run->end_ms = clock_mono_ms() + (int64_t)(o->duration_s * 1000);
	for (uint32_t w = 0; w < a->pairs; w++) {
		ch[w].run = run;
		ch[w].w = w;
		ch[w].started = pthread_create(&ch[w].th, NULL, churn_main, &ch[w]) == 0;
		if (!ch[w].started)
			result_fail(r, "cannot start churn worker %u", w);
	}
	/* One line and one JSON record per interval. */
	next = clock_mono_ms() + (int64_t)(a->interval_s * 1000);
	for (;;) {
		bool last = clock_mono_ms() >= run->end_ms;

		if (!last && clock_mono_ms() < next) {
			usleep(5000);
			continue;
		}
		relaymon_sample(&r->rm);
		latrec_take_interval(&flat, fi);
		latrec_take_interval(&run->dlat, di);
		uint64_t e = atomic_load(&run->errors), rc = atomic_load(&run->reconnects);
		cJSON *it = cJSON_CreateObject();

		cJSON_AddNumberToObject(it, "t_s",
					round((double)(clock_mono_ns() - t0) / 1e6) / 1e3);
		cJSON_AddItemToObject(it, "fanout", lat_obj(fi));
		cJSON_AddItemToObject(it, "dialogue", lat_obj(di));
		cJSON_AddNumberToObject(it, "errors", (double)(e - prev_err));
		cJSON_AddNumberToObject(it, "reconnects", (double)(rc - prev_rec));
		if (r->rm.alive)
			cJSON_AddNumberToObject(it, "relay_rss_mb",
						round((double)r->rm.rss_peak_kb / 102.4) / 10.0);
		cJSON_AddItemToArray(intervals, it);
		if (!o->quiet)
			fprintf(stderr,
				"[soak %5.0fs] fanout n=%llu p50 %.3f p99 %.3f ms | "
				"dialogue n=%llu p50 %.3f p99 %.3f ms | "
				"errors %llu reconnects %llu\n",
				(double)(clock_mono_ns() - t0) / 1e9,
				(unsigned long long)hist_count(fi),
				(double)hist_percentile(fi, 50) / 1e6,
				(double)hist_percentile(fi, 99) / 1e6,
				(unsigned long long)hist_count(di),
				(double)hist_percentile(di, 50) / 1e6,
				(double)hist_percentile(di, 99) / 1e6,
				(unsigned long long)(e - prev_err),
				(unsigned long long)(rc - prev_rec));
		if (n_int++ == 0) {
			hist_merge(first_f, fi);
			hist_merge(first_d, di);
		}
		prev_err = e;
		prev_rec = rc;
		next += (int64_t)(a->interval_s * 1000);
		if (last)
			break;
	}
	for (uint32_t w = 0; w < a->pairs; w++) {
		if (ch[w].started)
			pthread_join(ch[w].th, NULL);
	}
	if (ps) {
		posters_join(ps, &r->t, accepted);
		ps = NULL;
	}
	t_end = clock_mono_ns();
	if (fl) {
		scen_drain(&tk, "soak", get_delivered, fl,
			   accepted[0] * a->subs, clock_mono_ms() + (int64_t)(o->timeout_s * 1000));
		fleet_stop(fl, &r->t, accepted);
	}
	tally_merge(&r->t, &run->t);
	if (run->err[0])
		result_fail(r, "%llu of %llu rooms broke off; first: %s",
			    (unsigned long long)atomic_load(&run->failed_cycles),
			    (unsigned long long)(atomic_load(&run->cycles[0]) +
						 atomic_load(&run->cycles[1]) +
						 atomic_load(&run->cycles[2])),
			    run->err);
	r->duration_s = scen_secs(t0, t_end);
	cJSON *cyc = cJSON_CreateObject();

	cJSON_AddNumberToObject(cyc, "sse", (double)atomic_load(&run->cycles[XP_SSE]));
	cJSON_AddNumberToObject(cyc, "ws", (double)atomic_load(&run->cycles[XP_WS]));
	cJSON_AddNumberToObject(cyc, "longpoll", (double)atomic_load(&run->cycles[XP_LONGPOLL]));
	result_extra(r, "rooms_by_transport", cyc);
	result_note(r, "rooms churned: sse %llu, ws %llu, longpoll %llu",
		    (unsigned long long)atomic_load(&run->cycles[XP_SSE]),
		    (unsigned long long)atomic_load(&run->cycles[XP_WS]),
		    (unsigned long long)atomic_load(&run->cycles[XP_LONGPOLL]));
	result_rate(r, "delivered_per_s", (double)r->t.delivered / r->duration_s);
	result_rate(r, "dialogue_turns_per_s", (double)atomic_load(&run->turns) / r->duration_s);
	latrec_merge_total(&flat, h);
	result_latency(r, "fanout", h);
	hist_reset(h);
	latrec_merge_total(&run->dlat, h);
	result_latency(r, "dialogue", h);
	/* Drift: the last interval against the first (1.0 = unchanged). */
	cJSON *drift = cJSON_CreateObject();

	cJSON_AddNumberToObject(drift, "fanout_p50_ratio",
				ratio(hist_percentile(fi, 50), hist_percentile(first_f, 50)));
	cJSON_AddNumberToObject(drift, "fanout_p99_ratio",
				ratio(hist_percentile(fi, 99), hist_percentile(first_f, 99)));
	cJSON_AddNumberToObject(drift, "dialogue_p50_ratio",
				ratio(hist_percentile(di, 50), hist_percentile(first_d, 50)));
	cJSON_AddNumberToObject(drift, "dialogue_p99_ratio",
				ratio(hist_percentile(di, 99), hist_percentile(first_d, 99)));
	result_note(r, "drift (last interval / first): fanout p50 x%.2f p99 x%.2f, dialogue p50 "
		    "x%.2f p99 x%.2f over %d intervals",
	       cJSON_GetObjectItem(drift, "fanout_p50_ratio")->valuedouble,
	       cJSON_GetObjectItem(drift, "fanout_p99_ratio")->valuedouble,
	       cJSON_GetObjectItem(drift, "dialogue_p50_ratio")->valuedouble,
	       cJSON_GetObjectItem(drift, "dialogue_p99_ratio")->valuedouble, n_int);
	result_extra(r, "drift", drift);
	result_extra(r, "intervals", intervals);
	intervals = NULL;
out:
	if (ps)
		posters_join(ps, &r->t, accepted);
	fleet_free(fl);
	latrec_free(&flat);
	cJSON_Delete(intervals);
	hist_free(fi);
	hist_free(di);
	hist_free(first_f);
	hist_free(first_d);
	hist_free(h);
	free(ch);
	free(ids);
	free(keys);
	free(labels);
}

static int soak_flag(void *ud, const char *name, const char *v)
{
	struct soak_args *a = ud;

	if (strcmp(name, "pairs") == 0)
		return soak_parse_u32("soak", name, v, 0, 1000, &a->pairs);
	if (strcmp(name, "turns") == 0)
		return soak_parse_u32("soak", name, v, 1, 1000000, &a->turns);
	if (strcmp(name, "subscribers") == 0)
		return soak_parse_u32("soak", name, v, 0, 100000, &a->subs);
	if (strcmp(name, "reconnect-every") == 0)
		return soak_parse_u32("soak", name, v, 0, 1000000, &a->reconnect_every);
	if (strcmp(name, "turn-rate") == 0)
		return soak_parse_double("soak", name, v, 0, 1e6, &a->turn_rate);
	return soak_parse_double("soak", name, v, 0.1, 86400, &a->interval_s);
}

static const struct soak_flag soak_flags[] = {
	{ "pairs", true },	     { "turns", true },	    { "subscribers", true },
	{ "reconnect-every", true }, { "turn-rate", true }, { "interval", true },
	{ NULL, false },
};

int sc_soak(int argc, char **argv)
{
	struct soak_args a = {
		.pairs = 3, .turns = 50, .subs = 10, .reconnect_every = 10,
		.interval_s = 10, .turn_rate = 50,
	};
	const struct soak_cmd cmd = {
		.name = "soak",
		.usage = "A mixed long run: a background fan-out room (F SSE subscribers, one\n"
			 "agent posting at --rate) while P pairs churn through fresh rooms, a\n"
			 "T-turn dialogue each, rotating sse -> ws -> longpoll, streams dropped\n"
			 "and resumed every N turns. Per interval: deliveries, errors,\n"
			 "reconnects, latency; at the end: drift (last interval / first). Exact:\n"
			 "nothing missing, duplicated, out of order or undecryptable, no\n"
			 "rejections or errors.\n\n"
			 "  --pairs P           churning agent pairs (default 3)\n"
			 "  --turns T           turns per room (default 50)\n"
			 "  --turn-rate X       turns per second per pair (default 50; 0 = max)\n"
			 "  --reconnect-every N resume the responder's stream every N turns (10)\n"
			 "  --subscribers F     background fan-out subscribers (10; 0 = none)\n"
			 "  --interval S        report interval in seconds (default 10)\n"
			 "  (--duration S: run length, default 60)\n"
			 "  (--rate R: background messages per second, default 20)\n",
		.common = OPT_RATE | OPT_DURATION | OPT_SOURCE_IPS,
		.flags = soak_flags,
		.extra = soak_flag,
		.ud = &a,
	};
	struct soak_run run;
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (o.duration_s <= 0)
		o.duration_s = 60;
	if (o.rate <= 0)
		o.rate = 20;
	if (crypto_init() < 0 || result_init(&r, "soak", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	r.exact_counts = false; /* the volume depends on timing; compare checks the zeros */
	result_param_num(&r, "duration_s", o.duration_s);
	result_param_num(&r, "rate", o.rate);
	result_param_num(&r, "pairs", a.pairs);
	result_param_num(&r, "turns", a.turns);
	result_param_num(&r, "turn_rate", a.turn_rate);
	result_param_num(&r, "subscribers", a.subs);
	result_param_num(&r, "reconnect_every", a.reconnect_every);
	result_param_num(&r, "interval_s", a.interval_s);
	memset(&run, 0, sizeof(run));
	run.o = &o;
	run.a = &a;
	tally_init(&run.t);
	for (int i = 0; i < 3; i++)
		atomic_init(&run.cycles[i], 0);
	atomic_init(&run.errors, 0);
	atomic_init(&run.reconnects, 0);
	atomic_init(&run.failed_cycles, 0);
	atomic_init(&run.turns, 0);
	if (pthread_mutex_init(&run.mu, NULL) != 0 || latrec_init(&run.dlat) < 0) {
		result_fail(&r, "out of memory");
	} else {
		if (scen_probe(&r, &o) == 0)
			soak_execute(&r, &run);
		latrec_free(&run.dlat);
		pthread_mutex_destroy(&run.mu);
	}
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
