#!/usr/bin/env bash
# Stage 30: the conformance runner against a freshly started sealroom-relay (issue #5).
#
#   ci/stages/30-conformance.sh      (run by `make test` from the repo root after the build)
#
# 1. Coverage: greps ../shared/PROTOCOL.md for every rule ID and level on its own (awk, not the
#    runner's parser) and fails if a MUST or SHOULD rule has no case in
#    `sealroom-conform --coverage`, which itself cross-checks its rule table.
# 2. The full suite with --profile sealroom against a relay with raised rate limits and short
#    test timers; reports kept as build/conformance.json and build/conformance.xml.
# 3. The bucket and cap cases (rl.*, cap.*, ip.*) against a relay with the default limits.
# 4. room.cap against a relay started with a small ROOMS_MAX.
# Every relay is stopped with SIGTERM and must exit 0. Prints what it runs; exits 1 on any
# failure.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
build=${BUILD:-build}
relay=$build/relay/sealroom-relay
conform=$build/conformance/sealroom-conform
protocol=${SEALROOM_PROTOCOL:-$root/../shared/PROTOCOL.md}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")
failed=0
pid=

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL $*"
	failed=1
}

for f in "$relay" "$conform"; do
	[ -x "$f" ] || { echo "FAIL $f is missing: build first (cmake --build $build)"; exit 1; }
done

# ---- 1. coverage ----------------------------------------------------------------------------
echo "--- coverage: $conform --coverage --protocol $protocol"
if [ ! -f "$protocol" ]; then
	fail "PROTOCOL.md not found at $protocol (set SEALROOM_PROTOCOL)"
else
	"$conform" --coverage --protocol "$protocol" >"$tmp/coverage.txt"
	rc=$?
	grep -E '^(ERROR|note|coverage:)' "$tmp/coverage.txt"
	[ $rc -eq 0 ] || fail "sealroom-conform --coverage exited $rc"
	# Independent grep of PROTOCOL.md: every rule row "| ID | ..." with its level. A row of a
	# table with a Level column has that level; rows of other tables are MUST, except the
	# informative CLIENT-* rows (§19).
	awk -F'|' '
		/^\| *ID *\|/ { hdr = $3; gsub(/ /, "", hdr); next }
		/^\| *[A-Z][A-Z0-9]*(-[A-Z]+)*-[0-9]+[a-z]? *\|/ {
			id = $2; gsub(/ /, "", id); lv = $3; gsub(/^ +| +$/, "", lv)
			if (hdr == "Level") { if (lv ~ /^MUST/) l = "MUST"; else if (lv ~ /^SHOULD/) l = "SHOULD"; else next }
			else if (id ~ /^CLIENT-/) next
			else l = "MUST"
			print id, l
		}' "$protocol" >"$tmp/required.txt"
	total=$(wc -l <"$tmp/required.txt")
	missing=0
	while read -r id level; do
		line=$(grep -E "^$id +" "$tmp/coverage.txt" | head -1)
		if [ -z "$line" ]; then
			echo "FAIL $level rule $id (PROTOCOL.md) is unknown to sealroom-conform"
			missing=$((missing + 1))
		elif printf '%s\n' "$line" | grep -q '(no case)'; then
			echo "FAIL $level rule $id has no conformance case"
			missing=$((missing + 1))
		fi
	done <"$tmp/required.txt"
	echo "coverage grep: $total MUST/SHOULD rules in PROTOCOL.md, $missing without a case"
	[ "$missing" -eq 0 ] || fail "$missing MUST/SHOULD rule(s) without a case"
fi

# ---- relay fixture ---------------------------------------------------------------------------
# start_relay LOG ARGS...: start the relay on a free port, wait for its listening line.
start_relay() {
	local log=$1
	shift
	"$relay" --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
	pid=$!
	base=
	for _ in $(seq 1 200); do
		base=$(grep -ao 'sealroom listening on http://127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/.* on //')
		[ -n "$base" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$base" ]; then
		echo "FAIL relay did not start: $*"
		tail -n 20 "$log" | sed 's/^/  relay: /'
		pid=
		return 1
	fi
	echo "relay pid $pid at $base: $relay $*"
}

stop_relay() {
	local rc
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	if [ $rc -ne 0 ]; then
		fail "relay exited with status $rc after SIGTERM"
	else
		echo "relay stopped cleanly (exit 0)"
	fi
}

run_conform() {
	echo "+ sealroom-conform $*"
	"$conform" "$@"
}

knobs=(--keepalive-ms 1000 --evict-grace-ms 2000 --janitor-interval-ms 500)
rknobs=(--keepalive-ms 1000 --grace-ms 2000 --janitor-ms 500)

# ---- 2. full suite, raised limits --------------------------------------------------------------
echo "--- full suite (--profile sealroom), raised rate limits"
mkdir -p "$tmp/state"
if start_relay "$tmp/relay.log" "${knobs[@]}" \
	--room-rl-cap 100000 --room-rl-refill-per-sec 100000 \
	--global-rl-cap 200000 --global-rl-refill-per-sec 200000 \
	--metrics-token ci-metrics --identity-admin-token ci-admin \
	--state-dir "$tmp/state" --bugs-log "$tmp/bugs.log"; then
	run_conform --base "$base" --profile sealroom "${rknobs[@]}" \
		--rl-cap 100000 --rl-refill 100000 --global-rl-cap 200000 --global-rl-refill 200000 \
		--metrics-token ci-metrics --admin-token ci-admin --relay-log "$tmp/relay.log" \
		--state-dir "$tmp/state" --bugs-log "$tmp/bugs.log" --relay-bin "$relay" \
		--json "$build/conformance.json" --junit "$build/conformance.xml"
	rc=$?
	[ $rc -eq 0 ] || fail "full suite: sealroom-conform exited $rc (reports: $build/conformance.json, $build/conformance.xml)"
	stop_relay
else
	failed=1
fi

# ---- 3. rate limits and caps at their defaults -------------------------------------------------
echo "--- rl.*, cap.*, ip.* against the default limits"
if start_relay "$tmp/relay-limits.log" "${knobs[@]}"; then
	run_conform --base "$base" --profile sealroom "${rknobs[@]}" --only 'rl.*,cap.*,ip.*' \
		--json "$build/conformance-limits.json"
	rc=$?
	[ $rc -eq 0 ] || fail "limits suite: sealroom-conform exited $rc"
	stop_relay
else
	failed=1
fi

# ---- 4. the room cap ---------------------------------------------------------------------------
echo "--- room.cap against ROOMS_MAX=40"
if start_relay "$tmp/relay-rooms.log" "${knobs[@]}" --rooms-max 40; then
	run_conform --base "$base" --profile sealroom "${rknobs[@]}" --only 'room.cap' --rooms-max 40
	rc=$?
	[ $rc -eq 0 ] || fail "room cap: sealroom-conform exited $rc"
	stop_relay
else
	failed=1
fi

if [ $failed -eq 0 ]; then
	echo "conformance stage: ok"
else
	echo "conformance stage: FAILED"
fi
exit $failed
