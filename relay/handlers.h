/* handlers — one function per route; each answers through resp_*() or the stream API.
 * handlers_dispatch() is called by the adapter after routing and body intake. */
#ifndef SEALROOM_RELAY_HANDLERS_H
#define SEALROOM_RELAY_HANDLERS_H

#include "http.h"
#include "router.h"

struct relay;

void handlers_dispatch(struct req *r, const struct route_match *m);

/* h_meta.c */
void h_root(struct req *r);
void h_health(struct req *r);
void h_status(struct req *r);
void h_openapi(struct req *r);
void h_metrics(struct req *r, bool prometheus);

/* h_rooms.c, h_sse.c */
void h_room_messages(struct req *r, const struct route_match *m);
void h_room_status(struct req *r, const struct route_match *m);
void h_room_transcript(struct req *r, const struct route_match *m);
void h_room_wait(struct req *r, const struct route_match *m);
void h_room_listening(struct req *r, const struct route_match *m);
void h_room_events(struct req *r, const struct route_match *m);

/* h_claim.c (claim/ack, §13) */
void h_room_claim(struct req *r, const struct route_match *m);
void h_room_ack(struct req *r, const struct route_match *m);

/* h_identity.c, h_dm.c, h_report.c */
void h_identity_register(struct req *r);
void h_identity_get(struct req *r, const struct route_match *m);
void h_dm_send(struct req *r, const struct route_match *m);
void h_dm_wait(struct req *r, const struct route_match *m);
void h_dm_delete(struct req *r, const struct route_match *m);
void h_report(struct req *r);

/* ws.c: registers the WebSocket handlers for /api/rooms/{id}/ws (WS-1). */
void ws_register(struct relay *relay);

#endif
