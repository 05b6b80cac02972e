/* h_gate — checks several handlers share, answering the client themselves on failure.
 *   gate_auth:  RL-8 bucket "auth:<handle>" then request auth (AUTH-1..6), in that order
 *               (INV-10: rate limiting precedes Ed25519 verification).
 *   gate_park:  the slots a request takes before it parks in a room (ROOM-WAIT-3, CLAIM-6):
 *               the room's waiter cap (CAP-3), then the IP's (CAP-2), then a worker. */
#ifndef SEALROOM_RELAY_H_GATE_H
#define SEALROOM_RELAY_H_GATE_H

#include <stdbool.h>

#include "http.h"

struct identity;
struct room;

bool gate_auth(struct req *r, const struct identity *id, const char *handle);
bool gate_park(struct req *r, struct room *room);
void gate_unpark(struct req *r, struct room *room);

#endif
