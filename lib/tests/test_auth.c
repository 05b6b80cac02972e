/* Relay-side Authorization parsing (PROTOCOL.md §11.1 AUTH-1..3, VAL-6, §0 P(s)), driven by
 * the table in spec/vectors/auth.json plus the cases JSON cannot express. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/auth.h"

#define NONCE "0NHS09TV1tfY2drb3N3e3-Dh"
#define SIG                                                                                        \
	"WWFK86HaT0zZjb5ig4r1bl6Lh/Sy9e37pC/hGgzLovuv7D6sZFdX3KFzKcp/MG7d0SnISmwkL5g4UG/LWk17CA=="

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static void test_vectors_table(void **state)
{
	char *text = read_file(SEALROOM_SOURCE_DIR "/spec/vectors/auth.json");
	cJSON *doc, *cases, *c;
	int count = 0, ok_count = 0;

	assert_non_null(text);
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	cases = cJSON_GetObjectItemCaseSensitive(doc, "cases");
	assert_true(cJSON_IsArray(cases));
	cJSON_ArrayForEach(c, cases) {
		const char *name = str_field(c, "name"), *value = str_field(c, "value");
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c, "ok");
		struct auth_parsed p;
		bool got;

		assert_true(cJSON_IsBool(ok));
		memset(&p, 0xa5, sizeof(p));
		got = auth_parse(value, strlen(value), &p);
		if (got != (bool)cJSON_IsTrue(ok))
			fail_msg("case \"%s\": auth_parse returned %d", name, got);
		if (got) {
			const cJSON *ts = cJSON_GetObjectItemCaseSensitive(c, "ts");
			const char *n = str_field(c, "n"), *sig = str_field(c, "sig");

			assert_true(cJSON_IsNumber(ts));
			if (p.ts != (int64_t)ts->valuedouble)
				fail_msg("case \"%s\": ts %lld", name, (long long)p.ts);
			assert_int_equal(p.nonce_len, strlen(n));
			assert_memory_equal(p.nonce, n, p.nonce_len);
			assert_int_equal(p.sig_len, strlen(sig));
			assert_memory_equal(p.sig, sig, p.sig_len);
			/* pointers point into the value */
			assert_true(p.nonce >= value &&
				    p.nonce + p.nonce_len <= value + strlen(value));
			assert_true(p.sig >= value && p.sig + p.sig_len <= value + strlen(value));
			ok_count++;
		} else {
			/* a failed parse leaves *out untouched */
			unsigned char pattern[sizeof(p)];

			memset(pattern, 0xa5, sizeof(pattern));
			assert_memory_equal(&p, pattern, sizeof(p));
		}
		count++;
	}
	/* the table is what we think it is: guards against an emptied or truncated file */
	assert_int_equal(count, 58);
	assert_int_equal(ok_count, 21);
	cJSON_Delete(doc);
	free(text);
}

/* The value is length-delimited: bytes after len are never read (civetweb/JSON slices). */
static void test_length_delimited(void **state)
{
	static const char hdr[] = "SafeBot ts=1767225600000,n=" NONCE ",sig=" SIG "XYZ,n=bad";
	size_t len = strlen(hdr) - strlen("XYZ,n=bad");
	struct auth_parsed p;

	assert_true(auth_parse(hdr, len, &p));
	assert_int_equal(p.ts, INT64_C(1767225600000));
	assert_int_equal(p.sig_len, strlen(SIG));
	assert_memory_equal(p.sig, SIG, p.sig_len);
	/* whole string: the trailing n=bad wins (last duplicate) and fails VAL-6 */
	assert_false(auth_parse(hdr, strlen(hdr), &p));
	/* a length inside the prefix */
	assert_false(auth_parse(hdr, 7, &p));
	assert_false(auth_parse(hdr, 0, &p));
	assert_false(auth_parse(NULL, 0, &p));
	/* the ts value may end at len without a terminator */
	assert_true(auth_parse("SafeBot n=" NONCE ",sig=x,ts=42",
			       strlen("SafeBot n=" NONCE ",sig=x,ts=4"), &p));
	assert_int_equal(p.ts, 4);
}

/* Bytes JSON strings cannot carry cleanly: NUL, raw high bytes. */
static void test_binary_bytes(void **state)
{
	static const char with_nul[] = "SafeBot ts=1,n=" NONCE ",sig=a\0b";
	static const char nul_nonce[] = "SafeBot ts=1,n=0NHS09TV1tfY\0drb3N3e3-Dh,sig=x";
	static const char nul_prefix[] = "SafeBot\0ts=1,n=" NONCE ",sig=x";
	struct auth_parsed p;

	assert_true(auth_parse(with_nul, sizeof(with_nul) - 1, &p));
	assert_int_equal(p.sig_len, 3);
	assert_memory_equal(p.sig, "a\0b", 3);
	assert_false(auth_parse(nul_nonce, sizeof(nul_nonce) - 1, &p));
	assert_false(auth_parse(nul_prefix, sizeof(nul_prefix) - 1, &p));
	assert_false(auth_parse("SafeBot ts=1,n=\xff\xfe" NONCE ",sig=x",
				strlen("SafeBot ts=1,n=\xff\xfe" NONCE ",sig=x"), &p));
}

static void test_nonce_ok(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "AAAAAAAAAAAAAAAA", true },
		{ "AAAAAAAAAAAAAAA", false },
		{ "zZ09+/=_-zZ09+/=_-", true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
		{ "AAAAAAAAAAAAAAA.", false },
		{ "AAAAAAAA AAAAAAA", false },
		{ "AAAAAAAAAAAAAAA,", false },
		{ "AAAAAAAAAAAAAAA%", false },
		{ "", false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(auth_nonce_ok(cases[i].s, strlen(cases[i].s)), cases[i].ok);
	assert_false(auth_nonce_ok(NULL, 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_table),
		cmocka_unit_test(test_length_delimited),
		cmocka_unit_test(test_binary_bytes),
		cmocka_unit_test(test_nonce_ok),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
