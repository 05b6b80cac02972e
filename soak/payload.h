/* payload — what the soak drivers put inside their sealed envelopes and how they read it back.
 *
 * Every message is real traffic: the plaintext is sealed with the room key (CRYPTO-2) or to
 * the recipient's box key (CRYPTO-4), and signed as SIG-3 / SIG-4 when asked. The plaintext
 * carries what the receiver needs for exact accounting and latency, so no side channel
 * between sender and receiver threads is needed:
 *
 *	soak r=<room> a=<agent> i=<index> t=<mono ns> xxxx...   (padded to the asked size)
 *
 * t is CLOCK_MONOTONIC of the sending process (the intended send time in open-loop runs), so
 * latency is measured by the same process that sent.
 *
 * Ownership: builders return malloc'd, NUL-terminated JSON the caller frees. struct rx points
 * into its cJSON tree until rx_free(). Thread-safe (no shared state) except struct rxcache,
 * which belongs to one thread. Nothing blocks.
 */
#ifndef SEALROOM_SOAK_PAYLOAD_H
#define SEALROOM_SOAK_PAYLOAD_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/identity.h"

#define PAYLOAD_MIN_BYTES 40
#define PAYLOAD_MAX_BYTES 65536

struct payload {
	uint32_t room, agent, idx;
	int64_t t_ns;
};

/* Write the plaintext for p into out (cap bytes, NUL-terminated), padded with 'x' to pad_to
 * bytes when it is shorter. Returns its length, or -1 if it does not fit. */
int payload_format(char *out, size_t cap, const struct payload *p, size_t pad_to);

/* Parse a plaintext of n bytes. Returns 0, or -1 if it is not a soak payload. */
int payload_parse(const char *s, size_t n, struct payload *p);

/* POST /api/rooms/{room}/messages body (equally a WS message frame, WS-9): the plaintext of p
 * sealed with key (CRYPTO-2). Unsigned: "sender" = label. With signer: the SIG-3 fields
 * (sender_handle = signer->handle, sender_ts = now, a fresh CRYPTO-5 sender_nonce and
 * sender_sig over "room-msg <room_id> <ts> <nonce> <sha256hex(ciphertext)>"), and no sender.
 * Returns the body (length in *len) or NULL. */
char *payload_room_body(const unsigned char key[32], const char *room_id, const struct payload *p,
			size_t pad_to, const char *label, const struct crypto_identity *signer,
			size_t *len);

/* POST /api/dm/{to_handle} body: the plaintext of p sealed to to_box_pk (CRYPTO-4); with from
 * (may be NULL: anonymous) also from_handle, from_ts and from_sig over SIG-4. Returns the
 * body or NULL. */
char *payload_dm_body(const unsigned char to_box_pk[32], const char *to_handle,
		      const struct payload *p, size_t pad_to, const struct crypto_identity *from,
		      int64_t from_ts, size_t *len);

/* ---- reading events back ---- */

enum rx_type {
	RX_BAD = -1,	/* not JSON / not an object */
	RX_OTHER = 0,	/* presence, locked, rename, ... */
	RX_MESSAGE,	/* a message event, or an item of a /wait or inbox answer */
	RX_READY,
	RX_ERROR,	/* {"type":"error",...}: WS error frame or SSE room-cap error */
};

struct rx {
	enum rx_type type;
	int64_t seq;		/* -1 when absent */
	const char *sender;	/* room "sender" label or DM "from_handle"; NULL if absent */
	bool verified;		/* sender_verified / from_verified */
	const char *ct, *nonce, *eph;	/* DM: eph = sender_eph_pub */
	size_t ct_len, nonce_len, eph_len;
	long code;		/* RX_ERROR: the "code" member, 0 if none */
	const char *error;	/* RX_ERROR: the "error" text */
	cJSON *root;		/* owned when rx_parse() built it */
};

/* Classify and parse one event / frame of len bytes. Presence and other non-message events
 * are recognised by their prefix and not parsed (only type is set). Returns the type; on
 * RX_MESSAGE/RX_READY/RX_ERROR the caller calls rx_free(). */
enum rx_type rx_parse(const char *json, size_t len, struct rx *m);

/* Fill m from an already parsed message object (an item of "messages"); m does not own obj.
 * Returns RX_MESSAGE or RX_BAD. */
enum rx_type rx_from_obj(const cJSON *obj, struct rx *m);

void rx_free(struct rx *m);

/* Open a room message with key and parse its payload. Returns 0, -1 if it does not decrypt,
 * -2 if it decrypts but is not a soak payload. */
int rx_open_room(const unsigned char key[32], const struct rx *m, struct payload *p);

/* Open a DM with the recipient's X25519 secret key; same results as rx_open_room. */
int rx_open_dm(const unsigned char box_sk[32], const struct rx *m, struct payload *p);

/* ---- outcome cache (fan-out) ---- */

/* INV-5: every subscriber of a room receives the same JSON text for a message. A fan-out
 * receiver therefore parses and opens each distinct event once and reuses the outcome for
 * byte-identical copies (compared in full, not just by hash); any copy that differs by one
 * byte is parsed and opened on its own. */
struct rx_outcome {
	int open;		/* rx_open_room result: 0, -1, -2 */
	struct payload p;
	int64_t seq;
	bool verified;
	char label[72];		/* sender label, "" if absent */
};

struct rxcache;

/* A cache of slots entries (rounded up to a power of two). NULL on allocation failure. */
struct rxcache *rxcache_new(size_t slots);
void rxcache_free(struct rxcache *c);
/* true and *out filled if (room, exact data bytes) is cached. */
bool rxcache_get(struct rxcache *c, uint32_t room, const char *data, size_t len,
		 struct rx_outcome *out);
/* Remember the outcome for (room, data); replaces whatever shared the slot. */
void rxcache_put(struct rxcache *c, uint32_t room, const char *data, size_t len,
		 const struct rx_outcome *o);

/* Parse + open a message event in one step (no cache): returns the rx_type; for RX_MESSAGE
 * *o is filled (o->open tells whether it decrypted). */
enum rx_type rx_outcome_of(const unsigned char key[32], const char *json, size_t len,
			   struct rx_outcome *o);

#endif
