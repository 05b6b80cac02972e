#include "scen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/http.h"
#include "crypto/envelope.h"
#include "crypto/ids.h"
#include "crypto/sigstr.h"
#include "proto/clock.h"
#include "proto/json.h"

int scen_rooms_new(uint32_t n, char (**ids)[65], unsigned char (**keys)[32])
{
	char (*i)[65] = calloc(n ? n : 1, sizeof(*i));
	unsigned char (*k)[32] = calloc(n ? n : 1, sizeof(*k));

	if (!i || !k) {
		free(i);
		free(k);
		return -1;
	}
	for (uint32_t r = 0; r < n; r++) {
		crypto_random_id(i[r], 10, NULL); /* CRYPTO-1: browser-style 10-character ids */
		env_room_key_new(k[r]);
	}
	*ids = i;
	*keys = k;
	return 0;
}

char (*scen_labels(uint32_t n, const char *prefix))[72]
{
	char (*l)[72] = calloc(n ? n : 1, sizeof(*l));

	for (uint32_t i = 0; l && i < n; i++)
		snprintf(l[i], sizeof(l[i]), "%s%u", prefix, i);
	return l;
}

struct crypto_identity *scen_identities(uint32_t n, const char *prefix)
{
	struct crypto_identity *ids = calloc(n ? n : 1, sizeof(*ids));
	char run[7], h[40];

	if (!ids)
		return NULL;
	/* VAL-2: ^[a-z0-9][a-z0-9_-]{1,31}$ */
	crypto_random_id(run, 6, "abcdefghijklmnopqrstuvwxyz0123456789");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(h, sizeof(h), "%s%s-%u", prefix, run, i);
		if (strlen(h) > CRYPTO_HANDLE_MAX || crypto_identity_new(&ids[i], h) < 0) {
			free(ids);
			return NULL;
		}
	}
	return ids;
}

char (*scen_signed_labels(const struct crypto_identity *ids, uint32_t n))[72]
{
	char (*l)[72] = calloc(n ? n : 1, sizeof(*l));

	for (uint32_t i = 0; l && i < n; i++)
		snprintf(l[i], sizeof(l[i]), "@%s", ids[i].handle); /* ROOM-14 */
	return l;
}

int scen_register(struct result *r, const struct soak_opts *o, const struct crypto_identity *ids,
		  uint32_t n)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	struct http_client *c = http_client_new(srcips_pick(&o->ips, 0));
	char url[600], str[256], sig[89];
	int rc = 0;

	if (!c) {
		result_fail(r, "out of memory");
		return -1;
	}
	snprintf(url, sizeof(url), "%s/api/identity/register", o->base);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const struct crypto_identity *id = &ids[i];
		int64_t ts = clock_now_ms();
		struct http_resp resp;
		struct jw w;
		char *body;
		size_t len;
		int sl;

		/* SIG-1: "register <handle> <register_ts> <box_pub> <sign_pub>" */
		sl = sigstr_register(str, sizeof(str), id->handle, strlen(id->handle), ts,
				     id->box_pub_b64, strlen(id->box_pub_b64), id->sign_pub_b64,
				     strlen(id->sign_pub_b64));
		if (sl < 0 || crypto_sign_b64(id, str, (size_t)sl, sig) < 0) {
			result_fail(r, "cannot sign the registration of %s", id->handle);
			rc = -1;
			break;
		}
		jw_init(&w, 512, 4096);
		jw_obj(&w);
		jw_key(&w, "handle");
		jw_cstr(&w, id->handle);
		jw_key(&w, "box_pub");
		jw_cstr(&w, id->box_pub_b64);
		jw_key(&w, "sign_pub");
		jw_cstr(&w, id->sign_pub_b64);
		jw_key(&w, "register_ts");
		jw_int(&w, ts);
		jw_key(&w, "register_sig");
		jw_cstr(&w, sig);
		jw_obj_end(&w);
		body = jw_take(&w, &len);
		if (!body || http_do(c, "POST", url, hdrs, body, len, (long)(o->timeout_s * 1000),
				     &resp) < 0) {
			result_fail(r, "register %s: %s", id->handle,
				    body ? http_client_error(c) : "out of memory");
			rc = -1;
		} else {
			/* ID-REG-15: 201 for a new handle. (CLIENT-7 also accepts 409, but a taken
			 * handle would not carry our keys.) */
			if (resp.status != 201) {
				result_fail(r, "register %s answered %ld %.200s", id->handle,
					    resp.status, resp.body ? resp.body : "");
				rc = -1;
			}
			http_resp_free(&resp);
		}
		free(body);
	}
	http_client_free(c);
	return rc;
}

int scen_probe(struct result *r, const struct soak_opts *o)
{
	struct http_client *c = http_client_new(srcips_pick(&o->ips, 0));
	int64_t deadline = clock_mono_ms() + SCEN_PROBE_MS;
	struct http_resp resp;
	char url[600];
	int rc = -1, got;

	if (!c) {
		result_fail(r, "out of memory");
		return -1;
	}
	snprintf(url, sizeof(url), "%s/api/health", o->base);
	/* A relay started a moment ago may not accept yet: retry transport errors briefly. */
	while ((got = http_do(c, "GET", url, NULL, NULL, 0, SCEN_PROBE_MS, &resp)) < 0 &&
	       clock_mono_ms() < deadline)
		usleep(50 * 1000);
	if (got < 0) {
		result_fail(r, "relay not reachable at %s: %s", o->base, http_client_error(c));
	} else {
		if (resp.status == 200)
			rc = 0;
		else
			result_fail(r, "GET /api/health answered %ld", resp.status);
		http_resp_free(&resp);
	}
	http_client_free(c);
	return rc;
}

bool scen_drain(struct ticker *tk, const char *name, uint64_t (*get)(void *ud), void *ud,
		uint64_t want, int64_t deadline_ms)
{
	uint64_t got;

	while ((got = get(ud)) < want && clock_mono_ms() < deadline_ms) {
		ticker_maybe(tk, name, "delivered %llu/%llu", (unsigned long long)got,
			     (unsigned long long)want);
		usleep(2000);
	}
	return get(ud) >= want;
}

double scen_secs(int64_t from_ns, int64_t to_ns)
{
	double s = (double)(to_ns - from_ns) / 1e9;

	return s < 1e-6 ? 1e-6 : s;
}
