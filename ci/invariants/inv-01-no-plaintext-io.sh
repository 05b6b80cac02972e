#!/usr/bin/env bash
# inv-01-no-plaintext-io.sh — INV-1: the relay never decrypts, logs, writes or persists message
# bodies (room or DM ciphertext) or keys (spec/invariants.md).
#
#   ci/invariants/inv-01-no-plaintext-io.sh [--self-test] [BUILD_DIR]
#
# (a) binary: sealroom-relay imports no libsodium opening or key-agreement function and
#     contains no client envelope code (env_*): it cannot decrypt.
# (b) objects: the file-writing symbols (lib.sh INV_FILE_SYMS) appear only in the identity
#     store and bug-log objects; database and syslog symbols in none.
# (c) call graph over the built objects (callgraph.pl): from every function of the message
#     path (rooms, SSE, WebSocket, validation, signatures, DMs) no file-writing, database or
#     syslog call is reachable, not even through the allowed writers.
# (d) source: no printf-family or syslog call in relay/*.c passes an argument named like a
#     body or a key (ciphertext, nonce, *_pub, *_sig, key, body).
# (e) running relay (invdrive inv01): marker ciphertexts, nonces and sender_eph_pub sent over
#     HTTP, WebSocket and DMs never appear in stdout/stderr or in any file it can write.
#
# Self-test plants, one per check: a scratch binary importing crypto_secretbox_open_easy;
# hub.c with an appended function that fopen()s a file; hub.c with an appended function that
# calls the identity store's writer ids_persist (allowed in (b), so only (c) can see it); a
# relay source copy with fprintf(stderr, ciphertext); a scratch relay whose room handler
# prints the ciphertext to stderr.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 01 "$@"

# The only objects allowed to write files (INV-3): the identity store (STATE-1..4) and the
# bug-report log (RPT-4). main.c.o opens /proc/self/exe read-only for META-3.
WRITERS="identity.c.o report.c.o"
READ_ONLY_OPEN="main.c.o:open"
# The message path: every object a room message or a DM passes through.
MSG_PATH="hub.c.o,h_rooms.c.o,h_sse.c.o,ws.c.o,message.c.o,roomsig.c.o,limits.c.o,ratelimit.c.o,ipcount.c.o,replay.c.o,dm.c.o,h_dm.c.o,claim.c.o,h_claim.c.o,reqauth.c.o"
DECRYPT_RE='^(crypto_secretbox_.*open.*|crypto_box_.*open.*|crypto_box_seal_open|crypto_box_beforenm|crypto_box_.*beforenm|crypto_scalarmult|crypto_scalarmult_curve25519|crypto_kx_.*session_keys|crypto_aead_.*decrypt.*|crypto_secretstream_.*pull|crypto_stream_.*xor.*|crypto_onetimeauth_verify)$'

check_binary() { # BIN
	local bin=$1 bad env
	bad=$(nm -D --undefined-only "$bin" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' | grep -E "$DECRYPT_RE" | tr '\n' ' ')
	env=$(nm "$bin" 2>/dev/null | awk '$2 ~ /^[Tt]$/ && $3 ~ /^env_/ {print $3}' | tr '\n' ' ')
	if [ -z "$bad$env" ]; then
		inv_pass "(a) $(basename "$bin") imports no opening/key-agreement function and links no env_* envelope code"
	else
		inv_fail "(a) $(basename "$bin") can decrypt: imports [${bad% }] envelope code [${env% }]"
	fi
}

check_objects() { # OBJ...
	local o b syms bad=0 n=0
	for o in "$@"; do
		n=$((n + 1))
		b=$(basename "$o")
		syms=$(inv_undef "$o" | inv_match_syms "$INV_FILE_SYMS" "" | tr '\n' ' ')
		for s in $syms; do
			if [[ " $WRITERS " == *" $b "* ]] || [ "$b:$s" = "$READ_ONLY_OPEN" ]; then
				continue
			fi
			inv_fail "(b) $b references $s: only ${WRITERS// /, } may write files (INV-1, INV-3)"
			bad=1
		done
		syms=$(inv_undef "$o" | inv_match_syms "$INV_DB_SYMS" "$INV_DB_PREFIXES" | tr '\n' ' ')
		if [ -n "$syms" ]; then
			inv_fail "(b) $b references database/syslog symbols: $syms"
			bad=1
		fi
	done
	[ $bad = 0 ] && inv_pass "(b) $n relay objects: file-writing symbols only in ${WRITERS// /, }; no database or syslog symbol"
}

check_callgraph() { # OBJ...
	local out rc
	# shellcheck disable=SC2086
	out=$(perl "$INV_DIR/callgraph.pl" --roots "$MSG_PATH" --forbid "$(echo $INV_FILE_SYMS $INV_DB_SYMS | tr ' ' ,)" \
		--forbid-prefix "$(echo $INV_DB_PREFIXES | tr ' ' ,)" "$@")
	rc=$?
	local stats
	stats=$(grep '^callgraph:' <<<"$out")
	if [ $rc -eq 0 ]; then
		inv_pass "(c) no file-writing, database or syslog call reachable from the message path (${stats#callgraph: })"
	else
		while IFS= read -r l; do
			inv_fail "(c) reachable from the message path: ${l#REACH }"
		done < <(grep '^REACH' <<<"$out")
		[ $rc -ne 1 ] && inv_fail "(c) callgraph.pl failed: $out"
	fi
}

check_source() { # DIR (relay sources)
	local dir=$1 f hits="" n=0
	for f in "$dir"/*.c; do
		while IFS= read -r call; do
			[ -n "$call" ] || continue
			# the arguments after the format, identifiers only
			if grep -qiE '[(,] *[a-z_>.-]*(ciphertext|nonce|_pub|_sig|[^a-z]key|body)[a-z_]*[^(a-z_]' <<<"${call#*(}"; then
				hits="$hits $(basename "$f"):$call;"
				n=$((n + 1))
			fi
		done < <(inv_calls "$f" 'printf|fprintf|dprintf|vfprintf|fputs|puts|fwrite|syslog|vsyslog|perror')
	done
	if [ $n -eq 0 ]; then
		inv_pass "(d) no printf/fputs/fwrite/syslog call in relay/*.c passes a body- or key-named argument"
	else
		inv_fail "(d) logging calls with body/key arguments:$hits"
	fi
}

relay_objs() { inv_relay_objects "$INV_BUILD/relay/CMakeFiles/relay_core.dir" "$INV_ROOT"; }

if [ $INV_SELF = 0 ]; then
	inv_need_build
	check_binary "$INV_BUILD/relay/sealroom-relay"
	mapfile -t objs < <(relay_objs; ls "$INV_BUILD"/relay/CMakeFiles/sealroom-relay.dir/main.c.o 2>/dev/null)
	check_objects "${objs[@]}"
	mapfile -t libs < <(inv_lib_objects "$INV_BUILD")
	check_callgraph "${objs[@]}" "${libs[@]}"
	check_source "$INV_ROOT/relay"
	inv_drive inv01 "$INV_BUILD/relay/sealroom-relay" "(e)"
	inv_summary
fi

# ---- self-test ---------------------------------------------------------------------------------
inv_need_build
mapfile -t objs < <(relay_objs)
mapfile -t libs < <(inv_lib_objects "$INV_BUILD")
hub=$INV_BUILD/relay/CMakeFiles/relay_core.dir/hub.c.o

# (a) a binary that imports the secretbox opener
p=$(inv_compile_planted planted_open '#include <sodium.h>
int main(void) { unsigned char m[1], c[17] = {0}, n[24] = {0}, k[32] = {0};
	return crypto_secretbox_open_easy(m, c, sizeof c, n, k); }') &&
	cc "$p" -lsodium -o "$INV_TMP/planted_relay" &&
	inv_expect_fail "a relay binary importing crypto_secretbox_open_easy" check_binary "$INV_TMP/planted_relay"

# (b) hub.c.o that opens a file
mkdir -p "$INV_TMP/objs_b"
cp "${objs[@]}" "$INV_TMP/objs_b/"
p=$(inv_compile_planted hub_b '#include <stdio.h>
void hub_planted_publish(const char *ct);
void hub_planted_publish(const char *ct) { FILE *f = fopen("msgs.log", "a"); if (f) { fputs(ct, f); fclose(f); } }' \
	"$INV_ROOT/relay/hub.c") && cp "$p" "$INV_TMP/objs_b/hub.c.o" &&
	inv_expect_fail "hub.c.o calling fopen (scratch object)" check_objects "$INV_TMP"/objs_b/*.o

# (c) hub.c.o that calls the identity store's writer: allowed symbol-wise, caught by reachability
mkdir -p "$INV_TMP/objs_c"
cp "${objs[@]}" "$INV_TMP/objs_c/"
p=$(inv_compile_planted hub_c '#include "identity.h"
void hub_planted_snapshot(struct idstore *s);
void hub_planted_snapshot(struct idstore *s) { ids_persist(s); }' "$INV_ROOT/relay/hub.c") &&
	cp "$p" "$INV_TMP/objs_c/hub.c.o" &&
	inv_expect_fail "hub.c.o reaching ids_persist (identity.c.o) and its fsync/rename" \
		check_callgraph "$INV_TMP"/objs_c/*.o "${libs[@]}"

# (d) a relay source that logs the ciphertext
mkdir -p "$INV_TMP/src_d"
cp "$INV_ROOT"/relay/*.c "$INV_TMP/src_d/"
printf '\nstatic void planted_debug(const char *ciphertext) { fprintf(stderr, "%%s\\n", ciphertext); }\n' \
	>>"$INV_TMP/src_d/hub.c"
inv_expect_fail "fprintf(stderr, ..., ciphertext) in a copy of hub.c" check_source "$INV_TMP/src_d"

# (e) a relay that prints each room ciphertext to stderr
if inv_scratch; then
	inv_plant relay/h_rooms.c 's/(if \(!msg_validate\(r->json, false, &in\)\) \{.*?\n\t\}\n)/$1\tfprintf(stderr, "debug %.*s\\n", (int)in.post.ct_len, in.post.ct);\n/s' &&
		inv_expect_fail "a relay that logs room ciphertexts (scratch tree, h_rooms.c)" \
			inv_drive inv01 "$(inv_scratch_relay)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
