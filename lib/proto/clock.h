/* clock — wall-clock and monotonic milliseconds, ISO-8601 formatting. Pure, thread-safe. */
#ifndef SEALROOM_PROTO_CLOCK_H
#define SEALROOM_PROTO_CLOCK_H

#include <stdint.h>

/* Wall-clock Unix time in ms ("now" in PROTOCOL.md §0). */
int64_t clock_now_ms(void);
/* Monotonic ms for timers and deadlines; never goes backwards. */
int64_t clock_mono_ms(void);
/* Monotonic ns, for latency measurement. */
int64_t clock_mono_ns(void);
/* "2026-01-01T00:00:00.000Z" (24 chars + NUL) into out; returns out. */
char *clock_iso8601(int64_t ms, char out[25]);

#endif
