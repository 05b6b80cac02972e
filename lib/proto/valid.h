/*
 * valid — identifier validators of PROTOCOL.md §4.1 (VAL-1..8) and ROOM-12e.
 *
 * Pure and thread-safe; nothing allocates or blocks. Strings are (s, len) pairs, not
 * necessarily NUL-terminated, normally UTF-8 already checked by the JSON reader (with U+0000
 * as the marker C0 80, see utf16.h). Every validator reads at most len bytes and rejects
 * anything unexpected, so it is also safe on raw, unvalidated input (e.g. a query value).
 * A NULL s is rejected. Lengths are in UTF-16 units (§0); for the ASCII-only patterns that is
 * the byte count.
 */
#ifndef SEALROOM_PROTO_VALID_H
#define SEALROOM_PROTO_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* VAL-7: the skew window in ms (a fixed protocol constant, §16). */
#define VAL_SKEW_MS 60000

/* VAL-1 room id: ^[A-Za-z0-9_-]{4,64}$ on the decoded segment, case-sensitive. */
bool val_room_id(const char *s, size_t len);

/* VAL-2 strict handle: ^[a-z0-9][a-z0-9_-]{1,31}$, no lower-casing (register, DM routes). */
bool val_handle_strict(const char *s, size_t len);

/* VAL-3 loose handle: ^[a-z0-9_-]{1,32}$ after ASCII lower-casing (VAL-8); s is not modified. */
bool val_handle_loose(const char *s, size_t len);

/* VAL-4: s is exactly one of anon admin safebot system root support help demo echo. Compare an
 * already lower-cased handle; "Admin" is not reserved. */
bool val_reserved(const char *s, size_t len);

/*
 * VAL-5 presence name: truncate(s, 64) (§0), then 1–64 units, each one of A-Z a-z 0-9 @ . _ -
 * or a character >= U+00A0. Returns the byte length of the accepted (truncated) name, which the
 * caller stores instead of s; 0 if the name is invalid. Fails: empty, space, '+', '/', '#', ':',
 * controls, U+007F..U+009F, U+0000 (C0 80 or a raw 0x00), and invalid UTF-8.
 */
size_t val_presence_name(const char *s, size_t len);

/* VAL-6 signature nonce: 16–64 characters from A-Za-z0-9+/=_- */
bool val_nonce(const char *s, size_t len);

/* VAL-7: abs(now_ms - ts) <= 60000, without overflow for any int64 inputs. */
bool val_skew(int64_t now_ms, int64_t ts);

/* VAL-8: folds ASCII A-Z to a-z in place; every other byte is left alone. */
void val_lower_ascii(char *s, size_t len);

/* ROOM-12e reply_to: length 8–64 matching ^[A-Za-z0-9_-]+$ */
bool val_reply_to(const char *s, size_t len);

#endif
