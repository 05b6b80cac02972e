/* runner — selects cases, runs them (CF_SLOW ones in background threads, concurrently with
 * the rest), grades them and writes the human summary, --json and --junit reports. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "proto/clock.h"
#include "proto/json.h"

const char *conf_verdict_name(enum conf_verdict v)
{
	switch (v) {
	case CONF_PASS: return "PASS";
	case CONF_INFORMATIONAL: return "INFORMATIONAL";
	case CONF_UNIMPLEMENTED: return "UNIMPLEMENTED";
	case CONF_NONSTRICT: return "NON-STRICT";
	case CONF_FAIL: return "FAIL";
	}
	return "?";
}

const char *conf_level_name(enum conf_level l)
{
	switch (l) {
	case CONF_MUST: return "MUST";
	case CONF_SHOULD: return "SHOULD";
	case CONF_MAY: return "MAY";
	case CONF_INFO_LEVEL: return "—";
	}
	return "?";
}

/* PROTOCOL.md §0: compat never FAILs an unmet (sealroom) requirement (NON-STRICT, or
 * UNIMPLEMENTED for an absent optional feature); sealroom grades every rule at its level.
 * A SHOULD not met is NON-STRICT (FAIL with --strict); a MAY never fails. */
enum conf_verdict conf_grade(enum conf_level case_level, unsigned case_flags, unsigned ck,
			     enum conf_profile profile, bool strict)
{
	enum conf_level lvl = case_level;
	bool sr = (case_flags & CF_SR) || (ck & CK_SR);
	bool feature = (case_flags & CF_FEATURE) || (ck & CK_FEATURE);

	if (ck & CK_MAY)
		lvl = CONF_MAY;
	else if ((ck & CK_SHOULD) && lvl == CONF_MUST)
		lvl = CONF_SHOULD;
	if (sr && profile == CONF_COMPAT)
		return feature ? CONF_UNIMPLEMENTED : CONF_NONSTRICT;
	switch (lvl) {
	case CONF_MUST:
		return CONF_FAIL;
	case CONF_SHOULD:
		return strict ? CONF_FAIL : CONF_NONSTRICT;
	default:
		return feature ? CONF_UNIMPLEMENTED : CONF_INFORMATIONAL;
	}
}

static bool glob_class(const char **pp, char c)
{
	const char *p = *pp + 1;
	bool neg = false, match = false;

	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	while (*p && *p != ']') {
		if (p[1] == '-' && p[2] && p[2] != ']') {
			if (c >= p[0] && c <= p[2])
				match = true;
			p += 3;
		} else {
			if (c == *p)
				match = true;
			p++;
		}
	}
	*pp = *p ? p + 1 : p;
	return match != neg;
}

bool conf_glob(const char *pat, const char *s)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s) {
		if (*pat == '*') {
			star_p = ++pat;
			star_s = s;
			continue;
		}
		if (*pat == '?' || (*pat && *pat != '[' && *pat == *s)) {
			pat++;
			s++;
			continue;
		}
		if (*pat == '[') {
			const char *p = pat;

			if (glob_class(&p, *s)) {
				pat = p;
				s++;
				continue;
			}
		}
		if (!star_p)
			return false;
		pat = star_p;
		s = ++star_s;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool glob_list(const char *list, const char *id)
{
	char pat[256];
	const char *p = list;

	while (*p) {
		size_t k = strcspn(p, ",");

		if (k && k < sizeof(pat)) {
			memcpy(pat, p, k);
			pat[k] = '\0';
			if (conf_glob(pat, id))
				return true;
		}
		p += k;
		if (*p == ',')
			p++;
	}
	return false;
}

bool conf_selected(const char *id, const char *only, const char *skip)
{
	if (only && !glob_list(only, id))
		return false;
	if (skip && glob_list(skip, id))
		return false;
	return true;
}

/* ---- execution ------------------------------------------------------------------------- */

struct slot {
	const struct conf_case *cs;
	struct conf_run run;
	pthread_t thread;
	bool threaded, done;
};

static void print_case(struct conf_ctx *ctx, const struct slot *s)
{
	const struct conf_run *r = &s->run;

	pthread_mutex_lock(&ctx->out_lock);
	printf("%-13s %-44s %6lld ms\n", conf_verdict_name(r->verdict), s->cs->id,
	       (long long)r->dur_ms);
	if (r->verdict != CONF_PASS && r->detail.len)
		fputs(r->detail.p, stdout);
	if (ctx->o.verbose && r->notes.len)
		fputs(r->notes.p, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&ctx->out_lock);
}

static void run_one(struct conf_ctx *ctx, struct slot *s)
{
	struct conf_run *r = &s->run;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->cs = s->cs;
	cbuf_init(&r->detail, 1024 * 1024);
	cbuf_init(&r->notes, 256 * 1024);
	if (ctx->o.use_xff)
		conf_fresh_ip(r, r->ip);
	if (ctx->o.n_source_ips > 0) {
		unsigned k = atomic_fetch_add(&ctx->src_counter, 1);

		r->src = ctx->o.source_ips[k % (unsigned)ctx->o.n_source_ips];
	}
	r->http = http_client_new(r->src);
	r->t0_ms = conf_now();
	if (!r->http)
		conf_check(r, false, 0, "runner: could not create an HTTP client");
	else
		s->cs->fn(r);
	r->dur_ms = conf_now() - r->t0_ms;
	http_client_free(r->http);
	r->http = NULL;
	s->done = true;
	print_case(ctx, s);
}

struct thread_arg {
	struct conf_ctx *ctx;
	struct slot *s;
};

static void *slow_thread(void *p)
{
	struct thread_arg *a = p;

	run_one(a->ctx, a->s);
	free(a);
	return NULL;
}

/* ---- reports --------------------------------------------------------------------------- */

static void jw_rules(struct jw *w, const char *rules)
{
	const char *p = rules;

	jw_arr(w);
	while (*p) {
		size_t k;

		while (*p == ' ')
			p++;
		k = strcspn(p, " ");
		if (k)
			jw_str(w, p, k);
		p += k;
	}
	jw_arr_end(w);
}

static int write_json(const struct conf_ctx *ctx, struct slot *slots, size_t n,
		      const size_t counts[5], int64_t started, int64_t dur_ms)
{
	struct jw w;
	char iso[25];
	char *text;
	size_t len, i;
	FILE *f;

	jw_init(&w, 64 * 1024, 256u * 1024 * 1024);
	jw_obj(&w);
	jw_key(&w, "runner");
	jw_cstr(&w, "sealroom-conform");
	jw_key(&w, "version");
	jw_cstr(&w, CONF_VERSION);
	jw_key(&w, "base");
	jw_cstr(&w, ctx->o.base);
	jw_key(&w, "profile");
	jw_cstr(&w, ctx->o.profile == CONF_SEALROOM ? "sealroom" : "compat");
	jw_key(&w, "strict");
	jw_bool(&w, ctx->o.strict);
	jw_key(&w, "spec");
	jw_cstr(&w, ctx->spec_source);
	jw_key(&w, "started_at");
	jw_cstr(&w, clock_iso8601(started, iso));
	jw_key(&w, "duration_ms");
	jw_int(&w, dur_ms);
	jw_key(&w, "summary");
	jw_obj(&w);
	jw_key(&w, "passed");
	jw_int(&w, (int64_t)counts[CONF_PASS]);
	jw_key(&w, "failed");
	jw_int(&w, (int64_t)counts[CONF_FAIL]);
	jw_key(&w, "non_strict");
	jw_int(&w, (int64_t)counts[CONF_NONSTRICT]);
	jw_key(&w, "unimplemented");
	jw_int(&w, (int64_t)counts[CONF_UNIMPLEMENTED]);
	jw_key(&w, "informational");
	jw_int(&w, (int64_t)counts[CONF_INFORMATIONAL]);
	jw_obj_end(&w);
	jw_key(&w, "cases");
	jw_arr(&w);
	for (i = 0; i < n; i++) {
		const struct conf_run *r = &slots[i].run;

		jw_obj(&w);
		jw_key(&w, "id");
		jw_cstr(&w, slots[i].cs->id);
		jw_key(&w, "level");
		jw_cstr(&w, conf_level_name(slots[i].cs->level));
		jw_key(&w, "rules");
		jw_rules(&w, slots[i].cs->rules);
		jw_key(&w, "profile_marked");
		jw_bool(&w, (slots[i].cs->flags & CF_SR) != 0);
		jw_key(&w, "title");
		jw_cstr(&w, slots[i].cs->title);
		jw_key(&w, "verdict");
		jw_cstr(&w, conf_verdict_name(r->verdict));
		jw_key(&w, "duration_ms");
		jw_int(&w, r->dur_ms);
		jw_key(&w, "checks");
		jw_int(&w, r->checks);
		jw_key(&w, "detail");
		jw_str(&w, r->detail.p ? r->detail.p : "", r->detail.len);
		jw_key(&w, "notes");
		jw_str(&w, r->notes.p ? r->notes.p : "", r->notes.len);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	text = jw_take(&w, &len);
	jw_free(&w);
	if (!text)
		return -1;
	f = fopen(ctx->o.json_path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF) {
		if (f)
			fclose(f);
		free(text);
		return -1;
	}
	free(text);
	return fclose(f) == 0 ? 0 : -1;
}

/* XML text: escape markup, drop bytes XML 1.0 forbids (controls other than \t \n \r). */
static void xml_put(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
				fputc(c, f);
			break;
		}
	}
}

static int write_junit(const struct conf_ctx *ctx, struct slot *slots, size_t n,
		       const size_t counts[5], int64_t dur_ms)
{
	FILE *f = fopen(ctx->o.junit_path, "wb");
	size_t i;

	if (!f)
		return -1;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"sealroom-conform\" tests=\"%zu\" failures=\"%zu\" "
		   "skipped=\"%zu\" time=\"%.3f\">\n",
		n, counts[CONF_FAIL], counts[CONF_UNIMPLEMENTED], (double)dur_ms / 1000.0);
	fprintf(f, "  <testsuite name=\"sealroom-conform (%s profile)\" tests=\"%zu\" "
		   "failures=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
		ctx->o.profile == CONF_SEALROOM ? "sealroom" : "compat", n, counts[CONF_FAIL],
		counts[CONF_UNIMPLEMENTED], (double)dur_ms / 1000.0);
	for (i = 0; i < n; i++) {
		const struct conf_run *r = &slots[i].run;
		const char *id = slots[i].cs->id;
		const char *dot = strchr(id, '.');
		const char *det = r->detail.p ? r->detail.p : "";

		fprintf(f, "    <testcase classname=\"");
		xml_put(f, id, dot ? (size_t)(dot - id) : strlen(id));
		fprintf(f, "\" name=\"");
		xml_put(f, id, strlen(id));
		fprintf(f, "\" time=\"%.3f\">\n", (double)r->dur_ms / 1000.0);
		fprintf(f, "      <properties><property name=\"level\" value=\"%s\"/>"
			   "<property name=\"rules\" value=\"",
			conf_level_name(slots[i].cs->level));
		xml_put(f, slots[i].cs->rules, strlen(slots[i].cs->rules));
		fprintf(f, "\"/><property name=\"verdict\" value=\"%s\"/></properties>\n",
			conf_verdict_name(r->verdict));
		if (r->verdict == CONF_FAIL) {
			fprintf(f, "      <failure message=\"%s %s\" type=\"FAIL\">",
				conf_level_name(slots[i].cs->level), id);
			xml_put(f, det, r->detail.len);
			fprintf(f, "</failure>\n");
		} else if (r->verdict == CONF_UNIMPLEMENTED) {
			fprintf(f, "      <skipped message=\"UNIMPLEMENTED\"/>\n");
		}
		if (r->detail.len || r->notes.len) {
			fprintf(f, "      <system-out>");
			xml_put(f, det, r->detail.len);
			if (r->notes.p)
				xml_put(f, r->notes.p, r->notes.len);
			fprintf(f, "</system-out>\n");
		}
		fprintf(f, "    </testcase>\n");
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	return fclose(f) == 0 ? 0 : -1;
}

static void list_cases(void)
{
	const struct conf_case *const *t;

	for (t = conf_case_tables; *t; t++) {
		const struct conf_case *c;

		for (c = *t; c->id; c++)
			printf("%-44s %-6s %s%s[%s] %s\n", c->id, conf_level_name(c->level),
			       c->flags & CF_SR ? "(sealroom) " : "", c->flags & CF_SLOW ? "slow " : "",
			       c->rules, c->title);
	}
}

int conf_run_all(struct conf_ctx *ctx)
{
	const struct conf_case *const *t;
	struct slot *slots;
	size_t n = 0, cap = 0, i;
	size_t counts[5] = { 0 };
	int64_t started = clock_now_ms(), t0 = conf_now(), dur;
	int rc = 0;
	int pass;

	if (ctx->o.list) {
		list_cases();
		return 0;
	}
	for (t = conf_case_tables; *t; t++) {
		const struct conf_case *c;

		for (c = *t; c->id; c++)
			cap++;
	}
	slots = calloc(cap ? cap : 1, sizeof(*slots));
	if (!slots)
		return 1;
	for (t = conf_case_tables; *t; t++) {
		const struct conf_case *c;

		for (c = *t; c->id; c++)
			if (conf_selected(c->id, ctx->o.only, ctx->o.skip))
				slots[n++].cs = c;
	}
	if (n == 0) {
		fprintf(stderr, "sealroom-conform: no case matches --only/--skip\n");
		free(slots);
		return 2;
	}
	printf("sealroom-conform %s against %s (profile %s%s); schemas: %s\n", CONF_VERSION,
	       ctx->o.base, ctx->o.profile == CONF_SEALROOM ? "sealroom" : "compat",
	       ctx->o.strict ? ", strict" : "", ctx->spec_source);
	fflush(stdout);

	/* Slow cases first, each in its own thread; then the others in order, late ones last. */
	for (i = 0; i < n; i++) {
		struct thread_arg *a;

		if (!(slots[i].cs->flags & CF_SLOW))
			continue;
		a = malloc(sizeof(*a));
		if (a) {
			a->ctx = ctx;
			a->s = &slots[i];
			if (pthread_create(&slots[i].thread, NULL, slow_thread, a) == 0) {
				slots[i].threaded = true;
				continue;
			}
			free(a);
		}
		run_one(ctx, &slots[i]);
	}
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			unsigned f = slots[i].cs->flags;

			if ((f & (CF_SLOW | CF_EXCLUSIVE)) || ((f & CF_LATE) != 0) != (pass == 1))
				continue;
			run_one(ctx, &slots[i]);
		}
	for (i = 0; i < n; i++)
		if (slots[i].threaded)
			pthread_join(slots[i].thread, NULL);
	for (i = 0; i < n; i++)
		if ((slots[i].cs->flags & CF_EXCLUSIVE) && !(slots[i].cs->flags & CF_SLOW))
			run_one(ctx, &slots[i]);
	dur = conf_now() - t0;

	for (i = 0; i < n; i++) {
		const struct conf_run *r = &slots[i].run;

		counts[r->verdict]++;
		if (r->verdict == CONF_FAIL)
			rc = 1;
	}
	printf("\n");
	for (i = 0; i < n; i++)
		if (slots[i].run.verdict == CONF_FAIL)
			printf("failed: %s (%s; %s)\n", slots[i].cs->id,
			       conf_level_name(slots[i].cs->level), slots[i].cs->rules);
	printf("NON-STRICT %zu, UNIMPLEMENTED %zu, INFORMATIONAL %zu (%zu cases in %.1f s)\n",
	       counts[CONF_NONSTRICT], counts[CONF_UNIMPLEMENTED], counts[CONF_INFORMATIONAL], n,
	       (double)dur / 1000.0);
	printf("conformance: %zu passed, %zu failed\n", counts[CONF_PASS], counts[CONF_FAIL]);
	fflush(stdout);

	if (ctx->o.json_path && write_json(ctx, slots, n, counts, started, dur) < 0) {
		fprintf(stderr, "sealroom-conform: cannot write %s\n", ctx->o.json_path);
		rc = 1;
	}
	if (ctx->o.junit_path && write_junit(ctx, slots, n, counts, dur) < 0) {
		fprintf(stderr, "sealroom-conform: cannot write %s\n", ctx->o.junit_path);
		rc = 1;
	}
	for (i = 0; i < n; i++) {
		cbuf_free(&slots[i].run.detail);
		cbuf_free(&slots[i].run.notes);
	}
	free(slots);
	return rc;
}
