/* opts — the command-line flags every sealroom-soak scenario shares, and the list of loopback
 * source addresses load is spread over (DESIGN.md "Clients": per-IP caps of any relay).
 *
 * Each scenario declares which common flags apply to it (OPT_* bits); a flag that does not
 * apply is a usage error, so nothing is silently ignored. Scenario-specific flags are handled
 * by the scenario through the `extra` callback. Nothing here blocks; not thread-safe (parsing
 * happens on the main thread before any worker starts).
 */
#ifndef SEALROOM_SOAK_OPTS_H
#define SEALROOM_SOAK_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of every subcommand (the CI smoke relies on them). */
#define SOAK_EXIT_OK 0
#define SOAK_EXIT_FAIL 1  /* the scenario ran but missed its exact counts (or could not run) */
#define SOAK_EXIT_USAGE 2 /* bad command line */

/* Hard cap on the number of source addresses (a /16 worth). */
#define SRCIPS_MAX 65536

/* A list of local IPv4 source addresses, e.g. from "127.0.0.2-127.0.1.250". Owns ips[]. */
struct srcips {
	char (*ips)[16]; /* n dotted-quad strings, NUL-terminated */
	size_t n;
};

/* Parse spec into *out: comma-separated items, each an IPv4 address or an inclusive range
 * "A-B" (A <= B). Returns 0, or -1 with a reason in err[errcap] (out untouched). An empty
 * spec gives an empty list (n = 0, ips NULL). At most SRCIPS_MAX addresses. */
int srcips_parse(const char *spec, struct srcips *out, char *err, size_t errcap);

/* The address client number i binds to (round-robin), or NULL when the list is empty (the
 * kernel then picks 127.0.0.1 for a loopback relay). Valid while the list lives. */
const char *srcips_pick(const struct srcips *s, uint64_t i);

void srcips_free(struct srcips *s);

/* Common flags (bits of soak_scenario_desc.common). */
#define OPT_RATE (1u << 0)
#define OPT_DURATION (1u << 1)
#define OPT_SOURCE_IPS (1u << 2)
#define OPT_TRANSPORT (1u << 3)
#define OPT_SIGNED (1u << 4)

struct soak_opts {
	char base[512];		/* --base, no trailing slash (http://127.0.0.1:3000) */
	const char *json_path;	/* --json FILE or NULL (points into argv) */
	struct srcips ips;	/* --source-ips */
	double rate;		/* --rate (scenario-defined unit), 0 = closed loop */
	double duration_s;	/* --duration seconds, 0 = scenario default */
	int relay_pid;		/* --relay-pid, 0 = unknown */
	const char *transport;	/* --transport sse|ws|longpoll|all, NULL = scenario default */
	bool is_signed;		/* --signed: sign room messages (registers identities) */
	bool quiet;		/* --quiet: no progress line */
	const char *name;	/* --name: the result's name (bundle key), default the scenario */
	double timeout_s;	/* --timeout: drain/connect deadline, default 30 */
	size_t size;		/* --size: plaintext bytes per message, default 64 */
};

/* Handler for a scenario's own flags (those listed in soak_cmd.flags): name is the flag
 * without "--"; value is its value ("--name=value" or the next argument) when the flag takes
 * one, else NULL. Returns 0, or -1 for a bad value after printing why. */
typedef int (*soak_extra_fn)(void *ud, const char *name, const char *value);

struct soak_flag {
	const char *name;	/* without "--" */
	bool takes_value;
};

struct soak_cmd {
	const char *name;		/* subcommand, e.g. "rooms" */
	const char *usage;		/* the subcommand's own --help text (flags it adds) */
	unsigned common;		/* OPT_* bits this subcommand accepts */
	const struct soak_flag *flags;	/* its own flags, terminated by { NULL } */
	soak_extra_fn extra;
	void *ud;
};

/* Parse argv (argv[0] is the subcommand name) into *o with the common defaults. Prints
 * --help (the common part, then cmd->usage) to stdout and returns 1 for --help; returns -1
 * after printing a usage error to stderr; 0 on success. */
int soak_opts_parse(struct soak_opts *o, const struct soak_cmd *cmd, int argc, char **argv);

void soak_opts_free(struct soak_opts *o);

/* Helpers for scenario flag handlers: parse a positive integer / non-negative double.
 * Print "sealroom-soak CMD: --NAME: bad value" and return -1 on failure. */
int soak_parse_u32(const char *cmd, const char *name, const char *v, uint32_t min, uint32_t max,
		   uint32_t *out);
int soak_parse_double(const char *cmd, const char *name, const char *v, double min, double max,
		      double *out);

/* Raise RLIMIT_NOFILE's soft limit to its hard limit. Returns the resulting soft limit, or -1
 * if getrlimit fails. */
long soak_raise_nofile(void);

#endif
