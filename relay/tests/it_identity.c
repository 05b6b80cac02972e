/* Integration: POST /api/identity/register and GET /api/identity/{handle} (§10) on a real
 * relay — every check of ID-REG-1..16 and ID-GET-1..2 with exact bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ids_fixture.h"

#define E_HANDLE "{\"error\":\"invalid handle (regex: ^[a-z0-9][a-z0-9_-]{1,31}$)\"}"
#define E_KEYS_REQ "{\"error\":\"box_pub and sign_pub required (base64 32-byte keys)\"}"
#define E_KEYS_B64 "{\"error\":\"box_pub and sign_pub must be strict canonical base64 of 32 bytes\"}"
#define E_SIG_REQ "{\"error\":\"register_sig (base64 Ed25519) and register_ts (ms) required \u2014 sign " \
		  "\\\"register <handle> <register_ts> <box_pub> <sign_pub>\\\" with sign_sk\"}"
#define E_SIG_B64 "{\"error\":\"register_sig must be strict canonical base64 of 64 bytes\"}"
#define E_SIG_BAD "{\"error\":\"bad register_sig \u2014 does not verify against sign_pub (sign " \
		  "\\\"register <handle> <ts> <box_pub> <sign_pub>\\\")\"}"
#define E_TAKEN "{\"error\":\"handle taken\"}"
#define REG "/api/identity/register"

static struct relay_proc rp;
static struct http_client *hc;

static int setup(void **state)
{
	const char *args[] = {"--metrics-token", "tok", "--identity-admin-token", "adm", NULL};
	if (crypto_init() < 0 || fx_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1;
}

static void expect(const char *method, const char *path, const char *body, const char *extra, long status,
		   const char *want, int ra)
{
	fx_expect(hc, &rp, method, path, body, extra, status, want, ra);
}

/* ID-REG-15, ID-GET-1..2 */
static void test_register_and_get(void **state)
{
	struct crypto_identity a;
	fx_identity(&a, "reg");
	long long before = fx_metric(hc, &rp, "identities_registered_total");
	int64_t t0 = clock_now_ms();
	int64_t at = fx_register(hc, &rp, &a);
	assert_true(at >= t0 && at <= clock_now_ms());
	assert_int_equal(fx_metric(hc, &rp, "identities_registered_total"), before + 1);
	char want[512], path[128];
	snprintf(want, sizeof(want),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":%lld,\"meta\":{}}", a.handle,
		 a.box_pub_b64, a.sign_pub_b64, (long long)at);
	snprintf(path, sizeof(path), "/api/identity/%s", a.handle);
	expect("GET", path, NULL, NULL, 200, want, 0);
	/* ID-GET-1: one leading '@' stripped, ASCII lower-cased (also percent-encoded) */
	char upper[64];
	snprintf(upper, sizeof(upper), "/api/identity/@%s", a.handle);
	for (char *p = upper + 15; *p; p++)
		*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	expect("GET", upper, NULL, NULL, 200, want, 0);
	snprintf(upper, sizeof(upper), "/api/identity/%%40%s", a.handle);
	expect("GET", upper, NULL, NULL, 200, want, 0);
	snprintf(path, sizeof(path), "/api/identity/@@%s", a.handle);
	expect("GET", path, NULL, NULL, 404, "{\"error\":\"no such handle\"}", 0);
	expect("GET", "/api/identity/nobody-here", NULL, NULL, 404, "{\"error\":\"no such handle\"}", 0);
	expect("GET", "/api/identity/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL, NULL, 404,
	       "{\"error\":\"no such handle\"}", 0);
}

/* ID-REG-4..13 in order, first failure wins. */
static void test_validation_order(void **state)
{
	struct crypto_identity a, b;
	fx_identity(&a, "ord");
	fx_identity(&b, "ordb");
	char body[1024];
	int64_t now = clock_now_ms();
	struct {
		const char *json;
		long status;
		const char *want;
	} cases[] = {
		{"{}", 400, E_HANDLE},
		{"[]", 400, E_HANDLE},
		{"{\"handle\":5}", 400, E_HANDLE},
		{"{\"handle\":\"Alice\"}", 400, E_HANDLE},
		{"{\"handle\":\"a\"}", 400, E_HANDLE},
		{"{\"handle\":\"-abc\"}", 400, E_HANDLE},
		{"{\"handle\":\"abc\\u0000\"}", 400, E_HANDLE},
		{"{\"handle\":\"admin\"}", 409, "{\"error\":\"handle reserved\"}"},
		{"{\"handle\":\"echo\",\"box_pub\":5}", 409, "{\"error\":\"handle reserved\"}"},
		{"{\"handle\":\"fresh-one\"}", 400, E_KEYS_REQ},
		{"{\"handle\":\"fresh-one\",\"box_pub\":5,\"sign_pub\":\"x\"}", 400, E_KEYS_REQ},
		{"{\"handle\":\"fresh-one\",\"box_pub\":\"AAAA\",\"sign_pub\":\"AAAA\"}", 400, E_KEYS_B64},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect("POST", REG, cases[i].json, NULL, cases[i].status, cases[i].want, 0);

	/* keys valid from here on */
	const char *K = a.box_pub_b64, *S = a.sign_pub_b64;
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%.43s\"}", a.handle, K, S);
	expect("POST", REG, body, NULL, 400, E_KEYS_B64, 0); /* 43 characters */
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\"}", a.handle, K, S);
	expect("POST", REG, body, NULL, 400, E_SIG_REQ, 0);
	const char *bad_ts[] = {"\"1767225600000\"", "1.5", "1e12", "null", "1767225600000.0"};
	for (size_t i = 0; i < sizeof(bad_ts) / sizeof(bad_ts[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%s,\"register_sig\":\"x\"}",
			 a.handle, K, S, bad_ts[i]);
		expect("POST", REG, body, NULL, 400, E_SIG_REQ, 0); /* ID-REG-9 (sealroom: JSON integers) */
	}
	snprintf(body, sizeof(body),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"AAAA\"}",
		 a.handle, K, S, (long long)now);
	expect("POST", REG, body, NULL, 400, E_SIG_B64, 0);
	/* ID-REG-11: just outside the skew, both directions */
	char *skewed = fx_register_body(&a, NULL, clock_now_ms() - 61000, NULL, NULL);
	expect("POST", REG, skewed, NULL, 400, "{\"error\":\"register_ts skew too large\"}", 0);
	free(skewed);
	skewed = fx_register_body(&a, NULL, clock_now_ms() + 61000, NULL, NULL);
	expect("POST", REG, skewed, NULL, 400, "{\"error\":\"register_ts skew too large\"}", 0);
	free(skewed);
	/* ID-REG-13: a signature by another key (b signs over a's keys) */
	char *forged = fx_register_body(&b, a.handle, now, NULL, NULL);
	char *p = strstr(forged, b.sign_pub_b64);
	memcpy(p, a.sign_pub_b64, 44);
	expect("POST", REG, forged, NULL, 401, E_SIG_BAD, 0);
	free(forged);
	/* a valid one succeeds, and its signature cannot be used again (ID-REG-12 precedes the
	 * verification: here over another handle, where it would not even verify) */
	char *good = fx_register_body(&a, NULL, clock_now_ms(), NULL, NULL);
	struct http_resp r;
	fx_do(hc, &rp, "POST", REG, good, NULL, &r);
	assert_int_equal(r.status, 201);
	http_resp_free(&r);
	char *sig = strstr(good, "\"register_sig\":\"") + 16;
	snprintf(body, sizeof(body),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"%.88s\"}",
		 b.handle, b.box_pub_b64, b.sign_pub_b64, (long long)now, sig);
	expect("POST", REG, body, NULL, 401, "{\"error\":\"register_sig already used\"}", 0);
	/* the same bytes in the URL-safe alphabet (also canonical) are the same signature */
	char *u = strstr(body, "\"register_sig\":\"") + 16;
	for (int i = 0; i < 88; i++)
		u[i] = u[i] == '+' ? '-' : u[i] == '/' ? '_' : u[i];
	expect("POST", REG, body, NULL, 401, "{\"error\":\"register_sig already used\"}", 0);
	free(good);
}

/* ID-REG-14: re-register rules. */
static void test_reregister(void **state)
{
	struct crypto_identity a, b, other;
	fx_identity(&a, "rer");
	fx_identity(&other, "rerx");
	int64_t at = fx_register(hc, &rp, &a);
	char created[256], path[96], want[512];
	snprintf(created, sizeof(created), "{\"ok\":true,\"handle\":\"%s\",\"registered_at\":%lld}", a.handle,
		 (long long)at);
	/* an identical resend: the signature is used -> taken */
	char *first = fx_register_body(&a, NULL, clock_now_ms() - 5000, NULL, NULL); /* not fx_register's ts */
	expect("POST", REG, first, NULL, 201, created, 0);
	expect("POST", REG, first, NULL, 409, E_TAKEN, 0);
	free(first);
	/* a fresh signature with another box_pub: 201 with the original registered_at; the
	 * stored box_pub does not change */
	char *moved = fx_register_body(&a, NULL, clock_now_ms(), other.box_pub_b64, NULL);
	expect("POST", REG, moved, NULL, 201, created, 0);
	free(moved);
	snprintf(path, sizeof(path), "/api/identity/%s", a.handle);
	snprintf(want, sizeof(want),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":%lld,\"meta\":{}}", a.handle,
		 a.box_pub_b64, a.sign_pub_b64, (long long)at);
	expect("GET", path, NULL, NULL, 200, want, 0);
	/* another sign_pub, validly signed by its owner -> taken */
	b = other;
	snprintf(b.handle, sizeof(b.handle), "%s", a.handle);
	char *theirs = fx_register_body(&b, NULL, clock_now_ms(), NULL, NULL);
	expect("POST", REG, theirs, NULL, 409, E_TAKEN, 0);
	free(theirs);
	/* errors that would be 400/401 for a new handle are 409 for an existing one */
	char body[512];
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\"}", a.handle,
		 a.box_pub_b64, a.sign_pub_b64);
	expect("POST", REG, body, NULL, 409, E_TAKEN, 0);
	char *skewed = fx_register_body(&a, NULL, clock_now_ms() - 70000, NULL, NULL);
	expect("POST", REG, skewed, NULL, 409, E_TAKEN, 0);
	free(skewed);
	char *signed_body = fx_register_body(&a, NULL, clock_now_ms(), NULL, NULL);
	long long tsv = atoll(strstr(signed_body, "\"register_ts\":") + 14);
	snprintf(body, sizeof(body),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":\"%lld\",\"register_sig\":\"%.88s\"}",
		 a.handle, a.box_pub_b64, a.sign_pub_b64, tsv, strstr(signed_body, "\"register_sig\":\"") + 16);
	expect("POST", REG, body, NULL, 409, E_TAKEN, 0); /* a string ts is not a JSON integer */
	free(signed_body);
	/* a forged signature -> taken */
	char *forged = fx_register_body(&other, a.handle, clock_now_ms(), a.box_pub_b64, NULL);
	char *p = strstr(forged, other.sign_pub_b64);
	memcpy(p, a.sign_pub_b64, 44);
	expect("POST", REG, forged, NULL, 409, E_TAKEN, 0);
	free(forged);
	/* the identity cap check (ID-REG-2) and the keys check still come first */
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"box_pub\":\"AAAA\",\"sign_pub\":\"%s\"}", a.handle,
		 a.sign_pub_b64);
	expect("POST", REG, body, NULL, 400, E_KEYS_B64, 0);
}

/* ID-REG-3/5: reserved handles need the operator token (Bearer optional, case-insensitive). */
static void test_operator(void **state)
{
	static const struct { const char *handle, *auth; long status; } cases[] = {
		{"admin", "Authorization: Bearer adm", 201},
		{"support", "Authorization: bearer   adm", 201},
		{"help", "Authorization: adm", 201},
		{"root", "Authorization: Bearer adm2", 409},
		{"root", "Authorization: Bearer ad", 409},
		{"system", NULL, 409},
		{"demo", "Authorization: Bearer", 409},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct crypto_identity a;
		assert_int_equal(crypto_identity_new(&a, cases[i].handle), 0);
		char *body = fx_register_body(&a, NULL, clock_now_ms(), NULL, NULL);
		struct http_resp r;
		fx_do(hc, &rp, "POST", REG, body, cases[i].auth, &r);
		assert_int_equal(r.status, cases[i].status);
		if (cases[i].status == 409)
			assert_string_equal(r.body, "{\"error\":\"handle reserved\"}");
		http_resp_free(&r);
		free(body);
	}
}

/* ID-REG-16: meta handling. */
static void test_meta(void **state)
{
	char bio300[301], bio280[281];
	memset(bio300, 'b', 300);
	bio300[300] = '\0';
	memcpy(bio280, bio300, 280);
	bio280[280] = '\0';
	char long_meta[400], long_want[400];
	snprintf(long_meta, sizeof(long_meta), "\"meta\":{\"bio\":\"%s\",\"x\":1}", bio300);
	snprintf(long_want, sizeof(long_want), "\"meta\":{\"bio\":\"%s\"}}", bio280);
	struct {
		const char *meta, *want;
	} cases[] = {
		{long_meta, long_want},
		{"\"meta\":[1,2]", "\"meta\":{\"bio\":\"\"}}"},
		{"\"meta\":\"x\"", "\"meta\":{}}"},
		{"\"meta\":5", "\"meta\":{}}"},
		{"\"meta\":null", "\"meta\":{}}"},
		{"\"meta\":{}", "\"meta\":{\"bio\":\"\"}}"},
		{"\"meta\":{\"bio\":5}", "\"meta\":{\"bio\":\"\"}}"},
		{"\"meta\":{\"bio\":\"a\\u0000b\"}", "\"meta\":{\"bio\":\"a\"}}"},
		{"\"meta\":{\"bio\":\"caf\\u00e9 \\\"q\\\" \\/\"}", "\"meta\":{\"bio\":\"caf\xc3\xa9 \\\"q\\\" /\"}}"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct crypto_identity a;
		fx_identity(&a, "meta");
		char *body = fx_register_body(&a, NULL, clock_now_ms(), NULL, cases[i].meta);
		struct http_resp r;
		fx_do(hc, &rp, "POST", REG, body, NULL, &r);
		assert_int_equal(r.status, 201);
		http_resp_free(&r);
		free(body);
		char path[96];
		snprintf(path, sizeof(path), "/api/identity/%s", a.handle);
		fx_do(hc, &rp, "GET", path, NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		const char *m = strstr(r.body, "\"meta\":");
		assert_non_null(m);
		assert_string_equal(m, cases[i].want);
		assert_null(strstr(r.body, "inbox_seq")); /* ID-GET-2 */
		http_resp_free(&r);
	}
}

/* ID-REG-1/2 on a relay with tiny limits: the cap answers 503 (Retry-After 3600) before any
 * other check, and the rate limit 429 (Retry-After 5) before that. */
static void test_cap_and_rate_limit(void **state)
{
	struct relay_proc small;
	const char *args[] = {"--identities-max", "2", "--room-rl-cap", "6", "--room-rl-refill-per-sec", "0.001",
			      "--metrics-token", "tok", NULL};
	assert_int_equal(fx_start(&small, args), 0);
	struct crypto_identity a, b, c;
	fx_identity(&a, "cap");
	fx_identity(&b, "cap");
	fx_identity(&c, "cap");
	fx_register(hc, &small, &a);
	fx_register(hc, &small, &b);
	char *body = fx_register_body(&c, NULL, clock_now_ms(), NULL, NULL);
	for (int i = 0; i < 4; i++) /* tokens 3..6 */
		fx_expect(hc, &small, "POST", REG, i == 3 ? "{}" : body, NULL, 503, "{\"error\":\"identity cap reached\"}",
			  3600);
	fx_expect(hc, &small, "POST", REG, body, NULL, 429, "{\"error\":\"rate limited\"}", 5);
	fx_expect(hc, &small, "POST", REG, "{}", NULL, 429, "{\"error\":\"rate limited\"}", 5);
	assert_int_equal(fx_metric(hc, &small, "identities"), 2);
	free(body);
	assert_int_equal(relay_stop(&small), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_get),
		cmocka_unit_test(test_validation_order),
		cmocka_unit_test(test_reregister),
		cmocka_unit_test(test_operator),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_cap_and_rate_limit),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
