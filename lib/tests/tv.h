/* tv.h — shared by the table-driven lib tests: load spec/vectors/<name>.json and read its
 * cases (the conformance runner and the fuzz seeds use the same files). Test-only; cmocka
 * asserts on any malformed vector file. */
#ifndef SEALROOM_LIB_TESTS_TV_H
#define SEALROOM_LIB_TESTS_TV_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline cJSON *load_vectors(const char *name)
{
	char path[1024];
	FILE *f;
	long n;
	char *buf;
	cJSON *doc;

	snprintf(path, sizeof(path), "%s/spec/vectors/%s", SEALROOM_SOURCE_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	doc = cJSON_Parse(buf);
	free(buf);
	assert_non_null(doc);
	return doc;
}

static inline const cJSON *section(const cJSON *doc, const char *name)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, name);

	assert_true(cJSON_IsArray(a));
	assert_true(cJSON_GetArraySize(a) > 0);
	return a;
}

/* The case's bytes: "hex" if present (raw bytes, e.g. the C0 80 marker), else "s". */
static inline size_t case_bytes(const cJSON *c, char *out, size_t cap)
{
	const cJSON *hex = cJSON_GetObjectItemCaseSensitive(c, "hex");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "s");
	size_t n, i;

	if (cJSON_IsString(hex)) {
		n = strlen(hex->valuestring) / 2;
		assert_true(n <= cap);
		for (i = 0; i < n; i++) {
			unsigned v;

			assert_int_equal(sscanf(hex->valuestring + 2 * i, "%2x", &v), 1);
			out[i] = (char)v;
		}
		return n;
	}
	assert_true(cJSON_IsString(s));
	n = strlen(s->valuestring);
	assert_true(n <= cap);
	memcpy(out, s->valuestring, n);
	return n;
}

#endif
