/* Unit: exact routing (HTTP-2..5), params decoded per HTTP-3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "router.h"

static void test_table(void **state)
{
	static const struct { const char *method, *path; int status; enum route_id id; const char *p1, *p2, *allow; } cases[] = {
		{"GET", "/", 200, R_ROOT, "", "", ""},
		{"GET", "/api/health", 200, R_HEALTH, "", "", ""},
		{"GET", "/metrics", 200, R_METRICS, "", "", ""},
		{"GET", "/api/metrics", 200, R_METRICS, "", "", ""},
		{"POST", "/api/rooms/ROOM2345/messages", 200, R_ROOM_MESSAGES, "ROOM2345", "", ""},
		{"GET", "/api/rooms/ab%41d/status", 200, R_ROOM_STATUS, "abAd", "", ""},         /* HTTP-3 */
		{"GET", "/api/rooms/ab%zzd/status", 200, R_ROOM_STATUS, "ab%zzd", "", ""},       /* raw when malformed */
		{"GET", "/api/rooms/a%2Fb/status", 200, R_ROOM_STATUS, "a/b", "", ""},
		{"GET", "/api/identity/register", 200, R_ID_GET, "register", "", ""},
		{"POST", "/api/identity/register", 200, R_ID_REGISTER, "", "", ""},
		{"DELETE", "/api/dm/%40alice/inbox/abc", 200, R_DM_DELETE, "@alice", "abc", ""},
		{"GET", "/api/dm/bob/inbox/wait", 200, R_DM_WAIT, "bob", "", ""},
		{"GET", "/api/rooms//status", 404, R_NONE, "", "", ""},                            /* empty segment */
		{"GET", "/api/rooms/x/status/", 404, R_NONE, "", "", ""},                          /* HTTP-2 */
		{"GET", "/Api/health", 404, R_NONE, "", "", ""},
		{"GET", "/api/rooms/x/ws", 404, R_NONE, "", "", ""},                               /* HTTP-7 */
		{"PUT", "/api/identity/register", 405, R_NONE, "", "", "GET, POST"},
		{"POST", "/api/dm/a/inbox/wait", 405, R_NONE, "", "", "GET, DELETE"},
		{"HEAD", "/api/rooms/x/events", 405, R_NONE, "", "", "GET"},
		{"GET", "/api/dm/alice", 405, R_NONE, "", "", "POST"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct route_match m;
		char allow[64];
		int st = router_match(cases[i].method, cases[i].path, &m, allow, sizeof(allow));
		assert_int_equal(st, cases[i].status);
		if (st == 200) {
			assert_int_equal(m.id, cases[i].id);
			assert_string_equal(m.p1, cases[i].p1);
			assert_string_equal(m.p2, cases[i].p2);
		} else if (st == 405) {
			assert_string_equal(allow, cases[i].allow);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
