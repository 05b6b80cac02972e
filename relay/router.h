/* router — exact, case-sensitive route matching over the raw path (HTTP-2..5, HTTP-7).
 * Pure: no I/O, unit-tested without a socket. */
#ifndef SEALROOM_RELAY_ROUTER_H
#define SEALROOM_RELAY_ROUTER_H

#include <stddef.h>

enum route_id {
	R_NONE = 0,
	R_ROOT, R_HEALTH, R_STATUS, R_OPENAPI, R_METRICS, R_REPORT,
	R_ROOM_MESSAGES, R_ROOM_STATUS, R_ROOM_TRANSCRIPT, R_ROOM_WAIT, R_ROOM_EVENTS,
	R_ROOM_LISTENING, R_ROOM_CLAIM, R_ROOM_ACK, R_ROOM_WS,
	R_ID_REGISTER, R_ID_GET, R_DM_SEND, R_DM_WAIT, R_DM_DELETE,
};

#define ROUTE_PARAM_MAX 1024 /* decoded segment bytes kept; longer fails validation anyway */

struct route_match {
	enum route_id id;
	char p1[ROUTE_PARAM_MAX + 1]; /* first {param}, percent-decoded (HTTP-3), NUL-terminated */
	size_t p1_len;
	char p2[ROUTE_PARAM_MAX + 1]; /* second {param} (DM delete id) */
	size_t p2_len;
	const char *p1_raw;           /* the raw segment in the path (not terminated) */
	size_t p1_raw_len;
};

/* Match method+path (raw, without query). Returns 200 and fills m on a match; 404 when no
 * route has this path; 405 when some route has the path but not this method, with allow
 * filled ("GET, POST"). A truncated param (> ROUTE_PARAM_MAX) is marked by p1_len =
 * ROUTE_PARAM_MAX + 1 so validators reject it. */
int router_match(const char *method, const char *path, struct route_match *m, char *allow, size_t allowcap);

/* Human name of a route for logs and tests. */
const char *router_name(enum route_id id);

#endif
