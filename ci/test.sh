#!/usr/bin/env bash
# `make test`: every stage CI runs, in order, each timed. Stops at the first failing stage
# and prints a summary line per stage. Stages that a later issue adds plug in here.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
declare -a names=() results=() times=()
failed=0

stage() { # stage NAME COMMAND...
	local name=$1; shift
	local t0=$SECONDS
	echo "==> $name"
	if "$@"; then results+=(ok); else results+=(FAIL); failed=1; fi
	names+=("$name"); times+=($((SECONDS - t0)))
	[ $failed -eq 0 ]
}

build() {
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALROOM_WERROR=ON >/dev/null &&
	cmake --build build -j"$JOBS" 2>&1 | grep -Ev '^\[ *[0-9]+%\] (Building|Linking|Built)' ; return "${PIPESTATUS[0]}"
}
ctest_all() { (cd build && ctest --output-on-failure -j"$JOBS" --timeout 600); }

run_stages() {
	stage "build (-Werror)" build || return
	if [ -x ci/spec-check.sh ]; then stage "spec (OpenAPI 3.1 validation)" ci/spec-check.sh || return; fi
	stage "unit + integration (ctest)" ctest_all || return
	for s in ci/stages/*.sh; do
		[ -x "$s" ] || continue
		stage "$(basename "$s" .sh)" "$s" || return
	done
}
run_stages

echo
echo "stage summary:"
for i in "${!names[@]}"; do printf '  %-40s %-4s %4ss\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"; done
passed=0; nfail=0
for r in "${results[@]}"; do [ "$r" = ok ] && passed=$((passed+1)) || nfail=$((nfail+1)); done
echo "stages: $passed passed, $nfail failed"
exit $failed
