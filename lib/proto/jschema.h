/* jschema — a JSON-Schema subset validator for the schemas of spec/openapi.json (OpenAPI 3.1,
 * i.e. JSON Schema 2020-12), used by the conformance runner to check relay response bodies.
 *
 * Supported keywords: type (a name or an array of names; "null" in an array is how OpenAPI 3.1
 * writes nullable, "integer" is a number with an integral value), enum, const, properties,
 * required, additionalProperties (false or a schema), items, minItems/maxItems,
 * minLength/maxLength (counted in UTF-16 code units, PROTOCOL.md §0 "length"), pattern (POSIX
 * extended regular expression, searched, not anchored: JSON Schema semantics), minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, oneOf, anyOf, allOf, not, $ref to a local
 * JSON pointer ("#/components/schemas/X"), and the boolean schemas true/false. Every other
 * keyword (description, examples, x-*, format, ...) is ignored.
 *
 * Ownership: a struct jschema owns its document (parsed from the text given to jschema_load)
 * and the compiled regular expressions of every "pattern" in it. Schema nodes returned by the
 * lookup functions point into that document and live as long as the struct.
 *
 * Threads: after jschema_load() returns, a struct jschema is read-only; any number of threads
 * may validate with it concurrently (regexec on a compiled pattern is thread-safe). Nothing
 * blocks. Recursion is bounded by JSCHEMA_MAX_DEPTH (value depth plus $ref chains).
 */
#ifndef SEALROOM_PROTO_JSCHEMA_H
#define SEALROOM_PROTO_JSCHEMA_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Nesting bound of one validation (schema keywords and $ref hops together); deeper is an
 * error, never a stack overflow. */
#define JSCHEMA_MAX_DEPTH 128

struct jschema;

/* Parse len bytes of JSON (an OpenAPI document, or any JSON holding schemas) and compile every
 * "pattern" string in it. Returns NULL if the text is not JSON or a pattern does not compile as
 * a POSIX extended regular expression; err (may be NULL) then receives the reason. */
struct jschema *jschema_load(const char *text, size_t len, char *err, size_t errcap);

/* Free everything. NULL is a no-op. */
void jschema_free(struct jschema *s);

/* The document's root node (owned by s). */
const cJSON *jschema_doc(const struct jschema *s);

/* Resolve a local reference "#/a/b/c" (JSON pointer, with ~0 ~1 escapes) in the document.
 * NULL if it is not local or does not resolve. */
const cJSON *jschema_resolve(const struct jschema *s, const char *ref);

/* #/components/schemas/<name>, or NULL. */
const cJSON *jschema_component(const struct jschema *s, const char *name);

/* The JSON schema of an OpenAPI response:
 * paths[path_tpl][lower-case method].responses[status].content["application/json"].schema,
 * falling back to the "default" response when the status is not listed. path_tpl is the
 * template as written in the spec ("/api/rooms/{roomId}/messages"); method is
 * case-insensitive. NULL when the route, method or response (or its JSON schema) is absent. */
const cJSON *jschema_response(const struct jschema *s, const char *path_tpl, const char *method,
			      int status);

/* Validate value against schema (a node of s's document, or of another document; patterns of
 * foreign nodes are compiled on the fly). Returns 0 when valid, -1 when not: err (may be
 * NULL) then receives "<JSON pointer of the value>: <reason>", e.g.
 * "/messages/0/seq: 1.5 is not of type integer". */
int jschema_validate(const struct jschema *s, const cJSON *schema, const cJSON *value, char *err,
		     size_t errcap);

#endif
