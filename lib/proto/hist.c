/* hist — log-linear latency histogram. See hist.h. */
#include "proto/hist.h"

#include <stdlib.h>
#include <string.h>

#define HIST_SUB (1 << HIST_SUB_BITS)

/* Bucket of v >= 0: exact below 256, then HIST_SUB linear steps per power of two. */
static unsigned hist_index(int64_t v)
{
	unsigned e;

	if (v < 256)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll((unsigned long long)v);
	if (e >= HIST_TOP_EXP)
		return HIST_BUCKETS - 1;
	return 256u + (e - 8u) * HIST_SUB +
	       (unsigned)((unsigned long long)v >> (e - HIST_SUB_BITS)) - HIST_SUB;
}

/* Largest value that falls into bucket idx. */
static int64_t hist_upper(unsigned idx)
{
	unsigned k, e, sub;

	if (idx < 256)
		return idx;
	k = idx - 256;
	e = 8 + k / HIST_SUB;
	sub = HIST_SUB + k % HIST_SUB;
	return ((int64_t)(sub + 1) << (e - HIST_SUB_BITS)) - 1;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

int hist_init(struct hist *h)
{
	hist_reset(h);
	return 0;
}

struct hist *hist_new(void)
{
	return calloc(1, sizeof(struct hist));
}

void hist_free(struct hist *h)
{
	free(h);
}

void hist_record_n(struct hist *h, int64_t v, uint64_t n)
{
	if (n == 0)
		return;
	if (v < 0)
		v = 0;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count += n;
	h->sum += (double)v * (double)n;
	h->counts[hist_index(v)] += n;
}

void hist_record(struct hist *h, int64_t v)
{
	hist_record_n(h, v, 1);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
}

uint64_t hist_count(const struct hist *h)
{
	return h->count;
}

int64_t hist_min(const struct hist *h)
{
	return h->count ? h->min : 0;
}

int64_t hist_max(const struct hist *h)
{
	return h->count ? h->max : 0;
}

double hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

int64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;
	double r;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* Nearest rank, ceil(p/100 * count), tolerant of binary rounding (99.9% of 1000 = 999). */
	r = p / 100.0 * (double)h->count;
	rank = (uint64_t)r;
	if ((double)rank < r - 1e-6)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			/* The top bucket is open-ended: its best upper bound is the exact max. */
			int64_t v = i == HIST_BUCKETS - 1 ? h->max : hist_upper(i);

			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max;
}
