/* Tests for relay/identity: the registry, DM-4 inbox_seq, and STATE-1..3 persistence,
 * including loading corrupt, oversize and partially invalid files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/identity.h"
#include "identity.h"
#include "proto/clock.h"

static struct crypto_identity alice, bob;

static char *mkstate(void)
{
	char tmpl[] = "/tmp/sealroom-ids-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void rmstate(char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

static struct identity *make(const char *handle, const struct crypto_identity *k, int64_t at)
{
	struct identity *r = ids_make(handle, strlen(handle), k->box_pub_b64, k->sign_pub_b64, at, false, "", 0);
	assert_non_null(r);
	return r;
}

static void test_add_get_cap(void **state)
{
	struct idstore *s = ids_new(2, NULL, stderr);
	struct identity *a = make("alice", &alice, 1), *b = make("bob", &bob, 2), *c = make("carol", &bob, 3);
	struct identity *a2 = make("alice", &bob, 4), *existing = NULL;
	assert_int_equal(ids_add(s, a, NULL), IDS_OK);
	assert_int_equal(ids_add(s, b, NULL), IDS_OK);
	assert_int_equal(ids_add(s, a2, &existing), IDS_EXISTS); /* checked before the cap */
	assert_ptr_equal(existing, a);
	assert_int_equal(ids_add(s, c, NULL), IDS_CAP); /* CAP-8 */
	assert_int_equal(ids_count(s), 2);
	assert_ptr_equal(ids_get(s, "alice", 5), a);
	assert_ptr_equal(ids_get(s, "bob", 3), b);
	assert_null(ids_get(s, "Alice", 5)); /* exact bytes: callers lower-case */
	assert_null(ids_get(s, "carol", 5));
	assert_null(ids_get(s, "", 0));
	assert_memory_equal(a->sign_pk, alice.sign_pk, 32); /* decoded for crypto_verify */
	ids_record_free(a2);
	ids_record_free(c);
	ids_free(s);
}

static void test_make_rejects_bad_keys(void **state)
{
	assert_null(ids_make("alice", 5, "AAAA", alice.sign_pub_b64, 1, false, "", 0));
	assert_null(ids_make("alice", 5, alice.box_pub_b64, "not base64 at all, but 44 characters long!!", 1, false, "", 0));
	assert_null(ids_make("a23456789012345678901234567890123", 33, alice.box_pub_b64, alice.sign_pub_b64, 1, false, "", 0));
}

/* DM-4: seq = (inbox_seq > 0 ? inbox_seq : now) + 1. */
static void test_inbox_seq(void **state)
{
	struct idstore *s = ids_new(10, NULL, stderr);
	struct identity *a = make("alice", &alice, 1);
	assert_int_equal(ids_add(s, a, NULL), IDS_OK);
	assert_int_equal(ids_next_inbox_seq(s, a, 1000), 1001);
	assert_int_equal(ids_next_inbox_seq(s, a, 5000), 1002); /* the persisted seq, not the clock */
	assert_int_equal(ids_next_inbox_seq(s, a, 1), 1003);
	assert_int_equal(atomic_load(&a->inbox_seq), 1003);
	ids_free(s);
}

/* STATE-1: exact file format, registration order, inbox_seq only when > 0. */
static void test_render_exact(void **state)
{
	struct idstore *s = ids_new(10, NULL, stderr);
	struct identity *b = ids_make("bob", 3, bob.box_pub_b64, bob.sign_pub_b64, 1767225600000, true, "hi \"x\"", 6);
	struct identity *a = make("alice", &alice, 1767225600001);
	assert_int_equal(ids_add(s, b, NULL), IDS_OK);
	assert_int_equal(ids_add(s, a, NULL), IDS_OK);
	ids_next_inbox_seq(s, a, 1800000000000);
	char want[1024];
	snprintf(want, sizeof(want),
		 "{\"identities\":{\"bob\":{\"handle\":\"bob\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\","
		 "\"registered_at\":1767225600000,\"meta\":{\"bio\":\"hi \\\"x\\\"\"}},"
		 "\"alice\":{\"handle\":\"alice\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\","
		 "\"registered_at\":1767225600001,\"meta\":{},\"inbox_seq\":1800000000001}}}\n",
		 bob.box_pub_b64, bob.sign_pub_b64, alice.box_pub_b64, alice.sign_pub_b64);
	size_t len;
	char *got = ids_render(s, &len);
	assert_string_equal(got, want);
	assert_int_equal(len, strlen(want));
	free(got);
	ids_free(s);
}

/* STATE-2: atomic write (no temp file left, mode 0600), then a reload gives the same registry. */
static void test_persist_roundtrip(void **state)
{
	char *dir = mkstate();
	char *file = path_in(dir, IDS_FILE), *tmp = path_in(dir, IDS_FILE ".tmp");
	struct idstore *s = ids_new(10, dir, stderr);
	struct identity *a = ids_make("alice", 5, alice.box_pub_b64, alice.sign_pub_b64, 42, true, "b\xc3\xa9o", 4);
	assert_int_equal(ids_add(s, a, NULL), IDS_OK);
	assert_int_equal(ids_add(s, make("bob", &bob, 43), NULL), IDS_OK);
	ids_next_inbox_seq(s, a, 1000);
	assert_int_equal(ids_persist(s), 0);
	size_t len;
	char *want = ids_render(s, &len), *disk = read_text(file);
	assert_string_equal(disk, want);
	assert_int_equal(access(tmp, F_OK), -1);
	struct stat st;
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ids_persist(s), 0); /* nothing changed: nothing to do */
	ids_free(s);

	struct idstore *s2 = ids_new(10, dir, stderr);
	struct ids_load_result res = ids_load(s2, 1 << 20, 7);
	assert_int_equal(res.status, IDS_LOAD_OK);
	assert_int_equal(res.loaded, 2);
	assert_int_equal(res.dropped, 0);
	char *again = ids_render(s2, &len);
	assert_string_equal(again, want);
	struct identity *a2 = ids_get(s2, "alice", 5);
	assert_non_null(a2);
	assert_int_equal(ids_next_inbox_seq(s2, a2, 5), 1002); /* INV-9: continues across restarts */
	free(want);
	free(disk);
	free(again);
	ids_free(s2);
	free(file);
	free(tmp);
	rmstate(dir);
}

static void test_load_absent_and_memory_only(void **state)
{
	char *dir = mkstate();
	struct idstore *s = ids_new(10, dir, stderr);
	struct ids_load_result res = ids_load(s, 1 << 20, 7);
	assert_int_equal(res.status, IDS_LOAD_ABSENT);
	assert_int_equal(res.loaded, 0);
	ids_free(s);
	s = ids_new(10, "", stderr); /* STATE-1: memory only */
	res = ids_load(s, 1 << 20, 7);
	assert_int_equal(res.status, IDS_LOAD_ABSENT);
	assert_int_equal(ids_add(s, make("alice", &alice, 1), NULL), IDS_OK);
	assert_int_equal(ids_persist(s), 0);
	ids_free(s);
	rmstate(dir);
}

/* Load text from a fresh state dir into a store of max identities; log captured. */
static struct ids_load_result load_text(const char *text, int64_t file_max, size_t max, char **dir_out, char **log_out,
					struct idstore **store_out)
{
	char *dir = mkstate(), *file = path_in(dir, IDS_FILE);
	write_text(file, text);
	char *logbuf = NULL;
	size_t loglen = 0;
	FILE *log = open_memstream(&logbuf, &loglen);
	struct idstore *s = ids_new(max, dir, log);
	struct ids_load_result res = ids_load(s, file_max, 999);
	fclose(log);
	*log_out = logbuf;
	*dir_out = dir;
	*store_out = s;
	free(file);
	return res;
}

/* STATE-3: a file over STATE_FILE_MAX is refused, kept aside, and the registry starts empty;
 * exactly at the limit it loads. */
static void test_load_oversize(void **state)
{
	char text[512], *dir, *log;
	struct idstore *s;
	snprintf(text, sizeof(text),
		 "{\"identities\":{\"alice\":{\"handle\":\"alice\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\","
		 "\"registered_at\":1,\"meta\":{}}}}",
		 alice.box_pub_b64, alice.sign_pub_b64);
	struct ids_load_result res = load_text(text, (int64_t)strlen(text) - 1, 10, &dir, &log, &s);
	assert_int_equal(res.status, IDS_LOAD_OVERSIZE);
	assert_int_equal(ids_count(s), 0);
	char *file = path_in(dir, IDS_FILE), *aside = path_in(dir, IDS_FILE ".rejected");
	assert_int_equal(access(file, F_OK), -1);
	char *kept = read_text(aside);
	assert_string_equal(kept, text); /* the operator's data is not destroyed */
	char want[1024];
	snprintf(want, sizeof(want),
		 "sealroom-relay: state: %s is %zu bytes, over STATE_FILE_MAX (%zu); starting with an empty identity "
		 "registry, the file is kept as %s\n",
		 file, strlen(text), strlen(text) - 1, aside);
	assert_string_equal(log, want);
	free(kept);
	free(file);
	free(aside);
	free(log);
	ids_free(s);
	rmstate(dir);

	res = load_text(text, (int64_t)strlen(text), 10, &dir, &log, &s);
	assert_int_equal(res.status, IDS_LOAD_OK);
	assert_int_equal(res.loaded, 1);
	free(log);
	ids_free(s);
	rmstate(dir);
}

/* STATE-3: anything that is not a JSON object with an "identities" object is refused, never
 * a crash. */
static void test_load_corrupt(void **state)
{
	static char deep[401];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	const char *cases[] = {
		"", "not json", "[]", "{}", "{\"identities\":[]}", "{\"identities\":null}", "{\"identities\":{",
		"{\"identities\":{}} trailing", "\xff\xfe{}", "{\"identities\":{\"a\":\"\\ud800\"}}", deep, "42",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *dir, *log;
		struct idstore *s;
		struct ids_load_result res = load_text(cases[i], 1 << 20, 10, &dir, &log, &s);
		assert_int_equal(res.status, IDS_LOAD_CORRUPT);
		assert_int_equal(ids_count(s), 0);
		assert_non_null(strstr(log, "is not a JSON object with an \"identities\" object; starting with an empty "
					    "identity registry"));
		free(log);
		ids_free(s);
		rmstate(dir);
	}
}

/* STATE-3: record-by-record validation. */
static void test_load_partial(void **state)
{
	char bio[400], text[8192], *dir, *log;
	struct idstore *s;
	memset(bio, 'a', 300);
	bio[300] = '\0';
	const char *A = alice.box_pub_b64, *S = alice.sign_pub_b64;
	snprintf(text, sizeof(text),
		 "{\"identities\":{"
		 "\"alice\":{\"handle\":\"alice\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":5,\"meta\":{}},"
		 "\"bob\":{\"handle\":\"bobby\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":1,\"meta\":{}},"
		 "\"Carol\":{\"handle\":\"Carol\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":1,\"meta\":{}},"
		 "\"dave\":{\"handle\":\"dave\",\"box_pub\":\"AAAA\",\"sign_pub\":\"%s\",\"registered_at\":1,\"meta\":{}},"
		 "\"erin\":{\"handle\":\"erin\",\"box_pub\":\"%s\",\"sign_pub\":\"%.43s\",\"registered_at\":1,\"meta\":{}},"
		 "\"frank\":[1,2],"
		 "\"gina\":{\"handle\":\"gina\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":1700000000000,"
		 "\"meta\":{},\"inbox_seq\":1800000000000},"
		 "\"alice\":{\"handle\":\"alice\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"registered_at\":\"x\","
		 "\"meta\":{\"bio\":\"%s\"},\"inbox_seq\":-5},"
		 "\"hank\":{\"handle\":\"hank\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"meta\":{\"bio\":7},\"inbox_seq\":\"9\"}"
		 "}}",
		 A, S, A, S, A, S, S, A, S, A, S, A, S, bio, A, S);
	struct ids_load_result res = load_text(text, 1 << 20, 10, &dir, &log, &s);
	assert_int_equal(res.status, IDS_LOAD_OK);
	assert_int_equal(res.loaded, 3);  /* alice, gina, hank */
	assert_int_equal(res.dropped, 6); /* bob, Carol, dave, erin, frank, the first alice */
	char want[512], *file = path_in(dir, IDS_FILE);
	snprintf(want, sizeof(want), "sealroom-relay: state: loaded 3 identities from %s, 6 records dropped\n", file);
	assert_string_equal(log, want);
	struct identity *a = ids_get(s, "alice", 5), *g = ids_get(s, "gina", 4), *h = ids_get(s, "hank", 4);
	assert_non_null(a);
	assert_non_null(g);
	assert_non_null(h);
	assert_int_equal(a->registered_at, 999); /* non-numeric -> now */
	assert_true(a->has_meta);
	assert_int_equal(a->bio_len, 280);       /* re-truncated */
	assert_int_equal(atomic_load(&a->inbox_seq), 0);
	assert_int_equal(g->registered_at, 1700000000000);
	assert_false(g->has_meta);
	assert_int_equal(atomic_load(&g->inbox_seq), 1800000000000);
	assert_true(h->has_meta); /* a non-string bio is kept as "" */
	assert_int_equal(h->bio_len, 0);
	assert_int_equal(h->registered_at, 999);
	assert_int_equal(atomic_load(&h->inbox_seq), 0);
	assert_null(ids_get(s, "bob", 3));
	assert_null(ids_get(s, "bobby", 5));
	free(file);
	free(log);
	ids_free(s);
	rmstate(dir);

	/* beyond IDENTITIES_MAX the rest is dropped */
	res = load_text(text, 1 << 20, 2, &dir, &log, &s);
	assert_int_equal(res.loaded, 2);
	assert_int_equal(res.dropped, 7);
	assert_int_equal(ids_count(s), 2);
	free(log);
	ids_free(s);
	rmstate(dir);
}

/* STATE-2: an inbox_seq change reaches the disk within 2 s through the flusher. */
static void test_flusher_writes_inbox_seq(void **state)
{
	char *dir = mkstate(), *file = path_in(dir, IDS_FILE);
	struct idstore *s = ids_new(10, dir, stderr);
	struct identity *a = make("alice", &alice, 1);
	assert_int_equal(ids_add(s, a, NULL), IDS_OK);
	assert_int_equal(ids_persist(s), 0);
	assert_int_equal(ids_flusher_start(s), 0);
	int64_t seq = ids_next_inbox_seq(s, a, 1767225600000);
	char needle[64];
	snprintf(needle, sizeof(needle), "\"inbox_seq\":%lld}", (long long)seq);
	int64_t start = clock_mono_ms();
	bool found = false;
	while (!found && clock_mono_ms() - start < 2000) {
		char *t = read_text(file);
		found = t && strstr(t, needle);
		free(t);
		if (!found)
			usleep(10000); /* polling the file with a deadline, not synchronising */
	}
	assert_true(found);
	ids_flusher_stop(s);
	ids_free(s);
	free(file);
	rmstate(dir);
}

/* A write failure is logged once and reported, never fatal. */
static void test_persist_failure_logged(void **state)
{
	char *logbuf = NULL;
	size_t loglen = 0;
	FILE *log = open_memstream(&logbuf, &loglen);
	struct idstore *s = ids_new(10, "/dev/null/sub", log);
	assert_int_equal(ids_add(s, make("alice", &alice, 1), NULL), IDS_OK);
	assert_int_equal(ids_persist(s), -1);
	assert_int_equal(ids_persist(s), -1);
	fflush(log);
	assert_string_equal(logbuf, "sealroom-relay: state: cannot create /dev/null/sub/identities.json: Not a directory\n");
	ids_free(s);
	fclose(log);
	free(logbuf);
}

int main(void)
{
	if (crypto_init() < 0 || crypto_identity_new(&alice, "alice") < 0 || crypto_identity_new(&bob, "bob") < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_get_cap),
		cmocka_unit_test(test_make_rejects_bad_keys),
		cmocka_unit_test(test_inbox_seq),
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_persist_roundtrip),
		cmocka_unit_test(test_load_absent_and_memory_only),
		cmocka_unit_test(test_load_oversize),
		cmocka_unit_test(test_load_corrupt),
		cmocka_unit_test(test_load_partial),
		cmocka_unit_test(test_flusher_writes_inbox_seq),
		cmocka_unit_test(test_persist_failure_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
