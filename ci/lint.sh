#!/usr/bin/env bash
# Static analysis (`make lint`, stage 40 of `make test`): clang-tidy with the curated
# .clang-tidy at the repo root, and cppcheck with ci/cppcheck.cfg + ci/cppcheck.supp, over
# every C source in lib/ relay/ conformance/ soak/ fuzz/.
#
#   ci/lint.sh [BUILD_DIR]     (default: build)
#
# clang-tidy takes each file's flags from BUILD_DIR/compile_commands.json (CMake writes it at
# configure time; ci/test.sh configures `build` first). A source the database does not list
# (fuzz/, which only the clang fuzz build compiles, or a file added since the last configure)
# is checked with the project's flags given explicitly. Test code (*/tests/*.c) runs with some
# checks relaxed, because tests legitimately do what they flag: concurrency-mt-unsafe (setenv
# and friends before any thread starts), cert-err34-c (atoi/sscanf on values the test itself
# wrote), performance-no-int-to-ptr (small integers passed through void * callback data),
# cert-env33-c (system() to prepare fixtures), and the analyzer's null/uninitialised-value
# checks (clang-analyzer-core.NonNullParamChecker, .NullDereference, .CallAndMessage,
# .uninitialized.*): cmocka's assert_* macros leave the test with a longjmp the analyzer does
# not see, so every value checked by an assertion still looks possibly NULL or unset after it.
#
# Prints every finding as file:line: message [check], then one line per tool and a summary;
# exits non-zero on any finding. Nothing is suppressed except what .clang-tidy and
# ci/cppcheck.supp list, each with its reason.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${1:-build}
jobs=${JOBS:-$(nproc)}
db="$build/compile_commands.json"
fail=0

for tool in clang-tidy cppcheck; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "lint: FAIL $tool not found (install it with: ci/deps.sh test)"
		exit 1
	fi
done
if [ ! -f "$db" ]; then
	echo "lint: configuring $build for its compile_commands.json"
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEALROOM_WERROR=ON >/dev/null || exit 1
fi

mapfile -t files < <(find lib relay conformance soak fuzz -name '*.c' -not -path '*/node_modules/*' \
	2>/dev/null | sort)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lint.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Flags for a file the database does not list: what sealroom_options and the targets add.
civet_inc=$(dirname "$(find /usr/include /usr/local/include -maxdepth 2 -name civetweb.h 2>/dev/null | head -n1)" 2>/dev/null)
export LINT_FLAGS="-std=gnu11 -D_GNU_SOURCE -I$root/lib -I$root/relay -I$root/conformance -I$root/soak
-isystem /usr/include/cjson ${civet_inc:+-isystem $civet_inc} -DSEALROOM_VERSION=\"0\" -DSEALROOM_COMMIT=\"lint\"
-DSEALROOM_SOURCE_DIR=\"$root\" -DSEALROOM_RELAY_BIN=\"/bin/false\" -Wall -Wextra"
export LINT_DB="$db" LINT_ROOT="$root"

tidy_one() {
	local f=$1 extra=()
	case "$f" in
	*/tests/*.c) extra=(--checks=-concurrency-mt-unsafe,-cert-err34-c,-performance-no-int-to-ptr,-cert-env33-c,-clang-analyzer-core.NonNullParamChecker,-clang-analyzer-core.NullDereference,-clang-analyzer-core.CallAndMessage,-clang-analyzer-core.uninitialized.*) ;;
	esac
	if grep -qF "\"file\": \"$LINT_ROOT/$f\"" "$LINT_DB"; then
		clang-tidy --quiet -p "$(dirname "$LINT_DB")" "${extra[@]}" "$f" 2>/dev/null
	else
		# shellcheck disable=SC2086
		clang-tidy --quiet "${extra[@]}" "$f" -- $LINT_FLAGS 2>/dev/null
	fi
	return 0
}
export -f tidy_one

echo "lint: clang-tidy on ${#files[@]} files ($jobs at a time)"
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -I{} bash -c 'tidy_one "$1"' _ {} >"$tmp/tidy.out"
# Keep the diagnostic lines (not the code excerpts), relative paths, each finding once (a
# header's finding shows up once per file including it).
grep -E '^/.*:[0-9]+:[0-9]+: (warning|error): ' "$tmp/tidy.out" | sed "s|^$root/||" | sort -u >"$tmp/tidy"
ntidy=$(wc -l <"$tmp/tidy")
cat "$tmp/tidy"
if [ "$ntidy" -eq 0 ]; then
	echo "lint clang-tidy: PASS 0 findings"
else
	echo "lint clang-tidy: FAIL $ntidy findings"
	fail=1
fi

echo "lint: cppcheck"
# cppcheck reads no comments in a suppressions list: strip ours (reasons stay in the file).
grep -Ev '^[[:space:]]*(#|$)' ci/cppcheck.supp >"$tmp/supp"
cppcheck --enable=warning,performance,portability --std=c11 --quiet -j"$jobs" --inline-suppr \
	--library="$root/ci/cppcheck.cfg" --suppressions-list="$tmp/supp" --error-exitcode=3 \
	--suppress=missingIncludeSystem -D_GNU_SOURCE -I lib -I relay -I conformance -I soak \
	--template='{file}:{line}: {severity}: {message} [{id}]' "${files[@]}" 2>"$tmp/cpp.out" >"$tmp/cpp.stdout"
cpp_rc=$?
if [ $cpp_rc -ne 0 ] && [ $cpp_rc -ne 3 ]; then
	cat "$tmp/cpp.stdout" "$tmp/cpp.out"
	echo "lint cppcheck: FAIL cppcheck itself failed (exit $cpp_rc)"
	exit 1
fi
sort -u "$tmp/cpp.out" >"$tmp/cpp"
ncpp=$(wc -l <"$tmp/cpp")
cat "$tmp/cpp"
if [ "$ncpp" -eq 0 ]; then
	echo "lint cppcheck: PASS 0 findings"
else
	echo "lint cppcheck: FAIL $ncpp findings"
	fail=1
fi

echo "lint: $((ntidy + ncpp)) findings (clang-tidy $ntidy, cppcheck $ncpp)"
exit $fail
