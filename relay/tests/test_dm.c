/* Tests for relay/dm: DM-4..11 — seqs from inbox_seq, envelopes, the byte fuse, pruning,
 * pages, deletes, waiters — with injected time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "config.h"
#include "crypto/identity.h"
#include "dm.h"
#include "identity.h"
#include "proto/clock.h"

#define T INT64_C(1767225600000)
#define NONCE "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH"
#define EPH "2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y="

static struct crypto_identity keys;

struct fx {
	struct config cfg;
	struct idstore *ids;
	struct identity *alice;
	struct dmstore *dms;
};

/* A store with the relay's defaults plus the given flags (NULL-terminated). */
static struct fx *fx_new(const char *const *flags)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *argv[16] = {"test"};
	int argc = 1;
	for (; flags && flags[argc - 1]; argc++)
		argv[argc] = (char *)flags[argc - 1];
	char *envp[] = {NULL};
	assert_int_equal(config_load(&f->cfg, argc, argv, envp, stdout, stderr), 0);
	f->ids = ids_new(100, NULL, stderr);
	f->alice = ids_make("alice", 5, keys.box_pub_b64, keys.sign_pub_b64, T, false, "", 0);
	assert_int_equal(ids_add(f->ids, f->alice, NULL), IDS_OK);
	f->dms = dm_new(f->ids, &f->cfg);
	assert_non_null(f->dms);
	return f;
}

static void fx_free(struct fx *f)
{
	dm_free(f->dms);
	ids_free(f->ids);
	free(f);
}

static int64_t send(struct fx *f, const char *ct, const char *from, int64_t now, char id[37])
{
	struct dm_in in = {.ct = ct, .ct_len = strlen(ct), .nonce = NONCE, .nonce_len = strlen(NONCE), .eph = EPH,
			   .eph_len = strlen(EPH), .from = from, .from_len = from ? strlen(from) : 0};
	int64_t seq = 0;
	char tmp[37];
	assert_int_equal(dm_send(f->dms, f->alice, &in, now, &seq, id ? id : tmp), DM_OK);
	return seq;
}

/* DM-4/DM-5: seq from inbox_seq, exact envelope JSON, anonymous and verified. */
static void test_send_envelopes(void **state)
{
	struct fx *f = fx_new(NULL);
	char id1[37], id2[37], want[512];
	assert_int_equal(send(f, "AAAA", NULL, T, id1), T + 1);
	assert_int_equal(send(f, "QUJD", "bob", T + 5, id2), T + 2); /* not now+1: the persisted seq */
	assert_int_equal(atomic_load(&f->alice->inbox_seq), T + 2);
	struct dm_env **evs;
	bool more = true;
	assert_int_equal(dm_page(f->dms, f->alice, 0, DM_PAGE, T + 10, &evs, &more), 2);
	assert_false(more);
	snprintf(want, sizeof(want),
		 "{\"seq\":%lld,\"id\":\"%s\",\"ciphertext\":\"AAAA\",\"nonce\":\"" NONCE "\",\"sender_eph_pub\":\"" EPH
		 "\",\"from_handle\":null,\"from_verified\":false,\"ts\":%lld}",
		 (long long)(T + 1), id1, (long long)T);
	assert_int_equal(evs[0]->len, strlen(want));
	assert_memory_equal(evs[0]->json, want, strlen(want));
	snprintf(want, sizeof(want),
		 "{\"seq\":%lld,\"id\":\"%s\",\"ciphertext\":\"QUJD\",\"nonce\":\"" NONCE "\",\"sender_eph_pub\":\"" EPH
		 "\",\"from_handle\":\"bob\",\"from_verified\":true,\"ts\":%lld}",
		 (long long)(T + 2), id2, (long long)(T + 5));
	assert_int_equal(evs[1]->len, strlen(want));
	assert_memory_equal(evs[1]->json, want, strlen(want));
	dm_env_release_array(evs, 2);
	assert_int_equal(dm_page(f->dms, f->alice, T + 1, DM_PAGE, T + 10, &evs, &more), 1);
	assert_int_equal(evs[0]->seq, T + 2);
	dm_env_release_array(evs, 1);
	assert_int_equal(dm_page(f->dms, f->alice, T + 2, DM_PAGE, T + 10, &evs, &more), 0);
	assert_null(evs);
	assert_int_equal(dm_bytes(f->dms), 2 * (4 + 512));
	fx_free(f);
}

/* DM-1j: a DM over the byte fuse is refused and consumes no seq (INV-9). */
static void test_fuse_consumes_no_seq(void **state)
{
	const char *flags[] = {"--inbox-global-max-bytes", "1040", NULL}; /* room for two of 516 */
	struct fx *f = fx_new(flags);
	char id[37];
	assert_int_equal(send(f, "AAAA", NULL, T, id), T + 1);
	assert_int_equal(send(f, "AAAA", NULL, T, NULL), T + 2);
	struct dm_in in = {.ct = "AAAA", .ct_len = 4, .nonce = NONCE, .nonce_len = 32, .eph = EPH, .eph_len = 44};
	int64_t seq = -1;
	char id3[37];
	assert_int_equal(dm_send(f->dms, f->alice, &in, T, &seq, id3), DM_FULL);
	assert_int_equal(seq, -1);
	assert_int_equal(atomic_load(&f->alice->inbox_seq), T + 2);
	assert_int_equal(dm_delete(f->dms, f->alice, id, 36), 1);
	assert_int_equal(send(f, "AAAA", NULL, T, NULL), T + 3); /* no gap */
	fx_free(f);
}

/* DM-11: INBOX_MAX drops the oldest; INBOX_TTL_MS drops expired ones from the head; empty
 * inboxes go away; bytes are released. */
static void test_prune(void **state)
{
	const char *flags[] = {"--inbox-max", "3", "--inbox-ttl-ms", "1000", NULL};
	struct fx *f = fx_new(flags);
	for (int i = 0; i < 5; i++)
		send(f, "AAAA", NULL, T + i * 100, NULL);
	assert_int_equal(dm_count(f->dms, f->alice), 3);
	assert_int_equal(dm_bytes(f->dms), 3 * 516);
	struct dm_env **evs;
	bool more;
	assert_int_equal(dm_page(f->dms, f->alice, 0, DM_PAGE, T + 400, &evs, &more), 3);
	assert_int_equal(evs[0]->seq, T + 3);
	assert_int_equal(evs[2]->seq, T + 5);
	dm_env_release_array(evs, 3);
	/* ts T+200 expires once now - 1000 > T+200 */
	assert_int_equal(dm_prune_all(f->dms, T + 1200), 0);
	assert_int_equal(dm_prune_all(f->dms, T + 1201), 1);
	assert_int_equal(dm_count(f->dms, f->alice), 2);
	/* an inbox wait prunes too */
	assert_int_equal(dm_page(f->dms, f->alice, 0, DM_PAGE, T + 1301, &evs, &more), 1);
	dm_env_release_array(evs, 1);
	assert_int_equal(dm_prune_all(f->dms, T + 5000), 1);
	assert_null(f->alice->inbox);
	assert_int_equal(dm_bytes(f->dms), 0);
	fx_free(f);
}

/* DM-7e: pages of 50 with has_more. */
static void test_pages(void **state)
{
	struct fx *f = fx_new(NULL);
	for (int i = 0; i < 60; i++)
		send(f, "AAAA", NULL, T, NULL);
	struct dm_env **evs;
	bool more = false;
	assert_int_equal(dm_page(f->dms, f->alice, 0, DM_PAGE, T, &evs, &more), 50);
	assert_true(more);
	int64_t last = evs[49]->seq;
	assert_int_equal(last, T + 50);
	dm_env_release_array(evs, 50);
	assert_int_equal(dm_page(f->dms, f->alice, last, DM_PAGE, T, &evs, &more), 10);
	assert_false(more);
	assert_int_equal(evs[9]->seq, T + 60);
	dm_env_release_array(evs, 10);
	fx_free(f);
}

/* DM-9: every envelope with the id goes; unknown ids and no inbox remove 0. */
static void test_delete(void **state)
{
	struct fx *f = fx_new(NULL);
	char id[37];
	assert_int_equal(dm_delete(f->dms, f->alice, "nope", 4), 0);
	send(f, "AAAA", NULL, T, id);
	send(f, "AAAA", NULL, T, NULL);
	assert_int_equal(dm_delete(f->dms, f->alice, id, 35), 0);
	assert_int_equal(dm_delete(f->dms, f->alice, id, 36), 1);
	assert_int_equal(dm_delete(f->dms, f->alice, id, 36), 0);
	assert_int_equal(dm_count(f->dms, f->alice), 1);
	assert_int_equal(dm_bytes(f->dms), 516);
	fx_free(f);
}

/* CAP-4 / CAP-15: tested before incrementing, released exactly once; an inbox held only by
 * a waiter disappears with it. */
static void test_waiter_cap(void **state)
{
	struct fx *f = fx_new(NULL);
	assert_true(dm_waiter_take(f->dms, f->alice, 2));
	assert_true(dm_waiter_take(f->dms, f->alice, 2));
	assert_false(dm_waiter_take(f->dms, f->alice, 2));
	assert_non_null(f->alice->inbox);
	dm_waiter_release(f->dms, f->alice);
	assert_true(dm_waiter_take(f->dms, f->alice, 2));
	dm_waiter_release(f->dms, f->alice);
	dm_waiter_release(f->dms, f->alice);
	assert_null(f->alice->inbox);
	fx_free(f);
}

struct waitarg {
	struct fx *f;
	int64_t after, deadline;
	struct dm_env *got;
};

static void *waiter(void *arg)
{
	struct waitarg *w = arg;
	w->got = dm_wait(w->f->dms, w->f->alice, w->after, w->deadline);
	return NULL;
}

/* DM-8: a parked waiter is woken by a new envelope with seq > after; one with seq <= after
 * leaves it parked until the deadline. */
static void test_wait_wakes(void **state)
{
	struct fx *f = fx_new(NULL);
	assert_true(dm_waiter_take(f->dms, f->alice, 64));
	struct waitarg w = {f, 0, clock_mono_ms() + 10000, NULL};
	pthread_t t;
	int64_t start = clock_mono_ms();
	assert_int_equal(pthread_create(&t, NULL, waiter, &w), 0);
	int64_t seq = send(f, "QUJD", NULL, T, NULL);
	pthread_join(t, NULL);
	assert_non_null(w.got);
	assert_int_equal(w.got->seq, seq);
	assert_true(clock_mono_ms() - start < 5000);
	dm_env_unref(w.got);

	w = (struct waitarg){f, seq + 1000, clock_mono_ms() + 300, NULL};
	start = clock_mono_ms();
	assert_int_equal(pthread_create(&t, NULL, waiter, &w), 0);
	send(f, "AAAA", NULL, T, NULL); /* seq + 1 <= after */
	pthread_join(t, NULL);
	assert_null(w.got);
	assert_true(clock_mono_ms() - start >= 290);
	dm_waiter_release(f->dms, f->alice);
	fx_free(f);
}

/* Shutdown wakes parked waiters at once and refuses new ones. */
static void test_shutdown(void **state)
{
	struct fx *f = fx_new(NULL);
	assert_true(dm_waiter_take(f->dms, f->alice, 64));
	struct waitarg w = {f, 0, clock_mono_ms() + 30000, NULL};
	pthread_t t;
	int64_t start = clock_mono_ms();
	assert_int_equal(pthread_create(&t, NULL, waiter, &w), 0);
	dm_shutdown(f->dms);
	pthread_join(t, NULL);
	assert_null(w.got);
	assert_true(clock_mono_ms() - start < 10000);
	dm_waiter_release(f->dms, f->alice);
	assert_false(dm_waiter_take(f->dms, f->alice, 64));
	fx_free(f);
}

#define NSEND 8
#define PER 500

static void *sender(void *arg)
{
	struct fx *f = arg;
	for (int i = 0; i < PER; i++)
		send(f, "AAAA", "bob", T, NULL);
	return NULL;
}

/* INV-9 under contention: the inbox is in strictly increasing seq order without gaps. */
static void test_concurrent_seqs(void **state)
{
	const char *flags[] = {"--inbox-max", "10000", NULL};
	struct fx *f = fx_new(flags);
	pthread_t t[NSEND];
	for (int i = 0; i < NSEND; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sender, f), 0);
	for (int i = 0; i < NSEND; i++)
		pthread_join(t[i], NULL);
	struct dm_env **evs;
	bool more;
	assert_int_equal(dm_page(f->dms, f->alice, 0, 10000, T, &evs, &more), NSEND * PER);
	for (int i = 0; i < NSEND * PER; i++)
		assert_int_equal(evs[i]->seq, T + 1 + i);
	dm_env_release_array(evs, NSEND * PER);
	fx_free(f);
}

int main(void)
{
	if (crypto_init() < 0 || crypto_identity_new(&keys, "alice") < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_envelopes),
		cmocka_unit_test(test_fuse_consumes_no_seq),
		cmocka_unit_test(test_prune),
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_waiter_cap),
		cmocka_unit_test(test_wait_wakes),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_concurrent_seqs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
