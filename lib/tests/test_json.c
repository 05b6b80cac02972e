/* Unit: the JSON reader (HTTP-13, HTTP-16, HTTP-17, JSON integer) and writer (§0 output). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/json.h"

static void test_reject(void **state)
{
	static const char *bad[] = {
		"", " ", "\t\n", "1", "\"s\"", "true", "null",          /* HTTP-13: primitives, ws-only */
		"{", "{\"a\":}", "{\"a\":1,}", "[1,]", "{'a':1}", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xc0\x80\"}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}", "{} {}", "{}x",
		"{\"a\" 1}", "[1 2]", "{\"a\":NaN}", "{\"a\":Infinity}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = json_parse(bad[i], strlen(bad[i]), JSON_MAX_DEPTH, true);
		if (j)
			fail_msg("accepted bad input #%zu: %s", i, bad[i]);
	}
}

static void test_depth(void **state)
{
	char buf[200];
	for (int d = 30; d <= 34; d++) {
		int n = 0;
		for (int i = 0; i < d; i++)
			buf[n++] = '[';
		for (int i = 0; i < d; i++)
			buf[n++] = ']';
		cJSON *j = json_parse(buf, (size_t)n, JSON_MAX_DEPTH, true);
		if (d <= 32)
			assert_non_null(j);
		else
			assert_null(j); /* deeper than 32: bad json, before cJSON recurses */
		cJSON_Delete(j);
	}
	/* 100 000 levels must not crash the scanner either */
	size_t big = 200000;
	char *deep = malloc(big);
	memset(deep, '[', big / 2);
	memset(deep + big / 2, ']', big / 2);
	assert_null(json_parse(deep, big, JSON_MAX_DEPTH, true));
	assert_int_equal(json_scan(deep, big, JSON_MAX_DEPTH), -1);
	free(deep);
}

static void test_accept_and_lookup(void **state)
{
	const char *s = "{\"a\":1,\"b\":\"x\\u0000y\",\"a\":2.5,\"c\":[1,{\"d\":-0}],\"e\":\"\\ud83d\\ude00\\/\"}";
	cJSON *j = json_parse(s, strlen(s), JSON_MAX_DEPTH, true);
	assert_non_null(j);
	assert_true(json_get(j, "a")->valuedouble == 2.5); /* HTTP-16: last wins */
	const char *v;
	size_t len;
	assert_true(json_str(json_get(j, "b"), &v, &len));
	assert_int_equal(len, 4); /* x C0 80 y: U+0000 kept visible (HTTP-17) */
	assert_memory_equal(v, "x\xc0\x80y", 4);
	assert_true(json_str(json_get(j, "e"), &v, &len));
	assert_string_equal(v, "\xf0\x9f\x98\x80/");
	assert_null(json_get(j, "zz"));
	cJSON_Delete(j);
	cJSON *arr = json_parse("[1,2]", 5, JSON_MAX_DEPTH, true);
	assert_non_null(arr); /* HTTP-12: a top-level array is accepted */
	assert_null(json_get(arr, "0"));
	cJSON_Delete(arr);
}

static void test_int_form(void **state)
{
	static const struct { const char *num; bool isint; } cases[] = {
		{"0", true}, {"-0", true}, {"1767225600000", true}, {"9007199254740991", true},
		{"9007199254740992", false}, {"-9007199254740991", true}, {"12345678901234567", false},
		{"1.0", false}, {"1767225600000.0", false}, {"1e3", false}, {"1E3", false}, {"-1.5", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "{\"x\":\"s\",\"n\":%s,\"m\":[%s]}", cases[i].num, cases[i].num);
		cJSON *j = json_parse(buf, strlen(buf), JSON_MAX_DEPTH, true);
		assert_non_null(j);
		assert_int_equal(json_is_int(json_get(j, "n")), cases[i].isint);
		assert_int_equal(json_is_int(json_get(j, "m")->child), cases[i].isint);
		assert_false(json_is_int(json_get(j, "x")));
		cJSON_Delete(j);
	}
}

static void test_truthy(void **state)
{
	const char *s = "{\"a\":null,\"b\":false,\"c\":0,\"d\":\"\",\"e\":\"x\",\"f\":[],\"g\":{},\"h\":-1,\"i\":true}";
	cJSON *j = json_parse(s, strlen(s), JSON_MAX_DEPTH, true);
	assert_false(json_truthy(json_get(j, "a")));
	assert_false(json_truthy(json_get(j, "b")));
	assert_false(json_truthy(json_get(j, "c")));
	assert_false(json_truthy(json_get(j, "d")));
	assert_false(json_truthy(json_get(j, "zz")));
	assert_true(json_truthy(json_get(j, "e")));
	assert_true(json_truthy(json_get(j, "f")));
	assert_true(json_truthy(json_get(j, "g")));
	assert_true(json_truthy(json_get(j, "h")));
	assert_true(json_truthy(json_get(j, "i")));
	cJSON_Delete(j);
}

static void test_writer(void **state)
{
	struct jw w;
	jw_init(&w, 4, 4096);
	jw_obj(&w);
	jw_key(&w, "s");
	jw_cstr(&w, "a\"b\\c/\x01\b\t\n\f\r\x1f é");
	jw_key(&w, "n");
	jw_int(&w, 1795615604052LL);
	jw_key(&w, "d");
	jw_num(&w, 30000.5);
	jw_key(&w, "i");
	jw_num(&w, 30000.0);
	jw_key(&w, "arr");
	jw_arr(&w);
	jw_bool(&w, true);
	jw_null(&w);
	jw_obj(&w);
	jw_obj_end(&w);
	jw_rawval(&w, "{\"x\":1}", 7);
	jw_arr_end(&w);
	jw_obj_end(&w);
	size_t len;
	char *out = jw_take(&w, &len);
	assert_string_equal(out, "{\"s\":\"a\\\"b\\\\c/\\u0001\\b\\t\\n\\f\\r\\u001f é\",\"n\":1795615604052,"
				 "\"d\":30000.5,\"i\":30000,\"arr\":[true,null,{},{\"x\":1}]}");
	assert_int_equal(len, strlen(out));
	free(out);
	/* the hard cap fails closed */
	jw_init(&w, 4, 8);
	jw_cstr(&w, "0123456789");
	assert_true(w.err);
	assert_null(jw_take(&w, &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reject),     cmocka_unit_test(test_depth),
		cmocka_unit_test(test_accept_and_lookup), cmocka_unit_test(test_int_form),
		cmocka_unit_test(test_truthy),     cmocka_unit_test(test_writer),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
