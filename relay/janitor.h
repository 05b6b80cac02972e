/* janitor — the one housekeeping thread (DESIGN.md 9, ROOM-3): every JANITOR_INTERVAL_MS it
 * prunes and evicts rooms, sweeps idle rate-limit buckets, and runs the other stores' pruning
 * hooks. Stopped and joined on shutdown. */
#ifndef SEALROOM_RELAY_JANITOR_H
#define SEALROOM_RELAY_JANITOR_H

struct relay;

int janitor_start(struct relay *relay);
void janitor_stop(void);

#endif
