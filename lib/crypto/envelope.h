/* envelope — the client-side sealed envelopes of PROTOCOL.md §18 (the relay never calls
 * these): room messages (CRYPTO-2, secretbox) and direct messages (CRYPTO-4, box from a fresh
 * ephemeral key pair).
 *
 * Wire forms: ciphertext = tag(16) || encrypted bytes, standard padded base64, no nonce
 * prefix; nonce = 24 bytes, standard padded base64 (32 characters); sender_eph_pub = 32
 * bytes, standard padded base64 (44 characters).
 *
 * Ownership: *ct_b64 and *plain are malloc'd, NUL-terminated, and owned by the caller (free()).
 * A failed call returns -1 and leaves every out-parameter untouched. Openers accept strings in
 * either base64 alphabet, padded or not (crypto_b64_decode_mixed), since relays forward them
 * exactly as the sender wrote them (INV-6, B64-1).
 *
 * Thread-safe; nothing blocks once crypto_init() has succeeded. Buffers are on the heap.
 */
#ifndef SEALROOM_CRYPTO_ENVELOPE_H
#define SEALROOM_CRYPTO_ENVELOPE_H

#include <stddef.h>

#include "crypto/crypto.h"

#define ENV_KEY_BYTES	  32 /* room key, X25519 keys */
#define ENV_NONCE_BYTES	  24 /* XSalsa20 nonce */
#define ENV_TAG_BYTES	  16 /* Poly1305 tag */
#define ENV_NONCE_B64_LEN 32 /* characters, excluding the NUL */
#define ENV_KEY_B64_LEN	  44 /* characters, excluding the NUL */

/* A fresh random 32-byte room key. */
void env_room_key_new(unsigned char key[32]);

/* CRYPTO-2: seal the n bytes of plain (UTF-8 text; need not be NUL-terminated) with the room
 * key and a fresh random nonce. Returns 0 or -1. */
int env_room_seal(const unsigned char key[32], const char *plain, size_t n, char **ct_b64,
		  char nonce_b64[33]);

/* As env_room_seal with a caller-chosen nonce (test vectors only: never reuse a nonce). */
int env_room_seal_with_nonce(const unsigned char key[32], const unsigned char nonce[24],
			     const char *plain, size_t n, char **ct_b64, char nonce_b64[33]);

/* Open a room message: ct_b64/nonce_b64 are the wire strings (ct_len/nonce_len bytes, need
 * not be NUL-terminated). On success *plain (plain_len bytes plus a NUL) is the plaintext.
 * Returns -1 on any failure: bad base64, wrong nonce size, short ciphertext, wrong key,
 * tampered data, out of memory. */
int env_room_open(const unsigned char key[32], const char *ct_b64, size_t ct_len,
		  const char *nonce_b64, size_t nonce_len, char **plain, size_t *plain_len);

/* CRYPTO-4: seal plain to the recipient's X25519 public key from a fresh ephemeral key pair
 * (whose secret is wiped) and a fresh random nonce. Returns 0 or -1. */
int env_dm_seal(const unsigned char recipient_box_pk[32], const char *plain, size_t n,
		char **ct_b64, char nonce_b64[33], char eph_pub_b64[45]);

/* As env_dm_seal with a caller-chosen ephemeral secret key and nonce (test vectors only). */
int env_dm_seal_with(const unsigned char recipient_box_pk[32], const unsigned char eph_sk[32],
		     const unsigned char nonce[24], const char *plain, size_t n, char **ct_b64,
		     char nonce_b64[33], char eph_pub_b64[45]);

/* Open a DM with the recipient's X25519 secret key; the three strings are the wire values
 * (lengths in bytes, need not be NUL-terminated). Same results as env_room_open. */
int env_dm_open(const unsigned char box_sk[32], const char *ct_b64, size_t ct_len,
		const char *nonce_b64, size_t nonce_len, const char *eph_pub_b64, size_t eph_len,
		char **plain, size_t *plain_len);

#endif
