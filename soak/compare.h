/* compare — regression check between two sealroom-soak JSON results (report.h layout), for
 * tracking performance across commits (`sealroom-soak compare BASE.json NEW.json`).
 *
 * Every numeric leaf is classified by its path:
 *   counts.*, latency_ms.*.count   exact: any difference is a regression. When either run has
 *                                  "exact_counts": false (duration-bound), only the counts
 *                                  that must be zero are exact (missing, duplicated,
 *                                  out_of_order, decrypt_failed, unexpected, errors,
 *                                  rejected, rejected_by_status.*); the rest are info.
 *   throughput.*                   higher is better: regression if new < base * (1 - tol).
 *   latency_ms.*.{p50,p90,p99,mean} lower is better: regression if new > base * (1 + tol)
 *                                  and new - base > the latency floor (absolute noise guard).
 *   latency_ms.*.{p99_9,max}, duration_s, relay.*, drift.*, ...   info only (single tail
 *                                  samples and /proc tick counts are too noisy to gate on).
 * A metric the base has and the new run lacks is a regression when it is gated or exact.
 * "ok": false in the new run is a regression. params.* and scenario must match: differing
 * params are reported; a different scenario is not comparable.
 *
 * Pure apart from writing the table to out; thread-safe.
 */
#ifndef SEALROOM_SOAK_COMPARE_H
#define SEALROOM_SOAK_COMPARE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>

struct compare_opts {
	double tolerance;	  /* relative, e.g. 0.10 */
	double latency_floor_ms;  /* latency increases below this are noise (default 0.05) */
	bool all;		  /* print unchanged metrics too */
};

/* A bundle is an object whose members are results keyed by their name ("name": --name, else
 * the scenario; what `bundle` writes and soak/baseline.json holds). Compare every result of
 * neu (a result or a bundle) with the result of the same name in base (a single base result
 * is compared with a single new one whatever its name); a name missing from base is reported
 * and skipped. Returns the total number of regressions, or -1 if nothing
 * was comparable. */
int compare_any(const cJSON *base, const cJSON *neu, const struct compare_opts *co, FILE *out);

/* Compare two parsed results, printing one line per metric (only changed or gated ones
 * unless co->all). Returns the number of regressions (0 = none), or -1 if the two are not
 * comparable (different scenario, or not soak results), after printing why. */
int compare_results(const cJSON *base, const cJSON *neu, const struct compare_opts *co,
		    FILE *out);

/* Merge k >= 1 runs of the same scenario (repeats of a noisy benchmark): a deep copy of
 * runs[0] in which every numeric leaf (arrays excepted) becomes the median of that leaf over
 * the runs that have it (the mean of the middle two for an even count), "ok" is true only if
 * every run was ok, and "repeats" is k. Returns NULL on allocation failure; the caller owns
 * the result. */
cJSON *results_median(cJSON *const *runs, int k);

#endif
