#!/usr/bin/env bash
# inv-04-log-redaction.sh — INV-4: the access log and the metrics contain no query strings,
# bodies, room ids, handles, message ids, IPs or key material (LOG-1..3, MET-3, MET-4;
# spec/invariants.md).
#
#   ci/invariants/inv-04-log-redaction.sh [--self-test] [BUILD_DIR]
#
# Running relay (invdrive inv04): every §2.1 route (plus /ws upgrades, bad JSON, unknown paths
# with queries, /room/ and /@ paths) is driven with marker room ids, handles, query values and
# bodies from X-Forwarded-For 203.0.113.77; then
#   - every access-log line matches LOG-1 and its path is LOG-2 collapsed, with no '?';
#   - stdout/stderr, GET /api/metrics and GET /metrics contain no marker, no message id
#     (UUID) and no IPv4 address (the LOG-5 start-up line excepted);
#   - every Prometheus line is a HELP/TYPE line or "sealroom_<name>[{class=...}] <integer>".
# The collapse function itself is fuzzed (fuzz/fuzz_accesslog.c) for escapes and prefixes.
#
# Self-test plant: a scratch relay whose access log writes the raw request target (with the
# query string) instead of the path.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 04 "$@"

inv_need_build
if [ $INV_SELF = 0 ]; then
	inv_drive inv04 "$INV_BUILD/relay/sealroom-relay"
	inv_summary
fi

if inv_scratch; then
	inv_plant relay/http.c 's/http_access_log\(relay, r->method, r->raw_uri\);/http_access_log(relay, r->method, r->target);/' &&
		inv_expect_fail "a relay logging the raw request target with its query (scratch tree, http.c)" \
			inv_drive inv04 "$(inv_scratch_relay)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
