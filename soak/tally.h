/* tally — the exact accounting of a soak run (DESIGN.md "Soak scenarios"): what was sent,
 * accepted, rejected (by HTTP status), delivered, missing, duplicated, out of order and
 * undecryptable; plus the per-receiver delivery tracker that decides "duplicated" and "out of
 * order" (ROOM-23: each subscriber receives every event once, in seq order), and a
 * mutex-guarded latency recorder that several threads may feed.
 *
 * A struct tally is plain data owned by one thread; threads keep their own and the scenario
 * merges them once the threads are joined (tally_merge). A struct track belongs to the thread
 * that receives for that subscriber. struct latrec is the only thread-safe type here.
 */
#ifndef SEALROOM_SOAK_TALLY_H
#define SEALROOM_SOAK_TALLY_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/hist.h"

/* Rejections are kept per status code 100..599; status 0 means "no HTTP status". */
#define TALLY_STATUS_MIN 100
#define TALLY_STATUS_MAX 599

struct tally {
	uint64_t sent;		  /* requests / frames / DMs written */
	uint64_t accepted;	  /* 200 answers (WS: own echo seen) */
	uint64_t rejected;	  /* any other HTTP status or WS error frame */
	uint64_t errors;	  /* transport failures: connect, reset, timeout, bad answer */
	uint64_t expected;	  /* deliveries the accepted messages call for */
	uint64_t delivered;	  /* first deliveries of an expected message */
	uint64_t duplicated;	  /* a message seen again by the same receiver */
	uint64_t out_of_order;	  /* seq not above the previous one, or sender index back */
	uint64_t decrypt_failed;  /* envelope that did not open with the key (CRYPTO-2, -4) */
	uint64_t unexpected;	  /* opened but not ours / wrong room / wrong sender label */
	uint64_t verified;	  /* signed items the receiver saw marked verified (INV-7) */
	uint64_t reconnects;	  /* streams resumed with after= (SSE-6, WS-6) */
	uint64_t by_status[TALLY_STATUS_MAX - TALLY_STATUS_MIN + 1]; /* rejections per status */
};

void tally_init(struct tally *t);
/* Add every counter of src into dst. */
void tally_merge(struct tally *dst, const struct tally *src);
/* One rejection with HTTP status (or a WS error frame's code); out-of-range codes count
 * under rejected only. */
void tally_reject(struct tally *t, long status);
/* expected - delivered, or 0. */
uint64_t tally_missing(const struct tally *t);
/* True iff the run met every exact count: nothing rejected, failed, missing, duplicated, out
 * of order, undecryptable or unexpected, and accepted == sent. */
bool tally_exact_ok(const struct tally *t);

/* ---- per-receiver delivery tracker ---- */

enum track_result {
	TRACK_NEW = 0,	   /* first delivery (possibly also out of order) */
	TRACK_DUP = 1,	   /* seen before */
	TRACK_RANGE = -1,  /* sender or index outside the tracked grid */
};

struct track {
	uint32_t senders, per_sender;
	uint8_t *seen;		/* senders * per_sender bits */
	int32_t *last_idx;	/* per sender, -1 before the first */
	int64_t last_seq;	/* highest seq delivered so far, -1 before the first */
	uint64_t delivered, duplicated, out_of_order;
};

/* Track a grid of senders x per_sender messages. Returns 0 or -1 (out of memory). */
int track_init(struct track *t, uint32_t senders, uint32_t per_sender);
void track_free(struct track *t);
/* Record the delivery of message idx of sender with relay seq. A new message whose seq is not
 * above every earlier one, or whose index is below that sender's previous one, counts as
 * out of order (and still as delivered). */
enum track_result track_note(struct track *t, uint32_t sender, uint32_t idx, int64_t seq);

/* ---- latency recorder shared by threads ---- */

struct latrec {
	pthread_mutex_t mu;
	struct hist *total;	/* every sample of the run */
	struct hist *interval;	/* samples since the last latrec_take_interval() */
};

int latrec_init(struct latrec *l);
void latrec_free(struct latrec *l);
/* Record one latency in ns (thread-safe). */
void latrec_record(struct latrec *l, int64_t ns);
/* Copy the interval histogram into out and empty it (thread-safe). */
void latrec_take_interval(struct latrec *l, struct hist *out);
/* Merge the total into out (thread-safe). */
void latrec_merge_total(struct latrec *l, struct hist *out);

#endif
