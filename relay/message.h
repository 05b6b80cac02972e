/* message — validMessage (ROOM-12) and labels (ROOM-13/14), shared by HTTP and WebSocket.
 * Pure: no locks, no I/O; fuzzed and unit-tested directly. */
#ifndef SEALROOM_RELAY_MESSAGE_H
#define SEALROOM_RELAY_MESSAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "hub.h"

struct msg_in {
	struct post post;        /* ct/nonce/sender/reply/ttl point into the cJSON tree */
	bool is_signed;          /* ROOM-13: sender_handle and sender_sig both truthy */
	char label[72];          /* "@" + lowercase(handle) for signed messages */
};

/* ROOM-12a..f on a parsed body. ws selects the default label (ROOM-14: "user" over
 * WebSocket, "agent" over HTTP). Returns true when valid; fills m. */
bool msg_validate(const cJSON *body, bool ws, struct msg_in *m);

#endif
