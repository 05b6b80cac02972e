#include "dlg.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/envelope.h"
#include "crypto/ids.h"
#include "payload.h"
#include "proto/clock.h"
#include "report.h"
#include "scen.h"

/* Waits are cut into slices this long so an agent notices when the other one gave up. */
#define DLG_SLICE_MS 200

struct dlg_shared {
	const struct dlg_params *dp;
	const char *base;
	char room[65];
	unsigned char key[32];
	char labels[2][72];
	atomic_int opened;
	atomic_bool abort;
	int64_t t0_ns;		/* open-loop grid start, set when both are open */
	atomic_bool go;
};

struct agent {
	struct dlg_shared *sh;
	int me;			/* 0 = A (initiator), 1 = B (responder) */
	struct peer *peer;
	struct tally t;
	struct track tr;
	struct latrec *lat;
	uint64_t peer_new, echo_new;
	char err[256];
	int rc;
	pthread_t th;
};

static void agent_fail(struct agent *ag, const char *what, const char *detail)
{
	/* A cut message is fine: it is a diagnostic. */
	if (!ag->err[0] && snprintf(ag->err, sizeof(ag->err), "%s %s%s", ag->me ? "B:" : "A:",
				    what, detail ? detail : "") >= (int)sizeof(ag->err))
		ag->err[sizeof(ag->err) - 1] = '\0';
	ag->rc = -1;
	atomic_store(&ag->sh->abort, true);
}

static void sleep_until_ns(int64_t t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000 };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
	}
}

/* Account one received message. Returns true if it is (want_agent, want_idx). */
static bool agent_take(struct agent *ag, const struct peer_msg *m, uint32_t want_agent,
		       uint32_t want_idx)
{
	const struct dlg_shared *sh = ag->sh;
	const struct rx_outcome *o = &m->o;
	enum track_result tr;

	if (o->open == -1) {
		ag->t.decrypt_failed++;
		return false;
	}
	if (o->open != 0 || o->p.room != 0 || o->p.agent > 1 ||
	    strcmp(o->label, sh->labels[o->p.agent]) != 0) {
		ag->t.unexpected++; /* ROOM-14: the label is the sender's */
		return false;
	}
	if (sh->dp->signers) {
		if (!o->verified) {
			ag->t.unexpected++;
			return false;
		}
		ag->t.verified++;
	}
	tr = track_note(&ag->tr, o->p.agent, o->p.idx, o->seq);
	if (tr == TRACK_RANGE) {
		ag->t.unexpected++;
		return false;
	}
	if (tr == TRACK_DUP)
		return false;
	if ((int)o->p.agent == ag->me) {
		ag->echo_new++;
		if (sh->dp->xp == XP_WS)
			ag->t.accepted++; /* WS-16: the echo is the acknowledgement */
	} else {
		ag->peer_new++;
	}
	return o->p.agent == want_agent && o->p.idx == want_idx;
}

/* Receive until message (want_agent, want_idx) arrived; *recv_ns = its arrival, *sent_ns =
 * the send time its payload carries. */
static int agent_wait(struct agent *ag, uint32_t want_agent, uint32_t want_idx, int64_t *recv_ns,
		      int64_t *sent_ns)
{
	const struct dlg_params *dp = ag->sh->dp;
	int64_t deadline = clock_mono_ms() + dp->timeout_ms;
	char what[64];

	for (;;) {
		struct peer_msg m;
		int64_t left = deadline - clock_mono_ms();
		int r;

		if (atomic_load(&ag->sh->abort))
			return -1;
		if (left <= 0) {
			snprintf(what, sizeof(what), "%s message %u", want_agent ? "B's" : "A's",
				 want_idx);
			ag->t.errors++;
			agent_fail(ag, "timed out waiting for ", what);
			return -1;
		}
		r = peer_next(ag->peer, &m, left < DLG_SLICE_MS ? (long)left : DLG_SLICE_MS);
		if (r == 0)
			continue;
		if (r < 0) {
			/* A dropped stream resumes after the last seq (SSE-6, WS-6). */
			char why[256];

			snprintf(why, sizeof(why), "%s", peer_error(ag->peer));
			if (dp->xp == XP_LONGPOLL || peer_reconnect(ag->peer) < 0) {
				ag->t.errors++;
				agent_fail(ag, "stream failed: ", why);
				return -1;
			}
			ag->t.reconnects++;
			continue;
		}
		if (m.type == RX_ERROR) {
			/* WS-11..15: our frame was refused */
			tally_reject(&ag->t, m.code);
			agent_fail(ag, "error frame from the relay", NULL);
			return -1;
		}
		if (agent_take(ag, &m, want_agent, want_idx)) {
			*recv_ns = m.recv_ns;
			*sent_ns = m.o.p.t_ns;
			return 0;
		}
	}
}

static int agent_send(struct agent *ag, uint32_t idx, int64_t t_ns)
{
	struct dlg_shared *sh = ag->sh;
	const struct dlg_params *dp = sh->dp;
	struct payload pl = { .room = 0, .agent = (uint32_t)ag->me, .idx = idx, .t_ns = t_ns };
	size_t len = 0;
	long status;
	int64_t seq;
	char *body = payload_room_body(sh->key, sh->room, &pl, dp->pad, sh->labels[ag->me],
				       dp->signers ? &dp->signers[ag->me] : NULL, &len);
	char st[32];
	int rc;

	ag->t.sent++;
	if (!body) {
		ag->t.errors++;
		agent_fail(ag, "out of memory", NULL);
		return -1;
	}
	rc = peer_post(ag->peer, body, len, &status, &seq);
	free(body);
	if (rc < 0) {
		ag->t.errors++;
		agent_fail(ag, "", peer_error(ag->peer));
		return -1;
	}
	if (dp->xp == XP_WS)
		return 0;
	if (status != 200) {
		tally_reject(&ag->t, status);
		snprintf(st, sizeof(st), "%ld", status);
		agent_fail(ag, "POST answered ", st);
		return -1;
	}
	ag->t.accepted++;
	/* Strict alternation: nothing can sit between the other agent's last message and this
	 * one, so long-poll may continue after our own seq (its echo is not fetched). */
	peer_skip_to(ag->peer, seq);
	return 0;
}

/* sse, ws: every own message must come back too (ROOM-16). */
static void agent_drain_echoes(struct agent *ag)
{
	int64_t got, sent;

	if (ag->sh->dp->xp == XP_LONGPOLL || ag->rc < 0 || atomic_load(&ag->sh->abort) ||
	    ag->echo_new >= ag->t.sent || ag->t.sent == 0)
		return;
	agent_wait(ag, (uint32_t)ag->me, (uint32_t)(ag->t.sent - 1), &got, &sent);
}

static void *agent_main(void *arg)
{
	struct agent *ag = arg;
	struct dlg_shared *sh = ag->sh;
	const struct dlg_params *dp = sh->dp;
	const struct peer_cfg pc = {
		.xp = dp->xp,
		.base = sh->base,
		.room = sh->room,
		.key = sh->key,
		.source_ip = ag->me ? dp->src_b : dp->src_a,
		.timeout_ms = dp->timeout_ms,
	};
	char err[256];
	int64_t got, sent;

	if (peer_open(&pc, 0, &ag->peer, err, sizeof(err)) < 0) {
		ag->t.errors++;
		agent_fail(ag, "cannot connect: ", err);
	}
	atomic_fetch_add(&sh->opened, 1);
	while (!atomic_load(&sh->go) && !atomic_load(&sh->abort))
		usleep(200);
	if (ag->rc < 0 || atomic_load(&sh->abort))
		return NULL;

	for (uint32_t i = 0; i < dp->turns; i++) {
		if (dp->stop && atomic_load(dp->stop))
			break;
		if (ag->me == 0) {
			int64_t t = clock_mono_ns();

			if (dp->rate > 0) {
				t = sh->t0_ns + (int64_t)((double)i / dp->rate * 1e9);
				sleep_until_ns(t);
			}
			if (agent_send(ag, i, t) < 0 || agent_wait(ag, 1, i, &got, &sent) < 0)
				break;
			/* rtt: from A's (intended) send of i until A has B's reply i. Otherwise
			 * the one-way delivery of B's reply. */
			if (ag->lat)
				latrec_record(ag->lat, got - (dp->rtt ? t : sent));
			if (dp->progress)
				atomic_fetch_add_explicit(dp->progress, 1, memory_order_relaxed);
		} else {
			/* Drop and resume the stream now and then: A's next message usually lands
			 * while B is away and must come back through the replay (SSE-7, WS-6). */
			if (dp->reconnect_every && i && i % dp->reconnect_every == 0 &&
			    dp->xp != XP_LONGPOLL) {
				if (peer_reconnect(ag->peer) < 0) {
					ag->t.errors++;
					agent_fail(ag, "resume failed: ", peer_error(ag->peer));
					break;
				}
				ag->t.reconnects++;
			}
			if (agent_wait(ag, 0, i, &got, &sent) < 0)
				break;
			if (ag->lat && !dp->rtt)
				latrec_record(ag->lat, got - sent);
			if (agent_send(ag, i, clock_mono_ns()) < 0)
				break;
		}
	}
	agent_drain_echoes(ag);
	return NULL;
}

int dlg_run(const char *base, const struct dlg_params *dp, struct tally *t, struct latrec *lat,
	    char *err, size_t errcap)
{
	struct dlg_shared sh;
	struct agent ag[2];
	bool started[2] = { false, false };
	int rc = 0;

	memset(&sh, 0, sizeof(sh));
	memset(ag, 0, sizeof(ag));
	sh.dp = dp;
	sh.base = base;
	atomic_init(&sh.opened, 0);
	atomic_init(&sh.abort, false);
	atomic_init(&sh.go, false);
	err[0] = '\0';
	crypto_random_id(sh.room, 10, NULL);
	env_room_key_new(sh.key);
	for (int i = 0; i < 2; i++) {
		if (dp->signers)
			snprintf(sh.labels[i], sizeof(sh.labels[i]), "@%s", dp->signers[i].handle);
		else
			snprintf(sh.labels[i], sizeof(sh.labels[i]), "soak-a%d", i);
		ag[i].sh = &sh;
		ag[i].me = i;
		ag[i].lat = lat;
		tally_init(&ag[i].t);
		if (track_init(&ag[i].tr, 2, dp->turns ? dp->turns : 1) < 0) {
			snprintf(err, errcap, "out of memory");
			t->errors++;
			track_free(&ag[0].tr);
			return -1;
		}
	}
	/* Only A records round trips; one-way samples come from both. */
	if (dp->rtt)
		ag[1].lat = NULL;
	for (int i = 0; i < 2; i++) {
		if (pthread_create(&ag[i].th, NULL, agent_main, &ag[i]) != 0) {
			atomic_store(&sh.abort, true);
			snprintf(err, errcap, "cannot start a thread");
			t->errors++;
			rc = -1;
			break;
		}
		started[i] = true;
	}
	while (atomic_load(&sh.opened) < (started[0] + started[1]) && !atomic_load(&sh.abort))
		usleep(200);
	sh.t0_ns = clock_mono_ns() + 1000000;
	atomic_store(&sh.go, true);
	for (int i = 0; i < 2; i++) {
		if (started[i])
			pthread_join(ag[i].th, NULL);
	}
	for (int i = 0; i < 2; i++) {
		struct agent *a = &ag[i], *other = &ag[1 - i];

		tally_merge(t, &a->t);
		/* Peer-to-peer deliveries: everything the other agent sent. */
		t->expected += other->t.sent;
		t->delivered += a->peer_new;
		t->duplicated += a->tr.duplicated;
		t->out_of_order += a->tr.out_of_order;
		if (dp->xp != XP_LONGPOLL && a->rc == 0 && !atomic_load(&sh.abort) &&
		    a->echo_new != a->t.sent) {
			t->errors++;
			snprintf(err, errcap, "%s saw %llu of its %llu own messages (ROOM-16)",
				 i ? "B" : "A", (unsigned long long)a->echo_new,
				 (unsigned long long)a->t.sent);
			rc = -1;
		}
		if (a->rc < 0) {
			if (!err[0])
				snprintf(err, errcap, "%s", a->err);
			rc = -1;
		}
		peer_close(a->peer);
		track_free(&a->tr);
	}
	return rc;
}

struct dlg_job {
	const char *base;
	const struct dlg_params *dp;
	struct tally t;
	struct latrec *lat;
	char err[256];
	int rc;
	atomic_bool done;
};

static void *dlg_job_main(void *arg)
{
	struct dlg_job *j = arg;

	j->rc = dlg_run(j->base, j->dp, &j->t, j->lat, j->err, sizeof(j->err));
	atomic_store(&j->done, true);
	return NULL;
}

int dlg_runs(struct result *r, const struct soak_opts *o, const struct dlg_params *params,
	     const char *name)
{
	struct dlg_params run = *params, *dp = &run;
	static const enum xport all[] = { XP_SSE, XP_WS, XP_LONGPOLL };
	struct crypto_identity *signers = NULL;
	atomic_uint_fast64_t progress;
	struct hist *h = hist_new();
	int64_t t0 = clock_mono_ns();
	enum xport one;
	size_t n = 3;
	const enum xport *list = all;
	int rc = 0;

	if (!h) {
		result_fail(r, "out of memory");
		return -1;
	}
	if (scen_probe(r, o) < 0) {
		hist_free(h);
		return -1;
	}
	if (o->transport && strcmp(o->transport, "all") != 0) {
		xport_parse(o->transport, &one);
		list = &one;
		n = 1;
	}
	if (o->is_signed) {
		signers = scen_identities(2, "sd");
		if (!signers || scen_register(r, o, signers, 2) < 0) {
			if (!signers)
				result_fail(r, "out of memory");
			free(signers);
			hist_free(h);
			return -1;
		}
	}
	dp->signers = signers;
	dp->progress = &progress;
	dp->src_a = srcips_pick(&o->ips, 0);
	dp->src_b = srcips_pick(&o->ips, 1);
	dp->timeout_ms = (long)(o->timeout_s * 1000);
	dp->pad = o->size;
	for (size_t k = 0; k < n; k++) {
		struct latrec lat;
		struct dlg_job j;
		struct ticker tk;
		pthread_t th;

		if (latrec_init(&lat) < 0) {
			result_fail(r, "out of memory");
			rc = -1;
			break;
		}
		memset(&j, 0, sizeof(j));
		j.base = o->base;
		j.dp = dp;
		j.lat = &lat;
		tally_init(&j.t);
		atomic_init(&j.done, false);
		atomic_init(&progress, 0);
		dp->xp = list[k];
		ticker_init(&tk, o->quiet, &r->rm);
		if (pthread_create(&th, NULL, dlg_job_main, &j) != 0) {
			result_fail(r, "cannot start a thread");
			latrec_free(&lat);
			rc = -1;
			break;
		}
		while (!atomic_load(&j.done)) {
			ticker_maybe(&tk, name, "%s turn %llu/%u", xport_name(dp->xp),
				     (unsigned long long)atomic_load(&progress), dp->turns);
			usleep(5000);
		}
		pthread_join(th, NULL);
		ticker_done(&tk);
		tally_merge(&r->t, &j.t);
		hist_reset(h);
		latrec_merge_total(&lat, h);
		result_latency(r, xport_name(dp->xp), h);
		latrec_free(&lat);
		if (j.rc < 0) {
			result_fail(r, "%s: %s", xport_name(dp->xp), j.err);
			rc = -1;
		}
	}
	r->duration_s = scen_secs(t0, clock_mono_ns());
	result_rate(r, "turns_per_s", (double)r->t.delivered / 2.0 / r->duration_s);
	if (signers) {
		memset(signers, 0, 2 * sizeof(*signers));
		free(signers);
	}
	hist_free(h);
	return rc;
}
