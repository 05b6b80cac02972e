#!/usr/bin/env bash
# inv-03-disk-writes.sh — INV-3: disk writes are limited to the identity registry
# (STATE_DIR/identities.json, STATE-1..4) and the bug-report log (BUGS_LOG, RPT-4); no metrics
# or any other file (spec/invariants.md).
#
#   ci/invariants/inv-03-disk-writes.sh [--self-test] [BUILD_DIR]
#
# (a) objects, stated positively: the relay objects that reference file-writing symbols are
#     exactly the identity store and the bug log (identity.c.o, report.c.o), plus main.c.o's
#     read-only open of /proc/self/exe (META-3).
# (b) civetweb writes files only when told to: no relay source sets document_root,
#     access_log_file, error_log_file, put_delete_auth_file or global_auth_file.
# (c) running relay (invdrive inv03), STATE_DIR and BUGS_LOG set, traffic on every route plus
#     PUT/DELETE/MKCOL and path tricks: every file held open for writing (/proc/PID/fd +
#     fdinfo, polled) and every file left in its sandbox is identities.json, its temp file or
#     the bug log; with both unset, no file is created or modified at all.
#
# Self-test plants: metrics.c with an appended metrics-file writer (scratch object); a relay
# source copy that sets civetweb's access_log_file; a scratch relay whose /api/health writes
# metrics.json into its cwd.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 03 "$@"

WRITERS="identity.c.o report.c.o"
CIVET_FILE_OPTS='"(document_root|access_log_file|error_log_file|put_delete_auth_file|global_auth_file|ssl_certificate)"'

check_writers() { # OBJ...
	local o b syms got=""
	for o in "$@"; do
		b=$(basename "$o")
		syms=$(inv_undef "$o" | inv_match_syms "$INV_FILE_SYMS" "" | tr '\n' ' ')
		[ -z "$syms" ] && continue
		[ "$b" = main.c.o ] && [ "${syms% }" = open ] && continue
		got="$got $b"
	done
	got=$(tr ' ' '\n' <<<"$got" | sed '/^$/d' | sort | tr '\n' ' ')
	if [ "${got% }" = "$(tr ' ' '\n' <<<"$WRITERS" | sort | tr '\n' ' ' | sed 's/ $//')" ]; then
		inv_pass "(a) the objects that can write files are exactly: ${got% }"
	else
		inv_fail "(a) objects that can write files: [${got% }], allowed exactly: [$WRITERS]"
	fi
}

check_civet() { # DIR
	local hits
	hits=$(grep -nE "$CIVET_FILE_OPTS" "$1"/*.c 2>/dev/null | sed "s|^$1/||" | tr '\n' ' ')
	if [ -z "$hits" ]; then
		inv_pass "(b) no relay source gives civetweb a document root, log file or auth file"
	else
		inv_fail "(b) civetweb file options set: $hits"
	fi
}

relay_objs() { inv_relay_objects "$INV_BUILD/relay/CMakeFiles/relay_core.dir" "$INV_ROOT"; }

inv_need_build
mapfile -t objs < <(relay_objs; ls "$INV_BUILD"/relay/CMakeFiles/sealroom-relay.dir/main.c.o 2>/dev/null)
if [ $INV_SELF = 0 ]; then
	check_writers "${objs[@]}"
	check_civet "$INV_ROOT/relay"
	inv_drive inv03 "$INV_BUILD/relay/sealroom-relay" "(c)"
	inv_summary
fi

mkdir -p "$INV_TMP/objs_a"
cp "${objs[@]}" "$INV_TMP/objs_a/"
p=$(inv_compile_planted metrics_a '#include <stdio.h>
void metrics_planted_dump(void);
void metrics_planted_dump(void) { FILE *f = fopen("metrics.json", "w"); if (f) fclose(f); }' \
	"$INV_ROOT/relay/metrics.c") && cp "$p" "$INV_TMP/objs_a/metrics.c.o" &&
	inv_expect_fail "metrics.c.o writing a metrics file (scratch object)" check_writers "$INV_TMP"/objs_a/*.o

mkdir -p "$INV_TMP/src_b"
cp "$INV_ROOT"/relay/*.c "$INV_TMP/src_b/"
perl -0pi -e 's/("tcp_nodelay", "1",)/$1 "access_log_file", "access.log",/' "$INV_TMP/src_b/http.c"
inv_expect_fail "http.c giving civetweb an access_log_file (source copy)" check_civet "$INV_TMP/src_b"

if inv_scratch; then
	inv_plant relay/h_meta.c 's/(void h_health\(struct req \*r\)\n\{\n)/$1\t{ FILE *f_ = fopen("metrics.json", "w"); if (f_) fclose(f_); }\n/' &&
		inv_expect_fail "a relay writing metrics.json into its cwd on /api/health (scratch tree, h_meta.c)" \
			inv_drive inv03 "$(inv_scratch_relay)" "(c)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
