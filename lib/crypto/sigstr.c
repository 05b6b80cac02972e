#include "crypto/sigstr.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "crypto/hash.h"

/* Appends into a fixed caller buffer; once something does not fit, err sticks. */
struct sigstr_buf {
	char *out;
	size_t cap, len;
	bool err;
};

static void sb_put(struct sigstr_buf *b, const char *s, size_t n)
{
	if (b->err || n == 0)
		return;
	/* keep one byte for the NUL */
	if (b->cap == 0 || n > b->cap - 1 - b->len) {
		b->err = true;
		return;
	}
	memcpy(b->out + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sigstr_buf *b, const char *s)
{
	sb_put(b, s ? s : "", s ? strlen(s) : 0);
}

static void sb_i64(struct sigstr_buf *b, int64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRId64, v);

	sb_put(b, num, (size_t)n);
}

static int sb_finish(struct sigstr_buf *b)
{
	if (b->cap == 0 || b->err || b->len > (size_t)0x7fffffff)
		return -1;
	b->out[b->len] = '\0';
	return (int)b->len;
}

int sigstr_register(char *out, size_t cap, const char *handle, size_t handle_len, int64_t ts,
		    const char *box_pub, size_t box_pub_len, const char *sign_pub,
		    size_t sign_pub_len)
{
	struct sigstr_buf b = { out, cap, 0, false };

	sb_str(&b, "register ");
	sb_put(&b, handle, handle_len);
	sb_str(&b, " ");
	sb_i64(&b, ts);
	sb_str(&b, " ");
	sb_put(&b, box_pub, box_pub_len);
	sb_str(&b, " ");
	sb_put(&b, sign_pub, sign_pub_len);
	return sb_finish(&b);
}

int sigstr_request(char *out, size_t cap, const char *method, const char *target, int64_t ts,
		   const char *nonce, size_t nonce_len)
{
	struct sigstr_buf b = { out, cap, 0, false };

	sb_str(&b, method);
	sb_str(&b, " ");
	sb_str(&b, target);
	sb_str(&b, " ");
	sb_i64(&b, ts);
	sb_str(&b, " ");
	sb_put(&b, nonce, nonce_len);
	return sb_finish(&b);
}

int sigstr_room_msg(char *out, size_t cap, const char *room_id, int64_t sender_ts,
		    const char *sender_nonce, size_t sender_nonce_len, const char *ciphertext,
		    size_t ct_len)
{
	struct sigstr_buf b = { out, cap, 0, false };
	char hex[65];

	crypto_sha256_hex(ciphertext, ct_len, hex);
	sb_str(&b, "room-msg ");
	sb_str(&b, room_id);
	sb_str(&b, " ");
	sb_i64(&b, sender_ts);
	sb_str(&b, " ");
	sb_put(&b, sender_nonce, sender_nonce_len);
	sb_str(&b, " ");
	sb_put(&b, hex, CRYPTO_SHA256_HEX_LEN);
	return sb_finish(&b);
}

void sigstr_dm_hash(const char *ciphertext, size_t ct_len, const char *nonce, size_t nonce_len,
		    const char *sender_eph_pub, size_t eph_len, char out[65])
{
	struct crypto_sha256 h;

	crypto_sha256_begin(&h);
	crypto_sha256_update(&h, ciphertext, ct_len);
	crypto_sha256_update(&h, "|", 1);
	crypto_sha256_update(&h, nonce, nonce_len);
	crypto_sha256_update(&h, "|", 1);
	crypto_sha256_update(&h, sender_eph_pub, eph_len);
	crypto_sha256_final_hex(&h, out);
}

int sigstr_dm(char *out, size_t cap, const char *to_handle, const char *from_handle,
	      size_t from_handle_len, int64_t from_ts, const char *ciphertext, size_t ct_len,
	      const char *nonce, size_t nonce_len, const char *sender_eph_pub, size_t eph_len)
{
	struct sigstr_buf b = { out, cap, 0, false };
	char hex[65];

	sigstr_dm_hash(ciphertext, ct_len, nonce, nonce_len, sender_eph_pub, eph_len, hex);
	sb_str(&b, "dm ");
	sb_str(&b, to_handle);
	sb_str(&b, " ");
	sb_put(&b, from_handle, from_handle_len);
	sb_str(&b, " ");
	sb_i64(&b, from_ts);
	sb_str(&b, " ");
	sb_put(&b, hex, CRYPTO_SHA256_HEX_LEN);
	return sb_finish(&b);
}
