/* report — the bug-report log of POST /api/report (PROTOCOL.md §15.3, RPT-2..5, INV-12).
 *
 * Entries are rendered by the request thread (bugs_entry) and handed to one background writer
 * thread (bugs_submit), which appends them serially to BUGS_LOG, rotating the file to
 * ⟨path⟩.1 first when it exceeds BUGS_LOG_MAX_BYTES (RPT-4). So the answer never waits for the
 * disk (RPT-5). The queue is capped (BUGS_QUEUE_MAX, INV-11): when the disk cannot keep up,
 * further entries are dropped and counted in the log. With BUGS_LOG unset there is no writer
 * and entries are discarded. Client IPs are stored only as a truncated salted hash (INV-12).
 *
 * Thread-safe: bugs_submit may be called from any thread (a short mutex hold); bugs_entry and
 * bugs_ip_hash are pure apart from reading the immutable salt.
 */
#ifndef SEALROOM_RELAY_REPORT_H
#define SEALROOM_RELAY_REPORT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BUGS_QUEUE_MAX 1024

struct bugs;

/* A new log. path: "" or NULL discards entries (RPT-4); otherwise the writer thread starts.
 * salt: BUGS_IP_SALT, or ""/NULL for a random salt per start (RPT-3). log: where write
 * problems are reported. NULL on failure. */
struct bugs *bugs_new(const char *path, int64_t max_bytes, const char *salt, FILE *log);
/* Write what is queued, stop the writer and free everything. NULL is ignored. */
void bugs_free(struct bugs *b);

/* RPT-2: true iff `what` (truncate(what,4000), "" when not a string, cut at U+0000) has at
 * least 5 units. */
bool bugs_what_ok(const cJSON *body);

/* RPT-3: first 12 hex of SHA-256(ip + "|" + salt), NUL-terminated. */
void bugs_ip_hash(const struct bugs *b, const char *ip, char out[13]);

/* RPT-3: the entry line (no newline) for body, User-Agent ua (NULL: ""), client ip, entry id
 * (a UUID) and time now_ms; malloc'd, *len bytes. NULL on allocation failure. */
char *bugs_entry(const struct bugs *b, const cJSON *body, const char *ua, const char *ip, const char *id,
		 int64_t now_ms, size_t *len);

/* Queue line (malloc'd, len bytes, no newline) for appending; takes ownership. Returns 0
 * (queued, or discarded with no log configured) or -1 when the queue is full (dropped). */
int bugs_submit(struct bugs *b, char *line, size_t len);

/* Block until every queued entry has been written (tests). */
void bugs_flush(struct bugs *b);

#endif
