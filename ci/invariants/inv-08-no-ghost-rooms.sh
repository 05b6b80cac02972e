#!/usr/bin/env bash
# inv-08-no-ghost-rooms.sh — INV-8: only POST …/messages, GET …/events and the WebSocket
# upgrade create rooms (ROOM-1; spec/invariants.md).
#
#   ci/invariants/inv-08-no-ghost-rooms.sh [--self-test] [BUILD_DIR]
#
# (a) source: hub_get() is called with create != false only once in each of the three
#     creating handlers (h_rooms.c: POST messages; h_sse.c: events; ws.c: the upgrade) and
#     nowhere else; every other lookup passes a literal false.
# (b) running relay (invdrive inv08): for a fresh room id, status, transcript, wait, HEAD,
#     listening, a /ws request without Upgrade, invalid and malformed POSTs, claim and ack
#     (signed) each leave /api/health rooms and the metrics' active_rooms unchanged, status
#     still says exists:false and rooms_created_total does not move; then each of the three
#     creators does create a room.
#
# Self-test plants: a copy of h_rooms.c whose status lookup creates; a scratch relay whose
# GET …/status creates the room.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 08 "$@"

CREATORS="h_rooms.c h_sse.c ws.c"

check_source() { # DIR
	local dir=$1 f b n bad=0 calls
	for f in "$dir"/*.c; do
		b=$(basename "$f")
		[ "$b" = hub.c ] && continue
		calls=$(inv_calls "$f" 'hub_get' | grep -vE 'hub_get\([^,]*,[^,]*, *false *,')
		n=$(grep -c . <<<"$calls")
		[ -z "$calls" ] && n=0
		if [[ " $CREATORS " == *" $b "* ]]; then
			[ "$n" -le 1 ] && continue
			inv_fail "(a) $b may create rooms from $n places (one allowed): $(tr '\n' ';' <<<"$calls")"
		else
			[ "$n" -eq 0 ] && continue
			inv_fail "(a) $b may create rooms (only ${CREATORS// /, } may): $(tr '\n' ';' <<<"$calls")"
		fi
		bad=1
	done
	[ $bad = 0 ] && inv_pass "(a) hub_get(create) appears once each in ${CREATORS// /, } and nowhere else"
}

inv_need_build
if [ $INV_SELF = 0 ]; then
	check_source "$INV_ROOT/relay"
	inv_drive inv08 "$INV_BUILD/relay/sealroom-relay" "(b)"
	inv_summary
fi

PLANT='s/(void h_room_status\(.*?hub_get\(relay->hub, m->p1, )false(, NULL\))/${1}true$2/s'
mkdir -p "$INV_TMP/src_a"
cp "$INV_ROOT"/relay/*.c "$INV_TMP/src_a/"
perl -0pi -e "$PLANT" "$INV_TMP/src_a/h_rooms.c"
inv_expect_fail "a status lookup that creates (copy of h_rooms.c)" check_source "$INV_TMP/src_a"

if inv_scratch; then
	inv_plant relay/h_rooms.c "$PLANT" &&
		inv_expect_fail "a relay whose GET …/status creates the room (scratch tree, h_rooms.c)" \
			inv_drive inv08 "$(inv_scratch_relay)" "(b)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
