/* roomurl — the shareable room URL of CRYPTO-1:
 *
 *	<scheme>://<host>/room/<roomId>#k=<key>[&signed=1]
 *
 * roomId matches ^[A-Za-z0-9_-]{4,64}$ (the path may end in one '/'); k is the 32-byte room
 * key in base64url without padding (43 characters); signed=1 marks a room that expects signed
 * senders. The key only ever travels in the fragment, which clients never send (INV-1). The
 * API base of the room is <scheme>://<host>/api/rooms/<roomId>.
 *
 * Pure string work plus libsodium's base64; thread-safe, never blocks. No pointer is kept.
 */
#ifndef SEALROOM_CRYPTO_ROOMURL_H
#define SEALROOM_CRYPTO_ROOMURL_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"

#define ROOMURL_ID_MAX	    64 /* VAL-1 */
#define ROOMURL_KEY_B64_LEN 43

/* Parse url (NUL-terminated). On success returns 0 and sets base = "<scheme>://<host>"
 * (host includes any port or userinfo; NUL-terminated in basecap bytes), room_id (NUL-
 * terminated), key (32 bytes) and *signed_room (true iff a `signed` part equals "1").
 * The fragment is split on '&', each part at its first '='; for a repeated name the last part
 * wins; unknown parts are ignored. A query string between path and fragment is ignored.
 * Returns -1 and leaves all outputs untouched when: the scheme or host is missing or contains
 * spaces/controls, the path is not /room/<VAL-1 id>[/], there is no fragment or no `k`, k is
 * not 43 characters of strict unpadded base64url of 32 bytes, or base does not fit. */
int roomurl_parse(const char *url, char *base, size_t basecap, char room_id[65],
		  unsigned char key[32], bool *signed_room);

/* Write "<base>/room/<room_id>#k=<key>[&signed=1]" into out (cap bytes, NUL-terminated).
 * Trailing '/' characters of base are dropped. Returns the length written, or -1 if base is
 * empty, room_id fails VAL-1, or out is too small. */
int roomurl_format(char *out, size_t cap, const char *base, const char *room_id,
		   const unsigned char key[32], bool signed_room);

/* Write the room's API base "<base>/api/rooms/<room_id>" (same rules as roomurl_format). */
int roomurl_api_base(char *out, size_t cap, const char *base, const char *room_id);

/* True iff s (NUL-terminated) is a valid room id per VAL-1: ^[A-Za-z0-9_-]{4,64}$. */
bool roomurl_id_ok(const char *s);

#endif
