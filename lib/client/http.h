/* http — request/response HTTP client on libcurl easy (DESIGN.md "Clients").
 *
 * One struct http_client per thread: it owns a curl easy handle whose connection cache keeps
 * the keep-alive connection to the last host open between requests. Nothing here is shared
 * between clients, so different threads may use different clients concurrently. Redirects
 * are never followed (CLIENT-9), proxies from the environment are ignored, and the request
 * carries exactly the headers given (see http_do) so conformance cases control the wire.
 */
#ifndef SEALROOM_CLIENT_HTTP_H
#define SEALROOM_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* Hard caps on a response body and on its header block; a bigger answer is a transport
 * error. The largest relay answer is a transcript page: 500 messages of <= 196 KiB. */
#define HTTP_BODY_MAX_BYTES (128u * 1024 * 1024)
#define HTTP_HEADERS_MAX_BYTES (256u * 1024)

struct http_client;

struct http_resp {
	long status;		/* HTTP status code of the final response */
	char *body;		/* malloc'd, NUL-terminated (NUL not counted in body_len) */
	size_t body_len;
	char *headers;		/* malloc'd, NUL-terminated raw header block of the final
				 * response: status line, then "Name: value\r\n" lines */
	size_t headers_len;
	double total_s;		/* transfer time in seconds (CURLINFO_TOTAL_TIME) */
};

/* Create a client. source_ip is NULL or a local address the sockets are bound to (for
 * example "127.0.0.2", to spread per-IP caps over several loopback addresses); the string
 * is copied. Initialises libcurl globally on first use (thread-safe). Returns NULL on
 * allocation failure. */
struct http_client *http_client_new(const char *source_ip);

/* Close the kept-alive connection and free the client. NULL is a no-op. */
void http_client_free(struct http_client *c);

/* Perform one request; blocks until the whole response arrived or timeout_ms elapsed
 * (timeout_ms <= 0: no timeout).
 *   method  "GET", "POST", "HEAD", "DELETE", "OPTIONS", any token; HEAD reads no body.
 *   url     absolute "http://host:port/path?query"; sent as given (not normalised).
 *   headers NULL or a NULL-terminated array of "Name: value" lines. "Name:" (nothing after
 *           the colon) suppresses a header libcurl would add itself; "Name;" sends it empty.
 *           No Content-Type is sent unless the caller gives one (libcurl's form default is
 *           suppressed), and no "Expect: 100-continue".
 *   body    NULL or body_len bytes sent as the request body (any method; copied by curl
 *           before http_do returns, so it only has to live for the call).
 * On success fills *out (caller frees with http_resp_free) and returns 0 for a response of
 * any status. Returns -1 on a transport error (connect failure, timeout, reset, oversize
 * answer); *out is then untouched and a message was stored for http_client_error(). */
int http_do(struct http_client *c, const char *method, const char *url,
	    const char *const *headers, const char *body, size_t body_len, long timeout_ms,
	    struct http_resp *out);

/* Text of the last transport error of this client ("" if none). Valid until the next call. */
const char *http_client_error(const struct http_client *c);

/* Value of the first header called name (case-insensitive) in r->headers, with surrounding
 * blanks trimmed; the pointer points into r->headers and is NOT NUL-terminated at the value
 * end: use *len. Returns NULL if absent. len may be NULL. */
const char *http_header(const struct http_resp *r, const char *name, size_t *len);

/* Number of header lines called name (case-insensitive) in the response. */
int http_header_count(const struct http_resp *r, const char *name);

/* True iff the first header called name exists and its value equals value exactly
 * (case-sensitive, after trimming). */
bool http_header_is(const struct http_resp *r, const char *name, const char *value);

/* Free body and headers and zero the struct. NULL or an already freed struct is a no-op. */
void http_resp_free(struct http_resp *r);

/* Header-block helpers shared with the SSE and raw clients: find the first (or count all)
 * "name: value" lines in a raw block of len bytes (status line first, CRLF or LF ends). */
const char *http_headers_find(const char *block, size_t len, const char *name, size_t *vlen);
int http_headers_count(const char *block, size_t len, const char *name);

#endif
