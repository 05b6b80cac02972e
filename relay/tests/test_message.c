/* Unit tests for relay/message: validMessage (ROOM-12a..f, every clause at its edges), the
 * signed test (ROOM-13), labels (ROOM-14: "agent" over HTTP, "user" over WebSocket) and the
 * signed_only flag ("exactly true", ROOM-POST-7). Bodies go through the relay's own JSON
 * reader (json_parse), as in the handlers, so U+0000 and duplicate keys behave as on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "message.h"
#include "proto/json.h"

#define N32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" /* 24 zero bytes, canonical */
#define CT "AAAA"                              /* 3 bytes, canonical */
#define OK_HEAD "{\"ciphertext\":\"" CT "\",\"nonce\":\"" N32 "\""

/* A label expectation: NULL = the default label of the transport; "" = none expected (signed). */
struct vcase {
	const char *body;
	bool ok;
	const char *label;
};

/* Parse and validate. The tree stays alive until the next call, so the pointers msg_validate
 * left in *m (they point into it) may be checked; teardown() frees the last one. */
static cJSON *kept;

static bool validate(const char *body, bool ws, struct msg_in *m)
{
	cJSON_Delete(kept);
	kept = json_parse(body, strlen(body), JSON_MAX_DEPTH, false);
	if (!kept)
		fail_msg("test body is not JSON: %s", body);
	return msg_validate(kept, ws, m);
}

static int teardown(void **state)
{
	cJSON_Delete(kept);
	kept = NULL;
	return 0;
}

/* The label of a validated message as a C string (it is not NUL-terminated in place). */
static const char *label_of(const struct msg_in *m)
{
	static char label[512];
	snprintf(label, sizeof(label), "%.*s", (int)m->post.sender_len, m->post.sender ? m->post.sender : "");
	return label;
}

static void run(const struct vcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int ws = 0; ws <= 1; ws++) {
			struct msg_in m;
			bool ok = validate(c[i].body, ws, &m);
			if (ok != c[i].ok)
				fail_msg("case %zu (%s): msg_validate %s, want %s\n  %.200s", i, ws ? "ws" : "http",
					 ok ? "true" : "false", c[i].ok ? "true" : "false", c[i].body);
			if (!ok)
				continue;
			const char *want = c[i].label ? c[i].label : ws ? "user" : "agent";
			if (strcmp(label_of(&m), want) != 0)
				fail_msg("case %zu (%s): label '%s', want '%s'", i, ws ? "ws" : "http", label_of(&m), want);
		}
	}
}

/* Build "{"ciphertext":"<n x c>","nonce":...}" etc. on the heap. */
static char *repeat_body(const char *pre, char c, size_t n, const char *post)
{
	size_t pl = strlen(pre), ql = strlen(post);
	char *s = malloc(pl + n + ql + 1);
	assert_non_null(s);
	memcpy(s, pre, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, post, ql + 1);
	return s;
}

static char *repeat_str(const char *pre, const char *unit, size_t n, const char *post)
{
	size_t pl = strlen(pre), ul = strlen(unit), ql = strlen(post);
	char *s = malloc(pl + n * ul + ql + 1), *p = s;
	assert_non_null(s);
	memcpy(p, pre, pl);
	p += pl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, post, ql + 1);
	return s;
}

/* ROOM-12a: a JSON object. */
static void test_12a_object(void **state)
{
	static const struct vcase c[] = {
		{"{}", false, NULL},
		{"[]", false, NULL},
		{"[" OK_HEAD "}]", false, NULL},
		{"null", false, NULL},
		{"\"" CT "\"", false, NULL},
		{"42", false, NULL},
		{OK_HEAD "}", true, NULL},
	};
	run(c, sizeof(c) / sizeof(c[0]));
}

/* ROOM-12b: ciphertext string, <= 131 072 units, canonical with any byte count. */
static void test_12b_ciphertext(void **state)
{
	static const struct vcase c[] = {
		{"{\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":null,\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":1234,\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":[\"AAAA\"],\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"AAAA\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"AAA=\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"AA==\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"QQ==\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"-_-_\",\"nonce\":\"" N32 "\"}", true, NULL},    /* URL-safe form */
		{"{\"ciphertext\":\"+/+/\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"+_-/\",\"nonce\":\"" N32 "\"}", true, NULL},    /* mixed */
		{"{\"ciphertext\":\"AB==\",\"nonce\":\"" N32 "\"}", false, NULL},   /* trailing bits */
		{"{\"ciphertext\":\"QR==\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"QQ\",\"nonce\":\"" N32 "\"}", false, NULL},     /* unpadded, not %4 */
		{"{\"ciphertext\":\"AAAA=\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"AAAAA\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"A===\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"====\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"AA=A\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"AA AA\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"AAAA\\n\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"\\u00c4AAA\",\"nonce\":\"" N32 "\"}", false, NULL},
		{"{\"ciphertext\":\"AAAA\\u0000\",\"nonce\":\"" N32 "\"}", false, NULL},
		/* HTTP-16: the last duplicate decides */
		{"{\"ciphertext\":\"AB==\",\"ciphertext\":\"AAAA\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"AAAA\",\"ciphertext\":\"AB==\",\"nonce\":\"" N32 "\"}", false, NULL},
	};
	run(c, sizeof(c) / sizeof(c[0]));
	/* the length edge: 131 072 characters pass, 131 076 (next multiple of 4) do not */
	struct vcase big[2] = {{NULL, true, NULL}, {NULL, false, NULL}};
	char *a = repeat_body("{\"ciphertext\":\"", 'A', 131072, "\",\"nonce\":\"" N32 "\"}");
	char *b = repeat_body("{\"ciphertext\":\"", 'A', 131076, "\",\"nonce\":\"" N32 "\"}");
	big[0].body = a;
	big[1].body = b;
	run(big, 2);
	struct msg_in m;
	assert_true(validate(a, false, &m));
	assert_int_equal(m.post.ct_len, 131072);
	free(a);
	free(b);
}

/* ROOM-12c: nonce string, <= 64 units, canonical of exactly 24 bytes. */
static void test_12c_nonce(void **state)
{
	static const struct vcase c[] = {
		{"{\"ciphertext\":\"" CT "\"}", false, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":null}", false, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":24}", false, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"\"}", false, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"" N32 "\"}", true, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"________________________________\"}", true, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"////////////////////////////////\"}", true, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\"}", true, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}", false, NULL}, /* 23 bytes */
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"}", false, NULL}, /* 22 */
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", false, NULL}, /* 27 */
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", false, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!\"}", false, NULL},
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"" N32 N32 "\"}", false, NULL}, /* 64 units, 48 bytes */
		{"{\"ciphertext\":\"" CT "\",\"nonce\":\"" N32 N32 "AAAA\"}", false, NULL},
	};
	run(c, sizeof(c) / sizeof(c[0]));
}

/* ROOM-12d and ROOM-14: sender absent/null or a string of <= 64 UTF-16 units without U+0000;
 * the label is a non-empty sender, else the transport default. */
static void test_12d_sender_and_label(void **state)
{
	static const struct vcase c[] = {
		{OK_HEAD "}", true, NULL},
		{OK_HEAD ",\"sender\":null}", true, NULL},
		{OK_HEAD ",\"sender\":\"\"}", true, NULL},
		{OK_HEAD ",\"sender\":\"bob\"}", true, "bob"},
		{OK_HEAD ",\"sender\":\"@alice\"}", true, "@alice"},   /* any label, @ included */
		{OK_HEAD ",\"sender\":\"agent\"}", true, "agent"},
		{OK_HEAD ",\"sender\":\"a b\\n\\t<>\"}", true, "a b\n\t<>"}, /* anything */
		{OK_HEAD ",\"sender\":\"\\u00e9t\\u00e9\"}", true, "\xc3\xa9t\xc3\xa9"},
		{OK_HEAD ",\"sender\":7}", false, NULL},
		{OK_HEAD ",\"sender\":true}", false, NULL},
		{OK_HEAD ",\"sender\":{}}", false, NULL},
		{OK_HEAD ",\"sender\":[\"bob\"]}", false, NULL},
		{OK_HEAD ",\"sender\":\"a\\u0000b\"}", false, NULL},   /* HTTP-17 */
		{OK_HEAD ",\"sender\":\"\\u0000\"}", false, NULL},
		{OK_HEAD ",\"sender\":\"bob\",\"sender\":5}", false, NULL}, /* last duplicate */
		{OK_HEAD ",\"sender\":5,\"sender\":\"bob\"}", true, "bob"},
	};
	run(c, sizeof(c) / sizeof(c[0]));
	/* length in UTF-16 units: 64 pass, 65 fail; a non-BMP character counts 2 */
	static const struct { const char *unit; size_t n; const char *tail; bool ok; } len[] = {
		{"a", 64, "", true},
		{"a", 65, "", false},
		{"\xc3\xa9", 64, "", true},               /* 128 bytes, 64 units */
		{"\xc3\xa9", 65, "", false},
		{"\xe2\x82\xac", 64, "", true},           /* 3-byte BMP */
		{"\xf0\x9f\x98\x80", 32, "", true},       /* 32 x U+1F600 = 64 units */
		{"\xf0\x9f\x98\x80", 33, "", false},
		{"a", 62, "\xf0\x9f\x98\x80", true},      /* 62 + 2 */
		{"a", 63, "\xf0\x9f\x98\x80", false},     /* 63 + 2 */
		{"\\ud83d\\ude00", 32, "", true},         /* escaped surrogate pairs */
		{"\\ud83d\\ude00", 32, "a", false},
	};
	for (size_t i = 0; i < sizeof(len) / sizeof(len[0]); i++) {
		char post[32];
		snprintf(post, sizeof(post), "%s\"}", len[i].tail);
		char *body = repeat_str(OK_HEAD ",\"sender\":\"", len[i].unit, len[i].n, post);
		struct msg_in m;
		if (validate(body, false, &m) != len[i].ok)
			fail_msg("sender length case %zu: want %s", i, len[i].ok ? "valid" : "invalid");
		if (len[i].ok) {
			assert_true(m.post.sender_len > 0);
			assert_string_not_equal(label_of(&m), "agent");
		}
		free(body);
	}
}

/* ROOM-12e: reply_to absent/null or 8..64 of [A-Za-z0-9_-]. */
static void test_12e_reply_to(void **state)
{
	static const struct vcase c[] = {
		{OK_HEAD ",\"reply_to\":null}", true, NULL},
		{OK_HEAD ",\"reply_to\":\"abcdefgh\"}", true, NULL},
		{OK_HEAD ",\"reply_to\":\"AZaz09_-\"}", true, NULL},
		{OK_HEAD ",\"reply_to\":\"859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b\"}", true, NULL}, /* a UUID */
		{OK_HEAD ",\"reply_to\":\"abcdefg\"}", false, NULL},
		{OK_HEAD ",\"reply_to\":\"\"}", false, NULL},
		{OK_HEAD ",\"reply_to\":\"abcd.efgh\"}", false, NULL},
		{OK_HEAD ",\"reply_to\":\"abcd efgh\"}", false, NULL},
		{OK_HEAD ",\"reply_to\":\"abcdefg\\u00e9\"}", false, NULL},
		{OK_HEAD ",\"reply_to\":\"abcdefgh\\u0000\"}", false, NULL},
		{OK_HEAD ",\"reply_to\":12345678}", false, NULL},
		{OK_HEAD ",\"reply_to\":[\"abcdefgh\"]}", false, NULL},
		{OK_HEAD ",\"reply_to\":true}", false, NULL},
	};
	run(c, sizeof(c) / sizeof(c[0]));
	char *a = repeat_body(OK_HEAD ",\"reply_to\":\"", 'r', 64, "\"}");
	char *b = repeat_body(OK_HEAD ",\"reply_to\":\"", 'r', 65, "\"}");
	struct vcase e[2] = {{a, true, NULL}, {b, false, NULL}};
	run(e, 2);
	struct msg_in m;
	assert_true(validate(a, false, &m));
	assert_int_equal(m.post.reply_len, 64);
	assert_true(validate(OK_HEAD "}", false, &m));
	assert_int_equal(m.post.reply_len, 0);
	free(a);
	free(b);
}

/* ROOM-12f: ttl_ms absent/null, or a finite JSON number that is 0 or in [30 000, 31 622 400 000]. */
static void test_12f_ttl(void **state)
{
	static const struct { const char *v; bool ok; double stored; } c[] = {
		{"null", true, -1},
		{"0", true, 0},
		{"-0", true, 0},
		{"0.0", true, 0},
		{"30000", true, 30000},
		{"30000.0", true, 30000},
		{"3e4", true, 30000},
		{"30000.5", true, 30000.5},
		{"31622400000", true, 31622400000.0},
		{"3.16224e10", true, 31622400000.0},
		{"29999", false, 0},
		{"29999.999", false, 0},
		{"1", false, 0},
		{"-1", false, 0},
		{"-30000", false, 0},
		{"31622400000.5", false, 0},
		{"31622400001", false, 0},
		{"1e400", false, 0},
		{"\"30000\"", false, 0},
		{"true", false, 0},
		{"[30000]", false, 0},
		{"{}", false, 0},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char body[256];
		struct msg_in m;
		snprintf(body, sizeof(body), OK_HEAD ",\"ttl_ms\":%s}", c[i].v);
		bool ok = validate(body, false, &m);
		if (ok != c[i].ok)
			fail_msg("ttl_ms %s: %s, want %s", c[i].v, ok ? "valid" : "invalid", c[i].ok ? "valid" : "invalid");
		if (!ok)
			continue;
		if (c[i].stored < 0) {
			assert_null(m.post.ttl);
		} else {
			assert_non_null(m.post.ttl);
			if (m.post.ttl->valuedouble != c[i].stored)
				fail_msg("ttl_ms %s: %g", c[i].v, m.post.ttl->valuedouble);
		}
	}
	struct msg_in m;
	assert_true(validate(OK_HEAD "}", false, &m));
	assert_null(m.post.ttl);
}

/* ROOM-13: signed iff sender_handle and sender_sig are both truthy; signed_only must be
 * exactly true (ROOM-POST-7). */
static void test_signed_and_signed_only(void **state)
{
	static const struct { const char *extra; bool is_signed; } s[] = {
		{"", false},
		{",\"sender_handle\":\"alice\"", false},
		{",\"sender_sig\":\"AAAA\"", false},
		{",\"sender_handle\":\"alice\",\"sender_sig\":\"AAAA\"", true},
		{",\"sender_handle\":\"\",\"sender_sig\":\"AAAA\"", false},
		{",\"sender_handle\":\"alice\",\"sender_sig\":\"\"", false},
		{",\"sender_handle\":0,\"sender_sig\":\"AAAA\"", false},
		{",\"sender_handle\":null,\"sender_sig\":\"AAAA\"", false},
		{",\"sender_handle\":false,\"sender_sig\":\"AAAA\"", false},
		{",\"sender_handle\":1,\"sender_sig\":\"AAAA\"", true},      /* truthy, fails SIG-5 later */
		{",\"sender_handle\":[],\"sender_sig\":{}", true},
		{",\"sender_handle\":\"alice\",\"sender_sig\":\"AAAA\",\"sender_sig\":\"\"", false},
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		char body[256];
		struct msg_in m;
		snprintf(body, sizeof(body), OK_HEAD ",\"sender\":\"lbl\"%s}", s[i].extra);
		assert_true(validate(body, false, &m));
		if (m.is_signed != s[i].is_signed)
			fail_msg("case %zu (%s): is_signed %d", i, s[i].extra, m.is_signed);
		assert_false(m.post.verified); /* only roomsig verifies */
		if (!s[i].is_signed)
			assert_string_equal(label_of(&m), "lbl"); /* ROOM-14: unsigned keeps sender */
	}
	/* unsigned with only one half, no sender: default labels */
	struct vcase d[] = {{OK_HEAD ",\"sender_handle\":\"alice\"}", true, NULL}};
	run(d, 1);
	static const struct { const char *v; bool on; } so[] = {
		{"true", true}, {"false", false}, {"\"true\"", false}, {"1", false}, {"null", false}, {"[true]", false},
	};
	for (size_t i = 0; i < sizeof(so) / sizeof(so[0]); i++) {
		char body[256];
		struct msg_in m;
		snprintf(body, sizeof(body), OK_HEAD ",\"signed_only\":%s}", so[i].v);
		assert_true(validate(body, true, &m));
		if (m.post.signed_only != so[i].on)
			fail_msg("signed_only %s: %d", so[i].v, m.post.signed_only);
	}
	struct msg_in m;
	assert_true(validate(OK_HEAD "}", false, &m));
	assert_false(m.post.signed_only);
}

/* The parsed pointers: ct and nonce are the exact strings (INV-6: relayed as received). */
static void test_fields_point_at_values(void **state)
{
	const char *body = "{\"nonce\":\"oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3\",\"x\":1,\"ciphertext\":\"-_8=\"}";
	cJSON *j = json_parse(body, strlen(body), JSON_MAX_DEPTH, true);
	assert_non_null(j);
	struct msg_in m;
	assert_true(msg_validate(j, false, &m));
	assert_int_equal(m.post.ct_len, 4);
	assert_memory_equal(m.post.ct, "-_8=", 4);
	assert_int_equal(m.post.nonce_len, 32);
	assert_memory_equal(m.post.nonce, "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3", 32);
	assert_int_equal(m.post.sender_len, 5);
	assert_memory_equal(m.post.sender, "agent", 5);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_12a_object),
		cmocka_unit_test(test_12b_ciphertext),
		cmocka_unit_test(test_12c_nonce),
		cmocka_unit_test(test_12d_sender_and_label),
		cmocka_unit_test(test_12e_reply_to),
		cmocka_unit_test(test_12f_ttl),
		cmocka_unit_test(test_signed_and_signed_only),
		cmocka_unit_test(test_fields_point_at_values),
	};
	return cmocka_run_group_tests_name("test_message", tests, NULL, teardown);
}
