#!/usr/bin/env bash
# Stage 60 of `make test`: a short smoke of every sealroom-soak scenario against a fresh relay,
# with exact-count assertions only (STYLE.md: "400 delivered, 0 duplicated, 0 out of order";
# never a timing). Then the regression gate of `compare` on a doctored baseline, and the
# relay's graceful shutdown (SIGTERM -> exit 0).
#
# Uses ./build (BUILD=dir to override). Takes ~20 s.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
RELAY=$BUILD/relay/sealroom-relay
SOAK=$BUILD/soak/sealroom-soak
for b in "$RELAY" "$SOAK"; do
	[ -x "$b" ] || { echo "60-soak-smoke: $b not built"; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/soak-smoke.XXXXXX")
RELAY_PID=
cleanup() {
	if [ -n "$RELAY_PID" ] && kill -0 "$RELAY_PID" 2>/dev/null; then
		kill -KILL "$RELAY_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# The relay's fd limit must cover the connections smoke.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Raised limits for load from loopback (PROTOCOL.md §16, Appendix A j). The per-IP stream cap
# stays low enough (64) that the connections smoke only passes by spreading its 400 streams
# over --source-ips.
"$RELAY" --host 127.0.0.1 --port 0 --access-log 0 \
	--room-rl-cap 1000000000 --room-rl-refill-per-sec 1000000000 \
	--global-rl-cap 1000000000 --global-rl-refill-per-sec 1000000000 \
	--stream-cap-per-ip 64 --waiter-cap-per-ip 1000 --worker-threads 1024 \
	>"$TMP/relay.log" 2>&1 &
RELAY_PID=$!

PORT=
for _ in $(seq 1 200); do
	PORT=$(sed -n 's|^sealroom listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$TMP/relay.log")
	[ -n "$PORT" ] && break
	kill -0 "$RELAY_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$PORT" ]; then
	echo "60-soak-smoke: relay did not start:"
	cat "$TMP/relay.log"
	exit 1
fi
BASE=http://127.0.0.1:$PORT
echo "relay pid $RELAY_PID on $BASE"

failures=0
n=0
# run NAME SCENARIO-ARGS... -- CHECKS...
run() {
	local name=$1; shift
	local args=() checks=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	checks=("$@")
	n=$((n + 1))
	local json="$TMP/$name.json"
	if ! "$SOAK" "${args[@]}" --base "$BASE" --relay-pid "$RELAY_PID" --quiet --json "$json" \
		>"$TMP/$name.out" 2>&1; then
		echo "FAIL $name: sealroom-soak ${args[*]} exited non-zero"
		sed 's/^/    /' "$TMP/$name.out"
		failures=$((failures + 1))
		return
	fi
	if ! "$SOAK" check "$json" ok=true "${checks[@]}" >"$TMP/$name.check" 2>&1; then
		echo "FAIL $name: sealroom-soak ${args[*]}"
		sed 's/^/    /' "$TMP/$name.check"
		failures=$((failures + 1))
		return
	fi
	echo "ok   $name: $(grep -m1 'delivered' "$TMP/$name.out" | sed 's/^ *//')"
}

# Counts every scenario must end with.
ZERO=(counts.missing=0 counts.duplicated=0 counts.out_of_order=0 counts.decrypt_failed=0
      counts.unexpected=0 counts.rejected=0 counts.errors=0)

run rooms rooms --rooms 5 --messages 20 -- "${ZERO[@]}" \
	counts.sent=100 counts.accepted=100 counts.expected=100 counts.delivered=100 \
	counts.reconnects=0 latency_ms.delivery.count=100
run rooms-signed rooms --signed --rooms 3 --messages 10 -- "${ZERO[@]}" \
	counts.sent=30 counts.delivered=30 counts.verified=30
run fanout fanout --agents 10 --messages 10 -- "${ZERO[@]}" \
	counts.sent=100 counts.accepted=100 counts.expected=1000 counts.delivered=1000 \
	latency_ms.delivery.count=1000
run fanout-open fanout --agents 5 --messages 4 --rate 20 -- "${ZERO[@]}" \
	counts.sent=20 counts.delivered=100 latency_ms.delivery.count=100
run dialogue dialogue --turns 20 -- "${ZERO[@]}" \
	counts.sent=120 counts.accepted=120 counts.expected=120 counts.delivered=120 \
	latency_ms.sse.count=40 latency_ms.ws.count=40 latency_ms.longpoll.count=40
# B drops and resumes its stream at turns 7, 14, 21, 28 (sse and ws; SSE-6, WS-6).
run dialogue-resume dialogue --turns 30 --reconnect-every 7 -- "${ZERO[@]}" \
	counts.sent=180 counts.delivered=180 counts.reconnects=8
run dialogue-signed dialogue --signed --turns 5 --transport ws -- "${ZERO[@]}" \
	counts.sent=10 counts.delivered=10 counts.verified=20
run rtt rtt --samples 200 -- "${ZERO[@]}" \
	counts.sent=1200 counts.delivered=1200 latency_ms.sse.count=200 \
	latency_ms.ws.count=200 latency_ms.longpoll.count=200
run dm dm --senders 5 --dms 10 -- "${ZERO[@]}" \
	counts.sent=50 counts.accepted=50 counts.expected=50 counts.delivered=50 \
	counts.verified=50 latency_ms.delivery.count=50
run connections connections --subscribers 400 --rooms 20 \
	--source-ips 127.0.0.2-127.0.0.21 -- "${ZERO[@]}" \
	counts.sent=20 counts.accepted=20 counts.expected=400 counts.delivered=400 \
	counts.reconnects=0
run post post --connections 4 --messages 25 -- "${ZERO[@]}" \
	counts.sent=100 counts.accepted=100 latency_ms.post.count=100
# 5 s at 20 msg/s to 5 subscribers: exactly 100 x 5 background deliveries, plus the churn.
run soak soak --duration 5 --interval 1 --pairs 2 --turns 20 --subscribers 5 --rate 20 \
	--source-ips 127.0.0.30-127.0.0.49 -- "${ZERO[@]}" latency_ms.fanout.count=500

# compare: a run against itself passes; against a baseline claiming twice the throughput it
# must fail with exit 1 (the regression gate works).
n=$((n + 1))
if [ -f "$TMP/rooms.json" ]; then
	sed -E 's/("delivered_per_s":[[:space:]]*)([0-9.]+)/\1999999999/' "$TMP/rooms.json" \
		>"$TMP/rooms-fast.json"
	"$SOAK" compare "$TMP/rooms.json" "$TMP/rooms.json" >"$TMP/cmp-same.out" 2>&1
	same=$?
	"$SOAK" compare "$TMP/rooms-fast.json" "$TMP/rooms.json" >"$TMP/cmp-slow.out" 2>&1
	slow=$?
	if [ $same -eq 0 ] && [ $slow -eq 1 ]; then
		echo "ok   compare: identical -> 0, throughput regression -> 1"
	else
		echo "FAIL compare: identical -> $same (want 0), regression -> $slow (want 1)"
		cat "$TMP/cmp-slow.out"
		failures=$((failures + 1))
	fi
else
	echo "FAIL compare: no rooms result to compare"
	failures=$((failures + 1))
fi

# Usage errors exit 2 (no relay contact).
n=$((n + 1))
"$SOAK" rooms --no-such-flag >/dev/null 2>&1; u1=$?
"$SOAK" rtt --duration 5 >/dev/null 2>&1; u2=$?
"$SOAK" nope >/dev/null 2>&1; u3=$?
if [ $u1 -eq 2 ] && [ $u2 -eq 2 ] && [ $u3 -eq 2 ]; then
	echo "ok   usage errors exit 2"
else
	echo "FAIL usage errors: $u1 $u2 $u3 (want 2 2 2)"
	failures=$((failures + 1))
fi

# DESIGN.md §10: SIGTERM ends streams and exits 0.
kill -TERM "$RELAY_PID"
status=
for _ in $(seq 1 200); do
	if ! kill -0 "$RELAY_PID" 2>/dev/null; then
		wait "$RELAY_PID"
		status=$?
		break
	fi
	sleep 0.05
done
RELAY_PID_DONE=$RELAY_PID
RELAY_PID=
n=$((n + 1))
if [ "$status" = 0 ]; then
	echo "ok   relay $RELAY_PID_DONE exited 0 on SIGTERM"
else
	echo "FAIL relay exit status on SIGTERM: ${status:-still running after 10 s}"
	tail -20 "$TMP/relay.log"
	kill -KILL "$RELAY_PID_DONE" 2>/dev/null
	failures=$((failures + 1))
fi

echo "soak smoke: $((n - failures)) of $n passed"
[ $failures -eq 0 ]
