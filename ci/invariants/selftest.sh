#!/usr/bin/env bash
# selftest.sh — prove that every invariant check can fail: run each
# ci/invariants/inv-NN-*.sh with --self-test, which plants that invariant's violations in a
# scratch copy (of the sources, the objects or the binary) and succeeds only if its checks
# catch every one (spec/invariants.md: "a test that passes with the feature removed is a
# defect").
#
#   ci/invariants/selftest.sh [BUILD_DIR]       (default: build)
#
# One scratch copy of the sources and one scratch relay build are shared by all scripts
# (SEALROOM_INV_SCRATCH); each plant is applied, built incrementally, checked and undone.
# Prints every script's self-test lines, then "selftest: N scripts passed, N failed".
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup selftest "$@"

echo "selftest: scratch copy of the sources, relay build"
if ! inv_scratch; then
	echo "selftest: FAIL cannot build the scratch tree"
	exit 1
fi
export SEALROOM_INV_SCRATCH=$INV_TMP/scratch
ok=0
bad=0
for s in "$INV_DIR"/inv-[0-9][0-9]-*.sh; do
	if "$s" --self-test "$INV_BUILD"; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
		echo "selftest: FAIL $(basename "$s") --self-test"
	fi
done
echo "selftest: $ok scripts passed, $bad failed"
[ $bad -eq 0 ]
