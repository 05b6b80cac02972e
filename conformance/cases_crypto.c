/* crypto.* — PROTOCOL.md §18: the runner's own client-side crypto against the §18.1 worked
 * examples (the runner MUST produce real sealed traffic). No relay needed (CF_LOCAL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conform.h"
#include "crypto/auth.h"
#include "crypto/envelope.h"
#include "crypto/hash.h"
#include "crypto/ids.h"
#include "crypto/identity.h"
#include "crypto/roomurl.h"
#include "crypto/sigstr.h"
#include "crypto/vectors.h"
#include "proto/valid.h"

#define TS VECTORS_TS

static void eq(struct conf_run *r, const char *got, const char *want, const char *rule)
{
	conf_got(r, "%s", got ? got : "(none)");
	conf_check(r, got && strcmp(got, want) == 0, 0, "%s = %s", rule, want);
}

/* CRYPTO-1..4, SIG-1..4: byte-exact against §18.1. */
static void c_vectors(struct conf_run *r)
{
	struct crypto_identity alice, bob;
	unsigned char key[32], nonce[24], eph[32], k2[32];
	char msg[512], sig[89], *ct = NULL, nb[33], ephb[45], url[256], base[128], rid[65], hdr[300];
	bool signed_room;

	if (vectors_identity(&alice, "alice") < 0 || vectors_identity(&bob, "bob") < 0) {
		conf_check(r, false, 0, "CRYPTO-3: the §18.1 identities can be derived");
		return;
	}
	eq(r, alice.sign_pub_b64, "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "CRYPTO-3: alice sign_pub");
	eq(r, alice.box_pub_b64, "NYBy1jZYgNGu6jKa35EhODhR7SGijjt16WXQ0s0WYlQ=", "CRYPTO-3: alice box_pub");
	eq(r, bob.box_pub_b64, "Z13VdO13iTELPS52gfN5C0ZsdzsVIf7PNld5WDcepS8=", "CRYPTO-3: bob box_pub");
	sigstr_register(msg, sizeof(msg), "alice", 5, TS, alice.box_pub_b64, 44, alice.sign_pub_b64, 44);
	crypto_sign_b64(&alice, msg, strlen(msg), sig);
	eq(r, sig, "VrO9FesEsommSr3cIeTHRdd1K14wYYo8XVyRdyEt/8R1t4fY6om0PlL829Snxy8uZbOn9q2cPu9GOixdwR4TDA==",
	   "SIG-1: register_sig");
	/* CRYPTO-1, CRYPTO-2, SIG-3 */
	vectors_seq(key, 32, 0x80);
	vectors_seq(nonce, 24, 0xa0);
	if (roomurl_format(url, sizeof(url), "https://relay.example", "ROOM2345", key, false) > 0)
		conf_check(r, strstr(url, "#k=gIGCg4SFhoeIiYqLjI2Oj5CRkpOUlZaXmJmam5ydnp8") != NULL, 0,
			   "CRYPTO-1: the room key in the fragment is base64url without padding");
	conf_check(r, roomurl_parse(url, base, sizeof(base), rid, k2, &signed_room) == 0 &&
			      !memcmp(k2, key, 32) && !strcmp(rid, "ROOM2345") && !signed_room,
		   0, "CRYPTO-1: the room URL parses back to its id and key");
	if (env_room_seal_with_nonce(key, nonce, "hello, room", 11, &ct, nb) == 0) {
		eq(r, nb, "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3", "CRYPTO-2: nonce");
		eq(r, ct, "QXxo8Nfc9Z7tcwadQvTx1VSPSzveGvK/31A/", "CRYPTO-2: ciphertext");
		sigstr_room_msg(msg, sizeof(msg), "ROOM2345", TS, "wMHCw8TFxsfIycrLzM3Oz9DR", 24, ct,
				strlen(ct));
		eq(r, msg, "room-msg ROOM2345 1767225600000 wMHCw8TFxsfIycrLzM3Oz9DR "
			   "aaf76bad40be65bdd276596a52a30c86f8bb421b3a4250b1152097e8b0fefdba",
		   "SIG-3: signed string");
		crypto_sign_b64(&alice, msg, strlen(msg), sig);
		eq(r, sig, "atujpONZ3h/xpe9ZV7oYHr4KKPisJh1ddW54UPtCng0axtdXs+69drujih7hz7dewbZTD+U0t4VhLa0FSWLiCw==",
		   "SIG-3: sender_sig");
		free(ct);
		ct = NULL;
	}
	/* SIG-2 */
	if (auth_header_with_nonce(hdr, sizeof(hdr), &alice, "GET",
				   "/api/dm/alice/inbox/wait?after=0&timeout=30", TS, "SafeBot",
				   "0NHS09TV1tfY2drb3N3e3-Dh") > 0)
		eq(r, hdr, "SafeBot ts=1767225600000,n=0NHS09TV1tfY2drb3N3e3-Dh,sig=WWFK86HaT0zZjb5ig4r1bl6Lh/Sy9e37pC/hGgzLovuv7D6sZFdX3KFzKcp/MG7d0SnISmwkL5g4UG/LWk17CA==",
		   "SIG-2: request auth header");
	/* CRYPTO-4, SIG-4 */
	vectors_seq(eph, 32, 0x10);
	vectors_seq(nonce, 24, 0x30);
	if (env_dm_seal_with(bob.box_pk, eph, nonce, "hi bob", 6, &ct, nb, ephb) == 0) {
		eq(r, ephb, "2J47rXlDfb7Z+ENBgwT0YP8Fx/6B/kqVd6gEy5Nn/2Y=", "CRYPTO-4: sender_eph_pub");
		eq(r, ct, "R2izO574GUTOdq3UAWZDBoKqoj+bJw==", "CRYPTO-4: ciphertext");
		sigstr_dm(msg, sizeof(msg), "bob", "alice", 5, TS, ct, strlen(ct), nb, strlen(nb), ephb,
			  strlen(ephb));
		eq(r, msg, "dm bob alice 1767225600000 "
			   "01ace9ae6345387986c9f3e3b59e70b0555f5370197b76fbd4cd2a57ab5b7e32",
		   "SIG-4: signed string");
		crypto_sign_b64(&alice, msg, strlen(msg), sig);
		eq(r, sig, "DyxBf6IENPgqWJhlRA40i1/GOnT0TCReQvAiSbdI+7ncXuxlZ+IT7ORu8ekFX3O/MF93X/cYSuV4EK/pJZm5Ag==",
		   "SIG-4: from_sig");
		free(ct);
	}
}

/* CRYPTO-5 (SHOULD): signature nonces are 18 random bytes in base64url. */
static void c_nonces(struct conf_run *r)
{
	char a[25], b[25];

	crypto_random_nonce_b64url(a);
	crypto_random_nonce_b64url(b);
	conf_got(r, "%s %s", a, b);
	conf_check(r, strlen(a) == 24 && val_nonce(a, 24) && strcmp(a, b) != 0 && !strchr(a, '+') &&
			      !strchr(a, '/') && !strchr(a, '='),
		   0, "CRYPTO-5: 24 base64url characters, fresh each time, passing VAL-6");
}

const struct conf_case conf_cases_crypto[] = {
	{ "crypto.vectors", "CRYPTO-1 CRYPTO-2 CRYPTO-3 CRYPTO-4 SIG-1 SIG-2 SIG-3 SIG-4", CONF_MUST,
	  CF_LOCAL, "the runner's own sealing and signing reproduce §18.1 byte for byte",
	  c_vectors },
	{ "crypto.nonces", "CRYPTO-5 VAL-6", CONF_SHOULD, CF_LOCAL,
	  "the runner's signature nonces are 18 random bytes in base64url", c_nonces },
	{ NULL, NULL, CONF_MUST, 0, NULL, NULL },
};
