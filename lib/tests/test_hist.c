/* Tests for proto/hist: exact statistics, percentile precision, merge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/hist.h"

static int setup(void **state)
{
	struct hist *h = hist_new();

	if (!h)
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	hist_free(*state);
	return 0;
}

static void test_empty(void **state)
{
	struct hist *h = *state;

	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), 0);
	assert_true(hist_mean(h) == 0.0);
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_int_equal(hist_percentile(h, 100), 0);
}

/* Values below 256 ns are exact, so nearest-rank percentiles are exact too. */
static void test_exact_small(void **state)
{
	static const struct {
		double p;
		int64_t want;
	} t[] = {
		{ 0, 1 },    { 1, 1 },	    { 10, 10 },	    { 50, 50 },	    { 50.5, 51 },
		{ 90, 90 },  { 99, 99 },    { 99.5, 100 }, { 100, 100 },   { 0.001, 1 },
	};
	struct hist *h = *state;
	size_t i;
	int64_t v;

	for (v = 100; v >= 1; v--)
		hist_record(h, v);
	assert_int_equal(hist_count(h), 100);
	assert_int_equal(hist_min(h), 1);
	assert_int_equal(hist_max(h), 100);
	assert_true(hist_mean(h) == 50.5);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (hist_percentile(h, t[i].p) != t[i].want)
			fail_msg("p%g = %lld, want %lld", t[i].p,
				 (long long)hist_percentile(h, t[i].p), (long long)t[i].want);
}

/* p99.9 of 1..1000: nearest rank 999 despite 99.9/100*1000 not being exact in binary. */
static void test_rank_rounding(void **state)
{
	struct hist *h = *state;
	int64_t v;

	for (v = 1; v <= 1000; v++)
		hist_record(h, v);
	assert_int_equal(hist_percentile(h, 99.9), 999);
	assert_int_equal(hist_percentile(h, 99.95), 1000);
	assert_int_equal(hist_percentile(h, 50), 501); /* 500 shares a 2-wide bucket */
}

/* Every value from 1 µs to 100 s is reported within 1% (upper bucket bound, >= the value). */
static void test_precision(void **state)
{
	struct hist *h = *state;
	uint64_t x = 88172645463325252ull;
	int i;

	for (i = 0; i < 100000; i++) {
		int64_t v, got;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = 1000 + (int64_t)(x % 100000000000ull);
		hist_reset(h);
		/* With a far larger second sample, p50 is v's bucket bound (no min/max clamp). */
		hist_record(h, v);
		hist_record(h, INT64_C(1) << 40);
		got = hist_percentile(h, 50);
		if (got < v || (double)(got - v) > (double)v / 128.0)
			fail_msg("v=%lld reported as %lld", (long long)v, (long long)got);
	}
}

/* 1 µs .. 10 ms in 1 µs steps: percentiles within 1% above the exact nearest rank. */
static void test_distribution(void **state)
{
	static const double ps[] = { 50, 90, 99, 99.9 };
	struct hist *h = *state;
	int64_t i;
	size_t k;

	for (i = 1; i <= 10000; i++)
		hist_record(h, i * 1000);
	assert_int_equal(hist_count(h), 10000);
	assert_int_equal(hist_min(h), 1000);
	assert_int_equal(hist_max(h), 10000000);
	assert_true(hist_mean(h) == 5000500.0);
	for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		int64_t exact = (int64_t)(ps[k] * 100 + 0.5) * 1000; /* rank r -> r µs */
		int64_t got = hist_percentile(h, ps[k]);

		if (got < exact || (double)got > (double)exact * 1.008)
			fail_msg("p%g = %lld, exact %lld", ps[k], (long long)got, (long long)exact);
	}
	assert_int_equal(hist_percentile(h, 100), 10000000);
	assert_int_equal(hist_percentile(h, 0), 1000);
}

static void test_clamps(void **state)
{
	struct hist *h = *state;

	hist_record(h, -5); /* counts as 0 */
	hist_record(h, INT64_C(1000000000000)); /* 1000 s: beyond the buckets */
	assert_int_equal(hist_count(h), 2);
	/* White-box: both land inside the array (bucket 0 and the open-ended top bucket). */
	assert_int_equal(h->counts[0], 1);
	assert_int_equal(h->counts[HIST_BUCKETS - 1], 1);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), INT64_C(1000000000000));
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_int_equal(hist_percentile(h, 100), INT64_C(1000000000000));
	/* The top bucket's bound is clamped to the exact max. */
	assert_int_equal(hist_percentile(h, 99), INT64_C(1000000000000));
	/* Values beyond the top bucket report the exact max, never the bucket's nominal bound. */
	hist_record(h, INT64_MAX);
	assert_int_equal(hist_max(h), INT64_MAX);
	assert_int_equal(hist_percentile(h, 99), INT64_MAX);
	assert_int_equal(hist_percentile(h, 33), 0);
}

static void test_merge(void **state)
{
	struct hist *all = *state, *a = hist_new(), *b = hist_new();
	static const double ps[] = { 1, 25, 50, 75, 90, 99, 99.9, 100 };
	int64_t v;
	size_t k;

	assert_non_null(a);
	assert_non_null(b);
	for (v = 0; v < 50000; v++) {
		int64_t x = (v * 7919) % 3000000 + 500;

		hist_record(all, x);
		hist_record(v % 3 ? a : b, x);
	}
	hist_merge(a, b);
	assert_int_equal(hist_count(a), hist_count(all));
	assert_int_equal(hist_min(a), hist_min(all));
	assert_int_equal(hist_max(a), hist_max(all));
	assert_true(hist_mean(a) == hist_mean(all));
	for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
		assert_int_equal(hist_percentile(a, ps[k]), hist_percentile(all, ps[k]));
	/* Merging an empty histogram changes nothing; merging into an empty one copies. */
	hist_reset(b);
	hist_merge(a, b);
	assert_int_equal(hist_count(a), 50000);
	hist_merge(b, a);
	assert_int_equal(hist_count(b), 50000);
	assert_int_equal(hist_min(b), hist_min(all));
	assert_int_equal(hist_percentile(b, 99), hist_percentile(all, 99));
	hist_free(a);
	hist_free(b);
}

static void test_record_n_and_init(void **state)
{
	struct hist *h = *state;

	hist_record_n(h, 300, 0);
	assert_int_equal(hist_count(h), 0);
	hist_record_n(h, 300, 9);
	hist_record(h, 10);
	assert_int_equal(hist_count(h), 10);
	assert_true(hist_mean(h) == 271.0);
	assert_int_equal(hist_percentile(h, 10), 10);
	assert_int_equal(hist_percentile(h, 11), 300);
	assert_int_equal(hist_init(h), 0);
	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_max(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rank_rounding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_distribution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clamps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_n_and_init, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
