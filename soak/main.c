/* sealroom-soak — load and soak drivers for any sealroom-compatible relay, and `compare` for
 * tracking their JSON results across commits (DESIGN.md "Soak scenarios"). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "report.h"
#include "scenarios.h"

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
};

static const struct subcmd subcmds[] = {
	{ "rooms", sc_rooms, "N rooms x M messages, one SSE subscriber per room (50 x 200)" },
	{ "fanout", sc_fanout, "1 room, A agents subscribed and each sending K (50 x 50)" },
	{ "dialogue", sc_dialogue, "T-turn two-agent dialogue over sse, ws, longpoll (200)" },
	{ "rtt", sc_rtt, "single-pair round trip per transport (10,000 samples)" },
	{ "dm", sc_dm, "S senders x D signed DMs to one inbox, verified (20 x 25)" },
	{ "connections", sc_connections,
	  "C SSE subscribers over R rooms, one broadcast (10,000/100)" },
	{ "soak", sc_soak, "mixed long run: churning rooms and transports, drift per interval" },
	{ "post", sc_post, "POST rate over C keep-alive connections, no subscribers (32)" },
	{ "compare", sc_compare, "compare two --json results; exit 1 on a regression" },
	{ "bundle", sc_bundle, "gather --json results into one file (e.g. soak/baseline.json)" },
	{ "check", sc_check, "assert exact values in a --json result (CI smoke)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sealroom-soak SUBCOMMAND [flags]   (sealroom-soak SUBCOMMAND --help)\n\n"
		   "Load and soak drivers for any sealroom-compatible relay (--base URL),\n"
		   "with real sealed messages and signatures and exact delivery accounting.\n\n");
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++)
		fprintf(f, "  %-12s %s\n", subcmds[i].name, subcmds[i].what);
	fprintf(f, "\nExit status: 0 ok, 1 the scenario missed its exact counts (compare: a\n"
		   "regression), 2 usage error.\n");
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return SOAK_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return SOAK_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("sealroom-soak %s\n", SOAK_VERSION);
		return SOAK_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(subcmds) / sizeof(subcmds[0]); i++) {
		if (strcmp(argv[1], subcmds[i].name) == 0)
			return subcmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "sealroom-soak: unknown subcommand '%s'\n\n", argv[1]);
	usage(stderr);
	return SOAK_EXIT_USAGE;
}
