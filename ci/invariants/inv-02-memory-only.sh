#!/usr/bin/env bash
# inv-02-memory-only.sh — INV-2: rooms, buffers, subscribers, presence, cursors, waiters,
# replay caches and DM inboxes live in memory only (DM-10, STATE-4; spec/invariants.md).
#
#   ci/invariants/inv-02-memory-only.sh [--self-test] [BUILD_DIR]
#
# (a) objects: the modules holding that state (hub, rate limits, per-IP counts, validation,
#     signatures, replay caches, DM inboxes, claim cursors, request auth, janitor) reference no
#     file, shared-memory, message-queue or mmap symbol, nor write/writev/fwrite at all.
# (b) running relay (invdrive inv02), STATE_DIR set: rooms with messages, presence, a
#     subscriber, a signed lock, a DM; after SIGTERM STATE_DIR holds only identities.json with
#     the STATE-1 keys; after a restart on the same STATE_DIR no room, message or transcript
#     survived while the identity did.
#
# Self-test plants: dm.c with an appended function calling shm_open and fopen (scratch
# object); a scratch relay that appends each posted room id to STATE_DIR/rooms.json.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 02 "$@"

MEMORY_ONLY="hub.c.o ratelimit.c.o limits.c.o ipcount.c.o message.c.o roomsig.c.o replay.c.o dm.c.o claim.c.o reqauth.c.o janitor.c.o"
FORBID="$INV_FILE_SYMS $INV_IPC_SYMS write writev fwrite"

check_objects() { # OBJ...
	local o b syms n=0 bad=0
	for o in "$@"; do
		b=$(basename "$o")
		[[ " $MEMORY_ONLY " == *" $b "* ]] || continue
		n=$((n + 1))
		syms=$(inv_undef "$o" | inv_match_syms "$FORBID" "$INV_DB_PREFIXES" | tr '\n' ' ')
		if [ -n "$syms" ]; then
			inv_fail "(a) $b (in-memory state) references ${syms% }"
			bad=1
		fi
	done
	[ $n -ge 5 ] || { inv_fail "(a) only $n of the memory-only objects found in the build"; return; }
	[ $bad = 0 ] && inv_pass "(a) $n state-holding objects (${MEMORY_ONLY// /, }) reference no file, IPC, mmap or write symbol"
}

relay_objs() { inv_relay_objects "$INV_BUILD/relay/CMakeFiles/relay_core.dir" "$INV_ROOT"; }

inv_need_build
mapfile -t objs < <(relay_objs)
if [ $INV_SELF = 0 ]; then
	check_objects "${objs[@]}"
	inv_drive inv02 "$INV_BUILD/relay/sealroom-relay" "(b)"
	inv_summary
fi

mkdir -p "$INV_TMP/objs_a"
cp "${objs[@]}" "$INV_TMP/objs_a/"
p=$(inv_compile_planted dm_a '#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
void dm_planted_spill(const char *env);
void dm_planted_spill(const char *env) { int fd = shm_open("/inbox", O_CREAT | O_RDWR, 0600);
	FILE *f = fopen("inbox.json", "a"); if (f) { fputs(env, f); fclose(f); } (void)fd; }' \
	"$INV_ROOT/relay/dm.c") && cp "$p" "$INV_TMP/objs_a/dm.c.o" &&
	inv_expect_fail "dm.c.o spilling inboxes to shm_open/fopen (scratch object)" check_objects "$INV_TMP"/objs_a/*.o

if inv_scratch; then
	inv_plant relay/h_rooms.c 's/(\t\tmetrics_inc\(M_http_posts_total\);\n)/$1\t\t{ char p_[1200]; snprintf(p_, sizeof(p_), "%s\/rooms.json", relay->cfg.state_dir); FILE *f_ = relay->cfg.state_dir[0] ? fopen(p_, "a") : NULL; if (f_) { fputs(m->p1, f_); fclose(f_); } }\n/' &&
		inv_expect_fail "a relay persisting room ids to STATE_DIR/rooms.json (scratch tree, h_rooms.c)" \
			inv_drive inv02 "$(inv_scratch_relay)" "(b)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
