#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proto/query.h"

struct route {
	enum route_id id;
	const char *method;
	const char *pattern; /* '*' is one {param} segment */
	const char *name;
};

/* Order matters only for the Allow header: methods are listed in table order. */
static const struct route routes[] = {
	{R_ROOT, "GET", "/", "root"},
	{R_HEALTH, "GET", "/api/health", "health"},
	{R_STATUS, "GET", "/api/status", "status"},
	{R_OPENAPI, "GET", "/api/openapi.json", "openapi"},
	{R_METRICS, "GET", "/metrics", "metrics"},
	{R_METRICS, "GET", "/api/metrics", "metrics-json"},
	{R_REPORT, "POST", "/api/report", "report"},
	{R_ROOM_MESSAGES, "POST", "/api/rooms/*/messages", "room-messages"},
	{R_ROOM_STATUS, "GET", "/api/rooms/*/status", "room-status"},
	{R_ROOM_TRANSCRIPT, "GET", "/api/rooms/*/transcript", "room-transcript"},
	{R_ROOM_WAIT, "GET", "/api/rooms/*/wait", "room-wait"},
	{R_ROOM_EVENTS, "GET", "/api/rooms/*/events", "room-events"},
	{R_ROOM_LISTENING, "POST", "/api/rooms/*/listening", "room-listening"},
	{R_ROOM_CLAIM, "POST", "/api/rooms/*/claim", "room-claim"},
	{R_ROOM_ACK, "POST", "/api/rooms/*/ack", "room-ack"},
	{R_ID_GET, "GET", "/api/identity/*", "identity-get"},
	{R_ID_REGISTER, "POST", "/api/identity/register", "identity-register"},
	{R_DM_SEND, "POST", "/api/dm/*", "dm-send"},
	{R_DM_WAIT, "GET", "/api/dm/*/inbox/wait", "dm-wait"},
	{R_DM_DELETE, "DELETE", "/api/dm/*/inbox/*", "dm-delete"},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Match pattern against path; on success store the raw param segments. */
static bool match(const char *pat, const char *path, const char **seg, size_t *seglen, int *nseg)
{
	*nseg = 0;
	while (*pat && *path) {
		if (*pat == '*') {
			const char *e = strchr(path, '/');
			size_t l = e ? (size_t)(e - path) : strlen(path);
			if (l == 0 || *nseg == 2)
				return false; /* HTTP-3: one non-empty segment */
			seg[*nseg] = path;
			seglen[(*nseg)++] = l;
			path += l;
			pat++;
			continue;
		}
		if (*pat != *path)
			return false;
		pat++;
		path++;
	}
	return *pat == '\0' && *path == '\0';
}

static void decode_param(const char *raw, size_t len, char *out, size_t *outlen)
{
	if (len > ROUTE_PARAM_MAX) {
		memcpy(out, raw, ROUTE_PARAM_MAX);
		out[ROUTE_PARAM_MAX] = '\0';
		*outlen = ROUTE_PARAM_MAX + 1;
		return;
	}
	/* HTTP-3: percent-decoded as UTF-8; a malformed escape leaves the segment raw. */
	*outlen = pct_decode(raw, len, out, false);
	out[*outlen] = '\0';
}

int router_match(const char *method, const char *path, struct route_match *m, char *allow, size_t allowcap)
{
	bool any = false;
	size_t alen = 0;
	if (allowcap)
		allow[0] = '\0';
	for (size_t i = 0; i < NROUTES; i++) {
		const char *seg[2];
		size_t seglen[2];
		int nseg;
		if (!match(routes[i].pattern, path, seg, seglen, &nseg))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			m->id = routes[i].id;
			m->p1_len = m->p2_len = 0;
			m->p1[0] = m->p2[0] = '\0';
			m->p1_raw = NULL;
			m->p1_raw_len = 0;
			if (nseg > 0) {
				decode_param(seg[0], seglen[0], m->p1, &m->p1_len);
				m->p1_raw = seg[0];
				m->p1_raw_len = seglen[0];
			}
			if (nseg > 1)
				decode_param(seg[1], seglen[1], m->p2, &m->p2_len);
			return 200;
		}
		if (!strstr(allow, routes[i].method)) {
			int n = snprintf(allow + alen, allowcap - alen, "%s%s", any ? ", " : "", routes[i].method);
			if (n > 0 && (size_t)n < allowcap - alen)
				alen += (size_t)n;
		}
		any = true;
	}
	/* The WebSocket path only exists for upgrade requests (HTTP-7); the adapter routes
	 * upgrades before calling us, so here it is an unknown path. */
	return any ? 405 : 404;
}

const char *router_name(enum route_id id)
{
	for (size_t i = 0; i < NROUTES; i++)
		if (routes[i].id == id)
			return routes[i].name;
	return id == R_ROOM_WS ? "room-ws" : "none";
}
