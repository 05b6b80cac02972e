/*
 * hist — log-linear latency histogram (HdrHistogram-like) for the soak drivers and the
 * conformance runner (DESIGN.md "Soak scenarios": p50/p90/p99/p99.9/max with sample count).
 *
 * Values are int64 nanoseconds. 0..255 are counted exactly; above that every power of two is
 * split into 128 linear sub-buckets, so a percentile is within 0.8% of a recorded value (it
 * reports its bucket's upper bound, clamped to [min, max]). Buckets reach 2^37 ns (~137 s);
 * larger values land in an open-ended top bucket, which reports the exact max. Negative values
 * count as 0. min, max, count and the mean are exact.
 *
 * Fixed memory (struct hist is ~32 KiB, no malloc per record): keep it on the heap
 * (hist_new) or in static/thread storage, not on a small worker stack. Not thread-safe: use
 * one per thread, then hist_merge() them.
 */
#ifndef SEALROOM_PROTO_HIST_H
#define SEALROOM_PROTO_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7				 /* 128 sub-buckets per power of two */
#define HIST_TOP_EXP 37				 /* values < 2^37 ns are bucketed exactly */
#define HIST_BUCKETS (256 + (HIST_TOP_EXP - 8) * 128) /* 3968 */

struct hist {
	uint64_t count;
	int64_t min, max;
	double sum;
	uint64_t counts[HIST_BUCKETS];
};

/* Empties h (same as hist_reset). Always returns 0. */
int hist_init(struct hist *h);
/* Empties h. */
void hist_reset(struct hist *h);
/* Heap-allocated, initialised histogram; NULL on allocation failure. Free with hist_free. */
struct hist *hist_new(void);
void hist_free(struct hist *h);

/* Records one value (ns). O(1), no allocation. */
void hist_record(struct hist *h, int64_t v);
/* Records the same value n times. */
void hist_record_n(struct hist *h, int64_t v, uint64_t n);
/* Adds every sample of src into dst (src unchanged; dst may not be src). */
void hist_merge(struct hist *dst, const struct hist *src);

uint64_t hist_count(const struct hist *h);
/* Exact smallest / largest recorded value (after clamping negatives to 0); 0 when empty. */
int64_t hist_min(const struct hist *h);
int64_t hist_max(const struct hist *h);
/* Exact arithmetic mean; 0 when empty. */
double hist_mean(const struct hist *h);
/*
 * The value at percentile p (0..100, e.g. 99.9): the smallest bucket upper bound such that at
 * least ceil(p/100 * count) samples (at least 1) are <= it, clamped to [min, max]. p <= 0 gives
 * min, p >= 100 gives max; an empty histogram gives 0.
 */
int64_t hist_percentile(const struct hist *h, double p);

#endif
