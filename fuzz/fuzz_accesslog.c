/* fuzz_accesslog — access-log path collapsing and line formatting (relay/accesslog.h,
 * LOG-1..LOG-3, INV-4).
 *
 * Properties: the output is NUL-terminated within cap and its length is returned; no byte
 * below 0x20 or 0x7F reaches the log (a request cannot forge lines or terminal escapes); a
 * path under a collapsed prefix never leaks a byte after the prefix (room ids and handles
 * stay out of the log); a formatted line is one line ending in "\n". */
#include "fuzz.h"

#include "accesslog.h"

static const char *const collapsed[][2] = {
	{"/api/rooms/", "/api/rooms/:id/*"},
	{"/room/", "/room/:id"},
	{"/api/dm/", "/api/dm/:handle/*"},
	{"/api/identity/", "/api/identity/:handle"},
	{"/@", "/@handle"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = fz_init(data, size);
	size_t cap = fz_u8(&f) % 80;
	int64_t now = (int64_t)(fz_u64(&f) % 32503680000000ULL); /* years 1970..2999 */
	size_t mlen;
	const char *m = fz_until(&f, ' ', &mlen);
	char *method = fz_strdup(m, mlen);
	size_t len;
	const char *p = fz_rest(&f, &len);
	char *path = fz_memdup(p, len);
	char *out = malloc(cap + 1);
	char *line = malloc(ACCESSLOG_LINE_MAX);
	if (!out || !line)
		abort();

	size_t n = accesslog_collapse(path, len, out, cap);
	if (cap == 0) {
		FUZZ_CHECK(n == 0);
	} else {
		FUZZ_CHECK(n < cap && out[n] == '\0' && strlen(out) == n);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK((unsigned char)out[i] >= 0x20 && out[i] != 0x7F);
	}
	/* With room to spare, a collapsed prefix gives exactly the collapsed form. */
	char full[64];
	for (size_t i = 0; i < sizeof(collapsed) / sizeof(collapsed[0]); i++) {
		size_t pl = strlen(collapsed[i][0]);
		if (len >= pl && memcmp(path, collapsed[i][0], pl) == 0) {
			size_t k = accesslog_collapse(path, len, full, sizeof(full));
			FUZZ_CHECK(k == strlen(collapsed[i][1]) && strcmp(full, collapsed[i][1]) == 0);
			break;
		}
	}

	size_t ln = accesslog_format(line, ACCESSLOG_LINE_MAX, now, method, path, len);
	if (ln) {
		FUZZ_CHECK(ln < ACCESSLOG_LINE_MAX && line[ln] == '\0');
		FUZZ_CHECK(line[0] == '[' && line[ln - 1] == '\n');
		FUZZ_CHECK(memchr(line, '\n', ln) == line + ln - 1);
		for (size_t i = 0; i + 1 < ln; i++)
			FUZZ_CHECK((unsigned char)line[i] >= 0x20 && line[i] != 0x7F);
	}
	free(out);
	free(line);
	free(path);
	free(method);
	return 0;
}
