#!/usr/bin/env bash
# Build and run the unit and integration suites under a sanitizer (`make asan`, `make tsan`,
# and stage 20 of `make test`).
#
#   ci/sanitize.sh address    ASan + UBSan into build-asan (leaks detected, UB is fatal)
#   ci/sanitize.sh thread     TSan into build-tsan (ci/tsan.supp: civetweb/libcurl frames only)
#
# Configures with -DSEALROOM_SANITIZE=<kind>, builds everything, runs
# ctest (the integration tests start the sanitized relay binary, so the relay is checked
# too). Prints one line per test (ctest's own) and a summary line
# "sanitize <kind>: N tests, N failed"; exits non-zero on any failure or sanitizer report.
#
# Environment: JOBS (default nproc), CTEST_ARGS (extra ctest arguments, e.g. "-R lib."),
# SANITIZE_BUILD_DIR (default build-asan / build-tsan).
set -euo pipefail

kind=${1:-}
case "$kind" in
address) dir=${SANITIZE_BUILD_DIR:-build-asan} ;;
thread) dir=${SANITIZE_BUILD_DIR:-build-tsan} ;;
*)
	echo "usage: ci/sanitize.sh address|thread" >&2
	exit 2
	;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${JOBS:-$(nproc)}

# Sanitizer runtime options. They reach the relay processes the integration tests start,
# because the test fixtures pass their environment on.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:check_initialization_order=1:print_summary=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:print_summary=1"
export LSAN_OPTIONS="print_suppressions=0"
export TSAN_OPTIONS="second_deadlock_stack=1:halt_on_error=1:history_size=4:suppressions=$root/ci/tsan.supp:print_suppressions=0"

echo "sanitize $kind: configure $dir"
# No -Werror here: the -Werror gate is the normal build (stage "build" of ci/test.sh), and
# sanitizer instrumentation changes what GCC's flow-based warnings (-Wformat-truncation,
# -Wstringop-*) can prove, so the same code can warn here and not there. Warnings are shown.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALROOM_WERROR=OFF \
	-DSEALROOM_SANITIZE="$kind" >/dev/null
echo "sanitize $kind: build"
set +e
cmake --build "$dir" -j"$jobs" 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking|Built|Embedding)|^Scanning|^Consolidate'
st=${PIPESTATUS[0]}
set -e
if [ "$st" -ne 0 ]; then
	echo "sanitize $kind: build FAILED"
	exit 1
fi

echo "sanitize $kind: ctest"
log=$(mktemp "${TMPDIR:-/tmp}/sanitize-$kind.XXXXXX")
trap 'rm -f "$log"' EXIT
# TSan slows the relay 5-15x: give each test more time than in the normal build.
timeout=600
[ "$kind" = thread ] && timeout=900
set +e
# shellcheck disable=SC2086
(cd "$dir" && ctest --output-on-failure -j"$jobs" --timeout "$timeout" ${CTEST_ARGS:-}) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

total=$(sed -n 's/.*tests passed, [0-9]* tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -n1)
failed=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of.*/\1/p' "$log" | tail -n1)
# A sanitizer report that did not fail its test (e.g. in a child that exited 0) still fails CI.
reports=$(grep -cE '^(==[0-9]+==ERROR: |WARNING: ThreadSanitizer|SUMMARY: (Address|Undefined|Thread|Leak)Sanitizer|.*runtime error: )' "$log" || true)
echo "sanitize $kind: ${total:-0} tests, ${failed:-?} failed, $reports sanitizer reports"
if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ] || [ -z "$total" ]; then
	exit 1
fi
