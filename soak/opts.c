#include "opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- source addresses ---- */

static int srcips_addr(const char *s, size_t n, uint32_t *out)
{
	char tmp[16];
	struct in_addr a;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

int srcips_parse(const char *spec, struct srcips *out, char *err, size_t errcap)
{
	struct srcips r = { 0 };
	const char *p = spec;
	size_t cap = 0;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *dash = memchr(p, '-', n);
		uint32_t lo, hi;

		if (dash) {
			if (srcips_addr(p, (size_t)(dash - p), &lo) < 0 ||
			    srcips_addr(dash + 1, n - (size_t)(dash - p) - 1, &hi) < 0 || lo > hi) {
				snprintf(err, errcap, "bad address range '%.*s'", (int)n, p);
				goto fail;
			}
		} else if (srcips_addr(p, n, &lo) == 0) {
			hi = lo;
		} else {
			snprintf(err, errcap, "bad address '%.*s'", (int)n, p);
			goto fail;
		}
		if ((uint64_t)r.n + (hi - lo) + 1 > SRCIPS_MAX) {
			snprintf(err, errcap, "more than %d source addresses", SRCIPS_MAX);
			goto fail;
		}
		for (uint64_t a = lo; a <= hi; a++) {
			struct in_addr ia = { .s_addr = htonl((uint32_t)a) };

			if (r.n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				void *np = realloc(r.ips, ncap * sizeof(*r.ips));

				if (!np) {
					snprintf(err, errcap, "out of memory");
					goto fail;
				}
				r.ips = np;
				cap = ncap;
			}
			inet_ntop(AF_INET, &ia, r.ips[r.n], sizeof(r.ips[r.n]));
			r.n++;
		}
		p = end ? end + 1 : NULL;
	}
	*out = r;
	return 0;
fail:
	free(r.ips);
	return -1;
}

const char *srcips_pick(const struct srcips *s, uint64_t i)
{
	if (!s || s->n == 0)
		return NULL;
	return s->ips[i % s->n];
}

void srcips_free(struct srcips *s)
{
	free(s->ips);
	s->ips = NULL;
	s->n = 0;
}

/* ---- numbers ---- */

int soak_parse_u32(const char *cmd, const char *name, const char *v, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = v ? strtoull(v, &end, 10) : 0;
	if (!v || !*v || *end || errno || *v == '-' || x < min || x > max) {
		fprintf(stderr, "sealroom-soak %s: --%s: expected an integer in %u..%u, got '%s'\n",
			cmd, name, min, max, v ? v : "");
		return -1;
	}
	*out = (uint32_t)x;
	return 0;
}

int soak_parse_double(const char *cmd, const char *name, const char *v, double min, double max,
		      double *out)
{
	char *end;
	double x;

	errno = 0;
	x = v ? strtod(v, &end) : 0;
	if (!v || !*v || *end || errno || !isfinite(x) || x < min || x > max) {
		fprintf(stderr, "sealroom-soak %s: --%s: expected a number in %g..%g, got '%s'\n",
			cmd, name, min, max, v ? v : "");
		return -1;
	}
	*out = x;
	return 0;
}

/* ---- the command line ---- */

static const char common_help[] =
	"Common flags:\n"
	"  --base URL          relay to load (default http://127.0.0.1:3000)\n"
	"  --json FILE         also write the result as JSON (sorted keys) to FILE\n"
	"  --relay-pid PID     report the relay's CPU seconds and peak RSS from /proc/PID\n"
	"  --timeout S         connect / drain deadline in seconds (default 30)\n"
	"  --size N            plaintext bytes per message (default 64, 40..65536)\n"
	"  --quiet             no progress line on stderr\n"
	"  --name NAME         name of this result (its key in a bundle; default the\n"
	"                      subcommand), e.g. fanout-open\n"
	"  --help              this text\n";

static const struct {
	unsigned bit;
	const char *text;
} opt_help[] = {
	{ OPT_RATE, "  --rate R            open-loop pacing (unit: see above); 0 = closed loop\n" },
	{ OPT_DURATION, "  --duration S        run length / hold time in seconds (see above)\n" },
	{ OPT_SOURCE_IPS, "  --source-ips LIST   bind client sockets round-robin to these\n"
			  "                      loopback addresses, e.g. 127.0.0.2-127.0.1.250\n"
			  "                      or 127.0.0.2,127.0.0.3 (per-IP caps, CAP-1/2)\n" },
	{ OPT_TRANSPORT, "  --transport T       sse, ws, longpoll or all (see above)\n" },
	{ OPT_SIGNED, "  --signed            sign every room message (SIG-3) as a registered\n"
		      "                      identity; receivers require sender_verified\n" },
};

static void soak_help(const struct soak_cmd *cmd)
{
	printf("Usage: sealroom-soak %s [flags]\n\n%s\n%s", cmd->name, cmd->usage, common_help);
	for (unsigned i = 0; i < sizeof(opt_help) / sizeof(opt_help[0]); i++) {
		if (cmd->common & opt_help[i].bit)
			fputs(opt_help[i].text, stdout);
	}
	printf("\nExit status: 0 every exact count met, 1 the scenario failed them (or could not\n"
	       "run), 2 usage error.\n");
}

/* "--name=value" / "--name value": returns the value or NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *eq)
{
	if (eq)
		return eq + 1;
	if (*i + 1 < argc) {
		(*i)++;
		return argv[*i];
	}
	return NULL;
}

static int opt_common(struct soak_opts *o, const struct soak_cmd *cmd, const char *name,
		      const char *v)
{
	char err[128];
	uint32_t u;

	if (strcmp(name, "base") == 0) {
		size_t n = strlen(v);

		while (n && v[n - 1] == '/')
			n--;
		if (n == 0 || n >= sizeof(o->base) ||
		    (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)) {
			fprintf(stderr, "sealroom-soak %s: --base: expected http://host:port\n",
				cmd->name);
			return -1;
		}
		memcpy(o->base, v, n);
		o->base[n] = '\0';
		return 0;
	}
	if (strcmp(name, "json") == 0) {
		o->json_path = v;
		return 0;
	}
	if (strcmp(name, "name") == 0) {
		if (!*v || strlen(v) > 64) {
			fprintf(stderr, "sealroom-soak %s: --name: 1..64 characters\n", cmd->name);
			return -1;
		}
		o->name = v;
		return 0;
	}
	if (strcmp(name, "relay-pid") == 0) {
		if (soak_parse_u32(cmd->name, name, v, 1, 0x7fffffff, &u) < 0)
			return -1;
		o->relay_pid = (int)u;
		return 0;
	}
	if (strcmp(name, "timeout") == 0)
		return soak_parse_double(cmd->name, name, v, 0.1, 86400, &o->timeout_s);
	if (strcmp(name, "size") == 0) {
		if (soak_parse_u32(cmd->name, name, v, 40, 65536, &u) < 0)
			return -1;
		o->size = u;
		return 0;
	}
	if (strcmp(name, "rate") == 0)
		return soak_parse_double(cmd->name, name, v, 0, 1e7, &o->rate);
	if (strcmp(name, "duration") == 0)
		return soak_parse_double(cmd->name, name, v, 0, 7 * 86400.0, &o->duration_s);
	if (strcmp(name, "source-ips") == 0) {
		srcips_free(&o->ips);
		if (srcips_parse(v, &o->ips, err, sizeof(err)) < 0) {
			fprintf(stderr, "sealroom-soak %s: --source-ips: %s\n", cmd->name, err);
			return -1;
		}
		return 0;
	}
	if (strcmp(name, "transport") == 0) {
		if (strcmp(v, "sse") != 0 && strcmp(v, "ws") != 0 && strcmp(v, "longpoll") != 0 &&
		    strcmp(v, "all") != 0) {
			fprintf(stderr, "sealroom-soak %s: --transport: sse, ws, longpoll or all\n",
				cmd->name);
			return -1;
		}
		o->transport = v;
		return 0;
	}
	return 1;
}

struct common_flag {
	const char *name;
	unsigned bit;	/* 0: always accepted */
	bool takes_value;
};

static const struct common_flag common_flags[] = {
	{ "base", 0, true },
	{ "json", 0, true },
	{ "relay-pid", 0, true },
	{ "timeout", 0, true },
	{ "size", 0, true },
	{ "quiet", 0, false },
	{ "name", 0, true },
	{ "rate", OPT_RATE, true },
	{ "duration", OPT_DURATION, true },
	{ "source-ips", OPT_SOURCE_IPS, true },
	{ "transport", OPT_TRANSPORT, true },
	{ "signed", OPT_SIGNED, false },
};

int soak_opts_parse(struct soak_opts *o, const struct soak_cmd *cmd, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->base, sizeof(o->base), "http://127.0.0.1:3000");
	o->timeout_s = 30;
	o->size = 64;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v = NULL;
		char name[64];
		size_t n;
		bool found = false;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			soak_help(cmd);
			return 1;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "sealroom-soak %s: unexpected argument '%s' (try --help)\n",
				cmd->name, a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name)) {
			fprintf(stderr, "sealroom-soak %s: unknown flag '%s'\n", cmd->name,
				argv[i]);
			return -1;
		}
		memcpy(name, a, n);
		name[n] = '\0';
		for (size_t k = 0; k < sizeof(common_flags) / sizeof(common_flags[0]); k++) {
			const struct common_flag *f = &common_flags[k];

			if (strcmp(f->name, name) != 0)
				continue;
			found = true;
			if (f->bit && !(cmd->common & f->bit)) {
				fprintf(stderr,
					"sealroom-soak %s: --%s does not apply to this scenario\n",
					cmd->name, name);
				return -1;
			}
			if (!f->takes_value) {
				if (eq) {
					fprintf(stderr, "sealroom-soak %s: --%s takes no value\n",
						cmd->name, name);
					return -1;
				}
				if (strcmp(name, "quiet") == 0)
					o->quiet = true;
				else
					o->is_signed = true;
				break;
			}
			v = opt_value(argc, argv, &i, eq);
			if (!v) {
				fprintf(stderr, "sealroom-soak %s: --%s needs a value\n", cmd->name,
					name);
				return -1;
			}
			if (opt_common(o, cmd, name, v) != 0)
				return -1;
			break;
		}
		if (found)
			continue;
		for (const struct soak_flag *f = cmd->flags; f && f->name; f++) {
			if (strcmp(f->name, name) != 0)
				continue;
			found = true;
			if (f->takes_value) {
				v = opt_value(argc, argv, &i, eq);
				if (!v) {
					fprintf(stderr, "sealroom-soak %s: --%s needs a value\n",
						cmd->name, name);
					return -1;
				}
			} else if (eq) {
				fprintf(stderr, "sealroom-soak %s: --%s takes no value\n",
					cmd->name, name);
				return -1;
			}
			if (cmd->extra(cmd->ud, name, v) < 0)
				return -1;
			break;
		}
		if (!found) {
			fprintf(stderr, "sealroom-soak %s: unknown flag '--%s' (try --help)\n",
				cmd->name,
				name);
			return -1;
		}
	}
	return 0;
}

void soak_opts_free(struct soak_opts *o)
{
	srcips_free(&o->ips);
}

long soak_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -1;
	}
	return rl.rlim_cur == RLIM_INFINITY ? 1L << 30 : (long)rl.rlim_cur;
}
