/* ops.* — PROTOCOL.md §16-17: configuration and operator state. Local by nature: they need
 * the relay's executable (--relay-bin) or its STATE_DIR (--state-dir). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conform.h"
#include "proto/json.h"

/* Our environment with env_kv ("NAME=value", or NULL) set: a NULL-terminated array of
 * borrowed pointers (free the array only), or NULL if out of memory. Built before fork:
 * the child of a threaded process may call only async-signal-safe functions, which
 * putenv/setenv are not. */
static char **env_with(const char *env_kv)
{
	size_t n = 0, k = 0, i, name_len = env_kv ? strcspn(env_kv, "=") : 0;
	char **envp;

	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	if (!envp)
		return NULL;
	for (i = 0; i < n; i++)
		if (!env_kv || strncmp(environ[i], env_kv, name_len + 1) != 0)
			envp[k++] = environ[i];
	if (env_kv)
		envp[k] = (char *)env_kv;
	return envp;
}

/* Run argv (with extra environment) with stdout+stderr captured; returns the exit status
 * (-1 if it did not exit within ms) and the output in *out (caller frees). */
static int run_capture(char *const argv[], const char *env_kv, long ms, char **out)
{
	int p[2];
	pid_t pid;
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	char **envp = env_with(env_kv);
	int status = 0;
	int64_t deadline = conf_now() + ms;

	*out = NULL;
	if (!buf || !envp || pipe(p) < 0) {
		free(buf);
		free(envp);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		free(buf);
		free(envp);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	free(envp);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n;
		pid_t w;

		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(p[0], buf + len, cap - len - 1);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (conf_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
			break;
		}
		usleep(20000);
	}
	for (;;) {
		ssize_t n = read(p[0], buf + len, cap - len - 1);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	buf[len] = '\0';
	*out = buf;
	if (status == -1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* NAME → name-with-dashes (CFG-1's flag spelling, without the leading "--"). */
static void flag_of(char *out, size_t cap, const char *name)
{
	size_t k;

	snprintf(out, cap, "%s", name);
	for (k = 0; out[k]; k++) {
		if (out[k] == '_')
			out[k] = '-';
		else if (out[k] >= 'A' && out[k] <= 'Z')
			out[k] = (char)(out[k] - 'A' + 'a');
	}
}

/* CFG-1, CFG-2: settings as flags and environment; bad values stop start-up naming them. */
static void c_config(struct conf_run *r)
{
	static const char *const names[] = {
		"HOST", "PORT", "ROOMS_MAX", "ROOM_GLOBAL_MAX_BYTES", "INBOX_GLOBAL_MAX_BYTES",
		"STREAM_CAP_PER_IP", "WAITER_CAP_PER_IP", "ROOM_WAITERS_MAX",
		"DM_WAITERS_MAX_PER_HANDLE", "GLOBAL_RL_CAP", "GLOBAL_RL_REFILL_PER_SEC",
		"INBOX_SIG_SEEN_MAX", "ROOM_SIG_SEEN_MAX", "DM_ENV_SEEN_MAX",
		"ROOM_CURSORS_PER_HANDLE_MAX", "CLAIM_TTL_MS", "IDENTITIES_MAX", "IDENTITY_ADMIN_TOKEN",
		"METRICS_TOKEN", "STATE_FILE_MAX", "BUGS_LOG", "BUGS_LOG_MAX_BYTES", "ROOM_RL_CAP",
		"ROOM_RL_REFILL_PER_SEC", "REGISTER_SIG_SEEN_MAX", "RECENT_MAX", "RECENT_TTL_MS",
		"INBOX_MAX", "INBOX_TTL_MS", "JSON_BODY_MAX_BYTES", "WS_MAX_PAYLOAD_BYTES",
		"LISTENERS_MAX_PER_ROOM", "SUB_BACKLOG_MAX_BYTES", "STATE_DIR", "BUGS_IP_SALT",
		"SOURCE_URL", NULL,
	};
	const char *bin = r->ctx->o.relay_bin;
	char *out = NULL;
	int rc, missing = 0;
	size_t i;

	if (!bin) {
		conf_info(r, "configuration is local: pass --relay-bin PATH to check CFG-1/CFG-2");
		return;
	}
	{
		char *argv[] = { (char *)bin, "--help", NULL };

		rc = run_capture(argv, NULL, conf_ms(r, 5000), &out);
	}
	for (i = 0; names[i]; i++) {
		char flag[64];

		flag[0] = flag[1] = '-';
		flag_of(flag + 2, sizeof(flag) - 2, names[i]);
		if (!out || !strstr(out, flag) || !strstr(out, names[i])) {
			conf_got(r, "--help does not mention %s / %s", flag, names[i]);
			missing++;
		}
	}
	conf_check(r, rc == 0 && missing == 0, 0,
		   "CFG-1: every setting of §16 is a flag --lower-case-name and an environment "
		   "variable (listed by --help)");
	free(out);
	{
		static const struct {
			const char *flag, *env, *name;
		} bad[] = {
			{ "--global-rl-cap=-1", NULL, "GLOBAL_RL_CAP" },
			{ "--rooms-max=12abc", NULL, "ROOMS_MAX" },
			{ "--room-rl-refill-per-sec=fast", NULL, "ROOM_RL_REFILL_PER_SEC" },
			{ NULL, "RECENT_MAX=-5", "RECENT_MAX" },
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char *argv[] = { (char *)bin, "--host", "127.0.0.1", "--port", "0",
					 (char *)(bad[i].flag ? bad[i].flag : "--access-log=1"), NULL };
			char lower[64];

			flag_of(lower, sizeof(lower), bad[i].name);
			rc = run_capture(argv, bad[i].env, conf_ms(r, 5000), &out);
			conf_sent(r, "%s %s%s", bin, bad[i].flag ? bad[i].flag : "with env ",
				  bad[i].env ? bad[i].env : "");
			conf_got(r, "exit %d: %.200s", rc, out ? out : "");
			conf_check(r, rc > 0 && out && (strstr(out, bad[i].name) || strstr(out, lower)), 0,
				   "CFG-2: a malformed or negative value stops start-up with a message "
				   "naming the setting");
			free(out);
		}
	}
	{
		/* Decimal refill rates are accepted (and start-up proceeds: stop it at once). */
		char *argv[] = { (char *)bin, "--host", "127.0.0.1", "--port", "0",
				 "--room-rl-refill-per-sec=2.5", "--version", NULL };

		rc = run_capture(argv, NULL, conf_ms(r, 5000), &out);
		conf_check(r, rc == 0, 0, "CFG-2: refill rates accept decimals");
		free(out);
	}
}

/* STATE-1..3: the identity registry file (needs --state-dir). */
static void c_state(struct conf_run *r)
{
	struct crypto_identity id;
	char path[1200];
	FILE *f;
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	cJSON *j, *rec;

	if (!r->ctx->o.state_dir) {
		conf_info(r, "operator state is local: pass --state-dir DIR (the relay's STATE_DIR)");
		return;
	}
	if (conf_register(r, &id) < 0)
		return;
	/* STATE-2: written on each registration before answering: no polling needed. */
	snprintf(path, sizeof(path), "%s/identities.json", r->ctx->o.state_dir);
	f = fopen(path, "rb");
	conf_check(r, f != NULL, 0, "STATE-1/STATE-2: identities.json exists right after a "
				    "registration answered");
	if (!f)
		return;
	n = getdelim(&text, &cap, '\0', f);
	fclose(f);
	j = n > 0 ? json_parse(text, (size_t)n, 64, true) : NULL;
	rec = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "identities"), id.handle);
	conf_got(r, "%.300s", text ? text : "");
	conf_check(r, rec && conf_jstr(rec, "handle") && !strcmp(conf_jstr(rec, "handle"), id.handle) &&
			      conf_jstr(rec, "box_pub") && !strcmp(conf_jstr(rec, "box_pub"), id.box_pub_b64) &&
			      conf_jstr(rec, "sign_pub") && !strcmp(conf_jstr(rec, "sign_pub"), id.sign_pub_b64) &&
			      json_is_int(cJSON_GetObjectItemCaseSensitive(rec, "registered_at")) &&
			      cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(rec, "meta")),
		   0, "STATE-1: {\"identities\":{\"<handle>\":{handle,box_pub,sign_pub,registered_at,"
		      "meta[,inbox_seq]}}}");
	conf_note(r, "STATE-3 (load-time validation) needs a restart with a crafted file: covered by "
		     "the relay's own tests");
	cJSON_Delete(j);
	free(text);
}

const struct conf_case conf_cases_ops[] = {
	{ "ops.config", "CFG-1 CFG-2", CONF_MUST, CF_SR,
	  "settings are flags and variables; bad values stop start-up (needs --relay-bin)",
	  c_config },
	{ "ops.state", "STATE-1 STATE-2 STATE-3", CONF_MUST, CF_SR,
	  "the identity registry file (needs --state-dir)", c_state },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
