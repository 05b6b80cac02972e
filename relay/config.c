#include "config.h"

#include "fault.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_INT, K_RATE, K_STR, K_PORT };

struct setting {
	const char *name; /* environment variable; the flag is derived from it */
	enum kind kind;
	size_t off;
	size_t size;      /* K_STR buffer size */
	const char *dflt;
	const char *help;
};

#define INT(n, f, d, h) {n, K_INT, offsetof(struct config, f), 0, d, h}
#define RATE(n, f, d, h) {n, K_RATE, offsetof(struct config, f), 0, d, h}
#define STR(n, f, d, h) {n, K_STR, offsetof(struct config, f), sizeof(((struct config *)0)->f), d, h}

static const struct setting settings[] = {
	STR("HOST", host, "0.0.0.0", "listen address (HTTP-1)"),
	{"PORT", K_PORT, offsetof(struct config, port), 0, "3000", "listen port; 0 picks a free one and prints it"},
	INT("ROOMS_MAX", rooms_max, "5000", "rooms held at once (CAP-5)"),
	INT("ROOM_GLOBAL_MAX_BYTES", room_global_max_bytes, "536870912", "byte fuse over all room buffers (CAP-6)"),
	INT("INBOX_GLOBAL_MAX_BYTES", inbox_global_max_bytes, "536870912", "byte fuse over all DM inboxes (CAP-7)"),
	INT("STREAM_CAP_PER_IP", stream_cap_per_ip, "32", "open SSE+WS streams per IP (CAP-1)"),
	INT("WAITER_CAP_PER_IP", waiter_cap_per_ip, "16", "parked waits/claims/inbox waits per IP (CAP-2)"),
	INT("ROOM_WAITERS_MAX", room_waiters_max, "256", "parked waits and claims per room (CAP-3)"),
	INT("DM_WAITERS_MAX_PER_HANDLE", dm_waiters_max_per_handle, "64", "inbox waits per handle (CAP-4)"),
	INT("GLOBAL_RL_CAP", global_rl_cap, "600", "global per-IP bucket size (RL-3)"),
	RATE("GLOBAL_RL_REFILL_PER_SEC", global_rl_refill_per_sec, "200", "global per-IP refill rate (RL-3)"),
	INT("ROOM_RL_CAP", room_rl_cap, "300", "per-key bucket size (RL-2)"),
	RATE("ROOM_RL_REFILL_PER_SEC", room_rl_refill_per_sec, "100", "per-key refill rate (RL-2)"),
	INT("REGISTER_SIG_SEEN_MAX", register_sig_seen_max, "250000", "register replay cache (CAP-12)"),
	INT("INBOX_SIG_SEEN_MAX", inbox_sig_seen_max, "250000", "request-auth replay cache (CAP-12)"),
	INT("ROOM_SIG_SEEN_MAX", room_sig_seen_max, "250000", "room signature replay cache (CAP-12)"),
	INT("DM_ENV_SEEN_MAX", dm_env_seen_max, "250000", "DM envelope replay cache (CAP-12)"),
	INT("ROOM_CURSORS_PER_HANDLE_MAX", room_cursors_per_handle_max, "64", "claim cursors per handle (CAP-11)"),
	INT("CLAIM_TTL_MS", claim_ttl_ms, "60000", "default claim lease (NUM-4)"),
	INT("IDENTITIES_MAX", identities_max, "100000", "registered identities (CAP-8)"),
	STR("IDENTITY_ADMIN_TOKEN", identity_admin_token, "", "operator token for reserved handles (ID-REG-3)"),
	STR("METRICS_TOKEN", metrics_token, "", "bearer token for /metrics; unset disables (MET-2)"),
	INT("STATE_FILE_MAX", state_file_max, "67108864", "largest identities.json loaded (STATE-3)"),
	STR("STATE_DIR", state_dir, "", "directory for identities.json; unset keeps identities in memory (STATE-1)"),
	STR("BUGS_LOG", bugs_log, "", "bug-report log file; unset discards reports (RPT-4)"),
	INT("BUGS_LOG_MAX_BYTES", bugs_log_max_bytes, "5242880", "bug log rotation size (RPT-4)"),
	STR("BUGS_IP_SALT", bugs_ip_salt, "", "salt for bug-report IP hashes; random per start when unset (RPT-3)"),
	STR("SOURCE_URL", source_url, "", "source URL shown in /api/status (META-3)"),
	INT("RECENT_MAX", recent_max, "2000", "messages kept per room (CAP-9)"),
	INT("RECENT_TTL_MS", recent_ttl_ms, "86400000", "message age limit (CAP-9)"),
	INT("INBOX_MAX", inbox_max, "256", "envelopes kept per inbox (CAP-10)"),
	INT("INBOX_TTL_MS", inbox_ttl_ms, "604800000", "envelope age limit (CAP-10)"),
	INT("JSON_BODY_MAX_BYTES", json_body_max_bytes, "196608", "largest JSON request body (HTTP-14)"),
	INT("WS_MAX_PAYLOAD_BYTES", ws_max_payload_bytes, "262144", "largest inbound WebSocket message (WS-4)"),
	INT("LISTENERS_MAX_PER_ROOM", listeners_max_per_room, "1024", "heartbeat names per room (CAP-13)"),
	INT("SUB_BACKLOG_MAX_BYTES", sub_backlog_max_bytes, "268435456", "per-subscriber backlog before it is closed (CAP-14)"),
	INT("WORKER_THREADS", worker_threads, "1024", "civetweb worker threads: the connection budget"),
	INT("WORKER_RESERVE", worker_reserve, "64", "workers kept free for short requests; beyond, streams get 503"),
	INT("EVICT_GRACE_MS", evict_grace_ms, "30000", "idle room grace before eviction (ROOM-3; tests only)"),
	INT("JANITOR_INTERVAL_MS", janitor_interval_ms, "15000", "janitor period (ROOM-3; tests only)"),
	INT("KEEPALIVE_MS", keepalive_ms, "15000", "SSE keepalive period (SSE-11; tests only)"),
	INT("ACCESS_LOG", access_log, "1", "1 writes the LOG-1 access log to stdout, 0 disables it"),
#ifdef SEALROOM_FAULTS
	STR("INJECT_FAULT", inject_fault, "", "deliberate protocol fault for conformance self-tests"),
#endif
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static void flag_of(const char *name, char *out, size_t cap)
{
	size_t i = 0;
	for (; name[i] && i + 1 < cap; i++)
		out[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	out[i] = '\0';
}

static int set_value(struct config *cfg, const struct setting *s, const char *v, const char *src, FILE *err)
{
	char *p = (char *)cfg + s->off;
	char *end;
	switch (s->kind) {
	case K_STR:
		if (strlen(v) >= s->size) {
			fprintf(err, "sealroom-relay: %s (%s): value longer than %zu bytes\n", s->name, src, s->size - 1);
			return -1;
		}
		strcpy(p, v);
		return 0;
	case K_INT:
	case K_PORT: {
		errno = 0;
		if (!*v || isspace((unsigned char)*v))
			goto bad;
		long long x = strtoll(v, &end, 10);
		if (errno || *end || x < 0)
			goto bad;
		if (s->kind == K_PORT && x > 65535)
			goto bad;
		*(int64_t *)p = x;
		return 0;
	}
	case K_RATE: {
		errno = 0;
		if (!*v || isspace((unsigned char)*v))
			goto bad;
		double x = strtod(v, &end);
		if (errno || *end || !isfinite(x) || x < 0)
			goto bad;
		*(double *)p = x;
		return 0;
	}
	}
bad:
	fprintf(err, "sealroom-relay: %s (%s): '%s' is not a valid %s\n", s->name, src, v,
		s->kind == K_RATE ? "non-negative number" :
		s->kind == K_PORT ? "port (0-65535)" : "non-negative integer");
	return -1;
}

void config_usage(FILE *out)
{
	fprintf(out,
		"Usage: sealroom-relay [--name=value ...]\n"
		"\n"
		"sealroom-relay routes end-to-end-encrypted chat room traffic: it never sees plaintext,\n"
		"keeps rooms in memory and writes only the identity registry and the optional bug log.\n"
		"Every setting is a flag and an environment variable; flag > environment > default.\n"
		"\n"
		"  -h, --help      this text\n"
		"  --version       print the version and exit\n"
		"\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		char flag[64];
		flag_of(settings[i].name, flag, sizeof(flag));
		fprintf(out, "  --%-29s %s\n  %-31s env %s, default %s\n", flag, settings[i].help, "",
			settings[i].name, *settings[i].dflt ? settings[i].dflt : "(unset)");
	}
}

static const struct setting *find_flag(const char *arg, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		char flag[64];
		flag_of(settings[i].name, flag, sizeof(flag));
		if (strlen(flag) == len && memcmp(flag, arg, len) == 0)
			return &settings[i];
	}
	return NULL;
}

int config_load(struct config *cfg, int argc, char **argv, char **envp, FILE *out, FILE *err)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NSETTINGS; i++)
		if (set_value(cfg, &settings[i], settings[i].dflt, "default", err))
			return -1;
	for (size_t i = 0; i < NSETTINGS; i++) {
		size_t nl = strlen(settings[i].name);
		for (char **e = envp; e && *e; e++) {
			if (strncmp(*e, settings[i].name, nl) == 0 && (*e)[nl] == '=') {
				if (set_value(cfg, &settings[i], *e + nl + 1, "environment", err))
					return -1;
			}
		}
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			config_usage(out);
			return 1;
		}
		if (!strcmp(a, "--version")) {
			fprintf(out, "sealroom-relay %s (commit %s)\n", SEALROOM_VERSION, SEALROOM_COMMIT);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(err, "sealroom-relay: unexpected argument '%s' (see --help)\n", a);
			return -1;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const struct setting *s = find_flag(name, nlen);
		if (!s) {
			fprintf(err, "sealroom-relay: unknown flag '--%.*s' (see --help)\n", (int)nlen, name);
			return -1;
		}
		const char *v = eq ? eq + 1 : NULL;
		if (!v) {
			if (i + 1 >= argc) {
				fprintf(err, "sealroom-relay: %s: flag --%.*s needs a value\n", s->name, (int)nlen, name);
				return -1;
			}
			v = argv[++i];
		}
		if (set_value(cfg, s, v, "flag", err))
			return -1;
	}
	if (cfg->worker_reserve >= cfg->worker_threads || cfg->worker_threads < 8) {
		fprintf(err, "sealroom-relay: WORKER_THREADS must be >= 8 and greater than WORKER_RESERVE\n");
		return -1;
	}
#ifdef SEALROOM_FAULTS
	if (cfg->inject_fault[0]) {
		int f = fault_parse(cfg->inject_fault);
		if (f <= 0) {
			fprintf(err, "sealroom-relay: INJECT_FAULT: unknown fault '%s'\n", cfg->inject_fault);
			return -1;
		}
		fault_active = (enum fault)f;
	}
#endif
	if (cfg->janitor_interval_ms < 10 || cfg->keepalive_ms < 10) {
		fprintf(err, "sealroom-relay: JANITOR_INTERVAL_MS and KEEPALIVE_MS must be >= 10\n");
		return -1;
	}
	return 0;
}
