/* accesslog — LOG-1..LOG-3 access-log lines. See accesslog.h. */
#include "accesslog.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "proto/clock.h"

/* LOG-2, first match wins. */
static const struct {
	const char *prefix;
	const char *collapsed;
} log_rules[] = {
	{ "/api/rooms/", "/api/rooms/:id/*" },
	{ "/room/", "/room/:id" },
	{ "/api/dm/", "/api/dm/:handle/*" },
	{ "/api/identity/", "/api/identity/:handle" },
	{ "/@", "/@handle" },
};

/*
 * Appends s (len bytes) to out[*o..cap-1), escaping controls and DEL as \xHH; stops before a
 * byte or escape that would not fit. Leaves room for the NUL at out[cap - 1].
 */
static void put_escaped(char *out, size_t cap, size_t *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			if (cap - *o < 5)
				return;
			out[(*o)++] = '\\';
			out[(*o)++] = 'x';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		} else {
			if (cap - *o < 2)
				return;
			out[(*o)++] = (char)c;
		}
	}
}

size_t accesslog_collapse(const char *path, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap == 0)
		return 0;
	if (!path)
		len = 0;
	for (i = 0; i < sizeof(log_rules) / sizeof(log_rules[0]); i++) {
		size_t plen = strlen(log_rules[i].prefix);

		if (path && len >= plen && memcmp(path, log_rules[i].prefix, plen) == 0) {
			/* LOG-3/INV-4: the id or handle after the prefix is never written. */
			size_t clen = strlen(log_rules[i].collapsed);

			if (clen > cap - 1)
				clen = cap - 1;
			memcpy(out, log_rules[i].collapsed, clen);
			out[clen] = '\0';
			return clen;
		}
	}
	put_escaped(out, cap, &o, path, len);
	out[o] = '\0';
	return o;
}

size_t accesslog_format(char *out, size_t cap, int64_t now_ms, const char *method,
			const char *path, size_t pathlen)
{
	char iso[25];
	size_t o = 0, mlen = method ? strlen(method) : 0;

	/* "[" ISO(24) "] " METHOD " " path "\n" NUL: everything but the path needs 30 + mlen. */
	if (cap < 30 + mlen)
		return 0;
	clock_iso8601(now_ms, iso);
	out[o++] = '[';
	memcpy(out + o, iso, 24);
	o += 24;
	out[o++] = ']';
	out[o++] = ' ';
	/* An escaped method may be cut, but " ", "\n" and the NUL always fit. */
	put_escaped(out, cap - 2, &o, method ? method : "", mlen);
	out[o++] = ' ';
	o += accesslog_collapse(path, pathlen, out + o, cap - o - 1);
	out[o++] = '\n';
	out[o] = '\0';
	return o;
}

int accesslog_emit(int fd, int64_t now_ms, const char *method, const char *path, size_t pathlen)
{
	char line[ACCESSLOG_LINE_MAX];
	size_t n = accesslog_format(line, sizeof(line), now_ms, method, path, pathlen);
	ssize_t w;

	if (n == 0)
		return -1;
	/* One write per line: concurrent requests never interleave within a line. */
	do {
		w = write(fd, line, n);
	} while (w < 0 && errno == EINTR);
	return w == (ssize_t)n ? 0 : -1;
}
