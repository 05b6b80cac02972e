/* json — the JSON reader and writer every part of sealroom uses.
 *
 * Reader: json_parse() runs a strict, iterative scanner over the raw bytes first (RFC 8259
 * grammar, strict UTF-8, nesting depth limit, unpaired-surrogate escapes), so cJSON only ever
 * sees well-formed input of bounded depth (DESIGN.md §"Relay architecture" 2: cJSON recursion
 * must never see deep input). The scanner also carries two facts cJSON would lose:
 *   - U+0000 inside a string is handed to cJSON as the two bytes C0 80 (never valid UTF-8
 *     otherwise), so C strings stay whole and validators can reject it (HTTP-17, see
 *     u8_has_nul() in proto/utf16.h);
 *   - whether each number token was a "JSON integer" (§0) — see json_is_int().
 * Writer: struct jw builds compact JSON in exactly the key order the caller writes (§0 "JSON
 * output"): raw non-ASCII, `/` unescaped, controls as \b \t \n \f \r or \u00xx.
 */
#ifndef SEALROOM_PROTO_JSON_H
#define SEALROOM_PROTO_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32 /* HTTP-13: deeper nesting is "bad json" */

/* Parse len bytes (need not be NUL-terminated). Returns a cJSON tree the caller frees with
 * cJSON_Delete(), or NULL when the input is not a well-formed JSON text nested at most
 * max_depth deep. If top_container is true, a top-level primitive is rejected (HTTP-13). */
cJSON *json_parse(const char *s, size_t len, int max_depth, bool top_container);

/* Cheap check of the same grammar without building a tree; returns the maximum depth seen or
 * -1 when invalid or deeper than max_depth. */
int json_scan(const char *s, size_t len, int max_depth);

/* HTTP-16: the LAST member named key of object obj (duplicates: last wins); NULL if absent or
 * obj is not an object. */
cJSON *json_get(const cJSON *obj, const char *key);

/* True iff item is a number whose token matched -?(0|[1-9][0-9]*) with magnitude <= 2^53-1. */
bool json_is_int(const cJSON *item);
/* The string value and its byte length; false if item is not a string. */
bool json_str(const cJSON *item, const char **s, size_t *len);
/* §0 "truthy": present and not null, false, 0 or "". */
bool json_truthy(const cJSON *item);

/* ---- writer ------------------------------------------------------------------------- */

struct jw {
	char *buf;
	size_t len, cap, max; /* max: hard cap fixed at init; exceeding it sets err */
	bool err;
	int depth;
	uint64_t first;       /* bit d: next item at depth d is the first (no comma) */
	bool after_key;
};

/* Start a writer with an initial heap capacity and a hard cap. */
void jw_init(struct jw *w, size_t initial, size_t max);
void jw_free(struct jw *w);
/* Hand over the buffer (NUL-terminated; *len excludes the NUL). NULL if w->err; the writer is
 * empty afterwards either way. */
char *jw_take(struct jw *w, size_t *len);
void jw_reset(struct jw *w);

void jw_obj(struct jw *w);         /* { */
void jw_obj_end(struct jw *w);     /* } */
void jw_arr(struct jw *w);         /* [ */
void jw_arr_end(struct jw *w);     /* ] */
void jw_key(struct jw *w, const char *key); /* "key": (key is trusted ASCII) */
void jw_str(struct jw *w, const char *s, size_t len);
void jw_cstr(struct jw *w, const char *s);
void jw_int(struct jw *w, int64_t v);
void jw_num(struct jw *w, double v); /* integral -> integer text; else shortest round-trip */
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* Splice already-rendered JSON as one value (e.g. a serialized event). */
void jw_rawval(struct jw *w, const char *json, size_t len);
/* Append bytes with no JSON bookkeeping (framing around JSON). */
void jw_bytes(struct jw *w, const char *s, size_t len);

/* Append s as a JSON string literal (with quotes) to a plain buffer; returns bytes written,
 * or 0 if cap is too small. Worst case needs 6*len+3 bytes. */
size_t json_escape(char *out, size_t cap, const char *s, size_t len);

#endif
