/* config — every relay setting, from flags, environment and defaults (PROTOCOL.md §16).
 *
 * CFG-1: each setting is an environment variable NAME and a flag --name (lower-case, '-' for
 * '_'), flag > environment > default. CFG-2: a malformed or negative value stops start-up with
 * a message naming the setting. The table in config.c is the single list of settings; --help
 * is generated from it. All caps and protocol limits live here, named after their rule.
 */
#ifndef SEALROOM_RELAY_CONFIG_H
#define SEALROOM_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config {
	char host[256];                  /* HOST */
	int64_t port;                    /* PORT; 0 = pick a free port */
	int64_t rooms_max;               /* CAP-5 */
	int64_t room_global_max_bytes;   /* CAP-6 */
	int64_t inbox_global_max_bytes;  /* CAP-7 */
	int64_t stream_cap_per_ip;       /* CAP-1 */
	int64_t waiter_cap_per_ip;       /* CAP-2 */
	int64_t room_waiters_max;        /* CAP-3 */
	int64_t dm_waiters_max_per_handle; /* CAP-4 */
	int64_t global_rl_cap;           /* RL-3 */
	double global_rl_refill_per_sec; /* RL-3 */
	int64_t room_rl_cap;             /* RL-2 */
	double room_rl_refill_per_sec;   /* RL-2 */
	int64_t register_sig_seen_max;   /* CAP-12 */
	int64_t inbox_sig_seen_max;
	int64_t room_sig_seen_max;
	int64_t dm_env_seen_max;
	int64_t room_cursors_per_handle_max; /* CAP-11 */
	int64_t claim_ttl_ms;            /* NUM-4 default */
	int64_t identities_max;          /* CAP-8 */
	char identity_admin_token[256];  /* ID-REG-3 */
	char metrics_token[256];         /* MET-1 */
	int64_t state_file_max;          /* STATE-3 */
	char state_dir[1024];            /* STATE-1 */
	char bugs_log[1024];             /* RPT-4 */
	int64_t bugs_log_max_bytes;
	char bugs_ip_salt[256];          /* RPT-3; random per start when empty */
	char source_url[1024];           /* META-3 */
	int64_t recent_max;              /* CAP-9 */
	int64_t recent_ttl_ms;
	int64_t inbox_max;               /* CAP-10 */
	int64_t inbox_ttl_ms;
	int64_t json_body_max_bytes;     /* HTTP-14 */
	int64_t ws_max_payload_bytes;    /* WS-4 */
	int64_t listeners_max_per_room;  /* CAP-13 */
	int64_t sub_backlog_max_bytes;   /* CAP-14 */
	/* Operational settings of this implementation (not protocol constants). */
	int64_t worker_threads;          /* civetweb workers = long-lived connection budget */
	int64_t worker_reserve;          /* workers kept for short requests (DESIGN.md 1) */
	int64_t evict_grace_ms;          /* ROOM-3's 30 s grace; lowered only by tests */
	int64_t janitor_interval_ms;     /* ROOM-3's 15 s tick; lowered only by tests */
	int64_t keepalive_ms;            /* SSE-11's 15 s; lowered only by tests */
	int64_t access_log;              /* LOG-1; 0 disables (benchmarks only) */
	char inject_fault[64];           /* conformance self-test builds only */
};

/* Fill cfg from defaults, then the environment (envp, NULL-terminated "NAME=value"), then
 * argv. Returns 0 on success, 1 if --help or --version was printed to out, or -1 after
 * printing an error naming the bad setting to err (the caller exits 2). */
int config_load(struct config *cfg, int argc, char **argv, char **envp, FILE *out, FILE *err);

/* Print the --help text (every setting with its flag, variable and default). */
void config_usage(FILE *out);

#endif
