/* fuzz_request — whole requests through the relay's real request handling, in process
 * (relay/http.h http_inproc: no sockets): routing, query parsing, body limits and JSON
 * intake, and every non-streaming handler, against one long-lived relay state (rooms,
 * buffers and rate-limit buckets persist between inputs, as in a running relay).
 *
 * Input: "METHOD\nTARGET\n" then up to 16 "Name: value\n" header lines, an empty line, and
 * the body (everything after it). Properties of every answer (HTTP-18/19, HDR-1): a status
 * line with the returned status, Content-Length equal to the body length, the security
 * headers, and for errors a JSON body starting with {"error": (HTTP-19).
 *
 * The relay is set up as main.c does (relay_open), with limits suited to fuzzing: no access log (stdout
 * stays quiet), rate limits that never run dry, few rooms and short buffers so memory stays
 * bounded over millions of inputs. The streaming/parking routes answer 500 in process. */
#include "fuzz.h"

#include "config.h"
#include "crypto/crypto.h"
#include "http.h"
#include "relay.h"

#define MAX_HEADERS 16

static struct relay relay;

static void relay_setup(void)
{
	char arg0[] = "fuzz_request";
	char *argv[] = {arg0, NULL};
	char *envp[] = {NULL};
	if (config_load(&relay.cfg, 1, argv, envp, stdout, stderr) != 0)
		abort();
	relay.cfg.access_log = 0;
	relay.cfg.rooms_max = 64;
	relay.cfg.recent_max = 32;
	relay.cfg.room_rl_cap = 1000000000;
	relay.cfg.room_rl_refill_per_sec = 1e9;
	relay.cfg.global_rl_cap = 1000000000;
	relay.cfg.global_rl_refill_per_sec = 1e9;
	snprintf(relay.cfg.metrics_token, sizeof(relay.cfg.metrics_token), "fuzz");
	if (crypto_init() < 0)
		abort();
	relay.cfg.identities_max = 256;
	relay.cfg.register_sig_seen_max = 4096;
	relay.cfg.inbox_sig_seen_max = 4096;
	relay.cfg.room_sig_seen_max = 4096;
	relay.cfg.dm_env_seen_max = 4096;
	/* As main.c, minus the threads: no STATE_DIR (identities in memory), no BUGS_LOG
	 * (reports discarded), no janitor, no flusher. */
	if (relay_open(&relay, stderr) < 0)
		abort();
}

static const char *find(const char *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle));
}

static void check_response(int status, const char *resp, size_t len)
{
	FUZZ_CHECK(status >= 200 && status <= 599);
	FUZZ_CHECK(resp != NULL && len > 12);
	char line[16];
	int k = snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	FUZZ_CHECK(memcmp(resp, line, (size_t)k) == 0);
	const char *end = find(resp, len, "\r\n\r\n");
	FUZZ_CHECK(end != NULL);
	size_t hlen = (size_t)(end - resp) + 4, blen = len - hlen;
	FUZZ_CHECK(find(resp, hlen, "\r\nX-Content-Type-Options: nosniff\r\n") != NULL); /* HDR-1 */
	FUZZ_CHECK(find(resp, hlen, "\r\nX-Frame-Options: DENY\r\n") != NULL);
	const char *cl = find(resp, hlen, "\r\nContent-Length: ");
	FUZZ_CHECK(cl != NULL); /* HTTP-18 */
	FUZZ_CHECK(strtoull(cl + 18, NULL, 10) == blen);
	if (status >= 400)
		FUZZ_CHECK(blen >= 10 && memcmp(end + 4, "{\"error\":\"", 10) == 0); /* HTTP-19 */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!relay.hub)
		relay_setup();
	struct fz f = fz_init(data, size);
	size_t mlen, tlen, len;
	const char *s = fz_until(&f, '\n', &mlen);
	char *method = fz_strdup(s, mlen);
	s = fz_until(&f, '\n', &tlen);
	char *target = fz_strdup(s, tlen);
	char *headers[MAX_HEADERS + 1];
	size_t nh = 0;
	while (f.n && nh < MAX_HEADERS) {
		s = fz_until(&f, '\n', &len);
		if (len == 0)
			break;
		headers[nh++] = fz_strdup(s, len);
	}
	headers[nh] = NULL;
	const char *body = fz_rest(&f, &len);
	char *b = fz_memdup(body, len);

	char *resp = NULL;
	size_t resp_len = 0;
	int st = http_inproc(&relay, method, target, (const char *const *)headers, b, len, &resp,
			     &resp_len);
	if (st >= 0)
		check_response(st, resp, resp_len);
	free(resp);
	free(b);
	for (size_t i = 0; i < nh; i++)
		free(headers[i]);
	free(target);
	free(method);
	return 0;
}
