/* rules — the checked table of every rule ID of PROTOCOL.md with its level and (sealroom)
 * marking, and the rule -> cases coverage map (--coverage).
 *
 * The table is kept by hand (regenerate it from PROTOCOL.md when rules are added: the
 * classification is conf_protocol_rules() below). --coverage cross-checks it against
 * PROTOCOL.md whenever that file is available, and ci/stages/30-conformance.sh greps
 * PROTOCOL.md independently, so a new MUST rule without a case fails CI.
 *
 * Classification: a row of a table with a Level column has that level (MUST NOT counts as
 * MUST, SHOULD NOT as SHOULD, "—" is informative); a row of a table without one (check
 * tables, definitions, routes, caps) is a MUST, except §19 "What clients rely on"
 * (CLIENT-*), which describes clients and is informative. A row is (sealroom)-marked when it
 * says "(sealroom" anywhere or sits under a heading that does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"

const struct conf_rule conf_rules[] = {
	{ "INV-1", CONF_MUST, false },
	{ "INV-2", CONF_MUST, false },
	{ "INV-3", CONF_MUST, true },
	{ "INV-4", CONF_MUST, false },
	{ "INV-5", CONF_MUST, false },
	{ "INV-6", CONF_MUST, false },
	{ "INV-7", CONF_MUST, false },
	{ "INV-8", CONF_MUST, false },
	{ "INV-9", CONF_MUST, false },
	{ "INV-10", CONF_MUST, false },
	{ "INV-11", CONF_MUST, false },
	{ "INV-12", CONF_MUST, false },
	{ "INV-13", CONF_MUST, false },
	{ "HTTP-1", CONF_MUST, false },
	{ "HTTP-2", CONF_MUST, true },
	{ "HTTP-3", CONF_MUST, true },
	{ "HTTP-4", CONF_MUST, true },
	{ "HTTP-5", CONF_MUST, true },
	{ "HTTP-6", CONF_MAY, false },
	{ "HTTP-7", CONF_MUST, false },
	{ "HTTP-8", CONF_MUST, false },
	{ "HTTP-9", CONF_MUST, true },
	{ "HTTP-10", CONF_MUST, true },
	{ "HTTP-11", CONF_MUST, true },
	{ "HTTP-12", CONF_MUST, false },
	{ "HTTP-13", CONF_MUST, true },
	{ "HTTP-14", CONF_MUST, true },
	{ "HTTP-15", CONF_MUST, false },
	{ "HTTP-16", CONF_MUST, false },
	{ "HTTP-17", CONF_MUST, true },
	{ "HTTP-18", CONF_MUST, false },
	{ "HTTP-19", CONF_MUST, true },
	{ "HTTP-20", CONF_MUST, false },
	{ "HDR-1", CONF_MUST, false },
	{ "LOG-1", CONF_MUST, false },
	{ "LOG-2", CONF_MUST, false },
	{ "LOG-3", CONF_MUST, false },
	{ "LOG-4", CONF_MUST, false },
	{ "LOG-5", CONF_SHOULD, false },
	{ "IP-1", CONF_MUST, false },
	{ "IP-2", CONF_MUST, false },
	{ "IP-3", CONF_MUST, false },
	{ "IP-4", CONF_MUST, true },
	{ "VAL-1", CONF_MUST, false },
	{ "VAL-2", CONF_MUST, false },
	{ "VAL-3", CONF_MUST, false },
	{ "VAL-4", CONF_MUST, false },
	{ "VAL-5", CONF_MUST, false },
	{ "VAL-6", CONF_MUST, false },
	{ "VAL-7", CONF_MUST, false },
	{ "VAL-8", CONF_MUST, true },
	{ "NUM-1", CONF_MUST, false },
	{ "NUM-2", CONF_MUST, false },
	{ "NUM-3", CONF_MUST, false },
	{ "NUM-4", CONF_MUST, false },
	{ "B64-1", CONF_MUST, false },
	{ "B64-2", CONF_MUST, false },
	{ "B64-3", CONF_MUST, false },
	{ "B64-4", CONF_MUST, false },
	{ "ROOM-1", CONF_MUST, false },
	{ "ROOM-2", CONF_MUST, false },
	{ "ROOM-3", CONF_MUST, false },
	{ "ROOM-4", CONF_MUST, false },
	{ "ROOM-5", CONF_MUST, false },
	{ "ROOM-6", CONF_MUST, false },
	{ "ROOM-7", CONF_MUST, false },
	{ "ROOM-8", CONF_MUST, false },
	{ "ROOM-9", CONF_MUST, false },
	{ "ROOM-10", CONF_MUST, false },
	{ "ROOM-11", CONF_MUST, false },
	{ "ROOM-12a", CONF_MUST, false },
	{ "ROOM-12b", CONF_MUST, false },
	{ "ROOM-12c", CONF_MUST, false },
	{ "ROOM-12d", CONF_MUST, true },
	{ "ROOM-12e", CONF_MUST, false },
	{ "ROOM-12f", CONF_MUST, false },
	{ "ROOM-13", CONF_MUST, false },
	{ "ROOM-14", CONF_MUST, false },
	{ "ROOM-15", CONF_MUST, false },
	{ "ROOM-16", CONF_MUST, false },
	{ "ROOM-17", CONF_MUST, true },
	{ "ROOM-18", CONF_MUST, false },
	{ "ROOM-19", CONF_MUST, false },
	{ "ROOM-20", CONF_MUST, true },
	{ "ROOM-21", CONF_MUST, false },
	{ "ROOM-22", CONF_MUST, false },
	{ "ROOM-23", CONF_MUST, false },
	{ "ROOM-24", CONF_MUST, true },
	{ "ROOM-POST-1", CONF_MUST, false },
	{ "ROOM-POST-2", CONF_MUST, false },
	{ "ROOM-POST-3", CONF_MUST, false },
	{ "ROOM-POST-4", CONF_MUST, false },
	{ "ROOM-POST-5", CONF_MUST, false },
	{ "ROOM-POST-6", CONF_MUST, true },
	{ "ROOM-POST-7", CONF_MUST, false },
	{ "ROOM-POST-8", CONF_MUST, false },
	{ "ROOM-POST-9", CONF_MUST, false },
	{ "ROOM-POST-10", CONF_MUST, false },
	{ "ROOM-STATUS-1", CONF_MUST, false },
	{ "ROOM-STATUS-2", CONF_MUST, false },
	{ "ROOM-TX-1", CONF_MUST, false },
	{ "ROOM-TX-2", CONF_MUST, false },
	{ "ROOM-WAIT-1", CONF_MUST, false },
	{ "ROOM-WAIT-2", CONF_MUST, true },
	{ "ROOM-WAIT-3", CONF_MUST, false },
	{ "ROOM-WAIT-4", CONF_MUST, false },
	{ "ROOM-WAIT-5", CONF_MUST, true },
	{ "ROOM-WAIT-6", CONF_MUST, false },
	{ "ROOM-LISTEN-1", CONF_MUST, false },
	{ "ROOM-LISTEN-2", CONF_MUST, false },
	{ "ROOM-LISTEN-3", CONF_MUST, false },
	{ "ROOM-LISTEN-4", CONF_SHOULD, true },
	{ "SSE-1", CONF_MUST, true },
	{ "SSE-2", CONF_MUST, false },
	{ "SSE-3", CONF_MUST, false },
	{ "SSE-4", CONF_MUST, false },
	{ "SSE-5", CONF_MUST, false },
	{ "SSE-6", CONF_MUST, true },
	{ "SSE-7", CONF_MUST, false },
	{ "SSE-8", CONF_MUST, false },
	{ "SSE-9", CONF_MUST, true },
	{ "SSE-10", CONF_MUST, false },
	{ "SSE-11", CONF_MUST, false },
	{ "SSE-12", CONF_MUST, false },
	{ "SSE-13", CONF_MUST, false },
	{ "SSE-14", CONF_MUST, false },
	{ "SSE-15", CONF_INFO_LEVEL, false },
	{ "WS-1", CONF_MUST, false },
	{ "WS-2", CONF_MUST, true },
	{ "WS-3", CONF_MUST, false },
	{ "WS-4", CONF_MUST, false },
	{ "WS-5", CONF_MUST, false },
	{ "WS-6", CONF_MUST, true },
	{ "WS-7", CONF_MUST, true },
	{ "WS-8", CONF_MAY, true },
	{ "WS-9", CONF_MUST, false },
	{ "WS-10", CONF_MUST, false },
	{ "WS-11", CONF_MUST, false },
	{ "WS-12", CONF_MUST, false },
	{ "WS-13", CONF_MUST, true },
	{ "WS-14", CONF_MUST, false },
	{ "WS-15", CONF_MUST, false },
	{ "WS-16", CONF_MUST, false },
	{ "WS-17", CONF_MUST, false },
	{ "WS-18", CONF_MUST, false },
	{ "PRES-1", CONF_MUST, false },
	{ "PRES-2", CONF_MUST, false },
	{ "PRES-3", CONF_MUST, false },
	{ "PRES-4", CONF_MUST, false },
	{ "PRES-5", CONF_MUST, false },
	{ "ID-REG-1", CONF_MUST, false },
	{ "ID-REG-2", CONF_MUST, false },
	{ "ID-REG-3", CONF_MUST, false },
	{ "ID-REG-4", CONF_MUST, true },
	{ "ID-REG-5", CONF_MUST, false },
	{ "ID-REG-6", CONF_MUST, false },
	{ "ID-REG-7", CONF_MUST, false },
	{ "ID-REG-8", CONF_MUST, false },
	{ "ID-REG-9", CONF_MUST, true },
	{ "ID-REG-10", CONF_MUST, false },
	{ "ID-REG-11", CONF_MUST, false },
	{ "ID-REG-12", CONF_MUST, false },
	{ "ID-REG-13", CONF_MUST, true },
	{ "ID-REG-14", CONF_MUST, true },
	{ "ID-REG-15", CONF_MUST, false },
	{ "ID-REG-16", CONF_MUST, true },
	{ "ID-GET-1", CONF_MUST, false },
	{ "ID-GET-2", CONF_MUST, false },
	{ "SIG-1", CONF_MUST, false },
	{ "SIG-2", CONF_MUST, false },
	{ "SIG-3", CONF_MUST, false },
	{ "SIG-4", CONF_MUST, false },
	{ "AUTH-1", CONF_MUST, true },
	{ "AUTH-2", CONF_MUST, false },
	{ "AUTH-3", CONF_MUST, false },
	{ "AUTH-4", CONF_MUST, false },
	{ "AUTH-5", CONF_MUST, false },
	{ "AUTH-6", CONF_MUST, true },
	{ "REPLAY-1", CONF_MUST, true },
	{ "REPLAY-2", CONF_MUST, true },
	{ "REPLAY-3", CONF_MUST, true },
	{ "SIG-5", CONF_MUST, true },
	{ "SIG-6", CONF_MUST, true },
	{ "SIG-7", CONF_MUST, true },
	{ "SIG-8", CONF_MUST, false },
	{ "DM-1a", CONF_MUST, false },
	{ "DM-1b", CONF_MUST, false },
	{ "DM-1c", CONF_MUST, false },
	{ "DM-1d", CONF_MUST, false },
	{ "DM-1e", CONF_MUST, false },
	{ "DM-1f", CONF_MUST, false },
	{ "DM-1g", CONF_MUST, false },
	{ "DM-1h", CONF_MUST, false },
	{ "DM-1i", CONF_MUST, false },
	{ "DM-1j", CONF_MUST, false },
	{ "DM-2", CONF_MUST, true },
	{ "DM-3", CONF_MUST, false },
	{ "DM-4", CONF_MUST, false },
	{ "DM-5", CONF_MUST, true },
	{ "DM-6", CONF_MUST, false },
	{ "DM-7a", CONF_MUST, false },
	{ "DM-7b", CONF_MUST, false },
	{ "DM-7c", CONF_MUST, false },
	{ "DM-7d", CONF_MUST, false },
	{ "DM-7e", CONF_MUST, false },
	{ "DM-7f", CONF_MUST, false },
	{ "DM-7g", CONF_MUST, false },
	{ "DM-7h", CONF_MUST, false },
	{ "DM-8", CONF_MUST, false },
	{ "DM-9", CONF_MUST, false },
	{ "DM-10", CONF_MUST, false },
	{ "DM-11", CONF_MUST, false },
	{ "CLAIM-1a", CONF_MUST, false },
	{ "CLAIM-1b", CONF_MUST, true },
	{ "CLAIM-1c", CONF_MUST, false },
	{ "CLAIM-1d", CONF_MUST, false },
	{ "CLAIM-1e", CONF_MUST, false },
	{ "CLAIM-1f", CONF_MUST, false },
	{ "CLAIM-2", CONF_MUST, false },
	{ "CLAIM-3", CONF_MUST, false },
	{ "CLAIM-4", CONF_MUST, false },
	{ "CLAIM-5", CONF_MUST, false },
	{ "CLAIM-6", CONF_MUST, false },
	{ "CLAIM-7", CONF_MUST, false },
	{ "CLAIM-8", CONF_INFO_LEVEL, false },
	{ "ACK-1", CONF_MUST, false },
	{ "ACK-2", CONF_MUST, false },
	{ "ACK-3", CONF_MUST, false },
	{ "ACK-4", CONF_MUST, false },
	{ "RL-1", CONF_MUST, false },
	{ "RL-2", CONF_MUST, false },
	{ "RL-3", CONF_MUST, false },
	{ "RL-4", CONF_MUST, false },
	{ "RL-5", CONF_MUST, false },
	{ "RL-6", CONF_MUST, false },
	{ "RL-7", CONF_MUST, false },
	{ "RL-8", CONF_MUST, false },
	{ "CAP-1", CONF_MUST, false },
	{ "CAP-2", CONF_MUST, false },
	{ "CAP-3", CONF_MUST, false },
	{ "CAP-4", CONF_MUST, false },
	{ "CAP-5", CONF_MUST, false },
	{ "CAP-6", CONF_MUST, false },
	{ "CAP-7", CONF_MUST, false },
	{ "CAP-8", CONF_MUST, false },
	{ "CAP-9", CONF_MUST, false },
	{ "CAP-10", CONF_MUST, false },
	{ "CAP-11", CONF_MUST, false },
	{ "CAP-12", CONF_MUST, false },
	{ "CAP-13", CONF_MUST, false },
	{ "CAP-14", CONF_MUST, false },
	{ "CAP-15", CONF_MUST, false },
	{ "META-1", CONF_MUST, true },
	{ "META-2", CONF_MUST, false },
	{ "META-3", CONF_MUST, true },
	{ "META-4", CONF_MUST, false },
	{ "META-5", CONF_MUST, true },
	{ "MET-1", CONF_MUST, true },
	{ "MET-2", CONF_MUST, true },
	{ "MET-3", CONF_MUST, true },
	{ "MET-4", CONF_MUST, true },
	{ "MET-5", CONF_INFO_LEVEL, true },
	{ "RPT-1", CONF_MUST, false },
	{ "RPT-2", CONF_MUST, false },
	{ "RPT-3", CONF_MUST, true },
	{ "RPT-4", CONF_MUST, true },
	{ "RPT-5", CONF_MUST, false },
	{ "CFG-1", CONF_MUST, true },
	{ "CFG-2", CONF_MUST, true },
	{ "STATE-1", CONF_MUST, true },
	{ "STATE-2", CONF_MUST, false },
	{ "STATE-3", CONF_MUST, true },
	{ "STATE-4", CONF_MUST, false },
	{ "CRYPTO-1", CONF_MUST, false },
	{ "CRYPTO-2", CONF_MUST, false },
	{ "CRYPTO-3", CONF_MUST, false },
	{ "CRYPTO-4", CONF_MUST, false },
	{ "CRYPTO-5", CONF_SHOULD, false },
	{ "CRYPTO-6", CONF_INFO_LEVEL, false },
	{ "CLIENT-1", CONF_INFO_LEVEL, false },
	{ "CLIENT-2", CONF_INFO_LEVEL, false },
	{ "CLIENT-3", CONF_INFO_LEVEL, false },
	{ "CLIENT-4", CONF_INFO_LEVEL, false },
	{ "CLIENT-5", CONF_INFO_LEVEL, false },
	{ "CLIENT-6", CONF_INFO_LEVEL, false },
	{ "CLIENT-7", CONF_INFO_LEVEL, false },
	{ "CLIENT-8", CONF_INFO_LEVEL, false },
	{ "CLIENT-9", CONF_INFO_LEVEL, false },
};

const size_t conf_n_rules = sizeof(conf_rules) / sizeof(conf_rules[0]);

const struct conf_rule *conf_rule_find(const char *id, size_t len)
{
	size_t i;

	for (i = 0; i < conf_n_rules; i++)
		if (strlen(conf_rules[i].id) == len && memcmp(conf_rules[i].id, id, len) == 0)
			return &conf_rules[i];
	return NULL;
}

bool conf_rules_cite(const char *rules, const char *id)
{
	size_t n = strlen(id);
	const char *p = rules;

	while (p && *p) {
		size_t k;

		while (*p == ' ')
			p++;
		k = strcspn(p, " ");
		if (k == n && memcmp(p, id, n) == 0)
			return true;
		p += k;
	}
	return false;
}

/* ---- PROTOCOL.md parsing --------------------------------------------------------------- */

static bool is_rule_id(const char *s, size_t n)
{
	size_t i = 0, dashes = 0;

	if (n < 3 || s[0] < 'A' || s[0] > 'Z')
		return false;
	/* [A-Z][A-Z0-9]*(-[A-Z]+)*-[0-9]+[a-z]? */
	while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
		i++;
	for (;;) {
		size_t j;

		if (i >= n || s[i] != '-')
			return false;
		i++;
		dashes++;
		j = i;
		if (i < n && s[i] >= '0' && s[i] <= '9') {
			while (i < n && s[i] >= '0' && s[i] <= '9')
				i++;
			if (i < n && s[i] >= 'a' && s[i] <= 'z')
				i++;
			return i == n;
		}
		while (i < n && s[i] >= 'A' && s[i] <= 'Z')
			i++;
		if (i == j)
			return false;
	}
}

/* Column col (1-based) of a table row "| a | b | c |", trimmed, into out. */
static bool row_col(const char *line, size_t len, int col, char *out, size_t cap)
{
	const char *p = line, *end = line + len;
	int c = 0;

	while (p < end) {
		const char *q;

		if (*p != '|')
			return false;
		p++;
		q = memchr(p, '|', (size_t)(end - p));
		if (!q)
			return false;
		if (++c == col) {
			size_t n;

			while (p < q && *p == ' ')
				p++;
			n = (size_t)(q - p);
			while (n && p[n - 1] == ' ')
				n--;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p = q;
	}
	return false;
}

size_t conf_protocol_rules(const char *text, void (*cb)(void *ud, const char *id,
							enum conf_level lvl, bool sr),
			   void *ud)
{
	const char *p = text;
	bool sec_sr = false, level_col = false;
	size_t rows = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char c1[64], c2[64];

		if (len && p[len - 1] == '\r')
			len--;
		if (len && p[0] == '#') {
			sec_sr = memmem(p, len, "(sealroom", 9) != NULL;
		} else if (len > 2 && p[0] == '|' && row_col(p, len, 1, c1, sizeof(c1))) {
			if (strcmp(c1, "ID") == 0) {
				level_col = row_col(p, len, 2, c2, sizeof(c2)) &&
					    strcmp(c2, "Level") == 0;
			} else if (is_rule_id(c1, strlen(c1))) {
				enum conf_level lvl = CONF_MUST;
				bool sr = sec_sr || memmem(p, len, "(sealroom", 9) != NULL;

				if (level_col) {
					if (!row_col(p, len, 2, c2, sizeof(c2)))
						c2[0] = '\0';
					if (strncmp(c2, "MUST", 4) == 0)
						lvl = CONF_MUST;
					else if (strncmp(c2, "SHOULD", 6) == 0)
						lvl = CONF_SHOULD;
					else if (strncmp(c2, "MAY", 3) == 0)
						lvl = CONF_MAY;
					else
						lvl = CONF_INFO_LEVEL;
				} else if (strncmp(c1, "CLIENT-", 7) == 0) {
					lvl = CONF_INFO_LEVEL;
				}
				cb(ud, c1, lvl, sr);
				rows++;
			}
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	return rows;
}

/* ---- coverage -------------------------------------------------------------------------- */

struct xcheck {
	int errors;
	size_t seen;
};

static void xcheck_row(void *ud, const char *id, enum conf_level lvl, bool sr)
{
	struct xcheck *x = ud;
	const struct conf_rule *r = conf_rule_find(id, strlen(id));

	x->seen++;
	if (!r) {
		printf("ERROR  %s (%s) is in PROTOCOL.md but unknown to the runner's rule table\n",
		       id, conf_level_name(lvl));
		x->errors++;
	} else if (r->level != lvl || r->sr != sr) {
		printf("ERROR  %s: PROTOCOL.md says %s%s, the runner's table %s%s\n", id,
		       conf_level_name(lvl), sr ? " (sealroom)" : "", conf_level_name(r->level),
		       r->sr ? " (sealroom)" : "");
		x->errors++;
	}
}

static char *slurp(const char *path)
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
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int conf_coverage(const char *protocol_path)
{
	size_t i, must = 0, must_cov = 0, should = 0, should_cov = 0, other = 0;
	int errors = 0;
	const struct conf_case *const *t;

	/* Every rule a case cites must exist. */
	for (t = conf_case_tables; *t; t++) {
		const struct conf_case *c;

		for (c = *t; c->id; c++) {
			const char *p = c->rules;

			while (*p) {
				size_t k;

				while (*p == ' ')
					p++;
				k = strcspn(p, " ");
				if (k && !conf_rule_find(p, k)) {
					printf("ERROR  case %s cites unknown rule %.*s\n", c->id, (int)k, p);
					errors++;
				}
				p += k;
			}
		}
	}
	for (i = 0; i < conf_n_rules; i++) {
		const struct conf_rule *r = &conf_rules[i];
		char cases[2048];
		size_t len = 0;
		int n = 0;

		cases[0] = '\0';
		for (t = conf_case_tables; *t; t++) {
			const struct conf_case *c;

			for (c = *t; c->id; c++) {
				if (!conf_rules_cite(c->rules, r->id))
					continue;
				n++;
				if (len + strlen(c->id) + 3 < sizeof(cases))
					len += (size_t)snprintf(cases + len, sizeof(cases) - len, "%s%s",
								len ? ", " : "", c->id);
			}
		}
		printf("%-14s %-6s %-10s -> %s\n", r->id, conf_level_name(r->level),
		       r->sr ? "(sealroom)" : "", n ? cases : "(no case)");
		if (r->level == CONF_MUST) {
			must++;
			must_cov += n > 0;
			if (!n) {
				printf("ERROR  MUST rule %s has no case\n", r->id);
				errors++;
			}
		} else if (r->level == CONF_SHOULD) {
			should++;
			should_cov += n > 0;
		} else {
			other++;
		}
	}
	if (protocol_path) {
		char *text = slurp(protocol_path);

		if (!text) {
			printf("note   %s not readable: table not cross-checked\n", protocol_path);
		} else {
			struct xcheck x = { 0, 0 };

			conf_protocol_rules(text, xcheck_row, &x);
			free(text);
			if (x.seen != conf_n_rules) {
				printf("ERROR  PROTOCOL.md has %zu rule rows, the runner's table %zu\n",
				       x.seen, conf_n_rules);
				x.errors++;
			}
			printf("note   cross-checked against %s: %zu rule rows\n", protocol_path, x.seen);
			errors += x.errors;
		}
	}
	printf("coverage: MUST %zu/%zu, SHOULD %zu/%zu, MAY/informative %zu; %d error(s)\n",
	       must_cov, must, should_cov, should, other, errors);
	return errors ? 1 : 0;
}
