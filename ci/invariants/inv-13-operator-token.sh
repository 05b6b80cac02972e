#!/usr/bin/env bash
# inv-13-operator-token.sh — INV-13: operator endpoints require a bearer token compared in
# constant time (MET-1, MET-2 for /metrics and /api/metrics; ID-REG-3 for the register
# operator token; spec/invariants.md).
#
#   ci/invariants/inv-13-operator-token.sh [--self-test] [BUILD_DIR]
#
# (a) source audit (comments and strings stripped), per relay/*.c: every identifier that holds
#     a token — any name containing "token", and every variable assigned from one — is never
#     an argument of an early-exit comparison (strcmp, strncmp, memcmp, bcmp, strcasecmp,
#     strncasecmp, strcoll).
# (b) every file that reads a *_token setting compares in constant time: sodium_memcmp() or
#     crypto_verify_{16,32,64}(), or a file-local helper taking the token whose body
#     accumulates with |= and has a single return (no early exit).
# (c) running relay (invdrive inv13): METRICS_TOKEN unset gives 503; missing, wrong, prefix,
#     longer, wrong-case, other-scheme, other-token and ?token= credentials give 401 on both
#     metrics endpoints; the right token gives 200 with Cache-Control: no-store; a reserved
#     handle registers only with the operator token.
# (A timing measurement would be flaky on shared CI machines; the audit checks the code path.)
#
# Self-test plants: a copy of h_meta.c comparing the token with strcmp; a scratch relay whose
# metrics endpoints accept any bearer token.
set -uo pipefail
# shellcheck source=ci/invariants/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
inv_setup 13 "$@"

# Prints "EARLY file:line call" and "NOCT file" findings for one stripped source file.
audit_file() { # FILE
	inv_strip "$1" | perl -0777 -ne '
		my $f = $ARGV[0] // "";
		my %t;
		$t{$1} = 1 while /\b(\w*_token|token_\w*|token)\b/gi;   # not the rate-limit "tokens"
		for my $round (1 .. 3) {   # assignments and initialisers from tainted names, transitively
			while (/\b(\w+)\s*=\s*([^;=][^;]*);/g) {
				my ($lhs, $rhs) = ($1, $2);
				for my $n (keys %t) { if ($rhs =~ /\b\Q$n\E\b/) { $t{$lhs} = 1; last; } }
			}
		}
		delete $t{$_} for qw(NULL const char);
		my $tainted = sub { my $a = shift; for my $n (keys %t) { return 1 if $a =~ /\b\Q$n\E\b/ } 0 };
		my $reads_setting = /(\.|->)\w+_token\b/;
		my $ct = 0;
		while (/\b(\w+)\s*(\((?:[^()]++|(?-1))*\))/g) {
			my ($fn, $args, $pos, $end) = ($1, $2, $-[0], $+[0]);
			pos($_) = $-[2] + 1;   # continue inside the parentheses: nested calls count too
			next if $fn =~ /^(if|for|while|switch|return|sizeof)$/;
			my $line = 1 + (substr($_, 0, $pos) =~ tr/\n//);
			next if substr($_, $end, 40) =~ /^\s*\{/;   # a definition, not a call
			if ($fn =~ /^(strcmp|strncmp|memcmp|bcmp|strcasecmp|strncasecmp|strcoll)$/ && $tainted->($args)) {
				(my $a = $args) =~ s/\s+/ /g;
				print "EARLY $line $fn$a\n";
			}
			$ct = 1 if $fn =~ /^(sodium_memcmp|crypto_verify_(16|32|64))$/;
			if (!$ct && $tainted->($args)) {
				# a file-local helper: body with |= and a single return
				if (/\bstatic\s+[\w\s\*]*\b\Q$fn\E\s*\([^)]*\)\s*(\{(?:[^{}]++|(?-1))*\})/s) {
					my $body = $1;
					my $returns = () = $body =~ /\breturn\b/g;
					$ct = 1 if $body =~ /\|=/ && $returns == 1;
				}
			}
		}
		print "NOCT\n" if $reads_setting && !$ct;
	' "$1"
}

check_audit() { # DIR
	local dir=$1 f b out early="" noct="" n=0
	for f in "$dir"/*.c; do
		b=$(basename "$f")
		out=$(audit_file "$f")
		grep -qE '(\.|->)[a-z_]+_token\b' <(inv_strip "$f") && n=$((n + 1))
		while IFS= read -r l; do
			case "$l" in
			EARLY*) early="$early $b:${l#EARLY };" ;;
			NOCT*) noct="$noct $b" ;;
			esac
		done <<<"$out"
	done
	if [ -z "$early" ]; then
		inv_pass "(a) no token-holding value reaches strcmp/strncmp/memcmp/bcmp/strcasecmp"
	else
		inv_fail "(a) early-exit comparison of a token:$early"
	fi
	if [ -z "$noct" ] && [ $n -gt 0 ]; then
		inv_pass "(b) the $n files that read a *_token setting compare it in constant time"
	else
		inv_fail "(b) files reading a *_token setting without a constant-time comparison:${noct:- (none found)}"
	fi
}

inv_need_build
if [ $INV_SELF = 0 ]; then
	check_audit "$INV_ROOT/relay"
	inv_drive inv13 "$INV_BUILD/relay/sealroom-relay" "(c)"
	inv_summary
fi

mkdir -p "$INV_TMP/src_a"
cp "$INV_ROOT"/relay/*.c "$INV_TMP/src_a/"
perl -0pi -e 's/!token_ok\(auth \+ 7, strlen\(auth \+ 7\), want\)/strcmp(auth + 7, want) != 0/' "$INV_TMP/src_a/h_meta.c"
if cmp -s "$INV_TMP/src_a/h_meta.c" "$INV_ROOT/relay/h_meta.c"; then
	inv_fail "plant did not apply to h_meta.c (update the plant)"
else
	inv_expect_fail "strcmp(auth + 7, want) for the metrics token (copy of h_meta.c)" check_audit "$INV_TMP/src_a"
fi

if inv_scratch; then
	inv_plant relay/h_meta.c 's/!token_ok\(auth \+ 7, strlen\(auth \+ 7\), want\)/0/' &&
		inv_expect_fail "a relay accepting any bearer token on /metrics (scratch tree, h_meta.c)" \
			inv_drive inv13 "$(inv_scratch_relay)" "(c)"
	inv_unplant
else
	inv_fail "cannot build the scratch tree"
fi
inv_summary
