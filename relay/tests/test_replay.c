/* Tests for relay/replay: the §11.2 replay caches (REPLAY-1..3) with injected time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>

#include "metrics.h"
#include "replay.h"

static void key(struct replay *rp, struct replay_key *k, const char *handle, const char *nonce)
{
	replay_key(rp, k, handle, strlen(handle), nonce, strlen(nonce), NULL, 0);
}

/* REPLAY-1/2: a key is seen only once inserted; a second insert is a duplicate. */
static void test_insert_seen_dup(void **state)
{
	struct replay *rp = replay_new(10);
	struct replay_key a, b;
	key(rp, &a, "alice", "0NHS09TV1tfY2drb3N3e3-Dh");
	key(rp, &b, "bob", "0NHS09TV1tfY2drb3N3e3-Dh");
	assert_false(replay_seen(rp, &a, 1000));
	assert_int_equal(replay_insert(rp, &a, 1000), REPLAY_OK);
	assert_true(replay_seen(rp, &a, 1000));
	assert_false(replay_seen(rp, &b, 1000)); /* the same nonce under another handle is fresh */
	assert_int_equal(replay_insert(rp, &a, 1001), REPLAY_DUP);
	assert_int_equal(replay_insert(rp, &b, 1001), REPLAY_OK);
	assert_int_equal(replay_count(rp), 2);
	replay_free(rp);
}

/* Parts are length-prefixed: ("ab","c") and ("a","bc") are different keys. */
static void test_key_parts(void **state)
{
	struct replay *rp = replay_new(10);
	struct replay_key k1, k2, k3;
	replay_key(rp, &k1, "ab", 2, "c", 1, NULL, 0);
	replay_key(rp, &k2, "a", 1, "bc", 2, NULL, 0);
	replay_key(rp, &k3, "ab", 2, "c", 1, "", 0);
	assert_memory_not_equal(k1.d, k2.d, sizeof(k1.d));
	assert_memory_equal(k1.d, k3.d, sizeof(k1.d)); /* an empty part equals an absent one */
	/* keyed per cache: another cache hashes differently */
	struct replay *other = replay_new(10);
	struct replay_key k4;
	replay_key(other, &k4, "ab", 2, "c", 1, NULL, 0);
	assert_memory_not_equal(k1.d, k4.d, sizeof(k1.d));
	replay_free(other);
	replay_free(rp);
}

/* REPLAY-1: kept for at least 120 000 ms after insertion, gone after. */
static void test_retention_boundary(void **state)
{
	struct replay *rp = replay_new(10);
	struct replay_key k;
	key(rp, &k, "alice", "nonce-nonce-nonce-1");
	assert_int_equal(replay_insert(rp, &k, 5000), REPLAY_OK);
	assert_true(replay_seen(rp, &k, 5000 + REPLAY_RETAIN_MS));
	assert_int_equal(replay_insert(rp, &k, 5000 + REPLAY_RETAIN_MS), REPLAY_DUP);
	assert_false(replay_seen(rp, &k, 5000 + REPLAY_RETAIN_MS + 1));
	assert_int_equal(replay_count(rp), 0);
	assert_int_equal(replay_insert(rp, &k, 5000 + REPLAY_RETAIN_MS + 1), REPLAY_OK);
	replay_free(rp);
}

/* REPLAY-3: at the cap, expired entries are purged first; a cache still full refuses with
 * REPLAY_FULL and counts replay_cache_full_total. */
static void test_cap_full_and_purge(void **state)
{
	struct replay *rp = replay_new(3);
	struct replay_key k[5];
	char n[32];
	for (int i = 0; i < 5; i++) {
		snprintf(n, sizeof(n), "nonce-%d-xxxxxxxxxx", i);
		key(rp, &k[i], "alice", n);
	}
	assert_int_equal(replay_insert(rp, &k[0], 0), REPLAY_OK);
	assert_int_equal(replay_insert(rp, &k[1], 60000), REPLAY_OK);
	assert_int_equal(replay_insert(rp, &k[2], 60000), REPLAY_OK);
	int64_t before = metrics_counter[M_replay_cache_full_total];
	assert_int_equal(replay_insert(rp, &k[3], 120000), REPLAY_FULL);
	assert_int_equal(metrics_counter[M_replay_cache_full_total], before + 1);
	assert_int_equal(replay_count(rp), 3);
	assert_false(replay_seen(rp, &k[3], 120000)); /* refused: never recorded */
	/* k[0] expires at 120 001: its slot frees exactly one insert */
	assert_int_equal(replay_insert(rp, &k[3], 120001), REPLAY_OK);
	assert_int_equal(replay_insert(rp, &k[4], 120001), REPLAY_FULL);
	assert_int_equal(metrics_counter[M_replay_cache_full_total], before + 2);
	assert_true(replay_seen(rp, &k[1], 120001));
	replay_free(rp);
}

/* REPLAY-2: no per-handle cap: one handle may fill the whole global cap. */
static void test_no_per_handle_cap(void **state)
{
	struct replay *rp = replay_new(5000);
	char n[32];
	struct replay_key k;
	for (int i = 0; i < 5000; i++) {
		snprintf(n, sizeof(n), "nonce-%08d-abcdef", i);
		key(rp, &k, "alice", n);
		assert_int_equal(replay_insert(rp, &k, i / 10), REPLAY_OK);
	}
	assert_int_equal(replay_count(rp), 5000);
	for (int i = 0; i < 5000; i += 97) {
		snprintf(n, sizeof(n), "nonce-%08d-abcdef", i);
		key(rp, &k, "alice", n);
		assert_true(replay_seen(rp, &k, 500));
	}
	replay_free(rp);
}

/* The janitor hook drops exactly the expired prefix, in insertion order. */
static void test_expire_counts(void **state)
{
	struct replay *rp = replay_new(100);
	char n[32];
	struct replay_key k;
	for (int i = 0; i < 10; i++) {
		snprintf(n, sizeof(n), "n-%d-xxxxxxxxxxxxxx", i);
		key(rp, &k, "h", n);
		assert_int_equal(replay_insert(rp, &k, i * 1000), REPLAY_OK);
	}
	assert_int_equal(replay_expire(rp, REPLAY_RETAIN_MS), 0);
	assert_int_equal(replay_expire(rp, REPLAY_RETAIN_MS + 3000), 3); /* inserted at 0, 1000, 2000 */
	assert_int_equal(replay_count(rp), 7);
	assert_int_equal(replay_expire(rp, REPLAY_RETAIN_MS + 100000), 7);
	assert_int_equal(replay_count(rp), 0);
	replay_free(rp);
}

/* A clock read out of order by concurrent callers never shortens retention. */
static void test_out_of_order_clock(void **state)
{
	struct replay *rp = replay_new(10);
	struct replay_key a, b;
	key(rp, &a, "h", "aaaaaaaaaaaaaaaaaaa");
	key(rp, &b, "h", "bbbbbbbbbbbbbbbbbbb");
	assert_int_equal(replay_insert(rp, &a, 10000), REPLAY_OK);
	assert_int_equal(replay_insert(rp, &b, 9000), REPLAY_OK); /* stamped 10000, not 9000 */
	assert_true(replay_seen(rp, &b, 9000 + REPLAY_RETAIN_MS + 500));
	assert_false(replay_seen(rp, &b, 10000 + REPLAY_RETAIN_MS + 1));
	replay_free(rp);
}

#define NTHREADS 8
#define PER_THREAD 2000

struct race {
	struct replay *rp;
	int id;
	int ok_same;
	int ok_distinct;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	struct replay_key k;
	char n[48];
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(n, sizeof(n), "shared-%d-xxxxxxxxxx", i);
		key(r->rp, &k, "alice", n);
		if (replay_insert(r->rp, &k, 1000) == REPLAY_OK)
			r->ok_same++;
		snprintf(n, sizeof(n), "own-%d-%d-xxxxxxxxxx", r->id, i);
		key(r->rp, &k, "alice", n);
		if (replay_insert(r->rp, &k, 1000) == REPLAY_OK)
			r->ok_distinct++;
	}
	return NULL;
}

/* Concurrent inserts: every shared key is accepted exactly once; every distinct key once. */
static void test_threads_exactly_once(void **state)
{
	struct replay *rp = replay_new(250000);
	pthread_t t[NTHREADS];
	struct race r[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		r[i] = (struct race){rp, i, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, racer, &r[i]), 0);
	}
	int same = 0, distinct = 0;
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		same += r[i].ok_same;
		distinct += r[i].ok_distinct;
	}
	assert_int_equal(same, PER_THREAD);
	assert_int_equal(distinct, NTHREADS * PER_THREAD);
	assert_int_equal(replay_count(rp), PER_THREAD + NTHREADS * PER_THREAD);
	replay_free(rp);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_seen_dup),
		cmocka_unit_test(test_key_parts),
		cmocka_unit_test(test_retention_boundary),
		cmocka_unit_test(test_cap_full_and_purge),
		cmocka_unit_test(test_no_per_handle_cap),
		cmocka_unit_test(test_expire_counts),
		cmocka_unit_test(test_out_of_order_clock),
		cmocka_unit_test(test_threads_exactly_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
