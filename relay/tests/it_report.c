/* Integration: POST /api/report (§15.3, RPT-1..5) on a real relay — the answer, the log line
 * the background writer appends (INV-12 salted hash), and the `bugs` rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "ids_fixture.h"
#include "proto/json.h"

static struct relay_proc rp;
static struct http_client *hc;
static char dir[64], logpath[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sealroom-itrep-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/bugs.log", dir);
	const char *args[] = {"--bugs-log", logpath, "--bugs-ip-salt", "pepper", "--room-rl-cap", "4",
			      "--room-rl-refill-per-sec", "0.001", "--metrics-token", "tok", NULL};
	if (crypto_init() < 0 || fx_start(&rp, args) != 0)
		return -1;
	hc = http_client_new(NULL);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	http_client_free(hc);
	int rc = relay_stop(&rp);
	char rotated[160];
	snprintf(rotated, sizeof(rotated), "%s.1", logpath);
	unlink(logpath);
	unlink(rotated);
	rmdir(dir);
	return rc == 0 ? 0 : -1;
}

static char *read_log(void)
{
	FILE *f = fopen(logpath, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* RPT-3..5: 200 at once with the id; the line reaches the log (polled with a deadline). */
static void test_report_logged(void **state)
{
	const char *hdrs[] = {"Content-Type: application/json", "User-Agent: itest/1.0", NULL};
	const char *body = "{\"what\":\"it broke badly\",\"where\":\"room page\",\"severity\":\"high\",\"contact\":7}";
	char url[128];
	struct http_resp r;
	snprintf(url, sizeof(url), "%s/api/report", rp.base);
	assert_int_equal(http_do(hc, "POST", url, hdrs, body, strlen(body), 5000, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(strncmp(r.body, "{\"ok\":true,\"id\":\"", 17), 0);
	assert_string_equal(r.body + 17 + 36, "\"}");
	char id[37];
	memcpy(id, r.body + 17, 36);
	id[36] = '\0';
	http_resp_free(&r);
	assert_int_equal(fx_metric(hc, &rp, "bug_reports_total"), 1);

	char *log = NULL;
	int64_t end = clock_mono_ms() + 5000;
	while (clock_mono_ms() < end) {
		free(log);
		log = read_log();
		if (log && strstr(log, id))
			break;
		usleep(5000); /* polling the file with a deadline */
	}
	assert_non_null(log);
	assert_non_null(strstr(log, id));
	char hex[65], in[64], want[512];
	snprintf(in, sizeof(in), "127.0.0.1|pepper");
	crypto_sha256_hex(in, strlen(in), hex);
	hex[12] = '\0';
	/* everything after the ISO ts is deterministic */
	snprintf(want, sizeof(want),
		 "Z\",\"what\":\"it broke badly\",\"where\":\"room page\",\"repro\":\"\",\"context\":\"\",\"contact\":\"\","
		 "\"severity\":\"high\",\"ua\":\"itest/1.0\",\"ip_hash\":\"%s\"}\n",
		 hex);
	char pre[64];
	snprintf(pre, sizeof(pre), "{\"id\":\"%s\",\"ts\":\"", id);
	assert_int_equal(strncmp(log, pre, strlen(pre)), 0);
	assert_string_equal(log + strlen(pre) + 23, want);
	assert_null(strstr(log, "127.0.0.1")); /* INV-12: never the IP itself */
	free(log);
}

/* RPT-2 (en dash in the text), RPT-1: the `bugs` bucket (Retry-After 10), shared with a room
 * of that name (RL-2: one namespace). */
static void test_what_and_rate_limit(void **state)
{
	const char *want = "{\"error\":\"field \\\"what\\\" required (5\u20134000 chars)\"}";
	fx_expect(hc, &rp, "POST", "/api/report", "{\"what\":\"abcd\"}", NULL, 400, want, 0);
	fx_expect(hc, &rp, "POST", "/api/report", "{\"what\":[\"abcdef\"]}", NULL, 400, want, 0);
	/* tokens: 1 used above by test_report_logged, 2 here, 1 left */
	fx_expect(hc, &rp, "POST", "/api/report", "{\"what\":\"12345\"}", NULL, 200, NULL, 0);
	fx_expect(hc, &rp, "POST", "/api/report", "{\"what\":\"12345\"}", NULL, 429, "{\"error\":\"rate limited\"}", 10);
	fx_expect(hc, &rp, "POST", "/api/report", "{}", NULL, 429, "{\"error\":\"rate limited\"}", 10);
	char *msg = fx_room_plain(NULL, NULL);
	fx_expect(hc, &rp, "POST", "/api/rooms/bugs/messages", msg, NULL, 429, "{\"error\":\"rate limited\"}", 1);
	free(msg);
}

/* RPT-4 (sealroom): without BUGS_LOG the report is answered and discarded. */
static void test_no_log(void **state)
{
	struct relay_proc plain;
	assert_int_equal(fx_start(&plain, NULL), 0);
	struct http_resp r;
	fx_do(hc, &plain, "POST", "/api/report", "{\"what\":\"hello there\"}", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(strncmp(r.body, "{\"ok\":true,\"id\":\"", 17), 0);
	http_resp_free(&r);
	assert_int_equal(relay_stop(&plain), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_logged),
		cmocka_unit_test(test_what_and_rate_limit),
		cmocka_unit_test(test_no_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
