/* Tests for relay/ratelimit: RL-1 token buckets with injected time, caps, sweeping, threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "ratelimit.h"

/* RL-2 defaults. */
#define CAP 300.0
#define RATE 100.0

static int setup(void **state)
{
	*state = rl_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rl_free(*state);
	return 0;
}

static bool take(struct rl_table *t, const char *key, int64_t now)
{
	return rl_take(t, key, strlen(key), CAP, RATE, now);
}

/* Takes until refused; returns how many passed. */
static int drain(struct rl_table *t, const char *key, int64_t now)
{
	int n = 0;

	while (take(t, key, now))
		n++;
	return n;
}

/* RL-1/RL-2: 300 pass, the 301st fails, and 10 ms at 100/s refill exactly one token. */
static void test_exact_counts(void **state)
{
	struct rl_table *t = *state;
	int i;

	for (i = 0; i < 300; i++)
		assert_true(take(t, "1.2.3.4|ROOM2345", 1000));
	assert_false(take(t, "1.2.3.4|ROOM2345", 1000));
	assert_false(take(t, "1.2.3.4|ROOM2345", 1009));
	assert_true(take(t, "1.2.3.4|ROOM2345", 1010));
	assert_false(take(t, "1.2.3.4|ROOM2345", 1010));
	/* 5 ms = half a token: not enough; another 5 ms completes it. */
	assert_false(take(t, "1.2.3.4|ROOM2345", 1015));
	assert_true(take(t, "1.2.3.4|ROOM2345", 1020));
	/* 1 s refills 100. */
	assert_int_equal(drain(t, "1.2.3.4|ROOM2345", 2020), 100);
	/* Refill is capped: a long idle gives back exactly 300. */
	assert_int_equal(drain(t, "1.2.3.4|ROOM2345", 1000000), 300);
	assert_int_equal(rl_count(t), 1);
}

/* Continuous refill in 1 ms steps sums to whole tokens despite binary rounding (0.1 x 10). */
static void test_fine_refill(void **state)
{
	struct rl_table *t = *state;
	int64_t now = 0;
	int passed = 0, ms;

	assert_int_equal(drain(t, "k", now), 300);
	for (ms = 1; ms <= 1000; ms++) {
		now = ms;
		passed += take(t, "k", now);
	}
	/* 100 tokens over 1 s, one every 10 ms. */
	assert_int_equal(passed, 100);
}

/* Keys are independent; all keys share one namespace (RL-2), and the global key is separate. */
static void test_keys(void **state)
{
	struct rl_table *t = *state;

	assert_int_equal(drain(t, "1.2.3.4|bugs", 0), 300);
	assert_false(take(t, "1.2.3.4|bugs", 0));
	assert_true(take(t, "1.2.3.4|bugz", 0));
	assert_true(take(t, "1.2.3.5|bugs", 0));
	/* RL-3: a global bucket with its own cap and rate. */
	assert_true(rl_take(t, "1.2.3.4", 7, 600, 200, 0));
	assert_int_equal(rl_count(t), 4);
	/* Binary keys with NUL bytes are fine: length, not strlen. */
	assert_true(rl_take(t, "a\0b", 3, 1, 0, 0));
	assert_false(rl_take(t, "a\0b", 3, 1, 0, 0));
	assert_true(rl_take(t, "a\0c", 3, 1, 0, 0));
	assert_true(rl_take(t, "a", 1, 1, 0, 0));
	assert_int_equal(rl_count(t), 7);
}

/* Time going backwards neither refills nor breaks anything. */
static void test_clock_backwards(void **state)
{
	struct rl_table *t = *state;

	assert_int_equal(drain(t, "k", 5000), 300);
	assert_false(take(t, "k", 100));
	assert_false(take(t, "k", 5009));
	assert_true(take(t, "k", 5010));
}

/* Zero rate never refills; cap < 1 never passes. */
static void test_degenerate(void **state)
{
	struct rl_table *t = *state;
	int i, n = 0;

	for (i = 0; i < 10; i++)
		n += rl_take(t, "z", 1, 3, 0, (int64_t)i * 100000);
	assert_int_equal(n, 3);
	assert_false(rl_take(t, "half", 4, 0.5, 1000, 0));
	assert_false(rl_take(t, "half", 4, 0.5, 1000, 100000));
	/* Fractional rates accumulate: 0.5/s gives one token per 2 s. */
	assert_true(rl_take(t, "slow", 4, 1, 0.5, 0));
	assert_false(rl_take(t, "slow", 4, 1, 0.5, 1999));
	assert_true(rl_take(t, "slow", 4, 1, 0.5, 2000));
}

/* Keys longer than RL_KEY_MAX are digested: equal keys share, different ones do not, even with
 * a common 256-byte prefix. */
static void test_long_keys(void **state)
{
	struct rl_table *t = *state;
	char a[1000], b[1000];

	memset(a, 'x', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[999] = 'y';
	assert_true(rl_take(t, a, sizeof(a), 2, 0, 0));
	assert_true(rl_take(t, a, sizeof(a), 2, 0, 0));
	assert_false(rl_take(t, a, sizeof(a), 2, 0, 0));
	assert_true(rl_take(t, b, sizeof(b), 2, 0, 0));
	/* Exactly RL_KEY_MAX bytes is stored as is, one more is digested: still distinct. */
	assert_true(rl_take(t, a, RL_KEY_MAX, 1, 0, 0));
	assert_false(rl_take(t, a, RL_KEY_MAX, 1, 0, 0));
	assert_true(rl_take(t, a, RL_KEY_MAX + 1, 1, 0, 0));
	assert_int_equal(rl_count(t), 4);
}

/* RL-1: buckets idle for more than idle_ms are dropped; exact counts. */
static void test_sweep(void **state)
{
	struct rl_table *t = *state;
	char key[32];
	int i;

	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d|r", i / 256, i % 256);
		assert_true(take(t, key, i < 400 ? 0 : 200000));
	}
	assert_int_equal(rl_count(t), 1000);
	/* At 300000 with idle 5 min: the ones used at 0 are idle exactly 300000, kept. */
	assert_int_equal(rl_sweep(t, RL_IDLE_MS, RL_IDLE_MS), 0);
	assert_int_equal(rl_sweep(t, RL_IDLE_MS + 1, RL_IDLE_MS), 400);
	assert_int_equal(rl_count(t), 600);
	/* A dropped bucket comes back full. */
	assert_int_equal(drain(t, "10.0.0.0|r", RL_IDLE_MS + 2), 300);
	assert_int_equal(rl_sweep(t, 10000000, RL_IDLE_MS), 601);
	assert_int_equal(rl_count(t), 0);
}

/* INV-11 cap: with one bucket per shard, new keys are refused while existing buckets are not
 * refilled, and evict them once they are (a full bucket equals an absent one). */
static void test_cap(void **state)
{
	struct rl_table *t = *state;
	char key[32];
	int i, ok = 0;

	rl_set_max(t, 64); /* 64 shards: one bucket each */
	/* 3000 keys over 64 shards hit every shard (miss probability ~ 64 * e^-47). */
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "a%d", i);
		ok += rl_take(t, key, strlen(key), 1, 1000, 0);
	}
	assert_int_equal(ok, 64);
	assert_int_equal(rl_count(t), 64);
	/* Same instant: nothing has refilled, every new key is refused. */
	for (i = 0, ok = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "b%d", i);
		ok += rl_take(t, key, strlen(key), 1, 1000, 0);
	}
	assert_int_equal(ok, 0);
	assert_int_equal(rl_count(t), 64);
	/* 2 ms later the old buckets are full again: each shard's first new key evicts. */
	for (i = 0, ok = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		ok += rl_take(t, key, strlen(key), 1, 1000, 2);
	}
	assert_int_equal(ok, 64);
	assert_int_equal(rl_count(t), 64);
	/* Existing keys keep working at the cap. */
	snprintf(key, sizeof(key), "c%d", 0);
	assert_true(rl_take(t, key, strlen(key), 1, 1000, 10));
}

struct worker {
	struct rl_table *t;
	int id;
	double cap;
	bool distinct; /* own keys instead of the 8 shared ones */
	int passed;
	int errors;
};

#define THREADS 4
#define TAKES 10000
#define KEYS 8

/* Worker threads never call cmocka asserts (not thread-safe); main checks the counters. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char key[32];
	int i;

	for (i = 0; i < TAKES; i++) {
		if (w->distinct)
			snprintf(key, sizeof(key), "t%d|k%d", w->id, i);
		else
			snprintf(key, sizeof(key), "ip|room%d", (i + w->id) % KEYS);
		w->passed += rl_take(w->t, key, strlen(key), w->cap, 0, 0);
	}
	return NULL;
}

static void *sweeper_main(void *arg)
{
	struct worker *w = arg;
	int i;

	/* Concurrent sweeps and counts that drop nothing (the idle limit is far away). */
	for (i = 0; i < 200; i++) {
		w->errors += rl_sweep(w->t, 0, INT64_MAX / 2) != 0;
		w->errors += rl_count(w->t) > KEYS;
	}
	return NULL;
}

/* Runs THREADS workers (plus a sweeper when sweep) and returns the total passed. */
static int run_threads(struct rl_table *t, double cap, bool distinct, bool sweep)
{
	struct worker w[THREADS], sw = { .t = t };
	pthread_t th[THREADS], sth;
	int i, total = 0;

	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .t = t, .id = i, .cap = cap, .distinct = distinct };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	if (sweep)
		assert_int_equal(pthread_create(&sth, NULL, sweeper_main, &sw), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		total += w[i].passed;
	}
	if (sweep) {
		assert_int_equal(pthread_join(sth, NULL), 0);
		assert_int_equal(sw.errors, 0);
	}
	return total;
}

/* 4 threads x 10000 takes on 8 keys: each key gets 5000 attempts and has 3000 tokens, so
 * exactly 8 x 3000 pass, whatever the interleaving; every bucket ends exactly empty. */
static void test_threads(void **state)
{
	struct rl_table *t = *state;
	char key[32];
	int i;

	assert_int_equal(run_threads(t, 3000, false, true), KEYS * 3000);
	assert_int_equal(rl_count(t), KEYS);
	for (i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "ip|room%d", i);
		assert_false(rl_take(t, key, strlen(key), 3000, 0, 0));
	}
}

/* With 10000 tokens per key all 40000 takes pass, and exactly 5000 remain in each bucket. */
static void test_threads_remainder(void **state)
{
	struct rl_table *t = *state;
	char key[32];
	int i, n;

	assert_int_equal(run_threads(t, 10000, false, false), THREADS * TAKES);
	for (i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "ip|room%d", i);
		for (n = 0; rl_take(t, key, strlen(key), 10000, 0, 0); n++)
			;
		assert_int_equal(n, 5000);
	}
}

/* 40000 distinct keys inserted concurrently: shards grow under contention, nothing is lost. */
static void test_threads_growth(void **state)
{
	struct rl_table *t = *state;

	assert_int_equal(run_threads(t, 1, true, false), THREADS * TAKES);
	assert_int_equal(rl_count(t), THREADS * TAKES);
	assert_false(rl_take(t, "t3|k9999", 8, 1, 0, 0));
	assert_true(rl_take(t, "t4|k0", 5, 1, 0, 0));
	assert_int_equal(rl_sweep(t, 1, 0), THREADS * TAKES + 1);
	assert_int_equal(rl_count(t), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fine_refill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_backwards, setup, teardown),
		cmocka_unit_test_setup_teardown(test_degenerate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_remainder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_growth, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
