/* scen — set-up helpers the scenarios share: fresh rooms and keys, sender labels, identity
 * registration (ID-REG-*), a relay health probe, and the drain loop that waits for
 * deliveries with a deadline while drawing the progress line.
 *
 * Every function runs on the calling thread and may block on the network where noted.
 * Arrays returned are malloc'd and owned by the caller (free()).
 */
#ifndef SEALROOM_SOAK_SCEN_H
#define SEALROOM_SOAK_SCEN_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/identity.h"
#include "opts.h"
#include "report.h"

/* n fresh room ids (10 characters of the CRYPTO-1 alphabet) and room keys. Returns 0 or -1. */
int scen_rooms_new(uint32_t n, char (**ids)[65], unsigned char (**keys)[32]);

/* n unsigned sender labels "<prefix><i>" (ROOM-14 keeps them verbatim). NULL on failure. */
char (*scen_labels(uint32_t n, const char *prefix))[72];

/* n fresh identities with random handles "<prefix><random><i>" (VAL-2). NULL on failure. */
struct crypto_identity *scen_identities(uint32_t n, const char *prefix);

/* The labels a signed message gets (ROOM-14: "@" + handle), one per identity. */
char (*scen_signed_labels(const struct crypto_identity *ids, uint32_t n))[72];

/* Register n identities (SIG-1, POST /api/identity/register): 201 is success; anything else
 * is reported through result_fail. Blocks. Returns 0 if all registered. */
int scen_register(struct result *r, const struct soak_opts *o, const struct crypto_identity *ids,
		  uint32_t n);

#define SCEN_PROBE_MS 5000

/* GET /api/health must answer 200 within SCEN_PROBE_MS (connection failures are retried
 * every 50 ms until then); otherwise result_fail and -1. Blocks. */
int scen_probe(struct result *r, const struct soak_opts *o);

/* Sleep-poll (2 ms steps) until *counter (read through get(ud)) reaches want or deadline_ms
 * (monotonic) passes, ticking the progress line with "delivered X/want". Returns true if
 * reached. */
bool scen_drain(struct ticker *tk, const char *name, uint64_t (*get)(void *ud), void *ud,
		uint64_t want, int64_t deadline_ms);

/* Seconds between two clock_mono_ns() readings, never below 1 µs. */
double scen_secs(int64_t from_ns, int64_t to_ns);

#endif
