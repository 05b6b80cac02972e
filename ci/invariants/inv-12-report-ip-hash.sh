#!/usr/bin/env bash
# inv-12-report-ip-hash.sh — INV-12: bug-report IPs are stored only as a truncated salted hash
# (RPT-3: the first 12 hex of SHA-256(ip + "|" + salt), salt BUGS_IP_SALT or random per
# start; spec/invariants.md).
#
#   ci/invariants/inv-12-report-ip-hash.sh [--self-test] [BUILD_DIR]
#
# Running relay (invdrive inv12), BUGS_LOG in its sandbox: a report from 127.0.0.1 with
# X-Forwarded-For 203.0.113.9 (so the client IP is 203.0.113.9, IP-1) is written with
# ip_hash = first 12 hex of SHA-256("203.0.113.9|s") under BUGS_IP_SALT=s, which is not the
# unsalted hash; the log line holds no IPv4 address; without BUGS_IP_SALT two relay starts
# hash the same IP differently (a random salt per start).
#
# Self-test plant: a scratch relay that hashes the IP without its salt.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 12 "$@"

inv_need_build
if [ $INV_SELF = 0 ]; then
	inv_drive inv12 "$INV_BUILD/relay/sealroom-relay"
	inv_summary
fi

if inv_scratch; then
	inv_plant relay/report.c 's/\n[^\n]*_update\(&h, b->salt, strlen\(b->salt\)\);//' &&
		inv_expect_fail "a relay hashing report IPs without the salt (scratch tree, report.c)" \
			inv_drive inv12 "$(inv_scratch_relay)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
