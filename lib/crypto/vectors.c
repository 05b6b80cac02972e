#include "crypto/vectors.h"

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/auth.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/ids.h"
#include "crypto/roomurl.h"
#include "crypto/sigstr.h"

/* ---- the cases (first entries: exactly the §18.1 worked examples) ---------------------- */

struct vx_room_url {
	const char *base, *room_id;
	unsigned key_first;
	bool signed_room;
};

static const struct vx_room_url vx_room_urls[] = {
	{ "https://relay.example", "ROOM2345", 0x80, false },
	{ "http://127.0.0.1:3000", "k7_Qz-2x", 0xe0, true },
};

struct vx_room {
	const char *room_id;
	unsigned key_first, nonce_first;
	const char *plain;
	const char *signer; /* SIG-3 */
	int64_t sender_ts;
	unsigned sender_nonce_first;
};

static const struct vx_room vx_rooms[] = {
	{ "ROOM2345", 0x80, 0xa0, "hello, room", "alice", VECTORS_TS, 0xc0 },
	{ "ROOM2345", 0x80, 0xb8, "", "bob", VECTORS_TS + 1, 0x01 },
	{ "k7_Qz-2x", 0xe0, 0x18,
	  "h\xc3\xa9llo \xf0\x9f\x8c\x8d \xe2\x80\x94 {\"safebot_react_v1\":1}\n", "alice",
	  VECTORS_TS + 2, 0x13 },
};

struct vx_req {
	const char *signer, *prefix, *method, *target;
	int64_t ts;
	unsigned nonce_first;
};

static const struct vx_req vx_reqs[] = {
	{ "alice", "SafeBot", "GET", "/api/dm/alice/inbox/wait?after=0&timeout=30", VECTORS_TS,
	  0xd0 },
	{ "alice", "SafeBot", "POST", "/api/rooms/ROOM2345/claim?timeout=30&ttl_ms=120000",
	  VECTORS_TS, 0xe0 },
	{ "bob", "Bot2Bot", "DELETE", "/api/dm/@bob/inbox/3f0c1b9e-2d4a-4c6b-9a8e-1f2e3d4c5b6a",
	  VECTORS_TS + 3, 0xf0 },
	{ "bob", "SafeBot", "POST", "/api/rooms/ROOM2345/ack", VECTORS_TS + 4, 0x42 },
};

struct vx_dm {
	const char *from, *to;
	unsigned eph_first, nonce_first;
	const char *plain;
	int64_t from_ts;
};

static const struct vx_dm vx_dms[] = {
	{ "alice", "bob", 0x10, 0x30, "hi bob", VECTORS_TS },
	{ "bob", "alice", 0x50, 0x70, "hi alice \xf0\x9f\x91\x8b", VECTORS_TS + 5 },
};

struct vx_reg {
	const char *signer;
	int64_t ts;
};

static const struct vx_reg vx_regs[] = {
	{ "alice", VECTORS_TS },
	{ "bob", VECTORS_TS + 6 },
};

#define VX_N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ----------------------------------------------------------------------------- */

void vectors_seq(unsigned char *out, size_t n, unsigned first)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)((first + i) & 0xff);
}

int vectors_identity(struct crypto_identity *id, const char *handle)
{
	unsigned char ed[32], x[32];
	unsigned first;

	if (!handle)
		return -1;
	if (strcmp(handle, "alice") == 0)
		first = 0x00;
	else if (strcmp(handle, "bob") == 0)
		first = 0x40;
	else
		return -1;
	vectors_seq(ed, sizeof(ed), first);
	vectors_seq(x, sizeof(x), first + 0x20);
	return crypto_identity_from_seeds(id, handle, ed, x);
}

/* A builder that remembers the first failure, so the case code stays linear. */
struct vx {
	bool err;
};

static cJSON *vx_obj(struct vx *v, cJSON *arr)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		v->err = true;
		return NULL;
	}
	return o;
}

static cJSON *vx_arr(struct vx *v, cJSON *obj, const char *key)
{
	cJSON *a = cJSON_AddArrayToObject(obj, key);

	if (!a)
		v->err = true;
	return a;
}

static void vx_str(struct vx *v, cJSON *obj, const char *key, const char *val)
{
	if (!obj || !val || !cJSON_AddStringToObject(obj, key, val))
		v->err = true;
}

static void vx_num(struct vx *v, cJSON *obj, const char *key, int64_t val)
{
	/* every value here is far below 2^53, so the double is exact */
	if (!obj || !cJSON_AddNumberToObject(obj, key, (double)val))
		v->err = true;
}

static void vx_bool(struct vx *v, cJSON *obj, const char *key, bool val)
{
	if (!obj || !cJSON_AddBoolToObject(obj, key, val))
		v->err = true;
}

static void vx_hex(struct vx *v, cJSON *obj, const char *key, const unsigned char *b, size_t n)
{
	char hex[2 * 64 + 1];

	if (n > 64) {
		v->err = true;
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), b, n);
	vx_str(v, obj, key, hex);
}

/* The CRYPTO-5 form of bytes first..first+17: base64url, 24 characters. */
static void vx_nonce(char out[25], unsigned first)
{
	unsigned char b[18];

	vectors_seq(b, sizeof(b), first);
	crypto_b64_encode(out, 25, b, sizeof(b), CRYPTO_B64_URL);
}

static void vx_ident(struct vx *v, struct crypto_identity *id, const char *handle)
{
	if (vectors_identity(id, handle) != 0)
		v->err = true;
}

/* Sign msg as id, add it as key (standard padded base64). */
static void vx_sig(struct vx *v, cJSON *obj, const char *key, const struct crypto_identity *id,
		   const char *msg, size_t n)
{
	char sig[CRYPTO_SIG_B64_LEN + 1];

	if (crypto_sign_b64(id, msg, n, sig) != 0) {
		v->err = true;
		return;
	}
	vx_str(v, obj, key, sig);
}

/* Pretty printer: two-space indent, one member per line, "key": value. Leaves are printed by
 * cJSON itself (UTF-8 kept raw, only quotes, backslashes and controls escaped). */
struct vx_out {
	char *buf;
	size_t len, cap;
	bool err;
};

static void vx_put(struct vx_out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (n >= o->cap - o->len) {
		size_t ncap = (o->cap + n) * 2 + 256;
		char *nb = realloc(o->buf, ncap);

		if (!nb) {
			o->err = true;
			return;
		}
		o->buf = nb;
		o->cap = ncap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void vx_puts(struct vx_out *o, const char *s)
{
	vx_put(o, s, strlen(s));
}

static void vx_indent(struct vx_out *o, int depth)
{
	vx_puts(o, "\n");
	for (int i = 0; i < depth; i++)
		vx_puts(o, "  ");
}

static void vx_leaf(struct vx_out *o, const cJSON *item)
{
	char *t = cJSON_PrintUnformatted(item);

	if (!t) {
		o->err = true;
		return;
	}
	vx_puts(o, t);
	cJSON_free(t);
}

static void vx_print(struct vx_out *o, const cJSON *item, int depth)
{
	bool obj = cJSON_IsObject(item);
	const cJSON *c;

	if (!obj && !cJSON_IsArray(item)) {
		vx_leaf(o, item);
		return;
	}
	vx_puts(o, obj ? "{" : "[");
	for (c = item->child; c; c = c->next) {
		vx_indent(o, depth + 1);
		if (obj) {
			cJSON *k = cJSON_CreateString(c->string);

			if (!k) {
				o->err = true;
				return;
			}
			vx_leaf(o, k);
			cJSON_Delete(k);
			vx_puts(o, ": ");
		}
		vx_print(o, c, depth + 1);
		if (c->next)
			vx_puts(o, ",");
	}
	if (item->child)
		vx_indent(o, depth);
	vx_puts(o, obj ? "}" : "]");
}

/* The whole document plus a trailing newline, in a fresh malloc'd string; frees root. */
static char *vx_finish(struct vx *v, cJSON *root)
{
	struct vx_out o = { NULL, 0, 0, false };

	if (!v->err) {
		vx_print(&o, root, 0);
		vx_puts(&o, "\n");
	}
	cJSON_Delete(root);
	if (v->err || o.err) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}

/* ---- crypto.json --------------------------------------------------------------------- */

static void vx_identities(struct vx *v, cJSON *root)
{
	static const char *const who[] = { "alice", "bob" };
	cJSON *arr = vx_arr(v, root, "identities");

	for (size_t i = 0; arr && i < VX_N(who); i++) {
		struct crypto_identity id;
		cJSON *o = vx_obj(v, arr);

		vx_ident(v, &id, who[i]);
		if (v->err)
			return;
		vx_str(v, o, "rule", "CRYPTO-3");
		vx_str(v, o, "handle", id.handle);
		vx_hex(v, o, "ed25519_seed_hex", id.sign_sk, 32);
		vx_hex(v, o, "x25519_secret_hex", id.box_sk, 32);
		vx_str(v, o, "sign_pub", id.sign_pub_b64);
		vx_str(v, o, "box_pub", id.box_pub_b64);
		sodium_memzero(&id, sizeof(id));
	}
}

static void vx_urls(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "room_urls");

	for (size_t i = 0; arr && i < VX_N(vx_room_urls); i++) {
		const struct vx_room_url *c = &vx_room_urls[i];
		unsigned char key[32];
		char url[256], api[256], k[ROOMURL_KEY_B64_LEN + 1];
		cJSON *o = vx_obj(v, arr);

		vectors_seq(key, sizeof(key), c->key_first);
		if (roomurl_format(url, sizeof(url), c->base, c->room_id, key, c->signed_room) < 0)
			v->err = true;
		if (roomurl_api_base(api, sizeof(api), c->base, c->room_id) < 0)
			v->err = true;
		if (crypto_b64_encode(k, sizeof(k), key, sizeof(key), CRYPTO_B64_URL_NOPAD) < 0)
			v->err = true;
		if (v->err)
			return;
		vx_str(v, o, "rule", "CRYPTO-1");
		vx_str(v, o, "base", c->base);
		vx_str(v, o, "room_id", c->room_id);
		vx_hex(v, o, "key_hex", key, sizeof(key));
		vx_bool(v, o, "signed", c->signed_room);
		vx_str(v, o, "k", k);
		vx_str(v, o, "url", url);
		vx_str(v, o, "api_base", api);
	}
}

/* Seal room case c; *ct is malloc'd on success. */
static int vx_seal_room(const struct vx_room *c, char **ct, char nonce_b64[33])
{
	unsigned char key[32], nonce[24];

	vectors_seq(key, sizeof(key), c->key_first);
	vectors_seq(nonce, sizeof(nonce), c->nonce_first);
	return env_room_seal_with_nonce(key, nonce, c->plain, strlen(c->plain), ct, nonce_b64);
}

static void vx_room_msgs(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "room_messages");

	for (size_t i = 0; arr && i < VX_N(vx_rooms); i++) {
		const struct vx_room *c = &vx_rooms[i];
		unsigned char key[32], nonce[24];
		char nonce_b64[33], *ct = NULL;
		cJSON *o = vx_obj(v, arr);

		vectors_seq(key, sizeof(key), c->key_first);
		vectors_seq(nonce, sizeof(nonce), c->nonce_first);
		if (vx_seal_room(c, &ct, nonce_b64) != 0) {
			v->err = true;
			return;
		}
		vx_str(v, o, "rule", "CRYPTO-2");
		vx_str(v, o, "room_id", c->room_id);
		vx_hex(v, o, "key_hex", key, sizeof(key));
		vx_hex(v, o, "nonce_hex", nonce, sizeof(nonce));
		vx_str(v, o, "plaintext", c->plain);
		vx_str(v, o, "nonce", nonce_b64);
		vx_str(v, o, "ciphertext", ct);
		vx_num(v, o, "ciphertext_bytes", (int64_t)(strlen(c->plain) + ENV_TAG_BYTES));
		free(ct);
	}
}

/* Seal DM case c with the recipient's box key; outputs as env_dm_seal_with. */
static int vx_seal_dm(const struct vx_dm *c, char **ct, char nonce_b64[33], char eph_b64[45])
{
	struct crypto_identity to;
	unsigned char eph[32], nonce[24];
	int rc;

	if (vectors_identity(&to, c->to) != 0)
		return -1;
	vectors_seq(eph, sizeof(eph), c->eph_first);
	vectors_seq(nonce, sizeof(nonce), c->nonce_first);
	rc = env_dm_seal_with(to.box_pk, eph, nonce, c->plain, strlen(c->plain), ct, nonce_b64,
			      eph_b64);
	sodium_memzero(&to, sizeof(to));
	return rc;
}

static void vx_dm_envs(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "dms");

	for (size_t i = 0; arr && i < VX_N(vx_dms); i++) {
		const struct vx_dm *c = &vx_dms[i];
		struct crypto_identity to;
		unsigned char eph[32], nonce[24];
		char nonce_b64[33], eph_b64[45], *ct = NULL;
		cJSON *o = vx_obj(v, arr);

		vx_ident(v, &to, c->to);
		if (v->err || vx_seal_dm(c, &ct, nonce_b64, eph_b64) != 0) {
			v->err = true;
			return;
		}
		vectors_seq(eph, sizeof(eph), c->eph_first);
		vectors_seq(nonce, sizeof(nonce), c->nonce_first);
		vx_str(v, o, "rule", "CRYPTO-4");
		vx_str(v, o, "from", c->from);
		vx_str(v, o, "to", c->to);
		vx_str(v, o, "recipient_box_pub", to.box_pub_b64);
		vx_hex(v, o, "eph_secret_hex", eph, sizeof(eph));
		vx_hex(v, o, "nonce_hex", nonce, sizeof(nonce));
		vx_str(v, o, "plaintext", c->plain);
		vx_str(v, o, "sender_eph_pub", eph_b64);
		vx_str(v, o, "nonce", nonce_b64);
		vx_str(v, o, "ciphertext", ct);
		vx_num(v, o, "ciphertext_bytes", (int64_t)(strlen(c->plain) + ENV_TAG_BYTES));
		free(ct);
		sodium_memzero(&to, sizeof(to));
	}
}

char *vectors_crypto_json(void)
{
	struct vx v = { false };
	cJSON *root = cJSON_CreateObject();

	if (!root)
		return NULL;
	vx_str(&v, root, "description",
	       "sealroom client-side crypto vectors (PROTOCOL.md §18, CRYPTO-1..4). The first "
	       "entry of each list is the §18.1 worked example. *_hex values are raw bytes; "
	       "every other key is the exact wire string. Generated by sealroom-mkvectors; do "
	       "not edit.");
	vx_identities(&v, root);
	vx_urls(&v, root);
	vx_room_msgs(&v, root);
	vx_dm_envs(&v, root);
	return vx_finish(&v, root);
}

/* ---- signed_strings.json --------------------------------------------------------------- */

static void vx_registers(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "register");

	for (size_t i = 0; arr && i < VX_N(vx_regs); i++) {
		const struct vx_reg *c = &vx_regs[i];
		struct crypto_identity id;
		char s[256];
		int n;
		cJSON *o = vx_obj(v, arr);

		vx_ident(v, &id, c->signer);
		if (v->err)
			return;
		n = sigstr_register(s, sizeof(s), id.handle, strlen(id.handle), c->ts,
				    id.box_pub_b64, strlen(id.box_pub_b64), id.sign_pub_b64,
				    strlen(id.sign_pub_b64));
		if (n < 0)
			v->err = true;
		vx_str(v, o, "rule", "SIG-1");
		vx_str(v, o, "signer", id.handle);
		vx_str(v, o, "handle", id.handle);
		vx_num(v, o, "register_ts", c->ts);
		vx_str(v, o, "box_pub", id.box_pub_b64);
		vx_str(v, o, "sign_pub", id.sign_pub_b64);
		vx_str(v, o, "string", s);
		if (n >= 0)
			vx_sig(v, o, "register_sig", &id, s, (size_t)n);
		sodium_memzero(&id, sizeof(id));
	}
}

static void vx_requests(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "request");

	for (size_t i = 0; arr && i < VX_N(vx_reqs); i++) {
		const struct vx_req *c = &vx_reqs[i];
		struct crypto_identity id;
		char nonce[CRYPTO_NONCE_B64URL_LEN + 1], s[256], hdr[256];
		const char *sig;
		int n;
		cJSON *o = vx_obj(v, arr);

		vx_ident(v, &id, c->signer);
		if (v->err)
			return;
		vx_nonce(nonce, c->nonce_first);
		n = sigstr_request(s, sizeof(s), c->method, c->target, c->ts, nonce, strlen(nonce));
		if (n < 0 || auth_header_with_nonce(hdr, sizeof(hdr), &id, c->method, c->target,
						    c->ts, c->prefix, nonce) < 0) {
			v->err = true;
			return;
		}
		sig = strstr(hdr, ",sig=");
		vx_str(v, o, "rule", "SIG-2");
		vx_str(v, o, "signer", id.handle);
		vx_str(v, o, "sign_pub", id.sign_pub_b64);
		vx_str(v, o, "method", c->method);
		vx_str(v, o, "target", c->target);
		vx_num(v, o, "ts", c->ts);
		vx_str(v, o, "n", nonce);
		vx_str(v, o, "string", s);
		vx_str(v, o, "sig", sig ? sig + 5 : NULL);
		vx_str(v, o, "authorization", hdr);
		sodium_memzero(&id, sizeof(id));
	}
}

static void vx_room_sigs(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "room_msg");

	for (size_t i = 0; arr && i < VX_N(vx_rooms); i++) {
		const struct vx_room *c = &vx_rooms[i];
		struct crypto_identity id;
		char nonce[CRYPTO_NONCE_B64URL_LEN + 1], nonce_b64[33], hex[65], s[256], *ct = NULL;
		int n;
		cJSON *o = vx_obj(v, arr);

		vx_ident(v, &id, c->signer);
		if (v->err || vx_seal_room(c, &ct, nonce_b64) != 0) {
			v->err = true;
			return;
		}
		vx_nonce(nonce, c->sender_nonce_first);
		crypto_sha256_hex(ct, strlen(ct), hex);
		n = sigstr_room_msg(s, sizeof(s), c->room_id, c->sender_ts, nonce, strlen(nonce),
				    ct, strlen(ct));
		if (n < 0)
			v->err = true;
		vx_str(v, o, "rule", "SIG-3");
		vx_str(v, o, "signer", id.handle);
		vx_str(v, o, "sign_pub", id.sign_pub_b64);
		vx_str(v, o, "room_id", c->room_id);
		vx_num(v, o, "sender_ts", c->sender_ts);
		vx_str(v, o, "sender_nonce", nonce);
		vx_str(v, o, "ciphertext", ct);
		vx_str(v, o, "ciphertext_sha256", hex);
		vx_str(v, o, "string", s);
		if (n >= 0)
			vx_sig(v, o, "sender_sig", &id, s, (size_t)n);
		free(ct);
		sodium_memzero(&id, sizeof(id));
	}
}

static void vx_dm_sigs(struct vx *v, cJSON *root)
{
	cJSON *arr = vx_arr(v, root, "dm");

	for (size_t i = 0; arr && i < VX_N(vx_dms); i++) {
		const struct vx_dm *c = &vx_dms[i];
		struct crypto_identity id;
		char nonce_b64[33], eph_b64[45], hex[65], s[256], *ct = NULL, *input = NULL;
		size_t ilen;
		int n;
		cJSON *o = vx_obj(v, arr);

		vx_ident(v, &id, c->from);
		if (v->err || vx_seal_dm(c, &ct, nonce_b64, eph_b64) != 0) {
			v->err = true;
			return;
		}
		ilen = strlen(ct) + strlen(nonce_b64) + strlen(eph_b64) + 3;
		input = malloc(ilen);
		if (input)
			snprintf(input, ilen, "%s|%s|%s", ct, nonce_b64, eph_b64);
		sigstr_dm_hash(ct, strlen(ct), nonce_b64, strlen(nonce_b64), eph_b64,
			       strlen(eph_b64), hex);
		n = sigstr_dm(s, sizeof(s), c->to, id.handle, strlen(id.handle), c->from_ts, ct,
			      strlen(ct), nonce_b64, strlen(nonce_b64), eph_b64, strlen(eph_b64));
		if (n < 0)
			v->err = true;
		vx_str(v, o, "rule", "SIG-4");
		vx_str(v, o, "signer", id.handle);
		vx_str(v, o, "sign_pub", id.sign_pub_b64);
		vx_str(v, o, "to_handle", c->to);
		vx_str(v, o, "from_handle", id.handle);
		vx_num(v, o, "from_ts", c->from_ts);
		vx_str(v, o, "ciphertext", ct);
		vx_str(v, o, "nonce", nonce_b64);
		vx_str(v, o, "sender_eph_pub", eph_b64);
		vx_str(v, o, "hash_input", input);
		vx_str(v, o, "hash", hex);
		vx_str(v, o, "string", s);
		if (n >= 0)
			vx_sig(v, o, "from_sig", &id, s, (size_t)n);
		free(input);
		free(ct);
		sodium_memzero(&id, sizeof(id));
	}
}

char *vectors_signed_strings_json(void)
{
	struct vx v = { false };
	cJSON *root = cJSON_CreateObject();

	if (!root)
		return NULL;
	vx_str(&v, root, "description",
	       "sealroom signed-string vectors (PROTOCOL.md §11, SIG-1..4, §11.1 request auth), "
	       "Ed25519 with the §18.1 identities of crypto.json. The first entries are the §18.1 "
	       "worked examples. Generated by sealroom-mkvectors; do not edit.");
	vx_registers(&v, root);
	vx_requests(&v, root);
	vx_room_sigs(&v, root);
	vx_dm_sigs(&v, root);
	return vx_finish(&v, root);
}
