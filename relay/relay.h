/* relay — the process-wide context every handler receives. One instance, created by main.c,
 * torn down in reverse order on shutdown. Fields are set before the server starts and are
 * read-only afterwards, except where a module documents its own locking. */
#ifndef SEALROOM_RELAY_RELAY_H
#define SEALROOM_RELAY_RELAY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct hub;
struct rl_table;
struct ipcount;
struct idstore;
struct dmstore;
struct replay;
struct bugs;
struct claims;

struct relay {
	struct config cfg;
	void *ctx;                     /* struct mg_context * (http.c) */
	int port;                      /* the real listening port */
	int64_t started_at_ms;
	char exe_sha256[65];           /* META-3 */
	struct hub *hub;               /* rooms (hub.h) */
	struct rl_table *rl;           /* per-key token buckets (RL-2) */
	struct rl_table *rlg;          /* global per-IP buckets (RL-3) */
	struct ipcount *ipc;           /* per-IP stream and waiter counts (CAP-1, CAP-2) */
	struct idstore *ids;           /* identity registry (identity.h) */
	struct dmstore *dms;           /* DM inboxes (dm.h) */
	struct bugs *bugs;             /* bug-report log (report.h) */
	struct claims *claims;         /* claim cursors (claim.h) */
	struct replay *rp_register;    /* §11.2 replay caches (replay.h): register sigs, */
	struct replay *rp_auth;        /* request-auth nonces, */
	struct replay *rp_room;        /* room-sig nonces, */
	struct replay *rp_dm;          /* DM envelopes */
	_Atomic int longlived;         /* streams + parked requests holding a worker */
	_Atomic bool stopping;
	int fault;                     /* conformance self-test fault (fault.h), 0 = none */
};

/* Create every store from relay->cfg (which must be loaded); on failure everything created
 * is freed and -1 returned. Identities are not loaded from disk here (ids_load). log receives
 * start-up diagnostics. */
int relay_open(struct relay *relay, FILE *log);
/* Free every store (NULL-safe); the bug log writes what is still queued. */
void relay_close(struct relay *relay);

#endif
