#!/usr/bin/env bash
# Stage 10 of `make test` (ci/test.sh): the design-invariant checks of spec/invariants.md.
# Runs every ci/invariants/inv-NN-*.sh against the normal build (`build`), INV_JOBS at a time
# (default 4: the checks mostly wait on relays starting and stopping), printing each script's
# lines in order; then ci/invariants/selftest.sh, which shows every check failing on a planted
# violation. The stage fails if any check or self-test fails.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build}
jobs=${INV_JOBS:-4}
logs=$(mktemp -d "${TMPDIR:-/tmp}/inv-stage.XXXXXX")
trap 'rm -rf "$logs"' EXIT
# Build the relay and the driver once, before the parallel runs.
ci/invariants/inv-01-no-plaintext-io.sh --prepare "$build" || exit 1
scripts=(ci/invariants/inv-[0-9][0-9]-*.sh)
running=0
for s in "${scripts[@]}"; do
	( "$s" "$build" >"$logs/$(basename "$s").out" 2>&1; echo $? >"$logs/$(basename "$s").rc" ) &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
fail=0
for s in "${scripts[@]}"; do
	b=$(basename "$s")
	cat "$logs/$b.out"
	[ "$(cat "$logs/$b.rc" 2>/dev/null)" = 0 ] || fail=1
done
ci/invariants/selftest.sh "$build" || fail=1
exit $fail
