#!/usr/bin/env bash
# inv-05-serialise-once.sh — INV-5: a broadcast serialises its event once; every subscriber
# of the room receives the same JSON text, framed for its transport (SSE-9, WS-17;
# spec/invariants.md).
#
#   ci/invariants/inv-05-serialise-once.sh [--self-test] [BUILD_DIR]
#
# (a) objects: the transport objects (SSE and WebSocket handlers) reference no JSON rendering
#     symbol (jw_*, json_escape, cJSON_Print*, cJSON_Create*, cJSON_Add*): transports only
#     frame bytes the hub rendered.
# (b) in process (serialise_once.c linked with relay_core, every renderer counted through
#     --wrap): the renders made while posting do not depend on the number of subscribers
#     (1 vs 24), and all 24 subscribers' cursors yield pointer-equal event objects.
# (c) running relay (invdrive inv05): 2 SSE + 2 WebSocket subscribers, 40 messages with
#     non-ASCII, escaped and control characters in the label: every SSE data line equals
#     every WS frame byte for byte, and each appears verbatim in /transcript and /wait.
#
# Self-test plants: ws.c with an appended cJSON_PrintUnformatted re-render (scratch object);
# a wrapped room_post that renders once more per subscriber (scratch object linked into (b));
# a scratch relay whose WebSocket writer drops the last byte of each event.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 05 "$@"

TRANSPORTS="h_sse.c.o ws.c.o"
RENDER_PREFIXES="jw_ cJSON_Print cJSON_Create cJSON_Add"
RENDER_SYMS="json_escape"
WRAPS="-Wl,--wrap=jw_take,--wrap=cJSON_Print,--wrap=cJSON_PrintUnformatted,--wrap=cJSON_PrintBuffered"

check_transports() { # OBJ...
	local o b syms n=0 bad=0
	for o in "$@"; do
		b=$(basename "$o")
		[[ " $TRANSPORTS " == *" $b "* ]] || continue
		n=$((n + 1))
		syms=$(inv_undef "$o" | inv_match_syms "$RENDER_SYMS" "$RENDER_PREFIXES" | tr '\n' ' ')
		if [ -n "$syms" ]; then
			inv_fail "(a) transport $b renders JSON itself: ${syms% }"
			bad=1
		fi
	done
	[ $n -eq 2 ] || { inv_fail "(a) found $n of the transport objects ($TRANSPORTS)"; return; }
	[ $bad = 0 ] && inv_pass "(a) the SSE and WebSocket transports reference no JSON renderer: they frame the hub's bytes"
}

# run_inprocess [EXTRA_OBJ EXTRA_LDFLAGS] — build and run serialise_once.c.
run_inprocess() {
	local exe=$INV_TMP/serialise_once$RANDOM out
	# shellcheck disable=SC2086
	if ! cc -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-missing-prototypes \
		-I"$INV_ROOT/lib" -I"$INV_ROOT/relay" -isystem /usr/include/cjson -DSEALROOM_VERSION='"0"' \
		-DSEALROOM_COMMIT='"x"' "$INV_DIR/serialise_once.c" ${1:-} "$INV_BUILD/relay/librelay_core.a" \
		"$INV_BUILD/lib/libsealroom_crypto.a" "$INV_BUILD/lib/libsealroom_proto.a" -lcivetweb \
		$(pkg-config --libs libsodium libcjson) -lpthread -lm $WRAPS ${2:-} -o "$exe" >"$exe.log" 2>&1; then
		inv_fail "(b) cannot build ci/invariants/serialise_once.c: $(head -c 300 "$exe.log")"
		return
	fi
	out=$("$exe" 2>&1)
	while IFS= read -r l; do
		[ -n "$l" ] && inv_line "${l%% *}" "(b) ${l#* }"
	done <<<"$out"
}

relay_objs() { inv_relay_objects "$INV_BUILD/relay/CMakeFiles/relay_core.dir" "$INV_ROOT"; }

inv_need_build
mapfile -t objs < <(relay_objs)
if [ $INV_SELF = 0 ]; then
	check_transports "${objs[@]}"
	run_inprocess
	inv_drive inv05 "$INV_BUILD/relay/sealroom-relay" "(c)"
	inv_summary
fi

mkdir -p "$INV_TMP/objs_a"
cp "${objs[@]}" "$INV_TMP/objs_a/"
p=$(inv_compile_planted ws_a '#include <cjson/cJSON.h>
char *ws_planted_rerender(const cJSON *ev);
char *ws_planted_rerender(const cJSON *ev) { return cJSON_PrintUnformatted(ev); }' \
	"$INV_ROOT/relay/ws.c") && cp "$p" "$INV_TMP/objs_a/ws.c.o" &&
	inv_expect_fail "ws.c.o re-rendering events with cJSON_PrintUnformatted (scratch object)" \
		check_transports "$INV_TMP"/objs_a/*.o

p=$(inv_compile_planted per_sub '#include <string.h>
#include "hub.h"
#include "proto/json.h"
enum post_rc __real_room_post(struct hub *h, struct room *room, const struct post *p, int64_t *seq, char *id);
enum post_rc __wrap_room_post(struct hub *h, struct room *room, const struct post *p, int64_t *seq, char *id);
/* A hub that renders the message again for every subscriber. */
enum post_rc __wrap_room_post(struct hub *h, struct room *room, const struct post *p, int64_t *seq, char *id)
{
	enum post_rc rc = __real_room_post(h, room, p, seq, id);
	for (int i = 0; i < room->nsubs; i++) {
		struct jw w; size_t n;
		jw_init(&w, 64, 1 << 20); jw_obj(&w); jw_key(&w, "ciphertext"); jw_str(&w, p->ct, p->ct_len);
		jw_obj_end(&w); free(jw_take(&w, &n));
	}
	return rc;
}') && inv_expect_fail "a hub rendering once per subscriber (wrapped room_post, scratch object)" \
	run_inprocess "$p" "-Wl,--wrap=room_post"

if inv_scratch; then
	inv_plant relay/ws.c 's/e->json, e->len\) > 0; \/\* WS-17 \*\//e->json, e->len - 1) > 0; \/* WS-17 *\//' &&
		inv_expect_fail "a relay whose WebSocket frames differ from the SSE text (scratch tree, ws.c)" \
			inv_drive inv05 "$(inv_scratch_relay)" "(c)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
