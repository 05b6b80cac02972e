#!/usr/bin/env bash
# inv-06-b64-strict.sh — INV-6: crypto-bearing client strings pass the strict canonical base64
# check (B64-1, B64-2) unless §4.3 says otherwise, and are stored and relayed exactly as
# received (spec/invariants.md).
#
#   ci/invariants/inv-06-b64-strict.sh [--self-test] [BUILD_DIR]
#
# (a) objects: every module that accepts a B64-2 field (room messages, DMs, registration, the
#     identity loader) references the strict checker b64_canonical.
# (b) running relay (invdrive inv06): every non-canonical vector of spec/vectors/base64.json as
#     room ciphertext, and every one that is not canonical(·,24) (plus 23-, 25- and 32-byte
#     values) as nonce, gets 400 bad message; URL-safe canonical ciphertext and nonce are
#     relayed unchanged over SSE, WS, /transcript and /wait; registration refuses
#     non-canonical or wrong-size keys with ID-REG-7 and returns stored keys as sent; DMs
#     refuse bad ciphertext, nonce and sender_eph_pub (DM-1f..h) and relay a URL-safe
#     envelope unchanged through the inbox.
# (The codec itself: lib/tests/test_b64.c and fuzz/fuzz_b64.c.)
#
# Self-test plants: message.c with every b64_canonical check made lenient (scratch object);
# a scratch relay checking room ciphertexts with the lenient decoder.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 06 "$@"

STRICT_USERS="message.c.o h_dm.c.o h_identity.c.o identity.c.o"

check_users() { # OBJ...
	local o b n=0 bad=0
	for o in "$@"; do
		b=$(basename "$o")
		[[ " $STRICT_USERS " == *" $b "* ]] || continue
		n=$((n + 1))
		if ! inv_undef "$o" | grep -qx 'b64_canonical'; then
			inv_fail "(a) $b accepts B64-2 fields but never calls b64_canonical"
			bad=1
		fi
	done
	[ $n -eq 4 ] || { inv_fail "(a) found $n of the objects $STRICT_USERS"; return; }
	[ $bad = 0 ] && inv_pass "(a) ${STRICT_USERS// /, } all check B64-2 fields with b64_canonical"
}

relay_objs() { inv_relay_objects "$INV_BUILD/relay/CMakeFiles/relay_core.dir" "$INV_ROOT"; }

inv_need_build
mapfile -t objs < <(relay_objs)
if [ $INV_SELF = 0 ]; then
	check_users "${objs[@]}"
	inv_drive inv06 "$INV_BUILD/relay/sealroom-relay" "(b)"
	inv_summary
fi

mkdir -p "$INV_TMP/src_a" "$INV_TMP/objs_a"
cp "${objs[@]}" "$INV_TMP/objs_a/"
sed 's/!b64_canonical(s, len, [-0-9]*)/!b64_lenient_len(s, len)/g' "$INV_ROOT/relay/message.c" >"$INV_TMP/src_a/message.c"
p=$(inv_compile_planted message_a '' "$INV_TMP/src_a/message.c") && cp "$p" "$INV_TMP/objs_a/message.c.o" &&
	inv_expect_fail "message.c.o validating with the lenient decoder only (scratch object)" \
		check_users "$INV_TMP"/objs_a/*.o

if inv_scratch; then
	inv_plant relay/message.c 's/!b64_canonical\(s, len, -1\)/!b64_lenient_len(s, len)/' &&
		inv_expect_fail "a relay accepting lenient room ciphertexts (scratch tree, message.c)" \
			inv_drive inv06 "$(inv_scratch_relay)" "(b)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
