/* sealroom-conform — command line, spec loading, then the runner (runner.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/rawhttp.h"
#include "conform.h"
#include "crypto/crypto.h"
#include "proto/clock.h"
#include "proto/jschema.h"

extern const unsigned char conf_spec_openapi_json[];
extern const size_t conf_spec_openapi_json_len;

/* Components the cases validate against: a relay-served spec is used only if it has all. */
static const char *const needed_components[] = {
	"Error", "PostOk", "Message", "MessageEvent", "ReadyEvent", "PresenceEvent",
	"LockedEvent", "RenameEvent", "ErrorEvent", "WsErrorFrame", "ClaimEnvelope", "DmEnvelope",
	"Health", "Status", "Metrics", "Identity", NULL,
};

static void usage(FILE *f)
{
	fputs("Usage: sealroom-conform --base URL [options]\n"
	      "       sealroom-conform --list | --coverage [--protocol FILE]\n"
	      "\n"
	      "Checks a relay against PROTOCOL.md over the network: one verdict per case (PASS, FAIL,\n"
	      "NON-STRICT, UNIMPLEMENTED, INFORMATIONAL). Exit 0 iff no MUST case FAILed (--strict:\n"
	      "no SHOULD case either), 1 otherwise, 2 for usage errors.\n"
	      "\n"
	      "  --base URL            relay base URL, e.g. http://127.0.0.1:3000 (required to run)\n"
	      "  --profile P           compat (default: an unmet (sealroom) rule is NON-STRICT, never\n"
	      "                        FAIL) or sealroom (every rule at its stated level)\n"
	      "  --strict              a SHOULD not met is a FAIL\n"
	      "  --only GLOBS          run only cases matching (comma-separated; repeatable)\n"
	      "  --skip GLOBS          skip cases matching (comma-separated; repeatable)\n"
	      "  --list                list every case: id, level, rules, title\n"
	      "  --coverage            print the rule -> cases map; exit 1 if a MUST rule has no case\n"
	      "  --protocol FILE       PROTOCOL.md to cross-check --coverage against\n"
	      "  --json FILE           write the machine-readable report\n"
	      "  --junit FILE          write a JUnit XML report\n"
	      "  --timeout-scale F     multiply every deadline by F (slow machines, sanitizers)\n"
	      "  --verbose             print notes (counts, latencies) for passing cases too\n"
	      "  --long                also run cases that take minutes whatever the relay's knobs\n"
	      "                        (60 s heartbeat visibility, claim leases)\n"
	      "  --spec FILE           OpenAPI document for body schemas when the relay serves no\n"
	      "                        usable /api/openapi.json (default: the one built in)\n"
	      "  --prefer-spec-file    use --spec (or the built-in spec) even if the relay serves one\n"
	      "\n"
	      "What the relay was configured with (defaults are PROTOCOL.md's):\n"
	      "  --keepalive-ms N      SSE keepalive period (15000)\n"
	      "  --grace-ms N          idle-room eviction grace (30000)\n"
	      "  --janitor-ms N        janitor period (15000)\n"
	      "  --rl-cap N --rl-refill R             per-key bucket (300, 100/s)\n"
	      "  --global-rl-cap N --global-rl-refill R  global per-IP bucket (600, 200/s)\n"
	      "  --rl-probe-max N      drain a bucket only if its cap is at most N (5000)\n"
	      "  --stream-cap N --waiter-cap N --room-waiters-max N --dm-waiters-max N  (32 16 256 64)\n"
	      "  --recent-max N --inbox-max N        buffer sizes (2000, 256)\n"
	      "  --json-body-max N --ws-max-payload N  (196608, 262144)\n"
	      "  --listeners-max N --cursors-max N   (1024, 64)\n"
	      "  --rooms-max N         exercise the room cap (ROOM-2) when it is this small (default: not)\n"
	      "\n"
	      "Client identity:\n"
	      "  --source-ips A-B      local addresses to bind (e.g. 127.0.0.2-127.0.0.9 or a,b,c),\n"
	      "                        rotated to spread per-IP limits\n"
	      "  --no-xff              never send X-Forwarded-For (default: each case uses its own\n"
	      "                        fake client IP via XFF when the relay is on loopback, IP-1)\n"
	      "\n"
	      "Operator access for otherwise unobservable rules (cases report INFORMATIONAL without):\n"
	      "  --metrics-token T     METRICS_TOKEN of the relay (MET-*)\n"
	      "  --admin-token T       IDENTITY_ADMIN_TOKEN (ID-REG-3)\n"
	      "  --relay-log FILE      the relay's stdout (LOG-*, INV-1, INV-4)\n"
	      "  --state-dir DIR       the relay's STATE_DIR (STATE-*, INV-2, INV-3)\n"
	      "  --bugs-log FILE       the relay's BUGS_LOG (RPT-3, RPT-4, INV-12)\n"
	      "  --relay-bin PATH      the relay executable, run with bad settings (CFG-*)\n",
	      f);
}

static int parse_long(const char *opt, const char *v, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < 0) {
		fprintf(stderr, "sealroom-conform: %s needs a non-negative integer, got '%s'\n", opt, v);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_double(const char *opt, const char *v, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || !(x > 0)) {
		fprintf(stderr, "sealroom-conform: %s needs a positive number, got '%s'\n", opt, v);
		return -1;
	}
	*out = x;
	return 0;
}

static char *join(char *old, const char *add)
{
	char *s = NULL;

	if (!old)
		return strdup(add);
	if (asprintf(&s, "%s,%s", old, add) < 0)
		s = NULL;
	free(old);
	return s;
}

static void free_source_ips(struct conf_opts *o)
{
	int i;

	if (o->source_ips) {
		for (i = 0; i < o->n_source_ips; i++)
			free(o->source_ips[i]);
		free(o->source_ips);
	}
	o->source_ips = NULL;
	o->n_source_ips = 0;
}

/* "A-B" (IPv4, same /24) or "a,b,c". */
static int parse_source_ips(struct conf_opts *o, const char *v)
{
	const char *dash = strchr(v, '-');
	struct in_addr a, b;
	char lo[64], hi[64];
	int n = 0;

	free_source_ips(o); /* a repeated --source-ips replaces the earlier list */
	if (dash && !strchr(v, ',')) {
		size_t k = (size_t)(dash - v);
		uint32_t x, y, i;

		if (k >= sizeof(lo) || strlen(dash + 1) >= sizeof(hi))
			return -1;
		memcpy(lo, v, k);
		lo[k] = '\0';
		strcpy(hi, dash + 1);
		if (inet_pton(AF_INET, lo, &a) != 1 || inet_pton(AF_INET, hi, &b) != 1)
			return -1;
		x = ntohl(a.s_addr);
		y = ntohl(b.s_addr);
		if (y < x || y - x > 255)
			return -1;
		o->source_ips = calloc((size_t)(y - x) + 2, sizeof(char *));
		if (!o->source_ips)
			return -1;
		for (i = x; i <= y; i++) {
			struct in_addr c = { htonl(i) };
			char buf[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &c, buf, sizeof(buf));
			o->source_ips[n++] = strdup(buf);
		}
	} else {
		const char *p = v;

		o->source_ips = calloc(strlen(v) / 2 + 2, sizeof(char *));
		if (!o->source_ips)
			return -1;
		while (*p) {
			size_t k = strcspn(p, ",");

			if (k)
				o->source_ips[n++] = strndup(p, k);
			p += k;
			if (*p == ',')
				p++;
		}
	}
	o->n_source_ips = n;
	return n > 0 ? 0 : -1;
}

static const char *default_protocol(void)
{
#ifdef SEALROOM_SOURCE_DIR
	static char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/../shared/PROTOCOL.md", SEALROOM_SOURCE_DIR);
	f = fopen(path, "rb");
	if (f) {
		fclose(f);
		return path;
	}
#endif
	return NULL;
}

static struct jschema *spec_usable(const char *text, size_t len, char *why, size_t cap)
{
	struct jschema *s = jschema_load(text, len, why, cap);
	const cJSON *v;
	size_t i;

	if (!s)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(jschema_doc(s), "openapi");
	if (!cJSON_IsString(v) || strncmp(v->valuestring, "3.1", 3) != 0) {
		snprintf(why, cap, "not an OpenAPI 3.1 document");
		jschema_free(s);
		return NULL;
	}
	for (i = 0; needed_components[i]; i++)
		if (!jschema_component(s, needed_components[i])) {
			snprintf(why, cap, "no components.schemas.%s", needed_components[i]);
			jschema_free(s);
			return NULL;
		}
	return s;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* The relay's /api/openapi.json if usable, else --spec FILE, else the built-in copy. */
static void load_spec(struct conf_ctx *ctx)
{
	char why[256] = "", url[512];
	struct http_client *c;
	struct http_resp resp;

	if (!ctx->o.prefer_spec_file && (c = http_client_new(NULL))) {
		snprintf(url, sizeof(url), "%s/api/openapi.json", ctx->o.base);
		if (http_do(c, "GET", url, NULL, NULL, 0, 10000, &resp) == 0) {
			if (resp.status == 200)
				ctx->spec = spec_usable(resp.body, resp.body_len, why, sizeof(why));
			else
				snprintf(why, sizeof(why), "status %ld", resp.status);
			http_resp_free(&resp);
		} else {
			snprintf(why, sizeof(why), "%s", http_client_error(c));
		}
		http_client_free(c);
		if (ctx->spec) {
			snprintf(ctx->spec_source, sizeof(ctx->spec_source), "%s/api/openapi.json",
				 ctx->o.base);
			return;
		}
	}
	if (ctx->o.spec_path) {
		size_t len = 0;
		char *text = slurp(ctx->o.spec_path, &len);
		char why2[256] = "unreadable";

		if (text)
			ctx->spec = spec_usable(text, len, why2, sizeof(why2));
		free(text);
		if (ctx->spec) {
			snprintf(ctx->spec_source, sizeof(ctx->spec_source), "%.200s (relay's: %.60s)",
				 ctx->o.spec_path, why[0] ? why : "not used");
			return;
		}
		fprintf(stderr, "sealroom-conform: --spec %s: %s; using the built-in spec\n",
			ctx->o.spec_path, why2);
	}
	ctx->spec = spec_usable((const char *)conf_spec_openapi_json, conf_spec_openapi_json_len,
				why, sizeof(why));
	snprintf(ctx->spec_source, sizeof(ctx->spec_source), "built-in spec/openapi.json%s",
		 ctx->spec ? "" : " (unusable: schemas not checked)");
}

static void defaults(struct conf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->profile = CONF_COMPAT;
	o->timeout_scale = 1.0;
	o->use_xff = true;
	o->keepalive_ms = 15000;
	o->grace_ms = 30000;
	o->janitor_ms = 15000;
	o->rl_cap = 300;
	o->rl_refill = 100;
	o->global_rl_cap = 600;
	o->global_rl_refill = 200;
	o->rl_probe_max = 5000;
	o->stream_cap = 32;
	o->waiter_cap = 16;
	o->room_waiters_max = 256;
	o->dm_waiters_max = 64;
	o->recent_max = 2000;
	o->inbox_max = 256;
	o->json_body_max = 196608;
	o->ws_max_payload = 262144;
	o->listeners_max = 1024;
	o->cursors_max = 64;
}

struct longopt {
	const char *name;
	long *lval;
	double *dval;
};

/* What main holds while it runs: the context, and the --only/--skip lists it builds. */
struct cmdline {
	struct conf_ctx *ctx;
	char *only, *skip;
	const char *base;
};

/* Parses argv into cl (options into cl->ctx->o). Returns 0 to go on, 1 when --help was
 * printed (exit 0), -1 on a usage error (message printed; exit 2). Whatever it allocated
 * stays in cl for cmdline_free, on every return. */
static int parse_args(struct cmdline *cl, int argc, char **argv)
{
	struct conf_opts *o = &cl->ctx->o;
	const struct longopt nums[] = {
		{ "--keepalive-ms", &o->keepalive_ms, NULL },
		{ "--grace-ms", &o->grace_ms, NULL },
		{ "--janitor-ms", &o->janitor_ms, NULL },
		{ "--rl-cap", &o->rl_cap, NULL },
		{ "--rl-refill", NULL, &o->rl_refill },
		{ "--global-rl-cap", &o->global_rl_cap, NULL },
		{ "--global-rl-refill", NULL, &o->global_rl_refill },
		{ "--rl-probe-max", &o->rl_probe_max, NULL },
		{ "--stream-cap", &o->stream_cap, NULL },
		{ "--waiter-cap", &o->waiter_cap, NULL },
		{ "--room-waiters-max", &o->room_waiters_max, NULL },
		{ "--dm-waiters-max", &o->dm_waiters_max, NULL },
		{ "--recent-max", &o->recent_max, NULL },
		{ "--inbox-max", &o->inbox_max, NULL },
		{ "--json-body-max", &o->json_body_max, NULL },
		{ "--ws-max-payload", &o->ws_max_payload, NULL },
		{ "--listeners-max", &o->listeners_max, NULL },
		{ "--rooms-max", &o->rooms_max, NULL },
		{ "--cursors-max", &o->cursors_max, NULL },
		{ "--timeout-scale", NULL, &o->timeout_scale },
		{ NULL, NULL, NULL },
	};
	int i;

	for (i = 1; i < argc; i++) {
		char *a = argv[i], *val = NULL, name[64];
		char *eq = strchr(a, '=');
		const struct longopt *lo;
		bool flag = true;

		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "sealroom-conform: unexpected argument '%s'\n", a);
			return -1;
		}
		if (eq && (size_t)(eq - a) < sizeof(name)) {
			memcpy(name, a, (size_t)(eq - a));
			name[eq - a] = '\0';
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a);
		}
		/* Flags without a value. */
		if (!strcmp(name, "--help")) {
			usage(stdout);
			return 1;
		} else if (!strcmp(name, "--list")) {
			o->list = true;
		} else if (!strcmp(name, "--coverage")) {
			o->coverage = true;
		} else if (!strcmp(name, "--strict")) {
			o->strict = true;
		} else if (!strcmp(name, "--verbose")) {
			o->verbose = true;
		} else if (!strcmp(name, "--long")) {
			o->long_cases = true;
		} else if (!strcmp(name, "--no-xff")) {
			o->use_xff = false;
		} else if (!strcmp(name, "--prefer-spec-file")) {
			o->prefer_spec_file = true;
		} else {
			flag = false;
		}
		if (flag) {
			if (val) {
				fprintf(stderr, "sealroom-conform: %s takes no value\n", name);
				return -1;
			}
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sealroom-conform: %s needs a value\n", name);
				return -1;
			}
			val = argv[++i];
		}
		for (lo = nums; lo->name; lo++)
			if (!strcmp(lo->name, name))
				break;
		if (lo->name) {
			if (lo->lval ? parse_long(name, val, lo->lval) < 0
				     : parse_double(name, val, lo->dval) < 0)
				return -1;
		} else if (!strcmp(name, "--base")) {
			cl->base = val;
		} else if (!strcmp(name, "--profile")) {
			if (!strcmp(val, "compat")) {
				o->profile = CONF_COMPAT;
			} else if (!strcmp(val, "sealroom")) {
				o->profile = CONF_SEALROOM;
			} else {
				fprintf(stderr, "sealroom-conform: --profile is compat or sealroom\n");
				return -1;
			}
		} else if (!strcmp(name, "--only")) {
			cl->only = join(cl->only, val);
		} else if (!strcmp(name, "--skip")) {
			cl->skip = join(cl->skip, val);
		} else if (!strcmp(name, "--json")) {
			o->json_path = val;
		} else if (!strcmp(name, "--junit")) {
			o->junit_path = val;
		} else if (!strcmp(name, "--spec")) {
			o->spec_path = val;
		} else if (!strcmp(name, "--protocol")) {
			o->protocol_path = val;
		} else if (!strcmp(name, "--metrics-token")) {
			o->metrics_token = val;
		} else if (!strcmp(name, "--admin-token")) {
			o->admin_token = val;
		} else if (!strcmp(name, "--relay-log")) {
			o->relay_log = val;
		} else if (!strcmp(name, "--state-dir")) {
			o->state_dir = val;
		} else if (!strcmp(name, "--bugs-log")) {
			o->bugs_log = val;
		} else if (!strcmp(name, "--relay-bin")) {
			o->relay_bin = val;
		} else if (!strcmp(name, "--source-ips")) {
			if (parse_source_ips(o, val) < 0) {
				fprintf(stderr, "sealroom-conform: --source-ips: '%s' is not A-B "
						"(one /24, IPv4) or a comma list\n", val);
				return -1;
			}
		} else {
			fprintf(stderr, "sealroom-conform: unknown option %s (see --help)\n", name);
			return -1;
		}
	}
	o->only = cl->only;
	o->skip = cl->skip;
	return 0;
}

/* Checks --base and fills o->base, o->host, o->port; -1 (message printed) if unusable. */
static int parse_base(struct conf_opts *o, const char *base)
{
	const char *path;
	char host[128];
	int port;

	if (!base) {
		fprintf(stderr, "sealroom-conform: --base URL is required (see --help)\n");
		return -1;
	}
	if (strncmp(base, "http://", 7) != 0 ||
	    raw_split_url(base, host, sizeof(host), &port, &path) < 0 ||
	    (strcmp(path, "/") != 0 && path[0] != '\0') || strlen(base) >= sizeof(o->base)) {
		fprintf(stderr, "sealroom-conform: --base must be http://HOST[:PORT] (no path), "
				"got '%s'\n", base);
		return -1;
	}
	snprintf(o->base, sizeof(o->base), "%s", base);
	while (strlen(o->base) > 7 && o->base[strlen(o->base) - 1] == '/')
		o->base[strlen(o->base) - 1] = '\0';
	snprintf(o->host, sizeof(o->host), "%s", host);
	o->port = port;
	return 0;
}

/* Releases everything main and parse_args allocated; safe after any of their returns. */
static void cmdline_free(struct cmdline *cl)
{
	if (cl->ctx) {
		jschema_free(cl->ctx->spec);
		free_source_ips(&cl->ctx->o);
		free(cl->ctx);
	}
	free(cl->only);
	free(cl->skip);
}

int main(int argc, char **argv)
{
	struct cmdline cl = { .ctx = calloc(1, sizeof(*cl.ctx)) };
	struct conf_opts *o;
	int rc;

	if (!cl.ctx)
		return 1;
	o = &cl.ctx->o;
	defaults(o);
	rc = parse_args(&cl, argc, argv);
	if (rc != 0) {
		rc = rc > 0 ? 0 : 2;
		goto out;
	}
	if (o->coverage) {
		rc = conf_coverage(o->protocol_path ? o->protocol_path : default_protocol());
		goto out;
	}
	if (!o->list) {
		if (parse_base(o, cl.base) < 0) {
			rc = 2;
			goto out;
		}
		if (o->use_xff && !conf_base_is_loopback(cl.ctx))
			o->use_xff = false; /* IP-1: XFF counts only from a loopback peer */
		if (crypto_init() < 0) {
			fprintf(stderr, "sealroom-conform: libsodium failed to start\n");
			rc = 1;
			goto out;
		}
		signal(SIGPIPE, SIG_IGN);
		pthread_mutex_init(&cl.ctx->out_lock, NULL);
		cl.ctx->ip_octet = 1 + (unsigned)(clock_now_ms() % 250);
		load_spec(cl.ctx);
	}
	rc = conf_run_all(cl.ctx);
out:
	cmdline_free(&cl);
	return rc;
}
