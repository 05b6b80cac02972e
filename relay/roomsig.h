/* roomsig — verification of signed room messages (SIG-5..8, §11.3): the seam between the
 * room routes (HTTP and WebSocket) and the identity registry. */
#ifndef SEALROOM_RELAY_ROOMSIG_H
#define SEALROOM_RELAY_ROOMSIG_H

#include <cjson/cJSON.h>

#include "message.h"

struct relay;

#define ROOMSIG_BAD (-1)          /* 401 bad sender_sig (WS code 401) */
#define ROOMSIG_REPLAY_FULL (-2)  /* REPLAY-3: 503 replay cache full */

/* Verify body's sender_handle/sender_ts/sender_nonce/sender_sig for room_id. On success (0)
 * sets m->label to "@handle", points m->post.sender at it and sets m->post.verified. */
int roomsig_verify(struct relay *relay, const cJSON *body, const char *room_id, struct msg_in *m);

#endif
