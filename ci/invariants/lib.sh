# shellcheck shell=bash
# lib.sh — shared by the design-invariant checks ci/invariants/inv-NN-<slug>.sh
# (spec/invariants.md). Source it, then call inv_setup NN "$@".
#
# Conventions every script follows:
#   inv-NN-<slug>.sh [BUILD_DIR]              run the checks (default BUILD_DIR: build)
#   inv-NN-<slug>.sh --self-test [BUILD_DIR]  plant each violation in a scratch copy (of the
#                                             tree, or of the objects) and show that the check
#                                             catches it; succeeds only if every plant is caught
#   inv-NN-<slug>.sh --prepare [BUILD_DIR]    only build the relay and the driver
# Output: one line per check, "inv-NN: PASS|FAIL|SKIP <detail>" ("inv-NN self-test: ..." in
# self-test mode), then "inv-NN: N passed, N failed, N skipped". Exit status 1 on any failure.
# SKIP marks a part the harness cannot drive (a cap it cannot fill) and says why; a route
# answering 500 is a FAIL, never a SKIP.
#
# Static checks read the compiled relay: the relay_core objects whose source still exists
# (a deleted source leaves a stale object behind in the build tree), the lib objects, and the
# linked sealroom-relay. Dynamic checks run ci/invariants/invdrive.c (compiled here against the
# build's static libraries) against a relay binary. Self-tests that need a modified relay
# build one from a scratch copy of the sources (inv_scratch), shared between scripts through
# SEALROOM_INV_SCRATCH when selftest.sh runs them all.

INV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
INV_DIR=$INV_ROOT/ci/invariants

# Symbols that obtain, create, change or sync a file (INV-1, INV-3): owning one of these is
# what it takes to write a file; write(2) on an inherited fd (stdout) is not in the list.
INV_FILE_SYMS="fopen fopen64 freopen freopen64 fdopen open open64 openat openat64 __open_2 \
__open64_2 __openat_2 __openat64_2 creat creat64 mkstemp mkstemp64 mkostemp mkostemp64 \
mkstemps mkostemps tmpfile tmpfile64 mkdtemp rename renameat renameat2 link linkat symlink \
symlinkat unlink unlinkat remove truncate truncate64 ftruncate ftruncate64 fsync fdatasync \
syncfs sync sync_file_range mkdir mkdirat mkfifo mkfifoat mknod mknodat pwrite pwrite64 \
pwritev pwritev2 fallocate fallocate64 posix_fallocate posix_fallocate64"
# Databases and syslog: allowed nowhere in the relay.
INV_DB_PREFIXES="sqlite3_ gdbm_ mdb_ leveldb_ rocksdb_ dbm_ redis PQ mysql_ lmdb_"
INV_DB_SYMS="dbopen syslog vsyslog openlog"
# Shared memory and message queues (INV-2: state that could outlive the process).
INV_IPC_SYMS="shm_open shm_unlink mq_open shmget shmat semget msgget mmap mmap64 memfd_create"

inv_setup() {
	INV_NN=$1
	shift
	INV_ID="inv-$INV_NN"
	INV_SELF=0
	INV_BUILD=build
	for a in "$@"; do
		case "$a" in
		--self-test) INV_SELF=1 ;;
		--prepare) INV_SELF=prepare ;;
		-h | --help)
			sed -n '2,/^set /p' "$0" | sed 's/^# \{0,1\}//' | grep -v '^set '
			exit 0
			;;
		*) INV_BUILD=$a ;;
		esac
	done
	case "$INV_BUILD" in /*) ;; *) INV_BUILD=$INV_ROOT/$INV_BUILD ;; esac
	INV_PASS=0
	INV_FAIL=0
	INV_SKIP=0
	INV_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$INV_ID.XXXXXX")
	trap inv_cleanup EXIT
	cd "$INV_ROOT" || exit 1
	[ $INV_SELF = 1 ] && INV_PFX="$INV_ID self-test" || INV_PFX=$INV_ID
	if [ "$INV_SELF" = prepare ]; then # build the relay and the driver, nothing else
		inv_need_build
		inv_driver >/dev/null || { echo "$INV_ID: FAIL cannot compile ci/invariants/invdrive.c"; exit 1; }
		exit 0
	fi
}

inv_cleanup() {
	inv_unplant
	rm -rf "$INV_TMP"
}

# inv_line KIND DETAIL — one result line, counted.
inv_line() {
	echo "$INV_PFX: $1 $2"
	case "$1" in
	PASS) INV_PASS=$((INV_PASS + 1)) ;;
	FAIL) INV_FAIL=$((INV_FAIL + 1)) ;;
	SKIP) INV_SKIP=$((INV_SKIP + 1)) ;;
	esac
}
inv_pass() { inv_line PASS "$*"; }
inv_fail() { inv_line FAIL "$*"; }
inv_skip() { inv_line SKIP "$*"; }

inv_summary() {
	echo "$INV_PFX: $INV_PASS passed, $INV_FAIL failed, $INV_SKIP skipped"
	[ "$INV_FAIL" -eq 0 ]
	exit $?
}

# Count the PASS/FAIL/SKIP lines of a captured check output (used after running a check
# function in a subshell).
inv_count() {
	local out=$1 l
	while IFS= read -r l; do
		case "$l" in
		*": PASS "*) INV_PASS=$((INV_PASS + 1)) ;;
		*": FAIL "*) INV_FAIL=$((INV_FAIL + 1)) ;;
		*": SKIP "*) INV_SKIP=$((INV_SKIP + 1)) ;;
		esac
	done <<<"$out"
}

# inv_expect_fail WHAT CMD... — self-test step: run a check (a shell function printing
# result lines) on planted input; it must report at least one FAIL.
inv_expect_fail() {
	local what=$1 out first
	shift
	out=$("$@" 2>&1)
	first=$(grep -m1 -E ': FAIL |^FAIL ' <<<"$out")
	if [ -n "$first" ]; then
		inv_pass "caught $what: ${first#*FAIL }"
	else
		inv_fail "did NOT catch $what; the check said:"
		sed 's/^/    /' <<<"$out" | head -n 12
	fi
}

# ---- built objects ------------------------------------------------------------------------

# inv_relay_objects OBJDIR SRCROOT — the relay_core objects whose source exists, one per line.
inv_relay_objects() {
	local dir=$1 src=$2 o s
	for o in "$dir"/*.o; do
		[ -e "$o" ] || continue
		s=$(basename "$o" .o)
		case "$s" in
		spec_openapi.c) echo "$o" ;;
		*) [ -f "$src/relay/$s" ] && echo "$o" ;;
		esac
	done
}

# inv_lib_objects BUILD — the proto and crypto objects (the relay links both).
inv_lib_objects() {
	local b=$1 o
	for o in "$b"/lib/CMakeFiles/sealroom_proto.dir/proto/*.o "$b"/lib/CMakeFiles/sealroom_crypto.dir/crypto/*.o; do
		[ -e "$o" ] || continue
		local s
		s=$(basename "$o" .o)
		[ -f "$INV_ROOT/lib/proto/$s" ] || [ -f "$INV_ROOT/lib/crypto/$s" ] && echo "$o"
	done
}

# inv_undef OBJ — the undefined (imported) symbols of an object, one per line.
inv_undef() {
	nm -u "$1" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//'
}

# inv_match_syms SYMS_LIST PREFIXES — filter stdin to symbols in the list or with a prefix.
inv_match_syms() {
	local list=" $1 " prefixes=$2 s p
	while read -r s; do
		if [[ $list == *" $s "* ]]; then
			echo "$s"
			continue
		fi
		for p in $prefixes; do
			[[ $s == "$p"* ]] && echo "$s" && break
		done
	done
}

inv_need_build() {
	if [ ! -x "$INV_BUILD/relay/sealroom-relay" ] || [ ! -d "$INV_BUILD/relay/CMakeFiles/relay_core.dir" ]; then
		echo "$INV_PFX: building sealroom-relay in $INV_BUILD"
		{ cmake -S "$INV_ROOT" -B "$INV_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
			cmake --build "$INV_BUILD" -j"$(nproc)" --target sealroom-relay sealroom_testkit >/dev/null; } ||
			{ inv_fail "cannot build $INV_BUILD"; inv_summary; }
	fi
}

# ---- the dynamic driver -------------------------------------------------------------------

# inv_driver — path of invdrive for INV_BUILD, compiled when missing or out of date.
inv_driver() {
	local out=$INV_BUILD/ci-invariants/invdrive libs l
	libs="$INV_BUILD/lib/libsealroom_testkit.a $INV_BUILD/lib/libsealroom_client.a
		$INV_BUILD/lib/libsealroom_crypto.a $INV_BUILD/lib/libsealroom_proto.a"
	for l in $libs; do
		[ -f "$l" ] || cmake --build "$INV_BUILD" -j"$(nproc)" --target sealroom_testkit >/dev/null 2>&1
	done
	local stale=0
	[ -x "$out" ] || stale=1
	for l in $libs "$INV_DIR/invdrive.c"; do
		[ "$l" -nt "$out" ] && stale=1
	done
	if [ $stale = 1 ]; then
		mkdir -p "$(dirname "$out")"
		# shellcheck disable=SC2086
		if ! cc -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
			-Werror -I"$INV_ROOT/lib" -isystem /usr/include/cjson "$INV_DIR/invdrive.c" $libs \
			$(pkg-config --libs libcurl libsodium libcjson) -lpthread -lm -o "$out.$$.tmp" >"$INV_TMP/cc.log" 2>&1; then
			cat "$INV_TMP/cc.log" >&2
			return 1
		fi
		mv "$out.$$.tmp" "$out"
	fi
	echo "$out"
}

# inv_drive SCENARIO RELAY_BIN [TAG] — run one invdrive scenario; its result lines are
# prefixed (with TAG, e.g. "(e)", before each detail) and counted. The relays' logs and sandboxes live in INV_TMP; the driver's stderr (relay
# start-up diagnostics) is shown only when the scenario failed.
inv_drive() {
	local sc=$1 bin=$2 tag=${3:+$3 } drv out rc
	drv=$(inv_driver) || { inv_fail "cannot compile ci/invariants/invdrive.c"; return 1; }
	mkdir -p "$INV_TMP/sandbox"
	out=$("$drv" "$sc" --relay "$bin" --sandbox "$INV_TMP/sandbox" --vectors "$INV_ROOT/spec/vectors" \
		2>"$INV_TMP/drive.err")
	rc=$?
	local l
	while IFS= read -r l; do
		[ -n "$l" ] || continue
		inv_line "${l%% *}" "$tag${l#* }"
	done <<<"$out"
	if [ $rc -ne 0 ]; then
		[ -s "$INV_TMP/drive.err" ] && sed 's/^/    | /' "$INV_TMP/drive.err" | tail -n 25
		grep -q . <<<"$out" || inv_fail "invdrive $sc exited $rc without results"
	fi
	rm -rf "$INV_TMP/sandbox"
	return 0
}

# ---- scratch tree for self-tests ------------------------------------------------------------

# inv_scratch — a buildable copy of the sources plus a build of sealroom-relay in it.
# Sets INV_SCRATCH (the copy) and INV_SCRATCH_BUILD. Reuses $SEALROOM_INV_SCRATCH when set.
inv_scratch() {
	if [ -n "${SEALROOM_INV_SCRATCH:-}" ] && [ -d "$SEALROOM_INV_SCRATCH/src" ]; then
		INV_SCRATCH=$SEALROOM_INV_SCRATCH/src
		INV_SCRATCH_BUILD=$SEALROOM_INV_SCRATCH/build
		return 0
	fi
	local base=$INV_TMP/scratch
	mkdir -p "$base/src/spec"
	cp -a "$INV_ROOT/CMakeLists.txt" "$INV_ROOT/cmake" "$INV_ROOT/lib" "$INV_ROOT/relay" \
		"$INV_ROOT/conformance" "$INV_ROOT/soak" "$base/src/" || return 1
	cp -a "$INV_ROOT/spec/openapi.json" "$INV_ROOT/spec/vectors" "$base/src/spec/" || return 1
	INV_SCRATCH=$base/src
	INV_SCRATCH_BUILD=$base/build
	cmake -S "$INV_SCRATCH" -B "$INV_SCRATCH_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DSEALROOM_FAULTS=OFF >"$INV_TMP/scratch.log" 2>&1 || { cat "$INV_TMP/scratch.log"; return 1; }
	inv_scratch_build
}

# Build (incrementally) the scratch relay; prints nothing on success.
inv_scratch_build() {
	cmake --build "$INV_SCRATCH_BUILD" -j"$(nproc)" --target sealroom-relay >"$INV_TMP/scratch.log" 2>&1 ||
		{ tail -n 30 "$INV_TMP/scratch.log"; return 1; }
}

INV_PLANTED=""
# inv_plant FILE PERL-SUBSTITUTION — change one source file of the scratch tree
# (perl -0pe, so the pattern may span lines) and rebuild the relay. Fails, loudly, when the
# pattern no longer matches: the plant must then be updated to the new code.
inv_plant() {
	local f=$INV_SCRATCH/$1 subst=$2
	inv_unplant
	cp "$f" "$INV_TMP/plant.orig" || return 1
	INV_PLANTED=$f
	perl -0pi -e "$subst" "$f"
	if cmp -s "$f" "$INV_TMP/plant.orig"; then
		inv_fail "plant did not apply to $1 (the code changed: update the plant in $(basename "$0"))"
		return 1
	fi
	inv_scratch_build || { inv_fail "scratch relay with the plant in $1 does not build"; return 1; }
}

# Undo the last plant (the next build recompiles the original).
inv_unplant() {
	if [ -n "$INV_PLANTED" ]; then
		cp "$INV_TMP/plant.orig" "$INV_PLANTED" 2>/dev/null
		touch "$INV_PLANTED" 2>/dev/null
		INV_PLANTED=""
	fi
}

# The relay built from the scratch tree.
inv_scratch_relay() {
	echo "$INV_SCRATCH_BUILD/relay/sealroom-relay"
}

# inv_compile_planted NAME C-SOURCE [BASE-SOURCE] — compile a planted object to
# $INV_TMP/NAME.o and print its path: C-SOURCE alone, or appended to a copy of BASE-SOURCE
# (a relay source file, so the object keeps that file's name and role, e.g. hub.c).
inv_compile_planted() {
	local name=$1 src=$2 base=${3:-}
	{ [ -n "$base" ] && cat "$base"; printf '\n%s\n' "$src"; } >"$INV_TMP/$name.c"
	cc -std=gnu11 -D_GNU_SOURCE -O1 -c -I"$INV_ROOT/lib" -I"$INV_ROOT/relay" -isystem /usr/include/cjson \
		-I"$INV_BUILD/relay" -DSEALROOM_VERSION='"0"' -DSEALROOM_COMMIT='"x"' "$INV_TMP/$name.c" \
		-o "$INV_TMP/$name.o" \
		>"$INV_TMP/$name.log" 2>&1 || { cat "$INV_TMP/$name.log" >&2; return 1; }
	echo "$INV_TMP/$name.o"
}

# ---- source audits ---------------------------------------------------------------------------

# inv_strip FILE — the C file with comments and string/char literal contents blanked out,
# line numbers preserved (so a pattern never matches inside a comment or a string).
inv_strip() {
	perl -0777 -pe '
		s{(/\*.*?\*/)|(//[^\n]*)|("(?:\\.|[^"\\\n])*")|('"'"'(?:\\.|[^'"'"'\\\n])*'"'"')}{
			my ($c, $l, $s, $ch) = ($1, $2, $3, $4);
			my $n = defined $c ? ($c =~ tr/\n//) : 0;
			defined $c ? ($n ? "\n" x $n : " ") : defined $l ? "" : defined $s ? "\"\"" : "0"
		}gse' "$1"
}

# inv_calls FILE FUNC-REGEX — every call of a function matching FUNC-REGEX in FILE (comments
# and strings stripped), as "LINE: name(args)" with the arguments on one line.
inv_calls() {
	inv_strip "$1" | perl -0777 -ne '
		my $re = qr/'"$2"'/;
		while (/\b($re)\s*(\((?:[^()]++|(?-1))*\))/g) {
			my ($name, $args, $pos) = ($1, $2, $-[0]);
			my $line = 1 + (substr($_, 0, $pos) =~ tr/\n//);
			$args =~ s/\s+/ /g;
			print "$line: $name$args\n";
		}'
}
