/* fanout — one room, A agents each subscribed over SSE and each sending K messages
 * (DESIGN.md: 50 x 50 = 125,000 deliveries; the existing relay's 4,747 delivered msg/s per
 * room, p99 161 ms). Closed loop at maximum rate, or --rate R per agent (open loop, latency
 * from the intended send time). */
#include <string.h>

#include "bcast.h"
#include "crypto/crypto.h"
#include "report.h"
#include "scenarios.h"

struct fanout_args {
	uint32_t agents, messages;
};

static int fanout_flag(void *ud, const char *name, const char *v)
{
	struct fanout_args *a = ud;

	if (strcmp(name, "agents") == 0)
		return soak_parse_u32("fanout", name, v, 1, 2000, &a->agents);
	return soak_parse_u32("fanout", name, v, 1, 1000000, &a->messages);
}

static const struct soak_flag fanout_flags[] = {
	{ "agents", true },
	{ "messages", true },
	{ NULL, false },
};

int sc_fanout(int argc, char **argv)
{
	struct fanout_args a = { .agents = 50, .messages = 50 };
	const struct soak_cmd cmd = {
		.name = "fanout",
		.usage = "One room, A agents each subscribed over SSE and each posting K sealed\n"
			 "messages: A*A*K deliveries. Exact: every agent gets every accepted\n"
			 "message once, in seq order (ROOM-16: the poster's own copy\n"
			 "included).\n\n"
			 "  --agents A          agents (default 50)\n"
			 "  --messages K        messages per agent (default 50)\n"
			 "  (--rate R: messages/s per agent, open loop; default closed loop)\n",
		.common = OPT_RATE | OPT_SOURCE_IPS | OPT_SIGNED,
		.flags = fanout_flags,
		.extra = fanout_flag,
		.ud = &a,
	};
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "fanout", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	result_param_num(&r, "agents", a.agents);
	result_param_num(&r, "messages", a.messages);
	result_param_num(&r, "rate", o.rate);
	result_param_bool(&r, "signed", o.is_signed);
	const struct bcast_params bp = {
		.name = "fanout",
		.rooms = 1,
		.subs_per_room = a.agents,
		.agents_per_room = a.agents,
		.per_agent = a.messages,
		.poster_threads = a.agents,
		.cache = true,
	};
	bcast_run(&r, &o, &bp);
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
