/* dlg — a strict two-agent exchange in a fresh room over one transport, the engine behind
 * `dialogue`, `rtt` and the churn of `soak`.
 *
 * Turn i: agent A posts message i; agent B waits for it, then posts its reply i; A waits for
 * the reply. Both agents hold their own stream (or long-poll loop), so each also sees its own
 * messages come back (ROOM-16) and checks them too: every message once, in seq order
 * (ROOM-23), opened with the room key. The peer-to-peer deliveries (2 per turn) are the
 * counted `delivered`; a missing own echo (sse, ws) is a failure as well.
 *
 * Latency: one-way (send -> the other agent has it) or, with rtt, A's round trip
 * (A sends i -> A has reply i). Optionally B drops and resumes its stream every
 * reconnect_every turns (SSE-6 / WS-6 with after=), counted as reconnects.
 *
 * Runs two threads and blocks until both finish. Thread-safe towards other dlg runs.
 */
#ifndef SEALROOM_SOAK_DLG_H
#define SEALROOM_SOAK_DLG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "opts.h"
#include "peer.h"
#include "tally.h"

struct dlg_params {
	enum xport xp;
	uint32_t turns;
	bool rtt;				/* latency = A's round trip */
	double rate;				/* turns per second (open loop); 0 = max */
	size_t pad;
	const struct crypto_identity *signers;	/* 2 identities (signed run) or NULL */
	uint32_t reconnect_every;		/* 0 = never */
	const char *src_a, *src_b;		/* source addresses or NULL */
	long timeout_ms;
	atomic_uint_fast64_t *progress;		/* incremented per completed turn, or NULL */
	const atomic_bool *stop;		/* checked between turns, or NULL */
};

/* Run one exchange against base. Counts go into *t (sent/accepted/rejected/errors,
 * expected/delivered/duplicated/out_of_order/decrypt_failed/unexpected/verified/
 * reconnects), latency samples (ns) into lat. Returns 0 if the run went through, -1 if it
 * broke off (the reason in err[errcap]; the counts show what was missed). */
int dlg_run(const char *base, const struct dlg_params *dp, struct tally *t, struct latrec *lat,
	    char *err, size_t errcap);

struct result;
struct soak_opts;

/* The `dialogue` / `rtt` driver: run params (turns, rtt, rate, reconnect_every; the rest is
 * filled in from o) once per transport chosen by o->transport (NULL or
 * "all": sse, ws, longpoll), each in a fresh room, drawing the progress line (label name)
 * from the calling thread. Counts are summed into r; latency_ms.<transport> per run. With
 * o->is_signed, two identities are registered first and sign every message. Returns 0, or
 * -1 if a run broke off (also recorded with result_fail). */
int dlg_runs(struct result *r, const struct soak_opts *o, const struct dlg_params *params,
	     const char *name);

#endif
