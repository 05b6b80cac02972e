/* dialogue — a T-turn bidirectional dialogue between two agents over SSE, WebSocket and
 * long-poll (DESIGN.md: 200 turns, 400/400 in order, 0 dupes). Latency is one-way, from a
 * message's send to the other agent having it. */
#include <string.h>

#include "crypto/crypto.h"
#include "dlg.h"
#include "report.h"
#include "scenarios.h"

struct dialogue_args {
	uint32_t turns, reconnect_every;
};

static int dialogue_flag(void *ud, const char *name, const char *v)
{
	struct dialogue_args *a = ud;

	if (strcmp(name, "turns") == 0)
		return soak_parse_u32("dialogue", name, v, 1, 10000000, &a->turns);
	return soak_parse_u32("dialogue", name, v, 0, 10000000, &a->reconnect_every);
}

static const struct soak_flag dialogue_flags[] = {
	{ "turns", true },
	{ "reconnect-every", true },
	{ NULL, false },
};

int sc_dialogue(int argc, char **argv)
{
	struct dialogue_args a = { .turns = 200, .reconnect_every = 0 };
	const struct soak_cmd cmd = {
		.name = "dialogue",
		.usage = "Two agents in a fresh room: A sends message i, B answers it, T times,\n"
			 "per transport. Exact: each side gets all of the other's messages once\n"
			 "and in order (2T), and (sse, ws) its own back too (ROOM-16).\n\n"
			 "  --turns T           turns (default 200)\n"
			 "  --reconnect-every N B drops and resumes its stream with after=\n"
			 "                      every N turns (SSE-6, WS-6; default 0 = never)\n"
			 "  (--transport: default all = sse, ws, longpoll in turn)\n"
			 "  (--rate R: turns per second, open loop; default as fast as possible)\n",
		.common = OPT_RATE | OPT_SOURCE_IPS | OPT_SIGNED | OPT_TRANSPORT,
		.flags = dialogue_flags,
		.extra = dialogue_flag,
		.ud = &a,
	};
	struct dlg_params dp = { 0 };
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "dialogue", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	result_param_num(&r, "turns", a.turns);
	result_param_num(&r, "reconnect_every", a.reconnect_every);
	result_param_str(&r, "transport", o.transport ? o.transport : "all");
	result_param_num(&r, "rate", o.rate);
	result_param_bool(&r, "signed", o.is_signed);
	dp.turns = a.turns;
	dp.rate = o.rate;
	dp.reconnect_every = a.reconnect_every;
	dlg_runs(&r, &o, &dp, "dialogue");
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
