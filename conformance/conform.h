/* conform — internals of sealroom-conform, the conformance runner any relay can be tested
 * with (DESIGN.md "Conformance runner contract", PROTOCOL.md §0 profiles).
 *
 * Layout: runner.c selects and runs cases and writes the reports; rules.c is the checked
 * table of every PROTOCOL.md rule ID and the coverage map; util.c holds the helpers cases use
 * (HTTP, SSE, WebSocket, sealed rooms, identities, checks); cases_<area>.c hold the cases of
 * one PROTOCOL.md area each, as a table of struct conf_case.
 *
 * A case talks to the relay only over the network and assumes nothing beyond PROTOCOL.md.
 * It records checks with conf_check() and friends; a failed check is graded by the case's
 * level, whether the checked behaviour is (sealroom)-marked, the profile and --strict
 * (conf_grade). Each case gets its own fake client IP (sent as X-Forwarded-For, which IP-1/
 * IP-2 honour from a loopback peer) and its own random room ids, so cases are independent of
 * each other and may run concurrently (CF_SLOW cases run in background threads).
 *
 * Threads: a struct conf_run belongs to the thread running its case. struct conf_ctx is
 * read-only while cases run, apart from its atomic counters and the output mutex.
 */
#ifndef SEALROOM_CONFORM_H
#define SEALROOM_CONFORM_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "client/buf.h"
#include "client/http.h"
#include "client/sse.h"
#include "client/ws.h"
#include "crypto/identity.h"

#define CONF_VERSION "0.1.0"

enum conf_level { CONF_MUST, CONF_SHOULD, CONF_MAY, CONF_INFO_LEVEL };

/* Ordered by severity: a case's verdict is the worst of its failed checks. */
enum conf_verdict {
	CONF_PASS,
	CONF_INFORMATIONAL,
	CONF_UNIMPLEMENTED,
	CONF_NONSTRICT,
	CONF_FAIL,
};

enum conf_profile { CONF_COMPAT, CONF_SEALROOM };

struct conf_run;

/* Case flags. */
#define CF_SR	   0x01 /* every check is (sealroom)-marked: NON-STRICT in compat */
#define CF_FEATURE 0x02 /* ... and is an optional feature: UNIMPLEMENTED in compat */
#define CF_SLOW	   0x04 /* waits on relay timers: runs in a background thread */
#define CF_LATE	   0x08 /* drains shared budgets: runs after the other foreground cases */
#define CF_LOCAL   0x10 /* needs no relay (checks the runner's own crypto) */
#define CF_EXCLUSIVE 0x20 /* changes relay-wide state (fills a global cap): runs alone, last */

struct conf_case {
	const char *id;	   /* stable, "<area>.<name>" */
	const char *rules; /* space-separated PROTOCOL.md rule IDs it checks */
	enum conf_level level;
	unsigned flags;
	const char *title; /* one line: what it checks */
	void (*fn)(struct conf_run *r);
};

/* Check flags: how one failed check is graded (see conf_grade). */
#define CK_SR	   0x01 /* this aspect is (sealroom)-marked */
#define CK_FEATURE 0x02 /* an optional feature: UNIMPLEMENTED instead of NON-STRICT in compat */
#define CK_SHOULD  0x04 /* a SHOULD inside a MUST case */
#define CK_MAY	   0x08 /* a MAY: never worse than INFORMATIONAL */

struct conf_opts {
	char base[256];		/* "http://host:port", no trailing slash */
	char host[128];
	int port;
	enum conf_profile profile;
	bool strict;
	bool list, coverage, verbose, long_cases, use_xff;
	double timeout_scale;
	const char *only, *skip;	/* comma-separated globs, or NULL */
	const char *json_path, *junit_path, *spec_path, *protocol_path;
	bool prefer_spec_file;
	/* What the relay under test was configured with (defaults: PROTOCOL.md). */
	long keepalive_ms, grace_ms, janitor_ms;
	long rl_cap, global_rl_cap;
	double rl_refill, global_rl_refill;
	long rl_probe_max;		/* exhaust buckets only up to this many requests */
	long stream_cap, waiter_cap, room_waiters_max, dm_waiters_max;
	long recent_max, inbox_max, json_body_max, ws_max_payload, listeners_max;
	long rooms_max, cursors_max;
	const char *metrics_token, *admin_token;
	const char *relay_log, *state_dir, *bugs_log, *relay_bin;
	char **source_ips;		/* --source-ips A-B expanded; NULL-terminated */
	int n_source_ips;
};

struct conf_ctx {
	struct conf_opts o;
	struct jschema *spec;
	char spec_source[300];		/* where the schemas came from (reported) */
	atomic_uint ip_counter;		/* fake client IPs handed out */
	atomic_uint src_counter;	/* --source-ips rotation */
	unsigned ip_octet;		/* second octet of this run's fake IPs */
	pthread_mutex_t out_lock;	/* human output */
};

/* One case execution. */
struct conf_run {
	struct conf_ctx *ctx;
	const struct conf_case *cs;
	enum conf_verdict verdict;
	struct cbuf detail;		/* lines for the report, "\n"-terminated */
	struct cbuf notes;		/* INFO lines kept even for PASS (counts, latencies) */
	char ip[48];			/* this case's fake client IP ("" = send none) */
	const char *src;		/* local address to bind, or NULL */
	struct http_client *http;
	char last_sent[400];
	char last_got[400];
	long req_timeout_ms;		/* conf_req timeout; 0: 20 s scaled */
	bool expect_refusals;		/* conf_sse does not wait out a per-IP stream cap */
	int64_t t0_ms;
	int64_t dur_ms;
	int checks, failed;
};

/* ---- registry (cases.c) ---------------------------------------------------------------- */

/* All case tables, each terminated by an entry with id NULL. */
extern const struct conf_case *const conf_case_tables[];

/* ---- rules (rules.c) ------------------------------------------------------------------- */

struct conf_rule {
	const char *id;
	enum conf_level level; /* a row without a Level column counts as MUST (check tables) */
	bool sr;	       /* the row or its section is (sealroom)-marked */
};

extern const struct conf_rule conf_rules[];
extern const size_t conf_n_rules;

const struct conf_rule *conf_rule_find(const char *id, size_t len);

/* True iff the space-separated list rules contains id as a whole token. */
bool conf_rules_cite(const char *rules, const char *id);

/* --coverage: print the rule -> cases map to stdout; cross-check PROTOCOL.md when
 * protocol_path names a readable file. Returns 0, or 1 if a MUST rule has no case, a case
 * cites an unknown rule, or PROTOCOL.md has a rule ID / level the table does not know. */
int conf_coverage(const char *protocol_path);

/* Parse PROTOCOL.md text: calls cb for every rule row with its ID, level and (sealroom)
 * marking, using the same classification as the checked table. Returns the rows seen. */
size_t conf_protocol_rules(const char *text, void (*cb)(void *ud, const char *id,
							enum conf_level lvl, bool sr),
			   void *ud);

/* ---- runner (runner.c) ----------------------------------------------------------------- */

const char *conf_verdict_name(enum conf_verdict v);
const char *conf_level_name(enum conf_level l);

/* How one failed check of a case is graded (PROTOCOL.md §0; DESIGN.md verdicts). */
enum conf_verdict conf_grade(enum conf_level case_level, unsigned case_flags, unsigned ck,
			     enum conf_profile profile, bool strict);

/* Shell-style glob (*, ?, [..]) match of a case id. */
bool conf_glob(const char *pat, const char *s);

/* True iff id is selected by the comma-separated --only / --skip glob lists (NULL: all /
 * none). */
bool conf_selected(const char *id, const char *only, const char *skip);

/* Run the selected cases and write the reports; returns the process exit status. */
int conf_run_all(struct conf_ctx *ctx);

/* ---- helpers for cases (util.c) -------------------------------------------------------- */

/* Scaled duration: ms * --timeout-scale. */
long conf_ms(const struct conf_run *r, long ms);

/* Record a check. ok: passed. ck: CK_* grading flags. fmt: what the rule requires, starting
 * with the rule ID ("HTTP-4: an unknown path answers 404"). On failure the case verdict is
 * raised (conf_grade) and a detail block (expected / sent / got) is added using the last
 * exchange. Returns ok. */
bool conf_check(struct conf_run *r, bool ok, unsigned ck, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Raise the verdict to INFORMATIONAL / UNIMPLEMENTED with a reason (e.g. "not observable
 * remotely: pass --relay-log"). */
void conf_info(struct conf_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conf_unimplemented(struct conf_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A note kept in the report whatever the verdict (counts, latencies). */
void conf_note(struct conf_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Describe the last exchange for non-HTTP checks (SSE events, WS frames). */
void conf_sent(struct conf_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conf_got(struct conf_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fresh fake client IP ("10.X.Y.Z", never loopback) for cases needing several. */
void conf_fresh_ip(struct conf_run *r, char out[48]);

/* Continue as another client: a fresh XFF IP, or the next --source-ips address. False when
 * neither is available (all requests then share one client IP). */
bool conf_new_client(struct conf_run *r);

/* Without per-case client IPs the shared buckets may be partly drained by earlier cases:
 * wait until they are full again (cap/refill seconds). A no-op with per-case IPs. */
void conf_settle_buckets(struct conf_run *r);

/* A fresh random room id: "CF" + 10 characters of the CRYPTO-1 alphabet. */
void conf_room_id(char out[16]);

/* A fresh random strict handle (VAL-2): "cf" + 12 lower-case letters and digits. */
void conf_handle(char out[16]);

struct conf_resp {
	long status;
	char *body;
	size_t body_len;
	char *headers;
	size_t headers_len;
	cJSON *json;	/* the body parsed as any JSON value, or NULL */
	int64_t ms;	/* round-trip time */
};

/* One HTTP request to base + target (target = path and raw query, sent as given). hdrs:
 * NULL or NULL-terminated "Name: value" lines; "X-Forwarded-For: <run ip>" is added unless
 * the run has no ip or hdrs has its own. Returns 0 (any status), or -1 on a transport error,
 * which is recorded as a failed check. The caller frees out with conf_resp_free. */
int conf_req(struct conf_run *r, const char *method, const char *target, const char *const *hdrs,
	     const char *body, size_t len, struct conf_resp *out);
int conf_get(struct conf_run *r, const char *target, struct conf_resp *out);
/* POST with Content-Type: application/json. */
int conf_post_json(struct conf_run *r, const char *target, const char *json, struct conf_resp *out);
void conf_resp_free(struct conf_resp *resp);

/* First header name of resp (trimmed, NUL-terminated into buf), or NULL. */
const char *conf_header(const struct conf_resp *resp, const char *name, char *buf, size_t cap);

/* Expectations on a response; each is one conf_check with a readable rule text. */
bool conf_expect_status(struct conf_run *r, const struct conf_resp *resp, long status,
			unsigned ck, const char *rule);
/* status and the exact body {"error":"<text>"} (the body check graded with ck_body). */
bool conf_expect_error(struct conf_run *r, const struct conf_resp *resp, long status,
		       const char *text, unsigned ck_status, unsigned ck_body, const char *rule);
bool conf_expect_body(struct conf_run *r, const struct conf_resp *resp, const char *exact,
		      unsigned ck, const char *rule);
/* Retry-After: secs exactly, or absent when secs < 0. */
bool conf_expect_retry_after(struct conf_run *r, const struct conf_resp *resp, int secs,
			     unsigned ck, const char *rule);
/* Validate resp->json against the spec's response schema of (path_tpl, method, status);
 * graded CK_SR (the schemas are sealroom's contract) unless ck says otherwise. */
bool conf_expect_schema(struct conf_run *r, const struct conf_resp *resp, const char *path_tpl,
			const char *method, unsigned ck, const char *rule);
/* Validate a JSON value against #/components/schemas/<component>. */
bool conf_expect_component(struct conf_run *r, const cJSON *v, const char *component, unsigned ck,
			   const char *rule);
/* The object's keys, comma-separated, into buf (for key-order checks). */
const char *conf_keys(const cJSON *obj, char *buf, size_t cap);

/* JSON accessors (NULL-safe). */
int64_t conf_jint(const cJSON *o, const char *key, int64_t dflt);
const char *conf_jstr(const cJSON *o, const char *key);
bool conf_jhas(const cJSON *o, const char *key);
/* True iff o[key] is a string equal to want. */
bool conf_jeq(const cJSON *o, const char *key, const char *want);
/* The string printed compactly (caller frees), or NULL. */
char *conf_jprint(const cJSON *v);

/* GET target and parse the body; NULL on transport error or non-JSON. *status (may be
 * NULL) receives the status. Caller deletes. */
cJSON *conf_get_json(struct conf_run *r, const char *target, long *status);

/* ---- rooms and sealed messages ---- */

/* §0 UUID: lower-case RFC 4122 v4, 36 characters. */
bool conf_is_uuid(const char *s);

enum conf_msg_kind {
	CONF_MSG_STORED, /* ROOM-17: /transcript, /wait (a leading "type" MAY appear) */
	CONF_MSG_EVENT,	 /* ROOM-18: SSE/WS message event */
	CONF_MSG_CLAIM,	 /* ROOM-19: claim envelope */
};

/* Check a message object's keys (exact order per kind, optional ttl_ms/reply_to, no _bytes
 * (ROOM-20, sealroom)), value types and its spec schema. Returns true if all passed. */
bool conf_check_message(struct conf_run *r, const cJSON *m, enum conf_msg_kind kind);

struct conf_room {
	char id[16];
	unsigned char key[32];
};

void conf_room_new(struct conf_room *room);

/* A message body {"ciphertext":..,"nonce":..<extra>} sealed with the room key (CRYPTO-2);
 * extra is NULL or ",\"k\":v..." appended inside the object. Caller frees. NULL on failure. */
char *conf_sealed_body(const struct conf_room *room, const char *plain, const char *extra);

/* POST a sealed message; returns its seq, or -1 after recording a failed check (rule text
 * "ROOM-POST-10"). id (may be NULL) receives the message id. Rate limits (429) are retried
 * with a fresh client IP (XFF or --source-ips) or after Retry-After. */
int64_t conf_post_msg(struct conf_run *r, const struct conf_room *room, const char *plain,
		      const char *extra, char id[40]);

/* Post n sealed messages "<prefix><i>" (i from 0); stores seqs when seqs != NULL. Returns
 * the number accepted (n on success). */
long conf_post_many(struct conf_run *r, const struct conf_room *room, long n, const char *prefix,
		    int64_t *seqs);

/* Open a room message object (ciphertext/nonce) with the room key; returns the malloc'd
 * plaintext or NULL when it does not decrypt. */
char *conf_open_msg(const struct conf_room *room, const cJSON *msg);

/* ---- identities and signatures ---- */

/* A fresh identity with a random handle, registered (POST /api/identity/register, SIG-1).
 * Returns 0, or -1 after recording a failed check ("ID-REG-15: registration answers 201"). */
int conf_register(struct conf_run *r, struct crypto_identity *id);

/* The register body for id with ts and an optional meta JSON value (NULL: none). */
char *conf_register_body(const struct crypto_identity *id, int64_t ts, const char *meta);

/* "Authorization: SafeBot ts=..,n=..,sig=.." for (method, target) signed now. */
void conf_auth_header(const struct crypto_identity *id, const char *method, const char *target,
		      char out[320]);

/* Extra fields of a signed room message (SIG-3) for ciphertext ct in room room_id:
 * ",\"sender_handle\":..,\"sender_ts\":..,\"sender_nonce\":..,\"sender_sig\":.." into out. */
int conf_sign_fields(const struct crypto_identity *id, const char *room_id, const char *ct,
		     int64_t ts, const char *nonce, char *out, size_t cap);

/* A signed sealed body in one go (fresh nonce, ts now); extra appended. Caller frees. */
char *conf_signed_body(const struct crypto_identity *id, const struct conf_room *room,
		       const char *plain, const char *extra);

/* The body of a DM to `to` (CRYPTO-4), signed by `from` (SIG-4) unless from is NULL; extra
 * is appended inside the object. Caller frees. */
char *conf_dm_body(const struct crypto_identity *to, const struct crypto_identity *from,
		   const char *plain, const char *extra);

/* Send a DM; returns its seq, or -1 after recording a failed check. */
int64_t conf_dm_send(struct conf_run *r, const struct crypto_identity *to,
		     const struct crypto_identity *from, const char *plain, char id[40]);

/* ---- streams ---- */

/* Open an SSE stream to base + target with the run's client IP header; NULL on a transport
 * failure (recorded). Without per-case client IPs, streams that earlier cases closed count
 * against the shared per-IP cap until the relay notices (at its next keepalive, SSE-11): a
 * 429 stream-cap answer is then retried for up to a keepalive period, unless the case set
 * r->expect_refusals (cap cases). */
struct sse_conn *conf_sse(struct conf_run *r, const char *target, const char *const *hdrs);

/* Next non-comment event within timeout_ms, parsed as JSON into *out (caller deletes).
 * Returns 1, 0 on timeout, -1 when the stream ended or the event was not JSON (*out NULL).
 * raw (may be NULL) receives the event copy (caller frees with sse_event_copy_free). */
int conf_sse_json(struct sse_conn *c, long timeout_ms, cJSON **out, struct sse_event_copy *raw);

/* Read events until one has "type" == type; returns it (caller deletes) or NULL on timeout /
 * end. Message events skipped meanwhile are counted into *skipped when not NULL. */
cJSON *conf_sse_until(struct sse_conn *c, const char *type, long timeout_ms, int *skipped);

/* Open a WebSocket to base + target (ws://) with the run's client IP header. Returns 0 and
 * *out, or a ws_connect() error (status/body as ws_connect; recorded unless quiet). */
int conf_ws(struct conf_run *r, const char *target, const char *const *hdrs, struct ws_conn **out,
	    int *status, char **body);

/* Next text/binary frame within timeout_ms parsed as JSON. Returns 1 (*out set), 0 timeout,
 * -1 on close/error (*close_code set when not NULL). */
int conf_ws_json(struct ws_conn *ws, long timeout_ms, cJSON **out, int *close_code);

/* Read frames until "type" == type; returns it or NULL. */
cJSON *conf_ws_until(struct ws_conn *ws, const char *type, long timeout_ms, int *skipped);

/* A raw TCP connection to the relay (for requests libcurl will not send, and for parking
 * many long-polls). -1 on failure (recorded). */
int conf_raw_connect(struct conf_run *r);

struct raw_resp;

/* Send "GET target HTTP/1.1" with the run's IP (or ip when not NULL) on a new raw connection
 * and return the fd without reading (a parked long-poll); -1 on failure. */
int conf_raw_park(struct conf_run *r, const char *method, const char *target, const char *ip,
		  const char *extra_headers);

/* True iff nothing arrives on fd within ms and it stays open: a request sent on it is
 * parked (an immediate answer would arrive within a few ms). A negative check over a window:
 * the only way to see that a long-poll has parked from outside. Bytes that do arrive are
 * kept for conf_raw_read. */
bool conf_raw_parked(int fd, long ms);

/* Watch n parked raw requests for ms: every fd that receives a response within the window
 * is read; answered[i] is set, and the first answer is kept in *first (raw_resp_free) when
 * first is not NULL. Returns how many were answered. Used for cap checks, where which of
 * several concurrent requests is refused is not ordered, but how many is. */
int conf_raw_answers(const int *fds, int n, long ms, bool *answered, struct raw_resp *first);

/* Read one response on a raw fd within timeout_ms; 0 or -1. */
int conf_raw_read(int fd, long timeout_ms, struct raw_resp *out);

/* Send len raw bytes on a new connection and read one response within timeout_ms (head: the
 * request was HEAD). Returns 0 with *out (raw_resp_free), or -1 (recorded as a failed check
 * with the rule text rule). The send may fail half way (a relay may answer early and close);
 * only the response counts. */
int conf_raw_exchange(struct conf_run *r, const char *req, size_t len, bool head, long timeout_ms,
		      struct raw_resp *out, const char *rule);

/* GET /api/health answers 200: the relay survived what the case sent. */
bool conf_expect_healthy(struct conf_run *r, const char *rule);

/* True iff the base URL's host is a loopback address (XFF is honoured only from loopback). */
bool conf_base_is_loopback(const struct conf_ctx *ctx);

/* Now in ms (monotonic) and wall clock. */
int64_t conf_now(void);

/* Case tables, one per PROTOCOL.md area. */
extern const struct conf_case conf_cases_http[], conf_cases_log[], conf_cases_inv[],
	conf_cases_ip[], conf_cases_val[], conf_cases_b64[], conf_cases_room[],
	conf_cases_room_post[], conf_cases_status[], conf_cases_transcript[], conf_cases_wait[],
	conf_cases_listen[], conf_cases_sse[], conf_cases_ws[], conf_cases_pres[],
	conf_cases_dialogue[], conf_cases_id[], conf_cases_auth[], conf_cases_sig[],
	conf_cases_replay[], conf_cases_dm[], conf_cases_claim[], conf_cases_ack[],
	conf_cases_rl[], conf_cases_cap[], conf_cases_meta[], conf_cases_met[], conf_cases_rpt[],
	conf_cases_ops[], conf_cases_crypto[];

#endif
