/* h_pending.c — routes of issue #4 (identities, DMs, claim/ack) not yet implemented.
 * They answer 500 {"error":"internal error"} so clients see a server-side failure, never a
 * fake success. This file is deleted when those modules land. */
#include "handlers.h"

void h_room_claim(struct req *r, const struct route_match *m) { resp_error(r, 500, "internal error", 0); }
void h_room_ack(struct req *r, const struct route_match *m) { resp_error(r, 500, "internal error", 0); }
void h_identity_register(struct req *r) { resp_error(r, 500, "internal error", 0); }
void h_identity_get(struct req *r, const struct route_match *m) { resp_error(r, 500, "internal error", 0); }
void h_dm_send(struct req *r, const struct route_match *m) { resp_error(r, 500, "internal error", 0); }
void h_dm_wait(struct req *r, const struct route_match *m) { resp_error(r, 500, "internal error", 0); }
void h_dm_delete(struct req *r, const struct route_match *m) { resp_error(r, 500, "internal error", 0); }
void h_report(struct req *r) { resp_error(r, 500, "internal error", 0); }
