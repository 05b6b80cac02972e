/* fault — deliberate protocol faults for the conformance runner's self-test (issue #5).
 * Only the sealroom-relay-faulty binary is built with SEALROOM_FAULTS; in sealroom-relay
 * fault_on() is a constant false and every fault branch compiles away. */
#ifndef SEALROOM_RELAY_FAULT_H
#define SEALROOM_RELAY_FAULT_H

#include <stdbool.h>

enum fault {
	FAULT_NONE = 0,
	FAULT_READY_BEFORE_REPLAY, /* SSE-10: ready goes out before the replay */
	FAULT_SEQ_GAP,             /* ROOM-7: seqs advance by 2 */
	FAULT_IGNORE_AFTER,        /* SSE-6/WS-6: replay everything */
	FAULT_NO_KEEPALIVE,        /* SSE-11: no keepalive comments */
	FAULT_WRONG_ERROR_STRING,  /* ROOM-POST-2: "invalid message" instead of "bad message" */
	FAULT_DROP_ONE_IN_100,     /* ROOM-23: every 100th message is buffered but not broadcast */
};

#ifdef SEALROOM_FAULTS
extern enum fault fault_active;
static inline bool fault_on(enum fault f) { return fault_active == f; }
#else
static inline bool fault_on(enum fault f) { (void)f; return false; }
#endif

/* Parse a fault name; -1 if unknown. */
int fault_parse(const char *name);

#endif
