#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "report.h"
#include "scenarios.h"

enum mclass { M_SKIP, M_INFO, M_EXACT, M_HIGHER, M_LOWER_LAT };

struct metric {
	char path[160];
	double v;
};

struct mlist {
	struct metric *m;
	size_t n, cap;
};

static int mlist_add(struct mlist *l, const char *path, double v)
{
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct metric *nm = realloc(l->m, nc * sizeof(*nm));

		if (!nm)
			return -1;
		l->m = nm;
		l->cap = nc;
	}
	snprintf(l->m[l->n].path, sizeof(l->m[l->n].path), "%s", path);
	l->m[l->n].v = v;
	l->n++;
	return 0;
}

/* Numeric and boolean leaves under item, as dotted paths; arrays are skipped (the soak
 * intervals are a time series, not metrics). */
static int flatten(const cJSON *item, const char *prefix, struct mlist *l)
{
	const cJSON *c;
	char path[160];

	cJSON_ArrayForEach(c, item)
	{
		if (!c->string)
			continue;
		if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", c->string) >=
		    (int)sizeof(path))
			continue;
		if (cJSON_IsObject(c)) {
			if (flatten(c, path, l) < 0)
				return -1;
		} else if (cJSON_IsNumber(c)) {
			if (mlist_add(l, path, c->valuedouble) < 0)
				return -1;
		} else if (cJSON_IsBool(c)) {
			if (mlist_add(l, path, cJSON_IsTrue(c) ? 1 : 0) < 0)
				return -1;
		}
	}
	return 0;
}

static const struct metric *mlist_find(const struct mlist *l, const char *path)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->m[i].path, path) == 0)
			return &l->m[i];
	}
	return NULL;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Counts that must be zero in every run, exact even when volumes vary. */
static bool zero_count(const char *path)
{
	static const char *const z[] = {
		"counts.missing",	 "counts.duplicated", "counts.out_of_order",
		"counts.decrypt_failed", "counts.unexpected", "counts.errors",
		"counts.rejected",
	};

	if (has_prefix(path, "counts.rejected_by_status."))
		return true;
	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
		if (strcmp(path, z[i]) == 0)
			return true;
	}
	return false;
}

static enum mclass classify(const char *path, bool exact)
{
	if (has_prefix(path, "params.") || strcmp(path, "relay.pid") == 0 ||
	    strcmp(path, "exact_counts") == 0 || strcmp(path, "ok") == 0)
		return M_SKIP;
	if (has_prefix(path, "counts.") ||
	    (has_prefix(path, "latency_ms.") && ends_with(path, ".count")))
		return exact || zero_count(path) ? M_EXACT : M_INFO;
	if (has_prefix(path, "throughput."))
		return M_HIGHER;
	if (has_prefix(path, "latency_ms.") &&
	    (ends_with(path, ".p50") || ends_with(path, ".p90") || ends_with(path, ".p99") ||
	     ends_with(path, ".mean")))
		return M_LOWER_LAT;
	return M_INFO;
}

static const char *class_name(enum mclass c)
{
	switch (c) {
	case M_EXACT:
		return "exact";
	case M_HIGHER:
		return "higher is better";
	case M_LOWER_LAT:
		return "lower is better";
	default:
		return "info";
	}
}

static bool json_bool(const cJSON *root, const char *key, bool dflt)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);

	return cJSON_IsBool(it) ? cJSON_IsTrue(it) : dflt;
}

static bool is_result(const cJSON *j)
{
	return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "scenario"));
}

/* A result's name: "name" (--name), else its scenario. */
static const char *result_name(const cJSON *j)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "name");

	if (cJSON_IsString(n))
		return n->valuestring;
	return cJSON_GetObjectItemCaseSensitive(j, "scenario")->valuestring;
}

static void print_params(const cJSON *base, const cJSON *neu, FILE *out)
{
	const cJSON *pb = cJSON_GetObjectItemCaseSensitive(base, "params");
	const cJSON *pn = cJSON_GetObjectItemCaseSensitive(neu, "params");
	const cJSON *it;

	cJSON_ArrayForEach(it, pb)
	{
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(pn, it->string);
		char *a, *b;

		if (strcmp(it->string, "base") == 0)
			continue; /* the same relay may listen elsewhere */
		if (o && cJSON_Compare(it, o, true))
			continue;
		a = cJSON_PrintUnformatted(it);
		b = o ? cJSON_PrintUnformatted(o) : NULL;
		fprintf(out, "  note: params.%s differs: base %s, new %s\n", it->string,
			a ? a : "?", b ? b : "(absent)");
		free(a);
		free(b);
	}
}

int compare_results(const cJSON *base, const cJSON *neu, const struct compare_opts *co,
		    FILE *out)
{
	const cJSON *sb = cJSON_GetObjectItemCaseSensitive(base, "scenario");
	const cJSON *sn = cJSON_GetObjectItemCaseSensitive(neu, "scenario");
	struct mlist lb = { 0 }, ln = { 0 };
	bool exact;
	int regressions = 0;

	if (!cJSON_IsString(sb) || !cJSON_IsString(sn)) {
		fprintf(out, "not a sealroom-soak result (no \"scenario\")\n");
		return -1;
	}
	if (strcmp(sb->valuestring, sn->valuestring) != 0) {
		fprintf(out, "not comparable: scenario %s vs %s\n", sb->valuestring,
			sn->valuestring);
		return -1;
	}
	exact = json_bool(base, "exact_counts", true) && json_bool(neu, "exact_counts", true);
	if (flatten(base, "", &lb) < 0 || flatten(neu, "", &ln) < 0) {
		fprintf(out, "out of memory\n");
		free(lb.m);
		free(ln.m);
		return -1;
	}
	fprintf(out, "compare %s: tolerance %.0f%%, latency floor %.3f ms\n", result_name(neu),
		co->tolerance * 100, co->latency_floor_ms);
	print_params(base, neu, out);
	fprintf(out, "  %-36s %14s %14s %9s  %s\n", "metric", "base", "new", "change", "verdict");
	if (!json_bool(neu, "ok", false)) {
		fprintf(out, "  %-36s %14s %14s %9s  REGRESSION\n", "ok",
			json_bool(base, "ok", false) ? "true" : "false", "false", "");
		regressions++;
	}
	for (size_t i = 0; i < lb.n; i++) {
		const struct metric *b = &lb.m[i], *n = mlist_find(&ln, b->path);
		enum mclass c = classify(b->path, exact);
		const char *verdict = "ok";
		char change[32] = "";
		bool bad = false, differs;

		if (c == M_SKIP)
			continue;
		if (!n) {
			if (c != M_INFO) {
				fprintf(out, "  %-36s %14.3f %14s %9s  REGRESSION (missing)\n",
					b->path,
					b->v, "-", "");
				regressions++;
			}
			continue;
		}
		differs = b->v != n->v;
		if (b->v != 0)
			snprintf(change, sizeof(change), "%+.1f%%",
				 (n->v - b->v) / fabs(b->v) * 100);
		else if (differs)
			snprintf(change, sizeof(change), "new");
		switch (c) {
		case M_EXACT:
			bad = differs;
			break;
		case M_HIGHER:
			bad = n->v < b->v * (1 - co->tolerance);
			if (!bad && n->v > b->v * (1 + co->tolerance))
				verdict = "better";
			break;
		case M_LOWER_LAT:
			bad = n->v > b->v * (1 + co->tolerance) &&
			      n->v - b->v > co->latency_floor_ms;
			if (!bad && n->v < b->v * (1 - co->tolerance) &&
			    b->v - n->v > co->latency_floor_ms)
				verdict = "better";
			break;
		default:
			verdict = "info";
			break;
		}
		if (bad) {
			verdict = "REGRESSION";
			regressions++;
		}
		if (!co->all && !bad && !differs)
			continue;
		if (c == M_INFO)
			fprintf(out, "  %-36s %14.3f %14.3f %9s  info\n", b->path, b->v, n->v,
				change);
		else
			fprintf(out, "  %-36s %14.3f %14.3f %9s  %s (%s)\n", b->path, b->v, n->v,
				change, verdict, class_name(c));
	}
	for (size_t i = 0; i < ln.n; i++) {
		if (classify(ln.m[i].path, exact) != M_SKIP && !mlist_find(&lb, ln.m[i].path))
			fprintf(out, "  %-36s %14s %14.3f %9s  info (new metric)\n",
				ln.m[i].path, "-",
				ln.m[i].v, "");
	}
	fprintf(out, "  %d regression%s\n", regressions, regressions == 1 ? "" : "s");
	free(lb.m);
	free(ln.m);
	return regressions;
}

/* The result called name in j (a result or a bundle), or NULL. */
static const cJSON *result_for(const cJSON *j, const char *name)
{
	const cJSON *r;

	if (is_result(j))
		return strcmp(result_name(j), name) == 0 ? j : NULL;
	r = cJSON_GetObjectItemCaseSensitive(j, name);
	return is_result(r) ? r : NULL;
}

int compare_any(const cJSON *base, const cJSON *neu, const struct compare_opts *co, FILE *out)
{
	const cJSON *it;
	int total = 0, compared = 0;

	if (is_result(neu)) {
		const char *nm = result_name(neu);
		const cJSON *b = is_result(base) ? base : result_for(base, nm);

		if (!b) {
			fprintf(out, "not comparable: no %s result in the base\n", nm);
			return -1;
		}
		return compare_results(b, neu, co, out);
	}
	cJSON_ArrayForEach(it, neu)
	{
		const cJSON *b;
		int rc;

		if (!is_result(it))
			continue;
		b = result_for(base, result_name(it));
		if (!b) {
			fprintf(out, "skipped %s: not in the base\n", it->string);
			continue;
		}
		rc = compare_results(b, it, co, out);
		if (rc < 0)
			continue;
		total += rc;
		compared++;
		fprintf(out, "\n");
	}
	if (!compared) {
		fprintf(out, "not comparable: no common scenario\n");
		return -1;
	}
	fprintf(out, "total: %d regression%s over %d scenario%s\n", total, total == 1 ? "" : "s",
		compared, compared == 1 ? "" : "s");
	return total;
}

/* ---- the subcommands ---- */

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	cJSON *root;

	if (!f)
		return NULL;
	for (;;) {
		if (len + 4096 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > (64u << 20) || !(nb = realloc(buf, cap))) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		size_t n = fread(buf + len, 1, cap - len, f);

		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	root = cJSON_ParseWithLength(buf, len);
	free(buf);
	return root;
}

int sc_compare(int argc, char **argv)
{
	struct compare_opts co = { .tolerance = 0.10, .latency_floor_ms = 0.05 };
	const char *files[2] = { NULL, NULL };
	int nf = 0, rc;
	cJSON *b, *n;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("Usage: sealroom-soak compare BASE.json NEW.json [--tolerance F]\n"
			       "                    [--latency-floor-ms MS] [--all]\n\n"
			       "Compare two --json results of the same scenario (either may be a\n"
			       "bundle written by `sealroom-soak bundle`) and print the\n"
			       "differences. A regression: any exact count differs (counts.*,\n"
			       "latency sample counts; for duration-bound runs only the counts\n"
			       "that must be zero), throughput.* below base * (1 - F), latency\n"
			       "p50/p90/p99/mean above base * (1 + F) by more than the floor, a\n"
			       "gated metric gone, or ok=false.\n"
			       "p99.9, max, duration, relay CPU and RSS are shown as info.\n\n"
			       "  --tolerance F         relative tolerance (default 0.10)\n"
			       "  --latency-floor-ms MS ignore latency increases below MS\n"
			       "                        (default 0.05)\n"
			       "  --all                 list unchanged metrics too\n\n"
			       "Exit status: 0 no regression, 1 regression, 2 usage error or\n"
			       "files not comparable.\n");
			return SOAK_EXIT_OK;
		}
		if (strncmp(a, "--tolerance", 11) == 0 && (a[11] == '=' || !a[11])) {
			v = a[11] ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
			if (soak_parse_double("compare", "tolerance", v, 0, 10, &co.tolerance) < 0)
				return SOAK_EXIT_USAGE;
		} else if (strncmp(a, "--latency-floor-ms", 18) == 0 && (a[18] == '=' || !a[18])) {
			v = a[18] ? a + 19 : (i + 1 < argc ? argv[++i] : NULL);
			if (soak_parse_double("compare", "latency-floor-ms", v, 0, 1e6,
					      &co.latency_floor_ms) < 0)
				return SOAK_EXIT_USAGE;
		} else if (strcmp(a, "--all") == 0) {
			co.all = true;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "sealroom-soak compare: unknown flag '%s' (try --help)\n",
				a);
			return SOAK_EXIT_USAGE;
		} else if (nf < 2) {
			files[nf++] = a;
		} else {
			fprintf(stderr, "sealroom-soak compare: expected two files\n");
			return SOAK_EXIT_USAGE;
		}
	}
	if (nf != 2) {
		fprintf(stderr,
			"Usage: sealroom-soak compare BASE.json NEW.json [--tolerance F]\n");
		return SOAK_EXIT_USAGE;
	}
	b = load_json(files[0]);
	n = load_json(files[1]);
	if (!b || !n) {
		fprintf(stderr, "sealroom-soak compare: cannot read %s as JSON\n",
			!b ? files[0] : files[1]);
		cJSON_Delete(b);
		cJSON_Delete(n);
		return SOAK_EXIT_USAGE;
	}
	rc = compare_any(b, n, &co, stdout);
	cJSON_Delete(b);
	cJSON_Delete(n);
	if (rc < 0)
		return SOAK_EXIT_USAGE;
	return rc > 0 ? SOAK_EXIT_FAIL : SOAK_EXIT_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Replace every numeric leaf of dst by the median of it and the same leaf of the others. */
static void median_into(cJSON *dst, cJSON *const *others, int k, double *scratch)
{
	cJSON *c;

	cJSON_ArrayForEach(c, dst)
	{
		int n = 0;

		if (!c->string)
			continue;
		if (cJSON_IsObject(c)) {
			cJSON **sub = malloc((size_t)k * sizeof(cJSON *));

			if (!sub)
				continue;
			for (int i = 0; i < k; i++)
				sub[i] = others[i] ? cJSON_GetObjectItemCaseSensitive(others[i],
										      c->string)
						   : NULL;
			median_into(c, sub, k, scratch);
			free(sub);
			continue;
		}
		if (!cJSON_IsNumber(c))
			continue;
		scratch[n++] = c->valuedouble;
		for (int i = 0; i < k; i++) {
			const cJSON *o = others[i] ? cJSON_GetObjectItemCaseSensitive(others[i],
										      c->string)
						   : NULL;

			if (o && cJSON_IsNumber(o))
				scratch[n++] = o->valuedouble;
		}
		double med;

		qsort(scratch, (size_t)n, sizeof(double), cmp_double);
		med = n % 2 ? scratch[n / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
		cJSON_SetNumberValue(c, med);
	}
}

cJSON *results_median(cJSON *const *runs, int k)
{
	cJSON *out = cJSON_Duplicate(runs[0], true);
	double *scratch = malloc((size_t)k * sizeof(double));
	bool ok = true;

	if (!out || !scratch) {
		cJSON_Delete(out);
		free(scratch);
		return NULL;
	}
	median_into(out, runs + 1, k - 1, scratch);
	free(scratch);
	for (int i = 0; i < k; i++)
		ok = ok && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(runs[i], "ok"));
	cJSON_DeleteItemFromObjectCaseSensitive(out, "ok");
	cJSON_AddBoolToObject(out, "ok", ok);
	cJSON_DeleteItemFromObjectCaseSensitive(out, "repeats");
	cJSON_AddNumberToObject(out, "repeats", k);
	return out;
}

int sc_bundle(int argc, char **argv)
{
	cJSON *out, **in;
	char *text;
	FILE *f;
	bool bad;
	int n;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: sealroom-soak bundle OUT.json IN.json...\n\n"
		       "Write one JSON object holding every IN result under its name (--name,\n"
		       "default the scenario), keys sorted, e.g. soak/baseline.json. Results\n"
		       "sharing a name are repeats: each number becomes its median over them,\n"
		       "\"ok\" holds only if all were ok, and \"repeats\" counts them.\n"
		       "`compare` accepts bundles.\n\n"
		       "Exit status: 0 written, 1 an input was unreadable, 2 usage error.\n");
		return SOAK_EXIT_OK;
	}
	if (argc < 3) {
		fprintf(stderr, "Usage: sealroom-soak bundle OUT.json IN.json...\n");
		return SOAK_EXIT_USAGE;
	}
	n = argc - 2;
	out = cJSON_CreateObject();
	in = calloc((size_t)n, sizeof(cJSON *));
	if (!out || !in) {
		cJSON_Delete(out);
		free(in);
		return SOAK_EXIT_FAIL;
	}
	for (int i = 0; i < n; i++) {
		in[i] = load_json(argv[2 + i]);
		if (!in[i] || !is_result(in[i])) {
			fprintf(stderr, "sealroom-soak bundle: %s is not a sealroom-soak result\n",
				argv[2 + i]);
			for (int j = 0; j <= i; j++)
				cJSON_Delete(in[j]);
			free(in);
			cJSON_Delete(out);
			return SOAK_EXIT_FAIL;
		}
	}
	/* Results sharing a name are repeats of one benchmark: keep their medians. */
	for (int i = 0; i < n; i++) {
		cJSON **group, *merged;
		int k = 0;

		if (!in[i] || cJSON_GetObjectItemCaseSensitive(out, result_name(in[i])))
			continue;
		group = malloc((size_t)n * sizeof(cJSON *));
		if (!group)
			break;
		for (int j = i; j < n; j++) {
			if (strcmp(result_name(in[j]), result_name(in[i])) == 0)
				group[k++] = in[j];
		}
		merged = k > 1 ? results_median(group, k) : cJSON_Duplicate(in[i], true);
		if (merged)
			cJSON_AddItemToObject(out, result_name(in[i]), merged);
		free(group);
	}
	for (int i = 0; i < n; i++)
		cJSON_Delete(in[i]);
	free(in);
	json_sort_keys(out);
	text = cJSON_Print(out);
	cJSON_Delete(out);
	f = text ? fopen(argv[1], "w") : NULL;
	bad = !f;
	if (f) {
		bad = fputs(text, f) < 0 || fputc('\n', f) < 0;
		bad = fclose(f) != 0 || bad;
	}
	free(text);
	if (bad) {
		fprintf(stderr, "sealroom-soak bundle: cannot write %s\n", argv[1]);
		return SOAK_EXIT_FAIL;
	}
	return SOAK_EXIT_OK;
}

int sc_check(int argc, char **argv)
{
	struct mlist l = { 0 };
	int bad = 0;
	cJSON *j;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: sealroom-soak check FILE.json PATH=VALUE...\n\n"
		       "Assert exact values in a --json result, e.g. counts.delivered=100\n"
		       "counts.duplicated=0 ok=true (PATH is dotted; VALUE a number or\n"
		       "true/false).\n"
		       "For CI smoke tests: exact counts, never timings.\n\n"
		       "Exit status: 0 every value matches, 1 a mismatch or a missing path,\n"
		       "2 usage error or unreadable file.\n");
		return SOAK_EXIT_OK;
	}
	if (argc < 3) {
		fprintf(stderr, "Usage: sealroom-soak check FILE.json PATH=VALUE...\n");
		return SOAK_EXIT_USAGE;
	}
	j = load_json(argv[1]);
	if (!j || flatten(j, "", &l) < 0) {
		fprintf(stderr, "sealroom-soak check: cannot read %s as JSON\n", argv[1]);
		cJSON_Delete(j);
		free(l.m);
		return SOAK_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		char path[160], *end;
		const struct metric *m;
		double want;

		if (!eq || eq == argv[i] || (size_t)(eq - argv[i]) >= sizeof(path)) {
			fprintf(stderr, "sealroom-soak check: expected PATH=VALUE, got '%s'\n",
				argv[i]);
			bad = -1;
			break;
		}
		memcpy(path, argv[i], (size_t)(eq - argv[i]));
		path[eq - argv[i]] = '\0';
		if (strcmp(eq + 1, "true") == 0) {
			want = 1;
		} else if (strcmp(eq + 1, "false") == 0) {
			want = 0;
		} else {
			want = strtod(eq + 1, &end);
			if (end == eq + 1 || *end) {
				fprintf(stderr, "sealroom-soak check: bad value in '%s'\n",
					argv[i]);
				bad = -1;
				break;
			}
		}
		m = mlist_find(&l, path);
		if (!m) {
			printf("  %-40s missing (want %s)\n", path, eq + 1);
			bad++;
		} else if (m->v != want) {
			printf("  %-40s %g, want %s  MISMATCH\n", path, m->v, eq + 1);
			bad++;
		}
	}
	cJSON_Delete(j);
	free(l.m);
	if (bad < 0)
		return SOAK_EXIT_USAGE;
	printf("check %s: %d of %d values %s\n", argv[1], argc - 2 - bad, argc - 2,
	       bad ? "match" : "match, ok");
	return bad ? SOAK_EXIT_FAIL : SOAK_EXIT_OK;
}
