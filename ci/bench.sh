#!/usr/bin/env bash
# `make bench`: every sealroom-soak scenario at its default size (DESIGN.md "Performance
# targets"), each run against a fresh relay started with raised limits and --access-log 0.
# The short scenarios run BENCH_REPEAT times and `bundle` keeps each metric's median (one run
# of `fanout` lasts 0.2 s: single runs are at the mercy of whatever else the box does). Writes
# one JSON per run plus bench.json (the bundle) into results/<UTC time>-<commit>/, then
# compares bench.json with soak/baseline.json. Exit status: 0 all runs met their exact counts
# and no regression, 1 otherwise.
#
# Environment:
#   BUILD=dir                 build directory (default build)
#   BENCH_ONLY="rooms dm"     run only these (names below)
#   BENCH_REPEAT=3            runs of each short scenario (the long ones run once)
#   BENCH_TOLERANCE=0.5       compare tolerance, and
#   BENCH_LATENCY_FLOOR_MS=5  latency increases smaller than this never count: calibrated on
#                             the shared 2-core dev box, where an unchanged relay passed and a
#                             relay pinned next to a CPU hog failed (soak/README.md); tighten
#                             both on a quiet machine
#   BENCH_SOAK_DURATION=60    seconds of the mixed soak
#   BENCH_UPDATE_BASELINE=1   copy bench.json to soak/baseline.json afterwards
#   BENCH_RELAY_WRAP="taskset -c 0"  command prefix for the relay (deliberate slowdowns)
#   BENCH_HOG=N               also run N busy loops pinned like the relay (a CPU hog)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
RELAY=$BUILD/relay/sealroom-relay
SOAK=$BUILD/soak/sealroom-soak
for b in "$RELAY" "$SOAK"; do
	[ -x "$b" ] || { echo "bench: $b not built (make build)"; exit 1; }
done
stamp=$(date -u +%Y%m%dT%H%M%SZ)-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
OUT=${BENCH_OUT:-results/$stamp}
TOL=${BENCH_TOLERANCE:-0.5}
FLOOR=${BENCH_LATENCY_FLOOR_MS:-5}
REPEAT=${BENCH_REPEAT:-3}
SOAK_DURATION=${BENCH_SOAK_DURATION:-60}
WRAP=${BENCH_RELAY_WRAP:-}
HOGS=${BENCH_HOG:-0}
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

RELAY_PID=
HOG_PIDS=()
# shellcheck disable=SC2317  # runs from the EXIT trap
cleanup() {
	[ -n "$RELAY_PID" ] && kill -KILL "$RELAY_PID" 2>/dev/null
	for h in "${HOG_PIDS[@]}"; do kill "$h" 2>/dev/null; done
}
trap cleanup EXIT

# relay_start LOG EXTRA-ARGS...: sets RELAY_PID and BASE.
relay_start() {
	local log=$1; shift
	rm -f "$log" # never read a previous run's "listening" line
	# shellcheck disable=SC2086
	$WRAP "$RELAY" --host 127.0.0.1 --port 0 --access-log 0 \
		--room-rl-cap 1000000000 --room-rl-refill-per-sec 1000000000 \
		--global-rl-cap 1000000000 --global-rl-refill-per-sec 1000000000 \
		--waiter-cap-per-ip 100000 "$@" >"$log" 2>&1 &
	RELAY_PID=$!
	local port=
	for _ in $(seq 1 400); do
		port=$(sed -n 's|^sealroom listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log")
		[ -n "$port" ] && break
		kill -0 "$RELAY_PID" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		echo "bench: relay did not start"; cat "$log"; return 1
	fi
	BASE=http://127.0.0.1:$port
	for _ in $(seq 1 "$HOGS"); do
		# shellcheck disable=SC2086
		$WRAP sh -c 'while :; do :; done' &
		HOG_PIDS+=($!)
	done
}

# relay_stop: SIGTERM, and the relay must exit 0 (DESIGN.md §10).
relay_stop() {
	local st=
	for h in "${HOG_PIDS[@]}"; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
	HOG_PIDS=()
	kill -TERM "$RELAY_PID"
	for _ in $(seq 1 600); do
		if ! kill -0 "$RELAY_PID" 2>/dev/null; then wait "$RELAY_PID"; st=$?; break; fi
		sleep 0.05
	done
	[ -z "$st" ] && kill -KILL "$RELAY_PID" 2>/dev/null
	RELAY_PID=
	[ "$st" = 0 ]
}

failed=0
# bench NAME RUNS "RELAY ARGS" SOAK-ARGS...: RUNS runs, each against a fresh relay.
bench() {
	local name=$1 runs=$2 rargs=$3 json; shift 3
	if [ -n "${BENCH_ONLY:-}" ] && ! [[ " $BENCH_ONLY " == *" $name "* ]]; then return; fi
	for i in $(seq 1 "$runs"); do
		json=$OUT/$name.json
		[ "$i" -gt 1 ] && json=$OUT/$name.run$i.json
		echo "==> $name ($i/$runs): sealroom-soak $*"
		# shellcheck disable=SC2086
		relay_start "$OUT/relay-$name.$i.log" $rargs || { failed=1; return; }
		"$SOAK" "$@" --base "$BASE" --relay-pid "$RELAY_PID" --name "$name" \
			--json "$json" || failed=1
		relay_stop || { echo "bench: relay for $name did not exit 0 on SIGTERM"; failed=1; }
	done
}

STREAMS="--stream-cap-per-ip 100000"
bench post "$REPEAT" "$STREAMS" post
bench rooms "$REPEAT" "$STREAMS" rooms
bench fanout "$REPEAT" "$STREAMS" fanout
bench fanout-open 1 "$STREAMS" fanout --rate 2
bench dialogue "$REPEAT" "$STREAMS" dialogue
bench rtt "$REPEAT" "$STREAMS" rtt
bench dm "$REPEAT" "$STREAMS --inbox-max 1000" dm
# The default per-IP stream cap (32) stays: 10,000 streams over 505 addresses is ~20 each.
bench connections 1 "--worker-threads 10300" connections --source-ips 127.0.0.2-127.0.1.250 \
	--timeout 120
bench soak 1 "$STREAMS" soak --duration "$SOAK_DURATION" --source-ips 127.0.0.2-127.0.0.100

shopt -s nullglob
files=()
for f in "$OUT"/*.json; do [ "$(basename "$f")" = bench.json ] || files+=("$f"); done
if [ ${#files[@]} -eq 0 ]; then
	echo "bench: no results"
	exit 1
fi
"$SOAK" bundle "$OUT/bench.json" "${files[@]}" || exit 1
echo "bench: results in $OUT/bench.json"
if [ -f soak/baseline.json ]; then
	echo "==> compare with soak/baseline.json (tolerance $TOL, latency floor $FLOOR ms)"
	"$SOAK" compare soak/baseline.json "$OUT/bench.json" --tolerance "$TOL" \
		--latency-floor-ms "$FLOOR" || failed=1
else
	echo "bench: no soak/baseline.json to compare with"
fi
if [ "${BENCH_UPDATE_BASELINE:-}" = 1 ]; then
	cp "$OUT/bench.json" soak/baseline.json
	echo "bench: soak/baseline.json updated"
fi
exit $failed
