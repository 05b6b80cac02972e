/* ipcount — concurrency counters per client IP: open streams (CAP-1) and parked waiters
 * (CAP-2). CAP-15: tested before incrementing, incremented only on success, released exactly
 * once by the caller. Thread-safe; entries vanish when both counts drop to zero. */
#ifndef SEALROOM_RELAY_IPCOUNT_H
#define SEALROOM_RELAY_IPCOUNT_H

#include <stdbool.h>
#include <stdint.h>

enum ipc_kind { IPC_STREAM = 0, IPC_WAITER = 1 };

struct ipcount;

struct ipcount *ipc_new(void);
void ipc_free(struct ipcount *t);
/* Take one slot of kind for ip if it holds fewer than cap; false when full. */
bool ipc_take(struct ipcount *t, const char *ip, enum ipc_kind kind, int64_t cap);
void ipc_release(struct ipcount *t, const char *ip, enum ipc_kind kind);
/* Current count (tests, metrics). */
int64_t ipc_get(struct ipcount *t, const char *ip, enum ipc_kind kind);

#endif
