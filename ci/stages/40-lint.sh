#!/usr/bin/env bash
# Stage 40 of `make test` (ci/test.sh): clang-tidy (.clang-tidy) and cppcheck over lib/ relay/
# conformance/ soak/ fuzz/, using build/compile_commands.json. See ci/lint.sh.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec ci/lint.sh build
