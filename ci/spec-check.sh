#!/usr/bin/env bash
# Validate the API contract spec/openapi.json (run by `make test`; runnable from any cwd).
#
#   ci/spec-check.sh
#
# 1. Installs the pinned validator (spec/tools/package-lock.json) with `npm ci` when
#    spec/tools/node_modules is missing or was installed from a different lock file.
# 2. Runs spec/tools/spec-check.mjs: the official OpenAPI 3.1 schema validation, broken
#    copies the validator must reject (written to a temp dir), and sealroom's own checks
#    (routes of PROTOCOL.md §2.1, exact error texts, Retry-After, key order, schema
#    subset, examples), each with a self-test that proves it can fail.
#
# PROTOCOL.md is looked up in $SEALROOM_PROTOCOL, then PROTOCOL.md, docs/PROTOCOL.md and
# ../shared/PROTOCOL.md relative to the repo; without it the cross-checks are skipped.
# Prints one line per check and ends with "spec-check: N passed, N failed"; exits 1 on
# any failure. Needs node >= 18 and npm (Debian: ci/deps.sh test).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=$root/spec/tools

die() {
	echo "FAIL $1"
	echo "spec-check: 0 passed, 1 failed"
	exit 1
}

command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
	die "node/npm not found (install them with: ci/deps.sh test)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
	die "node $(node --version) is too old (need >= 18)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spec-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# npm ci only when needed; the stamp records which lock file node_modules came from.
# A lock in $TMPDIR serialises concurrent runs on the same tree.
stamp=$tools/node_modules/.sealroom-lock-sha256
want=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
lockfile=${TMPDIR:-/tmp}/sealroom-spec-tools-$(printf '%s' "$tools" | sha256sum | cut -c1-16).lock
exec 9>"$lockfile"
command -v flock >/dev/null 2>&1 && flock 9
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
	if ! (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1; then
		sed 's/^/  npm: /' "$tmp/npm.log" | tail -n 20
		die "npm ci in spec/tools failed (is registry.npmjs.org reachable?)"
	fi
	echo "$want" >"$stamp"
	echo "note npm ci: installed spec/tools/node_modules from package-lock.json"
fi
exec 9>&-

protocol=""
for p in "${SEALROOM_PROTOCOL:-}" "$root/PROTOCOL.md" "$root/docs/PROTOCOL.md" "$root/../shared/PROTOCOL.md"; do
	if [ -n "$p" ] && [ -f "$p" ]; then
		protocol=$p
		break
	fi
done

node "$tools/spec-check.mjs" --spec "$root/spec/openapi.json" --tmp "$tmp" \
	--invariants "$root/spec/invariants.md" ${protocol:+--protocol "$protocol"}
