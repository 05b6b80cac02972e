/* handlers.c — route id -> handler. */
#include "handlers.h"

void handlers_dispatch(struct req *r, const struct route_match *m)
{
	switch (m->id) {
	case R_ROOT: h_root(r); break;
	case R_HEALTH: h_health(r); break;
	case R_STATUS: h_status(r); break;
	case R_OPENAPI: h_openapi(r); break;
	case R_METRICS: h_metrics(r, r->raw_uri[1] == 'm'); break; /* /metrics vs /api/metrics */
	case R_ROOM_MESSAGES: h_room_messages(r, m); break;
	case R_ROOM_STATUS: h_room_status(r, m); break;
	case R_ROOM_TRANSCRIPT: h_room_transcript(r, m); break;
	case R_ROOM_WAIT: h_room_wait(r, m); break;
	case R_ROOM_EVENTS: h_room_events(r, m); break;
	case R_ROOM_LISTENING: h_room_listening(r, m); break;
	case R_ROOM_CLAIM: h_room_claim(r, m); break;
	case R_ROOM_ACK: h_room_ack(r, m); break;
	case R_REPORT: h_report(r); break;
	case R_ID_REGISTER: h_identity_register(r); break;
	case R_ID_GET: h_identity_get(r, m); break;
	case R_DM_SEND: h_dm_send(r, m); break;
	case R_DM_WAIT: h_dm_wait(r, m); break;
	case R_DM_DELETE: h_dm_delete(r, m); break;
	case R_ROOM_WS: /* upgrades never reach here; a plain GET is an unknown path (HTTP-7) */
	case R_NONE:
		resp_error(r, 404, "not found", 0);
		break;
	}
}
