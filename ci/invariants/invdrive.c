/* invdrive — the dynamic (running-relay) parts of the design-invariant checks
 * (ci/invariants/inv-NN-*.sh, spec/invariants.md). Not part of the CMake build: lib.sh compiles
 * it against the static libraries of a build directory.
 *
 *   invdrive SCENARIO --relay BIN --sandbox DIR [--vectors DIR]
 *
 * Each scenario starts real relays (lib/testkit/relayproc.h: 127.0.0.1, port 0, readiness
 * polled, SIGTERM at the end with the exit status checked) with their cwd, HOME and TMPDIR
 * inside a fresh directory under --sandbox, drives them over HTTP, SSE and WebSocket with
 * values that carry unique markers, and prints one line per check:
 *
 *   PASS <detail> | FAIL <detail> | SKIP <detail>
 *
 * (the shell script prefixes "inv-NN: "). A route answering 500 "internal error" is a
 * FAIL (every route is implemented); SKIP is only used for a cap this harness cannot fill,
 * and the detail says which. Exit status: 0 when nothing failed, 1 otherwise.
 * Nothing here sleeps to synchronise: every wait polls with a deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/http.h"
#include "client/sse.h"
#include "client/ws.h"
#include "crypto/auth.h"
#include "crypto/crypto.h"
#include "crypto/identity.h"
#include "crypto/sigstr.h"
#include "proto/b64.h"
#include "proto/clock.h"
#include "proto/json.h"
#include "testkit/relayproc.h"

#define TMO 10000 /* ms: deadline of one ordinary request */
#define MAXH 12

static const char *relay_bin;
static const char *sandbox_base;
static const char *vectors_dir;
static int n_fail;

/* ---- results ------------------------------------------------------------------------------ */

static void say(const char *kind, const char *fmt, va_list ap)
{
	printf("%s ", kind);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pass(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("PASS", fmt, ap);
	va_end(ap);
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("FAIL", fmt, ap);
	va_end(ap);
	n_fail++;
}

static void skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("SKIP", fmt, ap);
	va_end(ap);
}

/* PASS or FAIL with the same detail; returns ok. */
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	if (!ok)
		n_fail++;
	return ok;
}

static void die(const char *what)
{
	printf("FAIL harness: %s\n", what);
	exit(1);
}

static void nap_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- markers ------------------------------------------------------------------------------- */

/* n random characters of [a-z0-9] (valid in room ids, handles and base64). */
static void rand_alnum(char *out, size_t n)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	for (size_t i = 0; i < n; i++)
		out[i] = set[randombytes_uniform(sizeof(set) - 1)];
	out[n] = '\0';
}

/* Canonical base64 (standard alphabet, padded) of n random bytes. */
static void rand_b64(char *out, size_t cap, size_t n)
{
	unsigned char buf[256];
	if (n > sizeof(buf))
		die("rand_b64 too long");
	randombytes_buf(buf, n);
	if (!b64_encode(buf, n, out, cap, false, true) && n)
		die("rand_b64 buffer");
}

/* ---- relay rig ----------------------------------------------------------------------------- */

struct rig {
	struct relay_proc rp;
	struct http_client *c;
	char dir[400];        /* the relay's cwd, HOME and TMPDIR live here */
	char state[450];      /* dir/state (used as STATE_DIR when asked) */
	char log[256];        /* the relay's stdout+stderr file (kept after the stop) */
	bool up;
};

static void rig_init(struct rig *g, const char *name)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->dir, sizeof(g->dir), "%s/%s.XXXXXX", sandbox_base, name);
	if (!mkdtemp(g->dir))
		die("mkdtemp");
	snprintf(g->state, sizeof(g->state), "%s/state", g->dir);
	char p[512];
	snprintf(p, sizeof(p), "%s/tmp", g->dir);
	mkdir(p, 0700);
	g->c = http_client_new(NULL);
	if (!g->c)
		die("http client");
}

/* Start the relay with cwd, HOME and TMPDIR in g->dir; env: extra NAME=value strings. */
static bool rig_start(struct rig *g, const char *const *env)
{
	const char *e[32];
	char home[450], tmp[450];
	size_t k = 0;
	snprintf(home, sizeof(home), "HOME=%s", g->dir);
	snprintf(tmp, sizeof(tmp), "TMPDIR=%s/tmp", g->dir);
	e[k++] = home;
	e[k++] = tmp;
	/* A small civetweb pool: these checks need a few dozen connections, not thousands. */
	e[k++] = "WORKER_THREADS=192";
	e[k++] = "WORKER_RESERVE=32";
	for (size_t i = 0; env && env[i] && k < 31; i++)
		e[k++] = env[i];
	e[k] = NULL;
	char cwd[1024];
	if (!getcwd(cwd, sizeof(cwd)) || chdir(g->dir) < 0)
		die("chdir");
	int rc = relay_start_bin(&g->rp, relay_bin, NULL, e);
	if (chdir(cwd) < 0)
		die("chdir back");
	g->up = rc == 0;
	if (!g->up)
		fail("relay did not start (%s)", relay_bin);
	else
		snprintf(g->log, sizeof(g->log), "%s", g->rp.log_path);
	return g->up;
}

/* SIGTERM and check the exit status (DESIGN.md 10: graceful shutdown exits 0). */
static bool rig_stop(struct rig *g)
{
	if (!g->up)
		return true;
	/* Drop our kept-alive connection first, so shutdown need not wait for it to idle out. */
	http_client_free(g->c);
	g->c = http_client_new(NULL);
	int64_t t0 = clock_mono_ms();
	int st = relay_stop(&g->rp);
	if (getenv("INVDRIVE_TRACE"))
		fprintf(stderr, "invdrive: relay stopped in %lld ms\n", (long long)(clock_mono_ms() - t0));
	g->up = false;
	if (st != 0)
		fail("relay did not shut down cleanly on SIGTERM (status %d)", st);
	return st == 0;
}

static void rig_free(struct rig *g)
{
	if (g->up)
		rig_stop(g);
	http_client_free(g->c);
	g->c = NULL;
}

/* The relay's stdout+stderr so far (malloc'd). Works after a stop too (SEALROOM_KEEP_LOGS).
 * A log without the LOG-5 line means the harness lost it: that is a failure, never an empty
 * (vacuously clean) log. */
static char *rig_log(struct rig *g)
{
	char *s = NULL;
	if (g->log[0]) {
		FILE *f = fopen(g->log, "rb");
		if (f) {
			fseek(f, 0, SEEK_END);
			long n = ftell(f);
			fseek(f, 0, SEEK_SET);
			s = malloc((size_t)(n > 0 ? n : 0) + 1);
			if (s) {
				size_t k = fread(s, 1, (size_t)(n > 0 ? n : 0), f);
				s[k] = '\0';
			}
			fclose(f);
		}
	}
	if (!s || !strstr(s, "sealroom listening on")) {
		fail("harness: the relay log %s is missing or has no LOG-5 line", g->log);
		free(s);
		s = NULL;
	}
	return s ? s : strdup("");
}

static void rig_drop_log(struct rig *g)
{
	if (g->log[0])
		unlink(g->log);
	g->log[0] = '\0';
}

/* One request. hdrs: NULL-terminated "Name: value" lines. Returns the status, or -1 on a
 * transport error (r is then empty). */
static long rq(struct rig *g, const char *method, const char *path, const char *const *hdrs,
	       const char *body, struct http_resp *r)
{
	char url[4096];
	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", g->rp.base, path);
	if (http_do(g->c, method, url, hdrs, body, body ? strlen(body) : 0, TMO, r) < 0)
		return -1;
	return r->status;
}

/* POST a JSON body from client IP ip (X-Forwarded-For from loopback counts, IP-1), with one
 * optional extra header. */
static long post(struct rig *g, const char *path, const char *ip, const char *extra,
		 const char *body, struct http_resp *r)
{
	char x[96];
	const char *h[4];
	size_t k = 0;
	h[k++] = "Content-Type: application/json";
	if (ip) {
		snprintf(x, sizeof(x), "X-Forwarded-For: %s", ip);
		h[k++] = x;
	}
	if (extra)
		h[k++] = extra;
	h[k] = NULL;
	return rq(g, "POST", path, h, body, r);
}

static long get(struct rig *g, const char *path, const char *ip, const char *extra,
		struct http_resp *r)
{
	char x[96];
	const char *h[3];
	size_t k = 0;
	if (ip) {
		snprintf(x, sizeof(x), "X-Forwarded-For: %s", ip);
		h[k++] = x;
	}
	if (extra)
		h[k++] = extra;
	h[k] = NULL;
	return rq(g, "GET", path, h, NULL, r);
}

/* Status of a request whose body is not needed. */
static long post_s(struct rig *g, const char *path, const char *ip, const char *body)
{
	struct http_resp r;
	long st = post(g, path, ip, NULL, body, &r);
	http_resp_free(&r);
	return st;
}

static bool body_has(const struct http_resp *r, const char *needle)
{
	return r->body && strstr(r->body, needle) != NULL;
}

static bool is_error(const struct http_resp *r, long status, const char *text)
{
	char want[512];
	snprintf(want, sizeof(want), "{\"error\":\"%s\"", text);
	return r->status == status && r->body && strncmp(r->body, want, strlen(want)) == 0;
}

static bool not_implemented(long st, const struct http_resp *r)
{
	return st == 500 && body_has(r, "internal error");
}

/* Integer value of "key": in a JSON text (first occurrence), or def. */
static int64_t jint(const char *json, const char *key, int64_t def)
{
	char k[64];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = json ? strstr(json, k) : NULL;
	if (!p)
		return def;
	return strtoll(p + strlen(k), NULL, 10);
}

/* ---- protocol helpers ---------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	return clock_now_ms();
}

static void msg_body(char *out, size_t cap, const char *ct, const char *nonce, const char *extra)
{
	snprintf(out, cap, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\"%s%s}", ct, nonce,
		 extra && *extra ? "," : "", extra ? extra : "");
}

/* Post one fresh random message to room; returns the status and its seq (when 200). */
static long post_msg(struct rig *g, const char *room, const char *ip, int64_t *seq)
{
	char ct[64], nonce[48], body[256], path[128];
	struct http_resp r;
	rand_b64(ct, sizeof(ct), 27);
	rand_b64(nonce, sizeof(nonce), 24);
	msg_body(body, sizeof(body), ct, nonce, NULL);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	long st = post(g, path, ip, NULL, body, &r);
	if (seq)
		*seq = st == 200 ? jint(r.body, "seq", -1) : -1;
	http_resp_free(&r);
	return st;
}

/* SIG-1 registration of id from ip. Returns the status (201, 409, ...). */
static long register_id(struct rig *g, const struct crypto_identity *id, const char *ip,
			struct http_resp *out)
{
	char s[512], sig[89], body[1024];
	int64_t ts = now_ms();
	size_t hl = strlen(id->handle);
	if (sigstr_register(s, sizeof(s), id->handle, hl, ts, id->box_pub_b64, 44, id->sign_pub_b64, 44) < 0 ||
	    crypto_sign_b64(id, s, strlen(s), sig) < 0)
		die("sign register");
	snprintf(body, sizeof(body),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"%s\"}",
		 id->handle, id->box_pub_b64, id->sign_pub_b64, (long long)ts, sig);
	struct http_resp tmp = {0};
	struct http_resp *r = out ? out : &tmp;
	long st = post(g, "/api/identity/register", ip, NULL, body, r);
	if (!out)
		http_resp_free(&tmp);
	return st;
}

static void new_id(struct crypto_identity *id, const char *prefix)
{
	char h[16];
	rand_alnum(h, 8);
	char handle[40];
	snprintf(handle, sizeof(handle), "%s%s", prefix, h);
	if (crypto_identity_new(id, handle) < 0)
		die("identity");
}

/* A signed room message body (SIG-3); sig_ok false sends a valid-looking wrong signature. */
static void signed_body(char *out, size_t cap, const struct crypto_identity *id, const char *room,
			const char *ct, const char *nonce, bool sig_ok, const char *extra)
{
	char sn[40], s[512], sig[89];
	unsigned char raw[18];
	int64_t ts = now_ms();
	randombytes_buf(raw, sizeof(raw));
	b64_encode(raw, sizeof(raw), sn, sizeof(sn), true, false); /* CRYPTO-5 */
	if (sigstr_room_msg(s, sizeof(s), room, ts, sn, strlen(sn), ct, strlen(ct)) < 0 ||
	    crypto_sign_b64(id, s, strlen(s), sig) < 0)
		die("sign room-msg");
	if (!sig_ok)
		sig[5] = sig[5] == 'A' ? 'B' : 'A';
	snprintf(out, cap,
		 "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_handle\":\"%s\",\"sender_ts\":%lld,"
		 "\"sender_nonce\":\"%s\",\"sender_sig\":\"%s\"%s%s}",
		 ct, nonce, id->handle, (long long)ts, sn, sig, extra && *extra ? "," : "",
		 extra ? extra : "");
}

/* "Authorization: SafeBot ..." for method+target (SIG-2); bad: corrupt the signature. */
static void auth_line(char *out, size_t cap, const struct crypto_identity *id, const char *method,
		      const char *target, bool bad)
{
	char v[400];
	if (auth_header(v, sizeof(v), id, method, target, now_ms(), NULL) < 0)
		die("auth header");
	if (bad) {
		char *sig = strstr(v, "sig=");
		if (sig)
			sig[6] = sig[6] == 'A' ? 'B' : 'A';
	}
	snprintf(out, cap, "Authorization: %s", v);
}

/* A DM body (CRYPTO-4 shaped strings); from: NULL for anonymous; sig_ok as above. */
static void dm_body(char *out, size_t cap, const char *to, const struct crypto_identity *from,
		    const char *ct, const char *nonce, const char *eph, bool sig_ok, const char *extra)
{
	if (!from) {
		snprintf(out, cap, "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"%s%s}",
			 ct, nonce, eph, extra && *extra ? "," : "", extra ? extra : "");
		return;
	}
	char s[512], sig[89];
	int64_t ts = now_ms();
	if (sigstr_dm(s, sizeof(s), to, from->handle, strlen(from->handle), ts, ct, strlen(ct), nonce,
		      strlen(nonce), eph, strlen(eph)) < 0 ||
	    crypto_sign_b64(from, s, strlen(s), sig) < 0)
		die("sign dm");
	if (!sig_ok)
		sig[5] = sig[5] == 'A' ? 'B' : 'A';
	snprintf(out, cap,
		 "{\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\",\"from_handle\":\"%s\","
		 "\"from_sig\":\"%s\",\"from_ts\":%lld%s%s}",
		 ct, nonce, eph, from->handle, sig, (long long)ts, extra && *extra ? "," : "",
		 extra ? extra : "");
}

/* ---- streams --------------------------------------------------------------------------------- */

static struct sse_conn *sse_to(struct rig *g, const char *room, const char *query, const char *ip)
{
	char url[512], x[96];
	const char *h[2] = {NULL, NULL};
	if (ip) {
		snprintf(x, sizeof(x), "X-Forwarded-For: %s", ip);
		h[0] = x;
	}
	snprintf(url, sizeof(url), "%s/api/rooms/%s/events%s%s", g->rp.base, room, query ? "?" : "",
		 query ? query : "");
	return sse_open(url, h, NULL, TMO);
}

/* Next SSE event whose data contains needle (or any event when needle is NULL); its data is
 * copied to out. Returns false at the deadline or the end of the stream. */
static bool sse_wait(struct sse_conn *c, const char *needle, char **out, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		long left = (long)(deadline - clock_mono_ms());
		if (left <= 0)
			return false;
		struct sse_event_copy ev;
		int rc = sse_next_event(c, &ev, left);
		if (rc <= 0)
			return false;
		bool hit = !needle || (ev.data && strstr(ev.data, needle));
		if (hit && out)
			*out = strdup(ev.data ? ev.data : "");
		sse_event_copy_free(&ev);
		if (hit)
			return true;
	}
}

static struct ws_conn *ws_to(struct rig *g, const char *room, const char *query, const char *ip,
			     int *status)
{
	char url[512], x[96];
	const char *h[2] = {NULL, NULL};
	if (ip) {
		snprintf(x, sizeof(x), "X-Forwarded-For: %s", ip);
		h[0] = x;
	}
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/api/rooms/%s/ws%s%s", g->rp.port, room,
		 query ? "?" : "", query ? query : "");
	struct ws_conn *ws = NULL;
	int st = 0;
	char *body = NULL;
	if (ws_connect(url, h, NULL, TMO, &ws, &st, &body) != 0)
		ws = NULL;
	free(body);
	if (status)
		*status = st;
	return ws;
}

/* Next WS text frame containing needle (NULL: any); copied to out. A close ends the wait
 * (its code in *close_code when not NULL). */
static bool ws_wait(struct ws_conn *ws, const char *needle, char **out, long timeout_ms, int *close_code)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	for (;;) {
		long left = (long)(deadline - clock_mono_ms());
		if (left <= 0)
			return false;
		struct ws_msg m;
		enum ws_recv_result rc = ws_recv(ws, &m, left);
		if (rc == WS_RECV_TIMEOUT || rc == WS_RECV_ERROR)
			return false;
		if (rc == WS_RECV_CLOSE) {
			if (close_code)
				*close_code = m.close_code;
			ws_msg_free(&m);
			return false;
		}
		bool hit = rc == WS_RECV_TEXT && (!needle || (m.data && strstr(m.data, needle)));
		if (hit && out)
			*out = strdup(m.data);
		ws_msg_free(&m);
		if (hit)
			return true;
	}
}

/* A request in a thread of its own (parked long-polls). */
struct async_rq {
	pthread_t t;
	struct rig *g;
	char path[512], ip[64], extra[512];
	long status;
	char *body;
};

static void *async_main(void *arg)
{
	struct async_rq *a = arg;
	struct http_client *c = http_client_new(NULL);
	char url[1024], x[96];
	const char *h[3];
	size_t k = 0;
	struct http_resp r;
	snprintf(url, sizeof(url), "%s%s", a->g->rp.base, a->path);
	if (a->ip[0]) {
		snprintf(x, sizeof(x), "X-Forwarded-For: %s", a->ip);
		h[k++] = x;
	}
	if (a->extra[0])
		h[k++] = a->extra;
	h[k] = NULL;
	a->status = -1;
	if (c && http_do(c, "GET", url, h, NULL, 0, 120000, &r) == 0) {
		a->status = r.status;
		a->body = r.body;
		r.body = NULL;
		http_resp_free(&r);
	}
	http_client_free(c);
	return NULL;
}

static void async_get(struct async_rq *a, struct rig *g, const char *path, const char *ip, const char *extra)
{
	memset(a, 0, sizeof(*a));
	a->g = g;
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(a->ip, sizeof(a->ip), "%s", ip ? ip : "");
	snprintf(a->extra, sizeof(a->extra), "%s", extra ? extra : "");
	if (pthread_create(&a->t, NULL, async_main, a) != 0)
		die("pthread_create");
}

static void async_join(struct async_rq *a)
{
	pthread_join(a->t, NULL);
}

/* Poll until the metric key (an /api/metrics counter or gauge; needs METRICS_TOKEN=tok)
 * reaches n, up to timeout_ms. */
static bool wait_metric(struct rig *g, const char *key, int64_t n, long timeout_ms)
{
	int64_t deadline = clock_mono_ms() + timeout_ms;
	while (clock_mono_ms() < deadline) {
		struct http_resp r;
		long st = get(g, "/api/metrics", NULL, "Authorization: Bearer tok", &r);
		int64_t v = st == 200 ? jint(r.body, key, -1) : -1;
		http_resp_free(&r);
		if (v >= n)
			return true;
		nap_ms(5);
	}
	return false;
}

/* Room long-polls and claims parked right now (hub gauge parked_waiters). */
static bool wait_parked(struct rig *g, int64_t n, long timeout_ms)
{
	return wait_metric(g, "parked_waiters", n, timeout_ms);
}

/* ---- files ------------------------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap + 1);
	for (size_t k; s && (k = fread(s + n, 1, cap - n, f)) > 0;) {
		n += k;
		if (n == cap) {
			char *t = realloc(s, 2 * cap + 1);
			if (!t) {
				free(s);
				s = NULL;
				break;
			}
			s = t;
			cap *= 2;
		}
	}
	fclose(f);
	if (s)
		s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

typedef void (*file_fn)(void *ud, const char *path, const struct stat *st);

static void walk(const char *dir, file_fn fn, void *ud)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[1024];
		struct stat st;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(p, fn, ud);
		else
			fn(ud, p, &st);
	}
	closedir(d);
}

/* Search every file under dir for each marker; report hits (path and marker) into out. */
struct grep_ctx {
	const char *const *markers;
	size_t nm;
	int hits;
	char first[600];
};

static void grep_file(void *ud, const char *path, const struct stat *st)
{
	struct grep_ctx *g = ud;
	size_t n;
	char *s = read_file(path, &n);
	for (size_t i = 0; s && i < g->nm; i++) {
		if (memmem(s, n, g->markers[i], strlen(g->markers[i]))) {
			if (!g->hits++)
				snprintf(g->first, sizeof(g->first), "%s contains %s", path, g->markers[i]);
		}
	}
	free(s);
}

/* ==== scenarios ================================================================================ */

/* INV-1: bodies and keys are never logged, written or persisted. */
static void sc_inv01(void)
{
	struct rig g;
	char bugs[500], env_state[500], env_bugs[520];
	rig_init(&g, "inv01");
	snprintf(bugs, sizeof(bugs), "%s/bugs.log", g.dir);
	snprintf(env_state, sizeof(env_state), "STATE_DIR=%s", g.state);
	snprintf(env_bugs, sizeof(env_bugs), "BUGS_LOG=%s", bugs);
	const char *env[] = {env_state, env_bugs, NULL};
	if (!rig_start(&g, env))
		goto out;

	char room[16], ct1[128], n1[48], ct2[128], n2[48], ct3[128], n3[48], eph[64], body[2048];
	const char *markers[6];
	rand_alnum(room, 10);
	rand_b64(ct1, sizeof(ct1), 60);
	rand_b64(n1, sizeof(n1), 24);
	rand_b64(ct2, sizeof(ct2), 60);
	rand_b64(n2, sizeof(n2), 24);
	rand_b64(ct3, sizeof(ct3), 60);
	rand_b64(n3, sizeof(n3), 24);
	rand_b64(eph, sizeof(eph), 32);
	markers[0] = ct1, markers[1] = n1, markers[2] = ct2, markers[3] = n2;
	markers[4] = ct3, markers[5] = eph;

	/* Room message over HTTP, with an SSE subscriber to see it relayed. */
	char path[128];
	struct sse_conn *sse = sse_to(&g, room, NULL, NULL);
	msg_body(body, sizeof(body), ct1, n1, "\"sender\":\"inv01\"");
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	long st = post_s(&g, path, NULL, body);
	check(st == 200, "room message over HTTP accepted (status %ld)", st);
	check(sse && sse_wait(sse, ct1, NULL, TMO), "room message relayed over SSE");
	/* Room message over WebSocket. */
	struct ws_conn *ws = ws_to(&g, room, NULL, NULL, NULL);
	msg_body(body, sizeof(body), ct2, n2, NULL);
	check(ws && ws_send_text(ws, body, strlen(body)) == 0 && ws_wait(ws, ct2, NULL, TMO, NULL),
	      "room message over WebSocket accepted and echoed");
	ws_close(ws, 1000);
	sse_close(sse);

	/* Identity + DM (when implemented). */
	struct crypto_identity bob;
	new_id(&bob, "bob");
	struct http_resp r;
	st = register_id(&g, &bob, NULL, &r);
	if (not_implemented(st, &r)) {
		fail("DM bodies: identity registration answers 500 (every route is implemented: a 500 here is a failure)");
	} else if (check(st == 201, "identity registered (status %ld)", st)) {
		http_resp_free(&r);
		dm_body(body, sizeof(body), bob.handle, NULL, ct3, n3, eph, true, NULL);
		snprintf(path, sizeof(path), "/api/dm/%s", bob.handle);
		st = post(&g, path, NULL, NULL, body, &r);
		if (not_implemented(st, &r))
			fail("DM bodies: POST /api/dm answers 500 (every route is implemented: a 500 here is a failure)");
		else
			check(st == 200, "anonymous DM accepted (status %ld)", st);
	}
	http_resp_free(&r);
	/* A bug report (its text may be stored: RPT-4 is the one user-text file). */
	st = post_s(&g, "/api/report", NULL, "{\"what\":\"inv01 report text\",\"severity\":\"low\"}");
	check(st == 200, "bug report sent (status %ld)", st);
	rig_stop(&g);

	char *log = rig_log(&g);
	int hit = -1;
	for (int i = 0; i < 6 && hit < 0; i++)
		if (strstr(log, markers[i]))
			hit = i;
	check(hit < 0, "relay stdout/stderr holds no ciphertext, nonce or sender_eph_pub%s%s",
	      hit < 0 ? "" : ": found ", hit < 0 ? "" : markers[hit]);
	free(log);
	struct grep_ctx gc = {markers, 6, 0, ""};
	walk(g.dir, grep_file, &gc);
	check(gc.hits == 0, "no file under the relay's sandbox (STATE_DIR, BUGS_LOG, cwd, HOME, TMPDIR) holds a body%s%s",
	      gc.hits ? ": " : "", gc.first);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-2: room and DM state lives in memory only. */
static const char *const state_keys[] = {"handle", "box_pub", "sign_pub", "registered_at", "meta",
					 "inbox_seq"};

struct list_ctx {
	char names[32][256];
	int n;
};

static void list_file(void *ud, const char *path, const struct stat *st)
{
	struct list_ctx *l = ud;
	if (l->n < 32)
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", path);
	l->n++;
}

static void sc_inv02(void)
{
	struct rig g;
	char env_state[500];
	rig_init(&g, "inv02");
	snprintf(env_state, sizeof(env_state), "STATE_DIR=%s", g.state);
	const char *env[] = {env_state, "METRICS_TOKEN=tok", NULL};
	if (!rig_start(&g, env))
		goto out;
	char room[16], path[256], body[2048], ct[64], nonce[48];
	rand_alnum(room, 10);
	int64_t seq = 0;
	long st = post_msg(&g, room, NULL, &seq);
	post_msg(&g, room, NULL, NULL);
	check(st == 200, "room %s created with messages", room);
	snprintf(path, sizeof(path), "/api/rooms/%s/listening", room);
	post_s(&g, path, NULL, "{\"name\":\"inv02\"}");
	struct sse_conn *sse = sse_to(&g, room, "name=inv02sub", NULL);
	check(sse && sse_wait(sse, "\"ready\"", NULL, TMO), "SSE subscriber joined (presence, cursor)");
	/* A locked room: signed_only with a signed message needs an identity; try it. */
	struct crypto_identity alice;
	new_id(&alice, "alice");
	struct http_resp r;
	bool ids = false;
	st = register_id(&g, &alice, NULL, &r);
	if (not_implemented(st, &r)) {
		fail("identities, DMs: registration answers 500 (every route is implemented: a 500 here is a failure)");
	} else {
		ids = check(st == 201, "identity registered (status %ld)", st);
	}
	http_resp_free(&r);
	if (ids) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		signed_body(body, sizeof(body), &alice, room, ct, nonce, true, "\"signed_only\":true");
		snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
		st = post_s(&g, path, NULL, body);
		check(st == 200, "signed message locked the room (status %ld)", st);
		dm_body(body, sizeof(body), alice.handle, NULL, ct, nonce, alice.box_pub_b64, true, NULL);
		snprintf(path, sizeof(path), "/api/dm/%s", alice.handle);
		st = post_s(&g, path, NULL, body);
		if (st == 500)
			fail("DM inbox: POST /api/dm answers 500 (every route is implemented: a 500 here is a failure)");
		else
			check(st == 200, "DM stored in the inbox (status %ld)", st);
	}
	sse_close(sse);
	rig_stop(&g);

	/* STATE_DIR holds at most identities.json, with only the STATE-1 keys. */
	struct list_ctx l = {.n = 0};
	walk(g.state, list_file, &l);
	char ids_path[600];
	snprintf(ids_path, sizeof(ids_path), "%s/identities.json", g.state);
	bool only = true;
	for (int i = 0; i < l.n && i < 32; i++)
		if (strcmp(l.names[i], ids_path) != 0) {
			only = false;
			fail("STATE_DIR holds %s besides identities.json (INV-2, STATE-4)", l.names[i]);
		}
	if (only)
		pass("STATE_DIR holds %s", l.n ? "only identities.json" : "nothing (no identities)");
	size_t n;
	char *js = read_file(ids_path, &n);
	if (js) {
		cJSON *doc = json_parse(js, n, JSON_MAX_DEPTH, true);
		const cJSON *all = json_get(doc, "identities");
		bool keys_ok = cJSON_IsObject(all);
		for (const cJSON *rec = all ? all->child : NULL; rec && keys_ok; rec = rec->next)
			for (const cJSON *k = rec->child; k; k = k->next) {
				bool known = false;
				for (size_t i = 0; i < sizeof(state_keys) / sizeof(state_keys[0]); i++)
					known |= !strcmp(k->string, state_keys[i]);
				if (!known) {
					keys_ok = false;
					fail("identities.json record has key \"%s\" outside STATE-1", k->string);
				}
			}
		if (keys_ok)
			pass("identities.json records carry only the STATE-1 keys");
		check(!strstr(js, room), "identities.json does not mention the room");
		cJSON_Delete(doc);
		free(js);
	}
	rig_drop_log(&g);

	/* Restart on the same STATE_DIR: nothing of the rooms survived. */
	if (!rig_start(&g, env))
		goto out;
	snprintf(path, sizeof(path), "/api/rooms/%s/status", room);
	st = get(&g, path, NULL, NULL, &r);
	check(st == 200 && body_has(&r, "\"exists\":false"), "after restart the room is gone (status: %.80s)",
	      r.body ? r.body : "-");
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/%s/transcript", room);
	st = get(&g, path, NULL, NULL, &r);
	check(st == 200 && body_has(&r, "\"messages\":[]"), "after restart the transcript is empty");
	http_resp_free(&r);
	st = get(&g, "/api/health", NULL, NULL, &r);
	check(st == 200 && body_has(&r, "\"rooms\":0"), "after restart /api/health counts 0 rooms");
	http_resp_free(&r);
	if (ids) {
		snprintf(path, sizeof(path), "/api/identity/%s", alice.handle);
		st = get(&g, path, NULL, NULL, &r);
		check(st == 200, "the identity registry did persist (GET identity %ld)", st);
		http_resp_free(&r);
	}
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-3: the relay writes only identities.json (+ its temp file) and the bug log. */
struct fdwatch {
	pid_t pid;
	volatile bool stop;
	char seen[32][512];
	int nseen;
	pthread_mutex_t mu;
};

/* Every regular file the process holds open for writing, except its stdout/stderr (the
 * access log goes there by design: LOG-1). */
static void fd_scan(struct fdwatch *w)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)w->pid);
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd <= 2)
			continue;
		char p[400], target[512], info[400];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		ssize_t n = readlink(p, target, sizeof(target) - 1);
		if (n <= 0 || target[0] != '/')
			continue; /* socket:, pipe:, anon_inode: */
		target[n] = '\0';
		if (!strncmp(target, "/dev/", 5) || !strncmp(target, "/proc/", 6))
			continue;
		snprintf(info, sizeof(info), "/proc/%d/fdinfo/%s", (int)w->pid, e->d_name);
		char *fi = read_file(info, NULL);
		const char *fl = fi ? strstr(fi, "flags:") : NULL;
		long flags = fl ? strtol(fl + 6, NULL, 8) : 0;
		free(fi);
		if ((flags & O_ACCMODE) == O_RDONLY)
			continue;
		pthread_mutex_lock(&w->mu);
		bool known = false;
		for (int i = 0; i < w->nseen && !known; i++)
			known = !strcmp(w->seen[i], target);
		if (!known && w->nseen < 32)
			snprintf(w->seen[w->nseen++], sizeof(w->seen[0]), "%s", target);
		pthread_mutex_unlock(&w->mu);
	}
	closedir(d);
}

static void *fd_main(void *arg)
{
	struct fdwatch *w = arg;
	while (!w->stop) {
		fd_scan(w);
		nap_ms(2);
	}
	return NULL;
}

/* Traffic over every §2.1 route plus odd methods and paths. */
static void all_routes(struct rig *g, const char *room, const struct crypto_identity *id)
{
	char path[256], body[2048], ct[64], nonce[48], a[512];
	struct http_resp r;
	rand_b64(ct, sizeof(ct), 27);
	rand_b64(nonce, sizeof(nonce), 24);
	msg_body(body, sizeof(body), ct, nonce, NULL);
	static const char *const gets[] = {"/", "/api/health", "/api/status", "/api/openapi.json",
					   "/metrics", "/api/metrics", "/nope", "/api/rooms/x"};
	for (size_t i = 0; i < sizeof(gets) / sizeof(gets[0]); i++) {
		get(g, gets[i], NULL, NULL, &r);
		http_resp_free(&r);
	}
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	post_s(g, path, NULL, body);
	static const char *const room_gets[] = {"status", "transcript", "wait?timeout=1", "ws"};
	for (size_t i = 0; i < sizeof(room_gets) / sizeof(room_gets[0]); i++) {
		snprintf(path, sizeof(path), "/api/rooms/%s/%s", room, room_gets[i]);
		get(g, path, NULL, NULL, &r);
		http_resp_free(&r);
	}
	snprintf(path, sizeof(path), "/api/rooms/%s/listening", room);
	post_s(g, path, NULL, "{\"name\":\"inv03\"}");
	struct sse_conn *sse = sse_to(g, room, NULL, NULL);
	sse_wait(sse, "\"ready\"", NULL, TMO);
	sse_close(sse);
	struct ws_conn *ws = ws_to(g, room, NULL, NULL, NULL);
	if (ws) {
		ws_send_text(ws, body, strlen(body));
		ws_wait(ws, ct, NULL, TMO, NULL);
		ws_close(ws, 1000);
	}
	register_id(g, id, NULL, NULL);
	snprintf(path, sizeof(path), "/api/identity/%s", id->handle);
	get(g, path, NULL, NULL, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/%s/claim?timeout=1", room);
	auth_line(a, sizeof(a), id, "POST", path, false);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", id->handle);
	post(g, path, NULL, a, body, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/%s/ack", room);
	auth_line(a, sizeof(a), id, "POST", path, false);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"claim_id\":\"x\",\"seq\":1}", id->handle);
	post(g, path, NULL, a, body, &r);
	http_resp_free(&r);
	dm_body(body, sizeof(body), id->handle, NULL, ct, nonce, id->box_pub_b64, true, NULL);
	snprintf(path, sizeof(path), "/api/dm/%s", id->handle);
	post_s(g, path, NULL, body);
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait?after=0&timeout=1", id->handle);
	auth_line(a, sizeof(a), id, "GET", path, false);
	get(g, path, NULL, a, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/abc", id->handle);
	auth_line(a, sizeof(a), id, "DELETE", path, false);
	const char *dh[] = {a, NULL};
	rq(g, "DELETE", path, dh, NULL, &r);
	http_resp_free(&r);
	post_s(g, "/api/report", NULL, "{\"what\":\"inv03 report text\",\"severity\":\"low\"}");
	/* Odd methods and paths civetweb might map to files. */
	static const char *const odd[][2] = {{"PUT", "/x.txt"}, {"DELETE", "/x.txt"}, {"PUT", "/api/rooms/abcd/messages"},
					     {"MKCOL", "/dir"}, {"GET", "/../../etc/passwd"}, {"PROPFIND", "/"}};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		rq(g, odd[i][0], odd[i][1], NULL, "x", &r);
		http_resp_free(&r);
	}
}

struct snap_ctx {
	char lines[64][600];
	int n;
};

static void snap_file(void *ud, const char *path, const struct stat *st)
{
	struct snap_ctx *s = ud;
	if (s->n < 64)
		snprintf(s->lines[s->n], sizeof(s->lines[0]), "%s %lld %lld.%09ld", path, (long long)st->st_size,
			 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	s->n++;
}

static void sc_inv03(void)
{
	/* (b) STATE_DIR and BUGS_LOG set: writes go only to the allowed files. */
	struct rig g;
	char bugs[500], env_state[500], env_bugs[520];
	rig_init(&g, "inv03b");
	snprintf(bugs, sizeof(bugs), "%s/bugs.log", g.dir);
	snprintf(env_state, sizeof(env_state), "STATE_DIR=%s", g.state);
	snprintf(env_bugs, sizeof(env_bugs), "BUGS_LOG=%s", bugs);
	const char *env[] = {env_state, env_bugs, "METRICS_TOKEN=tok", NULL};
	char room[16];
	rand_alnum(room, 10);
	if (rig_start(&g, env)) {
		struct fdwatch w = {.pid = g.rp.pid};
		pthread_mutex_init(&w.mu, NULL);
		pthread_t t;
		pthread_create(&t, NULL, fd_main, &w);
		struct crypto_identity id;
		new_id(&id, "carol");
		all_routes(&g, room, &id);
		w.stop = true;
		pthread_join(t, NULL);
		rig_stop(&g);
		char allow[4][600];
		snprintf(allow[0], sizeof(allow[0]), "%s/identities.json", g.state);
		snprintf(allow[1], sizeof(allow[1]), "%s/identities.json.tmp", g.state);
		snprintf(allow[2], sizeof(allow[2]), "%s", bugs);
		snprintf(allow[3], sizeof(allow[3]), "%s.1", bugs);
		bool ok = true;
		for (int i = 0; i < w.nseen; i++) {
			bool a = false;
			for (int k = 0; k < 4; k++)
				a |= !strcmp(w.seen[i], allow[k]);
			if (!a) {
				ok = false;
				fail("relay held %s open for writing (INV-3 allows identities.json and BUGS_LOG only)",
				     w.seen[i]);
			}
		}
		if (ok)
			pass("files held open for writing under traffic on every route: %d, all allowed", w.nseen);
		struct list_ctx l = {.n = 0};
		walk(g.dir, list_file, &l);
		ok = true;
		for (int i = 0; i < l.n && i < 32; i++) {
			bool a = false;
			for (int k = 0; k < 4; k++)
				a |= !strcmp(l.names[i], allow[k]);
			if (!a) {
				ok = false;
				fail("relay created %s (INV-3)", l.names[i]);
			}
		}
		if (ok)
			pass("files in the sandbox after the run: %d, all allowed (identities.json, bug log)", l.n);
		rig_drop_log(&g);
	}
	rig_free(&g);

	/* (c) Neither set: the relay creates or changes no file at all. */
	rig_init(&g, "inv03c");
	const char *env2[] = {"METRICS_TOKEN=tok", NULL};
	struct snap_ctx *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
	if (!before || !after)
		die("oom");
	walk(g.dir, snap_file, before);
	if (rig_start(&g, env2)) {
		struct crypto_identity id;
		new_id(&id, "dave");
		all_routes(&g, room, &id);
		rig_stop(&g);
		walk(g.dir, snap_file, after);
		bool same = before->n == after->n;
		for (int i = 0; same && i < before->n && i < 64; i++)
			same = !strcmp(before->lines[i], after->lines[i]);
		if (same)
			pass("without STATE_DIR and BUGS_LOG no file was created or modified (%d files before and after)",
			     after->n);
		else
			fail("without STATE_DIR and BUGS_LOG the sandbox changed: %d files before, %d after%s%s",
			     before->n, after->n, after->n ? ", e.g. " : "", after->n ? after->lines[after->n - 1] : "");
		rig_drop_log(&g);
	}
	free(before);
	free(after);
	rig_free(&g);
}

/* INV-4: the access log and the metrics contain no identifiers, queries, bodies or IPs. */
static bool is_uuid_at(const char *p)
{
	static const char pat[] = "xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx";
	for (int i = 0; i < 36; i++) {
		char c = p[i];
		if (pat[i] == '-' ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static const char *find_uuid(const char *s)
{
	for (const char *p = s; *p; p++)
		if (strlen(p) >= 36 && is_uuid_at(p))
			return p;
	return NULL;
}

/* A dotted quad anywhere in s (not the tail of a longer number or version string). */
static const char *find_ipv4(const char *s)
{
	for (const char *p = s; *p; p++) {
		unsigned a, b, c, d;
		int n = 0;
		if (p > s && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.'))
			continue;
		if (sscanf(p, "%3u.%3u.%3u.%3u%n", &a, &b, &c, &d, &n) == 4 && n >= 7 && a < 256 && b < 256 &&
		    c < 256 && d < 256)
			return p;
	}
	return NULL;
}

static bool log_line_ok(const char *line, size_t n, char *why, size_t cap)
{
	/* LOG-1: "[YYYY-MM-DDTHH:MM:SS.mmmZ] METHOD path" */
	static const char shape[] = "[dddd-dd-ddTdd:dd:dd.dddZ] ";
	if (n < sizeof(shape)) {
		snprintf(why, cap, "too short");
		return false;
	}
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		char c = line[i];
		if (shape[i] == 'd' ? !(c >= '0' && c <= '9') : c != shape[i]) {
			snprintf(why, cap, "not LOG-1 shaped");
			return false;
		}
	}
	const char *m = line + sizeof(shape) - 1, *sp = memchr(m, ' ', n - (size_t)(m - line));
	if (!sp) {
		snprintf(why, cap, "no path");
		return false;
	}
	for (const char *p = m; p < sp; p++)
		if (!(*p >= 'A' && *p <= 'Z')) {
			snprintf(why, cap, "method not upper-case letters");
			return false;
		}
	const char *path = sp + 1;
	size_t pl = n - (size_t)(path - line);
	if (memchr(path, '?', pl)) {
		snprintf(why, cap, "query string in the log");
		return false;
	}
	static const char *const collapsed[] = {"/api/rooms/:id/*", "/room/:id", "/api/dm/:handle/*",
						"/api/identity/:handle", "/@handle"};
	static const char *const prefixes[] = {"/api/rooms/", "/room/", "/api/dm/", "/api/identity/", "/@"};
	for (size_t i = 0; i < 5; i++)
		if (pl >= strlen(prefixes[i]) && !strncmp(path, prefixes[i], strlen(prefixes[i])) &&
		    !(pl == strlen(collapsed[i]) && !strncmp(path, collapsed[i], pl))) {
			snprintf(why, cap, "path under %s not collapsed (LOG-2)", prefixes[i]);
			return false;
		}
	return true;
}

static bool prom_line_ok(const char *l, size_t n)
{
	if (n >= 2 && l[0] == '#')
		return (n > 16 && !strncmp(l, "# HELP sealroom_", 16)) || (n > 16 && !strncmp(l, "# TYPE sealroom_", 16));
	if (n < 10 || strncmp(l, "sealroom_", 9) != 0)
		return false;
	size_t i = 9;
	while (i < n && ((l[i] >= 'a' && l[i] <= 'z') || (l[i] >= '0' && l[i] <= '9') || l[i] == '_'))
		i++;
	if (i < n && l[i] == '{') {
		static const char *const cls[] = {"{class=\"2xx\"}", "{class=\"4xx\"}", "{class=\"429\"}",
						  "{class=\"5xx\"}"};
		bool ok = false;
		for (size_t k = 0; k < 4 && !ok; k++)
			if (n - i >= strlen(cls[k]) && !strncmp(l + i, cls[k], strlen(cls[k]))) {
				i += strlen(cls[k]);
				ok = true;
			}
		if (!ok)
			return false;
	}
	if (i >= n || l[i] != ' ')
		return false;
	i++;
	if (i < n && l[i] == '-')
		i++;
	if (i >= n)
		return false;
	for (; i < n; i++)
		if (!(l[i] >= '0' && l[i] <= '9'))
			return false;
	return true;
}

static void sc_inv04(void)
{
	struct rig g;
	rig_init(&g, "inv04");
	const char *env[] = {"METRICS_TOKEN=tok", NULL};
	if (!rig_start(&g, env))
		goto out;
	char room[40], handle[40], qmark[40], bmark[80], nonce[48], path[512], body[2048], a[512];
	char tag[12];
	rand_alnum(tag, 8);
	snprintf(room, sizeof(room), "R4room%s", tag);
	snprintf(handle, sizeof(handle), "h4h%s", tag);
	snprintf(qmark, sizeof(qmark), "q4q%s", tag);
	rand_b64(bmark, sizeof(bmark), 45);
	rand_b64(nonce, sizeof(nonce), 24);
	const char *ip = "203.0.113.77";
	const char *markers[] = {room, handle, qmark, bmark, nonce, ip, "127.0.0.1"};
	struct http_resp r;

	/* Room routes with marker ids, queries and bodies. */
	msg_body(body, sizeof(body), bmark, nonce, "\"sender\":\"s4sender\"");
	snprintf(path, sizeof(path), "/api/rooms/%s/messages?x=%s", room, qmark);
	post(&g, path, ip, NULL, body, &r);
	char msg_id[40] = "";
	const char *idp = r.body ? strstr(r.body, "\"id\":\"") : NULL;
	if (idp)
		snprintf(msg_id, sizeof(msg_id), "%.36s", idp + 6);
	check(r.status == 200 && msg_id[0], "marker message posted (id %s)", msg_id[0] ? msg_id : "-");
	http_resp_free(&r);
	static const char *const sub[] = {"status?q=", "transcript?after=0&limit=5&q=", "wait?timeout=1&q="};
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "/api/rooms/%s/%s%s", room, sub[i], qmark);
		get(&g, path, ip, NULL, &r);
		http_resp_free(&r);
	}
	{
		char q0[128];
		snprintf(q0, sizeof(q0), "name=%s&after=0", qmark);
		struct sse_conn *c0 = sse_to(&g, room, q0, ip);
		sse_wait(c0, "\"ready\"", NULL, TMO);
		sse_close(c0);
	}
	snprintf(path, sizeof(path), "/api/rooms/%s/listening?q=%s", room, qmark);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"box_pub\":\"%s\"}", qmark, bmark);
	post(&g, path, ip, NULL, body, &r);
	http_resp_free(&r);
	char q[128];
	snprintf(q, sizeof(q), "name=%s&after=0", qmark);
	struct ws_conn *ws = ws_to(&g, room, q, ip, NULL);
	if (ws) {
		snprintf(body, sizeof(body), "{\"type\":\"hello\",\"name\":\"%s\"}", qmark);
		ws_send_text(ws, body, strlen(body));
		ws_close(ws, 1000);
	}
	/* Identity, DM, claim and report routes with the marker handle. */
	struct crypto_identity id;
	if (crypto_identity_new(&id, handle) < 0)
		die("identity");
	register_id(&g, &id, ip, NULL);
	snprintf(path, sizeof(path), "/api/identity/@%s?q=%s", handle, qmark);
	get(&g, path, ip, NULL, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/dm/%s?q=%s", handle, qmark);
	dm_body(body, sizeof(body), handle, NULL, bmark, nonce, id.box_pub_b64, true, NULL);
	post(&g, path, ip, NULL, body, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait?after=0&timeout=1&q=%s", handle, qmark);
	auth_line(a, sizeof(a), &id, "GET", path, false);
	get(&g, path, ip, a, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/%s/claim?timeout=1&q=%s", room, qmark);
	auth_line(a, sizeof(a), &id, "POST", path, false);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", handle);
	post(&g, path, ip, a, body, &r);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "{\"what\":\"report %s\",\"where\":\"%s\"}", bmark, room);
	post(&g, "/api/report", ip, NULL, body, &r);
	http_resp_free(&r);
	/* Bad JSON and unknown paths with queries. */
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	snprintf(body, sizeof(body), "{\"ciphertext\":\"%s\"", bmark);
	post(&g, path, ip, NULL, body, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/nope?q=%s", qmark);
	get(&g, path, ip, NULL, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/room/%s", room);
	get(&g, path, ip, NULL, &r);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/@%s", handle);
	get(&g, path, ip, NULL, &r);
	http_resp_free(&r);

	struct http_resp mj, mp;
	long sj = get(&g, "/api/metrics", NULL, "Authorization: Bearer tok", &mj);
	long sp = get(&g, "/metrics", NULL, "Authorization: Bearer tok", &mp);
	check(sj == 200 && sp == 200, "metrics fetched with the token (JSON %ld, Prometheus %ld)", sj, sp);
	rig_stop(&g);

	/* (1) access-log lines: LOG-1 shape, LOG-2 collapsed, no query. */
	char *log = rig_log(&g);
	int lines = 0, bad = 0;
	char why[128] = "", badline[300] = "";
	for (char *l = log; *l;) {
		char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n && l[0] == '[') {
			lines++;
			char w[128];
			if (!log_line_ok(l, n, w, sizeof(w)) && !bad++) {
				snprintf(why, sizeof(why), "%s", w);
				snprintf(badline, sizeof(badline), "%.*s", (int)(n < 200 ? n : 200), l);
			}
		}
		l = e ? e + 1 : l + n;
	}
	check(lines >= 18 && bad == 0, "%d access-log lines, all LOG-1 shaped and LOG-2 collapsed%s%s%s%s", lines,
	      bad ? ": " : "", why, bad ? ": " : "", badline);
	/* (2) no marker, UUID or address anywhere in stdout/stderr or the metrics. */
	const char *what[3] = {"relay stdout/stderr", "GET /api/metrics", "GET /metrics"};
	const char *text[3] = {log, mj.body ? mj.body : "", mp.body ? mp.body : ""};
	for (int t = 0; t < 3; t++) {
		const char *hit = NULL;
		for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]) && !hit; i++) {
			/* The LOG-5 line names the listen address; it is not an access-log line. */
			if (t == 0 && !strcmp(markers[i], "127.0.0.1"))
				continue;
			if (strstr(text[t], markers[i]))
				hit = markers[i];
		}
		const char *u = find_uuid(text[t]);
		const char *v4 = NULL;
		if (t == 0) {
			for (char *l = log; *l && !v4;) {
				char *e = strchr(l, '\n');
				if (l[0] == '[') {
					char save = e ? *e : 0;
					if (e)
						*e = '\0';
					v4 = find_ipv4(l) ? l : NULL;
					if (e)
						*e = save;
				}
				l = e ? e + 1 : l + strlen(l);
			}
		} else {
			v4 = find_ipv4(text[t]);
		}
		check(!hit && !u && !v4, "%s: no room id, handle, query value, body, key, message id or IP%s%s%s%s%s",
		      what[t], hit ? "; found marker " : "", hit ? hit : "", u ? "; found a UUID" : "",
		      v4 ? "; found an IPv4 address: " : "", v4 ? (t == 0 ? "(access line)" : "") : "");
	}
	/* (3) Prometheus lines: only sealroom_ names and the status-class label. */
	int plines = 0, pbad = 0;
	char pb[200] = "";
	for (char *l = mp.body; l && *l;) {
		char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n) {
			plines++;
			if (!prom_line_ok(l, n) && !pbad++)
				snprintf(pb, sizeof(pb), "%.*s", (int)(n < 150 ? n : 150), l);
		}
		l = e ? e + 1 : l + n;
	}
	check(plines > 10 && pbad == 0, "%d Prometheus lines, all sealroom_<name>[{class=...}] <integer> or HELP/TYPE%s%s",
	      plines, pbad ? "; bad line: " : "", pb);
	free(log);
	http_resp_free(&mj);
	http_resp_free(&mp);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-5: every subscriber gets the same JSON text (SSE data == WS text == transcript item). */
static void sc_inv05(void)
{
	struct rig g;
	rig_init(&g, "inv05");
	if (!rig_start(&g, NULL))
		goto out;
	char room[16];
	rand_alnum(room, 10);
	enum { NS = 2, NW = 2, NM = 40 };
	struct sse_conn *s[NS];
	struct ws_conn *w[NW];
	bool ok = true;
	for (int i = 0; i < NS; i++)
		ok &= (s[i] = sse_to(&g, room, NULL, NULL)) && sse_wait(s[i], "\"ready\"", NULL, TMO);
	for (int i = 0; i < NW; i++)
		ok &= (w[i] = ws_to(&g, room, NULL, NULL, NULL)) && ws_wait(w[i], "\"ready\"", NULL, TMO, NULL);
	if (!check(ok, "%d SSE and %d WebSocket subscribers joined room %s", NS, NW, room))
		goto stop;
	/* Labels with non-ASCII, escapes and control characters: the bytes must not differ. */
	static const char *const labels[] = {"plain", "\\u00e9t\\u00e9 \\u20ac", "tab\\there", "q\\\"uote",
					     "nl\\nx", "\\u0001ctl", "slash/\\\\back", "\\ud83d\\ude00 emoji"};
	char body[512], ct[64], nonce[48], path[128], extra[160];
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	int same = 0, diff = 0, missing = 0;
	char first_diff[400] = "";
	for (int m = 0; m < NM; m++) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		snprintf(extra, sizeof(extra), "\"sender\":\"%s\"%s", labels[m % 8], m % 3 ? ",\"ttl_ms\":30000.5" : "");
		msg_body(body, sizeof(body), ct, nonce, extra);
		if (post_s(&g, path, NULL, body) != 200) {
			missing++;
			continue;
		}
		char *ref = NULL, *got = NULL;
		if (!sse_wait(s[0], ct, &ref, TMO)) {
			missing++;
			continue;
		}
		for (int i = 1; i < NS + NW; i++) {
			got = NULL;
			bool have = i < NS ? sse_wait(s[i], ct, &got, TMO) : ws_wait(w[i - NS], ct, &got, TMO, NULL);
			if (!have)
				missing++;
			else if (strcmp(got, ref) == 0)
				same++;
			else if (!diff++)
				snprintf(first_diff, sizeof(first_diff), "%s %d: %.150s vs %.150s", i < NS ? "SSE" : "WS",
					 i, got, ref);
			free(got);
		}
		free(ref);
	}
	check(diff == 0 && missing == 0 && same == NM * (NS + NW - 1),
	      "%d messages: every SSE data line and WS frame is byte-identical (%d equal, %d differ, %d missing)%s%s",
	      NM, same, diff, missing, diff ? ": " : "", first_diff);
	/* The stored object in /transcript is the same text (ROOM-17 allows the leading type). */
	struct http_resp r;
	snprintf(path, sizeof(path), "/api/rooms/%s/transcript?limit=500", room);
	get(&g, path, NULL, NULL, &r);
	snprintf(path, sizeof(path), "/api/rooms/%s/wait?after=0", room);
	struct http_resp rw;
	get(&g, path, NULL, NULL, &rw);
	int in_tx = 0, in_wait = 0;
	for (int i = 0; i < NS; i++)
		sse_close(s[i]), s[i] = NULL;
	/* Reconnect with a replay: every replayed frame must appear verbatim in both answers. */
	struct sse_conn *rs = sse_to(&g, room, "after=0", NULL);
	for (int m = 0; m < NM && rs; m++) {
		char *ev = NULL;
		if (!sse_wait(rs, "\"type\":\"message\"", &ev, TMO))
			break;
		in_tx += r.body && strstr(r.body, ev) != NULL;
		in_wait += rw.body && strstr(rw.body, ev) != NULL;
		free(ev);
	}
	sse_close(rs);
	check(in_tx == NM && in_wait == NM, "replayed events appear byte for byte in /transcript (%d/%d) and /wait (%d/%d)",
	      in_tx, NM, in_wait, NM);
	http_resp_free(&r);
	http_resp_free(&rw);
stop:
	for (int i = 0; i < NS; i++)
		sse_close(s[i]);
	for (int i = 0; i < NW; i++)
		ws_free(w[i]);
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-6: strict base64 in, exact bytes out. Vectors from spec/vectors/base64.json. */
static void sc_inv06(void)
{
	char vp[600];
	snprintf(vp, sizeof(vp), "%s/base64.json", vectors_dir);
	size_t vn;
	char *vj = read_file(vp, &vn);
	cJSON *vec = vj ? json_parse(vj, vn, JSON_MAX_DEPTH, true) : NULL;
	free(vj);
	if (!vec)
		die("cannot read spec/vectors/base64.json");
	struct rig g;
	rig_init(&g, "inv06");
	const char *env[] = {"ROOM_RL_CAP=100000", "GLOBAL_RL_CAP=100000", NULL};
	if (!rig_start(&g, env))
		goto out;
	char room[16], path[256], body[2048], ct[64], nonce[48];
	rand_alnum(room, 10);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	rand_b64(ct, sizeof(ct), 27);
	rand_b64(nonce, sizeof(nonce), 24);
	int n_bad = 0, refused = 0, n_nonce = 0, nonce_refused = 0;
	char leak[700] = "";
	const cJSON *cases = json_get(vec, "canonical");
	for (const cJSON *c = cases ? cases->child : NULL; c; c = c->next) {
		const char *s;
		size_t sl;
		if (!json_str(json_get(c, "s"), &s, &sl) || cJSON_IsTrue(json_get(c, "ok")))
			continue;
		const cJSON *n = json_get(c, "n");
		char esc[512];
		size_t el = json_escape(esc, sizeof(esc), s, sl);
		if (!el)
			continue;
		esc[el] = '\0';
		struct http_resp r;
		if (cJSON_IsNull(n)) { /* not canonical at all: as ciphertext */
			n_bad++;
			snprintf(body, sizeof(body), "{\"ciphertext\":%s,\"nonce\":\"%s\"}", esc, nonce);
			post(&g, path, NULL, NULL, body, &r);
			if (is_error(&r, 400, "bad message"))
				refused++;
			else if (!leak[0])
				snprintf(leak, sizeof(leak), "ciphertext %s got %ld", esc, r.status);
			http_resp_free(&r);
		}
		/* as the 24-byte nonce (B64-2): only strings that are not canonical(·,24) */
		if (!cJSON_IsNull(n) && !(cJSON_IsNumber(n) && n->valuedouble == 24))
			continue;
		n_nonce++;
		snprintf(body, sizeof(body), "{\"ciphertext\":\"%s\",\"nonce\":%s}", ct, esc);
		post(&g, path, NULL, NULL, body, &r);
		if (is_error(&r, 400, "bad message"))
			nonce_refused++;
		else if (!leak[0])
			snprintf(leak, sizeof(leak), "nonce %s got %ld", esc, r.status);
		http_resp_free(&r);
	}
	/* A 23- and a 25-byte nonce, and a 32-byte one. */
	static const size_t wrong[] = {23, 25, 32};
	for (size_t i = 0; i < 3; i++) {
		char nn[64];
		struct http_resp r;
		rand_b64(nn, sizeof(nn), wrong[i]);
		n_nonce++;
		msg_body(body, sizeof(body), ct, nn, NULL);
		post(&g, path, NULL, NULL, body, &r);
		if (is_error(&r, 400, "bad message"))
			nonce_refused++;
		else if (!leak[0])
			snprintf(leak, sizeof(leak), "%zu-byte nonce got %ld", wrong[i], r.status);
		http_resp_free(&r);
	}
	check(n_bad > 5 && refused == n_bad && nonce_refused == n_nonce,
	      "non-canonical room ciphertexts refused %d/%d, bad nonces refused %d/%d (400 bad message)%s%s", refused,
	      n_bad, nonce_refused, n_nonce, leak[0] ? "; accepted: " : "", leak);

	/* URL-safe canonical values are stored and relayed exactly as received. */
	char uct[64], un[48];
	unsigned char raw[48];
	for (;;) { /* make sure the encoding contains '-' and '_' */
		randombytes_buf(raw, 27);
		b64_encode(raw, 27, uct, sizeof(uct), true, true);
		if (strchr(uct, '-') && strchr(uct, '_'))
			break;
	}
	for (;;) {
		randombytes_buf(raw, 24);
		b64_encode(raw, 24, un, sizeof(un), true, true);
		if (strchr(un, '-') || strchr(un, '_'))
			break;
	}
	struct sse_conn *sse = sse_to(&g, room, NULL, NULL);
	struct ws_conn *ws = ws_to(&g, room, NULL, NULL, NULL);
	sse_wait(sse, "\"ready\"", NULL, TMO);
	ws_wait(ws, "\"ready\"", NULL, TMO, NULL);
	msg_body(body, sizeof(body), uct, un, NULL);
	struct http_resp r;
	long st = post(&g, path, NULL, NULL, body, &r);
	http_resp_free(&r);
	char want[400];
	snprintf(want, sizeof(want), "\"ciphertext\":\"%s\",\"nonce\":\"%s\"", uct, un);
	char *se = NULL, *we = NULL;
	bool s_ok = sse && sse_wait(sse, uct, &se, TMO) && strstr(se, want);
	bool w_ok = ws && ws_wait(ws, uct, &we, TMO, NULL) && strstr(we, want);
	free(se);
	free(we);
	snprintf(path, sizeof(path), "/api/rooms/%s/transcript", room);
	get(&g, path, NULL, NULL, &r);
	bool t_ok = body_has(&r, want);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/%s/wait?after=0", room);
	get(&g, path, NULL, NULL, &r);
	bool wt_ok = body_has(&r, want);
	http_resp_free(&r);
	check(st == 200 && s_ok && w_ok && t_ok && wt_ok,
	      "URL-safe ciphertext and nonce accepted (%ld) and relayed unchanged: SSE %s, WS %s, transcript %s, wait %s",
	      st, s_ok ? "yes" : "NO", w_ok ? "yes" : "NO", t_ok ? "yes" : "NO", wt_ok ? "yes" : "NO");
	sse_close(sse);
	ws_free(ws);

	/* Registration: non-canonical or wrong-size keys refused (ID-REG-7); keys stored as sent. */
	struct crypto_identity id;
	new_id(&id, "erin");
	st = register_id(&g, &id, NULL, &r);
	if (not_implemented(st, &r)) {
		fail("identity keys and DM envelopes: registration answers 500 (every route is implemented: a 500 here is a failure)");
		http_resp_free(&r);
		goto stop;
	}
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/identity/%s", id.handle);
	get(&g, path, NULL, NULL, &r);
	char kw[160];
	snprintf(kw, sizeof(kw), "\"box_pub\":\"%s\",\"sign_pub\":\"%s\"", id.box_pub_b64, id.sign_pub_b64);
	check(st == 201 && body_has(&r, kw), "registered keys are returned exactly as sent");
	http_resp_free(&r);
	static const char *const badkeys[] = {"AB==", "QUJD", "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ",
					      "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlR="};
	int kref = 0;
	for (size_t i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"handle\":\"k%zu%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\"}", i,
			 id.handle + 4, badkeys[i], id.sign_pub_b64);
		post(&g, "/api/identity/register", NULL, NULL, body, &r);
		kref += is_error(&r, 400, "box_pub and sign_pub must be strict canonical base64 of 32 bytes");
		http_resp_free(&r);
	}
	check(kref == 4, "non-canonical or wrong-size box_pub refused with ID-REG-7: %d/4", kref);
	/* DM envelope fields (DM-1f..h) and exact relay through the inbox. */
	snprintf(path, sizeof(path), "/api/dm/%s", id.handle);
	char good_eph[64];
	rand_b64(good_eph, sizeof(good_eph), 32);
	struct {
		const char *ct, *nonce, *eph, *err;
	} dm_bad[] = {
		{"AB==", nonce, good_eph, "ciphertext must be strict canonical base64"},
		{ct, "AAAA", good_eph, "nonce must be strict canonical base64 of 24 bytes"},
		{ct, nonce, "AAAA", "sender_eph_pub must be strict canonical base64 of 32 bytes"},
	};
	int dref = 0;
	bool dm_impl = true;
	for (size_t i = 0; i < 3; i++) {
		dm_body(body, sizeof(body), id.handle, NULL, dm_bad[i].ct, dm_bad[i].nonce, dm_bad[i].eph, true, NULL);
		st = post(&g, path, NULL, NULL, body, &r);
		dm_impl &= !not_implemented(st, &r);
		dref += is_error(&r, 400, dm_bad[i].err);
		http_resp_free(&r);
	}
	if (!dm_impl) {
		fail("DM envelopes: POST /api/dm answers 500 (every route is implemented: a 500 here is a failure)");
		goto stop;
	}
	check(dref == 3, "non-canonical DM ciphertext, nonce and sender_eph_pub refused (DM-1f..h): %d/3", dref);
	char ueph[64];
	for (;;) {
		randombytes_buf(raw, 32);
		b64_encode(raw, 32, ueph, sizeof(ueph), true, true);
		if (strchr(ueph, '-') || strchr(ueph, '_'))
			break;
	}
	dm_body(body, sizeof(body), id.handle, NULL, uct, un, ueph, true, NULL);
	st = post(&g, path, NULL, NULL, body, &r);
	http_resp_free(&r);
	char a[512];
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait?after=0&timeout=1", id.handle);
	auth_line(a, sizeof(a), &id, "GET", path, false);
	get(&g, path, NULL, a, &r);
	snprintf(want, sizeof(want), "\"ciphertext\":\"%s\",\"nonce\":\"%s\",\"sender_eph_pub\":\"%s\"", uct, un, ueph);
	check(st == 200 && body_has(&r, want), "URL-safe DM envelope relayed unchanged through the inbox (%ld)", st);
	http_resp_free(&r);
stop:
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
	cJSON_Delete(vec);
}

/* INV-7: verified markings are set only by the relay after a valid signature. */
static void sc_inv07(void)
{
	struct rig g;
	rig_init(&g, "inv07");
	if (!rig_start(&g, NULL))
		goto out;
	char room[16], path[256], body[2048], ct[64], nonce[48];
	rand_alnum(room, 10);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	struct crypto_identity alice;
	new_id(&alice, "alice");
	struct http_resp r;
	long st = register_id(&g, &alice, NULL, &r);
	bool ids = !not_implemented(st, &r) && st == 201;
	http_resp_free(&r);
	if (!ids)
		fail("signed cases: identity registration answers %ld (every route is implemented: a 500 here is a failure)", st);
	struct sse_conn *sse = sse_to(&g, room, NULL, NULL);
	struct ws_conn *ws = ws_to(&g, room, NULL, NULL, NULL);
	sse_wait(sse, "\"ready\"", NULL, TMO);
	ws_wait(ws, "\"ready\"", NULL, TMO, NULL);

	/* Claims of verification in the body are never trusted. */
	char lbl[96];
	snprintf(lbl, sizeof(lbl), "\"sender\":\"@%s\",\"sender_verified\":true,\"from_verified\":true", alice.handle);
	struct {
		const char *name, *extra;
		bool ws;
	} forged[] = {
		{"sender \"@handle\" + sender_verified:true over HTTP", lbl, false},
		{"sender \"@handle\" + sender_verified:true over WS", lbl, true},
		{"sender_handle without sender_sig", "\"sender_handle\":\"alice\",\"sender_verified\":true", false},
		{"sender_sig without sender_handle", "\"sender_sig\":\"AAAA\",\"sender\":\"x\"", false},
		{"sender_handle with empty sender_sig", "\"sender_handle\":\"alice\",\"sender_sig\":\"\"", true},
	};
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		msg_body(body, sizeof(body), ct, nonce, forged[i].extra);
		if (forged[i].ws)
			ws_send_text(ws, body, strlen(body));
		else
			post_s(&g, path, NULL, body);
		char *ev = NULL;
		bool got = sse_wait(sse, ct, &ev, TMO);
		check(got && ev && strstr(ev, "\"sender_verified\":false") && !strstr(ev, "\"sender_verified\":true"),
		      "%s: relayed with sender_verified:false (%.160s)", forged[i].name, ev ? ev : "not relayed");
		free(ev);
	}
	/* Bad and replayed signatures are refused and never relayed. */
	if (ids) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		signed_body(body, sizeof(body), &alice, room, ct, nonce, false, NULL);
		st = post(&g, path, NULL, NULL, body, &r);
		check(is_error(&r, 401, "bad sender_sig"), "wrong signature: 401 bad sender_sig (got %ld)", st);
		http_resp_free(&r);
		char ct2[64];
		rand_b64(ct2, sizeof(ct2), 27);
		signed_body(body, sizeof(body), &alice, room, ct2, nonce, true, NULL);
		st = post(&g, path, NULL, NULL, body, &r);
		char *ev = NULL;
		bool got = sse_wait(sse, ct2, &ev, TMO);
		char want[96];
		snprintf(want, sizeof(want), "\"sender\":\"@%s\",\"sender_verified\":true", alice.handle);
		check(st == 200 && got && strstr(ev, want), "valid signature: relayed as @%s with sender_verified:true",
		      alice.handle);
		free(ev);
		http_resp_free(&r);
		st = post(&g, path, NULL, NULL, body, &r);
		check(is_error(&r, 401, "bad sender_sig"), "replayed signature: 401 bad sender_sig (got %ld)", st);
		http_resp_free(&r);
		snprintf(path, sizeof(path), "/api/rooms/%s/transcript?limit=500", room);
		get(&g, path, NULL, NULL, &r);
		check(!body_has(&r, ct), "the badly signed message is not in the transcript");
		/* exactly one verified message in the room */
		int nver = 0;
		for (const char *p = r.body; p && (p = strstr(p, "\"sender_verified\":true")); p++)
			nver++;
		check(nver == 1, "transcript holds exactly 1 verified message (%d)", nver);
		http_resp_free(&r);

		/* DMs: an unsigned from_handle becomes null; a forged from_verified is ignored. */
		struct crypto_identity bob;
		new_id(&bob, "bob");
		register_id(&g, &bob, NULL, NULL);
		snprintf(path, sizeof(path), "/api/dm/%s", bob.handle);
		char eph[64], ex[128];
		rand_b64(eph, sizeof(eph), 32);
		snprintf(ex, sizeof(ex), "\"from_handle\":\"%s\",\"from_verified\":true", alice.handle);
		dm_body(body, sizeof(body), bob.handle, NULL, ct, nonce, eph, true, ex);
		st = post(&g, path, NULL, NULL, body, &r);
		if (not_implemented(st, &r)) {
			fail("DM markings: POST /api/dm answers 500 (every route is implemented: a 500 here is a failure)");
			http_resp_free(&r);
		} else {
			http_resp_free(&r);
			dm_body(body, sizeof(body), bob.handle, &alice, ct2, nonce, eph, false, NULL);
			long bad = post(&g, path, NULL, NULL, body, &r);
			http_resp_free(&r);
			char a[512];
			snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait?after=0&timeout=1", bob.handle);
			auth_line(a, sizeof(a), &bob, "GET", path, false);
			get(&g, path, NULL, a, &r);
			check(st == 200 && body_has(&r, "\"from_handle\":null,\"from_verified\":false") &&
				      !body_has(&r, "\"from_verified\":true"),
			      "DM with from_handle but no from_sig stored as from_handle:null, from_verified:false");
			check(bad == 401 && !body_has(&r, ct2), "DM with a wrong from_sig refused (%ld) and not stored", bad);
			http_resp_free(&r);
		}
	}
	sse_close(sse);
	ws_free(ws);
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-8: only POST messages, GET events and the WS upgrade create rooms. */
static int64_t rooms_now(struct rig *g, int64_t *created)
{
	struct http_resp r;
	long st = get(g, "/api/metrics", NULL, "Authorization: Bearer tok", &r);
	int64_t n = st == 200 ? jint(r.body, "active_rooms", -1) : -1;
	if (created)
		*created = st == 200 ? jint(r.body, "rooms_created_total", -1) : -1;
	http_resp_free(&r);
	struct http_resp h;
	get(g, "/api/health", NULL, NULL, &h);
	int64_t hn = jint(h.body, "rooms", -2);
	http_resp_free(&h);
	return n == hn ? n : -1;
}

static void sc_inv08(void)
{
	struct rig g;
	rig_init(&g, "inv08");
	const char *env[] = {"METRICS_TOKEN=tok", NULL};
	if (!rig_start(&g, env))
		goto out;
	char room[16], path[256], body[1024], a[512];
	rand_alnum(room, 10);
	struct crypto_identity id;
	new_id(&id, "gina");
	register_id(&g, &id, NULL, NULL);
	int64_t created0, n0 = rooms_now(&g, &created0);
	struct http_resp r;
	struct {
		const char *method, *sub, *body;
	} readers[] = {
		{"GET", "status", NULL},
		{"GET", "transcript?after=0", NULL},
		{"GET", "wait?timeout=1", NULL},
		{"HEAD", "status", NULL},
		{"POST", "listening", "{\"name\":\"ghost\"}"},
		{"GET", "ws", NULL}, /* no Upgrade header: an unknown path (HTTP-7) */
		{"POST", "messages", "{\"ciphertext\":\"AB==\",\"nonce\":\"x\"}"},  /* invalid: refused first */
		{"POST", "messages", "{"},
		{"POST", "claim?timeout=1", NULL},
		{"POST", "ack", NULL},
	};
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		snprintf(path, sizeof(path), "/api/rooms/%s/%s", room, readers[i].sub);
		const char *h[3] = {"Content-Type: application/json", NULL, NULL};
		const char *b = readers[i].body;
		if (!strncmp(readers[i].sub, "claim", 5) || !strcmp(readers[i].sub, "ack")) {
			auth_line(a, sizeof(a), &id, "POST", path, false);
			h[1] = a;
			snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"claim_id\":\"x\",\"seq\":1}", id.handle);
			b = body;
		}
		long st = rq(&g, readers[i].method, path, h, b, &r);
		int64_t n = rooms_now(&g, NULL);
		check(n == n0, "%s %s (status %ld) creates no room (rooms %lld -> %lld)", readers[i].method,
		      readers[i].sub, st, (long long)n0, (long long)n);
		http_resp_free(&r);
	}
	/* A rate-limited POST (tiny bucket relay below) and a room-cap refusal also create none:
	 * covered by INV-11. Now each of the three creators does create. */
	snprintf(path, sizeof(path), "/api/rooms/%s/status", room);
	get(&g, path, NULL, NULL, &r);
	check(body_has(&r, "\"exists\":false"), "status still says exists:false");
	http_resp_free(&r);
	int64_t created1;
	rooms_now(&g, &created1);
	check(created1 == created0, "rooms_created_total unchanged (%lld -> %lld)", (long long)created0,
	      (long long)created1);
	char r1[16], r2[16], r3[16];
	rand_alnum(r1, 10);
	rand_alnum(r2, 10);
	rand_alnum(r3, 10);
	check(post_msg(&g, r1, NULL, NULL) == 200 && rooms_now(&g, NULL) == n0 + 1, "POST messages creates the room");
	struct sse_conn *sse = sse_to(&g, r2, NULL, NULL);
	check(sse && sse_wait(sse, "\"ready\"", NULL, TMO) && rooms_now(&g, NULL) == n0 + 2, "GET events creates the room");
	struct ws_conn *ws = ws_to(&g, r3, NULL, NULL, NULL);
	check(ws && ws_wait(ws, "\"ready\"", NULL, TMO, NULL) && rooms_now(&g, NULL) == n0 + 3,
	      "the WebSocket upgrade creates the room");
	sse_close(sse);
	ws_free(ws);
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-9: seqs never go backwards. */
static void sc_inv09(void)
{
	struct rig g;
	char env_state[500];
	rig_init(&g, "inv09");
	snprintf(env_state, sizeof(env_state), "STATE_DIR=%s", g.state);
	const char *env[] = {env_state, NULL};
	if (!rig_start(&g, env))
		goto out;
	char room[16], path[256], body[1024], ct[64], nonce[48];
	rand_alnum(room, 10);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	struct sse_conn *sse = sse_to(&g, room, NULL, NULL);
	struct ws_conn *ws = ws_to(&g, room, NULL, NULL, NULL);
	sse_wait(sse, "\"ready\"", NULL, TMO);
	ws_wait(ws, "\"ready\"", NULL, TMO, NULL);
	/* (a) HTTP and WS posts interleaved; seqs strictly +1, seeded from the wall clock. */
	enum { N = 60 };
	int64_t t0 = now_ms(), seqs[N], prev = 0;
	int bad = 0, order_bad = 0;
	for (int i = 0; i < N; i++) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		msg_body(body, sizeof(body), ct, nonce, NULL);
		if (i % 2)
			ws_send_text(ws, body, strlen(body));
		else
			post_s(&g, path, NULL, body);
		char *ev = NULL, *wv = NULL;
		seqs[i] = sse_wait(sse, ct, &ev, TMO) ? jint(ev, "seq", -1) : -1;
		int64_t wseq = ws_wait(ws, ct, &wv, TMO, NULL) ? jint(wv, "seq", -2) : -2;
		bad += wseq != seqs[i];
		if (i && seqs[i] != prev + 1)
			order_bad++;
		prev = seqs[i];
		free(ev);
		free(wv);
	}
	check(order_bad == 0 && bad == 0, "%d posts over HTTP and WS: seqs strictly +1, equal on SSE and WS (%d gaps, %d mismatches)",
	      N, order_bad, bad);
	check(seqs[0] >= t0 - 1000 && seqs[0] <= now_ms(), "first seq %lld is the room's creation time in ms (ROOM-7)",
	      (long long)seqs[0]);
	sse_close(sse);
	ws_free(ws);
	/* (b) restart after SIGTERM, then after SIGKILL: the next seq is above every earlier one. */
	int64_t high = seqs[N - 1];
	for (int round = 0; round < 2; round++) {
		if (round == 0)
			rig_stop(&g);
		else {
			relay_signal(&g.rp, SIGKILL);
			relay_stop(&g.rp);
			g.up = false;
		}
		rig_drop_log(&g);
		if (!rig_start(&g, env))
			goto out;
		int64_t s;
		post_msg(&g, room, NULL, &s);
		check(s > high, "after %s and restart the room's next seq %lld > earlier %lld", round ? "SIGKILL" : "SIGTERM",
		      (long long)s, (long long)high);
		high = s;
	}
	/* (c) DM inbox_seq: persisted, and a rejected DM consumes no seq. */
	struct crypto_identity bob;
	new_id(&bob, "bob");
	struct http_resp r;
	long st = register_id(&g, &bob, NULL, &r);
	if (not_implemented(st, &r)) {
		fail("DM inbox_seq: identity registration answers 500 (every route is implemented: a 500 here is a failure)");
		http_resp_free(&r);
		goto stop;
	}
	http_resp_free(&r);
	char eph[64], dpath[128];
	snprintf(dpath, sizeof(dpath), "/api/dm/%s", bob.handle);
	int64_t dseq[4];
	for (int i = 0; i < 4; i++) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		rand_b64(eph, sizeof(eph), 32);
		dm_body(body, sizeof(body), bob.handle, NULL, ct, i == 1 ? "AAAA" : nonce, eph, true, NULL);
		st = post(&g, dpath, NULL, NULL, body, &r);
		if (i == 0 && not_implemented(st, &r)) {
			fail("DM inbox_seq: POST /api/dm answers 500 (every route is implemented: a 500 here is a failure)");
			http_resp_free(&r);
			goto stop;
		}
		dseq[i] = st == 200 ? jint(r.body, "seq", -1) : -1;
		http_resp_free(&r);
	}
	check(dseq[1] == -1 && dseq[2] == dseq[0] + 1 && dseq[3] == dseq[2] + 1,
	      "DM seqs %lld, (rejected), %lld, %lld: a rejected DM consumes no seq", (long long)dseq[0],
	      (long long)dseq[2], (long long)dseq[3]);
	int64_t dhigh = dseq[3];
	for (int round = 0; round < 2; round++) {
		if (round == 0) {
			rig_stop(&g);
		} else {
			/* DM-4: persisted within 2 s; poll the file for the last seq, then SIGKILL. */
			char fp[600], num[32];
			snprintf(fp, sizeof(fp), "%s/identities.json", g.state);
			snprintf(num, sizeof(num), "%lld", (long long)dhigh);
			int64_t deadline = clock_mono_ms() + 5000;
			bool seen = false;
			while (!seen && clock_mono_ms() < deadline) {
				char *f = read_file(fp, NULL);
				seen = f && strstr(f, num);
				free(f);
				if (!seen)
					nap_ms(20);
			}
			check(seen, "inbox_seq %s reached identities.json within 5 s (DM-4: within 2 s)", num);
			relay_signal(&g.rp, SIGKILL);
			relay_stop(&g.rp);
			g.up = false;
		}
		rig_drop_log(&g);
		if (!rig_start(&g, env))
			goto out;
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		rand_b64(eph, sizeof(eph), 32);
		dm_body(body, sizeof(body), bob.handle, NULL, ct, nonce, eph, true, NULL);
		post(&g, dpath, NULL, NULL, body, &r);
		int64_t s = jint(r.body, "seq", -1);
		http_resp_free(&r);
		check(s > dhigh, "after %s and restart the next DM seq %lld > earlier %lld", round ? "SIGKILL" : "SIGTERM",
		      (long long)s, (long long)dhigh);
		dhigh = s;
	}
stop:
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-10: on authenticated routes the rate limit is charged before any signature check. */
struct route_probe {
	const char *name;
	int retry_after;
	long (*send)(struct rig *g, const char *ip, void *ctx, struct http_resp *r);
};

struct rl_ctx {
	struct crypto_identity alice, bob;
	char room[16];
};

static long p_room(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct rl_ctx *c = vctx;
	char body[1024], ct[64], nonce[48], path[128];
	rand_b64(ct, sizeof(ct), 27);
	rand_b64(nonce, sizeof(nonce), 24);
	signed_body(body, sizeof(body), &c->alice, c->room, ct, nonce, false, NULL);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", c->room);
	return post(g, path, ip, NULL, body, r);
}

static long p_register(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct crypto_identity id;
	char s[512], sig[89], body[1024];
	new_id(&id, "rl");
	int64_t ts = now_ms();
	sigstr_register(s, sizeof(s), id.handle, strlen(id.handle), ts, id.box_pub_b64, 44, id.sign_pub_b64, 44);
	crypto_sign_b64(&id, s, strlen(s), sig);
	sig[5] = sig[5] == 'A' ? 'B' : 'A';
	snprintf(body, sizeof(body),
		 "{\"handle\":\"%s\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"%s\"}",
		 id.handle, id.box_pub_b64, id.sign_pub_b64, (long long)ts, sig);
	return post(g, "/api/identity/register", ip, NULL, body, r);
}

static long p_dm(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct rl_ctx *c = vctx;
	char body[1024], ct[64], nonce[48], eph[64], path[128];
	rand_b64(ct, sizeof(ct), 27);
	rand_b64(nonce, sizeof(nonce), 24);
	rand_b64(eph, sizeof(eph), 32);
	dm_body(body, sizeof(body), c->bob.handle, &c->alice, ct, nonce, eph, false, NULL);
	snprintf(path, sizeof(path), "/api/dm/%s", c->bob.handle);
	return post(g, path, ip, NULL, body, r);
}

static long p_inbox_wait(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct rl_ctx *c = vctx;
	char path[160], a[512];
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait?after=0&timeout=1", c->alice.handle);
	auth_line(a, sizeof(a), &c->alice, "GET", path, true);
	return get(g, path, ip, a, r);
}

static long p_inbox_delete(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct rl_ctx *c = vctx;
	char path[160], a[512], x[96];
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/abc", c->alice.handle);
	auth_line(a, sizeof(a), &c->alice, "DELETE", path, true);
	snprintf(x, sizeof(x), "X-Forwarded-For: %s", ip);
	const char *h[] = {a, x, NULL};
	return rq(g, "DELETE", path, h, NULL, r);
}

static long p_claim(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct rl_ctx *c = vctx;
	char path[160], a[512], body[128];
	snprintf(path, sizeof(path), "/api/rooms/%s/claim?timeout=1", c->room);
	auth_line(a, sizeof(a), &c->alice, "POST", path, true);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\"}", c->alice.handle);
	return post(g, path, ip, a, body, r);
}

static long p_ack(struct rig *g, const char *ip, void *vctx, struct http_resp *r)
{
	struct rl_ctx *c = vctx;
	char path[160], a[512], body[160];
	snprintf(path, sizeof(path), "/api/rooms/%s/ack", c->room);
	auth_line(a, sizeof(a), &c->alice, "POST", path, true);
	snprintf(body, sizeof(body), "{\"handle\":\"%s\",\"claim_id\":\"x\",\"seq\":1}", c->alice.handle);
	return post(g, path, ip, a, body, r);
}

static void sc_inv10(void)
{
	struct rig g;
	rig_init(&g, "inv10");
	/* A bucket of 3 that never refills (RL-2 per key; RL-3 global stays large). */
	const char *env[] = {"ROOM_RL_CAP=3", "ROOM_RL_REFILL_PER_SEC=0", NULL};
	if (!rig_start(&g, env))
		goto out;
	struct rl_ctx c;
	rand_alnum(c.room, 10);
	new_id(&c.alice, "alice");
	new_id(&c.bob, "bob");
	struct http_resp r;
	long st = register_id(&g, &c.alice, "198.51.100.1", &r);
	bool ids = st == 201;
	if (not_implemented(st, &r))
		fail("registered handles: registration answers 500 (every route is implemented: a 500 here is a failure); room route probed with an unknown handle");
	http_resp_free(&r);
	if (ids)
		register_id(&g, &c.bob, "198.51.100.2", NULL);
	post_msg(&g, c.room, "198.51.100.3", NULL); /* the room exists for claim */
	const struct route_probe probes[] = {
		{"POST /api/rooms/{id}/messages (ROOM-POST-3 before -6)", 1, p_room},
		{"POST /api/identity/register (ID-REG-1 before -13)", 5, p_register},
		{"POST /api/dm/{handle} (DM-1b before DM-2)", 1, p_dm},
		{"GET /api/dm/{handle}/inbox/wait (DM-7c before -7d)", 5, p_inbox_wait},
		{"DELETE /api/dm/{handle}/inbox/{id} (DM-7c before -7d)", 5, p_inbox_delete},
		{"POST /api/rooms/{id}/claim (CLAIM-1d before -1e)", 5, p_claim},
		{"POST /api/rooms/{id}/ack (CLAIM-1d before -1e)", 5, p_ack},
	};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "203.0.113.%zu", 10 + i); /* own bucket per route */
		long sts[4];
		bool ni = false;
		for (int k = 0; k < 4; k++) {
			sts[k] = probes[i].send(&g, ip, &c, &r);
			ni |= not_implemented(sts[k], &r);
			if (k == 3) {
				char ra[8];
				size_t ral = 0;
				const char *h = http_header(&r, "Retry-After", &ral);
				snprintf(ra, sizeof(ra), "%.*s", (int)(h ? ral : 0), h ? h : "");
				bool ok = is_error(&r, 429, "rate limited") && atoi(ra) == probes[i].retry_after;
				bool bad_first = sts[0] == 401 && sts[1] == 401 && sts[2] == 401;
				if (ni)
					fail("%s: answers 500 (every route is implemented: a 500 here is a failure)", probes[i].name);
				else if (!ids && probes[i].send != p_room && probes[i].send != p_register)
					skip("%s: needs registered handles", probes[i].name);
				else
					check(ok && bad_first,
					      "%s: bad signatures got %ld %ld %ld, then 429 rate limited with Retry-After %s (want %d)",
					      probes[i].name, sts[0], sts[1], sts[2], ra[0] ? ra : "-", probes[i].retry_after);
			}
			http_resp_free(&r);
		}
	}
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* INV-11: every cap is configurable and refuses when full. */
static void sc_inv11(void)
{
	struct rig g;
	struct http_resp r;
	char room[16], path[256], body[4096];

	/* CAP-1 streams per IP, CAP-2 waiters per IP, CAP-3 waiters per room, CAP-5 rooms,
	 * CAP-6 byte fuse, CAP-9 buffer, CAP-13 heartbeats, HTTP-14 body, WS-4 frame. */
	rig_init(&g, "inv11a");
	/* KEEPALIVE_MS: a closed stream is noticed at the next write (SSE-11), so make it soon. */
	const char *env[] = {"STREAM_CAP_PER_IP=2", "WAITER_CAP_PER_IP=1", "ROOM_WAITERS_MAX=1", "ROOMS_MAX=3",
			     "METRICS_TOKEN=tok", "KEEPALIVE_MS=100", NULL};
	if (!rig_start(&g, env))
		goto b;
	char ra[16], rb[16];
	rand_alnum(ra, 10);
	rand_alnum(rb, 10);
	const char *ipA = "198.51.100.10", *ipB = "198.51.100.11";
	/* CAP-1 */
	struct sse_conn *s1 = sse_to(&g, ra, NULL, ipA), *s2 = sse_to(&g, ra, NULL, ipA);
	sse_wait(s1, "\"ready\"", NULL, TMO);
	sse_wait(s2, "\"ready\"", NULL, TMO);
	struct sse_conn *s3 = sse_to(&g, ra, NULL, ipA);
	size_t bl = 0;
	const char *b3 = s3 ? sse_conn_raw(s3, &bl) : NULL;
	char want[400];
	snprintf(want, sizeof(want), "{\"error\":\"too many concurrent streams from this IP\"}");
	check(s3 && sse_conn_status(s3) == 429 && b3 && strstr(b3, want),
	      "CAP-1 STREAM_CAP_PER_IP=2: third SSE stream from one IP gets 429 (%ld)", s3 ? sse_conn_status(s3) : -1);
	sse_close(s3);
	struct ws_conn *w3 = ws_to(&g, ra, NULL, ipA, NULL);
	char *frame = NULL;
	int code = 0;
	bool wf = w3 && ws_wait(w3, "\"code\":429", &frame, TMO, &code);
	check(wf && strstr(frame, "too many concurrent streams from this IP"),
	      "CAP-1: a WebSocket from the same IP gets the 429 error frame (WS-5)");
	free(frame);
	ws_free(w3);
	sse_close(s2);
	/* released exactly once: a new stream fits again (poll until the slot is back) */
	bool again = false;
	for (int64_t dl = clock_mono_ms() + 5000; !again && clock_mono_ms() < dl;) {
		struct sse_conn *s4 = sse_to(&g, ra, NULL, ipA);
		again = s4 && sse_conn_status(s4) == 200;
		sse_close(s4);
		if (!again)
			nap_ms(10);
	}
	check(again, "CAP-15: the slot of a closed stream is released");
	sse_close(s1);
	/* CAP-2 / CAP-3 */
	snprintf(path, sizeof(path), "/api/rooms/%s/wait?timeout=5", ra);
	struct async_rq a1;
	async_get(&a1, &g, path, ipA, NULL);
	bool parked = wait_parked(&g, 1, 5000);
	/* Same IP, another room (ROOM-WAIT-3 tests the room cap first): the IP cap refuses. */
	char pb[256];
	post_msg(&g, rb, ipB, NULL);
	snprintf(pb, sizeof(pb), "/api/rooms/%s/wait?timeout=5&after=9007199254740000", rb);
	get(&g, pb, ipA, NULL, &r);
	check(parked && is_error(&r, 429, "too many concurrent waiters from this IP"),
	      "CAP-2 WAITER_CAP_PER_IP=1: a second parked wait from one IP gets 429 (%ld)", r.status);
	http_resp_free(&r);
	get(&g, path, ipB, NULL, &r);
	check(parked && is_error(&r, 429, "too many concurrent waiters for this room"),
	      "CAP-3 ROOM_WAITERS_MAX=1: a parked wait from another IP gets 429 for the room (%ld)", r.status);
	http_resp_free(&r);
	post_msg(&g, ra, ipB, NULL); /* wakes the parked wait */
	async_join(&a1);
	free(a1.body);
	/* CAP-5: rooms ra (exists), then two held by subscribers, then a fourth is refused. */
	char rc1[16], rc2[16], rc3[16];
	rand_alnum(rc1, 10);
	rand_alnum(rc2, 10);
	rand_alnum(rc3, 10);
	struct sse_conn *h1 = sse_to(&g, rc1, NULL, "198.51.100.21");
	struct sse_conn *h2 = sse_to(&g, rc2, NULL, "198.51.100.22");
	struct sse_conn *h3 = sse_to(&g, ra, NULL, "198.51.100.23");
	sse_wait(h1, "\"ready\"", NULL, TMO);
	sse_wait(h2, "\"ready\"", NULL, TMO);
	sse_wait(h3, "\"ready\"", NULL, TMO);
	char ct[64], nonce[48];
	rand_b64(ct, sizeof(ct), 3);
	rand_b64(nonce, sizeof(nonce), 24);
	msg_body(body, sizeof(body), "AAAA", nonce, NULL);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", rc3);
	post(&g, path, "198.51.100.24", NULL, body, &r);
	char rah[8] = "";
	size_t ral = 0;
	const char *rh = http_header(&r, "Retry-After", &ral);
	snprintf(rah, sizeof(rah), "%.*s", (int)(rh ? ral : 0), rh ? rh : "");
	check(is_error(&r, 503, "room cap reached") && !strcmp(rah, "60"),
	      "CAP-5 ROOMS_MAX=3 with every room held: a new room gets 503 room cap reached, Retry-After 60 (%ld)",
	      r.status);
	http_resp_free(&r);
	struct sse_conn *h4 = sse_to(&g, rc3, NULL, "198.51.100.25");
	char *ev = NULL;
	check(h4 && sse_wait(h4, "room cap reached", &ev, TMO), "CAP-5: an SSE join to a new room gets the room-cap error event");
	free(ev);
	sse_close(h4);
	sse_close(h1);
	sse_close(h2);
	sse_close(h3);
	rig_stop(&g);
	rig_drop_log(&g);
b:
	rig_free(&g);

	/* CAP-6: the room buffers may hold 1100 bytes: "AAAA"+512 twice fits, a third does not. */
	rig_init(&g, "inv11f");
	const char *envf[] = {"ROOM_GLOBAL_MAX_BYTES=1100", NULL};
	if (rig_start(&g, envf)) {
		char nn[48];
		rand_alnum(room, 10);
		rand_b64(nn, sizeof(nn), 24);
		msg_body(body, sizeof(body), "AAAA", nn, NULL);
		snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
		long f0 = post_s(&g, path, NULL, body), f1 = post_s(&g, path, NULL, body);
		post(&g, path, NULL, NULL, body, &r);
		char rah6[8] = "";
		size_t ral6 = 0;
		const char *rh6 = http_header(&r, "Retry-After", &ral6);
		snprintf(rah6, sizeof(rah6), "%.*s", (int)(rh6 ? ral6 : 0), rh6 ? rh6 : "");
		check(f0 == 200 && f1 == 200 && is_error(&r, 503, "global room buffer full \xe2\x80\x94 try again shortly") &&
			      !strcmp(rah6, "60"),
		      "CAP-6 ROOM_GLOBAL_MAX_BYTES=1100: posts got %ld %ld, the third 503 byte fuse, Retry-After 60 (%ld)", f0, f1,
		      r.status);
		http_resp_free(&r);
		rig_stop(&g);
		rig_drop_log(&g);
	}
	rig_free(&g);

	/* Second relay: CAP-9 buffer, CAP-13 heartbeats, HTTP-14 body, WS-4 frame. */
	rig_init(&g, "inv11b");
	const char *env2[] = {"RECENT_MAX=3", "LISTENERS_MAX_PER_ROOM=2", "JSON_BODY_MAX_BYTES=1000",
			      "WS_MAX_PAYLOAD_BYTES=1000", NULL};
	if (!rig_start(&g, env2))
		goto c;
	rand_alnum(room, 10);
	for (int i = 0; i < 5; i++)
		post_msg(&g, room, NULL, NULL);
	snprintf(path, sizeof(path), "/api/rooms/%s/transcript", room);
	get(&g, path, NULL, NULL, &r);
	check(jint(r.body, "count", -1) == 3, "CAP-9 RECENT_MAX=3: 5 posts leave 3 buffered (count %lld)",
	      (long long)jint(r.body, "count", -1));
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/%s/listening", room);
	for (int i = 0; i < 4; i++) {
		snprintf(body, sizeof(body), "{\"name\":\"hb%d\"}", i);
		post_s(&g, path, NULL, body);
	}
	struct sse_conn *hs = sse_to(&g, room, NULL, NULL);
	char *ready = NULL;
	int nhb = 0;
	if (hs && sse_wait(hs, "\"ready\"", &ready, TMO))
		for (const char *p = ready; (p = strstr(p, "\"name\":\"hb")); p++)
			nhb++;
	check(ready && nhb == 2, "CAP-13 LISTENERS_MAX_PER_ROOM=2: 4 heartbeats, %d listed", nhb);
	free(ready);
	sse_close(hs);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	char big[1100];
	memset(big, 'A', 1008);
	big[1008] = '\0';
	snprintf(body, sizeof(body), "{\"ciphertext\":\"%s\",\"nonce\":\"x\"}", big);
	post(&g, path, NULL, NULL, body, &r);
	check(is_error(&r, 413, "payload too large"), "HTTP-14 JSON_BODY_MAX_BYTES=1000: a larger body gets 413 (%ld)",
	      r.status);
	http_resp_free(&r);
	struct ws_conn *ws = ws_to(&g, room, NULL, NULL, NULL);
	int cc = 0;
	if (ws) {
		ws_wait(ws, "\"ready\"", NULL, TMO, NULL);
		ws_send_text(ws, body, strlen(body));
		while (ws_wait(ws, NULL, NULL, TMO, &cc))
			;
	}
	check(cc == 1009, "WS-4 WS_MAX_PAYLOAD_BYTES=1000: a larger frame closes the socket with 1009 (%d)", cc);
	ws_free(ws);
	rig_stop(&g);
	rig_drop_log(&g);
c:
	rig_free(&g);

	/* Third relay: identity cap and the four replay caches at 1 (REPLAY-3: refuse, never
	 * accept unrecorded). */
	rig_init(&g, "inv11c");
	const char *env3[] = {"IDENTITIES_MAX=2", "ROOM_SIG_SEEN_MAX=1", "REGISTER_SIG_SEEN_MAX=2",
			      "INBOX_SIG_SEEN_MAX=1", "DM_ENV_SEEN_MAX=1", NULL};
	if (!rig_start(&g, env3))
		goto d;
	struct crypto_identity a, b2, c3;
	new_id(&a, "amy");
	new_id(&b2, "ben");
	new_id(&c3, "cat");
	long s1r = register_id(&g, &a, NULL, &r);
	if (not_implemented(s1r, &r)) {
		fail("CAP-8, CAP-12: identity registration answers 500 (every route is implemented: a 500 here is a failure)");
		http_resp_free(&r);
		goto d_stop;
	}
	http_resp_free(&r);
	long s2r = register_id(&g, &b2, NULL, NULL);
	register_id(&g, &c3, NULL, &r);
	check(s1r == 201 && s2r == 201 && is_error(&r, 503, "identity cap reached"),
	      "CAP-8 IDENTITIES_MAX=2: registrations got %ld %ld, the third 503 identity cap reached (%ld)", s1r, s2r,
	      r.status);
	http_resp_free(&r);
	rand_alnum(room, 10);
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	char b1[2048], ct2[64];
	rand_b64(ct, sizeof(ct), 27);
	rand_b64(ct2, sizeof(ct2), 27);
	rand_b64(nonce, sizeof(nonce), 24);
	signed_body(b1, sizeof(b1), &a, room, ct, nonce, true, NULL);
	long p1 = post_s(&g, path, NULL, b1);
	signed_body(body, sizeof(body), &a, room, ct2, nonce, true, NULL);
	post(&g, path, NULL, NULL, body, &r);
	check(p1 == 200 && is_error(&r, 503, "replay cache full \xe2\x80\x94 try again shortly"),
	      "CAP-12 ROOM_SIG_SEEN_MAX=1: first signed post %ld, second refused 503 replay cache full (%ld)", p1, r.status);
	http_resp_free(&r);
	post(&g, path, NULL, NULL, b1, &r);
	check(r.status == 401 || r.status == 503, "CAP-12: the first signed post replayed is still refused (%ld)", r.status);
	snprintf(path, sizeof(path), "/api/rooms/%s/transcript", room);
	http_resp_free(&r);
	get(&g, path, NULL, NULL, &r);
	check(!body_has(&r, ct2), "CAP-12: the refused signed message was not stored");
	http_resp_free(&r);
	char aa[512];
	snprintf(path, sizeof(path), "/api/dm/%s/inbox/wait?after=0&timeout=1", a.handle);
	auth_line(aa, sizeof(aa), &a, "GET", path, false);
	long w1 = get(&g, path, NULL, aa, &r);
	http_resp_free(&r);
	if (w1 == 500) {
		fail("CAP-12 INBOX_SIG_SEEN_MAX, DM_ENV_SEEN_MAX: inbox routes answer 500 (every route is implemented: a 500 here is a failure)");
		goto d_stop;
	}
	auth_line(aa, sizeof(aa), &a, "GET", path, false);
	get(&g, path, NULL, aa, &r);
	check(w1 == 200 && is_error(&r, 503, "replay cache full \xe2\x80\x94 try again shortly"),
	      "CAP-12 INBOX_SIG_SEEN_MAX=1: second signed inbox wait refused 503 (%ld, %ld)", w1, r.status);
	http_resp_free(&r);
	char eph[64];
	snprintf(path, sizeof(path), "/api/dm/%s", b2.handle);
	long d[2];
	for (int i = 0; i < 2; i++) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(eph, sizeof(eph), 32);
		dm_body(body, sizeof(body), b2.handle, &a, ct, nonce, eph, true, NULL);
		post(&g, path, NULL, NULL, body, &r);
		d[i] = r.status;
		if (i == 1)
			check(d[0] == 200 && is_error(&r, 503, "replay cache full \xe2\x80\x94 try again shortly"),
			      "CAP-12 DM_ENV_SEEN_MAX=1: second verified DM refused 503 (%ld, %ld)", d[0], d[1]);
		http_resp_free(&r);
	}
d_stop:
	rig_stop(&g);
	rig_drop_log(&g);
d:
	rig_free(&g);

	/* DM caps: CAP-10 inbox length, CAP-4 inbox waiters per handle; then CAP-7 inbox bytes. */
	rig_init(&g, "inv11d");
	const char *env4[] = {"INBOX_MAX=2", "DM_WAITERS_MAX_PER_HANDLE=1", "METRICS_TOKEN=tok", NULL};
	if (!rig_start(&g, env4))
		goto e;
	struct crypto_identity x;
	new_id(&x, "xia");
	long sx = register_id(&g, &x, NULL, &r);
	http_resp_free(&r);
	char e2[64], dp[128], wp[160], ah[512];
	snprintf(dp, sizeof(dp), "/api/dm/%s", x.handle);
	long d0 = 0;
	for (int i = 0; i < 3; i++) {
		rand_b64(ct, sizeof(ct), 27);
		rand_b64(nonce, sizeof(nonce), 24);
		rand_b64(e2, sizeof(e2), 32);
		dm_body(body, sizeof(body), x.handle, NULL, ct, nonce, e2, true, NULL);
		long st = post_s(&g, dp, NULL, body);
		d0 = i ? d0 : st;
	}
	if (sx != 201 || d0 == 500) {
		fail("CAP-4, CAP-10: registration or DM failed (register %ld, DM %ld)", sx, d0);
		goto e_stop;
	}
	snprintf(wp, sizeof(wp), "/api/dm/%s/inbox/wait?after=0&timeout=1", x.handle);
	auth_line(ah, sizeof(ah), &x, "GET", wp, false);
	get(&g, wp, NULL, ah, &r);
	int nenv = 0;
	for (const char *q = r.body; q && (q = strstr(q, "\"sender_eph_pub\"")); q++)
		nenv++;
	check(r.status == 200 && nenv == 2, "CAP-10 INBOX_MAX=2: 3 DMs leave 2 in the inbox (%d)", nenv);
	http_resp_free(&r);
	snprintf(wp, sizeof(wp), "/api/dm/%s/inbox/wait?after=9007199254740000&timeout=2", x.handle);
	auth_line(ah, sizeof(ah), &x, "GET", wp, false);
	struct async_rq aw;
	async_get(&aw, &g, wp, "198.51.100.31", ah);
	bool dparked = wait_metric(&g, "dm_waits_total", 1, 5000); /* DM-7h counts on parking */
	auth_line(ah, sizeof(ah), &x, "GET", wp, false);
	get(&g, wp, "198.51.100.32", ah, &r);
	check(dparked && is_error(&r, 429, "too many concurrent waiters for this handle"),
	      "CAP-4 DM_WAITERS_MAX_PER_HANDLE=1: a second parked inbox wait gets 429 (%ld)", r.status);
	http_resp_free(&r);
	async_join(&aw); /* times out after 2 s: nothing has a seq above `after` */
	free(aw.body);
e_stop:
	rig_stop(&g);
	rig_drop_log(&g);
e:
	rig_free(&g);

	rig_init(&g, "inv11e");
	const char *env5[] = {"INBOX_GLOBAL_MAX_BYTES=1100", NULL};
	if (rig_start(&g, env5)) {
		struct crypto_identity y;
		new_id(&y, "yan");
		long sy = register_id(&g, &y, NULL, NULL);
		snprintf(dp, sizeof(dp), "/api/dm/%s", y.handle);
		long st[3];
		for (int i = 0; i < 3; i++) {
			rand_b64(nonce, sizeof(nonce), 24);
			rand_b64(e2, sizeof(e2), 32);
			dm_body(body, sizeof(body), y.handle, NULL, "AAAA", nonce, e2, true, NULL);
			st[i] = post(&g, dp, NULL, NULL, body, &r);
			if (i == 2) {
				if (sy != 201 || st[0] == 500)
					fail("CAP-7: registration or DM failed");
				else
					check(st[0] == 200 && st[1] == 200 &&
						      is_error(&r, 503, "global DM buffer full \xe2\x80\x94 try again shortly"),
					      "CAP-7 INBOX_GLOBAL_MAX_BYTES=1100: DMs got %ld %ld, the third 503 DM byte fuse (%ld)",
					      st[0], st[1], st[2]);
			}
			http_resp_free(&r);
		}
		rig_stop(&g);
		rig_drop_log(&g);
	}
	rig_free(&g);
	skip("CAP-11 (claim cursors per handle, LRU) and CAP-14 (subscriber backlog): not driven here");
}

/* INV-12: bug-report IPs only as a truncated salted hash. */
static bool bug_line(const char *path, char **out)
{
	int64_t deadline = clock_mono_ms() + 5000;
	while (clock_mono_ms() < deadline) {
		char *s = read_file(path, NULL);
		if (s && strchr(s, '\n')) {
			*out = s;
			return true;
		}
		free(s);
		nap_ms(10);
	}
	return false;
}

static void sc_inv12(void)
{
	const char *ip = "203.0.113.9";
	char hashes[2][16] = {"", ""};
	for (int run = 0; run < 3; run++) {
		struct rig g;
		char bugs[500], env_bugs[520];
		rig_init(&g, "inv12");
		snprintf(bugs, sizeof(bugs), "%s/bugs.log", g.dir);
		snprintf(env_bugs, sizeof(env_bugs), "BUGS_LOG=%s", bugs);
		const char *env[] = {env_bugs, run == 0 ? "BUGS_IP_SALT=s" : NULL, NULL};
		if (!rig_start(&g, env)) {
			rig_free(&g);
			return;
		}
		struct http_resp r;
		long st = post(&g, "/api/report", ip, "User-Agent: inv12", "{\"what\":\"inv12 report\",\"severity\":\"low\"}", &r);
		if (not_implemented(st, &r)) {
			http_resp_free(&r);
			rig_stop(&g);
			struct stat sb;
			check(stat(bugs, &sb) != 0, "/api/report answers 500 and stores nothing");
			fail("INV-12 hash checks: /api/report answered 500");
			rig_drop_log(&g);
			rig_free(&g);
			return;
		}
		http_resp_free(&r);
		char *line = NULL;
		bool got = bug_line(bugs, &line);
		rig_stop(&g);
		if (!check(got, "report %d written to BUGS_LOG (status %ld)", run + 1, st)) {
			rig_free(&g);
			return;
		}
		const char *h = strstr(line, "\"ip_hash\":\"");
		char hash[16] = "";
		if (h)
			snprintf(hash, sizeof(hash), "%.12s", h + 11);
		check(!strstr(line, ip) && !find_ipv4(line), "bug log line holds no IP address");
		check(h && strlen(hash) == 12 && h[11 + 12] == '"', "ip_hash is 12 hex characters (%s)", hash);
		if (run == 0) {
			unsigned char d[crypto_hash_sha256_BYTES];
			char hex[65], in[64];
			snprintf(in, sizeof(in), "%s|s", ip);
			crypto_hash_sha256(d, (const unsigned char *)in, strlen(in));
			sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
			check(!strncmp(hash, hex, 12), "ip_hash = first 12 hex of SHA-256(ip|salt) with BUGS_IP_SALT=s (%s, want %.12s)",
			      hash, hex);
			/* and not the unsalted hash */
			crypto_hash_sha256(d, (const unsigned char *)ip, strlen(ip));
			sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
			check(strncmp(hash, hex, 12) != 0, "ip_hash is not the unsalted SHA-256 of the IP");
		} else {
			snprintf(hashes[run - 1], sizeof(hashes[0]), "%s", hash);
		}
		free(line);
		rig_drop_log(&g);
		rig_free(&g);
	}
	check(hashes[0][0] && strcmp(hashes[0], hashes[1]) != 0,
	      "without BUGS_IP_SALT two starts hash the same IP differently (%s vs %s: random salt)", hashes[0], hashes[1]);
}

/* INV-13: operator endpoints need the bearer token. */
static void sc_inv13(void)
{
	struct rig g;
	struct http_resp r;
	rig_init(&g, "inv13");
	if (rig_start(&g, NULL)) {
		get(&g, "/metrics", NULL, "Authorization: Bearer anything", &r);
		check(is_error(&r, 503, "metrics disabled (no METRICS_TOKEN configured)"),
		      "METRICS_TOKEN unset: /metrics answers 503 metrics disabled (%ld)", r.status);
		http_resp_free(&r);
		rig_stop(&g);
		rig_drop_log(&g);
	}
	rig_free(&g);

	rig_init(&g, "inv13");
	const char *env[] = {"METRICS_TOKEN=s3cret-Tok", "IDENTITY_ADMIN_TOKEN=adm1n-Tok", NULL};
	if (!rig_start(&g, env))
		goto out;
	static const char *const wrong[] = {NULL,
					    "Authorization: Bearer s3cret-To",
					    "Authorization: Bearer s3cret-Tok2",
					    "Authorization: Bearer S3cret-Tok",
					    "Authorization: bearer s3cret-Tok",
					    "Authorization: s3cret-Tok",
					    "Authorization: Bearer ",
					    "Authorization: Basic s3cret-Tok",
					    "Authorization: Bearer adm1n-Tok"};
	for (int ep = 0; ep < 2; ep++) {
		const char *url = ep ? "/api/metrics" : "/metrics";
		int refused = 0;
		for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
			get(&g, url, NULL, wrong[i], &r);
			refused += is_error(&r, 401, "unauthorised");
			http_resp_free(&r);
		}
		char q[64];
		snprintf(q, sizeof(q), "%s?token=s3cret-Tok", url);
		get(&g, q, NULL, NULL, &r);
		refused += is_error(&r, 401, "unauthorised");
		http_resp_free(&r);
		check(refused == (int)(sizeof(wrong) / sizeof(wrong[0])) + 1,
		      "%s: missing, wrong, prefix, longer, wrong-case, other-scheme and ?token= credentials all get 401 (%d/%zu)",
		      url, refused, sizeof(wrong) / sizeof(wrong[0]) + 1);
		get(&g, url, NULL, "Authorization: Bearer s3cret-Tok", &r);
		check(r.status == 200 && http_header_is(&r, "Cache-Control", "no-store"),
		      "%s: the right token gets 200 with Cache-Control: no-store (%ld)", url, r.status);
		http_resp_free(&r);
	}
	/* ID-REG-3/5: a reserved handle only with the admin token. */
	struct crypto_identity adm;
	if (crypto_identity_new(&adm, "admin") < 0)
		die("identity");
	char s[512], sig[89], body[1024];
	int64_t ts = now_ms();
	sigstr_register(s, sizeof(s), "admin", 5, ts, adm.box_pub_b64, 44, adm.sign_pub_b64, 44);
	crypto_sign_b64(&adm, s, strlen(s), sig);
	snprintf(body, sizeof(body),
		 "{\"handle\":\"admin\",\"box_pub\":\"%s\",\"sign_pub\":\"%s\",\"register_ts\":%lld,\"register_sig\":\"%s\"}",
		 adm.box_pub_b64, adm.sign_pub_b64, (long long)ts, sig);
	long st = post(&g, "/api/identity/register", NULL, "Authorization: Bearer s3cret-Tok", body, &r);
	if (not_implemented(st, &r)) {
		fail("IDENTITY_ADMIN_TOKEN: registration answers 500 (every route is implemented: a 500 here is a failure)");
		http_resp_free(&r);
	} else {
		check(is_error(&r, 409, "handle reserved"), "reserved handle with a wrong operator token: 409 handle reserved (%ld)",
		      st);
		http_resp_free(&r);
		st = post(&g, "/api/identity/register", NULL, "Authorization: Bearer adm1n-Tok", body, &r);
		check(st == 201, "reserved handle with the operator token: 201 (%ld)", st);
		http_resp_free(&r);
	}
	rig_stop(&g);
	rig_drop_log(&g);
out:
	rig_free(&g);
}

/* ==== main ====================================================================================== */

static const struct {
	const char *name;
	void (*fn)(void);
} scenarios[] = {
	{"inv01", sc_inv01}, {"inv02", sc_inv02}, {"inv03", sc_inv03}, {"inv04", sc_inv04}, {"inv05", sc_inv05},
	{"inv06", sc_inv06}, {"inv07", sc_inv07}, {"inv08", sc_inv08}, {"inv09", sc_inv09}, {"inv10", sc_inv10},
	{"inv11", sc_inv11}, {"inv12", sc_inv12}, {"inv13", sc_inv13},
};

int main(int argc, char **argv)
{
	const char *sc = argc > 1 ? argv[1] : "";
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--relay"))
			relay_bin = argv[i + 1];
		else if (!strcmp(argv[i], "--sandbox"))
			sandbox_base = argv[i + 1];
		else if (!strcmp(argv[i], "--vectors"))
			vectors_dir = argv[i + 1];
	}
	if (!relay_bin || !sandbox_base) {
		fprintf(stderr, "usage: invdrive SCENARIO --relay BIN --sandbox DIR [--vectors DIR]\n");
		return 2;
	}
	if (!vectors_dir)
		vectors_dir = "spec/vectors";
	/* Relays start with their cwd in the sandbox: make every path absolute first. */
	static char rb[4096], sb[4096], vd[4096];
	if (!realpath(relay_bin, rb) || !realpath(sandbox_base, sb) || !realpath(vectors_dir, vd)) {
		fprintf(stderr, "invdrive: cannot resolve %s, %s or %s\n", relay_bin, sandbox_base, vectors_dir);
		return 2;
	}
	relay_bin = rb;
	sandbox_base = sb;
	vectors_dir = vd;
	signal(SIGPIPE, SIG_IGN);
	if (crypto_init() < 0)
		die("libsodium");
	/* The relay logs stay in the sandbox base, outside every relay's own directory. */
	setenv("TMPDIR", sandbox_base, 1);
	setenv("SEALROOM_KEEP_LOGS", "1", 1); /* rig_log reads them after the stop */
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(sc, scenarios[i].name)) {
			scenarios[i].fn();
			return n_fail ? 1 : 0;
		}
	fprintf(stderr, "invdrive: unknown scenario '%s'\n", sc);
	return 2;
}
