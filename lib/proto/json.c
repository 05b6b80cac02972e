#include "proto/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Our private bit in cJSON's type word: "this number token was a JSON integer". cJSON masks
 * types with 0xFF and only interprets 256 (IsReference) and 512 (StringIsConst) above that. */
#define JSON_INTFORM (1 << 12)

#define MAX_SAFE_INT 9007199254740991LL

/* ---- scanner ------------------------------------------------------------------------ */

struct scan {
	const unsigned char *in;
	size_t n, pos;
	char *out;           /* NULL: validate only */
	size_t olen;
	unsigned char *bits; /* one bit per number token: integer form */
	bool track;          /* record bits (json_parse) */
	size_t nnum, bitcap;
	int maxdepth, depth, deepest;
};

static void sc_ws(struct scan *s)
{
	while (s->pos < s->n) {
		unsigned char c = s->in[s->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		if (s->out)
			s->out[s->olen++] = (char)c;
		s->pos++;
	}
}

static void sc_put(struct scan *s, size_t from, size_t to)
{
	if (s->out) {
		memcpy(s->out + s->olen, s->in + from, to - from);
		s->olen += to - from;
	}
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static long sc_u4(struct scan *s, size_t at)
{
	if (at + 6 > s->n || s->in[at] != '\\' || s->in[at + 1] != 'u')
		return -1;
	long v = 0;
	for (size_t i = 0; i < 4; i++) {
		int h = hexval(s->in[at + 2 + i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of a strict UTF-8 sequence starting at p (n bytes available), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (n >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && p[1] < 0xA0)
			return 0; /* overlong */
		if (c == 0xED && p[1] >= 0xA0)
			return 0; /* UTF-16 surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && p[1] < 0x90)
			return 0;
		if (c == 0xF4 && p[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

static int sc_string(struct scan *s)
{
	size_t start = s->pos; /* at the opening quote */
	s->pos++;
	size_t run = start;
	while (s->pos < s->n) {
		unsigned char c = s->in[s->pos];
		if (c == '"') {
			s->pos++;
			sc_put(s, run, s->pos);
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (s->pos + 1 >= s->n)
				return -1;
			unsigned char e = s->in[s->pos + 1];
			if (e == 'u') {
				long u = sc_u4(s, s->pos);
				if (u < 0)
					return -1;
				if (u == 0) { /* U+0000 -> C0 80, see json.h */
					sc_put(s, run, s->pos);
					if (s->out) {
						s->out[s->olen++] = (char)0xC0;
						s->out[s->olen++] = (char)0x80;
					}
					s->pos += 6;
					run = s->pos;
					continue;
				}
				if (u >= 0xDC00 && u <= 0xDFFF)
					return -1; /* lone low surrogate */
				if (u >= 0xD800 && u <= 0xDBFF) {
					long lo = sc_u4(s, s->pos + 6);
					if (lo < 0xDC00 || lo > 0xDFFF)
						return -1; /* high surrogate without its low half */
					s->pos += 12;
					continue;
				}
				s->pos += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == 0)
				return -1;
			s->pos += 2;
			continue;
		}
		size_t k = utf8_seq(s->in + s->pos, s->n - s->pos);
		if (!k)
			return -1;
		s->pos += k;
	}
	return -1;
}

static int sc_number(struct scan *s)
{
	size_t st = s->pos;
	const unsigned char *p = s->in;
	bool intform = true;
	if (s->pos < s->n && p[s->pos] == '-')
		s->pos++;
	if (s->pos >= s->n)
		return -1;
	if (p[s->pos] == '0') {
		s->pos++;
	} else if (p[s->pos] >= '1' && p[s->pos] <= '9') {
		while (s->pos < s->n && p[s->pos] >= '0' && p[s->pos] <= '9')
			s->pos++;
	} else {
		return -1;
	}
	size_t intend = s->pos;
	if (s->pos < s->n && p[s->pos] == '.') {
		intform = false;
		s->pos++;
		size_t d = s->pos;
		while (s->pos < s->n && p[s->pos] >= '0' && p[s->pos] <= '9')
			s->pos++;
		if (s->pos == d)
			return -1;
	}
	if (s->pos < s->n && (p[s->pos] == 'e' || p[s->pos] == 'E')) {
		intform = false;
		s->pos++;
		if (s->pos < s->n && (p[s->pos] == '+' || p[s->pos] == '-'))
			s->pos++;
		size_t d = s->pos;
		while (s->pos < s->n && p[s->pos] >= '0' && p[s->pos] <= '9')
			s->pos++;
		if (s->pos == d)
			return -1;
	}
	if (intform) {
		size_t digits = intend - st - (p[st] == '-');
		if (digits > 16) {
			intform = false;
		} else {
			long long v = 0;
			for (size_t i = intend - digits; i < intend; i++)
				v = v * 10 + (p[i] - '0');
			if (v > MAX_SAFE_INT)
				intform = false;
		}
	}
	if (s->track) {
		if (s->nnum / 8 >= s->bitcap) {
			size_t nc = s->bitcap ? s->bitcap * 2 : 64;
			unsigned char *nb = realloc(s->bits, nc);
			if (!nb)
				return -1;
			memset(nb + s->bitcap, 0, nc - s->bitcap);
			s->bits = nb;
			s->bitcap = nc;
		}
		if (intform)
			s->bits[s->nnum / 8] |= (unsigned char)(1u << (s->nnum % 8));
	}
	s->nnum++;
	sc_put(s, st, s->pos);
	return 0;
}

static int sc_literal(struct scan *s, const char *lit)
{
	size_t l = strlen(lit);
	if (s->n - s->pos < l || memcmp(s->in + s->pos, lit, l) != 0)
		return -1;
	sc_put(s, s->pos, s->pos + l);
	s->pos += l;
	return 0;
}

static int sc_put1(struct scan *s)
{
	sc_put(s, s->pos, s->pos + 1);
	s->pos++;
	return 0;
}

/* Iterative: the container stack is a bit per level (1 = object). */
static int sc_run(struct scan *s, bool top_container)
{
	uint64_t stack = 0;
	sc_ws(s);
	if (s->pos >= s->n)
		return -1;
	if (top_container && s->in[s->pos] != '{' && s->in[s->pos] != '[')
		return -1;
	for (;;) {
		/* expect a value */
		if (s->pos >= s->n)
			return -1;
		unsigned char c = s->in[s->pos];
		if (c == '{' || c == '[') {
			if (++s->depth > s->maxdepth)
				return -1;
			if (s->depth > s->deepest)
				s->deepest = s->depth;
			stack = (stack << 1) | (c == '{');
			sc_put1(s);
			sc_ws(s);
			if (s->pos < s->n && s->in[s->pos] == (c == '{' ? '}' : ']')) {
				sc_put1(s);
				s->depth--;
				stack >>= 1;
				goto after_value;
			}
			if (c == '{')
				goto member;
			continue;
		}
		if (c == '"') {
			if (sc_string(s))
				return -1;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (sc_number(s))
				return -1;
		} else if (c == 't') {
			if (sc_literal(s, "true"))
				return -1;
		} else if (c == 'f') {
			if (sc_literal(s, "false"))
				return -1;
		} else if (c == 'n') {
			if (sc_literal(s, "null"))
				return -1;
		} else {
			return -1;
		}
	after_value:
		sc_ws(s);
		if (s->depth == 0)
			return s->pos == s->n ? 0 : -1;
		if (s->pos >= s->n)
			return -1;
		c = s->in[s->pos];
		if (c == ',') {
			sc_put1(s);
			sc_ws(s);
			if (stack & 1)
				goto member;
			continue;
		}
		if (c == ((stack & 1) ? '}' : ']')) {
			sc_put1(s);
			s->depth--;
			stack >>= 1;
			goto after_value;
		}
		return -1;
	member:
		if (s->pos >= s->n || s->in[s->pos] != '"' || sc_string(s))
			return -1;
		sc_ws(s);
		if (s->pos >= s->n || s->in[s->pos] != ':')
			return -1;
		sc_put1(s);
		sc_ws(s);
	}
}

int json_scan(const char *str, size_t len, int max_depth)
{
	struct scan s = {.in = (const unsigned char *)str, .n = len, .maxdepth = max_depth};
	if (sc_run(&s, false))
		return -1;
	return s.deepest;
}

static void mark_ints(cJSON *item, const unsigned char *bits, size_t *idx)
{
	for (; item; item = item->next) {
		if (cJSON_IsNumber(item)) {
			if (bits[*idx / 8] & (1u << (*idx % 8)))
				item->type |= JSON_INTFORM;
			(*idx)++;
		} else if (item->child) {
			mark_ints(item->child, bits, idx);
		}
	}
}

cJSON *json_parse(const char *str, size_t len, int max_depth, bool top_container)
{
	struct scan s = {.in = (const unsigned char *)str, .n = len, .maxdepth = max_depth, .track = true};
	cJSON *root = NULL;
	s.out = malloc(len + 1);
	if (!s.out)
		return NULL;
	if (sc_run(&s, top_container))
		goto out;
	s.out[s.olen] = '\0';
	root = cJSON_ParseWithLength(s.out, s.olen);
	if (root && s.bits) {
		size_t idx = 0;
		mark_ints(root, s.bits, &idx);
	}
out:
	free(s.bits);
	free(s.out);
	return root;
}

cJSON *json_get(const cJSON *obj, const char *key)
{
	cJSON *found = NULL;
	if (!cJSON_IsObject(obj))
		return NULL;
	for (cJSON *it = obj->child; it; it = it->next)
		if (it->string && strcmp(it->string, key) == 0)
			found = it;
	return found;
}

bool json_is_int(const cJSON *item)
{
	return item && cJSON_IsNumber(item) && (item->type & JSON_INTFORM);
}

bool json_str(const cJSON *item, const char **s, size_t *len)
{
	if (!cJSON_IsString(item) || !item->valuestring)
		return false;
	*s = item->valuestring;
	*len = strlen(item->valuestring);
	return true;
}

bool json_truthy(const cJSON *item)
{
	if (!item || cJSON_IsNull(item) || cJSON_IsFalse(item))
		return false;
	if (cJSON_IsNumber(item))
		return item->valuedouble != 0 && !isnan(item->valuedouble);
	if (cJSON_IsString(item))
		return item->valuestring && item->valuestring[0];
	return true;
}

/* ---- writer ------------------------------------------------------------------------- */

void jw_init(struct jw *w, size_t initial, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
	w->first = 1;
	if (initial > max)
		initial = max;
	w->buf = malloc(initial + 1);
	if (!w->buf)
		w->err = true;
	else
		w->cap = initial;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	w->buf = NULL;
	w->len = w->cap = 0;
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->err = false;
	w->depth = 0;
	w->first = 1;
	w->after_key = false;
}

char *jw_take(struct jw *w, size_t *len)
{
	char *b = w->err ? NULL : w->buf;
	if (b) {
		b[w->len] = '\0';
		if (len)
			*len = w->len;
	} else {
		free(w->buf);
	}
	w->buf = NULL;
	w->len = w->cap = 0;
	return b;
}

static bool jw_grow(struct jw *w, size_t need)
{
	if (w->err)
		return false;
	if (w->len + need <= w->cap)
		return true;
	if (w->len + need > w->max) {
		w->err = true;
		return false;
	}
	size_t nc = w->cap ? w->cap * 2 : 256;
	while (nc < w->len + need)
		nc *= 2;
	if (nc > w->max)
		nc = w->max;
	char *nb = realloc(w->buf, nc + 1);
	if (!nb) {
		w->err = true;
		return false;
	}
	w->buf = nb;
	w->cap = nc;
	return true;
}

void jw_bytes(struct jw *w, const char *s, size_t len)
{
	if (!jw_grow(w, len))
		return;
	memcpy(w->buf + w->len, s, len);
	w->len += len;
}

/* Comma bookkeeping before any value or key. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->first & (1ull << w->depth))
		w->first &= ~(1ull << w->depth);
	else
		jw_bytes(w, ",", 1);
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	jw_bytes(w, &c, 1);
	if (w->depth < 62)
		w->depth++;
	w->first |= 1ull << w->depth;
}

static void jw_close(struct jw *w, char c)
{
	jw_bytes(w, &c, 1);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	size_t l = strlen(key);
	if (!jw_grow(w, l + 3))
		return;
	w->buf[w->len++] = '"';
	memcpy(w->buf + w->len, key, l);
	w->len += l;
	w->buf[w->len++] = '"';
	w->buf[w->len++] = ':';
	w->after_key = true;
}

size_t json_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap < 3)
		return 0;
	out[o++] = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 7 > cap)
			return 0;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c >= 0x20) {
			if (c == 0xC0 && i + 1 < len && (unsigned char)s[i + 1] == 0x80) {
				memcpy(out + o, "\\u0000", 6); /* our in-memory U+0000, see json.h */
				o += 6;
				i++;
			} else {
				out[o++] = (char)c;
			}
		} else {
			out[o++] = '\\';
			switch (c) {
			case '\b': out[o++] = 'b'; break;
			case '\t': out[o++] = 't'; break;
			case '\n': out[o++] = 'n'; break;
			case '\f': out[o++] = 'f'; break;
			case '\r': out[o++] = 'r'; break;
			default:
				out[o++] = 'u';
				out[o++] = '0';
				out[o++] = '0';
				out[o++] = hex[c >> 4];
				out[o++] = hex[c & 15];
			}
		}
	}
	if (o + 1 > cap)
		return 0;
	out[o++] = '"';
	return o;
}

void jw_str(struct jw *w, const char *s, size_t len)
{
	jw_sep(w);
	/* Fast path: most strings (base64, ids) need no escaping. */
	bool plain = true;
	for (size_t i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		plain = c >= 0x20 && c != '"' && c != '\\' && c != 0xC0;
	}
	if (plain) {
		if (!jw_grow(w, len + 2))
			return;
		w->buf[w->len++] = '"';
		memcpy(w->buf + w->len, s, len);
		w->len += len;
		w->buf[w->len++] = '"';
		return;
	}
	if (!jw_grow(w, len * 6 + 3))
		return;
	w->len += json_escape(w->buf + w->len, w->cap - w->len, s, len);
}

void jw_cstr(struct jw *w, const char *s) { jw_str(w, s, strlen(s)); }

void jw_int(struct jw *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	jw_sep(w);
	jw_bytes(w, tmp, (size_t)n);
}

void jw_num(struct jw *w, double v)
{
	char tmp[40];
	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	if (v == floor(v) && fabs(v) <= (double)MAX_SAFE_INT) {
		jw_int(w, (int64_t)v);
		return;
	}
	/* shortest text that reads back as the same double (ROOM-15) */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	jw_sep(w);
	jw_bytes(w, tmp, strlen(tmp));
}

void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	jw_bytes(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	jw_bytes(w, "null", 4);
}

void jw_rawval(struct jw *w, const char *json, size_t len)
{
	jw_sep(w);
	jw_bytes(w, json, len);
}
