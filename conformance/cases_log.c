/* log.* — PROTOCOL.md §2.4: the access log. It is the relay's stdout, not observable over the
 * network: pass --relay-log FILE (where the relay's stdout goes) to check it. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char tmp[65536];

	if (!f)
		return NULL;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (len + n + 1 > cap) {
			char *nb;

			cap = (len + n + 1) * 2;
			nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		memcpy(buf + len, tmp, n);
		len += n;
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Poll the log until it contains needle (the relay writes on arrival; stdout may buffer). */
static char *wait_for(struct conf_run *r, const char *needle, long ms)
{
	int64_t deadline = conf_now() + ms;

	for (;;) {
		char *text = slurp(r->ctx->o.relay_log);

		if (text && strstr(text, needle))
			return text;
		if (conf_now() > deadline)
			return text;
		free(text);
		usleep(50000);
	}
}

static bool need_log(struct conf_run *r)
{
	if (!r->ctx->o.relay_log) {
		conf_info(r, "not observable remotely: pass --relay-log FILE (the relay's stdout)");
		return false;
	}
	return true;
}

/* LOG-1, LOG-2, LOG-3, INV-4: one collapsed line per request, nothing identifying. */
static void c_access(struct conf_run *r)
{
	/* target = pre + <marker> + mid + <secret> */
	static const struct {
		const char *method, *pre, *mid, *line;
	} t[] = {
		{ "GET", "/api/rooms/", "/status?secret=", "] GET /api/rooms/:id/*\n" },
		{ "GET", "/room/", "?q=", "] GET /room/:id\n" },
		{ "GET", "/api/dm/cf", "/inbox/wait?after=", "] GET /api/dm/:handle/*\n" },
		{ "GET", "/api/identity/", "?x=", "] GET /api/identity/:handle\n" },
		{ "GET", "/@", "?x=", "] GET /@handle\n" },
	};
	char marker[24], secret[24], target[200], room[16], *text;
	size_t i;
	regex_t re;
	struct ws_conn *w = NULL;

	if (!need_log(r))
		return;
	conf_room_id(room);
	snprintf(marker, sizeof(marker), "%s", room);
	conf_room_id(secret);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;

		snprintf(target, sizeof(target), "%s%s%s%s", t[i].pre, marker, t[i].mid, secret);
		if (conf_req(r, t[i].method, target, NULL, NULL, 0, &resp) == 0)
			conf_resp_free(&resp);
	}
	snprintf(target, sizeof(target), "/api/rooms/%s/ws", marker);
	if (conf_ws(r, target, NULL, &w, NULL, NULL) == 0)
		ws_free(w);
	{
		/* A sentinel request last: once it is logged, all of the above are. */
		struct conf_resp resp;
		char sentinel[64];

		snprintf(sentinel, sizeof(sentinel), "/conformance-sentinel-%s", secret);
		if (conf_get(r, sentinel, &resp) == 0)
			conf_resp_free(&resp);
		text = wait_for(r, sentinel, conf_ms(r, 5000));
	}
	if (!conf_check(r, text != NULL, 0, "LOG-1: the access log is readable"))
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		conf_check(r, strstr(text, t[i].line) != NULL, 0, "LOG-2: \"%s<x>%s\" is logged as \"%.*s\"",
			   t[i].pre, t[i].mid, (int)strlen(t[i].line) - 3, t[i].line + 2);
	conf_check(r, strstr(text, marker) == NULL, 0,
		   "LOG-1/LOG-3/INV-4: no room id or handle appears in the log (WS upgrades included)");
	conf_check(r, strstr(text, "secret=") == NULL && strstr(text, "?x=") == NULL, 0,
		   "LOG-1/INV-4: no query strings in the log");
	conf_check(r, !r->ip[0] || strstr(text, r->ip) == NULL, 0, "LOG-1/INV-4: no client address");
	if (regcomp(&re, "^\\[[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z\\] GET "
			 "/conformance-sentinel-",
		    REG_EXTENDED | REG_NEWLINE | REG_NOSUB) == 0) {
		conf_check(r, regexec(&re, text, 0, NULL, 0) == 0, 0,
			   "LOG-1: \"[<ISO-8601 UTC with ms>] <METHOD> <path>\"");
		regfree(&re);
	}
	free(text);
}

/* LOG-5 (SHOULD). */
static void c_listening(struct conf_run *r)
{
	char *text;

	if (!need_log(r))
		return;
	text = slurp(r->ctx->o.relay_log);
	conf_check(r, text && strstr(text, "sealroom listening on http://"), 0,
		   "LOG-5: \"sealroom listening on http://<HOST>:<PORT>\" once the listener is ready");
	free(text);
}

const struct conf_case conf_cases_log[] = {
	{ "log.access", "LOG-1 LOG-2 LOG-3 INV-4", CONF_MUST, 0,
	  "one collapsed line per request, nothing identifying (needs --relay-log)", c_access },
	{ "log.listening", "LOG-5", CONF_SHOULD, 0,
	  "the listening line (needs --relay-log)", c_listening },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
