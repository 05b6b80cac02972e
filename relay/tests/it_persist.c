/* Integration: the identity registry on disk (STATE-1..4, INV-9) across real relay restarts
 * with one state directory: registrations persist before the answer, inbox_seq within 2 s
 * and at SIGTERM, seqs keep increasing after a restart or a crash, and corrupt or oversize
 * files are refused with a clear log line, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <unistd.h>

#include "ids_fixture.h"

static char dir[64], file[128];
static struct http_client *hc;

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sealroom-itstate-XXXXXX");
	if (crypto_init() < 0 || !mkdtemp(dir))
		return -1;
	snprintf(file, sizeof(file), "%s/identities.json", dir);
	hc = http_client_new(NULL);
	return hc ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	http_client_free(hc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void start(struct relay_proc *rp, const char *file_max)
{
	const char *args[] = {"--state-dir", dir, "--state-file-max", file_max ? file_max : "67108864", NULL};
	assert_int_equal(fx_start(rp, args), 0);
}

static char *read_file(void)
{
	FILE *f = fopen(file, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Poll identities.json until it contains needle (deadline ms). */
static bool file_has(const char *needle, int64_t deadline_ms)
{
	int64_t end = clock_mono_ms() + deadline_ms;
	for (;;) {
		char *t = read_file();
		bool ok = t && strstr(t, needle);
		free(t);
		if (ok)
			return true;
		if (clock_mono_ms() >= end)
			return false;
		usleep(10000); /* polling the file with a deadline */
	}
}

static int64_t send_dm(const struct relay_proc *rp, const struct crypto_identity *to)
{
	char path[96];
	struct http_resp r;
	char *body = fx_dm_body(to, NULL, 0, "persist me");
	snprintf(path, sizeof(path), "/api/dm/%s", to->handle);
	fx_do(hc, rp, "POST", path, body, NULL, &r);
	free(body);
	assert_int_equal(r.status, 200);
	int64_t seq = atoll(strstr(r.body, "\"seq\":") + 6);
	http_resp_free(&r);
	return seq;
}

static void get_identity(const struct relay_proc *rp, const struct crypto_identity *id, int64_t at)
{
	char path[96], want[512];
	snprintf(path, sizeof(path), "/api/identity/%s", id->handle);
	snprintf(want, sizeof(want),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":%lld,\"meta\":{\"bio\":\"b\"}}",
		 id->handle, id->box_pub_b64, id->sign_pub_b64, (long long)at);
	fx_expect(hc, rp, "GET", path, NULL, NULL, 200, want, 0);
}

static void test_restart_persistence(void **state)
{
	struct relay_proc rp;
	struct crypto_identity alice;
	fx_identity(&alice, "per");
	start(&rp, NULL);
	/* ID-REG-15: on disk before the 201 */
	char *body = fx_register_body(&alice, NULL, clock_now_ms(), NULL, "\"meta\":{\"bio\":\"b\"}");
	struct http_resp r;
	fx_do(hc, &rp, "POST", "/api/identity/register", body, NULL, &r);
	free(body);
	assert_int_equal(r.status, 201);
	int64_t at = atoll(strstr(r.body, "\"registered_at\":") + 16);
	http_resp_free(&r);
	char *disk = read_file(), rec[512];
	assert_non_null(disk);
	snprintf(rec, sizeof(rec),
		 "{\"identities\":{\"%s\":{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":%lld,"
		 "\"meta\":{\"bio\":\"b\"}}}}\n",
		 alice.handle, alice.handle, alice.box_pub_b64, alice.sign_pub_b64, (long long)at);
	assert_string_equal(disk, rec); /* STATE-1 format */
	free(disk);

	/* DM-4: inbox_seq on disk within 2 s (STATE-2), no DM content (STATE-4) */
	int64_t s1 = send_dm(&rp, &alice), s2 = send_dm(&rp, &alice), s3 = send_dm(&rp, &alice);
	assert_int_equal(s2, s1 + 1);
	assert_int_equal(s3, s1 + 2);
	char needle[64];
	snprintf(needle, sizeof(needle), "\"inbox_seq\":%lld}", (long long)s3);
	assert_true(file_has(needle, 2000));
	disk = read_file();
	assert_null(strstr(disk, "ciphertext"));
	free(disk);
	assert_int_equal(relay_stop(&rp), 0);

	/* restart: the identity is back, seqs continue (INV-9), the inbox itself is gone (DM-10) */
	start(&rp, NULL);
	assert_true(relay_log_wait(&rp, "sealroom-relay: state: loaded 1 identities from", 2000));
	get_identity(&rp, &alice, at);
	char target[128], auth[320];
	snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait?after=0&timeout=1", alice.handle);
	fx_auth(auth, sizeof(auth), &alice, "GET", target, clock_now_ms());
	fx_expect(hc, &rp, "GET", target, NULL, auth, 200, "{\"messages\":[],\"last_seq\":0}", 0);
	int64_t s4 = send_dm(&rp, &alice);
	assert_int_equal(s4, s3 + 1);
	/* re-register with a fresh signature: the persisted sign_pub matches, original time */
	body = fx_register_body(&alice, NULL, clock_now_ms(), NULL, NULL);
	char created[160];
	snprintf(created, sizeof(created), "{\"ok\":true,\"handle\":\"%s\",\"registered_at\":%lld}", alice.handle,
		 (long long)at);
	fx_expect(hc, &rp, "POST", "/api/identity/register", body, NULL, 201, created, 0);
	free(body);

	/* a crash after the flush loses nothing: SIGKILL, restart, the seq still goes up */
	snprintf(needle, sizeof(needle), "\"inbox_seq\":%lld}", (long long)s4);
	assert_true(file_has(needle, 2000));
	assert_int_equal(relay_signal(&rp, SIGKILL), 0);
	fprintf(stderr, "(the relay below was killed on purpose)\n");
	relay_stop(&rp); /* reaps the killed child (status -1 for a signal) */
	start(&rp, NULL);
	get_identity(&rp, &alice, at);
	assert_int_equal(send_dm(&rp, &alice), s4 + 1);
	assert_int_equal(relay_stop(&rp), 0);
	/* SIGTERM flushed the last seq */
	snprintf(needle, sizeof(needle), "\"inbox_seq\":%lld}", (long long)(s4 + 1));
	assert_true(file_has(needle, 0));
}

/* STATE-3: a corrupt file is logged, kept aside and not loaded; the relay serves normally
 * and the next registration writes a fresh file. */
static void test_corrupt_file(void **state)
{
	FILE *f = fopen(file, "wb");
	assert_non_null(f);
	fputs("{\"identities\":{\"x\":", f);
	fclose(f);
	struct relay_proc rp;
	start(&rp, NULL);
	char line[512];
	snprintf(line, sizeof(line),
		 "sealroom-relay: state: %s is not a JSON object with an \"identities\" object; starting with an empty "
		 "identity registry, the file is kept as %s.rejected",
		 file, file);
	assert_true(relay_log_wait(&rp, line, 2000));
	struct crypto_identity bob;
	fx_identity(&bob, "cor");
	fx_register(hc, &rp, &bob);
	char *disk = read_file();
	assert_non_null(strstr(disk, bob.handle));
	free(disk);
	assert_int_equal(relay_stop(&rp), 0);
	char aside[160];
	snprintf(aside, sizeof(aside), "%s.rejected", file);
	assert_int_equal(access(aside, F_OK), 0);
	unlink(aside);
}

/* STATE-3: a file over STATE_FILE_MAX is refused at start with a log line. */
static void test_oversize_file(void **state)
{
	struct relay_proc rp;
	start(&rp, "10");
	char line[512];
	snprintf(line, sizeof(line), "sealroom-relay: state: %s is ", file);
	assert_true(relay_log_wait(&rp, line, 2000));
	assert_true(relay_log_wait(&rp, "bytes, over STATE_FILE_MAX (10); starting with an empty identity registry", 2000));
	fx_expect(hc, &rp, "GET", "/api/identity/nobody", NULL, NULL, 404, "{\"error\":\"no such handle\"}", 0);
	assert_int_equal(relay_stop(&rp), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_persistence),
		cmocka_unit_test(test_corrupt_file),
		cmocka_unit_test(test_oversize_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
