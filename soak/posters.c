#include "posters.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/http.h"
#include "payload.h"
#include "proto/clock.h"

struct pthr {
	struct posters *p;
	uint32_t first;		/* this thread serves agents first, first + threads, ... */
	pthread_t th;
	bool started;
	struct tally t;
	int64_t end_ns;
};

struct posters {
	struct poster_cfg cfg;
	struct pthr *thr;
	atomic_uint_fast64_t sent;
	atomic_uint running;
	atomic_bool stop;
	atomic_uint_fast64_t *accepted;	/* per room */
	int64_t t0_ns;
	atomic_bool reported;		/* the first failure was printed */
};

static void sleep_until_ns(int64_t t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
	}
}

static void post_one(struct pthr *pt, struct http_client *c, uint32_t agent, uint32_t k,
		     int64_t t_ns)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	struct posters *p = pt->p;
	const struct poster_cfg *cfg = &p->cfg;
	uint32_t room = agent % cfg->n_rooms;
	struct payload pl = { .room = room, .agent = agent, .idx = k, .t_ns = t_ns };
	struct http_resp r;
	char url[640];
	size_t len = 0;
	char *body;

	body = payload_room_body(cfg->keys[room], cfg->room_ids[room], &pl, cfg->pad,
				 cfg->labels ? cfg->labels[agent] : NULL,
				 cfg->signers ? &cfg->signers[agent] : NULL, &len);
	pt->t.sent++;
	atomic_fetch_add_explicit(&p->sent, 1, memory_order_relaxed);
	if (!body) {
		pt->t.errors++;
		return;
	}
	snprintf(url, sizeof(url), "%s/api/rooms/%s/messages", cfg->base, cfg->room_ids[room]);
	if (http_do(c, "POST", url, hdrs, body, len, cfg->timeout_ms, &r) < 0) {
		pt->t.errors++;
		if (!atomic_exchange(&p->reported, true)) {
			fprintf(stderr, "sealroom-soak: POST failed: %s\n", http_client_error(c));
		}
	} else {
		if (cfg->lat)
			latrec_record(cfg->lat, clock_mono_ns() - t_ns);
		if (r.status == 200) {
			pt->t.accepted++;
			atomic_fetch_add_explicit(&p->accepted[room], 1, memory_order_relaxed);
		} else {
			tally_reject(&pt->t, r.status);
			if (!atomic_exchange(&p->reported, true)) {
				fprintf(stderr, "sealroom-soak: POST answered %ld %.200s\n",
					r.status,
					r.body ? r.body : "");
			}
		}
		http_resp_free(&r);
	}
	free(body);
}

static void *poster_main(void *arg)
{
	struct pthr *pt = arg;
	struct posters *p = pt->p;
	const struct poster_cfg *cfg = &p->cfg;
	uint32_t n = 0;
	struct http_client **cl;

	for (uint32_t a = pt->first; a < cfg->agents; a += cfg->threads)
		n++;
	cl = calloc(n ? n : 1, sizeof(struct http_client *));
	if (!cl) {
		pt->t.errors++;
		goto out;
	}
	for (uint32_t j = 0, a = pt->first; j < n; j++, a += cfg->threads) {
		cl[j] = http_client_new(srcips_pick(cfg->ips, cfg->ip_offset + a));
		if (!cl[j]) {
			pt->t.errors++;
			goto out;
		}
	}
	sleep_until_ns(p->t0_ns); /* every thread starts on the same grid */
	for (uint32_t k = 0; k < cfg->per_agent && !atomic_load(&p->stop); k++) {
		for (uint32_t j = 0, a = pt->first; j < n; j++, a += cfg->threads) {
			int64_t t;

			if (cfg->rate > 0) {
				t = p->t0_ns + (int64_t)(((double)k + (double)a / cfg->agents) /
							 cfg->rate * 1e9);
				if (clock_mono_ns() < t)
					sleep_until_ns(t);
				if (atomic_load(&p->stop))
					break;
			} else {
				t = clock_mono_ns();
			}
			post_one(pt, cl[j], a, k, t);
		}
	}
out:
	if (cl) {
		for (uint32_t j = 0; j < n; j++)
			http_client_free(cl[j]);
		free(cl);
	}
	pt->end_ns = clock_mono_ns();
	atomic_fetch_sub(&p->running, 1);
	return NULL;
}

struct posters *posters_start(const struct poster_cfg *cfg)
{
	struct posters *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cfg = *cfg;
	if (p->cfg.threads == 0)
		p->cfg.threads = 1;
	if (p->cfg.threads > cfg->agents)
		p->cfg.threads = cfg->agents ? cfg->agents : 1;
	atomic_init(&p->sent, 0);
	atomic_init(&p->running, 0);
	atomic_init(&p->stop, false);
	atomic_init(&p->reported, false);
	p->thr = calloc(p->cfg.threads, sizeof(*p->thr));
	p->accepted = calloc(cfg->n_rooms ? cfg->n_rooms : 1, sizeof(*p->accepted));
	if (!p->thr || !p->accepted)
		goto fail;
	for (uint32_t r = 0; r < cfg->n_rooms; r++)
		atomic_init(&p->accepted[r], 0);
	/* A little ahead, so open-loop threads start on the same grid. */
	p->t0_ns = clock_mono_ns() + 10 * 1000000LL;
	for (uint32_t i = 0; i < p->cfg.threads; i++) {
		struct pthr *pt = &p->thr[i];

		pt->p = p;
		pt->first = i;
		tally_init(&pt->t);
		atomic_fetch_add(&p->running, 1);
		if (pthread_create(&pt->th, NULL, poster_main, pt) != 0) {
			atomic_fetch_sub(&p->running, 1);
			atomic_store(&p->stop, true);
			break;
		}
		pt->started = true;
	}
	return p;
fail:
	free(p->thr);
	free(p->accepted);
	free(p);
	return NULL;
}

uint64_t posters_sent(struct posters *p)
{
	return atomic_load_explicit(&p->sent, memory_order_relaxed);
}

bool posters_done(struct posters *p)
{
	return atomic_load(&p->running) == 0;
}

int64_t posters_t0_ns(struct posters *p)
{
	return p->t0_ns;
}

void posters_stop(struct posters *p)
{
	atomic_store(&p->stop, true);
}

int64_t posters_join(struct posters *p, struct tally *t, uint64_t *accepted_per_room)
{
	int64_t end = 0;
	bool all = true;

	for (uint32_t i = 0; i < p->cfg.threads; i++) {
		struct pthr *pt = &p->thr[i];

		if (!pt->started) {
			all = false;
			continue;
		}
		pthread_join(pt->th, NULL);
		tally_merge(t, &pt->t);
		if (pt->end_ns > end)
			end = pt->end_ns;
	}
	if (!all)
		t->errors++; /* a thread could not start */
	for (uint32_t r = 0; accepted_per_room && r < p->cfg.n_rooms; r++)
		accepted_per_room[r] += atomic_load(&p->accepted[r]);
	free(p->thr);
	free(p->accepted);
	free(p);
	return end;
}
