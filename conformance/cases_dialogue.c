/* room.dialogue.* — the 200-turn bidirectional dialogue between two agents over SSE,
 * WebSocket and long-poll, with real sealed messages (CRYPTO-2) and exact accounting:
 * every message must reach both agents (the poster's own copy included, ROOM-16) exactly
 * once, in seq order, and decrypt to what was sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "proto/json.h"

#define TURNS 200
#define MSGS (2 * TURNS)

enum transport { T_SSE, T_WS, T_POLL };

struct agent {
	const char *name;
	struct sse_conn *sse;
	struct ws_conn *ws;
	int64_t last;		   /* highest seq received */
	int seen[MSGS];		   /* times each message was received */
	int received, ooo, decrypt_fail, unknown;
	int64_t latency_sum, latency_max;
};

struct dialogue {
	struct conf_run *r;
	struct conf_room room;
	enum transport t;
	struct agent ag[2];
	int64_t sent_at[MSGS];
};

/* Plaintext of message k: "A:<turn>" or "B:<turn>" plus padding that varies in length. */
static void plain_of(int k, char *out, size_t cap)
{
	snprintf(out, cap, "%c:%d:%.*s", k % 2 ? 'B' : 'A', k / 2, k % 37,
		 "the quick brown fox jumps over the lazy dog");
}

/* Inverse of plain_of: the message index, or -1 for anything plain_of cannot produce. */
static int index_of(const char *plain)
{
	const char *digits;
	char *end;
	long turn;

	if (!plain || (plain[0] != 'A' && plain[0] != 'B') || plain[1] != ':')
		return -1;
	digits = plain + 2;
	if (*digits < '0' || *digits > '9')
		return -1;
	errno = 0;
	turn = strtol(digits, &end, 10);
	if (errno || *end != ':' || turn >= TURNS)
		return -1;
	return 2 * (int)turn + (plain[0] == 'B');
}

/* Account one received message object. */
static void account(struct dialogue *d, struct agent *a, const cJSON *m)
{
	int64_t seq = conf_jint(m, "seq", -1);
	char *plain = conf_open_msg(&d->room, m);
	int k = index_of(plain);
	char want[128];

	a->received++;
	if (seq <= a->last)
		a->ooo++;
	else
		a->last = seq;
	if (!plain) {
		a->decrypt_fail++;
		return;
	}
	if (k < 0) {
		a->unknown++;
	} else {
		plain_of(k, want, sizeof(want));
		if (strcmp(want, plain) != 0) {
			a->decrypt_fail++;
		} else {
			int64_t lat = conf_now() - d->sent_at[k];

			a->seen[k]++;
			a->latency_sum += lat;
			if (lat > a->latency_max)
				a->latency_max = lat;
		}
	}
	free(plain);
}

/* Read from agent a until message k arrived (or the deadline); accounts everything read. */
static bool await(struct dialogue *d, struct agent *a, int k, long ms)
{
	int64_t deadline = conf_now() + ms;

	while (!a->seen[k]) {
		long left = (long)(deadline - conf_now());
		cJSON *ev = NULL;
		int rc;

		if (left <= 0)
			return false;
		if (d->t == T_SSE)
			rc = conf_sse_json(a->sse, left, &ev, NULL);
		else
			rc = conf_ws_json(a->ws, left, &ev, NULL);
		if (rc == 0 || rc == -1) {
			cJSON_Delete(ev);
			return false;
		}
		if (ev && conf_jstr(ev, "type") && strcmp(conf_jstr(ev, "type"), "message") == 0)
			account(d, a, ev);
		cJSON_Delete(ev);
	}
	return true;
}

/* Post message k from agent a over the dialogue's transport. */
static bool post(struct dialogue *d, struct agent *a, int k)
{
	char plain[128], extra[64];

	plain_of(k, plain, sizeof(plain));
	snprintf(extra, sizeof(extra), ",\"sender\":\"%s\"", a->name);
	d->sent_at[k] = conf_now();
	if (d->t == T_WS && !d->r->ctx->o.use_xff && k >= d->r->ctx->o.rl_cap - 10)
		usleep((useconds_t)(1e6 / d->r->ctx->o.rl_refill)); /* one shared bucket: pace */
	if (d->t == T_WS) {
		char *body = conf_sealed_body(&d->room, plain, extra);
		int rc = body ? ws_send_text(a->ws, body, strlen(body)) : -1;

		free(body);
		return rc == 0;
	}
	return conf_post_msg(d->r, &d->room, plain, extra, NULL) > 0;
}

/* Long-poll: park a wait after the agent's last seq, then read it after the post. */
static int park(struct dialogue *d, struct agent *a)
{
	char target[200];

	snprintf(target, sizeof(target), "/api/rooms/%s/wait?after=%lld&timeout=10", d->room.id,
		 (long long)a->last);
	return conf_raw_park(d->r, "GET", target, NULL, NULL);
}

static void drain_wait(struct dialogue *d, struct agent *a, int fd)
{
	struct raw_resp rr;
	cJSON *j;
	const cJSON *m;

	if (fd < 0 || conf_raw_read(fd, conf_ms(d->r, 12000), &rr) < 0)
		return;
	j = json_parse(rr.body, rr.body_len, 64, false);
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "messages"))
		account(d, a, m);
	cJSON_Delete(j);
	raw_resp_free(&rr);
}

static bool open_agent(struct dialogue *d, struct agent *a)
{
	char target[200];
	cJSON *ready;

	if (d->t == T_SSE) {
		snprintf(target, sizeof(target), "/api/rooms/%s/events?name=%s", d->room.id, a->name);
		a->sse = conf_sse(d->r, target, NULL);
		ready = a->sse ? conf_sse_until(a->sse, "ready", conf_ms(d->r, 5000), NULL) : NULL;
	} else if (d->t == T_WS) {
		/* Each agent is its own client: frames are rate limited per IP and room (WS-11). */
		if (d->r->ctx->o.use_xff && a == &d->ag[1])
			conf_fresh_ip(d->r, d->r->ip);
		snprintf(target, sizeof(target), "/api/rooms/%s/ws", d->room.id);
		if (conf_ws(d->r, target, NULL, &a->ws, NULL, NULL) != 0)
			return false;
		ready = conf_ws_until(a->ws, "ready", conf_ms(d->r, 5000), NULL);
	} else {
		return true;
	}
	cJSON_Delete(ready);
	return ready != NULL;
}

static void run_dialogue(struct conf_run *r, enum transport t, const char *rules)
{
	struct dialogue *d = calloc(1, sizeof(*d));
	int turn, i, k;
	int64_t t0;

	if (!d)
		return;
	d->r = r;
	d->t = t;
	conf_room_new(&d->room);
	d->ag[0].name = "agent-a";
	d->ag[1].name = "agent-b";
	if (t == T_POLL && conf_post_msg(r, &d->room, "opening", NULL, NULL) < 0)
		goto out; /* the room must exist for /wait to park (ROOM-WAIT-1) */
	if (!conf_check(r, open_agent(d, &d->ag[0]) && open_agent(d, &d->ag[1]), 0,
			"%s: both agents subscribe", rules))
		goto out;
	if (t == T_POLL) {
		/* Start both cursors at the opening message. */
		char target[160];
		cJSON *tx;

		snprintf(target, sizeof(target), "/api/rooms/%s/status", d->room.id);
		tx = conf_get_json(r, target, NULL);
		d->ag[0].last = d->ag[1].last = conf_jint(tx, "last_seq", 0);
		cJSON_Delete(tx);
	}
	t0 = conf_now();
	for (turn = 0; turn < TURNS; turn++) {
		for (i = 0; i < 2; i++) {
			struct agent *from = &d->ag[i], *to = &d->ag[1 - i];
			int fd = -1;

			k = 2 * turn + i;
			if (t == T_POLL)
				fd = park(d, to);
			if (!post(d, from, k)) {
				if (fd >= 0)
					close(fd);
				goto report;
			}
			if (t == T_POLL) {
				drain_wait(d, to, fd);
				close(fd);
			} else {
				await(d, to, k, conf_ms(r, 2000));
			}
		}
	}
	/* Collect the rest: each agent's own copies, and anything still in flight. */
	for (i = 0; i < 2; i++) {
		struct agent *a = &d->ag[i];

		if (t == T_POLL) {
			while (a->received < MSGS) {
				int fd = park(d, a), before = a->received;

				drain_wait(d, a, fd);
				if (fd >= 0)
					close(fd);
				if (a->received == before)
					break;
			}
		} else {
			await(d, a, MSGS - 1, conf_ms(r, 5000));
			for (k = 0; k < MSGS; k++)
				if (!a->seen[k] && !await(d, a, k, conf_ms(r, 500)))
					break;
		}
	}
report:
	for (i = 0; i < 2; i++) {
		struct agent *a = &d->ag[i];
		int missing = 0, dup = 0;

		for (k = 0; k < MSGS; k++) {
			missing += a->seen[k] == 0;
			dup += a->seen[k] > 1 ? a->seen[k] - 1 : 0;
		}
		conf_got(r, "%s: %d/%d delivered, %d missing, %d duplicated, %d out of order, %d "
			    "decrypt failures, %d unknown",
			 a->name, MSGS - missing, MSGS, missing, dup, a->ooo, a->decrypt_fail, a->unknown);
		conf_note(r, "%s: %d/%d delivered, %d missing, %d duplicated, %d out of order, %d "
			     "decrypt failures; latency mean %lld ms, max %lld ms",
			  a->name, MSGS - missing, MSGS, missing, dup, a->ooo, a->decrypt_fail,
			  (long long)(a->latency_sum / (MSGS - missing ? MSGS - missing : 1)),
			  (long long)a->latency_max);
		conf_check(r, missing == 0 && dup == 0 && a->ooo == 0 && a->decrypt_fail == 0 &&
				      a->unknown == 0,
			   0, "%s: a %d-turn dialogue: %d/%d delivered to %s, 0 missing, 0 duplicated, "
			      "0 out of order, 0 decrypt failures",
			   rules, TURNS, MSGS, MSGS, a->name);
	}
	conf_note(r, "%d turns in %lld ms", TURNS, (long long)(conf_now() - t0));
out:
	for (i = 0; i < 2; i++) {
		sse_close(d->ag[i].sse);
		ws_free(d->ag[i].ws);
	}
	free(d);
}

static void c_sse(struct conf_run *r)
{
	run_dialogue(r, T_SSE, "ROOM-23/SSE-12");
}

static void c_ws(struct conf_run *r)
{
	run_dialogue(r, T_WS, "ROOM-23/WS-16");
}

static void c_poll(struct conf_run *r)
{
	run_dialogue(r, T_POLL, "ROOM-WAIT-5/ROOM-22");
}

const struct conf_case conf_cases_dialogue[] = {
	{ "room.dialogue.sse", "ROOM-16 ROOM-21 ROOM-23 SSE-7 SSE-12 CRYPTO-2 CLIENT-3", CONF_MUST, 0,
	  "200-turn two-agent dialogue over SSE: 400/400 each, in order, decrypting", c_sse },
	{ "room.dialogue.ws", "ROOM-16 ROOM-21 ROOM-23 WS-16 WS-17 CRYPTO-2 CLIENT-4", CONF_MUST, 0,
	  "200-turn two-agent dialogue over WebSocket frames", c_ws },
	{ "room.dialogue.longpoll", "ROOM-16 ROOM-22 ROOM-WAIT-2 ROOM-WAIT-5 CRYPTO-2 CLIENT-6",
	  CONF_MUST, 0, "200-turn two-agent dialogue over POST + long-poll /wait", c_poll },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
