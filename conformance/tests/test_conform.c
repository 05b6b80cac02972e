/* Tests of sealroom-conform itself: grading (PROTOCOL.md §0 profiles), case selection, the
 * rule table and its PROTOCOL.md parser, the case tables' hygiene, the command line's exit
 * codes, and two end-to-end runs: against the real relay (must pass) and against a scripted
 * fake relay that breaks one (sealroom)-marked rule (NON-STRICT in compat, FAIL in sealroom). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/buf.h"
#include "client/rawhttp.h"
#include "conform.h"
#include "proto/clock.h"
#include "testkit/relayproc.h"
#include "testkit/tcpsrv.h"

/* ---- grading ---------------------------------------------------------------------------- */

struct grade_vec {
	enum conf_level level;
	unsigned cf, ck;
	enum conf_profile profile;
	bool strict;
	enum conf_verdict want;
};

static const struct grade_vec grades[] = {
	{ CONF_MUST, 0, 0, CONF_COMPAT, false, CONF_FAIL },
	{ CONF_MUST, 0, 0, CONF_SEALROOM, false, CONF_FAIL },
	/* (sealroom)-marked: never FAIL in compat */
	{ CONF_MUST, CF_SR, 0, CONF_COMPAT, false, CONF_NONSTRICT },
	{ CONF_MUST, 0, CK_SR, CONF_COMPAT, true, CONF_NONSTRICT },
	{ CONF_MUST, CF_SR, 0, CONF_SEALROOM, false, CONF_FAIL },
	{ CONF_MUST, 0, CK_SR, CONF_SEALROOM, false, CONF_FAIL },
	/* an absent optional feature in compat */
	{ CONF_MUST, CF_SR | CF_FEATURE, 0, CONF_COMPAT, false, CONF_UNIMPLEMENTED },
	{ CONF_MUST, 0, CK_SR | CK_FEATURE, CONF_COMPAT, false, CONF_UNIMPLEMENTED },
	{ CONF_MUST, 0, CK_SR | CK_FEATURE, CONF_SEALROOM, false, CONF_FAIL },
	/* SHOULD: NON-STRICT, FAIL only with --strict */
	{ CONF_SHOULD, 0, 0, CONF_SEALROOM, false, CONF_NONSTRICT },
	{ CONF_SHOULD, 0, 0, CONF_SEALROOM, true, CONF_FAIL },
	{ CONF_MUST, 0, CK_SHOULD, CONF_SEALROOM, false, CONF_NONSTRICT },
	{ CONF_MUST, 0, CK_SHOULD, CONF_SEALROOM, true, CONF_FAIL },
	{ CONF_SHOULD, CF_SR, 0, CONF_COMPAT, true, CONF_NONSTRICT },
	/* MAY: a relay differing only where the protocol says MAY never FAILs */
	{ CONF_MAY, 0, 0, CONF_SEALROOM, true, CONF_INFORMATIONAL },
	{ CONF_MAY, CF_FEATURE, 0, CONF_SEALROOM, true, CONF_UNIMPLEMENTED },
	{ CONF_MAY, CF_SR | CF_FEATURE, 0, CONF_COMPAT, false, CONF_UNIMPLEMENTED },
	{ CONF_MUST, 0, CK_MAY, CONF_SEALROOM, true, CONF_INFORMATIONAL },
};

static void test_grade(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(grades) / sizeof(grades[0]); i++) {
		const struct grade_vec *g = &grades[i];
		enum conf_verdict v = conf_grade(g->level, g->cf, g->ck, g->profile, g->strict);

		if (v != g->want)
			fail_msg("grade vector %zu: got %s, want %s", i, conf_verdict_name(v),
				 conf_verdict_name(g->want));
	}
}

/* ---- selection -------------------------------------------------------------------------- */

static void test_glob(void **state)
{
	assert_true(conf_glob("sse.*", "sse.order"));
	assert_true(conf_glob("sse.*", "sse.resume.after"));
	assert_false(conf_glob("sse.*", "ws.replay"));
	assert_true(conf_glob("*.after", "sse.resume.after"));
	assert_true(conf_glob("room.?eq.*", "room.seq.seed"));
	assert_true(conf_glob("room.[rs]eq.seed", "room.seq.seed"));
	assert_false(conf_glob("room.[!s]eq.seed", "room.seq.seed"));
	assert_true(conf_glob("*", ""));
	assert_false(conf_glob("a", ""));
	assert_true(conf_selected("sse.order", NULL, NULL));
	assert_true(conf_selected("sse.order", "ws.*,sse.*", NULL));
	assert_false(conf_selected("sse.order", "ws.*", NULL));
	assert_false(conf_selected("sse.order", "sse.*", "sse.ord*"));
	assert_true(conf_selected("sse.keepalive", "sse.*", "sse.ord*,ws.*"));
}

/* ---- the rule table and the PROTOCOL.md parser ------------------------------------------- */

struct seen {
	char ids[16][24];
	enum conf_level lvl[16];
	bool sr[16];
	int n;
};

static void collect(void *ud, const char *id, enum conf_level lvl, bool sr)
{
	struct seen *s = ud;

	if (s->n < 16) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", id);
		s->lvl[s->n] = lvl;
		s->sr[s->n] = sr;
		s->n++;
	}
}

static void test_protocol_parser(void **state)
{
	static const char text[] =
		"## 2. HTTP\n"
		"| ID | Level | Rule |\n|---|---|---|\n"
		"| HTTP-1 | MUST | Serve. |\n"
		"| HTTP-6 | MAY | HEAD. |\n"
		"| HTTP-9 | MUST NOT | No CORS. (sealroom: no ETag.) |\n"
		"| LOG-5 | SHOULD | Print `sealroom listening`. |\n"
		"| SSE-15 | — | Event types. |\n"
		"### 6.1 POST\n"
		"| ID | Check | Failure |\n|---|---|---|\n"
		"| ROOM-POST-1 | room id | 400 |\n"
		"| ROOM-12d | sender | (sealroom) no U+0000 |\n"
		"### 15.2 Metrics (sealroom)\n"
		"| ID | Level | Rule |\n|---|---|---|\n"
		"| MET-1 | MUST | Bearer. |\n"
		"## 19. What clients rely on\n"
		"| ID | Behaviour |\n|---|---|\n"
		"| CLIENT-1 | dedupe |\n"
		"| not-an-id | x |\n"
		"Text mentioning HTTP-2 is not a row.\n";
	static const struct {
		const char *id;
		enum conf_level lvl;
		bool sr;
	} want[] = {
		{ "HTTP-1", CONF_MUST, false },	     { "HTTP-6", CONF_MAY, false },
		{ "HTTP-9", CONF_MUST, true },	     { "LOG-5", CONF_SHOULD, false },
		{ "SSE-15", CONF_INFO_LEVEL, false }, { "ROOM-POST-1", CONF_MUST, false },
		{ "ROOM-12d", CONF_MUST, true },     { "MET-1", CONF_MUST, true },
		{ "CLIENT-1", CONF_INFO_LEVEL, false },
	};
	struct seen s = { 0 };
	size_t i;

	assert_int_equal(conf_protocol_rules(text, collect, &s), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(s.ids[i], want[i].id);
		assert_int_equal(s.lvl[i], want[i].lvl);
		assert_int_equal(s.sr[i], want[i].sr);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
			buf[n] = '\0';
		else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

struct table_check {
	size_t rows, mismatches;
};

static void against_table(void *ud, const char *id, enum conf_level lvl, bool sr)
{
	struct table_check *t = ud;
	const struct conf_rule *r = conf_rule_find(id, strlen(id));

	t->rows++;
	if (!r || r->level != lvl || r->sr != sr) {
		print_error("rule %s: PROTOCOL.md and the runner's table disagree\n", id);
		t->mismatches++;
	}
}

/* The checked table matches PROTOCOL.md (when the shared spec is next to the repo). */
static void test_rule_table_matches_protocol(void **state)
{
	char path[1024];
	char *text;
	struct table_check t = { 0, 0 };

	snprintf(path, sizeof(path), "%s/../shared/PROTOCOL.md", SEALROOM_SOURCE_DIR);
	text = slurp(path);
	if (!text)
		skip();
	conf_protocol_rules(text, against_table, &t);
	free(text);
	assert_int_equal(t.mismatches, 0);
	assert_int_equal(t.rows, conf_n_rules);
}

static bool id_ok(const char *id)
{
	const char *p;
	int dots = 0;

	for (p = id; *p; p++) {
		if (*p == '.') {
			if (p == id || p[1] == '\0' || p[-1] == '.')
				return false;
			dots++;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
			return false;
		}
	}
	return dots >= 1;
}

/* Every case: a unique well-formed id, known rules, a title, a function; every MUST and
 * SHOULD rule has a case. */
static void test_case_tables(void **state)
{
	const struct conf_case *const *t, *c, *const *t2, *d;
	size_t n = 0, i;

	for (t = conf_case_tables; *t; t++) {
		for (c = *t; c->id; c++) {
			const char *p = c->rules;
			int k = 0;

			n++;
			if (!id_ok(c->id))
				fail_msg("case id %s is not <area>.<name> in [a-z0-9-]", c->id);
			assert_non_null(c->fn);
			assert_non_null(c->title);
			assert_true(c->title[0] != '\0');
			while (*p) {
				size_t len;

				while (*p == ' ')
					p++;
				len = strcspn(p, " ");
				if (len && !conf_rule_find(p, len))
					fail_msg("case %s cites unknown rule %.*s", c->id, (int)len, p);
				k += len > 0;
				p += len;
			}
			if (k == 0)
				fail_msg("case %s cites no rule", c->id);
			for (t2 = t; *t2; t2++)
				for (d = t2 == t ? c + 1 : *t2; d->id; d++)
					if (strcmp(d->id, c->id) == 0)
						fail_msg("duplicate case id %s", c->id);
		}
	}
	assert_true(n > 100);
	for (i = 0; i < conf_n_rules; i++) {
		bool found = false;

		if (conf_rules[i].level != CONF_MUST && conf_rules[i].level != CONF_SHOULD)
			continue;
		for (t = conf_case_tables; *t && !found; t++)
			for (c = *t; c->id && !found; c++)
				found = conf_rules_cite(c->rules, conf_rules[i].id);
		if (!found)
			fail_msg("%s rule %s has no case", conf_level_name(conf_rules[i].level),
				 conf_rules[i].id);
	}
	assert_true(conf_rules_cite("SSE-6 SSE-7", "SSE-7"));
	assert_false(conf_rules_cite("SSE-67", "SSE-6"));
}

/* ---- the command line ------------------------------------------------------------------- */

/* Run the runner with args (a shell-quoted string); returns its exit status; output is
 * written to out_path. */
static int run_conform(const char *args, const char *out_path)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s >%s 2>&1", SEALROOM_CONFORM_BIN, args, out_path);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_usage(void **state)
{
	char out[] = "/tmp/conform-usage-XXXXXX";
	int fd = mkstemp(out);
	char *text;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run_conform("", out), 2);
	assert_int_equal(run_conform("--base http://127.0.0.1:1 --profile strictest", out), 2);
	assert_int_equal(run_conform("--base http://127.0.0.1:1 --frobnicate", out), 2);
	assert_int_equal(run_conform("--base http://127.0.0.1:1/api", out), 2);
	assert_int_equal(run_conform("--base https://relay.example", out), 2);
	assert_int_equal(run_conform("--base http://127.0.0.1:1 --timeout-scale x", out), 2);
	assert_int_equal(run_conform("--base http://127.0.0.1:1 --only no-such-case", out), 2);
	assert_int_equal(run_conform("--help", out), 0);
	text = slurp(out);
	assert_non_null(text);
	assert_non_null(strstr(text, "--profile"));
	free(text);
	assert_int_equal(run_conform("--list", out), 0);
	text = slurp(out);
	assert_non_null(strstr(text, "room.dialogue.sse"));
	assert_non_null(strstr(text, "sse.resume.beyond-buffer"));
	free(text);
	unlink(out);
}

/* ---- end to end: the real relay --------------------------------------------------------- */

static void test_against_relay(void **state)
{
	static const char *const args[] = { "--keepalive-ms", "1000", "--evict-grace-ms", "2000",
					    "--janitor-interval-ms", "500", NULL };
	struct relay_proc rp;
	char out[] = "/tmp/conform-run-XXXXXX", json[64], cmd[1024];
	int fd = mkstemp(out);
	char *text;

	assert_true(fd >= 0);
	close(fd);
	snprintf(json, sizeof(json), "%s.json", out);
	assert_int_equal(relay_start(&rp, args), 0);
	snprintf(cmd, sizeof(cmd),
		 "--base %s --profile sealroom --keepalive-ms 1000 --grace-ms 2000 --janitor-ms 500 "
		 "--only 'meta.health,status.*,transcript.*,sse.order,sse.resume.*,room.seq.*,"
		 "room.dialogue.sse,wait.immediate,crypto.*' --json %s",
		 rp.base, json);
	assert_int_equal(run_conform(cmd, out), 0);
	assert_int_equal(relay_stop(&rp), 0);
	text = slurp(out);
	assert_non_null(text);
	assert_non_null(strstr(text, "PASS          sse.order"));
	assert_non_null(strstr(text, ", 0 failed\n"));
	free(text);
	text = slurp(json);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"runner\":\"sealroom-conform\""));
	assert_non_null(strstr(text, "\"id\":\"room.dialogue.sse\""));
	assert_null(strstr(text, "\"verdict\":\"FAIL\""));
	free(text);
	unlink(out);
	unlink(json);
}

/* ---- end to end: a fake relay breaking one (sealroom) rule ---------------------------- */

/* Answers every request on the connection: /api/health correctly, "/" with 404 (breaking
 * META-1, a (sealroom) rule), everything else 404 {"error":"not found"}. */
static void fake_relay(int fd, unsigned conn_no, void *ud)
{
	struct cbuf in;

	cbuf_init(&in, 1024 * 1024);
	for (;;) {
		long n = tcpsrv_read_request(fd, &in, 5000);
		char resp[512], body[128];
		const char *status = "404 Not Found";

		if (n <= 0)
			break;
		if (strncmp(in.p, "GET /api/health ", 16) == 0) {
			snprintf(body, sizeof(body), "{\"ok\":true,\"rooms\":0,\"ts\":%lld}",
				 (long long)clock_now_ms());
			status = "200 OK";
		} else {
			snprintf(body, sizeof(body), "{\"error\":\"not found\"}");
		}
		snprintf(resp, sizeof(resp),
			 "HTTP/1.1 %s\r\nContent-Type: application/json; charset=utf-8\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 status, strlen(body), body);
		cbuf_consume(&in, (size_t)n);
		if (raw_sends(fd, resp, clock_mono_ms() + 5000) < 0)
			break;
	}
	cbuf_free(&in);
}

static void test_profiles_on_fake(void **state)
{
	struct tcpsrv *srv = tcpsrv_start(fake_relay, NULL);
	char out[] = "/tmp/conform-fake-XXXXXX", cmd[512];
	int fd = mkstemp(out);
	char *text;

	assert_non_null(srv);
	assert_true(fd >= 0);
	close(fd);
	/* META-1 is (sealroom): NON-STRICT in compat (exit 0), FAIL in sealroom (exit 1). */
	snprintf(cmd, sizeof(cmd), "--base http://127.0.0.1:%d --only meta.root,meta.health",
		 tcpsrv_port(srv));
	assert_int_equal(run_conform(cmd, out), 0);
	text = slurp(out);
	assert_non_null(strstr(text, "NON-STRICT    meta.root"));
	assert_non_null(strstr(text, "PASS          meta.health"));
	assert_non_null(strstr(text, "conformance: 1 passed, 0 failed"));
	free(text);
	snprintf(cmd, sizeof(cmd),
		 "--base http://127.0.0.1:%d --only meta.root,meta.health --profile sealroom",
		 tcpsrv_port(srv));
	assert_int_equal(run_conform(cmd, out), 1);
	text = slurp(out);
	assert_non_null(strstr(text, "FAIL          meta.root"));
	assert_non_null(strstr(text, "META-1: GET / → 200 text/plain; charset=utf-8"));
	assert_non_null(strstr(text, "conformance: 1 passed, 1 failed"));
	free(text);
	/* An unmarked MUST fails in both profiles: status.absent against 404s. */
	snprintf(cmd, sizeof(cmd), "--base http://127.0.0.1:%d --only status.absent", tcpsrv_port(srv));
	assert_int_equal(run_conform(cmd, out), 1);
	tcpsrv_stop(srv);
	unlink(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grade),
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_protocol_parser),
		cmocka_unit_test(test_rule_table_matches_protocol),
		cmocka_unit_test(test_case_tables),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_profiles_on_fake),
		cmocka_unit_test(test_against_relay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
