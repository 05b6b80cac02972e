#!/usr/bin/env bash
# inv-09-seq-monotonic.sh — INV-9: seqs never go backwards: room seqs are seeded from the wall
# clock (ROOM-7), the DM inbox_seq is persisted when STATE_DIR is set (DM-4, STATE-2), and a
# rejected DM consumes no seq (spec/invariants.md).
#
#   ci/invariants/inv-09-seq-monotonic.sh [--self-test] [BUILD_DIR]
#
# Running relay (invdrive inv09), STATE_DIR set:
#   (a) 60 posts alternating HTTP and WebSocket: seqs strictly +1 and equal on SSE and WS;
#       the first seq is the room's creation time in ms;
#   (b) restart after SIGTERM, then after SIGKILL: the room's next seq is above every earlier
#       one (rooms are not persisted, so this rests on the wall-clock seed);
#   (c) DMs: a rejected DM between two accepted ones consumes no seq; inbox_seq reaches
#       identities.json within the DM-4 window; after SIGTERM and after SIGKILL the next DM
#       seq is above every earlier one.
# Note: (b) holds while a room receives fewer than 1000 messages per second on average since
# its creation (seq = createdAt + count); RL-2 keeps a single IP well below that.
#
# Self-test plant: a scratch relay whose rooms start their seqs at 1.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 09 "$@"

inv_need_build
if [ $INV_SELF = 0 ]; then
	inv_drive inv09 "$INV_BUILD/relay/sealroom-relay"
	inv_summary
fi

if inv_scratch; then
	inv_plant relay/hub.c 's/(room->next_seq = )now;/${1}1;/' &&
		inv_expect_fail "a relay seeding room seqs at 1 instead of the wall clock (scratch tree, hub.c)" \
			inv_drive inv09 "$(inv_scratch_relay)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
