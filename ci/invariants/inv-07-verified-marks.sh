#!/usr/bin/env bash
# inv-07-verified-marks.sh — INV-7: verified identity markings ("@"+handle with
# sender_verified:true, from_verified:true) are set only by the relay, only after a valid
# signature; an unsigned DM from_handle becomes null (spec/invariants.md).
#
#   ci/invariants/inv-07-verified-marks.sh [--self-test] [BUILD_DIR]
#
# (a) source (comments and strings stripped): a verified flag is assigned true only where a
#     signature has just been verified (relay/roomsig.c), and the "sender_verified" /
#     "from_verified" keys are written only by the renderers (relay/hub.c, relay/dm.c).
# (b) running relay (invdrive inv07): bodies claiming sender_verified:true with an "@handle"
#     label (HTTP and WS), sender_handle without sender_sig and the reverse, a wrong
#     signature, a replayed one; only the validly signed message is relayed as
#     @handle/sender_verified:true; DMs with a claimed from_handle but no from_sig are stored
#     with from_handle:null, from_verified:false, a wrong from_sig is refused.
#
# Self-test plants: a copy of h_rooms.c that sets m->post.verified = true; a scratch relay
# whose validator copies sender_verified from the body.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 07 "$@"

SETTERS="roomsig.c"
RENDERERS="hub.c dm.c"

check_source() { # DIR
	local dir=$1 f b hits="" keys=""
	for f in "$dir"/*.c; do
		b=$(basename "$f")
		if [[ " $SETTERS " != *" $b "* ]]; then
			while IFS= read -r l; do
				hits="$hits $b:$l;"
			done < <(inv_strip "$f" | grep -nE '\b[a-z_]*verified\s*=\s*(true|1)\b' | sed 's/[[:space:]]\+/ /g')
		fi
		if [[ " $RENDERERS " != *" $b "* ]]; then
			# comments stripped, strings kept
			while IFS= read -r l; do
				keys="$keys $b:$l;"
			done < <(perl -0777 -pe 's{/\*.*?\*/}{my $c=$&; "\n" x ($c =~ tr/\n//)}gse; s{//[^\n]*}{}g' "$f" |
				grep -nE '"(sender|from)_verified"' | sed 's/[[:space:]]\+/ /g')
		fi
	done
	if [ -z "$hits" ]; then
		inv_pass "(a) verified flags are set true only in ${SETTERS// /, } (after the signature check)"
	else
		inv_fail "(a) verified flag set true outside ${SETTERS// /, }:$hits"
	fi
	if [ -z "$keys" ]; then
		inv_pass "(a) the sender_verified/from_verified keys are written only by ${RENDERERS// /, }"
	else
		inv_fail "(a) verified keys written outside ${RENDERERS// /, }:$keys"
	fi
}

inv_need_build
if [ $INV_SELF = 0 ]; then
	check_source "$INV_ROOT/relay"
	inv_drive inv07 "$INV_BUILD/relay/sealroom-relay" "(b)"
	inv_summary
fi

mkdir -p "$INV_TMP/src_a"
cp "$INV_ROOT"/relay/*.c "$INV_TMP/src_a/"
printf '\nstatic void planted_mark(struct msg_in *m) { m->post.verified = true; }\n' >>"$INV_TMP/src_a/h_rooms.c"
inv_expect_fail "m->post.verified = true in a copy of h_rooms.c" check_source "$INV_TMP/src_a"

if inv_scratch; then
	inv_plant relay/message.c 's/(\n\treturn true;\n\}\s*)\z/\n\tm->post.verified = cJSON_IsTrue(json_get(body, "sender_verified"));$1/' &&
		inv_expect_fail "a relay trusting the client's sender_verified (scratch tree, message.c)" \
			inv_drive inv07 "$(inv_scratch_relay)" "(b)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
