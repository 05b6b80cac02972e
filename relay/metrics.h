/* metrics — process-wide counters (MET-3, MET-5) as relaxed atomics; rendering of the JSON
 * and Prometheus forms (MET-3, MET-4). Counters only ever hold counts: never ids, names,
 * addresses or content (INV-4). */
#ifndef SEALROOM_RELAY_METRICS_H
#define SEALROOM_RELAY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* X(name) in the exact MET-3 order. */
#define METRICS_COUNTERS(X) \
	X(rooms_created_total) X(rooms_evicted_total) X(messages_relayed_total) \
	X(bytes_relayed_total) X(http_posts_total) X(http_2xx) X(http_4xx) X(http_429) \
	X(http_5xx) X(ws_connects_total) X(ws_disconnects_total) X(sse_connects_total) \
	X(sse_disconnects_total) X(longpoll_waits_total) X(longpoll_wakes_total) \
	X(longpoll_timeouts_total) X(identities_registered_total) X(dm_sent_total) \
	X(dm_waits_total) X(bug_reports_total) X(replay_cache_full_total)

#define METRICS_GAUGES(X) \
	X(active_rooms) X(active_subs) X(parked_waiters) X(identities) X(room_buffer_bytes) \
	X(dm_buffer_bytes) X(replay_cache_entries)

enum metric {
#define M_ENUM(n) M_##n,
	METRICS_COUNTERS(M_ENUM)
	M_NCOUNTERS,
#undef M_ENUM
};

extern _Atomic int64_t metrics_counter[M_NCOUNTERS];

static inline void metrics_inc(enum metric m) { atomic_fetch_add_explicit(&metrics_counter[m], 1, memory_order_relaxed); }
static inline void metrics_add(enum metric m, int64_t v) { atomic_fetch_add_explicit(&metrics_counter[m], v, memory_order_relaxed); }

/* LOG-4: count one finished response by status class. */
void metrics_count_status(int status);

struct metrics_gauges {
#define M_FIELD(n) int64_t n;
	METRICS_GAUGES(M_FIELD)
#undef M_FIELD
};

/* Render MET-3 JSON / MET-4 Prometheus text into malloc'd buffers (caller frees). */
char *metrics_json(int64_t started_at_ms, int64_t now_ms, const struct metrics_gauges *g, size_t *len);
char *metrics_prometheus(int64_t started_at_ms, int64_t now_ms, const struct metrics_gauges *g, size_t *len);

#endif
