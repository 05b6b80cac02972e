/* relayproc — start and stop a real sealroom-relay process for tests (STYLE.md "Fixtures").
 *
 * relay_start() runs the relay binary with "--host 127.0.0.1 --port 0" plus the caller's
 * arguments, its stdout and stderr appended to a fresh temporary log file (never a pipe: the
 * relay's access log would fill it and block the relay). It waits, polling, for the LOG-5
 * line "sealroom listening on http://HOST:PORT" and then for GET /api/health to answer 200.
 * relay_stop() sends SIGTERM and checks the exit status, so every test also proves graceful
 * shutdown (DESIGN.md §10).
 *
 * If the environment variable SEALROOM_BASE is set (e.g. "http://127.0.0.1:3000"), no
 * process is started: the fixture targets that external relay (external = true, extra
 * arguments and environment are ignored, stop is a no-op), so any suite can run against
 * another relay.
 *
 * The binary: relay_start() and relay_start_env() use $SEALROOM_RELAY_BIN if set, else the
 * SEALROOM_RELAY_BIN macro that CMake defines for test executables; relay_start_bin() takes
 * an explicit path.
 *
 * The child gets PR_SET_PDEATHSIG(SIGTERM), so a crashed test does not leave a relay behind;
 * Linux delivers it when the *thread* that started the relay exits, so start relays from a
 * thread that outlives them (normally the test's main thread).
 *
 * Environment: SEALROOM_KEEP_LOGS (any value) keeps the log files; SEALROOM_RELAY_BIN as
 * above; SEALROOM_BASE as above. TMPDIR chooses the log directory (default /tmp).
 * Not thread-safe per struct relay_proc; distinct fixtures may be used from distinct threads.
 */
#ifndef SEALROOM_TESTKIT_RELAYPROC_H
#define SEALROOM_TESTKIT_RELAYPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Readiness deadline for both the listening line and /api/health, and the stop deadline.
 * Sanitizer builds (where the relay is built the same way) multiply both by
 * RELAY_SANITIZER_FACTOR: a TSan relay needs 11-17 s to start its 4096 workers on the 2-core
 * machine. The environment variable SEALROOM_RELAY_START_TIMEOUT_MS overrides the start
 * deadline. */
#define RELAY_START_TIMEOUT_MS 10000
#define RELAY_STOP_TIMEOUT_MS 10000
#define RELAY_SANITIZER_FACTOR 4
/* How long an external relay (SEALROOM_BASE) gets to answer /api/health with 200. */
#define RELAY_EXTERNAL_TIMEOUT_MS 5000

struct relay_proc {
	pid_t pid;		/* child pid; 0 when not running or external */
	int port;		/* TCP port the relay listens on */
	char base[64];		/* "http://127.0.0.1:PORT", no trailing slash */
	char log_path[256];	/* the child's stdout+stderr; "" when external */
	bool external;		/* SEALROOM_BASE was used */
};

/* Start the relay at path bin (must not be NULL). extra_args: NULL or a NULL-terminated
 * array of further command-line arguments appended after "--host 127.0.0.1 --port 0".
 * envp_extra: NULL or a NULL-terminated array of "NAME=value" strings added to (or
 * replacing in) the inherited environment. Blocks until the relay is ready, it exited, or
 * RELAY_START_TIMEOUT_MS passed. Returns 0 with *rp filled in, or -1 after printing the
 * reason and the log's tail on stderr (the child is then killed and reaped, the log removed
 * unless SEALROOM_KEEP_LOGS, and *rp zeroed). */
int relay_start_bin(struct relay_proc *rp, const char *bin, const char *const *extra_args,
		    const char *const *envp_extra);

/* The binary relay_start() uses: getenv("SEALROOM_RELAY_BIN") if set and non-empty, else
 * compiled_default (may be NULL). Returns a pointer to static or environment storage. */
const char *relay_bin_path(const char *compiled_default);

#ifdef SEALROOM_RELAY_BIN
#define RELAY_DEFAULT_BIN SEALROOM_RELAY_BIN
#else
#define RELAY_DEFAULT_BIN NULL
#endif

/* As relay_start_bin(), with the binary from relay_bin_path(RELAY_DEFAULT_BIN) and extra
 * environment variables. Fails (-1, message on stderr) if no binary is known. */
static inline int relay_start_env(struct relay_proc *rp, const char *const *extra_args,
				  const char *const *envp_extra)
{
	return relay_start_bin(rp, relay_bin_path(RELAY_DEFAULT_BIN), extra_args, envp_extra);
}

/* As relay_start_env() without extra environment. */
static inline int relay_start(struct relay_proc *rp, const char *const *extra_args)
{
	return relay_start_env(rp, extra_args, NULL);
}

/* Stop the relay: SIGTERM, then wait (polling) up to RELAY_STOP_TIMEOUT_MS. Returns the exit
 * status (0 = clean shutdown); if the relay died from a signal or did not exit in time
 * (it is then SIGKILLed and reaped) returns -1. On a non-zero result the log's tail is
 * printed on stderr. Removes the log unless SEALROOM_KEEP_LOGS is set. Idempotent: on a
 * stopped or external fixture it returns 0 and does nothing. */
int relay_stop(struct relay_proc *rp);

/* Send signal sig to the running relay (e.g. SIGKILL for crash tests, SIGSTOP). Returns 0,
 * or -1 if there is no child. Does not reap; relay_stop() still does. */
int relay_signal(struct relay_proc *rp, int sig);

/* The whole log file as a malloc'd NUL-terminated string (caller frees), or NULL if there
 * is none (external relay) or it cannot be read. Non-blocking apart from the file read. */
char *relay_log_read(const struct relay_proc *rp);

/* Poll the log until it contains needle or timeout_ms passes (a few ms per poll). Returns
 * true if found. The relay's stdout goes to a file, so lines appear once it flushes. */
bool relay_log_wait(const struct relay_proc *rp, const char *needle, long timeout_ms);

/* Number of non-overlapping occurrences of needle in the log right now. */
size_t relay_log_count(const struct relay_proc *rp, const char *needle);

#endif
