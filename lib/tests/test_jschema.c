/* Tests for proto/jschema: the JSON-Schema subset used to check relay bodies against
 * spec/openapi.json (conformance runner). Table-driven keyword vectors on an inline document,
 * then every JSON example in the real spec against its own schema, plus mutations of them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "proto/jschema.h"
#include "proto/json.h"

static const char inline_doc[] =
	"{\"components\":{\"schemas\":{"
	"\"Str\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":3},"
	"\"Room\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z0-9_-]{4,64}$\"},"
	"\"Search\":{\"type\":\"string\",\"pattern\":\"b+\"},"
	"\"Int\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},"
	"\"Excl\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":1},"
	"\"Nullable\":{\"type\":[\"string\",\"null\"]},"
	"\"Enum\":{\"enum\":[\"low\",\"high\",3]},"
	"\"Const\":{\"const\":{\"a\":[1,true]}},"
	"\"Obj\":{\"type\":\"object\",\"properties\":{\"id\":{\"$ref\":\"#/components/schemas/Room\"},"
	"\"n\":{\"$ref\":\"#/components/schemas/Int\"}},\"required\":[\"id\"],"
	"\"additionalProperties\":false},"
	"\"Open\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"boolean\"}},"
	"\"Arr\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/Int\"},"
	"\"minItems\":1,\"maxItems\":3},"
	"\"One\":{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\",\"minimum\":5}]},"
	"\"Any\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"boolean\"}]},"
	"\"All\":{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":3}]},"
	"\"Not\":{\"not\":{\"type\":\"null\"}},"
	"\"Loop\":{\"$ref\":\"#/components/schemas/Loop\"},"
	"\"Dangling\":{\"$ref\":\"#/components/schemas/Nope\"},"
	"\"True\":true,\"False\":false,"
	"\"a/b~c\":{\"const\":7}"
	"}}}";

struct vec {
	const char *schema;
	const char *value;
	int ok;
};

static const struct vec vecs[] = {
	{ "Str", "\"ab\"", 1 },
	{ "Str", "\"a\"", 0 },
	{ "Str", "\"abcd\"", 0 },
	{ "Str", "12", 0 },
	/* maxLength counts UTF-16 units: U+1F600 is 2 units (4 bytes), U+00E9 is 1 (2 bytes). */
	{ "Str", "\"\xf0\x9f\x98\x80\"", 1 },
	{ "Str", "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"", 0 },
	{ "Str", "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", 1 },
	{ "Room", "\"ROOM2345\"", 1 },
	{ "Room", "\"abc\"", 0 },
	{ "Room", "\"ROOM 2345\"", 0 },
	{ "Search", "\"abc\"", 1 }, /* pattern searches, it is not anchored */
	{ "Search", "\"ac\"", 0 },
	{ "Int", "1", 1 },
	{ "Int", "10", 1 },
	{ "Int", "0", 0 },
	{ "Int", "11", 0 },
	{ "Int", "2.5", 0 },
	{ "Int", "3.0", 1 }, /* an integral number is an integer (JSON Schema 2020-12) */
	{ "Int", "\"3\"", 0 },
	{ "Excl", "0.5", 1 },
	{ "Excl", "0", 0 },
	{ "Excl", "1", 0 },
	{ "Nullable", "null", 1 },
	{ "Nullable", "\"x\"", 1 },
	{ "Nullable", "false", 0 },
	{ "Enum", "\"low\"", 1 },
	{ "Enum", "3", 1 },
	{ "Enum", "\"medium\"", 0 },
	{ "Const", "{\"a\":[1,true]}", 1 },
	{ "Const", "{\"a\":[1,false]}", 0 },
	{ "Obj", "{\"id\":\"ROOM2345\"}", 1 },
	{ "Obj", "{\"id\":\"ROOM2345\",\"n\":5}", 1 },
	{ "Obj", "{\"n\":5}", 0 },
	{ "Obj", "{\"id\":\"ROOM2345\",\"n\":50}", 0 },
	{ "Obj", "{\"id\":\"ROOM2345\",\"_bytes\":1}", 0 },
	{ "Obj", "[]", 0 },
	{ "Const", "[]", 0 },
	{ "Not", "[]", 1 }, /* no "type" keyword: only the keywords that apply are checked */
	{ "Open", "{\"x\":true,\"y\":false}", 1 },
	{ "Open", "{\"x\":1}", 0 },
	{ "Open", "\"s\"", 0 },
	{ "Arr", "[1,2,3]", 1 },
	{ "Arr", "[]", 0 },
	{ "Arr", "[1,2,3,4]", 0 },
	{ "Arr", "[1,20]", 0 },
	{ "One", "3", 1 },   /* integer only */
	{ "One", "5.5", 1 }, /* number >= 5 only */
	{ "One", "7", 0 },   /* both branches */
	{ "One", "1.5", 0 }, /* neither */
	{ "Any", "\"x\"", 1 },
	{ "Any", "true", 1 },
	{ "Any", "1", 0 },
	{ "All", "4", 1 },
	{ "All", "2", 0 },
	{ "All", "4.5", 0 },
	{ "Not", "1", 1 },
	{ "Not", "null", 0 },
	{ "Loop", "1", 0 },	  /* endless $ref chain: an error, never a crash */
	{ "Dangling", "1", 0 },
	{ "True", "{\"anything\":[1]}", 1 },
	{ "False", "1", 0 },
	{ "a/b~c", "7", 1 },
};

static struct jschema *load_inline(void)
{
	char err[256];
	struct jschema *s = jschema_load(inline_doc, strlen(inline_doc), err, sizeof(err));

	if (!s)
		fail_msg("inline document: %s", err);
	return s;
}

static void test_keyword_vectors(void **state)
{
	struct jschema *s = load_inline();
	size_t i;

	for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		char ref[128], err[512];
		const cJSON *sch;
		cJSON *v = json_parse(vecs[i].value, strlen(vecs[i].value), 32, false);
		int rc;

		/* Escape the name as a JSON pointer segment (~ -> ~0, / -> ~1). */
		{
			const char *p = vecs[i].schema;
			size_t k = (size_t)snprintf(ref, sizeof(ref), "#/components/schemas/");

			for (; *p && k + 3 < sizeof(ref); p++) {
				if (*p == '~' || *p == '/') {
					ref[k++] = '~';
					ref[k++] = *p == '~' ? '0' : '1';
				} else {
					ref[k++] = *p;
				}
			}
			ref[k] = '\0';
		}
		sch = jschema_resolve(s, ref);
		assert_non_null(v);
		if (!sch)
			fail_msg("vector %zu: schema %s not found", i, ref);
		rc = jschema_validate(s, sch, v, err, sizeof(err));
		if ((rc == 0) != (vecs[i].ok == 1))
			fail_msg("vector %zu: %s against %s: got %s (%s)", i, vecs[i].value,
				 vecs[i].schema, rc == 0 ? "valid" : "invalid", err);
		if (rc != 0)
			assert_true(err[0] == '/');
		cJSON_Delete(v);
	}
	jschema_free(s);
}

static void test_error_messages(void **state)
{
	struct jschema *s = load_inline();
	char err[512];
	const char *t1 = "{\"id\":\"ROOM2345\",\"n\":2.5}";
	const char *t2 = "{\"id\":\"ROOM2345\",\"zz\":1}";
	cJSON *v = json_parse(t1, strlen(t1), 32, true);

	assert_non_null(v);
	assert_int_equal(jschema_validate(s, jschema_component(s, "Obj"), v, err, sizeof(err)), -1);
	assert_string_equal(err, "/n: 2.5 is not of type integer");
	cJSON_Delete(v);

	v = json_parse(t2, strlen(t2), 32, true);
	assert_non_null(v);
	assert_int_equal(jschema_validate(s, jschema_component(s, "Obj"), v, err, sizeof(err)), -1);
	assert_string_equal(err, "/zz: unexpected key \"zz\"");
	cJSON_Delete(v);

	v = json_parse("[1,0]", 5, 32, true);
	assert_non_null(v);
	assert_int_equal(jschema_validate(s, jschema_component(s, "Arr"), v, err, sizeof(err)), -1);
	assert_string_equal(err, "/1: 0 violates minimum 1");
	cJSON_Delete(v);

	/* NULL schema or value is an error, with a message. */
	assert_int_equal(jschema_validate(s, NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "/: no schema or no value");
	jschema_free(s);
}

static void test_resolve(void **state)
{
	struct jschema *s = load_inline();

	assert_non_null(jschema_resolve(s, "#/components/schemas/Str"));
	assert_ptr_equal(jschema_resolve(s, "#/components/schemas/a~1b~0c"),
			 jschema_component(s, "a/b~c"));
	assert_ptr_equal(jschema_resolve(s, "#"), jschema_doc(s));
	assert_null(jschema_resolve(s, "#/components/schemas/Nope"));
	assert_null(jschema_resolve(s, "other.json#/x"));
	assert_null(jschema_resolve(s, NULL));
	assert_null(jschema_component(s, "Nope"));
	jschema_free(s);
}

static void test_load_failures(void **state)
{
	char err[256];

	assert_null(jschema_load("{", 1, err, sizeof(err)));
	assert_string_equal(err, "not a JSON document");
	assert_null(jschema_load("{\"pattern\":\"([\"}", strlen("{\"pattern\":\"([\"}"), err,
				 sizeof(err)));
	assert_string_equal(err, "pattern ([ does not compile");
	/* A property *named* pattern is not a regular expression. */
	{
		const char *d = "{\"properties\":{\"pattern\":{\"type\":\"string\"}}}";
		struct jschema *s = jschema_load(d, strlen(d), err, sizeof(err));

		assert_non_null(s);
		jschema_free(s);
	}
	jschema_free(NULL);
}

/* A schema from another document: its pattern is compiled on the fly. */
static void test_foreign_schema(void **state)
{
	struct jschema *s = load_inline();
	cJSON *sch = cJSON_Parse("{\"type\":\"string\",\"pattern\":\"^x+$\"}");
	cJSON *good = cJSON_CreateString("xxx"), *bad = cJSON_CreateString("xy");
	char err[256];

	assert_int_equal(jschema_validate(s, sch, good, err, sizeof(err)), 0);
	assert_int_equal(jschema_validate(s, sch, bad, err, sizeof(err)), -1);
	assert_string_equal(err, "/: \"xy\" does not match ^x+$");
	cJSON_Delete(sch);
	cJSON_Delete(good);
	cJSON_Delete(bad);
	jschema_free(s);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *buf;

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
	*len = (size_t)n;
	return buf;
}

static struct jschema *load_spec(void)
{
	char path[1024], err[256];
	size_t len;
	char *text;
	struct jschema *s;

	snprintf(path, sizeof(path), "%s/spec/openapi.json", SEALROOM_SOURCE_DIR);
	text = read_file(path, &len);
	s = jschema_load(text, len, err, sizeof(err));
	free(text);
	if (!s)
		fail_msg("spec/openapi.json: %s", err);
	return s;
}

/* Every JSON response example of the spec validates against its own response schema. */
static void test_spec_examples(void **state)
{
	struct jschema *s = load_spec();
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(jschema_doc(s), "paths");
	const cJSON *p, *op, *resp;
	int checked = 0;

	cJSON_ArrayForEach(p, paths) {
		cJSON_ArrayForEach(op, p) {
			const cJSON *resps = cJSON_GetObjectItemCaseSensitive(op, "responses");

			cJSON_ArrayForEach(resp, resps) {
				const cJSON *ct = cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(resp, "content"),
					"application/json");
				const cJSON *ex = cJSON_GetObjectItemCaseSensitive(ct, "example");
				const cJSON *sch;
				char err[512];

				if (!ex)
					continue;
				sch = jschema_response(s, p->string, op->string, atoi(resp->string));
				assert_non_null(sch);
				if (jschema_validate(s, sch, ex, err, sizeof(err)) != 0)
					fail_msg("%s %s %s example: %s", op->string, p->string,
						 resp->string, err);
				checked++;
			}
		}
	}
	/* The spec documents many responses with examples; an empty walk proves nothing. */
	assert_true(checked >= 10);
	jschema_free(s);
}

struct spec_vec {
	const char *component;
	const char *value;
	int ok;
};

/* Hand-written bodies of PROTOCOL.md shapes against the real component schemas. */
static const struct spec_vec spec_vecs[] = {
	{ "PostOk", "{\"ok\":true,\"id\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\",\"seq\":1795615604052}", 1 },
	{ "PostOk", "{\"ok\":true,\"id\":\"859975E8-4A55-4F5E-9C1B-0D7F6C1E2A3B\",\"seq\":1795615604052}", 0 },
	{ "PostOk", "{\"ok\":true,\"id\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\",\"seq\":0}", 0 },
	{ "Health", "{\"ok\":true,\"rooms\":3,\"ts\":1767225600000}", 1 },
	{ "Health", "{\"ok\":true,\"rooms\":-1,\"ts\":1767225600000}", 0 },
	{ "Health", "{\"ok\":true,\"rooms\":3}", 0 },
	{ "MessageEvent", "{\"type\":\"message\",\"seq\":1795615604052,\"id\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\",\"sender\":\"b\",\"sender_verified\":false,\"ciphertext\":\"AAAA\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\",\"ts\":1795615604568}", 1 },
	/* ROOM-20 (sealroom): no _bytes */
	{ "MessageEvent", "{\"type\":\"message\",\"seq\":1795615604052,\"id\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\",\"sender\":\"b\",\"sender_verified\":false,\"ciphertext\":\"AAAA\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\",\"ts\":1795615604568,\"_bytes\":516}", 0 },
	/* INV-7: a verified label needs sender_verified:true and the reverse */
	{ "MessageEvent", "{\"type\":\"message\",\"seq\":1795615604052,\"id\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\",\"sender\":\"@alice\",\"sender_verified\":true,\"ciphertext\":\"AAAA\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\",\"ts\":1795615604568}", 1 },
	{ "MessageEvent", "{\"type\":\"message\",\"seq\":1795615604052,\"id\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\",\"sender\":\"alice\",\"sender_verified\":true,\"ciphertext\":\"AAAA\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\",\"ts\":1795615604568}", 0 },
	{ "Error", "{\"error\":\"bad roomId\"}", 1 },
	{ "Error", "{\"error\":\"\"}", 0 },
	{ "Error", "{\"error\":\"x\",\"detail\":1}", 0 },
};

static void test_spec_components(void **state)
{
	struct jschema *s = load_spec();
	size_t i;

	for (i = 0; i < sizeof(spec_vecs) / sizeof(spec_vecs[0]); i++) {
		const cJSON *sch = jschema_component(s, spec_vecs[i].component);
		cJSON *v = json_parse(spec_vecs[i].value, strlen(spec_vecs[i].value), 32, true);
		char err[512];
		int rc;

		if (!sch)
			fail_msg("component %s missing from spec/openapi.json", spec_vecs[i].component);
		assert_non_null(v);
		rc = jschema_validate(s, sch, v, err, sizeof(err));
		if ((rc == 0) != (spec_vecs[i].ok == 1))
			fail_msg("spec vector %zu (%s): got %s (%s)", i, spec_vecs[i].component,
				 rc == 0 ? "valid" : "invalid", err);
		cJSON_Delete(v);
	}
	jschema_free(s);
}

/* A 131 072-character ciphertext (ROOM-12b maximum) matches the RoomCiphertext pattern. */
static void test_long_pattern_input(void **state)
{
	struct jschema *s = load_spec();
	const cJSON *sch = jschema_component(s, "RoomCiphertext");
	size_t n = 131072;
	char *str = malloc(n + 1);
	cJSON *v;
	char err[256];

	assert_non_null(sch);
	assert_non_null(str);
	memset(str, 'A', n);
	str[n] = '\0';
	v = cJSON_CreateString(str);
	assert_int_equal(jschema_validate(s, sch, v, err, sizeof(err)), 0);
	cJSON_Delete(v);
	str[n - 1] = '=';
	str[n - 2] = 'B'; /* "...AAB=" leaves non-zero trailing bits: not canonical */
	v = cJSON_CreateString(str);
	assert_int_equal(jschema_validate(s, sch, v, err, sizeof(err)), -1);
	cJSON_Delete(v);
	free(str);
	jschema_free(s);
}

static void test_response_lookup(void **state)
{
	struct jschema *s = load_spec();
	const cJSON *r = jschema_response(s, "/api/rooms/{roomId}/messages", "POST", 200);
	const cJSON *ref;

	assert_non_null(r);
	ref = cJSON_GetObjectItemCaseSensitive(r, "$ref");
	assert_true(cJSON_IsString(ref));
	assert_string_equal(ref->valuestring, "#/components/schemas/PostOk");
	assert_null(jschema_response(s, "/api/nope", "GET", 200));
	assert_null(jschema_response(s, "/api/health", "DELETE", 200));
	jschema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyword_vectors),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_load_failures),
		cmocka_unit_test(test_foreign_schema),
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_spec_components),
		cmocka_unit_test(test_long_pattern_input),
		cmocka_unit_test(test_response_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
