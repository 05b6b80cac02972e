/* report — a scenario's result: parameters, exact counts, latency percentiles, throughput,
 * duration, relay CPU and peak RSS; printed as a human summary and written as JSON with
 * sorted keys (diffable, and what `sealroom-soak compare` reads). Also the relay monitor
 * (/proc/<pid>) and the once-a-second progress line.
 *
 * JSON layout (every object's keys sorted):
 *   { "counts": {accepted, decrypt_failed, delivered, duplicated, errors, expected, missing,
 *                out_of_order, reconnects, rejected, rejected_by_status: {"429": n, ...},
 *                sent, unexpected, verified},
 *     "duration_s": s, "exact_counts": bool, "failures": [text...],
 *     "latency_ms": {NAME: {count, max, mean, p50, p90, p99, p99_9}},
 *     "driver": {cpu_s, peak_rss_mb} (this process: the load generator shares the machine),
 *     "ok": bool, "params": {...}, "relay": {cpu_s, peak_rss_mb, pid} (with --relay-pid),
 *     "name": --name or the scenario, "scenario": subcommand,
 *     "throughput": {NAME_per_s: x}, "tool": "sealroom-soak VERSION",
 *     ...scenario extras (e.g. "intervals") }
 * exact_counts false means the run's volume depends on time (soak --duration): `compare`
 * then checks only the counts that must be zero.
 *
 * A struct result belongs to the main thread. Nothing blocks except result_finish (writes the
 * JSON file) and the /proc reads.
 */
#ifndef SEALROOM_SOAK_REPORT_H
#define SEALROOM_SOAK_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "opts.h"
#include "proto/hist.h"
#include "tally.h"

#define SOAK_VERSION "0.1.0"

/* ---- relay monitor ---- */

struct relaymon {
	int pid;		/* 0: not monitoring */
	double cpu0_s;		/* utime+stime at start */
	double cpu_s;		/* consumed since start (after relaymon_stop) */
	long rss_peak_kb;	/* max(VmHWM after reset, sampled VmRSS) */
	bool hwm_reset;		/* clear_refs accepted "5": the peak RSS is this run's */
	bool alive;
};

/* Start monitoring pid (0: no-op). Resets the kernel's peak-RSS mark when permitted. */
void relaymon_start(struct relaymon *m, int pid);
/* Sample the current RSS (call about once a second). */
void relaymon_sample(struct relaymon *m);
/* Final CPU and peak RSS readings. */
void relaymon_stop(struct relaymon *m);

/* ---- progress line ---- */

struct ticker {
	int64_t t0_ms, next_ms;
	bool quiet, tty;
	struct relaymon *rm;	/* sampled on every tick, may be NULL */
};

void ticker_init(struct ticker *t, bool quiet, struct relaymon *rm);
/* Seconds since ticker_init. */
double ticker_elapsed(const struct ticker *t);
/* If a second has passed since the last line: sample the relay and print
 * "[NAME t=12s] <fmt...>" on stderr (overwritten in place on a terminal). */
void ticker_maybe(struct ticker *t, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* End the progress line (newline on a terminal if one was drawn). */
void ticker_done(struct ticker *t);

/* ---- result ---- */

struct result {
	const char *scenario;
	const struct soak_opts *o;
	cJSON *root, *params, *throughput, *latency, *failures;
	struct tally t;
	double duration_s;
	bool exact_counts;	/* default true */
	bool failed;		/* result_fail() was called */
	char notes[1024];	/* extra summary lines (result_note), human output only */
	struct relaymon rm;
	double driver_cpu0_s;	/* this process's user+system CPU at result_init */
};

/* Start a result (and the relay monitor when o->relay_pid is set). Returns 0 or -1. */
int result_init(struct result *r, const char *scenario, const struct soak_opts *o);
void result_param_num(struct result *r, const char *key, double v);
void result_param_str(struct result *r, const char *key, const char *v);
void result_param_bool(struct result *r, const char *key, bool v);
/* throughput.<key> = v (units per second). */
void result_rate(struct result *r, const char *key, double v);
/* latency_ms.<name> from h (ns). */
void result_latency(struct result *r, const char *name, const struct hist *h);
/* Scenario-specific top-level member (ownership of item passes to the result). */
void result_extra(struct result *r, const char *key, cJSON *item);
/* Record a failure reason (also printed); the run then exits 1. */
void result_fail(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Add a line to the human summary (printed before the result line; not in the JSON). */
void result_note(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Stop the relay monitor, decide ok (= tally_exact_ok and no result_fail), print the human
 * summary on stdout, write --json, free everything. Returns the exit code (0 or 1). */
int result_finish(struct result *r);

/* Sort every object's members by key, recursively (stable, byte order). */
void json_sort_keys(cJSON *item);

/* Print a latency line "  latency NAME (ms, n=N): p50 .. p90 .. p99 .. p99.9 .. max .." */
void report_print_latency(const char *name, const struct hist *h);

#endif
