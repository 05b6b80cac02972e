#!/usr/bin/env bash
# Stage 31: proof that the conformance runner can fail (issue #5, "honesty of the harness").
#
#   ci/stages/31-conformance-faults.sh      (run by `make test` from the repo root)
#
# Starts build/relay/sealroom-relay-faulty once without a fault and once per injected fault
# (--inject-fault NAME) and runs the suite with --profile sealroom against each:
#   - without a fault the runner must exit 0;
#   - with each fault it must exit 1 and report FAIL for at least one of the MUST cases
#     expected to catch that fault (listed below).
# The ~31 s ttl case (room.ttl.expiry) is skipped here: no fault touches ttl pruning, and the
# full stage 30 runs it. Runs CONFORM_FAULT_JOBS (3) relays at once. Exits 1 if the faulty
# binary is missing: this stage never skips.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
build=${BUILD:-build}
faulty=$build/relay/sealroom-relay-faulty
conform=$build/conformance/sealroom-conform
tmp=$(mktemp -d "${TMPDIR:-/tmp}/conformance-faults.XXXXXX")
failed=0

cleanup() {
	local f p
	for f in "$tmp"/pid-*; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$faulty" ]; then
	echo "FAIL $faulty is missing: the fault-injection build (cmake -DSEALROOM_FAULTS=ON)"
	echo "     must provide it; this stage does not skip"
	exit 1
fi
[ -x "$conform" ] || { echo "FAIL $conform is missing: build first"; exit 1; }

# fault -> the MUST cases that must catch it (at least one of them has to FAIL).
declare -A expect=(
	[ready-before-replay]="sse.order sse.resume.after sse.resume.last-event-id sse.resume.beyond-buffer"
	[seq-gap]="room.seq.seed room.seq.consecutive dm.seq"
	[ignore-after]="sse.resume.after sse.resume.disconnect sse.resume.storm ws.replay"
	[no-keepalive]="sse.keepalive"
	[wrong-error-string]="room.validation http.body.empty http.body.content-type room-post.bad-room b64.canonical"
	[drop-one-in-100]="room.dialogue.sse room.dialogue.ws room.seq.consecutive room.broadcast sse.resume.storm"
)
faults=(none ready-before-replay seq-gap ignore-after no-keepalive wrong-error-string drop-one-in-100)

knobs=(--keepalive-ms 1000 --evict-grace-ms 2000 --janitor-interval-ms 500
	--room-rl-cap 100000 --room-rl-refill-per-sec 100000
	--global-rl-cap 200000 --global-rl-refill-per-sec 200000)
rknobs=(--keepalive-ms 1000 --grace-ms 2000 --janitor-ms 500
	--rl-cap 100000 --rl-refill 100000 --global-rl-cap 200000 --global-rl-refill 200000)

# run_fault FAULT: start the faulty relay, run the suite, write the verdict line to
# $tmp/result-FAULT ("ok ..." or "FAIL ..."). Runs in the background, at most $jobs at once.
run_fault() {
	local fault=$1 log=$tmp/relay-$1.log out=$tmp/conform-$1.txt res=$tmp/result-$1
	local args=("${knobs[@]}") rpid base rc summary fails caught id
	[ "$fault" = none ] || args+=(--inject-fault "$fault")
	"$faulty" --host 127.0.0.1 --port 0 "${args[@]}" >"$log" 2>&1 &
	rpid=$!
	echo "$rpid" >"$tmp/pid-$fault"
	base=
	for _ in $(seq 1 200); do
		base=$(grep -ao 'sealroom listening on http://127\.0\.0\.1:[0-9]*' "$log" 2>/dev/null | head -1 | sed 's/.* on //')
		[ -n "$base" ] && break
		kill -0 "$rpid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$base" ]; then
		echo "FAIL [$fault] the faulty relay did not start: $(tail -n 3 "$log" | tr '\n' ' ')" >"$res"
		kill -KILL "$rpid" 2>/dev/null
		return
	fi
	{
		echo "+ $faulty ${args[*]}  (at $base)"
		echo "+ sealroom-conform --base $base --profile sealroom ${rknobs[*]} --skip room.ttl.expiry"
	} >"$out"
	"$conform" --base "$base" --profile sealroom "${rknobs[@]}" --skip 'room.ttl.expiry' >>"$out" 2>&1
	rc=$?
	kill -TERM "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	summary=$(grep -a '^conformance:' "$out")
	fails=$(grep -a '^failed: ' "$out" | awk '{print $2}' | tr '\n' ' ')
	if [ "$fault" = none ]; then
		if [ $rc -eq 0 ]; then
			echo "ok   [no fault] exit 0 ($summary)" >"$res"
		else
			echo "FAIL [no fault] the runner exited $rc against the faulty binary without a fault: $fails" >"$res"
		fi
		return
	fi
	caught=
	for id in ${expect[$fault]}; do
		case " $fails " in *" $id "*) caught="$caught $id" ;; esac
	done
	if [ $rc -eq 1 ] && [ -n "$caught" ]; then
		echo "ok   [$fault] exit 1, caught by:$caught ($summary)" >"$res"
	else
		echo "FAIL [$fault] exit $rc; expected a FAIL in one of: ${expect[$fault]}; failed: ${fails:-none}" >"$res"
	fi
}

jobs=${CONFORM_FAULT_JOBS:-3}
running=0
for fault in "${faults[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_fault "$fault" &
	running=$((running + 1))
done
wait
for fault in "${faults[@]}"; do
	out=$tmp/conform-$fault.txt
	[ -f "$out" ] && head -n 2 "$out"
	line=$(cat "$tmp/result-$fault" 2>/dev/null || echo "FAIL [$fault] no result")
	echo "$line"
	case "$line" in
	FAIL*)
		failed=1
		[ -f "$out" ] && grep -a -A3 '^FAIL ' "$out" | head -n 40 | sed 's/^/  /'
		;;
	esac
done

if [ $failed -eq 0 ]; then
	echo "conformance faults stage: every fault caught, clean run without one"
else
	echo "conformance faults stage: FAILED"
fi
exit $failed
