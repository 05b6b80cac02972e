/* Tests for relay/accesslog: LOG-1 line format, LOG-2 collapsing, LOG-3/INV-4 privacy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "accesslog.h"

struct ccase {
	const char *path;
	const char *want;
};

static void test_collapse(void **state)
{
	static const struct ccase t[] = {
		/* LOG-2 prefixes, first match wins. */
		{ "/api/rooms/ROOM2345/messages", "/api/rooms/:id/*" },
		{ "/api/rooms/ROOM2345/events", "/api/rooms/:id/*" },
		{ "/api/rooms/ROOM2345/ws", "/api/rooms/:id/*" }, /* LOG-3: no room id */
		{ "/api/rooms/", "/api/rooms/:id/*" },
		{ "/api/rooms/%41BCD/wait", "/api/rooms/:id/*" },
		{ "/room/ROOM2345", "/room/:id" },
		{ "/room/", "/room/:id" },
		{ "/api/dm/alice/inbox/wait", "/api/dm/:handle/*" },
		{ "/api/dm/@alice", "/api/dm/:handle/*" },
		{ "/api/identity/register", "/api/identity/:handle" },
		{ "/api/identity/alice", "/api/identity/:handle" },
		{ "/@alice", "/@handle" },
		{ "/@", "/@handle" },
		/* Everything else as it is. */
		{ "/", "/" },
		{ "/api/health", "/api/health" },
		{ "/api/status", "/api/status" },
		{ "/metrics", "/metrics" },
		{ "/api/rooms", "/api/rooms" },
		{ "/api/roomsX/a", "/api/roomsX/a" },
		{ "/API/rooms/x", "/API/rooms/x" },
		{ "/rooms/x", "/rooms/x" },
		{ "/api/identity", "/api/identity" },
		{ "/x/@alice", "/x/@alice" },
		{ "", "" },
		{ "/caf\xc3\xa9", "/caf\xc3\xa9" },
		/* Controls and DEL escaped, so a path cannot forge lines or terminal escapes. */
		{ "/a\x1b[31mb", "/a\\x1b[31mb" },
		{ "/a\nb\r", "/a\\x0ab\\x0d" },
		{ "/a\x7f", "/a\\x7f" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char out[128];
		size_t n = accesslog_collapse(t[i].path, strlen(t[i].path), out, sizeof(out));

		if (strcmp(out, t[i].want) != 0 || n != strlen(t[i].want))
			fail_msg("collapse(\"%s\") = \"%s\" (%zu)", t[i].path, out, n);
	}
	/* Only len bytes of the path are read (no query passed). */
	{
		char out[64];

		assert_int_equal(accesslog_collapse("/api/health?x=1", 11, out, sizeof(out)), 11);
		assert_string_equal(out, "/api/health");
		assert_int_equal(accesslog_collapse(NULL, 0, out, sizeof(out)), 0);
		assert_string_equal(out, "");
	}
}

static void test_collapse_truncation(void **state)
{
	char out[16];

	memset(out, '#', sizeof(out));
	assert_int_equal(accesslog_collapse("/api/rooms/X/y", 14, out, 5), 4);
	assert_string_equal(out, "/api");
	/* An escape is never split. */
	assert_int_equal(accesslog_collapse("/\x01", 2, out, 5), 1);
	assert_string_equal(out, "/");
	assert_int_equal(accesslog_collapse("/\x01", 2, out, 6), 5);
	assert_string_equal(out, "/\\x01");
	assert_int_equal(accesslog_collapse("/abcdef", 7, out, 4), 3);
	assert_string_equal(out, "/ab");
	memset(out, '#', sizeof(out));
	assert_int_equal(accesslog_collapse("/abc", 4, out, 0), 0);
	assert_int_equal(out[0], '#');
}

static void test_format(void **state)
{
	static const char want[] = "[2026-01-01T00:00:00.000Z] GET /api/rooms/:id/*\n";
	static const char path[] = "/api/rooms/ROOM2345/events";
	char out[256];
	size_t n;

	n = accesslog_format(out, sizeof(out), 1767225600000, "GET", path, sizeof(path) - 1);
	assert_int_equal(n, sizeof(want) - 1);
	assert_string_equal(out, want);
	/* INV-4: no room id in the line. */
	assert_null(strstr(out, "ROOM2345"));
	/* Milliseconds and other methods. */
	n = accesslog_format(out, sizeof(out), 1767225600123 + 86400000, "POST", "/api/dm/bob",
			     11);
	assert_string_equal(out, "[2026-01-02T00:00:00.123Z] POST /api/dm/:handle/*\n");
	assert_int_equal(n, strlen(out));
	n = accesslog_format(out, sizeof(out), 1767225600000, "GET", "/api/health", 11);
	assert_string_equal(out, "[2026-01-01T00:00:00.000Z] GET /api/health\n");
	assert_int_equal(n, strlen(out));
	/* A control character in the method is escaped too. */
	n = accesslog_format(out, sizeof(out), 1767225600000, "G\nT", "/", 1);
	assert_string_equal(out, "[2026-01-01T00:00:00.000Z] G\\x0aT /\n");
	assert_int_equal(n, strlen(out));
}

static void test_format_truncation(void **state)
{
	char out[64];

	/* "[ISO] GET " is 31 bytes; with "\n" and NUL the minimum is 33 for "GET". */
	assert_int_equal(accesslog_format(out, 32, 1767225600000, "GET", "/api/health", 11), 0);
	assert_int_equal(accesslog_format(out, 33, 1767225600000, "GET", "/api/health", 11), 32);
	assert_string_equal(out, "[2026-01-01T00:00:00.000Z] GET \n");
	assert_int_equal(accesslog_format(out, 38, 1767225600000, "GET", "/api/health", 11), 37);
	assert_string_equal(out, "[2026-01-01T00:00:00.000Z] GET /api/\n");
}

/* One write(2) per line, readable back exactly. */
static void test_emit(void **state)
{
	static const char want[] = "[2026-01-01T00:00:00.000Z] DELETE /api/dm/:handle/*\n";
	char buf[256];
	int fds[2];
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(accesslog_emit(fds[1], 1767225600000, "DELETE",
					"/api/dm/alice/inbox/859975e8", 28),
			 0);
	n = read(fds[0], buf, sizeof(buf));
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);
	close(fds[0]);
	close(fds[1]);
	/* A failed write is reported (EBADF here), not swallowed. */
	assert_int_equal(accesslog_emit(fds[1], 0, "GET", "/", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collapse),
		cmocka_unit_test(test_collapse_truncation),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_truncation),
		cmocka_unit_test(test_emit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
