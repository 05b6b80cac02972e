#!/usr/bin/env bash
# Stage 50 of `make test` (ci/test.sh): build the libFuzzer targets with clang (build-fuzz),
# replay every seed corpus as a CTest test, and fuzz each target briefly (FUZZ_SECONDS,
# default 15). See ci/fuzz.sh; `make fuzz` runs the long version.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec ci/fuzz.sh smoke
