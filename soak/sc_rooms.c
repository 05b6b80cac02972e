/* rooms — N rooms x M messages, one SSE subscriber per room (DESIGN.md "Soak scenarios": the
 * existing relay's 50 x 200 = 10,000 messages, 0 drops, 0 decrypt failures). */
#include <string.h>

#include "bcast.h"
#include "crypto/crypto.h"
#include "report.h"
#include "scenarios.h"

struct rooms_args {
	uint32_t rooms, messages, posters;
};

static int rooms_flag(void *ud, const char *name, const char *v)
{
	struct rooms_args *a = ud;

	if (strcmp(name, "rooms") == 0)
		return soak_parse_u32("rooms", name, v, 1, 5000, &a->rooms);
	if (strcmp(name, "messages") == 0)
		return soak_parse_u32("rooms", name, v, 1, 1000000, &a->messages);
	return soak_parse_u32("rooms", name, v, 1, 5000, &a->posters);
}

static const struct soak_flag rooms_flags[] = {
	{ "rooms", true },
	{ "messages", true },
	{ "posters", true },
	{ NULL, false },
};

int sc_rooms(int argc, char **argv)
{
	struct rooms_args a = { .rooms = 50, .messages = 200, .posters = 8 };
	const struct soak_cmd cmd = {
		.name = "rooms",
		.usage = "N rooms x M messages, one SSE subscriber per room; each room's agent\n"
			 "posts its M sealed messages (CRYPTO-2) over HTTP. Exact: every\n"
			 "subscriber gets every accepted message of its room once, in seq order\n"
			 "(ROOM-23).\n\n"
			 "  --rooms N           rooms (default 50)\n"
			 "  --messages M        messages per room (default 200)\n"
			 "  --posters P         posting threads = concurrent POSTs (default 8)\n"
			 "  (--rate R: messages/s per room, open loop)\n",
		.common = OPT_RATE | OPT_SOURCE_IPS | OPT_SIGNED,
		.flags = rooms_flags,
		.extra = rooms_flag,
		.ud = &a,
	};
	struct soak_opts o;
	struct result r;
	int rc = soak_opts_parse(&o, &cmd, argc, argv);

	if (rc)
		return rc > 0 ? SOAK_EXIT_OK : SOAK_EXIT_USAGE;
	if (crypto_init() < 0 || result_init(&r, "rooms", &o) < 0) {
		soak_opts_free(&o);
		return SOAK_EXIT_FAIL;
	}
	if (a.posters > a.rooms)
		a.posters = a.rooms; /* one agent per room: no more threads than agents */
	result_param_num(&r, "rooms", a.rooms);
	result_param_num(&r, "messages", a.messages);
	result_param_num(&r, "posters", a.posters);
	result_param_num(&r, "rate", o.rate);
	result_param_bool(&r, "signed", o.is_signed);
	const struct bcast_params bp = {
		.name = "rooms",
		.rooms = a.rooms,
		.subs_per_room = 1,
		.agents_per_room = 1,
		.per_agent = a.messages,
		.poster_threads = a.posters,
		.cache = false,
	};
	bcast_run(&r, &o, &bp);
	rc = result_finish(&r);
	soak_opts_free(&o);
	return rc;
}
