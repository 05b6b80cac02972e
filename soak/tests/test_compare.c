/* Tests for soak/compare: which differences between two results are regressions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare.h"
#include "report.h"

/* A result as `rooms --json` writes it (abridged). */
static const char base_json[] =
	"{\"counts\":{\"accepted\":100,\"decrypt_failed\":0,\"delivered\":100,\"duplicated\":0,"
	"\"errors\":0,\"expected\":100,\"missing\":0,\"out_of_order\":0,\"reconnects\":0,"
	"\"rejected\":0,\"rejected_by_status\":{},\"sent\":100,\"unexpected\":0,\"verified\":0},"
	"\"duration_s\":0.5,\"exact_counts\":true,\"failures\":[],"
	"\"latency_ms\":{\"delivery\":{\"count\":100,\"max\":9,\"mean\":1,\"p50\":1,\"p90\":2,"
	"\"p99\":3,\"p99_9\":5}},\"ok\":true,\"params\":{\"base\":\"http://a\",\"rooms\":5},"
	"\"relay\":{\"cpu_s\":0.5,\"peak_rss_mb\":40,\"pid\":7},\"scenario\":\"rooms\","
	"\"throughput\":{\"delivered_per_s\":1000},\"tool\":\"sealroom-soak 0.1.0\"}";

/* Set the number at dotted path in j (creating nothing: the path must exist). */
static void set_num(cJSON *j, const char *path, double v)
{
	char buf[128], *save = NULL, *tok;
	cJSON *cur = j;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
	assert_non_null(cur);
	cJSON_SetNumberValue(cur, v);
}

static int run_cmp(const cJSON *b, const cJSON *n, double tol)
{
	struct compare_opts co = { .tolerance = tol, .latency_floor_ms = 0.05 };
	FILE *devnull = fopen("/dev/null", "w");
	int rc;

	assert_non_null(devnull);
	rc = compare_any(b, n, &co, devnull);
	fclose(devnull);
	return rc;
}

static void test_table(void **state)
{
	static const struct {
		const char *what;
		const char *path;	/* NULL: no change */
		double v;
		bool exact_counts;	/* of the new run */
		int want;
	} t[] = {
		{ "identical", NULL, 0, true, 0 },
		{ "throughput -5%", "throughput.delivered_per_s", 950, true, 0 },
		{ "throughput -20%", "throughput.delivered_per_s", 800, true, 1 },
		{ "throughput +50%", "throughput.delivered_per_s", 1500, true, 0 },
		{ "p99 +50%", "latency_ms.delivery.p99", 4.5, true, 1 },
		{ "p50 +5%", "latency_ms.delivery.p50", 1.05, true, 0 },
		{ "mean x3", "latency_ms.delivery.mean", 3, true, 1 },
		{ "max x10 is info", "latency_ms.delivery.max", 90, true, 0 },
		{ "p99.9 x10 is info", "latency_ms.delivery.p99_9", 50, true, 0 },
		{ "relay cpu x3 is info", "relay.cpu_s", 1.5, true, 0 },
		{ "one delivery less", "counts.delivered", 99, true, 1 },
		{ "sample count differs", "latency_ms.delivery.count", 99, true, 1 },
		{ "volume differs, duration-bound", "counts.delivered", 99, false, 0 },
		{ "missing, duration-bound", "counts.missing", 1, false, 1 },
		{ "duplicate", "counts.duplicated", 2, true, 1 },
		{ "reconnects differ", "counts.reconnects", 1, true, 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cJSON *b = cJSON_Parse(base_json), *n = cJSON_Parse(base_json);
		int got;

		assert_non_null(b);
		if (t[i].path)
			set_num(n, t[i].path, t[i].v);
		cJSON_ReplaceItemInObject(n, "exact_counts", cJSON_CreateBool(t[i].exact_counts));
		got = run_cmp(b, n, 0.10);
		if (got != t[i].want)
			fail_msg("case '%s': %d regressions, want %d", t[i].what, got, t[i].want);
		cJSON_Delete(b);
		cJSON_Delete(n);
	}
}

/* Latency increases below the absolute floor are noise, whatever their ratio. */
static void test_latency_floor(void **state)
{
	cJSON *b = cJSON_Parse(base_json), *n = cJSON_Parse(base_json);

	set_num(b, "latency_ms.delivery.p50", 0.02);
	set_num(n, "latency_ms.delivery.p50", 0.06); /* x3, but +0.04 ms */
	assert_int_equal(run_cmp(b, n, 0.10), 0);
	set_num(n, "latency_ms.delivery.p50", 0.08); /* +0.06 ms */
	assert_int_equal(run_cmp(b, n, 0.10), 1);
	cJSON_Delete(b);
	cJSON_Delete(n);
}

static void test_tolerance(void **state)
{
	cJSON *b = cJSON_Parse(base_json), *n = cJSON_Parse(base_json);

	set_num(n, "throughput.delivered_per_s", 800);
	assert_int_equal(run_cmp(b, n, 0.10), 1);
	assert_int_equal(run_cmp(b, n, 0.25), 0);
	cJSON_Delete(b);
	cJSON_Delete(n);
}

static void test_structure(void **state)
{
	cJSON *b = cJSON_Parse(base_json), *n;

	/* a gated metric that disappeared */
	n = cJSON_Parse(base_json);
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(n, "latency_ms"), "delivery");
	assert_int_equal(run_cmp(b, n, 0.10), 5); /* count (exact) and mean, p50, p90, p99 */
	cJSON_Delete(n);
	/* the new run failed */
	n = cJSON_Parse(base_json);
	cJSON_ReplaceItemInObject(n, "ok", cJSON_CreateFalse());
	assert_int_equal(run_cmp(b, n, 0.10), 1);
	cJSON_Delete(n);
	/* a new status bucket is a count that differs (absent in base: a new metric, info),
	 * but counts.rejected moves too */
	n = cJSON_Parse(base_json);
	set_num(n, "counts.rejected", 3);
	cJSON_AddNumberToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "counts"),
						    "rejected_by_status"),
				"429", 3);
	assert_int_equal(run_cmp(b, n, 0.10), 1);
	cJSON_Delete(n);
	/* different scenarios are not comparable */
	n = cJSON_Parse(base_json);
	cJSON_ReplaceItemInObject(n, "scenario", cJSON_CreateString("fanout"));
	assert_int_equal(run_cmp(b, n, 0.10), -1);
	/* not a result at all */
	assert_int_equal(run_cmp(b, cJSON_GetObjectItem(n, "counts"), 0.10), -1);
	cJSON_Delete(n);
	cJSON_Delete(b);
}

/* soak/baseline.json is a bundle: results keyed by scenario. */
static void test_bundle(void **state)
{
	cJSON *bundle = cJSON_CreateObject(), *n = cJSON_Parse(base_json), *other;

	other = cJSON_Parse(base_json);
	cJSON_ReplaceItemInObject(other, "scenario", cJSON_CreateString("fanout"));
	cJSON_AddItemToObject(bundle, "rooms", cJSON_Parse(base_json));
	cJSON_AddItemToObject(bundle, "fanout", other);
	assert_int_equal(run_cmp(bundle, n, 0.10), 0);
	set_num(n, "throughput.delivered_per_s", 10);
	assert_int_equal(run_cmp(bundle, n, 0.10), 1);
	/* bundle against bundle: every common scenario counts */
	{
		cJSON *nb = cJSON_Duplicate(bundle, true);

		set_num(cJSON_GetObjectItem(nb, "fanout"), "throughput.delivered_per_s", 10);
		set_num(cJSON_GetObjectItem(nb, "rooms"), "counts.duplicated", 1);
		assert_int_equal(run_cmp(bundle, nb, 0.10), 2);
		cJSON_Delete(nb);
	}
	cJSON_Delete(n);
	n = cJSON_Parse(base_json);
	cJSON_ReplaceItemInObject(n, "scenario", cJSON_CreateString("dm"));
	assert_int_equal(run_cmp(bundle, n, 0.10), -1); /* no dm in the base */
	cJSON_Delete(n);
	cJSON_Delete(bundle);
}

/* Repeats of a benchmark merge into per-metric medians. */
static void test_median(void **state)
{
	static const double tput[] = { 900, 1200, 1000 }, p99[] = { 3, 30, 4 };
	cJSON *runs[3], *m;

	for (int i = 0; i < 3; i++) {
		runs[i] = cJSON_Parse(base_json);
		set_num(runs[i], "throughput.delivered_per_s", tput[i]);
		set_num(runs[i], "latency_ms.delivery.p99", p99[i]);
	}
	m = results_median(runs, 3);
	assert_non_null(m);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "throughput"), "delivered_per_s")
			    ->valuedouble == 1000);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "latency_ms"),
							    "delivery"),
					"p99")
			    ->valuedouble == 4); /* the 30 ms outlier does not move it */
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "counts"), "delivered")
			    ->valuedouble == 100);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m, "ok")));
	assert_true(cJSON_GetObjectItem(m, "repeats")->valuedouble == 3);
	cJSON_Delete(m);
	/* an even count averages the middle two; one failed run fails the merge */
	cJSON_ReplaceItemInObject(runs[1], "ok", cJSON_CreateFalse());
	m = results_median(runs, 2);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "throughput"), "delivered_per_s")
			    ->valuedouble == 1050);
	assert_false(cJSON_IsTrue(cJSON_GetObjectItem(m, "ok")));
	cJSON_Delete(m);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(runs[i]);
}

static void test_sort_keys(void **state)
{
	cJSON *j = cJSON_Parse("{\"b\":1,\"a\":{\"z\":1,\"y\":[{\"d\":1,\"c\":2}]},\"c\":3}");
	char *s;

	json_sort_keys(j);
	s = cJSON_PrintUnformatted(j);
	assert_string_equal(s, "{\"a\":{\"y\":[{\"c\":2,\"d\":1}],\"z\":1},\"b\":1,\"c\":3}");
	/* cJSON's list invariant (child->prev is the last member) still holds */
	assert_string_equal(j->child->prev->string, "c");
	cJSON_AddNumberToObject(j, "d", 4);
	free(s);
	s = cJSON_PrintUnformatted(j);
	assert_string_equal(s,
			    "{\"a\":{\"y\":[{\"c\":2,\"d\":1}],\"z\":1},\"b\":1,\"c\":3,\"d\":4}");
	free(s);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),	  cmocka_unit_test(test_latency_floor),
		cmocka_unit_test(test_tolerance), cmocka_unit_test(test_structure),
		cmocka_unit_test(test_bundle),	  cmocka_unit_test(test_median),
		cmocka_unit_test(test_sort_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
