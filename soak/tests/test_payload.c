/* Tests for soak/payload: the plaintext format, sealed room and DM bodies (CRYPTO-2, -4) with
 * their signatures (SIG-3, SIG-4), reading events back, and the fan-out outcome cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "crypto/envelope.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "payload.h"

static int setup(void **state)
{
	return crypto_init();
}

static void test_format_roundtrip(void **state)
{
	static const struct {
		struct payload p;
		size_t pad;
		const char *want; /* NULL: only check length and round trip */
		size_t want_len;
	} t[] = {
		{ { 1, 2, 3, 4 }, 0, "soak r=1 a=2 i=3 t=4 ", 21 },
		{ { 1, 2, 3, 4 }, 25, "soak r=1 a=2 i=3 t=4 xxxx", 25 },
		{ { 1, 2, 3, -7 }, 10, "soak r=1 a=2 i=3 t=-7 ", 22 }, /* fields never cut */
		{ { 4294967295u, 0, 4294967295u, 9223372036854775807LL }, 100, NULL, 100 },
		{ { 0, 0, 0, 0 }, 65536, NULL, 65536 },
	};
	char *buf = malloc(PAYLOAD_MAX_BYTES + 1);

	assert_non_null(buf);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct payload back;
		int n = payload_format(buf, PAYLOAD_MAX_BYTES + 1, &t[i].p, t[i].pad);

		assert_int_equal(n, t[i].want_len);
		if (t[i].want)
			assert_string_equal(buf, t[i].want);
		assert_int_equal(payload_parse(buf, (size_t)n, &back), 0);
		assert_int_equal(back.room, t[i].p.room);
		assert_int_equal(back.agent, t[i].p.agent);
		assert_int_equal(back.idx, t[i].p.idx);
		assert_int_equal(back.t_ns, t[i].p.t_ns);
	}
	assert_int_equal(payload_format(buf, 10, &t[0].p, 0), -1);   /* does not fit */
	assert_int_equal(payload_format(buf, 30, &t[0].p, 30), -1);  /* pad + NUL does not fit */
	free(buf);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"hello",
		"soak r=1 a=2 i=3 t=4",		 /* no space after the last field */
		"soak r=1 a=2 i=3 t=4 xxy",	 /* padding is x only */
		"soak a=2 r=1 i=3 t=4 ",	 /* field order is fixed */
		"soak r=-1 a=2 i=3 t=4 ",	 /* only t may be negative */
		"soak r=4294967296 a=2 i=3 t=4 ", /* beyond 32 bits */
		"soak r=1 a=2 i=3 t= ",
		"SOAK r=1 a=2 i=3 t=4 ",
	};
	struct payload p = { 9, 9, 9, 9 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (payload_parse(bad[i], strlen(bad[i]), &p) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
	assert_int_equal(p.room, 9); /* untouched */
}

/* What a relay would broadcast for a POSTed body (ROOM-18), built from the body's fields. */
static char *relay_event(const char *body, int64_t seq, const char *label, bool verified)
{
	cJSON *in = cJSON_Parse(body), *ev = cJSON_CreateObject();
	char *out;

	cJSON_AddStringToObject(ev, "type", "message");
	cJSON_AddNumberToObject(ev, "seq", (double)seq);
	cJSON_AddStringToObject(ev, "id", "859975e8-4a55-4f5e-9c1b-0d7f6c1e2a3b");
	cJSON_AddStringToObject(ev, "sender", label);
	cJSON_AddBoolToObject(ev, "sender_verified", verified);
	cJSON_AddStringToObject(ev, "ciphertext",
				cJSON_GetObjectItem(in, "ciphertext")->valuestring);
	cJSON_AddStringToObject(ev, "nonce", cJSON_GetObjectItem(in, "nonce")->valuestring);
	cJSON_AddNumberToObject(ev, "ts", 1795615604568.0);
	out = cJSON_PrintUnformatted(ev);
	cJSON_Delete(in);
	cJSON_Delete(ev);
	return out;
}

static void test_room_body_roundtrip(void **state)
{
	unsigned char key[32], other[32];
	struct payload p = { .room = 3, .agent = 7, .idx = 11, .t_ns = 123456789 };
	struct rx_outcome o;
	size_t len = 0;
	char *body, *ev;
	cJSON *j;

	env_room_key_new(key);
	env_room_key_new(other);
	body = payload_room_body(key, "ROOM2345", &p, 64, "soak-a7", NULL, &len);
	assert_non_null(body);
	assert_int_equal(strlen(body), len);
	j = cJSON_Parse(body);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "sender")->valuestring, "soak-a7");
	/* CRYPTO-2: 24-byte nonce as 32 characters of standard base64 */
	assert_int_equal(strlen(cJSON_GetObjectItem(j, "nonce")->valuestring), 32);
	assert_null(cJSON_GetObjectItem(j, "sender_sig"));
	cJSON_Delete(j);

	ev = relay_event(body, 1795615604052LL, "soak-a7", false);
	assert_int_equal(rx_outcome_of(key, ev, strlen(ev), &o), RX_MESSAGE);
	assert_int_equal(o.open, 0);
	assert_int_equal(o.seq, 1795615604052LL);
	assert_string_equal(o.label, "soak-a7");
	assert_false(o.verified);
	assert_int_equal(o.p.room, 3);
	assert_int_equal(o.p.agent, 7);
	assert_int_equal(o.p.idx, 11);
	assert_int_equal(o.p.t_ns, 123456789);
	assert_int_equal(rx_outcome_of(other, ev, strlen(ev), &o), RX_MESSAGE);
	assert_int_equal(o.open, -1); /* wrong key: undecryptable */
	free(ev);
	free(body);
}

/* A foreign plaintext under the right key is "not ours" (-2), not a decrypt failure. */
static void test_foreign_plaintext(void **state)
{
	unsigned char key[32];
	char nonce[33], *ct = NULL, ev[512];
	struct rx_outcome o;

	env_room_key_new(key);
	assert_int_equal(env_room_seal(key, "hello, room", 11, &ct, nonce), 0);
	snprintf(ev, sizeof(ev), "{\"type\":\"message\",\"seq\":5,\"sender\":\"x\",\"ciphertext\":"
				 "\"%s\",\"nonce\":\"%s\"}", ct, nonce);
	assert_int_equal(rx_outcome_of(key, ev, strlen(ev), &o), RX_MESSAGE);
	assert_int_equal(o.open, -2);
	free(ct);
}

static void test_signed_room_body(void **state)
{
	unsigned char key[32], sig[64];
	struct crypto_identity id;
	struct payload p = { 0, 1, 2, 3 };
	char str[512];
	size_t len, sl;
	const char *ct, *sn;
	char *body;
	cJSON *j;
	int n;

	env_room_key_new(key);
	assert_int_equal(crypto_identity_new(&id, "alice"), 0);
	body = payload_room_body(key, "ROOM2345", &p, 64, "ignored", &id, &len);
	assert_non_null(body);
	j = cJSON_Parse(body);
	assert_string_equal(cJSON_GetObjectItem(j, "sender_handle")->valuestring, "alice");
	assert_null(cJSON_GetObjectItem(j, "sender")); /* ROOM-14: a signed label is @handle */
	ct = cJSON_GetObjectItem(j, "ciphertext")->valuestring;
	sn = cJSON_GetObjectItem(j, "sender_nonce")->valuestring;
	assert_int_equal(strlen(sn), 24); /* CRYPTO-5 */
	/* SIG-3 over exactly the fields sent */
	n = sigstr_room_msg(str, sizeof(str), "ROOM2345",
			    (int64_t)cJSON_GetObjectItem(j, "sender_ts")->valuedouble, sn,
			    strlen(sn), ct, strlen(ct));
	assert_true(n > 0);
	assert_int_equal(crypto_b64_decode(sig, sizeof(sig), &sl,
					   cJSON_GetObjectItem(j, "sender_sig")->valuestring, 88,
					   CRYPTO_B64_STD),
			 0);
	assert_int_equal(sl, 64);
	assert_true(crypto_verify(id.sign_pk, str, (size_t)n, sig));
	/* and not for another room */
	n = sigstr_room_msg(str, sizeof(str), "ROOM2346",
			    (int64_t)cJSON_GetObjectItem(j, "sender_ts")->valuedouble, sn,
			    strlen(sn), ct, strlen(ct));
	assert_false(crypto_verify(id.sign_pk, str, (size_t)n, sig));
	cJSON_Delete(j);
	free(body);
}

static void test_dm_body(void **state)
{
	struct crypto_identity to, from, stranger;
	struct payload p = { 0, 4, 9, 77 }, back;
	unsigned char sig[64];
	char str[512];
	size_t len, sl;
	struct rx m;
	char *body;
	cJSON *j;
	int n;

	assert_int_equal(crypto_identity_new(&to, "bob"), 0);
	assert_int_equal(crypto_identity_new(&from, "alice"), 0);
	assert_int_equal(crypto_identity_new(&stranger, "eve"), 0);
	body = payload_dm_body(to.box_pk, "bob", &p, 64, &from, 1767225600000LL, &len);
	assert_non_null(body);
	j = cJSON_Parse(body);
	assert_string_equal(cJSON_GetObjectItem(j, "from_handle")->valuestring, "alice");
	assert_true(cJSON_GetObjectItem(j, "from_ts")->valuedouble == 1767225600000.0);
	n = sigstr_dm(str, sizeof(str), "bob", "alice", 5, 1767225600000LL,
		      cJSON_GetObjectItem(j, "ciphertext")->valuestring,
		      strlen(cJSON_GetObjectItem(j, "ciphertext")->valuestring),
		      cJSON_GetObjectItem(j, "nonce")->valuestring, 32,
		      cJSON_GetObjectItem(j, "sender_eph_pub")->valuestring, 44);
	assert_true(n > 0);
	assert_int_equal(crypto_b64_decode(sig, sizeof(sig), &sl,
					   cJSON_GetObjectItem(j, "from_sig")->valuestring, 88,
					   CRYPTO_B64_STD),
			 0);
	assert_true(crypto_verify(from.sign_pk, str, (size_t)n, sig)); /* SIG-4 */

	/* The stored envelope (DM-5) opens with the recipient's key only. */
	cJSON_AddNumberToObject(j, "seq", 1767225600001.0);
	cJSON_AddBoolToObject(j, "from_verified", true);
	assert_int_equal(rx_from_obj(j, &m), RX_MESSAGE);
	assert_int_equal(m.seq, 1767225600001LL);
	assert_string_equal(m.sender, "alice");
	assert_true(m.verified);
	assert_int_equal(rx_open_dm(to.box_sk, &m, &back), 0);
	assert_int_equal(back.agent, 4);
	assert_int_equal(back.idx, 9);
	assert_int_equal(rx_open_dm(stranger.box_sk, &m, &back), -1);
	cJSON_Delete(j);
	free(body);

	body = payload_dm_body(to.box_pk, "bob", &p, 64, NULL, 0, &len); /* DM-3: anonymous */
	j = cJSON_Parse(body);
	assert_null(cJSON_GetObjectItem(j, "from_handle"));
	assert_null(cJSON_GetObjectItem(j, "from_sig"));
	cJSON_Delete(j);
	free(body);
}

static void test_rx_parse_types(void **state)
{
	static const struct {
		const char *json;
		enum rx_type want;
		int64_t seq;
		long code;
	} t[] = {
		{ "{\"type\":\"ready\",\"roomId\":\"ROOM2345\",\"size\":1,\"last_seq\":42,"
		  "\"participants\":[]}",
		  RX_READY, 42, 0 },
		{ "{\"type\":\"presence\",\"size\":1,\"names\":[],\"participants\":[]}", RX_OTHER,
		  -1, 0 },
		{ "{\"type\":\"locked\"}", RX_OTHER, -1, 0 },
		{ "{\"type\":\"error\",\"code\":429,\"error\":\"rate limited\"}", RX_ERROR, -1,
		  429 },
		{ "{\"type\":\"error\",\"error\":\"room cap reached\"}", RX_ERROR, -1, 0 },
		{ "{\"seq\":7,\"id\":\"x\",\"sender\":\"a\",\"ciphertext\":\"AAAA\","
		  "\"nonce\":\"B\"}",
		  RX_MESSAGE, 7, 0 }, /* ROOM-17: type is optional in /wait answers */
		{ "{ \"type\" : \"message\", \"seq\" : 8 }", RX_MESSAGE, 8, 0 }, /* not compact */
		{ "{\"type\":\"whatever\"}", RX_OTHER, -1, 0 },
		{ "[]", RX_BAD, -1, 0 },
		{ "not json", RX_BAD, -1, 0 },
		{ "\"str\"", RX_BAD, -1, 0 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct rx m;
		enum rx_type got = rx_parse(t[i].json, strlen(t[i].json), &m);

		if (got != t[i].want || m.seq != t[i].seq || m.code != t[i].code)
			fail_msg("'%s': type %d seq %lld code %ld", t[i].json, got,
				 (long long)m.seq, m.code);
		rx_free(&m);
	}
}

static void test_cache(void **state)
{
	struct rxcache *c = rxcache_new(16);
	struct rx_outcome o = { .open = 0, .seq = 5, .p = { 1, 2, 3, 4 } }, got;
	char ev[] = "{\"type\":\"message\",\"seq\":5,\"ciphertext\":\"abc\"}";
	char ev2[sizeof(ev)];

	assert_non_null(c);
	assert_false(rxcache_get(c, 1, ev, strlen(ev), &got));
	rxcache_put(c, 1, ev, strlen(ev), &o);
	memset(&got, 0, sizeof(got));
	assert_true(rxcache_get(c, 1, ev, strlen(ev), &got));
	assert_int_equal(got.seq, 5);
	assert_int_equal(got.p.idx, 3);
	assert_false(rxcache_get(c, 2, ev, strlen(ev), &got)); /* other room */
	memcpy(ev2, ev, sizeof(ev));
	ev2[40] ^= 1; /* one byte differs: a tampered copy must be opened on its own */
	assert_false(rxcache_get(c, 1, ev2, strlen(ev2), &got));
	assert_false(rxcache_get(c, 1, ev, strlen(ev) - 1, &got));
	rxcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_room_body_roundtrip),
		cmocka_unit_test(test_foreign_plaintext),
		cmocka_unit_test(test_signed_room_body),
		cmocka_unit_test(test_dm_body),
		cmocka_unit_test(test_rx_parse_types),
		cmocka_unit_test(test_cache),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
