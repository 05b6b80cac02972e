#include "h_gate.h"

#include <stdio.h>

#include "hub.h"
#include "ipcount.h"
#include "limits.h"
#include "proto/clock.h"
#include "relay.h"
#include "replay.h"
#include "reqauth.h"

bool gate_auth(struct req *r, const struct identity *id, const char *handle)
{
	struct relay *relay = r->relay;
	char key[48];
	snprintf(key, sizeof(key), "auth:%s", handle);
	if (!limits_take(relay, r->ip, key, true)) {
		resp_error(r, 429, "rate limited", 5); /* RL-8 */
		return false;
	}
	switch (reqauth_check(relay->rp_auth, id, r->method, r->target, req_header(r, "Authorization"),
			      clock_now_ms(), clock_mono_ms())) {
	case REQAUTH_OK:
		return true;
	case REQAUTH_BAD:
		resp_error(r, 401, "bad or missing signature", 0); /* AUTH-6 */
		break;
	case REQAUTH_FULL:
		resp_error(r, 503, "replay cache full \u2014 try again shortly", 5); /* REPLAY-3 */
		break;
	case REQAUTH_NOMEM:
		resp_error(r, 500, "internal error", 0);
		break;
	}
	return false;
}

bool gate_park(struct req *r, struct room *room)
{
	struct relay *relay = r->relay;
	if (!room_waiter_take(relay->hub, room)) { /* also sets lastActive (ROOM-5) */
		resp_error(r, 429, "too many concurrent waiters for this room", 5);
		return false;
	}
	if (!ipc_take(relay->ipc, r->ip, IPC_WAITER, relay->cfg.waiter_cap_per_ip)) {
		room_waiter_release(relay->hub, room);
		resp_error(r, 429, "too many concurrent waiters from this IP", 5);
		return false;
	}
	if (!http_longlived_take(relay)) {
		ipc_release(relay->ipc, r->ip, IPC_WAITER);
		room_waiter_release(relay->hub, room);
		resp_error(r, 503, "server busy", 5); /* DESIGN.md 1: never civetweb's silent stall */
		return false;
	}
	return true;
}

void gate_unpark(struct req *r, struct room *room)
{
	struct relay *relay = r->relay;
	http_longlived_release(relay);
	ipc_release(relay->ipc, r->ip, IPC_WAITER); /* exactly once (CAP-15) */
	room_waiter_release(relay->hub, room);
}
