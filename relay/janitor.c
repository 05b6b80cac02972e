#include "janitor.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "dm.h"
#include "hub.h"
#include "proto/clock.h"
#include "ratelimit.h"
#include "relay.h"
#include "replay.h"

#define RL_IDLE_MS (5 * 60 * 1000) /* RL-1: idle buckets MAY be discarded after 5 min */

static pthread_t thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static bool stop, started;

static void *janitor_main(void *arg)
{
	struct relay *relay = arg;
	pthread_mutex_lock(&mu);
	while (!stop) {
		int64_t due = clock_mono_ms() + relay->cfg.janitor_interval_ms;
		struct timespec ts = {.tv_sec = (time_t)(due / 1000), .tv_nsec = (long)(due % 1000) * 1000000};
		while (!stop && pthread_cond_timedwait(&cv, &mu, &ts) == 0)
			;
		if (stop)
			break;
		pthread_mutex_unlock(&mu);
		hub_janitor(relay->hub, clock_now_ms());
		rl_sweep(relay->rl, clock_mono_ms(), RL_IDLE_MS);
		rl_sweep(relay->rlg, clock_mono_ms(), RL_IDLE_MS);
		if (relay->dms)
			dm_prune_all(relay->dms, clock_now_ms()); /* DM-11 */
		struct replay *caches[] = {relay->rp_register, relay->rp_auth, relay->rp_room, relay->rp_dm};
		for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
			if (caches[i])
				replay_expire(caches[i], clock_mono_ms()); /* REPLAY-1 */
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int janitor_start(struct relay *relay)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cv, &ca);
	pthread_condattr_destroy(&ca);
	stop = false;
	if (pthread_create(&thread, NULL, janitor_main, relay) != 0)
		return -1;
	started = true;
	return 0;
}

void janitor_stop(void)
{
	if (!started)
		return;
	pthread_mutex_lock(&mu);
	stop = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&cv);
	started = false;
}
