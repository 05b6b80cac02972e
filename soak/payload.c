#include "payload.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/envelope.h"
#include "crypto/ids.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"
#include "proto/json.h"

#define PAYLOAD_PREFIX "soak "

int payload_format(char *out, size_t cap, const struct payload *p, size_t pad_to)
{
	int n = snprintf(out, cap, PAYLOAD_PREFIX "r=%" PRIu32 " a=%" PRIu32 " i=%" PRIu32
			 " t=%" PRId64 " ", p->room, p->agent, p->idx, p->t_ns);

	if (n < 0 || (size_t)n >= cap)
		return -1;
	if ((size_t)n < pad_to) {
		if (pad_to >= cap)
			return -1;
		memset(out + n, 'x', pad_to - (size_t)n);
		n = (int)pad_to;
		out[n] = '\0';
	}
	return n;
}

/* "<key>=<digits>" at *s; advances past one trailing space. */
static int payload_field(const char **s, const char *end, char key, int64_t *v, bool neg_ok)
{
	const char *q = *s;
	bool neg = false;
	int64_t x = 0;
	int digits = 0;

	if (end - q < 3 || q[0] != key || q[1] != '=')
		return -1;
	q += 2;
	if (neg_ok && q < end && *q == '-') {
		neg = true;
		q++;
	}
	while (q < end && *q >= '0' && *q <= '9' && digits < 19) {
		x = x * 10 + (*q - '0');
		q++;
		digits++;
	}
	if (!digits || q >= end || *q != ' ')
		return -1;
	*v = neg ? -x : x;
	*s = q + 1;
	return 0;
}

int payload_parse(const char *s, size_t n, struct payload *p)
{
	const char *end = s + n, *q = s;
	int64_t r, a, i, t;

	if (n < sizeof(PAYLOAD_PREFIX) - 1 ||
	    memcmp(s, PAYLOAD_PREFIX, sizeof(PAYLOAD_PREFIX) - 1) != 0)
		return -1;
	q += sizeof(PAYLOAD_PREFIX) - 1;
	if (payload_field(&q, end, 'r', &r, false) || payload_field(&q, end, 'a', &a, false) ||
	    payload_field(&q, end, 'i', &i, false) || payload_field(&q, end, 't', &t, true))
		return -1;
	if (r > UINT32_MAX || a > UINT32_MAX || i > UINT32_MAX)
		return -1;
	for (; q < end; q++) {
		if (*q != 'x')
			return -1;
	}
	p->room = (uint32_t)r;
	p->agent = (uint32_t)a;
	p->idx = (uint32_t)i;
	p->t_ns = t;
	return 0;
}

char *payload_room_body(const unsigned char key[32], const char *room_id, const struct payload *p,
			size_t pad_to, const char *label, const struct crypto_identity *signer,
			size_t *len)
{
	char *plain = malloc(PAYLOAD_MAX_BYTES + 1), *ct = NULL, *body = NULL;
	char nonce[33];
	struct jw w;
	int n;

	if (!plain)
		return NULL;
	n = payload_format(plain, PAYLOAD_MAX_BYTES + 1, p, pad_to);
	if (n < 0 || env_room_seal(key, plain, (size_t)n, &ct, nonce) < 0)
		goto out;
	jw_init(&w, strlen(ct) + 512, (size_t)1 << 20);
	jw_obj(&w);
	jw_key(&w, "ciphertext");
	jw_cstr(&w, ct);
	jw_key(&w, "nonce");
	jw_cstr(&w, nonce);
	if (signer) {
		/* SIG-3: "room-msg <roomId> <sender_ts> <sender_nonce> <sha256hex(ciphertext)>" */
		char sn[25], sig[89], str[512];
		int64_t ts = clock_now_ms();
		int sl;

		crypto_random_nonce_b64url(sn);
		sl = sigstr_room_msg(str, sizeof(str), room_id, ts, sn, strlen(sn), ct, strlen(ct));
		if (sl < 0 || crypto_sign_b64(signer, str, (size_t)sl, sig) < 0) {
			jw_free(&w);
			goto out;
		}
		jw_key(&w, "sender_handle");
		jw_cstr(&w, signer->handle);
		jw_key(&w, "sender_ts");
		jw_int(&w, ts);
		jw_key(&w, "sender_nonce");
		jw_cstr(&w, sn);
		jw_key(&w, "sender_sig");
		jw_cstr(&w, sig);
	} else if (label) {
		jw_key(&w, "sender");
		jw_cstr(&w, label);
	}
	jw_obj_end(&w);
	body = jw_take(&w, len);
out:
	free(ct);
	free(plain);
	return body;
}

char *payload_dm_body(const unsigned char to_box_pk[32], const char *to_handle,
		      const struct payload *p, size_t pad_to, const struct crypto_identity *from,
		      int64_t from_ts, size_t *len)
{
	char *plain = malloc(PAYLOAD_MAX_BYTES + 1), *ct = NULL, *body = NULL;
	char nonce[33], eph[45];
	struct jw w;
	int n;

	if (!plain)
		return NULL;
	n = payload_format(plain, PAYLOAD_MAX_BYTES + 1, p, pad_to);
	if (n < 0 || env_dm_seal(to_box_pk, plain, (size_t)n, &ct, nonce, eph) < 0)
		goto out;
	jw_init(&w, strlen(ct) + 512, (size_t)1 << 20);
	jw_obj(&w);
	jw_key(&w, "ciphertext");
	jw_cstr(&w, ct);
	jw_key(&w, "nonce");
	jw_cstr(&w, nonce);
	jw_key(&w, "sender_eph_pub");
	jw_cstr(&w, eph);
	if (from) {
		/* SIG-4: "dm <to> <from> <from_ts> <sha256hex(ct|nonce|eph)>" */
		char str[512], sig[89];
		int sl = sigstr_dm(str, sizeof(str), to_handle, from->handle, strlen(from->handle),
				   from_ts, ct, strlen(ct), nonce, strlen(nonce), eph, strlen(eph));

		if (sl < 0 || crypto_sign_b64(from, str, (size_t)sl, sig) < 0) {
			jw_free(&w);
			goto out;
		}
		jw_key(&w, "from_handle");
		jw_cstr(&w, from->handle);
		jw_key(&w, "from_ts");
		jw_int(&w, from_ts);
		jw_key(&w, "from_sig");
		jw_cstr(&w, sig);
	}
	jw_obj_end(&w);
	body = jw_take(&w, len);
out:
	free(ct);
	free(plain);
	return body;
}

/* ---- reading ---- */

static bool has_prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	return n >= k && memcmp(s, pre, k) == 0;
}

static const char *obj_str(const cJSON *o, const char *key, size_t *len)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(it) || !it->valuestring)
		return NULL;
	if (len)
		*len = strlen(it->valuestring);
	return it->valuestring;
}

enum rx_type rx_from_obj(const cJSON *o, struct rx *m)
{
	const cJSON *seq, *ver;

	memset(m, 0, sizeof(*m));
	m->seq = -1;
	if (!cJSON_IsObject(o)) {
		m->type = RX_BAD;
		return RX_BAD;
	}
	m->type = RX_MESSAGE;
	seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
	if (cJSON_IsNumber(seq))
		m->seq = (int64_t)seq->valuedouble; /* seqs are ~1.8e12: exact in a double */
	m->ct = obj_str(o, "ciphertext", &m->ct_len);
	m->nonce = obj_str(o, "nonce", &m->nonce_len);
	m->eph = obj_str(o, "sender_eph_pub", &m->eph_len);
	m->sender = obj_str(o, "sender", NULL);
	ver = cJSON_GetObjectItemCaseSensitive(o, "sender_verified");
	if (!m->sender) {
		m->sender = obj_str(o, "from_handle", NULL);
		ver = cJSON_GetObjectItemCaseSensitive(o, "from_verified");
	}
	m->verified = cJSON_IsTrue(ver);
	return RX_MESSAGE;
}

enum rx_type rx_parse(const char *json, size_t len, struct rx *m)
{
	const cJSON *code;
	cJSON *root;

	memset(m, 0, sizeof(*m));
	m->seq = -1;
	/* Presence dominates stream traffic while subscribers join: skip it unparsed. */
	if (has_prefix(json, len, "{\"type\":\"presence\"") ||
	    has_prefix(json, len, "{\"type\":\"rename\"") ||
	    has_prefix(json, len, "{\"type\":\"locked\"")) {
		m->type = RX_OTHER;
		return RX_OTHER;
	}
	root = cJSON_ParseWithLength(json, len);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		m->type = RX_BAD;
		return RX_BAD;
	}
	const char *type = obj_str(root, "type", NULL);

	if (!type || strcmp(type, "message") == 0) {
		rx_from_obj(root, m);
		m->root = root;
		return RX_MESSAGE;
	}
	m->root = root;
	if (strcmp(type, "ready") == 0) {
		const cJSON *ls = cJSON_GetObjectItemCaseSensitive(root, "last_seq");

		m->type = RX_READY;
		m->seq = cJSON_IsNumber(ls) ? (int64_t)ls->valuedouble : -1;
		return RX_READY;
	}
	if (strcmp(type, "error") == 0) {
		m->type = RX_ERROR;
		code = cJSON_GetObjectItemCaseSensitive(root, "code");
		m->code = cJSON_IsNumber(code) ? (long)code->valuedouble : 0;
		m->error = obj_str(root, "error", NULL);
		return RX_ERROR;
	}
	cJSON_Delete(root);
	m->root = NULL;
	m->type = RX_OTHER;
	return RX_OTHER;
}

void rx_free(struct rx *m)
{
	cJSON_Delete(m->root);
	m->root = NULL;
}

int rx_open_room(const unsigned char key[32], const struct rx *m, struct payload *p)
{
	char *plain = NULL;
	size_t n = 0;
	int rc;

	if (!m->ct || !m->nonce ||
	    env_room_open(key, m->ct, m->ct_len, m->nonce, m->nonce_len, &plain, &n) < 0)
		return -1;
	rc = payload_parse(plain, n, p) < 0 ? -2 : 0;
	free(plain);
	return rc;
}

int rx_open_dm(const unsigned char box_sk[32], const struct rx *m, struct payload *p)
{
	char *plain = NULL;
	size_t n = 0;
	int rc;

	if (!m->ct || !m->nonce || !m->eph ||
	    env_dm_open(box_sk, m->ct, m->ct_len, m->nonce, m->nonce_len, m->eph, m->eph_len,
			&plain, &n) < 0)
		return -1;
	rc = payload_parse(plain, n, p) < 0 ? -2 : 0;
	free(plain);
	return rc;
}

/* ---- outcome cache ---- */

struct rxslot {
	char *data;	/* copy of the event bytes, NULL when empty */
	size_t len;
	uint32_t room;
	struct rx_outcome o;
};

struct rxcache {
	struct rxslot *slots;
	size_t mask;
	unsigned char key[crypto_shorthash_KEYBYTES];
};

struct rxcache *rxcache_new(size_t slots)
{
	struct rxcache *c = calloc(1, sizeof(*c));
	size_t n = 1;

	while (n < slots && n < ((size_t)1 << 24))
		n <<= 1;
	if (!c)
		return NULL;
	c->slots = calloc(n, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	crypto_shorthash_keygen(c->key);
	return c;
}

void rxcache_free(struct rxcache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i <= c->mask; i++)
		free(c->slots[i].data);
	free(c->slots);
	free(c);
}

static struct rxslot *rxcache_slot(struct rxcache *c, uint32_t room, const char *data, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)data, len, c->key);
	memcpy(&v, h, sizeof(v));
	return &c->slots[(v ^ ((uint64_t)room * 0x9E3779B97F4A7C15ull)) & c->mask];
}

bool rxcache_get(struct rxcache *c, uint32_t room, const char *data, size_t len,
		 struct rx_outcome *out)
{
	struct rxslot *s = rxcache_slot(c, room, data, len);

	if (!s->data || s->room != room || s->len != len || memcmp(s->data, data, len) != 0)
		return false;
	*out = s->o;
	return true;
}

void rxcache_put(struct rxcache *c, uint32_t room, const char *data, size_t len,
		 const struct rx_outcome *o)
{
	struct rxslot *s = rxcache_slot(c, room, data, len);
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return; /* the cache is an optimisation only */
	memcpy(copy, data, len);
	free(s->data);
	s->data = copy;
	s->len = len;
	s->room = room;
	s->o = *o;
}

enum rx_type rx_outcome_of(const unsigned char key[32], const char *json, size_t len,
			   struct rx_outcome *o)
{
	struct rx m;
	enum rx_type t = rx_parse(json, len, &m);

	memset(o, 0, sizeof(*o));
	if (t != RX_MESSAGE) {
		rx_free(&m);
		return t;
	}
	o->seq = m.seq;
	o->verified = m.verified;
	if (m.sender)
		snprintf(o->label, sizeof(o->label), "%s", m.sender);
	o->open = rx_open_room(key, &m, &o->p);
	rx_free(&m);
	return RX_MESSAGE;
}
