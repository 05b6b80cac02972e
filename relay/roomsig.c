#include "roomsig.h"

#include "relay.h"

/* SIG-5 needs the identity registry (issue #4); until it is wired in, no handle is
 * registered, so every signed message fails SIG-5 with 401, as the protocol requires for an
 * unknown handle. */
int roomsig_verify(struct relay *relay, const cJSON *body, const char *room_id, struct msg_in *m)
{
	(void)relay;
	(void)body;
	(void)room_id;
	(void)m;
	return ROOMSIG_BAD;
}
