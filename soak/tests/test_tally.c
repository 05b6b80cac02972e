/* Tests for soak/tally: the delivery tracker's exact verdicts (ROOM-23), the pass/fail rule
 * of a run, and the thread-safe latency recorder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tally.h"

/* A delivery sequence and what the tracker must say about each step. */
static void test_track_sequence(void **state)
{
	static const struct {
		uint32_t sender, idx;
		int64_t seq;
		enum track_result want;
		uint64_t delivered, dup, ooo;
	} t[] = {
		{ 0, 0, 100, TRACK_NEW, 1, 0, 0 },
		{ 1, 0, 101, TRACK_NEW, 2, 0, 0 },
		{ 0, 1, 102, TRACK_NEW, 3, 0, 0 },
		{ 0, 1, 102, TRACK_DUP, 3, 1, 0 },   /* same message again */
		{ 1, 0, 999, TRACK_DUP, 3, 2, 0 },   /* same (sender, idx), other seq: a dup */
		{ 1, 2, 104, TRACK_NEW, 4, 2, 0 },
		{ 1, 1, 103, TRACK_NEW, 5, 2, 1 },   /* seq went back, and sender 1's index did */
		{ 0, 3, 104, TRACK_NEW, 6, 2, 2 },   /* seq not above the highest (104) */
		{ 0, 2, 110, TRACK_NEW, 7, 2, 3 },   /* seq rose but sender 0's index went back */
		{ 2, 0, 120, TRACK_RANGE, 7, 2, 3 }, /* unknown sender */
		{ 0, 4, 120, TRACK_RANGE, 7, 2, 3 }, /* index beyond the grid */
		{ 0, 3, 121, TRACK_DUP, 7, 3, 3 },
	};
	struct track tr;

	assert_int_equal(track_init(&tr, 2, 4), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(track_note(&tr, t[i].sender, t[i].idx, t[i].seq), t[i].want);
		assert_int_equal(tr.delivered, t[i].delivered);
		assert_int_equal(tr.duplicated, t[i].dup);
		assert_int_equal(tr.out_of_order, t[i].ooo);
	}
	track_free(&tr);
	assert_null(tr.seen);
}

/* Every bit of a larger grid is independent. */
static void test_track_grid(void **state)
{
	struct track tr;
	int64_t seq = 1;

	assert_int_equal(track_init(&tr, 50, 200), 0);
	for (uint32_t i = 0; i < 200; i++) {
		for (uint32_t a = 0; a < 50; a++)
			assert_int_equal(track_note(&tr, a, i, seq++), TRACK_NEW);
	}
	assert_int_equal(tr.delivered, 10000);
	assert_int_equal(tr.out_of_order, 0);
	assert_int_equal(track_note(&tr, 49, 199, seq), TRACK_DUP);
	track_free(&tr);
}

static void test_exact_ok(void **state)
{
	static const struct {
		const char *what;
		uint64_t sent, accepted, rejected, errors, expected, delivered, dup, ooo, dec,
			unexp;
		bool ok;
	} t[] = {
		{ "all good", 10, 10, 0, 0, 20, 20, 0, 0, 0, 0, true },
		{ "empty run", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, true },
		{ "one missing", 10, 10, 0, 0, 20, 19, 0, 0, 0, 0, false },
		{ "one extra", 10, 10, 0, 0, 20, 21, 0, 0, 0, 0, false },
		{ "duplicate", 10, 10, 0, 0, 20, 20, 1, 0, 0, 0, false },
		{ "out of order", 10, 10, 0, 0, 20, 20, 0, 1, 0, 0, false },
		{ "undecryptable", 10, 10, 0, 0, 20, 20, 0, 0, 1, 0, false },
		{ "foreign", 10, 10, 0, 0, 20, 20, 0, 0, 0, 1, false },
		{ "rejected", 10, 9, 1, 0, 18, 18, 0, 0, 0, 0, false },
		{ "transport error", 10, 9, 0, 1, 18, 18, 0, 0, 0, 0, false },
		{ "unacknowledged", 10, 9, 0, 0, 18, 18, 0, 0, 0, 0, false },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tally x;

		tally_init(&x);
		x.sent = t[i].sent;
		x.accepted = t[i].accepted;
		x.rejected = t[i].rejected;
		x.errors = t[i].errors;
		x.expected = t[i].expected;
		x.delivered = t[i].delivered;
		x.duplicated = t[i].dup;
		x.out_of_order = t[i].ooo;
		x.decrypt_failed = t[i].dec;
		x.unexpected = t[i].unexp;
		x.reconnects = 3; /* a lossless resume is not a failure */
		x.verified = 5;
		if (tally_exact_ok(&x) != t[i].ok)
			fail_msg("case '%s'", t[i].what);
	}
}

static void test_reject_and_merge(void **state)
{
	struct tally a, b;

	tally_init(&a);
	tally_init(&b);
	tally_reject(&a, 429);
	tally_reject(&a, 429);
	tally_reject(&a, 503);
	tally_reject(&b, 0); /* no status: counted, not bucketed */
	tally_reject(&b, 700);
	b.delivered = 5;
	b.expected = 7;
	tally_merge(&a, &b);
	assert_int_equal(a.rejected, 5);
	assert_int_equal(a.by_status[429 - TALLY_STATUS_MIN], 2);
	assert_int_equal(a.by_status[503 - TALLY_STATUS_MIN], 1);
	assert_int_equal(tally_missing(&a), 2);
	b.delivered = 9;
	assert_int_equal(tally_missing(&b), 0);
}

static void test_latrec(void **state)
{
	struct latrec l;
	struct hist *h = hist_new();

	assert_non_null(h);
	assert_int_equal(latrec_init(&l), 0);
	latrec_record(&l, 100);
	latrec_record(&l, 200);
	latrec_take_interval(&l, h);
	assert_int_equal(hist_count(h), 2);
	assert_int_equal(hist_max(h), 200);
	latrec_record(&l, 50);
	latrec_take_interval(&l, h); /* replaces h's content */
	assert_int_equal(hist_count(h), 1);
	latrec_take_interval(&l, h);
	assert_int_equal(hist_count(h), 0);
	hist_reset(h);
	latrec_merge_total(&l, h);
	assert_int_equal(hist_count(h), 3);
	assert_int_equal(hist_min(h), 50);
	latrec_free(&l);
	hist_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_track_sequence), cmocka_unit_test(test_track_grid),
		cmocka_unit_test(test_exact_ok),       cmocka_unit_test(test_reject_and_merge),
		cmocka_unit_test(test_latrec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
