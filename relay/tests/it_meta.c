/* Integration: a real relay on a free port — meta routes, 404/405, headers, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/http.h"
#include "testkit/relayproc.h"

static struct relay_proc rp;
static struct http_client *hc;

static int setup(void **state)
{
	const char *args[] = {"--metrics-token", "s3cret", "--worker-threads", "128", NULL};
	if (relay_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	return relay_stop(&rp) == 0 ? 0 : -1; /* SIGTERM must give exit status 0 */
}

static void get(const char *method, const char *path, const char *const *hdrs, struct http_resp *out)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", rp.base, path);
	assert_int_equal(http_do(hc, method, url, hdrs, NULL, 0, 5000, out), 0);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void test_health(void **state)
{
	struct http_resp r;
	get("GET", "/api/health", NULL, &r);
	assert_int_equal(r.status, 200);
	long long ts = 0;
	int rooms = -1;
	assert_int_equal(sscanf(r.body, "{\"ok\":true,\"rooms\":%d,\"ts\":%lld}", &rooms, &ts), 2); /* META-2 */
	assert_int_equal(rooms, 0);
	assert_true(ts > 1700000000000LL);
	assert_true(http_header_is(&r, "Content-Type", "application/json; charset=utf-8")); /* HTTP-18 */
	assert_null(http_header(&r, "Cache-Control", NULL));
	assert_true(http_header_is(&r, "X-Content-Type-Options", "nosniff")); /* HDR-1 */
	assert_true(http_header_is(&r, "X-Frame-Options", "DENY"));
	assert_true(http_header_is(&r, "Referrer-Policy", "no-referrer"));
	assert_null(http_header(&r, "X-Powered-By", NULL)); /* HTTP-9 */
	assert_null(http_header(&r, "ETag", NULL));
	http_resp_free(&r);
}

static void test_openapi_byte_identical(void **state)
{
	struct http_resp r;
	size_t flen;
	char *file = slurp(SEALROOM_SOURCE_DIR "/spec/openapi.json", &flen);
	get("GET", "/api/openapi.json", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, flen); /* META-4 */
	assert_memory_equal(r.body, file, flen);
	assert_true(http_header_is(&r, "Cache-Control", "public, max-age=60"));
	free(file);
	http_resp_free(&r);
}

static void test_root_and_status(void **state)
{
	struct http_resp r;
	get("GET", "/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(http_header_is(&r, "Content-Type", "text/plain; charset=utf-8")); /* META-1 */
	assert_non_null(strstr(r.body, "/api/openapi.json"));
	http_resp_free(&r);

	get("GET", "/api/status", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(http_header_is(&r, "Cache-Control", "public, max-age=30")); /* META-3 */
	assert_int_equal(strncmp(r.body, "{\"ok\":true,\"started_at\":\"", 25), 0);
	assert_non_null(strstr(r.body, "\"version\":\"0.1.0\",\"build\":{\"commit\":\""));
	const char *h = strstr(r.body, "\"executable_sha256\":\"");
	assert_non_null(h);
	h += 21;
	for (int i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", h[i]));
	assert_int_equal(h[64], '"');
	http_resp_free(&r);
}

static void test_not_found_and_method(void **state)
{
	static const struct { const char *method, *path; int status; const char *body, *allow; } cases[] = {
		{"GET", "/nope", 404, "{\"error\":\"not found\"}", NULL},                      /* HTTP-4 */
		{"GET", "/api/health/", 404, "{\"error\":\"not found\"}", NULL},               /* HTTP-2 */
		{"GET", "/API/health", 404, "{\"error\":\"not found\"}", NULL},
		{"GET", "/api/rooms/ROOM2345/ws", 404, "{\"error\":\"not found\"}", NULL},     /* HTTP-7 */
		{"GET", "/api/contact", 404, "{\"error\":\"not found\"}", NULL},               /* META-5 */
		{"GET", "/room/ROOM2345", 404, "{\"error\":\"not found\"}", NULL},
		{"POST", "/api/health", 405, "{\"error\":\"method not allowed\"}", "GET"},     /* HTTP-5 */
		{"OPTIONS", "/api/health", 405, "{\"error\":\"method not allowed\"}", "GET"},
		{"DELETE", "/api/identity/register", 405, "{\"error\":\"method not allowed\"}", "GET, POST"},
		{"POST", "/api/dm/alice/inbox/wait", 405, "{\"error\":\"method not allowed\"}", "GET, DELETE"},
		{"GET", "/api/rooms/ROOM2345/messages", 405, "{\"error\":\"method not allowed\"}", "POST"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_resp r;
		get(cases[i].method, cases[i].path, NULL, &r);
		assert_int_equal(r.status, cases[i].status);
		assert_string_equal(r.body, cases[i].body);
		if (cases[i].allow)
			assert_true(http_header_is(&r, "Allow", cases[i].allow));
		assert_true(http_header_is(&r, "X-Content-Type-Options", "nosniff"));
		http_resp_free(&r);
	}
}

static void test_metrics_auth(void **state)
{
	struct http_resp r;
	get("GET", "/metrics", NULL, &r);
	assert_int_equal(r.status, 401); /* MET-2 */
	assert_string_equal(r.body, "{\"error\":\"unauthorised\"}");
	http_resp_free(&r);
	const char *bad[] = {"Authorization: Bearer s3creT", NULL};
	get("GET", "/api/metrics", bad, &r);
	assert_int_equal(r.status, 401);
	http_resp_free(&r);
	const char *good[] = {"Authorization: Bearer s3cret", NULL};
	get("GET", "/api/metrics", good, &r);
	assert_int_equal(r.status, 200);
	assert_true(http_header_is(&r, "Cache-Control", "no-store"));
	assert_int_equal(strncmp(r.body, "{\"started_at\":\"", 15), 0); /* MET-3 order */
	assert_non_null(strstr(r.body, "\"ts\":"));
	assert_non_null(strstr(r.body, "\"replay_cache_full_total\":0,\"active_rooms\":0,"));
	http_resp_free(&r);
	get("GET", "/metrics", good, &r);
	assert_int_equal(r.status, 200);
	assert_true(http_header_is(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(r.body, "sealroom_http_responses_total{class=\"4xx\"}"));
	assert_null(strstr(r.body, "sealroom_http_4xx"));
	http_resp_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_openapi_byte_identical),
		cmocka_unit_test(test_root_and_status),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_metrics_auth),
	};
	return cmocka_run_group_tests_name("it_meta", tests, setup, teardown);
}
