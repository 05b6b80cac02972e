/* replay.* — PROTOCOL.md §11.2 (sealroom): replay caches have a global cap only. Reuse is
 * checked where each cache is used (auth.replay, sig.room.replay, dm.send.verified,
 * id.register.checks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

/* REPLAY-2: no per-handle cap: 400 signed posts from one handle are all accepted (the
 * existing relay refused after 312 per handle per ~2 min). */
static void c_no_handle_cap(struct conf_run *r)
{
	enum { N = 400, PER_ROOM = 200 };
	struct crypto_identity id;
	struct conf_room rooms[N / PER_ROOM];
	int i, ok = 0, first_bad = -1;
	long last_status = 0;

	if (conf_register(r, &id) < 0)
		return;
	for (i = 0; i < N / PER_ROOM; i++)
		conf_room_new(&rooms[i]);
	for (i = 0; i < N; i++) {
		struct conf_room *room = &rooms[i / PER_ROOM];
		char *body, target[160];
		struct conf_resp resp;

		if (i % PER_ROOM == 0 && r->ctx->o.use_xff)
			conf_fresh_ip(r, r->ip); /* stay within each per-key bucket (RL-2) */
		body = conf_signed_body(&id, room, "many", NULL);
		snprintf(target, sizeof(target), "/api/rooms/%s/messages", room->id);
		if (!body || conf_post_json(r, target, body, &resp) < 0) {
			free(body);
			break;
		}
		free(body);
		if (resp.status == 429 && !r->ctx->o.use_xff) {
			conf_resp_free(&resp);
			conf_info(r, "rate limited before %d signed posts (no XFF to spread them)", N);
			return;
		}
		if (resp.status == 200)
			ok++;
		else if (first_bad < 0) {
			first_bad = i;
			last_status = resp.status;
		}
		conf_resp_free(&resp);
	}
	conf_got(r, "%d/%d accepted; first refusal at #%d (status %ld)", ok, N, first_bad + 1,
		 last_status);
	conf_check(r, ok == N, 0,
		   "REPLAY-2: a handle within the rate limits is never refused because of its "
		   "cache (%d signed posts)", N);
}

/* REPLAY-3, CAP-12: the global cache caps (250 000 each) are not reachable remotely. */
static void c_cache_full(struct conf_run *r)
{
	conf_info(r, "not exercised: the replay caches hold 250 000 entries each by default; "
		     "REPLAY-3 needs a relay started with tiny *_SEEN_MAX caps and its unit tests");
}

const struct conf_case conf_cases_replay[] = {
	{ "replay.no-handle-cap", "REPLAY-2", CONF_MUST, CF_SR,
	  "400 signed posts from one handle are all accepted", c_no_handle_cap },
	{ "replay.cache-full", "REPLAY-3 CAP-12", CONF_MUST, 0,
	  "a full replay cache → 503 (not reachable remotely: informational)", c_cache_full },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
