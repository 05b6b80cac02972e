/* Tests for relay/claim: CLAIM-2..5 and ACK-1..4 on real hub rooms, with injected time for
 * leases (NUM-4 clamp arithmetic and the "now - claimed_at > ttl_ms" expiry), CAP-11 LRU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "claim.h"
#include "config.h"
#include "crypto/identity.h"
#include "hub.h"
#include "identity.h"
#include "proto/json.h"
#include "proto/num.h"

#define N INT64_C(1767225600000) /* injected claim clock */

static struct crypto_identity keys;

struct fx {
	struct config cfg;
	struct hub *hub;
	struct room *room;
	struct idstore *ids;
	struct identity *alice, *bob;
	struct claims *cs;
	struct claim_excl ex;
};

static struct fx *fx_new(const char *const *flags, int64_t per_handle)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *argv[16] = {"test"};
	int argc = 1;
	for (; flags && flags[argc - 1]; argc++)
		argv[argc] = (char *)flags[argc - 1];
	char *envp[] = {NULL};
	assert_int_equal(config_load(&f->cfg, argc, argv, envp, stdout, stderr), 0);
	f->hub = hub_new(&f->cfg);
	bool capped;
	f->room = hub_get(f->hub, "ROOM2345", true, &capped);
	assert_non_null(f->room);
	f->ids = ids_new(100, NULL, stderr);
	f->alice = ids_make("alice", 5, keys.box_pub_b64, keys.sign_pub_b64, N, false, "", 0);
	f->bob = ids_make("bob", 3, keys.box_pub_b64, keys.sign_pub_b64, N, false, "", 0);
	assert_int_equal(ids_add(f->ids, f->alice, NULL), IDS_OK);
	assert_int_equal(ids_add(f->ids, f->bob, NULL), IDS_OK);
	f->cs = claims_new(per_handle);
	assert_int_equal(claim_excl_build(&f->ex, "alice", 5, NULL), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	claim_excl_free(&f->ex);
	claims_free(f->cs);
	ids_free(f->ids);
	hub_release(f->hub, f->room);
	hub_free(f->hub);
	free(f);
}

static int64_t post(struct fx *f, struct room *room, const char *sender, bool verified)
{
	struct post p = {.ct = "AAAA", .ct_len = 4, .nonce = "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH", .nonce_len = 32,
			 .sender = sender, .sender_len = strlen(sender), .verified = verified};
	int64_t seq;
	char id[37];
	assert_int_equal(room_post(f->hub, room ? room : f->room, &p, &seq, id), POST_OK);
	return seq;
}

static void take(struct fx *f, struct identity *id, const char *room_id, int64_t ttl, bool clamp, int64_t now,
		 struct claim_out *o)
{
	struct room *room = hub_get(f->hub, room_id, true, NULL);
	assert_non_null(room);
	assert_int_equal(claim_take(f->cs, f->hub, room, id, room_id, &f->ex, ttl, clamp, now, o), 0);
	hub_release(f->hub, room);
}

static void drop(struct claim_out *o)
{
	if (o->got)
		ev_unref(o->ev);
}

/* CLAIM-3/5 and ACK-1..4 end to end on one room. */
static void test_claim_ack_flow(void **state)
{
	struct fx *f = fx_new(NULL, 64);
	int64_t s1 = post(f, NULL, "bob", false), s2 = post(f, NULL, "carol", false), s3 = post(f, NULL, "@alice", true);
	struct claim_out o, o2;
	int64_t cur;
	take(f, f->alice, "ROOM2345", 60000, true, N, &o);
	assert_true(o.got);
	assert_false(o.again);
	assert_int_equal(o.ev->seq, s1);
	assert_int_equal(o.cursor, s1 - 1); /* CLAIM-2: a new record's cursor 0 is clamped */
	assert_int_equal(o.last_seq, s3);
	assert_int_equal(strlen(o.claim_id), 36);
	/* CLAIM-3: the same claim_id again, lease not extended */
	take(f, f->alice, "ROOM2345", 300000, true, N + 1, &o2);
	assert_true(o2.got && o2.again);
	assert_string_equal(o2.claim_id, o.claim_id);
	assert_int_equal(o2.ev->seq, s1);
	drop(&o2);
	/* ACK-3: wrong id, wrong seq */
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", "00000000-0000-4000-8000-000000000000", 36, s1, N, &cur),
			 CLAIM_ACK_STALE);
	assert_int_equal(cur, s1 - 1);
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", o.claim_id, 36, s2, N, &cur), CLAIM_ACK_STALE);
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", o.claim_id, 36, 0, N, &cur), CLAIM_ACK_STALE);
	/* ACK-4 then ACK-2 */
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", o.claim_id, 36, s1, N, &cur), CLAIM_ACK_ADVANCED);
	assert_int_equal(cur, s1);
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", o.claim_id, 36, s1, N, &cur), CLAIM_ACK_BEHIND);
	assert_int_equal(cur, s1);
	/* after the ack the lease is gone: a stale id for a later seq is ACK-3 */
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", o.claim_id, 36, s2, N, &cur), CLAIM_ACK_STALE);
	drop(&o);
	take(f, f->alice, "ROOM2345", 60000, true, N, &o);
	assert_true(o.got);
	assert_int_equal(o.ev->seq, s2);
	assert_int_equal(o.cursor, s1);
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", o.claim_id, 36, s2, N, &cur), CLAIM_ACK_ADVANCED);
	drop(&o);
	/* CLAIM-4: the own "@alice" message is excluded, so nothing is left */
	take(f, f->alice, "ROOM2345", 60000, true, N, &o);
	assert_false(o.got);
	assert_int_equal(o.cursor, s2);
	assert_int_equal(o.last_seq, s3);
	/* ...but bob gets his own cursor */
	take(f, f->bob, "ROOM2345", 60000, true, N, &o);
	assert_true(o.got);
	assert_int_equal(o.ev->seq, s1);
	assert_int_equal(o.cursor, s1 - 1);
	drop(&o);
	fx_free(f);
}

/* ACK-1: no record, and the lookup creates none. */
static void test_ack_no_record(void **state)
{
	struct fx *f = fx_new(NULL, 64);
	int64_t cur = 7;
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", "", 0, 5, N, &cur), CLAIM_ACK_NO_RECORD);
	assert_int_equal(cur, 0);
	assert_int_equal(claim_records(f->cs, f->alice), 0);
	struct claim_out o;
	take(f, f->alice, "ROOM2345", 60000, true, N, &o); /* empty room: creates the record */
	assert_false(o.got);
	assert_int_equal(claim_records(f->cs, f->alice), 1);
	assert_int_equal(claim_ack(f->cs, f->alice, "OTHER1", "", 0, 5, N, &cur), CLAIM_ACK_NO_RECORD);
	assert_int_equal(claim_records(f->cs, f->alice), 1);
	fx_free(f);
}

/* CLAIM-4: {handle, "@"+handle} plus string elements of 1-64 units; a non-array is ignored. */
static void test_exclude_set(void **state)
{
	struct fx *f = fx_new(NULL, 64);
	char long65[66];
	memset(long65, 'x', 65);
	long65[65] = '\0';
	char body[256];
	snprintf(body, sizeof(body), "[\"carol\",\"\",\"%s\",5,null,\"bob\",\"\xf0\x9f\x98\x80\"]", long65);
	cJSON *arr = json_parse(body, strlen(body), 32, true);
	struct claim_excl ex;
	assert_int_equal(claim_excl_build(&ex, "alice", 5, arr), 0);
	assert_int_equal(ex.n, 5);
	assert_true(claim_excl_has(&ex, "alice", 5));
	assert_true(claim_excl_has(&ex, "@alice", 6));
	assert_true(claim_excl_has(&ex, "carol", 5));
	assert_true(claim_excl_has(&ex, "bob", 3));
	assert_true(claim_excl_has(&ex, "\xf0\x9f\x98\x80", 4));
	assert_false(claim_excl_has(&ex, "", 0));
	assert_false(claim_excl_has(&ex, long65, 65));
	assert_false(claim_excl_has(&ex, "Bob", 3)); /* exact matching */
	assert_false(claim_excl_has(&ex, "@bob", 4));
	/* a claim skips excluded senders */
	post(f, NULL, "bob", false);
	post(f, NULL, "carol", false);
	int64_t s3 = post(f, NULL, "dave", false);
	claim_excl_free(&f->ex);
	f->ex = ex;
	struct claim_out o;
	take(f, f->alice, "ROOM2345", 60000, true, N, &o);
	assert_true(o.got);
	assert_int_equal(o.ev->seq, s3);
	drop(&o);
	cJSON_Delete(arr);
	/* a non-array exclude_senders is ignored */
	cJSON *obj = json_parse("{\"bob\":1}", 9, 32, true);
	assert_int_equal(claim_excl_build(&ex, "alice", 5, obj), 0);
	assert_int_equal(ex.n, 2);
	claim_excl_free(&ex);
	cJSON_Delete(obj);
	fx_free(f);
}

/* NUM-4 clamp arithmetic and lease expiry: expired only when now - claimed_at > ttl_ms. */
static void test_lease_expiry(void **state)
{
	struct fx *f = fx_new(NULL, 64);
	int64_t s1 = post(f, NULL, "bob", false), cur;
	struct {
		const char *q;
		int64_t dflt, ttl;
	} cases[] = {
		{"1", 60000, 60000},        /* below the clamp */
		{"120000", 60000, 120000},
		{"999999", 60000, 300000},  /* above the clamp */
		{"0", 1000, 1000},          /* default, not clamped */
		{"abc", 1000, 1000},
		{"-5", 60000, 60000},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ttl = num_claim_ttl_ms(cases[i].q, strlen(cases[i].q), cases[i].dflt);
		assert_int_equal(ttl, cases[i].ttl);
		int64_t t0 = N + (int64_t)i * 1000000;
		struct claim_out a, b, c;
		take(f, f->alice, "ROOM2345", ttl, true, t0, &a);
		assert_true(a.got && !a.again);
		assert_int_equal(a.ev->seq, s1);
		take(f, f->alice, "ROOM2345", ttl, true, t0 + ttl, &b); /* not yet expired */
		assert_true(b.again);
		assert_string_equal(b.claim_id, a.claim_id);
		take(f, f->alice, "ROOM2345", ttl, true, t0 + ttl + 1, &c); /* expired: re-claimable */
		assert_true(c.got && !c.again);
		assert_int_equal(c.ev->seq, s1);
		assert_string_not_equal(c.claim_id, a.claim_id);
		/* the expired lease cannot be acked; the new one could until it expires */
		assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", a.claim_id, 36, s1, t0 + ttl + 1, &cur),
				 CLAIM_ACK_STALE);
		assert_int_equal(claim_ack(f->cs, f->alice, "ROOM2345", c.claim_id, 36, s1, t0 + 2 * ttl + 2, &cur),
				 CLAIM_ACK_STALE);
		drop(&a);
		drop(&b);
		drop(&c);
	}
	fx_free(f);
}

/* CLAIM-2 clamp: a cursor below oldest_seq - 1 is raised; without clamp (CLAIM-7) it is not. */
static void test_clamp(void **state)
{
	const char *flags[] = {"--recent-max", "3", NULL};
	struct fx *f = fx_new(flags, 64);
	int64_t s[5];
	for (int i = 0; i < 5; i++)
		s[i] = post(f, NULL, "carol", false);
	struct claim_out o;
	take(f, f->bob, "ROOM2345", 60000, false, N, &o);
	assert_int_equal(o.cursor, 0); /* no clamp */
	assert_int_equal(o.ev->seq, s[2]);
	drop(&o);
	take(f, f->alice, "ROOM2345", 60000, true, N, &o);
	assert_int_equal(o.cursor, s[2] - 1);
	assert_int_equal(o.ev->seq, s[2]);
	assert_int_equal(o.last_seq, s[4]);
	/* the claimed message is pruned while leased: the lease is dropped and the next message
	 * claimed under a new id */
	char first[37];
	memcpy(first, o.claim_id, sizeof(first));
	drop(&o);
	s[0] = post(f, NULL, "carol", false); /* buffer now s[3], s[4], s[0] */
	take(f, f->alice, "ROOM2345", 60000, true, N + 1, &o);
	assert_true(o.got && !o.again);
	assert_int_equal(o.ev->seq, s[3]);
	assert_int_equal(o.cursor, s[3] - 1);
	assert_string_not_equal(o.claim_id, first);
	drop(&o);
	fx_free(f);
}

/* CAP-11: at most N records per handle, least recently touched evicted; ack does not touch. */
static void test_lru(void **state)
{
	struct fx *f = fx_new(NULL, 2);
	struct claim_out o;
	int64_t cur;
	take(f, f->alice, "ROOMAAA1", 60000, true, N, &o);
	take(f, f->alice, "ROOMBBB2", 60000, true, N, &o);
	assert_int_equal(claim_records(f->cs, f->alice), 2);
	/* ack on A must not make it recent */
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOMAAA1", "", 0, 0, N, &cur), CLAIM_ACK_STALE);
	take(f, f->alice, "ROOMCCC3", 60000, true, N, &o); /* evicts A */
	assert_int_equal(claim_records(f->cs, f->alice), 2);
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOMAAA1", "", 0, 0, N, &cur), CLAIM_ACK_NO_RECORD);
	take(f, f->alice, "ROOMBBB2", 60000, true, N, &o); /* touch B */
	take(f, f->alice, "ROOMDDD4", 60000, true, N, &o); /* evicts C */
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOMCCC3", "", 0, 0, N, &cur), CLAIM_ACK_NO_RECORD);
	assert_int_equal(claim_ack(f->cs, f->alice, "ROOMBBB2", "", 0, 0, N, &cur), CLAIM_ACK_STALE);
	assert_int_equal(claim_records(f->cs, f->bob), 0); /* per handle */
	fx_free(f);
}

int main(void)
{
	if (crypto_init() < 0 || crypto_identity_new(&keys, "alice") < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claim_ack_flow),
		cmocka_unit_test(test_ack_no_record),
		cmocka_unit_test(test_exclude_set),
		cmocka_unit_test(test_lease_expiry),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_lru),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
