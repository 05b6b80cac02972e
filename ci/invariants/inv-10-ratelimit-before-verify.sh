#!/usr/bin/env bash
# inv-10-ratelimit-before-verify.sh — INV-10: on authenticated routes, rate limiting precedes
# Ed25519 verification (ROOM-POST-3 before -6, ID-REG-1 before -13, DM-1b before DM-2, DM-7c
# before -7d, CLAIM-1d before -1e; spec/invariants.md). Otherwise the relay is a free
# signature-verification oracle and a CPU amplifier.
#
#   ci/invariants/inv-10-ratelimit-before-verify.sh [--self-test] [BUILD_DIR]
#
# Running relay (invdrive inv10) with ROOM_RL_CAP=3 and no refill: for each of the seven
# authenticated routes, from its own client IP (X-Forwarded-For from loopback, IP-1), three
# requests with a wrong signature get 401, and the fourth — still wrongly signed — gets
# 429 rate limited with the route's Retry-After (1 or 5), never 401.
#
# Self-test plant: a scratch relay whose rate limiter never refuses (limits_take returns true),
# so wrong signatures keep getting 401.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 10 "$@"

inv_need_build
if [ $INV_SELF = 0 ]; then
	inv_drive inv10 "$INV_BUILD/relay/sealroom-relay"
	inv_summary
fi

if inv_scratch; then
	inv_plant relay/limits.c 's/(bool limits_take\([^)]*\)\s*\{)/$1\n\tif (relay)\n\t\treturn true;/' &&
		inv_expect_fail "a relay that checks signatures without charging the bucket (scratch tree, limits.c)" \
			inv_drive inv10 "$(inv_scratch_relay)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
