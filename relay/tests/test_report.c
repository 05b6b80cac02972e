/* Tests for relay/report: RPT-2..4 entry lines, the INV-12 salted hash, the serial writer and
 * rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <unistd.h>

#include "crypto/hash.h"
#include "proto/json.h"
#include "report.h"

#define T INT64_C(1767225600000)
#define ID "859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b"

static cJSON *parse(const char *s)
{
	cJSON *j = json_parse(s, strlen(s), 32, true);
	assert_non_null(j);
	return j;
}

static char *entry(struct bugs *b, const char *body, const char *ua, const char *ip)
{
	cJSON *j = parse(body);
	size_t len;
	char *line = bugs_entry(b, j, ua, ip, ID, T, &len);
	assert_non_null(line);
	assert_int_equal(strlen(line), len);
	cJSON_Delete(j);
	return line;
}

static void hash12(const char *ip, const char *salt, char out[13])
{
	char buf[256], hex[65];
	snprintf(buf, sizeof(buf), "%s|%s", ip, salt);
	crypto_sha256_hex(buf, strlen(buf), hex);
	memcpy(out, hex, 12);
	out[12] = '\0';
}

/* RPT-3: keys in order, non-string fields "", unknown keys dropped, INV-12 hash. */
static void test_entry_exact(void **state)
{
	struct bugs *b = bugs_new(NULL, 5242880, "pepper", stderr);
	char h[13], want[1024];
	hash12("1.2.3.4", "pepper", h);
	char *line = entry(b,
			   "{\"what\":\"crash when x\",\"where\":\"w/x\",\"repro\":5,\"context\":null,\"contact\":\"me\","
			   "\"severity\":\"high\",\"extra\":\"ignored\",\"ip\":\"9.9.9.9\"}",
			   "curl/8.5", "1.2.3.4");
	snprintf(want, sizeof(want),
		 "{\"id\":\"" ID "\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"what\":\"crash when x\",\"where\":\"w/x\","
		 "\"repro\":\"\",\"context\":\"\",\"contact\":\"me\",\"severity\":\"high\",\"ua\":\"curl/8.5\","
		 "\"ip_hash\":\"%s\"}",
		 h);
	assert_string_equal(line, want);
	free(line);
	char h2[13];
	bugs_ip_hash(b, "1.2.3.4", h2);
	assert_string_equal(h2, h);
	bugs_ip_hash(b, "", h2); /* IP-3: the empty IP hashes as "" */
	hash12("", "pepper", h);
	assert_string_equal(h2, h);
	bugs_free(b);
}

/* Severity: exactly one of the four, else "medium"; a missing User-Agent is "". */
static void test_severity(void **state)
{
	struct bugs *b = bugs_new(NULL, 5242880, "s", stderr);
	static const struct { const char *body, *sev; } cases[] = {
		{"{\"what\":\"12345\",\"severity\":\"low\"}", "\"severity\":\"low\""},
		{"{\"what\":\"12345\",\"severity\":\"critical\"}", "\"severity\":\"critical\""},
		{"{\"what\":\"12345\",\"severity\":\"HIGH\"}", "\"severity\":\"medium\""},
		{"{\"what\":\"12345\",\"severity\":3}", "\"severity\":\"medium\""},
		{"{\"what\":\"12345\"}", "\"severity\":\"medium\",\"ua\":\"\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *line = entry(b, cases[i].body, NULL, "1.1.1.1");
		assert_non_null(strstr(line, cases[i].sev));
		free(line);
	}
	bugs_free(b);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Truncation per field (units, never splitting a pair), U+0000 cuts (HTTP-17), UA sanitised. */
static void test_truncation(void **state)
{
	struct bugs *b = bugs_new(NULL, 5242880, "s", stderr);
	char *what = repeat('a', 4100), *where = repeat('b', 3999), *body = malloc(20000);
	where[499] = '\0'; /* 499 'b' then an emoji: unit 500 would be its high half */
	snprintf(body, 20000,
		 "{\"what\":\"%s\",\"where\":\"%s\xf0\x9f\x98\x80xyz\",\"contact\":\"ab\\u0000cd\",\"context\":\"\\u00e9\"}",
		 what, where);
	char *ua = malloc(1000);
	memset(ua, 'u', 999);
	ua[0] = '\xff';
	ua[999] = '\0';
	char *line = entry(b, body, ua, "1.1.1.1");
	cJSON *j = parse(line);
	assert_int_equal(strlen(json_get(j, "what")->valuestring), 4000);
	assert_int_equal(strlen(json_get(j, "where")->valuestring), 499);
	assert_string_equal(json_get(j, "contact")->valuestring, "ab");
	assert_string_equal(json_get(j, "context")->valuestring, "\xc3\xa9");
	const char *u = json_get(j, "ua")->valuestring;
	assert_memory_equal(u, "\xef\xbf\xbduuu", 6); /* the bad byte became U+FFFD (1 unit) */
	assert_int_equal(strlen(u), 3 + 199);
	cJSON_Delete(j);
	free(line);
	free(ua);
	free(body);
	free(what);
	free(where);
	bugs_free(b);
}

/* RPT-2: `what` needs 5 units after truncation and the U+0000 cut. */
static void test_what_ok(void **state)
{
	static const struct { const char *body; bool ok; } cases[] = {
		{"{}", false},
		{"[]", false},
		{"{\"what\":12345}", false},
		{"{\"what\":\"abcd\"}", false},
		{"{\"what\":\"abcde\"}", true},
		{"{\"what\":\"     \"}", true},
		{"{\"what\":\"ab\\u0000cdef\"}", false},
		{"{\"what\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}", true}, /* 6 units */
		{"{\"what\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}", false},                  /* 4 units */
		{"{\"what\":\"abc\",\"what\":\"abcdef\"}", true},                                /* last wins */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *j = parse(cases[i].body);
		assert_int_equal(bugs_what_ok(j), cases[i].ok);
		cJSON_Delete(j);
	}
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 4096);
	size_t n = fread(buf, 1, 4095, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* RPT-4: serial appends, one line each; rotate to .1 once the file exceeds the limit. */
static void test_writer_rotation(void **state)
{
	char tmpl[] = "/tmp/sealroom-bugs-XXXXXX";
	char *dir = mkdtemp(tmpl), path[256], rotated[256];
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/bugs.log", dir);
	snprintf(rotated, sizeof(rotated), "%s/bugs.log.1", dir);
	struct bugs *b = bugs_new(path, 100, "s", stderr);
	for (int i = 0; i < 3; i++) {
		char *line = malloc(64);
		int n = snprintf(line, 64, "{\"n\":%d,\"pad\":\"%044d\"}", i, 0); /* 60 bytes */
		assert_int_equal(n, 60);
		assert_int_equal(bugs_submit(b, line, (size_t)n), 0);
	}
	bugs_flush(b);
	char *cur = slurp(path), *old = slurp(rotated);
	assert_non_null(cur);
	assert_non_null(old);
	/* 61 bytes after the first, 122 after the second (> 100): the third rotates */
	assert_string_equal(old, "{\"n\":0,\"pad\":\"00000000000000000000000000000000000000000000\"}\n"
				 "{\"n\":1,\"pad\":\"00000000000000000000000000000000000000000000\"}\n");
	assert_string_equal(cur, "{\"n\":2,\"pad\":\"00000000000000000000000000000000000000000000\"}\n");
	free(cur);
	free(old);
	bugs_free(b);
	unlink(path);
	unlink(rotated);
	rmdir(dir);
}

/* RPT-4 (sealroom): no BUGS_LOG, no writer: entries are discarded. A random salt per start. */
static void test_discard_and_random_salt(void **state)
{
	struct bugs *a = bugs_new("", 100, "", stderr), *b = bugs_new(NULL, 100, NULL, stderr);
	assert_int_equal(bugs_submit(a, strdup("x"), 1), 0);
	bugs_flush(a);
	char ha[13], hb[13];
	bugs_ip_hash(a, "1.2.3.4", ha);
	bugs_ip_hash(b, "1.2.3.4", hb);
	assert_string_not_equal(ha, hb);
	bugs_free(a);
	bugs_free(b);
}

int main(void)
{
	if (crypto_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_exact),
		cmocka_unit_test(test_severity),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_what_ok),
		cmocka_unit_test(test_writer_rotation),
		cmocka_unit_test(test_discard_and_random_salt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
