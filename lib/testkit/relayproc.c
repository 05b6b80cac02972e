#include "testkit/relayproc.h"

#include "client/buf.h"
#include "client/http.h"
#include "proto/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RELAY_POLL_NS (2 * 1000 * 1000)	/* 2 ms between polls */
#define RELAY_LOG_MAX (1024u * 1024 * 1024)
#define RELAY_TAIL_BYTES 4096
#define RELAY_LISTEN_PREFIX "sealroom listening on http://" /* LOG-5 */

static void relay_nap(void)
{
	struct timespec ts = { 0, RELAY_POLL_NS };

	nanosleep(&ts, NULL);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RELAY_SLOWDOWN RELAY_SANITIZER_FACTOR
#else
#define RELAY_SLOWDOWN 1
#endif

static long relay_start_timeout_ms(void)
{
	const char *env = getenv("SEALROOM_RELAY_START_TIMEOUT_MS");
	long v = env ? strtol(env, NULL, 10) : 0;

	return v > 0 ? v : (long)RELAY_START_TIMEOUT_MS * RELAY_SLOWDOWN;
}

static bool relay_keep_logs(void)
{
	return getenv("SEALROOM_KEEP_LOGS") != NULL;
}

const char *relay_bin_path(const char *compiled_default)
{
	const char *env = getenv("SEALROOM_RELAY_BIN");

	if (env && *env)
		return env;
	return compiled_default;
}

static char *relay_read_file(const char *path, size_t *len_out)
{
	struct cbuf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	cbuf_init(&b, RELAY_LOG_MAX);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (cbuf_add(&b, chunk, (size_t)n) < 0) {
			n = -1;
			break;
		}
	}
	close(fd);
	if (n < 0) {
		cbuf_free(&b);
		return NULL;
	}
	return cbuf_take(&b, len_out);
}

char *relay_log_read(const struct relay_proc *rp)
{
	if (rp->external || !rp->log_path[0])
		return NULL;
	return relay_read_file(rp->log_path, NULL);
}

static void relay_print_tail(const char *log_path)
{
	size_t len = 0;
	char *log;

	if (!log_path[0])
		return;
	log = relay_read_file(log_path, &len);
	if (!log)
		return;
	if (len > RELAY_TAIL_BYTES)
		fprintf(stderr, "---- relay log %s (last %d bytes) ----\n%s\n----\n", log_path,
			RELAY_TAIL_BYTES, log + len - RELAY_TAIL_BYTES);
	else
		fprintf(stderr, "---- relay log %s ----\n%s\n----\n", log_path, log);
	free(log);
}

bool relay_log_wait(const struct relay_proc *rp, const char *needle, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;

	for (;;) {
		char *log = relay_log_read(rp);
		bool found = log && strstr(log, needle);

		free(log);
		if (found)
			return true;
		if (clock_mono_ms() >= deadline)
			return false;
		relay_nap();
	}
}

size_t relay_log_count(const struct relay_proc *rp, const char *needle)
{
	char *log = relay_log_read(rp);
	size_t n = 0, nl = strlen(needle);
	const char *p;

	if (!log || !nl) {
		free(log);
		return 0;
	}
	for (p = log; (p = strstr(p, needle)); p += nl)
		n++;
	free(log);
	return n;
}

/* GET base/api/health until 200 or the deadline. */
static int relay_wait_health(const char *base, pid_t pid, int64_t deadline)
{
	struct http_client *c = http_client_new(NULL);
	char url[128];
	long last_status = 0;
	int ret = -1;

	if (!c) {
		fprintf(stderr, "relayproc: out of memory\n");
		return -1;
	}
	snprintf(url, sizeof(url), "%s/api/health", base);
	for (;;) {
		struct http_resp r;
		int64_t left = deadline - clock_mono_ms();

		if (left <= 0)
			break;
		if (http_do(c, "GET", url, NULL, NULL, 0, left < 1000 ? (long)left : 1000,
			    &r) == 0) {
			last_status = r.status;
			http_resp_free(&r);
			if (last_status == 200) {
				ret = 0;
				break;
			}
		}
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) != 0) {
			fprintf(stderr, "relayproc: relay exited before /api/health answered\n");
			break;
		}
		relay_nap();
	}
	if (ret < 0)
		fprintf(stderr,
			"relayproc: GET %s did not answer 200 in time (last status %ld, %s)\n",
			url, last_status, http_client_error(c));
	http_client_free(c);
	return ret;
}

/* "http://host[:port][/...]" -> port (default 80), or -1. */
static int relay_url_port(const char *url)
{
	const char *h = strstr(url, "://"), *end, *colon = NULL;

	if (!h)
		return -1;
	h += 3;
	end = h + strcspn(h, "/?#");
	for (const char *p = h; p < end; p++)
		if (*p == ':')
			colon = p;
	if (colon && (!strchr(h, ']') || colon > strchr(h, ']')))
		return (int)strtol(colon + 1, NULL, 10);
	return 80;
}

static int relay_use_external(struct relay_proc *rp, const char *base)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (n >= sizeof(rp->base)) {
		fprintf(stderr, "relayproc: SEALROOM_BASE is too long\n");
		return -1;
	}
	memset(rp, 0, sizeof(*rp));
	memcpy(rp->base, base, n);
	rp->base[n] = '\0';
	rp->port = relay_url_port(rp->base);
	rp->external = true;
	if (relay_wait_health(rp->base, 0, clock_mono_ms() + RELAY_EXTERNAL_TIMEOUT_MS) < 0) {
		memset(rp, 0, sizeof(*rp));
		return -1;
	}
	return 0;
}

/* Environment for the child: environ with every NAME in envp_extra replaced. The array is
 * malloc'd, the strings are borrowed. */
static char **relay_build_env(const char *const *envp_extra)
{
	size_t n_env = 0, n_extra = 0, k = 0;
	char **env;

	while (environ && environ[n_env])
		n_env++;
	while (envp_extra && envp_extra[n_extra])
		n_extra++;
	env = calloc(n_env + n_extra + 3, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n_env; i++) {
		bool replaced = false;

		for (size_t j = 0; j < n_extra; j++) {
			const char *eq = strchr(envp_extra[j], '=');
			size_t nl = eq ? (size_t)(eq - envp_extra[j]) : strlen(envp_extra[j]);

			if (strncmp(environ[i], envp_extra[j], nl) == 0 && environ[i][nl] == '=') {
				replaced = true;
				break;
			}
		}
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < n_extra; j++)
		env[k++] = (char *)envp_extra[j];
	/* Test relays hold few connections: a small worker pool starts in milliseconds even under
	 * TSan (4096 default workers take seconds there). Any explicit setting wins. */
	static const char *const dflt[] = {"WORKER_THREADS=256", "WORKER_RESERVE=16"};
	for (size_t d = 0; d < 2; d++) {
		size_t nl = (size_t)(strchr(dflt[d], '=') - dflt[d]);
		bool set = false;
		for (size_t i = 0; i < k && !set; i++)
			set = strncmp(env[i], dflt[d], nl + 1) == 0;
		if (!set)
			env[k++] = (char *)dflt[d];
	}
	env[k] = NULL;
	return env;
}

static char **relay_build_argv(const char *bin, const char *const *extra_args)
{
	static const char *const fixed[] = { "--host", "127.0.0.1", "--port", "0" };
	size_t n_extra = 0, k = 0;
	char **argv;

	while (extra_args && extra_args[n_extra])
		n_extra++;
	argv = calloc(1 + 4 + n_extra + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	argv[k++] = (char *)bin;
	for (size_t i = 0; i < 4; i++)
		argv[k++] = (char *)fixed[i];
	for (size_t i = 0; i < n_extra; i++)
		argv[k++] = (char *)extra_args[i];
	argv[k] = NULL;
	return argv;
}

/* Only async-signal-safe calls between fork and exec. */
static void relay_child(int log_fd, pid_t parent, const char *bin, char **argv, char **envp)
{
	static const char msg[] = "relayproc: exec failed\n";
	struct sigaction sa;
	sigset_t all;
	int devnull;

	if (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0)
		_exit(127);
	devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0 && devnull != STDIN_FILENO) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	/* A test may block or ignore signals (signalfd users, SIGPIPE); the relay must see
	 * SIGTERM with default dispositions. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127); /* the parent died before prctl took effect */
	execve(bin, argv, envp);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report to */
	}
	_exit(127);
}

/* Find a complete LOG-5 line in log; on success fill host (without brackets for IPv6 kept
 * as printed) and *port. Returns 1 found, 0 not yet, -1 malformed. */
static int relay_parse_listen(const char *log, char *host, size_t host_cap, int *port)
{
	const char *p = strstr(log, RELAY_LISTEN_PREFIX), *tok, *end, *colon = NULL;
	long v;
	char *ep;

	if (!p)
		return 0;
	tok = p + strlen(RELAY_LISTEN_PREFIX);
	end = strchr(tok, '\n');
	if (!end)
		return 0; /* line not complete yet */
	for (const char *q = tok; q < end && *q != ' ' && *q != '\r' && *q != '/'; q++)
		if (*q == ':')
			colon = q;
	if (!colon || (size_t)(colon - tok) >= host_cap)
		return -1;
	v = strtol(colon + 1, &ep, 10);
	if (ep == colon + 1 || v <= 0 || v > 65535)
		return -1;
	memcpy(host, tok, (size_t)(colon - tok));
	host[colon - tok] = '\0';
	*port = (int)v;
	return 1;
}

static void relay_abort_start(struct relay_proc *rp, pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	relay_print_tail(rp->log_path);
	if (rp->log_path[0] && !relay_keep_logs())
		unlink(rp->log_path);
	memset(rp, 0, sizeof(*rp));
}

int relay_start_bin(struct relay_proc *rp, const char *bin, const char *const *extra_args,
		    const char *const *envp_extra)
{
	const char *ext = getenv("SEALROOM_BASE");
	const char *tmpdir = getenv("TMPDIR");
	char **argv = NULL, **envp = NULL;
	int64_t deadline;
	pid_t pid, parent = getpid();
	int log_fd, status;
	char host[64];

	if (ext && *ext)
		return relay_use_external(rp, ext);
	memset(rp, 0, sizeof(*rp));
	if (!bin || !*bin) {
		fprintf(stderr, "relayproc: no relay binary (set SEALROOM_RELAY_BIN)\n");
		return -1;
	}
	if (access(bin, X_OK) != 0) {
		fprintf(stderr, "relayproc: %s is not executable: %m\n", bin);
		return -1;
	}
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	if (snprintf(rp->log_path, sizeof(rp->log_path), "%s/sealroom-relay-XXXXXX.log",
		     tmpdir) >= (int)sizeof(rp->log_path)) {
		fprintf(stderr, "relayproc: TMPDIR is too long\n");
		rp->log_path[0] = '\0';
		return -1;
	}
	log_fd = mkostemps(rp->log_path, 4, O_APPEND | O_CLOEXEC);
	if (log_fd < 0) {
		fprintf(stderr, "relayproc: cannot create %s: %m\n", rp->log_path);
		rp->log_path[0] = '\0';
		return -1;
	}
	argv = relay_build_argv(bin, extra_args);
	envp = relay_build_env(envp_extra);
	if (!argv || !envp) {
		fprintf(stderr, "relayproc: out of memory\n");
		close(log_fd);
		free(argv);
		free(envp);
		relay_abort_start(rp, 0);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		relay_child(log_fd, parent, bin, argv, envp);
	close(log_fd);
	free(argv);
	free(envp);
	if (pid < 0) {
		fprintf(stderr, "relayproc: fork: %m\n");
		relay_abort_start(rp, 0);
		return -1;
	}

	deadline = clock_mono_ms() + relay_start_timeout_ms();
	for (;;) {
		char *log = relay_read_file(rp->log_path, NULL);
		int found = log ? relay_parse_listen(log, host, sizeof(host), &rp->port) : 0;

		free(log);
		if (found < 0) {
			fprintf(stderr, "relayproc: malformed listening line\n");
			relay_abort_start(rp, pid);
			return -1;
		}
		if (found > 0)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "relayproc: %s exited (status 0x%x) before listening\n",
				bin, (unsigned)status);
			relay_abort_start(rp, 0);
			return -1;
		}
		if (clock_mono_ms() >= deadline) {
			fprintf(stderr, "relayproc: no \"%s...\" line within %ld ms\n",
				RELAY_LISTEN_PREFIX, relay_start_timeout_ms());
			relay_abort_start(rp, pid);
			return -1;
		}
		relay_nap();
	}
	/* A wildcard listener is reached through loopback. */
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (snprintf(rp->base, sizeof(rp->base), "http://%s:%d", host, rp->port) >=
	    (int)sizeof(rp->base)) {
		fprintf(stderr, "relayproc: listening address too long\n");
		relay_abort_start(rp, pid);
		return -1;
	}
	if (relay_wait_health(rp->base, pid, deadline) < 0) {
		relay_abort_start(rp, pid);
		return -1;
	}
	rp->pid = pid;
	return 0;
}

int relay_signal(struct relay_proc *rp, int sig)
{
	if (rp->external || rp->pid <= 0)
		return -1;
	return kill(rp->pid, sig) == 0 ? 0 : -1;
}

int relay_stop(struct relay_proc *rp)
{
	int64_t deadline;
	int status = 0, ret;
	pid_t w;

	if (rp->external || rp->pid <= 0) {
		memset(rp, 0, sizeof(*rp));
		return 0;
	}
	kill(rp->pid, SIGTERM);
	kill(rp->pid, SIGCONT); /* in case a test left it stopped */
	deadline = clock_mono_ms() + (int64_t)RELAY_STOP_TIMEOUT_MS * RELAY_SLOWDOWN;
	for (;;) {
		w = waitpid(rp->pid, &status, WNOHANG);
		if (w == rp->pid)
			break;
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "relayproc: waitpid: %m\n");
			status = -1;
			break;
		}
		if (clock_mono_ms() >= deadline) {
			fprintf(stderr, "relayproc: relay %d still running %d ms after SIGTERM\n",
				(int)rp->pid, RELAY_STOP_TIMEOUT_MS * RELAY_SLOWDOWN);
			kill(rp->pid, SIGKILL);
			while (waitpid(rp->pid, NULL, 0) < 0 && errno == EINTR)
				;
			status = -1;
			break;
		}
		relay_nap();
	}
	if (status == -1) {
		ret = -1;
	} else if (WIFEXITED(status)) {
		ret = WEXITSTATUS(status);
		if (ret != 0)
			fprintf(stderr, "relayproc: relay exited with status %d\n", ret);
	} else {
		fprintf(stderr, "relayproc: relay died from signal %d\n",
			WIFSIGNALED(status) ? WTERMSIG(status) : -1);
		ret = -1;
	}
	if (ret != 0)
		relay_print_tail(rp->log_path);
	if (rp->log_path[0] && !relay_keep_logs())
		unlink(rp->log_path);
	memset(rp, 0, sizeof(*rp));
	return ret;
}
