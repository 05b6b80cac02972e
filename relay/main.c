/* sealroom-relay — entry point: configuration, start-up, signal-driven shutdown. */
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "claim.h"
#include "config.h"
#include "crypto/crypto.h"
#include "dm.h"
#include "http.h"
#include "hub.h"
#include "identity.h"
#include "ipcount.h"
#include "janitor.h"
#include "proto/clock.h"
#include "ratelimit.h"
#include "relay.h"
#include "replay.h"
#include "report.h"

/* META-3: SHA-256 of the running executable, computed once at start. */
static void exe_sha256(char out[65])
{
	crypto_hash_sha256_state st;
	unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	snprintf(out, 65, "unknown");
	if (fd < 0)
		return;
	crypto_hash_sha256_init(&st);
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
	close(fd);
	if (n < 0)
		return;
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int main(int argc, char **argv)
{
	static struct relay relay; /* large: keep it off the stack */
	int rc = config_load(&relay.cfg, argc, argv, environ, stdout, stderr);
	if (rc)
		return rc > 0 ? 0 : 2; /* CFG-2: a bad setting exits 2 */
	if (crypto_init() < 0) {
		fprintf(stderr, "sealroom-relay: libsodium failed to initialise\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Block the shutdown signals before any thread starts, so only sigwait() sees them. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	relay.started_at_ms = clock_now_ms();
	exe_sha256(relay.exe_sha256);
	if (relay_open(&relay, stderr) < 0) {
		fprintf(stderr, "sealroom-relay: out of memory at start-up\n");
		return 1;
	}
	/* STATE-3: a corrupt or oversize file is logged and the registry starts empty */
	ids_load(relay.ids, relay.cfg.state_file_max, clock_now_ms());
	if (ids_flusher_start(relay.ids) < 0) {
		fprintf(stderr, "sealroom-relay: cannot start the identity flusher thread\n");
		return 1;
	}
	if (http_start(&relay) < 0)
		return 1;
	if (janitor_start(&relay) < 0) {
		fprintf(stderr, "sealroom-relay: cannot start the janitor thread\n");
		http_stop(&relay);
		return 1;
	}
	fprintf(stderr, "sealroom-relay %s: %lld workers, rooms max %lld, pid %d\n", SEALROOM_VERSION,
		(long long)relay.cfg.worker_threads, (long long)relay.cfg.rooms_max, (int)getpid());

	int sig = 0;
	sigwait(&set, &sig);
	fprintf(stderr, "sealroom-relay: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	atomic_store(&relay.stopping, true);
	/* End streams and parked requests, then stop civetweb (joins its workers). */
	hub_shutdown(relay.hub);
	dm_shutdown(relay.dms);
	/* Let woken streams and parked requests write their last bytes before civetweb's stop
	 * flag makes every write fail (bounded: a peer that does not read cannot hold us). */
	for (int i = 0; i < 200 && atomic_load(&relay.longlived) > 0; i++)
		usleep(10 * 1000);
	http_stop(&relay);
	janitor_stop();
	ids_flusher_stop(relay.ids);
	ids_persist(relay.ids); /* STATE-2: flush on SIGTERM/SIGINT */
	relay_close(&relay); /* bugs_free writes what is still queued */
	fprintf(stderr, "sealroom-relay: stopped cleanly\n");
	return 0;
}
