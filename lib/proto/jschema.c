#include "proto/jschema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/json.h"
#include "proto/utf16.h"

/* Documents nest far less than this; deeper input is refused at load. */
#define JSCHEMA_DOC_MAX_DEPTH 256
#define JSCHEMA_PATH_MAX 512

struct jschema_pat {
	const cJSON *node;	/* the "pattern" string node */
	regex_t re;
};

struct jschema {
	cJSON *doc;
	struct jschema_pat *pats;
	size_t npats, cap;
};

/* One validation: the value's JSON pointer (for messages) and the error sink. */
struct vctx {
	const struct jschema *s;
	char path[JSCHEMA_PATH_MAX];
	size_t plen;
	char *err;
	size_t errcap;
};

static void vfail(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vfail(struct vctx *c, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	if (!c->err || c->errcap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errcap, "%s: %s", c->plen ? c->path : "/", msg);
}

/* Short text of a value for messages: compact JSON, cut at 60 bytes. */
static void brief(const cJSON *v, char out[72])
{
	char *txt = cJSON_PrintUnformatted(v);

	if (!txt) {
		snprintf(out, 72, "(value)");
		return;
	}
	if (strlen(txt) > 60)
		snprintf(out, 72, "%.57s...", txt);
	else
		snprintf(out, 72, "%s", txt);
	free(txt);
}

static size_t path_push(struct vctx *c, const char *seg)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "/%s", seg);

	if (n > 0)
		c->plen += (size_t)n < sizeof(c->path) - c->plen ? (size_t)n : sizeof(c->path) - c->plen - 1;
	return old;
}

static size_t path_push_index(struct vctx *c, int i)
{
	char seg[16];

	snprintf(seg, sizeof(seg), "%d", i);
	return path_push(c, seg);
}

static void path_pop(struct vctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

static int add_pattern(struct jschema *s, const cJSON *node, char *err, size_t errcap)
{
	int rc;

	if (s->npats == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 32;
		struct jschema_pat *np = realloc(s->pats, ncap * sizeof(*np));

		if (!np) {
			if (err)
				snprintf(err, errcap, "out of memory");
			return -1;
		}
		s->pats = np;
		s->cap = ncap;
	}
	rc = regcomp(&s->pats[s->npats].re, node->valuestring, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		if (err)
			snprintf(err, errcap, "pattern %s does not compile", node->valuestring);
		return -1;
	}
	s->pats[s->npats].node = node;
	s->npats++;
	return 0;
}

/* Compile every string-valued "pattern" member of every object (a property *named* pattern
 * has an object value and is skipped). */
static int compile_patterns(struct jschema *s, const cJSON *n, int depth, char *err,
			    size_t errcap)
{
	const cJSON *it;

	if (depth > JSCHEMA_DOC_MAX_DEPTH) {
		if (err)
			snprintf(err, errcap, "document nested too deeply");
		return -1;
	}
	cJSON_ArrayForEach(it, n) {
		if (cJSON_IsObject(n) && it->string && strcmp(it->string, "pattern") == 0 &&
		    cJSON_IsString(it)) {
			if (add_pattern(s, it, err, errcap) < 0)
				return -1;
		} else if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
			if (compile_patterns(s, it, depth + 1, err, errcap) < 0)
				return -1;
		}
	}
	return 0;
}

struct jschema *jschema_load(const char *text, size_t len, char *err, size_t errcap)
{
	struct jschema *s = calloc(1, sizeof(*s));

	if (!s) {
		if (err)
			snprintf(err, errcap, "out of memory");
		return NULL;
	}
	s->doc = json_parse(text, len, JSCHEMA_DOC_MAX_DEPTH, true);
	if (!s->doc) {
		if (err)
			snprintf(err, errcap, "not a JSON document");
		free(s);
		return NULL;
	}
	if (compile_patterns(s, s->doc, 0, err, errcap) < 0) {
		jschema_free(s);
		return NULL;
	}
	return s;
}

void jschema_free(struct jschema *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->npats; i++)
		regfree(&s->pats[i].re);
	free(s->pats);
	cJSON_Delete(s->doc);
	free(s);
}

const cJSON *jschema_doc(const struct jschema *s)
{
	return s->doc;
}

const cJSON *jschema_resolve(const struct jschema *s, const char *ref)
{
	const cJSON *n = s->doc;
	const char *p;
	char seg[256];

	if (!ref || ref[0] != '#')
		return NULL;
	p = ref + 1;
	while (*p == '/') {
		size_t k = 0;

		p++;
		while (*p && *p != '/') {
			char ch = *p++;

			if (ch == '~' && (*p == '0' || *p == '1'))
				ch = *p++ == '0' ? '~' : '/';
			if (k + 1 >= sizeof(seg))
				return NULL;
			seg[k++] = ch;
		}
		seg[k] = '\0';
		if (cJSON_IsArray(n)) {
			char *end;
			long i = strtol(seg, &end, 10);

			if (!k || *end || i < 0)
				return NULL;
			n = cJSON_GetArrayItem(n, (int)i);
		} else {
			n = cJSON_GetObjectItemCaseSensitive(n, seg);
		}
		if (!n)
			return NULL;
	}
	return *p ? NULL : n;
}

const cJSON *jschema_component(const struct jschema *s, const char *name)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(s->doc, "components");

	c = cJSON_GetObjectItemCaseSensitive(c, "schemas");
	return cJSON_GetObjectItemCaseSensitive(c, name);
}

const cJSON *jschema_response(const struct jschema *s, const char *path_tpl, const char *method,
			      int status)
{
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(s->doc, "paths");
	const cJSON *op = NULL, *it, *resps, *r;
	char code[16];

	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(paths, path_tpl)) {
		if (it->string && strcasecmp(it->string, method) == 0) {
			op = it;
			break;
		}
	}
	resps = cJSON_GetObjectItemCaseSensitive(op, "responses");
	snprintf(code, sizeof(code), "%d", status);
	r = cJSON_GetObjectItemCaseSensitive(resps, code);
	if (!r)
		r = cJSON_GetObjectItemCaseSensitive(resps, "default");
	if (r && cJSON_GetObjectItemCaseSensitive(r, "$ref")) {
		const cJSON *ref = cJSON_GetObjectItemCaseSensitive(r, "$ref");

		r = cJSON_IsString(ref) ? jschema_resolve(s, ref->valuestring) : NULL;
	}
	r = cJSON_GetObjectItemCaseSensitive(r, "content");
	r = cJSON_GetObjectItemCaseSensitive(r, "application/json");
	return cJSON_GetObjectItemCaseSensitive(r, "schema");
}

static bool is_integer(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
	       floor(v->valuedouble) == v->valuedouble;
}

static bool type_is(const cJSON *v, const char *t)
{
	if (strcmp(t, "null") == 0)
		return cJSON_IsNull(v);
	if (strcmp(t, "boolean") == 0)
		return cJSON_IsBool(v);
	if (strcmp(t, "object") == 0)
		return cJSON_IsObject(v);
	if (strcmp(t, "array") == 0)
		return cJSON_IsArray(v);
	if (strcmp(t, "string") == 0)
		return cJSON_IsString(v);
	if (strcmp(t, "number") == 0)
		return cJSON_IsNumber(v);
	if (strcmp(t, "integer") == 0)
		return is_integer(v);
	return false;
}

/* Deep equality for const/enum; numbers by value, objects regardless of key order. */
static bool json_equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	return cJSON_Compare(a, b, true);
}

static bool pattern_match(const struct jschema *s, const cJSON *pat, const char *str, bool *bad)
{
	size_t i;
	regex_t tmp;
	bool ok;

	*bad = false;
	for (i = 0; i < s->npats; i++)
		if (s->pats[i].node == pat)
			return regexec(&s->pats[i].re, str, 0, NULL, 0) == 0;
	/* A schema node from another document: compile on the fly. */
	if (regcomp(&tmp, pat->valuestring, REG_EXTENDED | REG_NOSUB) != 0) {
		*bad = true;
		return false;
	}
	ok = regexec(&tmp, str, 0, NULL, 0) == 0;
	regfree(&tmp);
	return ok;
}

static bool validate(struct vctx *c, const cJSON *sch, const cJSON *v, int depth);

static bool check_type(struct vctx *c, const cJSON *t, const cJSON *v)
{
	const cJSON *it;
	char b[72];

	if (cJSON_IsString(t)) {
		if (type_is(v, t->valuestring))
			return true;
		brief(v, b);
		vfail(c, "%s is not of type %s", b, t->valuestring);
		return false;
	}
	if (cJSON_IsArray(t)) {
		cJSON_ArrayForEach(it, t) {
			if (cJSON_IsString(it) && type_is(v, it->valuestring))
				return true;
		}
		brief(v, b);
		vfail(c, "%s is not of any listed type", b);
		return false;
	}
	return true;
}

static bool check_string(struct vctx *c, const cJSON *sch, const cJSON *v)
{
	const cJSON *mn = cJSON_GetObjectItemCaseSensitive(sch, "minLength");
	const cJSON *mx = cJSON_GetObjectItemCaseSensitive(sch, "maxLength");
	const cJSON *pat = cJSON_GetObjectItemCaseSensitive(sch, "pattern");
	const char *str = v->valuestring;
	size_t units;
	char b[72];

	if (!str)
		return true;
	units = u16_len(str, strlen(str));
	if (cJSON_IsNumber(mn) && (double)units < mn->valuedouble) {
		brief(v, b);
		vfail(c, "%s is shorter than %g UTF-16 units", b, mn->valuedouble);
		return false;
	}
	if (cJSON_IsNumber(mx) && (double)units > mx->valuedouble) {
		brief(v, b);
		vfail(c, "%s is longer than %g UTF-16 units (%zu)", b, mx->valuedouble, units);
		return false;
	}
	if (cJSON_IsString(pat)) {
		bool bad;

		if (!pattern_match(c->s, pat, str, &bad)) {
			brief(v, b);
			if (bad)
				vfail(c, "schema pattern %s does not compile", pat->valuestring);
			else
				vfail(c, "%s does not match %s", b, pat->valuestring);
			return false;
		}
	}
	return true;
}

static bool check_number(struct vctx *c, const cJSON *sch, const cJSON *v)
{
	static const char *const kw[] = { "minimum", "maximum", "exclusiveMinimum",
					  "exclusiveMaximum" };
	double x = v->valuedouble;
	size_t i;
	char b[72];

	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		const cJSON *lim = cJSON_GetObjectItemCaseSensitive(sch, kw[i]);
		bool ok;

		if (!cJSON_IsNumber(lim))
			continue;
		switch (i) {
		case 0: ok = x >= lim->valuedouble; break;
		case 1: ok = x <= lim->valuedouble; break;
		case 2: ok = x > lim->valuedouble; break;
		default: ok = x < lim->valuedouble; break;
		}
		if (!ok) {
			brief(v, b);
			vfail(c, "%s violates %s %.17g", b, kw[i], lim->valuedouble);
			return false;
		}
	}
	return true;
}

static bool check_object(struct vctx *c, const cJSON *sch, const cJSON *v, int depth)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(sch, "properties");
	const cJSON *req = cJSON_GetObjectItemCaseSensitive(sch, "required");
	const cJSON *addl = cJSON_GetObjectItemCaseSensitive(sch, "additionalProperties");
	const cJSON *it;

	cJSON_ArrayForEach(it, req) {
		if (cJSON_IsString(it) && !cJSON_GetObjectItemCaseSensitive(v, it->valuestring)) {
			vfail(c, "required key \"%s\" is missing", it->valuestring);
			return false;
		}
	}
	cJSON_ArrayForEach(it, v) {
		const cJSON *ps = it->string ? cJSON_GetObjectItemCaseSensitive(props, it->string)
					     : NULL;
		size_t old;
		bool ok = true;

		if (!ps && !addl)
			continue;
		old = path_push(c, it->string ? it->string : "");
		if (ps)
			ok = validate(c, ps, it, depth + 1);
		else if (cJSON_IsFalse(addl)) {
			vfail(c, "unexpected key \"%s\"", it->string ? it->string : "");
			ok = false;
		} else if (cJSON_IsObject(addl)) {
			ok = validate(c, addl, it, depth + 1);
		}
		path_pop(c, old);
		if (!ok)
			return false;
	}
	return true;
}

static bool check_array(struct vctx *c, const cJSON *sch, const cJSON *v, int depth)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(sch, "items");
	const cJSON *mn = cJSON_GetObjectItemCaseSensitive(sch, "minItems");
	const cJSON *mx = cJSON_GetObjectItemCaseSensitive(sch, "maxItems");
	const cJSON *it;
	int n = cJSON_GetArraySize(v), i = 0;

	if (cJSON_IsNumber(mn) && n < mn->valuedouble) {
		vfail(c, "array has %d items, fewer than %g", n, mn->valuedouble);
		return false;
	}
	if (cJSON_IsNumber(mx) && n > mx->valuedouble) {
		vfail(c, "array has %d items, more than %g", n, mx->valuedouble);
		return false;
	}
	if (!items)
		return true;
	cJSON_ArrayForEach(it, v) {
		size_t old = path_push_index(c, i++);
		bool ok = validate(c, items, it, depth + 1);

		path_pop(c, old);
		if (!ok)
			return false;
	}
	return true;
}

static bool check_combinators(struct vctx *c, const cJSON *sch, const cJSON *v, int depth)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(sch, "allOf");
	const cJSON *any = cJSON_GetObjectItemCaseSensitive(sch, "anyOf");
	const cJSON *one = cJSON_GetObjectItemCaseSensitive(sch, "oneOf");
	const cJSON *not = cJSON_GetObjectItemCaseSensitive(sch, "not");
	const cJSON *it;
	char first[256] = "";

	cJSON_ArrayForEach(it, all) {
		if (!validate(c, it, v, depth + 1))
			return false;
	}
	if (cJSON_IsArray(any)) {
		bool found = false;

		cJSON_ArrayForEach(it, any) {
			if (validate(c, it, v, depth + 1)) {
				found = true;
				break;
			}
			if (!first[0] && c->err)
				snprintf(first, sizeof(first), "%s", c->err);
		}
		if (!found) {
			vfail(c, "matches no anyOf branch (first: %s)", first);
			return false;
		}
	}
	if (cJSON_IsArray(one)) {
		int matches = 0;

		cJSON_ArrayForEach(it, one) {
			if (validate(c, it, v, depth + 1))
				matches++;
			else if (!first[0] && c->err)
				snprintf(first, sizeof(first), "%s", c->err);
		}
		if (matches != 1) {
			if (matches == 0)
				vfail(c, "matches no oneOf branch (first: %s)", first);
			else
				vfail(c, "matches %d oneOf branches, not exactly one", matches);
			return false;
		}
	}
	if (not && validate(c, not, v, depth + 1)) {
		vfail(c, "matches a \"not\" schema");
		return false;
	}
	return true;
}

static bool validate(struct vctx *c, const cJSON *sch, const cJSON *v, int depth)
{
	const cJSON *ref, *k;
	char b[72];

	if (depth > JSCHEMA_MAX_DEPTH) {
		vfail(c, "schema nesting deeper than %d", JSCHEMA_MAX_DEPTH);
		return false;
	}
	if (cJSON_IsTrue(sch))
		return true;
	if (cJSON_IsFalse(sch)) {
		vfail(c, "no value is allowed here");
		return false;
	}
	if (!cJSON_IsObject(sch))
		return true; /* not a schema: nothing to check */

	ref = cJSON_GetObjectItemCaseSensitive(sch, "$ref");
	if (cJSON_IsString(ref)) {
		const cJSON *target = jschema_resolve(c->s, ref->valuestring);

		if (!target) {
			vfail(c, "unresolvable $ref %s", ref->valuestring);
			return false;
		}
		if (!validate(c, target, v, depth + 1))
			return false;
	}
	k = cJSON_GetObjectItemCaseSensitive(sch, "type");
	if (k && !check_type(c, k, v))
		return false;
	k = cJSON_GetObjectItemCaseSensitive(sch, "const");
	if (k && !json_equal(k, v)) {
		char want[72];

		brief(v, b);
		brief(k, want);
		vfail(c, "%s is not the constant %s", b, want);
		return false;
	}
	k = cJSON_GetObjectItemCaseSensitive(sch, "enum");
	if (cJSON_IsArray(k)) {
		const cJSON *it;
		bool found = false;

		cJSON_ArrayForEach(it, k) {
			if (json_equal(it, v)) {
				found = true;
				break;
			}
		}
		if (!found) {
			brief(v, b);
			vfail(c, "%s is not one of the enumerated values", b);
			return false;
		}
	}
	if (cJSON_IsString(v) && !check_string(c, sch, v))
		return false;
	if (cJSON_IsNumber(v) && !check_number(c, sch, v))
		return false;
	if (cJSON_IsObject(v) && !check_object(c, sch, v, depth))
		return false;
	if (cJSON_IsArray(v) && !check_array(c, sch, v, depth))
		return false;
	return check_combinators(c, sch, v, depth);
}

int jschema_validate(const struct jschema *s, const cJSON *schema, const cJSON *value, char *err,
		     size_t errcap)
{
	struct vctx *c;
	bool ok;

	if (!schema || !value) {
		if (err && errcap)
			snprintf(err, errcap, "/: no schema or no value");
		return -1;
	}
	c = calloc(1, sizeof(*c)); /* the path buffer stays off small worker stacks */
	if (!c) {
		if (err && errcap)
			snprintf(err, errcap, "/: out of memory");
		return -1;
	}
	c->s = s;
	c->err = err;
	c->errcap = errcap;
	if (err && errcap)
		err[0] = '\0';
	ok = validate(c, schema, value, 0);
	free(c);
	return ok ? 0 : -1;
}
