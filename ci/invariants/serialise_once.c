/* serialise_once — INV-5 in process: a broadcast is rendered once, and every subscriber of the
 * room receives that one rendering (relay/hub.h, DESIGN.md 4). Built by inv-05's script
 * against relay_core with the linker option --wrap for each JSON renderer, so every call the
 * relay makes to one is counted here:
 *
 *   cc ... serialise_once.c librelay_core.a ... -Wl,--wrap=jw_take,--wrap=cJSON_Print,
 *          --wrap=cJSON_PrintUnformatted,--wrap=cJSON_PrintBuffered
 *
 * For N = 1 and N = 24 subscribers (SSE and WS kinds alternating) it posts M messages through
 * room_post() and then reads every subscriber's events with room_next(). Properties:
 *   (1) the renders counted during the posts do not depend on N (serialised once, not once
 *       per subscriber);
 *   (2) every subscriber's cursor yields the very same struct event objects (pointer-equal),
 *       so SSE frames and WS payloads are cut from the same bytes (SSE-9, WS-17).
 * Prints PASS/FAIL lines like invdrive; exit 0 iff both hold. No threads, no sockets.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hub.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"

#define M 6
#define NMAX 24

static _Atomic long renders;

char *__real_jw_take(struct jw *w, size_t *len);
char *__wrap_jw_take(struct jw *w, size_t *len);
char *__real_cJSON_Print(const cJSON *item);
char *__wrap_cJSON_Print(const cJSON *item);
char *__real_cJSON_PrintUnformatted(const cJSON *item);
char *__wrap_cJSON_PrintUnformatted(const cJSON *item);
char *__real_cJSON_PrintBuffered(const cJSON *item, int prebuffer, cJSON_bool fmt);
char *__wrap_cJSON_PrintBuffered(const cJSON *item, int prebuffer, cJSON_bool fmt);

char *__wrap_jw_take(struct jw *w, size_t *len)
{
	renders++;
	return __real_jw_take(w, len);
}

char *__wrap_cJSON_Print(const cJSON *item)
{
	renders++;
	return __real_cJSON_Print(item);
}

char *__wrap_cJSON_PrintUnformatted(const cJSON *item)
{
	renders++;
	return __real_cJSON_PrintUnformatted(item);
}

char *__wrap_cJSON_PrintBuffered(const cJSON *item, int prebuffer, cJSON_bool fmt)
{
	renders++;
	return __real_cJSON_PrintBuffered(item, prebuffer, fmt);
}

static int failures;

static void result(int ok, const char *what, long a, long b)
{
	printf("%s %s (%ld, %ld)\n", ok ? "PASS" : "FAIL", what, a, b);
	failures += !ok;
}

/* Drain every event pending for s; store the message events (at most max) in out. */
static int drain(struct room *room, struct sub *s, struct event **out, int max)
{
	int n = 0;
	struct event *first, *last;
	while (room_next(room, s, clock_mono_ms(), &first, &last) == 1) {
		for (struct event *e = first;; e = e->next) {
			if (e->type == EV_MESSAGE && n < max)
				out[n++] = e;
			if (e == last)
				break;
		}
		sub_advance(room, s, last);
	}
	return n;
}

/* Run one room with nsub subscribers; returns the renders counted during the M posts and
 * fills same (1 when every subscriber saw pointer-equal events for all M messages). */
static long run(struct config *cfg, int nsub, int *same, long *seen)
{
	struct hub *h = hub_new(cfg);
	bool capped = false;
	struct room *room = h ? hub_get(h, "inv5room", true, &capped) : NULL;
	struct sub *subs[NMAX];
	struct event *evs[NMAX][M];
	int got[NMAX];
	if (!room) {
		printf("FAIL harness: cannot create a hub room\n");
		exit(1);
	}
	for (int i = 0; i < nsub; i++) {
		struct join j;
		memset(&j, 0, sizeof(j));
		subs[i] = room_join(h, room, i % 2 ? SUB_WS : SUB_SSE, 0, NULL, 0, NULL, 0, &j);
		join_release(&j);
		if (!subs[i]) {
			printf("FAIL harness: room_join\n");
			exit(1);
		}
	}
	for (int i = 0; i < nsub; i++)
		drain(room, subs[i], evs[i], M); /* presence events of the joins */

	long before = renders;
	for (int m = 0; m < M; m++) {
		struct post p;
		unsigned char raw[24];
		char ct[64], nonce[48], id[37];
		int64_t seq;
		memset(raw, m, sizeof(raw));
		b64_encode(raw, 21, ct, sizeof(ct), false, true);
		b64_encode(raw, 24, nonce, sizeof(nonce), false, true);
		memset(&p, 0, sizeof(p));
		p.ct = ct;
		p.ct_len = strlen(ct);
		p.nonce = nonce;
		p.nonce_len = strlen(nonce);
		p.sender = "s\xc3\xa9nder\x01";
		p.sender_len = strlen(p.sender);
		if (room_post(h, room, &p, &seq, id) != POST_OK) {
			printf("FAIL harness: room_post\n");
			exit(1);
		}
	}
	long during = renders - before;

	*same = 1;
	*seen = 0;
	for (int i = 0; i < nsub; i++) {
		got[i] = drain(room, subs[i], evs[i], M);
		*seen += got[i];
		if (got[i] != M)
			*same = 0;
		for (int m = 0; m < got[i] && i > 0; m++)
			if (evs[i][m] != evs[0][m])
				*same = 0;
	}
	for (int i = 0; i < nsub; i++)
		room_leave(h, room, subs[i]);
	hub_release(h, room);
	hub_free(h);
	return during;
}

int main(void)
{
	struct config cfg;
	char arg0[] = "serialise_once";
	char *argv[] = {arg0, NULL};
	char *envp[] = {NULL};
	if (config_load(&cfg, 1, argv, envp, stdout, stderr) != 0)
		return 1;
	int same1, sameN;
	long seen1, seenN;
	long r1 = run(&cfg, 1, &same1, &seen1);
	long rN = run(&cfg, NMAX, &sameN, &seenN);
	result(r1 == rN && r1 >= 1,
	       "renders during 6 posts do not depend on the subscriber count: 1 subscriber vs 24", r1, rN);
	result(sameN && seenN == (long)NMAX * M,
	       "24 subscribers (SSE and WS) all received the same event objects, pointer-equal: messages seen, expected",
	       seenN, (long)NMAX * M);
	return failures ? 1 : 0;
}
