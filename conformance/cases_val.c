/* val.* — PROTOCOL.md §4.1: identifiers (VAL-1..8). NUM-1..4 are checked where the numbers
 * are used (transcript.*, wait.*, claim.*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

/* VAL-1: room ids. */
static void c_room_id(struct conf_run *r)
{
	static const struct {
		const char *id;
		bool ok;
	} t[] = {
		{ "abcd", true },
		{ "abc", false },
		{ "ab_c-d9", true },
		{ "ab.cd", false },
		{ "ab+cd", false },
		{ "0123456789012345678901234567890123456789012345678901234567890123", true },
		{ "01234567890123456789012345678901234567890123456789012345678901234", false },
		{ "ab%20cd", false },
	};
	size_t i;
	char target[200], upper[80], lower[80];
	struct conf_room room;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct conf_resp resp;

		snprintf(target, sizeof(target), "/api/rooms/%s/status", t[i].id);
		if (conf_get(r, target, &resp) < 0)
			return;
		if (t[i].ok)
			conf_check(r, resp.status == 200, 0, "VAL-1: \"%s\" is a valid room id", t[i].id);
		else
			conf_expect_error(r, &resp, 400, "bad roomId", 0, 0, "VAL-1: an invalid room id");
		conf_resp_free(&resp);
	}
	/* Case-sensitive: the lower-cased id is another room. */
	conf_room_new(&room);
	snprintf(upper, sizeof(upper), "%s", room.id);
	snprintf(lower, sizeof(lower), "cf%s", room.id + 2);
	for (i = 2; lower[i]; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	if (conf_post_msg(r, &room, "case", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/status", lower);
	{
		cJSON *st = conf_get_json(r, target, NULL);

		conf_check(r, cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "exists")), 0,
			   "VAL-1: room ids are case-sensitive (%s is not %s)", lower, upper);
		cJSON_Delete(st);
	}
}

static void expect_status(struct conf_run *r, const char *method, const char *target,
			  const char *body, long status, const char *error, unsigned ck,
			  const char *rule)
{
	static const char *const ct[] = { "Content-Type: application/json", NULL };
	struct conf_resp resp;

	if (conf_req(r, method, target, body ? ct : NULL, body, body ? strlen(body) : 0, &resp) < 0)
		return;
	if (error)
		conf_expect_error(r, &resp, status, error, ck, ck, rule);
	else
		conf_check(r, resp.status == status, ck, "%s: status %ld", rule, status);
	conf_resp_free(&resp);
}

/* VAL-2, VAL-3, VAL-4, VAL-8: handles on the routes that check them. */
static void c_handles(struct conf_run *r)
{
	static const char *const bad_strict[] = { "a", "-ab", "_ab", "a b", "ab!",
						  "abcdefghijklmnopqrstuvwxyz0123456", NULL };
	const char *const *p;
	char target[200], body[200], room[16];

	/* VAL-2 via DM-7a (the path handle minus '@', lower-cased). */
	for (p = bad_strict; *p; p++) {
		snprintf(target, sizeof(target), "/api/dm/%s/inbox/wait", *p);
		if (strchr(*p, ' '))
			snprintf(target, sizeof(target), "/api/dm/a%%20b/inbox/wait");
		expect_status(r, "GET", target, NULL, 400, "invalid handle", 0,
			      "VAL-2/DM-7a: a handle failing ^[a-z0-9][a-z0-9_-]{1,31}$");
	}
	expect_status(r, "GET", "/api/dm/@CFNOSUCHHANDLE/inbox/wait", NULL, 404, "no such handle", 0,
		      "VAL-2/DM-7a: one leading @ is dropped and the handle lower-cased before "
		      "VAL-2 (then DM-7b)");
	expect_status(r, "GET", "/api/dm/ab/inbox/wait", NULL, 404, "no such handle", 0,
		      "VAL-2: a 2-character handle is valid");
	/* VAL-2 without lower-casing at registration; VAL-4 reserved names. */
	expect_status(r, "POST", "/api/identity/register", "{\"handle\":\"Abcdef\"}", 400,
		      "invalid handle (regex: ^[a-z0-9][a-z0-9_-]{1,31}$)", 0,
		      "VAL-2/ID-REG-4: register does not lower-case");
	expect_status(r, "POST", "/api/identity/register", "{\"handle\":\"admin\"}", 409,
		      "handle reserved", 0, "VAL-4/ID-REG-5: admin is reserved");
	expect_status(r, "POST", "/api/identity/register", "{\"handle\":\"support\"}", 409,
		      "handle reserved", 0, "VAL-4/ID-REG-5: support is reserved");
	/* VAL-3 / VAL-8 via CLAIM-1b: lower-cased (ASCII only), then ^[a-z0-9_-]{1,32}$. */
	conf_room_id(room);
	snprintf(target, sizeof(target), "/api/rooms/%s/claim", room);
	expect_status(r, "POST", target, "{\"handle\":\"CF_NOSUCH-HANDLE\"}", 404, "no such handle", 0,
		      "VAL-3/CLAIM-1b: CF_NOSUCH-HANDLE lower-cases to a valid loose handle (→ "
		      "CLAIM-1c)");
	snprintf(body, sizeof(body), "{\"handle\":\"\xc3\x84" "bc\"}");
	expect_status(r, "POST", target, body, 400, "bad handle", CK_SR,
		      "VAL-8/VAL-3: lower-casing folds ASCII only: \"Äbc\" stays invalid");
	expect_status(r, "POST", target, "{\"handle\":\"a.b\"}", 400, "bad handle", 0,
		      "VAL-3: '.' is not allowed");
	expect_status(r, "POST", target,
		      "{\"handle\":\"abcdefghijklmnopqrstuvwxyz0123456\"}", 400, "bad handle", 0,
		      "VAL-3: at most 32 characters");
}

/* VAL-5: presence names, via /listening and the presence they produce. */
static void c_presence_name(struct conf_run *r)
{
	static const struct {
		const char *json; /* the name as a JSON string literal body */
		const char *stored; /* expected stored name (NULL: as given) */
		bool ok;
		unsigned ck;
	} t[] = {
		{ "\"alice\"", NULL, true, 0 },
		{ "\"A.b_c-d@e\"", NULL, true, 0 },
		{ "\"\xc3\xa9t\xc3\xa9\"", NULL, true, 0 },
		{ "\"\\u00a0nbsp\"", NULL, true, 0 },
		{ "\"\xe6\x97\xa5\xe6\x9c\xac\"", NULL, true, 0 },
		{ "\"\xf0\x9f\x98\x80\"", NULL, true, 0 },
		{ "\"a b\"", NULL, false, 0 },
		{ "\"a+b\"", NULL, false, 0 },
		{ "\"a/b\"", NULL, false, 0 },
		{ "\"a#b\"", NULL, false, 0 },
		{ "\"a:b\"", NULL, false, 0 },
		{ "\"a\\u0001b\"", NULL, false, 0 },
		{ "\"a\\u007fb\"", NULL, false, 0 },
		{ "\"a\\u009fb\"", NULL, false, 0 },
		{ "\"\"", NULL, false, 0 },
	};
	struct conf_room room;
	char target[200], body[512], x64[70], x65[80], x63e[80];
	size_t i;
	struct sse_conn *c;
	cJSON *ready;
	const cJSON *it;
	bool saw64 = false, saw63 = false;

	conf_room_new(&room);
	if (conf_post_msg(r, &room, "exists", NULL, NULL) < 0)
		return;
	snprintf(target, sizeof(target), "/api/rooms/%s/listening", room.id);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(body, sizeof(body), "{\"name\":%s}", t[i].json);
		expect_status(r, "POST", target, body, t[i].ok ? 200 : 400, t[i].ok ? NULL : "bad name",
			      t[i].ck, t[i].ok ? "VAL-5: a valid presence name" : "VAL-5: an invalid "
											"presence name");
	}
	/* truncate(v,64) first: 65 units are accepted as their first 64. */
	memset(x64, 'x', 64);
	x64[64] = '\0';
	snprintf(x65, sizeof(x65), "%sy", x64);
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", x65);
	expect_status(r, "POST", target, body, 200, NULL, 0, "VAL-5: a 65-unit name is truncated to 64");
	/* 63 units + a non-BMP character: unit 64 is a high surrogate: keep 63 (sealroom). */
	memset(x63e, 'z', 63);
	memcpy(x63e + 63, "\xf0\x9f\x98\x80", 5);
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", x63e);
	expect_status(r, "POST", target, body, 200, NULL, 0,
		      "VAL-5: a name whose unit 64 is a high surrogate is accepted");
	snprintf(target, sizeof(target), "/api/rooms/%s/events?after=999999999999999", room.id);
	c = conf_sse(r, target, NULL);
	if (!c)
		return;
	ready = conf_sse_until(c, "ready", conf_ms(r, 5000), NULL);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ready, "participants")) {
		const char *n = conf_jstr(it, "name");

		if (n && strcmp(n, x64) == 0)
			saw64 = true;
		if (n && strlen(n) == 63 && n[0] == 'z')
			saw63 = true;
	}
	conf_check(r, saw64, 0, "VAL-5: the stored name is truncate(v,64)");
	conf_check(r, saw63, CK_SR,
		   "§0 truncate (sealroom): a surrogate pair is never split (63 units kept)");
	cJSON_Delete(ready);
	sse_close(c);
}

const struct conf_case conf_cases_val[] = {
	{ "val.room-id", "VAL-1", CONF_MUST, 0, "room ids: pattern, length, case-sensitivity",
	  c_room_id },
	{ "val.handles", "VAL-2 VAL-3 VAL-4 VAL-8 DM-7a CLAIM-1b ID-REG-4 ID-REG-5", CONF_MUST, 0,
	  "strict and loose handles, reserved names, ASCII-only lower-casing", c_handles },
	{ "val.presence-name", "VAL-5 ROOM-LISTEN-2", CONF_MUST, 0,
	  "presence names: allowed characters, truncation to 64 units", c_presence_name },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
