/* rpt.* — PROTOCOL.md §15.3: POST /api/report. The log line is the operator's file: pass
 * --bugs-log to check it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"
#include "crypto/ids.h"
#include "proto/json.h"

#define E_WHAT "field \"what\" required (5\xe2\x80\x93" "4000 chars)"

/* RPT-2, RPT-5. */
static void c_ok(struct conf_run *r)
{
	static const char *const bad[] = { "{\"what\":\"abcd\"}", "{\"what\":5}", "{}", "[]",
					   "{\"what\":\"\"}", NULL };
	const char *const *b;
	struct conf_resp resp;
	char keys[64], *big;

	if (conf_post_json(r, "/api/report", "{\"what\":\"hello\"}", &resp) < 0)
		return;
	conf_check(r, resp.status == 200 && strcmp(conf_keys(resp.json, keys, sizeof(keys)), "ok,id") == 0 &&
			      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp.json, "ok")) &&
			      conf_is_uuid(conf_jstr(resp.json, "id")),
		   0, "RPT-5: 200 {\"ok\":true,\"id\":\"<uuid>\"} (5 units are enough)");
	conf_expect_schema(r, &resp, "/api/report", "post", 0, "RPT-5");
	conf_resp_free(&resp);
	for (b = bad; *b; b++) {
		if (conf_post_json(r, "/api/report", *b, &resp) < 0)
			return;
		conf_expect_error(r, &resp, 400, E_WHAT, 0, 0,
				  "RPT-2: \"what\" shorter than 5 (or not a string) → 400 (en dash)");
		conf_resp_free(&resp);
	}
	big = malloc(6000);
	if (big) {
		memcpy(big, "{\"what\":\"", 9);
		memset(big + 9, 'w', 5000);
		memcpy(big + 5009, "\"}", 3);
		if (conf_post_json(r, "/api/report", big, &resp) == 0) {
			conf_check(r, resp.status == 200, 0, "RPT-2: a longer \"what\" is truncated to 4000, "
							     "not refused");
			conf_resp_free(&resp);
		}
		free(big);
	}
}

/* RPT-3, RPT-4, INV-12, HTTP-17: the log entry. */
static void c_log(struct conf_run *r)
{
	const char *path = r->ctx->o.bugs_log;
	char marker[32], body[2048], id[40] = "", *line = NULL;
	static const char *const ua[] = { "User-Agent: conformance-agent/1.0", NULL };
	static const char *const order[] = { "id", "ts", "what", "where", "repro", "context",
					     "contact", "severity", "ua", "ip_hash", NULL };
	struct conf_resp resp;
	int64_t deadline;
	cJSON *e = NULL;
	const cJSON *it;
	int i;

	if (!path) {
		conf_info(r, "the bug log is the operator's file: pass --bugs-log (BUGS_LOG)");
		return;
	}
	crypto_random_id(marker, 16, NULL);
	snprintf(body, sizeof(body),
		 "{\"what\":\"report %s\",\"where\":5,\"repro\":\"r\\u0000cut\",\"context\":\"c\","
		 "\"contact\":\"me\",\"severity\":\"urgent\",\"extra\":\"dropped\"}",
		 marker);
	{
		const char *h[3] = { ua[0], "Content-Type: application/json", NULL };

		if (conf_req(r, "POST", "/api/report", h, body, strlen(body), &resp) < 0)
			return;
	}
	if (conf_jstr(resp.json, "id"))
		snprintf(id, sizeof(id), "%s", conf_jstr(resp.json, "id"));
	conf_resp_free(&resp);
	deadline = conf_now() + conf_ms(r, 5000);
	while (!line && conf_now() < deadline) {
		FILE *f = fopen(path, "r");
		char *l = NULL;
		size_t cap = 0;

		while (f && getline(&l, &cap, f) > 0)
			if (strstr(l, marker)) {
				line = strdup(l);
				break;
			}
		free(l);
		if (f)
			fclose(f);
		if (!line)
			usleep(100000);
	}
	conf_check(r, line != NULL, 0, "RPT-4: the entry is appended to BUGS_LOG");
	if (!line)
		return;
	e = json_parse(line, strlen(line) - (line[strlen(line) - 1] == '\n'), 64, true);
	for (it = e ? e->child : NULL, i = 0; it && order[i]; it = it->next, i++)
		if (!it->string || strcmp(it->string, order[i]) != 0)
			break;
	conf_got(r, "%.300s", line);
	conf_check(r, e && !it && !order[i], 0,
		   "RPT-3: {id,ts,what,where,repro,context,contact,severity,ua,ip_hash}, nothing else");
	conf_check(r, conf_jstr(e, "id") && strcmp(conf_jstr(e, "id"), id) == 0, 0,
		   "RPT-3: id is the answer's id");
	conf_check(r, conf_jstr(e, "where") && !strcmp(conf_jstr(e, "where"), "") &&
			      conf_jstr(e, "severity") && !strcmp(conf_jstr(e, "severity"), "medium") &&
			      conf_jstr(e, "ua") && !strcmp(conf_jstr(e, "ua"), "conformance-agent/1.0"),
		   0, "RPT-3: non-string fields become \"\", unknown severities \"medium\", ua is the "
		      "User-Agent");
	conf_check(r, conf_jstr(e, "repro") && !strcmp(conf_jstr(e, "repro"), "r"), CK_SR,
		   "HTTP-17: report fields are cut at U+0000");
	{
		const char *h = conf_jstr(e, "ip_hash");
		bool ok = h && strlen(h) == 12;

		for (i = 0; ok && i < 12; i++)
			ok = (h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f');
		conf_check(r, ok, 0, "RPT-3/INV-12: ip_hash is 12 hex characters of a salted SHA-256");
		conf_check(r, !r->ip[0] || !strstr(line, r->ip), 0,
			   "INV-12: the client IP itself is not stored");
	}
	cJSON_Delete(e);
	free(line);
}

const struct conf_case conf_cases_rpt[] = {
	{ "rpt.ok", "RPT-2 RPT-5", CONF_MUST, 0, "report answers and the \"what\" length rule", c_ok },
	{ "rpt.log", "RPT-3 RPT-4 INV-12 HTTP-17", CONF_MUST, 0,
	  "the bug-log line (needs --bugs-log)", c_log },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
