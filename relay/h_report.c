/* h_report.c — POST /api/report (§15.3). */
#include <stdio.h>

#include "crypto/ids.h"
#include "handlers.h"
#include "limits.h"
#include "metrics.h"
#include "proto/clock.h"
#include "relay.h"
#include "report.h"

void h_report(struct req *r)
{
	struct relay *relay = r->relay;
	if (!limits_take(relay, r->ip, "bugs", false)) {
		resp_error(r, 429, "rate limited", 10); /* RPT-1: bucket `bugs` only */
		return;
	}
	if (!bugs_what_ok(r->json)) {
		resp_error(r, 400, "field \"what\" required (5\u20134000 chars)", 0); /* RPT-2 (en dash) */
		return;
	}
	char id[37];
	size_t len;
	crypto_uuid_v4(id);
	char *line = bugs_entry(relay->bugs, r->json, req_header(r, "User-Agent"), r->ip, id, clock_now_ms(), &len);
	if (!line) {
		resp_error(r, 500, "internal error", 0);
		return;
	}
	bugs_submit(relay->bugs, line, len); /* RPT-4: the writer thread appends; we do not wait */
	metrics_inc(M_bug_reports_total);
	char body[80];
	int n = snprintf(body, sizeof(body), "{\"ok\":true,\"id\":\"%s\"}", id);
	resp_json(r, 200, body, (size_t)n, NULL); /* RPT-5 */
}
