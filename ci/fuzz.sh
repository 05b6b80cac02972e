#!/usr/bin/env bash
# libFuzzer runs of every fuzz/fuzz_<name>.c target (`make fuzz-smoke`, `make fuzz`, stage 50).
#
#   ci/fuzz.sh smoke          build, replay every seed corpus (ctest -L fuzz), then fuzz each
#                             target for FUZZ_SECONDS (default 15) — about 3 minutes in all
#   ci/fuzz.sh long [MIN]     build, replay, then fuzz each target for MIN minutes (default 10)
#   ci/fuzz.sh build          only configure and build build-fuzz
#
# Builds with clang into build-fuzz (-DSEALROOM_FUZZ=ON: libFuzzer + ASan + UBSan, every
# library instrumented). Targets run JOBS at a time (default nproc), each in its own work
# corpus build-fuzz/work/<name> with the committed seeds fuzz/corpus/<name> read-only, so the
# tree is never modified; FUZZ_MERGE=1 (long runs) merges the new inputs into the committed
# corpus afterwards (-merge=1 keeps only inputs that add coverage). Crashes are saved as
# build-fuzz/artifacts/<name>-crash-*. FUZZ_TARGETS="json b64" restricts the run.
#
# Prints one line per target — "fuzz <name>: PASS|FAIL <cpu seconds>s cpu, <runs> runs,
# corpus <n>" — and a summary; exits non-zero if a build, replay or target fails.
set -uo pipefail

mode=${1:-smoke}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
dir=build-fuzz
jobs=${JOBS:-$(nproc)}
case "$mode" in
smoke) secs=${FUZZ_SECONDS:-15} ;;
long) secs=$(( ${2:-10} * 60 )) ;;
build) secs=0 ;;
*)
	echo "usage: ci/fuzz.sh smoke|long [MINUTES]|build" >&2
	exit 2
	;;
esac

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: FAIL clang not found (install it with: ci/deps.sh test)"
	exit 1
fi

echo "fuzz: configure + build $dir (clang, libFuzzer + ASan + UBSan)"
if ! CC=clang cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALROOM_FUZZ=ON \
	-DSEALROOM_WERROR=ON >"$dir.configure.log" 2>&1; then
	cat "$dir.configure.log"
	echo "fuzz: FAIL configure"
	exit 1
fi
rm -f "$dir.configure.log"
cmake --build "$dir" -j"$jobs" --target fuzz_all 2>&1 |
	grep -Ev '^\[ *[0-9]+%\] (Building|Linking|Built)|^Scanning|^Consolidate'
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
	echo "fuzz: FAIL build"
	exit 1
fi
[ "$mode" = build ] && exit 0

targets=()
if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
else
	for src in fuzz/fuzz_*.c; do
		t=$(basename "$src" .c)
		targets+=("${t#fuzz_}")
	done
fi

echo "fuzz: replay the seed corpora (ctest -L fuzz)"
regex=$(IFS='|'; echo "${targets[*]}")
replay_log=$(mktemp)
replay_ok=1
(cd "$dir" && ctest -L fuzz -R "^fuzz\.replay\.($regex)\$" --output-on-failure -j"$jobs" \
	--timeout 300) >"$replay_log" 2>&1 || replay_ok=0
grep -E 'tests passed|\*\*\*Failed|Not Run' "$replay_log"
[ $replay_ok = 1 ] || grep -E 'property failed|ERROR: |SUMMARY: |runtime error' "$replay_log" | head -n 20
rm -f "$replay_log"

mkdir -p "$dir/work" "$dir/artifacts" "$dir/logs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# One target: fuzz for $secs, then print its result line. Runs in the background.
run_one() {
	local t=$1 bin="$dir/fuzz/fuzz_$1" log="$dir/logs/$1.log" dict=() cpu
	mkdir -p "$dir/work/$t"
	[ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
	local tf
	tf=$(mktemp)
	(
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$dir/artifacts/$t-" "${dict[@]}" "$dir/work/$t" \
			"fuzz/corpus/$t" >"$log" 2>&1
		echo "rc=$?" >>"$log"
		times >"$tf"
	)
	# `times` line 2: the children's user and system time, e.g. "0m14.980s 0m0.120s".
	cpu=$(sed -n 2p "$tf" | awk '{
		split($1, u, /[ms]/); split($2, s, /[ms]/);
		printf "%.1f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
	rm -f "$tf"
	local runs corpus rc
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
	corpus=$(find "$dir/work/$t" "fuzz/corpus/$t" -type f 2>/dev/null | wc -l)
	rc=$(sed -n 's/^rc=//p' "$log" | tail -n1)
	if [ "$rc" = 0 ]; then
		echo "fuzz $t: PASS ${cpu}s cpu, ${runs:-?} runs, corpus $corpus"
	else
		echo "fuzz $t: FAIL ${cpu}s cpu (exit $rc); log $log; artifacts $dir/artifacts/$t-*"
		grep -E 'ERROR: |SUMMARY: |property failed|runtime error' "$log" | head -n 5 | sed 's/^/    /'
	fi
}

echo "fuzz: $mode run, ${secs}s per target, $jobs at a time: ${targets[*]}"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
running=0
for t in "${targets[@]}"; do
	if [ ! -x "$dir/fuzz/fuzz_$t" ]; then
		echo "fuzz $t: FAIL no such target" | tee -a "$results"
		continue
	fi
	run_one "$t" | tee -a "$results" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

if [ "$mode" = long ] && [ "${FUZZ_MERGE:-0}" = 1 ]; then
	for t in "${targets[@]}"; do
		"$dir/fuzz/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$dir/work/$t" >/dev/null 2>&1 &&
			echo "fuzz $t: merged; corpus now $(find "fuzz/corpus/$t" -type f | wc -l) files"
	done
fi

pass=$(grep -c ': PASS' "$results")
fail=$(grep -c ': FAIL' "$results")
echo "fuzz $mode: replay $([ $replay_ok = 1 ] && echo PASS || echo FAIL), $pass targets passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$replay_ok" = 1 ]
