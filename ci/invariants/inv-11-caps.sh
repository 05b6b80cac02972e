#!/usr/bin/env bash
# inv-11-caps.sh — INV-11: every structure that grows with client input has a configurable cap
# (§14, CFG-1); a full cap refuses the new item and never silently skips a security check
# (REPLAY-3: a signed item is never accepted unrecorded; spec/invariants.md).
#
#   ci/invariants/inv-11-caps.sh [--self-test] [BUILD_DIR]
#
# (a) configuration: every setting PROTOCOL.md §14/§16 names appears in --help as flag and
#     variable; each numeric one is accepted as --flag=5 and as NAME=5, and a negative or
#     malformed value stops start-up (exit 2) with a message naming it (CFG-1, CFG-2).
# (b) running relays (invdrive inv11), each cap set small and filled: CAP-1 streams per IP
#     (SSE 429, WS error frame, slot released on close), CAP-2 waiters per IP, CAP-3 waiters
#     per room, CAP-5 rooms (POST 503 + Retry-After 60, SSE error event), CAP-6 byte fuse,
#     CAP-9 buffer, CAP-13 heartbeats, HTTP-14 body size, WS-4 frame size (1009), CAP-8
#     identities, CAP-12 at 1 for the room-signature, request-auth and DM-envelope caches
#     (the next signed item gets 503 and is not stored; the recorded one still cannot be
#     replayed), CAP-10 inbox length, CAP-4 inbox waiters per handle, CAP-7 DM byte fuse.
#     CAP-11 (cursor LRU) and CAP-14 (subscriber backlog) are reported as SKIP: not driven.
#
# Self-test plants: a relay binary whose --help omits ROOMS_MAX (scratch wrapper); a scratch
# relay whose per-IP counter never refuses.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 11 "$@"

# PROTOCOL.md §16 (the existing relay's names, then the sealroom ones) and §14.
NUMERIC="PORT ROOMS_MAX ROOM_GLOBAL_MAX_BYTES INBOX_GLOBAL_MAX_BYTES STREAM_CAP_PER_IP
WAITER_CAP_PER_IP ROOM_WAITERS_MAX DM_WAITERS_MAX_PER_HANDLE GLOBAL_RL_CAP GLOBAL_RL_REFILL_PER_SEC
INBOX_SIG_SEEN_MAX ROOM_SIG_SEEN_MAX DM_ENV_SEEN_MAX ROOM_CURSORS_PER_HANDLE_MAX CLAIM_TTL_MS
IDENTITIES_MAX STATE_FILE_MAX BUGS_LOG_MAX_BYTES ROOM_RL_CAP ROOM_RL_REFILL_PER_SEC
REGISTER_SIG_SEEN_MAX RECENT_MAX RECENT_TTL_MS INBOX_MAX INBOX_TTL_MS JSON_BODY_MAX_BYTES
WS_MAX_PAYLOAD_BYTES LISTENERS_MAX_PER_ROOM SUB_BACKLOG_MAX_BYTES"
STRINGS="HOST IDENTITY_ADMIN_TOKEN METRICS_TOKEN STATE_DIR BUGS_LOG BUGS_IP_SALT SOURCE_URL"

check_config() { # BIN
	local bin=$1 help name flag rc err bad=0 n=0
	help=$("$bin" --help 2>&1)
	for name in $NUMERIC $STRINGS; do
		n=$((n + 1))
		flag=--$(tr 'A-Z_' 'a-z-' <<<"$name")
		if ! grep -q -- "$flag" <<<"$help" || ! grep -qw -- "$name" <<<"$help"; then
			inv_fail "(a) $name: --help does not list $flag and $name (CFG-1)"
			bad=1
			continue
		fi
		[[ " $STRINGS " == *" $name "* ]] && continue
		"$bin" "$flag=5" --version >/dev/null 2>&1 || { inv_fail "(a) $name: $flag=5 refused"; bad=1; }
		env "$name=5" "$bin" --version >/dev/null 2>&1 || { inv_fail "(a) $name: $name=5 refused"; bad=1; }
		for v in -1 abc; do
			err=$("$bin" "$flag=$v" --version 2>&1 >/dev/null)
			rc=$?
			if [ $rc -ne 2 ] || ! grep -q "$name" <<<"$err"; then
				inv_fail "(a) $name: $flag=$v gave exit $rc and '${err:0:80}' (CFG-2: exit 2 naming $name)"
				bad=1
			fi
		done
		err=$(env "$name=x1" "$bin" --version 2>&1 >/dev/null)
		rc=$?
		if [ $rc -ne 2 ] || ! grep -q "$name" <<<"$err"; then
			inv_fail "(a) $name: environment $name=x1 gave exit $rc (CFG-2)"
			bad=1
		fi
	done
	[ $bad = 0 ] && inv_pass "(a) $n settings of §14/§16 listed in --help; numeric ones accepted as flag and variable, malformed and negative values stop start-up naming the setting"
}

inv_need_build
if [ $INV_SELF = 0 ]; then
	check_config "$INV_BUILD/relay/sealroom-relay"
	inv_drive inv11 "$INV_BUILD/relay/sealroom-relay" "(b)"
	inv_summary
fi

cat >"$INV_TMP/fake-relay" <<EOS
#!/bin/sh
case " \$* " in
*" --help "*) "$INV_BUILD/relay/sealroom-relay" --help | grep -v -e ROOMS_MAX -e rooms-max ;;
*) exec "$INV_BUILD/relay/sealroom-relay" "\$@" ;;
esac
EOS
chmod +x "$INV_TMP/fake-relay"
inv_expect_fail "a relay whose --help lacks ROOMS_MAX (scratch wrapper)" check_config "$INV_TMP/fake-relay"

if inv_scratch; then
	inv_plant relay/ipcount.c 's/(bool ipc_take\([^)]*\)\s*\{)/$1\n\tif (t)\n\t\treturn true;/' &&
		inv_expect_fail "a relay whose per-IP stream and waiter caps never refuse (scratch tree, ipcount.c)" \
			inv_drive inv11 "$(inv_scratch_relay)" "(b)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
