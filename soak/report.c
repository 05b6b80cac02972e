#include "report.h"

#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "proto/clock.h"

/* ---- relay monitor ---- */

/* utime + stime of pid in seconds, or -1. */
static double proc_cpu_s(int pid)
{
	char path[64], buf[1024], *end;
	unsigned long long ut, st;
	const char *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* After ") " come state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	 * cmajflt, then utime(14) and stime(15), space-separated (proc(5)). */
	for (field = 3; field <= 14 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	ut = strtoull(p + 1, &end, 10);
	if (end == p + 1 || *end != ' ')
		return -1;
	p = end;
	st = strtoull(p + 1, &end, 10);
	if (end == p + 1)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Name:   123 kB" line of /proc/pid/status, in kB, or -1. */
static long proc_status_kb(int pid, const char *name)
{
	char path[64], line[256];
	size_t nl = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, nl) == 0 && line[nl] == ':') {
			v = strtol(line + nl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

void relaymon_start(struct relaymon *m, int pid)
{
	char path[64];
	int fd;

	memset(m, 0, sizeof(*m));
	if (pid <= 0)
		return;
	m->pid = pid;
	m->cpu0_s = proc_cpu_s(pid);
	m->alive = m->cpu0_s >= 0;
	if (!m->alive) {
		fprintf(stderr, "sealroom-soak: cannot read /proc/%d/stat; no relay figures\n",
			pid);
		return;
	}
	/* "5" resets the peak RSS (VmHWM) to the current RSS (proc(5)), so the peak is this
	 * run's rather than the process's lifetime's. Needs the same user or root. */
	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		m->hwm_reset = write(fd, "5", 1) == 1;
		close(fd);
	}
	relaymon_sample(m);
}

void relaymon_sample(struct relaymon *m)
{
	long rss;

	if (!m->alive)
		return;
	rss = proc_status_kb(m->pid, "VmRSS");
	if (rss > m->rss_peak_kb)
		m->rss_peak_kb = rss;
}

void relaymon_stop(struct relaymon *m)
{
	double c;
	long hwm;

	if (!m->alive)
		return;
	relaymon_sample(m);
	c = proc_cpu_s(m->pid);
	if (c >= 0)
		m->cpu_s = c - m->cpu0_s;
	hwm = proc_status_kb(m->pid, "VmHWM");
	if (m->hwm_reset && hwm > m->rss_peak_kb)
		m->rss_peak_kb = hwm;
}

/* ---- progress ---- */

void ticker_init(struct ticker *t, bool quiet, struct relaymon *rm)
{
	t->t0_ms = clock_mono_ms();
	t->next_ms = t->t0_ms + 1000;
	t->quiet = quiet;
	t->tty = isatty(STDERR_FILENO);
	t->rm = rm;
}

double ticker_elapsed(const struct ticker *t)
{
	return (double)(clock_mono_ms() - t->t0_ms) / 1000.0;
}

void ticker_maybe(struct ticker *t, const char *name, const char *fmt, ...)
{
	int64_t now = clock_mono_ms();
	char line[512];
	va_list ap;

	if (now < t->next_ms)
		return;
	t->next_ms = now + 1000;
	if (t->rm)
		relaymon_sample(t->rm);
	if (t->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->tty)
		fprintf(stderr, "\r\033[K[%s %3.0fs] %s", name, (double)(now - t->t0_ms) / 1000.0,
			line);
	else
		fprintf(stderr, "[%s %3.0fs] %s\n", name, (double)(now - t->t0_ms) / 1000.0, line);
	fflush(stderr);
}

void ticker_done(struct ticker *t)
{
	if (!t->quiet && t->tty && clock_mono_ms() - t->t0_ms >= 1000)
		fputc('\n', stderr);
}

/* ---- result ---- */

/* This process's user + system CPU seconds and peak RSS (kB). */
static double self_cpu_s(long *maxrss_kb)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	if (maxrss_kb)
		*maxrss_kb = ru.ru_maxrss;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double round_to(double v, double unit)
{
	return round(v / unit) * unit;
}

int result_init(struct result *r, const char *scenario, const struct soak_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->scenario = scenario;
	r->o = o;
	r->exact_counts = true;
	tally_init(&r->t);
	r->root = cJSON_CreateObject();
	r->params = cJSON_AddObjectToObject(r->root, "params");
	r->throughput = cJSON_AddObjectToObject(r->root, "throughput");
	r->latency = cJSON_AddObjectToObject(r->root, "latency_ms");
	r->failures = cJSON_AddArrayToObject(r->root, "failures");
	if (!r->root || !r->params || !r->throughput || !r->latency || !r->failures) {
		cJSON_Delete(r->root);
		r->root = NULL;
		return -1;
	}
	cJSON_AddStringToObject(r->params, "base", o->base);
	cJSON_AddNumberToObject(r->params, "size", (double)o->size);
	cJSON_AddNumberToObject(r->params, "source_ips", (double)o->ips.n);
	relaymon_start(&r->rm, o->relay_pid);
	r->driver_cpu0_s = self_cpu_s(NULL);
	return 0;
}

void result_param_num(struct result *r, const char *key, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->params, key);
	cJSON_AddNumberToObject(r->params, key, v);
}

void result_param_str(struct result *r, const char *key, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->params, key);
	cJSON_AddStringToObject(r->params, key, v);
}

void result_param_bool(struct result *r, const char *key, bool v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->params, key);
	cJSON_AddBoolToObject(r->params, key, v);
}

void result_rate(struct result *r, const char *key, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->throughput, key);
	cJSON_AddNumberToObject(r->throughput, key, round_to(v, 0.1));
}

void result_latency(struct result *r, const char *name, const struct hist *h)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return;
	cJSON_AddNumberToObject(o, "count", (double)hist_count(h));
	cJSON_AddNumberToObject(o, "p50", round_to((double)hist_percentile(h, 50) / 1e6, 0.001));
	cJSON_AddNumberToObject(o, "p90", round_to((double)hist_percentile(h, 90) / 1e6, 0.001));
	cJSON_AddNumberToObject(o, "p99", round_to((double)hist_percentile(h, 99) / 1e6, 0.001));
	cJSON_AddNumberToObject(o, "p99_9",
				round_to((double)hist_percentile(h, 99.9) / 1e6, 0.001));
	cJSON_AddNumberToObject(o, "max", round_to((double)hist_max(h) / 1e6, 0.001));
	cJSON_AddNumberToObject(o, "mean", round_to(hist_mean(h) / 1e6, 0.001));
	cJSON_DeleteItemFromObjectCaseSensitive(r->latency, name);
	cJSON_AddItemToObject(r->latency, name, o);
}

void result_extra(struct result *r, const char *key, cJSON *item)
{
	cJSON_DeleteItemFromObjectCaseSensitive(r->root, key);
	cJSON_AddItemToObject(r->root, key, item);
}

void result_fail(struct result *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->failed = true;
	cJSON_AddItemToArray(r->failures, cJSON_CreateString(msg));
	fprintf(stderr, "sealroom-soak %s: %s\n", r->scenario, msg);
}

void result_note(struct result *r, const char *fmt, ...)
{
	size_t n = strlen(r->notes);
	va_list ap;

	if (n + 8 >= sizeof(r->notes))
		return;
	memcpy(r->notes + n, "  ", 2);
	n += 2;
	va_start(ap, fmt);
	vsnprintf(r->notes + n, sizeof(r->notes) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(r->notes);
	r->notes[n] = '\n';
	r->notes[n + 1] = '\0';
}

static int cmp_members(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string ? x->string : "", y->string ? y->string : "");
}

void json_sort_keys(cJSON *item)
{
	cJSON *c, **v;
	size_t n = 0, i;

	if (!item)
		return;
	for (c = item->child; c; c = c->next) {
		json_sort_keys(c);
		n++;
	}
	if (!cJSON_IsObject(item) || n < 2)
		return;
	v = malloc(n * sizeof(cJSON *));
	if (!v)
		return;
	for (c = item->child, i = 0; c; c = c->next)
		v[i++] = c;
	qsort(v, n, sizeof(cJSON *), cmp_members); /* keys are unique: stability does not matter */
	for (i = 0; i < n; i++) {
		v[i]->prev = i ? v[i - 1] : v[n - 1]; /* cJSON: child->prev is the last member */
		v[i]->next = i + 1 < n ? v[i + 1] : NULL;
	}
	item->child = v[0];
	free(v);
}

void report_print_latency(const char *name, const struct hist *h)
{
	printf("  latency %-9s (ms, n=%llu): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
	       name, (unsigned long long)hist_count(h), (double)hist_percentile(h, 50) / 1e6,
	       (double)hist_percentile(h, 90) / 1e6, (double)hist_percentile(h, 99) / 1e6,
	       (double)hist_percentile(h, 99.9) / 1e6, (double)hist_max(h) / 1e6);
}

static void result_counts(struct result *r)
{
	const struct tally *t = &r->t;
	cJSON *c = cJSON_AddObjectToObject(r->root, "counts");
	cJSON *bs = cJSON_AddObjectToObject(c, "rejected_by_status");

	cJSON_AddNumberToObject(c, "sent", (double)t->sent);
	cJSON_AddNumberToObject(c, "accepted", (double)t->accepted);
	cJSON_AddNumberToObject(c, "rejected", (double)t->rejected);
	cJSON_AddNumberToObject(c, "errors", (double)t->errors);
	cJSON_AddNumberToObject(c, "expected", (double)t->expected);
	cJSON_AddNumberToObject(c, "delivered", (double)t->delivered);
	cJSON_AddNumberToObject(c, "missing", (double)tally_missing(t));
	cJSON_AddNumberToObject(c, "duplicated", (double)t->duplicated);
	cJSON_AddNumberToObject(c, "out_of_order", (double)t->out_of_order);
	cJSON_AddNumberToObject(c, "decrypt_failed", (double)t->decrypt_failed);
	cJSON_AddNumberToObject(c, "unexpected", (double)t->unexpected);
	cJSON_AddNumberToObject(c, "verified", (double)t->verified);
	cJSON_AddNumberToObject(c, "reconnects", (double)t->reconnects);
	for (int s = TALLY_STATUS_MIN; s <= TALLY_STATUS_MAX; s++) {
		char k[8];

		if (!t->by_status[s - TALLY_STATUS_MIN])
			continue;
		snprintf(k, sizeof(k), "%d", s);
		cJSON_AddNumberToObject(bs, k, (double)t->by_status[s - TALLY_STATUS_MIN]);
	}
}

static void result_print(const struct result *r, bool ok)
{
	const struct tally *t = &r->t;
	const cJSON *it;
	bool any = false;

	printf("sealroom-soak %s%s%s against %s\n", r->scenario, r->o->name ? " " : "",
	       r->o->name ? r->o->name : "", r->o->base);
	printf("  params:");
	cJSON_ArrayForEach(it, r->params)
	{
		if (strcmp(it->string, "base") == 0)
			continue;
		if (cJSON_IsString(it))
			printf(" %s=%s", it->string, it->valuestring);
		else if (cJSON_IsBool(it))
			printf(" %s=%s", it->string, cJSON_IsTrue(it) ? "true" : "false");
		else
			printf(" %s=%g", it->string, it->valuedouble);
	}
	printf("\n  sent %llu  accepted %llu  rejected %llu", (unsigned long long)t->sent,
	       (unsigned long long)t->accepted, (unsigned long long)t->rejected);
	for (int s = TALLY_STATUS_MIN; s <= TALLY_STATUS_MAX; s++) {
		if (t->by_status[s - TALLY_STATUS_MIN]) {
			printf("%s%d:%llu", any ? " " : " (", s,
			       (unsigned long long)t->by_status[s - TALLY_STATUS_MIN]);
			any = true;
		}
	}
	printf("%s  errors %llu  reconnects %llu\n", any ? ")" : "", (unsigned long long)t->errors,
	       (unsigned long long)t->reconnects);
	printf("  delivered %llu/%llu  missing %llu  duplicated %llu  out-of-order %llu  "
	       "decrypt-failed %llu  unexpected %llu",
	       (unsigned long long)t->delivered, (unsigned long long)t->expected,
	       (unsigned long long)tally_missing(t), (unsigned long long)t->duplicated,
	       (unsigned long long)t->out_of_order, (unsigned long long)t->decrypt_failed,
	       (unsigned long long)t->unexpected);
	if (t->verified)
		printf("  verified %llu", (unsigned long long)t->verified);
	printf("\n");
	cJSON_ArrayForEach(it, r->latency)
	{
		const cJSON *g = it;

		printf("  latency %-9s (ms, n=%.0f): p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  "
		       "max %.3f\n",
		       g->string, cJSON_GetObjectItem(g, "count")->valuedouble,
		       cJSON_GetObjectItem(g, "p50")->valuedouble,
		       cJSON_GetObjectItem(g, "p90")->valuedouble,
		       cJSON_GetObjectItem(g, "p99")->valuedouble,
		       cJSON_GetObjectItem(g, "p99_9")->valuedouble,
		       cJSON_GetObjectItem(g, "max")->valuedouble);
	}
	printf("  throughput:");
	cJSON_ArrayForEach(it, r->throughput)
		printf(" %s %.1f", it->string, it->valuedouble);
	printf("  duration %.3f s\n", r->duration_s);
	printf("  driver: cpu %.2f s  peak RSS %.1f MB\n",
	       cJSON_GetObjectItem(cJSON_GetObjectItem(r->root, "driver"), "cpu_s")->valuedouble,
	       cJSON_GetObjectItem(cJSON_GetObjectItem(r->root, "driver"), "peak_rss_mb")
		       ->valuedouble);
	if (r->rm.pid) {
		if (r->rm.alive)
			printf("  relay pid %d: cpu %.2f s  peak RSS %.1f MB%s\n", r->rm.pid,
			       r->rm.cpu_s,
			       (double)r->rm.rss_peak_kb / 1024.0,
			       r->rm.hwm_reset ? "" : " (sampled)");
		else
			printf("  relay pid %d: not readable\n", r->rm.pid);
	}
	fputs(r->notes, stdout);
	cJSON_ArrayForEach(it, r->failures)
		printf("  failure: %s\n", it->valuestring);
	printf("  result: %s\n", ok ? "PASS" : "FAIL");
	fflush(stdout);
}

int result_finish(struct result *r)
{
	bool ok;
	int rc = SOAK_EXIT_OK;

	if (!r->root)
		return SOAK_EXIT_FAIL;
	relaymon_stop(&r->rm);
	ok = !r->failed && tally_exact_ok(&r->t);
	if (!r->failed && !ok)
		cJSON_AddItemToArray(r->failures, cJSON_CreateString("exact counts not met"));
	result_counts(r);
	cJSON_AddNumberToObject(r->root, "duration_s", round_to(r->duration_s, 0.001));
	cJSON_AddBoolToObject(r->root, "exact_counts", r->exact_counts);
	cJSON_AddBoolToObject(r->root, "ok", ok);
	cJSON_AddStringToObject(r->root, "scenario", r->scenario);
	cJSON_AddStringToObject(r->root, "name", r->o->name ? r->o->name : r->scenario);
	cJSON_AddStringToObject(r->root, "tool", "sealroom-soak " SOAK_VERSION);
	{
		long maxrss = 0;
		double cpu = self_cpu_s(&maxrss) - r->driver_cpu0_s;
		cJSON *dr = cJSON_AddObjectToObject(r->root, "driver");

		cJSON_AddNumberToObject(dr, "cpu_s", round_to(cpu, 0.01));
		cJSON_AddNumberToObject(dr, "peak_rss_mb", round_to((double)maxrss / 1024.0, 0.1));
	}
	if (r->rm.alive) {
		cJSON *rl = cJSON_AddObjectToObject(r->root, "relay");

		cJSON_AddNumberToObject(rl, "pid", r->rm.pid);
		cJSON_AddNumberToObject(rl, "cpu_s", round_to(r->rm.cpu_s, 0.01));
		cJSON_AddNumberToObject(rl, "peak_rss_mb",
					round_to((double)r->rm.rss_peak_kb / 1024.0, 0.1));
	}
	json_sort_keys(r->root);
	result_print(r, ok);
	if (!ok)
		rc = SOAK_EXIT_FAIL;
	if (r->o->json_path) {
		char *text = cJSON_Print(r->root);
		FILE *f = text ? fopen(r->o->json_path, "w") : NULL;
		bool bad = !f;

		if (f) {
			bad = fputs(text, f) < 0 || fputc('\n', f) < 0;
			bad = fclose(f) != 0 || bad;
		}
		if (bad) {
			fprintf(stderr, "sealroom-soak %s: cannot write %s\n", r->scenario,
				r->o->json_path);
			rc = SOAK_EXIT_FAIL;
		}
		free(text);
	}
	cJSON_Delete(r->root);
	r->root = NULL;
	return rc;
}
