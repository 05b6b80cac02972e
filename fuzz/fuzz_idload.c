/* fuzz_idload — the identity-store loader (relay/identity.h ids_load, STATE-3): whatever is
 * in ⟨STATE_DIR⟩/identities.json at start-up, however damaged or hostile, must load into a
 * valid registry or be refused, never crash.
 *
 * The loader reads its file by path, so each input is written to identities.json in a private
 * scratch directory (on /dev/shm when available) created once per process and removed at
 * exit; nothing else touches the disk. Properties: the loaded registry renders (ids_render)
 * as JSON that loads again with nothing dropped and renders to the same bytes (loading is
 * idempotent: every record it keeps passes its own checks); counts add up; the cap holds. */
#include "fuzz.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "identity.h"
#include "proto/json.h"

#define CAP 64
#define NOW_MS 1767225600000LL

static char dir1[256], dir2[256];
static FILE *devnull;

static void cleanup(void)
{
	const char *const names[] = {IDS_FILE, IDS_FILE ".tmp", IDS_FILE ".rejected"};
	char p[512];
	for (int d = 0; d < 2; d++) {
		const char *dir = d ? dir2 : dir1;
		for (size_t i = 0; dir[0] && i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
			unlink(p);
		}
		if (dir[0])
			rmdir(dir);
	}
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	snprintf(dir1, sizeof(dir1), "%s/fuzz_idload.XXXXXX", base ? base : "/tmp");
	snprintf(dir2, sizeof(dir2), "%s/fuzz_idload.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(dir1) || !mkdtemp(dir2) || sodium_init() < 0)
		abort();
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	atexit(cleanup);
}

static void put(const char *dir, const char *data, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, IDS_FILE ".rejected");
	unlink(p);
	snprintf(p, sizeof(p), "%s/%s", dir, IDS_FILE);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len) || close(fd) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!devnull)
		setup();
	put(dir1, (const char *)data, size);
	struct idstore *a = ids_new(CAP, dir1, devnull);
	FUZZ_CHECK(a != NULL);
	struct ids_load_result r = ids_load(a, 1 << 20, NOW_MS);
	FUZZ_CHECK(r.status == IDS_LOAD_OK || r.status == IDS_LOAD_CORRUPT ||
		   r.status == IDS_LOAD_OVERSIZE);
	FUZZ_CHECK(ids_count(a) <= CAP && ids_count(a) <= r.loaded);
	if (r.status != IDS_LOAD_OK)
		FUZZ_CHECK(ids_count(a) == 0);

	size_t len1;
	char *out1 = ids_render(a, &len1);
	FUZZ_CHECK(out1 != NULL);
	cJSON *doc = json_parse(out1, len1, JSON_MAX_DEPTH, true);
	FUZZ_CHECK(doc != NULL); /* STATE-1 output is always well-formed JSON */
	cJSON_Delete(doc);

	put(dir2, out1, len1);
	struct idstore *b = ids_new(CAP, dir2, devnull);
	FUZZ_CHECK(b != NULL);
	struct ids_load_result r2 = ids_load(b, 1 << 20, NOW_MS);
	FUZZ_CHECK(r2.status == IDS_LOAD_OK);
	FUZZ_CHECK(r2.dropped == 0 && ids_count(b) == ids_count(a));
	size_t len2;
	char *out2 = ids_render(b, &len2);
	FUZZ_CHECK(out2 != NULL && len2 == len1 && memcmp(out1, out2, len1) == 0);

	free(out1);
	free(out2);
	ids_free(a);
	ids_free(b);
	return 0;
}
