/* relay.c — create and destroy the process-wide stores, in one place for main.c, tests and
 * the in-process fuzz harness. */
#include "relay.h"

#include <stdlib.h>

#include "claim.h"
#include "dm.h"
#include "hub.h"
#include "identity.h"
#include "ipcount.h"
#include "ratelimit.h"
#include "replay.h"
#include "report.h"

int relay_open(struct relay *relay, FILE *log)
{
	const struct config *cfg = &relay->cfg;
	relay->hub = hub_new(cfg);
	relay->rl = rl_new();
	relay->rlg = rl_new();
	relay->ipc = ipc_new();
	relay->ids = ids_new((size_t)cfg->identities_max, cfg->state_dir, log);
	relay->dms = relay->ids ? dm_new(relay->ids, cfg) : NULL;
	relay->claims = claims_new(cfg->room_cursors_per_handle_max);
	relay->rp_register = replay_new((size_t)cfg->register_sig_seen_max);
	relay->rp_auth = replay_new((size_t)cfg->inbox_sig_seen_max);
	relay->rp_room = replay_new((size_t)cfg->room_sig_seen_max);
	relay->rp_dm = replay_new((size_t)cfg->dm_env_seen_max);
	relay->bugs = bugs_new(cfg->bugs_log, cfg->bugs_log_max_bytes, cfg->bugs_ip_salt, log);
	if (!relay->hub || !relay->rl || !relay->rlg || !relay->ipc || !relay->ids || !relay->dms ||
	    !relay->claims || !relay->rp_register || !relay->rp_auth || !relay->rp_room || !relay->rp_dm ||
	    !relay->bugs) {
		relay_close(relay);
		return -1;
	}
	return 0;
}

void relay_close(struct relay *relay)
{
	if (relay->bugs)
		bugs_free(relay->bugs);
	if (relay->claims)
		claims_free(relay->claims);
	if (relay->dms)
		dm_free(relay->dms);
	if (relay->ids)
		ids_free(relay->ids);
	replay_free(relay->rp_register);
	replay_free(relay->rp_auth);
	replay_free(relay->rp_room);
	replay_free(relay->rp_dm);
	hub_free(relay->hub);
	if (relay->rl)
		rl_free(relay->rl);
	if (relay->rlg)
		rl_free(relay->rlg);
	if (relay->ipc)
		ipc_free(relay->ipc);
	relay->bugs = NULL;
	relay->claims = NULL;
	relay->dms = NULL;
	relay->ids = NULL;
	relay->rp_register = relay->rp_auth = relay->rp_room = relay->rp_dm = NULL;
	relay->hub = NULL;
	relay->rl = relay->rlg = NULL;
	relay->ipc = NULL;
}
