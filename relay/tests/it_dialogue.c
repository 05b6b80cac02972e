/* Integration: a 200-turn two-agent dialogue over each transport (issue #3 "Tests"; DESIGN.md
 * soak scenario "200-turn dialogue"). Agents A and B share a room key; A opens, B answers every
 * turn, A sends the next turn only after B's answer. Each agent seals with the room key and
 * decrypts everything it receives (CRYPTO-2). Per transport and per agent we count every
 * message received — its own 200 echoes (ROOM-16) and the peer's 200 turns — and assert
 * exactly 400 delivered between the agents, 0 duplicated, 0 out of order and 0 decrypt
 * failures (ROOM-23, SSE-10, WS-16, ROOM-WAIT-5).
 *   SSE:       receive on GET /events, send with POST /messages
 *   WS:        receive and send on the WebSocket
 *   long-poll: receive with GET /wait?after=<cursor>, send with POST /messages */
#include "it_util.h"

#include "client/sse.h"
#include "client/ws.h"

#define TURNS 200

enum transport { T_SSE, T_WS, T_POLL };
static const char *const tname[] = {"sse", "ws", "long-poll"};

static struct relay_proc rp;
static unsigned char key[32];

static int setup(void **state)
{
	const char *args[] = {"--worker-threads", "64", "--worker-reserve", "8",
			      "--room-rl-cap", "100000", "--room-rl-refill-per-sec", "100000",
			      "--global-rl-cap", "100000", "--global-rl-refill-per-sec", "100000", NULL};
	if (crypto_init() != 0)
		return -1;
	env_room_key_new(key);
	return relay_start(&rp, args);
}

static int teardown(void **state)
{
	return relay_stop(&rp) == 0 ? 0 : -1;
}

struct agent {
	pthread_t th;
	char me, peer;                 /* 'A' or 'B' */
	enum transport t;
	const char *room;
	/* counts */
	int peer_got, own_got, dups, ooo, decrypt_fail, wrong;
	int64_t max_seq;
	int64_t *seen;                 /* seqs received, for duplicate detection */
	int nseen;
	int next_peer_turn, next_own_turn, sent;
	char err[256];
	/* transport state */
	struct http_client *hc;
	struct sse_conn *sse;
	struct ws_conn *ws;
	int64_t cursor;
};

static void agent_fail(struct agent *a, const char *what)
{
	if (!a->err[0])
		snprintf(a->err, sizeof(a->err), "%c: %s", a->me, what);
}

static int agent_send(struct agent *a, int turn)
{
	char plain[96], extra[32], *ct, nonce[33];
	snprintf(plain, sizeof(plain), "%c turn %03d: sealed with the room key", a->me, turn);
	snprintf(extra, sizeof(extra), ",\"sender\":\"%c\"", a->me);
	if (env_room_seal(key, plain, strlen(plain), &ct, nonce) != 0) {
		agent_fail(a, "seal failed");
		return -1;
	}
	char body[512];
	snprintf(body, sizeof(body), "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s}", ct, nonce, extra);
	free(ct);
	a->sent++;
	if (a->t == T_WS)
		return ws_send_text(a->ws, body, strlen(body)) == 0 ? 0 : (agent_fail(a, "ws send failed"), -1);
	char url[256];
	struct http_resp r;
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	snprintf(url, sizeof(url), "%s/api/rooms/%s/messages", rp.base, a->room);
	if (http_do(a->hc, "POST", url, hdrs, body, strlen(body), 10000, &r) != 0) {
		agent_fail(a, "post: transport error");
		return -1;
	}
	int rc = r.status == 200 ? 0 : -1;
	if (rc)
		agent_fail(a, r.body);
	http_resp_free(&r);
	return rc;
}

/* Handle one received message object: decrypt, classify, count, and answer if it is due. */
static void agent_on_message(struct agent *a, const cJSON *msg)
{
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(msg, "seq");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(msg, "ciphertext");
	const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(msg, "nonce");
	const cJSON *sender = cJSON_GetObjectItemCaseSensitive(msg, "sender");
	if (!cJSON_IsNumber(seq) || !cJSON_IsString(ct) || !cJSON_IsString(nonce) || !cJSON_IsString(sender)) {
		a->wrong++;
		return;
	}
	int64_t s = (int64_t)seq->valuedouble;
	for (int i = 0; i < a->nseen; i++)
		if (a->seen[i] == s) {
			a->dups++;
			return;
		}
	if (a->nseen < 2 * TURNS + 16)
		a->seen[a->nseen++] = s;
	if (s < a->max_seq)
		a->ooo++;
	else
		a->max_seq = s;
	char *plain;
	size_t plen;
	if (env_room_open(key, ct->valuestring, strlen(ct->valuestring), nonce->valuestring,
			  strlen(nonce->valuestring), &plain, &plen) != 0) {
		a->decrypt_fail++;
		return;
	}
	char who = 0;
	int turn = -1;
	if (sscanf(plain, "%c turn %d:", &who, &turn) != 2 || (who != 'A' && who != 'B') ||
	    sender->valuestring[0] != who || sender->valuestring[1]) {
		a->wrong++;
		free(plain);
		return;
	}
	free(plain);
	if (who == a->me) {
		if (turn != a->next_own_turn)
			a->ooo++;
		a->next_own_turn = turn + 1;
		a->own_got++;
		return;
	}
	if (turn != a->next_peer_turn)
		a->ooo++;
	a->next_peer_turn = turn + 1;
	a->peer_got++;
	/* B answers every turn; A opens the next one after B's answer */
	if (a->me == 'B')
		agent_send(a, turn);
	else if (turn + 1 < TURNS)
		agent_send(a, turn + 1);
}

static bool agent_finished(const struct agent *a)
{
	return a->peer_got >= TURNS && a->own_got >= TURNS;
}

/* Receive until finished, failed or the deadline. */
static void agent_loop(struct agent *a, int64_t deadline)
{
	while (!agent_finished(a) && !a->err[0] && clock_mono_ms() < deadline) {
		if (a->t == T_SSE) {
			struct sse_event_copy ev;
			int rc = sse_next_event(a->sse, &ev, 1000);
			if (rc < 0) {
				agent_fail(a, "sse stream ended");
				return;
			}
			if (rc == 1) {
				if (ev.has_id) {
					cJSON *j = cJSON_Parse(ev.data);
					const cJSON *seq = cJSON_GetObjectItemCaseSensitive(j, "seq");
					if (cJSON_IsNumber(seq) && strtoll(ev.id, NULL, 10) == (int64_t)seq->valuedouble)
						agent_on_message(a, j); /* SSE-9: id: is the seq */
					else
						a->wrong++;
					cJSON_Delete(j);
				}
				sse_event_copy_free(&ev);
			}
		} else if (a->t == T_WS) {
			struct ws_msg m;
			enum ws_recv_result rc = ws_recv(a->ws, &m, 1000);
			if (rc == WS_RECV_TEXT) {
				cJSON *j = cJSON_Parse(m.data);
				const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
				if (cJSON_IsString(type) && strcmp(type->valuestring, "message") == 0)
					agent_on_message(a, j);
				else if (cJSON_IsString(type) && strcmp(type->valuestring, "error") == 0)
					agent_fail(a, m.data);
				cJSON_Delete(j);
				ws_msg_free(&m);
			} else if (rc != WS_RECV_TIMEOUT) {
				agent_fail(a, "ws ended");
				if (rc == WS_RECV_CLOSE)
					ws_msg_free(&m);
				return;
			}
		} else {
			char url[256];
			struct http_resp r;
			snprintf(url, sizeof(url), "%s/api/rooms/%s/wait?after=%lld&timeout=5", rp.base, a->room, (long long)a->cursor);
			if (http_do(a->hc, "GET", url, NULL, NULL, 0, 10000, &r) != 0 || r.status != 200) {
				agent_fail(a, "wait failed");
				return;
			}
			cJSON *j = cJSON_Parse(r.body);
			const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages");
			bool absent = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "exists"));
			const cJSON *m;
			cJSON_ArrayForEach(m, msgs) {
				const cJSON *seq = cJSON_GetObjectItemCaseSensitive(m, "seq");
				agent_on_message(a, m);
				if (cJSON_IsNumber(seq) && (int64_t)seq->valuedouble > a->cursor)
					a->cursor = (int64_t)seq->valuedouble; /* CLIENT-6: largest seq returned */
			}
			cJSON_Delete(j);
			http_resp_free(&r);
			if (absent)
				it_nap_ms(5); /* B before A's first post: the room does not exist yet */
		}
	}
	if (!agent_finished(a) && !a->err[0])
		agent_fail(a, "deadline passed");
}

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	char url[256];
	a->hc = http_client_new(NULL);
	a->seen = calloc(2 * TURNS + 16, sizeof(*a->seen));
	if (!a->hc || !a->seen) {
		agent_fail(a, "out of memory");
		return NULL;
	}
	if (a->t == T_SSE) {
		snprintf(url, sizeof(url), "%s/api/rooms/%s/events?name=%c", rp.base, a->room, a->me);
		a->sse = sse_open(url, NULL, NULL, 5000);
		if (!a->sse || sse_conn_status(a->sse) != 200)
			agent_fail(a, "sse_open failed");
	} else if (a->t == T_WS) {
		snprintf(url, sizeof(url), "%s/api/rooms/%s/ws?name=%c", rp.base, a->room, a->me);
		if (ws_connect(url, NULL, NULL, 5000, &a->ws, NULL, NULL) != 0)
			agent_fail(a, "ws_connect failed");
	}
	/* A opens; a subscriber that joins late still gets everything from the replay, and a
	 * long-poll starts at after=0, so no start barrier is needed */
	if (!a->err[0] && a->me == 'A')
		agent_send(a, 0);
	if (!a->err[0])
		agent_loop(a, clock_mono_ms() + 45000);
	sse_close(a->sse);
	if (a->ws)
		ws_close(a->ws, 1000);
	http_client_free(a->hc);
	free(a->seen);
	return NULL;
}

static void run_dialogue(enum transport t, const char *room)
{
	struct agent ag[2];
	memset(ag, 0, sizeof(ag));
	int64_t t0 = clock_mono_ms();
	for (int i = 0; i < 2; i++) {
		ag[i].me = i ? 'B' : 'A';
		ag[i].peer = i ? 'A' : 'B';
		ag[i].t = t;
		ag[i].room = room;
		assert_int_equal(pthread_create(&ag[i].th, NULL, agent_main, &ag[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(ag[i].th, NULL);
	int64_t ms = clock_mono_ms() - t0;
	int delivered = ag[0].peer_got + ag[1].peer_got;
	int dups = ag[0].dups + ag[1].dups, ooo = ag[0].ooo + ag[1].ooo;
	int fails = ag[0].decrypt_fail + ag[1].decrypt_fail, wrong = ag[0].wrong + ag[1].wrong;
	print_message("dialogue %-9s: delivered %d/%d (A got %d from B, B got %d from A), echoes %d+%d, "
		      "duplicated %d, out of order %d, decrypt failures %d, malformed %d, %lld ms\n",
		      tname[t], delivered, 2 * TURNS, ag[0].peer_got, ag[1].peer_got, ag[0].own_got, ag[1].own_got,
		      dups, ooo, fails, wrong, (long long)ms);
	for (int i = 0; i < 2; i++) {
		if (ag[i].err[0])
			fail_msg("%s: %s", tname[t], ag[i].err);
		assert_int_equal(ag[i].sent, TURNS);
		assert_int_equal(ag[i].peer_got, TURNS);
		assert_int_equal(ag[i].own_got, TURNS);  /* ROOM-16: the poster's own echo too */
		assert_int_equal(ag[i].dups, 0);
		assert_int_equal(ag[i].ooo, 0);
		assert_int_equal(ag[i].decrypt_fail, 0);
		assert_int_equal(ag[i].wrong, 0);
	}
	assert_int_equal(delivered, 2 * TURNS);
	/* the room holds exactly the 400 messages, in seq order, with consecutive seqs */
	struct http_client *hc = http_client_new(NULL);
	char path[128];
	struct http_resp r;
	snprintf(path, sizeof(path), "/api/rooms/%s/status", room);
	it_get(hc, &rp, path, &r);
	assert_non_null(strstr(r.body, "\"recent_count\":400,"));
	http_resp_free(&r);
	http_client_free(hc);
}

static void test_dialogue_sse(void **state)
{
	run_dialogue(T_SSE, "DIALOGS1");
}

static void test_dialogue_ws(void **state)
{
	run_dialogue(T_WS, "DIALOGW1");
}

static void test_dialogue_long_poll(void **state)
{
	run_dialogue(T_POLL, "DIALOGP1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dialogue_sse),
		cmocka_unit_test(test_dialogue_ws),
		cmocka_unit_test(test_dialogue_long_poll),
	};
	return cmocka_run_group_tests_name("it_dialogue", tests, setup, teardown);
}
