/* identity — the identity registry (PROTOCOL.md §10) and its only persistent form,
 * ⟨STATE_DIR⟩/identities.json (STATE-1..4).
 *
 * Records: a registered identity never changes after insertion (ID-REG-14: a re-register keeps
 * the stored box_pub and registered_at), except its inbox_seq (DM-4), an atomic. Records are
 * never removed while the store lives, so the struct identity * returned by ids_get() stays
 * valid until ids_free(): handlers and the other stores keep plain pointers to them. The
 * `inbox` and `claims` slots hang the per-handle state of dm.c and claim.c off the record, so
 * those stores need no tables of their own; each slot is read and written only under its own
 * module's lock.
 *
 * Concurrency: a read-write lock guards the hash table (keyed SipHash, so clients cannot aim
 * at one bucket); lookups take it shared. Disk writes never hold it: ids_persist() renders a
 * snapshot under the shared lock, then writes with only the writer mutex held, which
 * serialises writers and coalesces them (a writer whose change is already on disk returns at
 * once).
 *
 * Persistence (STATE-2): the whole file is written to a temporary file in the same directory,
 * fsynced, renamed over identities.json, and the directory is fsynced. Registrations call
 * ids_persist() before answering (ID-REG-15); the flusher thread writes within
 * IDS_FLUSH_MS of any other change (inbox_seq, DM-4 "within 2 s"), which also covers STATE-2's
 * 60 s rule; main.c calls ids_persist() once more at shutdown. With no state directory the
 * registry lives in memory only and nothing touches the disk.
 */
#ifndef SEALROOM_RELAY_IDENTITY_H
#define SEALROOM_RELAY_IDENTITY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IDS_HANDLE_MAX 32  /* VAL-2 */
#define IDS_KEY_B64 44     /* canonical(·,32) is always 44 characters */
#define IDS_BIO_UNITS 280  /* ID-REG-16 */
#define IDS_FLUSH_MS 1000  /* flusher tick: < STATE-2's 2 s for inbox_seq */
#define IDS_FILE "identities.json"

struct inbox;
struct claim_handle;

struct identity {
	struct identity *hnext;           /* hash chain (store lock) */
	char handle[IDS_HANDLE_MAX + 1];  /* VAL-2, NUL-terminated */
	size_t handle_len;
	char box_pub[IDS_KEY_B64 + 1];    /* exactly as received (INV-6) */
	char sign_pub[IDS_KEY_B64 + 1];
	unsigned char sign_pk[32];        /* sign_pub decoded, for crypto_verify() */
	int64_t registered_at;
	bool has_meta;                    /* meta is {"bio":bio}; false: meta is {} */
	char *bio;                        /* NUL-terminated, <= 280 units, no U+0000; owned */
	size_t bio_len;
	_Atomic int64_t inbox_seq;        /* DM-4 / INV-9; 0 = none yet */
	struct inbox *inbox;              /* dm.c's slot (dmstore lock) */
	struct claim_handle *claims;      /* claim.c's slot (claim store lock) */
};

struct idstore;

/* A new empty store for at most max identities (CAP-8). state_dir: "" or NULL keeps the
 * registry in memory only (STATE-1), else the directory of identities.json (created if
 * absent when first written). log: where load and write problems are reported (stderr in
 * the relay). NULL on allocation failure. */
struct idstore *ids_new(size_t max, const char *state_dir, FILE *log);
/* Stop the flusher if running, free every record. No other thread may use the store. */
void ids_free(struct idstore *s);

/* A new record (not yet in any store) with copies of the strings. The caller has validated
 * them: handle VAL-2, keys canonical(·,32), bio cut at U+0000 and truncated to 280 units.
 * NULL on allocation failure or when a key is not 44 characters of canonical base64. */
struct identity *ids_make(const char *handle, size_t handle_len, const char *box_pub,
			  const char *sign_pub, int64_t registered_at, bool has_meta, const char *bio,
			  size_t bio_len);
/* Free a record that was never added (ids_add did not return IDS_OK). */
void ids_record_free(struct identity *rec);

enum ids_rc { IDS_OK = 0, IDS_EXISTS = -1, IDS_CAP = -2 };

/* Insert rec. IDS_OK: the store owns rec now. IDS_EXISTS: the handle is taken, *existing is
 * the stored record (if existing != NULL) and the caller still owns rec. IDS_CAP: the store
 * holds max identities (ID-REG-2). The persisted state is not written here (ids_persist). */
enum ids_rc ids_add(struct idstore *s, struct identity *rec, struct identity **existing);

/* The record of handle (exact bytes; callers lower-case first), or NULL. */
struct identity *ids_get(struct idstore *s, const char *handle, size_t len);
size_t ids_count(struct idstore *s);

/* DM-4: atomically seq = (inbox_seq > 0 ? inbox_seq : now_ms) + 1, stored as the new
 * inbox_seq and marked for the flusher. Returns seq. */
int64_t ids_next_inbox_seq(struct idstore *s, struct identity *id, int64_t now_ms);

/* STATE-1 JSON of the whole registry, in registration order, malloc'd (*len bytes, NUL-
 * terminated). NULL on allocation failure. */
char *ids_render(struct idstore *s, size_t *len);

/* STATE-2: write identities.json atomically if anything changed since the last successful
 * write. Blocks for the disk write (fsyncs). Returns 0 (written, nothing to do, or memory
 * only) or -1 after logging the failure. Thread-safe; writers are serialised. */
int ids_persist(struct idstore *s);

/* Start/stop the background flusher (a thread calling ids_persist() every IDS_FLUSH_MS when
 * something changed). Without a state directory start is a no-op. Returns 0 or -1. */
int ids_flusher_start(struct idstore *s);
void ids_flusher_stop(struct idstore *s);

/* STATE-3 load results. */
enum ids_load_status {
	IDS_LOAD_OK = 0,        /* loaded (possibly with dropped records) */
	IDS_LOAD_ABSENT = 1,    /* no file yet (or memory only): empty registry */
	IDS_LOAD_OVERSIZE = -1, /* over STATE_FILE_MAX: refused, empty registry */
	IDS_LOAD_CORRUPT = -2,  /* not the STATE-1 JSON shape: refused, empty registry */
	IDS_LOAD_IOERR = -3,    /* unreadable: empty registry */
};

struct ids_load_result {
	enum ids_load_status status;
	size_t loaded, dropped;
};

/* STATE-3: load identities.json into an empty store. A file over file_max bytes, or one that
 * is not a JSON object with an "identities" object, is refused: it is logged, renamed to
 * identities.json.rejected (so the next write does not destroy it) and the registry starts
 * empty. Otherwise every record is re-validated: dropped when its key differs from its
 * handle, the handle fails VAL-2, or a key is not canonical(·,32) (or beyond the cap); bio is
 * re-truncated to 280 units, a non-numeric registered_at becomes now_ms, a non-positive or
 * non-numeric inbox_seq becomes 0; for duplicate keys the last wins. One line is logged with
 * the counts. Never crashes on any input. Runs before the server starts (not thread-safe
 * against other callers). */
struct ids_load_result ids_load(struct idstore *s, int64_t file_max, int64_t now_ms);

#endif
