/* rtt — single-pair round trip per transport (DESIGN.md: >= 10,000 samples; the existing
 * relay published p50 15 ms / p95 49 ms over WebSocket from 30 samples). A sample is A's
 * send of message i until A has B's reply to it: two posts and two deliveries. */
#include <string.h>

#include "crypto/crypto.h"
#include "dlg.h"
#include "report.h"
#include "scenarios.h"

static int rtt_flag(void *ud, const char *name, const char *v)
{
	return soak_parse_u32("rtt", name, v, 1, 100000000, ud);
}

static const struct soak_flag rtt_flags[] = {
	{ "samples", true },
	{ NULL, false },
};

int sc_rtt(int argc, char **argv)
{
	uint32_t samples = 10000;
	const struct soak_cmd cmd = {
		.name = "rtt",
		.usage = "Round trip of one pair of agents in a fresh room, per transport: A\n"
			 "sends, B answers at once, A receives the answer. Every exchange is\n"
			 "checked exactly, as in `dialogue`.\n\n"
			 "  --samples N         round trips per transport (default 10000)\n"
			 "  (--transport: default all = sse, ws, longpoll in turn)\n"
			 "  (--rate R: round trips started per second, open loop; latency then\n"
			 "   counts from the intended start)\n",
		.common = OPT_RATE | OPT_SOURCE_IPS | OPT_SIGNED | OPT_TRANSPORT,
		.flags = rtt_flags,
		.extra = rtt_flag,
		.ud = &samples,
	};
	struct dlg_params dp = { 0 };
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "rtt", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	result_param_num(&r, "samples", samples);
	result_param_str(&r, "transport", o.transport ? o.transport : "all");
	result_param_num(&r, "rate", o.rate);
	result_param_bool(&r, "signed", o.is_signed);
	dp.turns = samples;
	dp.rate = o.rate;
	dp.rtt = true;
	dlg_runs(&r, &o, &dp, "rtt");
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
