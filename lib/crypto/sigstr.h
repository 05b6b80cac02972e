/* sigstr — the signed strings of PROTOCOL.md §11 (SIG-1..4), byte for byte.
 *
 * Each builder writes the string into the caller's buffer out (cap bytes), NUL-terminates it
 * and returns its length (excluding the NUL), or -1 when it does not fit (out then holds no
 * meaningful content). Nothing is validated or normalised: field values are the exact request
 * strings (§11), so the caller passes what the client sent (after the rule's own processing,
 * e.g. the lower-cased handle of SIG-5 or the `fh` of DM-2). Numbers are written in plain
 * decimal; the hashes are lower-case hex SHA-256 of the base64 text as sent.
 *
 * Argument convention: values that come from a JSON body or a header (and so may be a slice
 * of a larger buffer) are (pointer, length) pairs and need not be NUL-terminated; values from
 * the request line or path (method, request-target, room id, recipient handle) are C strings.
 * No pointer is kept after return. Pure apart from hashing; thread-safe, never blocks.
 *
 * Sizes: SIG-1 with a 32-char handle and 44-char keys is < 160 bytes; SIG-2 is the target
 * plus < 120 bytes; SIG-3 with a 64-char room id and nonce is < 230 bytes; SIG-4 < 180 bytes.
 */
#ifndef SEALROOM_CRYPTO_SIGSTR_H
#define SEALROOM_CRYPTO_SIGSTR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* SIG-1: "register <handle> <register_ts> <box_pub> <sign_pub>". */
int sigstr_register(char *out, size_t cap, const char *handle, size_t handle_len, int64_t ts,
		    const char *box_pub, size_t box_pub_len, const char *sign_pub,
		    size_t sign_pub_len);

/* SIG-2: "<METHOD> <request-target> <ts> <nonce>". method is as sent (e.g. "GET"); target is
 * the raw request-line target, path plus raw query, not decoded (AUTH-5); nonce is the `n`
 * value of the Authorization header (see proto/auth.h, which points into the header). */
int sigstr_request(char *out, size_t cap, const char *method, const char *target, int64_t ts,
		   const char *nonce, size_t nonce_len);

/* SIG-3: "room-msg <roomId> <sender_ts> <sender_nonce> <sha256hex(ciphertext)>". room_id is
 * the decoded path segment (or the WS room); the hash is computed here over the ct_len bytes
 * of the ciphertext base64 text exactly as sent. */
int sigstr_room_msg(char *out, size_t cap, const char *room_id, int64_t sender_ts,
		    const char *sender_nonce, size_t sender_nonce_len, const char *ciphertext,
		    size_t ct_len);

/* SIG-4: "dm <to_handle> <from_handle> <from_ts> <hash>", with hash = sigstr_dm_hash() of the
 * three envelope strings as sent. to_handle is the recipient (path handle minus '@',
 * lower-cased), from_handle the sender (`fh` of DM-2). */
int sigstr_dm(char *out, size_t cap, const char *to_handle, const char *from_handle,
	      size_t from_handle_len, int64_t from_ts, const char *ciphertext, size_t ct_len,
	      const char *nonce, size_t nonce_len, const char *sender_eph_pub, size_t eph_len);

/* The SIG-4 envelope hash: lower-case hex SHA-256 of ciphertext "|" nonce "|" sender_eph_pub,
 * hashed incrementally (nothing is concatenated). Also the envelope part of the DM replay
 * cache key (§11.2). out is NUL-terminated. */
void sigstr_dm_hash(const char *ciphertext, size_t ct_len, const char *nonce, size_t nonce_len,
		    const char *sender_eph_pub, size_t eph_len, char out[65]);

#endif
