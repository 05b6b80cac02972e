#!/usr/bin/env bash
# Install the Debian packages sealroom needs, if any are missing.
#   ci/deps.sh build   what `make run` needs (compiler, cmake, libraries)
#   ci/deps.sh test    plus what `make test` needs (clang for fuzzing, lint, node for the spec)
# As root it runs apt-get; otherwise it prints the exact command and exits 1.
set -euo pipefail
mode=${1:-build}
pkgs=(gcc make cmake pkg-config git libcivetweb-dev libsodium-dev libcjson-dev libcmocka-dev
      libcurl4-openssl-dev)
if [ "$mode" = test ]; then
  pkgs+=(clang libclang-rt-dev clang-tidy cppcheck binutils iproute2)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# The spec validator needs node and npm; any install of them will do (a machine may carry
# its own Node.js build, which Debian's npm package would conflict with).
if [ "$mode" = test ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "sealroom: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "sealroom: installed ${missing[*]}" >&2
